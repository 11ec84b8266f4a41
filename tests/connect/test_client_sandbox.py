"""The QBO client against the local sandbox: the failure paths that must never duplicate a write."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

from factor_desktop.qbo.client import BatchItem, QboClient
from factor_desktop.qbo.errors import (
    DuplicateDocNumberError,
    DuplicateNameError,
    QboServerError,
    StaleObjectError,
)
from factor_desktop.qbo.query import select
from factor_desktop.sandbox import SandboxConfig, SandboxServer


@pytest.fixture
def qbo() -> Iterator[SandboxServer]:
    with SandboxServer(SandboxConfig(seed="empty", random_seed=7)) as server:
        yield server


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def client(qbo: SandboxServer, sleeps: list[float]) -> Iterator[QboClient]:
    with QboClient(
        qbo.base_url, qbo.realm_id, qbo.token_source(), sleep=sleeps.append, max_retries=3
    ) as c:
        yield c


def _customers_named(client: QboClient, name: str) -> list[dict[str, Any]]:
    return client.query(select("Customer").where("DisplayName", "=", name))


def test_a_lost_response_is_retried_with_the_same_requestid_and_writes_once(
    qbo: SandboxServer, client: QboClient
) -> None:
    qbo.set_knobs(drop_after_commit_rate=1.0)  # every write commits, then the reply is lost
    created = client.create("Customer", {"DisplayName": "Tanaka Residence"}, request_id="rq-1")
    qbo.set_knobs(drop_after_commit_rate=0.0)
    assert created["DisplayName"] == "Tanaka Residence"
    assert client.request_count == 2  # the lost one and its replayed retry
    assert len(_customers_named(client, "Tanaka Residence")) == 1
    # The same outbox row retried much later still replays rather than writing again.
    again = client.create("Customer", {"DisplayName": "Tanaka Residence"}, request_id="rq-1")
    assert again["Id"] == created["Id"]
    assert len(_customers_named(client, "Tanaka Residence")) == 1


def test_server_errors_are_retried_then_reported(
    qbo: SandboxServer, client: QboClient, sleeps: list[float]
) -> None:
    qbo.set_knobs(fail_5xx_rate=1.0)
    with pytest.raises(QboServerError):
        client.company_info()
    assert len(sleeps) == 3 and sleeps == sorted(sleeps)  # backoff grows
    qbo.set_knobs(fail_5xx_rate=0.0)
    assert client.company_info()["CompanyName"] == qbo.company_name


def test_throttling_waits_sixty_seconds_then_goes_on(
    qbo: SandboxServer, client: QboClient, sleeps: list[float]
) -> None:
    qbo.set_knobs(burst_429=2)
    assert client.company_info()["CompanyName"] == qbo.company_name
    assert sleeps == [60.0, 60.0]


def test_qbo_rules_arrive_as_typed_errors(client: QboClient) -> None:
    customer = client.create("Customer", {"DisplayName": "Summit Ridge Winery"})
    with pytest.raises(DuplicateNameError) as dup:
        client.create("Customer", {"DisplayName": "Summit Ridge Winery"})
    assert dup.value.code == "6240" and dup.value.intuit_tid
    client.update("Customer", {"Id": customer["Id"], "SyncToken": "0", "Notes": "first"})
    with pytest.raises(StaleObjectError):
        client.update("Customer", {"Id": customer["Id"], "SyncToken": "0", "Notes": "second"})
    item = client.query(select("Item").where("Type", "=", "Service"))[0]
    line = {
        "Amount": 100,
        "DetailType": "SalesItemLineDetail",
        "SalesItemLineDetail": {"ItemRef": {"value": item["Id"]}},
    }
    invoice = {"DocNumber": "INV-0001", "CustomerRef": {"value": customer["Id"]}, "Line": [line]}
    client.create("Invoice", invoice)
    with pytest.raises(DuplicateDocNumberError, match="6140"):
        client.create("Invoice", invoice)


@pytest.mark.parametrize(
    "name",
    [
        "O'Brien & Sons Builders",
        "Café Lumière Hospitality",
        "Müller-Østergaard Residences",
        "Back\\slash Studio",
    ],
)
def test_names_with_apostrophes_ampersands_and_accents_are_found(
    client: QboClient, name: str
) -> None:
    created = client.create("Customer", {"DisplayName": name})
    found = _customers_named(client, name)
    assert [c["Id"] for c in found] == [created["Id"]]


def test_typographic_apostrophe_lookup_is_normalised(client: QboClient) -> None:
    created = client.create("Customer", {"DisplayName": "O'Hara Studio"})
    assert [c["Id"] for c in _customers_named(client, "O\u2019Hara Studio")] == [created["Id"]]


def test_paging_cdc_and_batch(qbo: SandboxServer, client: QboClient) -> None:
    since = qbo.clock.now() - timedelta(minutes=1)
    items = [
        BatchItem.create(f"b{n}", "Customer", {"DisplayName": f"Batch Client {n:02d}"})
        for n in range(35)
    ]
    results = client.batch(items)
    assert [r.bid for r in results] == [f"b{n}" for n in range(35)]
    assert all(r.ok for r in results)
    assert client.requests_by_endpoint.get("POST batch") == 2  # 30 + 5
    rows = list(client.query_all(select("Customer").order_by("Id"), page_size=10))
    assert len(rows) == 35 and len({r["Id"] for r in rows}) == 35
    assert client.count(select("Customer")) == 35
    victim = rows[0]
    client.update(
        "Customer", {"Id": victim["Id"], "SyncToken": victim["SyncToken"], "Active": False}
    )
    changes = client.cdc(["Customer"], since)
    assert len(changes["Customer"]) == 35
    assert any(c["Id"] == victim["Id"] and c["Active"] is False for c in changes["Customer"])


def test_receipt_upload_and_download_round_trip(client: QboClient) -> None:
    png = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4
    attachable = client.upload_attachment("receipt.png", png, "image/png")
    assert attachable["FileName"] == "receipt.png"
    assert client.download_attachment(attachable["Id"]) == png
