"""The main window over a real store: tabs filled, connection health, keyring choice, closing."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import keyring
import pytest
from keyring.backends import fail
from PySide6.QtCore import Qt

from factor_desktop.app import AppContext
from factor_desktop.secrets import MemoryKeyring
from factor_desktop.settings import load_settings
from factor_desktop.ui.main_window import MainWindow
from factor_desktop.ui.models.base import RowRole
from factor_desktop.ui.models.invoices import InvoiceTableModel

from .conftest import Firm, mark_connected, wait_for_snapshot

pytestmark = pytest.mark.gui

MakeWindow = Callable[..., MainWindow]


def test_tabs_fill_from_the_store(qtbot: Any, make_window: MakeWindow, firm: Firm) -> None:
    window = make_window()
    snapshot = wait_for_snapshot(qtbot, window)
    assert window.windowTitle() == "Factor Desktop"
    assert [window.tabs.tabText(i) for i in range(window.tabs.count())] == [
        "Connection",
        "Clients && Projects",
        "Mappings",
        "Invoices",
        "Projects",
        "Expenses",
        "Sync Log",
    ]
    tree = window.clients_tab.model
    assert tree.rowCount() == 2
    assert tree.index(0, tree.COL_QBO).data() == "Linked (Id 58)"
    assert window.clients_tab.view.isExpanded(tree.index(0, 0))
    assert "2 clients (1 linked" in window.clients_tab.summary.text()

    invoices = window.invoices_tab.model
    assert invoices.rowCount() == 2
    assert {invoices.index(r, 0).data() for r in range(2)} == {"Draft", "INV-0042"}
    assert "Open balance $2,345.50" in window.invoices_tab.summary.text()

    assert window.expenses_tab.model.rowCount() == 1
    assert "billable $440.00" in window.expenses_tab.summary.text()
    assert window.log_tab.model.rowCount() == 2
    assert "1 error" in window.log_tab.summary.text()
    assert "(1 of 2 mapped)" in window.mappings_tab.service_box.title()
    assert "(1 of 2 mapped)" in window.mappings_tab.expense_box.title()

    # Sorting works on the view's proxy with exact keys, and the row behind stays reachable.
    view = window.invoices_tab.view
    view.sortByColumn(InvoiceTableModel.COL_TOTAL, Qt.SortOrder.DescendingOrder)
    top = view.model().index(0, 0)
    assert top.data(RowRole).number == "INV-0042"

    assert window.connection_tab.company_label.text() == "No QuickBooks company connected"
    assert window.state_status.text() == "Not connected"
    assert str(snapshot.data_file) in window.data_status.text()
    assert not window.connection_tab.disconnect_button.isEnabled()
    assert window.connection_tab.connect_button.isEnabled()


def test_connection_health(qtbot: Any, make_window: MakeWindow, ctx: AppContext) -> None:
    last_used = datetime.now(UTC) - timedelta(days=10, hours=1)
    mark_connected(
        ctx,
        last_used=last_used,
        warnings=["Custom transaction numbers are off in QuickBooks."],
    )
    window = make_window()
    wait_for_snapshot(qtbot, window)
    tab = window.connection_tab
    assert tab.company_label.text() == "Alder & Finch Architects"
    assert tab.state_label.text() == "Connected"
    assert tab.realm_label.text() == "9130350000000001"
    assert tab.environment_label.text().startswith("Sandbox")
    assert "(age 3 days)" in tab.token_age_label.text()
    assert "(90 days left)" in tab.idle_expiry_label.text()
    assert tab.hard_expiry_label.text() != "—"
    assert "Custom transaction numbers" in tab.warnings_label.text()
    assert tab.reconnect_banner.isHidden()
    assert tab.disconnect_button.isEnabled()
    assert tab.connect_button.text() == "Reconnect…"
    assert window.state_status.text() == "Connected to Alder & Finch Architects"
    assert "Memory, for this session only" in tab.secrets_label.text()


def test_reconnect_needed_shows_a_banner(
    qtbot: Any, make_window: MakeWindow, ctx: AppContext
) -> None:
    mark_connected(ctx, state="reconnect_needed")
    with ctx.store.session() as s:
        from factor_desktop.store.models import Connection

        conn = s.get(Connection, 1)
        assert conn is not None
        conn.last_error = "QuickBooks no longer accepts this connection (invalid_grant)."
    window = make_window()
    wait_for_snapshot(qtbot, window)
    banner = window.connection_tab.reconnect_banner
    assert not banner.isHidden()
    assert "invalid_grant" in banner.message.text()
    assert window.connection_tab.state_label.text() == "Reconnect needed"
    assert window.state_status.text().startswith("Reconnect needed")


def test_connected_without_tokens_is_shown_as_reconnect_needed(
    qtbot: Any, make_window: MakeWindow, ctx: AppContext
) -> None:
    mark_connected(ctx, save_tokens=False)
    window = make_window()
    wait_for_snapshot(qtbot, window)
    assert not window.connection_tab.reconnect_banner.isHidden()
    assert "not on this computer" in window.connection_tab.reconnect_banner.message.text()


def test_keyring_unavailable_offers_session_only(
    qtbot: Any, make_window: MakeWindow, ctx: AppContext
) -> None:
    keyring.set_keyring(fail.Keyring())  # type: ignore[no-untyped-call]  # keyring is untyped
    window = make_window()
    wait_for_snapshot(qtbot, window)
    tab = window.connection_tab
    assert not tab.keyring_banner.isHidden()
    assert "No system keyring is available" in tab.keyring_banner.message.text()
    assert tab.session_button.isVisible()
    assert not tab.connect_button.isEnabled()
    assert tab.secrets_label.text().startswith("Nowhere yet")

    with qtbot.waitSignal(window.runner.jobFinished, timeout=10_000) as blocker:
        qtbot.mouseClick(tab.session_button, Qt.MouseButton.LeftButton)
    assert blocker.args[0].kind == "session_secrets" and blocker.args[0].ok
    assert isinstance(keyring.get_keyring(), MemoryKeyring)
    with ctx.store.session() as s:
        assert load_settings(s).secret_storage == "session"
    qtbot.waitUntil(lambda: tab.keyring_banner.isHidden())
    assert tab.connect_button.isEnabled()
    assert tab.secrets_label.text().startswith("Memory, for this session only (chosen")


class PlaintextKeyring(MemoryKeyring):
    """Stands in for keyrings.alt's file backend, which writes secrets unencrypted."""


