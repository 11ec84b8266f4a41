"""The Invoices tab's actions: why an invoice is not in QuickBooks (from a real pass against the
sandbox), the fix it offers, the mismatch flag, Open in QuickBooks, and finalize / void / delete
run on the worker with the `invoice` command's rules and messages."""

from __future__ import annotations

import threading
import urllib.request
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox
from sqlalchemy import select

from factor_desktop.app import AppContext
from factor_desktop.cli import main
from factor_desktop.demo import DemoSession
from factor_desktop.paths import DataDir
from factor_desktop.reports import describe_invoice, invoice_text
from factor_desktop.services.invoices import DraftChanges, LineInput, edit_draft_invoice
from factor_desktop.store.models import Invoice, OutboxItem, Project, SyncLogEntry
from factor_desktop.sync.connection import ConnectionService
from factor_desktop.sync.engine import SyncEngine
from factor_desktop.ui.colors import ERROR_COLOR, WARNING_COLOR
from factor_desktop.ui.invoice_actions import FIX_LABELS, qbo_record_url
from factor_desktop.ui.jobs import JobOutcome
from factor_desktop.ui.main_window import MainWindow
from factor_desktop.ui.models.invoices import InvoiceTableModel
from factor_desktop.views import InvoiceRow, blocking_fix

from .conftest import Firm, mark_connected, wait_for_snapshot

pytestmark = pytest.mark.gui

MakeWindow = Callable[..., MainWindow]
COL_QBO = InvoiceTableModel.COL_QBO
COL_ATTENTION = InvoiceTableModel.COL_ATTENTION


def _row(window: MainWindow, invoice_id: int) -> InvoiceRow:
    found = next(r for r in window.invoices_tab.model.rows() if r.id == invoice_id)
    assert isinstance(found, InvoiceRow)
    return found


def _cell(window: MainWindow, invoice_id: int, column: int, role: int) -> Any:
    model = window.invoices_tab.model
    row = next(i for i, r in enumerate(model.rows()) if r.id == invoice_id)
    return model.index(row, column).data(role)


# --- the state a real pass leaves, against the sandbox ---------------------------------------


@pytest.fixture
def synced_demo(tmp_path: Path) -> Iterator[DemoSession]:
    """The demo firm after one real pass against the sandbox: the invoices whose tax term is
    not mapped are blocked there, the others are in QuickBooks."""
    demo = DemoSession(tmp_path, fresh=True)
    try:
        demo.load_firm()
        service = ConnectionService(demo.ctx.store, demo.ctx.tokens)
        try:
            demo.connect(service)
            demo.prepare_mappings(service)
            attachments = DataDir.resolve(demo.ctx.store.path.parent).attachments
            summary = SyncEngine(demo.ctx.store, service, attachments).run()
            assert summary.status == "partial"
        finally:
            service.http.close()
        yield demo
    finally:
        demo.close()


