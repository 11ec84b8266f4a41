"""QboClient transport: headers, minorversion, requestid, retries, 401 refresh, 429, logging."""

from __future__ import annotations

import json
import logging

import pytest
import requests
import responses

from factor_desktop.qbo.auth_protocol import TokenSource
from factor_desktop.qbo.client import DEFAULT_MINOR_VERSION, QboClient
from factor_desktop.qbo.errors import (
    DuplicateNameError,
    QboAuthError,
    QboParseError,
    QboServerError,
    QboThrottledError,
    QboTransportError,
    QboValidationError,
    UnsupportedOperationError,
)
from factor_desktop.qbo.ratelimit import RateLimiter
from factor_desktop.qbo.tokens import TokenManager
from tests.qbo.conftest import MakeClient
from tests.qbo.qbo_fakes import (
    ACCESS_TOKEN_1,
    ACCESS_TOKEN_2,
    COMPANY,
    FakeTime,
    FakeTokens,
    query_params,
    recording,
)

THROTTLE_XML = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?><IntuitResponse '
    'xmlns="http://schema.intuit.com/finance/v3" time="2017-07-30T22:45:22.933-07:00">'
    '<Fault type="SERVICE"><Error code="3001"><Message>message=ThrottleExceeded; '
    "errorCode=003001; statusCode=429</Message><Detail>The request limit was reached.  Try "
    "again later</Detail></Error></Fault></IntuitResponse>"
)
CUSTOMER_URL = f"{COMPANY}/customer"
LEAKED_401_FRAGMENT = "AB01601390262kxzxOlnHYdhtEVRXISU7piPqQrCmmbDN35Yjd"


def add_customer_created(rsps: responses.RequestsMock) -> None:
    recording("create/customer.yml").add_to(rsps, "POST", CUSTOMER_URL)


def add_server_error(rsps: responses.RequestsMock, url: str, status: int = 503) -> None:
    rsps.add("POST" if url == CUSTOMER_URL else "GET", url, body="upstream", status=status)


# -- headers, minorversion, requestid --------------------------------------------------------


def test_create_sends_qbo_headers_minorversion_and_the_callers_requestid(
    rsps: responses.RequestsMock, client: QboClient
) -> None:
    pair = recording("create/customer.yml")
    pair.add_to(rsps, "POST", CUSTOMER_URL)
    created = client.create("Customer", {"DisplayName": "Doe5, Jane"}, request_id="outbox-17")
    assert created["Id"] == "70"
    assert created["SyncToken"] == "0"
    sent = rsps.calls[0].request
    assert sent.headers["Accept"] == "application/json"
    assert sent.headers["Content-Type"] == "application/json"
    assert sent.headers["Authorization"] == f"Bearer {ACCESS_TOKEN_1}"
    assert json.loads(sent.body or b"") == json.loads(pair.request_body)
    assert query_params(sent.url or "") == {"minorversion": ["75"], "requestid": ["outbox-17"]}
    assert client.last_intuit_tid == pair.intuit_tid


def test_minor_version_is_chosen_in_one_place() -> None:
    assert DEFAULT_MINOR_VERSION == 75


def test_every_write_has_a_requestid_and_no_read_has_one(
    rsps: responses.RequestsMock, client: QboClient
) -> None:
    void_pair = recording("void/invoice.yml", 1)
    delete_pair = recording("delete/invoice.yml", 1)
    rsps.add("POST", CUSTOMER_URL, json={"Customer": {"Id": "1"}})
    rsps.add("POST", f"{COMPANY}/invoice", json=void_pair.json)
    rsps.add("POST", f"{COMPANY}/invoice", json=delete_pair.json)
    recording("get/id.yml").add_to(rsps, "GET", f"{COMPANY}/customer/5")
    recording("get/display_name.yml").add_to(rsps, "GET", f"{COMPANY}/query")
    rsps.add("GET", f"{COMPANY}/companyinfo/{client.realm_id}", json={"CompanyInfo": {"Id": "1"}})
    rsps.add("GET", f"{COMPANY}/preferences", json={"Preferences": {"Id": "1"}})

    client.create("Customer", {"DisplayName": "A"})
    client.update("Customer", {"Id": "1", "SyncToken": "0", "DisplayName": "B"})
    client.void("Invoice", "264", "0")
    client.delete("Invoice", "266", "0")
    client.read("Customer", "5")
    client.query("SELECT * FROM Customer WHERE DisplayName = 'Amy\\'s Bird Sanctuary'")
    client.company_info()
    client.preferences()

    for call in rsps.calls:
        params = query_params(call.request.url or "")
        assert params["minorversion"] == ["75"]
        if call.request.method == "POST":
            (request_id,) = params["requestid"]
            assert len(request_id) == 36  # a generated uuid4
        else:
            assert "requestid" not in params


