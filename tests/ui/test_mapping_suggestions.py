"""Suggested mappings in the window, on the demo firm after its QuickBooks lists are read: the
13 proposals and the 2 tax terms with none, from the first-run guide or Sync > Suggested
Mappings…; accepting the ticked ones maps exactly those, on the worker, and writes nothing to
QuickBooks."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QTableWidget, QTableWidgetItem

from factor_desktop.demo import DemoSession
from factor_desktop.sandbox import SandboxServer
from factor_desktop.services.mappings import mapping_lines
from factor_desktop.sync.connection import ConnectionService
from factor_desktop.sync.engine import SyncEngine
from factor_desktop.sync.reference import refresh_reference
from factor_desktop.ui.main_window import MainWindow
from factor_desktop.ui.mapping_suggestions import (
    MappingSuggestions,
    MappingSuggestionsDialog,
    install,
    suggestions_button,
)
from factor_desktop.ui.menus import menu_of

from .conftest import wait_for_snapshot

pytestmark = pytest.mark.gui


def _cell(table: QTableWidget, row: int, column: int) -> QTableWidgetItem:
    item = table.item(row, column)
    assert item is not None, (row, column)
    return item


DEMO_PAIRS = {
    ("service_type", "Bidding & Negotiation"): "Bidding & Negotiation",
    ("service_type", "Construction Administration"): "Construction Administration",
    ("service_type", "Construction Documents"): "Construction Documents",
    ("service_type", "Design Development"): "Design Development",
    ("service_type", "Programming"): "Programming",
    ("service_type", "Schematic Design"): "Schematic Design",
    ("expense_type", "Landscape Architecture"): "Landscape Architecture Consultants",
    ("expense_type", "MEP Engineering"): "MEP Engineering Consultants",
    ("expense_type", "Mileage"): "Mileage",
    ("expense_type", "Printing & Reproduction"): "Printing and Reproduction",
    ("expense_type", "Structural Engineering"): "Structural Engineering Consultants",
    ("expense_type", "Travel"): "Travel",
    ("tax_term", "NON"): "NON",
}


def _company(qbo: SandboxServer) -> dict[str, list[tuple[str, Any, Any]]]:
    """Every record of the sandbox company with its SyncToken and last change."""
    sandbox = qbo.sandbox
    return {
        entity: [
            (r.id, r.doc.get("SyncToken"), (r.doc.get("MetaData") or {}).get("LastUpdatedTime"))
            for r in sandbox.store.all(sandbox.realm_id, entity, include_deleted=True)
        ]
        for entity in sorted(sandbox.store.count(sandbox.realm_id))
    }


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[DemoSession]:
    """The demo firm connected to its sandbox company, the lists read, nothing mapped yet."""
    session = DemoSession(tmp_path, fresh=True)
    try:
        session.start_sandbox()
        session.load_firm()
        connection = ConnectionService(session.ctx.store, session.ctx.tokens)
        try:
            session.connect(connection)
            engine = SyncEngine(
                session.ctx.store,
                connection,
                session.ctx.data.attachments,
                steps=[("Reading QuickBooks lists", refresh_reference)],
            )
            engine.run(kind="lists")
        finally:
            connection.http.close()
        yield session
    finally:
        session.stop()
        session.close()


def _mapped(demo: DemoSession) -> dict[tuple[str, str], str | None]:
    with demo.ctx.store.session() as session:
        return {
            (line.kind, line.name): line.qbo_name
            for line in mapping_lines(session)
            if line.qbo_id is not None
        }


def test_accepting_the_ticked_suggestions_maps_exactly_those(qtbot: Any, demo: DemoSession) -> None:
    assert demo.sandbox is not None
    before = _company(demo.sandbox)
    window = MainWindow(demo.ctx.store, demo.ctx.tokens, open_url=lambda url: None)
    qtbot.addWidget(window)
    try:
        action = window.menu_actions.suggest_mappings
        assert action in menu_of(window, "Sync").actions()
        suggestions = window.mapping_suggestions
        assert action.isEnabled()
        window.resize(1024, 700)
        window.show()
        wait_for_snapshot(qtbot, window)

        # The guide's step 4 offers them: the lists are read and types are left to map.
        guide = window.first_run
        button = guide.rows["mappings"].suggest_button
        assert button is not None and button.isVisible() and button.isEnabled()
        button.click()
        assert window.tabs.currentIndex() == window.TAB_MAPPINGS
        qtbot.waitUntil(lambda: suggestions.dialog is not None, timeout=10_000)
        dialog = suggestions.dialog
        assert isinstance(dialog, MappingSuggestionsDialog)
        assert dialog.width() <= 1024 and dialog.height() <= 700
        proposed = {(s.kind, s.local_name): s.qbo_name for s in dialog.suggestions}
        assert proposed == DEMO_PAIRS
        assert {(u.kind, u.local_name) for u in dialog.unmatched} == {
            ("tax_term", "EXEMPT"),
            ("tax_term", "PA-CITY"),
        }
        table = dialog.table
        assert table.rowCount() == 15
        for row in range(13):
            name = _cell(table, row, dialog.COL_TYPE)
            assert name.checkState() == Qt.CheckState.Checked
            assert _cell(table, row, dialog.COL_WHY).text().startswith("same name")
        for row in (13, 14):
            name = _cell(table, row, dialog.COL_TYPE)
            assert not name.flags() & Qt.ItemFlag.ItemIsUserCheckable  # greyed, nothing to tick
            assert _cell(table, row, dialog.COL_RECORD).text() == "No suggestion"
            assert "no QuickBooks tax code" in _cell(table, row, dialog.COL_WHY).text()
        reasons = {s.local_name: s.reason for s in dialog.suggestions}
        assert reasons["Printing & Reproduction"] == "same name, '&' read as 'and'"
        assert "'Consultants' aside" in reasons["MEP Engineering"]
        # The reason stays in sight beside the name and the record at 1024 pixels.
        header = table.horizontalHeader()
        why = dialog.COL_WHY
        assert header.sectionViewportPosition(why) + 80 < table.viewport().width()

        # Untick all but three; only those are mapped.
        chosen = {"Mileage", "Printing & Reproduction", "NON"}
        for row in range(len(dialog.suggestions)):
            dialog.set_ticked(row, False)
        assert not dialog.accept_selected.isEnabled(), "nothing ticked, nothing to accept"
        for row, suggestion in enumerate(dialog.suggestions):
            dialog.set_ticked(row, suggestion.local_name in chosen)
        assert {s.local_name for s in dialog.ticked()} == chosen
        assert dialog.accept_selected.isEnabled()
        with qtbot.waitSignal(suggestions.applied, timeout=10_000) as applied:
            dialog.accept_selected.click()
            assert not dialog.accept_all.isEnabled(), "not twice while saving"
        ok, message = applied.args
        assert ok and message.startswith("Mapped 3 of the 3 accepted.")
        assert _mapped(demo) == {key: v for key, v in DEMO_PAIRS.items() if key[1] in chosen}
        assert dialog.result_banner.title.text() == "Mapped"
        # The list is read again: the mapped ones are no longer proposed.
        qtbot.waitUntil(lambda: len(dialog.suggestions) == 10, timeout=10_000)
        assert dialog.accept_all.isEnabled()
        snapshot = wait_for_snapshot(qtbot, window)
        assert sum(mapped for _k, mapped, _t in snapshot.coverage) == 3

        # Accept all maps the rest; the guide's button goes once no type has a match left.
        with qtbot.waitSignal(suggestions.applied, timeout=10_000):
            dialog.accept_all.click()
        assert _mapped(demo) == DEMO_PAIRS
        qtbot.waitUntil(lambda: not dialog.suggestions, timeout=10_000)
        assert not dialog.accept_all.isEnabled()
        assert "No type left to map" in dialog.empty_label.text()
        dialog.close_button.click()
        qtbot.waitUntil(lambda: suggestions.dialog is None)
        # Suggesting and mapping wrote nothing to QuickBooks.
        assert _company(demo.sandbox) == before
    finally:
        window.shutdown()


def test_the_menu_and_a_tab_button_open_the_same_dialog(qtbot: Any, demo: DemoSession) -> None:
    window = MainWindow(demo.ctx.store, demo.ctx.tokens, open_url=lambda url: None)
    qtbot.addWidget(window)
    try:
        suggestions = install(window)
        window.show()
        window.menu_actions.suggest_mappings.trigger()
        qtbot.waitUntil(lambda: suggestions.dialog is not None, timeout=10_000)
        first = suggestions.dialog
        button = suggestions_button(suggestions)
        qtbot.addWidget(button)
        button.click()
        qtbot.wait(200)
        qtbot.waitUntil(lambda: suggestions._suggest_job is None, timeout=10_000)
        assert first is not None and suggestions.dialog is first, "asked again, brought forward"
        assert len(first.suggestions) == 13
        first.reject()
    finally:
        window.shutdown()


def test_before_the_lists_are_read_the_dialog_says_so(qtbot: Any, make_window: Any) -> None:
    window = make_window()
    suggestions = MappingSuggestions(window.runner, window)
    wait_for_snapshot(qtbot, window)
    suggestions.show_suggestions()
    qtbot.waitUntil(lambda: suggestions.dialog is not None, timeout=10_000)
    dialog = suggestions.dialog
    assert dialog is not None
    assert dialog.table.rowCount() == 0
    assert "No QuickBooks lists have been read yet" in dialog.empty_label.text()
    assert not dialog.accept_all.isEnabled() and not dialog.accept_selected.isEnabled()
    # The guide has nothing to offer yet either.
    button = window.first_run.rows["mappings"].suggest_button
    assert button is not None and not button.isVisible()
    dialog.reject()
