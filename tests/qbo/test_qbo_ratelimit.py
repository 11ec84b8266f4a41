"""The per-realm pacer keeps a margin under QBO's 10/s, 500/min and 40 batches/min."""

from __future__ import annotations

import threading

import pytest

from factor_desktop.qbo.ratelimit import (
    TIME_SCALE_VARIABLE,
    RateLimiter,
    time_scale_from_environment,
)
from tests.qbo.qbo_fakes import FakeTime


def test_the_tenth_request_in_a_second_waits(limiter: RateLimiter, fake_time: FakeTime) -> None:
    waits = [limiter.acquire() for _ in range(9)]
    assert waits == [0.0] * 9
    assert fake_time.sleeps == []
    assert limiter.acquire() == 1.0  # nine a second: one under QuickBooks' ten
    assert fake_time.sleeps == [1.0]


def test_requests_spread_over_time_do_not_wait(limiter: RateLimiter, fake_time: FakeTime) -> None:
    for _ in range(50):
        assert limiter.acquire() == 0.0
        fake_time.now += 0.12
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
    for _ in range(38):
        limiter.acquire("batch")
    assert limiter.acquire("request") == 0.0  # plain requests still fit
    stats = limiter.stats()
    assert (stats.batches_last_minute, stats.requests_last_minute) == (38, 39)
    assert limiter.acquire("batch") == pytest.approx(60.0)


def test_stats_for_the_meter(limiter: RateLimiter, fake_time: FakeTime) -> None:
    for _ in range(10):
        limiter.acquire()
    stats = limiter.stats()
    assert stats.requests_last_minute == 10
    assert stats.requests_last_second == 1  # the tenth, one second after the first nine
    assert stats.per_minute_limit == 480
    assert stats.per_second_limit == 9
    assert stats.batch_per_minute_limit == 38
    assert stats.total_requests == 10
    assert stats.total_wait_seconds == 1.0
    assert stats.minute_fraction_used == pytest.approx(10 / 480)
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
    assert max(seen) <= 9
    assert clock() >= 6.0  # 60 requests at 9 per second need more than six seconds


def test_a_stamp_moves_to_when_the_answer_came_back(fake_time: FakeTime) -> None:
    """QuickBooks counts a request when it arrives, somewhere between send and answer: the
    window measured from the answer never lets the server see one too many."""
    limiter = RateLimiter(per_minute=10_000, clock=fake_time.clock, sleep=fake_time.sleep)
    for _ in range(9):
        with limiter.request():
            fake_time.now += 0.05  # each answer takes 50 ms
    started = fake_time.now
    with limiter.request() as waited:
        pass
    # The first answer came back 50 ms after the first send: a second from then, not from the send.
    assert waited == pytest.approx(1000.05 + 1.0 - started)
    assert fake_time.now == pytest.approx(1001.05)


def test_wait_for_tells_without_counting(fake_time: FakeTime) -> None:
    limiter = RateLimiter(per_second=1000, batch_per_minute=2, clock=fake_time.clock)
    assert limiter.wait_for("batch") == 0.0
    limiter.acquire("batch")
    limiter.acquire("batch")
    assert limiter.wait_for("batch") == pytest.approx(60.0)
    assert limiter.wait_for("request") == 0.0
    assert limiter.stats().total_requests == 2


def test_a_429_pauses_every_caller_for_a_second_not_a_minute(fake_time: FakeTime) -> None:
    limiter = RateLimiter(clock=fake_time.clock, sleep=fake_time.sleep)
    limiter.acquire()
    assert limiter.throttled() == pytest.approx(1.0)
    assert limiter.acquire() == pytest.approx(1.0)
    assert limiter.stats().throttled == 1


def test_a_429_near_the_minute_limit_waits_for_the_minute_window(fake_time: FakeTime) -> None:
    limiter = RateLimiter(per_second=1000, clock=fake_time.clock, sleep=fake_time.sleep)
    for _ in range(450):
        limiter.acquire()
        fake_time.now += 0.05
    pause = limiter.throttled()
    # 450 of 480 in the window: wait until the oldest 48 have left it.
    assert pause == pytest.approx(1000.0 + 47 * 0.05 + 60.0 - fake_time.now)
    assert pause > 30


def test_a_time_scale_shrinks_every_window(fake_time: FakeTime) -> None:
    limiter = RateLimiter(time_scale=0.1, clock=fake_time.clock, sleep=fake_time.sleep)
    for _ in range(9):
        limiter.acquire()
    assert limiter.acquire() == pytest.approx(0.1)
    for _ in range(38):
        limiter.acquire("batch")
    assert limiter.wait_for("batch") == pytest.approx(6.0, abs=1.0)


def test_the_time_scale_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(TIME_SCALE_VARIABLE, raising=False)
    assert time_scale_from_environment() == 1.0
    monkeypatch.setenv(TIME_SCALE_VARIABLE, "0.05")
    assert time_scale_from_environment() == 0.05
    monkeypatch.setenv(TIME_SCALE_VARIABLE, "-1")
    with pytest.raises(ValueError, match="positive"):
        time_scale_from_environment()
