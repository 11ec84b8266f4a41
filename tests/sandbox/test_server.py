"""Lifecycle, the CLI, persistence and the headers every answer carries."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import requests

from factor_desktop.sandbox import SandboxConfig, SandboxServer

from .conftest import Api


def test_start_stop_and_context_manager() -> None:
    server = SandboxServer(SandboxConfig())
    server.start()
    url = server.discovery_url
    assert requests.get(url, timeout=5).status_code == 200
    server.stop()
    server.stop()
    try:
        requests.get(url, timeout=2)
    except requests.ConnectionError:
        pass
    else:
        raise AssertionError("the server still answers after stop()")


def test_every_answer_carries_intuit_tid(api: Api, qbo: SandboxServer) -> None:
    for response in (
        api.get("preferences"),
        api.get("customer/77"),
        requests.get(f"{qbo.base_url}/nowhere", timeout=5),
        requests.get(qbo.discovery_url, timeout=5),
    ):
        assert response.headers["intuit_tid"].startswith("1-")
        assert response.headers["Intuit-Tid"] == response.headers["intuit_tid"]
    ok = api.get("preferences")
    assert ok.headers["Content-Type"] == "application/json;charset=utf-8"
    assert "time" in ok.json()
    assert api.get("customer/77").headers["Content-Type"] == "application/json"


def test_state_file_keeps_company_and_tokens(tmp_path: Path) -> None:
    state = tmp_path / "qbo.sqlite"
    with SandboxServer(SandboxConfig(state_path=state)) as first:
        client = Api(first)
        created = client.create("Customer", {"DisplayName": "Persistent Partners"})
        first.clock.advance(120)
        realm, client_id = first.realm_id, first.client_id
        tokens = client.tokens
        client.close()
    with SandboxServer(SandboxConfig(state_path=state)) as second:
        assert (second.realm_id, second.client_id) == (realm, client_id)
        assert second.clock.offset >= 120
        with requests.Session() as session:
            session.headers["Authorization"] = f"Bearer {tokens['access_token']}"
            session.headers["Accept"] = "application/json"
            answer = session.get(f"{second.api_base}/customer/{created['Id']}", timeout=5)
        assert answer.status_code == 200
        assert answer.json()["Customer"]["DisplayName"] == "Persistent Partners"


def test_cli_prints_json_first_and_stops_on_sigterm(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "factor_desktop.sandbox",
            "--seed",
            "empty",
            "--auto-approve",
            "--client-id",
            "cli-app",
            "--client-secret",
            "cli-secret",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        text=True,
    )
    try:
        assert process.stdout is not None
        first_line = process.stdout.readline()
        info = json.loads(first_line)
        assert {"base_url", "discovery_url", "client_id", "client_secret", "realm_id"} <= set(info)
        assert (info["client_id"], info["client_secret"]) == ("cli-app", "cli-secret")
        assert requests.get(info["discovery_url"], timeout=5).status_code == 200
    finally:
        process.send_signal(signal.SIGTERM)
        _out, err = process.communicate(timeout=20)
    assert process.returncode == 0, err
    assert "cli-secret" not in err


def test_cli_argument_mounting() -> None:
    import argparse

    from factor_desktop.sandbox import add_arguments
    from factor_desktop.sandbox.cli import config_from_args

    parser = argparse.ArgumentParser()
    add_arguments(parser)
    args = parser.parse_args(
        [
            "--port",
            "0",
            "--seed",
            "demo",
            "--rate-limits",
            "--latency-ms",
            "5",
            "--fail-5xx-rate",
            "0.1",
            "--time-scale",
            "0.01",
            "--state",
            "x.sqlite",
        ]
    )
    config = config_from_args(args)
    assert config.seed == "demo" and config.rate_limits and config.latency_ms == 5
    assert config.fail_5xx_rate == 0.1 and config.time_scale == 0.01
    assert config.state_path == Path("x.sqlite")
