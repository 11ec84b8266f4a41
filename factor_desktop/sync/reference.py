"""The QuickBooks reference cache, and how a sync pass reads what changed in QuickBooks.

`refresh_reference` keeps `qbo_cache` in step with the company's customers (sub-customers and
projects included), vendors, items, accounts, tax codes, tax rates and terms: the lists the mapping
and linking screens offer, and the names the sync log shows. It also keeps the company's
Preferences (one row, entity "Preferences"): whether Automated Sales Tax is on, and the sales-form
custom fields.

Tax rates
---------
A US tax code's sales rate is the sum of the rates it combines: each entry of
`SalesTaxRateList.TaxRateDetail` names a TaxRate (`TaxRateRef`), whose `RateValue` is a percent
("8.5" for 8.5%); `qbo.mappers.effective_sales_rate` adds them up from the cached TaxRate rows.
TaxCode and TaxRate are not covered by change data capture, and the Preferences are one record:
all three are read in full on the first pass, on a full sync, when the lists are refreshed on
purpose (`map refresh`, "Refresh QuickBooks lists": a "lists" run), and otherwise once
`SLOW_LISTS_EVERY` has passed since they were last read. Tax codes and rates change rarely, and a
pass that has nothing to do then asks QuickBooks one question: the change data capture below.

How changes are read (shared with the pull step, see `read_changes`)
--------------------------------------------------------------------
Each QuickBooks entity has a `ChangeCursor`: the start of the last pass whose changes of that
entity are committed. A pass reads an entity

* in full (a paged query, inactive names included) on the first pass, on a full sync, when the
  cursor is older than QuickBooks's 30-day change window, and for entities change data capture
  does not cover (TaxCode, TaxRate);
* otherwise by change data capture (CDC) since the cursor less `CDC_OVERLAP`, so a change saved
  in QuickBooks while the previous pass was reading is not missed (reading it twice is harmless:
  applying a change is idempotent).

One CDC request serves all the entities read that way, the pull's included: the reference step
asks for the pull's entities too and keeps their answer in the pass (`SyncContext.prefetched`)
for the pull step, so an idle pass makes a single request. QuickBooks answers at most 1000 objects
per request (and may refuse a larger answer outright). When it does, typically right after a bulk
push (our own writes come back), the period is narrowed rather than read in full: one batch
request asks every entity for the objects changed since the cursor, ordered by their
`MetaData.LastUpdatedTime` (a query per entity, up to 1000 each; an entity with more is paged
on). A query does not return deleted objects, which CDC does, so each entity read that way is
marked for a deletion sweep: the next pass that reads the slow lists reads it in full once. A
full read is complete, so what it does not return no longer exists in QuickBooks (for names:
merged away), which is how a full read finds deletions.

The caller applies the rows, commits, and only then moves the entity's cursor to the time the pass
started (`ctx.now`), with `applied_through`, the newest `LastUpdatedTime` among the changes read;
a pass that stops half-way reads the same changes again next time. The overlap absorbs a
difference of up to five minutes between this computer's clock and QuickBooks's, but a read never
starts before `applied_through` (less a second): that is QuickBooks' own clock, so what was applied
is not read again, and a bulk change (our own push of a thousand invoices) costs one narrowed read,
not one every pass for five minutes.

The cache
---------
One `qbo_cache` row per list object, with QuickBooks's JSON in `data`: `name` (DisplayName or
Name), `fully_qualified_name` ("Parent:Child"), `parent_qbo_id` (ParentRef), `kind` ("project" for
a sub-customer or project, "customer" otherwise; an item's Type; an account's AccountType; a
term's Type; "group" for a combined tax code), `active`, `sync_token`, `last_updated`. A full read
replaces an entity's rows; a CDC read updates the rows it names (a renamed customer comes with its
sub-customers, whose fully qualified names change with it) and marks a deleted (merged-away) name
inactive. Deactivated names stay, inactive (QuickBooks shows them with " (deleted)" after the
name).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete, select

from factor_desktop.qbo.client import BatchItem, JsonDict
from factor_desktop.qbo.errors import UnsupportedOperationError
from factor_desktop.qbo.query import Query
from factor_desktop.qbo.query import select as qbo_select
from factor_desktop.store.models import ChangeCursor, QboRecord
from factor_desktop.sync.context import SyncContext

__all__ = [
    "CDC_CAP",
    "CDC_OVERLAP",
    "CDC_WINDOW",
    "NAME_ENTITIES",
    "PREFERENCES",
    "REFERENCE_ENTITIES",
    "Changes",
    "advance_cursor",
    "cursor_of",
    "full_read",
    "is_deleted",
    "last_updated",
    "read_changes",
    "ref_name",
    "ref_value",
    "refresh_preferences",
    "refresh_reference",
]

#: How far before the cursor a CDC read starts again.
CDC_OVERLAP = timedelta(minutes=5)
#: How far before the newest change already applied a CDC read starts again.
APPLIED_MARGIN = timedelta(seconds=1)
#: How often the lists outside change data capture (tax codes and rates, the Preferences) are
#: read again by an ordinary pass.
SLOW_LISTS_EVERY = timedelta(hours=6)
#: The lists read in full on their own cadence.
SLOW_LISTS = ("TaxCode", "TaxRate")
#: How far back QuickBooks's change data capture reaches, less an hour for clocks that differ.
CDC_WINDOW = timedelta(days=30) - timedelta(hours=1)
#: The most objects QuickBooks puts in one change data capture answer.
CDC_CAP = 1000

#: The lists cached for the mapping and linking screens, in the order they are refreshed.
REFERENCE_ENTITIES: tuple[str, ...] = (
    "Customer",
    "Vendor",
    "Item",
    "Account",
    "TaxCode",
    "TaxRate",
    "Term",
)
#: The cache's entity (and Id) for the company's Preferences.
PREFERENCES = "Preferences"
PREFERENCES_ID = "1"
#: Name lists: QuickBooks deactivates rather than deletes them, and a query returns inactive ones
#: only when asked for `Active IN (true, false)`.
NAME_ENTITIES = frozenset({"Customer", "Vendor", "Employee", "Item", "Account", "TaxCode", "Term"})
#: Entities that change data capture does not cover; they are always read in full.
NOT_IN_CDC = frozenset({"TaxCode", "TaxRate", "TaxAgency", "TimeActivity", "JournalCode"})


# --------------------------------------------------------------------------------------------
# Small readers of QuickBooks JSON, shared with the pull step
# --------------------------------------------------------------------------------------------


def ref_value(ref: Any) -> str | None:
    """The `value` (an Id) of a QuickBooks reference such as `CustomerRef`, if any."""
    if isinstance(ref, Mapping):
        value = ref.get("value")
        if value not in (None, ""):
            return str(value)
    return None


def ref_name(ref: Any) -> str | None:
    """The `name` QuickBooks shows with a reference, if it sent one."""
    if isinstance(ref, Mapping):
        name = ref.get("name")
        if isinstance(name, str) and name.strip():
            return name.strip()
    return None


def is_deleted(row: Mapping[str, Any]) -> bool:
    """A CDC stub for an object deleted (or, for names, merged away) in QuickBooks."""
    return str(row.get("status", "")).lower() == "deleted"


def last_updated(row: Mapping[str, Any]) -> datetime | None:
    """`MetaData.LastUpdatedTime` as a UTC datetime."""
    meta = row.get("MetaData")
    raw = meta.get("LastUpdatedTime") if isinstance(meta, Mapping) else None
    if not isinstance(raw, str) or not raw:
        return None
    try:
        moment = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        return None
    return moment.astimezone(UTC)


# --------------------------------------------------------------------------------------------
# Cursors and change reading
# --------------------------------------------------------------------------------------------


@dataclass
class Changes:
    """What QuickBooks has for one entity in this pass.

    `full`: `rows` is every object of the entity (a full query), so one missing from it no longer
    exists; otherwise `rows` are the changes since the cursor (CDC), deleted ones as stubs.
    """

    entity: str
    rows: list[JsonDict]
    full: bool


def cursor_of(ctx: SyncContext, entity: str) -> datetime | None:
    """When the changes of `entity` were last read and committed, if ever."""
    cursor = ctx.session.get(ChangeCursor, entity)
    return cursor.changed_since if cursor is not None else None


def advance_cursor(ctx: SyncContext, entity: str) -> None:
    """Move the entity's cursor to the start of this pass, and its `applied_through` to the
    newest change this pass read of it (the caller commits, once the changes are applied)."""
    cursor = ctx.session.get(ChangeCursor, entity)
    if cursor is None:
        cursor = ChangeCursor(entity=entity, changed_since=ctx.now)
        ctx.session.add(cursor)
    elif cursor.changed_since < ctx.now:
        cursor.changed_since = ctx.now
    newest = ctx.read_through.get(entity)
    if newest is not None and (cursor.applied_through is None or cursor.applied_through < newest):
        cursor.applied_through = newest
    ctx.session.flush()


def _read_from(ctx: SyncContext, entity: str) -> datetime | None:
    """Where the next change capture of `entity` starts: the cursor less the overlap for clock
    differences, but not before the newest change already applied (QuickBooks' own clock, so no
    allowance for this computer's is needed; a second's margin for changes saved together)."""
    cursor = ctx.session.get(ChangeCursor, entity)
    if cursor is None:
        return None
    start = cursor.changed_since - CDC_OVERLAP
    if cursor.applied_through is not None:
        start = max(start, cursor.applied_through - APPLIED_MARGIN)
    return start


def _note_read(ctx: SyncContext, entity: str, rows: Sequence[JsonDict]) -> None:
    times = [t for t in (last_updated(row) for row in rows) if t is not None]
    if times:
        ctx.read_through[entity] = max(times)


def _needs_full_read(ctx: SyncContext, entity: str) -> bool:
    if ctx.full or entity in NOT_IN_CDC:
        return True
    if _sweep_pending(ctx, entity) and _slow_lists_due(ctx):
        return True  # deletions in a narrowed period: found by a full read, on the slow cadence
    since = cursor_of(ctx, entity)
    return since is None or since - CDC_OVERLAP < ctx.now - CDC_WINDOW


def full_read(ctx: SyncContext, entity: str) -> list[JsonDict]:
    """Every object of `entity`, inactive names included, read page by page in Id order."""
    query = qbo_select(entity)
    if entity in NAME_ENTITIES:
        query = query.where("Active", "IN", [True, False])
    rows: list[JsonDict] = []
    for row in ctx.client.query_all(query.order_by("Id")):
        rows.append(row)
        ctx.check_cancel()
    return rows


class _Capped(Exception):
    """QuickBooks's change data capture answer is, or would be, over its cap."""


