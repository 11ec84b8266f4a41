"""What the window shows, read from the store in one go as plain, immutable data.

`load_snapshot` runs on the worker thread, in the worker's own session, and returns frozen
dataclasses only: nothing here is attached to a SQLAlchemy session, so the rows can cross to the
GUI thread and be read there without touching the database.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import keyring
from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session, selectinload

from factor_desktop.paths import DataDir
from factor_desktop.receipts import ReceiptInfo, receipts_by_expense
from factor_desktop.secrets import (
    REFRESH_IDLE_LIMIT,
    KeyringUnavailable,
    MemoryKeyring,
    SecretStoreError,
    TokenSet,
    TokenStore,
    keyring_problem,
)
from factor_desktop.services.links import create_requested
from factor_desktop.services.mappings import (
    QBO_ENTITY_FOR_KIND,
    automated_sales_tax_on,
    candidates,
    chosen_tax_rule,
    display_name,
    local_name,
    mapping_coverage,
    qbo_type,
    tax_code_rate,
    tax_rate_values,
    unusable_reason,
)
from factor_desktop.settings import load_settings
from factor_desktop.store.db import Store
from factor_desktop.store.models import (
    Client,
    Connection,
    Expense,
    ExpenseType,
    Invoice,
    Mapping,
    OutboxItem,
    Project,
    QboRecord,
    ServiceType,
    SyncLogEntry,
    SyncRun,
    TaxTerm,
)

# The newest sync log entries the window lists; older ones stay in the store and the CLI report.
LOG_LIMIT = 2000
# The newest sync runs the Sync Log's run filter offers.
RUN_LIMIT = 50

# Which QBO entity each mapping kind points at.
MAPPING_ENTITIES = QBO_ENTITY_FOR_KIND


@dataclass(frozen=True)
class ConnectionInfo:
    """The QuickBooks connection as the Connection tab shows it. Never holds a token."""

    # The state to show: "connected", "disconnected" or "reconnect_needed". A stored
    # "connected" without tokens in the keyring is shown as "reconnect_needed".
    state: str
    stored_state: str
    company_name: str | None
    realm_id: str | None
    environment: str | None
    connected_at: datetime | None
    refresh_token_issued_at: datetime | None
    refresh_token_last_used_at: datetime | None
    idle_deadline: datetime | None
    hard_deadline: datetime | None
    last_error: str | None
    warnings: tuple[str, ...]
    pending_since: datetime | None
    tokens_present: bool
    # The keyring's own complaint when it cannot be used (KeyringUnavailable or a read error).
    keyring_message: str | None
    keyring_unavailable: bool
    secret_storage: str
    keyring_backend: str
    # True when secrets live in this process's memory (the session-only choice, or the demo).
    secrets_in_memory: bool
    # The backend's name when it writes secrets unencrypted to a file.
    client_id: str | None
    settings_environment: str

    @property
    def has_saved_secret(self) -> bool:
        return self.client_id is not None


@dataclass(frozen=True)
class ProjectRow:
    id: int
    client_id: int
    number: str
    name: str
    status: str
    manager: str | None
    qbo_id: str | None


@dataclass(frozen=True)
class ClientRow:
    id: int
    name: str
    archived: bool
    qbo_id: str | None
    projects: tuple[ProjectRow, ...]


@dataclass(frozen=True)
class MappedRecord:
    """The QBO record a Factor type is mapped to; `name` is None when it is not in the cache."""

    qbo_id: str
    entity: str
    name: str | None
    active: bool
    # Why the record would not go through now (inactive, a category, not an expense account).
    problem: str | None = None
    # A tax code's effective rate (None: not known), and the rule chosen for the tax term's
    # mapping when the rates differ (None: none chosen, so Factor's tax amount is sent).
    rate: Decimal | None = None
    tax_rule: str | None = None


@dataclass(frozen=True)
class ServiceTypeRow:
    id: int
    name: str
    description: str | None
    taxable: bool
    active: bool
    item: MappedRecord | None


@dataclass(frozen=True)
class ExpenseTypeRow:
    id: int
    name: str
    category: str
    markup_percent: Decimal | None
    billable: bool
    is_subconsultant: bool
    active: bool
    account: MappedRecord | None
    item: MappedRecord | None


@dataclass(frozen=True)
class TaxTermRow:
    id: int
    code: str
    name: str
    rate_percent: Decimal
    active: bool
    tax_code: MappedRecord | None


@dataclass(frozen=True)
class InvoiceRow:
    id: int
    number: str | None
    project_number: str
    project_name: str
    client_name: str
    status: str
    issue_date: date
    due_date: date | None
    total: Decimal
    balance: Decimal
    qbo_id: str | None
    # Why an issued invoice is not in QuickBooks yet: its outbox row's state ("pending",
    # "blocked", "failed"), the standing reason, and the fix the window offers for it
    # ("map", "link" or "retry"; see `blocking_fix`).
    outbox_status: str | None = None
    blocked_reason: str | None = None
    fix: str | None = None
    # QuickBooks' total when it differs from Factor's (a standing "mismatched" entry), and why.
    qbo_total: Decimal | None = None
    mismatch_reason: str | None = None
    # QuickBooks' balance when it is not Factor's total less the payments Factor has.
    qbo_balance: Decimal | None = None
    # The invoice's project (and so its client), for the "Link…" fix.
    project_id: int = 0

    @property
    def mismatched(self) -> bool:
        return self.qbo_total is not None or self.mismatch_reason is not None


def blocking_fix(outbox_status: str | None, reason: str | None) -> str | None:
    """The fix for what holds an invoice back: "map" (a type or tax term to map on the Mappings
    tab), "link" (a client or project to link on Clients & Projects), "retry" (send it again),
    or None when nothing holds it (or it only waits for the next sync)."""
    if outbox_status not in ("blocked", "failed"):
        return None
    text = reason or ""
    if outbox_status == "blocked":
        if "Mappings tab" in text:
            return "map"
        if "Clients & Projects" in text or "not in QuickBooks yet" in text:
            return "link"
    return "retry"


@dataclass(frozen=True)
class ExpenseRow:
    id: int
    incurred_on: date
    project_number: str
    project_name: str
    type_name: str | None
    vendor: str | None
    description: str
    cost: Decimal
    markup_percent: Decimal | None
    billable_amount: Decimal
    billable: bool
    source: str
    qbo_txn_type: str | None
    receipts: int
    deleted_in_qbo: bool
    # The receipts themselves: the expense's own and its QuickBooks transaction's.
    receipt_files: tuple[ReceiptInfo, ...] = ()


@dataclass(frozen=True)
class LogRow:
    id: int
    at: datetime
    direction: str
    entity_kind: str
    label: str
    qbo_id: str | None
    action: str
    level: str
    reason: str | None
    run_id: int | None = None
    # ok, waiting, failed or mismatched; resolved or superseded once that is no longer true.
    state: str = "ok"
    # The Factor record's id (a client's, a project's, an invoice's ...), when it has one.
    local_id: int | None = None


@dataclass(frozen=True)
class SyncRunRow:
    """One sync pass (or preview) as the status bar and the Sync Log's run filter show it."""

    id: int
    kind: str
    status: str
    started_at: datetime
    finished_at: datetime | None
    error: str | None
    counts: tuple[tuple[str, int], ...] = ()
    requests_used: int = 0


