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
from collections.abc import Callable, Sequence
from dataclasses import InitVar, dataclass, field
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from factor_desktop.qbo.client import QboClient
from factor_desktop.qbo.errors import QboError
from factor_desktop.settings import Settings
from factor_desktop.store.models import QboRecord, SyncLogEntry, SyncRun
from factor_desktop.sync.totals import sales_rates
from factor_desktop.sync.writer import QboWriter, writer_for

Progress = Callable[[str, int, int], None]
#: (direction, entity kind, "l:<local id>" or "q:<QuickBooks Id>")
RecordKey = tuple[str, str, str]

#: What an entry says of its record: the states an entry is written with.
PROBLEM_STATES = ("waiting", "failed", "mismatched")
#: Actions that leave a pass "partial": the record could not go through.
ATTENTION_ACTIONS = ("failed", "blocked", "mismatched")
#: Entries that still need the administrator's attention (entries from before states were
#: kept count by their level).
NEEDS_ATTENTION = and_(
    SyncLogEntry.resolved.is_(False),
    or_(
        SyncLogEntry.state.in_(PROBLEM_STATES),
        and_(SyncLogEntry.state.is_(None), SyncLogEntry.level.in_(("warning", "error"))),
    ),
)


def entry_state(action: str, level: str) -> str:
    """The state an entry gives its record: ok, waiting, failed or mismatched."""
    if action == "mismatched":
        return "mismatched"
    if action == "failed" or (level == "error" and action != "blocked"):
        return "failed"
    if action in ("blocked", "skipped") and level in ("warning", "error"):
        return "waiting"
    if level == "warning" and action not in ("created", "linked", "updated", "voided"):
        return "waiting"
    return "ok"