def test_update_is_sparse_by_default_and_full_on_request(
    rsps: responses.RequestsMock, client: QboClient
) -> None:
    pair = recording("update/customer.yml", 1)
    pair.add_to(rsps, "POST", CUSTOMER_URL)
    pair.add_to(rsps, "POST", CUSTOMER_URL)
    payload = json.loads(pair.request_body)
    updated = client.update("Customer", payload)
    assert updated["SyncToken"] == "1"
    client.update("Customer", payload, sparse=False)
    first, second = (json.loads(call.request.body or b"") for call in rsps.calls)
    assert first == {**payload, "sparse": True}
    assert second == {**payload, "sparse": False}


def test_update_without_sync_token_is_refused_before_sending(client: QboClient) -> None:
    with pytest.raises(ValueError, match="SyncToken"):
        client.update("Customer", {"Id": "1", "DisplayName": "X"})


def test_void_invoice_uses_operation_void(rsps: responses.RequestsMock, client: QboClient) -> None:
    pair = recording("void/invoice.yml", 1)
    rsps.add("POST", f"{COMPANY}/invoice", json=pair.json)
    voided = client.void("Invoice", "264", "0")
    assert voided["PrivateNote"] == "Voided"
    sent = rsps.calls[0].request
    assert query_params(sent.url or "")["operation"] == ["void"]
    assert "include" not in query_params(sent.url or "")
    assert json.loads(sent.body or b"") == json.loads(pair.request_body)


@pytest.mark.parametrize("entity", ["Payment", "SalesReceipt", "BillPayment"])
def test_void_of_payments_and_receipts_is_a_sparse_update_with_include_void(
    rsps: responses.RequestsMock, client: QboClient, entity: str
) -> None:
    rsps.add("POST", f"{COMPANY}/{entity.lower()}", json={entity: {"Id": "9", "SyncToken": "3"}})
    client.void(entity, "9", "2", request_id="void-9")
    sent = rsps.calls[0].request
    params = query_params(sent.url or "")
    assert params["operation"] == ["update"]
    assert params["include"] == ["void"]
    assert params["requestid"] == ["void-9"]
    assert json.loads(sent.body or b"") == {"Id": "9", "SyncToken": "2", "sparse": True}


def test_void_of_an_entity_qbo_cannot_void_is_refused(client: QboClient) -> None:
    with pytest.raises(ValueError, match="cannot void a Bill"):
        client.void("Bill", "1", "0")


def test_delete_returns_the_deleted_stub(rsps: responses.RequestsMock, client: QboClient) -> None:
    pair = recording("delete/invoice.yml", 1)
    rsps.add("POST", f"{COMPANY}/invoice", json=pair.json)
    stub = client.delete("Invoice", "266", "0")
    assert stub == {"domain": "QBO", "status": "Deleted", "Id": "266"}
    sent = rsps.calls[0].request
    assert query_params(sent.url or "")["operation"] == ["delete"]
    assert json.loads(sent.body or b"") == {"Id": "266", "SyncToken": "0"}


def test_entity_names_must_be_spelled_as_qbo_does(client: QboClient) -> None:
    with pytest.raises(ValueError, match="entity name"):
        client.read("customer", "1")


