"""Receipts inside the window: the Expenses tab's preview pane and a larger viewer dialog.

`ReceiptViewer` shows one expense's receipts a page at a time (PDF pages, or an image), with
zoom (fit, in, out), paging through pages and receipts, "Open with system viewer" and "Save
as…". Everything slow happens in jobs on the window's worker thread, never here:

- `RenderReceiptJob` reads the cached file and turns one page into a `QImage` (PDFium for PDF
  pages, Qt's image readers for PNG, JPEG and GIF), at most `MAX_SIDE` pixels a side, so that
  scaling it for the screen on the GUI thread stays cheap. The single worker also keeps PDFium,
  which is not thread-safe, on one thread.
- `DownloadReceiptJob` fetches a receipt the sync has not brought yet.
- `SaveReceiptJob` and `ViewerCopyJob` copy the file, for "Save as…" and for the system viewer
  (which gets a copy under the receipt's own name; the cache names files by their hash).

Results come back through the runner's `jobFinished` signal to slots of the viewer, which only
acts on the jobs it submitted.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from PySide6.QtCore import (
    QBuffer,
    QByteArray,
    QEvent,
    QIODevice,
    QObject,
    QSize,
    QStandardPaths,
    Qt,
    QTimer,
    QUrl,
    Signal,
    Slot,
)
from PySide6.QtGui import (
    QColor,
    QDesktopServices,
    QImage,
    QImageReader,
    QKeySequence,
    QPainter,
    QPixmap,
    QShortcut,
)
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QStackedWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from factor_desktop.qbo.errors import QboError
from factor_desktop.receipts import (
    MAX_SIDE,
    ReceiptError,
    ReceiptInfo,
    copy_receipt,
    describe_size,
    download_receipt,
    receipt_kind,
    render_pdf_page,
    viewer_copy,
)
from factor_desktop.ui.jobs import Job, JobEnv, JobOutcome, JobRunner, Report
from factor_desktop.ui.widgets import muted_label

log = logging.getLogger(__name__)

ZOOM_STEP = 1.25
ZOOM_MIN = 0.1
ZOOM_MAX = 8.0
# Zooming in stops where the page on screen would have more than twice the rendered pixels a
# side (nothing sharper to see, and a bounded pixmap), or this many device pixels for small
# images.
ZOOM_DEVICE_SIDE = 2400
# "Fit" never blows a small receipt up by more than this.
FIT_MAX = 2.0
# Rendered pages kept for going back and forth: at most this many, and this many bytes of pixels
# (the newest page is always kept).
CACHE_PAGES = 12
CACHE_BYTES = 96 * 1024 * 1024


# --- work on the worker thread --------------------------------------------------------------


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


class _ReceiptJob(Job):
    # Reading a receipt changes nothing the window lists: no snapshot afterwards.
    refreshes_snapshot: ClassVar[bool] = False
    expected_errors = (ReceiptError, OSError)


class RenderReceiptJob(_ReceiptJob):
    kind = "receipt_page"
    title = "Reading the receipt…"

    def __init__(self, receipt: ReceiptInfo, index: int) -> None:
        super().__init__()
        self.receipt = receipt
        self.index = index

    def run(self, env: JobEnv, report: Report) -> ReceiptPage:
        return load_receipt_page(self.receipt, self.index)


class DownloadReceiptJob(Job):
    """Fetch a receipt the sync has not downloaded; the snapshot that follows shows it."""

    kind = "receipt_download"
    title = "Downloading the receipt from QuickBooks…"
    expected_errors = (ReceiptError, QboError, OSError)

    def __init__(self, receipt: ReceiptInfo) -> None:
        super().__init__()
        self.receipt = receipt

    def run(self, env: JobEnv, report: Report) -> ReceiptInfo:
        client = env.connection.client()  # ConnectError (shown as is) when not connected
        try:
            return download_receipt(env.store, client, env.attachments_dir, self.receipt.id)
        finally:
            client.close()


class SaveReceiptJob(_ReceiptJob):
    kind = "receipt_save"
    title = "Saving the receipt…"

    def __init__(self, receipt: ReceiptInfo, target: Path) -> None:
        super().__init__()
        self.receipt = receipt
        self.target = target

    def run(self, env: JobEnv, report: Report) -> Path:
        return copy_receipt(self.receipt, self.target)


class ViewerCopyJob(_ReceiptJob):
    kind = "receipt_open"
    title = "Opening the receipt…"

    def __init__(self, receipt: ReceiptInfo) -> None:
        super().__init__()
        self.receipt = receipt

    def run(self, env: JobEnv, report: Report) -> Path:
        return viewer_copy(self.receipt)


# --- the viewer ----------------------------------------------------------------------------


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


def _ask_save_path(parent: QWidget, suggested: str) -> str:
    folder = QStandardPaths.writableLocation(
        QStandardPaths.StandardLocation.DownloadLocation
    ) or QStandardPaths.writableLocation(QStandardPaths.StandardLocation.HomeLocation)
    path, _filter = QFileDialog.getSaveFileName(
        parent, "Save the receipt as", str(Path(folder) / suggested)
    )
    return path


def _open_file(path: Path) -> bool:
    return bool(QDesktopServices.openUrl(QUrl.fromLocalFile(str(path))))


def _kind_label(receipt: ReceiptInfo) -> str:
    if receipt.kind == "pdf":
        return "PDF"
    if receipt.kind == "image":
        suffix = Path(receipt.file_name).suffix.lstrip(".").upper()
        return f"{suffix} image" if suffix else "Image"
    return receipt.content_type or "File"


class ReceiptViewer(QWidget):
    """One expense's receipts, a page at a time. `large` is the dialog's layout."""

    # receipt index, page index: a page is on screen
    pageShown = Signal(int, int)
    # the pane's "Larger view" button
    enlargeRequested = Signal()

    PAGE_IMAGE = 0
    PAGE_MESSAGE = 1

    def __init__(
        self,
        *,
        large: bool = False,
        cache: PageCache | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.large = large
        self.cache = cache or PageCache()
        self.runner: JobRunner | None = None
        # Replaceable (tests): where "Save as…" writes, and how a file is handed to the system.
        self.ask_save_path: Callable[[QWidget, str], str] = _ask_save_path
        self.open_file: Callable[[Path], bool] = _open_file
        self.receipts: tuple[ReceiptInfo, ...] = ()
        self.receipt_index = 0
        self.page_index = 0
        self.zoom: float | None = None  # None: fit the page in the view
        self.page: ReceiptPage | None = None
        self.error: str | None = None
        self._job: Job | None = None
        self._side_jobs: dict[int, Job] = {}
        self._fit_scale = 1.0
        self._empty_text = ""

        self.heading = QLabel()
        self.heading.setTextFormat(Qt.TextFormat.PlainText)
        font = self.heading.font()
        font.setBold(True)
        self.heading.setFont(font)
        self.heading.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.details = muted_label()
        self.details.setWordWrap(False)
        self.details.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)

        self.prev_button = self._tool("◀", "Previous page or receipt (Page Up)")
        self.next_button = self._tool("▶", "Next page or receipt (Page Down)")
        self.position_label = QLabel()
        self.position_label.setTextFormat(Qt.TextFormat.PlainText)
        self.zoom_out_button = self._tool("−", "Zoom out (Ctrl+-)")
        self.zoom_label = QLabel()
        self.zoom_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.zoom_label.setMinimumWidth(self.fontMetrics().horizontalAdvance("Fit 100 %") + 8)
        self.zoom_in_button = self._tool("+", "Zoom in (Ctrl++)")
        self.fit_button = self._tool(
            "Fit", "Fit the page in the view (Ctrl+0)" if large else "Fit the page's width"
        )
        self.enlarge_button = self._tool(
            "Larger…", "Open the receipts in a larger window (or double-click the expense)"
        )
        self.enlarge_button.setVisible(not large)

        navigation = QHBoxLayout()
        navigation.setSpacing(4)
        navigation.addWidget(self.prev_button)
        navigation.addWidget(self.position_label)
        navigation.addWidget(self.next_button)
        navigation.addStretch(1)
        navigation.addWidget(self.zoom_out_button)
        navigation.addWidget(self.zoom_label)
        navigation.addWidget(self.zoom_in_button)
        navigation.addWidget(self.fit_button)
        # The pane is narrow: its zoom shows in the tooltips, and the larger view is a click away.
        self.zoom_label.setVisible(large)
        if not large:
            navigation.addSpacing(4)
            navigation.addWidget(self.enlarge_button)

        self.image_label = QLabel()
        self.image_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.canvas = QScrollArea()
        self.canvas.setWidget(self.image_label)
        self.canvas.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.canvas.setWidgetResizable(False)
        self.canvas.setBackgroundRole(self.backgroundRole())
        self.canvas.viewport().installEventFilter(self)
        self.image_label.installEventFilter(self)

        self.message = QLabel()
        self.message.setTextFormat(Qt.TextFormat.PlainText)
        self.message.setWordWrap(True)
        self.message.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.message_action = QPushButton()
        self.message_action.hide()
        message_page = QWidget()
        message_layout = QVBoxLayout(message_page)
        message_layout.addStretch(1)
        message_layout.addWidget(self.message)
        message_layout.addWidget(self.message_action, 0, Qt.AlignmentFlag.AlignHCenter)
        message_layout.addStretch(2)

        self.stack = QStackedWidget()
        self.stack.addWidget(self.canvas)
        self.stack.addWidget(message_page)

        self.open_button = QPushButton("Open with system viewer")
        self.open_button.setToolTip("Open the receipt in the computer's own viewer for this file.")
        self.save_button = QPushButton("Save as…")
        self.save_button.setToolTip("Save a copy of the receipt under its original name.")
        self.note = muted_label()
        self.note.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.note.hide()
        actions = QHBoxLayout()
        actions.setSpacing(6)
        actions.addWidget(self.open_button)
        actions.addWidget(self.save_button)
        actions.addStretch(1)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(6)
        layout.addWidget(self.heading)
        layout.addWidget(self.details)
        layout.addLayout(navigation)
        layout.addWidget(self.stack, 1)
        layout.addLayout(actions)
        layout.addWidget(self.note)

        self._rescale_timer = QTimer(self)
        self._rescale_timer.setSingleShot(True)
        self._rescale_timer.setInterval(40)
        self._rescale_timer.timeout.connect(self._show_page_image)

        self.prev_button.clicked.connect(self.previous)
        self.next_button.clicked.connect(self.next)
        self.zoom_in_button.clicked.connect(self.zoom_in)
        self.zoom_out_button.clicked.connect(self.zoom_out)
        self.fit_button.clicked.connect(self.fit)
        self.enlarge_button.clicked.connect(self.enlargeRequested)
        self.open_button.clicked.connect(self.open_in_system_viewer)
        self.save_button.clicked.connect(self.save_as)
        self.message_action.clicked.connect(self._message_action)
        self._message_action_kind = ""
        self.show_receipts(())

    def _tool(self, text: str, tip: str) -> QToolButton:
        button = QToolButton()
        button.setText(text)
        button.setToolTip(tip)
        button.setAutoRaise(False)
        return button

    # -- what to show ----------------------------------------------------------------------

    def attach(self, runner: JobRunner) -> None:
        """Do the viewer's work on this runner's worker thread."""
        if self.runner is runner:
            return
        if self.runner is not None:
            self.runner.jobFinished.disconnect(self._on_job_finished)
        self.runner = runner
        runner.jobFinished.connect(self._on_job_finished)
        if self.receipts and self.page is None:
            self._load()

    def show_receipts(
        self,
        receipts: Sequence[ReceiptInfo],
        empty_text: str = "Select an expense to see its receipts.",
        start: tuple[int, int] = (0, 0),
    ) -> None:
        """Show these receipts, from receipt and page `start`. Showing the same receipts again
        (a new snapshot) keeps the place, and draws again a receipt whose file has arrived."""
        receipts = tuple(receipts)
        same = [r.id for r in receipts] == [r.id for r in self.receipts] and bool(receipts)
        changed = receipts != self.receipts
        previous = {r.id: r for r in self.receipts}
        self.receipts = receipts
        if not receipts:
            self._cancel_job()
            self.page = None
            self.error = None
            self._empty_text = empty_text
            self._update()
            return
        if same:
            if not changed:
                return
            for receipt in receipts:
                if previous.get(receipt.id) != receipt:
                    self.cache.forget(receipt.id)
            current = receipts[self.receipt_index]
            if previous.get(current.id) != current:
                self._go(self.receipt_index, self.page_index)
            else:
                self._update()
            return
        self.zoom = None
        index = min(max(start[0], 0), len(receipts) - 1)
        self._go(index, max(start[1], 0))

    @property
    def current(self) -> ReceiptInfo | None:
        return self.receipts[self.receipt_index] if self.receipts else None

    @property
    def page_count(self) -> int | None:
        current = self.current
        return self.cache.page_counts.get(current.id) if current is not None else None

    # -- paging ----------------------------------------------------------------------------

    @Slot()
    def next(self) -> None:
        if not self.receipts:
            return
        count = self.page_count or 1
        if self.page_index + 1 < count:
            self._go(self.receipt_index, self.page_index + 1)
        elif self.receipt_index + 1 < len(self.receipts):
            self._go(self.receipt_index + 1, 0)

    @Slot()
    def previous(self) -> None:
        if not self.receipts:
            return
        if self.page_index > 0:
            self._go(self.receipt_index, self.page_index - 1)
        elif self.receipt_index > 0:
            before = self.receipts[self.receipt_index - 1]
            last = self.cache.page_counts.get(before.id, 1) - 1
            self._go(self.receipt_index - 1, max(last, 0))

    def _go(self, receipt_index: int, page_index: int) -> None:
        self.receipt_index = receipt_index
        self.page_index = page_index
        self.error = None
        self.page = None
        self._load()

    def _load(self) -> None:
        receipt = self.current
        if receipt is None:
            return
        self._cancel_job()
        if receipt.path is None:
            self._update()
            return
        cached = self.cache.get(receipt.id, self.page_index)
        if cached is not None:
            self.page = cached
            self._update()
            return
        if self.runner is not None:
            job = RenderReceiptJob(receipt, self.page_index)
            self._job = job
            self.runner.submit(job)
        self._update()

    def _cancel_job(self) -> None:
        if self._job is not None:
            self._job.cancel()
            self._job = None

    @Slot(object)
    def _on_job_finished(self, outcome: JobOutcome) -> None:
        side = self._side_jobs.pop(outcome.job_id, None)
        if side is not None:
            self._side_job_finished(side, outcome)
            return
        job = self._job
        if job is None or outcome.job_id != job.id or not isinstance(job, RenderReceiptJob):
            return
        self._job = None
        if outcome.cancelled:
            return
        if outcome.error is not None:
            self.error = outcome.error
        elif isinstance(outcome.result, ReceiptPage):
            page = outcome.result
            self.cache.put(page)
            if page.index != self.page_index:  # asked past the end: the last page instead
                self.page_index = page.index
            self.page = page
        self._update()

    # -- zoom ------------------------------------------------------------------------------

    def max_zoom(self) -> float:
        page = self.page
        if page is None:
            return ZOOM_MAX
        side = max(page.image.width(), page.image.height())
        device = max(2 * side, ZOOM_DEVICE_SIDE)
        natural = side * page.natural_scale * self.devicePixelRatioF()
        return max(min(ZOOM_MAX, device / max(natural, 1)), ZOOM_MIN)

    def effective_zoom(self) -> float:
        return self._fit_scale if self.zoom is None else min(self.zoom, self.max_zoom())

    @Slot()
    def zoom_in(self) -> None:
        self.zoom = min(self.effective_zoom() * ZOOM_STEP, self.max_zoom())
        self._show_page_image()

    @Slot()
    def zoom_out(self) -> None:
        self.zoom = max(self.effective_zoom() / ZOOM_STEP, ZOOM_MIN)
        self._show_page_image()

    @Slot()
    def fit(self) -> None:
        self.zoom = None
        self._show_page_image()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.canvas.viewport() and event.type() == QEvent.Type.Resize:
            if self.zoom is None and self.page is not None:
                self._rescale_timer.start()
        elif (
            watched is self.image_label
            and event.type() == QEvent.Type.MouseButtonDblClick
            and not self.large
        ):
            self.enlargeRequested.emit()
            return True
        return super().eventFilter(watched, event)

    # -- drawing ---------------------------------------------------------------------------

    def _update(self) -> None:
        receipt = self.current
        total = len(self.receipts)
        has_file = receipt is not None and receipt.path is not None
        self.open_button.setEnabled(has_file)
        self.save_button.setEnabled(has_file)
        self.note.hide()
        if receipt is None:
            self.heading.setText("Receipts")
            self.details.setText("")
            self.position_label.setText("")
            for widget in (self.prev_button, self.next_button):
                widget.setEnabled(False)
            self._zoom_enabled(False)
            self.enlarge_button.setEnabled(False)
            self._show_message(self._empty_text)
            return
        self.heading.setText(receipt.file_name)
        self.heading.setToolTip(receipt.file_name)
        details = [_kind_label(receipt), describe_size(receipt.size)]
        if receipt.qbo_txn_type and receipt.qbo_txn_id:
            details.append(f"QuickBooks {receipt.qbo_txn_type} {receipt.qbo_txn_id}")
        self.details.setText(" · ".join(d for d in details if d))
        count = self.page_count
        parts = []
        if total > 1:
            parts.append(f"Receipt {self.receipt_index + 1} of {total}")
        if count is not None and count > 1:
            parts.append(f"page {self.page_index + 1} of {count}")
        elif count is None and receipt.kind == "pdf" and has_file:
            parts.append(f"page {self.page_index + 1}")
        text = " · ".join(parts)
        self.position_label.setText(text[:1].upper() + text[1:])
        self.prev_button.setEnabled(self.page_index > 0 or self.receipt_index > 0)
        self.next_button.setEnabled(
            self.page_index + 1 < (count or 1) or self.receipt_index + 1 < total
        )
        self.enlarge_button.setEnabled(True)
        if receipt.path is None:
            self._zoom_enabled(False)
            why = receipt.missing or "This receipt is not on this computer."
            self._show_message(
                why, "Download now" if receipt.qbo_id is not None else None, "download"
            )
            return
        if self.error is not None:
            self._zoom_enabled(False)
            self._show_message(
                f"{receipt.file_name} cannot be shown here. {self.error}",
                "Open with system viewer",
                "open",
            )
            return
        if self.page is None:
            self._zoom_enabled(False)
            self._show_message(f"Loading {receipt.file_name}…")
            return
        self._zoom_enabled(True)
        self.stack.setCurrentIndex(self.PAGE_IMAGE)
        self._show_page_image()
        self.pageShown.emit(self.receipt_index, self.page_index)

    def _zoom_enabled(self, enabled: bool) -> None:
        for widget in (self.zoom_in_button, self.zoom_out_button, self.fit_button):
            widget.setEnabled(enabled)
        if not enabled:
            self.zoom_label.setText("")

    def _show_message(self, text: str, action: str | None = None, kind: str = "") -> None:
        self.message.setText(text)
        self.message_action.setVisible(action is not None)
        self.message_action.setText(action or "")
        self.message_action.setEnabled(True)
        self._message_action_kind = kind
        self.image_label.clear()
        self.stack.setCurrentIndex(self.PAGE_MESSAGE)

    def displayed_size(self) -> QSize:
        """The page's size on screen now, in device-independent pixels."""
        page = self.page
        if page is None:
            return QSize()
        natural_w = page.image.width() * page.natural_scale
        natural_h = page.image.height() * page.natural_scale
        viewport = self.canvas.viewport().size()
        margin = 16
        fit = max(viewport.width() - margin, 1) / max(natural_w, 1)
        if self.large:
            # The dialog fits the whole page; the pane fits the width and scrolls, since a
            # receipt's top says most.
            fit = min(fit, max(viewport.height() - margin, 1) / max(natural_h, 1))
        self._fit_scale = max(min(fit, FIT_MAX), ZOOM_MIN)
        zoom = self.effective_zoom()
        return QSize(max(1, round(natural_w * zoom)), max(1, round(natural_h * zoom)))

    @Slot()
    def _show_page_image(self) -> None:
        page = self.page
        if page is None:
            return
        size = self.displayed_size()
        ratio = self.devicePixelRatioF()
        scaled = page.image.scaled(
            QSize(round(size.width() * ratio), round(size.height() * ratio)),
            Qt.AspectRatioMode.KeepAspectRatio,
            Qt.TransformationMode.SmoothTransformation,
        )
        pixmap = QPixmap.fromImage(scaled)
        pixmap.setDevicePixelRatio(ratio)
        self.image_label.setPixmap(pixmap)
        self.image_label.resize(size)
        percent = round(self.effective_zoom() * 100)
        self.zoom_label.setText(f"Fit {percent} %" if self.zoom is None else f"{percent} %")
        what = "the page in the view (Ctrl+0)" if self.large else "the page's width"
        self.fit_button.setToolTip(f"Fit {what}. Now {percent} %.")
        self.zoom_in_button.setEnabled(self.effective_zoom() < self.max_zoom())
        self.zoom_out_button.setEnabled(self.effective_zoom() > ZOOM_MIN)

    # -- actions ---------------------------------------------------------------------------

    @Slot()
    def _message_action(self) -> None:
        if self._message_action_kind == "download":
            self.download()
        elif self._message_action_kind == "open":
            self.open_in_system_viewer()

    def _side_job(self, job: Job) -> Job | None:
        if self.runner is None:
            return None
        self._side_jobs[job.id] = job
        self.runner.submit(job)
        return job

    @Slot()
    def download(self) -> Job | None:
        receipt = self.current
        if receipt is None or receipt.path is not None:
            return None
        job = self._side_job(DownloadReceiptJob(receipt))
        if job is not None:
            self.message_action.setEnabled(False)
            self.message.setText(f"Downloading {receipt.file_name} from QuickBooks…")
        return job

    @Slot()
    def open_in_system_viewer(self) -> Job | None:
        receipt = self.current
        if receipt is None or receipt.path is None:
            return None
        return self._side_job(ViewerCopyJob(receipt))

    @Slot()
    def save_as(self) -> Job | None:
        receipt = self.current
        if receipt is None or receipt.path is None:
            return None
        chosen = self.ask_save_path(self, Path(receipt.file_name).name or "receipt")
        if not chosen:
            return None
        return self._side_job(SaveReceiptJob(receipt, Path(chosen)))

    def _say(self, text: str, error: bool = False) -> None:
        self.note.setText(text)
        self.note.setToolTip(text)
        self.note.setStyleSheet("font-weight: bold;" if error else "")
        self.note.show()

    def _side_job_finished(self, job: Job, outcome: JobOutcome) -> None:
        if outcome.cancelled:
            return
        if isinstance(job, DownloadReceiptJob):
            if outcome.error is not None:
                self._show_message(
                    f"{job.receipt.file_name} could not be downloaded: {outcome.error}",
                    "Try again",
                    "download",
                )
                return
            fresh = outcome.result
            if isinstance(fresh, ReceiptInfo):
                self.show_receipts(tuple(fresh if r.id == fresh.id else r for r in self.receipts))
        elif isinstance(job, SaveReceiptJob):
            if outcome.error is not None:
                self._say(f"The receipt could not be saved: {outcome.error}", error=True)
            else:
                self._say(f"Saved to {outcome.result}.")
        elif isinstance(job, ViewerCopyJob):
            if outcome.error is not None:
                self._say(f"The receipt could not be opened: {outcome.error}", error=True)
            elif not self.open_file(Path(outcome.result)):
                self._say(
                    "No application on this computer opens this kind of file. Save it with "
                    "“Save as…” and open it from there.",
                    error=True,
                )


