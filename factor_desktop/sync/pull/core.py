"""One pull pass: what its parts share (the session, what it has looked up) and its sync log.

Every part of the pull writes to the sync log through `PullPass.note`: one entry per thing that
happened to a record, and in a preview also a planned change. A warning that already stands
unresolved in the log is not repeated (`once`), but still counted, so a pass that leaves
something blocked or failed is reported as partial. `resolve` marks the standing entries about a
record as resolved once it has been applied.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from factor_desktop.services.mappings import cached
from factor_desktop.store.models import Expense, Invoice, Project, SyncLogEntry
from factor_desktop.sync.context import SyncContext
from factor_desktop.sync.pull.common import DIRECTION
from factor_desktop.sync.reference import ref_name, ref_value


@dataclass
class PullPass:
    """One pull: applies QuickBooks's changes record by record (see the package's notes)."""

    ctx: SyncContext
    projects: dict[str, Project | None] = field(default_factory=dict)
    attachments_seen: set[str] = field(default_factory=set)

    @property
    def session(self) -> Session:
        return self.ctx.session

    # -- the sync log -----------------------------------------------------------------------

    def note(
        self,
        *,
        entity_kind: str,
        label: str,
        action: str,
        level: str = "info",
        reason: str | None = None,
        local_id: int | None = None,
        qbo_id: str | None = None,
        detail: dict[str, Any] | None = None,
        once: bool = False,
    ) -> None:
        """Log what happened to one record (a preview's plan is its log on the scratch copy).

        `once`: not logged again while the same entry stands unresolved in the log (it is still
        counted, so a pass that leaves something blocked or failed is not reported as clean).
        """
        label = label[:300]
        if once and self.standing(entity_kind, qbo_id, action, reason):
            self.ctx.counts[action] += 1
            return
        self.ctx.log(
            direction=DIRECTION,
            entity_kind=entity_kind,
            label=label,
            action=action,
            level=level,
            reason=reason,
            local_id=local_id,
            qbo_id=qbo_id,
            detail=detail,
        )

    def standing(
        self, entity_kind: str, qbo_id: str | None, action: str, reason: str | None
    ) -> bool:
        return (
            self.session.scalar(
                select(SyncLogEntry.id)
                .where(
                    SyncLogEntry.entity_kind == entity_kind,
                    SyncLogEntry.qbo_id == qbo_id,
                    SyncLogEntry.action == action,
                    SyncLogEntry.reason == reason,
                    SyncLogEntry.resolved.is_(False),
                )
                .limit(1)
            )
            is not None
        )

    def resolve(self, entity_kind: str, qbo_id: str, actions: Sequence[str]) -> None:
        """Mark standing log entries about a record as resolved (it has been applied since)."""
        self.session.execute(
            update(SyncLogEntry)
            .where(
                SyncLogEntry.entity_kind == entity_kind,
                SyncLogEntry.qbo_id == qbo_id,
                SyncLogEntry.action.in_(list(actions)),
                SyncLogEntry.resolved.is_(False),
            )
            .values(resolved=True)
        )

    # -- lookups ----------------------------------------------------------------------------

    def project(self, customer_id: str) -> Project | None:
        if customer_id not in self.projects:
            self.projects[customer_id] = self.session.scalar(
                select(Project).where(Project.qbo_id == customer_id)
            )
        return self.projects[customer_id]

    def invoice(self, qbo_id: str) -> Invoice | None:
        return self.session.scalar(select(Invoice).where(Invoice.qbo_id == qbo_id))

    def expenses_of(self, entity: str, txn_id: str) -> list[Expense]:
        return list(
            self.session.scalars(
                select(Expense)
                .where(Expense.qbo_txn_type == entity, Expense.qbo_id == txn_id)
                .order_by(Expense.id)
            )
        )

    def name_of(self, entity: str, ref: Any) -> str | None:
        name = ref_name(ref)
        if name is not None:
            return name
        qbo_id = ref_value(ref)
        record = cached(self.session, entity, qbo_id) if qbo_id is not None else None
        return record.name if record is not None else None
