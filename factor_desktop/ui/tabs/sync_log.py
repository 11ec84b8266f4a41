"""The Sync Log tab: every record a sync touched, filtered by level and run; retries."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QModelIndex, Qt, Signal, Slot
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QWidget,
)

from factor_desktop.ui.colors import ERROR_COLOR, WARNING_COLOR
from factor_desktop.ui.formatting import datetime_text, plain_error, sync_counts_text
from factor_desktop.ui.models.base import RowRole
from factor_desktop.ui.models.sync_log import ATTENTION, SyncLogFilter, SyncLogTableModel
from factor_desktop.ui.tabs.base import Tab, plural
from factor_desktop.ui.widgets import fit_columns, grow_columns, make_table
from factor_desktop.views import LogRow, SyncRunRow

if TYPE_CHECKING:
    from factor_desktop.views import Snapshot


class SyncLogTab(Tab):
    """Every record a sync touched; filtered by level and run; failed pushes can be retried."""

    retryRequested = Signal()
    # "client" or "project" and its id: an entry about a record not linked, double-clicked.
    linkRequested = Signal(str, int)

    LEVELS = (
        ("Needs attention", ATTENTION),
        ("Everything (history)", None),
        ("Errors", "error"),
        ("Warnings", "warning"),
    )

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = SyncLogTableModel(self)
        self.filter = SyncLogFilter(self)
        self.view = make_table(
            self.model,
            (SyncLogTableModel.COL_REASON,),
            "Each record a sync touches is listed here, with the reason when it could not "
            "go through.",
            proxy=self.filter,
        )
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        # The selected entry's whole reason, which the table cuts short.
        self.detail = QLabel()
        self.detail.setTextFormat(Qt.TextFormat.PlainText)
        self.detail.setWordWrap(True)
        self.detail.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.detail.hide()
        self.level_combo = QComboBox()
        for text, level in self.LEVELS:
            self.level_combo.addItem(text, level)
        self.run_combo = QComboBox()
        self.run_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.run_combo.addItem("All runs", None)
        self.retry_button = QPushButton("Retry blocked/failed")
        self.retry_button.setEnabled(False)
        controls = QHBoxLayout()
        controls.setSpacing(6)
        controls.addWidget(QLabel("Show:"))
        controls.addWidget(self.level_combo)
        controls.addSpacing(12)
        controls.addWidget(QLabel("Run:"))
        controls.addWidget(self.run_combo)
        controls.addStretch(1)
        controls.addWidget(self.retry_button)
        self._layout.addLayout(controls)
        self._layout.addWidget(self.view, 1)
        self._layout.addWidget(self.detail)
        fit_columns(self.view)
        self._problems = 0
        self._retry_allowed = False
        self._retry_reason = ""
        self.level_combo.currentIndexChanged.connect(self._filter_changed)
        self.run_combo.currentIndexChanged.connect(self._filter_changed)
        self._filter_changed(0)
        self.retry_button.clicked.connect(self.retryRequested)
        self.view.selectionModel().currentRowChanged.connect(self._show_detail)
        self.view.doubleClicked.connect(self._double_clicked)

    @staticmethod
    def linkable(row: object) -> bool:
        """An entry about a client or project, which the Clients & Projects tab can link."""
        return (
            isinstance(row, LogRow)
            and row.entity_kind in ("client", "project")
            and row.local_id is not None
        )

    @Slot(QModelIndex)
    def _double_clicked(self, index: QModelIndex) -> None:
        row = index.data(RowRole) if index.isValid() else None
        if isinstance(row, LogRow) and row.local_id is not None and self.linkable(row):
            self.linkRequested.emit(row.entity_kind, row.local_id)

    @Slot(int)
    def _filter_changed(self, _index: int) -> None:
        self.filter.set_level(self.level_combo.currentData())
        self.filter.set_run(self.run_combo.currentData())

    @Slot(QModelIndex, QModelIndex)
    def _show_detail(self, current: QModelIndex, _previous: QModelIndex) -> None:
        row = current.data(RowRole) if current.isValid() else None
        if not isinstance(row, LogRow) or not row.reason:
            self.detail.hide()
            return
        record = self.model.display(row, SyncLogTableModel.COL_RECORD)
        action = self.model.display(row, SyncLogTableModel.COL_ACTION)
        hint = " (Double-click to link it.)" if self.linkable(row) and row.level != "info" else ""
        self.detail.setText(f"{record} · {action}: {row.reason}{hint}")
        color = {"error": ERROR_COLOR, "warning": WARNING_COLOR}.get(row.level)
        self.detail.setStyleSheet(f"color: {color.name()};" if color is not None else "")
        self.detail.show()

    def set_level(self, level: str | None) -> None:
        self.level_combo.setCurrentIndex(max(0, self.level_combo.findData(level)))

    def set_run(self, run_id: int | None) -> None:
        self.run_combo.setCurrentIndex(max(0, self.run_combo.findData(run_id)))

    def set_retry_allowed(self, allowed: bool, reason: str = "") -> None:
        """Whether a sync may start now (connected, none running); `reason` says why not."""
        self._retry_allowed = allowed
        self._retry_reason = reason
        self._update_retry()

    def _update_retry(self) -> None:
        problems = self._problems
        self.retry_button.setText(
            f"Retry blocked/failed ({problems})" if problems else "Retry blocked/failed"
        )
        self.retry_button.setEnabled(bool(problems) and self._retry_allowed)
        if not problems:
            self.retry_button.setToolTip("No record is waiting after a failure.")
        elif not self._retry_allowed:
            self.retry_button.setToolTip(self._retry_reason)
        else:
            self.retry_button.setToolTip(
                f"Queue the {problems} record(s) that failed or were blocked again, and sync now."
            )

    def _show_runs(self, runs: tuple[SyncRunRow, ...]) -> None:
        chosen = self.run_combo.currentData()
        wanted = [(None, "All runs")] + [(run.id, _run_label(run)) for run in runs]
        present = [
            (self.run_combo.itemData(i), self.run_combo.itemText(i))
            for i in range(self.run_combo.count())
        ]
        if wanted == present:
            return
        self.run_combo.blockSignals(True)
        try:
            self.run_combo.clear()
            for run_id, text in wanted:
                self.run_combo.addItem(text, run_id)
            self.run_combo.setCurrentIndex(max(0, self.run_combo.findData(chosen)))
        finally:
            self.run_combo.blockSignals(False)
        self.filter.set_run(self.run_combo.currentData())

    def show_snapshot(self, snapshot: Snapshot) -> None:
        entries = snapshot.log
        if self.model.set_rows(entries):
            grow_columns(self.view)
        self._show_runs(snapshot.runs)
        self._problems = snapshot.outbox_problems
        self._update_retry()
        errors = sum(1 for e in entries if e.level == "error")
        warnings = sum(1 for e in entries if e.level == "warning")
        last = snapshot.last_sync
        if not entries and last is None:
            self.summary.setText("No sync has run yet.")
            return
        text = f"{plural(len(entries), 'entry', 'entries')}"
        if errors or warnings:
            text += f", {plural(errors, 'error')} and {plural(warnings, 'warning')}"
        text += "."
        if last is not None:
            when = datetime_text(last.finished_at or last.started_at)
            text += f" Last sync: {last.status} at {when}."
            if last.error:  # in words: the details are in the log file
                text += f" {plain_error(last.error).text}"
        if snapshot.outbox_problems:
            text += (
                f" {plural(snapshot.outbox_problems, 'record')} failed or blocked, waiting "
                "for a retry."
            )
        self.summary.setText(text)


def _run_label(run: SyncRunRow) -> str:
    kind = {"preview": "preview", "full": "full sync"}.get(run.kind, "sync")
    text = f"{datetime_text(run.started_at)} · {kind} · {run.status}"
    counts = sync_counts_text(dict(run.counts), limit=2)
    return f"{text} ({counts})" if counts else text
