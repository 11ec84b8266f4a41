"""What opening the firm database had to do (a restore from its backup) is shown in the window."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from factor_desktop.app import AppContext
from factor_desktop.ui.main_window import MainWindow

from .conftest import wait_for_snapshot

MakeWindow = Callable[..., MainWindow]


def test_a_restored_database_is_said_on_the_connection_tab(
    qtbot: Any, make_window: MakeWindow, ctx: AppContext
) -> None:
    ctx.store.notices.append(
        "The firm database was left half-upgraded by an earlier start; it was restored from "
        "the backup taken before the upgrade."
    )
    window = make_window()
    wait_for_snapshot(qtbot, window)
    banner = window.connection_tab.store_banner
    assert banner.isVisible()
    assert banner.title.text() == "The firm database was repaired when it was opened"
    assert "restored from the backup" in banner.message.text()


def test_a_clean_opening_says_nothing(qtbot: Any, make_window: MakeWindow, ctx: AppContext) -> None:
    window = make_window()
    wait_for_snapshot(qtbot, window)
    assert not window.connection_tab.store_banner.isVisible()
