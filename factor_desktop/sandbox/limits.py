"""QBO's throttling: per-minute, per-second, concurrency and batch limits, answered with 429.

The limits are Intuit's published ones (:data:`LIMITS`): 500 requests a minute per company,
10 a second per company and app, 10 requests in flight per company, 40 batch requests a minute
per company and app and 120 per company (batch requests count toward the 500 too), 30 items in
a batch (checked in :mod:`.batch`, fault 1040). A request is stamped when it arrives, before any
work, and a refused one is not counted. The 429 carries QBO's XML body whatever the client asked
for and no ``Retry-After`` (QBO sends none).

``time_scale`` multiplies the length of every window alike: with 0.01 a "minute" lasts 0.6 real
seconds and a "second" 10 ms, which lets benchmarks and tests hit and leave the limits quickly;
the counts stay QBO's. Changing the scale while requests are counted keeps the stamps already
taken (time on the limiter's clock stays continuous). Moving the sandbox clock forward also
moves the windows, by the same amount of QBO time whatever the scale.
"""

from __future__ import annotations

import threading
import time
from bisect import insort
from dataclasses import dataclass
from typing import Any, TypeVar

from .clock import SandboxClock, format_time_field
from .knobs import KnobBoard

K = TypeVar("K")

PER_REALM_PER_MINUTE = 500
PER_APP_PER_SECOND = 10
CONCURRENT_PER_REALM = 10
BATCH_PER_APP_PER_MINUTE = 40
BATCH_PER_REALM_PER_MINUTE = 120
MAX_BATCH_ITEMS = 30
MINUTE_S = 60.0
SECOND_S = 1.0

LIMITS: dict[str, int] = {
    "requests_per_minute_per_realm": PER_REALM_PER_MINUTE,
    "requests_per_second_per_realm_app": PER_APP_PER_SECOND,
    "concurrent_per_realm": CONCURRENT_PER_REALM,
    "batch_per_minute_per_realm_app": BATCH_PER_APP_PER_MINUTE,
    "batch_per_minute_per_realm": BATCH_PER_REALM_PER_MINUTE,
    "items_per_batch": MAX_BATCH_ITEMS,
}
"""QBO's limits by name, as :func:`describe_limits` reports them."""


def describe_limits(enforced: bool, time_scale: float) -> dict[str, Any]:
    """The limits a client of this sandbox meets, with the windows' real lengths in seconds
    (what a benchmark gives its own client so both sides count the same windows)."""
    return {
        "enforced": enforced,
        "time_scale": time_scale,
        **LIMITS,
        "minute_s": MINUTE_S * time_scale,
        "second_s": SECOND_S * time_scale,
    }


@dataclass
class Admission:
    realm: str


class RateLimiter:
    def __init__(self, clock: SandboxClock, knobs: KnobBoard) -> None:
        self._clock = clock
        self._knobs = knobs
        self._lock = threading.Lock()
        self._realm_minute: dict[str, list[float]] = {}
        self._app_second: dict[tuple[str, str], list[float]] = {}
        self._batch_app_minute: dict[tuple[str, str], list[float]] = {}
        self._batch_realm_minute: dict[str, list[float]] = {}
        self._in_flight: dict[str, int] = {}
        self._scale: float | None = None
        self._base_real = 0.0
        self._base_scaled = 0.0

    def now(self) -> float:
        """The limiter's clock, in QBO seconds: real time divided by ``time_scale``, plus the
        sandbox clock's offset. A change of scale takes effect from the moment it is seen."""
        real = time.monotonic()
        scale = self._knobs.get().time_scale
        with self._lock:
            if self._scale is None:
                self._scale, self._base_real, self._base_scaled = scale, real, real / scale
            elif scale != self._scale:
                self._base_scaled += (real - self._base_real) / self._scale
                self._scale, self._base_real = scale, real
            scaled = self._base_scaled + (real - self._base_real) / self._scale
        return scaled + self._clock.offset

    def admit(
        self, realm: str, app: str, *, batch: bool, at: float | None = None
    ) -> Admission | None:
        """Count a request in (stamped ``at`` its arrival, see :meth:`now`); ``None`` means QBO
        would answer 429."""
        enforce = self._knobs.get().rate_limits
        now = self.now() if at is None else at
        current = now
        with self._lock:
            minute = _window(self._realm_minute, realm, current, MINUTE_S)
            second = _window(self._app_second, (realm, app), current, SECOND_S)
            batch_app = _window(self._batch_app_minute, (realm, app), current, MINUTE_S)
            batch_realm = _window(self._batch_realm_minute, realm, current, MINUTE_S)
            in_flight = self._in_flight.get(realm, 0)
            if enforce and (
                _count_since(minute, now, MINUTE_S) >= PER_REALM_PER_MINUTE
                or _count_since(second, now, SECOND_S) >= PER_APP_PER_SECOND
                or in_flight >= CONCURRENT_PER_REALM
                or (
                    batch
                    and (
                        _count_since(batch_app, now, MINUTE_S) >= BATCH_PER_APP_PER_MINUTE
                        or _count_since(batch_realm, now, MINUTE_S) >= BATCH_PER_REALM_PER_MINUTE
                    )
                )
            ):
                return None
            insort(minute, now)
            insort(second, now)
            if batch:
                insort(batch_app, now)
                insort(batch_realm, now)
            self._in_flight[realm] = in_flight + 1
        return Admission(realm)

    def in_flight(self, realm: str) -> int:
        """Requests of ``realm`` being served right now."""
        with self._lock:
            return self._in_flight.get(realm, 0)

    def release(self, admission: Admission) -> None:
        with self._lock:
            self._in_flight[admission.realm] = max(0, self._in_flight.get(admission.realm, 0) - 1)


def _window(table: dict[K, list[float]], key: K, now: float, length: float) -> list[float]:
    """The stamps of ``key`` still inside a window ending ``now`` (older ones dropped)."""
    stamps = table.setdefault(key, [])
    cut = 0
    while cut < len(stamps) and stamps[cut] <= now - length:
        cut += 1
    if cut:
        del stamps[:cut]
    return stamps


def _count_since(stamps: list[float], moment: float, length: float) -> int:
    """Requests counted in the window that ends at ``moment`` (stamps are kept sorted)."""
    return sum(1 for stamp in stamps if moment - length < stamp <= moment)


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
