"""What the record services share: checking a `...Fields` input, the natural keys (names unique
regardless of capitalization) and the import's in-session indexes of them, and saving a record.
"""

from __future__ import annotations

import contextlib
import dataclasses
import sqlite3
from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any, TypeVar, cast

from sqlalchemy import select
from sqlalchemy.orm import InstrumentedAttribute, Session

from factor_desktop.services._fields import UNSET, apply, get_record
from factor_desktop.services.errors import Change, Saved, ServiceError
from factor_desktop.store.models import Client, ExpenseType, Project, ServiceType, TaxTerm

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

R = TypeVar("R")
M = TypeVar("M")
Check = Callable[[Any], Any]


HUNDRED = Decimal(100)


def _checked(fields: DataclassInstance, checks: Mapping[str, Check]) -> dict[str, Any]:
    """The checked values of the fields that were given."""
    values: dict[str, Any] = {}
    for item in dataclasses.fields(fields):
        value = getattr(fields, item.name)
        if value is not UNSET:
            values[item.name] = checks[item.name](value)
    return values


def _require(values: Mapping[str, Any], field: str, label: str) -> None:
    if values.get(field) is None:
        raise ServiceError(f"{label} is required.", field=field)


# --- natural keys ---------------------------------------------------------------------------
#
# Names are unique ignoring capitalization, which SQLite cannot index (its lower() folds ASCII
# only). One record at a time, a scan of the column is fine. An import saves thousands in one
# session, so it turns on indexes of the folded values: each column is read once (ids and values
# only) into a scratch database, and every record the import saves is entered as it is saved.
# The scratch database is on disk (private, deleted when closed), so an import of any size holds
# only the records saved since the last flush in memory. The import also defers the flush of new
# records to the end of each batch (`flush_imported`), so they are inserted many at a time.

_INDEXES = "factor.natural_key_indexes"
_SCRATCH = "factor.natural_key_scratch"
_DEFER_FLUSH = "factor.defer_flush"
_PINNED = "factor.pinned_records"
_BUDGETS = "factor.budget_index"
_CACHES = "factor.import_caches"

Ref = Any  # an id of a stored record, or a record not yet flushed
_Key = tuple[Any, str]  # (scope value, folded value)


class _Index:
    """One column's natural keys: (scope, folded value) -> the values and records that have it.

    Stored records are rows of a scratch table (with their ids, so a reference is checked
    without a read of the store); records saved since the last flush have no id yet and wait
    in memory until `settle`.
    """

    def __init__(self, db: sqlite3.Connection, table: str) -> None:
        self.db = db
        self.table = table
        db.execute(f"CREATE TABLE {table} (scope, folded TEXT, value TEXT, ref INTEGER)")
        db.execute(f"CREATE INDEX {table}_key ON {table} (folded, scope)")
        db.execute(f"CREATE TABLE {table}_ids (id INTEGER PRIMARY KEY)")
        self.pending: dict[_Key, list[tuple[str, Any]]] = {}

    def add_stored(self, rows: Iterable[tuple[Any, str, str, int]]) -> None:
        """Enter stored records: (scope, folded value, value, id)."""
        self.db.executemany(f"INSERT INTO {self.table} VALUES (?, ?, ?, ?)", rows)
        self.db.execute(f"INSERT OR IGNORE INTO {self.table}_ids SELECT ref FROM {self.table}")

    def entries(self, key: _Key) -> list[tuple[str, Ref]]:
        scope, folded = key
        found: list[tuple[str, Ref]] = self.db.execute(
            f"SELECT value, ref FROM {self.table} WHERE folded = ? AND scope IS ?", (folded, scope)
        ).fetchall()
        return found + self.pending.get(key, [])

    def add(self, key: _Key, value: str, ref: Ref) -> None:
        if isinstance(ref, int):
            self.db.execute(f"INSERT INTO {self.table} VALUES (?, ?, ?, ?)", (*key, value, ref))
            self.db.execute(f"INSERT OR IGNORE INTO {self.table}_ids VALUES (?)", (ref,))
        else:
            self.pending.setdefault(key, []).append((value, ref))

    def remove(self, key: _Key, record: Any) -> None:
        if record.id is not None:
            self.db.execute(
                f"DELETE FROM {self.table} WHERE folded = ? AND scope IS ? AND ref = ?",
                (key[1], key[0], record.id),
            )
        if key in self.pending:
            self.pending[key] = [e for e in self.pending[key] if e[1] is not record]

    def has_id(self, record_id: int) -> bool:
        found = self.db.execute(f"SELECT 1 FROM {self.table}_ids WHERE id = ?", (record_id,))
        return found.fetchone() is not None

    def settle(self) -> None:
        """Enter the records saved since the last flush under the ids the flush gave them."""
        pending, self.pending = self.pending, {}
        for key, refs in pending.items():
            for value, record in refs:
                self.add(key, value, record.id)


BudgetKey = tuple[int, int | None, str | None]  # (project, service type, expense category)


