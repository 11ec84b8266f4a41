"""The Invoices tab: the invoices, and the selected invoice's reason and actions below them."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QModelIndex, QPoint, Qt, Slot
from PySide6.QtWidgets import QAbstractItemView, QWidget

from factor_desktop.ui.formatting import money_text, total_money
from factor_desktop.ui.invoice_actions import InvoiceActions
from factor_desktop.ui.jobs import JobRunner
from factor_desktop.ui.models.base import RowRole
from factor_desktop.ui.models.invoices import InvoiceTableModel
from factor_desktop.ui.tabs.base import TableTab, plural
from factor_desktop.views import InvoiceRow

if TYPE_CHECKING:
    from factor_desktop.views import Snapshot


class InvoicesTab(TableTab):
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
        return self.select_id(invoice_id)

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
            f"{plural(len(invoices), 'invoice')}: {plural(len(issued), 'issued invoice')}, "
            f"{plural(drafts, 'draft')}. Open balance {money_text(open_balance)}."
        )
        if unsent:
            text += f" {plural(unsent, 'issued invoice')} not in QuickBooks yet"
            text += f" ({held} held back: select one to see why)." if held else "."
        if differ:
            text += f" {plural(differ, 'invoice')} with a different total in QuickBooks."
        self.summary.setText(text)
