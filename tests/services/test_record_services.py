"""Clients, projects, types, tax terms, budgets, links, settings and expenses."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from factor_desktop import services as sv
from factor_desktop.store.db import Store
from factor_desktop.store.models import Client, Project
from tests.services.firm import Firm

D = Decimal


def test_save_creates_then_updates_then_leaves_unchanged(session: Session) -> None:
    fields = sv.ClientFields(name="Café Lumière Hospitality", city="Port Alder", terms_days=30)
    assert sv.save_client(session, fields).change is sv.Change.CREATED
    assert sv.save_client(session, fields).change is sv.Change.UNCHANGED
    saved = sv.save_client(session, sv.ClientFields(name="Café Lumière Hospitality", city="Bend"))
    assert saved.change is sv.Change.UPDATED
    assert (saved.record.city, saved.record.terms_days) == ("Bend", 30)  # unset fields are kept


def test_client_names_are_unique_ignoring_capitalization(session: Session, firm: Firm) -> None:
    with pytest.raises(sv.ServiceError, match="already exists") as info:
        sv.create_client(session, sv.ClientFields(name="O'Brien & Sons Builders"))
    assert info.value.field == "name"
    with pytest.raises(sv.ServiceError, match="apart from capitalization"):
        sv.create_client(session, sv.ClientFields(name="o'brien & sons builders"))
    with pytest.raises(sv.ServiceError, match="Client name is required"):
        sv.create_client(session, sv.ClientFields(name="   "))
    with pytest.raises(sv.ServiceError, match="not an email address"):
        sv.create_client(session, sv.ClientFields(name="Tanaka Residence", email="tanaka"))
    assert session.scalars(select(Client.name)).all() == ["O'Brien & Sons Builders"]


def test_project_rules(session: Session, firm: Firm) -> None:
    with pytest.raises(sv.ServiceError, match="Project number '2024-017' already exists"):
        sv.create_project(
            session, sv.ProjectFields(client_id=firm.client_id, number="2024-017", name="Other")
        )
    with pytest.raises(sv.ServiceError, match="already has a project named"):
        sv.create_project(
            session,
            sv.ProjectFields(
                client_id=firm.client_id,
                number="2024-018",
                name="Warehouse Conversion - 14 Dock St",
            ),
        )
    with pytest.raises(sv.ServiceError, match="is not one of: active, on_hold, closed"):
        sv.update_project(session, firm.project_id, sv.ProjectFields(status="finished"))
    saved = sv.update_project(session, firm.project_id, sv.ProjectFields(status="on_hold"))
    assert saved.change is sv.Change.UPDATED and saved.record.status == "on_hold"

    other = sv.create_client(session, sv.ClientFields(name="Tanaka Residence"))
    sv.create_draft_invoice(session, firm.project_id)
    with pytest.raises(sv.ServiceError, match="can't be moved to another client"):
        sv.update_project(session, firm.project_id, sv.ProjectFields(client_id=other.id))


def test_expense_types_keep_markup_and_category(session: Session, firm: Firm) -> None:
    with pytest.raises(sv.ServiceError, match="negative") as info:
        sv.create_expense_type(
            session,
            sv.ExpenseTypeFields(name="Travel", category="Reimbursables", markup_percent=D("-1")),
        )
    assert info.value.field == "markup_percent"
    travel = sv.create_expense_type(
        session, sv.ExpenseTypeFields(name="Travel", category="reimbursables", markup_percent=None)
    )
    # A category already in use is written the way it is already written.
    assert travel.category == "Reimbursables"
    assert sv.expense_categories(session) == ["Reimbursables", "Structural"]


def test_expense_markup_is_applied_and_kept(session: Session, firm: Firm) -> None:
    expense = sv.record_expense(
        session,
        sv.ExpenseInput(
            project_id=firm.project_id,
            expense_type_id=firm.printing_id,
            incurred_on=date(2024, 2, 2),
            cost=D("86.95"),
            vendor="Bay Blueprint",
        ),
    )
    assert (expense.markup_percent, expense.billable_amount) == (D("15"), D("99.99"))

    sv.update_expense_type(session, firm.printing_id, sv.ExpenseTypeFields(markup_percent=D("20")))
    assert expense.billable_amount == D("99.99")  # recorded under the old rule

    again = sv.record_expense(
        session,
        sv.ExpenseInput(
            project_id=firm.project_id,
            expense_type_id=firm.printing_id,
            incurred_on=date(2024, 2, 3),
            cost=D("100.00"),
        ),
    )
    assert (again.markup_percent, again.billable_amount) == (D("20"), D("120.00"))


def test_qbo_expense_upsert_and_billed_expense_protection(session: Session, firm: Firm) -> None:
    data = sv.ExpenseInput(
        project_id=firm.project_id,
        expense_type_id=firm.structural_id,
        incurred_on=date(2024, 2, 2),
        cost=D("500.00"),
        source="qbo",
        qbo_txn_type="Bill",
        qbo_id="88",
        qbo_line_id="1",
    )
    assert sv.save_qbo_expense(session, data).change is sv.Change.CREATED
    assert sv.save_qbo_expense(session, data).change is sv.Change.UNCHANGED
    sv.finalize_invoice(session, sv.create_draft_invoice(session, firm.project_id).id)
    changed = sv.ExpenseInput(**{**data.__dict__, "cost": D("650.00")})
    with pytest.raises(sv.ServiceError, match="already billed on invoice INV-0001"):
        sv.save_qbo_expense(session, changed)
    with pytest.raises(sv.ServiceError, match="needs its transaction type"):
        sv.record_expense(session, sv.ExpenseInput(**{**data.__dict__, "qbo_line_id": None}))


def test_tax_terms_and_budgets_are_checked(session: Session, firm: Firm) -> None:
    with pytest.raises(sv.ServiceError, match="more than 100%"):
        sv.create_tax_term(session, sv.TaxTermFields(code="BAD", name="Bad", rate_percent=D("101")))
    with pytest.raises(sv.ServiceError, match="No expense type has the budget category 'MEP'"):
        sv.set_expense_budget(session, firm.project_id, "MEP", D("100.00"))
    with pytest.raises(sv.ServiceError, match="fractions of a cent"):
        sv.set_service_budget(session, firm.project_id, firm.schematic_id, D("1.005"))
    with pytest.raises(sv.ServiceError, match="can't be more than 100%"):
        sv.set_percent_complete(session, firm.project_id, firm.schematic_id, D("120"))
    saved = sv.set_service_budget(session, firm.project_id, firm.schematic_id, D("40000.00"))
    assert saved.change is sv.Change.UNCHANGED
    assert saved.record.percent_complete == D("50")


def test_one_quickbooks_customer_links_to_one_record(session: Session, firm: Firm) -> None:
    other = sv.create_client(session, sv.ClientFields(name="Tanaka Residence"))
    sv.link_client(session, firm.client_id, "58", "0")
    sv.link_client(session, firm.client_id, "58", "3")  # the same link again: token refreshed
    assert session.get(Client, firm.client_id).qbo_sync_token == "3"  # type: ignore[union-attr]

    with pytest.raises(sv.ServiceError, match="already linked to the client \"O'Brien"):
        sv.link_client(session, other.id, "58")
    # Projects are QuickBooks sub-customers: they share the customers' ids.
    with pytest.raises(sv.ServiceError, match="already linked to the client"):
        sv.link_project(session, firm.project_id, "58")
    with pytest.raises(sv.ServiceError, match="Unlink it first"):
        sv.link_client(session, firm.client_id, "59")

    sv.unlink_client(session, firm.client_id)
    sv.link_project(session, firm.project_id, "58")
    assert session.get(Project, firm.project_id).qbo_id == "58"  # type: ignore[union-attr]


def test_settings_change_through_the_service(session: Session) -> None:
    settings = sv.change_setting(session, "invoice_numbering.prefix", "AE-")
    assert settings.invoice_numbering.prefix == "AE-"
    with pytest.raises(sv.ServiceError, match="colon") as info:
        sv.change_setting(session, "invoice_numbering.prefix", "A:B")
    assert info.value.field == "invoice_numbering.prefix"


def test_a_refused_action_leaves_nothing_behind(store: Store) -> None:
    with pytest.raises(sv.ServiceError), store.session() as session:
        sv.create_client(session, sv.ClientFields(name="Tanaka Residence"))
        sv.create_client(session, sv.ClientFields(name="Tanaka Residence"))
    with store.session() as session:
        assert session.scalars(select(Client)).all() == []
