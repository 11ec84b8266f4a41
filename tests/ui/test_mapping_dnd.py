"""Mapping by drag and drop: QuickBooks records dragged onto Factor types, at the model level and
through synthetic drop events on the views; refusals explained; Delete clears."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from PySide6.QtCore import QMimeData, QModelIndex, QPointF, Qt, QtMsgType, qInstallMessageHandler
from PySide6.QtGui import QDragEnterEvent, QDragMoveEvent, QDropEvent
from PySide6.QtTest import QAbstractItemModelTester
from PySide6.QtWidgets import QApplication, QTableView
from sqlalchemy import select

from factor_desktop.app import AppContext
from factor_desktop.store.models import Mapping, QboRecord
from factor_desktop.ui.colors import WARNING_COLOR
from factor_desktop.ui.main_window import MainWindow
from factor_desktop.ui.models.base import RowRole
from factor_desktop.ui.models.mappings import (
    ExpenseTypeMappingModel,
    ServiceTypeMappingModel,
    TaxTermMappingModel,
)
from factor_desktop.ui.models.qbo_records import (
    QBO_RECORD_MIME,
    QboCandidateModel,
    dropped_qbo_records,
)
from factor_desktop.views import Snapshot, load_snapshot

from .conftest import Firm, wait_for_snapshot

pytestmark = pytest.mark.gui

MakeWindow = Callable[..., MainWindow]


def _record(entity: str, qbo_id: str, name: str, kind: str, active: bool = True) -> QboRecord:
    return QboRecord(
        entity=entity, qbo_id=qbo_id, name=name, kind=kind, active=active, data={"Id": qbo_id}
    )


@pytest.fixture
def qbo_lists(ctx: AppContext, firm: Firm) -> None:
    """QuickBooks lists beside the firm's: items, accounts and tax codes to drag."""
    with ctx.store.session() as s:
        s.add_all(
            [
                _record("Item", "1", "Design", "Category"),
                _record("Item", "8", "Design:SD", "Service"),
                _record("Item", "20", "Reprographics", "NonInventory"),
                _record("Item", "21", "Old fee", "Service", active=False),
                _record("Account", "82", "Printing", "Expense"),
                _record("Account", "35", "Checking", "Bank"),
                _record("TaxCode", "2", "Alder County", "group"),
            ]
        )


@pytest.fixture
def snapshot(ctx: AppContext, qbo_lists: None) -> Snapshot:
    return load_snapshot(ctx.store, ctx.tokens)


@pytest.fixture
def model_failures(qapp: Any) -> Iterator[list[str]]:
    failures: list[str] = []

    def handler(kind: QtMsgType, _context: Any, message: str) -> None:
        if kind != QtMsgType.QtDebugMsg:
            failures.append(message)

    previous = qInstallMessageHandler(handler)
    try:
        yield failures
    finally:
        qInstallMessageHandler(previous)


def _row(model: Any, name: str) -> int:
    return next(r for r in range(model.rowCount()) if model.row_at(r).name == name)


def _candidate(model: QboCandidateModel, name: str) -> QModelIndex:
    row = next(r for r in range(model.rowCount()) if model.row_at(r).name == name)
    return model.index(row, 0)


# --- the models ---------------------------------------------------------------------------


def test_candidates_drag_as_entity_and_id(snapshot: Snapshot, model_failures: list[str]) -> None:
    items = QboCandidateModel()
    tester = QAbstractItemModelTester(items, QAbstractItemModelTester.FailureReportingMode.Warning)
    items.set_rows(snapshot.candidates.items)
    assert model_failures == []
    del tester
    # Categories and inactive items are not offered; what is mapped says to what.
    assert [items.row_at(r).name for r in range(items.rowCount())] == [
        "Design:DD",
        "Design:SD",
        "Reprographics",
    ]
    assert items.index(0, items.COL_USED_BY).data() == "Design Development"
    index = _candidate(items, "Design:SD")
    assert items.flags(index) & Qt.ItemFlag.ItemIsDragEnabled
    assert items.mimeTypes() == [QBO_RECORD_MIME]
    mime = items.mimeData([index, items.index(index.row(), items.COL_TYPE)])
    assert dropped_qbo_records(mime) == [("Item", "8")]
    assert mime.text() == "Design:SD"

    accounts = QboCandidateModel(show_entity=True)
    accounts.set_rows(snapshot.candidates.expense_accounts + snapshot.candidates.items)
    # Only expense-like accounts are offered, beside the products/services.
    shown = {accounts.row_at(r).name: accounts.index(r, 1).data() for r in range(4)}
    assert shown["Printing"] == "Expense"
    assert shown["Cost of Goods Sold:Subconsultants"] == "Cost of Goods Sold"
    assert shown["Design:DD"] == "Product/service"
    assert "Checking" not in {accounts.row_at(r).name for r in range(accounts.rowCount())}


