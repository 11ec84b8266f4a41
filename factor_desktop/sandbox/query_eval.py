"""A parsed query run over an entity's stored rows the way QBO runs it: conditions, the implicit
active filter, ordering and the page (see `sandbox.query`)."""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from datetime import UTC, date, datetime, time
from decimal import Decimal, InvalidOperation
from typing import Any, Final

from .query_model import (
    _DEFAULT_ORDER,
    _DEFAULT_ORDER_FALLBACK,
    _ID_SEGMENTS,
    NAME_LIST_ENTITIES,
    Condition,
    Query,
    Value,
    _not_queryable,
)

# --------------------------------------------------------------------------------------------
# Evaluation

_MISSING: Final = object()
_DATE_RE: Final = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_DATETIME_RE: Final = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]{1,6})?)?"
    r"(?:Z|[+-][0-9]{2}:?[0-9]{2})?"
)
_INTEGER_RE: Final = re.compile(r"-?[0-9]+")

Scalar = str | int | float | Decimal | bool
Temporal = date | datetime


def run_query(q: Query, rows: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], int]:
    """Rows of the page ``q`` asks for (in QBO's order) and how many rows match in all.

    ``rows`` are the stored entities of ``q.entity``; the page holds the same dict objects.
    For ``COUNT(*)`` the page is empty.
    """
    active_only = q.entity in NAME_LIST_ENTITIES and not q.mentions_active
    matched = [
        row
        for row in rows
        if (not active_only or _is_active(row)) and all(_holds(c, row) for c in q.conditions)
    ]
    if q.count:
        return [], len(matched)
    ordered = _ordered(q, matched)
    start = q.start_position - 1
    return ordered[start : start + q.max_results], len(matched)


def default_order(entity: str) -> tuple[tuple[str, ...], bool]:
    """QBO's order without ORDERBY: (properties, the first a row has sorts it; descending)."""
    default = _DEFAULT_ORDER.get(entity)
    return (default, False) if default else ((_DEFAULT_ORDER_FALLBACK,), True)


def is_active(row: dict[str, Any]) -> bool:
    """Whether a row passes the implicit ``Active = true`` filter of name-list queries."""
    return _is_active(row)


def sort_key(row: dict[str, Any], prop: str) -> tuple[int, Decimal, float, str] | None:
    """The key ORDERBY ``prop`` sorts ``row`` by (None: the row lacks it and sorts last)."""
    return _sort_key(row, prop)


def temporal(text: str) -> date | datetime | None:
    """The date or date-time a literal or stored text stands for, as conditions read it."""
    return _temporal(text)


def matches(q: Query, row: dict[str, Any]) -> bool:
    """Whether ``row`` satisfies every condition of ``q`` and its implicit active filter."""
    if q.entity in NAME_LIST_ENTITIES and not q.mentions_active and not _is_active(row):
        return False
    return all(_holds(c, row) for c in q.conditions)


def _is_active(row: dict[str, Any]) -> bool:
    active = _get(row, "Active")
    if isinstance(active, bool):
        return active
    return not (isinstance(active, str) and active.casefold() == "false")


def _get(node: dict[str, Any], key: str) -> Any:
    if key in node:
        return node[key]
    folded = key.casefold()
    for name, item in node.items():
        if name.casefold() == folded:
            return item
    return _MISSING


def _candidates(row: dict[str, Any], prop: str) -> list[tuple[Scalar, bool]]:
    """The scalar values ``prop`` names in ``row``, each with whether it is an id.

    A reference yields its ``value``; lists along the way yield one candidate per element.
    """
    segments = prop.split(".")
    nodes: list[Any] = [row]
    for segment in segments:
        found: list[Any] = []
        for node in nodes:
            for item in node if isinstance(node, list) else (node,):
                if isinstance(item, dict):
                    child = _get(item, segment)
                    if child is not _MISSING and child is not None:
                        found.append(child)
        nodes = found
    is_id = segments[-1].casefold() in _ID_SEGMENTS
    out: list[tuple[Scalar, bool]] = []
    for node in nodes:
        if isinstance(node, dict):
            ref = _get(node, "value")
            if ref is _MISSING or isinstance(ref, dict | list):
                raise _not_queryable(prop)
            if ref is not None:
                out.append((ref, True))
        elif isinstance(node, list):
            raise _not_queryable(prop)
        elif isinstance(node, str | int | float | Decimal):
            out.append((node, is_id))
        else:
            out.append((str(node), is_id))
    return out


def _holds(condition: Condition, row: dict[str, Any]) -> bool:
    candidates = _candidates(row, condition.field)
    if not candidates:
        return condition.op in ("=", "IN") and any(
            v.kind == "string" and v.value == " " for v in condition.values
        )
    return any(_satisfies(condition, actual, is_id) for actual, is_id in candidates)


def _satisfies(condition: Condition, actual: Scalar, is_id: bool) -> bool:
    op = condition.op
    if op == "LIKE":
        if not isinstance(actual, str):
            return False
        return _like_pattern(condition.values[0].raw).fullmatch(actual) is not None
    if op == "IN":
        return any(_compare(actual, v, is_id) == 0 for v in condition.values)
    result = _compare(actual, condition.values[0], is_id)
    if result is None:
        return False
    if op == "=":
        return result == 0
    if op == "<":
        return result < 0
    if op == ">":
        return result > 0
    if op == "<=":
        return result <= 0
    return result >= 0


