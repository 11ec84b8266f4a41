"""The sync preview: what a pass would change, shown before the administrator syncs for real."""

from __future__ import annotations

import contextlib
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from factor_desktop.ui.colors import ERROR_COLOR, WARNING_COLOR
from factor_desktop.ui.formatting import money_text, plain_error
from factor_desktop.ui.models.base import RowTableModel
from factor_desktop.ui.models.sync_log import DIRECTIONS
from factor_desktop.ui.widgets import fit_columns, make_table, muted_label

if TYPE_CHECKING:
    from factor_desktop.sync.engine import SyncSummary

# Keys of a planned change that have a column of their own, or say nothing to the administrator.
# Said by other columns, or by the row's colour (the level).
_SHOWN = ("action", "direction", "entity", "label", "reason", "local_id", "level")
_MONEY = ("total", "qbo_total")
_NAMES = {"qbo_id": "QuickBooks Id", "qbo_total": "QuickBooks total", "customer_id": "customer Id"}


def _extra(row: dict[str, Any], key: str, value: Any) -> str | None:
    """One detail of a planned change in words, or None when it adds nothing."""
    if key in _SHOWN or value in (None, "", [], {}):
        return None
    if key == "full_name" and str(value) == str(row.get("label", "")):
        return None  # the record's name already says it
    if key in _MONEY:
        with contextlib.suppress(InvalidOperation):
            value = money_text(Decimal(str(value)))
    return f"{_NAMES.get(key, _words(key))}: {value}"


# A planned change names its action as a verb ("create") or as what happened ("blocked").
_BASE_VERBS = {
    "created": "create",
    "updated": "update",
    "deleted": "delete",
    "voided": "void",
    "downloaded": "download",
    "linked": "link",
    "applied": "apply",
    "blocked": "block",
    "failed": "fail",
    "skipped": "skip",
}
# Actions that are not changes: the record would be held back, and why is in its reason.
_HELD_BACK = {"block": "blocked", "fail": "failed", "skip": "skipped"}


def _words(key: str) -> str:
    return key.replace("_", " ")


def planned_verb(change: dict[str, Any]) -> str:
    """The base verb of a planned change: "create", "link", "block", ..."""
    action = str(change.get("action", "change"))
    return _BASE_VERBS.get(action, action)


def planned_action_text(change: dict[str, Any]) -> str:
    verb = planned_verb(change)
    return _words(_HELD_BACK.get(verb, verb)).capitalize()


class PlannedChangesModel(RowTableModel[dict[str, Any]]):
    """The changes a preview pass would make: one row per record."""

    COL_ACTION = 0
    COL_DIRECTION = 1
    COL_RECORD = 2
    COL_DETAILS = 3
    HEADERS = ("Change", "Direction", "Record", "Details")

    def display(self, row: dict[str, Any], column: int) -> str:
        if column == self.COL_ACTION:
            return planned_action_text(row)
        if column == self.COL_DIRECTION:
            direction = str(row.get("direction", ""))
            return DIRECTIONS.get(direction, _words(direction).capitalize())
        if column == self.COL_RECORD:
            entity = _words(str(row.get("entity", ""))).capitalize()
            return f"{entity} {row.get('label', '')}".strip()
        if column == self.COL_DETAILS:
            extras = [text for k, v in row.items() if (text := _extra(row, k, v)) is not None]
            reason = row.get("reason")
            return " · ".join([*([str(reason)] if reason else []), *extras])
        return ""

    def foreground(self, row: dict[str, Any], column: int) -> QColor | None:
        verb = planned_verb(row)
        if verb in ("block", "fail"):
            return ERROR_COLOR
        if verb == "skip":
            return WARNING_COLOR
        return None

    def tooltip(self, row: dict[str, Any], column: int) -> str | None:
        if column == self.COL_DETAILS:
            return self.display(row, column) or None
        return None

    def row_id(self, row: dict[str, Any]) -> int:
        local_id = row.get("local_id")
        return local_id if isinstance(local_id, int) else 0


def preview_headline(summary: SyncSummary) -> str:
    """One sentence on what a sync now would do."""
    if summary.status == "failed":
        return f"The preview could not finish: {plain_error(summary.error).text}"
    if summary.status == "cancelled":
        return "The preview was cancelled before it finished; what it found so far is below."
    if not summary.planned:
        return "Nothing to send or receive: Factor and QuickBooks are in step."
    changes: dict[str, int] = {}
    held: dict[str, int] = {}
    for change in summary.planned:
        verb = planned_verb(change)
        if verb in _HELD_BACK:
            held[_HELD_BACK[verb]] = held.get(_HELD_BACK[verb], 0) + 1
        else:
            changes[verb] = changes.get(verb, 0) + 1
    parts: list[str] = []
    if changes:
        total = sum(changes.values())
        done = ", ".join(f"{_words(verb)} {n}" for verb, n in sorted(changes.items()))
        parts.append(f"A sync now would make {total} change{'s' if total != 1 else ''} ({done})")
    else:
        parts.append("A sync now would change nothing")
    if held:
        total = sum(held.values())
        kinds = " or ".join(sorted(held))
        parts.append(f"{total} record{'s' if total != 1 else ''} would be {kinds}")
    return "; ".join(parts) + "."


class SyncPreviewDialog(QDialog):
    """Shows a preview pass's planned changes; "Sync Now" accepts the dialog."""

    def __init__(self, summary: SyncSummary, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Sync preview")
        self.resize(900, 480)
        self.summary = summary
        self.headline = QLabel(preview_headline(summary))
        self.headline.setTextFormat(Qt.TextFormat.PlainText)
        self.headline.setWordWrap(True)
        font = self.headline.font()
        font.setBold(True)
        self.headline.setFont(font)
        self.note = muted_label(
            "Nothing has been changed yet, here or in QuickBooks. The preview read QuickBooks "
            f"with {summary.requests_used} request{'s' if summary.requests_used != 1 else ''} "
            f"in {summary.duration_s:.1f} s."
        )
        self.model = PlannedChangesModel(self)
        self.model.set_rows(summary.planned)
        self.view = make_table(
            self.model,
            (PlannedChangesModel.COL_RECORD, PlannedChangesModel.COL_DETAILS),
            "No changes are planned.",
        )
        fit_columns(self.view)
        self.buttons = QDialogButtonBox()
        self.sync_button: QPushButton = self.buttons.addButton(
            "Sync Now", QDialogButtonBox.ButtonRole.AcceptRole
        )
        self.close_button = self.buttons.addButton(QDialogButtonBox.StandardButton.Close)
        self.sync_button.setDefault(True)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 16, 16, 12)
        layout.setSpacing(8)
        layout.addWidget(self.headline)
        layout.addWidget(self.note)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.buttons)

    def set_sync_allowed(self, allowed: bool, reason: str = "") -> None:
        self.sync_button.setEnabled(allowed)
        self.sync_button.setToolTip("" if allowed else reason)