class BudgetIndex:
    """An import's index of the budgets by project and service type or expense category, kept
    like `_Index`: stored ones in the scratch database, ones saved since the last flush here."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db
        db.execute("CREATE TABLE budgets (project INTEGER, service INTEGER, category TEXT, ref)")
        db.execute("CREATE INDEX budgets_key ON budgets (project, service, category)")
        self.pending: dict[BudgetKey, Any] = {}

    def add_stored(self, rows: Iterable[tuple[int, int | None, str | None, int]]) -> None:
        self.db.executemany("INSERT INTO budgets VALUES (?, ?, ?, ?)", rows)

    def get(self, key: BudgetKey) -> Ref | None:
        if key in self.pending:
            return self.pending[key]
        found = self.db.execute(
            "SELECT ref FROM budgets WHERE project = ? AND service IS ? AND category IS ?", key
        ).fetchone()
        return None if found is None else int(found[0])

    def note(self, key: BudgetKey, budget: Any) -> None:
        self.pending[key] = budget

    def settle(self) -> None:
        pending, self.pending = self.pending, {}
        self.add_stored((*key, budget.id) for key, budget in pending.items())


def budget_index(session: Session, read: Callable[[], Iterable[Any]]) -> BudgetIndex | None:
    """The import's budget index (built from `read` on first use); None outside an import."""
    if session.info.get(_INDEXES) is None:
        return None
    index: BudgetIndex | None = session.info.get(_BUDGETS)
    if index is None:
        index = session.info[_BUDGETS] = BudgetIndex(session.info[_SCRATCH])
        index.add_stored((p, s, c, i) for i, p, s, c in read())
    return index


def start_import_indexes(session: Session) -> None:
    """Keep natural-key indexes in this session and defer flushes (for an import's session)."""
    session.info[_INDEXES] = {}
    # An empty name is a private database on disk that SQLite deletes when it is closed.
    session.info[_SCRATCH] = sqlite3.connect("", check_same_thread=False)
    session.info[_DEFER_FLUSH] = True


def stop_import_indexes(session: Session) -> None:
    scratch = session.info.pop(_SCRATCH, None)
    if scratch is not None:
        scratch.close()
    for key in (_INDEXES, _DEFER_FLUSH, _PINNED, _BUDGETS, _CACHES):
        session.info.pop(key, None)


def import_cache(session: Session, name: str, build: Callable[[sqlite3.Connection], R]) -> R | None:
    """A value an import's session keeps until the import ends, built on first use (given the
    import's scratch database to keep large data in); None outside an import, where the caller
    reads the store instead."""
    if session.info.get(_INDEXES) is None:
        return None
    caches: dict[str, Any] = session.info.setdefault(_CACHES, {})
    if name not in caches:
        caches[name] = build(session.info[_SCRATCH])
    return cast(R, caches[name])


def flush_imported(session: Session) -> None:
    """Insert the records saved since the last flush, then let go of them to bound memory.

    The indexes keep the records' ids, not the records; a record needed again is read back.
    """
    session.flush()
    indexes: dict[Any, _Index] | None = session.info.get(_INDEXES)
    if indexes is None:
        return
    for index in indexes.values():
        index.settle()
    budgets: BudgetIndex | None = session.info.get(_BUDGETS)
    if budgets is not None:
        budgets.settle()
    # Everything is in the database now. Records still needed (the short lists the import
    # pinned) stay usable detached: their loaded values are read, never lazily loaded.
    session.expunge_all()


def _index(
    session: Session, column: InstrumentedAttribute[str], scope: InstrumentedAttribute[Any] | None
) -> _Index | None:
    indexes: dict[Any, _Index] | None = session.info.get(_INDEXES)
    if indexes is None:
        return None
    model = column.class_
    key = (model, column.key)
    index = indexes.get(key)
    if index is None:
        index = _Index(session.info[_SCRATCH], f"keys_{len(indexes)}")
        columns: list[Any] = [model.id, column, scope if scope is not None else model.id]
        index.add_stored(
            (scope_value if scope is not None else None, value.casefold(), value, record_id)
            for record_id, value, scope_value in session.execute(select(*columns))
        )
        indexes[key] = index
    return index


def _check_exists(session: Session, model: type[Any], record_id: int, what: str) -> None:
    """Refuse an id that names no record; ids an import's index holds need no read."""
    indexes: dict[Any, _Index] | None = session.info.get(_INDEXES)
    if indexes is not None and any(
        kind is model and index.has_id(record_id) for (kind, _name), index in indexes.items()
    ):
        return
    with _deferred(session):
        get_record(session, model, record_id, what)


def _load(session: Session, model: type[M], record_id: int, what: str) -> M:
    """A record of a short list (a service type, ...); an import keeps each it loads at hand."""
    if session.info.get(_INDEXES) is None:
        return get_record(session, model, record_id, what)
    pinned: dict[tuple[type[Any], int], Any] = session.info.setdefault(_PINNED, {})
    record = pinned.get((model, record_id))
    if record is None:
        with _deferred(session):
            record = pinned[(model, record_id)] = get_record(session, model, record_id, what)
    return cast(M, record)


