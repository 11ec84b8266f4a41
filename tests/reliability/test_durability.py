"""WAL with synchronous=NORMAL: commits lost to a power cut are replayed without duplicates.

A power cut can lose the last commits that sat only in the write-ahead log. Here a sync pass
runs in a child process that dies without closing the database (so nothing is checkpointed),
then its whole write-ahead log is thrown away, as if it never reached the disk. QuickBooks has
the invoices; the firm database no longer knows. The next pass sends them again under the same
requestids and QuickBooks replays its answers: each invoice is there once, and linked.
"""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path
from typing import Any

import pytest
import requests
from sqlalchemy import Engine, event

from factor_desktop.app import open_context
from factor_desktop.cli import main
from factor_desktop.qbo.query import select as qbo_select
from factor_desktop.sandbox import SandboxConfig, SandboxServer
from factor_desktop.sync.connection import ConnectionService
from factor_desktop.sync.engine import run_sync
from tests.reliability.crash import needs_fork

MAPS = [
    ("service-type", "Programming", "Programming"),
    ("service-type", "Schematic Design", "Schematic Design"),
    ("service-type", "Design Development", "Design Development"),
    ("service-type", "Construction Documents", "Construction Documents"),
    ("service-type", "Bidding & Negotiation", "Bidding & Negotiation"),
    ("service-type", "Construction Administration", "Construction Administration"),
    ("tax-term", "NON", "NON"),
]


def _cli(data: Path, capsys: pytest.CaptureFixture[str], *args: str) -> Any:
    assert main(["--data-dir", str(data), *args]) in (0, 1)
    out = capsys.readouterr().out
    return json.loads(out) if out.startswith(("{", "[")) else out


def _outbox(path: Path) -> dict[tuple[str, int, str], tuple[str, str]]:
    conn = sqlite3.connect(path)
    try:
        rows = conn.execute(
            "SELECT entity_kind, local_id, operation, request_id, status FROM outbox"
        ).fetchall()
    finally:
        conn.close()
    return {(kind, local, op): (rid, status) for kind, local, op, rid, status in rows}


def _no_checkpoints(dbapi_connection: sqlite3.Connection, _record: object) -> None:
    dbapi_connection.execute("PRAGMA wal_autocheckpoint=0")


@needs_fork
def test_a_pass_lost_from_the_write_ahead_log_is_replayed_by_requestid(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "data"
    with SandboxServer(SandboxConfig(seed="demo", auto_approve=True, random_seed=3)) as qbo:
        _cli(data, capsys, "import", "demo")
        ctx = open_context(data)
        service = ConnectionService(ctx.store, ctx.tokens)
        pending = service.begin(qbo.discovery_url, qbo.client_id, qbo.client_secret)
        requests.get(pending.authorize_url, timeout=10)
        service.connect_with_loopback(pending, timeout=10)
        service.http.close()
        ctx.close()
        _cli(data, capsys, "sync", "--json")  # reads QuickBooks' lists; invoices wait
        for kind, local, remote in MAPS:
            _cli(data, capsys, "map", kind, local, remote)
        path = data / "default.sqlite3"
        conn = sqlite3.connect(path)  # everything so far is safely in the main file
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        conn.close()

        pid = os.fork()
        if pid == 0:  # the pass whose commits a power cut will take away
            code = 3
            try:
                event.listen(Engine, "connect", _no_checkpoints)
                child = open_context(data)
                summary = run_sync(child)
                code = 0 if summary.counts.get("created", 0) > 0 else 4
            finally:
                os._exit(code)  # no close: the commits stay in the write-ahead log only
        _, status = os.waitpid(pid, 0)
        assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0
        wal = Path(f"{path}-wal")
        assert wal.stat().st_size > 0
        wal.write_bytes(b"")  # the power cut: none of the log reached the disk
        Path(f"{path}-shm").unlink(missing_ok=True)

        invoices = _cli(data, capsys, "report", "invoices", "--json")
        assert all(row["qbo_id"] is None for row in invoices)  # the store forgot the pass
        before = _outbox(path)
        client_ctx = open_context(data)
        client = ConnectionService(client_ctx.store, client_ctx.tokens).client()
        sent_before = [r.get("DocNumber") for r in client.query_all(qbo_select("Invoice"))]
        assert sent_before  # QuickBooks has them

        again = _cli(data, capsys, "sync", "--json")
        assert again["status"] in ("ok", "partial"), again
        in_qbo = [r.get("DocNumber") for r in client.query_all(qbo_select("Invoice"))]
        client.close()
        client_ctx.close()
        assert sorted(map(str, in_qbo)) == sorted(map(str, sent_before))  # nothing sent twice
        # Sent again under the requestids recorded before the pass, which QuickBooks answered
        # from its replies (a new requestid would have been refused as a duplicate number).
        after = _outbox(path)
        replayed = {key: rid for key, (rid, status) in after.items() if status == "done"}
        assert replayed
        assert all(before[key][0] == rid for key, rid in replayed.items())
        invoices = _cli(data, capsys, "report", "invoices", "--json")
        ours = {row["number"] for row in invoices if row["number"]}
        linked = {row["number"] for row in invoices if row["qbo_id"]}
        lost_and_replayed = ours & set(sent_before)
        assert lost_and_replayed  # the pass had sent some of the firm's invoices
        assert linked >= lost_and_replayed  # and every one of them is linked again
