"""Thin item models over the snapshot's rows: column constants, custom roles, one `set_rows()`.

Each table model shows one tuple of frozen rows. `RowRole` hands the row itself to views and
tests, `SortRole` gives a sort key of one type per column (text, whole cents, ISO dates), and
money is right-aligned and written "$1,234.50" from a Decimal.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any, ClassVar, Generic, TypeVar

from PySide6.QtCore import (
    QAbstractItemModel,
    QAbstractTableModel,
    QMimeData,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QSortFilterProxyModel,
    Qt,
    Signal,
)
from PySide6.QtGui import QBrush, QColor, QFont

from factor_desktop.domain.kinds import ENTITY_LABEL
from factor_desktop.ui.colors import ERROR_COLOR, MUTED_COLOR, WARNING_COLOR
from factor_desktop.ui.formatting import (
    NOT_LINKED,
    NOT_MAPPED,
    OPTIONAL,
    PROJECT_STATUS,
    date_text,
    datetime_text,
    invoice_status_label,
    link_text,
    mapped_text,
    money_text,
    percent_text,
)
from factor_desktop.views import (
    ClientRow,
    ExpenseRow,
    ExpenseTypeRow,
    InvoiceRow,
    LogRow,
    MappedRecord,
    ProjectRow,
    QboCandidate,
    ServiceTypeRow,
    TaxTermRow,
)

RowRole = Qt.ItemDataRole.UserRole + 1
SortRole = Qt.ItemDataRole.UserRole + 2
IdRole = Qt.ItemDataRole.UserRole + 3

RIGHT = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
LEFT = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter


AnyIndex = QModelIndex | QPersistentModelIndex

R = TypeVar("R")


def cents(amount: Decimal) -> int:
    """A sort key for money: whole cents, exact."""
    return int(amount.scaleb(2).to_integral_value())


def _percent_key(value: Decimal | None) -> int:
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
        if not index.isValid() or index.parent().isValid():
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


def _italic() -> QFont:
    font = QFont()
    font.setItalic(True)
    return font


# --- invoices --------------------------------------------------------------------------------


INVOICE_QBO_STATES = {
    "pending": "Not sent yet",
    "blocked": "Blocked",
    "failed": "Failed",
}


def invoice_attention(row: InvoiceRow) -> str:
    """What stands between an invoice and QuickBooks, or what differs there, in a sentence."""
    parts: list[str] = []
    if row.blocked_reason and not row.qbo_id:
        parts.append(row.blocked_reason)
    elif row.outbox_status == "pending" and not row.qbo_id:
        parts.append("Goes to QuickBooks with the next sync.")
    if row.mismatched:
        if row.qbo_total is not None:
            parts.append(
                f"QuickBooks' total {money_text(row.qbo_total)} differs from Factor's "
                f"{money_text(row.total)}."
            )
        if row.mismatch_reason:
            parts.append(row.mismatch_reason)
    return " ".join(parts)


class InvoiceTableModel(RowTableModel[InvoiceRow]):
    # Where the invoice stands with QuickBooks comes right after its status, so a narrow
    # window still shows it; what needs attention, in words, comes last and takes the rest.
    COL_NUMBER = 0
    COL_PROJECT = 1
    COL_CLIENT = 2
    COL_STATUS = 3
    COL_QBO = 4
    COL_ISSUED = 5
    COL_DUE = 6
    COL_TOTAL = 7
    COL_BALANCE = 8
    COL_ATTENTION = 9
    HEADERS = (
        "Number",
        "Project",
        "Client",
        "Status",
        "QuickBooks",
        "Issued",
        "Due",
        "Total",
        "Balance",
        "Needs attention",
    )
    MONEY_COLUMNS = frozenset({COL_TOTAL, COL_BALANCE})

    def display(self, row: InvoiceRow, column: int) -> str:
        if column == self.COL_NUMBER:
            return row.number or "Draft"
        if column == self.COL_PROJECT:
            return f"{row.project_number} {row.project_name}"
        if column == self.COL_CLIENT:
            return row.client_name
        if column == self.COL_STATUS:
            return invoice_status_label(row.status)
        if column == self.COL_ISSUED:
            return date_text(row.issue_date)
        if column == self.COL_DUE:
            return date_text(row.due_date)
        if column == self.COL_TOTAL:
            return money_text(row.total)
        if column == self.COL_BALANCE:
            return money_text(row.balance)
        if column == self.COL_QBO:
            if row.qbo_id:
                balance = row.qbo_total is None and row.qbo_balance is not None
                differs = "balance" if balance else "total"
                return f"Id {row.qbo_id}" + (f" ⚠ {differs} differs" if row.mismatched else "")
            if row.status == "draft":
                return ""
            return INVOICE_QBO_STATES.get(row.outbox_status or "", "Not sent yet")
        if column == self.COL_ATTENTION:
            return invoice_attention(row)
        return ""

    def sort_key(self, row: InvoiceRow, column: int) -> Any:
        if column == self.COL_NUMBER:
            return row.number or ""
        if column == self.COL_ISSUED:
            return row.issue_date.isoformat()
        if column == self.COL_DUE:
            return row.due_date.isoformat() if row.due_date else ""
        if column == self.COL_TOTAL:
            return cents(row.total)
        if column == self.COL_BALANCE:
            return cents(row.balance)
        if column == self.COL_QBO:
            return int(row.qbo_id) if row.qbo_id and row.qbo_id.isdigit() else -1
        return super().sort_key(row, column)

    def foreground(self, row: InvoiceRow, column: int) -> QColor | None:
        if column in (self.COL_QBO, self.COL_ATTENTION):
            if row.fix is not None:
                return ERROR_COLOR
            if row.mismatched or (not row.qbo_id and row.status not in ("draft", "void")):
                return WARNING_COLOR
        if row.status in ("draft", "void"):
            return MUTED_COLOR
        return None

    def tooltip(self, row: InvoiceRow, column: int) -> str | None:
        if column in (self.COL_QBO, self.COL_ATTENTION):
            return invoice_attention(row) or None
        return None

    def font(self, row: InvoiceRow, column: int) -> QFont | None:
        if column == self.COL_NUMBER and row.number is None:
            return _italic()
        return None


# --- expenses --------------------------------------------------------------------------------

SOURCES = {"qbo": "QuickBooks", "factor": "Factor"}


class ExpenseTableModel(RowTableModel[ExpenseRow]):
    COL_DATE = 0
    COL_PROJECT = 1
    COL_TYPE = 2
    COL_VENDOR = 3
    COL_COST = 4
    COL_MARKUP = 5
    COL_BILLABLE = 6
    COL_SOURCE = 7
    COL_RECEIPTS = 8
    HEADERS = (
        "Date",
        "Project",
        "Type",
        "Vendor",
        "Cost",
        "Markup",
        "Billable",
        "Source",
        "Receipts",
    )
    MONEY_COLUMNS = frozenset({COL_COST, COL_BILLABLE})
    NUMBER_COLUMNS = frozenset({COL_MARKUP, COL_RECEIPTS})

    def display(self, row: ExpenseRow, column: int) -> str:
        if column == self.COL_DATE:
            return date_text(row.incurred_on)
        if column == self.COL_PROJECT:
            return f"{row.project_number} {row.project_name}"
        if column == self.COL_TYPE:
            return row.type_name or "Unassigned"
        if column == self.COL_VENDOR:
            return row.vendor or ""
        if column == self.COL_COST:
            return money_text(row.cost)
        if column == self.COL_MARKUP:
            return percent_text(row.markup_percent, none="At cost")
        if column == self.COL_BILLABLE:
            return money_text(row.billable_amount) if row.billable else "Not billable"
        if column == self.COL_SOURCE:
            source = SOURCES.get(row.source, row.source)
            if row.qbo_txn_type:
                source = f"{source} {row.qbo_txn_type}"
            return f"{source} (deleted there)" if row.deleted_in_qbo else source
        if column == self.COL_RECEIPTS:
            return str(row.receipts) if row.receipts else ""
        return ""

    def sort_key(self, row: ExpenseRow, column: int) -> Any:
        if column == self.COL_DATE:
            return row.incurred_on.isoformat()
        if column == self.COL_COST:
            return cents(row.cost)
        if column == self.COL_MARKUP:
            return _percent_key(row.markup_percent)
        if column == self.COL_BILLABLE:
            return cents(row.billable_amount) if row.billable else -1
        if column == self.COL_RECEIPTS:
            return row.receipts
        return super().sort_key(row, column)

    def foreground(self, row: ExpenseRow, column: int) -> QColor | None:
        if row.deleted_in_qbo:
            return ERROR_COLOR
        if (column == self.COL_BILLABLE and not row.billable) or (
            column == self.COL_TYPE and row.type_name is None
        ):
            return MUTED_COLOR
        return None

    def tooltip(self, row: ExpenseRow, column: int) -> str | None:
        return row.description or None


# --- sync log --------------------------------------------------------------------------------

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


class RowSortProxy(QSortFilterProxyModel):
    """A proxy that leaves sorting to its `RowTableModel` (see `RowTableModel.sort`) and keeps
    the model's order; other models it sorts as Qt does."""

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        source = self.sourceModel()
        if isinstance(source, RowTableModel):
            source.sort(column, order)  # this proxy stays unsorted: it keeps the model's order
        else:
            super().sort(column, order)


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
            self._change(lambda: setattr(self, "_level", level))

    def set_run(self, run_id: int | None) -> None:
        if run_id != self._run_id:
            self._change(lambda: setattr(self, "_run_id", run_id))

    def _change(self, apply: Callable[[], None]) -> None:
        # Qt 6.10 replaced invalidating the filter with a begin/end pair around the change.
        if hasattr(self, "beginFilterChange"):
            self.beginFilterChange()
            apply()
            self.endFilterChange(QSortFilterProxyModel.Direction.Rows)
        else:
            apply()
            self.invalidateFilter()

    def filterAcceptsRow(self, source_row: int, source_parent: AnyIndex) -> bool:
        model = self.sourceModel()
        if model is None:
            return False
        row = model.index(source_row, 0, source_parent).data(RowRole)
        if not isinstance(row, LogRow):
            return False
        if self._level == ATTENTION:
            if row.state not in ATTENTION_STATES:
                return False
        elif self._level is not None and row.level != self._level:
            return False
        return self._run_id is None or row.run_id == self._run_id


