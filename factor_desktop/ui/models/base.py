"""Thin item models over the snapshot's rows: column constants, custom roles, one `set_rows()`.

Each table model shows one tuple of frozen rows. `RowRole` hands the row itself to views and
tests, `SortRole` gives a sort key of one type per column (text, whole cents, ISO dates), and
money is right-aligned and written "$1,234.50" from a Decimal.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any, ClassVar, Generic, TypeVar

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QSortFilterProxyModel,
    Qt,
)
from PySide6.QtGui import QBrush, QColor, QFont

RowRole = Qt.ItemDataRole.UserRole + 1
SortRole = Qt.ItemDataRole.UserRole + 2
IdRole = Qt.ItemDataRole.UserRole + 3

RIGHT = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
LEFT = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter


AnyIndex = QModelIndex | QPersistentModelIndex

# The roles a `RowTableModel` answers. A view asks for others too at every cell it paints
# (decoration, background, check state...): those are turned away before any other work.
ANSWERED_ROLES = frozenset(
    int(role)
    for role in (
        Qt.ItemDataRole.DisplayRole,
        Qt.ItemDataRole.TextAlignmentRole,
        Qt.ItemDataRole.ForegroundRole,
        Qt.ItemDataRole.FontRole,
        Qt.ItemDataRole.ToolTipRole,
        RowRole,
        SortRole,
        IdRole,
    )
)

R = TypeVar("R")


def cents(amount: Decimal) -> int:
    """A sort key for money: whole cents, exact."""
    return int(amount.scaleb(2).to_integral_value())


def percent_key(value: Decimal | None) -> int:
    return -1 if value is None else int(value.scaleb(4).to_integral_value())


class RowTableModel(QAbstractTableModel, Generic[R]):
    """A read-only table of frozen rows. Subclasses say what each column shows."""

    HEADERS: ClassVar[tuple[str, ...]] = ()
    MONEY_COLUMNS: ClassVar[frozenset[int]] = frozenset()
    NUMBER_COLUMNS: ClassVar[frozenset[int]] = frozenset()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._rows: tuple[R, ...] = ()
        # The rows as given (the store's order), and the column and order they are shown in.
        self._given: tuple[R, ...] = ()
        self._order: tuple[int, Qt.SortOrder] = (-1, Qt.SortOrder.AscendingOrder)

    # -- the one way in ---------------------------------------------------------------------

    def set_rows(self, rows: Sequence[R]) -> bool:
        """Show these rows (in the chosen order). Equal rows change nothing (selection and
        scrolling stay)."""
        rows = tuple(rows)
        if rows == self._given:
            return False
        self.beginResetModel()
        self._given = rows
        self._rows = self._ordered(rows)
        self.endResetModel()
        return True

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        """Show the rows ordered by `column`'s sort key (-1: as given), each row's key computed
        once. (A sorting proxy asks for two keys at every comparison: 165,000 calls into Python
        to sort 10,000 rows, over a second of the GUI thread, and again at every change.)"""
        if (column, order) == self._order:
            return
        self.layoutAboutToBeChanged.emit()
        before = self._rows
        self._order = (column, order)
        self._rows = self._ordered(self._given)
        position = {id(row): n for n, row in enumerate(self._rows)}
        old = self.persistentIndexList()
        new = [
            self.index(position[id(before[index.row()])], index.column())
            if 0 <= index.row() < len(before)
            else QModelIndex()
            for index in old
        ]
        self.changePersistentIndexList(old, new)
        self.layoutChanged.emit()

    def _ordered(self, rows: tuple[R, ...]) -> tuple[R, ...]:
        column, order = self._order
        if not 0 <= column < len(self.HEADERS):
            return rows
        keys: list[Any] = [self.sort_key(row, column) for row in rows]
        descending = order == Qt.SortOrder.DescendingOrder
        try:
            positions = sorted(range(len(rows)), key=keys.__getitem__, reverse=descending)
        except TypeError:  # keys of mixed types (None among text): compare them as text
            keys = [(key is None, str(key)) for key in keys]
            positions = sorted(range(len(rows)), key=keys.__getitem__, reverse=descending)
        return tuple(rows[n] for n in positions)

    def rows(self) -> tuple[R, ...]:
        return self._rows

    def row_at(self, row: int) -> R:
        return self._rows[row]

    # -- what subclasses fill in ------------------------------------------------------------

    def display(self, row: R, column: int) -> str:
        raise NotImplementedError

    def sort_key(self, row: R, column: int) -> Any:
        return self.display(row, column).casefold()

    def foreground(self, row: R, column: int) -> QColor | None:
        return None

    def font(self, row: R, column: int) -> QFont | None:
        return None

    def tooltip(self, row: R, column: int) -> str | None:
        return None

    def row_id(self, row: R) -> int:
        return int(getattr(row, "id", 0))

    # -- Qt ---------------------------------------------------------------------------------

    def rowCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008  (Qt's signature)
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.HEADERS)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation != Qt.Orientation.Horizontal or not 0 <= section < len(self.HEADERS):
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return self.HEADERS[section]
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return RIGHT if section in self.MONEY_COLUMNS | self.NUMBER_COLUMNS else LEFT
        return None

    def flags(self, index: AnyIndex) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role not in ANSWERED_ROLES or not index.isValid() or index.parent().isValid():
            return None
        if not (0 <= index.row() < len(self._rows) and 0 <= index.column() < len(self.HEADERS)):
            return None
        row, column = self._rows[index.row()], index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return self.display(row, column)
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return RIGHT if column in self.MONEY_COLUMNS | self.NUMBER_COLUMNS else LEFT
        if role == Qt.ItemDataRole.ForegroundRole:
            color = self.foreground(row, column)
            return QBrush(color) if color is not None else None
        if role == Qt.ItemDataRole.FontRole:
            return self.font(row, column)
        if role == Qt.ItemDataRole.ToolTipRole:
            return self.tooltip(row, column)
        if role == RowRole:
            return row
        if role == SortRole:
            return self.sort_key(row, column)
        if role == IdRole:
            return self.row_id(row)
        return None


def change_filter(proxy: QSortFilterProxyModel, apply: Callable[[], None]) -> None:
    """Change what `proxy` filters by (`apply`) and filter its rows again."""
    # Qt 6.10 replaced invalidating the filter with a begin/end pair around the change.
    if hasattr(proxy, "beginFilterChange"):
        proxy.beginFilterChange()
        apply()
        proxy.endFilterChange(QSortFilterProxyModel.Direction.Rows)
    else:
        apply()
        proxy.invalidateFilter()


class RowSortProxy(QSortFilterProxyModel):
    """A proxy that leaves sorting to its `RowTableModel` (see `RowTableModel.sort`) and keeps
    the model's order; other models it sorts as Qt does."""

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        source = self.sourceModel()
        if isinstance(source, RowTableModel):
            source.sort(column, order)  # this proxy stays unsorted: it keeps the model's order
        else:
            super().sort(column, order)