def _cdc(ctx: SyncContext, entities: Sequence[str], since: datetime) -> dict[str, list[JsonDict]]:
    """The changes of `entities` since `since`, a list per entity (empty: nothing changed).

    Raises `_Capped` when QuickBooks's answer reaches its cap or QuickBooks refuses to answer.
    """
    try:
        changes = ctx.client.cdc(list(entities), since)
    except UnsupportedOperationError as error:
        # QuickBooks refuses change data capture it cannot answer (too many objects, a period
        # beyond its window): read in smaller parts, or in full.
        raise _Capped(str(error)) from None
    if sum(len(rows) for rows in changes.values()) >= CDC_CAP:
        raise _Capped(f"{CDC_CAP} objects or more changed")
    return {entity: changes.get(entity, []) for entity in entities}


def read_changes(ctx: SyncContext, entities: Sequence[str]) -> dict[str, Changes]:
    """What QuickBooks has for each of `entities` in this pass (see the module's notes); what an
    earlier step of the pass already read for them (`ctx.prefetched`) is taken from there."""
    result: dict[str, Changes] = {}
    by_cdc: list[str] = []
    for entity in entities:
        if entity in ctx.prefetched:
            result[entity] = ctx.prefetched.pop(entity)
            continue
        if _needs_full_read(ctx, entity):
            result[entity] = Changes(entity, full_read(ctx, entity), full=True)
            _sweep_done(ctx, entity)
        else:
            by_cdc.append(entity)
    if by_cdc:
        starts = [_read_from(ctx, entity) for entity in by_cdc]
        since = min(start for start in starts if start is not None)
        try:
            for entity, rows in _cdc(ctx, by_cdc, since).items():
                result[entity] = Changes(entity, rows, full=False)
        except _Capped:
            ctx.counts["cdc_capped"] += 1
            result.update(_narrowed(ctx, by_cdc, since))
    for entity, changes in result.items():
        _note_read(ctx, entity, changes.rows)
    # One change capture answered for all its entities at once: one that had nothing new has
    # nothing up to the newest change it returned for the others either.
    together = [ctx.read_through[e] for e in by_cdc if e in ctx.read_through]
    if together:
        for entity in by_cdc:
            ctx.read_through[entity] = max(together)
    return {entity: result[entity] for entity in entities}


