"""Receipts inside the window: the Expenses tab's pane and the viewer dialog, on the demo.

The demo company is synced once for the module (a real sandbox, the real sync); each test then
shows its receipts through the window's own worker thread and checks the pixels drawn.
"""

from __future__ import annotations

import shutil
import threading
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import keyring
import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QImage
from PySide6.QtTest import QTest

from factor_desktop.app import AppContext, open_context
from factor_desktop.demo import DemoSession
from factor_desktop.receipts import ReceiptInfo
from factor_desktop.secrets import MemoryKeyring
from factor_desktop.sync.connection import ConnectionService
from factor_desktop.sync.engine import SyncEngine
from factor_desktop.ui.jobs import JobRunner, default_env_factory
from factor_desktop.ui.main_window import MainWindow
from factor_desktop.ui.receipts.dialog import ReceiptDialog
from factor_desktop.ui.receipts.viewer import ReceiptViewer
from factor_desktop.ui.tabs.expenses import ExpensesTab
from factor_desktop.views import ExpenseRow, load_snapshot

pytestmark = [pytest.mark.gui, pytest.mark.integration]


@pytest.fixture(scope="module")
def demo_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data folder whose demo profile has been synced once with the demo sandbox company."""
    root = tmp_path_factory.mktemp("receipts-demo")
    previous = keyring.get_keyring()
    keyring.set_keyring(MemoryKeyring())
    demo = DemoSession(root, fresh=True)
    try:
        demo.start_sandbox()
        demo.load_firm()
        service = ConnectionService(demo.ctx.store, demo.ctx.tokens)
        try:
            demo.connect(service)
            demo.prepare_mappings(service)
            summary = SyncEngine(demo.ctx.store, service, demo.ctx.data.attachments).run()
            assert summary.status in ("ok", "partial"), summary.error
        finally:
            service.http.close()
    finally:
        demo.close()
        keyring.set_keyring(previous)
    return demo.root


@pytest.fixture
def demo_ctx(demo_data: Path, tmp_path: Path) -> Iterator[AppContext]:
    """The synced demo profile, copied so that a test may change it."""
    copy = tmp_path / "demo"
    shutil.copytree(demo_data, copy, ignore=shutil.ignore_patterns("sandbox.sqlite3*"))
    ctx = open_context(copy, "demo")
    try:
        yield ctx
    finally:
        ctx.close()


@pytest.fixture
def demo_runner(qtbot: Any, demo_ctx: AppContext) -> Iterator[JobRunner]:
    runner = JobRunner(default_env_factory(demo_ctx.store, demo_ctx.tokens))
    yield runner
    runner.shutdown()
    assert not runner.running


def ink(image: QImage) -> float:
    """The share of clearly dark pixels: text and rules on a receipt, none on a blank page."""
    image = image.convertToFormat(QImage.Format.Format_RGB32)
    width, height = image.width(), image.height()
    assert width > 20 and height > 20, (width, height)
    step = max(1, min(width, height) // 300)
    dark = total = 0
    for y in range(0, height, step):
        for x in range(0, width, step):
            total += 1
            if image.pixelColor(x, y).lightness() < 140:
                dark += 1
    return dark / total


def shown(viewer: ReceiptViewer) -> QImage:
    """What the viewer's page area draws now, as pixels."""
    return viewer.image_label.grab().toImage()


def wait_page(qtbot: Any, viewer: ReceiptViewer, receipt: int, page: int) -> None:
    qtbot.waitUntil(
        lambda: (
            viewer.page is not None
            and (viewer.receipt_index, viewer.page_index) == (receipt, page)
            and viewer.stack.currentIndex() == viewer.PAGE_IMAGE
        ),
        timeout=15_000,
    )


def expenses_tab(qtbot: Any, ctx: AppContext, runner: JobRunner) -> ExpensesTab:
    tab = ExpensesTab()
    qtbot.addWidget(tab)
    tab.resize(1280, 760)
    tab.attach_runner(runner)
    tab.show()
    tab.show_snapshot(load_snapshot(ctx.store, ctx.tokens))
    return tab


def with_receipts(tab: ExpensesTab) -> list[ExpenseRow]:
    return [row for row in tab.model.rows() if row.receipt_files]


