"""The record tabs: Clients & Projects, Mappings, Invoices, Expenses and the Sync Log.

Each tab is handed the rows of a new snapshot through `show_snapshot()` and passes them to its
models' `set_rows()`; nothing here reads the store.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import (
    QEvent,
    QModelIndex,
    QObject,
    QPoint,
    QSortFilterProxyModel,
    Qt,
    Signal,
    Slot,
)
from PySide6.QtGui import QKeyEvent, QResizeEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QMenu,
    QPushButton,
    QSplitter,
    QTreeView,
    QVBoxLayout,
    QWidget,
)

from factor_desktop.domain.kinds import ENTITY_LABEL, QBO_ENTITY_FOR_KIND
from factor_desktop.ui.client_links import ClientLinks
from factor_desktop.ui.formatting import (
    datetime_text,
    money_text,
    sync_counts_text,
    total_money,
)
from factor_desktop.ui.invoice_actions import InvoiceActions
from factor_desktop.ui.jobs import JobRunner
from factor_desktop.ui.link_dialog import kind_of
from factor_desktop.ui.models import (
    ATTENTION,
    ERROR_COLOR,
    WARNING_COLOR,
    ClientProjectTreeModel,
    ExpenseTableModel,
    ExpenseTypeMappingModel,
    IdRole,
    InvoiceTableModel,
    MappingTableModel,
    QboCandidateModel,
    RowRole,
    RowTableModel,
    ServiceTypeMappingModel,
    SyncLogFilter,
    SyncLogTableModel,
    TaxTermMappingModel,
)
from factor_desktop.ui.receipts import PageCache, ReceiptDialog, ReceiptViewer
from factor_desktop.ui.tax_rule_dialog import TaxRuleDialog, rates_differ
from factor_desktop.ui.widgets import Banner, fit_columns, grow_columns, make_table, muted_label
from factor_desktop.views import ExpenseRow, InvoiceRow, LogRow, SyncRunRow

if TYPE_CHECKING:
    from factor_desktop.views import Snapshot


def _plural(count: int, word: str, plural: str | None = None) -> str:
    return f"{count} {word if count == 1 else (plural or word + 's')}"


class _Tab(QWidget):
    """A summary line above one view."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.summary = QLabel()
        self.summary.setTextFormat(Qt.TextFormat.PlainText)
        self.summary.setWordWrap(True)
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(12, 12, 12, 12)
        self._layout.setSpacing(8)
        self._layout.addWidget(self.summary)
        self._fitted = False

    def show_snapshot(self, snapshot: Snapshot) -> None:
        raise NotImplementedError


class ClientsTab(_Tab):
    """Clients and projects beside the QuickBooks customers; linked, unlinked or marked for
    creation by keyboard, by drag and drop or from suggestions (`links`, see client_links.py)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = ClientProjectTreeModel(self)
        self.view = QTreeView()
        self.view.setModel(self.model)
        self.view.setAlternatingRowColors(True)
        self.view.setUniformRowHeights(True)
        self.view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.view.header().setStretchLastSection(True)
        self.links = ClientLinks(self.model, self.view)
        self._layout.addWidget(self.links, 1)

    def attach_runner(self, runner: JobRunner) -> None:
        """Save link changes on this runner's worker thread."""
        self.links.attach_runner(runner)

    def open_link(self, kind: str, local_id: int) -> bool:
        """Select the client or project and open its QuickBooks chooser (from the Sync Log)."""
        if not self.links.select(kind, local_id):
            return False
        return self.links.open_link_dialog() is not None

    def show_snapshot(self, snapshot: Snapshot) -> None:
        clients = snapshot.clients
        current = self.links.current_item()
        if self.model.set_rows(clients):
            self.view.expandAll()
            if current is not None:
                self.links.select(kind_of(current), current.id)
        self.links.show_snapshot(snapshot)
        projects = [p for c in clients for p in c.projects]
        linked_clients = sum(1 for c in clients if c.qbo_id)
        linked_projects = sum(1 for p in projects if p.qbo_id)
        if not clients:
            self.summary.setText(
                "No clients yet. Import the firm's Factor records with File > Import…."
            )
        else:
            marked = len(snapshot.create_requests)
            self.summary.setText(
                f"{_plural(len(clients), 'client')} ({linked_clients} linked to QuickBooks "
                f"customers), {_plural(len(projects), 'project')} ({linked_projects} linked to "
                "sub-customers)"
                + (f"; {marked} to be created by the next sync." if marked else ".")
                + " Enter or double-click links the selected row; Ctrl+Z undoes."
            )
        if clients and not self._fitted:
            # A long client name is cut rather than the QuickBooks column pushed out of view.
            fit_columns(self.view, maximum=340)
            self._fitted = True


