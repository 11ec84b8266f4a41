"""The record tabs: Clients & Projects, Mappings, Invoices, Expenses and the Sync Log.

Each tab is handed the rows of a new snapshot through `show_snapshot()` and passes them to its
models' `set_rows()`; nothing here reads the store.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QGroupBox,
    QLabel,
    QSplitter,
    QTableView,
    QTreeView,
    QVBoxLayout,
    QWidget,
)

from factor_desktop.domain.money import sum_money
from factor_desktop.ui.formatting import datetime_text, money_text
from factor_desktop.ui.models import (
    ClientProjectTreeModel,
    ExpenseTableModel,
    ExpenseTypeMappingModel,
    InvoiceTableModel,
    RowTableModel,
    ServiceTypeMappingModel,
    SyncLogTableModel,
    TaxTermMappingModel,
    mapped_count,
)
from factor_desktop.ui.snapshot import Snapshot
from factor_desktop.ui.widgets import fit_columns, make_table, muted_label


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
        self._layout.addWidget(self.view, 1)

    def show_snapshot(self, snapshot: Snapshot) -> None:
        clients = snapshot.clients
        if self.model.set_rows(clients):
            self.view.expandAll()
        projects = [p for c in clients for p in c.projects]
        linked_clients = sum(1 for c in clients if c.qbo_id)
        linked_projects = sum(1 for p in projects if p.qbo_id)
        if not clients:
            self.summary.setText(
                "No clients yet. Import the firm's Factor records with "
                "`factor-desktop import FILE`."
            )
        else:
            self.summary.setText(
                f"{_plural(len(clients), 'client')} ({linked_clients} linked to QuickBooks "
                f"customers), {_plural(len(projects), 'project')} ({linked_projects} linked to "
                "sub-customers)."
            )
        if clients and not self._fitted:
            fit_columns(self.view, maximum=600)
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
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(
            InvoiceTableModel(),
            (InvoiceTableModel.COL_PROJECT, InvoiceTableModel.COL_CLIENT),
            "Invoices drafted and finalized in Factor are listed here.",
            parent,
        )

    def show_snapshot(self, snapshot: Snapshot) -> None:
        invoices = snapshot.invoices
        self.model.set_rows(invoices)
        self._fit_once()
        if not invoices:
            self.summary.setText("No invoices yet.")
            return
        drafts = sum(1 for i in invoices if i.status == "draft")
        issued = [i for i in invoices if i.status in ("final", "partially_paid", "paid")]
        open_balance = sum_money(i.balance for i in issued) if issued else Decimal("0.00")
        unsent = sum(1 for i in issued if not i.qbo_id)
        text = (
            f"{_plural(len(invoices), 'invoice')}: {_plural(len(issued), 'issued invoice')}, "
            f"{_plural(drafts, 'draft')}. Open balance {money_text(open_balance)}."
        )
        if unsent:
            text += f" {_plural(unsent, 'issued invoice')} not in QuickBooks yet."
        self.summary.setText(text)


class ExpensesTab(_TableTab):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(
            ExpenseTableModel(),
            (ExpenseTableModel.COL_PROJECT, ExpenseTableModel.COL_VENDOR),
            "Expenses booked in QuickBooks against a linked project arrive here with each "
            "sync, with the firm's markup applied and their receipts.",
            parent,
        )

    def show_snapshot(self, snapshot: Snapshot) -> None:
        expenses = snapshot.expenses
        self.model.set_rows(expenses)
        self._fit_once()
        if not expenses:
            self.summary.setText("No expenses yet.")
            return
        cost = sum_money(e.cost for e in expenses)
        billable = sum_money(e.billable_amount for e in expenses if e.billable)
        from_qbo = sum(1 for e in expenses if e.source == "qbo")
        receipts = sum(e.receipts for e in expenses)
        self.summary.setText(
            f"{_plural(len(expenses), 'expense')} ({from_qbo} from QuickBooks): cost "
            f"{money_text(cost)}, billable {money_text(billable)}, "
            f"{_plural(receipts, 'receipt')}."
        )


class SyncLogTab(_TableTab):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(
            SyncLogTableModel(),
            (SyncLogTableModel.COL_RECORD, SyncLogTableModel.COL_REASON),
            "Each record a sync touches is listed here, with the reason when it could not "
            "go through.",
            parent,
        )

    def show_snapshot(self, snapshot: Snapshot) -> None:
        entries = snapshot.log
        self.model.set_rows(entries)
        self._fit_once()
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
        self.summary.setText(text)


class MappingsTab(QWidget):
    """Service types, expense types and tax terms with the QuickBooks records they stand for."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.service_model = ServiceTypeMappingModel(self)
        self.expense_model = ExpenseTypeMappingModel(self)
        self.tax_model = TaxTermMappingModel(self)
        self.service_view = make_table(
            self.service_model,
            (ServiceTypeMappingModel.COL_DESCRIPTION, ServiceTypeMappingModel.COL_ITEM),
            "No service types yet.",
        )
        self.expense_view = make_table(
            self.expense_model,
            (ExpenseTypeMappingModel.COL_ACCOUNT, ExpenseTypeMappingModel.COL_ITEM),
            "No expense types yet.",
        )
        self.tax_view = make_table(
            self.tax_model, (TaxTermMappingModel.COL_TAX_CODE,), "No tax terms yet."
        )
        self.service_box, self.expense_box, self.tax_box = (
            self._box(self.service_view),
            self._box(self.expense_view),
            self._box(self.tax_view),
        )
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.setChildrenCollapsible(False)
        for box in (self.service_box, self.expense_box, self.tax_box):
            splitter.addWidget(box)
        splitter.setSizes([260, 300, 180])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 12, 12, 12)
        layout.setSpacing(8)
        layout.addWidget(
            muted_label(
                "Each Factor type is sent to QuickBooks as the record it is mapped to. "
                "Unmapped types hold back the invoices and expenses that use them."
            )
        )
        layout.addWidget(splitter, 1)
        self._fitted = False

    @staticmethod
    def _box(view: QTableView) -> QGroupBox:
        box = QGroupBox()
        inner = QVBoxLayout(box)
        inner.setContentsMargins(8, 8, 8, 8)
        inner.addWidget(view)
        return box

    def show_snapshot(self, snapshot: Snapshot) -> None:
        self.service_model.set_rows(snapshot.service_types)
        self.expense_model.set_rows(snapshot.expense_types)
        self.tax_model.set_rows(snapshot.tax_terms)
        services, expenses, taxes = (
            snapshot.service_types,
            snapshot.expense_types,
            snapshot.tax_terms,
        )
        self.service_box.setTitle(
            f"Service types → QuickBooks products/services "
            f"({mapped_count(services, 'item')} of {len(services)} mapped)"
        )
        self.expense_box.setTitle(
            f"Expense types → QuickBooks accounts "
            f"({mapped_count(expenses, 'account')} of {len(expenses)} mapped)"
        )
        self.tax_box.setTitle(
            f"Tax terms → QuickBooks tax codes "
            f"({mapped_count(taxes, 'tax_code')} of {len(taxes)} mapped)"
        )
        if not self._fitted and (services or expenses or taxes):
            for view in (self.service_view, self.expense_view, self.tax_view):
                fit_columns(view)
            self._fitted = True