def test_drop_on_a_factor_type_asks_for_the_mapping(qtbot: Any, snapshot: Snapshot) -> None:
    items = QboCandidateModel()
    items.set_rows(snapshot.candidates.items)
    services = ServiceTypeMappingModel()
    services.set_rows(snapshot.service_types)
    mime = items.mimeData([_candidate(items, "Design:SD")])
    target = services.index(_row(services, "Site Survey"), services.COL_ITEM)
    survey_id = services.row_at(target.row()).id
    assert services.flags(target) & Qt.ItemFlag.ItemIsDropEnabled
    assert services.canDropMimeData(mime, Qt.DropAction.CopyAction, -1, -1, target)
    with qtbot.waitSignal(services.mappingRequested) as blocker:
        assert services.dropMimeData(mime, Qt.DropAction.CopyAction, -1, -1, target)
    assert blocker.args == ["service_type", survey_id, "8", "Item"]

    # Between rows (a row and no parent) lands on that row too; beyond the rows, nowhere.
    with qtbot.waitSignal(services.mappingRequested) as blocker:
        assert services.dropMimeData(mime, Qt.DropAction.CopyAction, 0, 0, QModelIndex())
    assert blocker.args[1] == services.row_at(0).id
    assert not services.canDropMimeData(mime, Qt.DropAction.CopyAction, 9, 0, QModelIndex())
    other = QMimeData()
    other.setText("Design:SD")
    assert not services.canDropMimeData(other, Qt.DropAction.CopyAction, -1, -1, target)
    with qtbot.assertNotEmitted(services.mappingRequested):
        assert not services.dropMimeData(other, Qt.DropAction.CopyAction, -1, -1, target)


def test_expense_types_take_accounts_and_items(qtbot: Any, snapshot: Snapshot) -> None:
    candidates = QboCandidateModel(show_entity=True)
    candidates.set_rows(snapshot.candidates.expense_accounts + snapshot.candidates.items)
    expenses = ExpenseTypeMappingModel()
    expenses.set_rows(snapshot.expense_types)
    printing = expenses.index(_row(expenses, "Printing"), 0)
    printing_id = expenses.row_at(printing.row()).id
    for name, expected in (
        ("Printing", ["expense_type", printing_id, "82", "Account"]),
        ("Reprographics", ["expense_type_item", printing_id, "20", "Item"]),
    ):
        mime = candidates.mimeData([_candidate(candidates, name)])
        with qtbot.waitSignal(expenses.mappingRequested) as blocker:
            expenses.dropMimeData(mime, Qt.DropAction.CopyAction, -1, -1, printing)
        assert blocker.args == expected
    # Several records at once cannot all stand for one type: refused before asking.
    both = candidates.mimeData([candidates.index(0, 0), candidates.index(1, 0)])
    with qtbot.waitSignal(expenses.dropRefused) as refused:
        assert not expenses.dropMimeData(both, Qt.DropAction.CopyAction, -1, -1, printing)
    assert "one QuickBooks record at a time" in refused.args[0]


def test_tax_terms_take_tax_codes(qtbot: Any, snapshot: Snapshot) -> None:
    codes = QboCandidateModel()
    codes.set_rows(snapshot.candidates.tax_codes)
    taxes = TaxTermMappingModel()
    taxes.set_rows(snapshot.tax_terms)
    with qtbot.waitSignal(taxes.mappingRequested) as blocker:
        taxes.dropMimeData(
            codes.mimeData([codes.index(0, 0)]), Qt.DropAction.CopyAction, -1, -1, taxes.index(0, 0)
        )
    assert blocker.args == ["tax_term", taxes.row_at(0).id, "2", "TaxCode"]


