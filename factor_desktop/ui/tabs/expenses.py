"""The Expenses tab: the expenses, and beside them the selected expense's receipts."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QModelIndex, Qt, Slot
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import QAbstractItemView, QSplitter, QWidget

from factor_desktop.ui.formatting import money_text, total_money
from factor_desktop.ui.jobs import JobRunner
from factor_desktop.ui.models.base import RowRole
from factor_desktop.ui.models.expenses import ExpenseTableModel
from factor_desktop.ui.receipts.dialog import ReceiptDialog
from factor_desktop.ui.receipts.pages import PageCache
from factor_desktop.ui.receipts.viewer import ReceiptViewer
from factor_desktop.ui.tabs.base import TableTab, plural
from factor_desktop.views import ExpenseRow

if TYPE_CHECKING:
    from factor_desktop.views import Snapshot


class ExpensesTab(TableTab):
    """The expenses, and beside them the selected expense's receipts (`receipt_pane`).

    Double-clicking an expense (or "Larger view…") opens its receipts in a `ReceiptDialog`.
    The receipts are read on the window's worker: `attach_runner()` hands it over.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(
            ExpenseTableModel(),
            (ExpenseTableModel.COL_PROJECT, ExpenseTableModel.COL_VENDOR),
            "Expenses booked in QuickBooks against a linked project arrive here with each "
            "sync, with the firm's markup applied and their receipts.",
            parent,
        )
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.runner: JobRunner | None = None
        self.page_cache = PageCache()
        self.receipt_pane = ReceiptViewer(cache=self.page_cache)
        self.receipt_pane.setMinimumSize(260, 220)
        self.receipt_dialog: ReceiptDialog | None = None
        self._layout.removeWidget(self.view)
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.setChildrenCollapsible(False)
        self.splitter.addWidget(self.view)
        self.splitter.addWidget(self.receipt_pane)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 2)
        self._layout.addWidget(self.splitter, 1)
        self._place_pane(horizontal=True)
        self.view.selectionModel().currentRowChanged.connect(self._current_changed)
        self.view.doubleClicked.connect(self._double_clicked)
        self.receipt_pane.enlargeRequested.connect(self.open_receipt_dialog)

    # Narrower than this, the receipts go below the expenses instead of beside them.
    SIDE_BY_SIDE_WIDTH = 1000

    def _place_pane(self, horizontal: bool) -> None:
        orientation = Qt.Orientation.Horizontal if horizontal else Qt.Orientation.Vertical
        if self.splitter.orientation() == orientation and self.splitter.property("placed"):
            return
        self.splitter.setOrientation(orientation)
        self.splitter.setProperty("placed", True)
        extent = self.width() if horizontal else self.height()
        extent = max(extent, 600)
        self.splitter.setSizes([extent * 3 // 5, extent * 2 // 5])

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._place_pane(horizontal=event.size().width() >= self.SIDE_BY_SIDE_WIDTH)

    def attach_runner(self, runner: JobRunner) -> None:
        """Read, download and save receipts on this runner's worker thread."""
        self.runner = runner
        self.receipt_pane.attach(runner)

    # -- selection -------------------------------------------------------------------------

    def current_expense(self) -> ExpenseRow | None:
        row = self.view.currentIndex().data(RowRole)
        return row if isinstance(row, ExpenseRow) else None

    def select_expense(self, expense_id: int) -> bool:
        """Make the expense with this id the current one (and show its receipts)."""
        return self.select_id(expense_id)

    @Slot(QModelIndex, QModelIndex)
    def _current_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        self._show_receipts_of(self.current_expense())

    def _show_receipts_of(self, row: ExpenseRow | None) -> None:
        if row is None:
            self.receipt_pane.show_receipts(())
        else:
            self.receipt_pane.show_receipts(
                row.receipt_files, "This expense has no receipt in QuickBooks."
            )

    @Slot(QModelIndex)
    def _double_clicked(self, index: QModelIndex) -> None:
        if index.isValid():
            self.open_receipt_dialog()

    @Slot()
    def open_receipt_dialog(self) -> ReceiptDialog | None:
        """The current expense's receipts in a larger window, at the page the pane shows."""
        row = self.current_expense()
        if row is None or not row.receipt_files:
            return None
        if self.receipt_dialog is not None:
            self.receipt_dialog.close()
        title = f"Receipts — {row.vendor or row.description or 'expense'} ({row.project_number})"
        pane = self.receipt_pane
        dialog = ReceiptDialog(
            self.runner,
            row.receipt_files,
            title,
            cache=self.page_cache,
            start=(pane.receipt_index, pane.page_index),
            parent=self,
        )
        dialog.finished.connect(self._dialog_closed)
        self.receipt_dialog = dialog
        dialog.open()
        return dialog

    @Slot(int)
    def _dialog_closed(self, _result: int) -> None:
        dialog, self.receipt_dialog = self.receipt_dialog, None
        if dialog is not None:
            dialog.deleteLater()

    # -- the snapshot ----------------------------------------------------------------------

    def show_snapshot(self, snapshot: Snapshot) -> None:
        expenses = snapshot.expenses
        chosen = self.current_expense()
        reset = self.model.set_rows(expenses)
        # After a reset the same expense stays current, or the pane empties when it has gone.
        if reset and chosen is not None and not self.select_expense(chosen.id):
            self._show_receipts_of(None)
        self._fit_once()
        current = self.current_expense()
        if current is not None:
            self._show_receipts_of(current)
            if self.receipt_dialog is not None:
                self.receipt_dialog.viewer.show_receipts(current.receipt_files)
        if not expenses:
            self.summary.setText("No expenses yet.")
            return
        cost = total_money(e.cost for e in expenses)
        billable = total_money(e.billable_amount for e in expenses if e.billable)
        from_qbo = sum(1 for e in expenses if e.source == "qbo")
        files = {r.id: r for e in expenses for r in e.receipt_files}
        waiting = sum(1 for r in files.values() if r.path is None)
        text = (
            f"{plural(len(expenses), 'expense')} ({from_qbo} from QuickBooks): cost "
            f"{money_text(cost)}, billable {money_text(billable)}, "
            f"{plural(len(files), 'receipt')}"
        )
        if waiting:
            text += f" ({waiting} not downloaded yet)"
        self.summary.setText(text + ". Select an expense to see its receipts.")