def test_blocked_rows_say_why_and_lead_to_the_fix(
    qtbot: Any, synced_demo: DemoSession, tmp_path: Path
) -> None:
    opened: list[str] = []
    window = MainWindow(synced_demo.ctx.store, synced_demo.ctx.tokens, open_url=opened.append)
    qtbot.addWidget(window)
    window.resize(1280, 800)
    window.show()
    try:
        wait_for_snapshot(qtbot, window)
        tab = window.invoices_tab
        rows = tab.model.rows()
        blocked = [r for r in rows if r.outbox_status == "blocked"]
        sent = [r for r in rows if r.qbo_id]
        assert blocked and sent
        with synced_demo.ctx.store.session() as s:
            reasons = {
                item.local_id: item.last_error
                for item in s.scalars(select(OutboxItem).where(OutboxItem.status == "blocked"))
            }
        for row in blocked:
            # The outbox row's reason, word for word, and a fix on the Mappings tab.
            assert row.blocked_reason == reasons[row.id]
            assert "not mapped to a QuickBooks tax code" in (row.blocked_reason or "")
            assert row.fix == "map"
            assert _cell(window, row.id, COL_QBO, Qt.ItemDataRole.DisplayRole) == "Blocked"
            shown = _cell(window, row.id, COL_ATTENTION, Qt.ItemDataRole.DisplayRole)
            assert shown == row.blocked_reason
            brush = _cell(window, row.id, COL_ATTENTION, Qt.ItemDataRole.ForegroundRole)
            assert brush.color() == ERROR_COLOR
        assert all(r.fix is None and not r.blocked_reason for r in sent)
        assert f"{len(blocked)} held back" in tab.summary.text()

        # Selecting a blocked invoice shows its reason and "Map it…", which opens Mappings.
        actions = tab.invoice_actions
        window.tabs.setCurrentWidget(tab)
        assert tab.select_invoice(blocked[0].id)
        assert actions.reason.text() == blocked[0].blocked_reason
        assert actions.fix_button.isVisible() and actions.fix_button.text() == FIX_LABELS["map"]
        assert not actions.open_button.isEnabled(), "not in QuickBooks: nothing to open"
        qtbot.mouseClick(actions.fix_button, Qt.MouseButton.LeftButton)
        assert window.tabs.currentWidget() is window.mappings_tab
        window.tabs.setCurrentWidget(tab)

        # A sent invoice opens on the local sandbox's own page for that record.
        target = sent[0]
        assert tab.select_invoice(target.id)
        assert not actions.fix_button.isVisible()
        sandbox = synced_demo.sandbox
        assert sandbox is not None
        qtbot.mouseClick(actions.open_button, Qt.MouseButton.LeftButton)
        assert opened == [f"{sandbox.base_url}/_sandbox/record/Invoice/{target.qbo_id}"]
        with urllib.request.urlopen(opened[0], timeout=10) as reply:
            page = reply.read().decode("utf-8")
            assert reply.headers.get_content_type() == "text/html"
        assert f"Invoice {target.qbo_id} — {target.number}" in page

        # QuickBooks' total differing from Factor's stands as a "mismatched" entry: flagged.
        qbo_total = target.total + Decimal("0.62")
        with synced_demo.ctx.store.session() as s:
            s.add(
                SyncLogEntry(
                    direction="push",
                    entity_kind="invoice",
                    local_id=target.id,
                    qbo_id=target.qbo_id,
                    label=target.number or "",
                    action="mismatched",
                    level="warning",
                    state="mismatched",
                    reason="QuickBooks recalculated the tax with its tax code's rates.",
                    detail={"total": str(target.total), "qbo_total": str(qbo_total)},
                )
            )
        wait_for_snapshot(qtbot, window)
        row = _row(window, target.id)
        assert row.mismatched and row.qbo_total == qbo_total
        qbo_cell = _cell(window, target.id, COL_QBO, Qt.ItemDataRole.DisplayRole)
        assert qbo_cell == f"Id {target.qbo_id} ⚠ total differs"
        attention = _cell(window, target.id, COL_ATTENTION, Qt.ItemDataRole.DisplayRole)
        assert "differs from Factor's" in attention and "recalculated the tax" in attention
        brush = _cell(window, target.id, COL_QBO, Qt.ItemDataRole.ForegroundRole)
        assert brush.color() == WARNING_COLOR
        assert "1 invoice with a different total in QuickBooks" in tab.summary.text()
        # Once resolved, the flag goes.
        with synced_demo.ctx.store.session() as s:
            for entry in s.scalars(select(SyncLogEntry).where(SyncLogEntry.action == "mismatched")):
                entry.state = "resolved"
        wait_for_snapshot(qtbot, window)
        assert not _row(window, target.id).mismatched
    finally:
        window.shutdown()
    assert not window.runner.running


