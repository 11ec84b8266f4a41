"""What every step of a sync pass shares: the session, the QBO client, the run, and the log.

A sync pass runs on the worker thread with its own session. Steps commit after each record they
finish (an outbox row marked done together with the QBO `Id` it produced, an expense together
with its receipt metadata), so a crash or a cancel mid-pass loses nothing and repeats nothing:
the next pass starts from what was committed, and writes carry their outbox `requestid`.

A preview pass runs the same steps on a scratch copy of the database, and its writer records
the writes to QuickBooks instead of sending them (`sync/writer.py`); the pass's writer is chosen
here, once, and no step asks which kind of pass it is in. Reads still happen. What the preview
would do is its run's log on the scratch copy (`planned_entries`).
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import InitVar, dataclass, field
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from factor_desktop.qbo.client import QboClient
from factor_desktop.qbo.errors import QboError
from factor_desktop.settings import Settings
from factor_desktop.store.models import QboRecord, SyncLogEntry, SyncRun
from factor_desktop.sync.writer import QboWriter, writer_for

Progress = Callable[[str, int, int], None]


class SyncCancelled(Exception):
    """The administrator cancelled the pass; what was committed stays."""


def _no_progress(step: str, done: int, total: int) -> None:
    return None


@dataclass
class SyncContext:
    session: Session
    client: QboClient
    settings: Settings
    run: SyncRun
    now: datetime
    attachments_dir: Path
    preview: bool = False
    full: bool = False
    cancel: threading.Event = field(default_factory=threading.Event)
    progress: Progress = _no_progress
    counts: Counter[str] = field(default_factory=Counter)
    planned: list[dict[str, Any]] = field(default_factory=list)
    # QuickBooks invoices this pass linked to Factor invoices rather than created: payments
    # applied to them before the link are older than the change cursors, so the pull reads them.
    linked_invoices: list[dict[str, Any]] = field(default_factory=list)
    use_writer: InitVar[QboWriter | None] = None
    writer: QboWriter = field(init=False)

    def __post_init__(self, use_writer: QboWriter | None) -> None:
        self.writer = use_writer or writer_for(
            self.client, preview=self.preview, tax_rate=self._cached_tax_rate
        )

    def _cached_tax_rate(self, tax_code_id: str) -> Decimal | None:
        """A tax code's effective rate from the reference cache (for a preview's totals)."""
        from factor_desktop.services.mappings import cached, tax_code_rate

        record: QboRecord | None = cached(self.session, "TaxCode", tax_code_id)
        return tax_code_rate(self.session, record) if record is not None else None

    def check_cancel(self) -> None:
        if self.cancel.is_set():
            raise SyncCancelled("The sync was cancelled.")

    def log(
        self,
        *,
        direction: str,
        entity_kind: str,
        label: str,
        action: str,
        level: str = "info",
        reason: str | None = None,
        local_id: int | None = None,
        qbo_id: str | None = None,
        detail: dict[str, Any] | None = None,
    ) -> SyncLogEntry:
        """Record what happened to one record. `action`: created, updated, linked, voided,
        deleted, skipped, failed, blocked, downloaded. Counted per action in the run."""
        entry = SyncLogEntry(
            run_id=self.run.id,
            at=self.now,
            direction=direction,
            entity_kind=entity_kind,
            label=label,
            action=action,
            level=level,
            reason=reason,
            local_id=local_id,
            qbo_id=qbo_id,
            detail=detail,
        )
        self.session.add(entry)
        self.counts[action] += 1
        return entry

    def log_error(
        self,
        error: QboError,
        *,
        direction: str,
        entity_kind: str,
        label: str,
        action: str = "failed",
        local_id: int | None = None,
        qbo_id: str | None = None,
    ) -> SyncLogEntry:
        """A QBO refusal, with QBO's code, element and intuit_tid kept for support."""
        return self.log(
            direction=direction,
            entity_kind=entity_kind,
            label=label,
            action=action,
            level="error",
            reason=str(error),
            local_id=local_id,
            qbo_id=qbo_id,
            detail={
                "code": error.code,
                "element": error.element,
                "intuit_tid": error.intuit_tid,
                "http_status": error.http_status,
            },
        )

    def would(
        self, *, direction: str, entity_kind: str, label: str, action: str, **extra: Any
    ) -> None:
        """In a preview pass: note a change the pass would make, instead of making it."""
        self.planned.append(
            {
                "direction": direction,
                "entity": entity_kind,
                "label": label,
                "action": action,
                **extra,
            }
        )
        self.counts[f"would_{action}"] += 1


def planned_entries(session: Session, run_id: int) -> list[dict[str, Any]]:
    """What a preview pass did on its scratch copy, as the list of planned changes."""
    rows = session.scalars(
        select(SyncLogEntry).where(SyncLogEntry.run_id == run_id).order_by(SyncLogEntry.id)
    )
    planned: list[dict[str, Any]] = []
    for row in rows:
        entry: dict[str, Any] = {
            "direction": row.direction,
            "entity": row.entity_kind,
            "label": row.label,
            "action": row.action,
            "level": row.level,
        }
        for key, value in (("local_id", row.local_id), ("reason", row.reason)):
            if value is not None:
                entry[key] = value
        if row.qbo_id is not None and not row.qbo_id.startswith("preview-"):
            entry["qbo_id"] = row.qbo_id
        detail = row.detail if isinstance(row.detail, dict) else {}
        for key in ("total", "qbo_total", "full_name", "customer_id", "operation"):
            if key in detail and not str(detail[key]).startswith("preview-"):
                entry[key] = detail[key]
        planned.append(entry)
    return planned
