"""Mapping Factor types to cached QuickBooks records: what is accepted, what is refused and why."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from factor_desktop import services as sv
from factor_desktop.app import open_context
from factor_desktop.cli import main
from factor_desktop.services import ServiceError
from factor_desktop.services.mappings import (
    candidates,
    clear_mapping,
    find_cached,
    find_local,
    mapped_qbo_id,
    mapping_coverage,
    mapping_lines,
    set_mapping,
)
from factor_desktop.store.models import Mapping, QboRecord
from tests.services.firm import Firm


def _record(
    entity: str,
    qbo_id: str,
    name: str,
    *,
    fqn: str | None = None,
    active: bool = True,
    **data: Any,
) -> QboRecord:
    kind = data.get("Type") or data.get("AccountType")
    return QboRecord(
        entity=entity,
        qbo_id=qbo_id,
        name=name,
        fully_qualified_name=fqn,
        kind=kind,
        active=active,
        data={"Id": qbo_id, "Name": name, "Active": active, **data},
    )


def _rates(*rate_ids: str) -> dict[str, Any]:
    """A tax code's SalesTaxRateList naming these TaxRates."""
    details = [{"TaxRateRef": {"value": rate_id}} for rate_id in rate_ids]
    return {"SalesTaxRateList": {"TaxRateDetail": details}}


@pytest.fixture
def cache(session: Session) -> None:
    session.add_all(
        [
            _record("Item", "1", "Design", Type="Category"),
            _record("Item", "7", "DD", fqn="Design:DD", Type="Service"),
            _record("Item", "8", "SD", fqn="Design:SD", Type="Service"),
            _record("Item", "9", "Old fee", Type="Service", active=False),
            _record("Item", "20", "Reprographics", Type="NonInventory"),
            _record("Item", "21", "Consultants", Type="Service"),
            _record("Item", "22", "consultants", fqn="Design:consultants", Type="Service"),
            _record("Account", "81", "Subconsultants", AccountType="Cost of Goods Sold"),
            _record("Account", "82", "Printing", AccountType="Expense"),
            _record("Account", "83", "Penalties", AccountType="Other Expense"),
            _record("Account", "35", "Checking", AccountType="Bank"),
            _record("Account", "40", "Services", AccountType="Income"),
            _record("Account", "84", "Old travel", AccountType="Expense", active=False),
            _record("TaxRate", "1", "City", RateValue=8.25),
            _record("TaxCode", "2", "Alder County", Taxable=True, **_rates("1")),
            _record("TaxCode", "NON", "NON", Taxable=False),
        ]
    )
    session.flush()


pytestmark = pytest.mark.usefixtures("cache")


# --- accepted ---------------------------------------------------------------------------------


def test_map_each_kind(session: Session, firm: Firm) -> None:
    mapping = set_mapping(session, "service_type", firm.design_id, "7")
    assert (mapping.kind, mapping.local_id, mapping.qbo_id) == ("service_type", firm.design_id, "7")
    set_mapping(session, "expense_type", firm.structural_id, "81")
    set_mapping(session, "expense_type", firm.printing_id, "82")
    set_mapping(session, "expense_type_item", firm.printing_id, "20")
    set_mapping(session, "tax_term", firm.city_tax_id, "2")
    assert mapped_qbo_id(session, "service_type", firm.design_id) == "7"
    assert mapped_qbo_id(session, "expense_type_item", firm.printing_id) == "20"
    assert mapped_qbo_id(session, "tax_term", firm.city_tax_id) == "2"


def test_mapping_again_replaces_the_earlier_one(session: Session, firm: Firm) -> None:
    set_mapping(session, "service_type", firm.design_id, "7")
    set_mapping(session, "service_type", firm.design_id, "8")
    rows = session.scalars(select(Mapping).where(Mapping.kind == "service_type")).all()
    assert [(r.local_id, r.qbo_id) for r in rows] == [(firm.design_id, "8")]


def test_other_expense_accounts_are_expense_like(session: Session, firm: Firm) -> None:
    set_mapping(session, "expense_type", firm.structural_id, "83")
    assert mapped_qbo_id(session, "expense_type", firm.structural_id) == "83"


def test_an_expense_type_keeps_its_own_account_when_mapped_again(
    session: Session, firm: Firm
) -> None:
    set_mapping(session, "expense_type", firm.structural_id, "81")
    set_mapping(session, "expense_type", firm.structural_id, "81")
    assert mapped_qbo_id(session, "expense_type", firm.structural_id) == "81"


