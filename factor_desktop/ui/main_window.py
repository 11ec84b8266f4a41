"""The main window: one tab per concern, a status bar, and the job runner behind them."""

from __future__ import annotations

import logging
from collections.abc import Callable

from PySide6.QtCore import QTimer, QUrl, Signal, Slot
from PySide6.QtGui import QAction, QCloseEvent, QDesktopServices, QKeySequence
from PySide6.QtWidgets import QLabel, QMainWindow, QMessageBox, QTabWidget, QWidget

from factor_desktop.secrets import TokenStore
from factor_desktop.store.db import Store
from factor_desktop.ui.connect_dialog import ConnectDialog
from factor_desktop.ui.connection_tab import ConnectionTab
from factor_desktop.ui.formatting import connection_state_label
from factor_desktop.ui.jobs import (
    DisconnectJob,
    EnvFactory,
    JobOutcome,
    JobRunner,
    SessionSecretsJob,
    SnapshotJob,
    default_env_factory,
)
from factor_desktop.ui.snapshot import Snapshot
from factor_desktop.ui.tabs import ClientsTab, ExpensesTab, InvoicesTab, MappingsTab, SyncLogTab

log = logging.getLogger(__name__)

REFRESH_INTERVAL_MS = 30_000
WINDOW_SIZE = (1280, 800)


def open_in_browser(url: str) -> None:
    QDesktopServices.openUrl(QUrl(url))


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
        self.note_status = QLabel(status_note or "")
        self.note_status.setVisible(bool(status_note))
        self.data_status = QLabel(f"Data: {store.path}")
        self.data_status.setToolTip(str(store.path))
        bar = self.statusBar()
        bar.addWidget(self.state_status)
        bar.addWidget(self.busy_status, 1)
        bar.addPermanentWidget(self.note_status)
        bar.addPermanentWidget(self.data_status)

        self.runner = JobRunner(env_factory or default_env_factory(store, tokens), self)
        self.runner.snapshotReady.connect(self._on_snapshot)
        self.runner.jobFinished.connect(self._on_job_finished)
        self.runner.busyChanged.connect(self._on_busy)

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

    # -- closing ----------------------------------------------------------------------------

    def shutdown(self) -> None:
        """Stop the timer, cancel and join the worker, then run the shutdown hooks."""
        if self._closed:
            return
        self._closed = True
        self.refresh_timer.stop()
        if self.connect_dialog is not None:
            self.connect_dialog.reject()
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
