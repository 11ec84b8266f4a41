"""Column types that keep money exact and datetimes unambiguous in SQLite.

SQLite has no decimal type: SQLAlchemy's Numeric would round-trip through a float there. Money is
therefore stored as whole cents in an INTEGER column and handed back as a `Decimal` with two
places; other exact decimals (percentages, quantities) are stored as canonical text.
Datetimes are stored as UTC ISO-8601 text and handed back timezone-aware.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Dialect, Integer, String
from sqlalchemy.types import TypeDecorator

CENT = Decimal("0.01")


class Money(TypeDecorator[Decimal]):
    """A money amount in cents. Refuses floats and amounts with fractions of a cent."""

    impl = Integer
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> int | None:
        if value is None:
            return None
        if isinstance(value, float):
            raise TypeError("money must be a Decimal, not a float")
        amount = Decimal(value)
        if amount != amount.quantize(CENT):
            raise ValueError(f"money amount {amount} has fractions of a cent")
        return int(amount * 100)

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        return (Decimal(int(value)) / 100).quantize(CENT)


class ExactDecimal(TypeDecorator[Decimal]):
    """A decimal stored as canonical text (percentages, quantities, rates)."""

    impl = String(40)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> str | None:
        if value is None:
            return None
        if isinstance(value, float):
            raise TypeError("decimals must be Decimal, not float")
        amount = Decimal(value)
        if not amount.is_finite():
            raise ValueError("decimal must be finite")
        return format(amount, "f")

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        return None if value is None else Decimal(value)


class UtcDateTime(TypeDecorator[datetime]):
    """A timezone-aware datetime, stored as UTC ISO-8601 text that sorts chronologically."""

    impl = String(32)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> str | None:
        if value is None:
            return None
        if not isinstance(value, datetime):
            raise TypeError("expected a datetime")
        if value.tzinfo is None:
            raise ValueError("datetimes must be timezone-aware")
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return datetime.strptime(value, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)
