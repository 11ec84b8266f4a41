"""Throttling answered as QBO answers it, injected faults, latency, and the admin endpoints."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest
import requests

from factor_desktop.sandbox import SandboxConfig, SandboxServer

from .conftest import Api


@pytest.fixture
def limited() -> Iterator[SandboxServer]:
    with SandboxServer(SandboxConfig(rate_limits=True, time_scale=10.0)) as server:
        yield server


@pytest.fixture
def limited_api(limited: SandboxServer) -> Iterator[Api]:
    client = Api(limited)
    yield client
    client.close()


def assert_throttled(response: requests.Response) -> None:
    assert response.status_code == 429
    assert response.headers["Content-Type"].startswith("application/xml")
    text = response.text
    assert text.startswith('<?xml version="1.0" encoding="UTF-8" standalone="yes"?><IntuitResponse')
    assert '<Fault type="SERVICE"><Error code="3001">' in text
    assert "<Message>message=ThrottleExceeded; errorCode=003001; statusCode=429</Message>" in text
    assert "<Detail>The request limit was reached.  Try again later</Detail>" in text
    assert response.headers["intuit_tid"]


def test_ten_per_second_then_429_xml_even_for_json(
    limited: SandboxServer, limited_api: Api
) -> None:
    for _ in range(10):
        assert limited_api.get("companyinfo/1").status_code == 200
    assert_throttled(limited_api.get("companyinfo/1"))
    limited.clock.advance(1)
    assert limited_api.get("companyinfo/1").status_code == 200


def test_five_hundred_per_minute(limited: SandboxServer, limited_api: Api) -> None:
    for _ in range(50):
        for _ in range(10):
            assert limited_api.get("preferences").status_code == 200
        limited.clock.advance(1)
    assert_throttled(limited_api.get("preferences"))
    limited.clock.advance(60)
    assert limited_api.get("preferences").status_code == 200


BATCH = {"BatchItemRequest": [{"bId": "1", "Query": "select * from Term"}]}


def test_batch_forty_per_minute_per_realm_and_app(limited: SandboxServer, limited_api: Api) -> None:
    # time_scale=10 stretches QBO's windows so real time cannot reopen them mid-test; moving
    # the sandbox clock does, so the test never waits (10 per second per app, hence the steps).
    for round_number in range(4):
        for _ in range(10):
            assert limited_api.post("batch", BATCH).status_code == 200, round_number
        limited.clock.advance(1)
    assert_throttled(limited_api.post("batch", BATCH))
    assert limited_api.get("preferences").status_code == 200
    other_app = Api(limited, "ABotherapp")
    assert other_app.post("batch", BATCH).status_code == 200
    other_app.close()
    limited.clock.advance(55)  # 59 s after the first ten
    assert_throttled(limited_api.post("batch", BATCH))
    limited.clock.advance(1)
    assert limited_api.post("batch", BATCH).status_code == 200


def test_batch_one_hundred_twenty_per_minute_per_realm(limited: SandboxServer) -> None:
    apps = [Api(limited, f"ABapp{n}") for n in range(5)]
    try:
        for round_number in range(3):
            for app in apps[:4]:
                for _ in range(10):
                    assert app.post("batch", BATCH).status_code == 200, round_number
            limited.clock.advance(1)
        # Four apps at 30 each: every app is under its 40, the company is at its 120.
        assert_throttled(apps[4].post("batch", BATCH))
        assert_throttled(apps[0].post("batch", BATCH))
        assert apps[4].get("preferences").status_code == 200
        limited.clock.advance(56)  # 59 s after the first forty
        assert_throttled(apps[4].post("batch", BATCH))
        limited.clock.advance(1)
        assert apps[4].post("batch", BATCH).status_code == 200
        assert apps[0].post("batch", BATCH).status_code == 200
    finally:
        for app in apps:
            app.close()


def test_concurrency_limit(limited: SandboxServer, limited_api: Api) -> None:
    limited.admin.set_knobs(latency_ms=1500)
    results: list[int] = []

    def call() -> None:
        with requests.Session() as session:
            session.headers.update(limited_api.session.headers)
            results.append(session.get(limited_api.url("preferences"), timeout=10).status_code)

    threads = [threading.Thread(target=call) for _ in range(10)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 5
    while limited.sandbox.limiter.in_flight(limited.realm_id) < 10:
        assert time.monotonic() < deadline, "the ten requests never got in"
        time.sleep(0.01)
    limited.clock.advance(2)
    assert_throttled(limited_api.get("preferences"))
    for thread in threads:
        thread.join()
    assert results == [200] * 10
    limited.admin.set_knobs(latency_ms=0)
    limited.clock.advance(2)
    assert limited_api.get("preferences").status_code == 200


def test_limits_off_by_default(api: Api) -> None:
    for _ in range(15):
        assert api.get("preferences").status_code == 200


def test_burst_429_via_admin_endpoint(qbo: SandboxServer, api: Api) -> None:
    knobs = requests.post(f"{qbo.base_url}/_sandbox/admin/knobs", json={"burst_429": 2}, timeout=5)
    assert knobs.json()["burst_429"] == 2
    assert_throttled(api.get("preferences"))
    assert_throttled(api.get("preferences"))
    assert api.get("preferences").status_code == 200
    bad = requests.post(f"{qbo.base_url}/_sandbox/admin/knobs", json={"nope": 1}, timeout=5)
    assert bad.status_code == 400


def test_injected_5xx_writes_nothing(qbo: SandboxServer, api: Api) -> None:
    qbo.admin.set_knobs(fail_5xx_rate=1.0)
    statuses = {api.post("customer", {"DisplayName": f"Flaky {n}"}).status_code for n in range(6)}
    assert statuses <= {500, 502, 503}
    failure = api.post("customer", {"DisplayName": "Flaky"})
    if failure.status_code == 500:
        assert failure.json()["Fault"]["type"] == "SystemFault"
    qbo.admin.set_knobs(fail_5xx_rate=0.0)
    assert api.query("select count(*) from Customer") == {"totalCount": 0}


def test_drop_after_commit_then_replay(qbo: SandboxServer, api: Api) -> None:
    qbo.admin.set_knobs(drop_after_commit_rate=1.0)
    with pytest.raises(requests.ConnectionError):
        api.post("customer", {"DisplayName": "Dropped Reply"}, params={"requestid": "drop-1"})
    qbo.admin.set_knobs(drop_after_commit_rate=0.0)
    assert api.query("select count(*) from Customer") == {"totalCount": 1}
    retry = api.post("customer", {"DisplayName": "Dropped Reply"}, params={"requestid": "drop-1"})
    assert retry.status_code == 200
    assert retry.json()["Customer"]["DisplayName"] == "Dropped Reply"
    assert api.query("select count(*) from Customer") == {"totalCount": 1}


def test_latency_and_clock_admin(qbo: SandboxServer, api: Api) -> None:
    qbo.admin.set_knobs(latency_ms=150)
    started = time.monotonic()
    assert api.get("preferences").status_code == 200
    assert time.monotonic() - started >= 0.15
    qbo.admin.set_knobs(latency_ms=0)
    clock = requests.post(f"{qbo.base_url}/_sandbox/admin/clock", json={"advance": 3600}, timeout=5)
    assert clock.status_code == 200 and clock.json()["offset_s"] >= 3600
    assert api.get("preferences").status_code == 401
    state = requests.get(f"{qbo.base_url}/_sandbox/admin/state", timeout=5).json()
    assert state["realm_id"] == qbo.realm_id and state["counts"]["Account"] > 20
