"""The window's finish: menus and shortcuts, the status bar's layout, import and settings from
the window, colours that read in light and dark palettes, the window's size, the sign-in link
without a browser, and a QuickBooks outage said in plain words."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QRect, QSettings, QSize, Qt, qVersion
from PySide6.QtGui import QColor, QGuiApplication, QKeySequence, QPalette
from PySide6.QtWidgets import QApplication, QStyleFactory, QWidget
from sqlalchemy import func, select
from werkzeug.wrappers import Request

from factor_desktop import __version__
from factor_desktop.app import AppContext
from factor_desktop.sandbox import SandboxConfig, SandboxServer
from factor_desktop.sandbox.app import SandboxApp
from factor_desktop.settings import SettingsError, load_settings, update_setting
from factor_desktop.store.models import Client, Project, QboRecord
from factor_desktop.ui import colors
from factor_desktop.ui.colors import contrast_ratio, follow_palette
from factor_desktop.ui.connect_dialog import PAGE_WAITING, redirect_uri_of
from factor_desktop.ui.formatting import UNREACHABLE, plain_error
from factor_desktop.ui.jobs import JobOutcome
from factor_desktop.ui.main_window import MainWindow, fit_to_screen, platform_title
from factor_desktop.ui.menus import SELF_TEST_TIP, menu_of, menu_titles
from factor_desktop.ui.status_bar import ElidedLabel, time_left_estimate

from .conftest import Firm, mark_connected, wait_for_snapshot
from .test_connect import connect_directly, fill

pytestmark = pytest.mark.gui

MakeWindow = Callable[..., MainWindow]


def _texts(window: MainWindow, menu: str) -> list[str]:
    return [a.text().replace("&", "") for a in menu_of(window, menu).actions() if a.text()]


def _finished(qtbot: Any, window: MainWindow, kind: str, timeout: int = 30_000) -> JobOutcome:
    outcomes: list[JobOutcome] = []
    window.runner.jobFinished.connect(outcomes.append)
    try:
        qtbot.waitUntil(lambda: any(o.kind == kind for o in outcomes), timeout=timeout)
    finally:
        window.runner.jobFinished.disconnect(outcomes.append)
    return next(o for o in outcomes if o.kind == kind)


# --- menus and shortcuts ---------------------------------------------------------------------


def test_menus_shortcuts_and_help(qtbot: Any, make_window: MakeWindow, ctx: AppContext) -> None:
    mark_connected(ctx)
    opened: list[str] = []

    def viewer(url: str) -> bool:
        opened.append(url)
        return True

    window = make_window(open_url=viewer)
    wait_for_snapshot(qtbot, window)
    assert menu_titles(window) == ["File", "View", "Sync", "Help"]
    assert _texts(window, "File") == ["Import…", "Settings…", "Quit"]
    assert _texts(window, "Sync") == [
        "Sync Now",
        "Preview Sync…",
        "Cancel Sync",
        "Refresh QuickBooks Lists",
        "Suggested Mappings…",
    ]
    assert _texts(window, "Help") == [
        "Getting Started",
        "Run Self-Test",
        "Documentation",
        "About Factor Desktop",
    ]

    # The menus show each action's shortcut; the tooltips end with it while it can be used.
    assert window.sync_action.shortcut() == QKeySequence("Ctrl+Shift+S")
    assert window.sync_action.isEnabled()
    assert window.sync_action.toolTip().endswith("(Ctrl+Shift+S)")
    assert window.preview_action.toolTip().endswith("(Ctrl+Shift+P)")
    assert window.menu_actions.refresh.shortcuts()[0] == QKeySequence("Ctrl+R")
    assert window.menu_actions.import_file.toolTip().endswith("(Ctrl+I)")
    assert window.refresh_lists_action.isEnabled()
    assert window.menu_actions.self_test.isEnabled()
    assert window.menu_actions.self_test.toolTip() == SELF_TEST_TIP

    # Ctrl+R reads the records again.
    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window)
    with qtbot.waitSignal(window.snapshotApplied, timeout=10_000):
        qtbot.keyClick(window, Qt.Key.Key_R, Qt.KeyboardModifier.ControlModifier)

    box = window.dialogs.show_about()
    about = box.informativeText()
    assert f"Factor Desktop {__version__}" == box.text()
    assert f"Qt {qVersion()}" in about and "PySide6 " in about
    assert f"Data folder: {window.data_folder}" in about
    box.close()

    assert window.dialogs.open_documentation()
    assert opened and opened[-1].startswith("file://") and opened[-1].endswith("README.md")


def test_the_demo_title_names_the_app_once(qtbot: Any, make_window: MakeWindow) -> None:
    before = QGuiApplication.applicationDisplayName()
    QGuiApplication.setApplicationDisplayName("Factor Desktop")
    try:
        plain = make_window()
        assert platform_title(plain.windowTitle()) == "Factor Desktop"
        demo = make_window(title="Factor Desktop — Demo")
        assert demo.windowTitle() == "Factor Desktop — Demo"
        assert platform_title(demo.windowTitle()) == "Factor Desktop — Demo"
    finally:
        QGuiApplication.setApplicationDisplayName(before)


# --- the status bar ----------------------------------------------------------------------------


def _inside(rect: QRect, outer: QRect) -> bool:
    return outer.contains(rect.topLeft()) and outer.contains(rect.bottomRight())


def _bar_rect(window: MainWindow, widget: QWidget) -> QRect:
    top_left = widget.mapTo(window.status, widget.rect().topLeft())
    return QRect(top_left, widget.size())


def test_the_status_bar_never_overlaps_at_1024(
    qtbot: Any, make_window: MakeWindow, ctx: AppContext, firm: Firm
) -> None:
    mark_connected(ctx, company="Alder & Finch Architects, Landscape and Interiors LLP")
    window = make_window(status_note="Demo: tokens kept in memory for this session")
    window.resize(1024, 700)
    wait_for_snapshot(qtbot, window)
    long_message = (
        "The sync finished, but some records could not go through; the Sync Log says why."
    )
    window.statusBar().showMessage(long_message, 60_000)
    # A sync starts while the message shows: the progress area takes its own place.
    window.status.show_progress("Syncing with QuickBooks…")
    window.status.progress.report("Sending invoices", 2, 4)
    qtbot.waitUntil(lambda: window.status.progress.isVisible())
    QApplication.processEvents()

    status = window.status
    assert status.message.text() == long_message
    assert status.currentMessage() == long_message
    fields = status.visible_fields()
    assert status.message in fields and status.progress in fields
    assert status.state in fields and status.last_sync in fields
    bar = status.rect()
    rects = {id(w): _bar_rect(window, w) for w in fields}
    for widget in fields:
        assert _inside(rects[id(widget)], bar), widget
    for i, first in enumerate(fields):
        for second in fields[i + 1 :]:
            assert not rects[id(first)].intersects(rects[id(second)]), (first, second)
    assert not _bar_rect(window, status.message).intersects(_bar_rect(window, status.progress))
    assert status.progress.text().startswith("3 of 4 · Sending invoices")
    char = status.fontMetrics().averageCharWidth()
    for label in (f for f in fields if isinstance(f, ElidedLabel)):
        # Shortened, never to nothing; a cut field has its full text in its tooltip.
        assert label.width() >= char * 6, label.text()
        if label.is_elided():
            assert label.full_tooltip().startswith(label.text())

    # Once the sync is over and the message gone, the fields keep their words.
    window.status.hide_progress()
    window.statusBar().clearMessage()
    QApplication.processEvents()
    assert window.sync_progress.isHidden()
    for label in (status.last_sync, status.next_sync):
        assert label.isVisible() and not label.is_elided(), label.text()
    assert status.state.isVisible()


def test_an_elided_label_keeps_its_text(qtbot: Any) -> None:
    label = ElidedLabel("Data: /home/someone/.local/share/FactorDesktop/firm.sqlite3")
    label.setToolTip("The firm's database")
    qtbot.addWidget(label)
    label.setFixedWidth(80)
    label.show()
    assert label.is_elided()
    assert label.shown_text().endswith("…")
    assert label.text().startswith("Data: /home")
    assert label.full_tooltip() == f"{label.text()}\n\nThe firm's database"
    label.setFixedWidth(label.natural_width() + 4)
    assert not label.is_elided()
    assert label.full_tooltip() == "The firm's database"


def test_time_left_estimate() -> None:
    assert time_left_estimate(10.0, 0, 4) == ""
    assert time_left_estimate(10.0, 2, 4) == "about 10 s left"
    assert time_left_estimate(120.0, 1, 4) == "about 6 min left"
    assert time_left_estimate(10.0, 4, 4) == ""


# --- colours -----------------------------------------------------------------------------------


def _dark_palette() -> QPalette:
    palette = QPalette()
    for role, color in (
        (QPalette.ColorRole.Window, "#353535"),
        (QPalette.ColorRole.WindowText, "#f0f0f0"),
        (QPalette.ColorRole.Base, "#2a2a2a"),
        (QPalette.ColorRole.AlternateBase, "#424242"),
        (QPalette.ColorRole.Text, "#f0f0f0"),
        (QPalette.ColorRole.Button, "#353535"),
        (QPalette.ColorRole.ButtonText, "#f0f0f0"),
    ):
        palette.setColor(role, QColor(color))
    return palette


def _light_palette() -> QPalette:
    style = QStyleFactory.create("Fusion")
    assert style is not None
    return style.standardPalette()


@pytest.mark.parametrize("name", ["light", "dark"])
def test_meaning_colours_read_at_4_5_to_1(name: str) -> None:
    palette = _light_palette() if name == "light" else _dark_palette()
    try:
        follow_palette(palette)
        for kind, color in (
            ("error", colors.ERROR_COLOR),
            ("warning", colors.WARNING_COLOR),
            ("muted", colors.MUTED_COLOR),
        ):
            for role in (
                QPalette.ColorRole.Window,
                QPalette.ColorRole.Base,
                QPalette.ColorRole.AlternateBase,
            ):
                ratio = contrast_ratio(color, palette.color(role))
                assert ratio >= 4.5, (name, kind, role, round(ratio, 2))
        for kind in ("info", "warning", "error"):
            background, _border, text = colors.banner_colors(kind, palette)
            assert contrast_ratio(QColor(text), QColor(background)) >= 4.5
    finally:
        follow_palette()


def test_contrast_ratio_matches_wcag() -> None:
    assert round(contrast_ratio(QColor("black"), QColor("white")), 1) == 21.0
    assert contrast_ratio(QColor("#777777"), QColor("#777777")) == 1.0
    # The old fixed warning colour on a dark window: what made it unreadable.
    assert contrast_ratio(QColor(168, 84, 0), QColor("#353535")) < 2.5


def test_a_dark_palette_changes_the_window_colours(
    qtbot: Any, make_window: MakeWindow, ctx: AppContext, firm: Firm
) -> None:
    window = make_window()
    wait_for_snapshot(qtbot, window)
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    before = app.palette()
    try:
        app.setPalette(_dark_palette())
        qtbot.waitUntil(
            lambda: contrast_ratio(colors.WARNING_COLOR, QColor("#353535")) >= 4.5, timeout=5_000
        )
        # The partial last run is painted in the dark shade now.
        assert colors.WARNING_COLOR.name() in window.sync_status.styleSheet()
    finally:
        app.setPalette(before)
        follow_palette()


# --- size ----------------------------------------------------------------------------------


def test_the_window_fits_the_screen_and_remembers_its_size(
    qtbot: Any, ctx: AppContext, tmp_path: Path
) -> None:
    assert fit_to_screen(QSize(1280, 800), QSize(1024, 700)).width() <= 1024
    assert fit_to_screen(QSize(1280, 800), QSize(1024, 700)).height() <= 700
    assert fit_to_screen(QSize(900, 600), QSize(2560, 1440)) == QSize(900, 600)
    settings = QSettings(str(tmp_path / "window.ini"), QSettings.Format.IniFormat)

    window = MainWindow(
        ctx.store, ctx.tokens, ui_settings=settings, remember_layout=True, open_url=lambda url: None
    )
    qtbot.addWidget(window)
    window.show()
    screen = window.screen().availableGeometry()
    assert window.width() <= screen.width() and window.height() <= screen.height()
    # Its layouts fit 1024x700 (a 2048x1400 screen at scale 2).
    hint = window.minimumSizeHint()
    assert hint.width() <= 1024 and hint.height() <= 700, hint
    window.resize(700, 520)
    window.shutdown()

    again = MainWindow(ctx.store, ctx.tokens, ui_settings=settings, open_url=lambda url: None)
    qtbot.addWidget(again)
    assert not again.remembers_layout, "a window on the offscreen screen leaves it alone"
    try:
        assert again.size() == QSize(700, 520)
    finally:
        again.shutdown()


# --- settings ------------------------------------------------------------------------------


def test_settings_are_checked_like_the_command_and_saved_on_the_worker(
    qtbot: Any, make_window: MakeWindow, ctx: AppContext
) -> None:
    window = make_window()
    wait_for_snapshot(qtbot, window)
    dialog = window.dialogs.open_settings()
    qtbot.waitUntil(lambda: dialog.save_button.isEnabled(), timeout=10_000)
    assert dialog.auto_sync_spin.value() == 15
    assert dialog.example_label.text() == "INV-0001"

    # The command line's message for the same value, word for word.
    with ctx.store.session() as s, pytest.raises(SettingsError) as refused:
        update_setting(s, "auto_sync_minutes", "5000")
    dialog.auto_sync_spin.setValue(5000)
    assert dialog.save() is None
    assert dialog.error_label.isVisible()
    assert dialog.error_label.text() == str(refused.value)

    dialog.auto_sync_spin.setValue(30)
    dialog.prefix_edit.setText("A:")
    assert dialog.save() is None
    assert "colon" in dialog.error_label.text()
    assert "colon" in dialog.example_label.text()

    dialog.prefix_edit.setText("AF-")
    dialog.next_number_spin.setValue(120)
    dialog.create_projects_check.setChecked(False)
    with qtbot.waitSignal(dialog.saved, timeout=10_000):
        job = dialog.save()
        assert job is not None
    with ctx.store.session() as s:
        saved = load_settings(s)
    assert saved.auto_sync_minutes == 30
    assert saved.auto_create_projects is False and saved.auto_create_customers is True
    assert (saved.invoice_numbering.prefix, saved.invoice_numbering.next_number) == ("AF-", 120)
    qtbot.waitUntil(lambda: window.dialogs.settings_dialog is None)
    assert window.statusBar().currentMessage() == "Settings saved."


# --- import --------------------------------------------------------------------------------


def _count(ctx: AppContext, model: Any) -> int:
    with ctx.store.session() as s:
        return int(s.scalar(select(func.count()).select_from(model)) or 0)


def test_import_lists_every_problem_and_imports_nothing(
    qtbot: Any, make_window: MakeWindow, ctx: AppContext, tmp_path: Path
) -> None:
    bad = tmp_path / "firm.json"
    bad.write_text(
        json.dumps(
            {
                "clients": [{"name": "Harbor Point Holdings"}],
                "projects": [
                    {"number": "2025-001", "name": "Pier", "client": "Harbor Point Holdings"},
                    {"number": "2025-002", "name": "Annex", "client": "Cafe Lumiere"},
                ],
            },
            indent=2,
        ),
        encoding="utf-8",
    )
    window = make_window()
    wait_for_snapshot(qtbot, window)
    job = window.imports.import_file(bad)
    assert job is not None and not window.menu_actions.import_file.isEnabled()
    qtbot.waitUntil(lambda: window.imports.problems_dialog is not None, timeout=15_000)
    dialog = window.imports.problems_dialog
    assert dialog is not None
    assert dialog.headline.text().startswith("Nothing was imported from firm.json")
    rows = [
        [dialog.model.index(r, c).data() for c in range(4)] for r in range(dialog.model.rowCount())
    ]
    assert rows, "the problems are listed"
    file_name, line, field, reason = rows[0]
    assert file_name == "firm.json" and line.isdigit() and int(line) > 1
    assert field.startswith("projects[1]") and "Cafe Lumiere" in reason
    assert "Traceback" not in dialog.problems_text()
    assert "firm.json:" in dialog.problems_text()
    assert _count(ctx, Client) == 0 and _count(ctx, Project) == 0
    assert window.menu_actions.import_file.isEnabled()
    dialog.close()

    good = tmp_path / "clients.csv"
    good.write_text("name,email\nHarbor Point Holdings,ap@harbor.example\n", encoding="utf-8")
    window.imports.import_file(good)
    outcome = _finished(qtbot, window, "import")
    assert outcome.ok and outcome.result.ok
    assert _count(ctx, Client) == 1
    assert window.statusBar().currentMessage() == "Imported clients.csv: 1 clients created."


def test_the_import_menu_asks_for_a_file(qtbot: Any, make_window: MakeWindow) -> None:
    window = make_window()
    window.menu_actions.import_file.trigger()
    dialog = window.imports.import_dialog
    assert dialog is not None and dialog.isVisible()
    assert "Factor records (*.json *.csv)" in dialog.nameFilters()
    dialog.reject()
    qtbot.waitUntil(lambda: window.imports.import_dialog is None)


# --- plain errors and the outage -------------------------------------------------------------


def test_plain_errors() -> None:
    raw = (
        "Factor Desktop could not reach QuickBooks: ConnectionError: HTTPConnectionPool("
        "host='127.0.0.1', port=5001): Max retries exceeded with url: /v3/company/1/query "
        "(intuit_tid none)"
    )
    problem = plain_error(raw)
    assert problem.unreachable and problem.text == UNREACHABLE and problem.details == raw
    assert "Max retries" not in problem.text
    refused = plain_error("QuickBooks no longer accepts this connection (invalid_grant).")
    assert not refused.unreachable and "invalid_grant" in refused.text
    assert plain_error("Auto-sync interval: 0 (off) to 1440 minutes.").text.startswith("Auto")
    assert plain_error(None).text.startswith("Something went wrong")


@pytest.fixture
def sandbox() -> Iterator[SandboxServer]:
    server = SandboxServer(SandboxConfig(seed="empty", auto_approve=True)).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.mark.integration
def test_an_outage_is_said_plainly_and_notified_when_minimised(
    qtbot: Any, make_window: MakeWindow, ctx: AppContext, sandbox: SandboxServer
) -> None:
    connect_directly(ctx, sandbox)
    window = make_window()
    wait_for_snapshot(qtbot, window)
    assert window.connection_tab.state_label.text() == "Connected"
    sandbox.stop()  # QuickBooks goes away
    window.showMinimized()
    qtbot.waitUntil(window.isMinimized)
    window.sync.auto_sync()  # the timer's turn
    outcome = _finished(qtbot, window, "sync", timeout=60_000)
    wait_for_snapshot(qtbot, window)
    assert outcome.error is not None or outcome.result.status == "failed"
    assert window.statusBar().currentMessage() == UNREACHABLE
    tab = window.connection_tab
    assert tab.unreachable
    assert "can't be reached" in tab.state_label.text()
    assert not tab.unreachable_banner.isHidden()
    assert window.state_status.text() == "Can't reach QuickBooks"
    window.showNormal()
    qtbot.waitUntil(lambda: window.state_status.isVisible() and window.state_status.width() > 0)
    QApplication.processEvents()
    assert not window.state_status.is_elided()
    assert not window.sync_status.is_elided()
    assert "Max retries" not in window.state_status.text() + tab.unreachable_banner.title.text()
    assert window.last_notification == ("Factor Desktop: the sync failed", UNREACHABLE)


# --- connecting without a browser -----------------------------------------------------------


@pytest.mark.integration
def test_no_browser_shows_the_link_to_copy(
    qtbot: Any, make_window: MakeWindow, sandbox: SandboxServer
) -> None:
    tried: list[str] = []

    def no_browser(url: str) -> bool:
        tried.append(url)
        return False

    window = make_window(open_url=no_browser)
    wait_for_snapshot(qtbot, window)
    dialog = window.connection.open_connect_dialog()
    fill(dialog, sandbox)
    dialog.start()
    qtbot.waitUntil(lambda: dialog.link_box.isVisible(), timeout=10_000)
    assert tried, "a browser was tried first"
    assert dialog.pages.currentIndex() == PAGE_WAITING
    assert dialog.link_edit.text() == tried[0]
    assert "No browser could be opened" in dialog.waiting_title.text()
    assert dialog.paste_edit.isVisible()
    redirect = redirect_uri_of(tried[0])
    assert redirect.startswith("http://localhost:") and redirect.endswith("/callback")
    assert redirect in dialog.redirect_label.text()
    assert "paste it below" in dialog.link_steps.text()
    qtbot.mouseClick(dialog.copy_button, Qt.MouseButton.LeftButton)
    assert QGuiApplication.clipboard().text() == tried[0]
    dialog.cancel()


@pytest.mark.integration
def test_the_administrator_can_choose_not_to_open_a_browser(
    qtbot: Any, make_window: MakeWindow, sandbox: SandboxServer
) -> None:
    tried: list[str] = []
    window = make_window(open_url=tried.append)
    wait_for_snapshot(qtbot, window)
    dialog = window.connection.open_connect_dialog()
    fill(dialog, sandbox)
    dialog.no_browser_check.setChecked(True)
    dialog.start()
    qtbot.waitUntil(lambda: dialog.link_box.isVisible(), timeout=10_000)
    assert tried == []
    assert dialog.waiting_title.text() == "Open this link in a browser"
    dialog.cancel()


# --- reading QuickBooks' lists -----------------------------------------------------------------


@pytest.mark.integration
def test_refresh_quickbooks_lists_reads_only(
    qtbot: Any, make_window: MakeWindow, ctx: AppContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[tuple[str, str]] = []
    answer = SandboxApp.api

    def recording(self: SandboxApp, request: Request, realm: str, segments: list[str]) -> Any:
        seen.append((request.method, segments[0] if segments else ""))
        return answer(self, request, realm, segments)

    monkeypatch.setattr(SandboxApp, "api", recording)
    with SandboxServer(SandboxConfig(seed="demo", auto_approve=True)) as qbo:
        connect_directly(ctx, qbo)
        window = make_window()
        wait_for_snapshot(qtbot, window)
        seen.clear()
        assert window.refresh_lists_action.isEnabled()
        window.refresh_lists_action.trigger()
        assert window.status.progress_shown() and not window.sync_action.isEnabled()
        outcome = _finished(qtbot, window, "refresh_lists")
        assert outcome.ok, outcome.error
        assert outcome.result.kind == "lists" and outcome.result.status == "ok"
        assert seen, "the lists were read"
        assert [(m, s) for m, s in seen if m != "GET" and s != "query"] == []
        with ctx.store.session() as s:
            cached = s.scalar(select(func.count()).select_from(QboRecord)) or 0
        assert cached > 0
        assert window.statusBar().currentMessage().startswith("QuickBooks lists read")
        assert window.sync_status.text() == "No sync yet", "reading lists is not a sync"
        window.shutdown()


def test_column_widths_are_remembered(
    qtbot: Any, ctx: AppContext, firm: Firm, tmp_path: Path
) -> None:
    settings = QSettings(str(tmp_path / "columns.ini"), QSettings.Format.IniFormat)

    def window() -> MainWindow:
        made = MainWindow(
            ctx.store, ctx.tokens, ui_settings=settings, remember_layout=True, open_url=print
        )
        qtbot.addWidget(made)
        made.resize(1280, 800)
        made.show()
        wait_for_snapshot(qtbot, made)
        return made

    first = window()
    header = first.invoices_tab.view.horizontalHeader()
    assert header.sectionSize(1) != 333
    header.resizeSection(1, 333)
    first.shutdown()

    second = window()
    try:
        assert second.invoices_tab.view.horizontalHeader().sectionSize(1) == 333
    finally:
        second.shutdown()
