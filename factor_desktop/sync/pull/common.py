"""What every part of the pull shares: the entities it reads, and readers of QuickBooks values."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from factor_desktop.domain.errors import RuleViolation
from factor_desktop.domain.money import to_cents
from factor_desktop.qbo.client import JsonDict
from factor_desktop.services.errors import ServiceError

#: The entities a pull reads, in the order they are applied.
PULL_ENTITIES: tuple[str, ...] = ("Purchase", "Bill", "Payment", "Invoice", "Attachable")
#: `QboRecord.kind` of a QuickBooks record kept to be applied at a later pass.
WAITING = "waiting"

EXPENSE_TXNS = ("Purchase", "Bill")
ACCOUNT_LINE = "AccountBasedExpenseLineDetail"
ITEM_LINE = "ItemBasedExpenseLineDetail"
DIRECTION = "pull"
VERBS = {
    "created": "create",
    "updated": "update",
    "deleted": "delete",
    "voided": "void",
    "downloaded": "download",
    "blocked": "block",
    "failed": "fail",
    "skipped": "skip",
    "linked": "link",
}
# Keys of an Attachable that carry short-lived signed links: never stored, never logged.
LINK_KEYS = ("TempDownloadUri", "ThumbnailTempDownloadUri")


class BadData(ValueError):
    """QuickBooks sent a record this pass cannot read."""


# Errors that stop one record, not the pass: refusals by the services and the domain rules, and
# records QuickBooks sent in a shape that cannot be read.
RECORD_ERRORS: tuple[type[Exception], ...] = (
    ServiceError,
    RuleViolation,
    ValueError,
    InvalidOperation,
)


def read_money(value: Any, what: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, (int, float, str, Decimal)):
        raise BadData(f"QuickBooks sent no readable {what}.")
    try:
        return to_cents(Decimal(str(value)))
    except (InvalidOperation, ValueError, TypeError):
        raise BadData(f"QuickBooks sent {what} {value!r}, which is not an amount.") from None


def read_date(value: Any, what: str) -> date:
    if not isinstance(value, str):
        raise BadData(f"QuickBooks sent no {what}.")
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        raise BadData(f"QuickBooks sent {what} {value!r}, which is not a date.") from None


def read_text(value: Any, limit: int) -> str | None:
    if not isinstance(value, str):
        return None
    text = " ".join(value.split()) if limit <= 300 else value.strip()
    return text[:limit] if text else None


def read_id(row: Mapping[str, Any]) -> str:
    raw = row.get("Id")
    if raw in (None, ""):
        raise BadData("QuickBooks sent a record without an Id.")
    return str(raw)


def is_voided(row: Mapping[str, Any]) -> bool:
    """QuickBooks voids by zeroing the amounts and putting "Voided" in the private note."""
    note = row.get("PrivateNote")
    total = row.get("TotalAmt", 0)
    zero = isinstance(total, (int, float)) and not isinstance(total, bool) and total == 0
    return zero and isinstance(note, str) and note.startswith("Voided")


def without_links(row: Mapping[str, Any]) -> JsonDict:
    return {key: value for key, value in row.items() if key not in LINK_KEYS}