# --- mappings --------------------------------------------------------------------------------

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


def _mapped_color(record: MappedRecord | None) -> QColor | None:
    if record is None:
        return WARNING_COLOR
    if record.name is None or not record.active or record.problem:
        return ERROR_COLOR
    return None


def _mapped_tooltip(record: MappedRecord | None, what: str) -> str:
    if record is None:
        return f"Not mapped: drag a QuickBooks {what} from the list beside onto this row."
    if record.problem:
        return record.problem
    return f"QuickBooks {record.entity} Id {record.qbo_id}. Delete or right-click to clear."


class MappingTableModel(RowTableModel[R]):
    """A Factor type table that QuickBooks records can be dropped on.

    A drop does not change the model: it asks for the mapping (`mappingRequested`), which the
    worker saves or refuses; the next snapshot shows the result.
    """

    # kind, Factor type id, QuickBooks Id, QuickBooks entity
    mappingRequested = Signal(str, int, str, str)
    # why a drop could not even be asked for
    dropRefused = Signal(str)

    KIND: ClassVar[str] = ""
    # The kind a dropped record of each entity maps; others go to KIND and are refused there.
    KIND_FOR_ENTITY: ClassVar[dict[str, str]] = {}

    def kind_for(self, entity: str) -> str:
        return self.KIND_FOR_ENTITY.get(entity, self.KIND)

    def flags(self, index: AnyIndex) -> Qt.ItemFlag:
        flags = super().flags(index)
        if index.isValid():
            flags |= Qt.ItemFlag.ItemIsDropEnabled
        return flags

    def mimeTypes(self) -> list[str]:
        return [QBO_RECORD_MIME]

    def supportedDropActions(self) -> Qt.DropAction:
        return Qt.DropAction.CopyAction

    def _target_row(self, row: int, parent: AnyIndex) -> int | None:
        target = parent.row() if parent.isValid() else row
        return target if 0 <= target < len(self._rows) else None

    def canDropMimeData(
        self, data: QMimeData, action: Qt.DropAction, row: int, column: int, parent: AnyIndex
    ) -> bool:
        return (
            data is not None
            and data.hasFormat(QBO_RECORD_MIME)
            and self._target_row(row, parent) is not None
        )

    def dropMimeData(
        self, data: QMimeData, action: Qt.DropAction, row: int, column: int, parent: AnyIndex
    ) -> bool:
        if action == Qt.DropAction.IgnoreAction:
            return True
        target = self._target_row(row, parent)
        records = dropped_qbo_records(data)
        if target is None or not records:
            return False
        if len(records) > 1:
            self.dropRefused.emit(
                "Drop one QuickBooks record at a time: each Factor type stands for one record."
            )
            return False
        entity, qbo_id = records[0]
        self.mappingRequested.emit(
            self.kind_for(entity), self.row_id(self._rows[target]), qbo_id, entity
        )
        return True

    def mapping_kinds(self, column: int) -> list[str]:
        """The kinds of mapping a row shows in `column` (what Delete clears there); every kind
        the row can have for a column of its own (-1 and the name columns)."""
        return [self.KIND]

    def mapped(self, row: R, kind: str) -> MappedRecord | None:
        """What `row` is mapped to for `kind`."""
        raise NotImplementedError