@dataclass(frozen=True)
class QboCandidate:
    """A cached QuickBooks record a Factor type may be mapped to (dragged onto it)."""

    entity: str
    qbo_id: str
    name: str
    # An Item's Type or an Account's AccountType.
    type: str | None
    # The Factor types already mapped to it.
    used_by: tuple[str, ...] = ()
    # A tax code's effective rate (the sum of its sales tax rates); None when not known.
    rate: Decimal | None = None


@dataclass(frozen=True)
class Candidates:
    items: tuple[QboCandidate, ...] = ()
    expense_accounts: tuple[QboCandidate, ...] = ()
    tax_codes: tuple[QboCandidate, ...] = ()
    # Whether Automated Sales Tax is on in QuickBooks (None: the Preferences were not read).
    automated_sales_tax: bool | None = None


@dataclass(frozen=True)
class QboCustomerRow:
    """A cached QuickBooks customer or sub-customer a client or project can be linked to."""

    qbo_id: str
    name: str
    # "Client:Project" for a sub-customer.
    full_name: str
    parent_qbo_id: str | None
    balance: Decimal | None
    active: bool
    sync_token: str | None
    # The client or project linked to it ("the client 'X'"), if any.
    linked_to: str | None = None


@dataclass(frozen=True)
class SetupProgress:
    """What a first-run checklist needs to know beyond the rest of the snapshot."""

    # Rows read from QuickBooks' lists into the reference cache.
    cached_records: int = 0
    # Preview passes run, and sync passes (not previews, not list reads) that finished.
    previews: int = 0
    syncs: int = 0
    # Clients (and projects, when they are mirrored) that need a QuickBooks decision, and how
    # many have one: linked, or marked "create in QuickBooks".
    links_needed: int = 0
    links_decided: int = 0


