"""Syncing from the window: Sync Now, the preview, reading QuickBooks' lists, Retry, the
auto-sync timer, and the progress and last-sync fields of the status bar."""

from __future__ import annotations

from collections.abc import Awaitable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QTimer, Slot
from PySide6.QtGui import QColor

from factor_desktop.ui.colors import ERROR_COLOR, WARNING_COLOR, css
from factor_desktop.ui.formatting import PlainError, date_text, plain_error, sync_counts_text
from factor_desktop.ui.job_types import PreviewJob, RetryOutboxJob, SyncJob, SyncProgress
from factor_desktop.ui.jobs import JobOutcome, JobProgress, spawn
from factor_desktop.ui.jobs_extra import RefreshListsJob
from factor_desktop.ui.memory import resume_full_collections
from factor_desktop.ui.menus import tip
from factor_desktop.ui.sync_dialog import SyncPreviewDialog
from factor_desktop.views import SyncRunRow

if TYPE_CHECKING:
    from factor_desktop.sync.engine import SyncSummary
    from factor_desktop.ui.main_window import MainWindow

# How long after a pass the collection it put off runs (see ui/memory.py).
COLLECT_AFTER_PASS_MS = 3_000
MINUTE_MS = 60_000


def clock_text(moment: datetime, now: datetime | None = None) -> str:
    """A time in the computer's zone: "15:42" today, "Nov 25 15:42" on another day."""
    local = moment.astimezone()
    today = (now or datetime.now(UTC)).astimezone().date()
    if local.date() == today:
        return f"{local:%H:%M}"
    return f"{date_text(local.date()).rsplit(',', 1)[0]} {local:%H:%M}"


def last_sync_text(run: SyncRunRow, now: datetime | None = None) -> str:
    """What a pass did, e.g. "15:42 — 12 created, 1 blocked"; the status bar says "Last sync"
    before it."""
    when = clock_text(run.finished_at or run.started_at, now)
    if run.status == "running":
        return f"running since {when}"
    counts = sync_counts_text(dict(run.counts), limit=3)
    if run.status in ("failed", "cancelled"):
        return f"{when} {run.status}" + (f" — {counts}" if counts else "")
    return f"{when} — {counts or 'nothing to change'}"


