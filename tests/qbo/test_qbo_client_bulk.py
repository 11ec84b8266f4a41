"""QboClient reads and writes in bulk: queries, paging, count, CDC, batch and attachments."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from email.message import Message
from email.parser import BytesParser
from email.policy import HTTP
from typing import Any

import pytest
import requests
import responses

from factor_desktop.qbo.client import MAX_BATCH_ITEMS, BatchItem, QboClient
from factor_desktop.qbo.errors import (
    ObjectNotFoundError,
    QboAuthError,
    QboParseError,
    QboValidationError,
    StaleObjectError,
)
from factor_desktop.qbo.query import select
from tests.qbo.conftest import MakeClient
from tests.qbo.qbo_fakes import COMPANY, FakeTime, query_params, raw_query, recording

QUERY_URL = f"{COMPANY}/query"


# -- queries ---------------------------------------------------------------------------------


def test_apostrophe_lookup_sends_exactly_the_recorded_query_string(
    rsps: responses.RequestsMock, client: QboClient
) -> None:
    pair = recording("get/display_name.yml")
    pair.add_to(rsps, "GET", QUERY_URL)
    rows = client.query(select("Customer").where("DisplayName", "=", "Amy's Bird Sanctuary"))
    assert [row["DisplayName"] for row in rows] == ["Amy's Bird Sanctuary"]
    recorded_query = raw_query(pair.uri)
    assert raw_query(rsps.calls[0].request.url or "") == f"minorversion=75&{recorded_query}"


def test_ampersand_is_url_encoded_as_in_the_recording(
    rsps: responses.RequestsMock, client: QboClient
) -> None:
    pair = recording("misc/ampersand.yml")
    pair.add_to(rsps, "GET", QUERY_URL)
    rows = client.query(select("Vendor").where("DisplayName", "=", "Robertson & Associates"))
    assert rows[0]["Id"] == "49"
    sent = raw_query(rsps.calls[0].request.url or "")
    assert sent == f"minorversion=75&{raw_query(pair.uri)}"
    assert "%26" in sent
    assert query_params(rsps.calls[0].request.url or "")["query"] == [
        "SELECT * FROM Vendor WHERE DisplayName = 'Robertson & Associates'"
    ]


def test_backslash_in_a_value_reaches_qbo_escaped(
    rsps: responses.RequestsMock, client: QboClient
) -> None:
    rsps.add("GET", QUERY_URL, json={"QueryResponse": {}, "time": "2020-09-29T06:04:50-07:00"})
    assert client.query(select("Customer").where("DisplayName", "=", "Studio A\\B")) == []
    (statement,) = query_params(rsps.calls[0].request.url or "")["query"]
    assert statement == "SELECT * FROM Customer WHERE DisplayName = 'Studio A\\\\B'"
    assert "%5C%5C" in raw_query(rsps.calls[0].request.url or "")


def test_empty_query_response_is_an_empty_list(
    rsps: responses.RequestsMock, client: QboClient
) -> None:
    recording("all/alt_select.yml", 4).add_to(rsps, "GET", QUERY_URL)
    assert client.query("SELECT * FROM Customer WHERE Id IN ('5')") == []


def test_a_very_long_statement_is_posted_as_text(
    rsps: responses.RequestsMock, client: QboClient
) -> None:
    rsps.add("POST", QUERY_URL, json={"QueryResponse": {"Customer": [{"Id": "1"}]}})
    ids = [str(n) for n in range(1, 900)]
    statement = select("Customer").where("Id", "IN", ids).build()
    assert client.query(statement) == [{"Id": "1"}]
    sent = rsps.calls[0].request
    assert sent.headers["Content-Type"] == "application/text"
    assert sent.body == statement.encode()
    assert "requestid" not in query_params(sent.url or "")  # a query is not a write


def _paged_customers(total: int) -> Any:
    def reply(request: requests.PreparedRequest) -> tuple[int, dict[str, str], str]:
        statement = query_params(request.url or "")["query"][0]
        words = statement.split()
        start = int(words[words.index("STARTPOSITION") + 1])
        size = int(words[words.index("MAXRESULTS") + 1])
        ids = range(start, min(start + size, total + 1))
        rows = [{"Id": str(n), "DisplayName": f"Client {n}"} for n in ids]
        body: dict[str, Any] = {"QueryResponse": {"startPosition": start, "maxResults": len(rows)}}
        if rows:
            body["QueryResponse"]["Customer"] = rows
        return 200, {"intuit_tid": f"1-page-{start}"}, json.dumps(body)

    return reply


def test_query_all_pages_2500_rows_in_three_requests(
    rsps: responses.RequestsMock, client: QboClient
) -> None:
    rsps.add_callback("GET", QUERY_URL, callback=_paged_customers(2500))
    rows = list(client.query_all(select("Customer").order_by("Id")))
    assert len(rows) == 2500
    assert [row["Id"] for row in rows[:2]] == ["1", "2"]
    assert rows[-1]["Id"] == "2500"
    statements = [query_params(call.request.url or "")["query"][0] for call in rsps.calls]
    assert statements == [
        "SELECT * FROM Customer ORDERBY Id STARTPOSITION 1 MAXRESULTS 1000",
        "SELECT * FROM Customer ORDERBY Id STARTPOSITION 1001 MAXRESULTS 1000",
        "SELECT * FROM Customer ORDERBY Id STARTPOSITION 2001 MAXRESULTS 1000",
    ]


def test_query_all_stops_on_an_empty_page_after_an_exact_multiple(
    rsps: responses.RequestsMock, client: QboClient
) -> None:
    rsps.add_callback("GET", QUERY_URL, callback=_paged_customers(10))
    rows = list(client.query_all(select("Customer").order_by("Id"), page_size=5))
    assert len(rows) == 10
    assert len(rsps.calls) == 3


def test_count_reads_total_count(rsps: responses.RequestsMock, client: QboClient) -> None:
    pair = recording("all/employees_including_active.yml", 0)
    pair.add_to(rsps, "GET", QUERY_URL)
    query = select("Employee").where("Active", "IN", [True, False]).order_by("Id")
    assert client.count(query) == 2
    (statement,) = query_params(rsps.calls[0].request.url or "")["query"]
    assert statement == "SELECT COUNT(*) FROM Employee WHERE Active IN (true, false)"


# -- change data capture ---------------------------------------------------------------------

CDC_URL = f"{COMPANY}/cdc"


def test_cdc_parses_the_recorded_answer(rsps: responses.RequestsMock, client: QboClient) -> None:
    pair = recording("cdc/basic.yml")
    pair.add_to(rsps, "GET", CDC_URL)
    since = datetime(2011, 10, 10, 9, 0, 0, tzinfo=timezone(timedelta(hours=-7)))
    changes = client.cdc(["Estimate"], since)
    assert list(changes) == ["Estimate"]
    assert [row["Id"] for row in changes["Estimate"]] == ["48", "46", "41", "100"]
    params = query_params(rsps.calls[0].request.url or "")
    assert params == {
        "minorversion": ["75"],
        "entities": ["Estimate"],
        "changedSince": ["2011-10-10T09:00:00-07:00"],
    }
    assert "changedSince=2011-10-10T09:00:00-07:00" in raw_query(rsps.calls[0].request.url or "")


def test_cdc_keeps_deleted_stubs_and_lists_every_requested_entity(
    rsps: responses.RequestsMock, client: QboClient
) -> None:
    estimates = recording("cdc/basic.yml").json["CDCResponse"][0]["QueryResponse"][0]
    deleted = {
        "domain": "QBO",
        "status": "Deleted",
        "Id": "979",
        "MetaData": {"LastUpdatedTime": "2015-12-23T12:55:50-08:00"},
    }
    body = {
        "CDCResponse": [
            {
                "QueryResponse": [
                    {"Customer": [{"Id": "1", "DisplayName": "A"}, deleted], "startPosition": 1},
                    estimates,
                ]
            }
        ],
        "time": "2015-12-23T12:56:00.000-08:00",
    }
    rsps.add("GET", CDC_URL, json=body)
    changes = client.cdc(["Customer", "Estimate", "Payment"], datetime(2025, 1, 1, tzinfo=UTC))
    assert changes["Customer"][1] == deleted
    assert len(changes["Estimate"]) == 4
    assert changes["Payment"] == []
    assert query_params(rsps.calls[0].request.url or "")["entities"] == [
        "Customer,Estimate,Payment"
    ]


def test_cdc_with_no_changes(rsps: responses.RequestsMock, client: QboClient) -> None:
    empty = {"CDCResponse": [{"QueryResponse": [{}]}], "time": "2015-12-23T12:36:51.763-08:00"}
    rsps.add("GET", CDC_URL, json=empty)
    assert client.cdc(["Invoice", "Payment"], datetime(2025, 1, 1, tzinfo=UTC)) == {
        "Invoice": [],
        "Payment": [],
    }


def test_cdc_refuses_naive_datetimes_and_empty_lists(client: QboClient) -> None:
    with pytest.raises(ValueError, match="timezone"):
        client.cdc(["Invoice"], datetime(2025, 1, 1))
    with pytest.raises(ValueError, match="entity"):
        client.cdc([], datetime(2025, 1, 1, tzinfo=UTC))


# -- batch -----------------------------------------------------------------------------------

BATCH_URL = f"{COMPANY}/batch"


def test_batch_reproduces_the_recorded_request_and_types_each_item(
    rsps: responses.RequestsMock, client: QboClient
) -> None:
    pair = recording("batch/basic.yml")
    pair.add_to(rsps, "POST", BATCH_URL)
    items = [
        BatchItem.create("bid1", "Vendor", {"DisplayName": "Boraski Family Store"}),
        BatchItem.delete("bid2", "Invoice", "129", "0"),
        BatchItem.update(
            "bid3",
            "SalesReceipt",
            {"domain": "QBO", "Id": "11", "SyncToken": "0", "PrivateNote": "A private note."},
        ),
        BatchItem.query("bid4", "select * from SalesReceipt where TotalAmt > '300.00'"),
    ]
    results = client.batch(items)
    sent = rsps.calls[0].request
    assert json.loads(sent.body or b"") == json.loads(pair.request_body)
    (request_id,) = query_params(sent.url or "")["requestid"]
    assert len(request_id) == 36

    assert [result.bid for result in results] == ["bid1", "bid2", "bid3", "bid4"]
    created, deleted, updated, queried = results
    assert created.ok and created.data is not None
    assert created.data["Id"] == "71"
    assert isinstance(deleted.error, ObjectNotFoundError)
    assert deleted.error.code == "610"
    assert deleted.error.intuit_tid == pair.intuit_tid
    assert isinstance(updated.error, StaleObjectError)
    assert updated.error.code == "5010"
    assert queried.ok
    assert [row["Id"] for row in queried.rows] == ["17", "11"]


def test_batch_void_items_follow_qbos_per_entity_rules() -> None:
    assert BatchItem.void("v1", "Invoice", "5", "2").to_json() == {
        "bId": "v1",
        "operation": "void",
        "Invoice": {"Id": "5", "SyncToken": "2"},
    }
    assert BatchItem.void("v2", "Payment", "6", "0").to_json() == {
        "bId": "v2",
        "operation": "update",
        "optionsData": "void",
        "Payment": {"Id": "6", "SyncToken": "0", "sparse": True},
    }


def _batch_echo(request: requests.PreparedRequest) -> tuple[int, dict[str, str], str]:
    """Answer each item in reverse order; every seventh item fails with a stale object."""
    items = json.loads(request.body or b"")["BatchItemRequest"]
    answers = []
    for item in reversed(items):
        number = int(item["bId"][1:])
        if number % 7 == 0:
            fault = {
                "Error": [{"Message": "Stale Object Error", "code": "5010", "element": ""}],
                "type": "ValidationFault",
            }
            answers.append({"Fault": fault, "bId": item["bId"]})
        else:
            answers.append({"Customer": {"Id": str(1000 + number)}, "bId": item["bId"]})
    body = {"BatchItemResponse": answers, "time": "2020-09-29T08:13:20.000-07:00"}
    return 200, {"intuit_tid": "1-batch"}, json.dumps(body)


def test_batch_of_65_goes_in_three_requests_with_results_in_order(
    rsps: responses.RequestsMock, client: QboClient
) -> None:
    rsps.add_callback("POST", BATCH_URL, callback=_batch_echo)
    items = [BatchItem.create(f"b{n}", "Customer", {"DisplayName": f"C{n}"}) for n in range(65)]
    results = client.batch(items)

    sizes = [len(json.loads(c.request.body or b"")["BatchItemRequest"]) for c in rsps.calls]
    assert sizes == [MAX_BATCH_ITEMS, MAX_BATCH_ITEMS, 5]
    request_ids = [query_params(c.request.url or "")["requestid"][0] for c in rsps.calls]
    assert len(set(request_ids)) == 3
    assert all(len(rid) <= 36 for rid in request_ids)
    assert [result.bid for result in results] == [item.bid for item in items]
    for number, result in enumerate(results):
        if number % 7 == 0:
            assert isinstance(result.error, StaleObjectError)
        else:
            assert result.data == {"Id": str(1000 + number)}
    assert client.requests_by_endpoint == {"POST batch": 3}


def test_batch_request_ids_are_stable_for_the_same_items(
    rsps: responses.RequestsMock, client: QboClient
) -> None:
    rsps.add_callback("POST", BATCH_URL, callback=_batch_echo)
    items = [BatchItem.create(f"b{n}", "Customer", {"DisplayName": f"C{n}"}) for n in range(3)]
    client.batch(items)
    client.batch(items)
    changed = [*items[:2], BatchItem.create("b2", "Customer", {"DisplayName": "Other"})]
    client.batch(changed)
    first, again, other = (query_params(c.request.url or "")["requestid"][0] for c in rsps.calls)
    assert first == again
    assert other != first


def test_a_failed_chunk_keeps_earlier_results_and_marks_the_rest(
    rsps: responses.RequestsMock, client: QboClient
) -> None:
    rsps.add_callback("POST", BATCH_URL, callback=_batch_echo)
    recording("error/401.yml").add_to(rsps, "POST", BATCH_URL)
    recording("error/401.yml").add_to(rsps, "POST", BATCH_URL)
    items = [BatchItem.create(f"b{n}", "Customer", {"DisplayName": f"C{n}"}) for n in range(65)]
    results = client.batch(items)
    assert all(result.data is not None or result.error for result in results[:30])
    assert isinstance(results[1].data, dict)
    assert all(isinstance(result.error, QboAuthError) for result in results[30:])
    assert len(rsps.calls) == 3  # the third chunk was not sent


def test_missing_answers_become_item_errors(
    rsps: responses.RequestsMock, client: QboClient
) -> None:
    rsps.add("POST", BATCH_URL, json={"BatchItemResponse": [{"bId": "a", "Vendor": {"Id": "1"}}]})
    results = client.batch(
        [
            BatchItem.create("a", "Vendor", {"DisplayName": "V"}),
            BatchItem.create("b", "Vendor", {"DisplayName": "W"}),
        ]
    )
    assert results[0].data == {"Id": "1"}
    assert isinstance(results[1].error, QboParseError)


def test_an_empty_batch_sends_nothing(rsps: responses.RequestsMock, client: QboClient) -> None:
    assert client.batch([]) == []
    assert client.request_count == 0


def test_invalid_batch_items_are_refused(client: QboClient) -> None:
    with pytest.raises(ValueError, match="bId"):
        client.batch([BatchItem.query("much-too-long-bid", "select * from Vendor")])
    with pytest.raises(ValueError, match="twice"):
        client.batch([BatchItem.query("a", "select * from Vendor")] * 2)
    with pytest.raises(ValueError, match="SyncToken"):
        BatchItem.update("a", "Vendor", {"Id": "1"})


# -- attachments -----------------------------------------------------------------------------

UPLOAD_URL = f"{COMPANY}/upload"


def _multipart_parts(request: requests.PreparedRequest) -> list[Message]:
    head = f"Content-Type: {request.headers['Content-Type']}\r\n\r\n".encode()
    body = request.body if isinstance(request.body, bytes) else (request.body or "").encode()
    message = BytesParser(policy=HTTP).parsebytes(head + body)
    return list(message.iter_parts())


def _payload(part: Message) -> bytes:
    data = part.get_payload(decode=True)
    assert isinstance(data, bytes)
    return data


def _recorded_upload() -> tuple[dict[str, Any], bytes]:
    """The metadata JSON and the file bytes sent in the recorded upload."""
    body = recording("attachment/create_for_invoice.yml").request_body
    metadata_start = body.index('{"AttachableRef"')
    metadata = json.loads(body[metadata_start : body.index("\r\n", metadata_start)])
    content_start = body.index("<?xml")
    content = body[content_start : body.index("\r\n-------------RubyMultipartPost", content_start)]
    return metadata, content.encode()


def test_upload_sends_the_recorded_multipart_shape(
    rsps: responses.RequestsMock, client: QboClient
) -> None:
    pair = recording("attachment/create_for_invoice.yml")
    pair.add_to(rsps, "POST", UPLOAD_URL)
    metadata, content = _recorded_upload()
    attachable = client.upload_attachment(
        "no_detail.xml", content, "text/xml", attach_to=("Invoice", "75"), request_id="att-75"
    )
    assert attachable["Id"] == "5000000000000503624"
    assert attachable["AttachableRef"][0]["EntityRef"] == {"value": "75", "type": "Invoice"}

    sent = rsps.calls[0].request
    assert sent.headers["Content-Type"].startswith("multipart/form-data; boundary=")
    assert sent.headers["Authorization"].startswith("Bearer ")
    assert query_params(sent.url or "")["requestid"] == ["att-75"]
    meta_part, file_part = _multipart_parts(sent)
    assert meta_part.get_param("name", header="content-disposition") == "file_metadata_01"
    assert meta_part.get_content_type() == "application/json"
    assert json.loads(_payload(meta_part)) == metadata
    assert file_part.get_param("name", header="content-disposition") == "file_content_01"
    assert file_part.get_filename() == "no_detail.xml"
    assert file_part.get_content_type() == "text/xml"
    assert _payload(file_part) == content


def test_upload_fault_in_a_200_is_raised(rsps: responses.RequestsMock, client: QboClient) -> None:
    pair = recording("attachment/error_estimate.yml")
    pair.add_to(rsps, "POST", UPLOAD_URL)
    with pytest.raises(QboValidationError) as caught:
        client.upload_attachment("no_detail.xml", b"<x/>", "text/xml", ("Estimate", "75"))
    assert caught.value.code == "6000"
    assert caught.value.intuit_tid == pair.intuit_tid
    assert caught.value.http_status == 200
    assert client.request_count == 1


def test_upload_is_retried_with_the_same_requestid(
    rsps: responses.RequestsMock, client: QboClient, fake_time: FakeTime
) -> None:
    rsps.add("POST", UPLOAD_URL, body=requests.exceptions.ConnectionError("dropped"))
    recording("attachment/create_for_invoice.yml").add_to(rsps, "POST", UPLOAD_URL)
    client.upload_attachment("receipt.pdf", b"%PDF-1.4", "application/pdf")
    first, second = (query_params(c.request.url or "")["requestid"] for c in rsps.calls)
    assert first == second
    assert len(fake_time.sleeps) == 1
    metadata = json.loads(_payload(_multipart_parts(rsps.calls[1].request)[0]))
    assert metadata == {"FileName": "receipt.pdf", "ContentType": "application/pdf"}


def _temporary_link() -> str:
    link: str = recording("attachment/read_attachment.yml").json["Attachable"]["TempDownloadUri"]
    return link


def test_download_follows_the_temporary_link_without_the_token(
    rsps: responses.RequestsMock, make_client: MakeClient
) -> None:
    session = requests.Session()
    session.headers["Authorization"] = "Bearer should-never-reach-s3"
    client = make_client(session=session)
    link = _temporary_link()
    rsps.add("GET", f"{COMPANY}/download/5000000000000503624", body=link, content_type="text/plain")
    rsps.add("GET", link.split("?")[0], body=b"<file/>", content_type="text/xml")
    assert client.download_attachment("5000000000000503624") == b"<file/>"
    api_call, file_call = rsps.calls
    assert api_call.request.headers["Authorization"].startswith("Bearer eyJ")
    assert "minorversion=75" in (api_call.request.url or "")
    assert file_call.request.url == link
    assert "Authorization" not in file_call.request.headers
    assert client.requests_by_endpoint == {"GET download": 1, "GET download-link": 1}
    session.close()


def test_download_from_an_attachable_uses_its_temporary_link(
    rsps: responses.RequestsMock, client: QboClient
) -> None:
    attachable = recording("attachment/read_attachment.yml").json["Attachable"]
    rsps.add("GET", _temporary_link().split("?")[0], body=b"<file/>")
    assert client.download_attachable(attachable) == b"<file/>"
    assert client.request_count == 1
    assert "Authorization" not in rsps.calls[0].request.headers


def test_an_expired_temporary_link_is_replaced_by_a_fresh_one(
    rsps: responses.RequestsMock, client: QboClient
) -> None:
    attachable = recording("attachment/read_attachment.yml").json["Attachable"]
    stale = _temporary_link().split("?")[0]
    fresh = (
        "https://intuit-qbo-prod-23.s3.amazonaws.com/realm/attachments/fresh.xml?X-Amz-Signature=ab"
    )
    rsps.add("GET", stale, body="<Error><Code>AccessDenied</Code></Error>", status=403)
    rsps.add("GET", f"{COMPANY}/download/5000000000000503624", body=fresh)
    rsps.add("GET", fresh.split("?")[0], body=b"fresh bytes")
    assert client.download_attachable(attachable) == b"fresh bytes"


def test_download_link_5xx_is_retried(
    rsps: responses.RequestsMock, client: QboClient, fake_time: FakeTime
) -> None:
    link = _temporary_link().split("?")[0]
    rsps.add("GET", link, body="slow down", status=503)
    rsps.add("GET", link, body=b"bytes")
    assert client.download_attachable({"TempDownloadUri": _temporary_link()}) == b"bytes"
    assert fake_time.sleeps == [0.75]


def test_download_answer_that_is_not_a_link_is_a_parse_error(
    rsps: responses.RequestsMock, client: QboClient
) -> None:
    rsps.add("GET", f"{COMPANY}/download/1", body="not a link")
    with pytest.raises(QboParseError):
        client.download_attachment("1")
