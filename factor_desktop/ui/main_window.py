"""The main window: one tab per concern, menus, a status bar, and the job runner behind them."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QByteArray, QEvent, QSettings, QSize, Qt, QTimer, QUrl, Signal, Slot
from PySide6.QtGui import (
    QAction,
    QCloseEvent,
    QColor,
    QDesktopServices,
    QGuiApplication,
    QIcon,
    QKeySequence,
    QShowEvent,
)
from PySide6.QtWidgets import (
    QApplication,
    QFileDialog,
    QHeaderView,
    QMainWindow,
    QMessageBox,
    QSystemTrayIcon,
    QTabWidget,
    QToolBar,
    QWidget,
)

from factor_desktop.paths import DataDir
from factor_desktop.secrets import TokenStore
from factor_desktop.store.db import Store
from factor_desktop.ui.colors import ERROR_COLOR, WARNING_COLOR, css, follow_palette
from factor_desktop.ui.connect_dialog import ConnectDialog
from factor_desktop.ui.connection_tab import ConnectionTab
from factor_desktop.ui.first_run import FirstRunGuide
from factor_desktop.ui.first_run import install as install_first_run
from factor_desktop.ui.formatting import (
    PlainError,
    connection_state_label,
    date_text,
    plain_error,
    sync_counts_text,
)
from factor_desktop.ui.import_dialog import ImportProblemsDialog, import_summary_text
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
from factor_desktop.ui.jobs_extra import ImportJob, ImportProgress, ImportResult, RefreshListsJob
from factor_desktop.ui.menus import about_box, build_menus, documentation_path, tip
from factor_desktop.ui.projects_view import ProjectsView
from factor_desktop.ui.selftest_gui import SelfTestDialog
from factor_desktop.ui.settings_dialog import SettingsDialog
from factor_desktop.ui.snapshot import Snapshot, SyncRunRow
from factor_desktop.ui.status_bar import AppStatusBar
from factor_desktop.ui.sync_dialog import SyncPreviewDialog
from factor_desktop.ui.tabs.clients import ClientsTab
from factor_desktop.ui.tabs.expenses import ExpensesTab
from factor_desktop.ui.tabs.invoices import InvoicesTab
from factor_desktop.ui.tabs.mappings import MappingsTab
from factor_desktop.ui.tabs.sync_log import SyncLogTab
from factor_desktop.ui.update_check import UpdateCheckJob, offer_update

if TYPE_CHECKING:
    from factor_desktop.sync.engine import SyncSummary

log = logging.getLogger(__name__)

REFRESH_INTERVAL_MS = 30_000
WINDOW_SIZE = (1280, 800)
# The share of the screen a first window may take at most.
SCREEN_SHARE = 0.92
MINUTE_MS = 60_000
# Platforms whose screen is only a stand-in: nothing about it is worth remembering.
STAND_IN_PLATFORMS = ("offscreen", "minimal")
# How long a desktop notification stays up.
NOTIFY_MS = 15_000


def open_in_browser(url: str) -> bool:
    """Open `url` in the system's browser (or viewer); False when nothing could be launched."""
    return bool(QDesktopServices.openUrl(QUrl(url)))


def default_ui_settings() -> QSettings:
    """Where the window keeps its size and column widths (not firm data: the user's config)."""
    return QSettings(
        QSettings.Format.IniFormat, QSettings.Scope.UserScope, "Factor", "Factor Desktop"
    )


def fit_to_screen(wanted: QSize, available: QSize) -> QSize:
    """`wanted`, shrunk to fit inside `available` with room for the window's frame."""
    return QSize(
        min(wanted.width(), int(available.width() * SCREEN_SHARE)),
        min(wanted.height(), int(available.height() * SCREEN_SHARE)),
    )


