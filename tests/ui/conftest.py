"""Fixtures for the window's tests: a real store in a temp folder, and windows that are joined."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from factor_desktop.app import AppContext, open_context
from factor_desktop.secrets import TokenSet
from factor_desktop.store.models import (
    Attachment,
    Client,
    Connection,
    Expense,
    ExpenseType,
    Invoice,
    Mapping,
    Project,
    QboRecord,
    ServiceType,
    SyncLogEntry,
    SyncRun,
    TaxTerm,
)
from factor_desktop.ui.jobs import JobRunner, default_env_factory
from factor_desktop.ui.main_window import MainWindow
from factor_desktop.ui.qt import (
    close_event_loop,
    new_event_loop,
    pumped_event_loop,
    qt_build_problem,
)


@pytest.fixture(autouse=True, scope="session")
def _usable_qt() -> None:
    """The app refuses a PySide6 build that would crash it; so do its tests, with the reason."""
    problem = qt_build_problem()
    if problem is not None:
        pytest.exit(problem, returncode=3)


@pytest.fixture(autouse=True)
def _window_settings_in_tmp(tmp_path: Path) -> None:
    """The window's remembered size and columns go to the test's folder, not the user's."""
    from PySide6.QtCore import QSettings

    QSettings.setPath(
        QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(tmp_path / "qsettings")
    )


@pytest.fixture(autouse=True)
def _window_loop(request: pytest.FixtureRequest) -> Iterator[None]:
    """The window's coroutines run on qasync's loop while pytest-qt pumps Qt's events; a test
    that runs the loop itself (`qasync_loop`) gets one of its own instead."""
    if "qasync_loop" in request.fixturenames:
        yield
        return
    app = request.getfixturevalue("qapp")
    with pumped_event_loop(app):
        yield
        # Coroutines cancelled when their window closed finish on the loop's next turns.
        for _ in range(3):
            app.processEvents()


@pytest.fixture
def ctx(tmp_path: Path) -> Iterator[AppContext]:
    context = open_context(tmp_path / "data", "test")
    try:
        yield context
    finally:
        context.close()


@dataclass(frozen=True)
class Firm:
    """The ids of the records `firm` puts in the store."""

    client_id: int
    other_client_id: int
    project_id: int
    draft_id: int
    final_id: int
    expense_id: int


@pytest.fixture
def firm(ctx: AppContext) -> Firm:
    """A small, known firm: two clients, three projects, two invoices, one expense, mappings."""
    with ctx.store.session() as s:
        linked = Client(name="Harbor Point Holdings", qbo_id="58", qbo_sync_token="0")
        unlinked = Client(name="Willow Creek School District")
        s.add_all([linked, unlinked])
        s.flush()
        tower = Project(
            client_id=linked.id,
            number="2024-017",
            name="Harbor Point Tower",
            status="active",
            manager="R. Okafor",
            qbo_id="59",
        )
        annex = Project(
            client_id=linked.id, number="2024-018", name="Harbor Annex", status="closed"
        )
        gym = Project(client_id=unlinked.id, number="2025-003", name="Gymnasium", status="on_hold")
        s.add_all([tower, annex, gym])
        design = ServiceType(name="Design Development", description="DD phase")
        survey = ServiceType(name="Site Survey")
        structural = ExpenseType(
            name="Structural engineering",
            category="Structural",
            is_subconsultant=True,
            markup_percent=Decimal("10"),
        )
        printing = ExpenseType(name="Printing", category="Reimbursables", markup_percent=None)
        tax = TaxTerm(code="WA-SEA", name="Seattle sales tax", rate_percent=Decimal("10.35"))
        s.add_all([design, survey, structural, printing, tax])
        s.flush()
        s.add_all(
            [
                Mapping(kind="service_type", local_id=design.id, qbo_id="7"),
                Mapping(kind="expense_type", local_id=structural.id, qbo_id="81"),
                Mapping(kind="tax_term", local_id=tax.id, qbo_id="404"),
                QboRecord(entity="Item", qbo_id="7", name="Design:DD", kind="Service", data={}),
                QboRecord(
                    entity="Account",
                    qbo_id="81",
                    name="Subconsultants",
                    fully_qualified_name="Cost of Goods Sold:Subconsultants",
                    kind="Cost of Goods Sold",
                    data={},
                ),
            ]
        )
        draft = Invoice(
            project_id=tower.id,
            status="draft",
            issue_date=date(2025, 3, 14),
            total=Decimal("980.00"),
            balance=Decimal("980.00"),
        )
        final = Invoice(
            project_id=tower.id,
            number="INV-0042",
            status="partially_paid",
            issue_date=date(2025, 2, 1),
            due_date=date(2025, 3, 3),
            subtotal=Decimal("12345.50"),
            total=Decimal("12345.50"),
            balance=Decimal("2345.50"),
            qbo_id="130",
        )
        s.add_all([draft, final])
        expense = Expense(
            project_id=tower.id,
            expense_type_id=structural.id,
            source="qbo",
            qbo_txn_type="Bill",
            qbo_id="311",
            qbo_line_id="1",
            incurred_on=date(2025, 2, 20),
            vendor="Cascade Structural",
            description="Lateral analysis",
            cost=Decimal("400.00"),
            markup_percent=Decimal("10"),
            billable_amount=Decimal("440.00"),
        )
        s.add(expense)
        s.flush()
        s.add_all(
            [
                Attachment(expense_id=expense.id, file_name="bill-311.pdf", qbo_id="9001"),
                Attachment(expense_id=expense.id, file_name="bill-311-p2.pdf", qbo_id="9002"),
            ]
        )
        run = SyncRun(status="partial", finished_at=datetime.now(UTC))
        s.add(run)
        s.flush()
        s.add_all(
            [
                SyncLogEntry(
                    run_id=run.id,
                    direction="push",
                    entity_kind="invoice",
                    local_id=final.id,
                    qbo_id="130",
                    label="INV-0042",
                    action="created",
                    level="info",
                ),
                SyncLogEntry(
                    run_id=run.id,
                    direction="pull",
                    entity_kind="expense",
                    label="Bill 312 line 2",
                    action="skipped",
                    level="error",
                    reason="Account 'Travel' is not mapped to an expense type.",
                ),
            ]
        )
        return Firm(linked.id, unlinked.id, tower.id, draft.id, final.id, expense.id)


