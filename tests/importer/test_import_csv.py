"""Importing CSV files: a folder of them, or one named after what it holds."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select

from factor_desktop.importer import ImportRejected, import_path
from factor_desktop.store.db import Store
from factor_desktop.store.models import Client, ExpenseType, Invoice, Project, ProjectBudget
from tests.importer.data import LONG_NAME

D = Decimal

FILES = {
    "clients.csv": (
        "Name,Email,Terms Days\n"
        '"O\'Brien & Sons Builders",office@obrien.example,15\n'
        "Café Lumière Hospitality,,\n"
        '"City of Port Alder: Parks Department",parks@portalder.example,45\n'
        f'"{LONG_NAME}",,\n'
    ),
    "service_types.csv": 'name,description\nSchematic Design,"Concept plans, massing"\n',
    "expense_types.csv": (
        "name,category,markup_percent,subconsultant\n"
        "Structural Engineering,Structural,10%,yes\n"
        "Landscape Architecture,Landscape,12.5,yes\n"
        "Travel,Reimbursables,,no\n"
    ),
    "tax_terms.csv": "code,name,rate_percent\nPA-CITY,Port Alder city sales tax,8.25\n",
    "projects.csv": (
        "number,name,client,status\n"
        "2024-017,Warehouse Conversion - 14 Dock St,O'Brien & Sons Builders,active\n"
        "2024-006,Bayfront Park Pavilion,City of Port Alder: Parks Department,on_hold\n"
    ),
    "budgets.csv": (
        "project,service_type,expense_category,amount,percent_complete\n"
        '2024-017,Schematic Design,,"$40,000.00",50\n'
        "2024-017,,Structural,12000.10,\n"
        "2024-006,,Landscape,8500,\n"
    ),
    "invoices.csv": (
        "ref,number,status,project,issue_date,tax_term,memo,"
        "custom_field_1_name,custom_field_1_value,custom_field_2_name,custom_field_2_value\n"
        "A,INV-0001,final,2024-017,2024-05-31,,,PO Number,OB-117,Project Phase,SD\n"
        'B,,draft,2024-006,2024-06-30,,"Two lines,\nof memo",,,,\n'
    ),
    "invoice_lines.csv": (
        "invoice,kind,service_type,expense_type,description,quantity,rate,amount\n"
        "INV-0001,service,Schematic Design,,Schematic Design - 25%,,,10000.00\n"
        "A,expense,,Travel,Site visit,1,312.40,\n"
        'B,other,,,Park survey,,,"1,250.00"\n'
    ),
}


def _write(folder: Path, files: dict[str, str]) -> Path:
    folder.mkdir(exist_ok=True)
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def test_a_folder_of_csv_files_imports_and_reimports_as_a_no_op(
    store: Store, tmp_path: Path
) -> None:
    folder = _write(tmp_path / "firm", FILES)

    counts = import_path(store, folder).to_json()["counts"]

    assert counts["clients"]["created"] == 4
    assert counts["expense_types"]["created"] == 3
    assert counts["budgets"]["created"] == 3
    assert counts["invoices"]["created"] == 2
    with store.session() as session:
        assert LONG_NAME in set(session.scalars(select(Client.name)))
        travel = session.scalars(select(ExpenseType).where(ExpenseType.name == "Travel")).one()
        assert (travel.markup_percent, travel.is_subconsultant) == (None, False)
        structural = session.scalars(
            select(ExpenseType).where(ExpenseType.name == "Structural Engineering")
        ).one()
        assert (structural.markup_percent, structural.is_subconsultant) == (D("10"), True)
        amounts = sorted(b.amount for b in session.scalars(select(ProjectBudget)))
        assert amounts == [D("8500.00"), D("12000.10"), D("40000.00")]
        final = session.scalars(select(Invoice).where(Invoice.number == "INV-0001")).one()
        assert [line.amount for line in final.lines] == [D("10000.00"), D("312.40")]
        assert [(c.name, c.value) for c in final.custom_fields] == [
            ("PO Number", "OB-117"),
            ("Project Phase", "SD"),
        ]
        draft = session.scalars(select(Invoice).where(Invoice.status == "draft")).one()
        assert draft.memo == "Two lines,\nof memo"
        assert draft.total == D("1250.00")

    again = import_path(store, folder)
    assert not again.changed
    assert again.to_json()["counts"]["invoices"] == {"created": 0, "updated": 0, "unchanged": 2}


def test_a_single_csv_is_known_by_its_name(store: Store, tmp_path: Path) -> None:
    folder = _write(tmp_path / "firm", FILES)
    assert import_path(store, folder / "clients.csv").to_json()["counts"] == {
        "clients": {"created": 4, "updated": 0, "unchanged": 0}
    }
    for name in ("service_types.csv", "expense_types.csv", "tax_terms.csv", "projects.csv"):
        import_path(store, folder / name)
    # invoices.csv brings its lines from invoice_lines.csv beside it.
    counts = import_path(store, folder / "invoices.csv").to_json()["counts"]
    assert counts == {"invoices": {"created": 2, "updated": 0, "unchanged": 0}}

    stray = tmp_path / "firm" / "contacts.csv"
    stray.write_text("name\nX\n", encoding="utf-8")
    with pytest.raises(ImportRejected) as info:
        import_path(store, stray)
    assert "clients.csv" in info.value.problems[0].reason


def test_bad_csv_rows_are_reported_by_file_line_and_column(store: Store, tmp_path: Path) -> None:
    files = dict(FILES)
    files["projects.csv"] = (
        "number,name,client,status\n"
        "2024-017,Warehouse Conversion - 14 Dock St,O'Brien & Sons Builders,active\n"
        "2024-006,Bayfront Park Pavilion,City of Port Alder Parks,finished\n"
    )
    files["budgets.csv"] = (
        "project,service_type,expense_category,amount,percent_complete\n"
        "2024-017,Schematic Design,,40000.00,150\n"
        "2024-017,,Structural,12000.10,\n"
    )
    folder = _write(tmp_path / "firm", files)

    with pytest.raises(ImportRejected) as info:
        import_path(store, folder)

    found = {(Path(p.file).name, p.line, p.where): p.reason for p in info.value.problems}
    assert "There is no client 'City of Port Alder Parks'" in found[("projects.csv", 3, "client")]
    assert "active, on_hold, closed" in found[("projects.csv", 3, "status")]
    assert "can't be more than 100%" in found[("budgets.csv", 2, "percent_complete")]
    assert str(info.value.problems[0]).startswith(str(folder / "budgets.csv") + ":2: ")
    # The project that failed takes its invoice down with it, and says why.
    assert "has problems of its own" in found[("invoices.csv", 3, "project")]
    with store.session() as session:
        assert session.scalars(select(Project)).all() == []
        assert session.scalars(select(Client)).all() == []


def test_csv_structure_problems(store: Store, tmp_path: Path) -> None:
    files = dict(FILES)
    files["clients.csv"] = "name,colour\nTanaka Residence,blue\n"
    files["invoice_lines.csv"] = FILES["invoice_lines.csv"] + "Z,other,,,Lost line,,,5.00\n"
    files["service_types.csv"] = "description\nNo name column\n"
    folder = _write(tmp_path / "firm", files)

    with pytest.raises(ImportRejected) as info:
        import_path(store, folder)

    found = {(Path(p.file).name, p.line, p.where): p.reason for p in info.value.problems}
    assert "Unknown column" in found[("clients.csv", 1, "colour")]
    assert "required column is missing" in found[("service_types.csv", 1, "name")]
    assert "No invoice in invoices.csv" in found[("invoice_lines.csv", 5, "invoice")]


def test_latin1_file_is_refused_with_advice(store: Store, tmp_path: Path) -> None:
    folder = tmp_path / "firm"
    folder.mkdir()
    (folder / "clients.csv").write_bytes("name\nCafé Lumière\n".encode("latin-1"))
    with pytest.raises(ImportRejected) as info:
        import_path(store, folder / "clients.csv")
    (problem,) = info.value.problems
    assert problem.line == 2 and "UTF-8" in problem.reason