def test_caller_request_ids_are_checked(client: QboClient) -> None:
    with pytest.raises(ValueError, match="requestid"):
        client.create("Customer", {"DisplayName": "A"}, request_id="x" * 51)
    with pytest.raises(ValueError, match="requestid"):
        client.create("Customer", {"DisplayName": "A"}, request_id="has space")


# -- validation faults are raised at once ----------------------------------------------------


def test_duplicate_name_is_raised_without_retry(
    rsps: responses.RequestsMock, client: QboClient, fake_time: FakeTime
) -> None:
    recording("error/validation.yml").add_to(rsps, "POST", CUSTOMER_URL)
    with pytest.raises(DuplicateNameError) as caught:
        client.create("Customer", {"DisplayName": "Weiskopf Consulting"})
    assert caught.value.intuit_tid == "1-5f733d9a-1d4e21aa217ba43177113df4"
    assert client.request_count == 1
    assert fake_time.sleeps == []
    assert client.last_intuit_tid == "1-5f733d9a-1d4e21aa217ba43177113df4"


def test_unsupported_property_is_raised(rsps: responses.RequestsMock, client: QboClient) -> None:
    recording("error/400_json.yml").add_to(rsps, "POST", f"{COMPANY}/invoice")
    with pytest.raises(QboValidationError) as caught:
        client.create("Invoice", {"BadJson": True})
    assert caught.value.code == "2010"


def test_unknown_path_and_invalid_id_from_the_recording(
    rsps: responses.RequestsMock, client: QboClient, fake_time: FakeTime
) -> None:
    recording("error/500.yml", 0).add_to(rsps, "GET", f"{COMPANY}/customer/1%2F5")
    recording("error/500.yml", 1).add_to(rsps, "GET", f"{COMPANY}/customer/1.5")
    with pytest.raises(UnsupportedOperationError) as unsupported:
        client.read("Customer", "1/5")
    with pytest.raises(QboValidationError) as invalid:
        client.read("Customer", "1.5")
    assert unsupported.value.code == "500"
    assert (invalid.value.code, invalid.value.element) == ("2030", "Id")
    assert client.request_count == 2  # code 500 on HTTP 400 is not retried
    assert fake_time.sleeps == []


# -- retries ---------------------------------------------------------------------------------


def test_5xx_is_retried_with_backoff_then_succeeds(
    rsps: responses.RequestsMock, client: QboClient, fake_time: FakeTime
) -> None:
    rsps.add("POST", CUSTOMER_URL, body="busy", status=503)
    rsps.add("POST", CUSTOMER_URL, body="bad gateway", status=502)
    add_customer_created(rsps)
    created = client.create("Customer", {"DisplayName": "Doe5, Jane"})
    assert created["Id"] == "70"
    # Equal jitter with the injected 0.5: half of 1 s + a quarter, then of 2 s.
    assert fake_time.sleeps == [0.75, 1.5]
    request_ids = {query_params(call.request.url or "")["requestid"][0] for call in rsps.calls}
    assert len(request_ids) == 1
    assert client.request_count == 3


def test_5xx_exhaustion_raises_server_error(
    rsps: responses.RequestsMock, client: QboClient, fake_time: FakeTime
) -> None:
    for _ in range(5):
        rsps.add("GET", f"{COMPANY}/customer/1", body="oops", status=500)
    with pytest.raises(QboServerError) as caught:
        client.read("Customer", "1")
    assert caught.value.http_status == 500
    assert client.request_count == 5  # the first try and max_retries=4 retries
    assert fake_time.sleeps == [0.75, 1.5, 3.0, 6.0]


def test_backoff_is_capped_and_jittered(make_client: MakeClient, fake_time: FakeTime) -> None:
    client = make_client(jitter=lambda: 0.0, max_retries=8)
    assert [client._backoff(n) for n in (1, 2, 6, 7, 8)] == [0.5, 1.0, 15.0, 15.0, 15.0]
    client = make_client(jitter=lambda: 0.999)
    assert 29.9 < client._backoff(10) <= 30.0


