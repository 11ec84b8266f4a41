"""The main window: one tab per concern, a status bar, and the job runner behind them."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from PySide6.QtCore import Qt, QTimer, QUrl, Signal, Slot
from PySide6.QtGui import QAction, QCloseEvent, QColor, QDesktopServices, QKeySequence
from PySide6.QtWidgets import (
    QLabel,
    QMainWindow,
    QMessageBox,
    QProgressBar,
    QTabWidget,
    QToolBar,
    QToolButton,
    QWidget,
)

from factor_desktop.secrets import TokenStore
from factor_desktop.store.db import Store
from factor_desktop.sync.engine import SyncSummary
from factor_desktop.ui.connect_dialog import ConnectDialog
from factor_desktop.ui.connection_tab import ConnectionTab
from factor_desktop.ui.formatting import (
    connection_state_label,
    date_text,
    sync_counts_text,
)
from factor_desktop.ui.jobs import (
    ClearMappingJob,
    DisconnectJob,
    EnvFactory,
    JobOutcome,
    JobProgress,
    JobRunner,
    MappingChanged,
    PreviewJob,
    RetryOutboxJob,
    SessionSecretsJob,
    SetMappingJob,
    SnapshotJob,
    SyncJob,
    SyncProgress,
    default_env_factory,
)
from factor_desktop.ui.models import ERROR_COLOR, WARNING_COLOR
from factor_desktop.ui.snapshot import Snapshot, SyncRunRow
from factor_desktop.ui.sync_dialog import SyncPreviewDialog
from factor_desktop.ui.tabs import ClientsTab, ExpensesTab, InvoicesTab, MappingsTab, SyncLogTab

log = logging.getLogger(__name__)

REFRESH_INTERVAL_MS = 30_000
WINDOW_SIZE = (1280, 800)
MINUTE_MS = 60_000


def open_in_browser(url: str) -> None:
    QDesktopServices.openUrl(QUrl(url))


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


class MainWindow(QMainWindow):
    TAB_CONNECTION = 0
    TAB_CLIENTS = 1
    TAB_MAPPINGS = 2
    TAB_INVOICES = 3
    TAB_EXPENSES = 4
    TAB_LOG = 5
    TAB_NAMES = ("connection", "clients", "mappings", "invoices", "expenses", "sync-log")

    snapshotApplied = Signal(object)  # Snapshot

    def __init__(
        self,
        store: Store,
        tokens: TokenStore,
        *,
        title: str = "Factor Desktop",
        status_note: str | None = None,
        open_url: Callable[[str], None] = open_in_browser,
        refresh_interval_ms: int = REFRESH_INTERVAL_MS,
        env_factory: EnvFactory | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.resize(*WINDOW_SIZE)
        self._store_path = store.path
        self._open_url = open_url
        self._snapshot: Snapshot | None = None
        self._shutdown_hooks: list[Callable[[], None]] = []
        self._closed = False
        self.connect_dialog: ConnectDialog | None = None
        self.confirm_box: QMessageBox | None = None

        self.connection_tab = ConnectionTab()
        self.clients_tab = ClientsTab()
        self.mappings_tab = MappingsTab()
        self.invoices_tab = InvoicesTab()
        self.expenses_tab = ExpensesTab()
        self.log_tab = SyncLogTab()
        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        self.tabs.addTab(self.connection_tab, "Connection")
        self.tabs.addTab(self.clients_tab, "Clients && Projects")
        self.tabs.addTab(self.mappings_tab, "Mappings")
        self.tabs.addTab(self.invoices_tab, "Invoices")
        self.tabs.addTab(self.expenses_tab, "Expenses")
        self.tabs.addTab(self.log_tab, "Sync Log")
        self.setCentralWidget(self.tabs)

        self.state_status = QLabel("Reading the connection…")
        self.busy_status = QLabel()
        self.sync_progress = QProgressBar()
        self.sync_progress.setMaximumWidth(260)
        self.sync_progress.setTextVisible(True)
        self.sync_progress.hide()
        self.cancel_button = QToolButton()
        self.cancel_button.setText("Cancel")
        self.cancel_button.hide()
        self.sync_status = QLabel("No sync yet")
        self.next_sync_status = QLabel()
        self.note_status = QLabel(status_note or "")
        self.note_status.setVisible(bool(status_note))
        self.data_status = QLabel(f"Data: {store.path}")
        self.data_status.setToolTip(str(store.path))
        bar = self.statusBar()
        bar.addWidget(self.state_status)
        bar.addWidget(self.busy_status, 1)
        bar.addWidget(self.sync_progress)
        bar.addWidget(self.cancel_button)
        bar.addPermanentWidget(self.sync_status)
        bar.addPermanentWidget(self.next_sync_status)
        bar.addPermanentWidget(self.note_status)
        bar.addPermanentWidget(self.data_status)

        # Syncing: the toolbar's actions, the job that runs, the preview, the auto-sync timer.
        self.sync_job: SyncJob | None = None
        self.preview_dialog: SyncPreviewDialog | None = None
        self.next_auto_sync: datetime | None = None
        self.sync_action = QAction("Sync Now", self)
        self.sync_action.setShortcut(QKeySequence("Ctrl+Shift+S"))
        self.preview_action = QAction("Preview Sync…", self)
        self.cancel_action = QAction("Cancel Sync", self)
        self.cancel_action.setEnabled(False)
        self.toolbar = QToolBar("Sync", self)
        self.toolbar.setObjectName("sync-toolbar")
        self.toolbar.setMovable(False)
        self.toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        self.toolbar.addAction(self.sync_action)
        self.toolbar.addAction(self.preview_action)
        self.toolbar.addAction(self.cancel_action)
        self.addToolBar(Qt.ToolBarArea.TopToolBarArea, self.toolbar)
        self.auto_sync_timer = QTimer(self)
        self.auto_sync_timer.timeout.connect(self.auto_sync)
        self.connection_tab.use_sync_actions(self.sync_action, self.preview_action)
        self._last_sync_color: QColor | None = None
        self._auto_sync_text = "Off"

        self.runner = JobRunner(env_factory or default_env_factory(store, tokens), self)
        self.runner.snapshotReady.connect(self._on_snapshot)
        self.runner.jobFinished.connect(self._on_job_finished)
        self.runner.jobProgress.connect(self._on_job_progress)
        self.runner.busyChanged.connect(self._on_busy)

        self.sync_action.triggered.connect(self.start_sync)
        self.preview_action.triggered.connect(self.start_preview)
        self.cancel_action.triggered.connect(self.cancel_sync)
        self.cancel_button.clicked.connect(self.cancel_sync)
        self.mappings_tab.mappingRequested.connect(self.request_mapping)
        self.mappings_tab.clearRequested.connect(self.request_clear_mapping)
        self.log_tab.retryRequested.connect(self.retry_failed)
        self._update_sync_actions()

        self.connection_tab.connectRequested.connect(self.open_connect_dialog)
        self.connection_tab.disconnectRequested.connect(self.confirm_disconnect)
        self.connection_tab.sessionSecretsRequested.connect(self.keep_secrets_for_session)

        refresh_action = QAction("Refresh", self)
        refresh_action.setShortcut(QKeySequence(QKeySequence.StandardKey.Refresh))
        refresh_action.triggered.connect(self.refresh)
        self.addAction(refresh_action)

        self.refresh_timer = QTimer(self)
        self.refresh_timer.setInterval(refresh_interval_ms)
        self.refresh_timer.timeout.connect(self.refresh)
        self.refresh_timer.start()
        self.refresh()

    # -- state ------------------------------------------------------------------------------

    @property
    def snapshot(self) -> Snapshot | None:
        return self._snapshot

    def add_shutdown_hook(self, hook: Callable[[], None]) -> None:
        """Run `hook` on the GUI thread after the worker has stopped (e.g. stop the sandbox)."""
        self._shutdown_hooks.append(hook)

    @Slot()
    def refresh(self) -> None:
        self.runner.refresh()

    def set_status_note(self, text: str) -> None:
        self.note_status.setText(text)
        self.note_status.setVisible(bool(text))

    @Slot(object)
    def _on_snapshot(self, snapshot: Snapshot) -> None:
        self._snapshot = snapshot
        self.connection_tab.update_from(snapshot.connection)
        for tab in (
            self.clients_tab,
            self.mappings_tab,
            self.invoices_tab,
            self.expenses_tab,
            self.log_tab,
        ):
            tab.show_snapshot(snapshot)
        info = snapshot.connection
        state = connection_state_label(info.state)
        if info.state == "connected":
            state = f"Connected to {info.company_name}"
        elif info.state == "reconnect_needed" and info.company_name:
            state = f"Reconnect needed: {info.company_name}"
        self.state_status.setText(state)
        self._show_last_sync(snapshot.last_sync)
        self._update_sync_actions()
        self.schedule_auto_sync()
        self.snapshotApplied.emit(snapshot)

    @Slot(str)
    def _on_busy(self, title: str) -> None:
        # A routine refresh takes a moment; only work the administrator asked for is shown.
        self.busy_status.setText("" if title == SnapshotJob.title else title)
        busy_with_connection = title in (
            DisconnectJob.title,
            SessionSecretsJob.title,
        ) or (self.connect_dialog is not None and self.connect_dialog.isVisible())
        self.connection_tab.set_busy(busy_with_connection)

    @Slot(object)
    def _on_job_finished(self, outcome: JobOutcome) -> None:
        if self.sync_job is not None and outcome.job_id == self.sync_job.id:
            self._sync_finished(self.sync_job, outcome)
            return
        if outcome.kind in ("set_mapping", "clear_mapping"):
            if outcome.cancelled:
                return
            if outcome.error is not None:
                self.mappings_tab.show_result(False, outcome.error)
            elif isinstance(outcome.result, MappingChanged):
                self.mappings_tab.show_result(True, outcome.result.message)
            return
        if outcome.kind == "retry_outbox":
            self._retry_finished(outcome)
            return
        if outcome.cancelled:
            return
        if outcome.kind == "snapshot" and outcome.error:
            self.connection_tab.show_message("The firm's records could not be read", outcome.error)
            self.statusBar().showMessage("The firm's records could not be read.", 10_000)
        elif outcome.kind == "disconnect":
            if outcome.error:
                self.connection_tab.show_message("Disconnecting failed", outcome.error)
            elif outcome.result:
                self.statusBar().showMessage(
                    "Disconnected: QuickBooks revoked the connection and its tokens are forgotten.",
                    10_000,
                )
            else:
                self.connection_tab.show_message(
                    "Disconnected here",
                    "The tokens are forgotten on this computer, but QuickBooks could not be "
                    "told. You can also remove the app under My Apps in QuickBooks.",
                    "warning",
                )
        elif outcome.kind == "session_secrets":
            if outcome.error:
                self.connection_tab.show_message("The choice could not be saved", outcome.error)
            else:
                self.statusBar().showMessage(
                    "Secrets are kept in memory for this session only.", 10_000
                )

    # -- actions ----------------------------------------------------------------------------

    @Slot()
    def open_connect_dialog(self) -> ConnectDialog:
        if self.connect_dialog is not None and self.connect_dialog.isVisible():
            self.connect_dialog.raise_()
            return self.connect_dialog
        info = self._snapshot.connection if self._snapshot else None
        dialog = ConnectDialog(self.runner, info, self._open_url, self)
        dialog.finished.connect(self._connect_dialog_closed)
        self.connect_dialog = dialog
        self.connection_tab.set_busy(True)
        dialog.open()
        return dialog

    @Slot(int)
    def _connect_dialog_closed(self, _result: int) -> None:
        self.connection_tab.set_busy(False)
        dialog, self.connect_dialog = self.connect_dialog, None
        if dialog is not None:
            dialog.deleteLater()

    @Slot()
    def confirm_disconnect(self) -> QMessageBox:
        company = (
            self._snapshot.connection.company_name
            if self._snapshot and self._snapshot.connection.company_name
            else "QuickBooks"
        )
        box = QMessageBox(self)
        box.setIcon(QMessageBox.Icon.Question)
        box.setWindowTitle("Disconnect from QuickBooks")
        box.setText(f"Disconnect this firm profile from {company}?")
        box.setInformativeText(
            "QuickBooks revokes Factor Desktop's access and the tokens on this computer are "
            "forgotten. Records keep their QuickBooks links; reconnect to the same company to "
            "continue syncing."
        )
        disconnect = box.addButton("Disconnect", QMessageBox.ButtonRole.DestructiveRole)
        box.addButton(QMessageBox.StandardButton.Cancel)
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)

        def chosen() -> None:
            # Runs in the GUI thread: QMessageBox's own signal, not a worker's.
            if box.clickedButton() is disconnect:
                self.disconnect_now()
            self.confirm_box = None
            box.deleteLater()

        box.finished.connect(chosen)
        self.confirm_box = box
        box.open()
        return box

    def disconnect_now(self) -> DisconnectJob:
        job = DisconnectJob()
        self.runner.submit(job)
        return job

    @Slot()
    def keep_secrets_for_session(self) -> SessionSecretsJob:
        job = SessionSecretsJob()
        self.runner.submit(job)
        return job

    # -- syncing ----------------------------------------------------------------------------

    def sync_blocked_reason(self) -> str | None:
        """Why a sync cannot start now, or None when it can."""
        if self.sync_job is not None:
            return "A sync is running; wait for it or cancel it."
        if self._snapshot is None:
            return "Reading the connection…"
        state = self._snapshot.connection.state
        if state == "connected":
            return None
        if state == "reconnect_needed":
            return "QuickBooks needs to be reconnected first (Connection tab)."
        return "Connect to QuickBooks first (Connection tab)."

    def _update_sync_actions(self) -> None:
        reason = self.sync_blocked_reason()
        allowed = reason is None
        self.sync_action.setEnabled(allowed)
        self.preview_action.setEnabled(allowed)
        self.sync_action.setToolTip(
            reason
            or "Send finalized invoices to QuickBooks and bring back payments, expenses and "
            "receipts."
        )
        self.preview_action.setToolTip(
            reason or "See what a sync would change, without changing anything."
        )
        job = self.sync_job
        syncing = job is not None
        self.cancel_action.setEnabled(job is not None and not job.cancelled)
        self.cancel_action.setToolTip(
            "Stop the sync after the current request; what it finished is kept."
            if syncing
            else "No sync is running."
        )
        self.log_tab.set_retry_allowed(allowed, reason or "")
        if self.preview_dialog is not None:
            self.preview_dialog.set_sync_allowed(allowed, reason or "")

    @Slot()
    def start_sync(self, auto: bool = False) -> SyncJob | None:
        """Run one sync pass on the worker. None when one cannot start now (see the tooltip)."""
        return self._start(SyncJob(auto=auto))

    @Slot()
    def start_preview(self) -> SyncJob | None:
        """Run a preview pass on the worker; its planned changes open in a dialog."""
        return self._start(PreviewJob())

    def _start(self, job: SyncJob) -> SyncJob | None:
        reason = self.sync_blocked_reason()
        if reason is not None:
            if not job.auto:
                self.statusBar().showMessage(reason, 10_000)
            return None
        self.sync_job = job
        self.runner.submit(job)
        self.sync_progress.setRange(0, 0)  # busy until the first step reports
        self.sync_progress.setFormat(job.title)
        self.sync_progress.show()
        self.cancel_button.setEnabled(True)
        self.cancel_button.show()
        self._update_sync_actions()
        return job

    @Slot()
    def cancel_sync(self) -> None:
        if self.sync_job is None or self.sync_job.cancelled:
            return
        self.runner.cancel(self.sync_job)
        self.sync_progress.setFormat("Cancelling after the current request…")
        self.cancel_button.setEnabled(False)
        self._update_sync_actions()

    @Slot(object)
    def _on_job_progress(self, event: JobProgress) -> None:
        if self.sync_job is None or event.job_id != self.sync_job.id:
            return
        progress = event.payload
        if isinstance(progress, SyncProgress) and not self.sync_job.cancelled:
            self.sync_progress.setRange(0, max(progress.total, 1))
            self.sync_progress.setValue(progress.done)
            self.sync_progress.setFormat(progress.step)

    def _sync_finished(self, job: SyncJob, outcome: JobOutcome) -> None:
        self.sync_job = None
        self.sync_progress.hide()
        self.cancel_button.hide()
        self._update_sync_actions()
        self.schedule_auto_sync(restart=True)
        if outcome.cancelled:
            self.statusBar().showMessage("The sync was cancelled before it started.", 10_000)
            return
        if outcome.error is not None:
            what = "The sync preview" if job.preview else "The sync"
            self.statusBar().showMessage(f"{what} could not run: {outcome.error}", 15_000)
            if not job.auto:
                self.connection_tab.show_message(f"{what} could not run", outcome.error)
            return
        summary: SyncSummary = outcome.result
        if job.preview:
            self.open_preview(summary)
            return
        self._show_summary(summary)

    def _show_summary(self, summary: SyncSummary) -> None:
        """The snapshot that follows every job shows the run in the status bar; problems are
        said at once."""
        if summary.status == "failed":
            self.statusBar().showMessage(f"The sync failed: {summary.error}", 15_000)
        elif summary.status == "partial":
            self.statusBar().showMessage(
                "The sync finished, but some records could not go through; the Sync Log says why.",
                15_000,
            )

    def _show_last_sync(self, run: SyncRunRow | None) -> None:
        if run is None:
            self.sync_status.setText("No sync yet")
            self.sync_status.setToolTip("")
            self._last_sync_color = None
        else:
            self.sync_status.setText(f"Last sync {last_sync_text(run)}")
            tip = [f"Run {run.id} ({run.kind}): {run.status}, {run.requests_used} requests."]
            counts = sync_counts_text(dict(run.counts))
            if counts:
                tip.append(counts + ".")
            if run.error:
                tip.append(run.error)
            self.sync_status.setToolTip(" ".join(tip))
            self._last_sync_color = (
                ERROR_COLOR
                if run.status == "failed"
                else WARNING_COLOR
                if run.status in ("partial", "cancelled")
                else None
            )
        color = self._last_sync_color
        self.sync_status.setStyleSheet(f"color: {color.name()};" if color is not None else "")
        self._mirror_sync_state()

    def _mirror_sync_state(self) -> None:
        """The Connection tab's Sync box says what the status bar says, at more length."""
        snapshot = self._snapshot
        run = snapshot.last_sync if snapshot is not None else None
        self.connection_tab.show_sync(
            last_sync_text(run) if run is not None else "None yet",
            self._auto_sync_text,
            self._last_sync_color,
            self.sync_status.toolTip(),
        )

    def open_preview(self, summary: SyncSummary) -> SyncPreviewDialog:
        """Show a preview's planned changes; its "Sync Now" starts a real pass."""
        if self.preview_dialog is not None:
            self.preview_dialog.close()
        dialog = SyncPreviewDialog(summary, self)
        dialog.accepted.connect(self._preview_accepted)
        dialog.finished.connect(self._preview_closed)
        self.preview_dialog = dialog
        self._update_sync_actions()
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

    # -- automatic sync -------------------------------------------------------------------

    def schedule_auto_sync(self, restart: bool = False) -> None:
        """Keep the auto-sync timer in step with the setting and the connection.

        Every `auto_sync_minutes` while connected (0 turns it off); `restart` counts the
        interval again from now (after a pass has just run).
        """
        snapshot = self._snapshot
        minutes = snapshot.auto_sync_minutes if snapshot is not None else 0
        connected = snapshot is not None and snapshot.connection.state == "connected"
        if minutes <= 0 or not connected:
            self.auto_sync_timer.stop()
            self.next_auto_sync = None
            if minutes <= 0:
                self.next_sync_status.setText("Auto-sync off")
                self.next_sync_status.setToolTip(
                    "Set auto_sync_minutes (factor-desktop settings) to sync in the background."
                )
                self._auto_sync_text = "Off (the auto_sync_minutes setting is 0)"
            else:
                self.next_sync_status.setText("Auto-sync waits for a connection")
                self.next_sync_status.setToolTip(f"Every {minutes} min once connected.")
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
            self.next_sync_status.setText(f"Next sync {when}")
            self.next_sync_status.setToolTip(f"Automatic sync every {minutes} min.")
            self._auto_sync_text = f"Every {minutes} min; the next at {when}"
        self._mirror_sync_state()

    @Slot()
    def auto_sync(self) -> None:
        """The timer's turn: sync unless a pass is running or the connection is not ready."""
        interval = self.auto_sync_timer.interval()
        self.next_auto_sync = datetime.now(UTC) + timedelta(milliseconds=interval)
        if self.sync_job is None:
            self.start_sync(auto=True)
        self.schedule_auto_sync()

    # -- mappings and retries -------------------------------------------------------------

    @Slot(str, int, str, str)
    def request_mapping(self, kind: str, local_id: int, qbo_id: str, entity: str) -> SetMappingJob:
        """A QuickBooks record was dropped on a Factor type: save it on the worker."""
        job = SetMappingJob(kind, local_id, qbo_id, entity)
        self.runner.submit(job)
        return job

    @Slot(str, int)
    def request_clear_mapping(self, kind: str, local_id: int) -> ClearMappingJob:
        job = ClearMappingJob(kind, local_id)
        self.runner.submit(job)
        return job

    @Slot()
    def retry_failed(self) -> RetryOutboxJob | None:
        """Queue the failed and blocked records again (on the worker), then sync."""
        reason = self.sync_blocked_reason()
        if reason is not None:
            self.statusBar().showMessage(reason, 10_000)
            return None
        job = RetryOutboxJob()
        self.runner.submit(job)
        return job

    def _retry_finished(self, outcome: JobOutcome) -> None:
        if outcome.error is not None:
            self.statusBar().showMessage(f"Could not queue them again: {outcome.error}", 15_000)
            return
        if outcome.cancelled:
            return
        count = int(outcome.result or 0)
        self.statusBar().showMessage(
            f"{count} record{'s' if count != 1 else ''} queued again; syncing now.", 10_000
        )
        self.start_sync()

    # -- closing ----------------------------------------------------------------------------

    def shutdown(self) -> None:
        """Stop the timer, cancel and join the worker, then run the shutdown hooks."""
        if self._closed:
            return
        self._closed = True
        self.refresh_timer.stop()
        self.auto_sync_timer.stop()
        if self.connect_dialog is not None:
            self.connect_dialog.reject()
        if self.preview_dialog is not None:
            self.preview_dialog.reject()
        self.runner.shutdown()
        hooks, self._shutdown_hooks = self._shutdown_hooks, []
        for hook in reversed(hooks):
            try:
                hook()
            except Exception:
                log.exception("A shutdown step failed")

    def closeEvent(self, event: QCloseEvent) -> None:
        self.shutdown()
        super().closeEvent(event)
