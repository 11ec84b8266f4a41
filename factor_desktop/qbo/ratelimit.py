"""Keep Factor Desktop under QBO's request limits for one company (realm).

QBO's limits (reference §9): 500 requests per minute per realm, 10 requests per second per realm
and app, 40 batch requests per minute per realm and app; a batch request also counts as a request.
The limiter keeps a sliding window of the moments it admitted requests and makes a caller wait
until admitting one more keeps every window within its limit. Sliding windows (rather than a
token bucket) never allow a burst above the limit at a window's edge, and their contents are the
"requests used in the last minute" the sync screen shows.

One limiter must be shared by everything that talks to the same realm. It is thread-safe;
``clock`` and ``sleep`` are injectable so tests run without waiting.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

__all__ = ["RateLimiter", "RateLimiterStats", "RequestKind"]

RequestKind = Literal["request", "batch"]

MINUTE = 60.0
SECOND = 1.0


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

    @property
    def minute_fraction_used(self) -> float:
        """0.0-1.0 share of the per-minute allowance used in the last 60 seconds."""
        return min(1.0, self.requests_last_minute / self.per_minute_limit)


class _Window:
    """Admission times within the last ``span`` seconds, with at most ``limit`` of them."""

    def __init__(self, limit: int, span: float) -> None:
        self.limit = limit
        self.span = span
        self.times: deque[float] = deque()

    def prune(self, now: float) -> None:
        while self.times and self.times[0] <= now - self.span:
            self.times.popleft()

    def wait(self, now: float) -> float:
        """Seconds until one more admission fits (0 when it fits now)."""
        self.prune(now)
        if len(self.times) < self.limit:
            return 0.0
        return self.times[len(self.times) - self.limit] + self.span - now


class RateLimiter:
    """Blocks callers just long enough to stay within QBO's per-realm limits."""

    def __init__(
        self,
        *,
        per_minute: int = 500,
        per_second: int = 10,
        batch_per_minute: int = 40,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if min(per_minute, per_second, batch_per_minute) < 1:
            raise ValueError("rate limits must be at least 1")
        self._minute = _Window(per_minute, MINUTE)
        self._second = _Window(per_second, SECOND)
        self._batch = _Window(batch_per_minute, MINUTE)
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._total = 0
        self._waited = 0.0

    def acquire(self, kind: RequestKind = "request") -> float:
        """Wait until one more request of ``kind`` is allowed, record it, return seconds waited."""
        if kind not in ("request", "batch"):
            raise ValueError(f"unknown request kind {kind!r}")
        waited = 0.0
        while True:
            with self._lock:
                now = self._clock()
                windows = [self._minute, self._second]
                if kind == "batch":
                    windows.append(self._batch)
                delay = max(window.wait(now) for window in windows)
                if delay <= 0:
                    for window in windows:
                        window.times.append(now)
                    self._total += 1
                    self._waited += waited
                    return waited
            # Sleep outside the lock so other threads can read stats meanwhile.
            self._sleep(delay)
            waited += delay

    def stats(self) -> RateLimiterStats:
        with self._lock:
            now = self._clock()
            for window in (self._minute, self._second, self._batch):
                window.prune(now)
            return RateLimiterStats(
                requests_last_minute=len(self._minute.times),
                requests_last_second=len(self._second.times),
                batches_last_minute=len(self._batch.times),
                per_minute_limit=self._minute.limit,
                per_second_limit=self._second.limit,
                batch_per_minute_limit=self._batch.limit,
                total_requests=self._total,
                total_wait_seconds=self._waited,
            )

    def used_this_minute(self) -> int:
        """Requests admitted in the last 60 seconds."""
        return self.stats().requests_last_minute
