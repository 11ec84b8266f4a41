"""A firm administrator's first day in a 1024x700 window: nothing scrolls sideways or is cut off,
the import chooser starts in a sensible folder, and a database failure reads as plain words.

The Connection tab wraps its values and shortens a long address in the middle (its tooltip has it
whole); the suggested links name the client and what is proposed, both readable.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QSettings, QStandardPaths, Qt
from PySide6.QtWidgets import QScrollArea, QTableWidget, QTableWidgetItem, QWidget

from factor_desktop.app import AppContext
from factor_desktop.services.suggest import LinkSuggestion
from factor_desktop.ui.formatting import plain_error
from factor_desktop.ui.import_dialog import LAST_FOLDER_KEY, import_file_dialog
from factor_desktop.ui.link_dialog import SuggestedLinksDialog
from factor_desktop.ui.main_window import MainWindow

from .conftest import mark_connected, wait_for_snapshot

pytestmark = pytest.mark.gui


def _cell(table: QTableWidget, row: int, column: int) -> QTableWidgetItem:
    item = table.item(row, column)
    assert item is not None, (row, column)
    return item


MakeWindow = Callable[..., MainWindow]

LONG_DISCOVERY_URL = (
    "http://127.0.0.1:8765/.well-known/openid_sandbox_configuration/with/a/much/longer/path"
    "/than/usual/for/the/discovery/document"
)


def test_the_connection_tab_never_scrolls_sideways_at_1024_pixels(
    qtbot: Any, make_window: MakeWindow, ctx: AppContext
) -> None:
    mark_connected(
        ctx,
        environment=LONG_DISCOVERY_URL,
        warnings=[
            "Custom transaction numbers are off in QuickBooks: invoices get QuickBooks' own "
            "numbers, and Factor's invoice numbers go in the memo instead of the invoice number."
        ],
    )
    window = make_window()
    window.resize(1024, 700)
    wait_for_snapshot(qtbot, window)
    window.tabs.setCurrentIndex(window.TAB_CONNECTION)
    window.first_run.show_guide()
    tab = window.connection_tab
    scroll = tab.findChild(QScrollArea)
    assert scroll is not None
    for guide_width in (300, 420):
        window.resizeDocks([window.first_run], [guide_width], Qt.Orientation.Horizontal)
        room = 1024 - guide_width + 40
        qtbot.waitUntil(lambda: scroll.viewport().width() < room)  # noqa: B023
        qtbot.wait(50)
        assert scroll.horizontalScrollBar().maximum() == 0, guide_width
        # The address is whole in the label's text and tooltip, shortened only on screen.
        label = tab.environment_label
        assert LONG_DISCOVERY_URL in label.text() and LONG_DISCOVERY_URL in label.toolTip()
        assert label.elided()
        assert label.geometry().right() <= scroll.viewport().width()
        assert tab.warnings_label.geometry().right() <= scroll.viewport().width()
    # With room enough, an address of the usual length is shown whole.
    window.first_run.hide()
    window.resize(2400, 700)
    usual = "Local sandbox (http://127.0.0.1:8765/.well-known/openid_sandbox_configuration)"
    tab.environment_label.setText(usual)
    qtbot.waitUntil(lambda: not tab.environment_label.elided())
    assert tab.environment_label.toolTip() == usual


def _suggestion(number: int, name: str, action: str = "link") -> LinkSuggestion:
    return LinkSuggestion(
        action,  # type: ignore[arg-type]
        "client",
        number,
        name,
        "same name apart from case"
        if action == "link"
        else "QuickBooks has no customer of that "
        "name (auto-create is off: link it by hand or turn auto-create on)",
        qbo_id=str(100 + number) if action == "link" else None,
        qbo_name=name if action == "link" else None,
    )


def test_the_suggested_links_show_the_name_and_the_proposal_side_by_side(qtbot: Any) -> None:
    long_name = "Greenfield Community Land Trust of the Upper Valley Watershed Region"
    dialog = SuggestedLinksDialog(
        [
            _suggestion(1, "Bayside Lutheran Church"),
            _suggestion(2, long_name, "create"),
            _suggestion(3, "O'Brien & Sons Builders"),
        ]
    )
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    table = dialog.table
    header = table.horizontalHeader()
    assert dialog.width() <= 1024 and dialog.height() <= 700
    name, proposal = SuggestedLinksDialog.COL_NAME, SuggestedLinksDialog.COL_PROPOSAL
    viewport = table.viewport().width()
    # The proposal is in sight and wide enough to read "Link to 'Bayside Lutheran Church' (Id
    # 101)"; the long name is capped (and whole in its tooltip).
    assert header.sectionViewportPosition(proposal) + header.sectionSize(proposal) <= viewport
    wanted = table.fontMetrics().horizontalAdvance(_cell(table, 0, proposal).text())
    assert header.sectionSize(proposal) >= wanted
    assert header.sectionSize(name) < table.fontMetrics().horizontalAdvance(long_name)
    assert _cell(table, 1, name).toolTip() == long_name
    assert _cell(table, 0, proposal).toolTip() == _cell(table, 0, proposal).text()
    # The tick is on the name: no column of its own, no empty cell beside it.
    assert table.columnCount() == 3
    assert _cell(table, 0, name).text() == "Bayside Lutheran Church"
    assert all(_cell(table, row, name).checkState() is not None for row in range(3))
    dialog.set_ticked(0, False)
    assert [r.local_id for r in dialog.ticked_requests()] == [2, 3]


def test_the_import_chooser_starts_in_documents_and_remembers_the_last_folder(
    qtbot: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    started_in = tmp_path / "where-the-program-started"
    started_in.mkdir()
    monkeypatch.chdir(started_in)
    settings = QSettings(str(tmp_path / "window.ini"), QSettings.Format.IniFormat)
    parent = QWidget()
    qtbot.addWidget(parent)

    def opens_in(remember: bool = True) -> Path:
        dialog = import_file_dialog(parent, settings, remember=remember)
        qtbot.addWidget(dialog)
        return Path(dialog.directory().absolutePath())

    documents = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.DocumentsLocation)
    first = opens_in()
    assert first != started_in
    assert first in {Path(documents), Path.home()}

    exports = tmp_path / "exports"
    exports.mkdir()
    chosen = exports / "firm.json"
    chosen.write_text("{}", encoding="utf-8")
    dialog = import_file_dialog(parent, settings)
    qtbot.addWidget(dialog)
    dialog.fileSelected.emit(str(chosen))
    assert settings.value(LAST_FOLDER_KEY) == str(exports)
    assert opens_in() == exports
    # Tests and the self-test keep nothing.
    other = tmp_path / "other" / "clients.csv"
    other.parent.mkdir()
    quiet = import_file_dialog(parent, settings, remember=False)
    qtbot.addWidget(quiet)
    quiet.fileSelected.emit(str(other))
    assert opens_in() == exports
    # A remembered folder that has gone: Documents (or home) again.
    exports.joinpath("firm.json").unlink()
    exports.rmdir()
    assert opens_in() == first


def test_a_database_failure_reads_as_plain_words() -> None:
    raw = (
        "Something went wrong (OperationalError: (sqlite3.OperationalError) disk I/O error\n"
        "[SQL: SELECT clients.id FROM clients]). The details are in the log file."
    )
    problem = plain_error(raw)
    assert problem.text.startswith("The firm's database could not be read or saved (disk I/O")
    assert "OperationalError" not in problem.text and "SQL" not in problem.text
    assert problem.details == raw and not problem.unreachable
    short = plain_error(
        "Something went wrong (OperationalError: database disk image is malformed). The "
        "details are in the log file."
    )
    assert "(database disk image is malformed)" in short.text
    # Other unexpected failures are left as they were.
    other = "Something went wrong (KeyError: 'x'). The details are in the log file."
    assert plain_error(other).text == other


def test_the_guide_follows_its_docks_width(
    qtbot: Any, make_window: MakeWindow, ctx: AppContext
) -> None:
    window = make_window()
    window.resize(1024, 700)
    wait_for_snapshot(qtbot, window)
    guide = window.first_run
    assert guide.isVisible()
    # The window's own words: no command line to type.
    assert "factor-desktop" not in guide.rows["import"].detail.text()
    scroll = guide.widget()
    assert isinstance(scroll, QScrollArea)
    body = scroll.widget()
    assert body is not None
    for width in (240, 300, 380):
        window.resizeDocks([guide], [width], Qt.Orientation.Horizontal)
        qtbot.waitUntil(lambda: abs(guide.width() - width) < 30)  # noqa: B023
        qtbot.wait(50)
        room = scroll.viewport().width()
        assert body.width() <= room, width
        for row in guide.rows.values():
            for label in (row.title, row.detail):
                right = label.mapTo(body, label.rect().topRight()).x()
                assert right <= room, (width, label.text())
                # Wrapped, each line is whole: the label is as tall as its text needs.
                assert label.height() >= label.heightForWidth(label.width()), label.text()
