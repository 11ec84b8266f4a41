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

from PySide6.QtCore import QEvent, QPoint, QSize, Qt, Signal, Slot
from PySide6.QtGui import QPainter, QPaintEvent, QResizeEvent
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
# A field is shown elided down to this many characters; below that it folds away.
FIELD_MIN_CHARS = 10
SPACING = 14


class ElidedLabel(QLabel):
    """A one-line label that elides its text to the width it is given.

    `text()` stays the full text. When the text is cut, hovering shows the full text (followed by
    the label's own tooltip, if it has one).
    """

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

    def natural_width(self) -> int:
        margins = self.contentsMargins()
        return self.fontMetrics().horizontalAdvance(self.text()) + margins.left() + margins.right()

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


class ProgressArea(QWidget):
    """A running job's progress: its step on the bar, "2 of 4 · about 30 s left", Cancel."""

    cancelRequested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.bar = QProgressBar()
        self.bar.setTextVisible(True)
        self.bar.setMinimumWidth(120)
        self.bar.setMaximumWidth(240)
        self.bar.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
        self.detail = QLabel()
        self.detail.setTextFormat(Qt.TextFormat.PlainText)
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

    def start(self, title: str) -> None:
        self._started = time.monotonic()
        self.bar.setRange(0, 0)  # busy until the first step reports
        self.bar.setFormat(title)
        self.bar.setToolTip(title)
        self.detail.clear()
        self.detail.hide()
        self.cancel_button.setEnabled(True)
        self.cancel_button.show()

    def report(self, step: str, done: int, total: int, now: float | None = None) -> None:
        self.bar.setRange(0, max(total, 1))
        self.bar.setValue(done)
        self.bar.setFormat(step)
        self.bar.setToolTip(step)
        elapsed = (now if now is not None else time.monotonic()) - self._started
        parts = [f"{min(done + 1, total)} of {total}" if done < total else f"{total} of {total}"]
        left = time_left_estimate(elapsed, done, total)
        if left:
            parts.append(left)
        self.detail.setText(" · ".join(parts))
        self.detail.setVisible(total > 0)

    def cancelling(self) -> None:
        self.bar.setFormat("Cancelling after the current request…")
        self.cancel_button.setEnabled(False)


class StatusArea(QWidget):
    """The row of fields; decides which get their full width, which are elided, which fold."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.layout_ = QHBoxLayout(self)
        self.layout_.setContentsMargins(4, 0, 4, 0)
        self.layout_.setSpacing(SPACING)
        self.message = ElidedLabel()
        self.message.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        self._fields: list[_Field] = []

    def add(self, widget: QWidget, priority: int, *, foldable: bool = False) -> None:
        self._fields.append(_Field(widget, priority, foldable=foldable))

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
        """Give the fields their widths by priority for the space there is now."""
        margins = self.layout_.contentsMargins()
        char = self.fontMetrics().averageCharWidth()
        room = self.width() - margins.left() - margins.right() - char * MESSAGE_MIN_CHARS
        for item in sorted(self._fields, key=lambda f: f.priority):
            widget = item.widget
            if not item.wanted:
                widget.hide()
                continue
            natural = self._natural(widget)
            elidable = isinstance(widget, ElidedLabel)
            if natural + SPACING <= room:
                width = natural
            elif elidable and room - SPACING >= char * FIELD_MIN_CHARS:
                width = room - SPACING
            elif item.foldable or elidable:
                widget.hide()
                continue
            else:
                width = natural  # not elidable, not foldable: it keeps its size
            if elidable:
                widget.setMaximumWidth(width)
            widget.show()
            room -= width + SPACING


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
        area.add(self.state, 0)
        area.add(self.progress, 1)
        area.add(self.last_sync, 2)
        area.add(self.next_sync, 3)
        area.add(self.note, 4, foldable=True)
        area.add(self.data, 5, foldable=True)
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
