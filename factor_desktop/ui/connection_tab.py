"""The Connection tab: which QuickBooks company, how healthy the connection is, and its controls."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QAction, QColor, QPainter, QPaintEvent
from PySide6.QtWidgets import (
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from factor_desktop.domain.tokens import REFRESH_IDLE_LIMIT
from factor_desktop.ui.colors import ERROR_COLOR, WARNING_COLOR, css
from factor_desktop.ui.formatting import (
    PlainError,
    age_text,
    connection_state_label,
    datetime_text,
    environment_label,
    time_left_text,
)
from factor_desktop.ui.widgets import Banner, muted_label

if TYPE_CHECKING:
    from factor_desktop.views import ConnectionInfo

# Warn this many days before the refresh token's idle expiry.
IDLE_WARNING = timedelta(days=14)


#: The narrowest a value wraps (or an address is shortened) to, so the tab never needs to
#: scroll sideways, even in a 1024-pixel window beside the first-run guide.
VALUE_MIN_WIDTH = 160


def _value_label(wrap: bool = True) -> QLabel:
    label = QLabel()
    label.setTextFormat(Qt.TextFormat.PlainText)
    label.setWordWrap(wrap)
    if wrap:
        label.setMinimumWidth(VALUE_MIN_WIDTH)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    return label


class ElidedLabel(QLabel):
    """One line that, when it is wider than its room, is drawn with its middle left out ("Local
    sandbox (http://127.0.0.1:8765/…configuration)"); `text()` and the tooltip keep it whole.
    For addresses, which have no spaces to wrap at."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setTextFormat(Qt.TextFormat.PlainText)
        self.setMinimumWidth(VALUE_MIN_WIDTH)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)

    def minimumSizeHint(self) -> QSize:
        return QSize(VALUE_MIN_WIDTH, super().minimumSizeHint().height())

    def elided(self) -> bool:
        return self.fontMetrics().horizontalAdvance(self.text()) > self.contentsRect().width()

    def setText(self, text: str) -> None:
        super().setText(text)
        self.setToolTip(text)

    def paintEvent(self, event: QPaintEvent) -> None:
        if not self.elided():
            super().paintEvent(event)
            return
        painter = QPainter(self)
        try:
            rect = self.contentsRect()
            shown = self.fontMetrics().elidedText(
                self.text(), Qt.TextElideMode.ElideMiddle, rect.width()
            )
            painter.setPen(self.palette().color(self.foregroundRole()))
            painter.drawText(rect, int(self.alignment()), shown)
        finally:
            painter.end()


class _Form(QGridLayout):
    """Labels beside their values, like a form layout, but a grid: a wrapped value gets the
    height its lines need at whatever width the tab has (a form layout keeps one line's)."""

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self.setHorizontalSpacing(12)
        self.setColumnStretch(1, 1)
        self._rows = 0

    def addRow(self, label: QLabel | QWidget | QHBoxLayout, value: QWidget | None = None) -> None:
        row = self._rows
        self._rows += 1
        if value is None:
            if isinstance(label, QHBoxLayout):
                self.addLayout(label, row, 0, 1, 2)
            else:
                self.addWidget(label, row, 0, 1, 2)
            return
        assert isinstance(label, QWidget)
        self.addWidget(label, row, 0, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        self.addWidget(value, row, 1)


def _set_color(label: QLabel, color: QColor | None) -> None:
    label.setStyleSheet(css(color))


class ConnectionTab(QWidget):
    connectRequested = Signal()
    disconnectRequested = Signal()
    sessionSecretsRequested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._info: ConnectionInfo | None = None
        self._busy = False
        self._unreachable: PlainError | None = None
        self._unreachable_since: datetime | None = None

        # Banners, most urgent first.
        self.activity_banner = Banner("info")
        self.unreachable_banner = Banner("warning")
        self.reconnect_banner = Banner("error")
        self.reconnect_button = self.reconnect_banner.add_button("Reconnect…")
        self.keyring_banner = Banner("warning")
        self.session_button = self.keyring_banner.add_button("Keep for this session only")
        self.message_banner = Banner("error")
        dismiss = self.message_banner.add_button("Dismiss")
        dismiss.clicked.connect(self.message_banner.clear)
        # What opening the firm database had to do (restored from its backup after a crash).
        self.store_banner = Banner("warning")
        understood = self.store_banner.add_button("Understood")
        understood.clicked.connect(self.store_banner.clear)

        # The company.
        self.company_label = _value_label()
        font = self.company_label.font()
        font.setPointSizeF(font.pointSizeF() * 1.35)
        font.setBold(True)
        self.company_label.setFont(font)
        self.state_label = _value_label()
        self.realm_label = _value_label()
        self.environment_label = ElidedLabel()
        self.connected_at_label = _value_label()
        company_box = QGroupBox("QuickBooks Online company")
        company_form = _Form(company_box)
        labels: list[QLabel] = []

        def row(form: _Form, text: str, value: QLabel) -> None:
            label = QLabel(text)
            labels.append(label)
            form.addRow(label, value)

        row(company_form, "Company:", self.company_label)
        row(company_form, "State:", self.state_label)
        row(company_form, "Realm ID:", self.realm_label)
        row(company_form, "Environment:", self.environment_label)
        row(company_form, "Connected since:", self.connected_at_label)

        # Its health.
        self.token_age_label = _value_label()
        self.last_used_label = _value_label()
        self.idle_expiry_label = _value_label()
        self.hard_expiry_label = _value_label()
        self.secrets_label = _value_label()
        health_box = QGroupBox("Connection health")
        health_form = _Form(health_box)
        row(health_form, "Refresh token issued:", self.token_age_label)
        row(health_form, "Last used:", self.last_used_label)
        row(health_form, "Idle expiry:", self.idle_expiry_label)
        row(health_form, "Hard expiry (5 years):", self.hard_expiry_label)
        row(health_form, "Secrets kept in:", self.secrets_label)
        # Syncing: the window's Sync Now and Preview actions, what the last pass did, and when
        # the next automatic one runs.
        self.last_sync_label = _value_label()
        self.auto_sync_label = _value_label()
        self.sync_box = QGroupBox("Sync")
        sync_form = _Form(self.sync_box)
        row(sync_form, "Last sync:", self.last_sync_label)
        row(sync_form, "Automatic sync:", self.auto_sync_label)
        self.sync_now_button = QToolButton()
        self.preview_button = QToolButton()
        for button in (self.sync_now_button, self.preview_button):
            button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
            button.setAutoRaise(False)
        sync_buttons = QHBoxLayout()
        sync_buttons.setSpacing(6)
        sync_buttons.addWidget(self.sync_now_button)
        sync_buttons.addWidget(self.preview_button)
        sync_buttons.addStretch(1)
        sync_form.addRow(sync_buttons)
        self.last_sync_label.setText("None yet")

        # One label column for every box, so their values line up.
        label_width = max(label.sizeHint().width() for label in labels)
        for label in labels:
            label.setMinimumWidth(label_width)
        health_form.addRow(
            muted_label(
                "QuickBooks ends a connection whose refresh token goes unused for "
                f"{REFRESH_IDLE_LIMIT.days} days; every sync uses it and restarts the count."
            )
        )

        # What the preflight found.
        self.warnings_label = _value_label()
        warnings_box = QGroupBox("QuickBooks settings check")
        warnings_layout = QVBoxLayout(warnings_box)
        warnings_layout.addWidget(self.warnings_label)

        self.connect_button = QPushButton("Connect…")
        self.disconnect_button = QPushButton("Disconnect")
        buttons = QHBoxLayout()
        buttons.addWidget(self.connect_button)
        buttons.addWidget(self.disconnect_button)
        buttons.addStretch(1)

        content = QWidget()
        column = QVBoxLayout(content)
        column.setContentsMargins(16, 16, 16, 16)
        column.setSpacing(12)
        for banner in (
            self.store_banner,
            self.activity_banner,
            self.unreachable_banner,
            self.reconnect_banner,
            self.keyring_banner,
            self.message_banner,
        ):
            column.addWidget(banner)
        column.addWidget(company_box)
        column.addWidget(self.sync_box)
        column.addWidget(health_box)
        column.addWidget(warnings_box)
        column.addLayout(buttons)
        column.addStretch(1)
        content.setMaximumWidth(900)

        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        scroll.setWidget(content)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(scroll)

        self.connect_button.clicked.connect(self.connectRequested)
        self.reconnect_button.clicked.connect(self.connectRequested)
        self.disconnect_button.clicked.connect(self.disconnectRequested)
        self.session_button.clicked.connect(self.sessionSecretsRequested)
        self.show_loading()

    @property
    def info(self) -> ConnectionInfo | None:
        return self._info

    def show_loading(self) -> None:
        for label in (
            self.state_label,
            self.realm_label,
            self.environment_label,
            self.connected_at_label,
            self.token_age_label,
            self.last_used_label,
            self.idle_expiry_label,
            self.hard_expiry_label,
            self.secrets_label,
            self.warnings_label,
        ):
            label.setText("…")
        self.company_label.setText("Reading the connection…")
        self.connect_button.setEnabled(False)
        self.disconnect_button.setEnabled(False)

    def use_sync_actions(self, sync: QAction, preview: QAction) -> None:
        """Show the window's sync actions (their state and tooltips follow the actions)."""
        self.sync_now_button.setDefaultAction(sync)
        self.preview_button.setDefaultAction(preview)

    def show_sync(
        self, last: str, auto: str, color: QColor | None = None, tooltip: str = ""
    ) -> None:
        self.last_sync_label.setText(last)
        self.last_sync_label.setToolTip(tooltip)
        _set_color(self.last_sync_label, color)
        self.auto_sync_label.setText(auto)

    def set_busy(self, busy: bool) -> None:
        """While a connect or disconnect runs, its buttons wait."""
        self._busy = busy
        self._update_buttons()

    def _update_buttons(self) -> None:
        info = self._info
        if info is None:
            return
        self.connect_button.setEnabled(not self._busy and not info.keyring_unavailable)
        self.connect_button.setText("Reconnect…" if info.state != "disconnected" else "Connect…")
        self.reconnect_button.setEnabled(not self._busy and not info.keyring_unavailable)
        self.disconnect_button.setEnabled(not self._busy and info.stored_state != "disconnected")

    def show_message(
        self, title: str, message: str, kind: str = "error", details: str = ""
    ) -> None:
        """A message in the banner; technical `details` (for support) go in its tooltip."""
        self.message_banner.show_message(title, message, kind)
        self.message_banner.setToolTip(
            f"Details: {details}" if details and details != message else ""
        )

    def show_reachability(self, problem: PlainError | None, now: datetime | None = None) -> None:
        """Whether QuickBooks answered the last time it was asked (None: it did)."""
        if problem is None:
            self._unreachable = None
            self._unreachable_since = None
        else:
            if self._unreachable is None:
                self._unreachable_since = now or datetime.now(UTC)
            self._unreachable = problem
        self._show_reachability()

    @property
    def unreachable(self) -> bool:
        return self._unreachable is not None

    def _show_reachability(self) -> None:
        info = self._info
        problem = self._unreachable
        if problem is None or info is None or info.state != "connected":
            self.unreachable_banner.clear()
            return
        since = (
            f" since {datetime_text(self._unreachable_since)}" if self._unreachable_since else ""
        )
        self.state_label.setText(f"Connected, but QuickBooks can't be reached{since}")
        _set_color(self.state_label, ERROR_COLOR)
        self.unreachable_banner.show_message(
            "QuickBooks can't be reached",
            "Your changes are kept and go out on the next sync. Check this computer's internet "
            "connection; Sync Now tries again at once, and the automatic sync keeps trying.",
        )
        # The technical reason, for support, without filling the banner with it.
        self.unreachable_banner.setToolTip(
            f"Details: {problem.details}" if problem.details != problem.text else ""
        )

    def update_from(self, info: ConnectionInfo, now: datetime | None = None) -> None:
        now = now or datetime.now(UTC)
        self._info = info
        self._update_buttons()

        # Banners.
        if info.state == "reconnect_needed":
            self.reconnect_banner.show_message(
                "QuickBooks needs to be reconnected",
                (info.last_error or "The connection was ended by QuickBooks.")
                + " Nothing waiting to sync is lost.",
            )
        else:
            self.reconnect_banner.clear()
        if info.keyring_unavailable:
            self.keyring_banner.show_message(
                "No usable keyring on this computer", info.keyring_message or "", "warning"
            )
            self.session_button.show()
        elif info.keyring_message:
            self.keyring_banner.show_message("The keyring cannot be used", info.keyring_message)
            self.session_button.hide()
        else:
            self.keyring_banner.clear()

        # Company.
        if info.company_name:
            self.company_label.setText(info.company_name)
        else:
            self.company_label.setText("No QuickBooks company connected")
        self.state_label.setText(connection_state_label(info.state))
        _set_color(
            self.state_label,
            ERROR_COLOR
            if info.state == "reconnect_needed"
            else WARNING_COLOR
            if info.state == "disconnected"
            else None,
        )
        self._show_reachability()
        self.realm_label.setText(info.realm_id or "—")
        self.environment_label.setText(
            environment_label(info.environment)
            or f"{environment_label(info.settings_environment)} (not connected yet)"
        )
        self.connected_at_label.setText(
            datetime_text(info.connected_at) if info.connected_at else "—"
        )

        # Health.
        active = info.state == "connected"
        if info.refresh_token_issued_at is not None and info.tokens_present:
            age = now - info.refresh_token_issued_at
            self.token_age_label.setText(
                f"{datetime_text(info.refresh_token_issued_at)} (age {age_text(age)})"
            )
        else:
            self.token_age_label.setText("—")
        self.last_used_label.setText(
            datetime_text(info.refresh_token_last_used_at)
            if info.refresh_token_last_used_at and active
            else "—"
        )
        self._show_idle_expiry(info, now, active)
        self.hard_expiry_label.setText(
            datetime_text(info.hard_deadline) if info.hard_deadline and active else "—"
        )
        self.secrets_label.setText(self._secrets_text(info))

        # Warnings.
        if info.warnings:
            self.warnings_label.setText("\n\n".join(f"• {w}" for w in info.warnings))
            _set_color(self.warnings_label, WARNING_COLOR)
        elif info.stored_state == "connected":
            self.warnings_label.setText(
                "No problems found: the QuickBooks settings suit the sync (checked when the "
                "connection was made)."
            )
            _set_color(self.warnings_label, None)
        else:
            self.warnings_label.setText("Checked each time a connection is made.")
            _set_color(self.warnings_label, None)

    def _show_idle_expiry(self, info: ConnectionInfo, now: datetime, active: bool) -> None:
        if info.idle_deadline is None or not active:
            self.idle_expiry_label.setText("—")
            _set_color(self.idle_expiry_label, None)
            return
        left = info.idle_deadline - now
        when = datetime_text(info.idle_deadline)
        if left <= timedelta(0):
            self.idle_expiry_label.setText(f"{when} (passed: reconnect to QuickBooks)")
            _set_color(self.idle_expiry_label, ERROR_COLOR)
            return
        countdown = time_left_text(left)
        self.idle_expiry_label.setText(f"{when} ({countdown})")
        _set_color(self.idle_expiry_label, WARNING_COLOR if left < IDLE_WARNING else None)

    @staticmethod
    def _secrets_text(info: ConnectionInfo) -> str:
        if info.keyring_unavailable:
            return "Nowhere yet: no keyring is available"
        if info.secret_storage == "session":
            return "Memory, for this session only (chosen because this computer has no keyring)"
        if info.secrets_in_memory:
            return "Memory, for this session only"
        return f"System keyring ({info.keyring_backend})"