class ServiceTypeMappingModel(MappingTableModel[ServiceTypeRow]):
    COL_NAME = 0
    COL_DESCRIPTION = 1
    COL_TAXABLE = 2
    COL_ITEM = 3
    HEADERS = ("Service type", "Description", "Taxable", "QuickBooks product/service")
    KIND = "service_type"

    def display(self, row: ServiceTypeRow, column: int) -> str:
        if column == self.COL_NAME:
            return row.name if row.active else f"{row.name} (inactive)"
        if column == self.COL_DESCRIPTION:
            return row.description or ""
        if column == self.COL_TAXABLE:
            return "Yes" if row.taxable else "No"
        if column == self.COL_ITEM:
            return mapped_text(row.item)
        return ""

    def foreground(self, row: ServiceTypeRow, column: int) -> QColor | None:
        if column == self.COL_ITEM:
            return _mapped_color(row.item)
        return None if row.active else MUTED_COLOR

    def tooltip(self, row: ServiceTypeRow, column: int) -> str | None:
        if column == self.COL_ITEM:
            return _mapped_tooltip(row.item, "product/service")
        return None

    def mapped(self, row: ServiceTypeRow, kind: str) -> MappedRecord | None:
        return row.item


class ExpenseTypeMappingModel(MappingTableModel[ExpenseTypeRow]):
    COL_NAME = 0
    COL_CATEGORY = 1
    COL_MARKUP = 2
    COL_BILLABLE = 3
    COL_ACCOUNT = 4
    COL_ITEM = 5
    HEADERS = (
        "Expense type",
        "Budget category",
        "Markup",
        "Billable",
        "Account",
        "Product/service",
    )
    NUMBER_COLUMNS = frozenset({COL_MARKUP})
    KIND = "expense_type"
    KIND_FOR_ENTITY = {"Account": "expense_type", "Item": "expense_type_item"}

    def display(self, row: ExpenseTypeRow, column: int) -> str:
        if column == self.COL_NAME:
            name = f"{row.name} (subconsultant)" if row.is_subconsultant else row.name
            return name if row.active else f"{name} (inactive)"
        if column == self.COL_CATEGORY:
            return row.category
        if column == self.COL_MARKUP:
            return percent_text(row.markup_percent, none="At cost")
        if column == self.COL_BILLABLE:
            return "Yes" if row.billable else "No"
        if column == self.COL_ACCOUNT:
            return mapped_text(row.account)
        if column == self.COL_ITEM:
            return mapped_text(row.item) if row.item is not None else OPTIONAL
        return ""

    def sort_key(self, row: ExpenseTypeRow, column: int) -> Any:
        if column == self.COL_MARKUP:
            return _percent_key(row.markup_percent)
        return super().sort_key(row, column)

    def foreground(self, row: ExpenseTypeRow, column: int) -> QColor | None:
        if column == self.COL_ACCOUNT:
            return _mapped_color(row.account)
        if column == self.COL_ITEM:
            return _mapped_color(row.item) if row.item is not None else MUTED_COLOR
        return None if row.active else MUTED_COLOR

    def tooltip(self, row: ExpenseTypeRow, column: int) -> str | None:
        if column == self.COL_ACCOUNT:
            return _mapped_tooltip(row.account, "account")
        if column == self.COL_ITEM:
            if row.item is None:
                return (
                    "Optional: drag a QuickBooks product/service here when the firm books these "
                    "expenses by product/service."
                )
            return _mapped_tooltip(row.item, "product/service")
        return None

    def mapping_kinds(self, column: int) -> list[str]:
        if column == self.COL_ITEM:
            return ["expense_type_item"]
        if column == self.COL_ACCOUNT:
            return ["expense_type"]
        return ["expense_type", "expense_type_item"]

    def mapped(self, row: ExpenseTypeRow, kind: str) -> MappedRecord | None:
        return row.item if kind == "expense_type_item" else row.account


