"""The demo firm: a realistic practice that loads into a fresh store, once."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select

from factor_desktop.cli import main
from factor_desktop.domain.invoices import InvoiceNumberPolicy, parse_number
from factor_desktop.importer import import_demo
from factor_desktop.settings import load_settings
from factor_desktop.store.db import Store
from factor_desktop.store.models import Client, ExpenseType, Invoice, Project, ServiceType, TaxTerm

D = Decimal

CLIENTS = {
    "O'Brien & Sons Builders",
    "Café Lumière Hospitality",
    "Riverside School District",
    "Northgate Medical Partners, LLC",
    "Hartwell & Associates Development",
    "City of Port Alder: Parks Department",
    "Müller-Østergaard Residences",
    "Greenfield Community Land Trust of the Upper Valley Watershed Region",
    "Bayside Lutheran Church",
    "Pinecrest Apartments LP",
    "Summit Ridge Winery",
    "Tanaka Residence",
}

PROJECTS = {
    "Warehouse Conversion - 14 Dock St": "O'Brien & Sons Builders",
    "Riverside Elementary Addition": "Riverside School District",
    "District Office Re-roof": "Riverside School District",
    "Fellowship Hall Expansion": "Bayside Lutheran Church",
    "Tasting Room & Cellar": "Summit Ridge Winery",
    "Kitchen Remodel": "Tanaka Residence",
    "Northgate Clinic Tenant Improvement": "Northgate Medical Partners, LLC",
}


def test_demo_firm_loads_into_a_fresh_store(store: Store) -> None:
    summary = import_demo(store)
    assert summary.counts["clients"].created == 12

    with store.session() as session:
        assert set(session.scalars(select(Client.name))) == CLIENTS
        projects = session.scalars(select(Project)).all()
        assert 28 <= len(projects) <= 32
        by_name = {p.name: p.client.name for p in projects}
        for name, client in PROJECTS.items():
            assert by_name[name] == client
        assert all(len(p.number) == 8 and p.number[4] == "-" for p in projects)

        services = set(session.scalars(select(ServiceType.name)))
        assert {
            "Schematic Design",
            "Design Development",
            "Construction Documents",
            "Construction Administration",
            "Bidding & Negotiation",
            "Programming",
        } <= services
        types = {
            t.name: (t.category, t.markup_percent, t.is_subconsultant)
            for t in session.scalars(select(ExpenseType))
        }
        assert types["Structural Engineering"] == ("Structural", D("10"), True)
        assert types["MEP Engineering"] == ("MEP", D("10"), True)
        assert types["Landscape Architecture"] == ("Landscape", D("12.5"), True)
        assert types["Printing & Reproduction"] == ("Reimbursables", D("15"), False)
        assert types["Travel"] == ("Reimbursables", None, False)
        assert types["Mileage"] == ("Reimbursables", None, False)
        rates = {t.code: t.rate_percent for t in session.scalars(select(TaxTerm))}
        assert rates["NON"] == D("0") and D("8.25") in rates.values()

        invoices = session.scalars(select(Invoice)).all()
        statuses = {i.status for i in invoices}
        assert statuses == {"draft", "final"}
        policy = InvoiceNumberPolicy("INV-", 1, 4)
        numbers = sorted(parse_number(i.number, policy) or 0 for i in invoices if i.number)
        assert numbers == list(range(1, len(numbers) + 1))
        assert load_settings(session).invoice_numbering.next_number == numbers[-1] + 1
        custom = {c.name for i in invoices for c in i.custom_fields}
        assert {"PO Number", "Project Phase"} <= custom
        assert all(i.lines for i in invoices)


def test_demo_firm_twice_is_a_no_op(store: Store) -> None:
    import_demo(store)
    again = import_demo(store)
    assert not again.changed
    assert again.counts["projects"].unchanged == 30
    assert again.counts["invoices"].created == 0


def test_demo_firm_from_the_command_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = ["--data-dir", str(tmp_path / "data")]
    assert main([*data, "import", "demo"]) == 0
    assert "Imported demo" in capsys.readouterr().out
    assert main([*data, "import", "demo", "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["ok"] is True and summary["counts"]["clients"]["unchanged"] == 12

    assert main([*data, "report", "projects", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    kitchen = [r for r in rows if r["name"] == "Kitchen Remodel"]
    assert {r["client"] for r in kitchen} == {"Tanaka Residence"}
    assert {r["line"] for r in kitchen} >= {"Schematic Design", "Construction Documents"}

    assert main([*data, "report", "invoices"]) == 0
    table = capsys.readouterr().out
    assert "INV-0001" in table and "City of Port Alder: Parks Department" in table


def test_import_problems_go_to_stderr_with_exit_status_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "clients.csv"
    bad.write_text("name,terms_days\nTanaka Residence,soon\n", encoding="utf-8")
    data = ["--data-dir", str(tmp_path / "data")]

    assert main([*data, "import", str(bad)]) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert "Nothing was imported: 1 problem found." in err
    assert f"{bad}:2: terms_days: Expected a whole number" in err

    assert main([*data, "import", str(bad), "--json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["ok"] is False
    assert report["problems"][0]["line"] == 2