def test_service_types_may_share_an_item(session: Session, firm: Firm) -> None:
    set_mapping(session, "service_type", firm.design_id, "7")
    set_mapping(session, "service_type", firm.schematic_id, "7")
    assert mapped_qbo_id(session, "service_type", firm.schematic_id) == "7"


# --- refused ----------------------------------------------------------------------------------


def refused(session: Session, *args: Any, **kwargs: Any) -> str:
    with pytest.raises(ServiceError) as caught:
        set_mapping(session, *args, **kwargs)
    return caught.value.message


def test_unknown_local_record(session: Session, firm: Firm) -> None:
    assert "no service type with id 999" in refused(session, "service_type", 999, "7")
    assert "no tax term with id 999" in refused(session, "tax_term", 999, "2")


def test_unknown_kind(session: Session, firm: Firm) -> None:
    assert "Unknown kind of mapping 'customer'" in refused(session, "customer", 1, "7")


def test_record_not_in_the_cache(session: Session, firm: Firm) -> None:
    message = refused(session, "service_type", firm.design_id, "555")
    assert "product/service Id 555 is not in the lists read so far" in message
    assert "Refresh the QuickBooks lists" in message


def test_wrong_entity_for_the_kind(session: Session, firm: Firm) -> None:
    # Id 81 is an account: as an item it is simply not there.
    assert "not in the lists" in refused(session, "service_type", firm.design_id, "81")
    message = refused(session, "service_type", firm.design_id, "81", entity="Account")
    assert message == ("A service type maps to a QuickBooks product/service, not to an account.")


def test_inactive_records_are_refused(session: Session, firm: Firm) -> None:
    assert "'Old fee' (Id 9) is inactive" in refused(session, "service_type", firm.design_id, "9")
    assert "inactive" in refused(session, "expense_type", firm.printing_id, "84")


def test_categories_cannot_be_used_in_transactions(session: Session, firm: Firm) -> None:
    message = refused(session, "service_type", firm.design_id, "1")
    assert "'Design' is a QuickBooks category" in message
    assert "categories be used in transactions" in message
    assert "category" in refused(session, "expense_type_item", firm.printing_id, "1")


@pytest.mark.parametrize(("qbo_id", "kind"), [("35", "Bank"), ("40", "Income")])
def test_expense_types_need_expense_accounts(
    session: Session, firm: Firm, qbo_id: str, kind: str
) -> None:
    message = refused(session, "expense_type", firm.printing_id, qbo_id)
    assert f"is of type '{kind}', not an expense account" in message
    assert "Expense, Cost of Goods Sold or Other Expense" in message


def test_one_account_stands_for_one_expense_type(session: Session, firm: Firm) -> None:
    set_mapping(session, "expense_type", firm.structural_id, "81")
    message = refused(session, "expense_type", firm.printing_id, "81")
    assert "already stands for the expense type 'Structural Engineering'" in message
    assert mapped_qbo_id(session, "expense_type", firm.printing_id) is None


def test_one_item_may_invoice_several_expense_types(session: Session, firm: Firm) -> None:
    # Invoices commonly bill every reimbursable under one item; only accounts are exclusive.
    set_mapping(session, "expense_type_item", firm.printing_id, "20")
    set_mapping(session, "expense_type_item", firm.structural_id, "20")
    assert mapped_qbo_id(session, "expense_type_item", firm.structural_id) == "20"
    assert mapped_qbo_id(session, "expense_type_item", firm.printing_id) == "20"


def test_a_refusal_leaves_the_earlier_mapping(session: Session, firm: Firm) -> None:
    set_mapping(session, "service_type", firm.design_id, "7")
    refused(session, "service_type", firm.design_id, "1")
    assert mapped_qbo_id(session, "service_type", firm.design_id) == "7"


# --- clearing and coverage --------------------------------------------------------------------


def test_clear_mapping(session: Session, firm: Firm) -> None:
    set_mapping(session, "expense_type", firm.structural_id, "81")
    assert clear_mapping(session, "expense_type", firm.structural_id) is True
    assert mapped_qbo_id(session, "expense_type", firm.structural_id) is None
    assert clear_mapping(session, "expense_type", firm.structural_id) is False
    # Once cleared, the account is free for another type.
    set_mapping(session, "expense_type", firm.printing_id, "81")
    with pytest.raises(ServiceError, match="no tax term with id 999"):
        clear_mapping(session, "tax_term", 999)


def test_coverage_counts_active_types(session: Session, firm: Firm) -> None:
    assert mapping_coverage(session) == {
        "service_type": (0, 2),
        "expense_type": (0, 2),
        "tax_term": (0, 1),
    }
    set_mapping(session, "service_type", firm.design_id, "7")
    set_mapping(session, "expense_type_item", firm.printing_id, "20")  # an item counts too
    set_mapping(session, "tax_term", firm.city_tax_id, "2")
    sv.update_service_type(session, firm.schematic_id, sv.ServiceTypeFields(active=False))
    assert mapping_coverage(session) == {
        "service_type": (1, 1),
        "expense_type": (1, 2),
        "tax_term": (1, 1),
    }


