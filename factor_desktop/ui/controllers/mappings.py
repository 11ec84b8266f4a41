"""Mappings from the window: a QuickBooks record dropped on a Factor type is saved on the
worker, and the Mappings tab says what changed or why it was refused."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import TYPE_CHECKING, TypeVar

from PySide6.QtCore import QObject, Slot

from factor_desktop.ui.job_types import ClearMappingJob, MappingChanged, SetMappingJob
from factor_desktop.ui.jobs import Job, JobOutcome, spawn

if TYPE_CHECKING:
    from factor_desktop.ui.main_window import MainWindow

J = TypeVar("J", bound=Job)


class MappingsController(QObject):
    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self._window = window
        tab = window.mappings_tab
        tab.mappingRequested.connect(self.request_mapping)
        tab.taxMappingRequested.connect(self.request_tax_mapping)
        tab.clearRequested.connect(self.request_clear_mapping)

    @Slot(str, int, str, str)
    def request_mapping(self, kind: str, local_id: int, qbo_id: str, entity: str) -> SetMappingJob:
        """A QuickBooks record was dropped on a Factor type: save it on the worker."""
        return self._save(SetMappingJob(kind, local_id, qbo_id, entity))

    @Slot(int, str, str)
    def request_tax_mapping(self, local_id: int, qbo_id: str, rule: str) -> SetMappingJob:
        """A tax code of another rate was dropped on a tax term, with the rule chosen for it."""
        return self._save(SetMappingJob("tax_term", local_id, qbo_id, "TaxCode", tax_rule=rule))

    @Slot(str, int)
    def request_clear_mapping(self, kind: str, local_id: int) -> ClearMappingJob:
        return self._save(ClearMappingJob(kind, local_id))

    def _save(self, job: J) -> J:
        spawn(self._saved(self._window.runner.run(job)))
        return job

    async def _saved(self, running: Awaitable[JobOutcome]) -> None:
        outcome = await running
        if outcome.cancelled:
            return
        if outcome.error is not None:
            self._window.mappings_tab.show_result(False, outcome.error)
        elif isinstance(outcome.result, MappingChanged):
            self._window.mappings_tab.show_result(True, outcome.result.message)
