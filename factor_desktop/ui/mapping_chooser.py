"""The chooser that Enter or a double-click on a Factor type opens on the Mappings tab: the
QuickBooks records the type can map to, searchable by keyboard.

Nothing here reads the store or QuickBooks: the records come from the snapshot, and the choice
goes back to the tab, which asks for it as a drop does.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialogButtonBox,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from factor_desktop.domain.kinds import ENTITY_LABEL, ENTITY_PLURAL, QBO_ENTITY_FOR_KIND
from factor_desktop.ui.chooser import SearchChooser
from factor_desktop.ui.formatting import mapped_text
from factor_desktop.ui.models.base import RowRole
from factor_desktop.ui.models.qbo_records import QboCandidateFilter, QboCandidateModel
from factor_desktop.ui.widgets import make_table, muted_label
from factor_desktop.views import MappedRecord, QboCandidate


class MappingChooser(SearchChooser):
    """Choose the QuickBooks record of one kind of mapping for one Factor type.

    Typing filters the list (the first match selected); Down moves into it; Enter (or a
    double-click) chooses the selected record, Esc cancels. "Clear" forgets the mapping. The
    choice is `chosen` (entity, QuickBooks Id) or `clearChosen`; nothing is saved here.
    """

    # QuickBooks entity, QuickBooks Id
    chosen = Signal(str, str)
    clearChosen = Signal()

    def __init__(
        self,
        kind: str,
        label: str,
        current: MappedRecord | None,
        candidates: Sequence[QboCandidate],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.kind = kind
        self.entity = QBO_ENTITY_FOR_KIND[kind]
        self.current = current
        what = ENTITY_LABEL[self.entity]
        self.setWindowTitle(f"Map to a QuickBooks {what}")
        self.setObjectName("mapping-chooser")
        self.heading = heading = QLabel(f"Choose the QuickBooks {what} for {label}.")
        heading.setTextFormat(Qt.TextFormat.PlainText)
        heading.setWordWrap(True)
        font = heading.font()
        font.setBold(True)
        heading.setFont(font)
        now = f"Mapped now to {mapped_text(current)}." if current is not None else "Not mapped yet."
        self.state_label = muted_label(now)
        self.model = QboCandidateModel(self)
        self.model.set_rows([c for c in candidates if c.entity == self.entity])
        self.filter: QboCandidateFilter = QboCandidateFilter(self)
        self.search = QLineEdit()
        self.search.setPlaceholderText("Search by name, type or Id")
        self.search.setClearButtonEnabled(True)
        self.view = make_table(
            self.model,
            (QboCandidateModel.COL_NAME, QboCandidateModel.COL_USED_BY),
            f"No QuickBooks {ENTITY_PLURAL[self.entity]} read yet: Sync Now reads the lists.",
            proxy=self.filter,
        )
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.buttons = QDialogButtonBox()
        self.map_button = self.buttons.addButton("Map", QDialogButtonBox.ButtonRole.AcceptRole)
        self.clear_button = self.buttons.addButton(
            "Clear the mapping", QDialogButtonBox.ButtonRole.DestructiveRole
        )
        self.clear_button.setEnabled(current is not None)
        self.buttons.addButton(QDialogButtonBox.StandardButton.Cancel)

        layout = QVBoxLayout(self)
        layout.addWidget(heading)
        layout.addWidget(self.state_label)
        layout.addWidget(self.search)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.buttons)
        self.resize(620, 440)

        self.search.textChanged.connect(self._search_changed)
        self.search.installEventFilter(self)
        self.view.doubleClicked.connect(self._double_clicked)
        self.view.selectionModel().selectionChanged.connect(self._update_buttons)
        self.map_button.clicked.connect(self.choose_selected)
        self.clear_button.clicked.connect(self._clear)
        self.buttons.rejected.connect(self.reject)
        self._select_first()
        self.search.setFocus()

    # -- filtering ---------------------------------------------------------------------------

    @Slot(str)
    def _search_changed(self, text: str) -> None:
        self.filter.set_text(text)
        self._select_first()

    def visible_records(self) -> list[QboCandidate]:
        return [self.filter.index(r, 0).data(RowRole) for r in range(self.filter.rowCount())]

    def selected_record(self) -> QboCandidate | None:
        rows = self.view.selectionModel().selectedRows()
        row = rows[0].data(RowRole) if rows else None
        return row if isinstance(row, QboCandidate) else None

    def _is_current(self, record: QboCandidate) -> bool:
        current = self.current
        return current is not None and (current.entity, current.qbo_id) == (
            record.entity,
            record.qbo_id,
        )

    @Slot()
    def _update_buttons(self, *_args: Any) -> None:
        record = self.selected_record()
        # A tax code already mapped may be chosen again: its tax rule may change.
        self.map_button.setEnabled(
            record is not None and (self.entity == "TaxCode" or not self._is_current(record))
        )

    # -- the choice ------------------------------------------------------------------------

    def _choose(self) -> bool:
        return self.choose_selected()

    @Slot()
    def choose_selected(self) -> bool:
        record = self.selected_record()
        if record is None or not self.map_button.isEnabled():
            return False
        # Closed first: a tax code of another rate opens the tax rule question next.
        self.accept()
        self.chosen.emit(record.entity, record.qbo_id)
        return True

    @Slot()
    def _clear(self) -> None:
        self.accept()
        self.clearChosen.emit()