# --- finding records by name ------------------------------------------------------------------


def test_candidates_are_the_usable_records(session: Session) -> None:
    names = [r.fully_qualified_name or r.name for r in candidates(session, "service_type")]
    assert names == ["Consultants", "Design:consultants", "Design:DD", "Design:SD", "Reprographics"]
    accounts = [r.name for r in candidates(session, "expense_type")]
    assert accounts == ["Penalties", "Printing", "Subconsultants"]
    assert [r.qbo_id for r in candidates(session, "tax_term")] == ["2", "NON"]


def test_find_cached_by_name_or_id(session: Session) -> None:
    assert find_cached(session, "Item", "design:dd").qbo_id == "7"
    assert find_cached(session, "Item", "DD").qbo_id == "7"
    assert find_cached(session, "Item", "8").qbo_id == "8"
    assert find_cached(session, "Account", "subconsultants").qbo_id == "81"
    with pytest.raises(ServiceError) as caught:
        find_cached(session, "Item", "CONSULTANTS")
    assert "2 QuickBooks products/services match 'CONSULTANTS'" in caught.value.message
    assert "(Id 21)" in caught.value.message and "(Id 22)" in caught.value.message
    with pytest.raises(ServiceError, match="No QuickBooks account named 'Travel'"):
        find_cached(session, "Account", "Travel")


def test_find_local_ignores_case(session: Session, firm: Firm) -> None:
    assert find_local(session, "service_type", "design development").id == firm.design_id
    assert find_local(session, "tax_term", "city").id == firm.city_tax_id
    with pytest.raises(ServiceError) as caught:
        find_local(session, "expense_type", "Travel")
    assert "no expense type 'Travel'" in caught.value.message
    assert "'Printing & Reproduction', 'Structural Engineering'" in caught.value.message


def test_mapping_lines_show_problems(session: Session, firm: Firm) -> None:
    set_mapping(session, "service_type", firm.design_id, "7")
    session.add(Mapping(kind="tax_term", local_id=firm.city_tax_id, qbo_id="77"))
    old = session.scalar(select(QboRecord).where(QboRecord.qbo_id == "7"))
    assert old is not None
    old.active = False
    session.flush()
    lines = {(line.kind, line.name): line for line in mapping_lines(session)}
    design = lines[("service_type", "Design Development")]
    assert design.qbo_name == "Design:DD" and design.problem is not None
    assert "inactive" in design.problem
    assert lines[("service_type", "Schematic Design")].qbo_id is None
    assert lines[("tax_term", "CITY")].problem == "not in the QuickBooks lists read so far"
    assert ("expense_type_item", "Printing & Reproduction") in lines


# --- factor-desktop map ---------------------------------------------------------------------


