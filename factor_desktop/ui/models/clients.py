"""The Clients & Projects tree: clients, their projects beneath, and their QuickBooks links."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import QAbstractItemModel, QMimeData, QModelIndex, QObject, Qt, Signal
from PySide6.QtGui import QBrush, QFont

from factor_desktop.ui.colors import MUTED_COLOR
from factor_desktop.ui.formatting import PROJECT_STATUS, link_text
from factor_desktop.ui.models.base import AnyIndex, IdRole, RowRole, SortRole
from factor_desktop.ui.models.qbo_records import QBO_RECORD_MIME, dropped_qbo_records
from factor_desktop.views import ClientRow, ProjectRow


class ClientProjectTreeModel(QAbstractItemModel):
    """Clients at the top, their projects beneath.

    An index's internal id is 0 for a client and (client row + 1) for a project, so a project
    finds its parent without holding a pointer. A QuickBooks customer dropped on a row asks for
    the link (`linkRequested`); the worker saves or refuses it and the next snapshot shows it.
    """

    # "client" or "project", its id, the QuickBooks customer's Id
    linkRequested = Signal(str, int, str)
    # why a drop could not even be asked for
    dropRefused = Signal(str)

    COL_NAME = 0
    COL_NUMBER = 1
    COL_STATUS = 2
    COL_MANAGER = 3
    COL_QBO = 4
    HEADERS = ("Client / project", "Number", "Status", "Manager", "QuickBooks")

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._clients: tuple[ClientRow, ...] = ()
        # QuickBooks customers' full names by Id, and the records marked "create in QuickBooks".
        self._customer_names: dict[str, str] = {}
        self._create_requests: frozenset[tuple[str, int]] = frozenset()

    def set_links(
        self, customer_names: dict[str, str], create_requests: frozenset[tuple[str, int]]
    ) -> None:
        """Name the linked customers and show the records marked for creation."""
        if (customer_names, create_requests) == (self._customer_names, self._create_requests):
            return
        self._customer_names = dict(customer_names)
        self._create_requests = create_requests
        if self._clients:
            self.dataChanged.emit(
                self.index(0, self.COL_QBO), self.index(len(self._clients) - 1, self.COL_QBO)
            )
            for row, client in enumerate(self._clients):
                if client.projects:
                    parent = self.index(row, 0)
                    last = len(client.projects) - 1
                    self.dataChanged.emit(
                        self.index(0, self.COL_QBO, parent), self.index(last, self.COL_QBO, parent)
                    )

    def set_rows(self, clients: Sequence[ClientRow]) -> bool:
        """Show these clients. Equal rows change nothing (expansion and selection stay)."""
        clients = tuple(clients)
        if clients == self._clients:
            return False
        self.beginResetModel()
        self._clients = clients
        self.endResetModel()
        return True

    def rows(self) -> tuple[ClientRow, ...]:
        return self._clients

    def item(self, index: AnyIndex) -> ClientRow | ProjectRow | None:
        if not index.isValid():
            return None
        parent_id = index.internalId()
        if parent_id == 0:
            return self._clients[index.row()]
        return self._clients[parent_id - 1].projects[index.row()]

    # -- structure --------------------------------------------------------------------------

    def index(self, row: int, column: int, parent: AnyIndex = QModelIndex()) -> QModelIndex:  # noqa: B008
        if not self.hasIndex(row, column, parent):
            return QModelIndex()
        if not parent.isValid():
            return self.createIndex(row, column, 0)
        if parent.internalId() == 0:
            return self.createIndex(row, column, parent.row() + 1)
        return QModelIndex()

    def parent(self, index: AnyIndex | None = None) -> Any:  # also QObject.parent()
        if index is None:
            return super().parent()
        if not index.isValid() or index.internalId() == 0:
            return QModelIndex()
        return self.createIndex(index.internalId() - 1, 0, 0)

    def rowCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008
        if not parent.isValid():
            return len(self._clients)
        if parent.internalId() == 0 and parent.column() == 0:
            return len(self._clients[parent.row()].projects)
        return 0

    def columnCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008
        return len(self.HEADERS)

    def flags(self, index: AnyIndex) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return (
            Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemIsDropEnabled
        )

    # -- dropping a QuickBooks customer -----------------------------------------------------

    def mimeTypes(self) -> list[str]:
        return [QBO_RECORD_MIME]

    def supportedDropActions(self) -> Qt.DropAction:
        return Qt.DropAction.CopyAction

    def canDropMimeData(
        self, data: QMimeData, action: Qt.DropAction, row: int, column: int, parent: AnyIndex
    ) -> bool:
        return data is not None and data.hasFormat(QBO_RECORD_MIME) and parent.isValid()

    def dropMimeData(
        self, data: QMimeData, action: Qt.DropAction, row: int, column: int, parent: AnyIndex
    ) -> bool:
        if action == Qt.DropAction.IgnoreAction:
            return True
        item = self.item(parent) if parent.isValid() else None
        records = dropped_qbo_records(data)
        if item is None or not records:
            return False
        if len(records) > 1 or records[0][0] != "Customer":
            self.dropRefused.emit(
                "Drop one QuickBooks customer or sub-customer: a client or project stands for "
                "one customer."
            )
            return False
        kind = "client" if isinstance(item, ClientRow) else "project"
        self.linkRequested.emit(kind, item.id, records[0][1])
        return True

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if (
            orientation == Qt.Orientation.Horizontal
            and role == Qt.ItemDataRole.DisplayRole
            and 0 <= section < len(self.HEADERS)
        ):
            return self.HEADERS[section]
        return None

    # -- content ----------------------------------------------------------------------------

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        item = self.item(index)
        if item is None:
            return None
        column = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return self._display(item, column)
        if role == Qt.ItemDataRole.ToolTipRole and column == self.COL_QBO:
            return self._link_tooltip(item)
        if role == Qt.ItemDataRole.ForegroundRole:
            if column == self.COL_QBO and item.qbo_id is None:
                return QBrush(MUTED_COLOR)
            archived = isinstance(item, ClientRow) and item.archived
            closed = isinstance(item, ProjectRow) and item.status == "closed"
            return QBrush(MUTED_COLOR) if archived or closed else None
        if role == Qt.ItemDataRole.FontRole and isinstance(item, ClientRow):
            if column == self.COL_NAME:
                font = QFont()
                font.setBold(True)
                return font
            return None
        if role == RowRole:
            return item
        if role == IdRole:
            return item.id
        if role == SortRole:
            return self._display(item, column).casefold()
        return None

    def _requested(self, item: ClientRow | ProjectRow) -> bool:
        kind = "client" if isinstance(item, ClientRow) else "project"
        return (kind, item.id) in self._create_requests

    def _link_tooltip(self, item: ClientRow | ProjectRow) -> str:
        if item.qbo_id is not None:
            return (
                f"QuickBooks customer Id {item.qbo_id}. Enter changes the link, Delete unlinks "
                "(nothing changes in QuickBooks)."
            )
        if self._requested(item):
            return "The next sync creates it in QuickBooks. Delete withdraws that."
        return (
            "Not linked: press Enter (or double-click) to choose a QuickBooks customer, or drag "
            "one here from the list beside."
        )

    def _display(self, item: ClientRow | ProjectRow, column: int) -> str:
        if column == self.COL_QBO:
            name = self._customer_names.get(item.qbo_id) if item.qbo_id else None
            if name is not None:
                return f"{name} (Id {item.qbo_id})"
            if item.qbo_id is None and self._requested(item):
                return "Create on next sync"
            return link_text(item.qbo_id)
        if isinstance(item, ClientRow):
            if column == self.COL_NAME:
                return item.name
            if column == self.COL_STATUS:
                return "Archived" if item.archived else "Active"
            return ""
        if column == self.COL_NAME:
            return item.name
        if column == self.COL_NUMBER:
            return item.number
        if column == self.COL_STATUS:
            return PROJECT_STATUS.get(item.status, item.status)
        if column == self.COL_MANAGER:
            return item.manager or ""
        return ""
