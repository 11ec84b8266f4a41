"""QuickBooks' balance of an invoice against Factor's total less the payments Factor has: a
difference is flagged once as mismatched with its cause, and resolved when they agree again.

Against the local QuickBooks sandbox over real HTTP. "Applied alone" applies the invoice's
change without the payments' that came with it, as a pass does when a payment could not be read.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from factor_desktop.domain.money import format_money
from factor_desktop.qbo.client import JsonDict
from factor_desktop.secrets import TokenStore
from factor_desktop.store.models import Invoice, Payment, SyncLogEntry
from factor_desktop.sync.context import SyncContext
from factor_desktop.sync.pull import pull_changes
from factor_desktop.sync.pull.balances import balance_mismatch
from factor_desktop.sync.pull.core import PullPass
from factor_desktop.sync.pull.invoices import apply_invoice
from factor_desktop.views import load_snapshot
from tests.sync.push_fixtures import Rig, rig

__all__ = ["rig"]


def _sent(rig: Rig) -> tuple[Invoice, JsonDict]:
    """An invoice created in QuickBooks by a sync, and a first pull after it."""
    firm = rig.build_firm()
    rig.map_all(firm)
    invoice = rig.invoice(firm)
    rig.sync()
    _pull(rig)
    rig.session.expire_all()
    sent = rig.session.get(Invoice, invoice.id)
    assert sent is not None and sent.qbo_id is not None
    rig.sandbox.advance_clock(60)
    return sent, rig.client.read("Invoice", sent.qbo_id)


def _pull(rig: Rig) -> SyncContext:
    ctx = rig.context()
    pull_changes(ctx)
    rig.session.commit()
    return ctx


def _applied_alone(rig: Rig, qbo_id: str) -> SyncContext:
    ctx = rig.context()
    apply_invoice(PullPass(ctx), rig.client.read("Invoice", qbo_id))
    rig.session.commit()
    return ctx


def _payment(rig: Rig, qbo: JsonDict, total: str, applied: str | None, **known: Any) -> JsonDict:
    lines = []
    if applied is not None:
        lines = [{"Amount": applied, "LinkedTxn": [{"TxnId": qbo["Id"], "TxnType": "Invoice"}]}]
    body = {"CustomerRef": qbo["CustomerRef"], "TotalAmt": total, "Line": lines, **known}
    if "Id" in known:
        return rig.client.update("Payment", body)
    return rig.client.create("Payment", {**body, "PaymentRefNum": "CHK-7001"})


def _mismatches(rig: Rig, ctx: SyncContext) -> list[SyncLogEntry]:
    return rig.entries(ctx, entity_kind="invoice", action="mismatched")


def _entry(rig: Rig, entry_id: int) -> SyncLogEntry:
    rig.session.expire_all()
    entry = rig.session.get(SyncLogEntry, entry_id)
    assert entry is not None
    return entry


def test_a_payment_applied_partially_that_factor_has_not_received(rig: Rig) -> None:
    invoice, qbo = _sent(rig)
    total = invoice.total
    payment = _payment(rig, qbo, "500.00", "300.00")
    assert payment["UnappliedAmt"] == 200  # the rest stays a credit on the customer's account

    ctx = _applied_alone(rig, qbo["Id"])
    [entry] = _mismatches(rig, ctx)
    assert entry.direction == "pull" and entry.current_state == "mismatched"
    assert entry.reason == (
        f"QuickBooks shows a balance of {format_money(total - 300)} on invoice INV-0001; Factor "
        f"expects {format_money(total)} from the payments it has received ($300.00 paid or "
        f"credited in QuickBooks, $0.00 in Factor). The difference is payment Id "
        f"{payment['Id']} applied to it in QuickBooks, which Factor has not received yet. It is "
        "read on the next sync; the sync log says if it can't be."
    )
    assert (entry.detail or {})["cause"] == "not_received"
    assert ctx.attention == 1

    # On the invoice row: QuickBooks' balance, and why.
    [row] = load_snapshot(rig.store, TokenStore("firm")).invoices
    assert row.qbo_balance == total - 300 and row.qbo_total is None
    assert row.mismatched and row.mismatch_reason == entry.reason

    # Unchanged: not logged or counted again, and still needs attention.
    again = _applied_alone(rig, qbo["Id"])
    assert _mismatches(rig, again) == [] and again.counts.get("mismatched", 0) == 0
    assert again.attention == 1

    # The next sync receives the payment (only its applied part counts): they agree again.
    pull = _pull(rig)
    assert _mismatches(rig, pull) == []
    assert _entry(rig, entry.id).current_state == "resolved"
    stored = rig.session.get(Invoice, invoice.id)
    assert stored is not None and stored.balance == total - 300
    [received] = rig.session.query(Payment).all()
    assert (received.amount, received.unapplied) == (Decimal("500.00"), Decimal("200.00"))
    [row] = load_snapshot(rig.store, TokenStore("firm")).invoices
    assert row.qbo_balance is None and not row.mismatched


def test_an_unapplied_credit_is_not_the_invoices_until_applied_to_it(rig: Rig) -> None:
    invoice, qbo = _sent(rig)
    total = invoice.total

    # A credit on the customer's account, applied to nothing: the invoice's balance is whole.
    credit = _payment(rig, qbo, "250.00", None)
    pull = _pull(rig)
    assert _mismatches(rig, pull) == [] and pull.counts["payments_not_ours"] == 1
    rig.session.expire_all()
    assert rig.session.get(Invoice, invoice.id).balance == total  # type: ignore[union-attr]

    # Part of it applied to the invoice in QuickBooks: Factor receives it, and they agree.
    rig.sandbox.advance_clock(60)
    applied = _payment(rig, qbo, "250.00", "100.00", Id=credit["Id"], SyncToken=credit["SyncToken"])
    pull = _pull(rig)
    assert _mismatches(rig, pull) == []
    rig.session.expire_all()
    assert rig.session.get(Invoice, invoice.id).balance == total - 100  # type: ignore[union-attr]

    # Unapplied again in QuickBooks, the invoice's change read before the payment's.
    rig.sandbox.advance_clock(60)
    _payment(rig, qbo, "250.00", None, Id=credit["Id"], SyncToken=applied["SyncToken"])
    ctx = _applied_alone(rig, qbo["Id"])
    [entry] = _mismatches(rig, ctx)
    assert (entry.detail or {})["cause"] == "unapplied"
    assert (
        f"The difference is payment Id {credit['Id']}, which Factor counts against it, no longer "
        "applied to it in QuickBooks." in (entry.reason or "")
    )
    assert f"Factor expects {format_money(total - 100)}" in (entry.reason or "")

    pull = _pull(rig)
    assert _mismatches(rig, pull) == []
    assert _entry(rig, entry.id).current_state == "resolved"
    rig.session.expire_all()
    assert rig.session.get(Invoice, invoice.id).balance == total  # type: ignore[union-attr]


def test_a_credit_memo_applied_in_quickbooks_is_named_as_the_cause(rig: Rig) -> None:
    """QuickBooks' answer for the invoice with a credit memo applied to it (the sandbox keeps no
    credit memos: the invoice's own answer, with the link and the balance a credit gives)."""
    invoice, qbo = _sent(rig)
    row = {
        **qbo,
        "Balance": float(invoice.total - 50),
        "LinkedTxn": [{"TxnId": "77", "TxnType": "CreditMemo"}],
    }
    off = balance_mismatch(rig.session, invoice, row, invoice.total, invoice.total - 50)
    assert off is not None and off.cause == "credit" and off.expected == invoice.total
    assert (
        "The difference is credit memo Id 77 applied to it in QuickBooks, which Factor does "
        in (off.reason)
    )
    # The same balance with the payment that makes it, which Factor has: no difference.
    assert balance_mismatch(rig.session, invoice, qbo, invoice.total, invoice.total) is None