def record_key(
    direction: str, entity_kind: str, local_id: int | None, qbo_id: str | None
) -> RecordKey | None:
    if local_id is not None:
        return (direction, entity_kind, f"l:{local_id}")
    if qbo_id is not None:
        return (direction, entity_kind, f"q:{qbo_id}")
    return None


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
    # A preview's plan: its log on the scratch copy, read when the pass ends (`planned_entries`).
    planned: list[dict[str, Any]] = field(default_factory=list)
    # QuickBooks invoices this pass linked to Factor invoices rather than created: payments
    # applied to them before the link are older than the change cursors, so the pull reads them.
    linked_invoices: list[dict[str, Any]] = field(default_factory=list)
    # Records this pass left needing attention (logged now, or still standing from before).
    attention: int = 0
    # What a step read from QuickBooks for a later step of the same pass (the reference step's
    # change data capture asks for the pull's entities too), by entity.
    prefetched: dict[str, Any] = field(default_factory=dict)
    # The newest QuickBooks LastUpdatedTime among the changes this pass read, by entity.
    read_through: dict[str, datetime] = field(default_factory=dict)
    # Whether this pass reads the lists outside change data capture (decided once).
    slow_lists_due: bool | None = None
    use_writer: InitVar[QboWriter | None] = None
    writer: QboWriter = field(init=False)
    _standing_keys: set[RecordKey] | None = field(default=None, init=False, repr=False)
    _automated_sales_tax: bool | None = field(default=None, init=False, repr=False)
    _rate_values: dict[str, Any] | None = field(default=None, init=False, repr=False)
    _tax_rates: dict[str, Sequence[Decimal] | None] = field(
        default_factory=dict, init=False, repr=False
    )

    def __post_init__(self, use_writer: QboWriter | None) -> None:
        self.writer = use_writer or writer_for(
            self.client, preview=self.preview, tax_rates=self.tax_rates
        )

    def automated_sales_tax(self) -> bool:
        """Whether Automated Sales Tax is on, by the Preferences in the reference cache (read
        once a pass is past its reference step)."""
        if self._automated_sales_tax is None:
            from factor_desktop.services.mappings import automated_sales_tax_on

            self._automated_sales_tax = automated_sales_tax_on(self.session) is True
        return self._automated_sales_tax

    def tax_rates(self, tax_code_id: str) -> Sequence[Decimal] | None:
        """The sales rates QuickBooks computes an invoice's tax with under this tax code, from
        the reference cache; None when QuickBooks' tax can't be known beforehand (Automated
        Sales Tax puts its own code on the invoice; a code or rate not read). See
        `sync/totals.py`. Read once a pass."""
        if self.automated_sales_tax():
            return None
        if tax_code_id not in self._tax_rates:
            from factor_desktop.services.mappings import cached, tax_rate_values

            if self._rate_values is None:
                self._rate_values = tax_rate_values(self.session)
            record: QboRecord | None = cached(self.session, "TaxCode", tax_code_id)
            data = record.data if record is not None else None
            self._tax_rates[tax_code_id] = (
                sales_rates(data, self._rate_values) if isinstance(data, dict) else None
            )
        return self._tax_rates[tax_code_id]

    def check_cancel(self) -> None:
        if self.cancel.is_set():
            raise SyncCancelled("The sync was cancelled.")

    def _standing(self) -> set[RecordKey]:
        """The records that had an entry needing attention before this pass (read once)."""
        if self._standing_keys is None:
            rows = self.session.execute(
                select(
                    SyncLogEntry.direction,
                    SyncLogEntry.entity_kind,
                    SyncLogEntry.local_id,
                    SyncLogEntry.qbo_id,
                ).where(NEEDS_ATTENTION, SyncLogEntry.run_id != self.run.id)
            )
            self._standing_keys = {
                key
                for direction, kind, local_id, qbo_id in rows
                if (key := record_key(direction, kind, local_id, qbo_id)) is not None
            }
        return self._standing_keys

    def _earlier(self, key: RecordKey) -> list[SyncLogEntry]:
        direction, kind, ident = key
        column = SyncLogEntry.local_id if ident.startswith("l:") else SyncLogEntry.qbo_id
        value: int | str = int(ident[2:]) if ident.startswith("l:") else ident[2:]
        return list(
            self.session.scalars(
                select(SyncLogEntry).where(
                    NEEDS_ATTENTION,
                    SyncLogEntry.run_id != self.run.id,
                    SyncLogEntry.direction == direction,
                    SyncLogEntry.entity_kind == kind,
                    column == value,
                )
            )
        )

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
        deleted, skipped, failed, blocked, downloaded. Counted per action in the run.

        The log keeps each record's current truth: an entry that went through marks the
        record's earlier problems resolved; a problem with a new reason supersedes the old one;
        the same problem already standing from an earlier pass is not written or counted again
        (the pass still ends partial: the record still needs attention).
        """
        state = entry_state(action, level)
        key = record_key(direction, entity_kind, local_id, qbo_id)
        if key is not None and key in self._standing():
            earlier = self._earlier(key)
            if state != "ok":
                for old in earlier:
                    if old.action == action and old.reason == reason:
                        self.attention += 1
                        return old
            kept = False
            for old in earlier:
                if action == "updated" and old.action == "mismatched":
                    # A balance or status that moved says nothing of whether the figures agree
                    # now: a mismatch stands until they do (`agrees_again`).
                    kept = True
                    continue
                old.resolved = True
                old.state = "resolved" if state == "ok" else "superseded"
            if not kept:
                self._standing().discard(key)
        if state != "ok" and action in ATTENTION_ACTIONS:
            self.attention += 1
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
            state=state,
            # A record skipped is not done: its entry stands until the record is applied, even
            # when skipping it needs nothing from the administrator (an informational note).
            resolved=state == "ok" and action != "skipped",
        )
        self.session.add(entry)
        self.counts[action] += 1
        return entry

    def agrees_again(self, *, direction: str, entity_kind: str, local_id: int) -> None:
        """A record's figures agree with QuickBooks again: its standing "mismatched" entries
        from earlier passes are resolved."""
        key = record_key(direction, entity_kind, local_id, None)
        if key is None or key not in self._standing():
            return
        for old in self._earlier(key):
            if old.action == "mismatched":
                old.resolved = True
                old.state = "resolved"

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
        reason: str | None = None,
        detail: dict[str, Any] | None = None,
    ) -> SyncLogEntry:
        """A QBO refusal, with QBO's code, element and intuit_tid kept for support; `reason`
        (the refusal's own text by default) as the administrator should read it."""
        return self.log(
            direction=direction,
            entity_kind=entity_kind,
            label=label,
            action=action,
            level="error",
            reason=reason if reason is not None else str(error),
            local_id=local_id,
            qbo_id=qbo_id,
            detail={
                "code": error.code,
                "element": error.element,
                "intuit_tid": error.intuit_tid,
                "http_status": error.http_status,
                **(detail or {}),
            },
        )


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