class SyncController(QObject):
    """One pass at a time on the worker; its outcome is awaited where the pass was started."""

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self._window = window
        self.job: SyncJob | None = None
        self.preview_dialog: SyncPreviewDialog | None = None
        self.next_auto_sync: datetime | None = None
        self.auto_sync_timer = QTimer(self)
        self.auto_sync_timer.timeout.connect(self.auto_sync)
        self._last_sync_color: QColor | None = None
        self._auto_sync_text = "Off"

        window.sync_action.triggered.connect(self.start_sync)
        window.preview_action.triggered.connect(self.start_preview)
        window.cancel_action.triggered.connect(self.cancel_sync)
        window.refresh_lists_action.triggered.connect(self.refresh_lists)
        window.status.progress.cancelRequested.connect(self.cancel_sync)
        window.log_tab.retryRequested.connect(self.retry_failed)
        window.runner.jobProgress.connect(self._on_progress)

    def blocked_reason(self) -> str | None:
        """Why a sync cannot start now, or None when it can."""
        if self.job is not None:
            return "A sync is running; wait for it or cancel it."
        snapshot = self._window.snapshot
        if self._window.store_fault is not None:
            return "The firm database could not be opened (Connection tab)."
        if snapshot is None:
            return "Reading the connection…"
        state = snapshot.connection.state
        if state == "connected":
            return None
        if state == "reconnect_needed":
            return "QuickBooks needs to be reconnected first (Connection tab)."
        return "Connect to QuickBooks first (Connection tab)."

    def update_actions(self) -> None:
        window = self._window
        reason = self.blocked_reason()
        allowed = reason is None
        window.sync_action.setEnabled(allowed)
        window.preview_action.setEnabled(allowed)
        tip(
            window.sync_action,
            reason
            or "Send finalized invoices to QuickBooks and bring back payments, expenses and "
            "receipts.",
        )
        tip(
            window.preview_action,
            reason or "See what a sync would change, without changing anything.",
        )
        window.refresh_lists_action.setEnabled(allowed)
        tip(
            window.refresh_lists_action,
            reason
            or "Read QuickBooks' customers, items, accounts, tax codes and terms. Changes nothing "
            "in QuickBooks.",
        )
        job = self.job
        window.cancel_action.setEnabled(job is not None and not job.cancelled)
        tip(
            window.cancel_action,
            "Stop after the current request; what is finished is kept."
            if job is not None
            else "No sync is running.",
        )
        window.log_tab.set_retry_allowed(allowed, reason or "")
        if self.preview_dialog is not None:
            self.preview_dialog.set_sync_allowed(allowed, reason or "")

    # -- starting and stopping a pass ----------------------------------------------------

    @Slot()
    def start_sync(self, auto: bool = False) -> SyncJob | None:
        """Run one sync pass on the worker. None when one cannot start now (see the tooltip)."""
        return self._start(SyncJob(auto=auto))

    @Slot()
    def start_preview(self) -> SyncJob | None:
        """Run a preview pass on the worker; its planned changes open in a dialog."""
        return self._start(PreviewJob())

    @Slot()
    def refresh_lists(self) -> RefreshListsJob | None:
        """Read QuickBooks' lists on the worker; nothing is written to QuickBooks."""
        job = self._start(RefreshListsJob())
        return job if isinstance(job, RefreshListsJob) else None

    def _start(self, job: SyncJob) -> SyncJob | None:
        reason = self.blocked_reason()
        if reason is not None:
            if not job.auto:
                self._window.statusBar().showMessage(reason, 10_000)
            return None
        self.job = job
        spawn(self._pass(job, self._window.runner.run(job)))
        self._window.status.show_progress(job.title)
        self.update_actions()
        return job

    @Slot()
    def cancel_sync(self) -> None:
        if self.job is None or self.job.cancelled:
            return
        self._window.runner.cancel(self.job)
        self._window.status.progress.cancelling()
        self.update_actions()

    @Slot(object)
    def _on_progress(self, event: JobProgress) -> None:
        job = self.job
        progress = event.payload
        if job is None or event.job_id != job.id or job.cancelled:
            return
        if isinstance(progress, SyncProgress):
            self._window.status.progress.report(
                progress.step,
                progress.done,
                progress.total,
                sent=progress.sent,
                queued=progress.queued,
            )

    # -- a pass's outcome ------------------------------------------------------------------

    async def _pass(self, job: SyncJob, running: Awaitable[JobOutcome]) -> None:
        outcome = await running
        self.job = None
        # The full collection the pass put off, once the window has shown what the pass did.
        QTimer.singleShot(COLLECT_AFTER_PASS_MS, resume_full_collections)
        window = self._window
        window.status.hide_progress()
        self.update_actions()
        if not isinstance(job, RefreshListsJob):
            self.schedule_auto_sync(restart=True)
        if outcome.cancelled:
            window.statusBar().showMessage("Cancelled before it started.", 10_000)
            return
        what = (
            "Reading the QuickBooks lists"
            if isinstance(job, RefreshListsJob)
            else "The sync preview"
            if job.preview
            else "The sync"
        )
        if outcome.error is not None:
            self._failed(job, plain_error(outcome.error), f"{what} could not run")
            return
        summary: SyncSummary = outcome.result
        if summary.status == "failed":
            self._failed(job, plain_error(summary.error), f"{what} failed")
            if job.preview:
                self.open_preview(summary)
            return
        if summary.status != "cancelled":
            window.connection.set_unreachable(None)
        if job.preview:
            self.open_preview(summary)
        elif isinstance(job, RefreshListsJob):
            window.statusBar().showMessage(
                "Reading the QuickBooks lists was cancelled."
                if summary.status == "cancelled"
                else "QuickBooks lists read; nothing was changed in QuickBooks "
                f"({summary.requests_used} requests).",
                10_000,
            )
        elif summary.status == "partial":
            # The snapshot that follows every job shows the run in the status bar; problems
            # are said at once.
            window.statusBar().showMessage(
                "The sync finished, but some records could not go through; the Sync Log says why.",
                15_000,
            )

    def _failed(self, job: SyncJob, problem: PlainError, title: str) -> None:
        """Say a failure in plain words: in the status bar, on the Connection tab when the
        administrator started the job, and as a desktop notification when a background sync
        fails while the window is minimised."""
        window = self._window
        window.statusBar().showMessage(problem.text, 30_000)
        if problem.unreachable:
            window.connection.set_unreachable(problem)
        elif not job.auto:
            window.connection_tab.show_message(title, problem.text)
        if job.auto and window.isMinimized():
            window.notify("Factor Desktop: the sync failed", problem.text)

    def show_last_sync(self, run: SyncRunRow | None) -> None:
        status = self._window.sync_status
        if run is None:
            status.setText("No sync yet")
            status.setToolTip("")
            self._last_sync_color = None
        else:
            status.setText(f"Last sync {last_sync_text(run)}")
            lines = [f"Run {run.id} ({run.kind}): {run.status}, {run.requests_used} requests."]
            counts = sync_counts_text(dict(run.counts))
            if counts:
                lines.append(counts + ".")
            if run.error:
                problem = plain_error(run.error)
                lines.append(problem.text)
                if problem.details != problem.text:
                    lines.append(f"(Details: {problem.details})")
            status.setToolTip(" ".join(lines))
            self._last_sync_color = (
                ERROR_COLOR
                if run.status == "failed"
                else WARNING_COLOR
                if run.status in ("partial", "cancelled")
                else None
            )
        status.setStyleSheet(css(self._last_sync_color))
        self._mirror_sync_state()

    def _mirror_sync_state(self) -> None:
        """The Connection tab's Sync box says what the status bar says, at more length."""
        snapshot = self._window.snapshot
        run = snapshot.last_sync if snapshot is not None else None
        self._window.connection_tab.show_sync(
            last_sync_text(run) if run is not None else "None yet",
            self._auto_sync_text,
            self._last_sync_color,
            self._window.sync_status.toolTip(),
        )

    def open_preview(self, summary: SyncSummary) -> SyncPreviewDialog:
        """Show a preview's planned changes; its "Sync Now" starts a real pass."""
        if self.preview_dialog is not None:
            self.preview_dialog.close()
        dialog = SyncPreviewDialog(summary, self._window)
        dialog.accepted.connect(self._preview_accepted)
        dialog.finished.connect(self._preview_closed)
        self.preview_dialog = dialog
        self.update_actions()
        dialog.open()
        return dialog

    @Slot()
    def _preview_accepted(self) -> None:
        self.start_sync()

    @Slot(int)
    def _preview_closed(self, _result: int) -> None:
        dialog, self.preview_dialog = self.preview_dialog, None
        if dialog is not None:
            dialog.deleteLater()

    # -- Retry -----------------------------------------------------------------------------

    @Slot()
    def retry_failed(self) -> RetryOutboxJob | None:
        """Queue the failed and blocked records again (on the worker), then sync."""
        reason = self.blocked_reason()
        if reason is not None:
            self._window.statusBar().showMessage(reason, 10_000)
            return None
        job = RetryOutboxJob()
        spawn(self._retry(self._window.runner.run(job)))
        return job

    async def _retry(self, running: Awaitable[JobOutcome]) -> None:
        outcome = await running
        if outcome.error is not None:
            self._window.statusBar().showMessage(
                f"Could not queue them again: {outcome.error}", 15_000
            )
            return
        if outcome.cancelled:
            return
        count = int(outcome.result or 0)
        self._window.statusBar().showMessage(
            f"{count} record{'s' if count != 1 else ''} queued again; syncing now.", 10_000
        )
        self.start_sync()

    # -- automatic sync --------------------------------------------------------------------

    def schedule_auto_sync(self, restart: bool = False) -> None:
        """Keep the auto-sync timer in step with the setting and the connection.

        Every `auto_sync_minutes` while connected (0 turns it off); `restart` counts the
        interval again from now (after a pass has just run).
        """
        snapshot = self._window.snapshot
        field = self._window.next_sync_status
        minutes = snapshot.auto_sync_minutes if snapshot is not None else 0
        connected = snapshot is not None and snapshot.connection.state == "connected"
        # Nothing is written to QuickBooks before the administrator's own first sync, after the
        # mappings and links were seen: the background sync starts only once one has run.
        first_done = snapshot is not None and snapshot.last_sync is not None
        if minutes <= 0 or not connected or not first_done:
            self.auto_sync_timer.stop()
            self.next_auto_sync = None
            if minutes > 0 and connected:
                field.setText("Auto-sync starts after your first sync")
                field.setToolTip(
                    "Check the mappings and links, preview, then press Sync Now; after that "
                    f"Factor Desktop syncs every {minutes} min."
                )
                self._auto_sync_text = (
                    f"Every {minutes} min, once you have run the first sync yourself"
                )
            elif minutes <= 0:
                field.setText("Auto-sync off")
                field.setToolTip("Choose an interval in File > Settings to sync in the background.")
                self._auto_sync_text = "Off (File > Settings turns it on)"
            else:
                field.setText("Auto-sync waits for a connection")
                field.setToolTip(f"Every {minutes} min once connected.")
                self._auto_sync_text = f"Every {minutes} min, once connected to QuickBooks"
            self._mirror_sync_state()
            return
        interval = minutes * MINUTE_MS
        if (
            restart
            or not self.auto_sync_timer.isActive()
            or self.auto_sync_timer.interval() != interval
        ):
            self.auto_sync_timer.start(interval)
            self.next_auto_sync = datetime.now(UTC) + timedelta(milliseconds=interval)
        if self.next_auto_sync is not None:
            when = clock_text(self.next_auto_sync)
            field.setText(f"Next sync {when}")
            field.setToolTip(f"Automatic sync every {minutes} min.")
            self._auto_sync_text = f"Every {minutes} min; the next at {when}"
        self._mirror_sync_state()

    @Slot()
    def auto_sync(self) -> None:
        """The timer's turn: sync unless a pass is running or the connection is not ready."""
        interval = self.auto_sync_timer.interval()
        self.next_auto_sync = datetime.now(UTC) + timedelta(milliseconds=interval)
        if self.job is None:
            self.start_sync(auto=True)
        self.schedule_auto_sync()