def platform_title(title: str) -> str:
    """The title as the window system shows it: Qt adds " — <application display name>"
    unless the title is that name."""
    name = QGuiApplication.applicationDisplayName()
    if not name or title == name:
        return title
    return f"{title} \N{EM DASH} {name}" if title else name


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
    TAB_PROJECTS = 4
    TAB_EXPENSES = 5
    TAB_LOG = 6
    TAB_NAMES = (
        "connection",
        "clients",
        "mappings",
        "invoices",
        "projects",
        "expenses",
        "sync-log",
    )

    snapshotApplied = Signal(object)  # Snapshot

    def __init__(
        self,
        store: Store,
        tokens: TokenStore,
        *,
        title: str = "Factor Desktop",
        status_note: str | None = None,
        open_url: Callable[[str], object] = open_in_browser,
        refresh_interval_ms: int = REFRESH_INTERVAL_MS,
        env_factory: EnvFactory | None = None,
        ui_settings: QSettings | None = None,
        remember_layout: bool | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._title = title
        self._use_title(title)
        self._store_path = store.path
        self._open_url = open_url
        self._ui_settings = ui_settings if ui_settings is not None else default_ui_settings()
        # A window on a stand-in screen (tests, the screenshot command) leaves alone the size
        # and columns the administrator's real window keeps.
        self.remembers_layout = (
            remember_layout
            if remember_layout is not None
            else QGuiApplication.platformName() not in STAND_IN_PLATFORMS
        )
        self._snapshot: Snapshot | None = None
        self._shutdown_hooks: list[Callable[[], None]] = []
        self._closed = False
        self.connect_dialog: ConnectDialog | None = None
        self.confirm_box: QMessageBox | None = None
        self.settings_dialog: SettingsDialog | None = None
        self.import_dialog: QFileDialog | None = None
        self.import_job: ImportJob | None = None
        self.problems_dialog: ImportProblemsDialog | None = None
        self.about_dialog: QMessageBox | None = None
        self.self_test_dialog: SelfTestDialog | None = None
        self.update_box: QMessageBox | None = None
        # QuickBooks could not be reached on the last try (the plain message), or None.
        self.unreachable: PlainError | None = None
        self.tray: QSystemTrayIcon | None = None
        # The last desktop notification: (title, text), for the administrator and for tests.
        self.last_notification: tuple[str, str] | None = None

        self.connection_tab = ConnectionTab()
        if store.notices:
            self.connection_tab.store_banner.show_message(
                "The firm database was repaired when it was opened", "\n".join(store.notices)
            )
        self.clients_tab = ClientsTab()
        self.mappings_tab = MappingsTab()
        self.invoices_tab = InvoicesTab()
        self.projects_tab = ProjectsView()
        self.expenses_tab = ExpensesTab()
        self.log_tab = SyncLogTab()
        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        self.tabs.addTab(self.connection_tab, "Connection")
        self.tabs.addTab(self.clients_tab, "Clients && Projects")
        self.tabs.addTab(self.mappings_tab, "Mappings")
        self.tabs.addTab(self.invoices_tab, "Invoices")
        self.tabs.addTab(self.projects_tab, "Projects")
        self.tabs.addTab(self.expenses_tab, "Expenses")
        self.tabs.addTab(self.log_tab, "Sync Log")
        self.setCentralWidget(self.tabs)

        # The status bar: one row of fields that never overlap (see status_bar.py).
        self.status = AppStatusBar()
        self.setStatusBar(self.status)
        self.state_status = self.status.state
        self.busy_status = self.status.message
        self.sync_progress = self.status.progress.bar
        self.cancel_button = self.status.progress.cancel_button
        self.sync_status = self.status.last_sync
        self.next_sync_status = self.status.next_sync
        self.note_status = self.status.note
        self.data_status = self.status.data
        self.status.set_field(self.note_status, status_note or "")
        self.status.set_field(self.data_status, f"Data: {store.path}", str(store.path))
        self.sync_progress.hide()
        self.cancel_button.hide()

        # Syncing: the toolbar's actions, the job that runs, the preview, the auto-sync timer.
        self.sync_job: SyncJob | None = None
        self.preview_dialog: SyncPreviewDialog | None = None
        self.next_auto_sync: datetime | None = None
        self.sync_action = QAction("Sync Now", self)
        self.sync_action.setShortcut(QKeySequence("Ctrl+Shift+S"))
        self.preview_action = QAction("Preview Sync…", self)
        self.preview_action.setShortcut(QKeySequence("Ctrl+Shift+P"))
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
        self.menu_actions = build_menus(
            self, self.sync_action, self.preview_action, self.cancel_action
        )
        self.refresh_lists_action = self.menu_actions.refresh_lists
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
        self.expenses_tab.attach_runner(self.runner)
        self.clients_tab.attach_runner(self.runner)
        self.clients_tab.links.add_refresh_action(self.menu_actions.refresh_lists)
        self.invoices_tab.attach_runner(self.runner)
        self.projects_tab.attach_runner(self.runner)
        self.invoices_tab.invoice_actions.fixRequested.connect(self.fix_invoice)
        self.invoices_tab.invoice_actions.openUrlRequested.connect(self._open_url)

        self.sync_action.triggered.connect(self.start_sync)
        self.preview_action.triggered.connect(self.start_preview)
        self.cancel_action.triggered.connect(self.cancel_sync)
        self.status.progress.cancelRequested.connect(self.cancel_sync)
        self.mappings_tab.mappingRequested.connect(self.request_mapping)
        self.mappings_tab.taxMappingRequested.connect(self.request_tax_mapping)
        self.mappings_tab.clearRequested.connect(self.request_clear_mapping)
        self.log_tab.retryRequested.connect(self.retry_failed)
        self.log_tab.linkRequested.connect(self.open_link)
        actions = self.menu_actions
        actions.import_file.triggered.connect(self.choose_import_file)
        actions.settings.triggered.connect(self.open_settings)
        actions.quit.triggered.connect(self.close)
        actions.refresh.triggered.connect(self.refresh)
        actions.refresh_lists.triggered.connect(self.refresh_lists)
        actions.documentation.triggered.connect(self.open_documentation)
        actions.about.triggered.connect(self.show_about)
        actions.self_test.triggered.connect(self.run_self_test)
        self._update_sync_actions()

        self.connection_tab.connectRequested.connect(self.open_connect_dialog)
        self.connection_tab.disconnectRequested.connect(self.confirm_disconnect)
        self.connection_tab.sessionSecretsRequested.connect(self.keep_secrets_for_session)
        # The first-run checklist (a dock), and Help > Getting Started to bring it back.
        self.first_run: FirstRunGuide = install_first_run(self)

        follow_palette()
        self._restored_tabs: set[int] = set()
        self._shown_once = False
        self._restore_geometry()

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
        self.status.set_field(self.note_status, text)

    @Slot(object)
    def _on_snapshot(self, snapshot: Snapshot) -> None:
        first = self._snapshot is None
        self._snapshot = snapshot
        run = snapshot.last_sync
        if first and run is not None and run.status == "failed":
            # The window opens on what the last pass met: QuickBooks was out of reach.
            problem = plain_error(run.error)
            if problem.unreachable:
                self.unreachable = problem
        self.connection_tab.update_from(snapshot.connection)
        self.connection_tab.show_reachability(self.unreachable)
        for tab in (
            self.clients_tab,
            self.mappings_tab,
            self.invoices_tab,
            self.expenses_tab,
            self.log_tab,
        ):
            tab.show_snapshot(snapshot)
        self._show_state(self._state_text(snapshot))
        self._show_last_sync(snapshot.last_sync)
        self._update_sync_actions()
        self.schedule_auto_sync()
        self._restore_columns()
        self.snapshotApplied.emit(snapshot)

    @staticmethod
    def _state_text(snapshot: Snapshot) -> str:
        info = snapshot.connection
        if info.state == "connected":
            return f"Connected to {info.company_name}"
        if info.state == "reconnect_needed" and info.company_name:
            return f"Reconnect needed: {info.company_name}"
        return connection_state_label(info.state)

    def _show_state(self, state: str) -> None:
        if self.unreachable is not None and self._connected():
            self.state_status.setText("Can't reach QuickBooks")
            self.state_status.setToolTip(f"{state}. {self.unreachable.text}")
            self.state_status.setStyleSheet(css(ERROR_COLOR))
        else:
            self.state_status.setText(state)
            self.state_status.setToolTip("")
            self.state_status.setStyleSheet("")

    def _connected(self) -> bool:
        return self._snapshot is not None and self._snapshot.connection.state == "connected"

    def _set_unreachable(self, problem: PlainError | None) -> None:
        """Remember whether QuickBooks answered the last job that asked it something."""
        self.unreachable = problem
        self.connection_tab.show_reachability(problem)
        if self._snapshot is not None:
            self._show_state(self._state_text(self._snapshot))

    @Slot(str)
    def _on_busy(self, title: str) -> None:
        # A routine refresh takes a moment; only work the administrator asked for is shown, and
        # a sync's own progress area already says what it does.
        shown_elsewhere = self.sync_job is not None and title == self.sync_job.title
        self.status.set_busy("" if title == SnapshotJob.title or shown_elsewhere else title)
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
        if outcome.kind == "update_check":
            self._update_checked(outcome)
            return
        if outcome.kind == "retry_outbox":
            self._retry_finished(outcome)
            return
        if self.import_job is not None and outcome.job_id == self.import_job.id:
            self._import_finished(self.import_job, outcome)
            return
        if outcome.cancelled:
            return
        if outcome.kind == "snapshot" and outcome.error:
            problem = plain_error(outcome.error)
            self.connection_tab.show_message(
                "The firm's records could not be read", problem.text, details=problem.details
            )
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
        tip(
            self.sync_action,
            reason
            or "Send finalized invoices to QuickBooks and bring back payments, expenses and "
            "receipts.",
        )
        tip(
            self.preview_action,
            reason or "See what a sync would change, without changing anything.",
        )
        self.refresh_lists_action.setEnabled(allowed)
        tip(
            self.refresh_lists_action,
            reason
            or "Read QuickBooks' customers, items, accounts, tax codes and terms. Changes nothing "
            "in QuickBooks.",
        )
        job = self.sync_job
        syncing = job is not None
        self.cancel_action.setEnabled(job is not None and not job.cancelled)
        tip(
            self.cancel_action,
            "Stop after the current request; what is finished is kept."
            if syncing
            else "No sync is running.",
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
        self.status.show_progress(job.title)
        self._update_sync_actions()
        return job

    @Slot()
    def refresh_lists(self) -> RefreshListsJob | None:
        """Read QuickBooks' lists on the worker; nothing is written to QuickBooks."""
        job = self._start(RefreshListsJob())
        return job if isinstance(job, RefreshListsJob) else None

    @Slot()
    def cancel_sync(self) -> None:
        if self.sync_job is None or self.sync_job.cancelled:
            return
        self.runner.cancel(self.sync_job)
        self.status.progress.cancelling()
        self._update_sync_actions()

    @Slot(object)
    def _on_job_progress(self, event: JobProgress) -> None:
        if self.import_job is not None and event.job_id == self.import_job.id:
            if isinstance(event.payload, ImportProgress):
                done, total = event.payload.done, event.payload.total
                self.statusBar().showMessage(
                    f"Importing {self.import_job.path.name}: {done:,} of {total:,} records…",
                    10_000,
                )
            return
        if self.sync_job is None or event.job_id != self.sync_job.id:
            return
        progress = event.payload
        if isinstance(progress, SyncProgress) and not self.sync_job.cancelled:
            self.status.progress.report(
                progress.step,
                progress.done,
                progress.total,
                sent=progress.sent,
                queued=progress.queued,
            )

    @staticmethod
    def _what(job: SyncJob) -> str:
        if isinstance(job, RefreshListsJob):
            return "Reading the QuickBooks lists"
        return "The sync preview" if job.preview else "The sync"

    def _sync_finished(self, job: SyncJob, outcome: JobOutcome) -> None:
        self.sync_job = None
        self.status.hide_progress()
        self._update_sync_actions()
        if not isinstance(job, RefreshListsJob):
            self.schedule_auto_sync(restart=True)
        if outcome.cancelled:
            self.statusBar().showMessage("Cancelled before it started.", 10_000)
            return
        what = self._what(job)
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
            self._set_unreachable(None)
        if job.preview:
            self.open_preview(summary)
            return
        if isinstance(job, RefreshListsJob):
            if summary.status == "cancelled":
                self.statusBar().showMessage("Reading the QuickBooks lists was cancelled.", 10_000)
            else:
                self.statusBar().showMessage(
                    "QuickBooks lists read; nothing was changed in QuickBooks "
                    f"({summary.requests_used} requests).",
                    10_000,
                )
            return
        self._show_summary(summary)

    def _failed(self, job: SyncJob, problem: PlainError, title: str) -> None:
        """Say a failure in plain words: in the status bar, on the Connection tab when the
        administrator started the job, and as a desktop notification when a background sync
        fails while the window is minimised."""
        self.statusBar().showMessage(problem.text, 30_000)
        if problem.unreachable:
            self._set_unreachable(problem)
        elif not job.auto:
            self.connection_tab.show_message(title, problem.text)
        if job.auto and self.isMinimized():
            self.notify("Factor Desktop: the sync failed", problem.text)

    def _show_summary(self, summary: SyncSummary) -> None:
        """The snapshot that follows every job shows the run in the status bar; problems are
        said at once."""
        if summary.status == "partial":
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
                problem = plain_error(run.error)
                tip.append(problem.text)
                if problem.details != problem.text:
                    tip.append(f"(Details: {problem.details})")
            self.sync_status.setToolTip(" ".join(tip))
            self._last_sync_color = (
                ERROR_COLOR
                if run.status == "failed"
                else WARNING_COLOR
                if run.status in ("partial", "cancelled")
                else None
            )
        color = self._last_sync_color
        self.sync_status.setStyleSheet(css(color))
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
        # Nothing is written to QuickBooks before the administrator's own first sync, after the
        # mappings and links were seen: the background sync starts only once one has run.
        first_done = snapshot is not None and snapshot.last_sync is not None
        if minutes <= 0 or not connected or not first_done:
            self.auto_sync_timer.stop()
            self.next_auto_sync = None
            if minutes > 0 and connected:
                self.next_sync_status.setText("Auto-sync starts after your first sync")
                self.next_sync_status.setToolTip(
                    "Check the mappings and links, preview, then press Sync Now; after that "
                    f"Factor Desktop syncs every {minutes} min."
                )
                self._auto_sync_text = (
                    f"Every {minutes} min, once you have run the first sync yourself"
                )
            elif minutes <= 0:
                self.next_sync_status.setText("Auto-sync off")
                self.next_sync_status.setToolTip(
                    "Choose an interval in File > Settings to sync in the background."
                )
                self._auto_sync_text = "Off (File > Settings turns it on)"
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

    @Slot(int, str, str)
    def request_tax_mapping(self, local_id: int, qbo_id: str, rule: str) -> SetMappingJob:
        """A tax code of another rate was dropped on a tax term, with the rule chosen for it."""
        job = SetMappingJob("tax_term", local_id, qbo_id, "TaxCode", tax_rule=rule)
        self.runner.submit(job)
        return job

    @Slot(str, int)
    def request_clear_mapping(self, kind: str, local_id: int) -> ClearMappingJob:
        job = ClearMappingJob(kind, local_id)
        self.runner.submit(job)
        return job

    @Slot(str, int)
    def fix_invoice(self, fix: str, project_id: int = 0) -> None:
        """An invoice's fix: its mapping (the Mappings tab), its link (the link chooser on
        Clients & Projects, for its client when that is not linked, else for its project), or
        sending it again."""
        if fix == "map":
            self.tabs.setCurrentWidget(self.mappings_tab)
        elif fix == "link":
            self.tabs.setCurrentWidget(self.clients_tab)
            snapshot = self._snapshot
            client = next(
                (
                    c
                    for c in (snapshot.clients if snapshot is not None else ())
                    if any(p.id == project_id for p in c.projects)
                ),
                None,
            )
            if client is None:
                return
            links = self.clients_tab.links
            found = (
                links.select("client", client.id)
                if client.qbo_id is None
                else links.select("project", project_id)
            )
            if found:
                links.open_link_dialog()
        elif fix == "retry":
            self.retry_failed()

    @Slot(str, int)
    def open_link(self, kind: str, local_id: int) -> bool:
        """The sync log's "link it on the Clients & Projects tab": there, with its chooser."""
        self.tabs.setCurrentWidget(self.clients_tab)
        return self.clients_tab.open_link(kind, local_id)

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

    # -- import, settings, help -----------------------------------------------------------

    @Slot()
    def choose_import_file(self) -> QFileDialog:
        """Ask for the file to import (JSON, or CSV named after its kind)."""
        if self.import_dialog is not None and self.import_dialog.isVisible():
            self.import_dialog.raise_()
            return self.import_dialog
        dialog = QFileDialog(self, "Import Factor records")
        dialog.setFileMode(QFileDialog.FileMode.ExistingFile)
        dialog.setNameFilters(
            ["Factor records (*.json *.csv)", "JSON (*.json)", "CSV (*.csv)", "All files (*)"]
        )
        dialog.fileSelected.connect(self._import_chosen)
        dialog.finished.connect(self._import_dialog_closed)
        self.import_dialog = dialog
        dialog.open()
        return dialog

    @Slot(str)
    def _import_chosen(self, path: str) -> None:
        if path:
            self.import_file(Path(path))

    @Slot(int)
    def _import_dialog_closed(self, _result: int) -> None:
        dialog, self.import_dialog = self.import_dialog, None
        if dialog is not None:
            dialog.deleteLater()

    def import_file(self, path: Path) -> ImportJob | None:
        """Import `path` on the worker, all or nothing; the problems open in a list."""
        if self.import_job is not None:
            self.statusBar().showMessage("An import is running; wait for it to finish.", 10_000)
            return None
        job = ImportJob(path)
        self.import_job = job
        self.menu_actions.import_file.setEnabled(False)
        self.runner.submit(job)
        self.statusBar().showMessage(f"Importing {path.name}…", 10_000)
        return job

    def _import_finished(self, job: ImportJob, outcome: JobOutcome) -> None:
        self.import_job = None
        self.menu_actions.import_file.setEnabled(True)
        if outcome.cancelled:
            return
        result = outcome.result
        if outcome.error is not None or not isinstance(result, ImportResult):
            result = ImportResult(str(job.path), None, (), outcome.error or "No result.")
        if result.ok:
            self.statusBar().showMessage(import_summary_text(result), 20_000)
            return
        self.statusBar().showMessage(f"Nothing was imported from {job.path.name}.", 20_000)
        self.show_import_problems(result)

    def show_import_problems(self, result: ImportResult) -> ImportProblemsDialog:
        if self.problems_dialog is not None:
            self.problems_dialog.close()
        dialog = ImportProblemsDialog(result, self)
        dialog.finished.connect(self._problems_closed)
        self.problems_dialog = dialog
        dialog.open()
        return dialog

    @Slot(int)
    def _problems_closed(self, _result: int) -> None:
        dialog, self.problems_dialog = self.problems_dialog, None
        if dialog is not None:
            dialog.deleteLater()

    @Slot()
    def open_settings(self) -> SettingsDialog:
        if self.settings_dialog is not None and self.settings_dialog.isVisible():
            self.settings_dialog.raise_()
            return self.settings_dialog
        dialog = SettingsDialog(self.runner, self)
        dialog.saved.connect(self._settings_saved)
        dialog.finished.connect(self._settings_closed)
        self.settings_dialog = dialog
        dialog.open()
        return dialog

    @Slot(object)
    def _settings_saved(self, _settings: object) -> None:
        self.statusBar().showMessage("Settings saved.", 10_000)

    @Slot(int)
    def _settings_closed(self, _result: int) -> None:
        dialog, self.settings_dialog = self.settings_dialog, None
        if dialog is not None:
            dialog.deleteLater()

    @Slot()
    def open_documentation(self) -> bool:
        path = documentation_path()
        if path is None:
            self.statusBar().showMessage(
                "The guide is not installed with this copy; see README.md in the source.", 15_000
            )
            return False
        opened = self._open_url(QUrl.fromLocalFile(str(path)).toString())
        if opened is False:
            self.statusBar().showMessage(f"No viewer could open the guide: {path}", 30_000)
            return False
        return True

    @Slot()
    def show_about(self) -> QMessageBox:
        if self.about_dialog is not None:
            self.about_dialog.close()
        box = about_box(self, self.data_folder, self._store_path)
        box.finished.connect(box.deleteLater)
        self.about_dialog = box
        box.open()
        return box

    @Slot()
    def run_self_test(self) -> SelfTestDialog:
        """The self-test in a process of its own; its lines show in a dialog as they come."""
        if self.self_test_dialog is not None and self.self_test_dialog.running():
            self.self_test_dialog.raise_()
            return self.self_test_dialog
        dialog = SelfTestDialog(self)
        dialog.finished.connect(self._self_test_closed)
        self.self_test_dialog = dialog
        dialog.open()
        return dialog

    def check_for_updates(self) -> UpdateCheckJob:
        """Read the update feed on the worker (opt-in and once a day: `updates.py`); a newer
        version is offered in a box with its download link."""
        job = UpdateCheckJob()
        self.runner.submit(job)
        return job

    def _update_checked(self, outcome: JobOutcome) -> None:
        if outcome.error is not None:  # not the firm's problem: a line, tried again next start
            self.statusBar().showMessage(f"Update check: {outcome.error}", 15_000)
            return
        box = offer_update(self, outcome.result, self._open_url)
        if box is not None and not self._closed:
            box.finished.connect(box.deleteLater)
            self.update_box = box
            box.open()

    @Slot(int)
    def _self_test_closed(self, _result: int) -> None:
        dialog, self.self_test_dialog = self.self_test_dialog, None
        if dialog is not None:
            dialog.deleteLater()

    @property
    def data_folder(self) -> Path:
        return DataDir.resolve(self._store_path.parent).root

    def notify(self, title: str, text: str) -> None:
        """A desktop notification: the tray's message when there is a tray, else the window
        asks for attention (a flashing taskbar entry)."""
        self.last_notification = (title, text)
        if QSystemTrayIcon.isSystemTrayAvailable():
            if self.tray is None:
                icon = self.windowIcon()
                self.tray = QSystemTrayIcon(icon if not icon.isNull() else QIcon(), self)
                self.tray.activated.connect(self._tray_activated)
            self.tray.show()
            self.tray.showMessage(title, text, QSystemTrayIcon.MessageIcon.Warning, NOTIFY_MS)
        else:
            QApplication.alert(self, NOTIFY_MS)

    @Slot(QSystemTrayIcon.ActivationReason)
    def _tray_activated(self, _reason: QSystemTrayIcon.ActivationReason) -> None:
        self.showNormal()
        self.activateWindow()

    # -- the title, size, colours --------------------------------------------------------

    def _use_title(self, title: str) -> None:
        """Show `title` as it is: Qt would add the application's name after a title that
        already starts with it ("Factor Desktop — Demo — Factor Desktop")."""
        name = QGuiApplication.applicationDisplayName()
        if name and title != name and title.startswith(name):
            QGuiApplication.setApplicationDisplayName(title)
        self.setWindowTitle(title)

    def _restore_geometry(self) -> None:
        """The size and place it had, else 1280x800; never larger than the screen."""
        saved = self._ui_settings.value("window/geometry")
        if isinstance(saved, QByteArray) and not saved.isEmpty():
            self.restoreGeometry(saved)
        else:
            self.resize(*WINDOW_SIZE)
        screen = self.screen() or QGuiApplication.primaryScreen()
        if screen is not None:
            fitted = fit_to_screen(self.size(), screen.availableGeometry().size())
            if fitted != self.size():
                self.resize(fitted)

    @Slot()
    def keep_on_screen(self) -> None:
        """Once the window manager has framed the window: frame and all inside the screen."""
        screen = self.screen()
        if screen is None or self.isMaximized() or self.isFullScreen():
            return
        available = screen.availableGeometry()
        frame = self.frameGeometry()
        if available.contains(frame) or QGuiApplication.platformName() in STAND_IN_PLATFORMS:
            return  # inside, or a screen that is only a stand-in (tests, screenshots)
        extra_w, extra_h = frame.width() - self.width(), frame.height() - self.height()
        width = min(self.width(), available.width() - extra_w)
        height = min(self.height(), available.height() - extra_h)
        if (width, height) != (self.width(), self.height()):
            self.resize(width, height)
        x = min(max(frame.x(), available.left()), available.right() + 1 - (width + extra_w))
        y = min(max(frame.y(), available.top()), available.bottom() + 1 - (height + extra_h))
        self.move(x, y)

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if not self._shown_once:
            self._shown_once = True
            # The frame's size is known only after the window manager has decorated it.
            QTimer.singleShot(300, self, self.keep_on_screen)

    def _headers(self, tab: QWidget | None) -> list[QHeaderView]:
        if tab is None:
            return []
        return [
            header
            for header in tab.findChildren(QHeaderView)
            if header.orientation() == Qt.Orientation.Horizontal
        ]

    def _restore_columns(self) -> None:
        """Column widths as the administrator left them, once each tab has fitted its own."""
        for index in range(self.tabs.count()):
            if index in self._restored_tabs:
                continue
            tab = self.tabs.widget(index)
            if not getattr(tab, "_fitted", True):
                continue  # the tab sizes its columns when its rows first arrive
            self._restored_tabs.add(index)
            for number, header in enumerate(self._headers(tab)):
                saved = self._ui_settings.value(f"columns/{self.TAB_NAMES[index]}/{number}")
                if isinstance(saved, QByteArray) and not saved.isEmpty():
                    header.restoreState(saved)

    def save_layout(self) -> None:
        """Remember the window's geometry and its columns' widths (the user's config file)."""
        if not self.remembers_layout:
            return
        settings = self._ui_settings
        settings.setValue("window/geometry", self.saveGeometry())
        for index in range(self.tabs.count()):
            if index not in self._restored_tabs:
                continue  # never fitted: nothing the administrator chose
            for number, header in enumerate(self._headers(self.tabs.widget(index))):
                settings.setValue(f"columns/{self.TAB_NAMES[index]}/{number}", header.saveState())
        settings.sync()

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        palette_changed = event.type() == QEvent.Type.PaletteChange
        # Text coloured through style sheets takes the new shades.
        if palette_changed and follow_palette() and self._snapshot is not None:
            self.connection_tab.update_from(self._snapshot.connection)
            self.connection_tab.show_reachability(self.unreachable)
            self._show_state(self._state_text(self._snapshot))
            self._show_last_sync(self._snapshot.last_sync)

    # -- closing ----------------------------------------------------------------------------

    def shutdown(self) -> None:
        """Stop the timer, cancel and join the worker, then run the shutdown hooks."""
        if self._closed:
            return
        self._closed = True
        self.refresh_timer.stop()
        self.auto_sync_timer.stop()
        try:
            self.save_layout()
        except Exception:
            log.exception("The window's layout could not be saved")
        for dialog in (
            self.connect_dialog,
            self.preview_dialog,
            self.settings_dialog,
            self.problems_dialog,
            self.import_dialog,
            self.self_test_dialog,
        ):
            if dialog is not None:
                dialog.reject()
        if self.tray is not None:
            self.tray.hide()
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
