"""What the Invoices tab does with the selected invoice: fix what holds it back, open it in
QuickBooks, finalize, void or delete it.

The fixes lead elsewhere: "Map it…" to the Mappings tab, "Link…" to Clients & Projects, "Retry"
to the window's retry (`fixRequested`). Finalize, void and delete run the `invoice` command's
services on the window's worker (`FinalizeInvoiceJob`, `VoidInvoiceJob`, `DeleteDraftJob`), so the
rules and the messages are the command's; void and delete ask first.
"""

from __future__ import annotations

from collections.abc import Awaitable
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import quote, urlsplit

from PySide6.QtCore import QPoint, Qt, Signal, Slot
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QMenu,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from factor_desktop.services.errors import ServiceError
from factor_desktop.ui.jobs import Job, JobEnv, JobOutcome, JobRunner, Report, spawn
from factor_desktop.ui.models.invoices import invoice_attention
from factor_desktop.ui.widgets import Banner
from factor_desktop.views import InvoiceRow

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from factor_desktop.store.models import Invoice

# QuickBooks Online's web app, per Intuit environment.
QBO_APP_URLS = {
    "production": "https://app.qbo.intuit.com/app",
    "sandbox": "https://app.sandbox.qbo.intuit.com/app",
}
# The local sandbox's read-only page for one record.
SANDBOX_RECORD_PATH = "/_sandbox/record"

FIX_LABELS = {"map": "Map it…", "link": "Link…", "retry": "Retry"}
FIX_TIPS = {
    "map": "Open the Mappings tab to map the type or tax term this invoice waits for.",
    "link": "Open Clients & Projects to link the client or project this invoice waits for.",
    "retry": "Queue the failed and blocked records again and sync now.",
}


def qbo_record_url(environment: str | None, entity: str, qbo_id: str) -> str | None:
    """Where a QuickBooks record opens in a browser: the QBO web app for Intuit's production
    and sandbox companies, the local sandbox's own page for a local sandbox (its environment is
    its discovery URL); None for an environment with no such page."""
    if not environment or not qbo_id:
        return None
    app = QBO_APP_URLS.get(environment)
    if app is not None:
        return f"{app}/{entity.lower()}?txnId={quote(qbo_id, safe='')}"
    parts = urlsplit(environment)
    if parts.scheme in ("http", "https") and parts.hostname in ("127.0.0.1", "localhost", "::1"):
        base = f"{parts.scheme}://{parts.netloc}"
        return f"{base}{SANDBOX_RECORD_PATH}/{quote(entity, safe='')}/{quote(qbo_id, safe='')}"
    return None


# --- the jobs ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class InvoiceChanged:
    """What an invoice action did, in the `invoice` command's words."""

    action: str
    invoice_id: int
    message: str


class _InvoiceJob(Job):
    refreshes_snapshot = True
    expected_errors = (ServiceError,)
    action = ""

    def __init__(self, invoice_id: int) -> None:
        super().__init__()
        self.invoice_id = invoice_id

    def __repr__(self) -> str:
        return f"{type(self).__name__}(id={self.id}, invoice={self.invoice_id})"

    def change(self, session: Session) -> Invoice | None:
        """Do the action; the invoice as it is now (None when it is gone)."""
        raise NotImplementedError

    def run(self, env: JobEnv, report: Report) -> InvoiceChanged:
        from factor_desktop.reports import describe_invoice, invoice_text

        with env.store.session() as session:
            invoice = self.change(session)
            text = invoice_text(describe_invoice(invoice) if invoice is not None else None)
        return InvoiceChanged(self.action, self.invoice_id, text)


class FinalizeInvoiceJob(_InvoiceJob):
    """Finalize a draft: its number, totals and due date, and its place in the outbox."""

    kind = "finalize_invoice"
    title = "Finalizing the invoice…"
    action = "finalize"

    def change(self, session: Session) -> Invoice | None:
        from factor_desktop.services.invoices import finalize_invoice

        return finalize_invoice(session, self.invoice_id)


