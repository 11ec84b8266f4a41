"""What the window shows, read from the store in one go as plain, immutable data.

`load_snapshot` runs on the worker thread, in the worker's own session, and returns frozen
dataclasses only: nothing here is attached to a SQLAlchemy session, so the rows can cross to the
GUI thread and be read there without touching the database.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from factor_desktop.paths import DataDir
from factor_desktop.receipts import receipts_by_expense
from factor_desktop.secrets import TokenStore
from factor_desktop.settings import load_settings
from factor_desktop.store.db import Store
from factor_desktop.store.models import Connection
from factor_desktop.views.connection import ConnectionInfo, connection_info
from factor_desktop.views.expenses import load_expenses
from factor_desktop.views.invoices import load_invoices
from factor_desktop.views.links import load_clients, load_links_and_setup
from factor_desktop.views.log import (
    load_last_sync,
    load_log,
    load_runs,
    outbox_problems,
)
from factor_desktop.views.mappings import (
    coverage,
    load_candidates,
    load_expense_types,
    load_service_types,
    load_tax_terms,
    mapped_records,
)
from factor_desktop.views.rows import (
    Candidates,
    ClientRow,
    ExpenseRow,
    ExpenseTypeRow,
    InvoiceRow,
    LogRow,
    QboCustomerRow,
    ServiceTypeRow,
    SetupProgress,
    SyncRunRow,
    TaxTermRow,
)


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
    candidates: Candidates = field(default_factory=Candidates)
    # Per kind (service_type, expense_type, tax_term): active types mapped, active types.
    coverage: tuple[tuple[str, int, int], ...] = ()
    # Outbox rows that failed or were blocked, waiting for a retry.
    outbox_problems: int = 0
    auto_sync_minutes: int = 0
    # The QuickBooks customers and sub-customers in the cache, by full name.
    customers: tuple[QboCustomerRow, ...] = ()
    # Clients and projects marked "create in QuickBooks": ("client" or "project", id).
    create_requests: frozenset[tuple[str, int]] = frozenset()
    setup: SetupProgress = field(default_factory=SetupProgress)

    def coverage_of(self, kind: str) -> tuple[int, int]:
        return next(((m, t) for k, m, t in self.coverage if k == kind), (0, 0))


def load_snapshot(store: Store, tokens: TokenStore, now: datetime | None = None) -> Snapshot:
    """Read everything the window shows. Call it on the worker thread."""
    now = now or datetime.now(UTC)
    with store.session() as session:
        settings = load_settings(session)
        conn = session.get(Connection, 1)
        connection = connection_info(conn, tokens, settings.secret_storage, settings.environment)
        clients = load_clients(session)
        customers, requests, setup = load_links_and_setup(
            session, clients, settings.auto_create_projects
        )
        mapped = mapped_records(session)
        receipts = receipts_by_expense(session, DataDir.resolve(store.path.parent).attachments)
        snapshot = Snapshot(
            loaded_at=now,
            data_file=store.path,
            connection=connection,
            clients=clients,
            service_types=load_service_types(session, mapped),
            expense_types=load_expense_types(session, mapped),
            tax_terms=load_tax_terms(session, mapped),
            invoices=load_invoices(session),
            expenses=load_expenses(session, receipts),
            log=load_log(session),
            last_sync=load_last_sync(session),
            runs=load_runs(session),
            candidates=load_candidates(session),
            coverage=coverage(session),
            outbox_problems=outbox_problems(session),
            auto_sync_minutes=settings.auto_sync_minutes,
            customers=customers,
            create_requests=requests,
            setup=setup,
        )
    return snapshot
