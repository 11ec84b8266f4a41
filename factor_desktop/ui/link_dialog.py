"""Linking clients and projects to QuickBooks customers from the Clients & Projects tab.

* `CustomerModel` and `CustomerFilter`: the cached QuickBooks customers and sub-customers (full
  name, balance, what is linked to each), filtered by what the administrator types; each row
  drags onto a client or project as records do on the Mappings tab.
* `LinkDialog`: the searchable chooser that Enter or a double-click on a client or project opens:
  link it to the chosen customer, have the next sync create it, or unlink it.
* `SuggestedLinksDialog`: `map suggest`'s link and create proposals, to accept all or some.
* The tab's body, which sends every change to the worker and undoes it, is `client_links`.

Nothing here reads the store or QuickBooks: rows come from the snapshot, changes go to the worker.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import (
    QMimeData,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    Signal,
    Slot,
)
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from factor_desktop.ui.chooser import SearchChooser
from factor_desktop.ui.colors import MUTED_COLOR
from factor_desktop.ui.formatting import money_text
from factor_desktop.ui.link_jobs import (
    CREATE,
    UNLINKED,
    LinkRequest,
    LinkState,
    request_for,
)
from factor_desktop.ui.models.base import RowRole, RowSortProxy, change_filter
from factor_desktop.ui.models.qbo_records import QBO_RECORD_MIME, QboRecordDragModel
from factor_desktop.ui.widgets import make_table, muted_label
from factor_desktop.views import ClientRow, ProjectRow, QboCustomerRow

if TYPE_CHECKING:
    from factor_desktop.services.suggest import LinkSuggestion

AnyIndex = QModelIndex | QPersistentModelIndex
Item = ClientRow | ProjectRow


def kind_of(item: Item) -> str:
    return "client" if isinstance(item, ClientRow) else "project"


def item_label(item: Item) -> str:
    if isinstance(item, ClientRow):
        return f"the client {item.name!r}"
    return f"the project {item.number} {item.name!r}"


# --- the customers ----------------------------------------------------------------------------


class CustomerModel(QboRecordDragModel[QboCustomerRow]):
    """QuickBooks customers and sub-customers; each drags as a Customer record."""

    COL_NAME = 0
    COL_BALANCE = 1
    COL_LINKED = 2
    HEADERS = ("QuickBooks customer", "Balance", "Linked to")
    MONEY_COLUMNS = frozenset({COL_BALANCE})

    def display(self, row: QboCustomerRow, column: int) -> str:
        if column == self.COL_NAME:
            return row.full_name + ("" if row.active else " (inactive)")
        if column == self.COL_BALANCE:
            return money_text(row.balance) if row.balance is not None else ""
        if column == self.COL_LINKED:
            return row.linked_to or ""
        return ""

    def sort_key(self, row: QboCustomerRow, column: int) -> Any:
        if column == self.COL_BALANCE:
            return int((row.balance or 0) * 100)
        return self.display(row, column).casefold()

    def foreground(self, row: QboCustomerRow, column: int) -> QColor | None:
        return MUTED_COLOR if not row.active or column == self.COL_LINKED else None

    def tooltip(self, row: QboCustomerRow, column: int) -> str | None:
        text = f"QuickBooks customer Id {row.qbo_id}."
        if row.linked_to:
            text += f" Linked to {row.linked_to}."
        return text + " Drag it onto a client or project to link them."

    def row_id(self, row: QboCustomerRow) -> int:
        return int(row.qbo_id) if row.qbo_id.isdigit() else 0

    def records_mime(self, rows: Sequence[QboCustomerRow]) -> QMimeData:
        return customers_mime(rows)


def customers_mime(rows: Sequence[QboCustomerRow]) -> QMimeData:
    data = QMimeData()
    payload = [{"entity": "Customer", "id": r.qbo_id} for r in rows]
    data.setData(QBO_RECORD_MIME, json.dumps(payload).encode())
    data.setText("\n".join(r.full_name for r in rows))
    return data


class CustomerFilter(RowSortProxy):
    """Customers whose name, full name or Id holds every word typed; optionally only the active
    ones, or only the sub-customers of one customer. Sorted by the model, each row's key
    computed once (see `RowSortProxy`)."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._words: tuple[str, ...] = ()
        self._active_only = False
        self._parent_id: str | None = None

    def set_text(self, text: str) -> None:
        words = tuple(text.casefold().split())
        change_filter(self, lambda: setattr(self, "_words", words))

    def set_active_only(self, active_only: bool) -> None:
        change_filter(self, lambda: setattr(self, "_active_only", active_only))

    def set_parent_id(self, parent_id: str | None) -> None:
        change_filter(self, lambda: setattr(self, "_parent_id", parent_id))

    def filterAcceptsRow(self, source_row: int, source_parent: AnyIndex) -> bool:
        model = self.sourceModel()
        if not isinstance(model, CustomerModel) or source_row >= model.rowCount():
            return False
        row = model.row_at(source_row)
        if self._active_only and not row.active:
            return False
        if self._parent_id is not None and row.parent_qbo_id != self._parent_id:
            return False
        haystack = f"{row.full_name} {row.name} {row.qbo_id}".casefold()
        return all(word in haystack for word in self._words)