class VoidInvoiceJob(_InvoiceJob):
    """Void a finalized invoice without payments (in QuickBooks too, with the next sync)."""

    kind = "void_invoice"
    title = "Voiding the invoice…"
    action = "void"

    def change(self, session: Session) -> Invoice | None:
        from factor_desktop.services.invoices import void_invoice

        return void_invoice(session, self.invoice_id)


class DeleteDraftJob(_InvoiceJob):
    """Delete a draft invoice (issued invoices are voided instead)."""

    kind = "delete_draft"
    title = "Deleting the draft…"
    action = "delete"

    def change(self, session: Session) -> Invoice | None:
        from factor_desktop.services.invoices import delete_draft_invoice

        delete_draft_invoice(session, self.invoice_id)
        return None


INVOICE_JOB_KINDS = frozenset({FinalizeInvoiceJob.kind, VoidInvoiceJob.kind, DeleteDraftJob.kind})


# --- the panel -----------------------------------------------------------------------------------


def _name(row: InvoiceRow) -> str:
    return f"invoice {row.number}" if row.number else f"the draft for {row.project_number}"


class InvoiceActions(QWidget):
    """The selected invoice's standing problem and the buttons that act on it.

    `fixRequested` carries "map", "link" or "retry" and the invoice's project id;
    `openUrlRequested` a QuickBooks address.
    """

    fixRequested = Signal(str, int)
    openUrlRequested = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.runner: JobRunner | None = None
        self.row: InvoiceRow | None = None
        self.environment: str | None = None
        self.jobs: dict[int, _InvoiceJob] = {}
        self.confirm_box: QMessageBox | None = None
        self.context_menu: QMenu | None = None

        self.message_bar = Banner("info")
        dismiss = self.message_bar.add_button("Dismiss")
        dismiss.clicked.connect(self.message_bar.clear)
        self.reason = QLabel()
        self.reason.setTextFormat(Qt.TextFormat.PlainText)
        self.reason.setWordWrap(True)
        self.reason.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.reason.hide()

        self.fix_button = QPushButton("Fix")
        self.open_button = QPushButton("Open in QuickBooks")
        self.finalize_button = QPushButton("Finalize")
        self.void_button = QPushButton("Void…")
        self.delete_button = QPushButton("Delete draft…")
        self.fix_button.clicked.connect(self.fix)
        self.open_button.clicked.connect(self.open_in_quickbooks)
        self.finalize_button.clicked.connect(self.finalize)
        self.void_button.clicked.connect(self.confirm_void)
        self.delete_button.clicked.connect(self.confirm_delete)

        buttons = QHBoxLayout()
        buttons.setSpacing(6)
        buttons.addWidget(self.fix_button)
        buttons.addStretch(1)
        for button in (
            self.open_button,
            self.finalize_button,
            self.void_button,
            self.delete_button,
        ):
            buttons.addWidget(button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(6)
        layout.addWidget(self.message_bar)
        layout.addWidget(self.reason)
        layout.addLayout(buttons)
        self.show_row(None)

    def attach(self, runner: JobRunner) -> None:
        """Run the invoice actions on this runner's worker."""
        self.runner = runner

    # -- the selected invoice ---------------------------------------------------------------

    def url(self, row: InvoiceRow | None = None) -> str | None:
        row = row or self.row
        if row is None or not row.qbo_id:
            return None
        return qbo_record_url(self.environment, "Invoice", row.qbo_id)

    def show_row(self, row: InvoiceRow | None) -> None:
        """Show what can be done with `row` (None: nothing selected)."""
        self.row = row
        attention = invoice_attention(row) if row is not None else ""
        self.reason.setText(attention)
        self.reason.setVisible(bool(attention))
        fix = row.fix if row is not None else None
        self.fix_button.setVisible(fix is not None)
        if fix is not None:
            self.fix_button.setText(FIX_LABELS[fix])
            self.fix_button.setToolTip(FIX_TIPS[fix])
        url = self.url(row)
        self.open_button.setEnabled(url is not None)
        self.open_button.setToolTip(
            url
            or (
                "Select an invoice that is in QuickBooks."
                if row is None or not row.qbo_id
                else "This connection has no QuickBooks web page for its records."
            )
        )
        status = row.status if row is not None else None
        self.finalize_button.setEnabled(status == "draft")
        self.delete_button.setEnabled(status == "draft")
        self.void_button.setEnabled(status in ("final", "partially_paid", "paid"))

    def build_menu(self, row: InvoiceRow | None = None) -> QMenu:
        """The same actions as the buttons, for a right-click on a row."""
        if row is not None:
            self.show_row(row)
        if self.context_menu is not None:
            self.context_menu.deleteLater()
        menu = QMenu(self)
        for button in (
            self.fix_button,
            self.open_button,
            self.finalize_button,
            self.void_button,
            self.delete_button,
        ):
            if button is self.fix_button and button.isHidden():
                continue
            action = QAction(button.text(), menu)
            action.setEnabled(button.isEnabled())
            action.triggered.connect(button.click)
            menu.addAction(action)
        self.context_menu = menu
        return menu

    def popup_menu(self, row: InvoiceRow, at: QPoint) -> QMenu:
        menu = self.build_menu(row)
        menu.popup(at)
        return menu

    # -- the actions ------------------------------------------------------------------------

    @Slot()
    def fix(self) -> str | None:
        row = self.row
        if row is None or row.fix is None:
            return None
        self.fixRequested.emit(row.fix, row.project_id)
        return row.fix

    @Slot()
    def open_in_quickbooks(self) -> str | None:
        url = self.url()
        if url is not None:
            self.openUrlRequested.emit(url)
        return url

    def _submit(self, job: _InvoiceJob) -> _InvoiceJob | None:
        if self.runner is None:
            return None
        self.jobs[job.id] = job
        spawn(self._done(job, self.runner.run(job)))
        return job

    @Slot()
    def finalize(self) -> _InvoiceJob | None:
        if self.row is None or self.row.status != "draft":
            return None
        return self._submit(FinalizeInvoiceJob(self.row.id))

    def _confirm(self, title: str, text: str, detail: str, button: str, job: _InvoiceJob) -> None:
        if self.confirm_box is not None:
            self.confirm_box.deleteLater()
        box = QMessageBox(self)
        box.setIcon(QMessageBox.Icon.Question)
        box.setWindowTitle(title)
        box.setText(text)
        box.setInformativeText(detail)
        go = box.addButton(button, QMessageBox.ButtonRole.DestructiveRole)
        box.addButton(QMessageBox.StandardButton.Cancel)
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)

        def chosen() -> None:
            # QMessageBox's own signal, in the GUI thread.
            if box.clickedButton() is go:
                self._submit(job)
            if self.confirm_box is box:
                self.confirm_box = None
            box.deleteLater()

        box.finished.connect(chosen)
        self.confirm_box = box
        box.open()

    @Slot()
    def confirm_void(self) -> QMessageBox | None:
        row = self.row
        if row is None or row.status not in ("final", "partially_paid", "paid"):
            return None
        self._confirm(
            "Void invoice",
            f"Void {_name(row)}?",
            "Its number stays used. If it is in QuickBooks it is voided there with the next "
            "sync, and the expenses it billed can be billed again.",
            "Void",
            VoidInvoiceJob(row.id),
        )
        return self.confirm_box

    @Slot()
    def confirm_delete(self) -> QMessageBox | None:
        row = self.row
        if row is None or row.status != "draft":
            return None
        self._confirm(
            "Delete draft",
            f"Delete {_name(row)}?",
            "The draft and its lines are removed; it never left this computer.",
            "Delete",
            DeleteDraftJob(row.id),
        )
        return self.confirm_box

    async def _done(self, job: _InvoiceJob, running: Awaitable[JobOutcome]) -> None:
        outcome = await running
        self.jobs.pop(job.id, None)
        if outcome.cancelled:
            return
        titles = {"finalize": "Finalized", "void": "Voided", "delete": "Deleted"}
        refused = {
            "finalize": "The invoice was not finalized",
            "void": "The invoice was not voided",
            "delete": "The draft was not deleted",
        }
        if outcome.error is not None:
            self.message_bar.show_message(refused[job.action], outcome.error, "error")
        elif isinstance(outcome.result, InvoiceChanged):
            self.message_bar.show_message(titles[job.action], outcome.result.message, "info")
