"""The Invoices tab and `report invoices` read the same rows: for the demo firm after a real pass
against the sandbox (some invoices blocked, one whose total differs in QuickBooks), every invoice
shows the same figures, the same state, the same reason and the same fix in both; so do the
Expenses tab and `report expenses`."""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from sqlalchemy import select

from factor_desktop.cli import main
from factor_desktop.demo import DEMO_PROFILE, DemoSession
from factor_desktop.domain.money import sum_money
from factor_desktop.paths import DataDir
from factor_desktop.store.models import Invoice, SyncLogEntry
from factor_desktop.sync.connection import ConnectionService
from factor_desktop.sync.engine import SyncEngine
from factor_desktop.ui.main_window import MainWindow
from factor_desktop.ui.models.invoices import InvoiceTableModel
from factor_desktop.views import FIX_HINTS, ExpenseRow, InvoiceRow

from .conftest import wait_for_snapshot

pytestmark = pytest.mark.gui

COL_QBO = InvoiceTableModel.COL_QBO
COL_ATTENTION = InvoiceTableModel.COL_ATTENTION


@pytest.fixture
def synced_demo(tmp_path: Path) -> Iterator[DemoSession]:
    """The demo firm after one real pass against the sandbox: the invoices whose tax term is
    not mapped are blocked there, the others are in QuickBooks; one of those is then flagged
    with a different total in QuickBooks."""
    demo = DemoSession(tmp_path, fresh=True)
    try:
        demo.load_firm()
        service = ConnectionService(demo.ctx.store, demo.ctx.tokens)
        try:
            demo.connect(service)
            demo.prepare_mappings(service)
            attachments = DataDir.resolve(demo.ctx.store.path.parent).attachments
            summary = SyncEngine(demo.ctx.store, service, attachments).run()
            assert summary.status == "partial"
        finally:
            service.http.close()
        with demo.ctx.store.session() as s:
            sent = s.scalars(
                select(Invoice).where(Invoice.qbo_id.is_not(None)).order_by(Invoice.id)
            ).first()
            assert sent is not None and sent.qbo_id is not None
            s.add(
                SyncLogEntry(
                    direction="push",
                    entity_kind="invoice",
                    local_id=sent.id,
                    qbo_id=sent.qbo_id,
                    label=sent.number or "",
                    action="mismatched",
                    level="warning",
                    state="mismatched",
                    reason="QuickBooks recalculated the tax with its tax code's rates.",
                    detail={"total": str(sent.total), "qbo_total": str(sent.total + 1)},
                )
            )
        yield demo
    finally:
        demo.close()


def _report(demo: DemoSession, capsys: pytest.CaptureFixture[str], *more: str) -> str:
    argv = ["--data-dir", str(demo.root), "--profile", DEMO_PROFILE, "report", "invoices"]
    assert main([*argv, *more]) == 0
    return capsys.readouterr().out


def _money(value: str | None) -> Decimal | None:
    return Decimal(value) if value is not None else None


