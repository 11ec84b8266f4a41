"""Connecting and disconnecting from the window, against the local QuickBooks sandbox."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QLineEdit, QMessageBox

from factor_desktop.app import AppContext
from factor_desktop.sandbox import SandboxConfig, SandboxServer
from factor_desktop.sync.connection import ConnectionService
from factor_desktop.ui.connect_dialog import ENV_CUSTOM, PAGE_RESULT, PAGE_WAITING, ConnectDialog
from factor_desktop.ui.main_window import MainWindow

from .conftest import wait_for_snapshot

pytestmark = [pytest.mark.gui, pytest.mark.integration]

MakeWindow = Callable[..., MainWindow]


@pytest.fixture
def sandbox() -> Iterator[SandboxServer]:
    server = SandboxServer(SandboxConfig(seed="empty", auto_approve=True)).start()
    try:
        yield server
    finally:
        server.stop()


class FakeBrowser:
    """Stands in for the administrator's browser: opens the sign-in page on its own thread.

    With `follow=True` it follows the sandbox's redirect to the app's loopback listener, as a
    browser does; otherwise it stops at the redirect and keeps the address for pasting.
    """

    def __init__(self, follow: bool = True) -> None:
        self.follow = follow
        self.opened: list[str] = []
        self.redirect: str | None = None
        self._threads: list[threading.Thread] = []

    def open(self, url: str) -> None:
        self.opened.append(url)
        thread = threading.Thread(target=self._visit, args=(url,), daemon=True)
        self._threads.append(thread)
        thread.start()

    def _visit(self, url: str) -> None:
        with requests.Session() as http:
            http.trust_env = False
            response = http.get(url, allow_redirects=self.follow, timeout=10)
        if not self.follow:
            self.redirect = response.headers["Location"]

    def join(self) -> None:
        for thread in self._threads:
            thread.join(10)


def fill(dialog: ConnectDialog, sandbox: SandboxServer, secret: str | None = None) -> None:
    dialog.environment_combo.setCurrentIndex(ENV_CUSTOM)
    dialog.url_edit.setText(sandbox.discovery_url)
    dialog.client_id_edit.setText(sandbox.client_id)
    dialog.secret_edit.setText(secret if secret is not None else sandbox.client_secret)


def shows_secret(window: MainWindow, secret: str) -> bool:
    texts = [w.text() for w in window.findChildren(QLineEdit)]
    texts += [w.text() for w in window.findChildren(QLabel)]
    return any(secret in text for text in texts)


def connect_directly(ctx: AppContext, sandbox: SandboxServer) -> None:
    """Connect the profile without the window (the demo's way: follow the redirects)."""
    service = ConnectionService(ctx.store, ctx.tokens)
    try:
        pending = service.begin(sandbox.discovery_url, sandbox.client_id, sandbox.client_secret)
        with requests.Session() as http:
            http.trust_env = False
            http.get(pending.authorize_url, allow_redirects=True, timeout=10)
        service.connect_with_loopback(pending, timeout=10)
    finally:
        service.http.close()


def test_connect_through_the_browser(
    qtbot: Any, make_window: MakeWindow, sandbox: SandboxServer, ctx: AppContext
) -> None:
    browser = FakeBrowser(follow=True)
    window = make_window(open_url=browser.open)
    wait_for_snapshot(qtbot, window)
    dialog = window.connection.open_connect_dialog()
    fill(dialog, sandbox)
    qtbot.mouseClick(dialog.start_button, Qt.MouseButton.LeftButton)
    # The secret left its field the moment it was handed to the worker.
    assert dialog.secret_edit.text() == ""
    assert dialog.pages.currentIndex() == PAGE_WAITING
    qtbot.waitUntil(lambda: dialog.pages.currentIndex() == PAGE_RESULT, timeout=15_000)
    browser.join()
    assert len(browser.opened) == 1
    assert dialog.result_title.text() == f"Connected to {sandbox.company_name}"
    assert dialog.retry_button.isHidden()
    qtbot.waitUntil(
        lambda: window.connection_tab.company_label.text() == sandbox.company_name,
        timeout=10_000,
    )
    assert window.connection_tab.realm_label.text() == sandbox.realm_id
    assert window.connection_tab.environment_label.text().startswith("Local sandbox")
    assert "(100 days left)" in window.connection_tab.idle_expiry_label.text()
    assert not shows_secret(window, sandbox.client_secret)
    dialog.accept()
    assert window.connection.connect_dialog is None


def test_paste_the_redirect_address_instead(
    qtbot: Any, make_window: MakeWindow, sandbox: SandboxServer, ctx: AppContext
) -> None:
    browser = FakeBrowser(follow=False)
    window = make_window(open_url=browser.open)
    wait_for_snapshot(qtbot, window)
    dialog = window.connection.open_connect_dialog()
    fill(dialog, sandbox)
    dialog.start()
    qtbot.waitUntil(lambda: browser.redirect is not None, timeout=10_000)
    assert browser.redirect is not None and "realmId=" in browser.redirect
    dialog.paste_edit.setText(browser.redirect)
    qtbot.mouseClick(dialog.paste_button, Qt.MouseButton.LeftButton)
    assert dialog.paste_edit.text() == ""
    qtbot.waitUntil(lambda: dialog.pages.currentIndex() == PAGE_RESULT, timeout=15_000)
    assert dialog.result_title.text() == f"Connected to {sandbox.company_name}"
    dialog.accept()
    qtbot.waitUntil(lambda: window.connection_tab.state_label.text() == "Connected")


def test_a_refused_connection_is_explained(
    qtbot: Any, make_window: MakeWindow, sandbox: SandboxServer
) -> None:
    browser = FakeBrowser(follow=True)
    window = make_window(open_url=browser.open)
    wait_for_snapshot(qtbot, window)
    dialog = window.connection.open_connect_dialog()
    fill(dialog, sandbox, secret="not-the-secret")
    dialog.start()
    qtbot.waitUntil(lambda: dialog.pages.currentIndex() == PAGE_RESULT, timeout=15_000)
    browser.join()
    assert dialog.result_title.text() == "Not connected"
    assert "invalid_client" in dialog.result_text.text()
    assert not dialog.retry_button.isHidden()
    qtbot.mouseClick(dialog.retry_button, Qt.MouseButton.LeftButton)
    assert dialog.pages.currentIndex() == 0
    dialog.reject()


def test_cancel_while_waiting_stops_the_job(
    qtbot: Any, make_window: MakeWindow, sandbox: SandboxServer
) -> None:
    opened: list[str] = []
    window = make_window(open_url=opened.append)  # a browser nobody signs in to
    wait_for_snapshot(qtbot, window)
    dialog = window.connection.open_connect_dialog()
    fill(dialog, sandbox)
    dialog.start()
    qtbot.waitUntil(lambda: bool(opened), timeout=10_000)
    with qtbot.waitSignal(window.runner.jobFinished, timeout=5_000) as blocker:
        qtbot.mouseClick(dialog.cancel_button, Qt.MouseButton.LeftButton)
    assert blocker.args[0].kind == "connect" and blocker.args[0].cancelled
    assert window.connection.connect_dialog is None


def test_disconnect_clears_the_connection(
    qtbot: Any, make_window: MakeWindow, sandbox: SandboxServer, ctx: AppContext
) -> None:
    connect_directly(ctx, sandbox)
    window = make_window()
    wait_for_snapshot(qtbot, window)
    assert window.connection_tab.state_label.text() == "Connected"
    box = window.connection.confirm_disconnect()
    assert isinstance(box, QMessageBox)
    assert sandbox.company_name in box.text()
    disconnect = next(b for b in box.buttons() if b.text() == "Disconnect")
    with qtbot.waitSignal(window.runner.jobFinished, timeout=10_000) as blocker:
        qtbot.mouseClick(disconnect, Qt.MouseButton.LeftButton)
    outcome = blocker.args[0]
    assert outcome.kind == "disconnect" and outcome.ok and outcome.result is True
    qtbot.waitUntil(lambda: window.connection_tab.state_label.text() == "Not connected")
    assert ctx.tokens.load_tokens() is None
    assert window.state_status.text() == "Not connected"
    assert window.connection_tab.idle_expiry_label.text() == "—"
    assert not window.connection_tab.disconnect_button.isEnabled()
    assert window.connection_tab.connect_button.text() == "Connect…"
