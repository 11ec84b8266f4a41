"""The item models: Qt's model tester, and the rows a known store produces."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
from PySide6.QtCore import QAbstractItemModel, QModelIndex, Qt, QtMsgType, qInstallMessageHandler
from PySide6.QtTest import QAbstractItemModelTester

from factor_desktop.app import AppContext
from factor_desktop.ui.colors import ERROR_COLOR
from factor_desktop.ui.formatting import (
    date_text,
    environment_label,
    link_text,
    money_text,
    percent_text,
)
from factor_desktop.ui.models.base import IdRole, RowRole, SortRole
from factor_desktop.ui.models.clients import ClientProjectTreeModel
from factor_desktop.ui.models.expenses import ExpenseTableModel
from factor_desktop.ui.models.invoices import InvoiceTableModel
from factor_desktop.ui.models.mappings import (
    ExpenseTypeMappingModel,
    ServiceTypeMappingModel,
    TaxTermMappingModel,
)
from factor_desktop.ui.models.sync_log import SyncLogTableModel
from factor_desktop.views import LogRow, Snapshot, load_snapshot

from .conftest import Firm

pytestmark = pytest.mark.gui


@pytest.fixture
def snapshot(ctx: AppContext, firm: Firm) -> Snapshot:
    return load_snapshot(ctx.store, ctx.tokens)


@pytest.fixture
def model_failures(qapp: Any) -> Iterator[list[str]]:
    """What QAbstractItemModelTester reports (it warns, in Warning mode)."""
    failures: list[str] = []

    def handler(kind: QtMsgType, _context: Any, message: str) -> None:
        if kind != QtMsgType.QtDebugMsg:
            failures.append(message)

    previous = qInstallMessageHandler(handler)
    try:
        yield failures
    finally:
        qInstallMessageHandler(previous)


def check_model(model: QAbstractItemModel, failures: list[str], fill: Any) -> None:
    tester = QAbstractItemModelTester(model, QAbstractItemModelTester.FailureReportingMode.Warning)
    fill()  # a reset under the tester's eyes
    fill()  # the same rows again: no reset
    assert failures == []
    del tester


# --- formatting ----------------------------------------------------------------------------


def test_money_is_formatted_from_decimals() -> None:
    assert money_text(Decimal("1234.5")) == "$1,234.50"
    assert money_text(Decimal("-12")) == "-$12.00"
    assert money_text(Decimal("0")) == "$0.00"
    with pytest.raises(TypeError):
        money_text(1.5)  # type: ignore[arg-type]  # floats are refused


def test_small_formats() -> None:
    assert percent_text(Decimal("10.00")) == "10%"
    assert percent_text(Decimal("12.50")) == "12.5%"
    assert percent_text(None, none="At cost") == "At cost"
    assert date_text(date(2025, 3, 4)) == "Mar 4, 2025"
    assert link_text("58") == "Linked (Id 58)"
    assert link_text(None) == "Not linked"
    assert environment_label("http://127.0.0.1:5000/.well-known/x").startswith("Local sandbox")
    assert environment_label("production") == "Production"


# --- models with Qt's tester ------------------------------------------------------------------


def test_invoice_model(snapshot: Snapshot, model_failures: list[str]) -> None:
    model = InvoiceTableModel()
    check_model(model, model_failures, lambda: model.set_rows(snapshot.invoices))
    assert model.rowCount() == 2
    by_number = {model.index(r, model.COL_NUMBER).data(): r for r in range(model.rowCount())}
    draft, final = by_number["Draft"], by_number["INV-0042"]

    def cell(row: int, column: int, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        return model.index(row, column).data(role)

    assert cell(final, model.COL_TOTAL) == "$12,345.50"
    assert cell(final, model.COL_BALANCE) == "$2,345.50"
    assert cell(final, model.COL_STATUS) == "Partially paid"
    assert cell(final, model.COL_CLIENT) == "Harbor Point Holdings"
    assert cell(final, model.COL_PROJECT) == "2024-017 Harbor Point Tower"
    assert cell(final, model.COL_DUE) == "Mar 3, 2025"
    assert cell(final, model.COL_QBO) == "Id 130"
    assert cell(final, model.COL_TOTAL, SortRole) == 1234550
    alignment = Qt.AlignmentFlag(cell(final, model.COL_TOTAL, Qt.ItemDataRole.TextAlignmentRole))
    assert alignment & Qt.AlignmentFlag.AlignRight
    assert cell(draft, model.COL_STATUS) == "Draft"
    assert cell(draft, model.COL_QBO) == ""
    assert cell(draft, model.COL_NUMBER, Qt.ItemDataRole.FontRole).italic()
    assert cell(final, model.COL_NUMBER, RowRole).number == "INV-0042"
    assert isinstance(cell(final, model.COL_NUMBER, RowRole).total, Decimal)


def test_invoice_model_says_which_figure_differs(snapshot: Snapshot) -> None:
    [final] = [row for row in snapshot.invoices if row.number == "INV-0042"]
    why = "QuickBooks shows a balance of $2,000.00 on invoice INV-0042; Factor expects $2,345.50."
    balance = replace(final, qbo_balance=Decimal("2000.00"), mismatch_reason=why)
    total = replace(final, qbo_total=Decimal("12400.00"), mismatch_reason="Changed there.")
    model = InvoiceTableModel()
    model.set_rows((balance, total))
    assert model.index(0, model.COL_QBO).data() == "Id 130 ⚠ balance differs"
    assert model.index(0, model.COL_ATTENTION).data() == why
    assert model.index(1, model.COL_QBO).data() == "Id 130 ⚠ total differs"


def test_expense_model(snapshot: Snapshot, model_failures: list[str]) -> None:
    model = ExpenseTableModel()
    check_model(model, model_failures, lambda: model.set_rows(snapshot.expenses))
    assert model.rowCount() == 1
    row = [model.index(0, c).data() for c in range(model.columnCount())]
    assert row == [
        "Feb 20, 2025",
        "2024-017 Harbor Point Tower",
        "Structural engineering",
        "Cascade Structural",
        "$400.00",
        "10%",
        "$440.00",
        "QuickBooks Bill",
        "2",
    ]
    assert model.index(0, model.COL_VENDOR).data(Qt.ItemDataRole.ToolTipRole) == "Lateral analysis"


def test_sync_log_model_shows_errors_in_red(snapshot: Snapshot, model_failures: list[str]) -> None:
    model = SyncLogTableModel()
    check_model(model, model_failures, lambda: model.set_rows(snapshot.log))
    rows = {model.index(r, model.COL_LEVEL).data(): r for r in range(model.rowCount())}
    error, info = rows["Error"], rows["Info"]
    assert model.index(error, model.COL_DIRECTION).data() == "From QuickBooks"
    assert model.index(error, model.COL_RECORD).data() == "Expense Bill 312 line 2"
    assert model.index(error, model.COL_REASON).data().startswith("Account 'Travel'")
    brush = model.index(error, model.COL_REASON).data(Qt.ItemDataRole.ForegroundRole)
    assert brush.color() == ERROR_COLOR
    assert model.index(info, model.COL_REASON).data(Qt.ItemDataRole.ForegroundRole) is None
    assert model.index(info, model.COL_DIRECTION).data() == "To QuickBooks"
    assert model.index(info, model.COL_ACTION).data() == "Created"


def test_mapping_models(snapshot: Snapshot, model_failures: list[str]) -> None:
    services = ServiceTypeMappingModel()
    check_model(services, model_failures, lambda: services.set_rows(snapshot.service_types))
    names = {
        services.index(r, 0).data(): services.index(r, services.COL_ITEM).data()
        for r in range(services.rowCount())
    }
    assert names == {"Design Development": "Design:DD", "Site Survey": "Not mapped"}

    expenses = ExpenseTypeMappingModel()
    check_model(expenses, model_failures, lambda: expenses.set_rows(snapshot.expense_types))
    rows = {
        expenses.index(r, 0).data(): [
            expenses.index(r, c).data() for c in range(1, expenses.columnCount())
        ]
        for r in range(expenses.rowCount())
    }
    assert rows["Structural engineering (subconsultant)"] == [
        "Structural",
        "10%",
        "Yes",
        "Cost of Goods Sold:Subconsultants",
        "—",  # the product/service is optional
    ]
    assert rows["Printing"] == ["Reimbursables", "At cost", "Yes", "Not mapped", "—"]

    taxes = TaxTermMappingModel()
    check_model(taxes, model_failures, lambda: taxes.set_rows(snapshot.tax_terms))
    assert taxes.index(0, taxes.COL_RATE).data() == "10.35%"
    # Mapped to an Id the QuickBooks lists read so far do not contain: said so, in red.
    assert taxes.index(0, taxes.COL_TAX_CODE).data().startswith("TaxCode Id 404")
    brush = taxes.index(0, taxes.COL_TAX_CODE).data(Qt.ItemDataRole.ForegroundRole)
    assert brush.color() == ERROR_COLOR


def test_client_project_tree(snapshot: Snapshot, model_failures: list[str], firm: Firm) -> None:
    model = ClientProjectTreeModel()
    check_model(model, model_failures, lambda: model.set_rows(snapshot.clients))
    assert model.rowCount() == 2
    harbor = model.index(0, 0)
    assert harbor.data() == "Harbor Point Holdings"
    assert harbor.data(IdRole) == firm.client_id
    assert model.index(0, model.COL_QBO).data() == "Linked (Id 58)"
    assert model.rowCount(harbor) == 2
    tower = model.index(0, 0, harbor)
    assert model.parent(tower) == harbor
    assert [model.index(0, c, harbor).data() for c in range(model.columnCount())] == [
        "Harbor Point Tower",
        "2024-017",
        "Active",
        "R. Okafor",
        "Linked (Id 59)",
    ]
    assert model.index(1, model.COL_STATUS, harbor).data() == "Closed"
    assert model.index(1, model.COL_QBO, harbor).data() == "Not linked"
    willow = model.index(1, 0)
    assert model.index(1, model.COL_QBO).data() == "Not linked"
    assert model.index(0, model.COL_STATUS, willow).data() == "On hold"
    assert model.rowCount(model.index(0, 0, willow)) == 0
    assert model.parent(QModelIndex()) == QModelIndex()


def test_set_rows_with_equal_rows_keeps_the_model(
    snapshot: Snapshot, qtbot: Any, model_failures: list[str]
) -> None:
    model = SyncLogTableModel()
    model.set_rows(snapshot.log)
    with qtbot.assertNotEmitted(model.modelReset):
        model.set_rows(list(snapshot.log))
    extra = LogRow(
        id=99,
        at=datetime(2025, 1, 1, tzinfo=UTC),
        direction="pull",
        entity_kind="payment",
        label="Payment 7",
        qbo_id="7",
        action="applied",
        level="warning",
        reason=None,
    )
    with qtbot.waitSignal(model.modelReset):
        model.set_rows([*snapshot.log, extra])
    assert model.rowCount() == 3


def test_snapshot_reads_plain_rows(snapshot: Snapshot, firm: Firm) -> None:
    assert [c.name for c in snapshot.clients] == [
        "Harbor Point Holdings",
        "Willow Creek School District",
    ]
    final = next(i for i in snapshot.invoices if i.id == firm.final_id)
    assert final.total == Decimal("12345.50") and final.qbo_id == "130"
    assert snapshot.expenses[0].receipts == 2
    assert snapshot.connection.state == "disconnected"
    assert snapshot.last_sync is not None and snapshot.last_sync.status == "partial"
    assert snapshot.data_file.name == "test.sqlite3"