class TaxTermMappingModel(MappingTableModel[TaxTermRow]):
    COL_CODE = 0
    COL_NAME = 1
    COL_RATE = 2
    COL_TAX_CODE = 3
    HEADERS = ("Tax term", "Name", "Rate", "QuickBooks tax code")
    NUMBER_COLUMNS = frozenset({COL_RATE})
    KIND = "tax_term"

    def display(self, row: TaxTermRow, column: int) -> str:
        if column == self.COL_CODE:
            return row.code if row.active else f"{row.code} (inactive)"
        if column == self.COL_NAME:
            return row.name
        if column == self.COL_RATE:
            return percent_text(row.rate_percent)
        if column == self.COL_TAX_CODE:
            return _tax_code_text(row)
        return ""

    def sort_key(self, row: TaxTermRow, column: int) -> Any:
        if column == self.COL_RATE:
            return _percent_key(row.rate_percent)
        return super().sort_key(row, column)

    def foreground(self, row: TaxTermRow, column: int) -> QColor | None:
        if column == self.COL_TAX_CODE:
            return _mapped_color(row.tax_code)
        return None if row.active else MUTED_COLOR

    def tooltip(self, row: TaxTermRow, column: int) -> str | None:
        if column == self.COL_TAX_CODE:
            text = _mapped_tooltip(row.tax_code, "tax code")
            if _tax_rates_differ(row):
                text += (
                    " The rates differ: QuickBooks' tax figure is accepted for this term."
                    if row.tax_code is not None and row.tax_code.tax_rule == "accept"
                    else " The rates differ: Factor's tax amount is sent to QuickBooks, so both "
                    "totals agree."
                )
            return text
        return None

    def mapped(self, row: TaxTermRow, kind: str) -> MappedRecord | None:
        return row.tax_code


