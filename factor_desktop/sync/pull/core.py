"""One pull pass: what its parts share (the session, what it has looked up) and its sync log.

Every part of the pull writes to the sync log through `PullPass.note`: one entry per thing that
happened to a record. A warning that already stands unresolved in the log is not repeated
(`once`), but still counted, so a pass that leaves something blocked or failed is reported as
partial. `resolve` marks the standing entries about a record as resolved once it has been
applied.

Work per record stays small however many records a pass brings: what a pass looks up again and
again is read once and kept here (projects by customer, the mappings of accounts and items, the
log entries that stand unresolved, the records kept waiting, the expenses of the transactions of
the page being applied). Resolved entries are marked in one statement when the page of records
that resolved them is committed. A record that fails is rolled back to its savepoint, and so is
what it changed here (`rolled_back`), so what is kept here always matches the database.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from factor_desktop.services.mappings import cached
from factor_desktop.store.models import (
    Expense,
    ExpenseType,
    Invoice,
    Project,
    QboRecord,
    SyncLogEntry,
)
from factor_desktop.store.models import Mapping as TypeMapping
from factor_desktop.sync.context import ATTENTION_ACTIONS, SyncContext
from factor_desktop.sync.pull.common import DIRECTION, WAITING
from factor_desktop.sync.reference import ref_name, ref_value

#: Log actions a pull checks for standing entries (`once`) or resolves.
_STANDING_ACTIONS = ("blocked", "failed", "skipped", "deleted", "voided")
#: The most Ids one statement names (SQLite allows far more; pages are smaller anyway).
_IDS_PER_STATEMENT = 900


@dataclass
class _Standing:
    """An unresolved log entry a pull may repeat or resolve: its Id, or the entry itself while
    it has none yet (logged in this pass, not flushed)."""

    entry: int | SyncLogEntry
    action: str
    reason: str | None


@dataclass
class PullPass:
    """One pull: applies QuickBooks's changes record by record (see the package's notes)."""

    ctx: SyncContext
    projects: dict[str, Project | None] = field(default_factory=dict)
    attachments_seen: set[str] = field(default_factory=set)
    _names: dict[tuple[str, str], str | None] = field(default_factory=dict)
    _mappings: dict[tuple[str, str], list[int]] = field(default_factory=lambda: defaultdict(list))
    _standing: dict[tuple[str, str | None], list[_Standing]] = field(
        default_factory=lambda: defaultdict(list)
    )
    _resolved: list[int | SyncLogEntry] = field(default_factory=list)
    _waiting: set[tuple[str, str]] = field(default_factory=set)
    _page_expenses: dict[tuple[str, str], list[Expense]] = field(default_factory=dict)
    # Held for the pass, so the services' look-ups of an expense type by id find it in the
    # session instead of reading it again for every line.
    _expense_types: list[ExpenseType] = field(default_factory=list)
    _undo: list[Callable[[], None]] = field(default_factory=list)
    # Log entries about records written with their page: their local id is known after a flush.
    _unnumbered: list[tuple[SyncLogEntry, Expense]] = field(default_factory=list)

    def __post_init__(self) -> None:
        """Read what the pass looks up again and again: once, before anything changes."""
        session = self.session
        self._expense_types = list(session.scalars(select(ExpenseType)))
        for kind, qbo_id, local_id in session.execute(
            select(TypeMapping.kind, TypeMapping.qbo_id, TypeMapping.local_id).order_by(
                TypeMapping.id
            )
        ):
            self._mappings[(kind, qbo_id)].append(local_id)
        for entry_id, entity_kind, about, action, reason in session.execute(
            select(
                SyncLogEntry.id,
                SyncLogEntry.entity_kind,
                SyncLogEntry.qbo_id,
                SyncLogEntry.action,
                SyncLogEntry.reason,
            )
            .where(SyncLogEntry.resolved.is_(False), SyncLogEntry.action.in_(_STANDING_ACTIONS))
            .order_by(SyncLogEntry.id)
        ):
            self._standing[(entity_kind, about)].append(_Standing(entry_id, action, reason))
        for entity, qbo_id in session.execute(
            select(QboRecord.entity, QboRecord.qbo_id).where(QboRecord.kind == WAITING)
        ):
            self._waiting.add((entity, qbo_id))

    @property
    def session(self) -> Session:
        return self.ctx.session

    # -- records and pages ------------------------------------------------------------------

    def savepoint(self) -> None:
        """A savepoint is about to be taken: what changes here from now on may be undone."""
        self._undo.clear()

    def rolled_back(self) -> None:
        """The savepoint was rolled back: forget what changed here since, too."""
        for undo in reversed(self._undo):
            undo()
        self._undo.clear()
        # Expenses it created are gone and those it changed are expired: read them again.
        self._page_expenses.clear()

    def commit(self) -> None:
        """Commit the records applied so far, with the log entries they resolved."""
        self._number_entries()
        self._flush_resolved()
        self.session.commit()
        self._page_expenses.clear()

    def _number_entries(self) -> None:
        if not self._unnumbered:
            return
        self.session.flush()
        for entry, record in self._unnumbered:
            entry.local_id = record.id
        self._unnumbered.clear()

    def _flush_resolved(self) -> None:
        if not self._resolved:
            return
        if any(isinstance(item, SyncLogEntry) for item in self._resolved):
            self.session.flush()
        ids = sorted({item if isinstance(item, int) else item.id for item in self._resolved})
        self._resolved.clear()
        for start in range(0, len(ids), _IDS_PER_STATEMENT):
            self.session.execute(
                update(SyncLogEntry)
                .where(SyncLogEntry.id.in_(ids[start : start + _IDS_PER_STATEMENT]))
                .values(resolved=True, state="resolved")
            )

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
        local_record: Expense | None = None,
        qbo_id: str | None = None,
        detail: dict[str, Any] | None = None,
        once: bool = False,
    ) -> None:
        """Log what happened to one record (a preview's plan is its log on the scratch copy).

        `local_record`: the record, when it may not be written yet (`local_id` None): the entry
        takes its id when the page is committed. `once`: not logged or counted again while the
        same entry stands unresolved in the log (the record still needs attention, so a pass
        that leaves something blocked or failed is not reported as clean).
        """
        label = label[:300]
        if once and self.standing(entity_kind, qbo_id, action, reason):
            if action in ATTENTION_ACTIONS:
                self.ctx.attention += 1
            return
        entry = self.ctx.log(
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
        if local_id is None and local_record is not None:
            pair = (entry, local_record)
            self._unnumbered.append(pair)
            self._undo.append(lambda: self._unnumbered.remove(pair))
        if action in _STANDING_ACTIONS:
            standing = self._standing[(entity_kind, qbo_id)]
            item = _Standing(entry, action, reason)
            standing.append(item)
            self._undo.append(lambda: standing.remove(item))

    def standing(
        self, entity_kind: str, qbo_id: str | None, action: str, reason: str | None
    ) -> bool:
        return any(
            item.action == action and item.reason == reason
            for item in self._standing.get((entity_kind, qbo_id), ())
        )

    def resolve(self, entity_kind: str, qbo_id: str, actions: Sequence[str]) -> None:
        """Mark standing log entries about a record as resolved (it has been applied since).

        Nothing is written unless something stands; the entries are marked when the page is
        committed (`commit`), in one statement.
        """
        standing = self._standing.get((entity_kind, qbo_id))
        if not standing:
            return
        done = [item for item in standing if item.action in actions]
        if not done:
            return
        kept = [item for item in standing if item.action not in actions]
        standing[:] = kept
        self._resolved.extend(item.entry for item in done)
        count = len(done)

        def undo() -> None:
            standing[:] = kept + done
            del self._resolved[-count:]

        self._undo.append(undo)

    # -- lookups ----------------------------------------------------------------------------

    def project(self, customer_id: str) -> Project | None:
        if customer_id not in self.projects:
            self.projects[customer_id] = self.session.scalar(
                select(Project).where(Project.qbo_id == customer_id)
            )
        return self.projects[customer_id]

    def mapped(self, kind: str, qbo_id: str) -> list[int]:
        """The local records mapped to a QuickBooks record (`kind`: e.g. "expense_type")."""
        return list(self._mappings.get((kind, qbo_id), ()))

    def invoice(self, qbo_id: str) -> Invoice | None:
        return self.session.scalar(select(Invoice).where(Invoice.qbo_id == qbo_id))

    def load_expenses(self, entity: str, txn_ids: Iterable[str]) -> None:
        """Read the expenses of these transactions at once (for the page about to be applied)."""
        wanted = sorted(
            {txn_id for txn_id in txn_ids if (entity, txn_id) not in self._page_expenses}
        )
        for start in range(0, len(wanted), _IDS_PER_STATEMENT):
            chunk = wanted[start : start + _IDS_PER_STATEMENT]
            for txn_id in chunk:
                self._page_expenses[(entity, txn_id)] = []
            for expense in self.session.scalars(
                select(Expense)
                .where(Expense.qbo_txn_type == entity, Expense.qbo_id.in_(chunk))
                .order_by(Expense.id)
            ):
                assert expense.qbo_id is not None
                self._page_expenses[(entity, expense.qbo_id)].append(expense)

    def expenses_of(self, entity: str, txn_id: str) -> list[Expense]:
        known = self._page_expenses.get((entity, txn_id))
        if known is not None:
            return list(known)
        return list(
            self.session.scalars(
                select(Expense)
                .where(Expense.qbo_txn_type == entity, Expense.qbo_id == txn_id)
                .order_by(Expense.id)
            )
        )

    def expense_added(self, expense: Expense) -> None:
        """An expense just recorded: the transaction's list read for the page includes it."""
        if expense.qbo_txn_type is None or expense.qbo_id is None:
            return
        known = self._page_expenses.get((expense.qbo_txn_type, expense.qbo_id))
        if known is not None:
            known.append(expense)

    def name_of(self, entity: str, ref: Any) -> str | None:
        name = ref_name(ref)
        if name is not None:
            return name
        qbo_id = ref_value(ref)
        if qbo_id is None:
            return None
        if (entity, qbo_id) not in self._names:
            record = cached(self.session, entity, qbo_id)
            self._names[(entity, qbo_id)] = record.name if record is not None else None
        return self._names[(entity, qbo_id)]

    # -- records kept waiting ---------------------------------------------------------------

    def is_waiting(self, entity: str, qbo_id: str) -> bool:
        """Whether a record of `entity` is kept waiting."""
        return (entity, qbo_id) in self._waiting

    def waiting_changed(self, entity: str, qbo_id: str, waiting: bool) -> None:
        key = (entity, qbo_id)
        if (key in self._waiting) == waiting:
            return
        if waiting:
            self._waiting.add(key)
            self._undo.append(lambda: self._waiting.discard(key))
        else:
            self._waiting.discard(key)
            self._undo.append(lambda: self._waiting.add(key))
