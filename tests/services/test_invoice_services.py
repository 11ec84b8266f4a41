"""Invoices through the services: drafts, editing, finalizing, voiding, payments, the outbox."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from factor_desktop import services as sv
from factor_desktop.services.records import start_import_indexes, stop_import_indexes
from factor_desktop.store.models import Expense, Invoice, InvoiceLine, OutboxItem, Setting
from tests.services.firm import Firm

D = Decimal


def _expense(session: Session, firm: Firm, cost: str, type_id: int | None = None) -> Expense:
    return sv.record_expense(
        session,
        sv.ExpenseInput(
            project_id=firm.project_id,
            expense_type_id=type_id or firm.structural_id,
            incurred_on=date(2024, 3, 4),
            cost=D(cost),
            vendor="Keller Structural",
        ),
    )


def _finalized(session: Session, firm: Firm, amount: str = "1000.00") -> Invoice:
    invoice = sv.create_draft_invoice(session, firm.project_id, from_project=False)
    sv.edit_draft_invoice(
        session,
        invoice.id,
        sv.DraftChanges(lines=[sv.LineInput(kind="other", description="Fee", amount=D(amount))]),
    )
    return sv.finalize_invoice(session, invoice.id)


def _outbox(session: Session, invoice_id: int) -> list[tuple[str, str]]:
    rows = session.scalars(
        select(OutboxItem).where(OutboxItem.local_id == invoice_id).order_by(OutboxItem.id)
    )
    return [(row.operation, row.status) for row in rows]


def test_draft_bills_earned_fees_and_unbilled_expenses(session: Session, firm: Firm) -> None:
    expense = _expense(session, firm, "1000.00")
    assert expense.billable_amount == D("1100.00") and expense.markup_percent == D("10")

    draft = sv.create_draft_invoice(session, firm.project_id, issue_date=date(2024, 4, 1))

    lines = [
        (line.kind, line.amount, line.service_type_id, line.expense_id) for line in draft.lines
    ]
    # Schematic Design: 50% of $40,000; Design Development at 0% is left out.
    assert lines == [
        ("service", D("20000.00"), firm.schematic_id, None),
        ("expense", D("1100.00"), None, expense.id),
    ]
    assert "50% complete of $40,000.00 fee" in draft.lines[0].description
    assert draft.status == "draft" and draft.number is None
    assert draft.subtotal == D("21100.00") and draft.total == D("21100.00")


def test_next_draft_bills_only_new_progress_and_never_an_expense_twice(
    session: Session, firm: Firm
) -> None:
    _expense(session, firm, "1000.00")
    first = sv.create_draft_invoice(session, firm.project_id)
    sv.finalize_invoice(session, first.id)
    sv.set_percent_complete(session, firm.project_id, firm.schematic_id, D("75"))

    second = sv.create_draft_invoice(session, firm.project_id)

    assert [(line.kind, line.amount) for line in second.lines] == [("service", D("10000.00"))]
    assert "less $20,000.00 billed before" in second.lines[0].description
    with pytest.raises(sv.ServiceError, match="Nothing to bill on project 2024-017"):
        sv.create_draft_invoice(session, firm.project_id)


def test_an_expense_is_billed_once(session: Session, firm: Firm) -> None:
    expense = _expense(session, firm, "250.00")
    first = sv.create_draft_invoice(session, firm.project_id)
    other = sv.create_draft_invoice(session, firm.project_id, from_project=False)

    with pytest.raises(sv.ServiceError, match="already billed on the draft invoice") as info:
        sv.edit_draft_invoice(
            session,
            other.id,
            sv.DraftChanges(lines=[sv.LineInput(kind="expense", expense_id=expense.id)]),
        )
    assert info.value.field == "expense_id"
    assert sv.unbilled_expenses(session, firm.project_id) == []
    billed = session.scalars(select(InvoiceLine).where(InvoiceLine.expense_id == expense.id))
    assert [line.invoice_id for line in billed] == [first.id]


def test_refused_edit_leaves_the_draft_as_it_was(session: Session, firm: Firm) -> None:
    draft = sv.create_draft_invoice(session, firm.project_id)
    before = [(line.kind, line.amount) for line in draft.lines]
    with pytest.raises(sv.ServiceError, match="at most 3"):
        sv.edit_draft_invoice(
            session,
            draft.id,
            sv.DraftChanges(
                memo="Changed",
                custom_fields=[("PO Number", "1"), ("Phase", "SD"), ("Job", "7"), ("Extra", "x")],
            ),
        )
    assert draft.memo is None
    assert [(line.kind, line.amount) for line in draft.lines] == before


def test_draft_edits_lines_custom_fields_memo_tax_and_date(session: Session, firm: Firm) -> None:
    draft = sv.create_draft_invoice(session, firm.project_id, from_project=False)
    sv.edit_draft_invoice(
        session,
        draft.id,
        sv.DraftChanges(
            lines=[
                sv.LineInput(kind="service", service_type_id=firm.schematic_id, amount=D("500")),
                sv.LineInput(
                    kind="expense",
                    expense_type_id=firm.printing_id,
                    quantity=D("3"),
                    rate=D("33.335"),
                ),
            ],
            custom_fields=[("PO Number", "PO-7731"), ("Project Phase", "Schematic Design")],
            memo="Thank you for your business.",
            tax_term_id=firm.city_tax_id,
            issue_date=date(2024, 5, 31),
        ),
    )
    # 3 x 33.335 = 100.005, rounded once to 100.01; only the printing line is taxable.
    assert [line.amount for line in draft.lines] == [D("500.00"), D("100.01")]
    assert [line.taxable for line in draft.lines] == [False, True]
    assert draft.tax == D("8.25")  # 8.25% of 100.01 = 8.250825
    assert draft.total == D("608.26")
    assert [(c.name, c.value) for c in draft.custom_fields] == [
        ("PO Number", "PO-7731"),
        ("Project Phase", "Schematic Design"),
    ]
    with pytest.raises(sv.ServiceError, match="doesn't match quantity"):
        sv.edit_draft_invoice(
            session,
            draft.id,
            sv.DraftChanges(lines=[sv.LineInput(amount=D("10"), quantity=D("2"), rate=D("6"))]),
        )


def test_finalize_numbers_in_sequence_skips_used_numbers_and_never_reuses(
    session: Session, firm: Firm
) -> None:
    first = _finalized(session, firm)
    second = _finalized(session, firm)
    assert (first.number, second.number) == ("INV-0001", "INV-0002")

    # An invoice imported with a number ahead of the sequence is skipped over.
    sv.save_imported_invoice(
        session,
        sv.InvoiceRecord(
            project_id=firm.project_id,
            issue_date=date(2024, 1, 5),
            number="INV-0003",
            lines=(sv.LineInput(amount=D("10.00")),),
        ),
    )
    third = _finalized(session, firm)
    assert third.number == "INV-0004"

    sv.void_invoice(session, third.id)
    fourth = _finalized(session, firm)
    assert fourth.number == "INV-0005"
    assert session.get(Setting, "invoice_numbering").value["next_number"] == 6  # type: ignore[union-attr]


@pytest.mark.parametrize("importing", [False, True])
def test_an_imported_number_differing_only_in_capitalization_is_refused(
    session: Session, firm: Firm, importing: bool
) -> None:
    """Alone, the number is checked against the store; in an import, against the numbers it
    read once and those it issued since."""
    if importing:
        start_import_indexes(session)

    def imported(number: str) -> Invoice:
        record = sv.InvoiceRecord(
            project_id=firm.project_id,
            issue_date=date(2024, 1, 5),
            number=number,
            lines=(sv.LineInput(amount=D("10.00")),),
        )
        return sv.save_imported_invoice(session, record).record

    _finalized(session, firm)  # INV-0001, in the store before the import reads its numbers
    with pytest.raises(sv.ServiceError, match="taken by invoice INV-0001, which differs only"):
        imported("inv-0001")
    imported("Legacy-7")
    with pytest.raises(sv.ServiceError, match="taken by invoice Legacy-7, which differs only"):
        imported("LEGACY-7")
    stop_import_indexes(session)
    assert sorted(str(n) for n in session.scalars(select(Invoice.number))) == [
        "INV-0001",
        "Legacy-7",
    ]


def test_finalize_fixes_totals_due_date_and_project_details(session: Session, firm: Firm) -> None:
    sv.update_client(session, firm.client_id, sv.ClientFields(terms_days=15))
    draft = sv.create_draft_invoice(session, firm.project_id, issue_date=date(2024, 6, 1))
    invoice = sv.finalize_invoice(session, draft.id)
    assert invoice.status == "final"
    assert invoice.balance == invoice.total == D("20000.00")
    assert invoice.due_date == date(2024, 6, 16)
    assert invoice.project_details == {
        "number": "2024-017",
        "name": "Warehouse Conversion - 14 Dock St",
        "client": "O'Brien & Sons Builders",
    }
    assert invoice.finalized_at is not None


def test_finalized_invoice_is_locked(session: Session, firm: Firm) -> None:
    invoice = _finalized(session, firm)
    with pytest.raises(sv.ServiceError) as info:
        sv.edit_draft_invoice(session, invoice.id, sv.DraftChanges(memo="late change"))
    assert "finalized and locked" in info.value.message
    assert "void" in info.value.message
    assert info.value.code == "invoice_locked"
    with pytest.raises(sv.ServiceError, match="can't be deleted"):
        sv.delete_draft_invoice(session, invoice.id)
    assert invoice.memo is None


def test_outbox_row_on_finalize_and_none_for_drafts(session: Session, firm: Firm) -> None:
    draft = sv.create_draft_invoice(session, firm.project_id)
    sv.edit_draft_invoice(session, draft.id, sv.DraftChanges(memo="draft edit"))
    assert _outbox(session, draft.id) == []

    sv.finalize_invoice(session, draft.id)

    row = session.scalars(select(OutboxItem)).one()
    assert (row.entity_kind, row.local_id, row.operation, row.status) == (
        "invoice",
        draft.id,
        "create",
        "pending",
    )
    assert uuid.UUID(row.request_id).version == 4


def test_void_cancels_a_create_that_never_went_out(session: Session, firm: Firm) -> None:
    invoice = _finalized(session, firm)
    sv.void_invoice(session, invoice.id)
    assert invoice.status == "void" and invoice.balance == D("0.00")
    assert _outbox(session, invoice.id) == [("create", "cancelled")]


def test_void_is_queued_for_an_invoice_in_quickbooks(session: Session, firm: Firm) -> None:
    sent = _finalized(session, firm)
    create = session.scalars(select(OutboxItem).where(OutboxItem.local_id == sent.id)).one()
    create.status, create.done_at = "done", None
    sent.qbo_id = "145"
    sv.void_invoice(session, sent.id)
    assert _outbox(session, sent.id) == [("create", "done"), ("void", "pending")]

    # A create that was attempted may have reached QuickBooks: void it there too.
    attempted = _finalized(session, firm)
    row = session.scalars(select(OutboxItem).where(OutboxItem.local_id == attempted.id)).one()
    row.attempts = 1
    sv.void_invoice(session, attempted.id)
    assert _outbox(session, attempted.id) == [("create", "pending"), ("void", "pending")]


def test_void_releases_billed_expenses(session: Session, firm: Firm) -> None:
    expense = _expense(session, firm, "400.00")
    invoice = sv.finalize_invoice(session, sv.create_draft_invoice(session, firm.project_id).id)
    assert sv.unbilled_expenses(session, firm.project_id) == []
    sv.void_invoice(session, invoice.id)
    assert sv.unbilled_expenses(session, firm.project_id) == [expense]
    again = sv.create_draft_invoice(session, firm.project_id)
    assert [line.amount for line in again.lines] == [D("20000.00"), D("440.00")]


def test_void_after_payment_is_refused_with_the_reason(session: Session, firm: Firm) -> None:
    invoice = _finalized(session, firm)
    sv.record_manual_payment(session, invoice.id, D("100.00"), date(2024, 7, 1))
    with pytest.raises(sv.ServiceError) as info:
        sv.void_invoice(session, invoice.id)
    assert "$100.00 in payments applied" in info.value.message
    assert "Remove the payments" in info.value.message
    assert invoice.status == "partially_paid"


def test_partial_then_full_payment_moves_the_status(session: Session, firm: Firm) -> None:
    invoice = _finalized(session, firm, "1000.00")
    sv.record_manual_payment(session, invoice.id, D("400.00"), date(2024, 7, 1), method="Check")
    assert (invoice.status, invoice.balance) == ("partially_paid", D("600.00"))
    with pytest.raises(sv.ServiceError, match=r"more than the \$600.00 still owed"):
        sv.record_manual_payment(session, invoice.id, D("600.01"), date(2024, 7, 2))
    sv.record_manual_payment(session, invoice.id, D("600.00"), date(2024, 7, 2))
    assert (invoice.status, invoice.balance) == ("paid", D("0.00"))
    assert sv.paid_amount(session, invoice.id) == D("1000.00")


def test_manual_payment_refused_for_an_invoice_linked_to_quickbooks(
    session: Session, firm: Firm
) -> None:
    invoice = _finalized(session, firm)
    invoice.qbo_id = "201"
    with pytest.raises(sv.ServiceError, match="payments come from there") as info:
        sv.record_manual_payment(session, invoice.id, D("10.00"), date(2024, 7, 1))
    assert "Record the payment in QuickBooks" in info.value.message
    assert invoice.status == "final" and invoice.balance == D("1000.00")


def test_payment_on_a_draft_is_refused(session: Session, firm: Firm) -> None:
    draft = sv.create_draft_invoice(session, firm.project_id)
    with pytest.raises(sv.ServiceError, match="still a draft"):
        sv.record_manual_payment(session, draft.id, D("10.00"), date(2024, 7, 1))


def test_drafts_are_deleted_and_free_their_expenses(session: Session, firm: Firm) -> None:
    expense = _expense(session, firm, "99.00")
    draft = sv.create_draft_invoice(session, firm.project_id)
    sv.delete_draft_invoice(session, draft.id)
    assert session.get(Invoice, draft.id) is None
    assert sv.unbilled_expenses(session, firm.project_id) == [expense]


def test_budget_read_out_follows_billing_and_collection(session: Session, firm: Firm) -> None:
    _expense(session, firm, "1000.00")
    invoice = sv.finalize_invoice(session, sv.create_draft_invoice(session, firm.project_id).id)
    sv.record_manual_payment(session, invoice.id, D("10550.00"), date(2024, 7, 1))

    report = sv.project_budget(session, firm.project_id)

    by_label = {line.label: line for line in report.lines}
    schematic = by_label["Schematic Design"]
    assert (schematic.budget, schematic.billed, schematic.collected) == (
        D("40000.00"),
        D("20000.00"),
        D("10000.00"),
    )
    assert schematic.percent_used == D("50.0") and not schematic.over_budget
    structural = by_label["Structural"]
    assert (structural.cost, structural.billable, structural.billed) == (
        D("1000.00"),
        D("1100.00"),
        D("1100.00"),
    )
    assert structural.collected == D("550.00")
    assert structural.remaining == D("10900.00")
