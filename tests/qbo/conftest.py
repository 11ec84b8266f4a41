"""Fixtures for the QBO client tests: mocked HTTP, a token source, a clock that never waits."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests
import responses

from factor_desktop.qbo.client import QboClient
from factor_desktop.qbo.ratelimit import RateLimiter
from tests.qbo.qbo_fakes import BASE_URL, REALM, FakeTime, FakeTokens

MakeClient = Callable[..., QboClient]


@pytest.fixture
def rsps() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mock:
        yield mock


@pytest.fixture
def tokens() -> FakeTokens:
    return FakeTokens()


@pytest.fixture
def fake_time() -> FakeTime:
    return FakeTime()


@pytest.fixture
def make_client(tokens: FakeTokens, fake_time: FakeTime) -> Iterator[MakeClient]:
    sessions: list[requests.Session] = []

    def make(**overrides: Any) -> QboClient:
        session = requests.Session()
        sessions.append(session)
        options: dict[str, Any] = {
            "session": session,
            "sleep": fake_time.sleep,
            "clock": fake_time.clock,
            "jitter": lambda: 0.5,
        }
        options.update(overrides)
        return QboClient(BASE_URL, REALM, tokens, **options)

    yield make
    for session in sessions:
        session.close()


@pytest.fixture
def client(make_client: MakeClient) -> QboClient:
    return make_client()


@pytest.fixture
def limiter(fake_time: FakeTime) -> RateLimiter:
    return RateLimiter(clock=fake_time.clock, sleep=fake_time.sleep)