def test_dropped_connection_on_create_is_retried_with_the_same_requestid(
    rsps: responses.RequestsMock, client: QboClient
) -> None:
    rsps.add("POST", CUSTOMER_URL, body=requests.exceptions.ConnectionError("reset by peer"))
    rsps.add("POST", CUSTOMER_URL, body=requests.exceptions.ReadTimeout("read timed out"))
    add_customer_created(rsps)
    client.create("Customer", {"DisplayName": "Doe5, Jane"}, request_id="outbox-42")
    urls = [call.request.url or "" for call in rsps.calls]
    assert len(urls) == 3
    assert all(query_params(url)["requestid"] == ["outbox-42"] for url in urls)
    assert len(set(urls)) == 1  # byte-for-byte the same query string every time
    bodies = {call.request.body for call in rsps.calls}
    assert len(bodies) == 1


def test_generated_requestid_is_also_kept_across_retries(
    rsps: responses.RequestsMock, client: QboClient
) -> None:
    rsps.add("POST", CUSTOMER_URL, body=requests.exceptions.ConnectionError("dropped"))
    add_customer_created(rsps)
    client.create("Customer", {"DisplayName": "Doe5, Jane"})
    first, second = (query_params(call.request.url or "")["requestid"] for call in rsps.calls)
    assert first == second


def test_transport_exhaustion_raises_transport_error(
    rsps: responses.RequestsMock, make_client: MakeClient
) -> None:
    client = make_client(max_retries=1)
    rsps.add("GET", f"{COMPANY}/customer/1", body=requests.exceptions.ConnectTimeout("slow"))
    rsps.add("GET", f"{COMPANY}/customer/1", body=requests.exceptions.ConnectTimeout("slow"))
    with pytest.raises(QboTransportError) as caught:
        client.read("Customer", "1")
    assert caught.value.http_status is None
    assert caught.value.retryable
    assert client.request_count == 2
    # The requests exception holds the prepared request (and its Authorization header): it must
    # not travel with the error.
    assert caught.value.__cause__ is None
    assert caught.value.__context__ is None


def test_non_transient_request_errors_are_not_retried(
    rsps: responses.RequestsMock, client: QboClient
) -> None:
    rsps.add("GET", f"{COMPANY}/customer/1", body=requests.exceptions.InvalidHeader("bad"))
    with pytest.raises(QboTransportError):
        client.read("Customer", "1")
    assert client.request_count == 1


def test_throttled_429_xml_waits_60_seconds_then_retries(
    rsps: responses.RequestsMock, client: QboClient, fake_time: FakeTime
) -> None:
    rsps.add("GET", f"{COMPANY}/query", body=THROTTLE_XML, status=429, content_type="text/xml")
    recording("get/display_name.yml").add_to(rsps, "GET", f"{COMPANY}/query")
    rows = client.query("SELECT * FROM Customer WHERE DisplayName = 'Amy\\'s Bird Sanctuary'")
    assert rows[0]["Id"] == "1"
    assert fake_time.sleeps == [60.0]


def test_with_a_limiter_a_429_pauses_the_limiter_instead_of_a_minute(
    rsps: responses.RequestsMock, make_client: MakeClient, fake_time: FakeTime
) -> None:
    limiter = RateLimiter(clock=fake_time.clock, sleep=fake_time.sleep)
    client = make_client(rate_limiter=limiter)
    rsps.add("GET", f"{COMPANY}/preferences", body=THROTTLE_XML, status=429)
    rsps.add("GET", f"{COMPANY}/preferences", json={"Preferences": {"Id": "1"}})
    client.preferences()
    assert fake_time.sleeps == [1.0]  # the limiter's pause: QuickBooks' second has turned over
    assert limiter.stats().throttled == 1
    assert client.request_count == 2


