"""Waiting records: QuickBooks transactions kept to be applied at a later pass.

A Purchase or Bill with a blocked line, a line on an unlinked customer or a line that could not
be saved, a Payment that could not be applied, and a receipt whose transaction has not been
brought in yet are kept in `qbo_cache` under their own entity ("Purchase", "Bill", "Payment",
"Attachable") with kind "waiting" and the latest QuickBooks JSON (download links removed). Every
pull tries them again first (before the Attachables: after the new transactions), unless
QuickBooks sent a newer version in this pass. So mapping an account or linking a project is
enough: the next sync applies the waiting expenses without anything changing in QuickBooks. Once
applied, the record leaves the cache and its blocked or failed log entries are marked resolved.
"""

from __future__ import annotations

from sqlalchemy import select

from factor_desktop.qbo.client import JsonDict
from factor_desktop.services.mappings import cached
from factor_desktop.store.models import QboRecord
from factor_desktop.sync.pull.common import WAITING, without_links
from factor_desktop.sync.pull.core import PullPass
from factor_desktop.sync.reference import Changes, last_updated


def remember(p: PullPass, entity: str, row: JsonDict, label: str) -> None:
    """Keep `row` to be applied at a later pass (or bring the kept copy up to date)."""
    qbo_id = str(row["Id"])
    data = without_links(row)
    record = cached(p.session, entity, qbo_id)
    token = row.get("SyncToken")
    if record is None:
        record = QboRecord(entity=entity, qbo_id=qbo_id, name=label[:500], kind=WAITING)
        p.session.add(record)
    record.name = label[:500]
    record.kind = WAITING
    record.active = True
    record.sync_token = str(token)[:16] if token is not None else None
    record.data = data
    record.last_updated = last_updated(row)
    p.session.flush()
    p.waiting_changed(entity, qbo_id, True)


def forget(p: PullPass, entity: str, qbo_id: str) -> None:
    """The record has been applied (or is gone): it waits no longer."""
    if not p.is_waiting(entity, qbo_id):
        return
    record = cached(p.session, entity, qbo_id)
    if record is not None and record.kind == WAITING:
        p.session.delete(record)
        p.session.flush()
    p.waiting_changed(entity, qbo_id, False)


def to_retry(p: PullPass, entity: str, changes: Changes) -> list[JsonDict]:
    """The records of `entity` kept waiting, unless QuickBooks sent them anew in this pass."""
    fresh = {str(row.get("Id")) for row in changes.rows}
    waiting = [
        (record.qbo_id, dict(record.data))
        for record in p.session.scalars(
            select(QboRecord)
            .where(QboRecord.entity == entity, QboRecord.kind == WAITING)
            .order_by(QboRecord.id)
        )
    ]
    return [data for qbo_id, data in waiting if qbo_id not in fresh]


def prune(p: PullPass, entity: str, present: set[str]) -> None:
    """A full read is complete: records of `entity` waiting that it did not return are gone."""
    for record in p.session.scalars(
        select(QboRecord).where(QboRecord.entity == entity, QboRecord.kind == WAITING)
    ).all():
        if record.qbo_id not in present:
            p.session.delete(record)
            p.waiting_changed(entity, record.qbo_id, False)
