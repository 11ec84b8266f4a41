"""Each firm database has its own keyring entries: two data folders never share a connection."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import requests

from factor_desktop.app import AppContext, open_context
from factor_desktop.cli import main
from factor_desktop.sandbox import SandboxConfig, SandboxServer
from factor_desktop.secrets import MemoryKeyring, TokenSet, TokenStore
from factor_desktop.store.models import Connection
from factor_desktop.sync.connection import ConnectionService


@pytest.fixture
def two_sandboxes() -> Iterator[tuple[SandboxServer, SandboxServer]]:
    with (
        SandboxServer(SandboxConfig(seed="empty", auto_approve=True)) as one,
        SandboxServer(SandboxConfig(seed="empty", auto_approve=True)) as two,
    ):
        yield one, two


def _connect(ctx: AppContext, sandbox: SandboxServer) -> ConnectionService:
    service = ConnectionService(ctx.store, ctx.tokens)
    pending = service.begin(sandbox.discovery_url, sandbox.client_id, sandbox.client_secret)
    assert requests.get(pending.authorize_url, timeout=10).status_code == 200
    service.connect_with_loopback(pending, timeout=10)
    return service


def test_two_data_folders_with_one_profile_name_keep_their_own_connections(
    tmp_path: Path, two_sandboxes: tuple[SandboxServer, SandboxServer]
) -> None:
    one, two = two_sandboxes
    a = open_context(tmp_path / "a")
    b = open_context(tmp_path / "b")
    try:
        assert a.profile == b.profile == "default"
        assert a.tokens.service != b.tokens.service
        service_a = _connect(a, one)
        service_b = _connect(b, two)  # used to replace A's tokens
        tokens_a, tokens_b = a.tokens.load_tokens(), b.tokens.load_tokens()
        assert tokens_a is not None and tokens_b is not None
        assert tokens_a.refresh_token != tokens_b.refresh_token
        # A still talks to its own company with its own app: no invalid_client.
        client = service_a.client()
        assert client.company_info()
        client.close()
        # Disconnecting A forgets A's tokens only; B keeps working.
        service_a.disconnect()
        assert a.tokens.load_tokens() is None
        assert b.tokens.load_tokens() == tokens_b
        client = service_b.client()
        assert client.company_info()
        client.close()
        service_a.http.close()
        service_b.http.close()
    finally:
        a.close()
        b.close()


def _token_set(realm: str) -> TokenSet:
    now = datetime.now(UTC)
    return TokenSet(realm, "AB11refresh" + realm, "access-" + realm, now + timedelta(hours=1), now)


def _mark_connected(data: Path, realm: str) -> None:
    ctx = open_context(data)
    with ctx.store.session() as session:
        session.merge(Connection(id=1, state="connected", realm_id=realm, company_name="Firm"))
    ctx.close()


def test_entries_of_an_earlier_version_move_to_the_database_they_belong_to(
    tmp_path: Path, memory_keyring: MemoryKeyring
) -> None:
    _mark_connected(tmp_path / "other", "111")
    _mark_connected(tmp_path / "mine", "222")
    # What an earlier version filed under the profile name alone.
    legacy = TokenStore("default")
    legacy.save_tokens(_token_set("222"))
    legacy._set("app", '{"client_id": "app-id", "client_secret": "app-secret"}')

    other = open_context(tmp_path / "other")  # connected to another company: not its tokens
    assert other.tokens.load_tokens() is None
    assert legacy.load_tokens() is not None
    other.close()

    mine = open_context(tmp_path / "mine")
    moved = mine.tokens.load_tokens()
    assert moved is not None and moved.realm_id == "222"
    app = mine.tokens.load_app()
    assert app is not None and app.client_id == "app-id"
    assert legacy.load_tokens() is None and legacy.load_app() is None
    mine.close()
    # Nobody else can pick them up any more.
    other = open_context(tmp_path / "other")
    assert other.tokens.load_tokens() is None
    other.close()


def test_a_copied_data_folder_gets_its_own_identity_and_a_moved_one_keeps_its_own(
    tmp_path: Path,
) -> None:
    ctx = open_context(tmp_path / "a")
    ctx.tokens.save_tokens(_token_set("333"))
    identity = ctx.tokens.store_id
    ctx.close()
    shutil.copytree(tmp_path / "a", tmp_path / "copy")
    copy = open_context(tmp_path / "copy")
    assert copy.tokens.store_id != identity
    assert copy.tokens.load_tokens() is None
    copy.close()
    (tmp_path / "a").rename(tmp_path / "moved")
    moved = open_context(tmp_path / "moved")
    assert moved.tokens.store_id == identity
    assert moved.tokens.load_tokens() is not None
    moved.close()


def test_a_database_whose_tokens_are_missing_says_not_connected(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _mark_connected(tmp_path / "data", "444")
    assert main(["--data-dir", str(tmp_path / "data"), "status"]) == 0
    out = capsys.readouterr().out
    first = out.splitlines()[0]
    assert first.startswith("Not connected to QuickBooks Online")
    assert "not in this computer's keyring" in first
    assert "None" not in out


def test_reconnect_needed_without_a_reason_does_not_print_none(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ctx = open_context(tmp_path / "data")
    ctx.tokens.save_tokens(_token_set("555"))
    with ctx.store.session() as session:
        session.merge(Connection(id=1, state="reconnect_needed", realm_id="555", company_name="X"))
    ctx.close()
    assert main(["--data-dir", str(tmp_path / "data"), "status"]) == 0
    first = capsys.readouterr().out.splitlines()[0]
    assert first == "Reconnect needed for X."


def test_a_sync_without_the_tokens_stops_before_asking_quickbooks(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _mark_connected(tmp_path / "data", "666")
    ctx = open_context(tmp_path / "data")
    with ctx.store.session() as session:
        connection = session.get(Connection, 1)
        assert connection is not None
        connection.environment = "sandbox"
    ctx.close()
    assert main(["--data-dir", str(tmp_path / "data"), "sync"]) == 1
    err = capsys.readouterr().err
    assert "this firm's QuickBooks tokens are not in this computer's keyring" in err
    assert "invalid_client" not in err
