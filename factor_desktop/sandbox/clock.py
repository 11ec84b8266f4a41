"""A controllable wall clock for the sandbox.

The sandbox never sleeps to let time pass: tests move the clock forward instead. Everything that
expires (access tokens, authorization codes, refresh tokens, download links, CDC windows) reads
this clock.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

COMPANY_TIMEZONE = "America/Los_Angeles"


def company_timezone() -> tzinfo:
    """The time zone QBO sandbox companies report times in (US Pacific)."""
    try:
        return ZoneInfo(COMPANY_TIMEZONE)
    except ZoneInfoNotFoundError:
        # Platforms without a tz database: Pacific Standard Time as a fixed offset.
        return timezone(timedelta(hours=-8), "PST")


class SandboxClock:
    """Real time plus an adjustable offset, thread-safe.

    ``advance`` moves the clock forward; ``set`` jumps to an absolute instant. Listeners are told
    the new offset so it can be persisted with the company.
    """

    def __init__(self, offset_s: float = 0.0, tz: tzinfo | None = None) -> None:
        self._offset = float(offset_s)
        self._lock = threading.Lock()
        self._tz = tz if tz is not None else company_timezone()
        self._listeners: list[Callable[[float], None]] = []

    @property
    def tz(self) -> tzinfo:
        return self._tz

    @property
    def offset(self) -> float:
        with self._lock:
            return self._offset

    def on_change(self, listener: Callable[[float], None]) -> None:
        self._listeners.append(listener)

    def timestamp(self) -> float:
        """Seconds since the epoch on the sandbox clock."""
        with self._lock:
            return time.time() + self._offset

    def now(self) -> datetime:
        """The current instant, in the company's time zone."""
        return datetime.fromtimestamp(self.timestamp(), self._tz)

    def utcnow(self) -> datetime:
        return datetime.fromtimestamp(self.timestamp(), UTC)

    def today(self) -> date:
        return self.now().date()

    def advance(self, seconds: float) -> datetime:
        """Move the clock forward by ``seconds`` (must not be negative)."""
        if seconds < 0:
            raise ValueError("the sandbox clock only moves forward")
        with self._lock:
            self._offset += float(seconds)
            offset = self._offset
        self._notify(offset)
        return self.now()

    def set(self, when: datetime) -> datetime:
        """Jump to an absolute instant (naive datetimes are taken as company time)."""
        if when.tzinfo is None:
            when = when.replace(tzinfo=self._tz)
        with self._lock:
            self._offset = when.timestamp() - time.time()
            offset = self._offset
        self._notify(offset)
        return self.now()

    def _notify(self, offset: float) -> None:
        for listener in list(self._listeners):
            listener(offset)


def format_datetime(moment: datetime) -> str:
    """QBO entity timestamp: ``2020-09-29T05:58:16-07:00`` (seconds, with offset)."""
    return moment.replace(microsecond=0).isoformat()


def format_time_field(moment: datetime) -> str:
    """QBO envelope ``time`` field: ``2020-09-29T05:58:16.187-07:00`` (milliseconds)."""
    return moment.isoformat(timespec="milliseconds")
