"""Invoices: QuickBooks's balance of Factor's own invoices has the last word.

Only Factor's own (`Invoice.qbo_id`). The SyncToken is kept for later pushes. QuickBooks's
Balance is authoritative: the balance is first recomputed from the payments applied here
(`refresh_invoice_balance`), and where QuickBooks says otherwise (a credit applied there, a
payment older than the link) its Balance is taken and the status follows by the domain rule.
Factor never deletes or voids an invoice because of QuickBooks: a deleted or voided twin is a
warning in the sync log to review. A total changed there after the invoice was sent, or a balance
that is not Factor's total less the payments Factor has received (a credit applied there, a
payment not received yet: see `balances.py`), marks the invoice "mismatched" with the cause,
once while it stands, and resolved when the figures agree again.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from factor_desktop.domain.invoices import next_status_for_balance
from factor_desktop.domain.money import format_money
from factor_desktop.domain.status import InvoiceStatus
from factor_desktop.qbo.client import JsonDict
from factor_desktop.services.payments import refresh_invoice_balance
from factor_desktop.store.models import Invoice, SyncLogEntry
from factor_desktop.sync.pull.balances import balance_mismatch
from factor_desktop.sync.pull.common import is_voided, read_id, read_money
from factor_desktop.sync.pull.core import PullPass
from factor_desktop.sync.reference import is_deleted


def refresh_invoices(
    p: PullPass, invoices: Iterable[Invoice]
) -> list[tuple[Invoice, str, Decimal]]:
    """Recompute balances; returns the invoices whose status or balance moved."""
    moved: list[tuple[Invoice, str, Decimal]] = []
    for invoice in invoices:
        old_status, old_balance = invoice.status, invoice.balance
        p.session.expire(invoice, ["applications"])
        refresh_invoice_balance(p.session, invoice)
        if (invoice.status, invoice.balance) != (old_status, old_balance):
            moved.append((invoice, old_status, old_balance))
    return moved


def invoice_changed(
    p: PullPass, invoice: Invoice, old_status: str, old_balance: Decimal, why: str
) -> None:
    p.note(
        entity_kind="invoice",
        label=f"Invoice {invoice.number}",
        action="updated",
        reason=(
            f"{InvoiceStatus(old_status).label} → {InvoiceStatus(invoice.status).label}, "
            f"balance {format_money(old_balance)} → {format_money(invoice.balance)} {why}."
        ),
        local_id=invoice.id,
        qbo_id=invoice.qbo_id,
        detail={
            "status": [old_status, invoice.status],
            "balance": [str(old_balance), str(invoice.balance)],
        },
    )


def apply_invoice(p: PullPass, row: JsonDict) -> None:
    qbo_id = read_id(row)
    invoice = p.invoice(qbo_id)
    if invoice is None:
        p.ctx.counts["invoices_not_ours"] += 1
        return
    label = f"Invoice {invoice.number}"
    status = InvoiceStatus(invoice.status)
    if is_deleted(row):
        if status is not InvoiceStatus.VOID:
            p.note(
                entity_kind="invoice",
                label=label,
                action="deleted",
                level="warning",
                reason=(
                    f"Invoice {invoice.number} was deleted in QuickBooks. Factor keeps it as "
                    f"{status.label.lower()}: void it here if it no longer stands, or enter "
                    "it in QuickBooks again."
                ),
                local_id=invoice.id,
                qbo_id=qbo_id,
                once=True,
            )
        return
    token = row.get("SyncToken")
    if token is not None:
        invoice.qbo_sync_token = str(token)
    if is_voided(row):
        if status is not InvoiceStatus.VOID:
            p.note(
                entity_kind="invoice",
                label=label,
                action="voided",
                level="warning",
                reason=(
                    f"Invoice {invoice.number} was voided in QuickBooks but is "
                    f"{status.label.lower()} in Factor. Void it here too if that is right."
                ),
                local_id=invoice.id,
                qbo_id=qbo_id,
                once=True,
            )
        return
    if not status.is_issued:
        return
    qbo_total = read_money(row.get("TotalAmt"), f"a total for {label}")
    differences: list[str] = []
    detail: dict[str, Any] = {}
    if qbo_total != invoice.total and qbo_total != _total_when_created(p, invoice.id):
        # Not the figure QuickBooks answered the create with (a difference there, such as tax
        # QuickBooks recalculated, was reported by the push): someone changed it since.
        differences.append(
            f"Invoice {invoice.number} was changed in QuickBooks after it was sent: its "
            f"total there is {format_money(qbo_total)}, in Factor "
            f"{format_money(invoice.total)}. Factor keeps its own total; correct the "
            "invoice in QuickBooks, or void it on the Invoices tab and issue a new one."
        )
        detail.update(qbo_total=str(qbo_total), factor_total=str(invoice.total))
    old_status, old_balance = invoice.status, invoice.balance
    refresh_invoice_balance(p.session, invoice)
    # A reply without a Balance says nothing about it (it must not read as fully paid).
    raw_balance = row.get("Balance")
    qbo_balance = (
        invoice.balance
        if raw_balance is None
        else read_money(raw_balance, f"a balance for {label}")
    )
    off = (
        balance_mismatch(p.session, invoice, row, qbo_total, qbo_balance)
        if raw_balance is not None
        else None
    )
    if off is not None:
        differences.append(off.reason)
        detail.update(
            qbo_balance=str(off.qbo_balance), factor_balance=str(off.expected), cause=off.cause
        )
    if differences:
        p.note(
            entity_kind="invoice",
            label=label,
            action="mismatched",
            level="warning",
            reason=" ".join(differences),
            local_id=invoice.id,
            qbo_id=qbo_id,
            detail=detail,
            once=True,
        )
    else:
        p.ctx.agrees_again(direction="pull", entity_kind="invoice", local_id=invoice.id)
    if qbo_balance != invoice.balance:
        if Decimal("0.00") <= qbo_balance <= invoice.total:
            invoice.balance = qbo_balance
            invoice.status = next_status_for_balance(
                invoice.total, qbo_balance, InvoiceStatus(invoice.status)
            ).value
            p.session.flush()
        else:
            p.note(
                entity_kind="invoice",
                label=label,
                action="skipped",
                level="warning",
                reason=(
                    f"QuickBooks shows a balance of {format_money(qbo_balance)} on invoice "
                    f"{invoice.number}, which can't be right for its Factor total of "
                    f"{format_money(invoice.total)}. The balance here stays "
                    f"{format_money(invoice.balance)}; review the invoice in QuickBooks."
                ),
                local_id=invoice.id,
                qbo_id=qbo_id,
                once=True,
            )
    if (invoice.status, invoice.balance) != (old_status, old_balance):
        invoice_changed(p, invoice, old_status, old_balance, "as QuickBooks shows it")


def _total_when_created(p: PullPass, invoice_id: int) -> Decimal | None:
    """QuickBooks' total in its answer to the invoice's create, as the push logged it."""
    entries = p.session.scalars(
        select(SyncLogEntry.detail)
        .where(
            SyncLogEntry.direction == "push",
            SyncLogEntry.entity_kind == "invoice",
            SyncLogEntry.local_id == invoice_id,
            SyncLogEntry.action.in_(("created", "linked")),
        )
        .order_by(SyncLogEntry.id.desc())
        .limit(1)
    )
    detail = next(iter(entries), None)
    total = detail.get("qbo_total") if isinstance(detail, dict) else None
    try:
        return Decimal(str(total)) if total is not None else None
    except ArithmeticError:
        return None
