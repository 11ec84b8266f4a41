"""The Mappings tab's tables: Factor types that QuickBooks records are dropped on."""

from __future__ import annotations

from typing import Any, ClassVar

from PySide6.QtCore import QMimeData, Qt, Signal
from PySide6.QtGui import QColor

from factor_desktop.ui.colors import ERROR_COLOR, MUTED_COLOR, WARNING_COLOR
from factor_desktop.ui.formatting import OPTIONAL, mapped_text, percent_text
from factor_desktop.ui.models.base import AnyIndex, R, RowTableModel, percent_key
from factor_desktop.ui.models.qbo_records import QBO_RECORD_MIME, dropped_qbo_records
from factor_desktop.views import ExpenseTypeRow, MappedRecord, ServiceTypeRow, TaxTermRow


def _mapped_color(record: MappedRecord | None) -> QColor | None:
    if record is None:
        return WARNING_COLOR
    if record.name is None or not record.active or record.problem:
        return ERROR_COLOR
    return None


def _mapped_tooltip(record: MappedRecord | None, what: str) -> str:
    if record is None:
        return (
            f"Not mapped: drag a QuickBooks {what} from the list beside onto this row, or press "
            "Enter (or double-click) to choose one."
        )
    if record.problem:
        return record.problem
    return (
        f"QuickBooks {record.entity} Id {record.qbo_id}. Enter (or a double-click) chooses "
        "another; Delete or right-click clears it."
    )


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
            return percent_key(row.markup_percent)
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
                    "Optional: drag a QuickBooks product/service here (or press Enter to choose "
                    "one) when the firm books these expenses by product/service."
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
            return percent_key(row.rate_percent)
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