def customer_table(model: CustomerModel, proxy: CustomerFilter, placeholder: str) -> Any:
    view = make_table(
        model, (CustomerModel.COL_NAME, CustomerModel.COL_LINKED), placeholder, proxy=proxy
    )
    view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    # By full name, so each customer's sub-customers follow it.
    view.sortByColumn(CustomerModel.COL_NAME, Qt.SortOrder.AscendingOrder)
    return view


# --- the chooser ------------------------------------------------------------------------------


class LinkDialog(SearchChooser):
    """Choose the QuickBooks customer for one client or project, searchable by keyboard.

    Typing filters the list; Down moves into it; Enter (or a double-click) links to the
    selected customer. "Create in QuickBooks" marks the record for the next sync instead, and
    "Unlink" forgets its link. The choice is `chosen` (a `LinkState`); nothing is saved here.
    """

    chosen = Signal(object)  # LinkState

    def __init__(
        self,
        item: Item,
        customers: Sequence[QboCustomerRow],
        *,
        requested: bool = False,
        client_qbo_id: str | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.item = item
        self.setWindowTitle("Link to QuickBooks")
        self.setObjectName("link-dialog")
        what = item_label(item)
        heading = QLabel(f"Choose the QuickBooks customer for {what}.")
        heading.setTextFormat(Qt.TextFormat.PlainText)
        heading.setWordWrap(True)
        font = heading.font()
        font.setBold(True)
        heading.setFont(font)
        if item.qbo_id is not None:
            name = next((c.full_name for c in customers if c.qbo_id == item.qbo_id), None)
            now = f"Linked now to {name!r} (Id {item.qbo_id})." if name else "Linked now."
        elif requested:
            now = "Marked now: the next sync creates it in QuickBooks."
        else:
            now = "Not linked yet."
        self.state_label = muted_label(now)
        self.model = CustomerModel(self)
        self.model.set_rows(customers)
        self.filter: CustomerFilter = CustomerFilter(self)
        self.filter.set_active_only(True)
        self.search = QLineEdit()
        self.search.setPlaceholderText("Search by name or Id")
        self.search.setClearButtonEnabled(True)
        self.view = customer_table(
            self.model,
            self.filter,
            "No QuickBooks customers read yet: Sync > Refresh QuickBooks Lists reads them.",
        )
        # The name takes the room; what a customer is linked to, a column of its own width.
        header = self.view.horizontalHeader()
        header.setSectionResizeMode(CustomerModel.COL_LINKED, QHeaderView.ResizeMode.Interactive)
        header.resizeSection(CustomerModel.COL_LINKED, 200)
        self.inactive_box = QCheckBox("Show inactive customers")
        self.under_box = QCheckBox("Only sub-customers of the client's customer")
        under_client = isinstance(item, ProjectRow) and client_qbo_id is not None
        self.under_box.setVisible(under_client)
        self._client_qbo_id = client_qbo_id
        self.buttons = QDialogButtonBox()
        self.link_button = self.buttons.addButton("Link", QDialogButtonBox.ButtonRole.AcceptRole)
        self.create_button = self.buttons.addButton(
            "Create in QuickBooks", QDialogButtonBox.ButtonRole.ActionRole
        )
        self.create_button.setToolTip(
            "The next sync creates a customer for it (a sub-customer for a project), or links "
            "the one QuickBooks has under its exact name. Nothing is written now."
        )
        self.create_button.setEnabled(item.qbo_id is None and not requested)
        self.unlink_button = self.buttons.addButton(
            "Unlink" if item.qbo_id is not None else "Don't create",
            QDialogButtonBox.ButtonRole.DestructiveRole,
        )
        self.unlink_button.setVisible(item.qbo_id is not None or requested)
        self.buttons.addButton(QDialogButtonBox.StandardButton.Cancel)

        layout = QVBoxLayout(self)
        layout.addWidget(heading)
        layout.addWidget(self.state_label)
        layout.addWidget(self.search)
        boxes = QHBoxLayout()
        boxes.addWidget(self.inactive_box)
        boxes.addWidget(self.under_box)
        boxes.addStretch(1)
        layout.addLayout(boxes)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.buttons)
        self.resize(640, 460)

        self.search.textChanged.connect(self._search_changed)
        self.search.installEventFilter(self)
        self.inactive_box.toggled.connect(self._inactive_toggled)
        self.under_box.toggled.connect(self._under_toggled)
        self.view.doubleClicked.connect(self._double_clicked)
        self.view.selectionModel().selectionChanged.connect(self._update_buttons)
        self.link_button.clicked.connect(self.link_selected)
        self.create_button.clicked.connect(self._create)
        self.unlink_button.clicked.connect(self._unlink)
        self.buttons.rejected.connect(self.reject)
        if under_client:
            self.under_box.setChecked(True)
        self._select_first()
        self.search.setFocus()

    # -- filtering ---------------------------------------------------------------------------

    @Slot(str)
    def _search_changed(self, text: str) -> None:
        self.filter.set_text(text)
        self._select_first()

    @Slot(bool)
    def _inactive_toggled(self, shown: bool) -> None:
        self.filter.set_active_only(not shown)
        self._select_first()

    @Slot(bool)
    def _under_toggled(self, only: bool) -> None:
        self.filter.set_parent_id(self._client_qbo_id if only else None)
        self._select_first()

    def visible_customers(self) -> list[QboCustomerRow]:
        return [self.filter.index(r, 0).data(RowRole) for r in range(self.filter.rowCount())]

    def selected_customer(self) -> QboCustomerRow | None:
        rows = self.view.selectionModel().selectedRows()
        row = rows[0].data(RowRole) if rows else None
        return row if isinstance(row, QboCustomerRow) else None

    @Slot()
    def _update_buttons(self, *_args: Any) -> None:
        chosen = self.selected_customer()
        self.link_button.setEnabled(chosen is not None and chosen.qbo_id != self.item.qbo_id)

    # -- the choice ------------------------------------------------------------------------

    def _choose(self) -> bool:
        return self.link_selected()

    @Slot()
    def link_selected(self) -> bool:
        chosen = self.selected_customer()
        if chosen is None or chosen.qbo_id == self.item.qbo_id:
            return False
        self.chosen.emit(LinkState(chosen.qbo_id))
        self.accept()
        return True

    @Slot()
    def _create(self) -> None:
        self.chosen.emit(CREATE)
        self.accept()

    @Slot()
    def _unlink(self) -> None:
        self.chosen.emit(UNLINKED)
        self.accept()


