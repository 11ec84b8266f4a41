"""Whatever a sync says, the window keeps fitting a 1024-pixel screen with the guide open: a
failed pass's message (with a request's long address in it) wraps in words and never widens a
tab past the screen."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest

from factor_desktop.app import AppContext
from factor_desktop.ui.main_window import MainWindow

from .conftest import Firm, mark_connected, wait_for_snapshot

pytestmark = pytest.mark.gui

FAILURE = (
    "ConnectionError: HTTPConnectionPool(host='127.0.0.1', port=43537): Max retries exceeded "
    "with url: /v3/company/9106448480325460/cdc?minorversion=75&entities=Customer,Vendor,Item,"
    "Account,Term,Purchase,Bill,Payment,Invoice,Attachable&changedSince=2026-12-05T11:44:00Z "
    "(Caused by NewConnectionError('Failed to establish a new connection: [Errno 111] "
    "Connection refused')) (intuit_tid none)"
)


def test_a_failed_sync_keeps_the_window_within_a_small_screen(
    qtbot: Any, make_window: Callable[..., MainWindow], ctx: AppContext, firm: Firm
) -> None:
    mark_connected(ctx)
    window = make_window()
    snapshot = wait_for_snapshot(qtbot, window)
    assert snapshot.last_sync is not None
    failed = replace(
        snapshot, last_sync=replace(snapshot.last_sync, status="failed", error=FAILURE)
    )
    window.first_run.show()
    window.runner.snapshotReady.emit(failed)
    summary = window.log_tab.summary.text()
    assert "can't be reached" in summary and "HTTPConnectionPool" not in summary
    for index in range(window.tabs.count()):
        tab = window.tabs.widget(index)
        assert tab is not None and tab.minimumSizeHint().width() < 600, window.tabs.tabText(index)
    assert window.minimumSizeHint().width() <= 1024
