"""Tax codes on the Mappings tab: their rates shown, and a code of another rate asks how the tax
term's invoices reconcile before anything is saved (Factor's tax sent, preselected)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from PySide6.QtWidgets import QApplication, QDialog

from factor_desktop.app import AppContext
from factor_desktop.services.mappings import chosen_tax_rule, mapped_qbo_id
from factor_desktop.store.models import QboRecord
from factor_desktop.ui.main_window import MainWindow
from factor_desktop.ui.models.base import RowRole
from factor_desktop.ui.models.mappings import TaxTermMappingModel
from factor_desktop.ui.tax_rule_dialog import TaxRuleDialog

from .conftest import Firm, wait_for_snapshot

pytestmark = pytest.mark.gui

MakeWindow = Callable[..., MainWindow]


def _rates(*rate_ids: str) -> dict[str, Any]:
    return {"SalesTaxRateList": {"TaxRateDetail": [{"TaxRateRef": {"value": r}} for r in rate_ids]}}


@pytest.fixture
def tax_lists(ctx: AppContext, firm: Firm) -> None:
    """Two tax codes: one at the firm's WA-SEA rate (10.35%), one at 8.5%."""
    with ctx.store.session() as s:
        s.add_all(
            [
                QboRecord(entity="TaxRate", qbo_id="1", name="State", data={"RateValue": 6.5}),
                QboRecord(entity="TaxRate", qbo_id="2", name="City", data={"RateValue": 3.85}),
                QboRecord(entity="TaxRate", qbo_id="3", name="County", data={"RateValue": 8.5}),
                QboRecord(entity="TaxCode", qbo_id="5", name="Seattle", data=_rates("1", "2")),
                QboRecord(entity="TaxCode", qbo_id="6", name="Alder County", data=_rates("3")),
                QboRecord(
                    entity="Preferences",
                    qbo_id="1",
                    name="Preferences",
                    data={"TaxPrefs": {"PartnerTaxEnabled": True}},
                ),
            ]
        )


def _term_id(ctx: AppContext) -> int:
    with ctx.store.session() as s:
        from factor_desktop.services.mappings import find_local

        return find_local(s, "tax_term", "WA-SEA").id


def _drop(window: MainWindow, qbo_id: str) -> None:
    """What a drop of the tax code on the WA-SEA row asks for (as the model emits it)."""
    tab = window.mappings_tab
    row = next(r for r in tab.tax_model.rows() if r.code == "WA-SEA")
    tab.tax_model.mappingRequested.emit("tax_term", row.id, qbo_id, "TaxCode")


def _finished(qtbot: Any, window: MainWindow) -> Any:
    outcomes: list[Any] = []
    window.runner.jobFinished.connect(outcomes.append)
    try:
        qtbot.waitUntil(lambda: any(o.kind == "set_mapping" for o in outcomes), timeout=10_000)
        wait_for_snapshot(qtbot, window)
    finally:
        window.runner.jobFinished.disconnect(outcomes.append)
    return next(o for o in outcomes if o.kind == "set_mapping")


def test_rates_are_shown_and_a_code_of_the_terms_rate_maps_at_once(
    qtbot: Any, make_window: MakeWindow, ctx: AppContext, tax_lists: None
) -> None:
    window = make_window()
    wait_for_snapshot(qtbot, window)
    tab = window.mappings_tab
    codes = tab.tax_candidates
    shown = {codes.index(r, 0).data() for r in range(codes.rowCount())}
    assert {"Seattle (10.35%)", "Alder County (8.5%)"} <= shown
    assert "Automated Sales Tax is on" in tab.tax_section.hint.text()

    _drop(window, "5")
    assert tab.tax_rule_dialog is None  # same rate: no question
    assert _finished(qtbot, window).ok
    with ctx.store.session() as s:
        assert mapped_qbo_id(s, "tax_term", _term_id(ctx)) == "5"
    proxy = tab.tax_view.model()
    row = next(
        r for r in range(proxy.rowCount()) if proxy.index(r, 0).data(RowRole).code == "WA-SEA"
    )
    assert proxy.index(row, TaxTermMappingModel.COL_TAX_CODE).data() == "Seattle (10.35%)"


def test_a_code_of_another_rate_asks_with_override_preselected(
    qtbot: Any, make_window: MakeWindow, ctx: AppContext, tax_lists: None
) -> None:
    window = make_window()
    wait_for_snapshot(qtbot, window)
    tab = window.mappings_tab

    _drop(window, "6")
    dialog = tab.tax_rule_dialog
    assert isinstance(dialog, TaxRuleDialog) and dialog.isVisible()
    assert "WA-SEA (Seattle sales tax) is 10.35%" in dialog.question.text()
    assert "'Alder County' is 8.5%" in dialog.question.text()
    assert dialog.override_button.isChecked() and not dialog.accept_button.isChecked()
    dialog.reject()  # cancelled: nothing requested, nothing saved
    QApplication.processEvents()
    assert tab.message_bar.title.text() == "Not mapped"
    with ctx.store.session() as s:
        assert mapped_qbo_id(s, "tax_term", _term_id(ctx)) == "404"  # as the firm had it

    _drop(window, "6")
    dialog = tab.tax_rule_dialog
    assert dialog is not None and dialog.result() != QDialog.DialogCode.Accepted
    dialog.accept()  # the preselected choice: Factor's tax amount is sent
    assert _finished(qtbot, window).ok
    with ctx.store.session() as s:
        term_id = _term_id(ctx)
        assert mapped_qbo_id(s, "tax_term", term_id) == "6"
        assert chosen_tax_rule(s, term_id) == "override"
    assert "Factor's tax amount is sent to QuickBooks (override)" in tab.message_bar.message.text()
    proxy = tab.tax_view.model()
    row = next(
        r for r in range(proxy.rowCount()) if proxy.index(r, 0).data(RowRole).code == "WA-SEA"
    )
    assert proxy.index(row, TaxTermMappingModel.COL_TAX_CODE).data() == (
        "Alder County (8.5%) · Factor's tax sent"
    )

    _drop(window, "6")  # asked again: the administrator may change the choice
    dialog = tab.tax_rule_dialog
    assert dialog is not None
    dialog.accept_button.setChecked(True)
    dialog.accept()
    assert _finished(qtbot, window).ok
    with ctx.store.session() as s:
        assert chosen_tax_rule(s, _term_id(ctx)) == "accept"
