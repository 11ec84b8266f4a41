"""Change data capture, batch, and requestid replay."""

from __future__ import annotations

from datetime import timedelta

from factor_desktop.sandbox import SandboxServer
from factor_desktop.sandbox.store import Record

from .conftest import Api, invoice_body, new_customer


def cdc(api: Api, entities: str, since: str) -> dict[str, object]:
    body: dict[str, object] = api.ok(
        api.get("cdc", params={"entities": entities, "changedSince": since})
    )
    return body


def test_cdc_returns_changes_and_deleted_stubs(api: Api, qbo: SandboxServer) -> None:
    start = qbo.clock.now()
    qbo.clock.advance(60)
    customer = new_customer(api, "CDC Customer")
    invoice = api.create("Invoice", invoice_body(customer["Id"], 10.0))
    doomed = api.create("Invoice", invoice_body(customer["Id"], 20.0))
    api.post("invoice", {"Id": doomed["Id"], "SyncToken": "0"}, params={"operation": "delete"})
    body = cdc(api, "customer,Invoice", start.isoformat())
    assert set(body) == {"CDCResponse", "time"}
    responses = body["CDCResponse"][0]["QueryResponse"]  # type: ignore[index]
    by_entity = {
        next(k for k in r if k not in ("startPosition", "maxResults")): r for r in responses
    }
    assert [c["Id"] for c in by_entity["Customer"]["Customer"]] == [customer["Id"]]
    invoices = {i["Id"]: i for i in by_entity["Invoice"]["Invoice"]}
    assert invoices[invoice["Id"]]["TotalAmt"] == 10.0
    stub = invoices[doomed["Id"]]
    assert set(stub) == {"domain", "status", "Id", "MetaData"} and stub["status"] == "Deleted"
    assert set(stub["MetaData"]) == {"LastUpdatedTime"}
    assert by_entity["Invoice"]["startPosition"] == 1
    assert by_entity["Invoice"]["maxResults"] == 2
    later = qbo.clock.now() + timedelta(seconds=5)
    assert cdc(api, "Customer", later.isoformat())["CDCResponse"] == [{"QueryResponse": [{}]}]


def test_cdc_date_formats(api: Api, qbo: SandboxServer) -> None:
    new_customer(api, "Date Format")
    today = qbo.clock.today()
    for since in (
        today.isoformat(),
        f"{today.isoformat()}T00:00:00",
        f"{today.isoformat()}T00:00:00-07:00",
        f"{today.isoformat()}T00:00:00Z",
    ):
        responses = cdc(api, "Customer", since)["CDCResponse"][0]["QueryResponse"]  # type: ignore[index]
        assert responses[0]["Customer"], since


def test_cdc_refuses_old_dates_unsupported_entities_and_huge_answers(
    api: Api, qbo: SandboxServer
) -> None:
    old = (qbo.clock.now() - timedelta(days=31)).isoformat()
    error = api.fault(api.get("cdc", params={"entities": "Customer", "changedSince": old}))
    assert error["code"] == "500" and error["Message"] == "Unsupported Operation"
    assert "older than fixed days is not supported" in error["Detail"]
    since = qbo.clock.now().isoformat()
    error = api.fault(api.get("cdc", params={"entities": "TaxCode", "changedSince": since}))
    assert error["code"] == "500"
    assert api.fault(api.get("cdc", params={"changedSince": since}))["code"] == "2020"
    store = qbo.sandbox.store
    qbo.clock.advance(1)
    since = qbo.clock.now().isoformat()
    for number in range(1001):
        term_id = str(1000 + number)
        store.put(
            qbo.realm_id,
            Record(
                "Term",
                term_id,
                {"Id": term_id, "Name": f"T{number}"},
                updated=qbo.clock.timestamp(),
            ),
        )
    error = api.fault(api.get("cdc", params={"entities": "Term", "changedSince": since}))
    assert error["code"] == "500"
    assert "query for shorter time periods" in error["Detail"]