PlaintextKeyring.__module__ = "keyrings.alt.file"


def test_a_plaintext_keyring_is_called_out(
    qtbot: Any, make_window: MakeWindow, ctx: AppContext
) -> None:
    keyring.set_keyring(PlaintextKeyring())
    window = make_window()
    wait_for_snapshot(qtbot, window)
    tab = window.connection_tab
    assert not tab.keyring_banner.isHidden()
    assert tab.keyring_banner.title.text() == "No usable keyring on this computer"
    assert "keyrings.alt.file.PlaintextKeyring" in tab.keyring_banner.message.text()
    assert "plain file" in tab.keyring_banner.message.text()
    assert tab.session_button.isVisible()
    with qtbot.waitSignal(window.runner.jobFinished, timeout=10_000):
        qtbot.mouseClick(tab.session_button, Qt.MouseButton.LeftButton)
    assert type(keyring.get_keyring()) is MemoryKeyring
    qtbot.waitUntil(lambda: tab.keyring_banner.isHidden())


def test_refresh_timer_and_close_join_the_worker(
    qtbot: Any, make_window: MakeWindow, firm: Firm
) -> None:
    window = make_window(refresh_interval_ms=50)
    snapshots: list[Any] = []
    window.snapshotApplied.connect(snapshots.append)
    qtbot.waitUntil(lambda: len(snapshots) >= 3, timeout=5_000)
    hook_calls: list[str] = []
    window.add_shutdown_hook(lambda: hook_calls.append("stopped"))
    window.close()
    assert not window.runner.running
    assert not window.refresh_timer.isActive()
    assert hook_calls == ["stopped"]
