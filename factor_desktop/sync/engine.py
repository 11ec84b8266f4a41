"""One sync pass: reference data, then pushes, then pulls, then the run is closed.

Order matters: the reference cache first (mappings and links resolve against it), then the
customers and projects that pending invoices need, then the outbox (finalized and voided
invoices), then the changes QuickBooks has for us (payments, expenses, receipts). Each step
commits per record, so a crash or a cancel keeps what was done and repeats nothing.

A preview pass runs the same steps, the same code, against a scratch copy of the database, with a
writer that records the writes to QuickBooks instead of sending them (`sync/writer.py`); what it
did on the copy comes back in `SyncSummary.planned` and its counts, with the same keys as a
sync's, and the real database only gains the record of the preview run.

Only one pass runs at a time per firm profile, across processes too (the window's auto-sync and
`factor-desktop sync` beside it): a lock file next to the database, held by the operating system
and released by it if the process dies. A run left "running" by a crash is closed as interrupted
when the next pass starts.
"""

from __future__ import annotations

import logging
import sqlite3
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from filelock import Timeout
from sqlalchemy import select
from sqlalchemy.exc import OperationalError as SqlOperationalError
from sqlalchemy.orm import Session

from factor_desktop.paths import preview_scratch_dir, preview_scratch_prefix
from factor_desktop.qbo.errors import QboAuthError, QboError
from factor_desktop.settings import load_settings
from factor_desktop.store.db import Store, describe_store_fault, make_engine, sync_lock
from factor_desktop.store.models import SyncRun
from factor_desktop.sync.connection import ConnectError, ConnectionService
from factor_desktop.sync.context import Progress, SyncCancelled, SyncContext, planned_entries

log = logging.getLogger(__name__)

Step = Callable[[SyncContext], None]

_locks: dict[Path, threading.Lock] = {}
_locks_guard = threading.Lock()


def _profile_lock(path: Path) -> threading.Lock:
    with _locks_guard:
        return _locks.setdefault(path.resolve(), threading.Lock())


def _utcnow() -> datetime:
    return datetime.now(UTC)


class SyncBusyError(ConnectError):
    """Another pass is already running for this firm profile."""


@dataclass(frozen=True)
class SyncSummary:
    run_id: int
    kind: str
    status: str
    counts: dict[str, int]
    requests_used: int
    duration_s: float
    error: str | None
    planned: list[dict[str, Any]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "kind": self.kind,
            "status": self.status,
            "counts": self.counts,
            "requests_used": self.requests_used,
            "duration_s": round(self.duration_s, 3),
            "error": self.error,
            "planned": self.planned,
        }


def default_steps() -> list[tuple[str, Step]]:
    from factor_desktop.sync.pull import pull_changes
    from factor_desktop.sync.push import push_customers, push_outbox
    from factor_desktop.sync.reference import refresh_reference

    return [
        ("Reading QuickBooks lists", refresh_reference),
        ("Linking clients and projects", push_customers),
        ("Sending invoices", push_outbox),
        ("Receiving payments and expenses", pull_changes),
    ]


class SyncEngine:
    def __init__(
        self,
        store: Store,
        connection: ConnectionService,
        attachments_dir: Path,
        *,
        clock: Callable[[], datetime] = _utcnow,
        steps: list[tuple[str, Step]] | None = None,
    ) -> None:
        self.store = store
        self.connection = connection
        self.attachments_dir = attachments_dir
        self.clock = clock
        self._steps = steps

    def run(
        self,
        *,
        preview: bool = False,
        full: bool = False,
        cancel: threading.Event | None = None,
        progress: Progress | None = None,
        kind: str | None = None,
    ) -> SyncSummary:
        """One pass. `kind` names a pass that is not a sync of records (for example "lists",
        reading QuickBooks' lists only); such runs are not shown as the last sync."""
        busy = SyncBusyError("A sync is already running for this firm. Wait for it to finish.")
        lock = _profile_lock(self.store.path)
        if not lock.acquire(blocking=False):
            raise busy
        try:
            other_processes = sync_lock(self.store.path)
            try:
                other_processes.acquire()
            except Timeout:
                raise busy from None
            try:
                return self._run(preview, full, cancel or threading.Event(), progress, kind)
            finally:
                other_processes.release()
        finally:
            lock.release()

    def _run(
        self,
        preview: bool,
        full: bool,
        cancel: threading.Event,
        progress: Progress | None,
        kind: str | None,
    ) -> SyncSummary:
        kind = kind or ("preview" if preview else "full" if full else "sync")
        started = time.monotonic()
        client = self.connection.client()  # refuses first when not connected
        with self.store.session() as session:
            self._close_interrupted_runs(session)
            run = SyncRun(kind=kind, started_at=self.clock(), status="running", counts={})
            session.add(run)
            session.flush()
            run_id = run.id
        status = "failed"
        error: str | None = "The sync stopped unexpectedly; the log file has the details."
        counts: dict[str, int] = {}
        planned: list[dict[str, Any]] = []
        scratch: tempfile.TemporaryDirectory[str] | None = None
        try:
            if preview:
                # In the private data folder, never the shared temp folder; a copy a crash
                # leaves there is removed at the next start.
                scratch = tempfile.TemporaryDirectory(
                    prefix=preview_scratch_prefix(self.store.path),
                    dir=preview_scratch_dir(self.store.path),
                )
                work_store = self._scratch_copy(Path(scratch.name))
            else:
                work_store = self.store
            session = work_store.sessions()
            try:
                ctx = SyncContext(
                    session=session,
                    client=client,
                    settings=load_settings(session),
                    run=session.get(SyncRun, run_id) or SyncRun(id=run_id),
                    now=self.clock(),
                    attachments_dir=self.attachments_dir,
                    preview=preview,
                    full=full,
                    cancel=cancel,
                    progress=progress or (lambda _s, _d, _t: None),
                )
                status, error = self._steps_run(ctx)
                session.commit()
                counts = dict(ctx.counts)
                if preview:
                    ctx.planned = planned = planned_entries(session, run_id)
            except BaseException:
                session.rollback()
                raise
            finally:
                session.close()
                if work_store is not self.store:
                    work_store.close()
        finally:
            requests_used = client.request_count
            client.close()
            if scratch is not None:
                scratch.cleanup()
            duration = time.monotonic() - started
            with self.store.session() as session:
                closing = session.get(SyncRun, run_id)
                assert closing is not None
                closing.finished_at = self.clock()
                closing.status = status if status != "running" else "failed"
                closing.counts = counts
                closing.requests_used = requests_used
                closing.error = error
        log.info(
            "Sync %s (%s) finished %s in %.1f s: %s, %d requests",
            run_id,
            kind,
            status,
            duration,
            counts,
            requests_used,
        )
        return SyncSummary(run_id, kind, status, counts, requests_used, duration, error, planned)

    def _steps_run(self, ctx: SyncContext) -> tuple[str, str | None]:
        steps = self._steps if self._steps is not None else default_steps()
        try:
            for index, (name, step) in enumerate(steps):
                ctx.check_cancel()
                ctx.progress(name, index, len(steps))
                step(ctx)
                ctx.session.commit()
            ctx.progress("Done", len(steps), len(steps))
        except SyncCancelled as exc:
            ctx.session.rollback()
            return "cancelled", str(exc)
        except QboAuthError as exc:
            ctx.session.rollback()
            return "failed", f"QuickBooks refused the connection: {exc}"
        except QboError as exc:
            ctx.session.rollback()
            return "failed", str(exc)
        except (sqlite3.OperationalError, SqlOperationalError) as exc:
            # SQLAlchemy wraps SQLite's errors ("database is locked") in its own class.
            ctx.session.rollback()
            reason = exc.orig if isinstance(exc, SqlOperationalError) else exc
            log.info("The pass stopped on a store fault: %s", reason)
            return "failed", describe_store_fault(exc, self.store.path, "written", in_sync=True)
        # Partial when a record still needs attention: one that failed or waits now, or whose
        # standing problem this pass found unchanged (not logged or counted again).
        problems = ctx.attention + ctx.counts.get("failed", 0) + ctx.counts.get("blocked", 0)
        return ("partial" if problems else "ok"), None

    def _close_interrupted_runs(self, session: Session) -> None:
        for run in session.scalars(select(SyncRun).where(SyncRun.status == "running")):
            run.status = "failed"
            run.finished_at = run.finished_at or self.clock()
            run.error = "The sync was interrupted (the app stopped before it finished)."

    def _scratch_copy(self, folder: Path) -> Store:
        return scratch_copy(self.store, folder)


def scratch_copy(store: Store, folder: Path) -> Store:
    """A consistent copy of the firm database (SQLite's online backup) for a preview to work on."""
    from sqlalchemy.orm import sessionmaker

    target = folder / store.path.name
    source = sqlite3.connect(store.path)
    try:
        dest = sqlite3.connect(target)
        try:
            source.backup(dest)
        finally:
            dest.close()
    finally:
        source.close()
    engine = make_engine(target)
    return Store(target, engine, sessionmaker(engine, expire_on_commit=False))


def run_sync(
    ctx: Any,
    *,
    preview: bool = False,
    full: bool = False,
    cancel: threading.Event | None = None,
    progress: Progress | None = None,
) -> SyncSummary:
    """One pass for an open firm profile (an `AppContext`)."""
    connection = ConnectionService(ctx.store, ctx.tokens)
    try:
        engine = SyncEngine(ctx.store, connection, ctx.data.attachments)
        return engine.run(preview=preview, full=full, cancel=cancel, progress=progress)
    finally:
        connection.http.close()


__all__ = ["SyncBusyError", "SyncEngine", "SyncSummary", "run_sync", "scratch_copy"]