def _changed_query(entity: str, since: datetime) -> Query:
    query = qbo_select(entity).where("MetaData.LastUpdatedTime", ">=", since)
    if entity in NAME_ENTITIES:
        query = query.where("Active", "IN", [True, False])
    return query.order_by("MetaData.LastUpdatedTime")


def _narrowed(ctx: SyncContext, entities: Sequence[str], since: datetime) -> dict[str, Changes]:
    """The objects of each entity changed since `since`, asked in one batch request: a query and
    a count per entity (see the module's notes); deletions are left to a sweep."""
    items: list[BatchItem] = []
    for n, entity in enumerate(entities):
        query = _changed_query(entity, since)
        items.append(BatchItem.query(f"q{n}", query.build(1, CDC_CAP)))
        items.append(BatchItem.query(f"c{n}", query.as_count().build()))
    answers = ctx.client.batch(items)
    result: dict[str, Changes] = {}
    for n, entity in enumerate(entities):
        rows_answer, count_answer = answers[2 * n], answers[2 * n + 1]
        for answer in (rows_answer, count_answer):
            if answer.error is not None:
                raise answer.error
        rows = list(rows_answer.rows)
        total = _total(count_answer.data, len(rows))
        while len(rows) < total:  # more than one answer holds: page on
            ctx.check_cancel()
            page = ctx.client.query(_changed_query(entity, since).build(len(rows) + 1, CDC_CAP))
            if not page:
                break
            rows += page
        result[entity] = Changes(entity, rows, full=False)
        _sweep_due(ctx, entity)
    return result


