"""Mappings from the window: a QuickBooks record dropped on a Factor type (or chosen for it) is
saved on the worker, and the Mappings tab says what changed or why it was refused. Each change
saved is remembered with the mapping it replaced, so Ctrl+Z on the tab can put that back."""

from __future__ import annotations

from collections.abc import Awaitable
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar

from PySide6.QtCore import QObject, Slot

from factor_desktop.ui.job_types import ClearMappingJob, MappingChanged, SetMappingJob
from factor_desktop.ui.jobs import Job, JobOutcome, spawn

if TYPE_CHECKING:
    from factor_desktop.ui.main_window import MainWindow
    from factor_desktop.views import MappedRecord

J = TypeVar("J", bound=Job)


@dataclass(frozen=True)
class MappingUndo:
    """A mapping change saved from the window, and what the Factor type was mapped to before."""

    kind: str
    local_id: int
    before: MappedRecord | None
    message: str

    def job(self) -> SetMappingJob | ClearMappingJob:
        """The job that puts the mapping back as it was."""
        if self.before is None:
            return ClearMappingJob(self.kind, self.local_id)
        return SetMappingJob(
            self.kind,
            self.local_id,
            self.before.qbo_id,
            self.before.entity,
            tax_rule=self.before.tax_rule,
        )


class MappingsController(QObject):
    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self._window = window
        tab = window.mappings_tab
        tab.mappingRequested.connect(self.request_mapping)
        tab.taxMappingRequested.connect(self.request_tax_mapping)
        tab.clearRequested.connect(self.request_clear_mapping)
        tab.undoRequested.connect(self.undo)
        self.undo_stack: list[MappingUndo] = []

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

    @Slot()
    def undo(self) -> SetMappingJob | ClearMappingJob | None:
        """Put back the mapping the last change saved from the window replaced."""
        if not self.undo_stack:
            return None
        done = self.undo_stack.pop()
        self._show_undo()
        return self._save(done.job(), undoing=True)

    def _show_undo(self) -> None:
        self._window.mappings_tab.set_undo(self.undo_stack[-1].message if self.undo_stack else None)

    def _save(self, job: J, *, undoing: bool = False) -> J:
        assert isinstance(job, SetMappingJob | ClearMappingJob)
        # What the type is mapped to now, as the tab shows it: what an undo puts back.
        before = self._window.mappings_tab.mapped_now(job.mapping_kind, job.local_id)
        spawn(self._saved(self._window.runner.run(job), before, undoing))
        return job

    async def _saved(
        self, running: Awaitable[JobOutcome], before: MappedRecord | None, undoing: bool
    ) -> None:
        outcome = await running
        if outcome.cancelled:
            return
        tab = self._window.mappings_tab
        if outcome.error is not None:
            tab.show_result(False, outcome.error)
        elif isinstance(outcome.result, MappingChanged):
            result = outcome.result
            # A clear of what was not mapped changed nothing, and an undo is not undone.
            if not undoing and (before is not None or result.qbo_id is not None):
                self.undo_stack.append(
                    MappingUndo(result.kind, result.local_id, before, result.message)
                )
                self._show_undo()
            tab.show_result(True, ("Undone. " if undoing else "") + result.message)