def test_every_demo_receipt_shows_inline_pdf_pages_and_images(
    qtbot: Any, demo_ctx: AppContext, demo_runner: JobRunner
) -> None:
    tab = expenses_tab(qtbot, demo_ctx, demo_runner)
    rows = with_receipts(tab)
    kinds = {r.kind for row in rows for r in row.receipt_files}
    assert kinds == {"pdf", "image"} and len(rows) >= 4
    assert "5 receipts" in tab.summary.text()
    pane = tab.receipt_pane
    pdf_pages = 0
    for row in rows:
        assert all(r.path is not None and r.path.is_file() for r in row.receipt_files)
        assert tab.select_expense(row.id)
        wait_page(qtbot, pane, 0, 0)
        receipt = pane.current
        assert receipt is not None and receipt.file_name == row.receipt_files[0].file_name
        assert pane.heading.text() == receipt.file_name
        first = shown(pane)
        assert ink(first) > 0.002, f"{receipt.file_name} drew a blank page"
        assert pane.open_button.isEnabled() and pane.save_button.isEnabled()
        if receipt.kind == "pdf":
            # The sub-consultants' invoices run to two pages: page through to the second.
            assert pane.page_count == 2 and "Page 1 of 2" in pane.position_label.text()
            assert pane.next_button.isEnabled() and not pane.prev_button.isEnabled()
            QTest.mouseClick(pane.next_button, Qt.MouseButton.LeftButton)
            wait_page(qtbot, pane, 0, 1)
            second = shown(pane)
            assert ink(second) > 0.002 and second != first
            assert "Page 2 of 2" in pane.position_label.text()
            assert not pane.next_button.isEnabled()
            pdf_pages += 2
        else:
            assert pane.page_count == 1 and receipt.kind == "image"
    assert pdf_pages >= 4


