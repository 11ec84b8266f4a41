"""QBO's limits at a time scale, stamped on arrival; admin endpoints kept from web pages."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest
import requests

from factor_desktop.sandbox import SandboxConfig, SandboxServer
from factor_desktop.sandbox.clock import SandboxClock
from factor_desktop.sandbox.knobs import KnobBoard, Knobs
from factor_desktop.sandbox.limits import RateLimiter

from .conftest import Api

THROTTLED = re.compile(
    r'<\?xml version="1\.0" encoding="UTF-8" standalone="yes"\?>'
    r'<IntuitResponse xmlns="http://schema\.intuit\.com/finance/v3" '
    r'time="\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}[+-]\d\d:\d\d">'
    r'<Fault type="SERVICE"><Error code="3001">'
    r"<Message>message=ThrottleExceeded; errorCode=003001; statusCode=429</Message>"
    r"<Detail>The request limit was reached\.  Try again later</Detail>"
    r"</Error></Fault></IntuitResponse>"
)


class FakeTime:
    """Monotonic time the test moves by hand."""

    def __init__(self) -> None:
        self.value = 1000.0

    def __call__(self) -> float:
        return self.value


@pytest.fixture
def fake_time(monkeypatch: pytest.MonkeyPatch) -> FakeTime:
    ticker = FakeTime()
    monkeypatch.setattr("factor_desktop.sandbox.limits.time.monotonic", ticker)
    return ticker


def limiter(scale: float) -> tuple[RateLimiter, KnobBoard]:
    knobs = KnobBoard(Knobs(rate_limits=True, time_scale=scale))
    return RateLimiter(SandboxClock(), knobs), knobs


def admit_many(limiter: RateLimiter, count: int, *, app: str = "app", batch: bool = False) -> int:
    admitted = 0
    for _ in range(count):
        admission = limiter.admit("realm", app, batch=batch)
        if admission is not None:
            limiter.release(admission)
            admitted += 1
    return admitted


# -- limits -------------------------------------------------------------------------------------


def test_the_limits_are_qbos_and_are_reported() -> None:
    with SandboxServer(SandboxConfig(rate_limits=True, time_scale=0.01)) as server:
        limits = server.rate_limits()
        assert limits == server.describe()["rate_limits"]
        assert limits["enforced"] is True
        assert limits["requests_per_minute_per_realm"] == 500
        assert limits["requests_per_second_per_realm_app"] == 10
        assert limits["concurrent_per_realm"] == 10
        assert limits["batch_per_minute_per_realm_app"] == 40
        assert limits["batch_per_minute_per_realm"] == 120
        assert limits["items_per_batch"] == 30
        assert limits["minute_s"] == pytest.approx(0.6)
        assert limits["second_s"] == pytest.approx(0.01)
        server.set_knobs(time_scale=2)
        assert server.state()["rate_limits"]["minute_s"] == pytest.approx(120)


def test_a_429_is_qbos_xml_without_retry_after(qbo: SandboxServer, api: Api) -> None:
    qbo.set_knobs(burst_429=1)
    response = api.get("preferences")
    assert response.status_code == 429
    assert THROTTLED.fullmatch(response.text), response.text
    assert response.headers["Content-Type"] == "application/xml"
    assert "Retry-After" not in response.headers
    assert response.headers["intuit_tid"]


def test_time_scale_shrinks_the_second_and_the_minute_alike(fake_time: FakeTime) -> None:
    limits, _ = limiter(0.01)  # a QBO second lasts 10 ms, a minute 0.6 s
    assert admit_many(limits, 11) == 10
    fake_time.value += 0.0099
    assert admit_many(limits, 1) == 0
    fake_time.value += 0.0002
    assert admit_many(limits, 10) == 10
    # 480 more, ten per QBO second: the minute fills at 500 and opens 0.6 real seconds later.
    for _ in range(48):
        fake_time.value += 0.0101
        assert admit_many(limits, 10) == 10
    fake_time.value += 0.0101
    assert admit_many(limits, 1) == 0
    fake_time.value = 1000.0 + 0.6 + 0.0001
    assert admit_many(limits, 10) == 10


def test_batch_windows_scale_too(fake_time: FakeTime) -> None:
    limits, _ = limiter(0.01)
    for _ in range(4):
        assert admit_many(limits, 10, batch=True) == 10
        fake_time.value += 0.0101
    assert admit_many(limits, 1, batch=True) == 0
    assert admit_many(limits, 1) == 1  # a plain request still has room
    fake_time.value = 1000.0 + 0.6 + 0.0001
    assert admit_many(limits, 1, batch=True) == 1


def test_a_new_time_scale_keeps_the_stamps_taken(fake_time: FakeTime) -> None:
    limits, knobs = limiter(1.0)
    assert admit_many(limits, 10) == 10
    fake_time.value += 0.2
    knobs.update({"time_scale": 0.5})
    # Still inside the same QBO second: 0.2 s at scale 1 plus nothing yet at 0.5.
    assert admit_many(limits, 1) == 0
    fake_time.value += 0.39  # 0.2 + 0.78 = 0.98 QBO seconds
    assert admit_many(limits, 1) == 0
    fake_time.value += 0.02  # 1.02
    assert admit_many(limits, 10) == 10


def test_requests_are_counted_at_their_arrival(fake_time: FakeTime) -> None:
    """Ten requests that arrived before an eleventh count against it, however late they were
    admitted; one that arrives later does not count against an earlier arrival."""
    limits, _ = limiter(1.0)
    early = limits.now()
    fake_time.value += 0.5
    late = limits.now()
    for _ in range(10):
        admission = limits.admit("realm", "app", batch=False, at=late)
        assert admission is not None
        limits.release(admission)
    assert limits.admit("realm", "app", batch=False, at=late) is None
    # Arrived before all of them: its second held nothing yet.
    assert limits.admit("realm", "app", batch=False, at=early) is not None


def test_cli_starts_a_limited_sandbox_at_a_time_scale() -> None:
    process = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys; from factor_desktop.cli import main; sys.exit(main())",
            "sandbox",
            "--rate-limits",
            "--time-scale",
            "100",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        described = json.loads(process.stdout.readline())
        limits = described["rate_limits"]
        assert limits["enforced"] is True
        assert limits["time_scale"] == 100
        assert limits["second_s"] == 100
        token = requests.post(f"{described['admin_url']}/tokens", json={}, timeout=10).json()
        api = f"{described['base_url']}/v3/company/{described['realm_id']}/preferences"
        headers = {"Authorization": f"Bearer {token['access_token']}", "Accept": "application/json"}
        with requests.Session() as session:
            statuses = [
                session.get(api, headers=headers, timeout=10).status_code for _ in range(11)
            ]
        # A QBO second lasts 100 s here, so the eleventh request always falls in the first.
        assert statuses == [200] * 10 + [429]
    finally:
        process.terminate()
        process.wait(timeout=10)


# -- the admin endpoints and foreign pages ---------------------------------------------------------


def _port(server: SandboxServer) -> int:
    return int(server.base_url.rsplit(":", 1)[1])


@pytest.mark.parametrize(
    "host", ["evil.example", "evil.example:{port}", "127.0.0.1:1", "10.0.0.5:{port}"]
)
def test_a_foreign_host_header_is_refused_everywhere(qbo: SandboxServer, host: str) -> None:
    header = {"Host": host.format(port=_port(qbo))}
    for path in (
        "/_sandbox/admin/state",
        "/.well-known/openid_sandbox_configuration",
        f"/v3/company/{qbo.realm_id}/preferences",
    ):
        response = requests.get(qbo.base_url + path, headers=header, timeout=5)
        assert response.status_code == 400, path
        assert response.text == "Invalid Host header"
    knobs = requests.post(
        f"{qbo.base_url}/_sandbox/admin/knobs", json={"burst_429": 3}, headers=header, timeout=5
    )
    assert knobs.status_code == 400
    assert qbo.admin.knobs["burst_429"] == 0


@pytest.mark.parametrize("name", ["127.0.0.1", "localhost", "LOCALHOST"])
def test_the_apps_own_host_names_keep_working(qbo: SandboxServer, api: Api, name: str) -> None:
    header = {"Host": f"{name}:{_port(qbo)}"}
    discovery = requests.get(
        f"{qbo.base_url}/.well-known/openid_sandbox_configuration", headers=header, timeout=5
    )
    assert discovery.status_code == 200
    assert api.get("preferences", headers=header).status_code == 200
    token = requests.post(
        f"{qbo.base_url}/oauth2/v1/tokens/bearer",
        data={"grant_type": "refresh_token", "refresh_token": api.tokens["refresh_token"]},
        auth=(qbo.client_id, qbo.client_secret),
        headers=header,
        timeout=5,
    )
    assert token.status_code == 200, token.text
    state = requests.get(f"{qbo.base_url}/_sandbox/admin/state", headers=header, timeout=5)
    assert state.status_code == 200


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "http://evil.example"},
        {"Origin": "null"},
        {"Origin": "https://127.0.0.1:{port}"},
        {"Sec-Fetch-Site": "cross-site"},
        {"Sec-Fetch-Site": "same-site"},
    ],
)
def test_cross_origin_admin_requests_are_refused(
    qbo: SandboxServer, headers: dict[str, str]
) -> None:
    sent = {key: value.format(port=_port(qbo)) for key, value in headers.items()}
    response = requests.post(
        f"{qbo.base_url}/_sandbox/admin/clock", json={"advance": 86400}, headers=sent, timeout=5
    )
    assert response.status_code == 403
    assert "refused" in response.json()["error"]
    assert qbo.clock.offset < 60
    state = requests.get(f"{qbo.base_url}/_sandbox/admin/state", headers=sent, timeout=5)
    assert state.status_code == 403


@pytest.mark.parametrize(
    "content_type", ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data"]
)
def test_admin_posts_a_form_could_send_are_refused(qbo: SandboxServer, content_type: str) -> None:
    """What a page on another site can POST without a preflight never changes the sandbox."""
    response = requests.post(
        f"{qbo.base_url}/_sandbox/admin/knobs",
        data='{"burst_429": 5}',
        headers={"Content-Type": content_type},
        timeout=5,
    )
    assert response.status_code == 403
    assert "application/json" in response.json()["error"]
    assert qbo.admin.knobs["burst_429"] == 0


def test_same_origin_json_admin_posts_work(qbo: SandboxServer) -> None:
    origin = f"http://localhost:{_port(qbo)}"
    response = requests.post(
        f"{qbo.base_url}/_sandbox/admin/knobs",
        json={"burst_429": 1},
        headers={"Origin": origin, "Sec-Fetch-Site": "same-origin"},
        timeout=5,
    )
    assert response.status_code == 200
    assert qbo.admin.knobs["burst_429"] == 1
