"""The self-test's window check, and the dialog of Help → Run Self-Test.

The check: the real main window on the self-test's data renders each tab.

Offscreen by default (each tab is drawn into an image); with `show`, the window opens on the
screen, goes through its tabs and closes itself. Either way the window reads the store on its
worker thread, as it always does, and the check waits for that first read.
"""

from __future__ import annotations

import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QProcess, QProcessEnvironment, QSettings, Signal, Slot
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QDialogButtonBox,
    QLabel,
    QPlainTextEdit,
    QVBoxLayout,
    QWidget,
)

from factor_desktop.secrets import TokenStore
from factor_desktop.store.db import Store
from factor_desktop.ui.application import make_application
from factor_desktop.ui.qt import pumped_event_loop

LOAD_TIMEOUT = 60.0


class RenderFailed(Exception):
    """A tab did not render; the message says which and why."""


def _wait(app: QApplication, condition: Callable[[], bool], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        app.processEvents()
        if condition():
            return True
        time.sleep(0.01)
    return False


def render_tabs(store: Store, tokens: TokenStore, *, show: bool = False) -> str:
    """Open the main window on `store`, draw every tab, close it. Returns a one-line detail;
    raises RenderFailed (or Qt's own error) when a tab could not be drawn."""
    from factor_desktop.ui.main_window import MainWindow

    app = make_application()
    with (
        pumped_event_loop(app),
        tempfile.TemporaryDirectory(prefix="factor-desktop-selftest-ui-") as scratch,
    ):
        # The window's size and columns go to a scratch file, not the user's settings.
        ui_settings = QSettings(str(Path(scratch) / "ui.ini"), QSettings.Format.IniFormat)
        window = MainWindow(
            store,
            tokens,
            title="Factor Desktop self-test",
            ui_settings=ui_settings,
            remember_layout=False,
        )
        try:
            if show:
                window.show()
                if not _wait(app, window.isVisible, LOAD_TIMEOUT):
                    raise RenderFailed("the window did not appear")
            if not _wait(
                app,
                lambda: window.snapshot is not None and not window.runner.pending(),
                LOAD_TIMEOUT,
            ):
                raise RenderFailed(f"the window read nothing within {LOAD_TIMEOUT:g} s")
            snapshot = window.snapshot
            assert snapshot is not None
            expected = {
                "invoices": (window.invoices_tab.model, len(snapshot.invoices)),
                "expenses": (window.expenses_tab.model, len(snapshot.expenses)),
            }
            for name, (model, rows) in expected.items():
                if rows == 0 or model.rowCount() == 0:
                    raise RenderFailed(f"the {name} tab lists nothing")
            drawn = []
            for index, name in enumerate(window.TAB_NAMES):
                window.tabs.setCurrentIndex(index)
                app.processEvents()
                image = window.grab().toImage()
                if image.isNull() or image.width() < 100 or image.height() < 100:
                    raise RenderFailed(f"the {name} tab drew no image")
                drawn.append(name)
            return f"{len(drawn)} tabs, {app.platformName()}" + (", shown" if show else "")
        finally:
            window.close()
            window.shutdown()
            window.deleteLater()
            app.processEvents()


def self_test_command() -> list[str]:
    """How this copy of the app runs its self-test in another process."""
    if getattr(sys, "frozen", False):  # the bundled program is its own command line
        return [sys.executable, "self-test"]
    return [sys.executable, "-m", "factor_desktop", "self-test"]


class SelfTestDialog(QDialog):
    """Help → Run Self-Test: the self-test runs in a process of its own (the window stays
    responsive and its firm untouched); each check's line shows as it ends."""

    finishedWithCode = Signal(int)

    def __init__(self, parent: QWidget | None = None, command: list[str] | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Factor Desktop Self-Test")
        self.resize(640, 360)
        self.status = QLabel("Running the self-test against a local QuickBooks sandbox…")
        self.status.setWordWrap(True)
        self.output = QPlainTextEdit()
        self.output.setReadOnly(True)
        self.output.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.status)
        layout.addWidget(self.output)
        layout.addWidget(self.buttons)
        self.exit_code: int | None = None
        self._pending = ""
        self.process = QProcess(self)
        self.process.setProcessChannelMode(QProcess.ProcessChannelMode.MergedChannels)
        environment = QProcessEnvironment.systemEnvironment()
        environment.insert("QT_QPA_PLATFORM", "offscreen")  # nothing flashes on the screen
        self.process.setProcessEnvironment(environment)
        self.process.readyReadStandardOutput.connect(self._read)
        self.process.finished.connect(self._finished)
        self.process.errorOccurred.connect(self._error)
        program, *arguments = command or self_test_command()
        self.process.start(program, arguments)

    def running(self) -> bool:
        return self.process.state() != QProcess.ProcessState.NotRunning

    @Slot()
    def _read(self) -> None:
        text = self._pending + bytes(self.process.readAllStandardOutput().data()).decode(
            "utf-8", "replace"
        )
        *lines, self._pending = text.split("\n")
        for line in lines:
            self.output.appendPlainText(line.rstrip("\r"))

    @Slot(int, QProcess.ExitStatus)
    def _finished(self, code: int, status: QProcess.ExitStatus) -> None:
        self._read()
        if self._pending:
            self.output.appendPlainText(self._pending)
            self._pending = ""
        crashed = status != QProcess.ExitStatus.NormalExit
        self.exit_code = -1 if crashed else code
        if self.exit_code == 0:
            self.status.setText("Every check passed.")
        else:
            self.status.setText(
                "The self-test stopped." if crashed else "Some checks failed; the lines say why."
            )
        self.finishedWithCode.emit(self.exit_code)

    @Slot(QProcess.ProcessError)
    def _error(self, error: QProcess.ProcessError) -> None:
        if error == QProcess.ProcessError.FailedToStart:
            self.exit_code = -1
            self.status.setText(f"The self-test could not start: {self.process.errorString()}")
            self.finishedWithCode.emit(self.exit_code)

    def done(self, result: int) -> None:
        if self.running():  # closing the dialog stops the test
            self.process.kill()
            self.process.waitForFinished(3000)
        super().done(result)
