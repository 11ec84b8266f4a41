"""Keep Factor Desktop under QBO's request limits for one company (realm).

QBO's limits (reference §9): 500 requests per minute per realm, 10 requests per second per realm
and app, 40 batch requests per minute per realm and app; a batch request also counts as a request.
QBO counts a request when it arrives, and it sends no Retry-After with its 429.

The limiter keeps a sliding window of request stamps and makes a caller wait until one more
request keeps every window within its limit. Three things keep the server's count, not just ours,
under the limits:

* a safety margin: by default 9 per second, 480 per minute and 38 batches per minute;
* a request is stamped twice: when it is admitted, and again when its answer is back
  (``request()``). QuickBooks stamped it somewhere in between, so a window that measures from
  the later stamp never lets the server see one request too many because of network jitter;
* a 429 pauses every caller of the limiter (``throttled()``) until the window has room, instead
  of each request sleeping a fixed minute on its own.

``time_scale`` multiplies the length of every window. It exists for benchmarks and tests that
run against the local sandbox started with the same ``--time-scale`` (its "minute" then lasts
``60 * scale`` real seconds); :func:`time_scale_from_environment` reads it from
``FACTOR_DESKTOP_QBO_TIME_SCALE``. A real company always runs at 1.

One limiter must be shared by everything that talks to the same realm. It is thread-safe;
``clock`` and ``sleep`` are injectable so tests run without waiting.
"""

from __future__ import annotations

import os
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Literal

__all__ = [
    "TIME_SCALE_VARIABLE",
    "RateLimiter",
    "RateLimiterStats",
    "RequestKind",
    "time_scale_from_environment",
]

RequestKind = Literal["request", "batch"]

MINUTE = 60.0
SECOND = 1.0

#: QuickBooks' own limits.
QBO_PER_MINUTE = 500
QBO_PER_SECOND = 10
QBO_BATCH_PER_MINUTE = 40
#: What Factor Desktop allows itself: a margin below each limit.
SAFE_PER_MINUTE = 480
SAFE_PER_SECOND = 9
SAFE_BATCH_PER_MINUTE = 38

#: Benchmarks and tests only: the window scale of a local sandbox started with ``--time-scale``.
TIME_SCALE_VARIABLE = "FACTOR_DESKTOP_QBO_TIME_SCALE"


def time_scale_from_environment() -> float:
    """The window scale set for a benchmark or test run (1.0, QuickBooks' own, otherwise)."""
    text = os.environ.get(TIME_SCALE_VARIABLE, "").strip()
    if not text:
        return 1.0
    try:
        scale = float(text)
    except ValueError:
        raise ValueError(f"{TIME_SCALE_VARIABLE} must be a positive number, not {text!r}") from None
    if not scale > 0:
        raise ValueError(f"{TIME_SCALE_VARIABLE} must be a positive number, not {text!r}")
    return scale


@dataclass(frozen=True)
class RateLimiterStats:
    """A snapshot for the "requests used this minute" meter."""

    requests_last_minute: int
    requests_last_second: int
    batches_last_minute: int
    per_minute_limit: int
    per_second_limit: int
    batch_per_minute_limit: int
    total_requests: int
    total_wait_seconds: float
    throttled: int = 0

    @property
    def minute_fraction_used(self) -> float:
        """0.0-1.0 share of the per-minute allowance used in the last 60 seconds."""
        return min(1.0, self.requests_last_minute / self.per_minute_limit)


class _Stamp:
    """When a request counts: admitted at ``at``, moved to when its answer came back."""

    __slots__ = ("at",)

    def __init__(self, at: float) -> None:
        self.at = at


class _Window:
    """Stamps within the last ``span`` seconds, with at most ``limit`` of them."""

    def __init__(self, limit: int, span: float) -> None:
        self.limit = limit
        self.span = span
        self.stamps: deque[_Stamp] = deque()

    def prune(self, now: float) -> None:
        # Stamps only move later, so a front stamp still inside the window may hide an expired
        # one behind it for a moment: that errs on the safe side and is dropped soon after.
        while self.stamps and self.stamps[0].at <= now - self.span:
            self.stamps.popleft()

    def count(self, now: float) -> int:
        self.prune(now)
        return sum(1 for stamp in self.stamps if stamp.at > now - self.span)

    def wait(self, now: float) -> float:
        """Seconds until one more stamp fits (0 when it fits now)."""
        self.prune(now)
        if len(self.stamps) < self.limit:
            return 0.0
        times = sorted(stamp.at for stamp in self.stamps)
        return max(0.0, times[len(times) - self.limit] + self.span - now)