class _TableTab(_Tab):
    def __init__(
        self,
        model: RowTableModel[Any],
        stretch_columns: tuple[int, ...],
        placeholder: str,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.model = model
        model.setParent(self)
        self.view = make_table(model, stretch_columns, placeholder)
        self._layout.addWidget(self.view, 1)
        fit_columns(self.view)

    def _fit_once(self) -> None:
        """Fit the columns to the first rows; later the administrator's widths are kept."""
        if self.model.rowCount() and not self._fitted:
            fit_columns(self.view)
            self._fitted = True


class InvoicesTab(_TableTab):
    """The invoices, each with what holds it back from QuickBooks; below them the selected
    invoice's reason and actions (`invoice_actions`, see invoice_actions.py)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(
            InvoiceTableModel(),
            # None stretched: a narrow window scrolls sideways rather than cutting the project
            # and client to "…"; the last column (what needs attention) takes what is left.
            (),
            "Invoices drafted and finalized in Factor are listed here.",
            parent,
        )
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.view.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.invoice_actions = InvoiceActions()
        self._layout.addWidget(self.invoice_actions)
        self.view.selectionModel().currentRowChanged.connect(self._current_changed)
        self.view.customContextMenuRequested.connect(self._context_menu)

    NAME_WIDTH = 200

    def attach_runner(self, runner: JobRunner) -> None:
        self.invoice_actions.attach(runner)

    def current_invoice(self) -> InvoiceRow | None:
        row = self.view.currentIndex().data(RowRole)
        return row if isinstance(row, InvoiceRow) else None

    def select_invoice(self, invoice_id: int) -> bool:
        proxy = self.view.model()
        for row in range(proxy.rowCount()):
            index = proxy.index(row, 0)
            if index.data(IdRole) == invoice_id:
                self.view.setCurrentIndex(index)
                self.view.scrollTo(index)
                return True
        return False

    @Slot(QModelIndex, QModelIndex)
    def _current_changed(self, _current: QModelIndex, _previous: QModelIndex) -> None:
        self.invoice_actions.show_row(self.current_invoice())

    @Slot(QPoint)
    def _context_menu(self, pos: QPoint) -> None:
        index = self.view.indexAt(pos)
        row = index.data(RowRole) if index.isValid() else None
        if isinstance(row, InvoiceRow):
            self.view.setCurrentIndex(index)
            self.invoice_actions.popup_menu(row, self.view.viewport().mapToGlobal(pos))

    def show_snapshot(self, snapshot: Snapshot) -> None:
        invoices = snapshot.invoices
        chosen = self.current_invoice()
        self.invoice_actions.environment = snapshot.connection.environment
        if self.model.set_rows(invoices) and chosen is not None:
            self.select_invoice(chosen.id)
        self.invoice_actions.show_row(self.current_invoice())
        if not self._fitted:
            self._fit_once()
            # The project and client keep to a width that leaves the rest of the row in view;
            # the whole reason is shown below the table for the selected invoice.
            header = self.view.horizontalHeader()
            for column in (InvoiceTableModel.COL_PROJECT, InvoiceTableModel.COL_CLIENT):
                header.resizeSection(column, min(header.sectionSize(column), self.NAME_WIDTH))
        if not invoices:
            self.summary.setText("No invoices yet.")
            return
        drafts = sum(1 for i in invoices if i.status == "draft")
        issued = [i for i in invoices if i.status in ("final", "partially_paid", "paid")]
        open_balance = total_money(i.balance for i in issued)
        unsent = sum(1 for i in issued if not i.qbo_id)
        held = sum(1 for i in invoices if i.fix is not None)
        differ = sum(1 for i in invoices if i.mismatched)
        text = (
            f"{_plural(len(invoices), 'invoice')}: {_plural(len(issued), 'issued invoice')}, "
            f"{_plural(drafts, 'draft')}. Open balance {money_text(open_balance)}."
        )
        if unsent:
            text += f" {_plural(unsent, 'issued invoice')} not in QuickBooks yet"
            text += f" ({held} held back: select one to see why)." if held else "."
        if differ:
            text += f" {_plural(differ, 'invoice')} with a different total in QuickBooks."
        self.summary.setText(text)


class ExpensesTab(_TableTab):
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
        proxy = self.view.model()
        for row in range(proxy.rowCount()):
            index = proxy.index(row, 0)
            if index.data(IdRole) == expense_id:
                self.view.setCurrentIndex(index)
                self.view.scrollTo(index)
                return True
        return False

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
            f"{_plural(len(expenses), 'expense')} ({from_qbo} from QuickBooks): cost "
            f"{money_text(cost)}, billable {money_text(billable)}, "
            f"{_plural(len(files), 'receipt')}"
        )
        if waiting:
            text += f" ({waiting} not downloaded yet)"
        self.summary.setText(text + ". Select an expense to see its receipts.")


class SyncLogTab(_Tab):
    """Every record a sync touched; filtered by level and run; failed pushes can be retried."""

    retryRequested = Signal()
    # "client" or "project" and its id: an entry about a record not linked, double-clicked.
    linkRequested = Signal(str, int)

    LEVELS = (
        ("Needs attention", ATTENTION),
        ("Everything (history)", None),
        ("Errors", "error"),
        ("Warnings", "warning"),
    )

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = SyncLogTableModel(self)
        self.filter = SyncLogFilter(self)
        self.view = make_table(
            self.model,
            (SyncLogTableModel.COL_REASON,),
            "Each record a sync touches is listed here, with the reason when it could not "
            "go through.",
            proxy=self.filter,
        )
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        # The selected entry's whole reason, which the table cuts short.
        self.detail = QLabel()
        self.detail.setTextFormat(Qt.TextFormat.PlainText)
        self.detail.setWordWrap(True)
        self.detail.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.detail.hide()
        self.level_combo = QComboBox()
        for text, level in self.LEVELS:
            self.level_combo.addItem(text, level)
        self.run_combo = QComboBox()
        self.run_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.run_combo.addItem("All runs", None)
        self.retry_button = QPushButton("Retry blocked/failed")
        self.retry_button.setEnabled(False)
        controls = QHBoxLayout()
        controls.setSpacing(6)
        controls.addWidget(QLabel("Show:"))
        controls.addWidget(self.level_combo)
        controls.addSpacing(12)
        controls.addWidget(QLabel("Run:"))
        controls.addWidget(self.run_combo)
        controls.addStretch(1)
        controls.addWidget(self.retry_button)
        self._layout.addLayout(controls)
        self._layout.addWidget(self.view, 1)
        self._layout.addWidget(self.detail)
        fit_columns(self.view)
        self._problems = 0
        self._retry_allowed = False
        self._retry_reason = ""
        self.level_combo.currentIndexChanged.connect(self._filter_changed)
        self.run_combo.currentIndexChanged.connect(self._filter_changed)
        self._filter_changed(0)
        self.retry_button.clicked.connect(self.retryRequested)
        self.view.selectionModel().currentRowChanged.connect(self._show_detail)
        self.view.doubleClicked.connect(self._double_clicked)

    @staticmethod
    def linkable(row: object) -> bool:
        """An entry about a client or project, which the Clients & Projects tab can link."""
        return (
            isinstance(row, LogRow)
            and row.entity_kind in ("client", "project")
            and row.local_id is not None
        )

    @Slot(QModelIndex)
    def _double_clicked(self, index: QModelIndex) -> None:
        row = index.data(RowRole) if index.isValid() else None
        if isinstance(row, LogRow) and row.local_id is not None and self.linkable(row):
            self.linkRequested.emit(row.entity_kind, row.local_id)

    @Slot(int)
    def _filter_changed(self, _index: int) -> None:
        self.filter.set_level(self.level_combo.currentData())
        self.filter.set_run(self.run_combo.currentData())

    @Slot(QModelIndex, QModelIndex)
    def _show_detail(self, current: QModelIndex, _previous: QModelIndex) -> None:
        row = current.data(RowRole) if current.isValid() else None
        if not isinstance(row, LogRow) or not row.reason:
            self.detail.hide()
            return
        record = self.model.display(row, SyncLogTableModel.COL_RECORD)
        action = self.model.display(row, SyncLogTableModel.COL_ACTION)
        hint = " (Double-click to link it.)" if self.linkable(row) and row.level != "info" else ""
        self.detail.setText(f"{record} · {action}: {row.reason}{hint}")
        color = {"error": ERROR_COLOR, "warning": WARNING_COLOR}.get(row.level)
        self.detail.setStyleSheet(f"color: {color.name()};" if color is not None else "")
        self.detail.show()

    def set_level(self, level: str | None) -> None:
        self.level_combo.setCurrentIndex(max(0, self.level_combo.findData(level)))

    def set_run(self, run_id: int | None) -> None:
        self.run_combo.setCurrentIndex(max(0, self.run_combo.findData(run_id)))

    def set_retry_allowed(self, allowed: bool, reason: str = "") -> None:
        """Whether a sync may start now (connected, none running); `reason` says why not."""
        self._retry_allowed = allowed
        self._retry_reason = reason
        self._update_retry()

    def _update_retry(self) -> None:
        problems = self._problems
        self.retry_button.setText(
            f"Retry blocked/failed ({problems})" if problems else "Retry blocked/failed"
        )
        self.retry_button.setEnabled(bool(problems) and self._retry_allowed)
        if not problems:
            self.retry_button.setToolTip("No record is waiting after a failure.")
        elif not self._retry_allowed:
            self.retry_button.setToolTip(self._retry_reason)
        else:
            self.retry_button.setToolTip(
                f"Queue the {problems} record(s) that failed or were blocked again, and sync now."
            )

    def _show_runs(self, runs: tuple[SyncRunRow, ...]) -> None:
        chosen = self.run_combo.currentData()
        wanted = [(None, "All runs")] + [(run.id, _run_label(run)) for run in runs]
        present = [
            (self.run_combo.itemData(i), self.run_combo.itemText(i))
            for i in range(self.run_combo.count())
        ]
        if wanted == present:
            return
        self.run_combo.blockSignals(True)
        try:
            self.run_combo.clear()
            for run_id, text in wanted:
                self.run_combo.addItem(text, run_id)
            self.run_combo.setCurrentIndex(max(0, self.run_combo.findData(chosen)))
        finally:
            self.run_combo.blockSignals(False)
        self.filter.set_run(self.run_combo.currentData())

    def show_snapshot(self, snapshot: Snapshot) -> None:
        entries = snapshot.log
        if self.model.set_rows(entries):
            grow_columns(self.view)
        self._show_runs(snapshot.runs)
        self._problems = snapshot.outbox_problems
        self._update_retry()
        errors = sum(1 for e in entries if e.level == "error")
        warnings = sum(1 for e in entries if e.level == "warning")
        last = snapshot.last_sync
        if not entries and last is None:
            self.summary.setText("No sync has run yet.")
            return
        text = f"{_plural(len(entries), 'entry', 'entries')}"
        if errors or warnings:
            text += f", {_plural(errors, 'error')} and {_plural(warnings, 'warning')}"
        text += "."
        if last is not None:
            when = datetime_text(last.finished_at or last.started_at)
            text += f" Last sync: {last.status} at {when}."
            if last.error:
                text += f" {last.error}"
        if snapshot.outbox_problems:
            text += (
                f" {_plural(snapshot.outbox_problems, 'record')} failed or blocked, waiting "
                "for a retry."
            )
        self.summary.setText(text)


def _run_label(run: SyncRunRow) -> str:
    kind = {"preview": "preview", "full": "full sync"}.get(run.kind, "sync")
    text = f"{datetime_text(run.started_at)} · {kind} · {run.status}"
    counts = sync_counts_text(dict(run.counts), limit=2)
    return f"{text} ({counts})" if counts else text


# --- mappings ---------------------------------------------------------------------------------


class MappingSection(QGroupBox):
    """One kind of Factor type (a drop target) beside the QuickBooks records to drag onto it."""

    def __init__(
        self,
        model: MappingTableModel[Any],
        stretch_columns: tuple[int, ...],
        placeholder: str,
        candidates: QboCandidateModel,
        hint: str,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.model = model
        self.candidates = candidates
        self.view = make_table(model, stretch_columns, placeholder)
        self.view.setDragDropMode(QAbstractItemView.DragDropMode.DropOnly)
        self.view.setDragDropOverwriteMode(True)
        self.view.setDropIndicatorShown(True)
        self.view.setDefaultDropAction(Qt.DropAction.CopyAction)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.view.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.candidate_view = make_table(
            candidates,
            (QboCandidateModel.COL_NAME, QboCandidateModel.COL_USED_BY),
            "Nothing read from QuickBooks yet. Sync Now reads the company's lists.",
        )
        self.candidate_view.setDragDropMode(QAbstractItemView.DragDropMode.DragOnly)
        self.candidate_view.setDragEnabled(True)
        self.candidate_view.setDefaultDropAction(Qt.DropAction.CopyAction)
        self.candidate_view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.hint = muted_label(hint)
        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(0, 0, 0, 0)
        right_layout.setSpacing(4)
        right_layout.addWidget(self.hint)
        right_layout.addWidget(self.candidate_view, 1)
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.setChildrenCollapsible(False)
        splitter.addWidget(self.view)
        splitter.addWidget(right)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 2)
        splitter.setSizes([800, 400])
        inner = QVBoxLayout(self)
        inner.setContentsMargins(8, 8, 8, 8)
        inner.addWidget(splitter)

    def fit(self) -> None:
        fit_columns(self.view)


class MappingsTab(QWidget):
    """Service types, expense types and tax terms, mapped by dragging QuickBooks records on them.

    A drop or a clear is a request (`mappingRequested`, `clearRequested`) that the window's
    worker carries out; `show_result()` tells how it went, and the next snapshot shows it.
    """

    # kind, Factor type id, QuickBooks Id, QuickBooks entity
    mappingRequested = Signal(str, int, str, str)
    # kind, Factor type id
    clearRequested = Signal(str, int)
    # tax term id, QuickBooks tax code Id, rule ("override" or "accept"): a code of another rate
    taxMappingRequested = Signal(int, str, str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.service_model = ServiceTypeMappingModel(self)
        self.expense_model = ExpenseTypeMappingModel(self)
        self.tax_model = TaxTermMappingModel(self)
        self.item_candidates = QboCandidateModel(self)
        self.expense_candidates = QboCandidateModel(self, show_entity=True)
        self.tax_candidates = QboCandidateModel(self)
        self.service_section = MappingSection(
            self.service_model,
            (ServiceTypeMappingModel.COL_DESCRIPTION, ServiceTypeMappingModel.COL_ITEM),
            "No service types yet.",
            self.item_candidates,
            "Drag a product/service onto a service type:",
        )
        self.expense_section = MappingSection(
            self.expense_model,
            (ExpenseTypeMappingModel.COL_ACCOUNT, ExpenseTypeMappingModel.COL_ITEM),
            "No expense types yet.",
            self.expense_candidates,
            "Drag an account or product/service onto an expense type:",
        )
        self.tax_section = MappingSection(
            self.tax_model,
            (TaxTermMappingModel.COL_TAX_CODE,),
            "No tax terms yet.",
            self.tax_candidates,
            "Drag a tax code onto a tax term:",
        )
        self.sections = (self.service_section, self.expense_section, self.tax_section)
        self.service_view, self.expense_view, self.tax_view = (s.view for s in self.sections)
        self.service_box, self.expense_box, self.tax_box = self.sections

        self.message_bar = Banner("info")
        dismiss = self.message_bar.add_button("Dismiss")
        dismiss.clicked.connect(self.message_bar.clear)
        self.coverage_label = QLabel()
        self.coverage_label.setTextFormat(Qt.TextFormat.PlainText)
        self.coverage_label.setWordWrap(True)

        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.setChildrenCollapsible(False)
        for section in self.sections:
            splitter.addWidget(section)
        splitter.setSizes([260, 300, 180])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 12, 12, 12)
        layout.setSpacing(8)
        layout.addWidget(self.message_bar)
        # The count of what is mapped, and room at its right for the suggestions' button.
        self.header = QHBoxLayout()
        self.header.addWidget(self.coverage_label, 1)
        layout.addLayout(self.header)
        layout.addWidget(
            muted_label(
                "Drag a QuickBooks record from a list on the right onto a Factor type to map it; "
                "Delete (or right-click) clears a mapping. Unmapped types, in orange, hold back "
                "the invoices and expenses that use them."
            )
        )
        layout.addWidget(splitter, 1)
        self._fitted = False

        for section in self.sections:
            if section is self.tax_section:
                # A code of another rate asks how to reconcile before anything is requested.
                section.model.mappingRequested.connect(self._tax_code_dropped)
            else:
                section.model.mappingRequested.connect(self.mappingRequested)
            section.model.dropRefused.connect(self._drop_refused)
            section.view.installEventFilter(self)
            section.view.customContextMenuRequested.connect(self._context_menu)
        self.context_menu: QMenu | None = None
        self.tax_rule_dialog: TaxRuleDialog | None = None

    # -- results ----------------------------------------------------------------------------

    def show_result(self, ok: bool, message: str) -> None:
        """How a mapping request went: saved (info) or refused, with the reason."""
        if ok:
            self.message_bar.show_message("Mapping saved", message, "info")
        else:
            self.message_bar.show_message("The mapping was refused", message, "error")

    @Slot(str)
    def _drop_refused(self, message: str) -> None:
        self.show_result(False, message)

    @Slot(str, int, str, str)
    def _tax_code_dropped(self, kind: str, local_id: int, qbo_id: str, entity: str) -> None:
        """A record dropped on a tax term: a code of the term's rate is requested at once; one of
        another rate (or of a rate not known) first asks how to reconcile (`TaxRuleDialog`)."""
        term = next((r for r in self.tax_model.rows() if r.id == local_id), None)
        code = next(
            (c for c in self.tax_candidates.rows() if (c.entity, c.qbo_id) == (entity, qbo_id)),
            None,
        )
        if term is None or code is None or not rates_differ(term.rate_percent, code.rate):
            self.mappingRequested.emit(kind, local_id, qbo_id, entity)
            return
        if self.tax_rule_dialog is not None:
            self.tax_rule_dialog.deleteLater()
        dialog = TaxRuleDialog(
            f"{term.code} ({term.name})", term.rate_percent, code.name, code.rate, self
        )
        dialog.accepted.connect(
            lambda: self.taxMappingRequested.emit(local_id, qbo_id, dialog.rule())
        )
        dialog.rejected.connect(
            lambda: self.message_bar.show_message(
                "Not mapped", f"The tax term {term.code} was left as it was.", "info"
            )
        )
        self.tax_rule_dialog = dialog
        dialog.open()

    # -- clearing ---------------------------------------------------------------------------

    def _section_of(self, view: QObject) -> MappingSection | None:
        return next((s for s in self.sections if s.view is view), None)

    def clear_at(self, section: MappingSection, proxy_index: Any) -> list[tuple[str, int]]:
        """Ask to clear the mappings of the row at `proxy_index` shown in its column."""
        proxy = section.view.model()
        if not proxy_index.isValid() or not isinstance(proxy, QSortFilterProxyModel):
            return []
        source = proxy.mapToSource(proxy_index)
        row = section.model.row_at(source.row())
        kinds = [
            k
            for k in section.model.mapping_kinds(source.column())
            if section.model.mapped(row, k) is not None
        ]
        if not kinds:
            self.message_bar.show_message(
                "Nothing to clear", "That Factor type is not mapped there.", "info"
            )
            return []
        requests = [(kind, section.model.row_id(row)) for kind in kinds]
        for kind, local_id in requests:
            self.clearRequested.emit(kind, local_id)
        return requests

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        section = self._section_of(watched)
        if (
            section is not None
            and event.type() == QEvent.Type.KeyPress
            and isinstance(event, QKeyEvent)
            and event.key() in (Qt.Key.Key_Delete, Qt.Key.Key_Backspace)
        ):
            self.clear_at(section, section.view.currentIndex())
            return True
        return super().eventFilter(watched, event)

    @Slot(QPoint)
    def _context_menu(self, pos: QPoint) -> None:
        section = self._section_of(self.sender())
        if section is None:
            return
        index = section.view.indexAt(pos)
        if not index.isValid():
            return
        menu = self.build_context_menu(section, index)
        menu.popup(section.view.viewport().mapToGlobal(pos))

    def build_context_menu(self, section: MappingSection, proxy_index: Any) -> QMenu:
        """The row's menu: one "Clear" per mapping the row can have, enabled when it has it."""
        proxy = section.view.model()
        assert isinstance(proxy, QSortFilterProxyModel)
        source = proxy.mapToSource(proxy_index)
        row = section.model.row_at(source.row())
        local_id = section.model.row_id(row)
        if self.context_menu is not None:
            self.context_menu.deleteLater()
        menu = QMenu(self)
        for kind in section.model.mapping_kinds(-1):
            label = ENTITY_LABEL[QBO_ENTITY_FOR_KIND[kind]]
            action = menu.addAction(f"Clear the QuickBooks {label}")
            action.setEnabled(section.model.mapped(row, kind) is not None)
            action.triggered.connect(self._clear_action(kind, local_id))
        self.context_menu = menu
        return menu

    def _clear_action(self, kind: str, local_id: int) -> Any:
        def clear() -> None:
            # A QAction's own signal, in the GUI thread.
            self.clearRequested.emit(kind, local_id)

        return clear

    # -- the snapshot -----------------------------------------------------------------------

    def show_snapshot(self, snapshot: Snapshot) -> None:
        self.service_model.set_rows(snapshot.service_types)
        self.expense_model.set_rows(snapshot.expense_types)
        self.tax_model.set_rows(snapshot.tax_terms)
        found = snapshot.candidates
        for section, rows in zip(
            self.sections,
            (found.items, found.expense_accounts + found.items, found.tax_codes),
            strict=True,
        ):
            if section.candidates.set_rows(rows):
                grow_columns(section.candidate_view, maximum=160)
        titles = (
            ("service_type", "Service types → QuickBooks products/services"),
            ("expense_type", "Expense types → QuickBooks accounts"),
            ("tax_term", "Tax terms → QuickBooks tax codes"),
        )
        parts: list[str] = []
        for section, (kind, title) in zip(self.sections, titles, strict=True):
            mapped, total = snapshot.coverage_of(kind)
            section.setTitle(f"{title} ({mapped} of {total} mapped)")
            parts.append(f"{mapped} of {total}")
        ast = {
            None: "",
            False: " (Automated Sales Tax is off in QuickBooks)",
            True: " (Automated Sales Tax is on in QuickBooks: it computes tax itself unless "
            "Factor's amount is sent)",
        }[found.automated_sales_tax]
        self.tax_section.hint.setText(f"Drag a tax code onto a tax term:{ast}")
        complete = all(m == t for _k, m, t in snapshot.coverage)
        self.coverage_label.setText(
            f"Mapped: {parts[0]} service types, {parts[1]} expense types, {parts[2]} tax terms."
            + (" Everything in use is mapped." if complete else "")
        )
        if not self._fitted and (
            snapshot.service_types or snapshot.expense_types or snapshot.tax_terms
        ):
            for section in self.sections:
                section.fit()
            self._fitted = True
