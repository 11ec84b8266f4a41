"""A receipt's page as the viewer shows it: read and drawn on the worker thread (PDFium for PDF
pages, Qt's image readers for PNG, JPEG and GIF), and the newest pages kept for going back and
forth.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, Qt
from PySide6.QtGui import QColor, QImage, QImageReader, QPainter

from factor_desktop.receipts import (
    MAX_SIDE,
    ReceiptError,
    ReceiptInfo,
    receipt_kind,
    render_pdf_page,
)

# Rendered pages kept for going back and forth: at most this many, and this many bytes of pixels
# (the newest page is always kept).
CACHE_PAGES = 12
CACHE_BYTES = 96 * 1024 * 1024


@dataclass(frozen=True)
class ReceiptPage:
    """One page of a receipt, ready to show. `natural_scale`: screen pixels per image pixel
    at 100 %."""

    receipt_id: int
    index: int
    page_count: int
    image: QImage
    natural_scale: float = 1.0


def _read_image(data: bytes) -> QImage:
    buffer = QBuffer()
    buffer.setData(QByteArray(data))
    buffer.open(QIODevice.OpenModeFlag.ReadOnly)
    reader = QImageReader(buffer)
    reader.setAutoTransform(True)  # a phone photo's EXIF orientation
    size = reader.size()
    if size.isValid() and max(size.width(), size.height()) > MAX_SIDE:
        reader.setScaledSize(size.scaled(MAX_SIDE, MAX_SIDE, Qt.AspectRatioMode.KeepAspectRatio))
    image = reader.read()
    if image.isNull():
        raise ReceiptError(f"This image could not be read ({reader.errorString()}).")
    return image


def _opaque(image: QImage) -> QImage:
    """The image on white paper, in the format Qt scales fastest (about 10 ms for a letter page
    at 144 dpi, 20 ms at `MAX_SIDE`, against 30 and 160 ms in RGBA): a transparent receipt stays
    readable on a dark palette, and zooming on the GUI thread stays cheap."""
    if not image.hasAlphaChannel():
        return image.convertToFormat(QImage.Format.Format_RGB32)
    paper = QImage(image.size(), QImage.Format.Format_RGB32)
    paper.fill(QColor("white"))
    painter = QPainter(paper)  # QPainter on a QImage is fine off the GUI thread
    try:
        painter.drawImage(0, 0, image)
    finally:
        painter.end()
    return paper


def load_receipt_page(receipt: ReceiptInfo, index: int) -> ReceiptPage:
    """Read and draw page `index` of a receipt. Slow: call it on the worker thread."""
    if receipt.path is None:
        raise ReceiptError(receipt.missing or f"{receipt.file_name} is not downloaded yet.")
    try:
        data = receipt.path.read_bytes()
    except OSError as exc:
        raise ReceiptError(f"The receipt's file could not be read: {exc.strerror}.") from None
    kind = receipt_kind(data, receipt.kind)
    if kind == "pdf":
        page = render_pdf_page(data, index)
        image = QImage(
            page.rgba, page.width, page.height, page.stride, QImage.Format.Format_RGBA8888
        ).convertToFormat(QImage.Format.Format_RGB32)  # its own pixels, drawn on white already
        return ReceiptPage(receipt.id, index, page.page_count, image, page.natural_scale)
    if kind == "image":
        return ReceiptPage(receipt.id, 0, 1, _opaque(_read_image(data)))
    if receipt.kind == "pdf":
        raise ReceiptError("This file is named as a PDF but is not one, so it cannot be shown.")
    raise ReceiptError(
        f"{receipt.file_name} is neither a PDF nor a PNG, JPEG or GIF image, so it cannot be "
        "shown here."
    )


class PageCache:
    """The newest rendered pages, by (receipt id, page); shared by the pane and its dialog."""

    def __init__(self, limit: int = CACHE_PAGES, budget: int = CACHE_BYTES) -> None:
        self.limit = limit
        self.budget = budget
        self._pages: OrderedDict[tuple[int, int], ReceiptPage] = OrderedDict()
        self.page_counts: dict[int, int] = {}

    def get(self, receipt_id: int, index: int) -> ReceiptPage | None:
        page = self._pages.get((receipt_id, index))
        if page is not None:
            self._pages.move_to_end((receipt_id, index))
        return page

    def put(self, page: ReceiptPage) -> None:
        self._pages[(page.receipt_id, page.index)] = page
        self._pages.move_to_end((page.receipt_id, page.index))
        self.page_counts[page.receipt_id] = page.page_count
        while len(self._pages) > 1 and (
            len(self._pages) > self.limit or self.size_in_bytes() > self.budget
        ):
            self._pages.popitem(last=False)

    def size_in_bytes(self) -> int:
        return sum(page.image.sizeInBytes() for page in self._pages.values())

    def __len__(self) -> int:
        return len(self._pages)

    def forget(self, receipt_id: int) -> None:
        for key in [k for k in self._pages if k[0] == receipt_id]:
            del self._pages[key]
        self.page_counts.pop(receipt_id, None)
