"""The self-test's window check: the real main window on the self-test's data renders each tab.

Offscreen by default (each tab is drawn into an image); with `show`, the window opens on the
screen, goes through its tabs and closes itself. Either way the window reads the store on its
worker thread, as it always does, and the check waits for that first read.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QApplication

from factor_desktop.secrets import TokenStore
from factor_desktop.store.db import Store
from factor_desktop.ui.application import make_application

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
    with tempfile.TemporaryDirectory(prefix="factor-desktop-selftest-ui-") as scratch:
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
