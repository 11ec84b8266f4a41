"""Connect to QuickBooks: the Intuit app's keys, the browser sign-in, and the outcome.

The dialog runs the connection as jobs on the worker: `ConnectJob` opens the loopback listener
and waits for the browser's redirect; pasting the redirect address instead cancels that wait and
runs `FinishConnectJob`. When no browser can be launched here (or the administrator asks not to
use one), the sign-in link is shown with a Copy button, what to do with it, the redirect URI the
Intuit app must list, and the field for the address QuickBooks sends the browser back to.
The client secret is read from its field once, handed to the job, and the
field is cleared at that moment; the job drops it as soon as the sign-in has begun.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, urlsplit

from PySide6.QtCore import Qt, QTimer, Signal, Slot
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from factor_desktop.ui.colors import ERROR_COLOR, WARNING_COLOR, css
from factor_desktop.ui.job_types import AuthorizeUrl, AwaitingPaste, ConnectJob, FinishConnectJob
from factor_desktop.ui.jobs import Job, JobOutcome, JobProgress, JobRunner, spawn
from factor_desktop.ui.widgets import fit_height, muted_label

if TYPE_CHECKING:
    from factor_desktop.views import ConnectionInfo

log = logging.getLogger(__name__)

ENV_PRODUCTION = 0
ENV_SANDBOX = 1
ENV_CUSTOM = 2

PAGE_FORM = 0
PAGE_WAITING = 1
PAGE_RESULT = 2


def _title(text: str = "") -> QLabel:
    label = QLabel(text)
    font = label.font()
    font.setPointSizeF(font.pointSizeF() * 1.25)
    font.setBold(True)
    label.setFont(font)
    return label


def redirect_uri_of(authorize_url: str) -> str:
    """The redirect URI a sign-in link asks QuickBooks to send the browser back to."""
    values = parse_qs(urlsplit(authorize_url).query).get("redirect_uri", [])
    return values[0] if values else ""


def _text(text: str = "") -> QLabel:
    label = QLabel(text)
    label.setTextFormat(Qt.TextFormat.PlainText)
    label.setWordWrap(True)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    return label


class ConnectDialog(QDialog):
    connected = Signal(object)  # ConnectionReport

    def __init__(
        self,
        runner: JobRunner,
        info: ConnectionInfo | None,
        open_url: Callable[[str], object],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Connect to QuickBooks Online")
        self.setMinimumWidth(560)
        self._runner = runner
        self._open_url = open_url
        self._job: Job | None = None
        self._waiting: asyncio.Task[None] | None = None
        self._authorize_url: str | None = None
        self._loopback = True
        self._closed = False

        self.pages = QStackedWidget()
        self.pages.addWidget(self._build_form(info))
        self.pages.addWidget(self._build_waiting())
        self.pages.addWidget(self._build_result())
        layout = QVBoxLayout(self)
        layout.addWidget(self.pages)

        runner.jobProgress.connect(self._on_progress)

    # -- pages ------------------------------------------------------------------------------

    def _build_form(self, info: ConnectionInfo | None) -> QWidget:
        page = QWidget()
        self.environment_combo = QComboBox()
        self.environment_combo.addItems(
            ["Production", "Sandbox (Intuit developer sandbox)", "Custom discovery URL"]
        )
        self.url_edit = QLineEdit()
        self.url_edit.setPlaceholderText("http://127.0.0.1:PORT/.well-known/openid_configuration")
        self.client_id_edit = QLineEdit()
        self.client_id_edit.setPlaceholderText("From developer.intuit.com > Keys & credentials")
        self.secret_edit = QLineEdit()
        self.secret_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.secret_edit.setInputMethodHints(
            Qt.InputMethodHint.ImhHiddenText
            | Qt.InputMethodHint.ImhSensitiveData
            | Qt.InputMethodHint.ImhNoPredictiveText
        )
        self.form_error = _text()
        self.form_error.setStyleSheet(css(ERROR_COLOR))
        self.form_error.hide()
        self.no_browser_check = QCheckBox(
            "Don't open a browser here: show the sign-in link to copy"
        )
        self.no_browser_check.setToolTip(
            "For a computer without a browser, or to sign in from another computer."
        )

        environment = (info.environment or info.settings_environment) if info else "production"
        if environment == "production":
            self.environment_combo.setCurrentIndex(ENV_PRODUCTION)
        elif environment == "sandbox":
            self.environment_combo.setCurrentIndex(ENV_SANDBOX)
        else:
            self.environment_combo.setCurrentIndex(ENV_CUSTOM)
            self.url_edit.setText(environment)
        if info is not None and info.client_id:
            self.client_id_edit.setText(info.client_id)
        self._has_saved_secret = bool(info and info.has_saved_secret)
        self.secret_edit.setPlaceholderText(
            "Leave empty to use the secret saved in the keyring"
            if self._has_saved_secret
            else "Kept in the keyring, never shown again"
        )
        self.environment_combo.currentIndexChanged.connect(self._environment_changed)
        self._environment_changed(self.environment_combo.currentIndex())

        form = QFormLayout()
        form.addRow("QuickBooks:", self.environment_combo)
        form.addRow("Discovery URL:", self.url_edit)
        form.addRow("Client ID:", self.client_id_edit)
        form.addRow("Client Secret:", self.secret_edit)
        form.addRow("", self.no_browser_check)

        buttons = QDialogButtonBox()
        self.start_button = buttons.addButton("Connect", QDialogButtonBox.ButtonRole.AcceptRole)
        self.start_button.setDefault(True)
        buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.start)
        buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(page)
        layout.addWidget(_title("Connect to QuickBooks Online"))
        layout.addWidget(
            _text(
                "Factor Desktop connects with your firm's own Intuit app. Your browser opens "
                "QuickBooks so you can sign in and choose the company; the connection is kept in "
                "this computer's keyring."
            )
        )
        layout.addLayout(form)
        layout.addWidget(self.form_error)
        layout.addStretch(1)
        layout.addWidget(buttons)
        return page

    def _build_waiting(self) -> QWidget:
        page = QWidget()
        self.waiting_title = _title("Waiting for QuickBooks…")
        self.waiting_text = _text(
            "Sign in to QuickBooks in your browser and choose the company to connect. "
            "This window continues by itself when QuickBooks sends you back."
        )
        progress = QProgressBar()
        progress.setRange(0, 0)
        progress.setTextVisible(False)
        self.reopen_button = QPushButton("Open the sign-in page again")
        self.reopen_button.setEnabled(False)
        self.reopen_button.clicked.connect(self._reopen)
        self.paste_edit = QLineEdit()
        self.paste_edit.setPlaceholderText(
            "http://localhost:PORT/callback?code=…&state=…&realmId=…"
        )
        self.paste_button = QPushButton("Finish with this address")
        self.paste_button.clicked.connect(self.finish_with_paste)
        self.paste_edit.returnPressed.connect(self.finish_with_paste)
        paste_row = QHBoxLayout()
        paste_row.addWidget(self.paste_edit, 1)
        paste_row.addWidget(self.paste_button)
        self.paste_error = _text()
        self.paste_error.setStyleSheet(css(ERROR_COLOR))
        self.paste_error.hide()

        # The sign-in link, for when no browser opens here.
        self.link_box = QWidget()
        self.link_edit = QLineEdit()
        self.link_edit.setReadOnly(True)
        self.copy_button = QPushButton("Copy")
        self.copy_button.setToolTip("Copy the sign-in link to the clipboard.")
        self.copy_button.clicked.connect(self.copy_link)
        link_row = QHBoxLayout()
        link_row.addWidget(self.link_edit, 1)
        link_row.addWidget(self.copy_button)
        self.link_steps = _text()
        link_layout = QVBoxLayout(self.link_box)
        link_layout.setContentsMargins(0, 0, 0, 0)
        link_layout.addWidget(QLabel("Sign-in link:"))
        link_layout.addLayout(link_row)
        link_layout.addWidget(self.link_steps)
        self.link_box.hide()
        self.redirect_label = _text()
        self.redirect_label.hide()
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(self.cancel)
        bottom = QHBoxLayout()
        bottom.addWidget(self.reopen_button)
        bottom.addStretch(1)
        bottom.addWidget(self.cancel_button)

        self.paste_hint = muted_label(
            "Or paste the redirect address instead (the full address your browser shows "
            "after you approve the connection):"
        )
        layout = QVBoxLayout(page)
        layout.addWidget(self.waiting_title)
        layout.addWidget(self.waiting_text)
        layout.addWidget(progress)
        layout.addWidget(self.link_box)
        layout.addSpacing(8)
        layout.addWidget(self.paste_hint)
        layout.addLayout(paste_row)
        layout.addWidget(self.paste_error)
        layout.addWidget(self.redirect_label)
        layout.addStretch(1)
        layout.addLayout(bottom)
        return page

    def _build_result(self) -> QWidget:
        page = QWidget()
        self.result_title = _title()
        self.result_text = _text()
        self.result_warnings = _text()
        self.result_warnings.setStyleSheet(css(WARNING_COLOR))
        self.retry_button = QPushButton("Try again")
        self.retry_button.clicked.connect(self._retry)
        close_button = QPushButton("Close")
        close_button.clicked.connect(self.accept)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.retry_button)
        buttons.addWidget(close_button)
        layout = QVBoxLayout(page)
        layout.addWidget(self.result_title)
        layout.addWidget(self.result_text)
        layout.addWidget(self.result_warnings)
        layout.addStretch(1)
        layout.addLayout(buttons)
        return page

    # -- the form ---------------------------------------------------------------------------

    @Slot(int)
    def _environment_changed(self, index: int) -> None:
        self.url_edit.setEnabled(index == ENV_CUSTOM)

    def _environment_value(self) -> str | None:
        index = self.environment_combo.currentIndex()
        if index == ENV_PRODUCTION:
            return "production"
        if index == ENV_SANDBOX:
            return "sandbox"
        url = self.url_edit.text().strip()
        if not url.startswith(("http://", "https://")):
            return None
        return url

    def _form_problem(self) -> str | None:
        if self._environment_value() is None:
            return "Enter the discovery document URL (http:// or https://)."
        if not self.client_id_edit.text().strip():
            return "Enter the Client ID of your Intuit app."
        if not self.secret_edit.text() and not self._has_saved_secret:
            return "Enter the Client Secret of your Intuit app."
        return None

    @Slot()
    def start(self) -> None:
        problem = self._form_problem()
        if problem:
            self.form_error.setText(problem)
            self.form_error.show()
            return
        self.form_error.hide()
        secret = self.secret_edit.text() or None
        self.secret_edit.clear()
        job = ConnectJob(self._environment_value(), self.client_id_edit.text().strip(), secret)
        del secret
        self._run(job)
        self.waiting_title.setText("Waiting for QuickBooks…")
        self.reopen_button.setEnabled(False)
        self.link_box.hide()
        self.redirect_label.hide()
        self.pages.setCurrentIndex(PAGE_WAITING)

    # -- waiting ----------------------------------------------------------------------------

    def _run(self, job: Job) -> None:
        self._job = job
        self._waiting = spawn(self._finished(job, self._runner.run(job)))

    @Slot()
    def _reopen(self) -> None:
        if self._authorize_url and not self._launch(self._authorize_url):
            self.show_link(self._authorize_url, self._loopback, browser_failed=True)

    def _launch(self, url: str) -> bool:
        """Open the sign-in page in the system's browser; False when none could be launched."""
        try:
            opened = self._open_url(url)
        except Exception:
            log.exception("The browser could not be launched")
            return False
        return opened is not False

    @Slot()
    def copy_link(self) -> None:
        QGuiApplication.clipboard().setText(self.link_edit.text())
        self.copy_button.setText("Copied")

    def show_link(self, url: str, loopback: bool, *, browser_failed: bool = False) -> None:
        """The sign-in link to copy, and what to do with it."""
        self.link_edit.setText(url)
        self.link_edit.setCursorPosition(0)
        self.copy_button.setText("Copy")
        redirect = redirect_uri_of(url)
        if loopback:
            steps = (
                "1. Copy the link and open it in a browser, sign in to QuickBooks and choose the "
                "company.\n"
                "2. On this computer the window then continues by itself. In a browser on "
                "another computer the last page cannot load: copy the address it shows (it "
                f"starts with {redirect or 'http://localhost'}) and paste it below."
            )
        else:
            steps = (
                "1. Copy the link and open it in any browser, sign in to QuickBooks and choose "
                "the company.\n"
                "2. QuickBooks sends the browser to your redirect page: copy that page's whole "
                "address and paste it below."
            )
        self.link_steps.setText(steps)
        self.waiting_title.setText(
            "Open this link in a browser"
            if not browser_failed
            else "No browser could be opened here: open this link in one"
        )
        self.waiting_text.setText(
            "QuickBooks' sign-in page is a web page; any browser can open it."
        )
        self.paste_hint.setText("The address QuickBooks sent the browser to:")
        self.link_box.show()
        self.paste_edit.setFocus()
        QTimer.singleShot(0, self, self._fit_height)

    @Slot()
    def _fit_height(self) -> None:
        fit_height(self)

    @Slot()
    def finish_with_paste(self) -> None:
        url = self.paste_edit.text().strip()
        if "code=" not in url or "state=" not in url:
            self.paste_error.setText(
                "Paste the whole address you were sent to after approving; it contains "
                "code=, state= and realmId=."
            )
            self.paste_error.show()
            return
        self.paste_error.hide()
        self.paste_edit.clear()
        if self._job is not None:
            self._job.cancel()
        self._run(FinishConnectJob(url))
        self.waiting_title.setText("Finishing the connection…")

    @Slot()
    def cancel(self) -> None:
        if self._job is not None:
            self._job.cancel()
            self._job = None
        self.reject()

    @Slot(object)
    def _on_progress(self, event: JobProgress) -> None:
        if self._job is None or event.job_id != self._job.id:
            return
        if isinstance(event.payload, AuthorizeUrl):
            url, loopback = event.payload.url, event.payload.loopback
            self._authorize_url = url
            self._loopback = loopback
            self.reopen_button.setEnabled(True)
            # The sign-in has begun, so the app's keys are in the keyring now.
            self._has_saved_secret = True
            self.secret_edit.setPlaceholderText(
                "Leave empty to use the secret saved in the keyring"
            )
            redirect = redirect_uri_of(url)
            if redirect:
                self.redirect_label.setText(
                    f"Redirect URI your Intuit app must list (developer.intuit.com > Keys & "
                    f"credentials > Redirect URIs): {redirect}"
                )
                self.redirect_label.show()
            if self.no_browser_check.isChecked():
                self.show_link(url, loopback)
                return
            if not self._launch(url):
                self.show_link(url, loopback, browser_failed=True)
                return
            if not loopback:
                self.waiting_text.setText(
                    "Sign in to QuickBooks in your browser and choose the company. QuickBooks "
                    "then sends you to your redirect page: paste that page's address below."
                )

    async def _finished(self, job: Job, running: Awaitable[JobOutcome]) -> None:
        outcome = await running
        if self._job is not job:
            return
        if outcome.cancelled:
            self._job = None
            return
        if outcome.error is not None:
            self._job = None
            self._show_result(False, "Not connected", outcome.error, ())
            return
        if isinstance(outcome.result, AwaitingPaste):
            self._job = None
            return
        from factor_desktop.sync.connection import ConnectionReport  # loaded by the job

        if isinstance(outcome.result, ConnectionReport):
            self._job = None
            report = outcome.result
            self._show_result(
                True,
                f"Connected to {report.company_name}",
                f"QuickBooks company {report.company_name} (realm {report.realm_id}) is "
                "connected to this firm profile.",
                tuple(report.warnings),
            )
            self.connected.emit(report)

    # -- result -----------------------------------------------------------------------------

    def _show_result(self, ok: bool, title: str, text: str, warnings: tuple[str, ...]) -> None:
        self.result_title.setText(title)
        self.result_text.setText(text)
        self.result_warnings.setText("\n\n".join(f"• {w}" for w in warnings))
        self.result_warnings.setVisible(bool(warnings))
        self.retry_button.setVisible(not ok)
        self.pages.setCurrentIndex(PAGE_RESULT)

    @Slot()
    def _retry(self) -> None:
        self.pages.setCurrentIndex(PAGE_FORM)

    # -- closing ----------------------------------------------------------------------------

    def done(self, result: int) -> None:
        if self._closed:
            super().done(result)
            return
        self._closed = True
        if self._job is not None:
            self._job.cancel()
            self._job = None
        # A closed dialog hears nothing more of its job.
        if self._waiting is not None:
            self._waiting.cancel()
            self._waiting = None
        self.secret_edit.clear()
        self.paste_edit.clear()
        self._runner.jobProgress.disconnect(self._on_progress)
        super().done(result)