# --- suggested links --------------------------------------------------------------------------


class SuggestedLinksDialog(QDialog):
    """`map suggest`'s proposals for clients and projects: tick the ones to accept.

    "Link" proposals link to the named customer; "create" ones mark the record for the next
    sync; "review" ones can't be accepted (no clear match) and say why. `accepted_requests`
    carries the ticked ones' requests.
    """

    acceptedRequests = Signal(object)  # tuple[LinkRequest, ...]

    COL_NAME = 0
    COL_PROPOSAL = 1
    COL_WHY = 2
    HEADERS = ("Client / project", "Proposal", "Why")
    # The widest the name and the proposal start (logical pixels): both stay readable in a
    # 1024-pixel window, the reason takes the rest, and every cell's tooltip has its full text.
    NAME_CAP = 260
    PROPOSAL_CAP = 340

    def __init__(self, suggestions: Sequence[LinkSuggestion], parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Suggested links")
        self.setObjectName("suggested-links")
        self.suggestions = tuple(suggestions)
        intro = muted_label(
            "Clients and projects not linked yet, with the QuickBooks customer of the same name "
            "(case, '&'/'and' and punctuation aside) or \"create\" when QuickBooks has none. "
            "Nothing is written to QuickBooks until a sync; Ctrl+Z on the tab undoes."
        )
        self.table = QTableWidget(len(self.suggestions), len(self.HEADERS))
        self.table.setHorizontalHeaderLabels(list(self.HEADERS))
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setWordWrap(False)
        self.table.horizontalHeader().setStretchLastSection(True)
        for row, suggestion in enumerate(self.suggestions):
            acceptable = request_for(suggestion) is not None
            name = suggestion.name
            if suggestion.entity == "project" and suggestion.client_name:
                name = f"{suggestion.client_name} › {suggestion.name}"
            # The tick is on the name itself; a "review" can't be accepted and has none.
            box = QTableWidgetItem(name)
            box.setToolTip(name)
            box.setFlags(
                Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsUserCheckable
                if acceptable
                else Qt.ItemFlag.ItemIsEnabled
            )
            if acceptable:
                box.setCheckState(Qt.CheckState.Checked)
            self.table.setItem(row, self.COL_NAME, box)
            if suggestion.action == "link":
                proposal = f"Link to {suggestion.qbo_name!r} (Id {suggestion.qbo_id})"
            elif suggestion.action == "create":
                proposal = "Create in QuickBooks"
            else:
                proposal = "Review by hand"
            shown = QTableWidgetItem(proposal)
            shown.setToolTip(proposal)
            self.table.setItem(row, self.COL_PROPOSAL, shown)
            why = QTableWidgetItem(suggestion.reason)
            why.setToolTip(suggestion.reason)
            self.table.setItem(row, self.COL_WHY, why)
        # No cell starts current: its focus frame would look like a box to fill in.
        self.table.setCurrentCell(-1, -1)
        header = self.table.horizontalHeader()
        for column, cap in ((self.COL_NAME, self.NAME_CAP), (self.COL_PROPOSAL, self.PROPOSAL_CAP)):
            self.table.resizeColumnToContents(column)
            header.resizeSection(column, min(header.sectionSize(column), cap))
        self.buttons = QDialogButtonBox()
        self.accept_selected = self.buttons.addButton(
            "Accept ticked", QDialogButtonBox.ButtonRole.AcceptRole
        )
        self.accept_all = self.buttons.addButton(
            "Accept all", QDialogButtonBox.ButtonRole.ActionRole
        )
        self.buttons.addButton(QDialogButtonBox.StandardButton.Close)
        empty = not any(request_for(s) for s in self.suggestions)
        self.accept_selected.setEnabled(not empty)
        self.accept_all.setEnabled(not empty)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        if not self.suggestions:
            layout.addWidget(QLabel("Every active client and project is linked already."))
        layout.addWidget(self.table, 1)
        layout.addWidget(self.buttons)
        self.resize(860, 480)
        self.accept_selected.clicked.connect(self._accept_ticked)
        self.accept_all.clicked.connect(self._accept_all)
        self.buttons.rejected.connect(self.reject)

    def set_ticked(self, row: int, ticked: bool) -> None:
        item = self.table.item(row, self.COL_NAME)
        if item is not None and item.flags() & Qt.ItemFlag.ItemIsUserCheckable:
            item.setCheckState(Qt.CheckState.Checked if ticked else Qt.CheckState.Unchecked)

    def ticked_requests(self) -> tuple[LinkRequest, ...]:
        found: list[LinkRequest] = []
        for row, suggestion in enumerate(self.suggestions):
            item = self.table.item(row, self.COL_NAME)
            request = request_for(suggestion)
            if item is not None and item.checkState() == Qt.CheckState.Checked and request:
                found.append(request)
        return tuple(found)

    @Slot()
    def _accept_ticked(self) -> None:
        requests = self.ticked_requests()
        if requests:
            self.acceptedRequests.emit(requests)
        self.accept()

    @Slot()
    def _accept_all(self) -> None:
        requests = tuple(r for s in self.suggestions if (r := request_for(s)) is not None)
        if requests:
            self.acceptedRequests.emit(requests)
        self.accept()
