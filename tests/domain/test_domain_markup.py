"""Markup on billable expenses."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from factor_desktop.domain.markup import billable_amount, markup_amount, validate_markup_percent
from factor_desktop.domain.money import cents_from_int, to_cents

D = Decimal

costs = st.integers(min_value=-(10**11), max_value=10**11).map(cents_from_int)
markups = st.none() | st.decimals(min_value=0, max_value=500, places=3)


@pytest.mark.parametrize(
    ("cost", "markup", "billable"),
    [
        ("100.00", "15", "115.00"),
        ("100.00", "0", "100.00"),
        ("100.00", "10.5", "110.50"),
        ("10.05", "10", "11.06"),  # 11.055 rounds half-up
        ("0.10", "5", "0.11"),  # 0.105 rounds half-up
        ("19.99", "12.5", "22.49"),  # 22.48875
        ("0.00", "15", "0.00"),
        ("1234.56", "100", "2469.12"),
    ],
)
def test_billable_amount_marks_up_and_rounds_once(cost: str, markup: str, billable: str) -> None:
    assert billable_amount(D(cost), D(markup)) == D(billable)


def test_no_markup_bills_at_cost_rounded_to_the_cent() -> None:
    assert billable_amount(D("250.00"), None) == D("250.00")
    assert billable_amount(D("12.345"), None) == D("12.35")
    assert markup_amount(D("250.00"), None) == D("0.00")


def test_markup_is_rounded_once_on_the_billable_amount() -> None:
    # cost 0.333…: rounding cost and markup separately would give 0.33 + 0.03 = 0.36
    cost = D("0.3333")
    assert billable_amount(cost, D("10")) == D("0.37")  # 0.36663 → 0.37
    assert markup_amount(cost, D("10")) == D("0.04")  # 0.37 - 0.33


def test_negative_costs_mark_up_symmetrically() -> None:
    assert billable_amount(D("-100.00"), D("15")) == D("-115.00")
    assert billable_amount(D("-10.05"), D("10")) == D("-11.06")  # -11.055 → -11.06
    assert markup_amount(D("-10.05"), D("10")) == D("-1.01")


def test_negative_markup_is_refused() -> None:
    with pytest.raises(ValueError, match="negative"):
        billable_amount(D("100"), D("-5"))
    with pytest.raises(ValueError, match="negative"):
        validate_markup_percent("-0.01")


def test_floats_are_refused() -> None:
    with pytest.raises(TypeError):
        billable_amount(100.0, D("10"))  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        billable_amount(D("100"), 10.0)  # type: ignore[arg-type]


def test_validate_markup_percent() -> None:
    assert validate_markup_percent(None) is None
    assert validate_markup_percent("15%") == D("15")
    assert validate_markup_percent(D("0")) == D("0")
    with pytest.raises(ValueError):
        validate_markup_percent("fifteen")
    with pytest.raises(ValueError):
        validate_markup_percent(D("NaN"))


@given(costs.filter(lambda c: c >= 0), markups)
def test_billable_is_at_least_cost_for_non_negative_cost_and_markup(
    cost: Decimal, markup: Decimal | None
) -> None:
    assert billable_amount(cost, markup) >= cost


@given(costs, markups)
def test_cost_plus_markup_is_billable(cost: Decimal, markup: Decimal | None) -> None:
    billable = billable_amount(cost, markup)
    assert to_cents(cost) + markup_amount(cost, markup) == billable
    assert billable == to_cents(billable)


@given(costs, markups)
def test_refunds_reverse_exactly(cost: Decimal, markup: Decimal | None) -> None:
    assert billable_amount(-cost, markup) == -billable_amount(cost, markup)
