"""Money: exact amounts, the one rounding rule, parsing and display.

The rounding rule
-----------------
Every money amount Factor Desktop stores, shows or sends to QuickBooks is rounded **to the cent
with ROUND_HALF_UP**: a value exactly half-way between two cents goes to the cent further from
zero. So 0.005 → 0.01, 0.0049 → 0.00, and for negatives -0.005 → -0.01 and -0.0049 → 0.00. The
rule is symmetric: rounding a negative amount gives exactly the negative of rounding its size.

`to_cents` is the only function that applies the rule to money. Computations that produce money
(markup, tax, quantity * rate) are carried out exactly, as fractions, and rounded once at the end
by passing the exact result to `to_cents` (`exact` turns an input into a `Fraction` for that).
Percentages shown to the user (`percent_ratio`) are rounded to one decimal place by the same rule.
Splitting an amount into parts that must add up to it (`allocate_pro_rata`) works in whole cents
and says how it distributes the odd cents.

Inputs
------
Money is `Decimal`, never `float`: functions here refuse floats (and bools) with `TypeError`, and
refuse NaN, infinities and unreasonably large or finely divided values with `ValueError`. An
amount's size must stay below 10**15 (a thousand trillion) and its precision within 20 decimal
places. Within those bounds, adding and subtracting cent amounts with `Decimal` operators is
exact at Python's default decimal precision, so callers may do that freely.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from typing import Final

ROUNDING: Final = ROUND_HALF_UP
"""The decimal rounding mode the rule corresponds to, for reference (halves go away from zero).