def test_retry_after_header_is_honoured(
    rsps: responses.RequestsMock, client: QboClient, fake_time: FakeTime
) -> None:
    rsps.add("POST", CUSTOMER_URL, body=THROTTLE_XML, status=429, headers={"Retry-After": "7"})
    add_customer_created(rsps)
    client.create("Customer", {"DisplayName": "Doe5, Jane"}, request_id="r-1")
    assert fake_time.sleeps == [7.0]
    assert {query_params(c.request.url or "")["requestid"][0] for c in rsps.calls} == {"r-1"}


def test_throttling_is_bounded(
    rsps: responses.RequestsMock, make_client: MakeClient, fake_time: FakeTime
) -> None:
    client = make_client(max_retries=2)
    for _ in range(3):
        rsps.add("GET", f"{COMPANY}/preferences", body=THROTTLE_XML, status=429)
    with pytest.raises(QboThrottledError) as caught:
        client.preferences()
    assert caught.value.code == "3001"
    assert caught.value.retry_after == 60
    assert fake_time.sleeps == [60.0, 60.0]


# -- 401 -------------------------------------------------------------------------------------


def test_401_refreshes_once_then_succeeds(
    rsps: responses.RequestsMock, client: QboClient, tokens: FakeTokens
) -> None:
    recording("error/401.yml").add_to(rsps, "GET", f"{COMPANY}/customer/1")
    recording("get/id.yml").add_to(rsps, "GET", f"{COMPANY}/customer/1")
    customer = client.read("Customer", "1")
    assert customer["Id"] == "5"
    assert tokens.refreshed_after == [ACCESS_TOKEN_1]
    first, second = (call.request.headers["Authorization"] for call in rsps.calls)
    assert (first, second) == (f"Bearer {ACCESS_TOKEN_1}", f"Bearer {ACCESS_TOKEN_2}")


def test_401_twice_raises_auth_error_after_one_refresh(
    rsps: responses.RequestsMock, client: QboClient, tokens: FakeTokens, fake_time: FakeTime
) -> None:
    pair = recording("error/401.yml")
    pair.add_to(rsps, "GET", f"{COMPANY}/customer/1")
    pair.add_to(rsps, "GET", f"{COMPANY}/customer/1")
    with pytest.raises(QboAuthError) as caught:
        client.read("Customer", "1")
    error = caught.value
    assert (error.code, error.fault_type, error.http_status) == ("3200", "AUTHENTICATION", 401)
    assert error.intuit_tid == pair.intuit_tid
    assert tokens.refreshed_after == [ACCESS_TOKEN_1]
    assert client.request_count == 2
    assert fake_time.sleeps == []
    assert LEAKED_401_FRAGMENT not in str(error)


def test_refresh_failure_propagates(rsps: responses.RequestsMock, make_client: MakeClient) -> None:
    tokens = FakeTokens(refresh_fails=True)
    client = make_client()
    client._tokens = tokens
    recording("error/401.yml").add_to(rsps, "GET", f"{COMPANY}/customer/1")
    with pytest.raises(QboAuthError, match="must be renewed"):
        client.read("Customer", "1")
    assert client.request_count == 1


def test_401_refresh_does_not_use_up_the_retry_budget(
    rsps: responses.RequestsMock, make_client: MakeClient, tokens: FakeTokens
) -> None:
    client = make_client(max_retries=1)
    rsps.add("GET", f"{COMPANY}/customer/1", body="busy", status=503)
    recording("error/401.yml").add_to(rsps, "GET", f"{COMPANY}/customer/1")
    recording("get/id.yml").add_to(rsps, "GET", f"{COMPANY}/customer/1")
    assert client.read("Customer", "1")["Id"] == "5"
    assert len(tokens.refreshed_after) == 1


# -- no token anywhere -----------------------------------------------------------------------


