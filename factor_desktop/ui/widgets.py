"""Small widgets shared by the tabs: a message banner and table/tree views set up alike."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QAbstractItemModel, QEvent, QModelIndex, QSortFilterProxyModel, Qt
from PySide6.QtGui import QFont, QFontMetrics, QGuiApplication, QPainter, QPaintEvent, QPalette
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QStyle,
    QTableView,
    QTreeView,
    QVBoxLayout,
    QWidget,
)

from factor_desktop.ui.colors import banner_colors, shade
from factor_desktop.ui.models.base import RowSortProxy, RowTableModel, SortRole


class Banner(QFrame):
    """A coloured strip with a message and optional buttons; hidden until it has something."""

    def __init__(self, kind: str = "info", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName(f"banner_{kind}")
        self._kind = ""
        self.title = QLabel()
        self.title.setTextFormat(Qt.TextFormat.PlainText)
        font = self.title.font()
        font.setBold(True)
        self.title.setFont(font)
        self.message = QLabel()
        self.message.setTextFormat(Qt.TextFormat.PlainText)
        self.message.setWordWrap(True)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        text = QVBoxLayout()
        text.setSpacing(2)
        text.addWidget(self.title)
        text.addWidget(self.message)
        self._buttons = QHBoxLayout()
        self._buttons.setSpacing(6)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(12, 8, 12, 8)
        layout.addLayout(text, 1)
        layout.addLayout(self._buttons)
        self.set_kind(kind)
        self.hide()

    def set_kind(self, kind: str) -> None:
        if kind == self._kind:
            return
        self._kind = kind
        self._paint_kind()

    def _paint_kind(self) -> None:
        """Shades for the application's palette: light tints, or dark ones on a dark theme."""
        background, border, color = banner_colors(self._kind)
        name = self.objectName()
        sheet = (
            f"QFrame#{name} {{ background: {background}; border: 1px solid {border}; "
            f"border-radius: 4px; }} QFrame#{name} QLabel {{ color: {color}; }}"
        )
        if sheet != self.styleSheet():  # a style sheet change sends a palette change too
            self.setStyleSheet(sheet)

    @property
    def kind(self) -> str:
        return self._kind

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange:
            self._paint_kind()

    def add_button(self, text: str) -> QPushButton:
        button = QPushButton(text)
        self._buttons.addWidget(button, 0, Qt.AlignmentFlag.AlignVCenter)
        return button

    def show_message(self, title: str, message: str = "", kind: str | None = None) -> None:
        if kind is not None:
            self.set_kind(kind)
        self.title.setText(title)
        self.message.setText(message)
        self.message.setVisible(bool(message))
        self.show()

    def clear(self) -> None:
        self.title.clear()
        self.message.clear()
        self.hide()