def _tax_rates_differ(row: TaxTermRow) -> bool:
    code = row.tax_code
    return code is not None and code.name is not None and code.rate != row.rate_percent


def _tax_code_text(row: TaxTermRow) -> str:
    """The mapped tax code with its rate, and how the term reconciles when the rates differ:
    "Alder County (8.5%) · Factor's tax sent"."""
    code = row.tax_code
    text = mapped_text(code)
    if code is None or code.name is None:
        return text
    text += f" ({percent_text(code.rate, none='rate unknown')})"
    if _tax_rates_differ(row):
        accepted = code.tax_rule == "accept"
        text += " · QuickBooks' tax accepted" if accepted else " · Factor's tax sent"
    return text


class QboCandidateModel(RowTableModel[QboCandidate]):
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
        return qbo_records_mime([self._rows[r] for r in rows])


# --- clients and projects ---------------------------------------------------------------------


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


__all__ = [
    "ERROR_COLOR",
    "MUTED_COLOR",
    "NOT_LINKED",
    "NOT_MAPPED",
    "QBO_RECORD_MIME",
    "WARNING_COLOR",
    "ClientProjectTreeModel",
    "ExpenseTableModel",
    "ExpenseTypeMappingModel",
    "IdRole",
    "InvoiceTableModel",
    "MappingTableModel",
    "QboCandidateModel",
    "RowRole",
    "RowSortProxy",
    "RowTableModel",
    "ServiceTypeMappingModel",
    "SortRole",
    "SyncLogFilter",
    "SyncLogTableModel",
    "TaxTermMappingModel",
    "cents",
    "dropped_qbo_records",
    "qbo_records_mime",
]