def test_no_token_in_any_exception_or_log_record(
    rsps: responses.RequestsMock, make_client: MakeClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="factor_desktop.qbo")
    client = make_client(max_retries=1)
    url = f"{COMPANY}/customer/1"
    pair = recording("error/401.yml")
    errors: list[Exception] = []
    # 401 twice; a dropped connection whose text quotes the header; 5xx exhaustion; a fault.
    pair.add_to(rsps, "GET", url)
    pair.add_to(rsps, "GET", url)
    leaky = requests.exceptions.ConnectionError(f"Authorization: Bearer {ACCESS_TOKEN_1} dropped")
    rsps.add("GET", url, body=leaky)
    rsps.add("GET", url, body=leaky)
    rsps.add("GET", url, body=f"token {ACCESS_TOKEN_1}", status=500)
    rsps.add("GET", url, body=f"token {ACCESS_TOKEN_1}", status=500)
    rsps.add("GET", url, body=f"Bearer {ACCESS_TOKEN_1}", status=404)
    for _ in range(4):
        with pytest.raises(Exception) as caught:
            client.read("Customer", "1")
        errors.append(caught.value)
    expected = [QboAuthError, QboTransportError, QboServerError, QboParseError]
    assert [type(e) for e in errors] == expected
    texts = [str(e) for e in errors] + [repr(e) for e in errors]
    texts += [e.detail for e in errors if isinstance(e, QboAuthError)]
    texts += [record.getMessage() for record in caplog.records]
    assert caplog.records, "requests are logged"
    for text in texts:
        for secret in (ACCESS_TOKEN_1, ACCESS_TOKEN_2, LEAKED_401_FRAGMENT, "AB0160"):
            assert secret not in text, text


def test_requests_are_logged_at_debug_with_path_status_tid_and_duration(
    rsps: responses.RequestsMock, client: QboClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="factor_desktop.qbo")
    pair = recording("get/id.yml")
    pair.add_to(rsps, "GET", f"{COMPANY}/customer/5")
    client.read("Customer", "5")
    (record,) = [r for r in caplog.records if r.name == "factor_desktop.qbo"]
    assert record.levelno == logging.DEBUG
    assert record.getMessage() == f"QBO GET /customer/5 -> 200 intuit_tid={pair.intuit_tid} 0 ms"


# -- counters and pacing ---------------------------------------------------------------------


def test_request_count_includes_retries_and_counts_per_endpoint(
    rsps: responses.RequestsMock, client: QboClient
) -> None:
    rsps.add("POST", CUSTOMER_URL, body="busy", status=503)
    add_customer_created(rsps)
    recording("get/id.yml").add_to(rsps, "GET", f"{COMPANY}/customer/5")
    recording("all/customers.yml", 0).add_to(rsps, "GET", f"{COMPANY}/query")
    client.create("Customer", {"DisplayName": "Doe5, Jane"})
    client.read("Customer", "5")
    client.query("SELECT COUNT(*) FROM Customer")
    assert client.request_count == 4
    assert client.requests_by_endpoint == {"POST customer": 2, "GET customer": 1, "GET query": 1}


def test_rate_limiter_makes_the_tenth_request_in_a_second_wait(
    rsps: responses.RequestsMock, make_client: MakeClient, fake_time: FakeTime
) -> None:
    limiter = RateLimiter(clock=fake_time.clock, sleep=fake_time.sleep)
    client = make_client(rate_limiter=limiter)
    for _ in range(10):
        rsps.add("GET", f"{COMPANY}/preferences", json={"Preferences": {"Id": "1"}})
    started = fake_time.now
    for _ in range(10):
        client.preferences()
    assert fake_time.sleeps == [1.0]
    assert fake_time.now - started == 1.0
    assert limiter.stats().requests_last_minute == 10
    assert client.request_count == 10


def test_a_client_made_session_is_closed_on_exit(tokens: FakeTokens) -> None:
    with QboClient("https://qbo.test/", "123", tokens) as client:
        assert client._company_url == "https://qbo.test/v3/company/123"
    with pytest.raises(ValueError, match="realm"):
        QboClient("https://qbo.test", "12/3", tokens)


def test_the_token_manager_is_a_token_source() -> None:
    assert issubclass(TokenManager, TokenSource)
    assert isinstance(FakeTokens(), TokenSource)
