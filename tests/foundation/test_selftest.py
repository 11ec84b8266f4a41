"""The self-test: the whole loop against the bundled sandbox, in a folder of its own."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from factor_desktop.selftest import CHECKS, CheckResult, SelfTest, run_self_test
from factor_desktop.ui.main_window import MainWindow
from factor_desktop.ui.selftest_gui import SelfTestDialog

pytestmark = pytest.mark.integration


def test_the_command_passes_every_check_and_leaves_the_user_folders_alone(
    tmp_path: Path,
) -> None:
    home = tmp_path / "home"
    home.mkdir()
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    env = {
        **os.environ,
        "HOME": str(home),
        "XDG_DATA_HOME": str(home / "data"),
        "XDG_CONFIG_HOME": str(home / "config"),
        "XDG_STATE_HOME": str(home / "state"),
        "XDG_CACHE_HOME": str(home / "cache"),
        "TMPDIR": str(scratch),
        "QT_QPA_PLATFORM": "offscreen",
    }
    done = subprocess.run(
        [sys.executable, "-m", "factor_desktop", "self-test", "--json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=180,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    report = json.loads(done.stdout)
    assert report["ok"] is True and report["data_dir"] is None
    assert [check["name"] for check in report["checks"]] == list(CHECKS)
    assert all(check["ok"] for check in report["checks"])
    details = {check["name"]: check["detail"] for check in report["checks"]}
    assert details["render every tab"].startswith(f"{len(MainWindow.TAB_NAMES)} tabs")
    assert "partly paid" in details["payments came back"]
    # Nothing was written to the user's data, config or log folders, and the temporary
    # folder was removed after the pass.
    assert list(home.iterdir()) == []
    assert list(scratch.iterdir()) == []


def test_lines_one_per_check_and_a_failure_keeps_the_folder() -> None:
    lines: list[CheckResult] = []

    def broken_window(_test: SelfTest, _show: bool) -> str:
        raise RuntimeError("no screen today")

    report = run_self_test(render=broken_window, on_check=lines.append)
    try:
        assert not report.ok
        assert [r.name for r in lines] == list(CHECKS)
        assert all(r.ok for r in lines[:-1])  # the loop itself passed
        last = lines[-1]
        assert last.line() == "FAIL render every tab: RuntimeError: no screen today"
        assert lines[0].line().startswith("ok   start the bundled sandbox")
        # Kept for a look: the firm's database and the receipts the sync downloaded.
        assert report.data_dir is not None and report.data_dir.is_dir()
        assert list(report.data_dir.glob("demo/*.sqlite3"))
    finally:
        if report.data_dir is not None:
            shutil.rmtree(report.data_dir)


def test_a_failed_check_stops_the_ones_that_need_it(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_sandbox(self: SelfTest) -> str:
        raise OSError("port in use")

    monkeypatch.setattr(SelfTest, "start_sandbox", no_sandbox)
    report = run_self_test(render=None, keep=False)
    assert not report.ok and report.data_dir is None
    first, *rest = report.checks
    assert first.line() == "FAIL start the bundled sandbox: OSError: port in use"
    assert len(rest) == len(CHECKS) - 2  # the window check was left out
    assert all(not r.ok and r.detail == "not run: 'start the bundled sandbox' failed" for r in rest)


@pytest.mark.gui
def test_the_dialog_shows_each_line_as_it_ends_and_the_outcome(qtbot: QtBot) -> None:
    script = (
        "import sys, time\n"
        "print('ok   first check', flush=True)\n"
        "time.sleep(0.3)\n"
        "print('FAIL second check: the reason')\n"
        "sys.exit(1)\n"
    )
    dialog = SelfTestDialog(command=[sys.executable, "-c", script])
    qtbot.addWidget(dialog)
    qtbot.waitUntil(lambda: "ok   first check" in dialog.output.toPlainText(), timeout=20_000)
    with qtbot.waitSignal(dialog.finishedWithCode, timeout=20_000) as finished:
        pass
    assert finished.args == [1]
    assert dialog.output.toPlainText().splitlines() == [
        "ok   first check",
        "FAIL second check: the reason",
    ]
    assert dialog.status.text() == "Some checks failed; the lines say why."


@pytest.mark.gui
def test_help_runs_the_self_test_in_another_process_and_closing_stops_it(
    qtbot: QtBot, tmp_path: Path
) -> None:
    from PySide6.QtCore import QSettings  # noqa: TID251  (the window test needs its own file)

    from factor_desktop.app import open_context

    ctx = open_context(tmp_path / "data")
    window = MainWindow(
        ctx.store,
        ctx.tokens,
        ui_settings=QSettings(str(tmp_path / "ui.ini"), QSettings.Format.IniFormat),
        remember_layout=False,
    )
    qtbot.addWidget(window)
    try:
        assert window.menu_actions.self_test.isEnabled()
        window.menu_actions.self_test.trigger()
        dialog = window.dialogs.self_test_dialog
        assert dialog is not None and dialog.isVisible()
        assert dialog.process.arguments() == ["-m", "factor_desktop", "self-test"]
        qtbot.waitUntil(dialog.running, timeout=10_000)
        # The window stays responsive: the GUI thread only reads the process's lines.
        qtbot.waitUntil(
            lambda: "ok   start the bundled sandbox" in dialog.output.toPlainText(), timeout=60_000
        )
        process = dialog.process
        dialog.reject()
        assert process.state() == process.ProcessState.NotRunning
        assert window.dialogs.self_test_dialog is None
        # The About box shows the app's icon (drawn from its SVG).
        about = window.dialogs.show_about()
        assert about.iconPixmap().width() == 64
        about.close()
    finally:
        window.close()
        ctx.close()