def _resolve(session: Session, model: Any, ref: Ref) -> Any:
    if not isinstance(ref, int):
        return ref
    with session.no_autoflush:  # the import's pending records go in at its next flush
        return session.get(model, ref)


def _same(ref: Ref, record: Any) -> bool:
    if record is None:
        return False
    if isinstance(ref, int):
        return ref == getattr(record, "id", None)
    return ref is record


def _clash(
    session: Session,
    column: InstrumentedAttribute[str],
    value: str,
    own: Any,
    scope: InstrumentedAttribute[Any] | None = None,
    scope_value: Any = None,
) -> str | None:
    """The existing value of `column` equal to `value` ignoring case, on another record."""
    wanted = value.casefold()
    index = _index(session, column, scope)
    if index is not None:
        for other, ref in index.entries((scope_value if scope else None, wanted)):
            if not _same(ref, own):
                return other
        return None
    model = column.class_
    own_id = getattr(own, "id", None)
    where = [] if scope is None else [scope == scope_value]
    for other_id, other in session.execute(select(model.id, column).where(*where)):
        if other_id != own_id and other.casefold() == wanted:
            return str(other)
    return None


def _refuse_clash(
    session: Session,
    column: InstrumentedAttribute[str],
    value: str,
    own: Any,
    what: str,
    field: str,
    scope: InstrumentedAttribute[Any] | None = None,
    scope_value: Any = None,
) -> None:
    other = _clash(session, column, value, own, scope, scope_value)
    if other is None:
        return
    if other == value:
        raise ServiceError(f"{what} {value!r} already exists.", field=field)
    raise ServiceError(
        f"{what} {value!r} is the same as the existing {other!r} apart from capitalization; "
        "QuickBooks Online treats them as one name.",
        field=field,
    )


def _find(session: Session, column: InstrumentedAttribute[str], value: str) -> Any:
    index = _index(session, column, None)
    if index is not None:
        for other, ref in index.entries((None, value.casefold())):
            if other == value:
                return _resolve(session, column.class_, ref)
        return None
    return session.scalars(select(column.class_).where(column == value)).first()


# The natural keys of each kind of record: (column, the column that scopes it).
_KEYS: dict[type[Any], list[tuple[str, str | None]]] = {
    Client: [("name", None)],
    Project: [("number", None), ("name", "client_id")],
    ServiceType: [("name", None)],
    ExpenseType: [("name", None)],
    TaxTerm: [("code", None)],
}


def _keys_of(record: Any) -> list[tuple[str, _Key, str]]:
    keys = []
    for name, scope in _KEYS.get(type(record), []):
        value = getattr(record, name)
        if isinstance(value, str):
            scoped = getattr(record, scope) if scope else None
            keys.append((name, (scoped, value.casefold()), value))
    return keys


def _reindex(session: Session, record: Any, before: list[tuple[str, _Key, str]]) -> None:
    """Move `record` in the session's indexes from its keys `before` to its keys now."""
    indexes: dict[Any, _Index] | None = session.info.get(_INDEXES)
    if indexes is None:
        return
    after = _keys_of(record)
    if after == before:
        return
    for name, key, _value in before:
        index = indexes.get((type(record), name))
        if index is not None:
            index.remove(key, record)
    for name, key, value in after:
        index = indexes.get((type(record), name))
        if index is not None:
            index.add(key, value, record.id if record.id is not None else record)


def _deferred(session: Session) -> contextlib.AbstractContextManager[Any]:
    """While an import defers its flushes, a lookup does not flush them one by one.

    The import refuses two rows with the same natural key itself, so a lookup need not see the
    records it has not inserted yet.
    """
    return session.no_autoflush if session.info.get(_DEFER_FLUSH) else contextlib.nullcontext()


def _store(
    session: Session, model: Callable[..., R], record: R | None, values: Mapping[str, Any]
) -> Saved[R]:
    """A new `model` record with `values`, or `record` with them applied; added, flushed and
    re-indexed as `_finish` does."""
    if record is None:
        return _finish(session, model(**values), Change.CREATED)
    before = _keys_of(record)
    changed = apply(record, values)
    return _finish(session, record, Change.UPDATED if changed else Change.UNCHANGED, before)


def _finish(session: Session, record: R, change: Change, before: Any = ()) -> Saved[R]:
    if change is Change.CREATED:
        session.add(record)
    if not session.info.get(_DEFER_FLUSH):
        session.flush()
    if change is not Change.UNCHANGED:
        _reindex(session, record, list(before))
    return Saved(record, change)


def find_key(
    session: Session, column: InstrumentedAttribute[str], value: str
) -> tuple[int, str] | None:
    """The id of the record whose `column` is exactly `value` (and the value); nothing loaded."""
    index = _index(session, column, None)
    if index is None:
        row = session.execute(
            select(column.class_.id, column).where(column == value).limit(1)
        ).first()
        return None if row is None else (int(row[0]), str(row[1]))
    for other, ref in index.entries((None, value.casefold())):
        if other == value:
            if not isinstance(ref, int):
                session.flush()  # a record this import has not inserted yet
                ref = ref.id
            return int(ref), other
    return None