@dataclass(frozen=True)
class Snapshot:
    loaded_at: datetime
    data_file: Path
    connection: ConnectionInfo
    clients: tuple[ClientRow, ...]
    service_types: tuple[ServiceTypeRow, ...]
    expense_types: tuple[ExpenseTypeRow, ...]
    tax_terms: tuple[TaxTermRow, ...]
    invoices: tuple[InvoiceRow, ...]
    expenses: tuple[ExpenseRow, ...]
    log: tuple[LogRow, ...]
    # The newest finished or running sync (not a preview), and the newest runs of any kind.
    last_sync: SyncRunRow | None
    runs: tuple[SyncRunRow, ...] = ()
    candidates: Candidates = Candidates()
    # Per kind (service_type, expense_type, tax_term): active types mapped, active types.
    coverage: tuple[tuple[str, int, int], ...] = ()
    # Outbox rows that failed or were blocked, waiting for a retry.
    outbox_problems: int = 0
    auto_sync_minutes: int = 0
    # The QuickBooks customers and sub-customers in the cache, by full name.
    customers: tuple[QboCustomerRow, ...] = ()
    # Clients and projects marked "create in QuickBooks": ("client" or "project", id).
    create_requests: frozenset[tuple[str, int]] = frozenset()
    setup: SetupProgress = SetupProgress()

    def coverage_of(self, kind: str) -> tuple[int, int]:
        return next(((m, t) for k, m, t in self.coverage if k == kind), (0, 0))


def load_snapshot(store: Store, tokens: TokenStore, now: datetime | None = None) -> Snapshot:
    """Read everything the window shows. Call it on the worker thread."""
    now = now or datetime.now(UTC)
    with store.session() as session:
        settings = load_settings(session)
        conn = session.get(Connection, 1)
        connection = _connection_info(conn, tokens, settings.secret_storage, settings.environment)
        clients = _clients(session)
        customers, requests, setup = _links_and_setup(
            session, clients, settings.auto_create_projects
        )
        snapshot = Snapshot(
            loaded_at=now,
            data_file=store.path,
            connection=connection,
            clients=clients,
            service_types=_service_types(session),
            expense_types=_expense_types(session),
            tax_terms=_tax_terms(session),
            invoices=_invoices(session),
            expenses=_expenses(session, DataDir.resolve(store.path.parent).attachments),
            log=_log(session),
            last_sync=_last_sync(session),
            runs=_runs(session),
            candidates=_candidates(session),
            coverage=tuple((k, m, t) for k, (m, t) in mapping_coverage(session).items()),
            outbox_problems=_outbox_problems(session),
            auto_sync_minutes=settings.auto_sync_minutes,
            customers=customers,
            create_requests=requests,
            setup=setup,
        )
    return snapshot