def make_tokens(realm_id: str = "9130350000000001", issued: datetime | None = None) -> TokenSet:
    now = datetime.now(UTC)
    issued = issued or now - timedelta(days=3)
    return TokenSet(
        realm_id=realm_id,
        refresh_token="test-refresh-token-value",
        access_token="test-access-token-value",
        access_expires_at=now + timedelta(hours=1),
        refresh_issued_at=issued,
        refresh_expires_at=issued + timedelta(days=100),
        refresh_hard_expires_at=issued + timedelta(days=5 * 365),
    )


def mark_connected(
    ctx: AppContext,
    *,
    company: str = "Alder & Finch Architects",
    realm_id: str = "9130350000000001",
    last_used: datetime | None = None,
    state: str = "connected",
    warnings: list[str] | None = None,
    environment: str = "sandbox",
    save_tokens: bool = True,
) -> None:
    now = datetime.now(UTC)
    with ctx.store.session() as s:
        conn = s.get(Connection, 1) or Connection(id=1)
        conn.state = state
        conn.realm_id = realm_id
        conn.company_name = company
        conn.environment = environment
        conn.connected_at = now - timedelta(days=3)
        conn.refresh_token_issued_at = now - timedelta(days=3)
        conn.refresh_token_last_used_at = last_used or now
        conn.warnings = warnings or []
        s.add(conn)
    if save_tokens:
        ctx.tokens.save_tokens(make_tokens(realm_id))


@pytest.fixture
def make_window(qtbot: Any, ctx: AppContext) -> Iterator[Callable[..., MainWindow]]:
    """Windows on `ctx`; each is shut down and its worker joined at teardown."""
    windows: list[MainWindow] = []

    def make(**kwargs: Any) -> MainWindow:
        kwargs.setdefault("open_url", lambda url: None)
        window = MainWindow(ctx.store, ctx.tokens, **kwargs)
        qtbot.addWidget(window)
        windows.append(window)
        # The offscreen screen is 800 px wide, and the window never opens larger than its
        # screen; the tests lay it out at its usual size.
        window.resize(1280, 800)
        window.show()
        return window

    yield make
    for window in windows:
        window.shutdown()
        assert not window.runner.running, "the worker thread must be joined"


@pytest.fixture
def runner(qtbot: Any, ctx: AppContext) -> Iterator[JobRunner]:
    job_runner = JobRunner(default_env_factory(ctx.store, ctx.tokens))
    yield job_runner
    job_runner.shutdown()
    assert not job_runner.running


def wait_for_snapshot(qtbot: Any, window: MainWindow, timeout: int = 10_000) -> Any:
    """Wait for the next snapshot the window applies (after everything queued before it)."""
    with qtbot.waitSignal(window.snapshotApplied, timeout=timeout) as blocker:
        window.refresh()
    return blocker.args[0]


@pytest.fixture
def qasync_loop(qapp: Any) -> Iterator[asyncio.AbstractEventLoop]:
    """The app's event loop as the window runs it: Qt's loop driving asyncio (qasync)."""
    loop = new_event_loop(qapp)
    asyncio.set_event_loop(loop)
    try:
        yield loop
    finally:
        asyncio.set_event_loop(None)
        close_event_loop(loop)