@functools.lru_cache(maxsize=256)
def _like_pattern(raw: str) -> re.Pattern[str]:
    parts: list[str] = []
    chars: Iterator[str] = iter(raw)
    for ch in chars:
        if ch == "\\":
            parts.append(re.escape(next(chars, "")))
        elif ch == "%":
            parts.append(".*")
        else:
            parts.append(re.escape(ch))
    return re.compile("".join(parts), re.IGNORECASE | re.DOTALL)


def _sign(a: Any, b: Any) -> int:
    return int(a > b) - int(a < b)


def _compare(actual: Scalar, literal: Value, is_id: bool) -> int | None:
    """-1, 0 or 1 comparing a stored value with a literal; None when they cannot compare."""
    if isinstance(actual, bool):
        flag = _as_bool(literal)
        return None if flag is None else _sign(actual, flag)
    if isinstance(actual, int | float | Decimal):
        left = _to_decimal(actual)
        right = _as_decimal(literal)
        if left is None or right is None:
            return None
        return _sign(left, right)
    text = _as_text(literal)
    stored = _temporal(actual)
    if stored is not None and literal.kind == "string":
        wanted = _temporal(text)
        if wanted is not None:
            return _compare_temporal(stored, wanted)
    if is_id and _INTEGER_RE.fullmatch(actual) and _INTEGER_RE.fullmatch(text):
        return _sign(int(actual), int(text))
    return _sign(actual.casefold(), text.casefold())


def _as_bool(literal: Value) -> bool | None:
    if literal.kind == "boolean":
        return bool(literal.value)
    if literal.kind == "string":
        word = str(literal.value).strip().casefold()
        if word in ("true", "false"):
            return word == "true"
    return None


def _to_decimal(number: int | float | Decimal) -> Decimal | None:
    try:
        value = Decimal(str(number)) if isinstance(number, float) else Decimal(number)
    except InvalidOperation:
        return None
    return value if value.is_finite() else None


def _as_decimal(literal: Value) -> Decimal | None:
    if isinstance(literal.value, Decimal):
        return literal.value
    if literal.kind == "integer" and isinstance(literal.value, int):
        return Decimal(literal.value)
    if literal.kind == "string":
        try:
            value = Decimal(str(literal.value).strip())
        except InvalidOperation:
            return None
        return value if value.is_finite() else None
    return None


def _as_text(literal: Value) -> str:
    if literal.kind == "string":
        return str(literal.value)
    if literal.kind == "boolean":
        return "true" if literal.value else "false"
    return literal.raw


def _temporal(text: str) -> Temporal | None:
    try:
        if _DATE_RE.fullmatch(text):
            return date.fromisoformat(text)
        if _DATETIME_RE.fullmatch(text):
            return datetime.fromisoformat(text)
    except ValueError:
        return None
    return None


def _compare_temporal(stored: Temporal, wanted: Temporal) -> int:
    if isinstance(stored, datetime):
        if not isinstance(wanted, datetime):
            wanted = datetime.combine(wanted, time(), tzinfo=stored.tzinfo)
        elif (stored.tzinfo is None) != (wanted.tzinfo is None):
            if stored.tzinfo is None:
                stored = stored.replace(tzinfo=wanted.tzinfo)
            else:
                wanted = wanted.replace(tzinfo=stored.tzinfo)
        return _sign(stored, wanted)
    if isinstance(wanted, datetime):
        wanted = wanted.date()
    return _sign(stored, wanted)


# Sort keys: (rank, number, instant, text) so that any two keys compare without type errors.
_SortKey = tuple[int, Decimal, float, str]
_NO_KEY: Final[_SortKey] = (0, Decimal(0), 0.0, "")


def _sort_key(row: dict[str, Any], prop: str) -> _SortKey | None:
    candidates = _candidates(row, prop)
    if not candidates:
        return None
    actual, is_id = candidates[0]
    if isinstance(actual, bool):
        return (0, Decimal(int(actual)), 0.0, "")
    if isinstance(actual, int | float | Decimal):
        number = _to_decimal(actual)
        return None if number is None else (1, number, 0.0, "")
    if is_id and _INTEGER_RE.fullmatch(actual):
        return (1, Decimal(int(actual)), 0.0, "")
    instant = _temporal(actual)
    if instant is not None:
        return (2, Decimal(0), _timestamp(instant), "")
    return (3, Decimal(0), 0.0, actual)


def _timestamp(value: Temporal) -> float:
    if not isinstance(value, datetime):
        value = datetime.combine(value, time(), tzinfo=UTC)
    elif value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.timestamp()


def _placed(row: dict[str, Any], props: tuple[str, ...], descending: bool) -> tuple[int, _SortKey]:
    """Sort key on the first of ``props`` the row has; rows with none of them go last."""
    key = next((k for k in (_sort_key(row, prop) for prop in props) if k is not None), None)
    if key is None:
        # Sorting descending reverses the flag as well, so it is inverted there.
        return (0 if descending else 1, _NO_KEY)
    return (1 if descending else 0, key)


def _ordered(q: Query, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    keys: list[tuple[tuple[str, ...], bool]] = [
        ((item.field,), item.descending) for item in q.order_by
    ]
    if not keys:
        keys = [default_order(q.entity)]
    out = sorted(rows, key=functools.partial(_placed, props=("Id",), descending=False))
    for props, descending in reversed(keys):
        out.sort(
            key=functools.partial(_placed, props=props, descending=descending), reverse=descending
        )
    return out
