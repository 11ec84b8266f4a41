"""Payments: balances, partial payments, overpayment, and the status the balance leads to."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from factor_desktop.domain.errors import RuleViolation
from factor_desktop.domain.money import cents_from_int
from factor_desktop.domain.payments import (
    apply_payment,
    balance,
    check_can_receive_payment,
    status_after_payments,
)
from factor_desktop.domain.status import InvoiceStatus

D = Decimal
S = InvoiceStatus


def test_partial_then_full_payment() -> None:
    remaining = apply_payment(D("1000.00"), D("1000.00"), D("400.00"))
    assert remaining == D("600.00")
    assert status_after_payments(D("1000.00"), D("400.00")) is S.PARTIALLY_PAID
    remaining = apply_payment(D("1000.00"), remaining, D("600.00"))
    assert remaining == D("0.00")
    assert status_after_payments(D("1000.00"), D("1000.00")) is S.PAID


def test_overpayment_is_refused_with_what_is_owed() -> None:
    with pytest.raises(RuleViolation) as raised:
        apply_payment(D("1000.00"), D("500.00"), D("500.01"), number="INV-0042")
    assert raised.value.code == "overpayment"
    message = raised.value.message
    assert "$500.01" in message
    assert "$500.00 still owed on invoice INV-0042" in message
    assert "credit" in message


@pytest.mark.parametrize("amount", ["0", "-5", "0.004"])
def test_zero_and_negative_payments_are_refused(amount: str) -> None:
    with pytest.raises(RuleViolation) as raised:
        apply_payment(D("100"), D("100"), D(amount))
    assert raised.value.code == "payment_not_positive"


def test_payment_amounts_are_taken_to_the_cent() -> None:
    assert apply_payment(D("100"), D("100"), D("0.005")) == D("99.99")


@pytest.mark.parametrize(("total", "bal"), [("100", "100.01"), ("100", "-0.01"), ("-1", "0")])
def test_impossible_balances_are_data_errors(total: str, bal: str) -> None:
    with pytest.raises(ValueError):
        apply_payment(D(total), D(bal), D("1"))


def test_floats_are_refused() -> None:
    with pytest.raises(TypeError):
        apply_payment(D("100"), D("100"), 10.0)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("total", "paid", "expected"),
    [
        ("100", "0", S.FINAL),
        ("100", "0.01", S.PARTIALLY_PAID),
        ("100", "99.99", S.PARTIALLY_PAID),
        ("100", "100", S.PAID),
        ("100", "100.004", S.PAID),  # rounds to 100.00
        ("0", "0", S.PAID),  # a zero-total invoice owes nothing: paid
    ],
)
def test_status_after_payments(total: str, paid: str, expected: InvoiceStatus) -> None:
    assert status_after_payments(D(total), D(paid)) is expected


def test_status_after_payments_refuses_negative_figures() -> None:
    with pytest.raises(ValueError):
        status_after_payments(D("-1"), D("0"))
    with pytest.raises(ValueError):
        status_after_payments(D("100"), D("-1"))


def test_balance() -> None:
    assert balance(D("1000"), []) == D("1000.00")
    assert balance(D("1000"), [D("250"), D("250.50")]) == D("499.50")
    assert balance(D("1000"), [D("1000")]) == D("0.00")


def test_balance_refuses_overpayment() -> None:
    with pytest.raises(RuleViolation) as raised:
        balance(D("100"), [D("60"), D("40.01")])
    assert raised.value.code == "overpayment"
    assert "$100.01" in raised.value.message


def test_balance_refuses_non_positive_applications() -> None:
    with pytest.raises(ValueError):
        balance(D("100"), [D("0")])
    with pytest.raises(ValueError):
        balance(D("100"), [D("-5")])


@pytest.mark.parametrize(
    ("status", "code"),
    [(S.DRAFT, "draft_not_payable"), (S.VOID, "void_not_payable"), (S.PAID, "already_paid")],
)
def test_invoices_that_cannot_take_payments(status: InvoiceStatus, code: str) -> None:
    with pytest.raises(RuleViolation) as raised:
        check_can_receive_payment(status, "INV-0042")
    assert raised.value.code == code
    assert "INV-0042" in raised.value.message


@pytest.mark.parametrize("status", [S.FINAL, S.PARTIALLY_PAID])
def test_invoices_that_can_take_payments(status: InvoiceStatus) -> None:
    check_can_receive_payment(status, "INV-0042")


totals = st.integers(min_value=1, max_value=10**10).map(cents_from_int)


@given(totals, st.lists(st.integers(min_value=1, max_value=10**9), max_size=10))
def test_payments_never_overpay_and_status_follows(total: Decimal, attempts: list[int]) -> None:
    remaining = total
    for cents in attempts:
        amount = cents_from_int(cents)
        try:
            remaining = apply_payment(total, remaining, amount)
        except RuleViolation as refusal:
            assert refusal.code == "overpayment"
            assert amount > remaining
        assert D(0) <= remaining <= total
    paid = total - remaining
    status = status_after_payments(total, paid)
    if remaining == 0:
        assert status is S.PAID
    elif remaining == total:
        assert status is S.FINAL
    else:
        assert status is S.PARTIALLY_PAID