@pytest.fixture
def data(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    """A data folder with the demo firm and a few cached QuickBooks records."""
    root = tmp_path / "cli"
    assert main(["--data-dir", str(root), "import", "demo"]) == 0
    capsys.readouterr()
    ctx = open_context(root)
    try:
        with ctx.store.session() as s:
            s.add_all(
                [
                    _record("Item", "1", "Design", Type="Category"),
                    _record("Item", "7", "Design Development", fqn="Design:DD", Type="Service"),
                    _record("Item", "8", "Fees", Type="Service"),
                    _record("Item", "9", "fees", fqn="Design:fees", Type="Service"),
                    _record("Account", "81", "Travel", AccountType="Expense"),
                    _record("Account", "35", "Checking", AccountType="Bank"),
                    _record("TaxRate", "1", "Alder County", RateValue=8.5),
                    _record("TaxCode", "2", "Alder County", Taxable=True, **_rates("1")),
                ]
            )
    finally:
        ctx.close()
    return root


def _map(data: Path, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["--data-dir", str(data), "map", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_map_commands(data: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _map(data, capsys, "service-type", "design development", "design:dd")
    assert (code, err) == (0, "")
    assert out.strip() == (
        "Mapped the service type 'Design Development' to the QuickBooks product/service "
        "'Design:DD' (Id 7)."
    )
    code, out, _ = _map(data, capsys, "expense-type", "Travel", "travel", "--item", "8")
    assert code == 0 and len(out.strip().splitlines()) == 2
    # PA-CITY is 8.25%, Alder County 8.5%: refused until the administrator picks a rule.
    code, out, err = _map(data, capsys, "tax-term", "pa-city", "Alder County")
    assert code == 1 and out == ""
    assert "PA-CITY (Port Alder city sales tax) is 8.25%" in err
    assert "tax code 'Alder County' (Id 2) is 8.5%" in err
    assert "--tax-rule override (recommended) or --tax-rule accept" in err
    code, out, _ = _map(
        data, capsys, "tax-term", "pa-city", "Alder County", "--tax-rule", "override"
    )
    assert code == 0 and out.strip() == (
        "Mapped the tax term 'PA-CITY' to the QuickBooks tax code 'Alder County' (Id 2, 8.5%); "
        "Factor's tax amount is sent to QuickBooks (override)."
    )

    code, out, _ = _map(data, capsys, "list", "--json")
    listing = json.loads(out)
    design = next(r for r in listing["service_types"] if r["name"] == "Design Development")
    assert design["item"] == {"id": "7", "name": "Design:DD", "problem": None}
    travel = next(r for r in listing["expense_types"] if r["name"] == "Travel")
    assert travel["account"]["name"] == "Travel" and travel["item"]["id"] == "8"
    assert listing["coverage"]["service_type"] == {"mapped": 1, "total": 6}
    assert [c["id"] for c in listing["candidates"]["expense_type"]] == ["81"]
    assert listing["candidates"]["tax_term"] == [
        {"id": "2", "name": "Alder County", "type": None, "rate": "8.5"}
    ]
    city = next(r for r in listing["tax_terms"] if r["code"] == "PA-CITY")
    assert city["rate"] == "8.25"
    assert city["tax_code"] == {
        "id": "2",
        "name": "Alder County",
        "problem": None,
        "rate": "8.5",
        "rates_differ": True,
        "rule": "override",
        "rule_chosen": True,
    }
    assert listing["automated_sales_tax"] is None  # the Preferences have not been read
    assert "1" not in {c["id"] for c in listing["candidates"]["service_type"]}

    code, out, _ = _map(data, capsys, "list")
    assert "Service types → QuickBooks products/services (1 of 6 mapped)" in out
    assert "Programming" in out and "not mapped" in out
    assert "Design:DD (Id 7)" in out
    assert "Expense accounts: Travel (Id 81)" in out
    assert "Tax codes: Alder County (Id 2, 8.5%)" in out
    assert (
        "PA-CITY (8.25%)  Alder County (Id 2, 8.5%); the rates differ: Factor's tax amount is "
        "sent to QuickBooks (override)"
    ) in out

    code, out, _ = _map(data, capsys, "clear", "expense-type", "travel")
    assert out.strip() == (
        "Cleared the QuickBooks account and product/service of the expense type 'Travel'."
    )
    code, out, _ = _map(data, capsys, "clear", "expense-type", "travel")
    assert code == 0 and out.startswith("Nothing to clear")


REFUSALS = [
    (("service-type", "Programming", "Design"), "is a QuickBooks category"),
    (("service-type", "Programming", "fees"), "2 QuickBooks products/services match 'fees'"),
    (("service-type", "Nope", "7"), "There is no service type 'Nope'"),
    (("expense-type", "Mileage", "Checking"), "of type 'Bank', not an expense account"),
    (("tax-term", "NON", "Travel"), "No QuickBooks tax code named 'Travel'"),
]


def test_map_refusals_are_one_line(data: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for args, message in REFUSALS:
        code, out, err = _map(data, capsys, *args)
        assert code == 1 and out == "", args
        lines = err.strip().splitlines()
        assert len(lines) == 1 and message in lines[0], err


def test_a_refused_expense_type_command_changes_nothing(
    data: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # The account is fine, the item is not: neither is kept (one transaction per command).
    code, _, err = _map(data, capsys, "expense-type", "Travel", "Travel", "--item", "Design")
    assert code == 1 and "category" in err
    _, out, _ = _map(data, capsys, "list", "--json")
    travel = next(r for r in json.loads(out)["expense_types"] if r["name"] == "Travel")
    assert travel["account"] is None


def test_map_list_without_quickbooks_lists(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = tmp_path / "empty"
    assert main(["--data-dir", str(root), "import", "demo"]) == 0
    capsys.readouterr()
    code, out, _ = _map(root, capsys, "list")
    assert code == 0 and "No QuickBooks lists have been read yet" in out


def test_sync_needs_a_connection(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["--data-dir", str(tmp_path / "new"), "sync"])
    _, err = capsys.readouterr()
    assert code == 1
    assert err.strip().splitlines() == [
        "factor-desktop: Not connected to QuickBooks. Connect first."
    ]
