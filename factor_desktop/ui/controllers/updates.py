"""The update check from the window: read on the worker (opt-in and once a day, see
`factor_desktop/updates.py`); a newer version is offered in a box with its download link."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QMessageBox

from factor_desktop.ui.jobs import JobOutcome, spawn

if TYPE_CHECKING:
    from factor_desktop.ui.main_window import MainWindow
    from factor_desktop.ui.update_check import UpdateCheckJob

# The check (and requests, which reads the feed) is imported when it is asked for, after the
# window's first paint.


class UpdatesController(QObject):
    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self._window = window
        self.update_box: QMessageBox | None = None

    def check_for_updates(self) -> UpdateCheckJob:
        from factor_desktop.ui.update_check import UpdateCheckJob

        job = UpdateCheckJob()
        spawn(self._checked(self._window.runner.run(job)))
        return job

    async def _checked(self, running: Awaitable[JobOutcome]) -> None:
        outcome = await running
        window = self._window
        if outcome.error is not None:  # not the firm's problem: a line, tried again next start
            window.statusBar().showMessage(f"Update check: {outcome.error}", 15_000)
            return
        if outcome.cancelled:
            return
        from factor_desktop.ui.update_check import offer_update

        box = offer_update(window, outcome.result, window.open_url)
        if box is not None and not window.closed:
            box.finished.connect(box.deleteLater)
            self.update_box = box
            box.open()
