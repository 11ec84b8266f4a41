"""Starting the desktop app: the QApplication, the chosen profile's store, and the main window."""

from __future__ import annotations

import logging
import signal
import sys
from pathlib import Path

from PySide6.QtCore import QTimer
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication

from factor_desktop import __version__
from factor_desktop.paths import resource_path
from factor_desktop.ui.qtfix import protect_none

log = logging.getLogger(__name__)


def make_application() -> QApplication:
    """The process's QApplication (created once), named and with the app icon."""
    protect_none()
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


def run_gui(data_dir: Path | None, profile: str) -> int:
    """Open the main window on `profile` and run until it is closed."""
    from factor_desktop.app import open_context
    from factor_desktop.ui.jobs import install_session_keyring
    from factor_desktop.ui.main_window import MainWindow

    app = make_application()
    ctx = open_context(data_dir, profile)
    if ctx.settings().secret_storage == "session":
        # Chosen earlier, explicitly: secrets live in memory and the connection is renewed.
        install_session_keyring()
    title = "Factor Desktop" if profile == "default" else f"Factor Desktop — {profile}"
    window = MainWindow(ctx.store, ctx.tokens, title=title)
    window.add_shutdown_hook(ctx.close)
    app.aboutToQuit.connect(window.shutdown)
    quit_on_interrupt(app)
    window.show()
    log.info("Main window open on profile %s (%s)", profile, ctx.store.path)
    try:
        return app.exec()
    finally:
        window.shutdown()
