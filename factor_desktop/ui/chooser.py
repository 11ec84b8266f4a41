"""What the window's searchable choosers share: a search box over a filtered list, the first match
selected as you type, Down into the list, Enter or a double-click to choose.

Used by the QuickBooks customer chooser of Clients & Projects (`link_dialog.LinkDialog`) and the
QuickBooks record chooser of the Mappings tab (`mapping_chooser.MappingChooser`). A subclass sets
`search`, `view` and `filter`, connects `view.doubleClicked` to `_double_clicked`, installs the
dialog as the search box's event filter, and says what choosing does (`_choose`).
"""

from __future__ import annotations

from PySide6.QtCore import (
    QEvent,
    QItemSelectionModel,
    QModelIndex,
    QObject,
    QSortFilterProxyModel,
    Qt,
    Slot,
)
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QDialog, QLineEdit, QTableView

ENTER_KEYS = (Qt.Key.Key_Return, Qt.Key.Key_Enter)


class SearchChooser(QDialog):
    """A dialog whose search box filters a list to choose one row from."""

    search: QLineEdit
    view: QTableView
    filter: QSortFilterProxyModel

    def _choose(self) -> bool:
        """Choose the selected row; whether anything was chosen."""
        raise NotImplementedError

    def _update_buttons(self) -> None:
        """Enable what the selection allows."""

    def _select_first(self) -> None:
        selection = self.view.selectionModel()
        if self.filter.rowCount() and not selection.hasSelection():
            selection.setCurrentIndex(
                self.filter.index(0, 0),
                QItemSelectionModel.SelectionFlag.ClearAndSelect
                | QItemSelectionModel.SelectionFlag.Rows,
            )
        elif not self.filter.rowCount():
            selection.clearSelection()
        self._update_buttons()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if (
            watched is self.search
            and event.type() == QEvent.Type.KeyPress
            and isinstance(event, QKeyEvent)
        ):
            if event.key() in (Qt.Key.Key_Down, Qt.Key.Key_PageDown):
                self.view.setFocus()
                return True
            if event.key() in ENTER_KEYS:
                self._choose()
                return True
        return super().eventFilter(watched, event)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() in ENTER_KEYS and self.view.hasFocus():
            self._choose()
            return
        super().keyPressEvent(event)

    @Slot(QModelIndex)
    def _double_clicked(self, index: QModelIndex) -> None:
        if index.isValid():
            self._choose()