def test_batch_runs_items_in_order_with_faults(api: Api) -> None:
    customer = new_customer(api, "Batch Customer")
    stale = new_customer(api, "Batch Stale")
    api.create("Customer", {"Id": stale["Id"], "SyncToken": "0", "sparse": True, "Notes": "x"})
    invoice = api.create("Invoice", invoice_body(customer["Id"], 50.0))
    other = api.create("Invoice", invoice_body(customer["Id"], 5.0))
    response = api.post(
        "batch",
        {
            "BatchItemRequest": [
                {
                    "bId": "bid1",
                    "operation": "create",
                    "Vendor": {"DisplayName": "Boraski Family Store"},
                },
                {"bId": "bid2", "operation": "delete", "Invoice": {"Id": "9129", "SyncToken": "0"}},
                {
                    "bId": "bid3",
                    "operation": "update",
                    "Customer": {"sparse": True, "Id": stale["Id"], "SyncToken": "0", "Notes": "y"},
                },
                {"bId": "bid4", "Query": "select * from Invoice where TotalAmt > '30.00'"},
                {
                    "bId": "bid5",
                    "operation": "update",
                    "optionsData": "void",
                    "Invoice": {"Id": invoice["Id"], "SyncToken": "0"},
                },
                {
                    "bId": "bid6",
                    "operation": "void",
                    "Invoice": {"Id": other["Id"], "SyncToken": "0"},
                },
                {
                    "bId": "bid7",
                    "operation": "create",
                    "Vendor": {"DisplayName": "Boraski Family Store"},
                },
            ]
        },
    )
    assert response.status_code == 200
    items = response.json()["BatchItemResponse"]
    assert [item["bId"] for item in items] == [f"bid{n}" for n in range(1, 8)]
    assert items[0]["Vendor"]["DisplayName"] == "Boraski Family Store"
    assert items[1]["Fault"]["Error"][0]["code"] == "610"
    assert items[1]["Fault"]["type"] == "ValidationFault"
    assert items[2]["Fault"]["Error"][0]["code"] == "5010"
    assert items[3]["QueryResponse"]["Invoice"][0]["Id"] == invoice["Id"]
    assert items[4]["Invoice"]["PrivateNote"] == "Voided"
    assert items[4]["Invoice"]["TotalAmt"] == 0
    assert items[5]["Invoice"]["Id"] == other["Id"] and items[5]["Invoice"]["Balance"] == 0
    assert items[6]["Fault"]["Error"][0]["code"] == "6240"


def test_batch_size_limit(api: Api) -> None:
    items = [{"bId": str(n), "Query": "select * from Customer"} for n in range(31)]
    error = api.fault(api.post("batch", {"BatchItemRequest": items}))
    assert error["code"] == "1040" and error["Message"] == "Batch size exceeds allowed limit"
    assert api.ok(api.post("batch", {"BatchItemRequest": items[:30]}))


def test_requestid_replays_and_writes_nothing(api: Api) -> None:
    body = {"DisplayName": "Idempotent Inc"}
    first = api.post("customer", body, params={"requestid": "req-1"})
    second = api.post("customer", body, params={"requestid": "req-1"})
    assert first.status_code == second.status_code == 200
    assert first.content == second.content
    assert first.headers["intuit_tid"] != second.headers["intuit_tid"]
    rows = api.query("select count(*) from Customer where DisplayName = 'Idempotent Inc'")
    assert rows == {"totalCount": 1}
    failed = api.post("customer", body, params={"requestid": "req-2"})
    assert failed.status_code == 400
    replay = api.post("customer", {"DisplayName": "Something Else"}, params={"requestid": "req-2"})
    assert replay.status_code == 400 and replay.content == failed.content
    assert api.query("select count(*) from Customer where DisplayName = 'Something Else'") == {
        "totalCount": 0
    }
    batch = {
        "BatchItemRequest": [
            {"bId": "1", "operation": "create", "Customer": {"DisplayName": "Batch Once"}}
        ]
    }
    one = api.post("batch", batch, params={"requestid": "b-1"})
    two = api.post("batch", batch, params={"requestid": "b-1"})
    assert one.content == two.content
    assert api.query("select count(*) from Customer where DisplayName = 'Batch Once'") == {
        "totalCount": 1
    }


def test_query_endpoint_get_post_and_faults(api: Api) -> None:
    new_customer(api, "Amy's Bird Sanctuary")
    new_customer(api, "Bob & Sons")
    rows = api.query("select * from Customer where DisplayName = 'Amy\\'s Bird Sanctuary'")
    assert rows["Customer"][0]["DisplayName"] == "Amy's Bird Sanctuary"
    assert rows["startPosition"] == 1 and rows["maxResults"] == 1
    posted = api.post(
        "query",
        data="select * from Customer where DisplayName like 'Bob%'",
        headers={"Content-Type": "application/text"},
    )
    assert api.ok(posted)["QueryResponse"]["Customer"][0]["DisplayName"] == "Bob & Sons"
    assert api.query("select * from Customer where DisplayName = 'Nobody'") == {}
    assert api.query("select count(*) from Customer") == {"totalCount": 2}
    error = api.fault(api.get("query", params={"query": "select * from Custmoer"}))
    assert error["code"] == "4001"
    error = api.fault(api.get("query", params={"query": "select * from Customer where"}))
    assert error["code"] == "4000" and error["Message"] == "Error parsing query"
    assert api.query("select * from Estimate") == {}
