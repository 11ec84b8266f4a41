"""The window's status bar: fields that share one row without ever drawing over each other.

Everything sits in one row laid out by a layout: the connection state, one message area (the
temporary messages and what the worker is doing), a progress area of its own (the step, "2 of 4",
the time left, Cancel), then the last and next sync, a note and the data file. A field that does
not get its full width is elided and its full text is in its tooltip; when the window is narrow
the least important fields (the note, then the data file) fold away entirely.

QStatusBar's own temporary message (`showMessage`, also used by Qt for action status tips) is
shown in the message area, so it never lands on top of the progress bar.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

from PySide6.QtCore import QEvent, QPoint, QSize, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QFontMetricsF, QPainter, QPaintEvent, QResizeEvent
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QSizePolicy,
    QStatusBar,
    QToolButton,
    QToolTip,
    QWidget,
)

# The message area keeps at least this many average characters before other fields fold.
MESSAGE_MIN_CHARS = 24
# Fields of a higher number than this give way to the message area.
MESSAGE_PRIORITY = 1
MESSAGE_SHARE = 0.36
# While a job's progress shows, the message gives up more of the row.
MESSAGE_SHARE_WHILE_BUSY = 0.22
# A field is shown elided down to this many characters; below that it folds away.
FIELD_MIN_CHARS = 10
SPACING = 14


class ElidedLabel(QLabel):
    """A one-line label that elides its text to the width it is given.

    `text()` stays the full text. When the text is cut, hovering shows the full text (followed by
    the label's own tooltip, if it has one).
    """

    textSet = Signal()

    def __init__(
        self,
        text: str = "",
        parent: QWidget | None = None,
        *,
        mode: Qt.TextElideMode = Qt.TextElideMode.ElideRight,
    ) -> None:
        super().__init__(text, parent)
        self._mode = mode
        self.setTextFormat(Qt.TextFormat.PlainText)
        self.setWordWrap(False)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Preferred)

    def setText(self, text: str) -> None:
        changed = text != self.text()
        super().setText(text)
        if changed:
            self.textSet.emit()

    def natural_width(self) -> int:
        """The width that shows the whole text (a pixel to spare: advances are fractional)."""
        self.ensurePolished()  # a style sheet may change the font
        margins = self.contentsMargins()
        text = self.text()
        advance = math.ceil(QFontMetricsF(self.font()).horizontalAdvance(text)) if text else 0
        return advance + 2 + margins.left() + margins.right()

    def minimumSizeHint(self) -> QSize:
        hint = super().minimumSizeHint()
        return QSize(min(hint.width(), self.fontMetrics().averageCharWidth() * 4), hint.height())

    def shown_text(self) -> str:
        """The text as drawn now, elided to the label's width."""
        return self.fontMetrics().elidedText(self.text(), self._mode, self.contentsRect().width())

    def is_elided(self) -> bool:
        return bool(self.text()) and self.shown_text() != self.text()

    def full_tooltip(self) -> str:
        """What hovering shows: the full text when it is cut, and the label's own tooltip."""
        parts = [self.text()] if self.is_elided() else []
        if self.toolTip():
            parts.append(self.toolTip())
        return "\n\n".join(parts)

    def event(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.ToolTip:
            tip = self.full_tooltip()
            if tip:
                QToolTip.showText(self.mapToGlobal(QPoint(0, self.height())), tip, self)
            else:
                QToolTip.hideText()
                event.ignore()
            return True
        return super().event(event)

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        try:
            self.style().drawItemText(
                painter,
                self.contentsRect(),
                int(self.alignment()),
                self.palette(),
                self.isEnabled(),
                self.shown_text(),
                self.foregroundRole(),
            )
        finally:
            painter.end()


class _MessageLabel(ElidedLabel):
    """The message area: it takes what the fields leave and never asks them to shrink for it
    (the fields' widths are decided by `StatusArea.fit`)."""

    def sizeHint(self) -> QSize:
        hint = super().sizeHint()
        return QSize(self.fontMetrics().averageCharWidth() * MESSAGE_MIN_CHARS, hint.height())


def time_left_estimate(elapsed_s: float, done: int, total: int) -> str:
    """ "about 40 s left" from the pace so far; "" until one step is done or when all are."""
    if done <= 0 or total <= 0 or done >= total or elapsed_s <= 0:
        return ""
    left = elapsed_s / done * (total - done)
    if left < 1:
        return "almost done"
    if left < 90:
        return f"about {max(5, math.ceil(left / 5) * 5)} s left"
    return f"about {math.ceil(left / 60)} min left"


@dataclass
class _Field:
    widget: QWidget
    # Lower numbers keep their width longest; the message area is not one of the fields.
    priority: int
    wanted: bool = True
    # May it fold away entirely when there is no room?
    foldable: bool = False
    # The most of the row's width it takes, even when its text is longer.
    share: float = 0.3


class ProgressArea(QWidget):
    """A running job's progress: a bar, "3 of 4 · Sending invoices · about 30 s left", Cancel."""

    cancelRequested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.bar = QProgressBar()
        self.bar.setTextVisible(False)
        self.bar.setFixedWidth(self.fontMetrics().averageCharWidth() * 14)
        self.bar.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)
        self.detail = ElidedLabel()
        self.detail.setMaximumWidth(self.fontMetrics().averageCharWidth() * 48)
        self.cancel_button = QToolButton()
        self.cancel_button.setText("Cancel")
        self.cancel_button.clicked.connect(self.cancelRequested)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(6)
        layout.addWidget(self.bar)
        layout.addWidget(self.detail)
        layout.addWidget(self.cancel_button)
        self._started = 0.0
        # When the first record of the queue was seen sent, how many were sent by then, and
        # during which step (the records count only while that step runs).
        self._sending_since: tuple[float, int, int] | None = None

    def start(self, title: str) -> None:
        self._started = time.monotonic()
        self._sending_since = None
        self.bar.setRange(0, 0)  # busy until the first step reports
        self.detail.setText(title)
        self.cancel_button.setEnabled(True)
        self.cancel_button.show()

    def report(
        self,
        step: str,
        done: int,
        total: int,
        now: float | None = None,
        *,
        sent: int = 0,
        queued: int = 0,
    ) -> None:
        """Step `done + 1` of `total` is running (`done == total`: finished).

        While records of the queue are going out (`0 < sent < queued`, in the step where they
        started to), the bar and the text count them instead: "3,120 of 10,000 sent · Sending
        invoices · about 4 min left", the estimate from their pace since the first was seen
        sent.
        """
        moment = now if now is not None else time.monotonic()
        sending_step = self._sending_since[2] if self._sending_since is not None else done
        if 0 < sent < queued and done == sending_step:
            self._report_sending(step, done, sent, queued, moment)
            return
        self.bar.setRange(0, max(total, 1))
        self.bar.setValue(done)
        elapsed = moment - self._started
        # The count first: it stays readable when the label is shortened.
        parts = [f"{min(done + 1, total)} of {total}", step] if total > 0 else [step]
        left = time_left_estimate(elapsed, done, total)
        if left:
            parts.append(left)
        self.detail.setText(" · ".join(parts))

    def _report_sending(self, step: str, done: int, sent: int, queued: int, now: float) -> None:
        if self._sending_since is None:
            self._sending_since = (now, sent, done)
        since, sent_then, _step = self._sending_since
        self.bar.setRange(0, queued)
        self.bar.setValue(sent)
        parts = [f"{sent:,} of {queued:,} sent", step]
        left = time_left_estimate(now - since, sent - sent_then, queued - sent_then)
        if left:
            parts.append(left)
        self.detail.setText(" · ".join(parts))

    def cancelling(self) -> None:
        self.detail.setText("Cancelling after the current request…")
        self.cancel_button.setEnabled(False)

    def text(self) -> str:
        return self.detail.text()


class StatusArea(QWidget):
    """The row of fields; decides which get their full width, which are elided, which fold."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.layout_ = QHBoxLayout(self)
        self.layout_.setContentsMargins(4, 0, 4, 0)
        self.layout_.setSpacing(SPACING)
        self.message = _MessageLabel()
        self.message.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        self._fields: list[_Field] = []
        self._fit_pending = False

    def add(
        self, widget: QWidget, priority: int, *, share: float = 0.3, foldable: bool = False
    ) -> None:
        self._fields.append(_Field(widget, priority, foldable=foldable, share=share))
        if isinstance(widget, ElidedLabel):
            widget.textSet.connect(self._refit_soon)

    @Slot()
    def _refit_soon(self) -> None:
        """A field's text changed: share the row again once the current work is done."""
        if not self._fit_pending:
            self._fit_pending = True
            QTimer.singleShot(0, self, self._refit)

    @Slot()
    def _refit(self) -> None:
        self._fit_pending = False
        self.fit()

    def finish(self, order: list[QWidget]) -> None:
        """Lay the fields out left to right in `order` (the message area among them)."""
        for widget in order:
            stretch = 1 if widget is self.message else 0
            self.layout_.addWidget(widget, stretch)

    def set_wanted(self, widget: QWidget, wanted: bool) -> None:
        for item in self._fields:
            if item.widget is widget:
                item.wanted = wanted
        self.fit()

    def is_wanted(self, widget: QWidget) -> bool:
        return any(item.wanted for item in self._fields if item.widget is widget)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self.fit()

    @staticmethod
    def _natural(widget: QWidget) -> int:
        if isinstance(widget, ElidedLabel):
            return widget.natural_width()
        return widget.sizeHint().width()

    def fit(self) -> None:
        """Give the fields their widths by priority for the space there is now.

        The message area is reserved its text's width right after the connection state and the
        progress (a message is news); whatever is left at the end widens it further.
        """
        margins = self.layout_.contentsMargins()
        char = self.fontMetrics().averageCharWidth()
        room = self.width() - margins.left() - margins.right()
        message_reserved = False
        for item in sorted(self._fields, key=lambda f: f.priority):
            if item.priority > MESSAGE_PRIORITY and not message_reserved:
                room -= self._message_room(room, char)
                message_reserved = True
            room = self._place(item, room, char)
        if not message_reserved:
            self._message_room(room, char)

    def _message_room(self, room: int, char: int) -> int:
        text = self.message.text()
        if not text:
            return 0
        # A long message shares the row: it is promised at most this share of it; whatever
        # is left at the end widens it further.
        busy = any(f.wanted and isinstance(f.widget, ProgressArea) for f in self._fields)
        share = MESSAGE_SHARE_WHILE_BUSY if busy else MESSAGE_SHARE
        cap = max(char * MESSAGE_MIN_CHARS, int(self.width() * share))
        wanted = max(min(self.message.natural_width(), cap), char * MESSAGE_MIN_CHARS)
        return min(wanted, max(room, 0))

    def _place(self, item: _Field, room: int, char: int) -> int:
        """Show, shorten or fold one field in `room`; returns the room left after it.

        A field gets its natural width up to its share of the row; with less room it is
        shortened (an elided label, or the progress area's label) down to its minimum; a
        foldable field with no room folds away, the others keep their minimum and the layout
        takes the difference from the message area.
        """
        widget = item.widget
        if not item.wanted:
            widget.hide()
            return room
        natural = min(self._natural(widget), max(int(self.width() * item.share), 0))
        minimum = (
            char * FIELD_MIN_CHARS
            if isinstance(widget, ElidedLabel)
            else widget.minimumSizeHint().width()
        )
        minimum = min(minimum, self._natural(widget))
        if natural + SPACING <= room:
            width = natural
        elif room - SPACING >= minimum:
            width = room - SPACING
        elif item.foldable:
            widget.hide()
            return room
        else:
            width = minimum
        widget.setMaximumWidth(width)
        widget.show()
        return room - width - SPACING


class AppStatusBar(QStatusBar):
    """The main window's status bar (see the module's docstring)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setSizeGripEnabled(False)
        self.area = StatusArea()
        self.state = ElidedLabel("Reading the connection…")
        self.progress = ProgressArea()
        self.last_sync = ElidedLabel("No sync yet")
        self.next_sync = ElidedLabel()
        self.note = ElidedLabel()
        self.data = ElidedLabel(mode=Qt.TextElideMode.ElideMiddle)
        self._busy = ""
        area = self.area
        area.add(self.state, 0, share=0.28)
        area.add(self.progress, 1, share=0.4)
        area.add(self.last_sync, 2, share=0.28)
        area.add(self.next_sync, 3, share=0.14, foldable=True)
        area.add(self.note, 4, share=0.22, foldable=True)
        area.add(self.data, 5, share=0.28, foldable=True)
        area.finish(
            [
                self.state,
                area.message,
                self.progress,
                self.last_sync,
                self.next_sync,
                self.note,
                self.data,
            ]
        )
        area.set_wanted(self.progress, False)
        area.set_wanted(self.note, False)
        # A permanent widget is never hidden by a temporary message; the message is shown in
        # the message area instead of being painted over the row.
        self.addPermanentWidget(area, 1)
        self.messageChanged.connect(self._show_message)

    @property
    def message(self) -> ElidedLabel:
        return self.area.message

    def set_busy(self, text: str) -> None:
        """What the worker is doing; shown while no temporary message is."""
        self._busy = text
        self._show_message(self.currentMessage())

    @Slot(str)
    def _show_message(self, text: str) -> None:
        self.area.message.setText(text or self._busy)
        self.area.fit()

    def set_field(self, label: ElidedLabel, text: str, tooltip: str | None = None) -> None:
        label.setText(text)
        if tooltip is not None:
            label.setToolTip(tooltip)
        self.area.set_wanted(label, bool(text))

    def show_progress(self, title: str) -> None:
        self.progress.start(title)
        self.progress.bar.show()
        self.area.set_wanted(self.progress, True)

    def hide_progress(self) -> None:
        self.progress.bar.hide()
        self.progress.cancel_button.hide()
        self.area.set_wanted(self.progress, False)

    def progress_shown(self) -> bool:
        return self.area.is_wanted(self.progress)

    def visible_fields(self) -> list[QWidget]:
        """The fields drawn now, left to right (for checks that nothing overlaps)."""
        widgets = [self.state, self.message, self.progress, self.last_sync, self.next_sync]
        widgets += [self.note, self.data]
        return [w for w in widgets if w.isVisible()]
