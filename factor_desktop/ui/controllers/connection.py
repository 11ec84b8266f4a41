"""The connection from the window: connect, disconnect, keeping secrets for the session only,
and whether QuickBooks answered the last time it was asked."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Slot
from PySide6.QtWidgets import QMessageBox

from factor_desktop.ui.colors import ERROR_COLOR, css
from factor_desktop.ui.connect_dialog import ConnectDialog
from factor_desktop.ui.formatting import PlainError, connection_state_label, plain_error
from factor_desktop.ui.job_types import DisconnectJob, SessionSecretsJob
from factor_desktop.ui.jobs import JobOutcome, spawn

if TYPE_CHECKING:
    from factor_desktop.ui.main_window import MainWindow
    from factor_desktop.views import Snapshot


def state_text(snapshot: Snapshot) -> str:
    """The connection's state as the status bar says it."""
    info = snapshot.connection
    if info.state == "connected":
        return f"Connected to {info.company_name}"
    if info.state == "reconnect_needed" and info.company_name:
        return f"Reconnect needed: {info.company_name}"
    return connection_state_label(info.state)


class ConnectionController(QObject):
    """The Connection tab's requests, and the connection state in the status bar."""

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self._window = window
        self.connect_dialog: ConnectDialog | None = None
        self.confirm_box: QMessageBox | None = None
        # QuickBooks could not be reached on the last try (the plain message), or None.
        self.unreachable: PlainError | None = None
        tab = window.connection_tab
        tab.connectRequested.connect(self.open_connect_dialog)
        tab.disconnectRequested.connect(self.confirm_disconnect)
        tab.sessionSecretsRequested.connect(self.keep_secrets_for_session)
        window.runner.snapshotFailed.connect(self._snapshot_failed)

    # -- what the window shows -------------------------------------------------------------

    def show_snapshot(self, snapshot: Snapshot, first: bool) -> None:
        run = snapshot.last_sync
        if first and run is not None and run.status == "failed":
            # The window opens on what the last pass met: QuickBooks was out of reach.
            problem = plain_error(run.error)
            if problem.unreachable:
                self.unreachable = problem
        self._window.connection_tab.update_from(snapshot.connection)
        self._window.connection_tab.show_reachability(self.unreachable)
        self.show_state(snapshot)

    def show_state(self, snapshot: Snapshot) -> None:
        label = self._window.state_status
        state = state_text(snapshot)
        if self.unreachable is not None and snapshot.connection.state == "connected":
            label.setText("Can't reach QuickBooks")
            label.setToolTip(f"{state}. {self.unreachable.text}")
            label.setStyleSheet(css(ERROR_COLOR))
        else:
            label.setText(state)
            label.setToolTip("")
            label.setStyleSheet("")

    def set_unreachable(self, problem: PlainError | None) -> None:
        """Remember whether QuickBooks answered the last job that asked it something."""
        self.unreachable = problem
        self._window.connection_tab.show_reachability(problem)
        snapshot = self._window.snapshot
        if snapshot is not None:
            self.show_state(snapshot)

    def show_busy(self, title: str) -> None:
        """The tab's buttons wait while a connection job runs or the connect dialog is open."""
        busy = title in (DisconnectJob.title, SessionSecretsJob.title) or (
            self.connect_dialog is not None and self.connect_dialog.isVisible()
        )
        self._window.connection_tab.set_busy(busy)

    @Slot(str)
    def _snapshot_failed(self, error: str) -> None:
        problem = plain_error(error)
        self._window.connection_tab.show_message(
            "The firm's records could not be read", problem.text, details=problem.details
        )
        self._window.statusBar().showMessage("The firm's records could not be read.", 10_000)

    # -- connecting and disconnecting ------------------------------------------------------

    @Slot()
    def open_connect_dialog(self) -> ConnectDialog:
        if self.connect_dialog is not None and self.connect_dialog.isVisible():
            self.connect_dialog.raise_()
            return self.connect_dialog
        window = self._window
        info = window.snapshot.connection if window.snapshot else None
        dialog = ConnectDialog(window.runner, info, window.open_url, window)
        dialog.finished.connect(self._connect_dialog_closed)
        self.connect_dialog = dialog
        window.connection_tab.set_busy(True)
        dialog.open()
        return dialog

    @Slot(int)
    def _connect_dialog_closed(self, _result: int) -> None:
        self._window.connection_tab.set_busy(False)
        dialog, self.connect_dialog = self.connect_dialog, None
        if dialog is not None:
            dialog.deleteLater()

    @Slot()
    def confirm_disconnect(self) -> QMessageBox:
        snapshot = self._window.snapshot
        company = (
            snapshot.connection.company_name
            if snapshot and snapshot.connection.company_name
            else "QuickBooks"
        )
        box = QMessageBox(self._window)
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
        spawn(self._disconnected(self._window.runner.run(job)))
        return job

    async def _disconnected(self, running: Awaitable[JobOutcome]) -> None:
        outcome = await running
        tab = self._window.connection_tab
        if outcome.cancelled:
            return
        if outcome.error:
            tab.show_message("Disconnecting failed", outcome.error)
        elif outcome.result:
            self._window.statusBar().showMessage(
                "Disconnected: QuickBooks revoked the connection and its tokens are forgotten.",
                10_000,
            )
        else:
            tab.show_message(
                "Disconnected here",
                "The tokens are forgotten on this computer, but QuickBooks could not be "
                "told. You can also remove the app under My Apps in QuickBooks.",
                "warning",
            )

    @Slot()
    def keep_secrets_for_session(self) -> SessionSecretsJob:
        job = SessionSecretsJob()
        spawn(self._secrets_kept(self._window.runner.run(job)))
        return job

    async def _secrets_kept(self, running: Awaitable[JobOutcome]) -> None:
        outcome = await running
        if outcome.cancelled:
            return
        if outcome.error:
            self._window.connection_tab.show_message("The choice could not be saved", outcome.error)
        else:
            self._window.statusBar().showMessage(
                "Secrets are kept in memory for this session only.", 10_000
            )
