"""Importing Factor records from the window: the file chooser, the import on the worker (all or
nothing), its progress in the status bar, and the list of problems when nothing was imported."""

from __future__ import annotations

from collections.abc import Awaitable
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Slot
from PySide6.QtWidgets import QFileDialog

from factor_desktop.ui.jobs import JobOutcome, JobProgress, spawn
from factor_desktop.ui.jobs_extra import ImportJob, ImportProgress, ImportResult

if TYPE_CHECKING:
    from factor_desktop.ui.import_dialog import ImportProblemsDialog
    from factor_desktop.ui.main_window import MainWindow

# The import's dialogs (and the importer's types they show) are imported when they are first
# opened, not before the window's first paint.


class ImportsController(QObject):
    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self._window = window
        self.import_dialog: QFileDialog | None = None
        self.job: ImportJob | None = None
        self.problems_dialog: ImportProblemsDialog | None = None
        window.menu_actions.import_file.triggered.connect(self.choose_import_file)
        window.runner.jobProgress.connect(self._on_progress)

    @Slot()
    def choose_import_file(self) -> QFileDialog:
        """Ask for the file to import (JSON, or CSV named after its kind)."""
        if self.import_dialog is not None and self.import_dialog.isVisible():
            self.import_dialog.raise_()
            return self.import_dialog
        from factor_desktop.ui.import_dialog import import_file_dialog

        window = self._window
        dialog = import_file_dialog(window, window.ui_settings, remember=window.remembers_layout)
        dialog.fileSelected.connect(self._import_chosen)
        dialog.finished.connect(self._import_dialog_closed)
        self.import_dialog = dialog
        dialog.open()
        return dialog

    @Slot(str)
    def _import_chosen(self, path: str) -> None:
        if path:
            self.import_file(Path(path))

    @Slot(int)
    def _import_dialog_closed(self, _result: int) -> None:
        dialog, self.import_dialog = self.import_dialog, None
        if dialog is not None:
            dialog.deleteLater()

    def import_file(self, path: Path) -> ImportJob | None:
        """Import `path` on the worker, all or nothing; the problems open in a list."""
        window = self._window
        if self.job is not None:
            window.statusBar().showMessage("An import is running; wait for it to finish.", 10_000)
            return None
        job = ImportJob(path)
        self.job = job
        window.menu_actions.import_file.setEnabled(False)
        spawn(self._imported(job, window.runner.run(job)))
        window.statusBar().showMessage(f"Importing {path.name}…", 10_000)
        return job

    @Slot(object)
    def _on_progress(self, event: JobProgress) -> None:
        job = self.job
        if job is None or event.job_id != job.id or not isinstance(event.payload, ImportProgress):
            return
        done, total = event.payload.done, event.payload.total
        self._window.statusBar().showMessage(
            f"Importing {job.path.name}: {done:,} of {total:,} records…", 10_000
        )

    async def _imported(self, job: ImportJob, running: Awaitable[JobOutcome]) -> None:
        outcome = await running
        window = self._window
        self.job = None
        window.menu_actions.import_file.setEnabled(True)
        if outcome.cancelled:
            return
        result = outcome.result
        if outcome.error is not None or not isinstance(result, ImportResult):
            result = ImportResult(str(job.path), None, (), outcome.error or "No result.")
        if result.ok:
            from factor_desktop.ui.import_dialog import import_summary_text

            window.statusBar().showMessage(import_summary_text(result), 20_000)
            return
        window.statusBar().showMessage(f"Nothing was imported from {job.path.name}.", 20_000)
        self.show_import_problems(result)

    def show_import_problems(self, result: ImportResult) -> ImportProblemsDialog:
        from factor_desktop.ui.import_dialog import ImportProblemsDialog

        if self.problems_dialog is not None:
            self.problems_dialog.close()
        dialog = ImportProblemsDialog(result, self._window)
        dialog.finished.connect(self._problems_closed)
        self.problems_dialog = dialog
        dialog.open()
        return dialog

    @Slot(int)
    def _problems_closed(self, _result: int) -> None:
        dialog, self.problems_dialog = self.problems_dialog, None
        if dialog is not None:
            dialog.deleteLater()