def _total(answer: Mapping[str, Any] | None, fallback: int) -> int:
    try:
        return int((answer or {}).get("totalCount", fallback))
    except (TypeError, ValueError):
        return fallback


def _sweep_key(entity: str) -> str:
    return f"sweep:{entity}"


def _sweep_due(ctx: SyncContext, entity: str) -> None:
    """Remember that deletions of `entity` in a narrowed period are still to be found."""
    key = _sweep_key(entity)
    if ctx.session.get(ChangeCursor, key) is None:
        ctx.session.add(ChangeCursor(entity=key, changed_since=ctx.now))


def _sweep_done(ctx: SyncContext, entity: str) -> None:
    sweep = ctx.session.get(ChangeCursor, _sweep_key(entity))
    if sweep is not None:
        ctx.session.delete(sweep)


def _sweep_pending(ctx: SyncContext, entity: str) -> bool:
    return ctx.session.get(ChangeCursor, _sweep_key(entity)) is not None


# --------------------------------------------------------------------------------------------
# The reference cache
# --------------------------------------------------------------------------------------------


def _text(value: Any) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None


def _cache_fields(entity: str, row: Mapping[str, Any]) -> dict[str, Any]:
    """The columns of a `qbo_cache` row for one QuickBooks list object."""
    qbo_id = str(row["Id"])
    if entity in ("Customer", "Vendor", "Employee"):
        name = _text(row.get("DisplayName")) or _text(row.get("FullyQualifiedName")) or qbo_id
    else:
        name = _text(row.get("Name")) or _text(row.get("FullyQualifiedName")) or qbo_id
    kind: str | None = None
    if entity == "Customer":
        is_job = row.get("Job") is True or row.get("IsProject") is True
        kind = "project" if is_job else "customer"
    elif entity == "Item":
        kind = _text(row.get("Type"))
    elif entity == "Account":
        kind = _text(row.get("AccountType"))
    elif entity == "Term":
        kind = _text(row.get("Type"))
    elif entity == "TaxCode":
        kind = "group" if row.get("TaxGroup") is True else None
    sync_token = row.get("SyncToken")
    return {
        "name": name[:500],
        "fully_qualified_name": (_text(row.get("FullyQualifiedName")) or name)[:1000],
        "parent_qbo_id": ref_value(row.get("ParentRef")),
        "kind": kind[:50] if kind else None,
        "active": row.get("Active") is not False,
        "sync_token": str(sync_token)[:16] if sync_token is not None else None,
        "data": dict(row),
        "last_updated": last_updated(row),
    }


def _cached(ctx: SyncContext, entity: str) -> dict[str, QboRecord]:
    rows = ctx.session.scalars(select(QboRecord).where(QboRecord.entity == entity))
    return {row.qbo_id: row for row in rows}


