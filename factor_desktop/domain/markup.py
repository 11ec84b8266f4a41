"""Markup on billable expenses.

Each expense type carries a markup percentage, or None when the expense is billed at cost. The
billable amount of an expense is

    billable = cost * (1 + markup% / 100), computed exactly and rounded once to the cent

with the rule in `money` (ROUND_HALF_UP, halves away from zero). With no markup the billable
amount is the cost, still taken to the cent. The markup amount is what the markup adds on top of
the cost as recorded: markup = billable - to_cents(cost), so cost + markup == billable exactly.

Credits and refunds (negative costs) are marked up symmetrically: a refund of a marked-up
expense reverses exactly what the original billed, billable_amount(-c, p) == -billable_amount(c, p).
A negative markup percentage is not a markup and is refused.
"""

from __future__ import annotations

from decimal import Decimal

from factor_desktop.domain.money import exact, percent, to_cents


def validate_markup_percent(markup_percent: Decimal | str | None) -> Decimal | None:
    """Check a markup setting and return it as a `Decimal` (or None for "bill at cost").

    Accepts a `Decimal`, a string such as "15" or "15%", or None. Zero is allowed (billed at
    cost, but recorded as an explicit 0% markup). Raises `ValueError` for a negative or
    unreadable percentage and `TypeError` for a float.
    """
    if markup_percent is None:
        return None
    value = percent(markup_percent)
    if value < 0:
        raise ValueError(
            f"A markup of {value}% is negative. Enter 0 or more, or leave the markup empty "
            "to bill the expense at cost."
        )
    return value


def billable_amount(cost: Decimal, markup_percent: Decimal | None) -> Decimal:
    """What the client is billed for an expense: cost * (1 + markup/100), rounded once to the cent.

    `markup_percent` None means no markup: the cost itself, taken to the cent. Negative costs
    (credits, refunds) are marked up symmetrically. Raises `ValueError` for a negative markup
    and `TypeError` for floats.
    """
    pct = validate_markup_percent(markup_percent)
    if pct is None:
        return to_cents(cost)
    return to_cents(exact(cost, "cost") * (100 + exact(pct, "markup")) / 100)


def markup_amount(cost: Decimal, markup_percent: Decimal | None) -> Decimal:
    """The markup added on top of the cost: billable_amount(cost, pct) - to_cents(cost).

    Zero when there is no markup. Negative for a negative cost (a refund reverses its markup).
    """
    return billable_amount(cost, markup_percent) - to_cents(cost)
