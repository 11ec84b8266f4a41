"""The Qt entry: the PySide6 build is checked before any window, and the app runs on qasync."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtWidgets import QLabel

from factor_desktop.ui import application, qt
from factor_desktop.ui.main_window import MainWindow

pytestmark = pytest.mark.gui


def test_this_build_keeps_none_alive_through_many_qt_calls(qapp: Any) -> None:
    assert not qt.drops_none_references()
    assert qt.qt_build_problem() is None
    before = sys.getrefcount(None)
    label = QLabel()
    for _ in range(20_000):  # 6.12.0 on Python 3.11 loses one reference to None per call
        label.setText("x")
    assert label.text() == "x"
    assert sys.getrefcount(None) >= before - 100


def test_the_installed_build_is_in_the_tested_range() -> None:
    assert qt.in_tested_range(qt.pyside_version()), qt.pyside_version()


@pytest.mark.parametrize(
    ("version", "tested"),
    [
        ("6.11.2", True),
        ("6.11.3", True),
        ("6.11.10", True),
        ("6.11.1", False),
        ("6.8.3", False),
        ("6.12.0", False),
        ("6.12.0.140", False),
        ("7.0.0", False),
    ],
)
def test_tested_range(version: str, tested: bool) -> None:
    assert qt.in_tested_range(version) is tested


def test_a_build_that_drops_none_is_refused_before_any_window(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Stand in for 6.12.0 on Python 3.11 without running it: the probe says it loses references.
    monkeypatch.setattr(qt, "drops_none_references", lambda: True)
    monkeypatch.setattr(qt, "pyside_version", lambda: "6.12.0")
    built: list[MainWindow] = []

    def build() -> MainWindow:
        raise AssertionError("no window may be built on a refused Qt")

    assert application.run_window(build) == application.EXIT_UNUSABLE_QT
    assert not built
    message = capsys.readouterr().err
    assert "PySide6 6.12.0 loses a reference to None" in message
    assert qt.REQUIREMENT in message


def test_a_build_outside_the_range_is_only_warned_about(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(qt, "pyside_version", lambda: "6.13.1")
    qt.ensure_usable_qt()
    assert "outside the tested range" in caplog.text


# Run in a process of its own: closing the last window inside QApplication.exec() makes Qt quit
# the application, which would leave the suite's shared QApplication unusable.
RUN_GUI_AND_CLOSE = """
import asyncio, json, sys
from pathlib import Path

import keyring
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from factor_desktop.secrets import MemoryKeyring
from factor_desktop.ui import application
from factor_desktop.ui.main_window import MainWindow

keyring.set_keyring(MemoryKeyring())
seen = {}
tasks = []


async def look_around_then_close():
    await asyncio.sleep(0.05)
    app = QApplication.instance()
    seen["loop"] = type(asyncio.get_running_loop()).__module__
    seen["gui_thread"] = app.thread().isCurrentThread()
    windows = [w for w in app.topLevelWidgets() if isinstance(w, MainWindow) and w.isVisible()]
    seen["titles"] = [w.windowTitle() for w in windows]
    for window in windows:
        window.close()  # as the administrator would


QTimer.singleShot(0, lambda: tasks.append(asyncio.ensure_future(look_around_then_close())))
seen["status"] = application.run_gui(Path(sys.argv[1]), "qasync")
seen["task_done"] = all(task.done() for task in tasks) and bool(tasks)
print(json.dumps(seen))
"""


def test_the_window_runs_on_qasyncs_loop_until_it_is_closed(tmp_path: Path) -> None:
    """run_gui runs the window on qasync's loop: a coroutine runs there in the GUI thread, and
    closing the window ends the run with status 0."""
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    done = subprocess.run(
        [sys.executable, "-c", RUN_GUI_AND_CLOSE, str(tmp_path / "data")],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen == {
        "loop": "qasync",
        "gui_thread": True,
        "titles": ["Factor Desktop — qasync"],
        "status": 0,
        "task_done": True,
    }