def test_zoom_and_the_larger_viewer_on_double_click(
    qtbot: Any, demo_ctx: AppContext, tmp_path: Path
) -> None:
    window = MainWindow(demo_ctx.store, demo_ctx.tokens, open_url=lambda url: None)
    qtbot.addWidget(window)
    window.show()
    try:
        qtbot.waitUntil(lambda: window.expenses_tab.model.rowCount() > 0, timeout=15_000)
        tab = window.expenses_tab
        window.tabs.setCurrentWidget(tab)
        pdf_row = next(r for r in with_receipts(tab) if r.receipt_files[0].kind == "pdf")
        assert tab.select_expense(pdf_row.id)
        wait_page(qtbot, tab.receipt_pane, 0, 0)

        # Zoom in the pane: + grows the page, − shrinks it, Fit goes back to the width.
        pane = tab.receipt_pane
        fitted = pane.displayed_size()
        QTest.mouseClick(pane.zoom_in_button, Qt.MouseButton.LeftButton)
        assert pane.displayed_size().width() > fitted.width()
        assert pane.image_label.pixmap().deviceIndependentSize().width() == pytest.approx(
            pane.displayed_size().width(), abs=1
        )
        QTest.mouseClick(pane.zoom_out_button, Qt.MouseButton.LeftButton)
        QTest.mouseClick(pane.zoom_out_button, Qt.MouseButton.LeftButton)
        assert pane.displayed_size().width() < fitted.width()
        QTest.mouseClick(pane.fit_button, Qt.MouseButton.LeftButton)
        assert pane.zoom is None and pane.displayed_size() == fitted

        # Double-clicking the expense opens the larger viewer on the same receipt.
        view = tab.view
        index = view.currentIndex()
        rect = view.visualRect(index)
        # (QTest's double-click reaches the view only after a click on the same cell.)
        QTest.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
        QTest.mouseDClick(view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
        qtbot.waitUntil(lambda: tab.receipt_dialog is not None, timeout=5_000)
        dialog = tab.receipt_dialog
        assert isinstance(dialog, ReceiptDialog) and dialog.isVisible()
        viewer = dialog.viewer
        wait_page(qtbot, viewer, 0, 0)
        assert viewer.heading.text() == pdf_row.receipt_files[0].file_name
        # The dialog fits the whole page, larger than the pane's preview.
        size = viewer.displayed_size()
        area = viewer.canvas.viewport().size()
        assert size.height() <= area.height() and size.width() <= area.width()
        assert ink(shown(viewer)) > 0.002
        # Page Down pages through; Ctrl++ zooms; Ctrl+0 fits again.
        dialog.activateWindow()
        qtbot.waitUntil(dialog.isActiveWindow, timeout=5_000)
        QTest.keyClick(dialog, Qt.Key.Key_PageDown)
        wait_page(qtbot, viewer, 0, 1)
        QTest.keyClick(dialog, Qt.Key.Key_Equal, Qt.KeyboardModifier.ControlModifier)
        assert viewer.zoom is not None and viewer.displayed_size().width() > size.width()
        QTest.keyClick(dialog, Qt.Key.Key_0, Qt.KeyboardModifier.ControlModifier)
        assert viewer.zoom is None
        assert "100 %" not in viewer.zoom_label.text() and viewer.zoom_label.text()
        dialog.reject()
        qtbot.waitUntil(lambda: tab.receipt_dialog is None)
    finally:
        window.shutdown()
    assert not window.runner.running


def test_save_as_and_the_system_viewer_use_the_original_name(
    qtbot: Any, demo_ctx: AppContext, demo_runner: JobRunner, tmp_path: Path
) -> None:
    tab = expenses_tab(qtbot, demo_ctx, demo_runner)
    row = next(r for r in with_receipts(tab) if r.receipt_files[0].kind == "image")
    receipt = row.receipt_files[0]
    assert receipt.path is not None
    tab.select_expense(row.id)
    pane = tab.receipt_pane
    wait_page(qtbot, pane, 0, 0)

    suggested: list[str] = []
    target = tmp_path / "chosen" / "my copy.png"

    def ask(_parent: Any, name: str) -> str:
        suggested.append(name)
        return str(target)

    pane.ask_save_path = ask
    QTest.mouseClick(pane.save_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: pane.note.isVisible(), timeout=10_000)
    assert suggested == [receipt.file_name]
    assert target.read_bytes() == receipt.path.read_bytes()
    assert str(target) in pane.note.text()

    opened: list[Path] = []

    def open_file(path: Path) -> bool:
        opened.append(path)
        return True

    pane.open_file = open_file
    QTest.mouseClick(pane.open_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: bool(opened), timeout=10_000)
    assert opened[0].name == receipt.file_name  # not the cache's hash name
    assert opened[0].read_bytes() == receipt.path.read_bytes()


def test_a_pdf_that_cannot_be_drawn_says_so_and_offers_the_system_viewer(
    qtbot: Any, demo_ctx: AppContext, demo_runner: JobRunner
) -> None:
    tab = expenses_tab(qtbot, demo_ctx, demo_runner)
    row = next(r for r in with_receipts(tab) if r.receipt_files[0].kind == "pdf")
    receipt = row.receipt_files[0]
    assert receipt.path is not None
    receipt.path.write_bytes(b"%PDF-1.4\nthis is not really a PDF\n%%EOF\n")
    tab.select_expense(row.id)
    pane = tab.receipt_pane
    qtbot.waitUntil(lambda: pane.error is not None, timeout=15_000)
    assert pane.stack.currentIndex() == pane.PAGE_MESSAGE
    text = pane.message.text()
    assert receipt.file_name in text and "cannot be shown here" in text and "PDF" in text
    assert pane.message_action.isVisible()
    assert pane.message_action.text() == "Open with system viewer"
    opened: list[Path] = []

    def open_file(path: Path) -> bool:
        opened.append(path)
        return True

    pane.open_file = open_file
    QTest.mouseClick(pane.message_action, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: bool(opened), timeout=10_000)
    assert opened[0].name == receipt.file_name


def test_a_receipt_not_downloaded_says_why_and_downloads_on_the_worker(
    qtbot: Any, demo_data: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The cached file is gone: the pane says so, and "Download now" fetches it from the
    sandbox on the worker thread (the store is connected again for this test)."""
    import factor_desktop.receipts
    import factor_desktop.ui.receipts.jobs as receipt_jobs

    copy = tmp_path / "demo"
    shutil.copytree(demo_data, copy)  # with the sandbox's company: the same realm
    demo = DemoSession(copy.parent, fresh=False)
    service = ConnectionService(demo.ctx.store, demo.ctx.tokens)
    try:
        demo.start_sandbox()  # the same company, from the copied sandbox state
        demo.connect(service)
    finally:
        service.http.close()
    ctx = demo.ctx
    runner = JobRunner(default_env_factory(ctx.store, ctx.tokens))
    calls: list[str] = []
    real_download = factor_desktop.receipts.download_receipt

    def on_which_thread(*args: Any, **kwargs: Any) -> ReceiptInfo:
        calls.append(threading.current_thread().name)
        return real_download(*args, **kwargs)

    monkeypatch.setattr(receipt_jobs, "download_receipt", on_which_thread)
    try:
        tab = expenses_tab(qtbot, ctx, runner)
        row = next(r for r in with_receipts(tab) if r.receipt_files[0].kind == "pdf")
        receipt = row.receipt_files[0]
        assert receipt.path is not None
        content = receipt.path.read_bytes()
        receipt.path.unlink()
        tab.show_snapshot(load_snapshot(ctx.store, ctx.tokens))
        assert "1 not downloaded yet" in tab.summary.text()
        tab.select_expense(row.id)
        pane = tab.receipt_pane
        assert pane.stack.currentIndex() == pane.PAGE_MESSAGE
        assert "no longer in the receipt folder" in pane.message.text()
        assert pane.message_action.text() == "Download now"
        assert not pane.open_button.isEnabled() and not pane.save_button.isEnabled()

        QTest.mouseClick(pane.message_action, Qt.MouseButton.LeftButton)
        wait_page(qtbot, pane, 0, 0)
        assert calls == ["worker"] and threading.current_thread().name != "worker"
        assert receipt.path.read_bytes() == content
        assert ink(shown(pane)) > 0.002
    finally:
        runner.shutdown()
        demo.close()
    assert not runner.running


def test_the_pane_follows_the_selection_and_keeps_it_over_a_new_snapshot(
    qtbot: Any, demo_ctx: AppContext, demo_runner: JobRunner
) -> None:
    tab = expenses_tab(qtbot, demo_ctx, demo_runner)
    pane = tab.receipt_pane
    assert pane.stack.currentIndex() == pane.PAGE_MESSAGE
    assert "Select an expense" in pane.message.text()
    bare = next(r for r in tab.model.rows() if not r.receipt_files)
    tab.select_expense(bare.id)
    assert "no receipt" in pane.message.text()
    row = with_receipts(tab)[0]
    tab.select_expense(row.id)
    wait_page(qtbot, pane, 0, 0)
    # A new snapshot with other rows resets the model: the same expense stays current.
    snapshot = load_snapshot(demo_ctx.store, demo_ctx.tokens)
    tab.show_snapshot(snapshot)
    tab.show_snapshot(replace(snapshot, expenses=snapshot.expenses[::-1]))
    current = tab.current_expense()
    assert current is not None and current.id == row.id
    assert pane.page is not None and pane.current == row.receipt_files[0]


def test_the_pane_fits_beside_or_below_the_expenses(
    qtbot: Any, demo_ctx: AppContext, demo_runner: JobRunner
) -> None:
    tab = expenses_tab(qtbot, demo_ctx, demo_runner)
    qtbot.waitUntil(lambda: tab.splitter.orientation() == Qt.Orientation.Horizontal)
    tab.resize(900, 700)
    qtbot.waitUntil(lambda: tab.splitter.orientation() == Qt.Orientation.Vertical)
    row = with_receipts(tab)[0]
    tab.select_expense(row.id)
    wait_page(qtbot, tab.receipt_pane, 0, 0)
    pane = tab.receipt_pane
    # Every control of the pane is inside it, none cut off at the right.
    for widget in (pane.fit_button, pane.enlarge_button, pane.save_button, pane.open_button):
        right = widget.mapTo(pane, QPoint(widget.width(), 0)).x()
        assert widget.isVisible() and right <= pane.width(), widget
