"""QBO's throttling: per-minute, per-second, concurrency and batch limits, answered with 429.

``time_scale`` multiplies the length of QBO's windows: with 0.01 a "minute" lasts 0.6 real
seconds, which lets benchmarks and tests hit and leave the limits quickly. Moving the sandbox
clock forward also moves the windows.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass
from typing import TypeVar

from .clock import SandboxClock, format_time_field
from .knobs import KnobBoard

K = TypeVar("K")

PER_REALM_PER_MINUTE = 500
PER_APP_PER_SECOND = 10
CONCURRENT_PER_REALM = 10
BATCH_PER_APP_PER_MINUTE = 40
BATCH_PER_REALM_PER_MINUTE = 120


@dataclass
class Admission:
    realm: str


class RateLimiter:
    def __init__(self, clock: SandboxClock, knobs: KnobBoard) -> None:
        self._clock = clock
        self._knobs = knobs
        self._lock = threading.Lock()
        self._realm_minute: dict[str, deque[float]] = {}
        self._app_second: dict[tuple[str, str], deque[float]] = {}
        self._batch_app_minute: dict[tuple[str, str], deque[float]] = {}
        self._batch_realm_minute: dict[str, deque[float]] = {}
        self._in_flight: dict[str, int] = {}

    def _now(self) -> float:
        return time.monotonic() / self._knobs.get().time_scale + self._clock.offset

    def admit(self, realm: str, app: str, *, batch: bool) -> Admission | None:
        """Count a request in; ``None`` means QBO would answer 429."""
        enforce = self._knobs.get().rate_limits
        now = self._now()
        with self._lock:
            minute = _window(self._realm_minute, realm, now, 60.0)
            second = _window(self._app_second, (realm, app), now, 1.0)
            batch_app = _window(self._batch_app_minute, (realm, app), now, 60.0)
            batch_realm = _window(self._batch_realm_minute, realm, now, 60.0)
            in_flight = self._in_flight.get(realm, 0)
            if enforce and (
                len(minute) >= PER_REALM_PER_MINUTE
                or len(second) >= PER_APP_PER_SECOND
                or in_flight >= CONCURRENT_PER_REALM
                or (
                    batch
                    and (
                        len(batch_app) >= BATCH_PER_APP_PER_MINUTE
                        or len(batch_realm) >= BATCH_PER_REALM_PER_MINUTE
                    )
                )
            ):
                return None
            minute.append(now)
            second.append(now)
            if batch:
                batch_app.append(now)
                batch_realm.append(now)
            self._in_flight[realm] = in_flight + 1
        return Admission(realm)

    def in_flight(self, realm: str) -> int:
        """Requests of ``realm`` being served right now."""
        with self._lock:
            return self._in_flight.get(realm, 0)

    def release(self, admission: Admission) -> None:
        with self._lock:
            self._in_flight[admission.realm] = max(0, self._in_flight.get(admission.realm, 0) - 1)


def _window(table: dict[K, deque[float]], key: K, now: float, length: float) -> deque[float]:
    stamps = table.setdefault(key, deque())
    while stamps and stamps[0] <= now - length:
        stamps.popleft()
    return stamps


def throttled_body(clock: SandboxClock) -> bytes:
    """The XML QBO sends with a 429, whatever format the client asked for."""
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<IntuitResponse xmlns="http://schema.intuit.com/finance/v3" '
        f'time="{format_time_field(clock.now())}">'
        '<Fault type="SERVICE"><Error code="3001">'
        "<Message>message=ThrottleExceeded; errorCode=003001; statusCode=429</Message>"
        "<Detail>The request limit was reached.  Try again later</Detail>"
        "</Error></Fault></IntuitResponse>"
    ).encode()
