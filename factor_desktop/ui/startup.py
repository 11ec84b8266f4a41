"""Start-up timing marks, for measuring how long the window takes to appear.

Off unless the environment sets ``FACTOR_DESKTOP_STARTUP_TRACE``: then each mark is one JSON line
on stderr, ``{"startup_mark": name, "time": <seconds since the epoch>, "cpu": <the process's
CPU seconds so far>}``, so a parent process that noted the time it started this one can tell
where the time went (bench/bench_startup.py), on a busy machine too.
With ``FACTOR_DESKTOP_STARTUP_TRACE=quit`` the app also quits once the window has been painted
with the firm's records.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable

from PySide6.QtCore import QCoreApplication, QEvent, QObject, QTimer
from PySide6.QtWidgets import QApplication, QWidget

VARIABLE = "FACTOR_DESKTOP_STARTUP_TRACE"


def tracing() -> bool:
    return bool(os.environ.get(VARIABLE))


def mark(name: str) -> None:
    """Say that start-up has reached `name` (only when tracing)."""
    if tracing():
        line = json.dumps({"startup_mark": name, "time": time.time(), "cpu": time.process_time()})
        print(line, file=sys.stderr, flush=True)


class _PaintWatch(QObject):
    """Marks the end of the window's first painted frame, and of the first one that shows the
    first snapshot's records."""

    def __init__(self, window: QWidget) -> None:
        super().__init__(window)
        self._window = window
        self._painted = False
        self._snapshot = False
        self._content_painted = False
        self._frame_pending = False

    def snapshot_applied(self) -> None:
        if not self._snapshot:
            self._snapshot = True
            mark("first_snapshot_applied")

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if (
            event.type() == QEvent.Type.Paint
            and not self._frame_pending
            and isinstance(watched, QWidget)
            and (watched is self._window or self._window.isAncestorOf(watched))
        ):
            # A frame is painted in one go; it is finished when the event loop is next free.
            self._frame_pending = True
            QTimer.singleShot(0, self._frame_done)
        return False

    def _frame_done(self) -> None:
        self._frame_pending = False
        if not self._painted:
            self._painted = True
            mark("first_paint")
        if self._snapshot and not self._content_painted:
            self._content_painted = True
            mark("first_paint_with_records")
            app = QCoreApplication.instance()
            if app is not None:
                app.removeEventFilter(self)
            if os.environ.get(VARIABLE) == "quit" and app is not None:
                QTimer.singleShot(0, app.quit)


# A window the window system does not paint at once (opened minimised, say) goes on with its
# start after this long all the same.
FIRST_FRAME_WAIT_MS = 2_000


class _FirstFrame(QObject):
    """Calls back once the window's first frame has been painted, when the event loop is next
    free (or after FIRST_FRAME_WAIT_MS)."""

    def __init__(self, window: QWidget, callback: Callable[[], object]) -> None:
        super().__init__(window)
        self._window = window
        self._callback = callback
        self._seen = False
        self._called = False
        QTimer.singleShot(FIRST_FRAME_WAIT_MS, self, self._painted)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if (
            not self._seen
            and event.type() == QEvent.Type.Paint
            and isinstance(watched, QWidget)
            and (watched is self._window or self._window.isAncestorOf(watched))
        ):
            self._seen = True
            QTimer.singleShot(0, self._painted)
        return False

    def _painted(self) -> None:
        if self._called:
            return
        self._called = True
        app = QCoreApplication.instance()
        if app is not None:
            app.removeEventFilter(self)
        self._callback()


def when_painted(window: QWidget, callback: Callable[[], object]) -> None:
    """Call `callback` once `window` has been painted for the first time (e.g. to start work
    whose imports would hold Python's GIL and delay that frame)."""
    app = QApplication.instance()
    if app is None:
        return
    app.installEventFilter(_FirstFrame(window, callback))


def watch_first_paint(window: QWidget, snapshot_signal: object) -> None:
    """Mark the window's first paint and its first paint with records (only when tracing)."""
    if not tracing():
        return
    app = QApplication.instance()
    if app is None:
        return
    watch = _PaintWatch(window)
    app.installEventFilter(watch)

    def applied(_snapshot: object) -> None:
        watch.snapshot_applied()
        window.update()  # the next frame shows the records

    snapshot_signal.connect(applied)  # type: ignore[attr-defined]
