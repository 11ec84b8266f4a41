"""The Invoices tab's table: each invoice, where it stands with QuickBooks and why."""

from __future__ import annotations

from typing import Any

from PySide6.QtGui import QColor, QFont

from factor_desktop.ui.colors import ERROR_COLOR, MUTED_COLOR, WARNING_COLOR
from factor_desktop.ui.formatting import date_text, invoice_status_label, money_text
from factor_desktop.ui.models.base import RowTableModel, cents
from factor_desktop.views import InvoiceRow


def _italic() -> QFont:
    font = QFont()
    font.setItalic(True)
    return font


INVOICE_QBO_STATES = {
    "pending": "Not sent yet",
    "blocked": "Blocked",
    "failed": "Failed",
}


def invoice_attention(row: InvoiceRow) -> str:
    """What stands between an invoice and QuickBooks, or what differs there, in a sentence."""
    parts: list[str] = []
    if row.blocked_reason and not row.qbo_id:
        parts.append(row.blocked_reason)
    elif row.outbox_status == "pending" and not row.qbo_id:
        parts.append("Goes to QuickBooks with the next sync.")
    if row.mismatched:
        if row.qbo_total is not None:
            parts.append(
                f"QuickBooks' total {money_text(row.qbo_total)} differs from Factor's "
                f"{money_text(row.total)}."
            )
        if row.mismatch_reason:
            parts.append(row.mismatch_reason)
    return " ".join(parts)


class InvoiceTableModel(RowTableModel[InvoiceRow]):
    # Where the invoice stands with QuickBooks comes right after its status, so a narrow
    # window still shows it; what needs attention, in words, comes last and takes the rest.
    COL_NUMBER = 0
    COL_PROJECT = 1
    COL_CLIENT = 2
    COL_STATUS = 3
    COL_QBO = 4
    COL_ISSUED = 5
    COL_DUE = 6
    COL_TOTAL = 7
    COL_BALANCE = 8
    COL_ATTENTION = 9
    HEADERS = (
        "Number",
        "Project",
        "Client",
        "Status",
        "QuickBooks",
        "Issued",
        "Due",
        "Total",
        "Balance",
        "Needs attention",
    )
    MONEY_COLUMNS = frozenset({COL_TOTAL, COL_BALANCE})

    def display(self, row: InvoiceRow, column: int) -> str:
        if column == self.COL_NUMBER:
            return row.number or "Draft"
        if column == self.COL_PROJECT:
            return f"{row.project_number} {row.project_name}"
        if column == self.COL_CLIENT:
            return row.client_name
        if column == self.COL_STATUS:
            return invoice_status_label(row.status)
        if column == self.COL_ISSUED:
            return date_text(row.issue_date)
        if column == self.COL_DUE:
            return date_text(row.due_date)
        if column == self.COL_TOTAL:
            return money_text(row.total)
        if column == self.COL_BALANCE:
            return money_text(row.balance)
        if column == self.COL_QBO:
            if row.qbo_id:
                balance = row.qbo_total is None and row.qbo_balance is not None
                differs = "balance" if balance else "total"
                return f"Id {row.qbo_id}" + (f" ⚠ {differs} differs" if row.mismatched else "")
            if row.status == "draft":
                return ""
            return INVOICE_QBO_STATES.get(row.outbox_status or "", "Not sent yet")
        if column == self.COL_ATTENTION:
            return invoice_attention(row)
        return ""

    def sort_key(self, row: InvoiceRow, column: int) -> Any:
        if column == self.COL_NUMBER:
            return row.number or ""
        if column == self.COL_ISSUED:
            return row.issue_date.isoformat()
        if column == self.COL_DUE:
            return row.due_date.isoformat() if row.due_date else ""
        if column == self.COL_TOTAL:
            return cents(row.total)
        if column == self.COL_BALANCE:
            return cents(row.balance)
        if column == self.COL_QBO:
            return int(row.qbo_id) if row.qbo_id and row.qbo_id.isdigit() else -1
        return super().sort_key(row, column)

    def foreground(self, row: InvoiceRow, column: int) -> QColor | None:
        if column in (self.COL_QBO, self.COL_ATTENTION):
            if row.fix is not None:
                return ERROR_COLOR
            if row.mismatched or (not row.qbo_id and row.status not in ("draft", "void")):
                return WARNING_COLOR
        if row.status in ("draft", "void"):
            return MUTED_COLOR
        return None

    def tooltip(self, row: InvoiceRow, column: int) -> str | None:
        if column in (self.COL_QBO, self.COL_ATTENTION):
            return invoice_attention(row) or None
        return None

    def font(self, row: InvoiceRow, column: int) -> QFont | None:
        if column == self.COL_NUMBER and row.number is None:
            return _italic()
        return None
