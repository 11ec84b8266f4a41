"""Mapping by keyboard on the Mappings tab: the searchable chooser that Enter or a double-click
opens on a Factor type, Ctrl+Z that puts the previous mapping back, and the filter boxes over the
QuickBooks lists."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from PySide6.QtCore import QModelIndex, Qt
from PySide6.QtWidgets import QApplication, QTableView
from sqlalchemy import select

from factor_desktop.app import AppContext
from factor_desktop.services.mappings import chosen_tax_rule, mapped_qbo_id
from factor_desktop.store.models import Mapping, QboRecord
from factor_desktop.ui.main_window import MainWindow
from factor_desktop.ui.mapping_chooser import MappingChooser
from factor_desktop.ui.models.base import RowRole
from factor_desktop.ui.models.mappings import (
    ExpenseTypeMappingModel,
    ServiceTypeMappingModel,
    TaxTermMappingModel,
)
from factor_desktop.ui.tax_rule_dialog import TaxRuleDialog

from .conftest import Firm, wait_for_snapshot

pytestmark = pytest.mark.gui

MakeWindow = Callable[..., MainWindow]


def _record(entity: str, qbo_id: str, name: str, kind: str | None, **data: Any) -> QboRecord:
    return QboRecord(
        entity=entity, qbo_id=qbo_id, name=name, kind=kind, data={"Id": qbo_id, **data}
    )


def _rates(*rate_ids: str) -> dict[str, Any]:
    return {"SalesTaxRateList": {"TaxRateDetail": [{"TaxRateRef": {"value": r}} for r in rate_ids]}}


@pytest.fixture
def qbo_lists(ctx: AppContext, firm: Firm) -> None:
    """Items and accounts to choose from, and two tax codes: one at the firm's WA-SEA rate
    (10.35%), one at 8.5%."""
    with ctx.store.session() as s:
        s.add_all(
            [
                _record("Item", "8", "Design:SD", "Service"),
                _record("Item", "20", "Reprographics", "NonInventory"),
                _record("Account", "82", "Printing", "Expense"),
                _record("TaxRate", "1", "State", None, RateValue=6.5),
                _record("TaxRate", "2", "City", None, RateValue=3.85),
                _record("TaxRate", "3", "County", None, RateValue=8.5),
                QboRecord(entity="TaxCode", qbo_id="5", name="Seattle", data=_rates("1", "2")),
                QboRecord(entity="TaxCode", qbo_id="6", name="Alder County", data=_rates("3")),
                # What the firm's WA-SEA is mapped to: another rate, no rule chosen.
                QboRecord(entity="TaxCode", qbo_id="404", name="Old County", data=_rates("3")),
            ]
        )


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


def _cell(view: QTableView, first: str, column: int = 0) -> QModelIndex:
    """The cell in `column` of the row whose first column shows `first`."""
    proxy = view.model()
    row = next(
        r for r in range(proxy.rowCount()) if str(proxy.index(r, 0).data()).startswith(first)
    )
    return proxy.index(row, column)


def _shown(window: MainWindow) -> MainWindow:
    window.tabs.setCurrentWidget(window.mappings_tab)
    window.resize(1024, 700)
    window.show()
    return window


def _ctrl_z(qtbot: Any, window: MainWindow, view: QTableView) -> None:
    """Ctrl+Z as typed: a shortcut reaches the active window only."""
    view.setFocus()
    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window)
    qtbot.keyClick(view, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)


def test_enter_opens_the_chooser_typing_filters_and_enter_maps_then_ctrl_z_undoes(
    qtbot: Any, make_window: MakeWindow, ctx: AppContext, qbo_lists: None
) -> None:
    window = _shown(make_window())
    wait_for_snapshot(qtbot, window)
    tab = window.mappings_tab
    view = tab.service_view
    assert not tab.undo_button.isEnabled() and not tab.undo_action.isEnabled()

    view.setCurrentIndex(_cell(view, "Site Survey"))
    view.setFocus()
    qtbot.keyClick(view, Qt.Key.Key_Return)
    chooser = tab.chooser
    assert isinstance(chooser, MappingChooser) and chooser.isVisible()
    assert "the service type 'Site Survey'" in chooser.heading.text()
    names = [r.name for r in chooser.visible_records()]
    assert {"Design:DD", "Design:SD", "Reprographics"} <= set(names)
    assert all(r.entity == "Item" for r in chooser.visible_records())  # no accounts or codes
    assert chooser.state_label.text() == "Not mapped yet."
    # What each record is already mapped to is shown beside it.
    dd = next(r for r in chooser.visible_records() if r.name == "Design:DD")
    assert "Design Development" in ", ".join(dd.used_by)

    qtbot.keyClicks(chooser.search, "sd")
    assert [r.name for r in chooser.visible_records()] == ["Design:SD"]
    assert chooser.selected_record() is not None  # the first match, selected
    qtbot.keyClick(chooser.search, Qt.Key.Key_Return)
    assert not chooser.isVisible()
    outcome = _finished(qtbot, window, "set_mapping")
    assert outcome.ok, outcome.error
    survey = _cell(view, "Site Survey").data(RowRole)
    assert _mapped(ctx, "service_type")[survey.id] == "8"
    assert _cell(view, "Site Survey", ServiceTypeMappingModel.COL_ITEM).data() == "Design:SD"

    # Design Development (mapped to Design:DD) onto Reprographics, by a double-click this time.
    design = _cell(view, "Design Development").data(RowRole)
    view.doubleClicked.emit(_cell(view, "Design Development", ServiceTypeMappingModel.COL_ITEM))
    chooser = tab.chooser
    assert chooser is not None and chooser.isVisible()
    assert "Design:DD" in chooser.state_label.text()
    qtbot.keyClicks(chooser.search, "repro")
    chooser.view.doubleClicked.emit(chooser.filter.index(0, 0))
    assert _finished(qtbot, window, "set_mapping").ok
    assert _mapped(ctx, "service_type") == {survey.id: "8", design.id: "20"}
    assert tab.undo_button.isEnabled()
    assert "Reprographics" in tab.undo_button.toolTip()

    # Ctrl+Z puts back the previous mapping of the last change, then of the one before.
    _ctrl_z(qtbot, window, view)
    assert _finished(qtbot, window, "set_mapping").ok
    assert _mapped(ctx, "service_type") == {survey.id: "8", design.id: "7"}
    assert tab.message_bar.message.text().startswith("Undone.")
    tab.undo_button.click()
    assert _finished(qtbot, window, "clear_mapping").ok
    assert _mapped(ctx, "service_type") == {design.id: "7"}
    assert not tab.undo_button.isEnabled() and not tab.undo_action.isEnabled()


def test_the_chooser_clears_and_esc_cancels(
    qtbot: Any, make_window: MakeWindow, ctx: AppContext, qbo_lists: None
) -> None:
    window = _shown(make_window())
    wait_for_snapshot(qtbot, window)
    tab = window.mappings_tab
    view = tab.expense_view
    structural = _cell(view, "Structural engineering").data(RowRole)

    # The product/service column chooses the expense type's product/service.
    view.doubleClicked.emit(_cell(view, "Structural engineering", ExpenseTypeMappingModel.COL_ITEM))
    chooser = tab.chooser
    assert chooser is not None and chooser.kind == "expense_type_item"
    assert {r.entity for r in chooser.visible_records()} == {"Item"}
    assert not chooser.clear_button.isEnabled()  # nothing to clear there
    qtbot.keyClick(chooser.search, Qt.Key.Key_Escape)
    assert not chooser.isVisible()
    wait_for_snapshot(qtbot, window)  # cancelled: nothing asked for, nothing changed
    assert _mapped(ctx, "expense_type_item") == {}
    assert _mapped(ctx, "expense_type")[structural.id] == "81"

    # Other columns choose its account; "Clear the mapping" clears it, and Ctrl+Z puts it back.
    view.setCurrentIndex(_cell(view, "Structural engineering"))
    view.setFocus()
    qtbot.keyClick(view, Qt.Key.Key_Enter)
    chooser = tab.chooser
    assert chooser is not None and chooser.kind == "expense_type"
    assert {r.entity for r in chooser.visible_records()} == {"Account"}
    assert chooser.clear_button.isEnabled()
    chooser.clear_button.click()
    assert _finished(qtbot, window, "clear_mapping").ok
    assert structural.id not in _mapped(ctx, "expense_type")
    _ctrl_z(qtbot, window, view)
    assert _finished(qtbot, window, "set_mapping").ok
    assert _mapped(ctx, "expense_type")[structural.id] == "81"
    assert not tab.undo_button.isEnabled()

    # A choice is refused as a drop is: that account already stands for another expense type.
    view.setCurrentIndex(_cell(view, "Printing"))
    view.setFocus()
    qtbot.keyClick(view, Qt.Key.Key_Return)
    chooser = tab.chooser
    assert chooser is not None and chooser.state_label.text() == "Not mapped yet."
    qtbot.keyClicks(chooser.search, "subcon")
    qtbot.keyClick(chooser.search, Qt.Key.Key_Enter)
    assert not _finished(qtbot, window, "set_mapping").ok
    assert tab.message_bar.title.text() == "The mapping was refused"
    assert "already stands for the expense type 'Structural engineering'" in (
        tab.message_bar.message.text()
    )
    assert not tab.undo_button.isEnabled()  # nothing changed, nothing to undo


def test_a_tax_code_of_another_rate_chosen_asks_for_the_tax_rule(
    qtbot: Any, make_window: MakeWindow, ctx: AppContext, qbo_lists: None
) -> None:
    window = _shown(make_window())
    wait_for_snapshot(qtbot, window)
    tab = window.mappings_tab
    view = tab.tax_view
    term = _cell(view, "WA-SEA").data(RowRole)

    view.doubleClicked.emit(_cell(view, "WA-SEA", TaxTermMappingModel.COL_TAX_CODE))
    chooser = tab.chooser
    assert chooser is not None
    shown = {chooser.filter.index(r, 0).data() for r in range(chooser.filter.rowCount())}
    assert {"Seattle (10.35%)", "Alder County (8.5%)"} <= shown  # each code with its rate
    qtbot.keyClicks(chooser.search, "alder")
    qtbot.keyClick(chooser.search, Qt.Key.Key_Return)
    dialog = tab.tax_rule_dialog
    assert isinstance(dialog, TaxRuleDialog) and dialog.isVisible()
    assert "'Alder County' is 8.5%" in dialog.question.text()
    dialog.accept_button.setChecked(True)
    dialog.accept()
    assert _finished(qtbot, window, "set_mapping").ok
    with ctx.store.session() as s:
        assert mapped_qbo_id(s, "tax_term", term.id) == "6"
        assert chosen_tax_rule(s, term.id) == "accept"

    # Undone: back to the code the firm had, of another rate, with Factor's tax sent as before
    # (no rule chosen meant that); no question asked.
    tab.undo_button.click()
    assert _finished(qtbot, window, "set_mapping").ok
    assert tab.tax_rule_dialog is dialog and not dialog.isVisible()
    with ctx.store.session() as s:
        assert mapped_qbo_id(s, "tax_term", term.id) == "404"
        assert chosen_tax_rule(s, term.id) == "override"


def test_the_filter_box_narrows_a_quickbooks_list(
    qtbot: Any, make_window: MakeWindow, qbo_lists: None
) -> None:
    window = _shown(make_window())
    wait_for_snapshot(qtbot, window)
    section = window.mappings_tab.expense_section
    proxy = section.candidate_view.model()
    before = proxy.rowCount()
    assert before >= 4  # accounts and products/services
    qtbot.keyClicks(section.search, "print")
    assert [proxy.index(r, 0).data() for r in range(proxy.rowCount())] == ["Printing"]
    section.search.clear()
    assert proxy.rowCount() == before
    # By type too: the products/services say so in the type column.
    qtbot.keyClicks(section.search, "product")
    names = {proxy.index(r, 0).data(RowRole).entity for r in range(proxy.rowCount())}
    assert names == {"Item"}