def test_the_invoices_tab_and_report_invoices_agree(
    qtbot: Any, synced_demo: DemoSession, capsys: pytest.CaptureFixture[str]
) -> None:
    window = MainWindow(synced_demo.ctx.store, synced_demo.ctx.tokens, open_url=lambda url: None)
    qtbot.addWidget(window)
    window.resize(1280, 800)
    window.show()
    try:
        wait_for_snapshot(qtbot, window)
        model = window.invoices_tab.model
        shown: dict[int, tuple[int, InvoiceRow]] = {}
        for index, row in enumerate(model.rows()):
            assert isinstance(row, InvoiceRow)
            shown[row.id] = (index, row)
        report = {row["id"]: row for row in json.loads(_report(synced_demo, capsys, "--json"))}
        assert set(report) == set(shown)

        states = [r["quickbooks"] for r in report.values()]
        assert "blocked" in states and "sent" in states and "mismatched" in states
        for invoice_id, printed in report.items():
            index, row = shown[invoice_id]
            assert printed["number"] == row.number
            assert printed["project"] == row.project_number
            assert printed["client"] == row.client_name
            assert printed["status"] == row.status
            assert printed["issue_date"] == row.issue_date.isoformat()
            assert Decimal(printed["total"]) == row.total
            assert Decimal(printed["balance"]) == row.balance
            assert printed["qbo_id"] == row.qbo_id
            # Where it stands with QuickBooks, why, and the fix: the tab's own words.
            assert printed["quickbooks"] == row.qbo_state
            assert printed["blocked_reason"] == row.blocked_reason
            assert printed["fix"] == row.fix
            assert printed["mismatched"] is row.mismatched
            assert _money(printed["qbo_total"]) == row.qbo_total
            assert printed["mismatch_reason"] == row.mismatch_reason
            attention = model.index(index, COL_ATTENTION).data(Qt.ItemDataRole.DisplayRole)
            if printed["blocked_reason"]:
                assert printed["blocked_reason"] in attention
            if printed["mismatch_reason"]:
                assert printed["mismatch_reason"] in attention
            qbo_cell = model.index(index, COL_QBO).data(Qt.ItemDataRole.DisplayRole)
            if printed["quickbooks"] == "blocked":
                assert qbo_cell == "Blocked"
            elif printed["quickbooks"] == "mismatched":
                assert qbo_cell.endswith("⚠ total differs")
            # The lines (which the tab does not list) add up to the subtotal.
            amounts = [Decimal(line["amount"]) for line in printed["lines"]]
            assert amounts and sum_money(amounts) == Decimal(printed["subtotal"])
            assert row.lines == (), "the window's snapshot does not read the lines"

        blocked = [r for r in report.values() if r["quickbooks"] == "blocked"]
        for printed in blocked:
            assert "not mapped to a QuickBooks tax code" in printed["blocked_reason"]
            assert printed["fix"] == "map"
            assert printed["fix_hint"] == FIX_HINTS["map"]
            assert "factor-desktop map" in printed["fix_hint"]
        (mismatched,) = [r for r in report.values() if r["quickbooks"] == "mismatched"]
        assert Decimal(mismatched["qbo_total"]) == Decimal(mismatched["total"]) + 1

        # The text table says the same: each blocked invoice's state and fix in its row, and
        # under the table, what needs attention: its reason and its fix, and the total that
        # differs.
        text = _report(synced_demo, capsys)
        table, _, notes = text.partition("\n\nNeeds attention:\n")
        assert notes, text
        for printed in blocked:
            line = next(t for t in table.splitlines() if f" {printed['number']} " in t)
            assert line.split()[-2:] == ["blocked", "map"]
            assert (
                f"{printed['number']} (blocked): {printed['blocked_reason']}\n"
                f"  Fix: {FIX_HINTS['map']}"
            ) in notes
        assert f"{mismatched['number']} (total differs): QuickBooks' total " in notes
        assert "QuickBooks recalculated the tax" in notes
        sent = next(r for r in report.values() if r["quickbooks"] == "sent")
        assert f"{sent['number']} (" not in notes, "nothing to say about a sent invoice"

        # The Expenses tab and `report expenses` read the same rows too.
        argv = ["--data-dir", str(synced_demo.root), "--profile", DEMO_PROFILE, "report"]
        assert main([*argv, "expenses", "--json"]) == 0
        expenses = {r["id"]: r for r in json.loads(capsys.readouterr().out)}
        listed = {r.id: r for r in window.expenses_tab.model.rows() if isinstance(r, ExpenseRow)}
        assert expenses and set(expenses) == set(listed)
        for expense_id, printed in expenses.items():
            expense = listed[expense_id]
            assert printed["date"] == expense.incurred_on.isoformat()
            assert printed["project"] == expense.project_number
            assert printed["type"] == expense.type_name
            assert Decimal(printed["cost"]) == expense.cost
            assert Decimal(printed["billable"]) == expense.billable_amount
            assert printed["billed_on"] == expense.billed_on
            assert [r["file_name"] for r in printed["receipts"]] == [
                r.file_name for r in expense.receipt_files
            ]
    finally:
        window.shutdown()
    assert not window.runner.running