Round money with `to_cents`, not by quantizing with this mode elsewhere.
"""

CENT: Final = Decimal("0.01")
"""The smallest money unit."""

ZERO: Final = Decimal("0.00")
"""Zero, to the cent."""

MAX_MAGNITUDE_DIGITS: Final = 15
"""Amounts and other decimal inputs must be smaller than 10**15 in absolute value."""

MAX_DECIMAL_PLACES: Final = 20
"""Decimal inputs may carry at most this many significant decimal places."""

MoneyInput = Decimal | int | str
"""What the money functions accept: a `Decimal`, a whole number, or a plain decimal string."""

_PLAIN_DECIMAL = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_GROUPED_NUMBER = re.compile(r"(?:[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)(?:\.[0-9]+)?|\.[0-9]+")
_PERCENT_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)")
_MINUS_SIGNS = ("-", "\u2212")  # ASCII hyphen-minus and the typographic minus sign
_CURRENCY_CODE = re.compile(r"[A-Z]{3}")
_SYMBOLS: Final = {
    "USD": "$",
    "CAD": "$",
    "AUD": "$",
    "NZD": "$",
    "GBP": "£",
    "EUR": "€",
}


# --- checking and converting inputs -----------------------------------------------------------


def _checked_decimal(value: object, what: str) -> Decimal:
    """`value` as a finite, bounded `Decimal`; the shared gate for every decimal input."""
    if isinstance(value, (bool, float)):
        raise TypeError(f"{what} must be a Decimal, int or str, not {type(value).__name__}")
    if isinstance(value, int):
        if abs(value) >= 10**MAX_MAGNITUDE_DIGITS:
            raise ValueError(f"{what} {value} is too large")
        return Decimal(value)
    if isinstance(value, str):
        text = value.strip()
        if not _PLAIN_DECIMAL.fullmatch(text):
            raise ValueError(f"{what} {value!r} is not a decimal number")
        result = Decimal(text)
    elif isinstance(value, Decimal):
        result = value
    else:
        raise TypeError(f"{what} must be a Decimal, int or str, not {type(value).__name__}")
    if not result.is_finite():
        raise ValueError(f"{what} must be a finite number, not {result}")
    if result and result.adjusted() >= MAX_MAGNITUDE_DIGITS:
        raise ValueError(f"{what} {result} is too large")
    _, digits, exponent = result.as_tuple()
    assert isinstance(exponent, int)  # finite, checked above
    trailing_zeros = len(digits) - len("".join(map(str, digits)).rstrip("0"))
    if result and exponent + trailing_zeros < -MAX_DECIMAL_PLACES:
        raise ValueError(f"{what} {result} has more than {MAX_DECIMAL_PLACES} decimal places")
    return result


def exact(value: MoneyInput, what: str = "amount") -> Fraction:
    """`value` as an exact fraction, for rounding-free arithmetic inside the domain layer.

    Accepts what `to_cents` accepts (floats refused with `TypeError`, NaN/infinity and
    out-of-range values with `ValueError`). Pass the finished result to `to_cents`.
    """
    return Fraction(_checked_decimal(value, what))


def _decimal_from_units(units: int, places: int) -> Decimal:
    """`units` * 10**-places as a `Decimal`, built exactly (no decimal context involved)."""
    sign = 1 if units < 0 else 0
    digits = tuple(int(c) for c in str(abs(units)))
    return Decimal((sign, digits, -places))


def _round_half_up(value: Fraction, places: int) -> Decimal:
    """THE rounding rule: to `places` decimal places, halves away from zero. Never returns -0."""
    scaled = abs(value) * 10**places
    units = math.floor(scaled + Fraction(1, 2))
    return _decimal_from_units(-units if value < 0 else units, places)


# --- the rule ---------------------------------------------------------------------------------


def to_cents(value: MoneyInput | Fraction) -> Decimal:
    """Round `value` to the cent with the one rule (ROUND_HALF_UP, halves away from zero).

    Accepts a `Decimal`, an `int`, a plain decimal string such as "12.345" (no thousands
    separators or currency symbols: use `parse_money` for text a person typed), or an exact
    `Fraction` produced by domain arithmetic. Refuses `float` and `bool` with `TypeError`;
    refuses NaN, infinities, malformed strings and out-of-range values with `ValueError`.
    The result always has exactly two decimal places and is never negative zero.
    """
    if isinstance(value, Fraction):
        return _round_half_up(value, 2)
    return _round_half_up(Fraction(_checked_decimal(value, "amount")), 2)


def cents_to_int(value: MoneyInput) -> int:
    """The amount as a whole number of cents (rounded with the rule first)."""
    return int(Fraction(to_cents(value)) * 100)


def cents_from_int(cents: int) -> Decimal:
    """A whole number of cents as a money `Decimal` with two places."""
    if isinstance(cents, bool) or not isinstance(cents, int):
        raise TypeError("cents must be an int")
    return _decimal_from_units(cents, 2)


def sum_money(values: Iterable[MoneyInput]) -> Decimal:
    """The exact sum of `values`, rounded once to the cent; `ZERO` for no values.

    Items are not rounded individually: sum_money(["0.004", "0.004"]) is 0.01.
    Floats are refused with `TypeError`.
    """
    total = sum((exact(v) for v in values), Fraction(0))
    return to_cents(total)


def multiply_money(quantity: MoneyInput, rate: MoneyInput) -> Decimal:
    """quantity * rate, computed exactly and rounded once to the cent (an extended line amount)."""
    return to_cents(exact(quantity, "quantity") * exact(rate, "rate"))


def percent_of(amount: MoneyInput, percent_value: MoneyInput) -> Decimal:
    """amount * percent / 100, computed exactly and rounded once to the cent."""
    return to_cents(exact(amount) * exact(percent_value, "percentage") / 100)


def percent_ratio(part: MoneyInput, whole: MoneyInput) -> Decimal | None:
    """part as a percentage of whole, to one decimal place by the rule; None when whole is 0.

    percent_ratio(1, 3) == Decimal("33.3"); percent_ratio(1, 8) == Decimal("12.5");
    percent_ratio(5, 0) is None. Negative parts give negative percentages.
    """
    whole_exact = exact(whole, "whole")
    if whole_exact == 0:
        return None
    return _round_half_up(exact(part, "part") * 100 / whole_exact, 1)


def allocate_pro_rata(amount: MoneyInput, weights: Sequence[MoneyInput]) -> list[Decimal]:
    """Split `amount` into cents in proportion to `weights`; the parts sum exactly to `amount`.

    The rule (largest remainder): `amount` is first taken to the cent. Each part's exact share
    is amount * weight / sum(weights); every part gets its share rounded down to the cent, and
    the cents still left over go, one each, to the parts with the largest remainders (on a tie,
    the earlier part). Each part is therefore within one cent of its exact share and the parts
    add up to `amount` exactly. A negative `amount` is split as its size and negated, so
    allocation is symmetric. Negative weights (credits, discounts) take negative shares.
    When the weights sum to zero the split follows their sizes instead; when every weight is
    zero the amount is split evenly. Refuses an empty `weights` with `ValueError`.
    """
    if not weights:
        raise ValueError("there is nothing to allocate the amount to")
    total_cents = cents_to_int(amount)
    exact_weights = [exact(w, "weight") for w in weights]
    weight_sum = sum(exact_weights, Fraction(0))
    if weight_sum == 0:
        exact_weights = [abs(w) for w in exact_weights]
        weight_sum = sum(exact_weights, Fraction(0))
    if weight_sum == 0:
        exact_weights = [Fraction(1)] * len(weights)
        weight_sum = Fraction(len(weights))
    if weight_sum < 0:
        exact_weights = [-w for w in exact_weights]
        weight_sum = -weight_sum
    size = abs(total_cents)
    shares = [size * w / weight_sum for w in exact_weights]
    floors = [math.floor(s) for s in shares]
    left_over = size - sum(floors)
    by_remainder = sorted(range(len(shares)), key=lambda i: (-(shares[i] - floors[i]), i))
    for i in by_remainder[:left_over]:
        floors[i] += 1
    sign = -1 if total_cents < 0 else 1
    return [cents_from_int(sign * c) for c in floors]


# --- text ---------------------------------------------------------------------------------------


def _currency_symbol(currency: str) -> str:
    if not isinstance(currency, str) or not _CURRENCY_CODE.fullmatch(currency):
        raise ValueError(f"{currency!r} is not a three-letter currency code such as 'USD'")
    return _SYMBOLS.get(currency, currency + " ")


def format_money(amount: Decimal, currency: str = "USD") -> str:
    """The amount for display: "$1,234.50", "-$12.00", "$0.00".

    The amount is rounded to the cent with the rule first. The minus sign goes before the
    currency symbol. Currencies without a known symbol are written with their code
    ("CHF 12.00"). `parse_money(format_money(x, c), c) == to_cents(x)` for every amount x.
    """
    cents = to_cents(amount)
    symbol = _currency_symbol(currency)
    sign = "-" if cents < 0 else ""
    return f"{sign}{symbol}{abs(cents):,.2f}"


def _strip_sign(text: str) -> tuple[bool, str]:
    if text[:1] in _MINUS_SIGNS:
        return True, text[1:].lstrip()
    if text[:1] == "+":
        return False, text[1:].lstrip()
    return False, text


def parse_money(text: str, currency: str = "USD") -> Decimal:
    """Read an amount a person typed or a report printed, rounded to the cent with the rule.

    Accepted: "1234.5", "1,234.50", "$1,234.50", "-12", "-$12.00", "$-12.00", "(12.00)" and
    "($12.00)" (accounting negatives), "+5", ".75", surrounding spaces, the typographic minus
    sign, and the currency's symbol or code ("CHF 12.00"). Thousands separators must be
    well placed ("1,234", not "12,34"). More than two decimal places are rounded by the rule.
    Anything else raises `ValueError` whose message quotes the text.
    """
    if not isinstance(text, str):
        raise TypeError(f"expected text, not {type(text).__name__}")
    symbol = _currency_symbol(currency).strip()
    body = text.strip()
    in_parentheses = body.startswith("(") and body.endswith(")")
    if in_parentheses:
        body = body[1:-1].strip()
    negative, body = _strip_sign(body)
    for marker in (symbol, currency):
        if body.startswith(marker):
            body = body[len(marker) :].lstrip()
            if not negative:
                negative, body = _strip_sign(body)
            break
    if not _GROUPED_NUMBER.fullmatch(body) or (in_parentheses and negative):
        raise ValueError(f"{text!r} is not an amount of money")
    value = to_cents(body.replace(",", ""))
    return -value if (negative or in_parentheses) and value else value


def percent(value: Decimal | int | str) -> Decimal:
    """Read a percentage: Decimal("12.5"), 12, "12.5", "12.5%", " 7 % " → the number of percent.

    Returns the value exactly as given (no rounding), e.g. percent("12.50%") == Decimal("12.50").
    Negative percentages are read as such; rules that forbid them check separately. Refuses
    floats with `TypeError` and junk, NaN or infinities with `ValueError` naming the input.
    """
    if isinstance(value, str):
        body = value.strip()
        if body.endswith("%"):
            body = body[:-1].rstrip()
        if not _PERCENT_NUMBER.fullmatch(body):
            raise ValueError(f"{value!r} is not a percentage")
        return _checked_decimal(body, "percentage")
    return _checked_decimal(value, "percentage")
