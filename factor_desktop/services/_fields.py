"""Checks on the values administrators type, shared by every service.

Inputs that may be left out of an update default to `UNSET`: a field that is `UNSET` is left as
it is, while `None` clears an optional field.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from enum import Enum
from typing import Any, Final, TypeVar

from sqlalchemy.orm import Session

from factor_desktop.domain.money import percent, to_cents
from factor_desktop.services.errors import ServiceError


class Unset(Enum):
    """The type of `UNSET`: an input that was not given."""

    UNSET = "unset"


UNSET: Final = Unset.UNSET

M = TypeVar("M")

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_SINGLE_LINE_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


def get_record(session: Session, model: type[M], record_id: int, what: str) -> M:
    """The record of `model` with `record_id`, or a refusal naming what was looked for."""
    record = session.get(model, record_id)
    if record is None:
        raise ServiceError(f"There is no {what} with id {record_id}; it may have been deleted.")
    return record


def text(
    value: str,
    label: str,
    field: str,
    max_length: int,
    *,
    multiline: bool = False,
) -> str:
    """Required text: surrounding spaces removed, not empty, not too long, printable."""
    result = optional_text(value, label, field, max_length, multiline=multiline)
    if result is None:
        raise ServiceError(f"{label} is required.", field=field)
    return result


def optional_text(
    value: str | None,
    label: str,
    field: str,
    max_length: int,
    *,
    multiline: bool = False,
) -> str | None:
    """Optional text: None or blank becomes None; otherwise checked like `text`."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise ServiceError(f"{label} must be text.", field=field)
    result = value.strip()
    if not result:
        return None
    if len(result) > max_length:
        raise ServiceError(
            f"{label} is {len(result)} characters long; at most {max_length} are allowed.",
            field=field,
        )
    pattern = _CONTROL if multiline else _SINGLE_LINE_CONTROL
    if pattern.search(result):
        raise ServiceError(f"{label} contains characters that can't be printed.", field=field)
    return result


def email(value: str | None, field: str = "email") -> str | None:
    result = optional_text(value, "Email", field, 200)
    if result is not None and not _EMAIL.fullmatch(result):
        raise ServiceError(f"Email {result!r} is not an email address.", field=field)
    return result


def whole_number(
    value: int | None, label: str, field: str, low: int, high: int, *, optional: bool = True
) -> int | None:
    if value is None:
        if optional:
            return None
        raise ServiceError(f"{label} is required.", field=field)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ServiceError(f"{label} must be a whole number.", field=field)
    if not low <= value <= high:
        raise ServiceError(f"{label} must be from {low} to {high}, not {value}.", field=field)
    return value


def flag(value: bool, label: str, field: str) -> bool:
    if not isinstance(value, bool):
        raise ServiceError(f"{label} must be yes or no.", field=field)
    return value


def money(value: Decimal, label: str, field: str, *, allow_negative: bool = False) -> Decimal:
    """An amount already parsed to a Decimal: whole cents, and not negative unless allowed."""
    try:
        cents = to_cents(value)
    except (TypeError, ValueError) as exc:
        raise ServiceError(f"{label}: {exc}.", field=field) from None
    if cents != value:
        raise ServiceError(
            f"{label} {value} has fractions of a cent; enter whole cents.", field=field
        )
    if cents < 0 and not allow_negative:
        raise ServiceError(f"{label} can't be negative.", field=field)
    return cents


def percentage(value: Decimal, label: str, field: str, high: Decimal | None = None) -> Decimal:
    """A percentage from 0 (to `high` when given), kept exactly as entered."""
    try:
        result = percent(value)
    except (TypeError, ValueError) as exc:
        raise ServiceError(f"{label}: {exc}.", field=field) from None
    if result < 0:
        raise ServiceError(f"{label} can't be negative.", field=field)
    if high is not None and result > high:
        raise ServiceError(f"{label} can't be more than {high}%.", field=field)
    return result


def a_date(value: date, label: str, field: str) -> date:
    if not isinstance(value, date):
        raise ServiceError(f"{label} must be a date.", field=field)
    return value


def given(values: Mapping[str, Any]) -> dict[str, Any]:
    """The entries of `values` that were given (not `UNSET`)."""
    return {key: value for key, value in values.items() if value is not UNSET}


def apply(record: object, values: Mapping[str, Any]) -> bool:
    """Set the attributes of `record` that differ from `values`; True when any did."""
    changed = False
    for key, value in values.items():
        if getattr(record, key) != value:
            setattr(record, key, value)
            changed = True
    return changed
