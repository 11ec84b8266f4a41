"""Suggested mappings and links, by name, from the QuickBooks lists in the cache."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.orm import Session

from factor_desktop import services as sv
from factor_desktop.services.mappings import (
    chosen_tax_rule,
    mapped_qbo_id,
    set_mapping,
)
from factor_desktop.services.suggest import (
    apply_suggestions,
    match_key,
    match_reason,
    suggest,
)
from factor_desktop.store.models import Client, QboRecord
from tests.services.firm import Firm


@pytest.mark.parametrize(
    ("factor", "qbo", "reason"),
    [
        ("Travel", "Travel", "same name"),
        ("Travel", "TRAVEL", "same name apart from case"),
        ("Printing & Reproduction", "Printing and Reproduction", "same name, '&' read as 'and'"),
        (
            "Structural Engineering",
            "Structural Engineering Consultants",
            "same name, a trailing 'Consultants' aside",
        ),
        ("Design", "Design Fees", "same name, a trailing 'Fees' aside"),
        (
            "Northgate Medical Partners, LLC",
            "Northgate Medical Partners LLC",
            "same name, punctuation aside",
        ),
        ("O'Brien & Sons", "OBrien and Sons", "same name, '&' read as 'and', punctuation aside"),
    ],
)
def test_names_match_with_a_reason(factor: str, qbo: str, reason: str) -> None:
    assert match_key(factor) == match_key(qbo)
    assert match_reason(factor, qbo) == reason


@pytest.mark.parametrize(
    ("factor", "qbo"),
    [
        ("Travel", "Travel Meals"),
        ("Fees", "Consultant Fees"),  # a name is never reduced to nothing
        ("Design Development", "Design"),
        ("MEP Engineering", "MEP Engineers"),
    ],
)
def test_other_names_do_not_match(factor: str, qbo: str) -> None:
    assert match_key(factor) != match_key(qbo)


def _record(
    entity: str,
    qbo_id: str,
    name: str,
    *,
    kind: str | None = None,
    parent: str | None = None,
    active: bool = True,
    **data: Any,
) -> QboRecord:
    return QboRecord(
        entity=entity,
        qbo_id=qbo_id,
        name=name,
        fully_qualified_name=name,
        parent_qbo_id=parent,
        kind=kind,
        active=active,
        data={"Id": qbo_id, "Name": name, "DisplayName": name, "Active": active, **data},
    )


@pytest.fixture
def cache(session: Session) -> None:
    rate: dict[str, Any] = {"SalesTaxRateList": {"TaxRateDetail": [{"TaxRateRef": {"value": "1"}}]}}
    session.add_all(
        [
            _record("Item", "5", "SCHEMATIC DESIGN", kind="Service", Type="Service"),
            _record("Item", "6", "Design Development", kind="Service", Type="Service"),
            _record("Item", "7", "design development", kind="Service", Type="Service"),
            _record("Item", "8", "Printing & Reproduction", kind="Service", Type="Service"),
            _record(
                "Account",
                "81",
                "Structural Engineering Consultants",
                kind="Expense",
                AccountType="Expense",
            ),
            _record(
                "Account",
                "82",
                "Printing and Reproduction",
                kind="Expense",
                AccountType="Expense",
            ),
            _record("TaxRate", "1", "Alder County", RateValue=8.5),
            _record("TaxCode", "2", "City", **rate),
            _record("Customer", "60", "OBrien and Sons Builders", kind="customer"),
            _record(
                "Customer", "61", "Warehouse Conversion 14 Dock St", kind="project", parent="60"
            ),
            _record("Customer", "62", "Someone Else", kind="customer"),
        ]
    )
    session.flush()


pytestmark = pytest.mark.usefixtures("cache")


def _by_name(rows: Any) -> dict[tuple[str, str], Any]:
    return {(row.kind, row.local_name): row for row in rows}


def test_types_get_a_record_of_their_kind_with_the_reason(session: Session, firm: Firm) -> None:
    found = suggest(session)
    mappings = _by_name(found.mappings)
    assert set(mappings) == {
        ("service_type", "Schematic Design"),
        ("service_type", "Design Development"),
        ("expense_type", "Structural Engineering"),
        ("expense_type", "Printing & Reproduction"),
        ("expense_type_item", "Printing & Reproduction"),
        ("tax_term", "CITY"),
    }
    schematic = mappings[("service_type", "Schematic Design")]
    assert (schematic.qbo_entity, schematic.qbo_id, schematic.reason) == (
        "Item",
        "5",
        "same name apart from case",
    )
    assert mappings[("expense_type", "Structural Engineering")].qbo_id == "81"
    assert mappings[("expense_type", "Printing & Reproduction")].reason == (
        "same name, '&' read as 'and'"
    )
    assert mappings[("expense_type_item", "Printing & Reproduction")].qbo_id == "8"
    # The tax term matches its code by the term's code; the rates differ, so the rule is said.
    city = mappings[("tax_term", "CITY")]
    assert (city.qbo_id, str(city.rate), str(city.qbo_rate), city.tax_rule) == (
        "2",
        "8.25",
        "8.5",
        "override",
    )
    unmatched = {(u.kind, u.local_name): u.reason for u in found.unmatched}
    # Two QuickBooks items differ only by case: the one spelt as the Factor type is proposed.
    assert mappings[("service_type", "Design Development")].qbo_id == "6"
    assert unmatched == {}


def test_ambiguous_and_mapped_types_are_not_proposed(session: Session, firm: Firm) -> None:
    session.add(_record("Item", "9", "schematic design", kind="Service", Type="Service"))
    session.flush()
    set_mapping(session, "expense_type", firm.structural_id, "82")
    found = suggest(session)
    mappings = _by_name(found.mappings)
    unmatched = {(u.kind, u.local_name): u.reason for u in found.unmatched}
    assert ("service_type", "Schematic Design") not in mappings
    assert unmatched[("service_type", "Schematic Design")].startswith(
        "2 QuickBooks products/services match: product/service 'SCHEMATIC DESIGN' (Id 5)"
    )
    # Structural is mapped (to the printing account): not proposed again, and the printing
    # account, which now stands for it, is not proposed for another expense type.
    assert ("expense_type", "Structural Engineering") not in mappings
    assert found.already_mapped == {"expense_type": 1}
    assert (
        "would stand for more than one expense type"
        in unmatched[("expense_type", "Printing & Reproduction")]
    )


def test_applying_maps_the_types_and_says_what_it_did(session: Session, firm: Firm) -> None:
    found = suggest(session)
    done, refused = apply_suggestions(session, found.mappings)
    assert refused == []
    assert len(done) == len(found.mappings) == 6
    assert mapped_qbo_id(session, "service_type", firm.schematic_id) == "5"
    assert mapped_qbo_id(session, "expense_type", firm.printing_id) == "82"
    assert mapped_qbo_id(session, "expense_type_item", firm.printing_id) == "8"
    assert mapped_qbo_id(session, "tax_term", firm.city_tax_id) == "2"
    assert chosen_tax_rule(session, firm.city_tax_id) == "override"
    assert (
        "Mapped the tax term 'CITY' to the QuickBooks tax code 'City' (Id 2); its rate is 8.5% "
        "against Factor's 8.25%, so factor's tax amount is sent to quickbooks (override)."
    ).casefold() in [line.casefold() for line in done]
    assert suggest(session).mappings == ()  # nothing left to propose


def test_clients_and_projects_get_link_or_create(session: Session, firm: Firm) -> None:
    other = sv.create_client(session, sv.ClientFields(name="Harbor View Marina"))
    sv.create_project(
        session, sv.ProjectFields(client_id=other.id, number="2025-001", name="Boathouse")
    )
    sv.create_project(
        session, sv.ProjectFields(client_id=firm.client_id, number="2024-030", name="Yard Office")
    )
    links = {(link.entity, link.name): link for link in suggest(session).links}
    obrien = links[("client", "O'Brien & Sons Builders")]
    assert (obrien.action, obrien.qbo_id) == ("link", "60")
    assert obrien.reason == "same name, '&' read as 'and', punctuation aside"
    warehouse = links[("project", "Warehouse Conversion - 14 Dock St")]
    assert (warehouse.action, warehouse.qbo_id, warehouse.client_name) == (
        "link",
        "61",
        "O'Brien & Sons Builders",
    )
    assert links[("project", "Yard Office")].action == "create"
    assert links[("client", "Harbor View Marina")].action == "create"
    boathouse = links[("project", "Boathouse")]
    assert boathouse.action == "create" and "once it is in QuickBooks" in boathouse.reason
    # Shown only: nothing was linked.
    assert all(link.action != "link" or link.qbo_id for link in links.values())
    client = session.get(Client, firm.client_id)
    assert client is not None and client.qbo_id is None