def test_the_fix_follows_the_reason() -> None:
    mapping = "The tax term X is not mapped to a QuickBooks tax code; map it on the Mappings tab."
    link = (
        "Client 'A' is not linked to a QuickBooks customer; link it on the Clients & Projects tab"
    )
    assert blocking_fix("blocked", mapping) == "map"
    assert blocking_fix("blocked", link) == "link"
    assert blocking_fix("blocked", "Project 'P' is not in QuickBooks yet; ...") == "link"
    assert blocking_fix("blocked", "QuickBooks already has invoice 7 for another customer.") == (
        "retry"
    )
    assert blocking_fix("failed", mapping) == "retry"
    assert blocking_fix("pending", None) is None and blocking_fix(None, None) is None


# --- Open in QuickBooks ------------------------------------------------------------------------


def test_open_in_quickbooks_address_per_environment() -> None:
    assert (
        qbo_record_url("production", "Invoice", "130")
        == "https://app.qbo.intuit.com/app/invoice?txnId=130"
    )
    assert (
        qbo_record_url("sandbox", "Invoice", "130")
        == "https://app.sandbox.qbo.intuit.com/app/invoice?txnId=130"
    )
    local = "http://127.0.0.1:8765/.well-known/openid_sandbox_configuration"
    assert qbo_record_url(local, "Invoice", "130") == (
        "http://127.0.0.1:8765/_sandbox/record/Invoice/130"
    )
    assert qbo_record_url("https://example.com/discovery", "Invoice", "130") is None
    assert qbo_record_url(None, "Invoice", "130") is None


@pytest.mark.parametrize(
    ("environment", "url"),
    [
        ("production", "https://app.qbo.intuit.com/app/invoice?txnId=130"),
        ("sandbox", "https://app.sandbox.qbo.intuit.com/app/invoice?txnId=130"),
    ],
)
def test_open_in_quickbooks_from_the_window(
    qtbot: Any,
    make_window: MakeWindow,
    ctx: AppContext,
    firm: Firm,
    environment: str,
    url: str,
) -> None:
    mark_connected(ctx, environment=environment)
    opened: list[str] = []
    window = make_window(open_url=opened.append)
    wait_for_snapshot(qtbot, window)
    tab = window.invoices_tab
    actions = tab.invoice_actions
    window.tabs.setCurrentWidget(tab)
    assert tab.select_invoice(firm.final_id)
    assert actions.open_button.isEnabled() and actions.open_button.toolTip() == url
    qtbot.mouseClick(actions.open_button, Qt.MouseButton.LeftButton)
    assert opened == [url]
    # The draft is not in QuickBooks: nothing to open; the context menu says the same.
    assert tab.select_invoice(firm.draft_id)
    assert not actions.open_button.isEnabled()
    menu = actions.build_menu(_row(window, firm.draft_id))
    enabled = {a.text(): a.isEnabled() for a in menu.actions()}
    assert enabled == {
        "Open in QuickBooks": False,
        "Finalize": True,
        "Void…": False,
        "Delete draft…": True,
    }


# --- finalize, void, delete ---------------------------------------------------------------------


def _outcome(qtbot: Any, window: MainWindow, kind: str, act: Callable[[], Any]) -> JobOutcome:
    with qtbot.waitSignal(
        window.runner.jobFinished,
        timeout=10_000,
        check_params_cb=lambda outcome: outcome.kind == kind,
    ) as blocker:
        act()
    wait_for_snapshot(qtbot, window)
    outcome = blocker.args[0]
    assert isinstance(outcome, JobOutcome)
    return outcome


def _answer(box: QMessageBox | None, text: str) -> None:
    assert box is not None and box.isVisible()
    button = next(b for b in box.buttons() if b.text().replace("&", "") == text)
    button.click()


