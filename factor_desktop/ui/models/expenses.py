"""The Expenses tab's table: each expense, its markup, where it came from, its receipts."""

from __future__ import annotations

from typing import Any

from PySide6.QtGui import QColor

from factor_desktop.ui.colors import ERROR_COLOR, MUTED_COLOR
from factor_desktop.ui.formatting import date_text, money_text, percent_text
from factor_desktop.ui.models.base import RowTableModel, cents, percent_key
from factor_desktop.views import ExpenseRow

SOURCES = {"qbo": "QuickBooks", "factor": "Factor"}


class ExpenseTableModel(RowTableModel[ExpenseRow]):
    COL_DATE = 0
    COL_PROJECT = 1
    COL_TYPE = 2
    COL_VENDOR = 3
    COL_COST = 4
    COL_MARKUP = 5
    COL_BILLABLE = 6
    COL_SOURCE = 7
    COL_RECEIPTS = 8
    HEADERS = (
        "Date",
        "Project",
        "Type",
        "Vendor",
        "Cost",
        "Markup",
        "Billable",
        "Source",
        "Receipts",
    )
    MONEY_COLUMNS = frozenset({COL_COST, COL_BILLABLE})
    NUMBER_COLUMNS = frozenset({COL_MARKUP, COL_RECEIPTS})

    def display(self, row: ExpenseRow, column: int) -> str:
        if column == self.COL_DATE:
            return date_text(row.incurred_on)
        if column == self.COL_PROJECT:
            return f"{row.project_number} {row.project_name}"
        if column == self.COL_TYPE:
            return row.type_name or "Unassigned"
        if column == self.COL_VENDOR:
            return row.vendor or ""
        if column == self.COL_COST:
            return money_text(row.cost)
        if column == self.COL_MARKUP:
            return percent_text(row.markup_percent, none="At cost")
        if column == self.COL_BILLABLE:
            return money_text(row.billable_amount) if row.billable else "Not billable"
        if column == self.COL_SOURCE:
            source = SOURCES.get(row.source, row.source)
            if row.qbo_txn_type:
                source = f"{source} {row.qbo_txn_type}"
            return f"{source} (deleted there)" if row.deleted_in_qbo else source
        if column == self.COL_RECEIPTS:
            return str(row.receipts) if row.receipts else ""
        return ""

    def sort_key(self, row: ExpenseRow, column: int) -> Any:
        if column == self.COL_DATE:
            return row.incurred_on.isoformat()
        if column == self.COL_COST:
            return cents(row.cost)
        if column == self.COL_MARKUP:
            return percent_key(row.markup_percent)
        if column == self.COL_BILLABLE:
            return cents(row.billable_amount) if row.billable else -1
        if column == self.COL_RECEIPTS:
            return row.receipts
        return super().sort_key(row, column)

    def foreground(self, row: ExpenseRow, column: int) -> QColor | None:
        if row.deleted_in_qbo:
            return ERROR_COLOR
        if (column == self.COL_BILLABLE and not row.billable) or (
            column == self.COL_TYPE and row.type_name is None
        ):
            return MUTED_COLOR
        return None

    def tooltip(self, row: ExpenseRow, column: int) -> str | None:
        return row.description or None
