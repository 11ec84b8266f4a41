"""Query pages from the store's indexes, so a page costs the same in a small or a large company.

:func:`indexed_query` answers a parsed query the way :func:`.query.run_query` does over every row,
without reading every row: the order comes from an indexed sort key (``Id``,
``MetaData.LastUpdatedTime``, ``DocNumber`` or the entity's default order, see :mod:`.keys`),
and conditions on ``Id``, ``MetaData.LastUpdatedTime``, ``DocNumber``, ``DisplayName``, ``Name``,
``FullyQualifiedName`` and the implicit ``Active`` filter become SQL. When every condition
translates exactly, SQL skips to the page (``STARTPOSITION``) and counts (``COUNT(*)``) by
itself and only the page's documents are read. Otherwise SQL narrows the candidates (a superset,
e.g. a date-time without an offset is widened by a day) and each candidate is checked with the
query module's own rules, in order, until the page is full. A sort QBO would do on another
property returns ``None``, and the caller evaluates the query over the whole entity.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from .context import Ctx
from .entities import EntityRule
from .keys import FOLD_COLUMNS, SORT_COLUMNS, fold, instant_key
from .query import (
    NAME_LIST_ENTITIES,
    Condition,
    Query,
    Value,
    default_order,
    matches,
)
from .query import temporal as _temporal
from .store import JsonDict, Record

_INTEGER_CHARS = frozenset("0123456789")
_COMPARISONS = frozenset({"=", "<", ">", "<=", ">="})
# A date-time without an offset is read in each stored value's offset; real offsets lie
# within ±14 hours of UTC, so widening by 15 hours keeps every candidate.
_WIDEN_S = 15 * 3600.0
_CHUNK_FIRST = 100
_CHUNK_MAX = 2000


class _Plan:
    def __init__(self, realm: str, entity: str) -> None:
        self.where: list[str] = ["realm = ?", "entity = ?", "deleted = 0"]
        self.params: list[Any] = [realm, entity]
        self.exact = True
        self.selective = False
        """An equality picks few rows: sort what it finds rather than walk the sort index."""

    def add(self, sql: str, *params: Any) -> None:
        self.where.append(sql)
        self.params.extend(params)

    def clause(self, *extra: str) -> str:
        return " AND ".join([*self.where, *extra])


def _as_text(value: Value) -> str:
    if value.kind == "string":
        return str(value.value)
    if value.kind == "boolean":
        return "true" if value.value else "false"
    return value.raw


def _is_integer(text: str) -> bool:
    digits = text[1:] if text.startswith("-") else text
    return bool(digits) and all(ch in _INTEGER_CHARS for ch in digits)


def _id_condition(plan: _Plan, c: Condition) -> bool:
    texts = [_as_text(v) for v in c.values]
    if c.op == "LIKE" or not all(_is_integer(t) for t in texts):
        return False
    numbers = [int(t) for t in texts]
    plan.selective = plan.selective or c.op in ("=", "IN")
    if c.op == "IN":
        plan.add(f"num IN ({', '.join('?' for _ in numbers)})", *numbers)
    else:
        plan.add(f"num {c.op} ?", numbers[0])
    return True


def _text_condition(plan: _Plan, column: str, c: Condition) -> bool:
    if c.op == "LIKE":
        return False
    texts = [_as_text(v) for v in c.values]
    for value, text in zip(c.values, texts, strict=True):
        # A blank matches rows without the property; a date compares as a date: left to Python.
        if value.kind == "string" and (text == " " or _temporal(text) is not None):
            return False
    folded = [fold(t) for t in texts]
    plan.selective = plan.selective or c.op in ("=", "IN")
    if c.op == "IN":
        plan.add(f"{column} IN ({', '.join('?' for _ in folded)})", *folded)
    else:
        plan.add(f"{column} {c.op} ?", folded[0])
    return True


def _time_condition(plan: _Plan, c: Condition) -> bool:
    """Conditions on ``MetaData.LastUpdatedTime``: exact for a date-time with an offset."""
    if c.op not in _COMPARISONS or c.values[0].kind != "string":
        return False
    wanted = _temporal(str(c.values[0].value))
    if wanted is None:
        return False
    if isinstance(wanted, datetime) and wanted.tzinfo is not None:
        plan.add(f"k_updated {c.op} ?", instant_key(wanted.timestamp()))
        return True
    if not isinstance(wanted, datetime):
        wanted = datetime(wanted.year, wanted.month, wanted.day)
    moment = wanted.replace(tzinfo=UTC).timestamp()
    if c.op in (">", ">=", "="):
        plan.add("k_updated >= ?", instant_key(moment - _WIDEN_S))
    if c.op in ("<", "<=", "="):
        plan.add("k_updated <= ?", instant_key(moment + _WIDEN_S))
    plan.add("k_updated IS NOT NULL")
    return False


def _plan(ctx: Ctx, q: Query) -> _Plan:
    plan = _Plan(ctx.realm, q.entity)
    if q.entity in NAME_LIST_ENTITIES and not q.mentions_active:
        plan.add("active = 1")
    for c in q.conditions:
        name = c.field.casefold()
        if name == "id":
            exact = _id_condition(plan, c)
        elif name in FOLD_COLUMNS:
            exact = _text_condition(plan, FOLD_COLUMNS[name], c)
        elif name == "metadata.lastupdatedtime":
            exact = _time_condition(plan, c)
        else:
            exact = False
        plan.exact = plan.exact and exact
    return plan


def _order(q: Query) -> tuple[str, bool] | None:
    """(column, descending) the page is sorted by; None when no index orders it."""
    if not q.order_by:
        _, descending = default_order(q.entity)
        return ("k_updated", True) if descending else ("k_default", False)
    if len(q.order_by) != 1:
        return None
    item = q.order_by[0]
    name = item.field.casefold()
    if name == "id":
        return "num", item.descending
    column = SORT_COLUMNS.get(name)
    return None if column is None else (column, item.descending)


def indexed_query(ctx: Ctx, rule: EntityRule, q: Query) -> tuple[list[JsonDict], int] | None:
    """The page and the number of matching rows (for COUNT; else -1), or None to scan."""
    if not rule.numeric_ids:
        return None
    order = _order(q)
    if order is None:
        return None
    plan = _plan(ctx, q)
    column, descending = order
    with ctx.store.lock:
        if plan.exact:
            return _exact(ctx, rule, q, plan, column, descending)
        return _checked(ctx, rule, q, plan, column, descending)


def _select_ids(
    ctx: Ctx, plan: _Plan, extra: str, order: str, limit: int, offset: int
) -> list[str]:
    rows = ctx.store.select(
        f"SELECT id FROM entities WHERE {plan.clause(extra) if extra else plan.clause()} "
        f"ORDER BY {order} LIMIT ? OFFSET ?",
        (*plan.params, limit, offset),
    )
    return [str(r[0]) for r in rows]


def _count(ctx: Ctx, plan: _Plan, extra: str = "") -> int:
    rows = ctx.store.select(
        f"SELECT COUNT(*) FROM entities WHERE {plan.clause(extra) if extra else plan.clause()}",
        tuple(plan.params),
    )
    return int(rows[0][0])


def _parts(column: str, descending: bool, selective: bool) -> list[tuple[str, str]]:
    """(condition, ORDER BY) of each part in turn: rows with the sort key, then rows without.

    With a selective condition the sort key is written ``+column``, which SQLite cannot take
    from an index, so it looks the rows up by the condition's index and sorts those few.
    """
    direction = "DESC" if descending else "ASC"
    key = f"+{column}" if selective else column
    if column == "num":
        return [("", f"{key} {direction}")]
    return [
        (f"{column} IS NOT NULL", f"{key} {direction}, num ASC"),
        (f"{column} IS NULL", "+num ASC" if selective else "num ASC"),
    ]


def present_fresh(ctx: Ctx, rule: EntityRule, record: Record) -> JsonDict:
    """``rule.present`` for a record just read from the store: nothing else holds its document,
    so the copy the default presentation makes is skipped."""
    if type(rule).present is EntityRule.present:
        return record.doc
    return rule.present(ctx, record)


def _exact(
    ctx: Ctx, rule: EntityRule, q: Query, plan: _Plan, column: str, descending: bool
) -> tuple[list[JsonDict], int]:
    if q.count:
        return [], _count(ctx, plan)
    skip = q.start_position - 1
    wanted = q.max_results
    ids: list[str] = []
    for extra, order in _parts(column, descending, plan.selective):
        found = _select_ids(ctx, plan, extra, order, wanted - len(ids), skip)
        ids.extend(found)
        if len(ids) >= wanted:
            break
        # What this part held before the page: all of it when the page started inside it.
        held = skip + len(found) if found else _count(ctx, plan, extra)
        skip = max(0, skip - held)
    records = ctx.store.get_many(ctx.realm, rule.name, ids)
    return [present_fresh(ctx, rule, record) for record in records], -1


def _candidates(
    ctx: Ctx, rule: EntityRule, plan: _Plan, column: str, descending: bool
) -> Iterator[JsonDict]:
    for extra, order in _parts(column, descending, plan.selective):
        offset = 0
        size = _CHUNK_FIRST
        while True:
            ids = _select_ids(ctx, plan, extra, order, size, offset)
            for record in ctx.store.get_many(ctx.realm, rule.name, ids):
                yield present_fresh(ctx, rule, record)
            if len(ids) < size:
                break
            offset += size
            size = min(size * 2, _CHUNK_MAX)


def _checked(
    ctx: Ctx, rule: EntityRule, q: Query, plan: _Plan, column: str, descending: bool
) -> tuple[list[JsonDict], int]:
    skip = q.start_position - 1
    page: list[JsonDict] = []
    total = 0
    for row in _candidates(ctx, rule, plan, column, descending):
        if not matches(q, row):
            continue
        total += 1
        if q.count:
            continue
        if total > skip:
            page.append(row)
            if len(page) >= q.max_results:
                break
    return ([], total) if q.count else (page, -1)
