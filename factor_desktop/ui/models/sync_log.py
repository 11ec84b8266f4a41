"""The Sync Log's table and its filter: what needs attention now, by level and by run."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QObject
from PySide6.QtGui import QColor

from factor_desktop.ui.colors import ERROR_COLOR, MUTED_COLOR, WARNING_COLOR
from factor_desktop.ui.formatting import datetime_text
from factor_desktop.ui.models.base import (
    AnyIndex,
    RowRole,
    RowSortProxy,
    RowTableModel,
    change_filter,
)
from factor_desktop.views import LogRow

DIRECTIONS = {
    "push": "To QuickBooks",
    "out": "To QuickBooks",
    "to_qbo": "To QuickBooks",
    "pull": "From QuickBooks",
    "in": "From QuickBooks",
    "from_qbo": "From QuickBooks",
    "local": "In Factor",
}


class SyncLogTableModel(RowTableModel[LogRow]):
    COL_AT = 0
    COL_DIRECTION = 1
    COL_RECORD = 2
    COL_ACTION = 3
    COL_STATE = 4
    COL_LEVEL = 5
    COL_REASON = 6
    HEADERS = ("At", "Direction", "Record", "Action", "Now", "Level", "Reason")
    STATES = {
        "ok": "Done",
        "waiting": "Waiting",
        "failed": "Failed",
        "mismatched": "Totals differ",
        "resolved": "Resolved since",
        "superseded": "Superseded",
    }

    def display(self, row: LogRow, column: int) -> str:
        if column == self.COL_AT:
            return datetime_text(row.at)
        if column == self.COL_DIRECTION:
            return DIRECTIONS.get(row.direction, row.direction.replace("_", " ").capitalize())
        if column == self.COL_RECORD:
            kind = row.entity_kind.replace("_", " ").capitalize()
            return f"{kind} {row.label}"
        if column == self.COL_ACTION:
            return row.action.replace("_", " ").capitalize()
        if column == self.COL_STATE:
            return self.STATES.get(row.state, row.state.capitalize())
        if column == self.COL_LEVEL:
            return row.level.capitalize()
        if column == self.COL_REASON:
            return row.reason or ""
        return ""

    def sort_key(self, row: LogRow, column: int) -> Any:
        if column == self.COL_AT:
            return row.at.isoformat()
        return super().sort_key(row, column)

    def foreground(self, row: LogRow, column: int) -> QColor | None:
        if row.state in ("resolved", "superseded"):
            return MUTED_COLOR  # history: no longer true
        if row.level == "error":
            return ERROR_COLOR
        if row.level == "warning":
            return WARNING_COLOR
        return None

    def tooltip(self, row: LogRow, column: int) -> str | None:
        if column == self.COL_RECORD and row.qbo_id:
            return f"QuickBooks Id {row.qbo_id}"
        if column == self.COL_REASON and row.reason:
            return row.reason
        return None


#: The Sync Log's default view: what needs attention now.
ATTENTION = "attention"
ATTENTION_STATES = frozenset({"waiting", "failed", "mismatched"})


class SyncLogFilter(RowSortProxy):
    """The Sync Log's view of its model: what needs attention now, one level or all, one run or
    all; sortable."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._level: str | None = None
        self._run_id: int | None = None

    @property
    def level(self) -> str | None:
        return self._level

    @property
    def run_id(self) -> int | None:
        return self._run_id

    def set_level(self, level: str | None) -> None:
        if level != self._level:
            change_filter(self, lambda: setattr(self, "_level", level))

    def set_run(self, run_id: int | None) -> None:
        if run_id != self._run_id:
            change_filter(self, lambda: setattr(self, "_run_id", run_id))

    def filterAcceptsRow(self, source_row: int, source_parent: AnyIndex) -> bool:
        model = self.sourceModel()
        if isinstance(model, RowTableModel):
            # Straight from the model: asking each row's index for its data costs a trip
            # through Qt per row, at every refresh of a log of thousands.
            row = model.row_at(source_row) if 0 <= source_row < model.rowCount() else None
        elif model is None:
            return False
        else:
            row = model.index(source_row, 0, source_parent).data(RowRole)
        if not isinstance(row, LogRow):
            return False
        if self._level == ATTENTION:
            if row.state not in ATTENTION_STATES:
                return False
        elif self._level is not None and row.level != self._level:
            return False
        return self._run_id is None or row.run_id == self._run_id
