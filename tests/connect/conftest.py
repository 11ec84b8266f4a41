"""A local QBO sandbox, a firm store and a connection service wired to them."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pytest
import requests

from factor_desktop.sandbox import SandboxConfig, SandboxServer
from factor_desktop.secrets import TokenStore
from factor_desktop.store.db import Store, open_store
from factor_desktop.sync.connection import ConnectionReport, ConnectionService


@dataclass
class Rig:
    sandbox: SandboxServer
    store: Store
    tokens: TokenStore
    service: ConnectionService

    def connect(self) -> ConnectionReport:
        pending = self.service.begin(
            self.sandbox.discovery_url, self.sandbox.client_id, self.sandbox.client_secret
        )
        # Any HTTP client opening the URL completes the flow: the sandbox approves at once and
        # redirects to the loopback listener.
        answer = requests.get(pending.authorize_url, timeout=10)
        assert answer.status_code == 200 and "close this tab" in answer.text
        return self.service.connect_with_loopback(pending, timeout=10)


@pytest.fixture
def sandbox() -> Iterator[SandboxServer]:
    with SandboxServer(SandboxConfig(seed="empty", auto_approve=True)) as server:
        yield server


@pytest.fixture
def rig(sandbox: SandboxServer, tmp_path: Path) -> Iterator[Rig]:
    store = open_store(tmp_path / "firm.sqlite3")
    tokens = TokenStore("firm")

    def clock() -> datetime:
        return sandbox.clock.now()

    service = ConnectionService(store, tokens, clock=clock)
    yield Rig(sandbox, store, tokens, service)
    service.http.close()
    store.close()
