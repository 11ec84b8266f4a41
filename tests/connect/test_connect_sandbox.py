"""Connecting to QuickBooks, over real HTTP against the local QBO sandbox."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
import requests
from sqlalchemy import select

from factor_desktop.logs import setup_logging
from factor_desktop.qbo.errors import QboAuthError
from factor_desktop.qbo.oauth import (
    IntuitOAuth,
    InvalidGrantError,
    OAuthFlowError,
    StateMismatchError,
    discover,
    resolve_environment,
)
from factor_desktop.sandbox import SandboxConfig, SandboxServer
from factor_desktop.secrets import TokenStore
from factor_desktop.store.models import Connection, OutboxItem, SyncLogEntry
from factor_desktop.sync.connection import ConnectError, ConnectionService

from .conftest import Rig


def _connection(rig: Rig) -> Connection:
    with rig.store.session() as session:
        conn = session.get(Connection, 1)
        assert conn is not None
        session.expunge(conn)
        return conn


def _oauth(rig: Rig) -> IntuitOAuth:
    endpoints = discover(resolve_environment(rig.sandbox.discovery_url))
    return IntuitOAuth(endpoints, rig.sandbox.client_id, rig.sandbox.client_secret)


def test_connect_records_the_company_and_keeps_tokens_in_the_keyring(rig: Rig) -> None:
    report = rig.connect()
    assert report.company_name == rig.sandbox.company_name
    assert report.realm_id == rig.sandbox.realm_id
    conn = _connection(rig)
    assert conn.state == "connected"
    assert conn.company_name == rig.sandbox.company_name
    assert conn.pending_state is None
    tokens = rig.tokens.load_tokens()
    assert tokens is not None and tokens.realm_id == rig.sandbox.realm_id
    assert rig.tokens.load_app() is not None
    with rig.service.client() as client:
        assert client.company_info()["CompanyName"] == rig.sandbox.company_name


def test_preflight_warns_about_numbering_sales_tax_and_currency(rig: Rig) -> None:
    rig.sandbox.update_preferences(
        {
            "SalesFormsPrefs": {"CustomTxnNumbers": False},
            "TaxPrefs": {"PartnerTaxEnabled": True},
            "CurrencyPrefs": {"MultiCurrencyEnabled": True},
        }
    )
    warnings = rig.connect().warnings
    assert any("Custom transaction numbers are off" in w for w in warnings)
    assert any("Automated Sales Tax is on" in w for w in warnings)
    assert any("Multicurrency is on" in w for w in warnings)
    assert _connection(rig).warnings == warnings


def test_default_company_needs_no_warnings(rig: Rig) -> None:
    assert rig.connect().warnings == []


def test_a_redirect_with_the_wrong_state_is_refused(rig: Rig) -> None:
    pending = rig.service.begin(
        rig.sandbox.discovery_url, rig.sandbox.client_id, rig.sandbox.client_secret
    )
    pending.close()  # the listener is not used: the redirect is "pasted" instead
    answer = requests.get(pending.authorize_url, allow_redirects=False, timeout=10)
    assert answer.status_code == 302
    forged = answer.headers["Location"].replace(pending.state, "forged-state")
    with pytest.raises(StateMismatchError):
        rig.service.finish(pending, forged)
    assert rig.tokens.load_tokens() is None
    assert _connection(rig).state == "disconnected"
    # the genuine redirect, pasted, still completes the connection
    report = rig.service.finish(rig.service.resume(), answer.headers["Location"])
    assert report.realm_id == rig.sandbox.realm_id


def test_the_loopback_listener_times_out(rig: Rig) -> None:
    pending = rig.service.begin(
        rig.sandbox.discovery_url, rig.sandbox.client_id, rig.sandbox.client_secret
    )
    with pytest.raises(OAuthFlowError, match="No answer from QuickBooks"):
        rig.service.connect_with_loopback(pending, timeout=0.3)
    assert rig.tokens.load_tokens() is None


def test_wrong_client_secret_is_explained(rig: Rig) -> None:
    pending = rig.service.begin(rig.sandbox.discovery_url, rig.sandbox.client_id, "wrong-secret")
    requests.get(pending.authorize_url, timeout=10)
    with pytest.raises(OAuthFlowError, match="invalid_client"):
        rig.service.connect_with_loopback(pending, timeout=10)


def test_expired_access_token_is_refreshed_once_after_a_401(rig: Rig) -> None:
    rig.connect()
    # The service's clock stands still while the sandbox's moves on: QBO answers 401.
    frozen = rig.sandbox.clock.now()
    rig.service.clock = lambda: frozen
    manager = rig.service.token_manager()
    with rig.service.client(manager) as client:
        client.company_info()
        rig.sandbox.advance_clock(3700)
        assert client.company_info()["CompanyName"] == rig.sandbox.company_name
    assert manager.refresh_count == 1


def test_access_token_is_refreshed_before_it_expires(rig: Rig) -> None:
    rig.connect()
    manager = rig.service.token_manager()
    with rig.service.client(manager) as client:
        first = manager.access_token()
        rig.sandbox.advance_clock(3500)  # inside the five-minute margin
        client.company_info()
        assert manager.refresh_count == 1
        assert manager.access_token() != first
    saved = rig.tokens.load_tokens()
    assert saved is not None and saved.access_token != first


def test_refresh_token_rotation_is_saved_and_the_old_token_dies(rig: Rig) -> None:
    rig.connect()
    before = rig.tokens.load_tokens()
    assert before is not None
    rig.sandbox.advance_clock(25 * 3600)  # past the 24-hour rotation interval
    manager = rig.service.token_manager()
    manager.access_token()
    after = rig.tokens.load_tokens()
    assert after is not None
    assert after.refresh_token != before.refresh_token
    assert after.refresh_issued_at - before.refresh_issued_at > timedelta(hours=24)
    assert abs(rig.sandbox.clock.now() - after.refresh_issued_at) < timedelta(seconds=30)
    with pytest.raises(InvalidGrantError):
        _oauth(rig).refresh(before.refresh_token)
    conn = _connection(rig)
    assert conn.refresh_token_issued_at == after.refresh_issued_at


def test_invalid_grant_asks_for_reconnect_and_loses_no_queued_work(rig: Rig) -> None:
    rig.connect()
    with rig.store.session() as session:
        session.add(
            OutboxItem(entity_kind="invoice", local_id=1, operation="create", request_id="rq-1")
        )
    tokens = rig.tokens.load_tokens()
    assert tokens is not None
    _oauth(rig).revoke(tokens.refresh_token)  # revoked elsewhere (e.g. in the Intuit portal)
    rig.sandbox.advance_clock(3700)
    with rig.service.client() as client, pytest.raises(QboAuthError, match="Reconnect"):
        client.company_info()
    conn = _connection(rig)
    assert conn.state == "reconnect_needed"
    assert "invalid_grant" in (conn.last_error or "")
    with rig.store.session() as session:
        assert session.scalars(select(OutboxItem.status)).all() == ["pending"]
    with pytest.raises(ConnectError, match="reconnected"):
        rig.service.client()
    rig.connect()  # reconnecting to the same company is allowed
    assert _connection(rig).state == "connected"


def test_disconnect_revokes_and_forgets_the_tokens(rig: Rig) -> None:
    rig.connect()
    tokens = rig.tokens.load_tokens()
    assert tokens is not None
    assert rig.service.disconnect() is True
    assert rig.tokens.load_tokens() is None
    conn = _connection(rig)
    assert conn.state == "disconnected"
    assert conn.realm_id == rig.sandbox.realm_id  # kept for the company guard
    with pytest.raises(InvalidGrantError):
        _oauth(rig).refresh(tokens.refresh_token)
    probe = requests.get(
        f"{rig.sandbox.api_base}/companyinfo/{rig.sandbox.realm_id}",
        headers={"Authorization": f"Bearer {tokens.access_token}", "Accept": "application/json"},
        timeout=10,
    )
    assert probe.status_code == 401


def test_a_profile_never_switches_company_silently(rig: Rig) -> None:
    rig.connect()
    with SandboxServer(
        SandboxConfig(seed="empty", auto_approve=True, company_name="Another Firm LLC")
    ) as other:
        pending = rig.service.begin(other.discovery_url, other.client_id, other.client_secret)
        requests.get(pending.authorize_url, timeout=10)
        with pytest.raises(ConnectError, match="different company"):
            rig.service.connect_with_loopback(pending, timeout=10)
    conn = _connection(rig)
    assert conn.realm_id == rig.sandbox.realm_id
    assert conn.company_name == rig.sandbox.company_name
    tokens = rig.tokens.load_tokens()
    assert tokens is not None and tokens.realm_id == rig.sandbox.realm_id


def test_no_secret_reaches_the_store_the_logs_or_the_sync_log(rig: Rig, tmp_path: Path) -> None:
    log_file = setup_logging(tmp_path / "logs", verbose=2)
    logging.getLogger("factor_desktop").debug("connect test starts")
    rig.connect()
    manager = rig.service.token_manager()
    rig.sandbox.advance_clock(25 * 3600)
    with rig.service.client(manager) as client:
        client.company_info()
    with rig.store.session() as session:
        session.add(
            SyncLogEntry(direction="push", entity_kind="invoice", label="x", action="created")
        )
    rig.service.disconnect()
    # Every token the sandbox ever issued in this test, and the app's secret.
    issued = {rig.sandbox.client_secret}
    for kind in ("access", "refresh", "code"):
        issued.update(key for key, _doc in rig.sandbox.sandbox.store.oauth_all(kind))
    assert len(issued) >= 5
    for handler in logging.getLogger().handlers:
        handler.flush()
    rig.store.close()
    stored = b"".join(p.read_bytes() for p in rig.store.path.parent.glob("firm.sqlite3*"))
    logged = log_file.read_bytes()
    assert b"connect test starts" in logged
    for secret in issued:
        assert secret.encode() not in stored, "a secret reached the database"
        assert secret.encode() not in logged, "a secret reached the log"


def test_cli_connect_no_browser_against_the_sandbox_command(tmp_path: Path) -> None:
    """The issue's acceptance path: two processes, a printed URL opened by a plain HTTP client."""
    env = dict(
        os.environ,
        PYTHON_KEYRING_BACKEND="tests.support.file_keyring.TestFileKeyring",
        FACTOR_TEST_KEYRING_FILE=str(tmp_path / "keyring.json"),
        PYTHONPATH=str(Path(__file__).resolve().parents[2]),
        QT_QPA_PLATFORM="offscreen",
    )
    server = subprocess.Popen(
        [sys.executable, "-m", "factor_desktop", "sandbox", "--auto-approve", "--port", "0"],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert server.stdout is not None
        info = json.loads(server.stdout.readline())
        data = str(tmp_path / "data")
        connect = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "factor_desktop",
                "--data-dir",
                data,
                "connect",
                "--environment",
                info["discovery_url"],
                "--client-id",
                info["client_id"],
                "--client-secret",
                info["client_secret"],
                "--no-browser",
                "--timeout",
                "30",
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        assert connect.stdout is not None
        url = connect.stdout.readline().strip()
        if not url:  # the command ended before printing the link: say why
            connect.wait(timeout=30)
            assert connect.stderr is not None
            raise AssertionError(f"connect printed no link: {connect.stderr.read()}")
        assert url.startswith(info["base_url"]) and "state=" in url
        assert requests.get(url, timeout=10).status_code == 200
        out, err = connect.communicate(timeout=30)
        assert connect.returncode == 0, err
        assert "Connected to" in out
        status = subprocess.run(
            [sys.executable, "-m", "factor_desktop", "--data-dir", data, "status", "--json"],
            capture_output=True,
            text=True,
            env=env,
            check=True,
        )
        report = json.loads(status.stdout)
        assert report["connected"] is True
        assert report["realm_id"] == info["realm_id"]
        assert report["company_name"]
        assert report["tokens"]["access_token_valid"] is True
        assert info["client_secret"] not in status.stdout
    finally:
        server.terminate()
        server.wait(10)
        if server.stdout:
            server.stdout.close()


def test_second_profile_in_same_keyring_is_separate(rig: Rig, tmp_path: Path) -> None:
    rig.connect()
    other = ConnectionService(rig.store, TokenStore("other-firm"))
    with pytest.raises(ConnectError):
        other.token_manager().access_token()
