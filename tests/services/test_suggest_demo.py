"""`map refresh` then `map suggest` on the demo firm against the demo sandbox company.

`map refresh` only reads: the sandbox sees no write request and its company is unchanged. Then
`map suggest --apply` maps every demo type that has a same-named QuickBooks record.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from werkzeug.wrappers import Request

from factor_desktop.app import open_context
from factor_desktop.cli import main
from factor_desktop.sandbox import SandboxConfig, SandboxServer
from factor_desktop.sandbox.app import SandboxApp
from factor_desktop.services.mappings import mapping_lines
from factor_desktop.sync.connection import ConnectionService


@pytest.fixture
def world(tmp_path: Path) -> Iterator[tuple[Path, SandboxServer]]:
    with SandboxServer(SandboxConfig(seed="demo", auto_approve=True, random_seed=3)) as qbo:
        yield tmp_path, qbo


@pytest.fixture
def api_requests(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str]]:
    """Every v3 API request the sandbox answers, as (method, first path segment)."""
    seen: list[tuple[str, str]] = []
    answer = SandboxApp.api

    def recording(self: SandboxApp, request: Request, realm: str, segments: list[str]) -> Any:
        seen.append((request.method, segments[0] if segments else ""))
        return answer(self, request, realm, segments)

    monkeypatch.setattr(SandboxApp, "api", recording)
    return seen


def _cli(data: Path, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["--data-dir", str(data), *args])
    out, err = capsys.readouterr()
    return code, out, err


def _company(qbo: SandboxServer) -> dict[str, list[tuple[str, Any, Any]]]:
    """Every record of the sandbox company with its SyncToken and last change."""
    sandbox = qbo.sandbox
    entities = sorted(sandbox.store.count(sandbox.realm_id))
    return {
        entity: [
            (r.id, r.doc.get("SyncToken"), (r.doc.get("MetaData") or {}).get("LastUpdatedTime"))
            for r in sandbox.store.all(sandbox.realm_id, entity, include_deleted=True)
        ]
        for entity in entities
    }


def _connect(data: Path, qbo: SandboxServer) -> None:
    ctx = open_context(data)
    service = ConnectionService(ctx.store, ctx.tokens)
    try:
        pending = service.begin(qbo.discovery_url, qbo.client_id, qbo.client_secret)
        requests.get(pending.authorize_url, timeout=10)
        service.connect_with_loopback(pending, timeout=10)
    finally:
        service.http.close()
        ctx.close()


def test_refresh_reads_only_and_suggest_maps_every_same_named_type(
    world: tuple[Path, SandboxServer],
    capsys: pytest.CaptureFixture[str],
    api_requests: list[tuple[str, str]],
) -> None:
    data, qbo = world
    assert _cli(data, capsys, "import", "demo")[0] == 0
    _connect(data, qbo)
    before = _company(qbo)
    api_requests.clear()

    code, out, err = _cli(data, capsys, "map", "refresh", "--json")
    assert (code, err) == (0, "")
    overview = json.loads(out)
    assert api_requests, "the lists were read from the sandbox"
    writes = [(m, s) for m, s in api_requests if m != "GET" and s != "query"]
    assert writes == []
    assert _company(qbo) == before  # nothing created or changed in QuickBooks
    assert overview["run"]["kind"] == "lists" and overview["run"]["status"] == "ok"
    assert overview["counts"]["Customer"] == 15 and overview["sub_customers"] == 6
    assert {c["name"]: c["rate"] for c in overview["tax_codes"]} == {
        "Alder County": "8.5",
        "NON": "0",
        "TAX": "0",
    }
    assert overview["custom_fields"] == ["Project No.", "PO Number", "Project Phase"]
    assert overview["automated_sales_tax"] is False

    code, out, _ = _cli(data, capsys, "map", "refresh")
    assert code == 0 and "nothing was written to QuickBooks" in out
    assert "Alder County 8.5%" in out and "Automated Sales Tax: off." in out

    code, out, _ = _cli(data, capsys, "map", "suggest", "--json")
    assert code == 0
    proposed = json.loads(out)
    pairs = {(m["kind"], m["name"]): m["qbo_name"] for m in proposed["mappings"]}
    assert pairs == {
        ("service_type", "Bidding & Negotiation"): "Bidding & Negotiation",
        ("service_type", "Construction Administration"): "Construction Administration",
        ("service_type", "Construction Documents"): "Construction Documents",
        ("service_type", "Design Development"): "Design Development",
        ("service_type", "Programming"): "Programming",
        ("service_type", "Schematic Design"): "Schematic Design",
        ("expense_type", "Landscape Architecture"): "Landscape Architecture Consultants",
        ("expense_type", "MEP Engineering"): "MEP Engineering Consultants",
        ("expense_type", "Mileage"): "Mileage",
        ("expense_type", "Printing & Reproduction"): "Printing and Reproduction",
        ("expense_type", "Structural Engineering"): "Structural Engineering Consultants",
        ("expense_type", "Travel"): "Travel",
        ("tax_term", "NON"): "NON",
    }
    unmatched = {(u["kind"], u["name"]) for u in proposed["unmatched"]}
    assert unmatched == {("tax_term", "EXEMPT"), ("tax_term", "PA-CITY")}
    links = {(row["entity"], row["name"]): row for row in proposed["links"]}
    obrien = links[("client", "O'Brien & Sons Builders")]
    assert (obrien["action"], obrien["qbo_name"]) == ("link", "O'Brien & Sons Builders")
    warehouse = links[("project", "Warehouse Conversion - 14 Dock St")]
    assert (warehouse["action"], warehouse["qbo_name"]) == (
        "link",
        "Warehouse Conversion - 14 Dock St",
    )
    assert links[("client", "Café Lumière Hospitality")]["action"] == "create"
    assert sum(row["action"] == "link" for row in proposed["links"]) == 11

    code, out, _ = _cli(data, capsys, "map", "suggest", "--apply")
    assert code == 0 and out.startswith("Mapped 13 of 13 suggested:")
    ctx = open_context(data)
    try:
        with ctx.store.session() as session:
            mapped = {
                (line.kind, line.name): line.qbo_name
                for line in mapping_lines(session)
                if line.qbo_id is not None
            }
    finally:
        ctx.close()
    assert mapped == pairs
    assert _company(qbo) == before  # suggesting and mapping write nothing to QuickBooks

    code, out, _ = _cli(data, capsys, "map", "suggest")
    assert code == 0 and out.startswith("Suggested mappings (0):")
    assert "Already mapped, left as they are: 6 service types, 6 expense types, 1 tax term." in out


def test_refresh_and_suggest_without_a_connection(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "new"
    assert _cli(data, capsys, "import", "demo")[0] == 0
    code, out, err = _cli(data, capsys, "map", "refresh")
    assert (code, out) == (1, "")
    assert err.strip().splitlines() == [
        "factor-desktop: Not connected to QuickBooks. Connect first."
    ]
    code, out, _ = _cli(data, capsys, "map", "suggest")
    assert code == 0 and out.strip() == (
        "No QuickBooks lists have been read yet: run `factor-desktop map refresh` first."
    )
