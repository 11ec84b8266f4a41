"""The receipts viewer: one expense's receipts a page at a time, in the Expenses tab's pane and in
the larger dialog; paging through pages and receipts, "Open with system viewer" and "Save as…".
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path

from PySide6.QtCore import QEvent, QObject, QStandardPaths, Qt, QUrl, Signal, Slot
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from factor_desktop.receipts import ReceiptInfo, describe_size
from factor_desktop.ui.jobs import Job, JobOutcome, JobRunner, spawn
from factor_desktop.ui.receipts.jobs import (
    DownloadReceiptJob,
    RenderReceiptJob,
    SaveReceiptJob,
    ViewerCopyJob,
)
from factor_desktop.ui.receipts.page_view import ReceiptPageView
from factor_desktop.ui.receipts.pages import PageCache, ReceiptPage
from factor_desktop.ui.widgets import muted_label


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


class ReceiptViewer(ReceiptPageView):
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
        super().__init__(large=large, parent=parent)
        self.cache = cache or PageCache()
        self.runner: JobRunner | None = None
        # Replaceable (tests): where "Save as…" writes, and how a file is handed to the system.
        self.ask_save_path: Callable[[QWidget, str], str] = _ask_save_path
        self.open_file: Callable[[Path], bool] = _open_file
        self.receipts: tuple[ReceiptInfo, ...] = ()
        self.receipt_index = 0
        self.page_index = 0
        self.error: str | None = None
        self._job: Job | None = None
        self._side_jobs: dict[int, Job] = {}
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

        self.prev_button.clicked.connect(self.previous)
        self.next_button.clicked.connect(self.next)
        self.enlarge_button.clicked.connect(self.enlargeRequested)
        self.open_button.clicked.connect(self.open_in_system_viewer)
        self.save_button.clicked.connect(self.save_as)
        self.message_action.clicked.connect(self._message_action)
        self._message_action_kind = ""
        self.show_receipts(())

    # -- what to show ----------------------------------------------------------------------

    def attach(self, runner: JobRunner) -> None:
        """Do the viewer's work on this runner's worker thread."""
        if self.runner is runner:
            return
        self.runner = runner
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
            spawn(self._rendered(job, self.runner.run(job)))
        self._update()

    def _cancel_job(self) -> None:
        if self._job is not None:
            self._job.cancel()
            self._job = None

    async def _rendered(self, job: RenderReceiptJob, pending: Awaitable[JobOutcome]) -> None:
        outcome = await pending
        if self._job is not job:  # another page was asked for since
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

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if (
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

    def _show_message(self, text: str, action: str | None = None, kind: str = "") -> None:
        self.message.setText(text)
        self.message_action.setVisible(action is not None)
        self.message_action.setText(action or "")
        self.message_action.setEnabled(True)
        self._message_action_kind = kind
        self.image_label.clear()
        self.stack.setCurrentIndex(self.PAGE_MESSAGE)

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
        spawn(self._side_done(job, self.runner.run(job)))
        return job

    async def _side_done(self, job: Job, pending: Awaitable[JobOutcome]) -> None:
        outcome = await pending
        self._side_jobs.pop(job.id, None)
        self._side_job_finished(job, outcome)

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
