"""Payments: kept with the part of them applied to Factor's invoices.

A payment is kept with the part of it applied to Factor's invoices (its lines linked to an
Invoice whose Id a Factor invoice holds). The applications mirror QuickBooks's lines exactly
(QuickBooks already checked them), and every invoice touched is recomputed. A payment that
touches no Factor invoice is not kept (counted as `payments_not_ours`); a deleted one, or one
no longer applied to any Factor invoice, is removed with its applications; a voided one is
kept, marked void, and no longer counts toward any balance.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import select

from factor_desktop.domain.money import format_money
from factor_desktop.domain.status import InvoiceStatus
from factor_desktop.qbo.client import JsonDict
from factor_desktop.store.models import Client, Invoice, Payment, PaymentApplication
from factor_desktop.sync.pull.common import is_voided, read_date, read_id, read_money, read_text
from factor_desktop.sync.pull.core import PullPass
from factor_desktop.sync.pull.invoices import invoice_changed, refresh_invoices
from factor_desktop.sync.pull.waiting import forget
from factor_desktop.sync.reference import is_deleted, ref_name, ref_value


def apply_payment(p: PullPass, row: JsonDict) -> None:
    qbo_id = read_id(row)
    payment = p.session.scalar(select(Payment).where(Payment.qbo_id == qbo_id))
    if is_deleted(row):
        if payment is not None:
            _remove_payment(p, payment, "It was deleted in QuickBooks.")
        forget(p, "Payment", qbo_id)
        return

    wanted: dict[int, Decimal] = {}
    invoices: dict[int, Invoice] = {}
    for line in row.get("Line") or []:
        if not isinstance(line, dict):
            continue
        for link in line.get("LinkedTxn") or []:
            if not isinstance(link, dict) or link.get("TxnType") != "Invoice":
                continue
            invoice = p.invoice(str(link.get("TxnId")))
            if invoice is None:
                continue
            amount = read_money(line.get("Amount"), "a payment line amount")
            if amount > 0:
                invoices[invoice.id] = invoice
                wanted[invoice.id] = wanted.get(invoice.id, Decimal("0.00")) + amount
            break  # a payment line pays one transaction

    voided = is_voided(row)
    label = _payment_label(p, row)
    if payment is None and (voided or not wanted):
        p.ctx.counts["payments_not_ours"] += 1
        forget(p, "Payment", qbo_id)
        return
    if payment is not None and not voided and not wanted:
        _remove_payment(p, payment, "It is no longer applied to a Factor invoice.")
        forget(p, "Payment", qbo_id)
        return

    created = payment is None
    if payment is None:
        payment = Payment(qbo_id=qbo_id, received_on=p.ctx.now.date(), amount=Decimal(0))
        p.session.add(payment)
    before = _payment_state(payment)
    customer_id = ref_value(row.get("CustomerRef"))
    payment.client_id = _client_id(p, customer_id, list(invoices.values()), payment)
    token = row.get("SyncToken")
    payment.qbo_sync_token = str(token) if token is not None else None
    payment.received_on = read_date(row.get("TxnDate"), f"a date for {label}")
    payment.method = read_text(ref_name(row.get("PaymentMethodRef")), 50)
    payment.reference = read_text(row.get("PaymentRefNum"), 50)
    payment.voided = voided
    if not voided:
        payment.amount = read_money(row.get("TotalAmt"), f"an amount for {label}")
        payment.unapplied = read_money(
            row.get("UnappliedAmt", 0), f"an unapplied amount for {label}"
        )
    p.session.flush()

    touched: dict[int, Invoice] = {app.invoice_id: app.invoice for app in payment.applications}
    if not voided:
        for invoice_id, invoice in invoices.items():
            status = InvoiceStatus(invoice.status)
            if status in (InvoiceStatus.DRAFT, InvoiceStatus.VOID):
                wanted.pop(invoice_id)
                p.note(
                    entity_kind="payment",
                    label=label,
                    action="skipped",
                    level="warning",
                    reason=(
                        f"Part of this payment is applied in QuickBooks to invoice "
                        f"{invoice.number or '(draft)'}, which is {status.label.lower()} in "
                        "Factor; that part is not counted here. Review the invoice."
                    ),
                    qbo_id=qbo_id,
                    local_id=invoice.id,
                    once=True,
                )
        for application in list(payment.applications):
            if application.invoice_id not in wanted:
                payment.applications.remove(application)
                p.session.delete(application)
            elif application.amount != wanted[application.invoice_id]:
                application.amount = wanted[application.invoice_id]
        have = {application.invoice_id for application in payment.applications}
        for invoice_id, amount in wanted.items():
            if invoice_id not in have:
                payment.applications.append(
                    PaymentApplication(invoice=invoices[invoice_id], amount=amount)
                )
        touched.update(invoices)
    p.session.flush()
    changes = refresh_invoices(p, touched.values())
    after = _payment_state(payment)
    forget(p, "Payment", qbo_id)
    p.resolve("payment", qbo_id, ("failed",))
    if created or before != after:
        action = "created" if created else ("voided" if voided and not before[-1] else "updated")
        p.note(
            entity_kind="payment",
            label=label,
            action=action,
            local_id=payment.id,
            qbo_id=qbo_id,
            detail={
                "amount": str(payment.amount),
                "applied": {
                    app.invoice.number or str(app.invoice_id): str(app.amount)
                    for app in payment.applications
                },
                "voided": payment.voided,
            },
        )
    for invoice, old_status, old_balance in changes:
        invoice_changed(p, invoice, old_status, old_balance, f"after {label}")


def _payment_label(p: PullPass, row: JsonDict) -> str:
    customer = p.name_of("Customer", row.get("CustomerRef"))
    number = row.get("PaymentRefNum") or row.get("Id")
    total = row.get("TotalAmt")
    amount = ""
    if isinstance(total, (int, float)) and not isinstance(total, bool):
        amount = f" · {format_money(read_money(total, 'a payment amount'))}"
    return f"Payment {number}" + (f" · {customer}" if customer else "") + amount


def _payment_state(payment: Payment) -> tuple[Any, ...]:
    applications = tuple(sorted((app.invoice_id, app.amount) for app in payment.applications))
    return (
        payment.client_id,
        payment.received_on,
        payment.amount,
        payment.unapplied,
        payment.method,
        payment.reference,
        payment.qbo_sync_token,
        applications,
        payment.voided,
    )


def _client_id(
    p: PullPass, customer_id: str | None, invoices: list[Invoice], payment: Payment
) -> int | None:
    if customer_id is not None:
        client = p.session.scalar(select(Client.id).where(Client.qbo_id == customer_id))
        if client is not None:
            return client
        project = p.project(customer_id)
        if project is not None:
            return project.client_id
    if invoices:
        return invoices[0].project.client_id
    return payment.client_id


def _remove_payment(p: PullPass, payment: Payment, why: str) -> None:
    touched = {app.invoice_id: app.invoice for app in payment.applications}
    label = f"Payment {payment.reference or payment.qbo_id} · {format_money(payment.amount)}"
    detail = {
        "amount": str(payment.amount),
        "received_on": payment.received_on.isoformat(),
        "applied": {
            app.invoice.number or str(app.invoice_id): str(app.amount)
            for app in payment.applications
        },
    }
    qbo_id = payment.qbo_id
    p.session.delete(payment)
    p.session.flush()
    changes = refresh_invoices(p, touched.values())
    p.note(
        entity_kind="payment",
        label=label,
        action="deleted",
        reason=f"{why} Its amounts no longer count toward the invoices it paid.",
        qbo_id=qbo_id,
        detail=detail,
    )
    for invoice, old_status, old_balance in changes:
        invoice_changed(p, invoice, old_status, old_balance, f"after {label} was removed")