# --- connection ---------------------------------------------------------------------------


def _keyring_backend() -> tuple[str, bool]:
    """The keyring backend's name, and whether it keeps secrets in this process only."""
    backend = keyring.get_keyring()
    name = getattr(backend, "name", None)
    return (str(name) if name else type(backend).__name__), isinstance(backend, MemoryKeyring)


def _connection_info(
    conn: Connection | None, tokens: TokenStore, secret_storage: str, settings_environment: str
) -> ConnectionInfo:
    token_set: TokenSet | None = None
    client_id: str | None = None
    keyring_message: str | None = None
    unavailable = False
    try:
        token_set = tokens.load_tokens()
        app = tokens.load_app()
        client_id = app.client_id if app is not None else None
    except KeyringUnavailable as exc:
        keyring_message, unavailable = str(exc), True
    except SecretStoreError as exc:
        keyring_message = str(exc)
    stored_state = conn.state if conn is not None else "disconnected"
    state = stored_state
    last_error = conn.last_error if conn is not None else None
    if stored_state == "connected" and token_set is None:
        state = "reconnect_needed"
        if last_error is None:
            last_error = (
                "The QuickBooks tokens are not on this computer any more"
                + (
                    " (they were kept for an earlier session only)"
                    if secret_storage == "session"
                    else ""
                )
                + ". Connect again to continue."
            )
    backend_name, in_memory = _keyring_backend()
    last_used = conn.refresh_token_last_used_at if conn is not None else None
    issued = token_set.refresh_issued_at if token_set is not None else None
    if issued is None and conn is not None:
        issued = conn.refresh_token_issued_at
    return ConnectionInfo(
        state=state,
        stored_state=stored_state,
        company_name=conn.company_name if conn is not None else None,
        realm_id=conn.realm_id if conn is not None else None,
        environment=conn.environment if conn is not None else None,
        connected_at=conn.connected_at if conn is not None else None,
        refresh_token_issued_at=issued,
        refresh_token_last_used_at=last_used,
        idle_deadline=last_used + REFRESH_IDLE_LIMIT if last_used is not None else None,
        hard_deadline=token_set.refresh_hard_expires_at if token_set is not None else None,
        last_error=last_error,
        warnings=tuple(conn.warnings or ()) if conn is not None else (),
        pending_since=conn.pending_started_at if conn is not None else None,
        tokens_present=token_set is not None,
        keyring_message=keyring_message,
        keyring_unavailable=unavailable,
        secret_storage=secret_storage,
        keyring_backend=backend_name if keyring_problem() is None else "none",
        secrets_in_memory=in_memory,
        client_id=client_id,
        settings_environment=settings_environment,
    )


# --- Factor records -------------------------------------------------------------------------


def _clients(session: Session) -> tuple[ClientRow, ...]:
    clients = session.scalars(
        select(Client).options(selectinload(Client.projects)).order_by(Client.name)
    ).all()
    return tuple(
        ClientRow(
            id=c.id,
            name=c.name,
            archived=c.archived,
            qbo_id=c.qbo_id,
            projects=tuple(
                ProjectRow(
                    id=p.id,
                    client_id=c.id,
                    number=p.number,
                    name=p.name,
                    status=p.status,
                    manager=p.manager,
                    qbo_id=p.qbo_id,
                )
                for p in sorted(c.projects, key=lambda p: p.number)
            ),
        )
        for c in clients
    )