def test_finalize_void_and_delete_run_on_the_worker_with_the_commands_messages(
    qtbot: Any,
    make_window: MakeWindow,
    ctx: AppContext,
    firm: Firm,
    capsys: pytest.CaptureFixture[str],
) -> None:
    window = make_window()
    wait_for_snapshot(qtbot, window)
    tab = window.invoices_tab
    actions = tab.invoice_actions
    window.tabs.setCurrentWidget(tab)
    threads: set[int] = set()

    def on_start(_event: Any) -> None:
        threads.add(threading.get_ident())

    window.runner._thread.started_job.connect(on_start, Qt.ConnectionType.DirectConnection)

    # The draft has no lines: the window refuses as the command does, in the same words.
    base = ["--data-dir", str(ctx.store.path.parent), "--profile", "test", "invoice"]
    assert main([*base, "finalize", str(firm.draft_id)]) != 0
    refusal = capsys.readouterr().err.strip()
    assert tab.select_invoice(firm.draft_id)
    assert actions.finalize_button.isEnabled() and not actions.void_button.isEnabled()
    outcome = _outcome(
        qtbot,
        window,
        "finalize_invoice",
        lambda: qtbot.mouseClick(actions.finalize_button, Qt.MouseButton.LeftButton),
    )
    assert outcome.error is not None and outcome.error in refusal
    assert actions.message_bar.kind == "error"
    assert actions.message_bar.message.text() == outcome.error
    assert _row(window, firm.draft_id).status == "draft"

    # With a line it is finalized: numbered, queued for QuickBooks, the command's sentence.
    with ctx.store.session() as s:
        edit_draft_invoice(
            s,
            firm.draft_id,
            DraftChanges(lines=[LineInput(description="Design fee", amount=Decimal("980.00"))]),
        )
    wait_for_snapshot(qtbot, window)
    assert tab.select_invoice(firm.draft_id)
    outcome = _outcome(
        qtbot,
        window,
        "finalize_invoice",
        lambda: qtbot.mouseClick(actions.finalize_button, Qt.MouseButton.LeftButton),
    )
    assert outcome.ok, outcome.error
    with ctx.store.session() as s:
        invoice = s.get(Invoice, firm.draft_id)
        assert invoice is not None and invoice.status == "final" and invoice.number
        expected = invoice_text(describe_invoice(invoice))
        queued = s.scalars(select(OutboxItem).where(OutboxItem.local_id == invoice.id)).one()
        assert (queued.operation, queued.status) == ("create", "pending")
    assert actions.message_bar.message.text() == expected
    assert expected.startswith(f"Invoice {invoice.number} (final) for project 2024-017")
    row = _row(window, firm.draft_id)
    assert row.outbox_status == "pending" and row.fix is None
    assert _cell(window, row.id, COL_QBO, Qt.ItemDataRole.DisplayRole) == "Not sent yet"

    # Void asks first; Cancel changes nothing, Void voids it.
    assert tab.select_invoice(firm.draft_id)
    assert actions.void_button.isEnabled() and not actions.delete_button.isEnabled()
    qtbot.mouseClick(actions.void_button, Qt.MouseButton.LeftButton)
    assert actions.confirm_box is not None
    assert actions.confirm_box.text() == f"Void invoice {invoice.number}?"
    _answer(actions.confirm_box, "Cancel")
    assert not actions.jobs
    assert _row(window, firm.draft_id).status == "final"
    qtbot.mouseClick(actions.void_button, Qt.MouseButton.LeftButton)
    outcome = _outcome(qtbot, window, "void_invoice", lambda: _answer(actions.confirm_box, "Void"))
    assert outcome.ok, outcome.error
    assert actions.message_bar.message.text() == (
        f"Invoice {invoice.number} (void) for project 2024-017: total 980.00, balance 0.00, "
        "1 lines."
    )
    assert _row(window, firm.draft_id).status == "void"

    # A new draft is deleted after the question, with the command's "Draft deleted."
    with ctx.store.session() as s:
        draft = Invoice(
            project_id=firm.project_id,
            status="draft",
            issue_date=datetime.now(UTC).date(),
        )
        s.add(draft)
        s.flush()
        draft_id = draft.id
    wait_for_snapshot(qtbot, window)
    assert tab.select_invoice(draft_id)
    qtbot.mouseClick(actions.delete_button, Qt.MouseButton.LeftButton)
    outcome = _outcome(
        qtbot, window, "delete_draft", lambda: _answer(actions.confirm_box, "Delete")
    )
    assert outcome.ok, outcome.error
    assert actions.message_bar.message.text() == "Draft deleted."
    assert all(r.id != draft_id for r in tab.model.rows())
    with ctx.store.session() as s:
        assert s.get(Invoice, draft_id) is None

    window.runner._thread.started_job.disconnect(on_start)
    assert threads and threading.get_ident() not in threads, "the actions ran on the worker"