class RateLimiter:
    """Blocks callers just long enough to stay within QBO's per-realm limits."""

    def __init__(
        self,
        *,
        per_minute: int = SAFE_PER_MINUTE,
        per_second: int = SAFE_PER_SECOND,
        batch_per_minute: int = SAFE_BATCH_PER_MINUTE,
        time_scale: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if min(per_minute, per_second, batch_per_minute) < 1:
            raise ValueError("rate limits must be at least 1")
        if not time_scale > 0:
            raise ValueError("the time scale must be positive")
        self.time_scale = time_scale
        self._minute = _Window(per_minute, MINUTE * time_scale)
        self._second = _Window(per_second, SECOND * time_scale)
        self._batch = _Window(batch_per_minute, MINUTE * time_scale)
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._paused_until = float("-inf")
        self._total = 0
        self._waited = 0.0
        self._throttled = 0

    # -- admitting ------------------------------------------------------------------------

    def _windows(self, kind: RequestKind) -> list[_Window]:
        if kind not in ("request", "batch"):
            raise ValueError(f"unknown request kind {kind!r}")
        if kind == "batch":
            return [self._minute, self._second, self._batch]
        return [self._minute, self._second]

    def _delay(self, windows: list[_Window], now: float) -> float:
        return max(self._paused_until - now, *(window.wait(now) for window in windows))

    def wait_for(self, kind: RequestKind = "request") -> float:
        """Seconds before one more request of ``kind`` could go (0: it could go now)."""
        windows = self._windows(kind)
        with self._lock:
            return max(0.0, self._delay(windows, self._clock()))

    def _admit(self, kind: RequestKind) -> tuple[float, list[_Stamp]]:
        windows = self._windows(kind)
        waited = 0.0
        while True:
            with self._lock:
                now = self._clock()
                delay = self._delay(windows, now)
                if delay <= 0:
                    stamp = _Stamp(now)
                    for window in windows:
                        window.stamps.append(stamp)
                    self._total += 1
                    self._waited += waited
                    return waited, [stamp]
            # Sleep outside the lock so other threads can read stats meanwhile.
            self._sleep(delay)
            waited += delay

    def acquire(self, kind: RequestKind = "request") -> float:
        """Wait until one more request of ``kind`` is allowed, count it, return seconds waited."""
        return self._admit(kind)[0]

    @contextmanager
    def request(self, kind: RequestKind = "request") -> Iterator[float]:
        """Admit one request for the duration of the block; its stamp moves to the block's end,
        when QuickBooks has certainly counted it. Yields the seconds waited."""
        waited, stamps = self._admit(kind)
        try:
            yield waited
        finally:
            with self._lock:
                now = self._clock()
                for stamp in stamps:
                    stamp.at = max(stamp.at, now)

    def throttled(self, at_least: float = 0.0) -> float:
        """QuickBooks answered 429: hold every caller until the windows have room again.

        QuickBooks does not say which limit was hit. Its per-second window has certainly turned
        over after one (scaled) second; when this minute's count is close to the limit, the
        per-minute window is the likelier one, and the pause lasts until enough of it expires.
        ``at_least``: a pause the server asked for (a Retry-After header, which QuickBooks does
        not send today). Returns the pause in seconds.
        """
        with self._lock:
            now = self._clock()
            self._throttled += 1
            pause = max(self._second.span, at_least)
            minute = self._minute
            if minute.count(now) >= minute.limit * 0.9:
                times = sorted(stamp.at for stamp in minute.stamps)
                # Room for a tenth of the minute's allowance again.
                room = max(1, minute.limit // 10)
                pause = max(pause, times[min(room, len(times)) - 1] + minute.span - now)
            self._paused_until = max(self._paused_until, now + pause)
            return pause

    # -- the meter ------------------------------------------------------------------------

    def stats(self) -> RateLimiterStats:
        with self._lock:
            now = self._clock()
            return RateLimiterStats(
                requests_last_minute=self._minute.count(now),
                requests_last_second=self._second.count(now),
                batches_last_minute=self._batch.count(now),
                per_minute_limit=self._minute.limit,
                per_second_limit=self._second.limit,
                batch_per_minute_limit=self._batch.limit,
                total_requests=self._total,
                total_wait_seconds=self._waited,
                throttled=self._throttled,
            )

    def used_this_minute(self) -> int:
        """Requests counted in the last minute."""
        return self.stats().requests_last_minute
