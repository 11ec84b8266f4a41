"""The life of an invoice: its statuses."""

from __future__ import annotations

from enum import StrEnum


class InvoiceStatus(StrEnum):
    """Where an invoice is in its life. The values are what the store saves.

    DRAFT is editable and deletable and has no number yet. FINAL, PARTIALLY_PAID and PAID are
    issued: numbered, locked, and moved between each other only by payments (the status follows
    the balance). VOID is the end: kept for the record, never changed again.
    """

    DRAFT = "draft"
    FINAL = "final"
    PARTIALLY_PAID = "partially_paid"
    PAID = "paid"
    VOID = "void"

    @property
    def is_issued(self) -> bool:
        """True for finalized invoices that count as billed: final, partially paid or paid."""
        return self in _ISSUED

    @property
    def label(self) -> str:
        """The status as shown to people: "Draft", "Final", "Partially paid", "Paid", "Void"."""
        return self.value.replace("_", " ").capitalize()


_ISSUED = frozenset({InvoiceStatus.FINAL, InvoiceStatus.PARTIALLY_PAID, InvoiceStatus.PAID})