def _mapping_lookup(session: Session) -> dict[tuple[str, int], MappedRecord]:
    cache = {
        (r.entity, r.qbo_id): r
        for r in session.scalars(
            select(QboRecord).where(QboRecord.entity.in_(set(MAPPING_ENTITIES.values())))
        )
    }
    found: dict[tuple[str, int], MappedRecord] = {}
    rates = tax_rate_values(session)
    for m in session.scalars(select(Mapping)):
        entity = MAPPING_ENTITIES.get(m.kind)
        if entity is None:
            continue
        record = cache.get((entity, m.qbo_id))
        taxed = m.kind == "tax_term" and record is not None
        found[(m.kind, m.local_id)] = MappedRecord(
            qbo_id=m.qbo_id,
            entity=entity,
            name=display_name(record) if record is not None else None,
            active=record.active if record is not None else True,
            problem=unusable_reason(record, m.kind) if record is not None else None,
            rate=tax_code_rate(session, record, rates) if taxed and record else None,
            tax_rule=chosen_tax_rule(session, m.local_id) if taxed else None,
        )
    return found


def _service_types(session: Session) -> tuple[ServiceTypeRow, ...]:
    mapped = _mapping_lookup(session)
    return tuple(
        ServiceTypeRow(
            id=s.id,
            name=s.name,
            description=s.description,
            taxable=s.taxable,
            active=s.active,
            item=mapped.get(("service_type", s.id)),
        )
        for s in session.scalars(select(ServiceType).order_by(ServiceType.name))
    )


def _expense_types(session: Session) -> tuple[ExpenseTypeRow, ...]:
    mapped = _mapping_lookup(session)
    return tuple(
        ExpenseTypeRow(
            id=e.id,
            name=e.name,
            category=e.category,
            markup_percent=e.markup_percent,
            billable=e.billable,
            is_subconsultant=e.is_subconsultant,
            active=e.active,
            account=mapped.get(("expense_type", e.id)),
            item=mapped.get(("expense_type_item", e.id)),
        )
        for e in session.scalars(select(ExpenseType).order_by(ExpenseType.name))
    )


def _tax_terms(session: Session) -> tuple[TaxTermRow, ...]:
    mapped = _mapping_lookup(session)
    return tuple(
        TaxTermRow(
            id=t.id,
            code=t.code,
            name=t.name,
            rate_percent=t.rate_percent,
            active=t.active,
            tax_code=mapped.get(("tax_term", t.id)),
        )
        for t in session.scalars(select(TaxTerm).order_by(TaxTerm.code))
    )


def _invoices(session: Session) -> tuple[InvoiceRow, ...]:
    invoices = session.scalars(
        select(Invoice)
        .options(selectinload(Invoice.project).selectinload(Project.client))
        .order_by(Invoice.issue_date.desc(), Invoice.id.desc())
    ).all()
    # The open create of each invoice, and the invoice's standing problem in the sync log.
    outbox: dict[int, OutboxItem] = {}
    for item in session.scalars(
        select(OutboxItem)
        .where(
            OutboxItem.entity_kind == "invoice",
            OutboxItem.operation == "create",
            OutboxItem.status.in_(("pending", "blocked", "failed")),
        )
        .order_by(OutboxItem.id)
    ):
        outbox[item.local_id] = item
    standing: dict[int, SyncLogEntry] = {}
    mismatched: dict[int, SyncLogEntry] = {}
    for entry in session.scalars(
        select(SyncLogEntry)
        .where(
            SyncLogEntry.entity_kind == "invoice",
            SyncLogEntry.local_id.is_not(None),
            SyncLogEntry.direction.in_(("push", "pull")),
            _STANDING,
        )
        .order_by(SyncLogEntry.id)
    ):
        assert entry.local_id is not None
        state = entry.current_state
        if entry.action == "mismatched" or state == "mismatched":
            mismatched[entry.local_id] = entry
        elif state in ("waiting", "failed"):
            standing[entry.local_id] = entry
    rows: list[InvoiceRow] = []
    for i in invoices:
        open_item = outbox.get(i.id) if i.qbo_id is None else None
        problem = standing.get(i.id) if open_item is not None else None
        reason = (problem.reason if problem is not None else None) or (
            open_item.last_error if open_item is not None else None
        )
        status = open_item.status if open_item is not None else None
        if status == "pending" and problem is None:
            reason = None
        mismatch = mismatched.get(i.id)
        detail = mismatch.detail if mismatch is not None and mismatch.detail else {}
        rows.append(
            InvoiceRow(
                id=i.id,
                number=i.number,
                project_number=i.project.number,
                project_name=i.project.name,
                client_name=i.project.client.name,
                status=i.status,
                issue_date=i.issue_date,
                due_date=i.due_date,
                total=i.total,
                balance=i.balance,
                qbo_id=i.qbo_id,
                outbox_status=status,
                blocked_reason=reason,
                fix=blocking_fix(status, reason),
                qbo_total=_money_or_none(detail.get("qbo_total")),
                mismatch_reason=mismatch.reason if mismatch is not None else None,
                qbo_balance=_money_or_none(detail.get("qbo_balance")),
                project_id=i.project_id,
            )
        )
    return tuple(rows)


