"""Starting the desktop app: the QApplication, the main window, and the chosen profile's store.

The window runs on qasync's event loop: Qt's own loop, which also runs asyncio coroutines, so a
slot can `await runner.run(job)` and carry on in the GUI thread when the worker has finished.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QTimer
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication

from factor_desktop import __version__
from factor_desktop.paths import resource_path
from factor_desktop.ui.qt import UnusableQt, close_event_loop, ensure_usable_qt, new_event_loop
from factor_desktop.ui.startup import mark, watch_first_paint

if TYPE_CHECKING:
    from factor_desktop.ui.main_window import MainWindow

log = logging.getLogger(__name__)

EXIT_UNUSABLE_QT = 1
# The firm's store could not be opened (said in the window, and on stderr when it closes).
EXIT_STORE_FAULT = 1
# How long a thread may keep Python's GIL while another waits for it (Python's default is
# 5 ms). Every paint and every model read of the window calls Python code, and each call waits
# for the GIL while the worker runs a pass or reads a snapshot: a millisecond keeps those waits
# short for a small cost to the worker.
GIL_SWITCH_INTERVAL_S = 0.001


def make_application() -> QApplication:
    """The process's QApplication (created once), named and with the app icon.

    Raises UnusableQt on a PySide6 build that would crash the app.
    """
    ensure_usable_qt()
    sys.setswitchinterval(GIL_SWITCH_INTERVAL_S)
    existing = QApplication.instance()
    if isinstance(existing, QApplication):
        return existing
    app = QApplication(sys.argv[:1])
    app.setApplicationName("Factor Desktop")
    app.setApplicationDisplayName("Factor Desktop")
    app.setOrganizationName("Factor")
    app.setApplicationVersion(__version__)
    icon = resource_path("factor-desktop.png")
    if icon.exists():
        app.setWindowIcon(QIcon(str(icon)))
    return app


def quit_on_interrupt(app: QApplication) -> QTimer:
    """Let Ctrl+C in the terminal close the app cleanly (workers joined, sandbox stopped).

    Python handles signals only when it runs, so a timer hands it control a few times a second.
    """
    signal.signal(signal.SIGINT, lambda _signum, _frame: app.quit())
    timer = QTimer(app)
    timer.setInterval(250)
    timer.timeout.connect(_let_python_run)
    timer.start()
    return timer


def _let_python_run() -> None:
    """Nothing to do: returning to Python is the point."""


def run_window(build: Callable[[], MainWindow]) -> int:
    """Build the main window and run it on qasync's loop until it is closed.

    Returns the exit status; a PySide6 build that would crash the app is refused with a message
    on stderr before any window opens.
    """
    try:
        app = make_application()
    except UnusableQt as exc:
        print(f"factor-desktop: {exc}", file=sys.stderr)
        return EXIT_UNUSABLE_QT
    mark("qapplication")
    loop = new_event_loop(app)
    previous_sigint: Any = signal.getsignal(signal.SIGINT)
    window: MainWindow | None = None
    timer: QTimer | None = None
    try:
        asyncio.set_event_loop(loop)
        window = build()
        app.aboutToQuit.connect(window.shutdown)
        timer = quit_on_interrupt(app)
        window.show()
        mark("window_shown")
        watch_first_paint(window, window.snapshotApplied)
        status = loop.run_forever()
        return int(status) if isinstance(status, int) else 0
    finally:
        if window is not None:
            window.shutdown()
        if timer is not None:
            timer.stop()
            timer.deleteLater()
        signal.signal(signal.SIGINT, previous_sigint)
        asyncio.set_event_loop(None)
        close_event_loop(loop)


def run_gui(data_dir: Path | None, profile: str) -> int:
    """Open the main window on `profile` and run until it is closed.

    The window is painted first, saying it is opening the firm's records; then its worker opens
    the store (see `opening.py`). A store that cannot be opened is said in the window, and the
    run ends with EXIT_STORE_FAULT (and the reason on stderr) when the window is closed.
    """
    mark("run_gui")
    from factor_desktop.paths import DataDir, ProfileNameError
    from factor_desktop.ui.main_window import MainWindow
    from factor_desktop.ui.opening import ProfileOpener

    mark("window_imports")
    try:
        database = DataDir.resolve(data_dir).database(profile)
    except ProfileNameError as exc:
        from factor_desktop.store.db import StoreError

        raise StoreError(str(exc)) from None
    built: list[MainWindow] = []

    def build() -> MainWindow:
        title = "Factor Desktop" if profile == "default" else f"Factor Desktop — {profile}"
        window = MainWindow(opener=ProfileOpener(data_dir, profile, database), title=title)
        mark("window_built")
        built.append(window)
        return window

    status = run_window(build)
    fault = built[0].store_fault if built else None
    if fault is not None:
        print(f"factor-desktop: {fault}", file=sys.stderr)
        return EXIT_STORE_FAULT
    return status
