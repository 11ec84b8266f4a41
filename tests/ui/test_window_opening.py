"""A window built on a profile opener (as `factor-desktop gui` starts): painted first, then its
worker opens the store; a store that cannot be opened is said in the window and left alone."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtWidgets import QMessageBox

import factor_desktop.app
from factor_desktop.app import AppContext
from factor_desktop.paths import DataDir
from factor_desktop.ui import startup
from factor_desktop.ui.jobs import SnapshotJob
from factor_desktop.ui.main_window import MainWindow
from factor_desktop.ui.opening import OpenStoreJob, ProfileOpener

from .conftest import wait_for_snapshot

OPENING = "Opening the firm's records…"


@pytest.fixture
def data(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def opened_windows(qtbot: Any) -> Iterator[list[MainWindow]]:
    windows: list[MainWindow] = []
    yield windows
    for window in windows:
        window.shutdown()
        assert not window.runner.running, "the worker thread must be joined"


def window_on(qtbot: Any, windows: list[MainWindow], data: Path) -> MainWindow:
    opener = ProfileOpener(data, "default", DataDir.resolve(data).database("default"))
    window = MainWindow(opener=opener, open_url=lambda url: None)
    qtbot.addWidget(window)
    windows.append(window)
    return window


def test_the_store_is_opened_after_the_first_frame(
    qtbot: Any, opened_windows: list[MainWindow], data: Path
) -> None:
    window = window_on(qtbot, opened_windows, data)
    database = DataDir.resolve(data).database("default")
    assert window.store_path == database
    assert window.data_status.text() == f"Data: {database}"
    assert window.busy_status.text() == OPENING
    qtbot.wait(50)
    assert not database.exists(), "nothing is opened before the window is painted"
    assert window.snapshot is None

    window.show()
    snapshot = wait_for_snapshot(qtbot, window)
    assert database.exists()
    assert snapshot.connection.state == "disconnected"
    assert window.store_fault is None
    assert window.refresh_timer.isActive()
    assert not window.connection_tab.store_banner.isVisible()
    assert window.open_store() is None, "the store is opened once"

    opener = window.opener
    assert opener is not None and opener.context is not None
    window.shutdown()
    assert opener.context is None  # closed once the worker had stopped


def test_a_window_not_painted_at_once_opens_its_store_all_the_same(
    qtbot: Any, opened_windows: list[MainWindow], data: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(startup, "FIRST_FRAME_WAIT_MS", 200)
    window = window_on(qtbot, opened_windows, data)  # never shown (as if opened minimised)
    snapshot = wait_for_snapshot(qtbot, window)
    assert snapshot.connection.state == "disconnected"
    assert DataDir.resolve(data).database("default").exists()


def test_what_opening_had_to_do_reaches_the_connection_tab(
    qtbot: Any, opened_windows: list[MainWindow], data: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_open = factor_desktop.app.open_context

    def restored(data_dir: Path | None, profile: str = "default") -> AppContext:
        ctx = real_open(data_dir, profile)
        ctx.store.notices.append(
            "The firm database was left half-upgraded by an earlier start; it was restored from "
            "the backup taken before the upgrade."
        )
        return ctx

    monkeypatch.setattr(factor_desktop.app, "open_context", restored)
    window = window_on(qtbot, opened_windows, data)
    window.show()
    wait_for_snapshot(qtbot, window)
    banner = window.connection_tab.store_banner
    assert banner.isVisible()
    assert banner.title.text() == "The firm database was repaired when it was opened"
    assert "restored from the backup" in banner.message.text()


def test_a_store_that_cannot_be_opened_is_said_and_left_alone(
    qtbot: Any, opened_windows: list[MainWindow], data: Path
) -> None:
    database = DataDir.resolve(data).database("default")
    database.parent.mkdir(parents=True)
    damaged = os.urandom(8192)
    database.write_bytes(damaged)
    window = window_on(qtbot, opened_windows, data)
    window.show()
    qtbot.waitUntil(lambda: window.store_fault is not None, timeout=10_000)

    fault = window.store_fault
    assert fault is not None and "it is damaged" in fault and str(database) in fault
    banner = window.connection_tab.store_banner
    assert banner.isVisible()
    assert banner.title.text() == "The firm database could not be opened"
    assert banner.message.text() == fault
    assert window.tabs.currentIndex() == MainWindow.TAB_CONNECTION
    assert window.state_status.text() == "The firm database could not be opened"
    qtbot.waitUntil(lambda: window.busy_status.text() == "", timeout=5_000)
    assert not window.sync_action.isEnabled()
    assert "could not be opened" in window.sync_action.toolTip()
    box = window.store_fault_box
    assert isinstance(box, QMessageBox) and box.isVisible()
    assert box.informativeText() == fault

    # Nothing opens it again: a later job fails with the same words, and the file is as it was.
    with qtbot.waitSignal(window.runner.snapshotFailed, timeout=10_000) as failed:
        assert isinstance(window.runner.refresh(), SnapshotJob)
    assert failed.args == [fault]
    assert database.read_bytes() == damaged
    assert window.opener is not None and window.opener.context is None

    quit_button = next(b for b in box.buttons() if b.text() == "Quit")
    quit_button.click()
    assert window.closed


def test_a_window_needs_a_store_or_an_opener(qtbot: Any) -> None:
    with pytest.raises(TypeError, match="a store and its tokens, or an opener"):
        MainWindow()
    assert OpenStoreJob.title == OPENING


# `factor-desktop gui` on a damaged database, in a process of its own (closing the last window
# quits the application): the administrator reads the box and presses Quit.
GUI_ON_A_DAMAGED_STORE = """
import sys
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QMessageBox

from factor_desktop.cli.main import main

seen = []


def press_quit():
    boxes = [w for w in QApplication.topLevelWidgets() if isinstance(w, QMessageBox)]
    visible = [box for box in boxes if box.isVisible()]
    if not visible:
        QTimer.singleShot(50, press_quit)
        return
    seen.append(visible[0].informativeText())
    next(b for b in visible[0].buttons() if b.text() == "Quit").click()


QTimer.singleShot(0, press_quit)
status = main(["--data-dir", sys.argv[1], "gui"])
print("SEEN", seen)
sys.exit(status)
"""


def test_the_gui_command_on_a_damaged_store_says_so_and_exits_1(tmp_path: Path) -> None:
    data = tmp_path / "data"
    database = DataDir.resolve(data).database("default")
    database.parent.mkdir(parents=True)
    damaged = os.urandom(8192)
    database.write_bytes(damaged)
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", XDG_CONFIG_HOME=str(tmp_path / "cfg"))
    done = subprocess.run(
        [sys.executable, "-c", GUI_ON_A_DAMAGED_STORE, str(data)],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        check=False,
    )
    assert done.returncode == 1, done.stderr
    assert "SEEN ['The firm database" in done.stdout and "it is damaged" in done.stdout
    assert f"factor-desktop: The firm database {database} could not be opened" in done.stderr
    assert database.read_bytes() == damaged
