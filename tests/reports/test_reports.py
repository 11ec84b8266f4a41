"""Read-outs of the store as text, JSON and CSV, from code and from the command line."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from factor_desktop import services as sv
from factor_desktop.app import open_context
from factor_desktop.cli import main
from factor_desktop.reports import build_report, to_csv_text, to_json, to_text
from factor_desktop.store.db import Store
from factor_desktop.store.models import SyncLogEntry

D = Decimal
# An invoice's lines and custom fields are lists: JSON carries them, CSV cannot.
JSON_ONLY_KEYS = ("custom_fields", "lines")


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def store(data_dir: Path) -> Iterator[Store]:
    """A firm with one paid-in-part invoice, one draft, one expense and one log entry."""
    ctx = open_context(data_dir)
    with ctx.store.session() as s:
        client = sv.create_client(s, sv.ClientFields(name="Tanaka Residence", terms_days=15))
        project = sv.create_project(
            s, sv.ProjectFields(client_id=client.id, number="2024-020", name="Kitchen Remodel")
        )
        design = sv.create_service_type(s, sv.ServiceTypeFields(name="Schematic Design"))
        printing = sv.create_expense_type(
            s,
            sv.ExpenseTypeFields(
                name="Printing & Reproduction",
                category="Reimbursables",
                markup_percent=D("15"),
                taxable=True,
            ),
        )
        city = sv.create_tax_term(
            s, sv.TaxTermFields(code="PA-CITY", name="City", rate_percent=D("8.25"))
        )
        sv.set_service_budget(s, project.id, design.id, D("4000.00"), D("50"))
        sv.set_expense_budget(s, project.id, "Reimbursables", D("500.00"))
        sv.record_expense(
            s,
            sv.ExpenseInput(
                project_id=project.id,
                expense_type_id=printing.id,
                incurred_on=date(2024, 9, 3),
                cost=D("86.96"),
                vendor="Bay Blueprint",
                description="Presentation boards",
            ),
        )
        draft = sv.create_draft_invoice(s, project.id, issue_date=date(2024, 9, 30))
        sv.edit_draft_invoice(s, draft.id, sv.DraftChanges(tax_term_id=city.id))
        invoice = sv.finalize_invoice(s, draft.id)
        sv.record_manual_payment(s, invoice.id, D("1000.00"), date(2024, 10, 10))
        sv.edit_draft_invoice(
            s,
            sv.create_draft_invoice(
                s, project.id, issue_date=date(2024, 10, 31), from_project=False
            ).id,
            sv.DraftChanges(
                lines=[sv.LineInput(description="Site visit", amount=D("150.00"))],
                custom_fields=[("P.O. Number", "PO-4471")],
            ),
        )
        s.add(
            SyncLogEntry(
                at=datetime(2024, 10, 1, 9, 30, tzinfo=UTC),
                direction="push",
                entity_kind="invoice",
                local_id=invoice.id,
                qbo_id="145",
                label="Invoice INV-0001",
                action="create",
                level="info",
            )
        )
    yield ctx.store
    ctx.close()


def test_invoices_json(store: Store) -> None:
    with store.session() as session:
        rows = json.loads(to_json(build_report(session, "invoices")))
    assert rows == [
        {
            "id": 1,
            "number": "INV-0001",
            "project": "2024-020",
            "client": "Tanaka Residence",
            "status": "partially_paid",
            "issue_date": "2024-09-30",
            "due_date": "2024-10-15",
            "subtotal": "2100.00",
            "tax": "8.25",
            "total": "2108.25",
            "paid": "1000.00",
            "balance": "1108.25",
            "qbo_id": None,
            # Issued, queued for the next sync: nothing holds it back.
            "quickbooks": "pending",
            "fix": None,
            "blocked_reason": None,
            "fix_hint": None,
            "mismatched": False,
            "qbo_total": None,
            "qbo_balance": None,
            "mismatch_reason": None,
            "custom_fields": [],
            "lines": [
                {
                    "position": 1,
                    "kind": "service",
                    "description": "Schematic Design: 50% complete of $4,000.00 fee",
                    "service_type": "Schematic Design",
                    "expense_type": None,
                    "expense_id": None,
                    "quantity": "1",
                    "rate": "2000.00",
                    "amount": "2000.00",
                    "taxable": False,
                    "receipts": [],
                },
                {
                    "position": 2,
                    "kind": "expense",
                    "description": (
                        "Printing & Reproduction - Bay Blueprint - Presentation boards - 2024-09-03"
                    ),
                    "service_type": None,
                    "expense_type": "Printing & Reproduction",
                    "expense_id": 1,
                    "quantity": "1",
                    "rate": "100.00",
                    "amount": "100.00",
                    "taxable": True,
                    "receipts": [],
                },
            ],
        },
        {
            "id": 2,
            "number": None,
            "project": "2024-020",
            "client": "Tanaka Residence",
            "status": "draft",
            "issue_date": "2024-10-31",
            "due_date": None,
            "subtotal": "150.00",
            "tax": "0.00",
            "total": "150.00",
            "paid": "0.00",
            "balance": "150.00",
            "qbo_id": None,
            "quickbooks": None,  # a draft does not go to QuickBooks
            "fix": None,
            "blocked_reason": None,
            "fix_hint": None,
            "mismatched": False,
            "qbo_total": None,
            "qbo_balance": None,
            "mismatch_reason": None,
            "custom_fields": [{"name": "P.O. Number", "value": "PO-4471"}],
            "lines": [
                {
                    "position": 1,
                    "kind": "other",
                    "description": "Site visit",
                    "service_type": None,
                    "expense_type": None,
                    "expense_id": None,
                    "quantity": "1",
                    "rate": "150.00",
                    "amount": "150.00",
                    "taxable": False,
                    "receipts": [],
                }
            ],
        },
    ]


def test_expenses_json(store: Store) -> None:
    with store.session() as session:
        (row,) = json.loads(to_json(build_report(session, "expenses")))
    assert row == {
        "id": 1,
        "date": "2024-09-03",
        "project": "2024-020",
        "type": "Printing & Reproduction",
        "category": "Reimbursables",
        "vendor": "Bay Blueprint",
        "description": "Presentation boards",
        "cost": "86.96",
        "markup_percent": "15",
        "billable": "100.00",
        "billable_flag": True,
        "billed_on": "INV-0001",
        "source": "factor",
        "qbo_txn_type": None,
        "qbo_id": None,
        "qbo_line_id": None,
        "receipts": [],
    }


def test_projects_report_shows_budgets_against_actuals(store: Store) -> None:
    with store.session() as session:
        report = build_report(session, "projects")
    rows = {row["line"]: row for row in json.loads(to_json(report))}
    assert set(rows) == {"Schematic Design", "Reimbursables"}
    design = rows["Schematic Design"]
    assert (design["budget"], design["billed"], design["remaining"]) == (
        "4000.00",
        "2000.00",
        "2000.00",
    )
    assert design["percent_used"] == "50.0" and design["over_budget"] is False
    # $1,000 collected on $2,100 of lines: split pro rata, to the cent.
    assert design["collected"] == "952.38"
    reimbursables = rows["Reimbursables"]
    assert (reimbursables["cost"], reimbursables["billable"], reimbursables["billed"]) == (
        "86.96",
        "100.00",
        "100.00",
    )
    assert reimbursables["collected"] == "47.62"
    assert reimbursables["percent_used"] == "20.0"


def test_log_report_and_text_table(store: Store) -> None:
    with store.session() as session:
        log = build_report(session, "log")
        invoices = build_report(session, "invoices")
    assert json.loads(to_json(log)) == [
        {
            "at": "2024-10-01T09:30:00+00:00",
            "direction": "push",
            "entity": "invoice",
            "local_id": 1,
            "qbo_id": "145",
            "label": "Invoice INV-0001",
            "action": "create",
            "level": "info",
            "state": "ok",  # written without a state: read off its level
            "reason": None,
        }
    ]
    lines = to_text(invoices).splitlines()
    assert lines[0].split() == [
        "Id",
        "Number",
        "Project",
        "Client",
        "Status",
        "Issued",
        "Due",
        "Subtotal",
        "Tax",
        "Total",
        "Paid",
        "Balance",
        "QBO",
        "id",
        "QuickBooks",
        "Fix",
    ]
    assert set(lines[1]) == {"-", " "}
    # Money is right-aligned under its heading.
    total_end = lines[0].index("Total") + len("Total")
    assert lines[2][:total_end].endswith("2,108.25")
    assert lines[3][:total_end].endswith("150.00")


def test_csv_has_the_same_columns_and_values(store: Store) -> None:
    with store.session() as session:
        report = build_report(session, "invoices")
    rows = list(csv.DictReader(to_csv_text(report).splitlines()))
    assert list(rows[0]) == [c.key for c in report.columns if c.key not in JSON_ONLY_KEYS]
    assert rows[0]["total"] == "2108.25" and rows[0]["status"] == "partially_paid"
    assert rows[1]["number"] == "" and rows[1]["due_date"] == ""
    assert (rows[0]["quickbooks"], rows[0]["mismatched"]) == ("pending", "no")
    assert rows[1]["quickbooks"] == ""


def test_reports_from_the_command_line(
    store: Store, data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["--data-dir", str(data_dir), "report"]
    assert main([*args, "invoices", "--json"]) == 0
    assert [row["number"] for row in json.loads(capsys.readouterr().out)] == ["INV-0001", None]

    target = tmp_path / "expenses.csv"
    assert main([*args, "expenses", "--csv", str(target)]) == 0
    assert "Wrote 1 rows" in capsys.readouterr().out
    with target.open(encoding="utf-8-sig", newline="") as handle:
        (row,) = list(csv.DictReader(handle))
    assert (row["vendor"], row["cost"], row["billable"]) == ("Bay Blueprint", "86.96", "100.00")

    assert main([*args, "projects"]) == 0
    assert "Kitchen Remodel" in capsys.readouterr().out

    assert main([*args, "log", "--csv", str(tmp_path / "missing" / "log.csv")]) == 1
    assert "could not be written" in capsys.readouterr().err


def test_empty_store_says_so(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--data-dir", str(tmp_path / "empty"), "report", "log"]) == 0
    assert capsys.readouterr().out.strip() == "No sync log entries."
    assert main(["--data-dir", str(tmp_path / "empty"), "report", "expenses", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == []
