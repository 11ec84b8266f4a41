"""The sync log, the sync runs and the outbox's problems, as the Sync Log tab and the status bar
show them and `report log` prints them."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from factor_desktop.store.models import OutboxItem, SyncLogEntry, SyncRun
from factor_desktop.views.rows import LogRow, SyncRunRow

# The newest sync log entries the window lists; older ones stay in the store and the CLI report.
LOG_LIMIT = 2000
# The newest sync runs the Sync Log's run filter offers.
RUN_LIMIT = 50


def load_log(session: Session, limit: int | None = LOG_LIMIT) -> tuple[LogRow, ...]:
    """The newest sync log entries first: `limit` of them, or all (None)."""
    entries = session.scalars(
        select(SyncLogEntry).order_by(SyncLogEntry.at.desc(), SyncLogEntry.id.desc()).limit(limit)
    ).all()
    return tuple(
        LogRow(
            id=e.id,
            at=e.at,
            direction=e.direction,
            entity_kind=e.entity_kind,
            label=e.label,
            qbo_id=e.qbo_id,
            action=e.action,
            level=e.level,
            reason=e.reason,
            run_id=e.run_id,
            state=e.current_state,
            local_id=e.local_id,
        )
        for e in entries
    )


def run_row(run: SyncRun) -> SyncRunRow:
    return SyncRunRow(
        id=run.id,
        kind=run.kind,
        status=run.status,
        started_at=run.started_at,
        finished_at=run.finished_at,
        error=run.error,
        counts=tuple(sorted((str(k), int(v)) for k, v in (run.counts or {}).items())),
        requests_used=run.requests_used,
    )


def load_last_sync(session: Session) -> SyncRunRow | None:
    run = session.scalars(
        select(SyncRun)
        .where(SyncRun.kind.not_in(("preview", "lists")))
        .order_by(SyncRun.id.desc())
        .limit(1)
    ).first()
    return run_row(run) if run is not None else None


def load_runs(session: Session) -> tuple[SyncRunRow, ...]:
    runs = session.scalars(select(SyncRun).order_by(SyncRun.id.desc()).limit(RUN_LIMIT))
    return tuple(run_row(run) for run in runs)


def outbox_problems(session: Session) -> int:
    return int(
        session.scalar(
            select(func.count(OutboxItem.id)).where(OutboxItem.status.in_(("failed", "blocked")))
        )
        or 0
    )
