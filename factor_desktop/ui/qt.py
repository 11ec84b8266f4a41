"""The one door to Qt: PySide6 is imported and checked here before the app builds any window.

It also gives the app its event loop: qasync's, which is Qt's own loop running asyncio too.

The desktop app starts through `ensure_usable_qt()` (called by `ui.application.make_application`).
It refuses a PySide6 build known to break the app and warns about one outside the tested range.

The known break: PySide6/shiboken6 6.12.0 takes one reference away from `None` on every call of a
Qt method that returns nothing (`setText`, `hide`, `QTimer.stop`, ...). On CPython 3.11, where
`None` is counted like any object, the count reaches zero after some thousands of calls and the
interpreter aborts ("Fatal Python error: none_dealloc"). 6.11.2 and 6.11.3 lose nothing, and from
Python 3.12 `None` is immortal, so the lost references do not matter there. pyproject.toml keeps
PySide6-Essentials below 6.12; the check here catches an environment that was installed past it.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager

import PySide6
import qasync  # imported after PySide6, so qasync drives this binding
import shiboken6
from PySide6.QtCore import QObject
from PySide6.QtWidgets import QApplication

log = logging.getLogger(__name__)

# The range pyproject.toml declares and CI tests (the floor in a venv of its own).
TESTED_FLOOR = (6, 11, 2)
TESTED_BELOW = (6, 12)
REQUIREMENT = "PySide6-Essentials>=6.11.2,<6.12"

_PROBE_CALLS = 64


class UnusableQt(RuntimeError):
    """This PySide6 build would crash the app; the message says what to install instead."""


def pyside_version() -> str:
    return str(PySide6.__version__)


def version_tuple(version: str) -> tuple[int, ...]:
    """(6, 11, 2) for "6.11.2"; a suffix such as ".140" or "a1" stops the reading."""
    parts: list[int] = []
    for piece in version.split("."):
        if not piece.isdigit():
            break
        parts.append(int(piece))
    return tuple(parts)


def in_tested_range(version: str) -> bool:
    numbers = version_tuple(version)
    return numbers >= TESTED_FLOOR and numbers[: len(TESTED_BELOW)] < TESTED_BELOW


def drops_none_references() -> bool:
    """True when a Qt method that returns nothing loses a reference to None on each call.

    Always False from Python 3.12, where None's count never changes.
    """
    probe = QObject()
    before = sys.getrefcount(None)
    for _ in range(_PROBE_CALLS):
        probe.setObjectName("probe")
    return before - sys.getrefcount(None) >= _PROBE_CALLS // 2


def qt_build_problem() -> str | None:
    """Why this PySide6 cannot run the app, or None when it can."""
    if not drops_none_references():
        return None
    return (
        f"PySide6 {pyside_version()} loses a reference to None on every Qt call that returns "
        f"nothing; on Python {sys.version.split()[0]} the app would abort after a few thousand "
        f'calls. Install a tested build: pip install "{REQUIREMENT}" (or use Python 3.12+).'
    )


def ensure_usable_qt() -> None:
    """Refuse a PySide6 build that would crash the app; warn about one that was never tested."""
    problem = qt_build_problem()
    if problem is not None:
        log.error("%s", problem)
        raise UnusableQt(problem)
    version = pyside_version()
    if not in_tested_range(version):
        log.warning(
            "PySide6 %s is outside the tested range (%s); the app may misbehave.",
            version,
            REQUIREMENT,
        )


def new_event_loop(app: QApplication) -> asyncio.AbstractEventLoop:
    """An asyncio loop that is `app`'s Qt event loop (qasync): coroutines run on the GUI thread."""
    loop: asyncio.AbstractEventLoop = qasync.QEventLoop(app)
    return loop


def close_event_loop(loop: asyncio.AbstractEventLoop) -> None:
    """Close a loop from `new_event_loop`, in the GUI thread that ran it.

    qasync's timers live on a QObject that closing leaves to the garbage collector, which may
    run in any thread; a QObject with live timers destroyed outside its own thread is undefined
    behaviour in Qt ("Timers cannot be stopped from another thread", then crashes). The object
    is destroyed here instead, in its own thread.
    """
    timer = getattr(loop, "_timer", None)
    loop.close()
    if isinstance(timer, QObject) and shiboken6.isValid(timer):
        shiboken6.delete(timer)


@contextmanager
def pumped_event_loop(app: QApplication) -> Iterator[asyncio.AbstractEventLoop]:
    """qasync's loop for code that pumps Qt's event loop itself (`processEvents`, a nested
    loop) instead of `run_forever`: the screenshot command, the window's tests.

    qasync runs its callbacks from Qt's timers, so whatever pumps Qt's events runs the window's
    coroutines too; the loop only has to be the thread's running loop meanwhile. Inside one
    already (the app's own, or an outer `pumped_event_loop`), that one is used.
    """
    running = asyncio.events._get_running_loop()
    if running is not None:
        yield running
        return
    loop = new_event_loop(app)
    asyncio.set_event_loop(loop)
    asyncio.events._set_running_loop(loop)
    try:
        yield loop
    finally:
        asyncio.events._set_running_loop(None)
        asyncio.set_event_loop(None)
        close_event_loop(loop)
