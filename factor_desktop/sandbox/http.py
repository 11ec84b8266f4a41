"""Response builders shared by the API and OAuth endpoints."""

from __future__ import annotations

import json
import secrets
import time
from typing import Any

from werkzeug.wrappers import Response

from .clock import SandboxClock, format_time_field
from .faults import QBOFault

JSON_OK = "application/json;charset=utf-8"
JSON_FAULT = "application/json"
QBO_VERSION = "1944.190"


def new_tid() -> str:
    """An Intuit transaction id (``1-5f732f68-d4d3c70ce72c15e07d2bc328``)."""
    return f"1-{int(time.time()):08x}-{secrets.token_hex(12)}"


def dumps(body: Any) -> bytes:
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def ok_body(clock: SandboxClock, key: str, value: Any) -> bytes:
    return dumps({key: value, "time": format_time_field(clock.now())})


def fault_body(clock: SandboxClock, fault: QBOFault) -> bytes:
    body: dict[str, Any] = {"Fault": fault.fault_json()}
    if fault.with_time:
        body["time"] = format_time_field(clock.now())
    return dumps(body)


def api_response(status: int, content_type: str, body: bytes) -> Response:
    response = Response(body, status=status, content_type=content_type)
    response.headers["Qbo-Version"] = QBO_VERSION
    response.headers["Expires"] = "0"
    response.headers["Cache-Control"] = "max-age=0, no-cache, no-store, must-revalidate, private"
    return response


def unauthorized(clock: SandboxClock, detail: str) -> Response:
    """QBO's 401: a lower-camel envelope with epoch-millisecond time, plus WWW-Authenticate."""
    body: dict[str, Any] = {
        "warnings": None,
        "intuitObject": None,
        "fault": {
            "error": [
                {
                    "message": "message=AuthenticationFailed; errorCode=003200; statusCode=401",
                    "detail": detail,
                    "code": "3200",
                    "element": None,
                }
            ],
            "type": "AUTHENTICATION",
        },
        "report": None,
        "queryResponse": None,
        "batchItemResponse": [],
        "attachableResponse": [],
        "syncErrorResponse": None,
        "requestId": None,
        "time": int(clock.timestamp() * 1000),
        "status": None,
        "cdcresponse": [],
    }
    response = Response(dumps(body), status=401, content_type=JSON_FAULT)
    response.headers["WWW-Authenticate"] = 'Bearer realm="Intuit", error="invalid_token"'
    return response
