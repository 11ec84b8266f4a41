"""A firm store connected, through the real OAuth flow, to a local QBO sandbox."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from factor_desktop.sandbox import SandboxConfig, SandboxServer
from factor_desktop.secrets import TokenStore
from factor_desktop.store.db import Store, open_store
from factor_desktop.sync.connection import ConnectionService


@dataclass
class Connected:
    sandbox: SandboxServer
    store: Store
    tokens: TokenStore
    connection: ConnectionService
    attachments: Path


def connect(sandbox: SandboxServer, store: Store, tokens: TokenStore) -> ConnectionService:
    service = ConnectionService(store, tokens, clock=sandbox.clock.now)
    pending = service.begin(sandbox.discovery_url, sandbox.client_id, sandbox.client_secret)
    requests.get(pending.authorize_url, timeout=10)
    service.connect_with_loopback(pending, timeout=10)
    return service


def _connected(seed: str, tmp_path: Path) -> Iterator[Connected]:
    with SandboxServer(SandboxConfig(seed=seed, auto_approve=True, random_seed=11)) as sandbox:  # type: ignore[arg-type]
        store = open_store(tmp_path / "firm.sqlite3")
        tokens = TokenStore("firm")
        service = connect(sandbox, store, tokens)
        try:
            yield Connected(sandbox, store, tokens, service, tmp_path / "attachments")
        finally:
            service.http.close()
            store.close()


@pytest.fixture
def connected(tmp_path: Path) -> Iterator[Connected]:
    yield from _connected("empty", tmp_path)


@pytest.fixture
def connected_demo(tmp_path: Path) -> Iterator[Connected]:
    yield from _connected("demo", tmp_path)
