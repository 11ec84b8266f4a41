"""An invoice's balance in QuickBooks against the balance Factor expects of it.

Factor expects an invoice's balance to be its total less the payments it has received from
QuickBooks for it. QuickBooks' Balance is its own total less everything applied to the invoice
there: payments, and credits Factor does not receive (a credit memo, a journal entry). So the two
are compared by what each counts as paid: a difference there is a payment or credit one side has
and the other has not (a changed total is reported on its own, see `invoices.py`). The invoice's
`LinkedTxn` says which: a credit applied in QuickBooks, a payment Factor has not received yet, a
payment Factor counts that QuickBooks no longer applies to the invoice; otherwise a change made
in QuickBooks.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from factor_desktop.domain.money import format_money
from factor_desktop.qbo.client import JsonDict
from factor_desktop.store.models import Invoice, Payment, PaymentApplication

__all__ = ["BalanceMismatch", "balance_mismatch"]

#: Transactions QuickBooks applies to an invoice as credit, which Factor does not receive.
_CREDITS = {"CreditMemo": "credit memo", "JournalEntry": "journal entry", "Deposit": "deposit"}


@dataclass(frozen=True)
class BalanceMismatch:
    """QuickBooks' balance is not the one Factor expects, and why."""

    qbo_balance: Decimal
    expected: Decimal
    # "credit", "not_received", "unapplied" or "changed" (a change made in QuickBooks).
    cause: str
    reason: str


def _links(row: JsonDict) -> list[tuple[str, str]]:
    links = row.get("LinkedTxn")
    return [
        (str(link.get("TxnType")), str(link.get("TxnId")))
        for link in (links if isinstance(links, list) else [])
        if isinstance(link, dict) and link.get("TxnId") is not None
    ]


def _ids(kind: str, ids: Iterable[str]) -> str:
    listed = sorted(set(ids), key=lambda i: (len(i), i))
    return f"{kind}{'s' if len(listed) > 1 else ''} Id {', '.join(listed)}"


def _received(session: Session, invoice: Invoice) -> set[str]:
    """The QuickBooks payments Factor counts against the invoice."""
    return set(
        session.scalars(
            select(Payment.qbo_id)
            .join(PaymentApplication, PaymentApplication.payment_id == Payment.id)
            .where(
                PaymentApplication.invoice_id == invoice.id,
                Payment.voided.is_(False),
                Payment.qbo_id.is_not(None),
            )
        )
    )


def balance_mismatch(
    session: Session, invoice: Invoice, row: JsonDict, qbo_total: Decimal, qbo_balance: Decimal
) -> BalanceMismatch | None:
    """How QuickBooks' balance of the invoice differs from Factor's expectation (`invoice.balance`
    as recomputed from the payments Factor has), or None when they agree."""
    expected = invoice.balance
    paid_here = invoice.total - expected
    paid_there = qbo_total - qbo_balance
    if paid_here == paid_there:
        return None
    links = _links(row)
    received = _received(session, invoice)
    if paid_there > paid_here:
        credits = [(kind, txn) for kind, txn in links if kind in _CREDITS]
        unseen = [txn for kind, txn in links if kind == "Payment" and txn not in received]
        if credits:
            cause = "credit"
            kinds = sorted({kind for kind, _ in credits})
            why = (
                " and ".join(_ids(_CREDITS[k], (t for c, t in credits if c == k)) for k in kinds)
                + " applied to it in QuickBooks, which Factor does not receive. Factor shows "
                "QuickBooks' balance; review the credit in QuickBooks if it is not meant for "
                "this invoice."
            )
        elif unseen:
            cause = "not_received"
            why = (
                f"{_ids('payment', unseen)} applied to it in QuickBooks, which Factor has not "
                "received yet. It is read on the next sync; the sync log says if it can't be."
            )
        else:
            cause = "changed"
            why = "a change made in QuickBooks. Review the invoice's payments there."
    else:
        gone = received - {txn for kind, txn in links if kind == "Payment"}
        if gone:
            cause = "unapplied"
            why = (
                f"{_ids('payment', gone)}, which Factor counts against it, no longer applied to "
                "it in QuickBooks. Factor reads that payment's change on the next sync."
            )
        else:
            cause = "changed"
            why = "a change made in QuickBooks. Review the invoice's payments there."
    reason = (
        f"QuickBooks shows a balance of {format_money(qbo_balance)} on invoice {invoice.number}; "
        f"Factor expects {format_money(expected)} from the payments it has received "
        f"({format_money(paid_there)} paid or credited in QuickBooks, {format_money(paid_here)} "
        f"in Factor). The difference is {why}"
    )
    return BalanceMismatch(qbo_balance, expected, cause, reason)
