"""The receipt viewer on files made here: every image kind, several receipts, and the worker."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QBuffer, QByteArray, QIODevice, Qt
from PySide6.QtGui import QColor, QImage, QImageWriter, QPainter
from PySide6.QtTest import QTest

import factor_desktop.receipts
from factor_desktop.app import AppContext
from factor_desktop.receipts import MAX_SIDE, RasterPage, ReceiptError, ReceiptInfo
from factor_desktop.sandbox.receipts import receipt_pdf
from factor_desktop.ui.jobs import JobRunner
from factor_desktop.ui.receipts.pages import PageCache, ReceiptPage, load_receipt_page
from factor_desktop.ui.receipts.viewer import ReceiptViewer

pytestmark = [pytest.mark.gui]


def encoded(fmt: str, width: int = 240, height: int = 320) -> bytes:
    """A receipt-like picture (white paper, dark bars) in the given Qt image format."""
    image = QImage(width, height, QImage.Format.Format_RGB32)
    image.fill(QColor("white"))
    painter = QPainter(image)
    try:
        for row in range(8):
            painter.fillRect(20, 20 + row * 30, width - 60 - row * 10, 12, QColor(30, 30, 40))
    finally:
        painter.end()
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    writer = QImageWriter(buffer, QByteArray(fmt.encode()))
    assert writer.write(image), writer.errorString()
    buffer.close()
    return bytes(data.data())


def gif(width: int = 240, height: int = 320) -> bytes:
    """The same picture as a GIF, written here (Qt reads GIF but does not write it): 8-bit LZW
    codes with a clear code every 126 pixels, so the code width never grows."""
    palette = bytes([255, 255, 255, 30, 30, 40]) + bytes(3 * 126)
    pixels = bytearray(width * height)
    for row in range(8):
        for y in range(20 + row * 30, 32 + row * 30):
            for x in range(20, width - 40 - row * 10):
                pixels[y * width + x] = 1
    codes = bytearray()
    for start in range(0, len(pixels), 126):
        codes.append(128)  # clear
        codes += pixels[start : start + 126]
    codes.append(129)  # end of information
    blocks = b"".join(
        bytes([len(codes[i : i + 255])]) + codes[i : i + 255] for i in range(0, len(codes), 255)
    )
    screen = width.to_bytes(2, "little") + height.to_bytes(2, "little") + bytes([0xF6, 0, 0])
    image = bytes([0x2C, 0, 0, 0, 0]) + screen[:4] + bytes([0])
    return b"GIF89a" + screen + palette + image + bytes([7]) + blocks + b"\x00;"


def store(folder: Path, receipt_id: int, name: str, content: bytes, kind: str) -> ReceiptInfo:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{hashlib.sha256(content).hexdigest()}{Path(name).suffix}"
    path.write_bytes(content)
    return ReceiptInfo(
        id=receipt_id,
        expense_id=1,
        file_name=name,
        content_type=kind,
        size=len(content),
        qbo_id=str(900 + receipt_id),
        qbo_txn_type="Purchase",
        qbo_txn_id="12",
        path=path,
    )


def dark_share(image: QImage) -> float:
    image = image.convertToFormat(QImage.Format.Format_RGB32)
    dark = total = 0
    for y in range(0, image.height(), 2):
        for x in range(0, image.width(), 2):
            total += 1
            dark += image.pixelColor(x, y).lightness() < 120
    return dark / max(total, 1)


@pytest.mark.parametrize(
    ("fmt", "name", "content_type"),
    [("PNG", "r.png", "image/png"), ("JPEG", "r.jpg", "image/jpeg"), ("GIF", "r.gif", "image/gif")],
)
def test_png_jpeg_and_gif_are_drawn(tmp_path: Path, fmt: str, name: str, content_type: str) -> None:
    content = gif() if fmt == "GIF" else encoded(fmt)
    receipt = store(tmp_path, 1, name, content, content_type)
    page = load_receipt_page(receipt, 0)
    assert (page.image.width(), page.image.height()) == (240, 320)
    assert page.page_count == 1 and page.natural_scale == 1.0
    assert 0.05 < dark_share(page.image) < 0.5


def test_a_huge_image_is_read_at_a_bounded_size(tmp_path: Path) -> None:
    receipt = store(tmp_path, 1, "scan.png", encoded("PNG", 4000, 6000), "image/png")
    page = load_receipt_page(receipt, 0)
    assert max(page.image.width(), page.image.height()) == MAX_SIDE
    assert page.image.width() == 2000


def test_pdf_pages_are_bounded_and_errors_are_plain(tmp_path: Path) -> None:
    pdf = receipt_pdf("Invoice", ["one"], "Total", more_pages=[("Hours", ["x"])])
    page = factor_desktop.receipts.render_pdf_page(pdf, 1)
    assert isinstance(page, RasterPage)
    assert (page.width, page.height, page.page_count) == (1224, 1584, 2)
    assert len(page.rgba) == page.stride * page.height
    with pytest.raises(ReceiptError, match="there is no page 3"):
        factor_desktop.receipts.render_pdf_page(pdf, 2)
    with pytest.raises(ReceiptError, match="could not be read"):
        factor_desktop.receipts.render_pdf_page(b"%PDF-1.4 nothing else", 0)
    # A file that is neither is refused with its name.
    other = store(tmp_path, 2, "notes.txt", b"hello", "text/plain")
    with pytest.raises(ReceiptError, match=r"notes\.txt is neither a PDF nor"):
        load_receipt_page(other, 0)


@pytest.fixture
def viewer(qtbot: Any, runner: JobRunner) -> Iterator[ReceiptViewer]:
    widget = ReceiptViewer()
    qtbot.addWidget(widget)
    widget.resize(480, 640)
    widget.attach(runner)
    widget.show()
    yield widget


def wait_page(qtbot: Any, viewer: ReceiptViewer, receipt: int, page: int) -> None:
    qtbot.waitUntil(
        lambda: (
            viewer.page is not None and (viewer.receipt_index, viewer.page_index) == (receipt, page)
        ),
        timeout=10_000,
    )


def test_paging_runs_through_pages_then_receipts_and_back(
    qtbot: Any, viewer: ReceiptViewer, ctx: AppContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    threads: list[str] = []
    real_render = factor_desktop.receipts.render_pdf_page

    def render(*args: Any, **kwargs: Any) -> RasterPage:
        threads.append(threading.current_thread().name)
        return real_render(*args, **kwargs)

    monkeypatch.setattr("factor_desktop.ui.receipts.pages.render_pdf_page", render)
    folder = ctx.data.attachments
    pdf = receipt_pdf("Invoice AMP-1", ["Design"], "Due: $5.00", more_pages=[("Hours", ["2 h"])])
    receipts = (
        store(folder, 1, "AMP-1.pdf", pdf, "application/pdf"),
        store(folder, 2, "taxi.png", encoded("PNG"), "image/png"),
    )
    viewer.show_receipts(receipts)
    wait_page(qtbot, viewer, 0, 0)
    assert viewer.position_label.text() == "Receipt 1 of 2 · page 1 of 2"
    assert threads == ["worker"]  # PDFium ran on the worker thread, not here
    steps = [(0, 1), (1, 0)]
    for receipt, page in steps:
        QTest.mouseClick(viewer.next_button, Qt.MouseButton.LeftButton)
        wait_page(qtbot, viewer, receipt, page)
        assert dark_share(viewer.image_label.grab().toImage()) > 0.002
    assert viewer.heading.text() == "taxi.png" and not viewer.next_button.isEnabled()
    assert viewer.position_label.text() == "Receipt 2 of 2"
    assert (
        "PNG image" in viewer.details.text() and "QuickBooks Purchase 12" in viewer.details.text()
    )
    # Zooming in stops at a bounded size: twice the rendered pixels (or 2400 px) a side.
    for _ in range(30):
        viewer.zoom_in()
    assert not viewer.zoom_in_button.isEnabled()
    shown_size = viewer.image_label.pixmap().size()
    assert max(shown_size.width(), shown_size.height()) <= 2400 * viewer.devicePixelRatioF()
    # Back from the image lands on the PDF's last page, already drawn (no new job).
    QTest.mouseClick(viewer.prev_button, Qt.MouseButton.LeftButton)
    assert (viewer.receipt_index, viewer.page_index) == (0, 1) and viewer.page is not None
    assert threads == ["worker", "worker"]


def test_without_a_connection_the_download_says_why(
    qtbot: Any, viewer: ReceiptViewer, ctx: AppContext
) -> None:
    missing = ReceiptInfo(
        id=7,
        expense_id=1,
        file_name="KSE-9.pdf",
        content_type="application/pdf",
        size=1800,
        qbo_id="977",
        qbo_txn_type="Bill",
        qbo_txn_id="40",
        path=None,
        missing="This receipt has not been downloaded from QuickBooks yet.",
    )
    viewer.show_receipts((missing,))
    assert viewer.message.text() == missing.missing
    assert viewer.message_action.text() == "Download now"
    QTest.mouseClick(viewer.message_action, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "could not be downloaded" in viewer.message.text(), timeout=10_000)
    assert "Not connected to QuickBooks" in viewer.message.text()
    assert viewer.message_action.text() == "Try again"


def test_the_page_cache_keeps_a_bounded_number_of_pixels() -> None:
    def page(receipt_id: int, side: int) -> ReceiptPage:
        image = QImage(side, side, QImage.Format.Format_RGB32)
        image.fill(QColor("white"))
        return ReceiptPage(receipt_id, 0, 1, image)

    cache = PageCache(limit=3, budget=3 * 100 * 100 * 4)
    for receipt_id in range(5):
        cache.put(page(receipt_id, 100))
    assert len(cache) == 3 and cache.get(0, 0) is None and cache.get(4, 0) is not None
    cache.put(page(9, 200))  # bigger than the whole budget: kept alone, as the newest
    assert len(cache) == 1 and cache.get(9, 0) is not None
    assert cache.page_counts[2] == 1  # page counts outlive the pixels


def test_a_transparent_image_is_shown_on_white_paper(tmp_path: Path) -> None:
    image = QImage(50, 40, QImage.Format.Format_ARGB32)
    image.fill(QColor(0, 0, 0, 0))
    image.setPixelColor(10, 10, QColor(20, 20, 20))
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    assert QImageWriter(buffer, QByteArray(b"PNG")).write(image)
    buffer.close()
    receipt = store(tmp_path, 1, "stamp.png", bytes(data.data()), "image/png")
    page = load_receipt_page(receipt, 0).image
    assert page.format() == QImage.Format.Format_RGB32 and not page.hasAlphaChannel()
    assert page.pixelColor(0, 0) == QColor("white")
    assert page.pixelColor(10, 10).lightness() < 40
