"""Every fault shape QBO sends, parsed into the right typed error (bodies from real recordings)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest
import requests

from factor_desktop.qbo.errors import (
    DEFAULT_THROTTLE_WAIT_SECONDS,
    DuplicateDocNumberError,
    DuplicateNameError,
    FaultDetail,
    InvalidReferenceError,
    ObjectNotFoundError,
    QboAuthError,
    QboError,
    QboParseError,
    QboServerError,
    QboThrottledError,
    QboTransportError,
    QboValidationError,
    StaleObjectError,
    UnsupportedOperationError,
    from_response,
    item_error,
    redact,
    retry_after_seconds,
)
from tests.qbo.qbo_fakes import ACCESS_TOKEN_1, Recorded, recording

# Reference §9: the 429 body is XML although JSON was asked for.
THROTTLE_XML = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?><IntuitResponse '
    'xmlns="http://schema.intuit.com/finance/v3" time="2017-07-30T22:45:22.933-07:00">'
    '<Fault type="SERVICE"><Error code="3001"><Message>message=ThrottleExceeded; '
    "errorCode=003001; statusCode=429</Message><Detail>The request limit was reached.  Try "
    "again later</Detail></Error></Fault></IntuitResponse>"
)
# Reference §3.5: duplicate DocNumber.
DUPLICATE_DOC_NUMBER = {
    "Fault": {
        "Error": [
            {
                "Message": "Duplicate Document Number Error",
                "Detail": "Duplicate Document Number Error : You must specify a different "
                "number. This number has already been used. DocNumber=O0010714 is assigned to "
                "TxnType=Invoice with TxnId=45823",
                "code": "6140",
                "element": "",
            }
        ],
        "type": "ValidationFault",
    },
    "time": "2020-09-29T06:58:50.262-07:00",
}
# Reference §8: 2500 invalid reference.
INVALID_REFERENCE = {
    "Fault": {
        "Error": [
            {
                "Message": "Invalid Reference Id",
                "Detail": "Invalid Reference Id : Something you're trying to use has been made "
                "inactive. Check the fields with accounts, customers, items, vendors or employees.",
                "code": "2500",
                "element": "",
            }
        ],
        "type": "ValidationFault",
    },
    "time": "2020-09-29T06:58:50.262-07:00",
}


def response(
    status: int, body: str | bytes, headers: dict[str, str] | None = None, reason: str = ""
) -> requests.Response:
    resp = requests.Response()
    resp.status_code = status
    resp._content = body.encode() if isinstance(body, str) else body
    resp.headers.update(headers or {})
    resp.reason = reason
    return resp


def from_recorded(pair: Recorded) -> requests.Response:
    return response(pair.status, pair.body, pair.headers)


def parse(resp: requests.Response) -> QboError:
    error = from_response(resp)
    assert error is not None
    return error


def test_duplicate_name_6240_from_the_recording() -> None:
    pair = recording("error/validation.yml")
    error = parse(from_recorded(pair))
    assert type(error) is DuplicateNameError
    assert isinstance(error, QboValidationError)
    assert error.code == "6240"
    assert error.message == "Duplicate Name Exists Error"
    assert error.detail == "The name supplied already exists. : null"
    assert error.element == ""  # QBO omits the key for this fault
    assert error.intuit_tid == "1-5f733d9a-1d4e21aa217ba43177113df4"
    assert error.http_status == 400
    assert error.fault_type == "ValidationFault"
    assert str(error) == (
        "QuickBooks already has a customer, vendor or employee with this name: Duplicate Name "
        "Exists Error. The name supplied already exists. : null (QBO error 6240, HTTP 400, "
        "intuit_tid 1-5f733d9a-1d4e21aa217ba43177113df4)"
    )


def test_unsupported_property_2010_keeps_the_long_detail_readable() -> None:
    pair = recording("error/400_json.yml")
    error = parse(from_recorded(pair))
    assert type(error) is QboValidationError
    assert error.code == "2010"
    assert error.message == "Request has invalid or unsupported property"
    assert 'Unrecognized field "BadJson"' in error.detail
    assert "com.intuit.schema.finance.v3.Invoice" in error.detail
    assert "[redacted]" not in error.detail
    assert error.intuit_tid == "1-5f733c5a-55d0ff60812923e8b22c622b"


def test_code_500_on_http_400_is_an_unsupported_operation_not_a_server_error() -> None:
    pair = recording("error/500.yml", 0)
    error = parse(from_recorded(pair))
    assert type(error) is UnsupportedOperationError
    assert isinstance(error, QboValidationError)
    assert not isinstance(error, QboServerError)
    assert not error.retryable
    assert error.code == "500"
    assert error.message == "Unsupported Operation"
    assert error.intuit_tid == "1-5f733cd3-284572515eb5f21f8e8afa62"


def test_invalid_id_2030_names_the_element() -> None:
    pair = recording("error/500.yml", 1)
    error = parse(from_recorded(pair))
    assert type(error) is QboValidationError
    assert error.code == "2030"
    assert error.message == "Invalid ID"
    assert error.detail == "Id should be a valid number. Supplied value:1.5"
    assert error.element == "Id"
    assert error.intuit_tid == "1-5f733d63-44139ea355338a7d238f5e99"
    assert "field Id" in str(error)


def test_query_validation_4001() -> None:
    pair = recording("error/400.yml", 1)
    error = parse(from_recorded(pair))
    assert type(error) is QboValidationError
    assert error.code == "4001"
    assert error.detail == "QueryValidationError: invalid context declaration: Custmoer"


def test_401_lower_camel_body_is_parsed_and_the_token_fragment_redacted() -> None:
    pair = recording("error/401.yml")
    leaked = "AB01601390262kxzxOlnHYdhtEVRXISU7piPqQrCmmbDN35Yjd"
    assert leaked in pair.body
    error = parse(from_recorded(pair))
    assert type(error) is QboAuthError
    assert error.code == "3200"
    assert error.message == "message=AuthenticationFailed; errorCode=003200; statusCode=401"
    assert error.detail == "Token expired: [redacted]"
    assert error.element == ""  # null in the body
    assert error.fault_type == "AUTHENTICATION"
    assert error.http_status == 401
    assert error.intuit_tid == "1-5f7349e0-0fd2bee86a8a83c67a77fbb2"
    for text in (str(error), repr(error), error.detail, *map(str, error.errors)):
        assert leaked not in text
        assert "AB0160" not in text


def test_throttle_xml_429_with_default_wait() -> None:
    error = parse(response(429, THROTTLE_XML, {"intuit_tid": "1-throttle"}))
    assert type(error) is QboThrottledError
    assert error.retryable
    assert error.code == "3001"
    assert error.fault_type == "SERVICE"
    assert error.message == "message=ThrottleExceeded; errorCode=003001; statusCode=429"
    assert error.detail == "The request limit was reached.  Try again later"
    assert error.retry_after == DEFAULT_THROTTLE_WAIT_SECONDS == 60
    assert error.intuit_tid == "1-throttle"
    assert str(error).endswith("retry after 60 s")


def test_throttle_sent_as_403_is_still_throttling() -> None:
    body = THROTTLE_XML.replace("statusCode=429", "statusCode=403")
    assert type(parse(response(403, body))) is QboThrottledError


def test_retry_after_header_in_seconds_and_as_a_date() -> None:
    throttled = parse(response(429, THROTTLE_XML, {"Retry-After": "7"}))
    assert isinstance(throttled, QboThrottledError)
    assert throttled.retry_after == 7
    now = datetime(2025, 1, 1, 12, 0, 0, tzinfo=UTC)
    later = format_datetime(now + timedelta(seconds=30), usegmt=True)
    assert retry_after_seconds(response(429, "", {"Retry-After": later}), now=now) == 30
    assert retry_after_seconds(response(429, "", {"Retry-After": "soon"})) == 60
    assert retry_after_seconds(response(429, "", {"Retry-After": "-5"})) == 0
    assert retry_after_seconds(response(429, "", {"Retry-After": "999999"})) == 900


def test_429_without_a_body_is_throttling() -> None:
    error = parse(response(429, b"", {"Retry-After": "3"}, reason="Too Many Requests"))
    assert isinstance(error, QboThrottledError)
    assert error.retry_after == 3


def test_xml_authentication_fault_keeps_every_error() -> None:
    # The file uploaded in attachment/create_for_invoice.yml is a real QBO XML fault.
    upload = recording("attachment/create_for_invoice.yml").request_body
    xml = upload[
        upload.index("<?xml") : upload.index("</IntuitResponse>") + len("</IntuitResponse>")
    ]
    error = parse(response(401, xml))
    assert type(error) is QboAuthError
    assert error.fault_type == "AUTHENTICATION"
    assert [entry.code for entry in error.errors] == ["3200", "3200"]
    assert error.errors[1].detail == "This error does have detail"
    assert (
        error.message == "message=ApplicationAuthenticationFailed; errorCode=003200; statusCode=401"
    )
    assert "1 more error" in str(error)


def test_malformed_xml_fault_is_still_read() -> None:
    # QBO has sent faults with a missing </Error> (reference §8).
    broken = (
        '<IntuitResponse><Fault type="ValidationFault"><Error code="6070" element="Line.Amount">'
        "<Message>Amount calculation incorrect in the request.</Message>"
        "<Detail>Amount is not equal to UnitPrice * Qty. Supplied value:58</Detail>"
        "</Fault></IntuitResponse>"
    )
    error = parse(response(400, broken))
    assert type(error) is QboValidationError
    assert (error.code, error.element) == ("6070", "Line.Amount")
    assert error.detail == "Amount is not equal to UnitPrice * Qty. Supplied value:58"


def test_several_json_errors_keep_all_with_the_first_as_primary() -> None:
    body = {
        "Fault": {
            "Error": [
                {"Message": "Stale Object Error", "Detail": "first", "code": "5010"},
                {"Message": "Other", "Detail": "second", "code": "6000", "element": "Line"},
            ],
            "type": "ValidationFault",
        }
    }
    error = parse(response(400, json.dumps(body)))
    assert type(error) is StaleObjectError
    assert error.errors == (
        FaultDetail("5010", "Stale Object Error", "first", ""),
        FaultDetail("6000", "Other", "second", "Line"),
    )


@pytest.mark.parametrize(
    ("body", "expected"),
    [(DUPLICATE_DOC_NUMBER, DuplicateDocNumberError), (INVALID_REFERENCE, InvalidReferenceError)],
)
def test_documented_business_faults(body: dict[str, object], expected: type[QboError]) -> None:
    assert type(parse(response(400, json.dumps(body)))) is expected


def test_batch_items_610_and_5010_from_the_recording() -> None:
    pair = recording("batch/basic.yml")
    items = pair.json["BatchItemResponse"]
    assert item_error(items[0], intuit_tid=pair.intuit_tid) is None
    not_found = item_error(items[1], intuit_tid=pair.intuit_tid)
    stale = item_error(items[2], intuit_tid=pair.intuit_tid)
    assert type(not_found) is ObjectNotFoundError
    assert not_found.code == "610"
    assert not_found.message == "Object Not Found"
    assert not_found.detail.startswith("Object Not Found : Something you're trying to use")
    assert not_found.http_status == 200
    assert not_found.intuit_tid == "1-5f734f0e-58baa045003ab251111c54e6"
    assert type(stale) is StaleObjectError
    assert stale.code == "5010"
    assert "Christian Pelczarski finished before you did" in stale.detail
    # A batch answer as a whole is a success: its faults are per item.
    assert from_response(from_recorded(pair)) is None


def test_attachable_response_200_with_fault_is_a_failure() -> None:
    pair = recording("attachment/error_estimate.yml")
    assert pair.status == 200
    error = parse(from_recorded(pair))
    assert type(error) is QboValidationError
    assert error.code == "6000"
    assert error.message == (
        "A business validation error has occurred while processing your request"
    )
    assert error.detail.startswith("Business Validation Error: The entity Estimate 75")
    assert error.http_status == 200
    assert error.intuit_tid == "1-5f7337c2-1e4095a25de42e9e527f5013"


def test_successful_answers_are_not_errors() -> None:
    for name in ("create/customer.yml", "attachment/create_for_invoice.yml", "cdc/basic.yml"):
        assert from_response(from_recorded(recording(name))) is None


def test_faults_inside_query_and_cdc_responses() -> None:
    fault = {
        "Error": [{"Message": "Bad", "Detail": "d", "code": "4000"}],
        "type": "ValidationFault",
    }
    query = response(200, json.dumps({"QueryResponse": {"Fault": fault}}))
    cdc = response(200, json.dumps({"CDCResponse": [{"Fault": fault}]}))
    assert parse(query).code == "4000"
    assert parse(cdc).code == "4000"


@pytest.mark.parametrize(
    ("status", "expected"),
    [(401, QboAuthError), (403, QboAuthError), (502, QboServerError), (404, QboParseError)],
)
def test_bodies_without_a_fault_are_classified_by_status(
    status: int, expected: type[QboError]
) -> None:
    error = parse(response(status, "<html>Bad Gateway</html>", reason="Some Reason"))
    assert type(error) is expected
    assert error.http_status == status


def test_success_status_with_a_body_that_is_not_json_is_not_a_fault() -> None:
    assert from_response(response(200, "https://example.test/file")) is None


def test_system_fault_on_5xx_is_a_retryable_server_error() -> None:
    body = {"Fault": {"Error": [{"Message": "Internal", "code": "10000"}], "type": "SystemFault"}}
    error = parse(response(503, json.dumps(body)))
    assert type(error) is QboServerError
    assert error.retryable


def test_redact_masks_tokens_in_any_shape() -> None:
    text = (
        f"Authorization: Bearer {ACCESS_TOKEN_1} "
        '{"refresh_token": "AB11700000000abcdefghijklmnopqrstuvwxyz012345"} '
        "Refresh token not found: AB11xyz "
        "https://s3.test/f?X-Amz-Credential=AKIA3V3MBG4KLHZEBYNA%2F2020&X-Amz-Signature=ea9ec6e9d8"
    )
    cleaned = redact(text)
    assert ACCESS_TOKEN_1 not in cleaned
    assert "AB117" not in cleaned
    assert "AB11xyz" not in cleaned
    assert "AKIA3V3" not in cleaned
    assert "ea9ec6e9d8" not in cleaned
    assert redact("uses secret-value-1234 here", ["secret-value-1234"]) == "uses [redacted] here"


def test_redact_keeps_ordinary_texts() -> None:
    text = "intuit_tid 1-5f733d9a-1d4e21aa217ba43177113df4, Id 5000000000000503624, 6240"
    assert redact(text) == text


def test_errors_built_by_hand_are_redacted_too() -> None:
    error = QboTransportError(f"failed with header Bearer {ACCESS_TOKEN_1}")
    assert ACCESS_TOKEN_1 not in str(error)
    assert str(error).startswith("Factor Desktop could not reach QuickBooks: failed with header")
    assert "intuit_tid none" in str(error)