# A sync log entry that still stands (as the sync's own NEEDS_ATTENTION: the sync package is not
# imported here, to keep the window's start light).
_STANDING = and_(
    SyncLogEntry.resolved.is_(False),
    or_(
        SyncLogEntry.state.in_(("waiting", "failed", "mismatched")),
        and_(SyncLogEntry.state.is_(None), SyncLogEntry.level.in_(("warning", "error"))),
    ),
)


def _money_or_none(value: object) -> Decimal | None:
    try:
        return Decimal(str(value)) if value is not None else None
    except ArithmeticError:
        return None


def _expenses(session: Session, attachments_dir: Path) -> tuple[ExpenseRow, ...]:
    receipts = receipts_by_expense(session, attachments_dir)
    expenses = session.scalars(
        select(Expense)
        .options(selectinload(Expense.project), selectinload(Expense.expense_type))
        .order_by(Expense.incurred_on.desc(), Expense.id.desc())
    ).all()
    return tuple(
        ExpenseRow(
            id=e.id,
            incurred_on=e.incurred_on,
            project_number=e.project.number,
            project_name=e.project.name,
            type_name=e.expense_type.name if e.expense_type is not None else None,
            vendor=e.vendor,
            description=e.description,
            cost=e.cost,
            markup_percent=e.markup_percent,
            billable_amount=e.billable_amount,
            billable=e.billable,
            source=e.source,
            qbo_txn_type=e.qbo_txn_type,
            receipts=len(receipts.get(e.id, ())),
            deleted_in_qbo=e.deleted_in_qbo,
            receipt_files=receipts.get(e.id, ()),
        )
        for e in expenses
    )