class RecordTableView(QTableView):
    """A table that says what belongs in it while it is empty."""

    def __init__(self, placeholder: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.placeholder = placeholder

    def paintEvent(self, event: QPaintEvent) -> None:
        super().paintEvent(event)
        model = self.model()
        if not self.placeholder or model is None or model.rowCount() > 0:
            return
        painter = QPainter(self.viewport())
        try:
            painter.setPen(self.palette().color(QPalette.ColorRole.PlaceholderText))
            area = self.viewport().rect().adjusted(40, 40, -40, -40)
            painter.drawText(
                area,
                int(Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop)
                | int(Qt.TextFlag.TextWordWrap),
                self.placeholder,
            )
        finally:
            painter.end()


def make_tree(model: QAbstractItemModel, *, stretch_last: bool = True) -> QTreeView:
    """A read-only tree of rows (clients and their projects, projects and their budget lines)."""
    view = QTreeView()
    view.setModel(model)
    view.setAlternatingRowColors(True)
    view.setUniformRowHeights(True)
    view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    view.header().setStretchLastSection(stretch_last)
    return view


def make_table(
    model: RowTableModel[Any],
    stretch_columns: tuple[int, ...] = (),
    placeholder: str = "",
    proxy: QSortFilterProxyModel | None = None,
) -> RecordTableView:
    """A sortable, read-only table with alternating rows over `model`.

    `stretch_columns` share the width left over; the others fit their contents. `proxy` (a
    filter, say) sits between the model and the view; by default a `RowSortProxy`, which
    leaves sorting to the model (each row's key computed once).
    """
    if proxy is None:
        proxy = RowSortProxy(model)
    proxy.setSourceModel(model)
    proxy.setSortRole(SortRole)
    proxy.setSortCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
    view = RecordTableView(placeholder)
    view.setModel(proxy)
    view.setAlternatingRowColors(True)
    view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    view.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
    view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    view.setSortingEnabled(True)
    view.setWordWrap(False)
    view.setTextElideMode(Qt.TextElideMode.ElideRight)
    view.verticalHeader().hide()
    view.verticalHeader().setDefaultSectionSize(view.fontMetrics().height() + 10)
    header = view.horizontalHeader()
    header.setHighlightSections(False)
    header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
    header.setStretchLastSection(not stretch_columns)
    for column in stretch_columns:
        header.setSectionResizeMode(column, QHeaderView.ResizeMode.Stretch)
    # Unsorted until the administrator clicks a header: the store's order is meaningful.
    view.sortByColumn(-1, Qt.SortOrder.AscendingOrder)
    return view


# Columns are fitted to the text of this many rows at most (the first ones, as listed). Qt's
# own fitting lays out up to 1,000 rows of each column through the delegate, several model
# calls a cell: for a table of thousands of invoices that held the GUI thread for over half a
# second at every fit.
FIT_ROWS = 60


def _sample(view: QTableView | QTreeView, column: int, rows: int) -> list[tuple[QModelIndex, int]]:
    """Up to `rows` cells of `column` from the top, with their depth (a tree's expanded rows)."""
    model = view.model()
    found: list[tuple[QModelIndex, int]] = []
    stack: list[tuple[QModelIndex, int]] = [(QModelIndex(), 0)]
    while stack and len(found) < rows:
        parent, depth = stack.pop()
        count = model.rowCount(parent)
        children: list[tuple[QModelIndex, int]] = []
        for row in range(min(count, rows - len(found))):
            index = model.index(row, column, parent)
            found.append((index, depth))
            first = model.index(row, 0, parent)
            if isinstance(view, QTreeView) and view.isExpanded(first) and model.hasChildren(first):
                children.append((first, depth + 1))
        stack.extend(reversed(children))
    return found


def content_width(view: QTableView | QTreeView, column: int, rows: int = FIT_ROWS) -> int:
    """The width the text of `column` needs in its first `rows` rows, as the view draws it."""
    model = view.model()
    if model is None:
        return 0
    metrics: dict[str, QFontMetrics] = {}
    plain = view.fontMetrics()
    margin = 2 * (view.style().pixelMetric(QStyle.PixelMetric.PM_FocusFrameHMargin, None, view) + 1)
    indent = view.indentation() if isinstance(view, QTreeView) else 0
    decorated = isinstance(view, QTreeView) and view.rootIsDecorated() and column == 0
    widest = 0
    for index, depth in _sample(view, column, rows):
        text = model.data(index, Qt.ItemDataRole.DisplayRole)
        if text is None or text == "":
            continue
        font = model.data(index, Qt.ItemDataRole.FontRole)
        if isinstance(font, QFont):
            key = font.key()
            if key not in metrics:
                metrics[key] = QFontMetrics(font)
            fm = metrics[key]
        else:
            fm = plain
        width = max(fm.horizontalAdvance(line) for line in str(text).split("\n")) + margin
        if column == 0 and indent:
            width += indent * (depth + (1 if decorated else 0))
        widest = max(widest, width)
    return widest


def fit_columns(view: QTableView | QTreeView, maximum: int = 360) -> None:
    """Size columns to their contents (the first rows and the header), capped so one long cell
    cannot win."""
    header = view.header() if isinstance(view, QTreeView) else view.horizontalHeader()
    model = view.model()
    if model is None:
        return
    for column in range(model.columnCount()):
        if header.sectionResizeMode(column) == QHeaderView.ResizeMode.Stretch:
            continue
        width = max(content_width(view, column), header.sectionSizeHint(column))
        header.resizeSection(column, min(width + 12, maximum))


class MutedLabel(QLabel):
    """Secondary text: the muted shade of the application's palette (4.5:1 or better)."""

    def __init__(self, text: str = "", parent: QWidget | None = None) -> None:
        super().__init__(text, parent)
        self.setWordWrap(True)
        self._apply_shade()

    def _apply_shade(self) -> None:
        wanted = shade("muted", QGuiApplication.palette())
        palette = self.palette()
        if palette.color(self.foregroundRole()) == wanted:
            return  # also ends the change event that setting it sends
        palette.setColor(self.foregroundRole(), wanted)
        self.setPalette(palette)

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange:
            self._apply_shade()


def muted_label(text: str = "") -> QLabel:
    return MutedLabel(text)


def grow_columns(view: QTableView, maximum: int = 360) -> None:
    """Widen columns whose contents have grown (new rows, of which the first are measured),
    never narrowing one: widths the administrator chose stay unless the contents need more."""
    header = view.horizontalHeader()
    model = view.model()
    if model is None or not model.rowCount():
        return
    for column in range(model.columnCount()):
        if header.sectionResizeMode(column) == QHeaderView.ResizeMode.Stretch:
            continue
        wanted = min(max(content_width(view, column), header.sectionSizeHint(column)) + 12, maximum)
        if wanted > header.sectionSize(column):
            header.resizeSection(column, wanted)


def fit_height(window: QWidget, margin: int = 40) -> None:
    """Grow a dialog to show every line of its wrapped text at its current width (a window
    sized before its labels were filled keeps its first height otherwise); never past the
    screen."""
    layout = window.layout()
    if layout is None:
        return
    layout.activate()
    if layout.hasHeightForWidth():
        needed = layout.totalHeightForWidth(window.width())
    else:
        needed = layout.totalSizeHint().height()
    screen = window.screen()
    if screen is not None:
        needed = min(needed, screen.availableGeometry().height() - margin)
    if needed > window.height():
        window.resize(window.width(), needed)