def _upsert(
    ctx: SyncContext, entity: str, row: Mapping[str, Any], cached: dict[str, QboRecord]
) -> bool:
    """Store one list object; True when the cache changed."""
    qbo_id = str(row["Id"])
    record = cached.get(qbo_id)
    if is_deleted(row):
        # Names are never hard-deleted in QuickBooks; a "Deleted" stub is a merged-away name.
        if record is None or (not record.active and record.data.get("status") == "Deleted"):
            return False
        record.active = False
        record.data = {**record.data, "status": "Deleted"}
        record.last_updated = last_updated(row) or record.last_updated
        return True
    fields = _cache_fields(entity, row)
    if record is None:
        record = QboRecord(entity=entity, qbo_id=qbo_id, **fields)
        ctx.session.add(record)
        cached[qbo_id] = record
        return True
    changed = False
    for key, value in fields.items():
        if getattr(record, key) != value:
            setattr(record, key, value)
            changed = True
    return changed


def _refresh_entity(ctx: SyncContext, changes: Changes) -> int:
    """Apply one entity's changes to the cache; returns how many cached records changed."""
    entity = changes.entity
    cached = _cached(ctx, entity)
    changed = 0
    seen: set[str] = set()
    for row in changes.rows:
        ctx.check_cancel()
        if row.get("Id") in (None, ""):
            continue
        seen.add(str(row["Id"]))
        if _upsert(ctx, entity, row, cached):
            changed += 1
    if changes.full:
        gone = [qbo_id for qbo_id in cached if qbo_id not in seen]
        if gone:
            ctx.session.execute(
                delete(QboRecord).where(QboRecord.entity == entity, QboRecord.qbo_id.in_(gone))
            )
            changed += len(gone)
    ctx.session.flush()
    return changed


def refresh_reference(ctx: SyncContext) -> None:
    """Bring the QuickBooks reference cache up to date (one commit per entity).

    Counts: `reference_refreshed` (cached records added, changed or removed; the Preferences
    count as one) and `reference_full_reads` (entities read in full rather than by change data
    capture).
    """
    from factor_desktop.sync.pull import PULL_ENTITIES

    slow = _slow_lists_due(ctx)
    entities = [e for e in REFERENCE_ENTITIES if e not in SLOW_LISTS or slow]
    # One change data capture for this step and the pull: the pull's answer waits in the pass.
    pulled = () if ctx.run.kind == "lists" else PULL_ENTITIES
    wanted = [*entities, *(e for e in pulled if not _needs_full_read(ctx, e))]
    feed = read_changes(ctx, wanted)
    for entity in PULL_ENTITIES:
        if entity in feed:
            ctx.prefetched[entity] = feed.pop(entity)
    for entity, changes in feed.items():
        ctx.check_cancel()
        changed = _refresh_entity(ctx, changes)
        advance_cursor(ctx, entity)
        ctx.session.commit()
        ctx.counts["reference_refreshed"] += changed
        if changes.full:
            ctx.counts["reference_full_reads"] += 1
    ctx.check_cancel()
    if slow:
        refresh_preferences(ctx)
        advance_cursor(ctx, PREFERENCES)
        ctx.session.commit()


def _slow_lists_due(ctx: SyncContext) -> bool:
    """Whether this pass reads the lists outside change data capture (see the module notes);
    decided once per pass, so every step of the pass agrees."""
    if ctx.slow_lists_due is None:
        read = [cursor_of(ctx, entity) for entity in (*SLOW_LISTS, PREFERENCES)]
        ctx.slow_lists_due = (
            ctx.full
            or ctx.run.kind == "lists"
            or any(at is None or at + SLOW_LISTS_EVERY <= ctx.now for at in read)
        )
    return ctx.slow_lists_due


def refresh_preferences(ctx: SyncContext) -> None:
    """Cache the company's Preferences (one read, one row); counted in `reference_refreshed`
    when they changed."""
    preferences = ctx.client.preferences()
    fields = {
        "name": PREFERENCES,
        "fully_qualified_name": PREFERENCES,
        "parent_qbo_id": None,
        "kind": None,
        "active": True,
        "sync_token": str(preferences["SyncToken"])[:16]
        if preferences.get("SyncToken") is not None
        else None,
        "data": dict(preferences),
        "last_updated": last_updated(preferences),
    }
    record = ctx.session.scalar(
        select(QboRecord).where(QboRecord.entity == PREFERENCES, QboRecord.qbo_id == PREFERENCES_ID)
    )
    if record is None:
        ctx.session.add(QboRecord(entity=PREFERENCES, qbo_id=PREFERENCES_ID, **fields))
        changed = True
    else:
        changed = False
        for key, value in fields.items():
            if getattr(record, key) != value:
                setattr(record, key, value)
                changed = True
    ctx.session.commit()
    if changed:
        ctx.counts["reference_refreshed"] += 1
