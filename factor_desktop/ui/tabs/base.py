"""What the record tabs share: a summary line above one view, a table that fits its columns once,
and counted nouns for the summaries.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QSortFilterProxyModel, Qt
from PySide6.QtWidgets import QLabel, QSizePolicy, QVBoxLayout, QWidget

from factor_desktop.ui.models.base import RowTableModel
from factor_desktop.ui.widgets import fit_columns, make_table

if TYPE_CHECKING:
    from factor_desktop.views import Snapshot


def plural(count: int, word: str, plural: str | None = None) -> str:
    return f"{count} {word if count == 1 else (plural or word + 's')}"


class Tab(QWidget):
    """A summary line above one view."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.summary = QLabel()
        self.summary.setTextFormat(Qt.TextFormat.PlainText)
        self.summary.setWordWrap(True)
        # A word longer than the window (a failed request's address) must not widen the window
        # past the screen: the summary takes the width the tab has and wraps in it.
        self.summary.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.summary.setMinimumWidth(1)
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(12, 12, 12, 12)
        self._layout.setSpacing(8)
        self._layout.addWidget(self.summary)
        self._fitted = False

    def show_snapshot(self, snapshot: Snapshot) -> None:
        raise NotImplementedError


class TableTab(Tab):
    """A summary line above one table of rows."""

    def __init__(
        self,
        model: RowTableModel[Any],
        stretch_columns: tuple[int, ...],
        placeholder: str,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.model = model
        model.setParent(self)
        self.view = make_table(model, stretch_columns, placeholder)
        self._layout.addWidget(self.view, 1)
        fit_columns(self.view)

    def select_id(self, row_id: int) -> bool:
        """Make the row with this id the current one, scrolled into view."""
        model = self.model
        for position, row in enumerate(model.rows()):
            if model.row_id(row) == row_id:
                proxy = self.view.model()
                index = model.index(position, 0)
                if isinstance(proxy, QSortFilterProxyModel):
                    index = proxy.mapFromSource(index)
                if not index.isValid():
                    return False
                self.view.setCurrentIndex(index)
                self.view.scrollTo(index)
                return True
        return False

    def _fit_once(self) -> None:
        """Fit the columns to the first rows; later the administrator's widths are kept."""
        if self.model.rowCount() and not self._fitted:
            fit_columns(self.view)
            self._fitted = True
