"""The per-realm pacer keeps within QBO's 10/s, 500/min and 40 batches/min."""

from __future__ import annotations

import threading

import pytest

from factor_desktop.qbo.ratelimit import RateLimiter
from tests.qbo.qbo_fakes import FakeTime


def test_the_eleventh_request_in_a_second_waits(limiter: RateLimiter, fake_time: FakeTime) -> None:
    waits = [limiter.acquire() for _ in range(10)]
    assert waits == [0.0] * 10
    assert fake_time.sleeps == []
    assert limiter.acquire() == 1.0
    assert fake_time.sleeps == [1.0]


def test_requests_spread_over_time_do_not_wait(limiter: RateLimiter, fake_time: FakeTime) -> None:
    for _ in range(50):
        assert limiter.acquire() == 0.0
        fake_time.now += 0.1
    assert fake_time.sleeps == []


def test_per_minute_limit(fake_time: FakeTime) -> None:
    limiter = RateLimiter(
        per_minute=500, per_second=1000, clock=fake_time.clock, sleep=fake_time.sleep
    )
    for _ in range(500):
        limiter.acquire()
    fake_time.now += 20
    assert limiter.used_this_minute() == 500
    assert limiter.acquire() == pytest.approx(40.0)
    assert limiter.stats().requests_last_minute == 1  # the first 500 have left the window


def test_batch_limit_and_batches_count_as_requests(fake_time: FakeTime) -> None:
    limiter = RateLimiter(per_second=1000, clock=fake_time.clock, sleep=fake_time.sleep)
    for _ in range(40):
        limiter.acquire("batch")
    assert limiter.acquire("request") == 0.0  # plain requests still fit
    stats = limiter.stats()
    assert (stats.batches_last_minute, stats.requests_last_minute) == (40, 41)
    assert limiter.acquire("batch") == pytest.approx(60.0)


def test_stats_for_the_meter(limiter: RateLimiter, fake_time: FakeTime) -> None:
    for _ in range(11):
        limiter.acquire()
    stats = limiter.stats()
    assert stats.requests_last_minute == 11
    assert stats.requests_last_second == 1  # the eleventh, one second after the first ten
    assert stats.per_minute_limit == 500
    assert stats.per_second_limit == 10
    assert stats.batch_per_minute_limit == 40
    assert stats.total_requests == 11
    assert stats.total_wait_seconds == 1.0
    assert stats.minute_fraction_used == pytest.approx(11 / 500)
    fake_time.now += 61
    assert limiter.used_this_minute() == 0


def test_invalid_settings_are_refused(fake_time: FakeTime) -> None:
    with pytest.raises(ValueError):
        RateLimiter(per_second=0)
    limiter = RateLimiter(clock=fake_time.clock, sleep=fake_time.sleep)
    with pytest.raises(ValueError):
        limiter.acquire("report")  # type: ignore[arg-type]


def test_threads_share_one_limiter_safely() -> None:
    limiter = RateLimiter(per_minute=100_000, per_second=100_000, batch_per_minute=100_000)
    barrier = threading.Barrier(8)

    def work() -> None:
        barrier.wait()
        for _ in range(200):
            limiter.acquire()

    threads = [threading.Thread(target=work) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    assert limiter.stats().total_requests == 1600
    assert limiter.used_this_minute() == 1600


def test_concurrent_callers_never_exceed_the_per_second_limit() -> None:
    """Real threads sharing a fake clock that moves only when someone sleeps."""
    lock = threading.Lock()
    now = [0.0]
    seen: list[int] = []

    def clock() -> float:
        with lock:
            return now[0]

    def sleep(seconds: float) -> None:
        with lock:
            now[0] += seconds  # every sleeper moves the shared clock on

    limiter = RateLimiter(per_minute=10_000, clock=clock, sleep=sleep)

    def work() -> None:
        for _ in range(15):
            limiter.acquire()
            seen.append(limiter.stats().requests_last_second)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    assert limiter.stats().total_requests == 60
    assert len(seen) == 60
    assert max(seen) <= 10
    assert clock() >= 5.0  # 60 requests at 10 per second need at least five more seconds