# --- the window ---------------------------------------------------------------------------


def _proxy_index(view: QTableView, name: str, column: int = 0) -> QModelIndex:
    proxy = view.model()
    row = next(r for r in range(proxy.rowCount()) if proxy.index(r, 0).data(RowRole).name == name)
    return proxy.index(row, column)


def _mapped(ctx: AppContext, kind: str) -> dict[int, str]:
    with ctx.store.session() as s:
        rows = s.scalars(select(Mapping).where(Mapping.kind == kind)).all()
        return {m.local_id: m.qbo_id for m in rows}


def _finished(qtbot: Any, window: MainWindow, kind: str) -> Any:
    """Wait for the next job of `kind` to finish and the snapshot after it."""
    outcomes: list[Any] = []
    window.runner.jobFinished.connect(outcomes.append)
    try:
        qtbot.waitUntil(lambda: any(o.kind == kind for o in outcomes), timeout=10_000)
        wait_for_snapshot(qtbot, window)
    finally:
        window.runner.jobFinished.disconnect(outcomes.append)
    return next(o for o in outcomes if o.kind == kind)


def test_drop_through_the_view_model_saves_the_mapping(
    qtbot: Any, make_window: MakeWindow, ctx: AppContext, qbo_lists: None
) -> None:
    window = make_window()
    wait_for_snapshot(qtbot, window)
    tab = window.mappings_tab
    assert "(1 of 2 mapped)" in tab.service_box.title()
    assert tab.item_candidates.rowCount() == 3
    mime = tab.item_candidates.mimeData([_candidate(tab.item_candidates, "Design:SD")])
    target = _proxy_index(tab.service_view, "Site Survey", ServiceTypeMappingModel.COL_ITEM)
    # The view's model is a sorting proxy: the drop goes through it to the source model.
    assert tab.service_view.model().dropMimeData(mime, Qt.DropAction.CopyAction, -1, -1, target)
    outcome = _finished(qtbot, window, "set_mapping")
    assert outcome.ok, outcome.error
    survey = _proxy_index(tab.service_view, "Site Survey").data(RowRole)
    assert _mapped(ctx, "service_type")[survey.id] == "8"
    item_cell = _proxy_index(tab.service_view, "Site Survey", ServiceTypeMappingModel.COL_ITEM)
    assert item_cell.data() == "Design:SD"
    assert "(2 of 2 mapped)" in tab.service_box.title()
    assert tab.message_bar.kind == "info" and not tab.message_bar.isHidden()
    assert "'Site Survey' is mapped to the QuickBooks product/service 'Design:SD'" in (
        tab.message_bar.message.text()
    )


def _show_mappings(qtbot: Any, window: MainWindow) -> None:
    """Drops land where the rows are drawn: the tab must be shown and laid out."""
    window.tabs.setCurrentWidget(window.mappings_tab)
    qtbot.waitUntil(window.mappings_tab.expense_view.viewport().isVisible)
    QApplication.processEvents()


