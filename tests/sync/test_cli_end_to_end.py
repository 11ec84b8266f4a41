"""The whole loop from the command line: import, connect, map, preview, sync, fix, retry."""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import requests

from factor_desktop.app import open_context
from factor_desktop.cli import main
from factor_desktop.qbo.query import select as qbo_select
from factor_desktop.sandbox import SandboxConfig, SandboxServer
from factor_desktop.sync.connection import ConnectionService

MAPS = [
    ("service-type", "Programming", "Programming"),
    ("service-type", "Schematic Design", "Schematic Design"),
    ("service-type", "Design Development", "Design Development"),
    ("service-type", "Construction Documents", "Construction Documents"),
    ("service-type", "Bidding & Negotiation", "Bidding & Negotiation"),
    ("service-type", "Construction Administration", "Construction Administration"),
    ("tax-term", "NON", "NON"),
]
EXPENSE_MAPS = [
    ("Structural Engineering", "Structural Engineering Consultants", "Consultant Fees"),
    ("MEP Engineering", "MEP Engineering Consultants", "Consultant Fees"),
    ("Landscape Architecture", "Landscape Architecture Consultants", "Consultant Fees"),
    ("Printing & Reproduction", "Printing and Reproduction", "Reimbursable Expenses"),
    ("Travel", "Travel", "Reimbursable Expenses"),
    ("Mileage", "Mileage", "Reimbursable Expenses"),
]


@pytest.fixture
def world(tmp_path: Path) -> Iterator[tuple[Path, SandboxServer]]:
    with SandboxServer(SandboxConfig(seed="demo", auto_approve=True, random_seed=3)) as qbo:
        yield tmp_path, qbo


def _record_counts(counts: dict[str, int]) -> dict[str, int]:
    """What happened to records: the counts without the reading of lists and receipt files."""
    skip = ("reference_",)
    return {k: v for k, v in counts.items() if v and not k.startswith(skip)}


def cli(data: Path, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, Any]:
    code = main(["--data-dir", str(data), *args])
    out = capsys.readouterr().out
    try:
        return code, json.loads(out)
    except json.JSONDecodeError:
        return code, out


