"""Sync Now, the preview, the auto-sync timer, the Sync Log's filters and Retry, and the sync
command: the real engine against the local sandbox, through the demo's real connection."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QAbstractItemModelTester
from sqlalchemy import func, select

from factor_desktop.app import AppContext
from factor_desktop.cli import main
from factor_desktop.demo import DemoSession
from factor_desktop.settings import update_setting
from factor_desktop.store.db import Store
from factor_desktop.store.models import Invoice, OutboxItem, SyncLogEntry, SyncRun
from factor_desktop.sync.connection import ConnectionService
from factor_desktop.sync.engine import SyncSummary
from factor_desktop.sync.push import retry_outbox
from factor_desktop.ui.controllers.sync import last_sync_text
from factor_desktop.ui.demo_window import DemoController, open_demo_window
from factor_desktop.ui.job_types import SyncJob, SyncProgress
from factor_desktop.ui.jobs import JobOutcome
from factor_desktop.ui.main_window import MainWindow
from factor_desktop.ui.models.base import RowRole
from factor_desktop.ui.sync_dialog import SyncPreviewDialog, preview_headline
from factor_desktop.views import SyncRunRow

from .conftest import Firm, mark_connected, wait_for_snapshot

pytestmark = pytest.mark.gui

MakeWindow = Callable[..., MainWindow]


# --- the demo window, connected to the sandbox ---------------------------------------------


@pytest.fixture
def demo_window(qtbot: Any, tmp_path: Path) -> Iterator[tuple[MainWindow, DemoController]]:
    window, controller = open_demo_window(tmp_path, fresh=True)
    qtbot.addWidget(window)
    window.show()

    def connected() -> bool:
        snapshot = window.snapshot
        return (
            controller.job is None
            and snapshot is not None
            and snapshot.connection.state == "connected"
        )

    try:
        qtbot.waitUntil(connected, timeout=30_000)
        yield window, controller
    finally:
        window.close()
        assert not window.runner.running, "the worker thread must be joined"
        assert controller.demo.sandbox is None


def _finish(qtbot: Any, window: MainWindow, kind: str, timeout: int = 60_000) -> JobOutcome:
    """Wait for the next job of `kind`, then for the snapshot that follows it."""
    outcomes: list[JobOutcome] = []
    window.runner.jobFinished.connect(outcomes.append)
    try:
        qtbot.waitUntil(lambda: any(o.kind == kind for o in outcomes), timeout=timeout)
        wait_for_snapshot(qtbot, window)
    finally:
        window.runner.jobFinished.disconnect(outcomes.append)
    return next(o for o in outcomes if o.kind == kind)


def _count(store: Store, model: Any, *where: Any) -> int:
    with store.session() as s:
        return int(s.scalar(select(func.count()).select_from(model).where(*where)) or 0)


def test_sync_now_preview_retry_and_cancel(
    qtbot: Any, demo_window: tuple[MainWindow, DemoController]
) -> None:
    window, controller = demo_window
    store = controller.demo.ctx.store
    assert window.sync_action.isEnabled()
    assert window.sync_status.text() == "No sync yet"
    # Nothing goes to QuickBooks by itself before the administrator's first sync: the demo
    # firm's 15-minute auto-sync waits for it.
    assert not window.sync.auto_sync_timer.isActive()
    assert window.next_sync_status.text() == "Auto-sync starts after your first sync"

    # Progress comes from the worker thread (a direct connection runs where it is emitted).
    progress_threads: set[int] = set()
    steps: list[SyncProgress] = []

    def on_progress(event: Any) -> None:
        progress_threads.add(threading.get_ident())
        if isinstance(event.payload, SyncProgress):
            steps.append(event.payload)

    window.runner._thread.progress.connect(on_progress, Qt.ConnectionType.DirectConnection)

    # Preview: nothing changes, the planned changes open in a dialog.
    window.preview_action.trigger()
    assert not window.sync_action.isEnabled() and window.cancel_action.isEnabled()
    assert window.sync_action.toolTip().startswith("A sync is running")
    qtbot.waitUntil(lambda: window.sync.preview_dialog is not None, timeout=60_000)
    dialog = window.sync.preview_dialog
    assert dialog is not None
    assert dialog.model.rowCount() > 0
    assert dialog.headline.text().startswith("A sync now would make")
    assert "would be blocked" in dialog.headline.text()
    assert _count(store, Invoice, Invoice.qbo_id.is_not(None)) == 0
    assert window.sync_status.text() == "No sync yet", "a preview is not a sync"

    # Its Sync Now runs the real pass on the worker; the status bar tells the result.
    qtbot.mouseClick(dialog.sync_button, Qt.MouseButton.LeftButton)
    outcome = _finish(qtbot, window, "sync")
    assert outcome.ok, outcome.error
    summary = outcome.result
    assert summary.kind == "sync" and summary.status == "partial"
    assert threading.get_ident() not in progress_threads and progress_threads
    assert steps[0].done == 0 and steps[-1].step == "Done"
    assert window.sync.job is None and window.sync_progress.isHidden()
    text = window.sync_status.text()
    assert re.fullmatch(r"Last sync \d\d:\d\d — \d+ created, .*\d+ blocked", text), text
    assert window.connection_tab.last_sync_label.text() == text.removeprefix("Last sync ")
    # The demo maps everything but the city sales tax: its invoices wait, the others went.
    pushed = _count(store, Invoice, Invoice.qbo_id.is_not(None))
    held = _count(store, OutboxItem, OutboxItem.status == "blocked")
    assert pushed > 0 and held > 0
    assert pushed + held == _count(store, Invoice, Invoice.status != "draft")
    assert _count(store, SyncLogEntry, SyncLogEntry.run_id == summary.run_id) > 0

    # The Sync Log: errors in red with their reason, filtered by level and run.
    log = window.log_tab
    assert log.model.rowCount() > 0
    log.set_level("error")
    shown = [log.view.model().index(r, 0).data(RowRole) for r in range(log.filter.rowCount())]
    assert shown and all(row.level == "error" and row.reason for row in shown)
    log.set_level(None)
    log.set_run(summary.run_id)
    assert log.filter.rowCount() == _count(
        store, SyncLogEntry, SyncLogEntry.run_id == summary.run_id
    )
    log.set_run(None)

    # Retry: the blocked invoices go back to pending (in the worker), then a sync runs.
    problems = _count(store, OutboxItem, OutboxItem.status.in_(("failed", "blocked")))
    assert problems > 0 and log.retry_button.isEnabled()
    assert log.retry_button.text() == f"Retry blocked/failed ({problems})"
    runs_before = _count(store, SyncRun)
    with qtbot.waitSignal(
        window.runner.jobFinished,
        timeout=10_000,
        check_params_cb=lambda outcome: outcome.kind == "retry_outbox",
    ) as blocker:
        qtbot.mouseClick(log.retry_button, Qt.MouseButton.LeftButton)
    assert blocker.args[0].result == problems
    assert window.sync.job is not None, "the retry starts a sync"
    _finish(qtbot, window, "sync")
    assert _count(store, SyncRun) == runs_before + 1

    # The auto-sync timer's turn runs a pass too; a cancel stops one between requests.
    window.sync.auto_sync()
    job = window.sync.job
    assert isinstance(job, SyncJob) and job.auto
    window.sync.cancel_sync()
    assert job.cancelled and not window.cancel_action.isEnabled()
    outcome = _finish(qtbot, window, "sync")
    assert outcome.cancelled or outcome.result.status in ("cancelled", "ok", "partial")
    assert window.sync.job is None and window.sync_action.isEnabled()
    window.runner._thread.progress.disconnect(on_progress)


# --- without a sandbox -------------------------------------------------------------------------


def test_sync_waits_for_a_connection(qtbot: Any, make_window: MakeWindow, firm: Firm) -> None:
    window = make_window()
    wait_for_snapshot(qtbot, window)
    assert not window.sync_action.isEnabled() and not window.preview_action.isEnabled()
    assert window.sync_action.toolTip() == "Connect to QuickBooks first (Connection tab)."
    assert not window.sync.auto_sync_timer.isActive()
    assert window.next_sync_status.text() == "Auto-sync waits for a connection"
    assert window.sync.start_sync() is None
    assert window.statusBar().currentMessage().startswith("Connect to QuickBooks first")
    # The last run (the firm fixture's partial one) is in the status bar.
    assert window.sync_status.text().startswith("Last sync ")
    assert window.connection_tab.sync_now_button.defaultAction() is window.sync_action
    assert not window.connection_tab.sync_now_button.isEnabled()


def test_auto_sync_interval_follows_the_setting(
    qtbot: Any, make_window: MakeWindow, ctx: AppContext
) -> None:
    mark_connected(ctx)
    with ctx.store.session() as s:
        update_setting(s, "auto_sync_minutes", "5")
    window = make_window()
    wait_for_snapshot(qtbot, window)
    assert window.sync_action.isEnabled()
    # Never synced: the background sync waits for the administrator's first sync.
    assert not window.sync.auto_sync_timer.isActive()
    assert "first sync" in window.connection_tab.auto_sync_label.text()
    with ctx.store.session() as s:
        now = datetime.now(UTC)
        s.add(SyncRun(kind="sync", status="ok", started_at=now, finished_at=now, counts={}))
    wait_for_snapshot(qtbot, window)
    assert window.sync.auto_sync_timer.isActive()
    assert window.sync.auto_sync_timer.interval() == 5 * 60_000
    assert window.sync.next_auto_sync is not None
    assert window.next_sync_status.text().startswith("Next sync ")
    assert "Every 5 min" in window.connection_tab.auto_sync_label.text()

    with ctx.store.session() as s:
        update_setting(s, "auto_sync_minutes", "30")
    wait_for_snapshot(qtbot, window)
    assert window.sync.auto_sync_timer.interval() == 30 * 60_000

    with ctx.store.session() as s:
        update_setting(s, "auto_sync_minutes", "0")
    wait_for_snapshot(qtbot, window)
    assert not window.sync.auto_sync_timer.isActive()
    assert window.next_sync_status.text() == "Auto-sync off"
    assert window.sync.next_auto_sync is None


def test_last_sync_text() -> None:
    now = datetime(2026, 3, 2, 15, 42, tzinfo=UTC)
    run = SyncRunRow(
        id=4,
        kind="sync",
        status="partial",
        started_at=now,
        finished_at=now,
        error=None,
        counts=(("blocked", 1), ("created", 12), ("downloaded", 0)),
    )
    local = now.astimezone().strftime("%H:%M")
    assert last_sync_text(run, now) == f"{local} — 12 created, 1 blocked"
    quiet = SyncRunRow(4, "sync", "ok", now, now, None)
    assert last_sync_text(quiet, now) == f"{local} — nothing to change"
    failed = SyncRunRow(4, "sync", "failed", now, now, "QuickBooks refused the connection")
    assert last_sync_text(failed, now) == f"{local} failed"


def test_retry_outbox_puts_failed_and_blocked_rows_back(ctx: AppContext, firm: Firm) -> None:
    with ctx.store.session() as s:
        s.add_all(
            [
                OutboxItem(
                    entity_kind="invoice",
                    local_id=firm.final_id,
                    operation="create",
                    request_id="r-1",
                    status="failed",
                    attempts=5,
                ),
                OutboxItem(
                    entity_kind="invoice",
                    local_id=firm.final_id,
                    operation="void",
                    request_id="r-2",
                    status="blocked",
                    attempts=1,
                ),
                OutboxItem(
                    entity_kind="invoice",
                    local_id=firm.draft_id,
                    operation="create",
                    request_id="r-3",
                    status="done",
                    attempts=1,
                ),
            ]
        )
    with ctx.store.session() as s:
        assert retry_outbox(s) == 2
    with ctx.store.session() as s:
        rows = {r.request_id: (r.status, r.attempts) for r in s.scalars(select(OutboxItem))}
    # Attempts and requestids stay: a write QuickBooks did receive is never doubled.
    assert rows == {"r-1": ("pending", 5), "r-2": ("pending", 1), "r-3": ("done", 1)}

    # A refused create of an invoice voided since is left for the pass to settle unsent.
    with ctx.store.session() as s:
        invoice = s.get(Invoice, firm.final_id)
        assert invoice is not None
        invoice.status = "void"
        row = s.scalars(select(OutboxItem).where(OutboxItem.request_id == "r-1")).one()
        row.status = "failed"
    with ctx.store.session() as s:
        retry_outbox(s)
        row = s.scalars(select(OutboxItem).where(OutboxItem.request_id == "r-1")).one()
        assert (row.status, row.attempts) == ("failed", 0)


# --- factor-desktop sync --------------------------------------------------------------------


@pytest.fixture
def connected_demo(tmp_path: Path) -> Iterator[Path]:
    """The demo firm connected to a running sandbox; yields its data folder."""
    demo = DemoSession(tmp_path, fresh=True)
    try:
        demo.load_firm()
        service = ConnectionService(demo.ctx.store, demo.ctx.tokens)
        try:
            demo.connect(service)
        finally:
            service.http.close()
        yield demo.root
    finally:
        demo.close()


def test_sync_command_previews_then_syncs(
    connected_demo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base = ["--data-dir", str(connected_demo), "--profile", "demo", "sync"]
    assert main([*base, "--preview", "--json"]) == 0
    out, err = capsys.readouterr()
    preview = json.loads(out)
    # The preview ends as the sync will: partial, with the unmapped types' invoices blocked.
    assert preview["kind"] == "preview" and preview["status"] == "partial"
    assert preview["counts"]["blocked"] > 0
    assert preview["planned"] and {"action", "direction", "entity", "label"} <= set(
        preview["planned"][0]
    )
    assert err == ""

    assert main([*base, "--preview"]) == 0
    out, _ = capsys.readouterr()
    assert out.startswith("Preview (nothing was changed): partial")
    assert "Planned changes (" in out and "Action" in out and "Label" in out

    # The demo firm's types are not mapped: invoices are blocked, the pass is partial.
    assert main(base) == 1
    out, err = capsys.readouterr()
    assert out.startswith("Sync: partial (run ")
    assert re.search(r"^\s+created\s+\d+$", out, re.MULTILINE)
    assert re.search(r"^\s+blocked\s+\d+$", out, re.MULTILINE)
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "could not go through" in lines[0]
    assert "factor-desktop report log" in lines[0]


def test_the_preview_dialog_reads_planned_changes(qtbot: Any) -> None:
    planned: list[dict[str, Any]] = [
        {
            "direction": "push",
            "entity": "invoice",
            "label": "INV-0002",
            "action": "create",
            "local_id": 2,
            "operation": "create",
            "customer": "Riverside",
        },
        {
            "direction": "push",
            "entity": "invoice",
            "label": "INV-0001",
            "action": "blocked",
            "reason": "The service type 'Programming' is not mapped.",
        },
        {
            "direction": "pull",
            "entity": "attachment",
            "label": "receipt.png",
            "action": "download",
            "qbo_id": "9",
        },
    ]
    summary = SyncSummary(7, "preview", "ok", {"would_create": 1}, 12, 0.8, None, planned)
    assert preview_headline(summary) == (
        "A sync now would make 2 changes (create 1, download 1); 1 record would be blocked."
    )
    dialog = SyncPreviewDialog(summary)
    qtbot.addWidget(dialog)
    tester = QAbstractItemModelTester(
        dialog.model, QAbstractItemModelTester.FailureReportingMode.Fatal
    )
    model = dialog.model
    rows = [[model.index(r, c).data() for c in range(model.columnCount())] for r in range(3)]
    assert rows == [
        ["Create", "To QuickBooks", "Invoice INV-0002", "operation: create · customer: Riverside"],
        [
            "Blocked",
            "To QuickBooks",
            "Invoice INV-0001",
            "The service type 'Programming' is not mapped.",
        ],
        ["Download", "From QuickBooks", "Attachment receipt.png", "QuickBooks Id: 9"],
    ]
    assert "12 requests" in dialog.note.text()
    dialog.set_sync_allowed(False, "A sync is running; wait for it or cancel it.")
    assert not dialog.sync_button.isEnabled()
    del tester
    quiet = SyncSummary(8, "preview", "ok", {}, 3, 0.1, None, [])
    assert preview_headline(quiet).startswith("Nothing to send or receive")
    failed = SyncSummary(9, "preview", "failed", {}, 1, 0.1, "QuickBooks is unreachable.", [])
    assert preview_headline(failed) == "The preview could not finish: QuickBooks is unreachable."