# --- the other fixes ------------------------------------------------------------------------


def test_link_opens_the_chooser_for_what_is_not_linked_and_retry_needs_a_connection(
    qtbot: Any, make_window: MakeWindow, ctx: AppContext, firm: Firm
) -> None:
    reason = (
        "Invoice INV-0050 is waiting: Client 'Willow Creek School District' is not linked to a "
        "QuickBooks customer; link it on the Clients & Projects tab or turn on auto-create."
    )
    with ctx.store.session() as s:
        gym = s.scalars(select(Project).where(Project.number == "2025-003")).one()
        waiting = Invoice(
            project_id=gym.id,
            number="INV-0050",
            status="final",
            issue_date=date(2025, 3, 1),
            total=Decimal("500.00"),
            balance=Decimal("500.00"),
        )
        refused = Invoice(
            project_id=firm.project_id,
            number="INV-0051",
            status="final",
            issue_date=date(2025, 3, 2),
            total=Decimal("700.00"),
            balance=Decimal("700.00"),
        )
        s.add_all([waiting, refused])
        s.flush()
        s.add_all(
            [
                OutboxItem(
                    entity_kind="invoice",
                    local_id=waiting.id,
                    operation="create",
                    request_id="r-50",
                    status="blocked",
                    attempts=0,
                    last_error=reason,
                ),
                OutboxItem(
                    entity_kind="invoice",
                    local_id=refused.id,
                    operation="create",
                    request_id="r-51",
                    status="failed",
                    attempts=1,
                    last_error="QuickBooks refused to create invoice INV-0051.",
                ),
            ]
        )
        waiting_id, refused_id, client_id = waiting.id, refused.id, gym.client_id
    window = make_window()
    wait_for_snapshot(qtbot, window)
    tab = window.invoices_tab
    actions = tab.invoice_actions
    window.tabs.setCurrentWidget(tab)

    assert _row(window, waiting_id).fix == "link"
    assert tab.select_invoice(waiting_id)
    assert actions.fix_button.text() == FIX_LABELS["link"]
    qtbot.mouseClick(actions.fix_button, Qt.MouseButton.LeftButton)
    assert window.tabs.currentWidget() is window.clients_tab
    links = window.clients_tab.links
    current = links.current_item()
    assert current is not None and current.id == client_id and current.qbo_id is None
    assert links.link_dialog is not None and links.link_dialog.isVisible()
    links.link_dialog.reject()

    # A refused create offers "Retry", which waits for a connection like the Sync Log's.
    window.tabs.setCurrentWidget(tab)
    assert _row(window, refused_id).fix == "retry"
    assert tab.select_invoice(refused_id)
    assert actions.fix_button.text() == FIX_LABELS["retry"]
    qtbot.mouseClick(actions.fix_button, Qt.MouseButton.LeftButton)
    blocked = window.sync.blocked_reason()
    assert blocked is not None and window.statusBar().currentMessage() == blocked
    assert not any(job.kind == "retry_outbox" for job in window.runner.pending())