def import_demo_and_connect(
    data: Path, qbo: SandboxServer, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli(data, capsys, "import", "demo")[0] == 0
    ctx = open_context(data)
    service = ConnectionService(ctx.store, ctx.tokens)
    pending = service.begin(qbo.discovery_url, qbo.client_id, qbo.client_secret)
    requests.get(pending.authorize_url, timeout=10)
    service.connect_with_loopback(pending, timeout=10)
    service.http.close()
    ctx.close()


def test_import_connect_map_preview_sync_fix_and_retry(
    world: tuple[Path, SandboxServer], capsys: pytest.CaptureFixture[str]
) -> None:
    data, qbo = world
    import_demo_and_connect(data, qbo, capsys)

    # Mapping needs QuickBooks' lists: the first preview reads them (into a scratch copy only),
    # so read them for real with a sync that can push nothing yet.
    code, first = cli(data, capsys, "sync", "--json")
    assert first["status"] == "partial" and first["counts"].get("blocked", 0) > 0
    for kind, local, remote in MAPS:
        assert cli(data, capsys, "map", kind, local, remote)[0] == 0, (kind, local)
    for local, account, item in EXPENSE_MAPS:
        assert cli(data, capsys, "map", "expense-type", local, account, "--item", item)[0] == 0

    code, preview = cli(data, capsys, "sync", "--preview", "--json")
    assert code == 0 and preview["kind"] == "preview"
    assert preview["counts"].get("blocked", 0) > 0  # the city-taxed invoices would wait
    assert any(p["action"] == "created" and p["entity"] == "invoice" for p in preview["planned"])
    code, invoices = cli(data, capsys, "report", "invoices", "--json")
    assert all(row["qbo_id"] is None for row in invoices)  # the preview changed nothing

    # The sync that follows does what the preview said, action by action.
    code, second = cli(data, capsys, "sync", "--json")
    assert second["counts"]["created"] > 0
    assert _record_counts(second["counts"]) == _record_counts(preview["counts"])
    code, invoices = cli(data, capsys, "report", "invoices", "--json")
    finals = [row for row in invoices if row["status"] != "draft"]
    sent = {row["number"]: row["qbo_id"] for row in finals if row["qbo_id"]}
    waiting = [row["number"] for row in finals if not row["qbo_id"]]
    assert sent and waiting  # the city-taxed invoices wait for their tax code

    # QuickBooks has each sent invoice once, under the same number.
    with ConnectionServiceClient(data) as client:
        in_qbo = [row for row in client.query_all(qbo_select("Invoice").order_by("Id"))]
    numbers = [row.get("DocNumber") for row in in_qbo]
    for number in sent:
        assert numbers.count(number) == 1

    # A pass with nothing new creates nothing.
    code, third = cli(data, capsys, "sync", "--json")
    assert third["counts"].get("created", 0) == 0

    # Map the city tax, retry: the waiting invoices go.
    code, listing = cli(data, capsys, "map", "list", "--json")
    assert "PA-CITY" in json.dumps(listing)
    tax = ("map", "tax-term", "PA-CITY", "Alder County", "--tax-rule", "override")
    assert cli(data, capsys, *tax)[0] == 0
    code, fourth = cli(data, capsys, "sync", "--retry", "--json")
    assert fourth["counts"]["created"] >= len(waiting)
    code, invoices = cli(data, capsys, "report", "invoices", "--json")
    assert all(row["qbo_id"] for row in invoices if row["status"] != "draft")

    # Every invoice's total in QuickBooks is Factor's, city tax included (Factor's tax is sent).
    factor_totals = {row["qbo_id"]: Decimal(row["total"]) for row in invoices if row["qbo_id"]}
    with ConnectionServiceClient(data) as client:
        qbo_totals = {
            str(row["Id"]): Decimal(str(row["TotalAmt"]))
            for row in client.query_all(qbo_select("Invoice").order_by("Id"))
            if str(row["Id"]) in factor_totals
        }
    assert qbo_totals == factor_totals

    # A pass with nothing new: nothing skipped, nothing partial, nothing to say.
    code, fifth = cli(data, capsys, "sync", "--json")
    assert code == 0 and fifth["status"] == "ok"
    assert not {
        k for k, v in fifth["counts"].items() if v and k in ("skipped", "blocked", "failed")
    }
    code, log = cli(data, capsys, "report", "log", "--json")
    invoice_entries = [e for e in log if e["entity"] == "invoice" and e["direction"] == "push"]
    assert invoice_entries and all(
        e["state"] in ("ok", "resolved", "superseded") for e in invoice_entries
    )


def test_the_first_preview_after_reading_the_lists_plans_the_first_sync(
    world: tuple[Path, SandboxServer], capsys: pytest.CaptureFixture[str]
) -> None:
    """The window guide's order: read the lists, map what matches, preview, sync. The preview is
    the first pass that reads the firm's records in QuickBooks in full; it must plan what the sync
    then does, and never take the invoices it would create for invoices deleted in QuickBooks."""
    data, qbo = world
    import_demo_and_connect(data, qbo, capsys)
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
    assert _record_counts(first["counts"]) == _record_counts(preview["counts"])


class ConnectionServiceClient:
    """The profile's own QBO client, for looking at the company from the test."""

    def __init__(self, data: Path) -> None:
        self.ctx = open_context(data)
        self.service = ConnectionService(self.ctx.store, self.ctx.tokens)

    def __enter__(self) -> Any:
        self.client = self.service.client()
        return self.client

    def __exit__(self, *exc: object) -> None:
        self.client.close()
        self.service.http.close()
        self.ctx.close()
