"""Payments applied to invoices: balances and the statuses they lead to.

Rules
-----
* A payment applied to an invoice must be more than zero and at most the invoice's balance.
  QuickBooks keeps any extra a client pays as a credit on the client; it is never applied
  beyond what an invoice owes, so an invoice is never overpaid here either.
* An issued invoice's status follows what has been paid against its total:
  nothing paid → FINAL; some but not all → PARTIALLY_PAID; all of it → PAID.
* A finalized invoice with a zero total is PAID: nothing is owed, its balance is zero, and it
  needs no follow-up (QuickBooks shows such an invoice as paid too).
* Drafts take no payments (they are not issued yet) and neither do void invoices.

All amounts are taken to the cent with the rule in `money` before they are compared.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from factor_desktop.domain.errors import RuleViolation
from factor_desktop.domain.money import ZERO, format_money, sum_money, to_cents
from factor_desktop.domain.status import InvoiceStatus


def _invoice_name(number: str | None, *, starts_sentence: bool = False) -> str:
    name = f"invoice {number}" if number else "this invoice"
    return name[0].upper() + name[1:] if starts_sentence else name


def _check_total(total: Decimal) -> Decimal:
    cents = to_cents(total)
    if cents < 0:
        raise ValueError(f"an invoice total cannot be negative ({format_money(cents)})")
    return cents


def status_after_payments(total: Decimal, paid: Decimal) -> InvoiceStatus:
    """The status of an issued invoice with `total` of which `paid` has been paid.

    paid == 0 → FINAL (unless the total is zero); 0 < paid < total → PARTIALLY_PAID;
    paid ≥ total → PAID. A zero-total invoice is PAID. Raises `ValueError` for a negative
    total or a negative paid amount (impossible for a consistent invoice).
    """
    total_cents = _check_total(total)
    paid_cents = to_cents(paid)
    if paid_cents < 0:
        raise ValueError(f"the amount paid cannot be negative ({format_money(paid_cents)})")
    if paid_cents >= total_cents:
        return InvoiceStatus.PAID
    if paid_cents == 0:
        return InvoiceStatus.FINAL
    return InvoiceStatus.PARTIALLY_PAID


def check_can_receive_payment(status: InvoiceStatus, number: str | None = None) -> None:
    """Refuse payments on invoices that cannot take one.

    Raises `RuleViolation` with code "draft_not_payable" for a draft, "void_not_payable" for a
    void invoice and "already_paid" for an invoice already paid in full.
    """
    name = _invoice_name(number, starts_sentence=True)
    if status is InvoiceStatus.DRAFT:
        raise RuleViolation(
            f"{name} is still a draft. Finalize it before recording a payment.",
            code="draft_not_payable",
        )
    if status is InvoiceStatus.VOID:
        raise RuleViolation(
            f"{name} is void and can't take payments. Apply the payment to "
            "another invoice, or leave it as a credit for the client in QuickBooks.",
            code="void_not_payable",
        )
    if status is InvoiceStatus.PAID:
        raise RuleViolation(
            f"{name} is already paid in full. Apply the payment to another "
            "invoice, or leave it as a credit for the client in QuickBooks.",
            code="already_paid",
        )


def apply_payment(
    total: Decimal, balance: Decimal, amount: Decimal, *, number: str | None = None
) -> Decimal:
    """The invoice's new balance after applying a payment of `amount` to it.

    Raises `RuleViolation` with code "payment_not_positive" for a zero or negative amount, and
    "overpayment" when the amount is more than the balance (the message says how much is still
    owed). Raises `ValueError` when `balance` is not between 0 and `total`.
    `number` is the invoice number used in messages.
    """
    total_cents = _check_total(total)
    balance_cents = to_cents(balance)
    if not ZERO <= balance_cents <= total_cents:
        raise ValueError(
            f"a balance of {format_money(balance_cents)} is impossible on an invoice "
            f"totalling {format_money(total_cents)}"
        )
    amount_cents = to_cents(amount)
    if amount_cents <= 0:
        raise RuleViolation(
            f"A payment must be more than $0.00; {format_money(amount_cents)} can't be applied "
            f"to {_invoice_name(number)}.",
            code="payment_not_positive",
        )
    if amount_cents > balance_cents:
        raise RuleViolation(
            f"The payment of {format_money(amount_cents)} is more than the "
            f"{format_money(balance_cents)} still owed on {_invoice_name(number)}. Apply at most "
            f"{format_money(balance_cents)}; QuickBooks keeps anything extra as a credit for "
            "the client.",
            code="overpayment",
        )
    return balance_cents - amount_cents


def balance(total: Decimal, applied_amounts: Iterable[Decimal]) -> Decimal:
    """What is still owed: total - the sum of the payment amounts applied to the invoice.

    Each applied amount must be more than zero (`ValueError` otherwise). Raises `RuleViolation`
    with code "overpayment" when the applied amounts add up to more than the total.
    """
    total_cents = _check_total(total)
    applied = [to_cents(a) for a in applied_amounts]
    for amount in applied:
        if amount <= 0:
            raise ValueError(f"an applied payment must be more than zero, not {amount}")
    paid = sum_money(applied)
    if paid > total_cents:
        raise RuleViolation(
            f"Payments of {format_money(paid)} are applied to an invoice of "
            f"{format_money(total_cents)}. Reduce the payments applied to it in QuickBooks so "
            "they are no more than the invoice total.",
            code="overpayment",
        )
    return total_cents - paid