def _log(session: Session) -> tuple[LogRow, ...]:
    entries = session.scalars(
        select(SyncLogEntry)
        .order_by(SyncLogEntry.at.desc(), SyncLogEntry.id.desc())
        .limit(LOG_LIMIT)
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


def _run_row(run: SyncRun) -> SyncRunRow:
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


def _last_sync(session: Session) -> SyncRunRow | None:
    run = session.scalars(
        select(SyncRun)
        .where(SyncRun.kind.not_in(("preview", "lists")))
        .order_by(SyncRun.id.desc())
        .limit(1)
    ).first()
    return _run_row(run) if run is not None else None


def _runs(session: Session) -> tuple[SyncRunRow, ...]:
    runs = session.scalars(select(SyncRun).order_by(SyncRun.id.desc()).limit(RUN_LIMIT))
    return tuple(_run_row(run) for run in runs)


def _outbox_problems(session: Session) -> int:
    return int(
        session.scalar(
            select(func.count(OutboxItem.id)).where(OutboxItem.status.in_(("failed", "blocked")))
        )
        or 0
    )


def _candidates(session: Session) -> Candidates:
    """What the Mappings tab offers to drag, each with the Factor types already mapped to it."""
    names: dict[str, dict[int, str]] = {
        "service_type": {s.id: s.name for s in session.scalars(select(ServiceType))},
        "expense_type": {e.id: e.name for e in session.scalars(select(ExpenseType))},
        "tax_term": {t.id: local_name(t) for t in session.scalars(select(TaxTerm))},
    }
    names["expense_type_item"] = names["expense_type"]
    used_by: dict[tuple[str, str], list[str]] = {}
    for m in session.scalars(select(Mapping).order_by(Mapping.kind, Mapping.local_id)):
        name = names.get(m.kind, {}).get(m.local_id)
        if name is not None:
            used_by.setdefault((MAPPING_ENTITIES[m.kind], m.qbo_id), []).append(name)

    rates = tax_rate_values(session)

    def rows(kind: str) -> tuple[QboCandidate, ...]:
        return tuple(
            QboCandidate(
                entity=r.entity,
                qbo_id=r.qbo_id,
                name=display_name(r),
                type=qbo_type(r),
                used_by=tuple(dict.fromkeys(used_by.get((r.entity, r.qbo_id), ()))),
                rate=tax_code_rate(session, r, rates) if r.entity == "TaxCode" else None,
            )
            for r in candidates(session, kind)
        )

    return Candidates(
        items=rows("service_type"),
        expense_accounts=rows("expense_type"),
        tax_codes=rows("tax_term"),
        automated_sales_tax=automated_sales_tax_on(session),
    )


# --- links and the first-run checklist ---------------------------------------------------------


def _balance(value: object) -> Decimal | None:
    try:
        return Decimal(str(value)).quantize(Decimal("0.01")) if value is not None else None
    except ArithmeticError:
        return None


def _links_and_setup(
    session: Session, clients: tuple[ClientRow, ...], projects_mirrored: bool
) -> tuple[tuple[QboCustomerRow, ...], frozenset[tuple[str, int]], SetupProgress]:
    requested = frozenset(create_requested(session))
    linked_to: dict[str, str] = {}
    needed = decided = 0
    for client in clients:
        if client.qbo_id is not None:
            linked_to[client.qbo_id] = f"the client {client.name!r}"
        if not client.archived:
            needed += 1
            decided += client.qbo_id is not None or ("client", client.id) in requested
        for project in client.projects:
            if project.qbo_id is not None:
                linked_to[project.qbo_id] = f"the project {project.number} {project.name!r}"
            if projects_mirrored and not client.archived and project.status == "active":
                needed += 1
                decided += project.qbo_id is not None or ("project", project.id) in requested
    customers = tuple(
        QboCustomerRow(
            qbo_id=r.qbo_id,
            name=r.name,
            full_name=r.fully_qualified_name or r.name,
            parent_qbo_id=r.parent_qbo_id,
            balance=_balance(r.data.get("Balance") if isinstance(r.data, dict) else None),
            active=r.active,
            sync_token=r.sync_token,
            linked_to=linked_to.get(r.qbo_id),
        )
        for r in session.scalars(
            select(QboRecord)
            .where(QboRecord.entity == "Customer")
            .order_by(func.coalesce(QboRecord.fully_qualified_name, QboRecord.name))
        )
    )
    runs = dict(
        session.execute(
            select(SyncRun.kind, func.count(SyncRun.id))
            .where(SyncRun.status.not_in(("running", "failed", "cancelled")))
            .group_by(SyncRun.kind)
        ).all()
    )
    setup = SetupProgress(
        cached_records=int(session.scalar(select(func.count(QboRecord.id))) or 0),
        previews=int(runs.get("preview", 0)),
        syncs=sum(int(n) for kind, n in runs.items() if kind not in ("preview", "lists")),
        links_needed=needed,
        links_decided=decided,
    )
    return customers, requested, setup
