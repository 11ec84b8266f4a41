"""QuickBooks records to drag: the list beside each mapping table, and the MIME data a dragged
record travels in (onto a mapping table, or onto a client or project).
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from PySide6.QtCore import QMimeData, QModelIndex, QObject, Qt
from PySide6.QtGui import QColor

from factor_desktop.domain.kinds import ENTITY_LABEL
from factor_desktop.ui.colors import MUTED_COLOR
from factor_desktop.ui.formatting import percent_text
from factor_desktop.ui.models.base import AnyIndex, R, RowSortProxy, RowTableModel, change_filter
from factor_desktop.views import QboCandidate

# Dragged QuickBooks records travel under this MIME type as JSON: [{"entity": ..., "id": ...}].
QBO_RECORD_MIME = "application/x-factor-qbo-record"


def qbo_records_mime(records: Sequence[QboCandidate]) -> QMimeData:
    """The MIME data of dragged QuickBooks records: their entity and Id, and their names as text."""
    data = QMimeData()
    payload = [{"entity": r.entity, "id": r.qbo_id} for r in records]
    data.setData(QBO_RECORD_MIME, json.dumps(payload).encode())
    data.setText("\n".join(r.name for r in records))
    return data


def dropped_qbo_records(data: QMimeData | None) -> list[tuple[str, str]]:
    """The (entity, Id) pairs a drop carries; empty when it carries none or is malformed."""
    if data is None or not data.hasFormat(QBO_RECORD_MIME):
        return []
    try:
        payload = json.loads(bytes(data.data(QBO_RECORD_MIME).data()).decode())
    except (ValueError, UnicodeDecodeError):
        return []
    if not isinstance(payload, list):
        return []
    found: list[tuple[str, str]] = []
    for item in payload:
        if (
            isinstance(item, dict)
            and isinstance(item.get("entity"), str)
            and isinstance(item.get("id"), str)
        ):
            found.append((item["entity"], item["id"]))
    return found


class QboRecordDragModel(RowTableModel[R]):
    """A table whose rows drag as QuickBooks records, packed by `records_mime()`."""

    def records_mime(self, rows: Sequence[R]) -> QMimeData:
        raise NotImplementedError

    def flags(self, index: AnyIndex) -> Qt.ItemFlag:
        flags = super().flags(index)
        if index.isValid():
            flags |= Qt.ItemFlag.ItemIsDragEnabled
        return flags

    def mimeTypes(self) -> list[str]:
        return [QBO_RECORD_MIME]

    def supportedDragActions(self) -> Qt.DropAction:
        return Qt.DropAction.CopyAction

    def mimeData(self, indexes: Sequence[QModelIndex]) -> QMimeData:
        rows = sorted({i.row() for i in indexes if i.isValid() and 0 <= i.row() < len(self._rows)})
        return self.records_mime([self._rows[r] for r in rows])


class QboCandidateModel(QboRecordDragModel[QboCandidate]):
    """QuickBooks records to drag onto Factor types; each drags as its entity and Id."""

    COL_NAME = 0
    COL_TYPE = 1
    COL_USED_BY = 2
    HEADERS = ("QuickBooks record", "Type", "Mapped to")

    def __init__(self, parent: QObject | None = None, *, show_entity: bool = False) -> None:
        super().__init__(parent)
        # In a list of accounts and products/services, the latter say so in the type column.
        self.show_entity = show_entity

    def display(self, row: QboCandidate, column: int) -> str:
        if column == self.COL_NAME:
            if row.entity == "TaxCode":
                # A tax code shows its effective rate: "Alder County (8.5%)".
                return f"{row.name} ({percent_text(row.rate, none='rate unknown')})"
            return row.name
        if column == self.COL_TYPE:
            if self.show_entity and row.entity != "Account":
                # Beside accounts (typed by AccountType), other records say what they are.
                return ENTITY_LABEL.get(row.entity, row.entity).capitalize()
            return row.type or ""
        if column == self.COL_USED_BY:
            return ", ".join(row.used_by)
        return ""

    def foreground(self, row: QboCandidate, column: int) -> QColor | None:
        return MUTED_COLOR if column != self.COL_NAME else None

    def tooltip(self, row: QboCandidate, column: int) -> str | None:
        text = f"QuickBooks {row.entity} Id {row.qbo_id}. Drag it onto a Factor type to map it."
        if row.used_by:
            text += f" Mapped to: {', '.join(row.used_by)}."
        return text

    def row_id(self, row: QboCandidate) -> int:
        return int(row.qbo_id) if row.qbo_id.isdigit() else 0

    def records_mime(self, rows: Sequence[QboCandidate]) -> QMimeData:
        return qbo_records_mime(rows)


class QboCandidateFilter(RowSortProxy):
    """QuickBooks records whose name, type, Id or mapped Factor types hold every word typed;
    optionally only those of one entity (the accounts, say, of a list that holds both accounts
    and products/services). Sorted by the model, as `RowSortProxy` does."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._words: tuple[str, ...] = ()
        self._entity: str | None = None

    def set_text(self, text: str) -> None:
        words = tuple(text.casefold().split())
        change_filter(self, lambda: setattr(self, "_words", words))

    def set_entity(self, entity: str | None) -> None:
        change_filter(self, lambda: setattr(self, "_entity", entity))

    def filterAcceptsRow(self, source_row: int, source_parent: AnyIndex) -> bool:
        model = self.sourceModel()
        if not isinstance(model, QboCandidateModel) or source_row >= model.rowCount():
            return False
        row = model.row_at(source_row)
        if self._entity is not None and row.entity != self._entity:
            return False
        if not self._words:
            return True
        haystack = " ".join(
            (
                model.display(row, QboCandidateModel.COL_NAME),
                model.display(row, QboCandidateModel.COL_TYPE),
                row.qbo_id,
                *row.used_by,
            )
        ).casefold()
        return all(word in haystack for word in self._words)
