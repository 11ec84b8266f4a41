"""The receipt viewer's work on the window's worker thread: drawing a page, downloading a receipt
the sync has not brought yet, and copying the file for "Save as…" and for the system viewer.
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from factor_desktop.qbo.errors import QboError
from factor_desktop.receipts import (
    ReceiptError,
    ReceiptInfo,
    copy_receipt,
    download_receipt,
    viewer_copy,
)
from factor_desktop.ui.jobs import Job, JobEnv, Report
from factor_desktop.ui.receipts.pages import ReceiptPage, load_receipt_page


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
