"""Payments against finalized invoices.

Invoices in QuickBooks Online take their payments from there (the sync brings them back), so a
payment is recorded here by hand only for an invoice that is not linked to QuickBooks. Either
way an invoice's balance is what its total less the payments applied leaves, and its status
follows that balance by the domain rules.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from factor_desktop.domain.errors import RuleViolation
from factor_desktop.domain.invoices import next_status_for_balance
from factor_desktop.domain.payments import apply_payment, balance, check_can_receive_payment
from factor_desktop.domain.status import InvoiceStatus
from factor_desktop.services._fields import a_date, get_record, money, optional_text
from factor_desktop.services.errors import ServiceError
from factor_desktop.store.models import Invoice, Payment, PaymentApplication


def _checked_application(invoice: Invoice, amount: Decimal) -> Decimal:
    """The amount as money, refused by the domain rules when the invoice can't take it."""
    cents = money(amount, "Payment amount", "amount", allow_negative=True)
    try:
        check_can_receive_payment(InvoiceStatus(invoice.status), invoice.number)
        apply_payment(invoice.total, invoice.balance, cents, number=invoice.number)
    except RuleViolation as violation:
        raise ServiceError.from_rule(violation, field="amount") from None
    return cents


def refresh_invoice_balance(session: Session, invoice: Invoice) -> Invoice:
    """Recompute an issued invoice's balance from the payments applied to it, and its status
    from the balance. Voided payments don't count. Drafts and void invoices are left alone."""
    status = InvoiceStatus(invoice.status)
    if status in (InvoiceStatus.DRAFT, InvoiceStatus.VOID):
        return invoice
    session.flush()
    applied = session.scalars(
        select(PaymentApplication.amount)
        .join(Payment, PaymentApplication.payment_id == Payment.id)
        .where(PaymentApplication.invoice_id == invoice.id, Payment.voided.is_(False))
    )
    try:
        invoice.balance = balance(invoice.total, list(applied))
    except RuleViolation as violation:
        raise ServiceError.from_rule(violation) from None
    invoice.status = next_status_for_balance(invoice.total, invoice.balance, status).value
    session.flush()
    return invoice


def record_manual_payment(
    session: Session,
    invoice_id: int,
    amount: Decimal,
    received_on: date,
    *,
    method: str | None = None,
    reference: str | None = None,
) -> Payment:
    """Record a payment received for an invoice that is not in QuickBooks Online.

    Refused for invoices linked to QuickBooks (their payments come from there), for drafts,
    void and fully paid invoices, and for amounts that are not positive or exceed the balance.
    """
    invoice = get_record(session, Invoice, invoice_id, "invoice")
    if invoice.qbo_id is not None:
        raise ServiceError(
            f"Invoice {invoice.number} is in QuickBooks Online, so its payments come from "
            "there. Record the payment in QuickBooks; the next sync brings it here and updates "
            "the invoice's status.",
            code="linked_to_qbo",
        )
    cents = _checked_application(invoice, amount)
    payment = Payment(
        client_id=invoice.project.client_id,
        received_on=a_date(received_on, "Date received", "received_on"),
        amount=cents,
        method=optional_text(method, "Payment method", "method", 50),
        reference=optional_text(reference, "Reference", "reference", 50),
    )
    payment.applications.append(PaymentApplication(invoice=invoice, amount=cents))
    session.add(payment)
    refresh_invoice_balance(session, invoice)
    return payment


def apply_payment_to_invoice(
    session: Session, payment_id: int, invoice_id: int, amount: Decimal
) -> PaymentApplication:
    """Apply part of a recorded payment to an invoice (as a QuickBooks payment line does)."""
    payment = get_record(session, Payment, payment_id, "payment")
    invoice = get_record(session, Invoice, invoice_id, "invoice")
    if payment.voided:
        raise ServiceError("This payment is void and can't be applied.", field="payment_id")
    if any(app.invoice_id == invoice.id for app in payment.applications):
        raise ServiceError(
            f"This payment is already applied to invoice {invoice.number}.", field="invoice_id"
        )
    cents = _checked_application(invoice, amount)
    applied = sum((app.amount for app in payment.applications), Decimal("0.00"))
    if applied + cents > payment.amount:
        raise ServiceError(
            f"Only {payment.amount - applied} of this payment is left to apply.", field="amount"
        )
    application = PaymentApplication(invoice=invoice, amount=cents)
    payment.applications.append(application)
    payment.unapplied = payment.amount - applied - cents
    refresh_invoice_balance(session, invoice)
    return application