class ReceiptDialog(QDialog):
    """The larger viewer: the receipts of one expense, opened by double-clicking it."""

    def __init__(
        self,
        runner: JobRunner | None,
        receipts: Sequence[ReceiptInfo],
        title: str,
        *,
        cache: PageCache | None = None,
        start: tuple[int, int] = (0, 0),
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.viewer = ReceiptViewer(large=True, cache=cache, parent=self)
        if runner is not None:
            self.viewer.attach(runner)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.viewer, 1)
        layout.addWidget(buttons)
        for keys, slot in (
            ((QKeySequence.StandardKey.MoveToNextPage, Qt.Key.Key_Right), self.viewer.next),
            ((QKeySequence.StandardKey.MoveToPreviousPage, Qt.Key.Key_Left), self.viewer.previous),
            ((QKeySequence.StandardKey.ZoomIn, "Ctrl+="), self.viewer.zoom_in),
            ((QKeySequence.StandardKey.ZoomOut,), self.viewer.zoom_out),
            (("Ctrl+0",), self.viewer.fit),
        ):
            for key in keys:
                QShortcut(QKeySequence(key), self, slot)
        self.resize(self._initial_size())
        self.viewer.show_receipts(receipts, start=start)

    def _initial_size(self) -> QSize:
        wanted = QSize(960, 860)
        parent = self.parentWidget()
        screen = parent.screen() if parent is not None else self.screen()
        if screen is None:
            return wanted
        room = screen.availableGeometry().size() * 0.9
        return wanted.boundedTo(room)


def receipt_summary(receipts: Sequence[ReceiptInfo]) -> str:
    """ "2 receipts (1 not downloaded)" for a tooltip or a heading."""
    waiting = sum(1 for r in receipts if r.path is None)
    text = f"{len(receipts)} receipt{'s' if len(receipts) != 1 else ''}"
    return text + (f" ({waiting} not downloaded)" if waiting else "")


__all__ = [
    "DownloadReceiptJob",
    "PageCache",
    "ReceiptDialog",
    "ReceiptPage",
    "ReceiptViewer",
    "RenderReceiptJob",
    "SaveReceiptJob",
    "ViewerCopyJob",
    "load_receipt_page",
    "receipt_summary",
]
