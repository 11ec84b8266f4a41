"""A firm's first day from the command line, in the order the window's guide gives: import,
connect, read QuickBooks' lists, map what matches, preview, sync. The preview is the first pass
that reads the firm's records in QuickBooks in full; it must plan what the sync then does, and
never take the invoices it would create for invoices deleted in QuickBooks."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from factor_desktop.app import open_context
from factor_desktop.cli import main
from factor_desktop.sandbox import SandboxConfig, SandboxServer
from factor_desktop.sync.connection import ConnectionService


@pytest.fixture
def world(tmp_path: Path) -> Iterator[tuple[Path, SandboxServer]]:
    with SandboxServer(SandboxConfig(seed="demo", auto_approve=True, random_seed=5)) as qbo:
        yield tmp_path, qbo


def cli(data: Path, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, Any]:
    code = main(["--data-dir", str(data), *args])
    out = capsys.readouterr().out
    try:
        return code, json.loads(out)
    except json.JSONDecodeError:
        return code, out


def _records(counts: dict[str, int]) -> dict[str, int]:
    return {k: v for k, v in counts.items() if v and not k.startswith("reference_")}


def test_the_first_preview_after_reading_the_lists_plans_the_first_sync(
    world: tuple[Path, SandboxServer], capsys: pytest.CaptureFixture[str]
) -> None:
    data, qbo = world
    assert cli(data, capsys, "import", "demo")[0] == 0
    ctx = open_context(data)
    service = ConnectionService(ctx.store, ctx.tokens)
    pending = service.begin(qbo.discovery_url, qbo.client_id, qbo.client_secret)
    requests.get(pending.authorize_url, timeout=10)
    service.connect_with_loopback(pending, timeout=10)
    service.http.close()
    ctx.close()
    assert cli(data, capsys, "map", "refresh", "--json")[0] == 0
    code, suggested = cli(data, capsys, "map", "suggest", "--apply", "--json")
    assert code == 0 and len(suggested["applied"]) == 13  # every demo type with a same name

    code, preview = cli(data, capsys, "sync", "--preview", "--json")
    assert code == 0 and preview["kind"] == "preview"
    created = [p for p in preview["planned"] if p["action"] == "created"]
    assert any(p["entity"] == "invoice" for p in created)
    assert not [p for p in preview["planned"] if p["action"] == "deleted"]

    code, first = cli(data, capsys, "sync", "--json")
    assert first["counts"].get("created", 0) > 0
    assert _records(first["counts"]) == _records(preview["counts"])
