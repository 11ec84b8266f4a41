"""Tables of many rows: fitting their columns reads the first rows only, wherever the view is."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, ClassVar

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QTabWidget, QVBoxLayout, QWidget

from factor_desktop.domain.money import sum_money
from factor_desktop.ui.formatting import total_money
from factor_desktop.ui.link_dialog import CustomerFilter, CustomerModel, customer_table
from factor_desktop.ui.models.base import RowRole, RowTableModel
from factor_desktop.ui.models.sync_log import ATTENTION, SyncLogFilter, SyncLogTableModel
from factor_desktop.ui.widgets import (
    FIT_ROWS,
    RecordTableView,
    fit_columns,
    grow_columns,
    make_table,
)
from factor_desktop.views import LogRow, QboCustomerRow

pytestmark = pytest.mark.gui


@dataclass(frozen=True)
class Line:
    id: int
    name: str
    note: str


class CountingModel(RowTableModel[Line]):
    """A plain two-column table that counts the cells it is asked to show."""

    HEADERS: ClassVar[tuple[str, ...]] = ("Name", "Note")

    def __init__(self) -> None:
        super().__init__()
        self.shown = 0

    def display(self, row: Line, column: int) -> str:
        self.shown += 1
        return row.name if column == 0 else row.note


def lines(count: int, wide_at: int | None = None) -> list[Line]:
    return [
        Line(n, "W" * 20 if n == wide_at else f"Line {n}", "short" if n % 2 else "a note")
        for n in range(count)
    ]


def table(qtbot: Any, owner: QWidget) -> tuple[CountingModel, RecordTableView]:
    """A model and its view, both owned by `owner` (as a tab owns them)."""
    model = CountingModel()
    model.setParent(owner)
    view = make_table(model)
    layout = owner.layout() or QVBoxLayout(owner)
    layout.addWidget(view)
    return model, view


def test_a_hidden_table_of_ten_thousand_rows_is_fitted_from_its_first_rows(qtbot: Any) -> None:
    tabs = QTabWidget()
    qtbot.addWidget(tabs)
    behind = QWidget()
    model, view = table(qtbot, behind)
    tabs.addTab(QWidget(), "Shown")
    tabs.addTab(behind, "Behind")  # not on screen, as every tab but the current one
    tabs.show()
    model.set_rows(lines(10_000, wide_at=3))
    assert not view.isVisible()
    model.shown = 0

    fit_columns(view)

    # Qt's own fitting read 1,000 rows of each column; this reads the first rows only.
    assert 0 < model.shown <= 2 * FIT_ROWS
    header = view.horizontalHeader()
    # The widest of the first rows decides: twenty W's need more than "Line 12".
    assert header.sectionSize(0) >= view.fontMetrics().horizontalAdvance("W" * 20)


def test_a_wide_row_far_down_does_not_widen_the_column(qtbot: Any) -> None:
    owner = QWidget()
    qtbot.addWidget(owner)
    model, view = table(qtbot, owner)
    model.set_rows(lines(5_000, wide_at=4_000))

    fit_columns(view)

    assert view.horizontalHeader().sectionSize(0) < view.fontMetrics().horizontalAdvance("W" * 20)


def test_growing_reads_the_first_rows_and_never_narrows(qtbot: Any) -> None:
    owner = QWidget()
    qtbot.addWidget(owner)
    model, view = table(qtbot, owner)
    model.set_rows(lines(20))
    fit_columns(view)
    header = view.horizontalHeader()
    narrow = header.sectionSize(0)
    model.set_rows(lines(10_000, wide_at=0))
    model.shown = 0

    grow_columns(view)

    assert 0 < model.shown <= 2 * FIT_ROWS
    assert header.sectionSize(0) > narrow
    header.resizeSection(0, 340)  # the administrator widened it further
    model.set_rows(lines(30))
    grow_columns(view)
    assert header.sectionSize(0) == 340


def test_summaries_add_money_exactly_as_the_domain_does() -> None:
    amounts = [Decimal("125.00")] * 10_000 + [Decimal("-0.01"), Decimal("99999999999.99")]
    assert total_money(amounts) == sum_money(amounts) == Decimal("100001249999.98")
    # Rounded once, at the end, as sum_money does.
    assert total_money([Decimal("0.004"), Decimal("0.004")]) == Decimal("0.01")
    assert total_money([]) == Decimal("0.00")
    assert str(total_money([])) == "0.00"
    with pytest.raises(TypeError):
        total_money([Decimal("1.00"), 0.1])  # type: ignore[list-item]


def shown(view: RecordTableView) -> list[Line]:
    proxy = view.model()
    return [proxy.index(n, 0).data(RowRole) for n in range(proxy.rowCount())]


def test_sorting_ten_thousand_rows_computes_each_key_once(qtbot: Any) -> None:
    owner = QWidget()
    qtbot.addWidget(owner)
    model, view = table(qtbot, owner)
    given = lines(10_000)
    model.set_rows(given)
    view.selectRow(5)  # "Line 5"
    model.shown = 0

    view.sortByColumn(0, Qt.SortOrder.DescendingOrder)  # a click on the Name header

    # One key a row (a sorting proxy asked for two at every comparison: about 165,000).
    assert model.shown <= len(given) + 2 * FIT_ROWS
    expected = sorted(given, key=lambda line: line.name.casefold(), reverse=True)
    assert shown(view) == expected
    selected = view.selectionModel().selectedRows()
    assert [index.data(RowRole) for index in selected] == [given[5]], "the selection follows"

    # New rows arrive (the snapshot after a pass): shown in the chosen order at once.
    model.shown = 0
    fresh = [Line(line.id, line.name + " (sent)", line.note) for line in given]
    model.set_rows(fresh)
    assert model.shown <= len(fresh) + 2 * FIT_ROWS
    assert shown(view) == sorted(fresh, key=lambda line: line.name.casefold(), reverse=True)
    assert model.rows()[0] == shown(view)[0]

    # No column: the order they were given in.
    view.sortByColumn(-1, Qt.SortOrder.AscendingOrder)
    assert shown(view) == fresh


class CountingLogModel(SyncLogTableModel):
    """The Sync Log's model, counting the cells asked of it through Qt."""

    def __init__(self) -> None:
        super().__init__()
        self.asked = 0

    def data(self, index: Any, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        self.asked += 1
        return super().data(index, role)


def log_rows(count: int) -> list[LogRow]:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    return [
        LogRow(
            id=n,
            at=start + timedelta(seconds=n),
            direction="push",
            entity_kind="invoice",
            label=f"INV-{n:05d}",
            qbo_id=None,
            action="create",
            level="error" if n % 100 == 0 else "info",
            reason="Refused" if n % 100 == 0 else None,
            run_id=(n // 100) % 2,
            state="failed" if n % 100 == 0 else "ok",
        )
        for n in range(count)
    ]


def test_the_sync_log_filters_two_thousand_entries_without_asking_qt_for_each(
    qtbot: Any,
) -> None:
    model = CountingLogModel()
    proxy = SyncLogFilter()
    proxy.setSourceModel(model)
    proxy.set_level(ATTENTION)
    rows = log_rows(2_000)

    model.set_rows(rows)
    proxy.set_run(0)

    shown = [proxy.index(n, 0).data(RowRole) for n in range(proxy.rowCount())]
    assert shown == [row for row in rows if row.state == "failed" and row.run_id == 0]
    assert len(shown) == 10
    # Only the rows read back above went through `data()`: the filter reads the model's rows.
    assert model.asked == len(shown)
    proxy.set_level(None)
    proxy.set_run(None)
    assert proxy.rowCount() == 2_000
    assert model.asked == len(shown)


def test_roles_a_table_does_not_answer_are_turned_away(qtbot: Any) -> None:
    model = CountingModel()
    model.set_rows(lines(3))
    index = model.index(1, 0)
    for role in (
        Qt.ItemDataRole.DecorationRole,
        Qt.ItemDataRole.BackgroundRole,
        Qt.ItemDataRole.CheckStateRole,
        Qt.ItemDataRole.SizeHintRole,
    ):
        assert model.data(index, role) is None
    assert model.shown == 0
    assert model.data(index, Qt.ItemDataRole.DisplayRole) == "Line 1"
    assert model.data(index, RowRole) == Line(1, "Line 1", "short")


class CountingCustomerModel(CustomerModel):
    """The chooser's customer list, counting the sort keys it computes."""

    def __init__(self) -> None:
        super().__init__()
        self.keys = 0

    def sort_key(self, row: QboCustomerRow, column: int) -> Any:
        self.keys += 1
        return super().sort_key(row, column)


def test_the_customer_list_sorts_by_full_name_computing_each_key_once(qtbot: Any) -> None:
    model = CountingCustomerModel()
    proxy = CustomerFilter()
    view = customer_table(model, proxy, "")
    qtbot.addWidget(view)
    customers = [
        QboCustomerRow(
            qbo_id=str(n),
            name=f"Customer {(n * 7919) % 1000:03d}",
            full_name=f"Customer {(n * 7919) % 1000:03d}",
            parent_qbo_id=None,
            balance=None,
            active=True,
            sync_token="0",
        )
        for n in range(1000)
    ]

    model.set_rows(customers)

    # One key a row (a sorting proxy asked for two at every comparison: about 20,000).
    assert model.keys == len(customers)
    assert shown_rows(proxy) == sorted(customers, key=lambda row: row.full_name.casefold())
    proxy.set_text("customer 007")  # the filter still filters the sorted rows
    assert [row.name for row in shown_rows(proxy)] == ["Customer 007"]
    proxy.set_text("")
    view.sortByColumn(CustomerModel.COL_NAME, Qt.SortOrder.DescendingOrder)
    assert shown_rows(proxy) == sorted(customers, key=lambda row: row.name, reverse=True)


def shown_rows(proxy: CustomerFilter) -> list[QboCustomerRow]:
    return [proxy.index(n, 0).data(RowRole) for n in range(proxy.rowCount())]