def _drop_event(view: QTableView, index: QModelIndex, mime: QMimeData) -> QDropEvent:
    """Drag `mime` over the row at `index` and drop it, as events on the view's viewport.

    Qt delivers a drop to the widget that accepted the drag's entry, so the drag enters and
    moves first; a mouse drag in QTest would never start a real QDrag.
    """
    assert view.viewport().isVisible()
    center = view.visualRect(index).center()
    assert view.indexAt(center) == index
    args = (
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    enter = QDragEnterEvent(center, *args)
    QApplication.sendEvent(view.viewport(), enter)
    assert enter.isAccepted(), "the view takes QuickBooks records"
    move = QDragMoveEvent(center, *args)
    QApplication.sendEvent(view.viewport(), move)
    assert move.isAccepted(), "and can drop them on this row"
    drop = QDropEvent(QPointF(center), *args)
    QApplication.sendEvent(view.viewport(), drop)
    return drop


def test_a_synthetic_drop_on_the_viewport(
    qtbot: Any, make_window: MakeWindow, ctx: AppContext, qbo_lists: None
) -> None:
    window = make_window()
    wait_for_snapshot(qtbot, window)
    _show_mappings(qtbot, window)
    tab = window.mappings_tab
    candidates = tab.expense_candidates
    mime = candidates.mimeData([_candidate(candidates, "Printing")])
    view = tab.expense_view
    target = _proxy_index(view, "Printing", ExpenseTypeMappingModel.COL_ACCOUNT)
    event = _drop_event(view, target, mime)
    assert event.isAccepted()
    outcome = _finished(qtbot, window, "set_mapping")
    assert outcome.ok, outcome.error
    printing = _proxy_index(view, "Printing").data(RowRole)
    assert _mapped(ctx, "expense_type")[printing.id] == "82"
    assert "(2 of 2 mapped)" in tab.expense_box.title()
    assert _proxy_index(view, "Printing", ExpenseTypeMappingModel.COL_ACCOUNT).data() == (
        "Printing"
    )


def test_a_refused_drop_says_why(
    qtbot: Any, make_window: MakeWindow, ctx: AppContext, qbo_lists: None
) -> None:
    window = make_window()
    wait_for_snapshot(qtbot, window)
    _show_mappings(qtbot, window)
    tab = window.mappings_tab
    view = tab.expense_view
    # The account already stands for "Structural engineering": it cannot stand for another.
    candidates = tab.expense_candidates
    mime = candidates.mimeData([_candidate(candidates, "Cost of Goods Sold:Subconsultants")])
    _drop_event(view, _proxy_index(view, "Printing", ExpenseTypeMappingModel.COL_ACCOUNT), mime)
    outcome = _finished(qtbot, window, "set_mapping")
    assert not outcome.ok
    assert tab.message_bar.kind == "error" and not tab.message_bar.isHidden()
    assert tab.message_bar.title.text() == "The mapping was refused"
    assert "already stands for the expense type 'Structural engineering'" in (
        tab.message_bar.message.text()
    )
    printing = _proxy_index(view, "Printing").data(RowRole)
    assert printing.id not in _mapped(ctx, "expense_type")
    # A tax code dropped on a service type is refused by name, too.
    codes = tab.tax_candidates
    mime = codes.mimeData([codes.index(0, 0)])
    _drop_event(tab.service_view, _proxy_index(tab.service_view, "Site Survey", 3), mime)
    _finished(qtbot, window, "set_mapping")
    assert tab.message_bar.message.text() == (
        "A service type maps to a QuickBooks product/service, not to a tax code."
    )
    unmapped = _proxy_index(tab.service_view, "Site Survey", ServiceTypeMappingModel.COL_ITEM)
    assert unmapped.data() == "Not mapped"
    assert unmapped.data(Qt.ItemDataRole.ForegroundRole).color() == WARNING_COLOR


def test_delete_and_the_context_menu_clear_mappings(
    qtbot: Any, make_window: MakeWindow, ctx: AppContext, qbo_lists: None
) -> None:
    window = make_window()
    wait_for_snapshot(qtbot, window)
    tab = window.mappings_tab
    window.tabs.setCurrentWidget(tab)
    view = tab.service_view
    design = _proxy_index(view, "Design Development", ServiceTypeMappingModel.COL_ITEM)
    view.setCurrentIndex(design)
    view.setFocus()
    qtbot.keyClick(view, Qt.Key.Key_Delete)
    outcome = _finished(qtbot, window, "clear_mapping")
    assert outcome.ok
    assert _mapped(ctx, "service_type") == {}
    assert "(0 of 2 mapped)" in tab.service_box.title()
    assert "Cleared the QuickBooks product/service" in tab.message_bar.message.text()

    # The expense row's menu offers each of its mappings; only the set one is enabled.
    expense_view = tab.expense_view
    structural = _proxy_index(expense_view, "Structural engineering")
    menu = tab.build_context_menu(tab.expense_section, structural)
    actions = menu.actions()
    assert [a.text() for a in actions] == [
        "Clear the QuickBooks account",
        "Clear the QuickBooks product/service",
    ]
    assert [a.isEnabled() for a in actions] == [True, False]
    actions[0].trigger()
    _finished(qtbot, window, "clear_mapping")
    assert _mapped(ctx, "expense_type") == {}
