"""Money: the one rounding rule, parsing, display, sums and pro-rata allocation."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, localcontext
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from factor_desktop.domain.money import (
    CENT,
    ZERO,
    allocate_pro_rata,
    cents_from_int,
    cents_to_int,
    format_money,
    multiply_money,
    parse_money,
    percent,
    percent_of,
    percent_ratio,
    sum_money,
    to_cents,
)

D = Decimal

cent_amounts = st.integers(min_value=-(10**13), max_value=10**13).map(cents_from_int)
fine_amounts = st.decimals(
    min_value=D("-1e12"), max_value=D("1e12"), places=6, allow_nan=False, allow_infinity=False
)


# --- to_cents: the rule ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("0.005", "0.01"),
        ("0.004", "0.00"),
        ("0.0049999", "0.00"),
        ("1.005", "1.01"),
        ("2.675", "2.68"),
        ("0.015", "0.02"),
        ("0.025", "0.03"),  # half-up, not banker's rounding (which would give 0.02)
        ("1234.565", "1234.57"),
        ("12", "12.00"),
        ("12.1", "12.10"),
    ],
)
def test_to_cents_rounds_half_up(value: str, expected: str) -> None:
    assert to_cents(D(value)) == D(expected)
    assert str(to_cents(D(value))) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("-0.005", "-0.01"),  # halves go away from zero
        ("-0.025", "-0.03"),
        ("-0.0049", "0.00"),
        ("-1.005", "-1.01"),
        ("-2.674", "-2.67"),
    ],
)
def test_to_cents_rounds_negative_halves_away_from_zero(value: str, expected: str) -> None:
    assert to_cents(D(value)) == D(expected)


def test_to_cents_never_gives_negative_zero() -> None:
    result = to_cents(D("-0.001"))
    assert result == 0
    assert not result.is_signed()
    assert str(result) == "0.00"
    assert str(to_cents(D("-0"))) == "0.00"


def test_to_cents_accepts_int_str_and_exact_fractions() -> None:
    assert to_cents(7) == D("7.00")
    assert to_cents(" 3.141 ") == D("3.14")
    assert to_cents("1e2") == D("100.00")
    assert to_cents(Fraction(1, 3)) == D("0.33")
    assert to_cents(Fraction(-1, 200)) == D("-0.01")


def test_to_cents_always_has_two_places() -> None:
    assert to_cents(D("5")).as_tuple().exponent == -2
    assert to_cents(D("5.000000")).as_tuple().exponent == -2


@pytest.mark.parametrize("value", [1.5, 0.1, True, None, [1]])
def test_to_cents_refuses_floats_and_other_types(value: object) -> None:
    with pytest.raises(TypeError):
        to_cents(value)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "value",
    [D("NaN"), D("sNaN"), D("Infinity"), D("-Infinity"), "nan", "inf", "1,000", "$5", "", "abc"],
)
def test_to_cents_refuses_nan_infinity_and_junk(value: Decimal | str) -> None:
    with pytest.raises(ValueError):
        to_cents(value)


def test_to_cents_refuses_out_of_range_values() -> None:
    with pytest.raises(ValueError, match="too large"):
        to_cents(D("1e15"))
    with pytest.raises(ValueError, match="too large"):
        to_cents(10**20)
    with pytest.raises(ValueError, match="decimal places"):
        to_cents(D("1e-30"))
    assert to_cents(D("999999999999999.99")) == D("999999999999999.99")
    assert to_cents(D("1.5000000000000000000000000000")) == D("1.50")  # trailing zeros are fine


@given(fine_amounts)
def test_rounding_is_symmetric(value: Decimal) -> None:
    assert to_cents(-value) == -to_cents(value)


@given(fine_amounts)
def test_rounding_is_within_half_a_cent_and_idempotent(value: Decimal) -> None:
    rounded = to_cents(value)
    assert abs(rounded - value) <= CENT / 2
    assert to_cents(rounded) == rounded


@given(fine_amounts)
def test_rounding_matches_decimal_round_half_up(value: Decimal) -> None:
    with localcontext() as ctx:
        ctx.prec = 50
        assert to_cents(value) == value.quantize(CENT, rounding=ROUND_HALF_UP)


def test_cents_helpers() -> None:
    assert cents_to_int(D("12.345")) == 1235
    assert cents_to_int(D("-0.01")) == -1
    assert cents_from_int(-1234) == D("-12.34")
    assert str(cents_from_int(0)) == "0.00"
    with pytest.raises(TypeError):
        cents_from_int(True)


# --- arithmetic -----------------------------------------------------------------------------


def test_sum_money_sums_exactly_then_rounds_once() -> None:
    assert sum_money([]) == ZERO
    assert sum_money([D("0.004"), D("0.004")]) == D("0.01")
    assert sum_money([D("10.10"), "-0.10", 5]) == D("15.00")
    assert sum_money(D("0.1") for _ in range(10)) == D("1.00")


def test_sum_money_refuses_floats() -> None:
    with pytest.raises(TypeError):
        sum_money([D("1"), 0.1])  # type: ignore[list-item]


@given(st.lists(cent_amounts, max_size=30))
def test_sum_money_of_cent_amounts_is_their_exact_sum(values: list[Decimal]) -> None:
    assert sum_money(values) == sum(values, ZERO)


def test_multiply_and_percent_of_round_once() -> None:
    assert multiply_money(D("3"), D("33.335")) == D("100.01")  # 100.005 → 100.01
    assert multiply_money(D("1.5"), D("0.01")) == D("0.02")  # 0.015 → 0.02
    assert percent_of(D("100.10"), D("8.25")) == D("8.26")  # 8.25825
    assert percent_of(D("-100.10"), D("8.25")) == D("-8.26")


def test_percent_ratio() -> None:
    assert percent_ratio(1, 3) == D("33.3")
    assert percent_ratio(2, 3) == D("66.7")
    assert percent_ratio(1, 8) == D("12.5")
    assert percent_ratio(D("1"), D("2000")) == D("0.1")  # 0.05 → 0.1
    assert percent_ratio(D("-1"), D("2000")) == D("-0.1")
    assert percent_ratio(D("150"), D("100")) == D("150.0")
    assert percent_ratio(D("5"), D("0")) is None
    assert percent_ratio(D("0"), D("0")) is None


# --- pro-rata allocation ----------------------------------------------------------------------


def test_allocation_gives_leftover_cents_to_largest_remainders() -> None:
    assert allocate_pro_rata(D("100"), [D(1), D(1), D(1)]) == [D("33.34"), D("33.33"), D("33.33")]
    # 10.00 over 1:2 → 3.333… and 6.666…: the larger remainder gets the cent
    assert allocate_pro_rata(D("10"), [D(1), D(2)]) == [D("3.33"), D("6.67")]
    assert allocate_pro_rata(D("0.05"), [D(1), D(1)]) == [D("0.03"), D("0.02")]


def test_allocation_is_symmetric_for_negative_amounts() -> None:
    assert allocate_pro_rata(D("-100"), [D(1), D(1), D(1)]) == [
        D("-33.34"),
        D("-33.33"),
        D("-33.33"),
    ]


def test_allocation_with_negative_weights() -> None:
    # An invoice of 100.00 with a 20.00 discount line, fully paid (80.00).
    assert allocate_pro_rata(D("80"), [D("100"), D("-20")]) == [D("100.00"), D("-20.00")]
    # Weights summing to a negative number are treated by proportion all the same.
    assert allocate_pro_rata(D("10"), [D("-1"), D("-1")]) == [D("5.00"), D("5.00")]


def test_allocation_fallbacks_for_zero_weights() -> None:
    assert allocate_pro_rata(D("10"), [D("5"), D("-5")]) == [D("5.00"), D("5.00")]
    assert allocate_pro_rata(D("10"), [D("0"), D("0"), D("0")]) == [
        D("3.34"),
        D("3.33"),
        D("3.33"),
    ]
    assert allocate_pro_rata(D("0"), [D("3"), D("1")]) == [ZERO, ZERO]


def test_allocation_needs_something_to_allocate_to() -> None:
    with pytest.raises(ValueError):
        allocate_pro_rata(D("10"), [])


@given(
    cent_amounts,
    st.lists(
        st.integers(min_value=-(10**9), max_value=10**9).map(cents_from_int),
        min_size=1,
        max_size=12,
    ),
)
def test_allocation_parts_sum_exactly_to_the_amount(
    amount: Decimal, weights: list[Decimal]
) -> None:
    parts = allocate_pro_rata(amount, weights)
    assert len(parts) == len(weights)
    assert sum(parts, ZERO) == amount
    assert all(p == to_cents(p) for p in parts)


@given(
    st.integers(min_value=0, max_value=10**11).map(cents_from_int),
    st.lists(
        st.integers(min_value=1, max_value=10**9).map(cents_from_int), min_size=1, max_size=12
    ),
)
def test_allocation_parts_are_within_a_cent_of_the_exact_share(
    amount: Decimal, weights: list[Decimal]
) -> None:
    parts = allocate_pro_rata(amount, weights)
    total_weight = sum((Fraction(w) for w in weights), Fraction(0))
    for part, weight in zip(parts, weights, strict=True):
        share = Fraction(amount) * Fraction(weight) / total_weight
        assert abs(Fraction(part) - share) < Fraction(1, 100)


@given(cent_amounts, st.lists(st.integers(1, 10**6).map(cents_from_int), min_size=1, max_size=8))
def test_allocation_is_symmetric(amount: Decimal, weights: list[Decimal]) -> None:
    assert allocate_pro_rata(-amount, weights) == [-p for p in allocate_pro_rata(amount, weights)]


# --- display and parsing ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "text"),
    [
        ("1234.50", "$1,234.50"),
        ("1234.5", "$1,234.50"),
        ("-12", "-$12.00"),
        ("0", "$0.00"),
        ("-0.001", "$0.00"),
        ("0.005", "$0.01"),
        ("1234567.891", "$1,234,567.89"),
        ("999", "$999.00"),
    ],
)
def test_format_money(amount: str, text: str) -> None:
    assert format_money(D(amount)) == text


def test_format_money_other_currencies() -> None:
    assert format_money(D("5"), "GBP") == "£5.00"
    assert format_money(D("-5"), "EUR") == "-€5.00"
    assert format_money(D("1234"), "CHF") == "CHF 1,234.00"
    with pytest.raises(ValueError, match="currency code"):
        format_money(D("5"), "dollars")


def test_format_money_refuses_floats() -> None:
    with pytest.raises(TypeError):
        format_money(1.5)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1,234.50", "1234.50"),
        ("$1,234.50", "1234.50"),
        ("(12.00)", "-12.00"),
        ("($12.00)", "-12.00"),
        ("-12", "-12.00"),
        ("-$12.00", "-12.00"),
        ("$-12.00", "-12.00"),
        ("\u22125.25", "-5.25"),  # typographic minus sign
        ("+5", "5.00"),
        ("  42  ", "42.00"),
        (".75", "0.75"),
        ("1234567", "1234567.00"),
        ("1,234,567.8", "1234567.80"),
        ("0.005", "0.01"),  # more than two places: rounded by the rule
        ("-0", "0.00"),
        ("$ 12", "12.00"),
    ],
)
def test_parse_money_accepts(text: str, expected: str) -> None:
    assert parse_money(text) == D(expected)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "abc",
        "$",
        "12,34",
        "1,2345.00",
        "1,234,5",
        ",123",
        "1.2.3",
        "12abc",
        "1e3",
        "nan",
        "Infinity",
        "(-12)",
        "-(12)",
        "(12",
        "12)",
        "--12",
        "$$12",
        "£12",
        "12$",
        "١٢",  # Arabic-Indic digits are not accepted
    ],
)
def test_parse_money_rejects_junk_naming_the_text(text: str) -> None:
    with pytest.raises(ValueError) as raised:
        parse_money(text)
    assert repr(text) in str(raised.value)


def test_parse_money_refuses_non_text() -> None:
    with pytest.raises(TypeError):
        parse_money(D("12"))  # type: ignore[arg-type]


def test_parse_money_other_currencies() -> None:
    assert parse_money("£1,000.00", "GBP") == D("1000.00")
    assert parse_money("CHF 12.50", "CHF") == D("12.50")
    assert parse_money("-CHF 12.50", "CHF") == D("-12.50")


@given(cent_amounts)
def test_parse_money_reads_back_format_money(amount: Decimal) -> None:
    assert parse_money(format_money(amount)) == amount


@given(fine_amounts, st.sampled_from(["USD", "GBP", "EUR", "CHF", "CAD"]))
def test_round_trip_equals_rounding(amount: Decimal, currency: str) -> None:
    assert parse_money(format_money(amount, currency), currency) == to_cents(amount)


# --- percentages ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("12.5", "12.5"),
        ("12.5%", "12.5"),
        (" 7 % ", "7"),
        ("0", "0"),
        ("-3", "-3"),
        ("100%", "100"),
        (D("15"), "15"),
        (10, "10"),
    ],
)
def test_percent_reads_percentages(value: Decimal | int | str, expected: str) -> None:
    assert percent(value) == D(expected)


def test_percent_keeps_the_value_exact() -> None:
    assert str(percent("12.50%")) == "12.50"
    assert percent("33.3333333333") == D("33.3333333333")


@pytest.mark.parametrize("value", ["", "%", "abc", "12%%", "1e2", "12 5", D("NaN"), D("Infinity")])
def test_percent_rejects_junk(value: Decimal | str) -> None:
    with pytest.raises(ValueError):
        percent(value)


def test_percent_refuses_floats() -> None:
    with pytest.raises(TypeError):
        percent(12.5)  # type: ignore[arg-type]
