"""The sandbox's WSGI application: OAuth, the v3 API, file links and the admin endpoints."""

from __future__ import annotations

import contextlib
import html
import json
import logging
import socket
import time
from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from werkzeug.wrappers import Request, Response

from . import faults
from .attachments import (
    DOWNLOAD_PREFIX,
    attachable_file,
    group_uploads,
    parse_multipart,
    s3_error,
    store_upload,
)
from .batch import run_batch
from .clock import format_time_field
from .entities import BY_NAME, BY_RESOURCE, EntityRule
from .guard import admin_refusal, allowed_hosts, host_refused
from .http import (
    JSON_FAULT,
    JSON_OK,
    api_response,
    dumps,
    fault_body,
    new_tid,
    ok_body,
    unauthorized,
)
from .knobs import KnobError
from .limits import throttled_body
from .oauth import (
    AUTHORIZE_PATH,
    DISCOVERY_PATH,
    JWKS_PATH,
    REVOKE_PATH,
    TOKEN_PATH,
    USERINFO_PATH,
)

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment

    from .core import Sandbox

log = logging.getLogger("factor_desktop.sandbox")

DROP_KEY = "factor_desktop.sandbox.drop"
ARRIVAL_KEY = "factor_desktop.sandbox.arrival"
ADMIN_PREFIX = "/_sandbox/admin"
# A read-only page per record, as QuickBooks' web app shows one: /_sandbox/record/Invoice/130.
RECORD_PREFIX = "/_sandbox/record"
_WRITE_SEGMENTS = frozenset({"batch", "upload"})


class SandboxApp:
    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox
        self.base_url = "http://127.0.0.1"
        self.hosts = allowed_hosts("127.0.0.1", 80)

    def listening(self, bind_host: str, base_url: str, port: int) -> None:
        """Where the server listens: its URL and the Host values it answers to."""
        self.base_url = base_url
        self.hosts = allowed_hosts(bind_host, port)

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        # Stamped on arrival, as QBO counts requests, before any work on them.
        environ[ARRIVAL_KEY] = self.sandbox.limiter.now()
        request = Request(environ)
        tid = new_tid()
        try:
            if host_refused(request, self.hosts):
                response = Response(
                    "Invalid Host header", status=400, content_type="text/plain; charset=utf-8"
                )
            else:
                response = self.route(request)
        except Exception:
            log.exception("sandbox request failed: %s %s", request.method, request.path)
            response = api_response(
                500, JSON_FAULT, fault_body(self.sandbox.clock, faults.system_failure())
            )
        response.headers["intuit_tid"] = tid
        response.headers["Intuit-Tid"] = tid
        if environ.get(DROP_KEY):
            sock = environ.get("werkzeug.socket")
            if isinstance(sock, socket.socket):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
        return response(environ, start_response)

    # -- routing -----------------------------------------------------------------------------------

    def route(self, request: Request) -> Response:
        path = request.path
        if path.startswith("/v3/company/"):
            rest = path[len("/v3/company/") :]
            realm, _, tail = rest.partition("/")
            return self.v3(request, realm, tail)
        if path.rstrip("/") in (DISCOVERY_PATH, "/.well-known/openid_configuration"):
            body = self.sandbox.oauth.discovery(self.base_url)
            return Response(dumps(body), status=200, content_type=JSON_OK)
        if path == AUTHORIZE_PATH and request.method in ("GET", "POST"):
            return self.sandbox.oauth.authorize(request)
        if path == TOKEN_PATH and request.method == "POST":
            self._latency()
            return self.sandbox.oauth.token(request)
        if path == REVOKE_PATH and request.method == "POST":
            return self.sandbox.oauth.revoke(request)
        if path == USERINFO_PATH and request.method == "GET":
            return self.sandbox.oauth.userinfo(request)
        if path == JWKS_PATH and request.method == "GET":
            return Response(dumps({"keys": []}), status=200, content_type=JSON_OK)
        if path.startswith(DOWNLOAD_PREFIX + "/") and request.method == "GET":
            return self.file(request, path[len(DOWNLOAD_PREFIX) + 1 :])
        if path.startswith(ADMIN_PREFIX + "/"):
            return self.admin(request, path[len(ADMIN_PREFIX) + 1 :])
        if path.startswith(RECORD_PREFIX + "/") and request.method == "GET":
            return self.record_page(path[len(RECORD_PREFIX) + 1 :])
        return Response("Not Found", status=404, content_type="text/plain; charset=utf-8")

    def record_page(self, tail: str) -> Response:
        """One record of the company as a read-only HTML page (the local stand-in for opening
        it in QuickBooks' web app). Nothing is changed and no token is needed: the sandbox
        serves 127.0.0.1 only."""
        entity, _, entity_id = (unquote(part) for part in tail.partition("/"))
        rule = BY_NAME.get(entity)
        record: dict[str, Any] | None = None
        if rule is not None and entity_id and "/" not in entity_id:
            try:
                record = self.sandbox.company.read(rule, entity_id)
            except faults.QBOFault:
                record = None
        title = f"{entity} {entity_id}"
        if record is None:
            body = f"<h1>{html.escape(title)}</h1><p>The sandbox company has no such record.</p>"
            status = 404
        else:
            number = record.get("DocNumber") or record.get("DisplayName") or record.get("Name")
            heading = f"{title} — {number}" if number else title
            fields = "".join(
                f"<tr><th>{html.escape(str(key))}</th><td>{html.escape(str(value))}</td></tr>"
                for key, value in record.items()
                if not isinstance(value, dict | list)
            )
            raw = html.escape(json.dumps(record, indent=2, ensure_ascii=False))
            body = (
                f"<h1>{html.escape(heading)}</h1><table>{fields}</table>"
                f"<h2>As the API returns it</h2><pre>{raw}</pre>"
            )
            status = 200
        page = (
            '<!doctype html><html lang="en"><head><meta charset="utf-8">'
            f"<title>{html.escape(title)} · QuickBooks sandbox</title>"
            "<style>body{font-family:sans-serif;margin:2em}th{text-align:left;padding-right:1em}"
            "pre{background:#f4f4f4;padding:1em}</style></head>"
            f"<body>{body}</body></html>"
        )
        return Response(page, status=status, content_type="text/html; charset=utf-8")

    # -- the v3 API --------------------------------------------------------------------------------

    def v3(self, request: Request, realm: str, tail: str) -> Response:
        sandbox = self.sandbox
        check = sandbox.oauth.check_bearer(request.headers.get("Authorization"))
        if not check.ok:
            return unauthorized(sandbox.clock, check.reason)
        if sandbox.knobs.take_burst():
            return self._throttled()
        segments = [s for s in tail.split("/")]
        arrival = request.environ.get(ARRIVAL_KEY)
        admission = sandbox.limiter.admit(
            realm,
            check.client_id,
            batch=bool(segments) and segments[0] == "batch",
            at=arrival if isinstance(arrival, float) else None,
        )
        if admission is None:
            return self._throttled()
        try:
            self._latency()
            knobs = sandbox.knobs.get()
            if sandbox.chance(knobs.fail_5xx_rate):
                return self._injected_failure()
            if realm != sandbox.realm_id:
                return self._fault(
                    faults.business_validation("Unexpected Internal Error. (-30000)")
                )
            return self.api(request, realm, segments)
        finally:
            sandbox.limiter.release(admission)

    def api(self, request: Request, realm: str, segments: list[str]) -> Response:
        sandbox = self.sandbox
        request_id = request.args.get("requestid", "") if request.method == "POST" else ""
        is_write = request.method == "POST" and bool(segments) and segments[0] != "query"
        if not request_id:
            status, content_type, body = self.dispatch(request, realm, segments)
        else:
            with sandbox.store.transaction():
                stored = sandbox.store.get_reply(realm, request_id)
                if stored is not None:
                    return api_response(*stored)
                status, content_type, body = self.dispatch(request, realm, segments)
                sandbox.store.put_reply(
                    realm, request_id, status, content_type, body, sandbox.clock.timestamp()
                )
        if is_write and sandbox.chance(sandbox.knobs.get().drop_after_commit_rate):
            request.environ[DROP_KEY] = True
        return api_response(status, content_type, body)

    def dispatch(self, request: Request, realm: str, segments: list[str]) -> tuple[int, str, bytes]:
        clock = self.sandbox.clock
        try:
            key, value = self.operation(request, realm, segments)
        except faults.QBOFault as fault:
            return fault.status, JSON_FAULT, fault_body(clock, fault)
        if key == "__text__":
            return 200, "text/plain;charset=utf-8", str(value).encode("utf-8")
        return 200, JSON_OK, ok_body(clock, key, value)

    def operation(self, request: Request, realm: str, segments: list[str]) -> tuple[str, Any]:
        company = self.sandbox.company
        method = request.method
        head = segments[0] if segments else ""
        count = len(segments)
        if head == "query" and count == 1 and method in ("GET", "POST"):
            return "QueryResponse", company.query(self._query_text(request))
        if head == "cdc" and count == 1 and method == "GET":
            return "CDCResponse", company.cdc(
                request.args.get("entities"), request.args.get("changedSince")
            )
        if head == "batch" and count == 1 and method == "POST":
            return "BatchItemResponse", run_batch(company, self._json_body(request))
        if head == "upload" and count == 1 and method == "POST":
            return "AttachableResponse", self._upload(request)
        if head == "download" and count == 2 and method == "GET":
            rule = BY_NAME["Attachable"]
            doc = company.read(rule, segments[1])
            uri = doc.get("TempDownloadUri")
            if not uri:
                raise faults.object_not_found()
            return "__text__", uri
        if head == "companyinfo":
            rule = BY_NAME["CompanyInfo"]
            if count == 2 and method == "GET" and segments[1] in (realm, "1"):
                return rule.name, company.read(rule, "1")
            if count == 1 and method == "POST":
                return self._write(request, rule)
        elif head == "preferences":
            rule = BY_NAME["Preferences"]
            if count == 1 and method == "GET":
                return rule.name, company.read(rule, "1")
            if count == 1 and method == "POST":
                return self._write(request, rule, force_update=True)
        elif head in BY_RESOURCE:
            rule = BY_RESOURCE[head]
            if count == 1 and method == "POST":
                return self._write(request, rule)
            if count == 2 and method == "GET" and segments[1]:
                return rule.name, company.read(rule, segments[1])
        relative = request.path
        raise faults.unsupported_operation(relative, f"{self.base_url}{relative}")

    def _write(
        self, request: Request, rule: EntityRule, *, force_update: bool = False
    ) -> tuple[str, Any]:
        body = self._json_body(request)
        include = {
            part.strip().lower() for part in request.args.get("include", "").split(",") if part
        }
        operation = request.args.get("operation")
        if force_update and not operation:
            operation = "update"
        return self.sandbox.company.write(rule, body, operation, include)

    def _json_body(self, request: Request) -> Any:
        raw = request.get_data()
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise faults.operation_not_supported(
                "com.sun.org.apache.xerces.internal.impl.io.MalformedByteSequenceException: "
                "Invalid byte 1 of 1-byte UTF-8 sequence"
            ) from None
        try:
            return json.loads(text)
        except ValueError as exc:
            raise faults.malformed_request(
                f"Unexpected character in the request body ({exc})"
            ) from None

    def _query_text(self, request: Request) -> str:
        if request.method == "GET":
            return request.args.get("query", "")
        if request.mimetype == "application/x-www-form-urlencoded" and "query" in request.form:
            return request.form["query"]
        return request.get_data(as_text=True)

    def _upload(self, request: Request) -> list[dict[str, Any]]:
        if request.mimetype != "multipart/form-data":
            raise faults.single(
                "Invalid Content Type",
                f"Invalid Content Type : {request.mimetype or 'none'}. "
                "Uploads are sent as multipart/form-data.",
                "1050",
                "",
            )
        parts = parse_multipart(request.get_data(), request.headers.get("Content-Type", ""))
        uploads = group_uploads(parts)
        if not uploads:
            raise faults.required_param("file_content_01")
        answers: list[dict[str, Any]] = []
        for upload in uploads:
            try:
                answers.append({"Attachable": store_upload(self.sandbox.company, upload)})
            except faults.QBOFault as fault:
                answers.append({"Fault": fault.fault_json()})
        return answers

    def _fault(self, fault: faults.QBOFault) -> Response:
        return api_response(fault.status, JSON_FAULT, fault_body(self.sandbox.clock, fault))

    def _throttled(self) -> Response:
        return Response(
            throttled_body(self.sandbox.clock),
            status=429,
            content_type="application/xml",
        )

    def _injected_failure(self) -> Response:
        status = self.sandbox.choice([500, 502, 503])
        if status == 500:
            return self._fault(faults.system_failure())
        reason = "Bad Gateway" if status == 502 else "Service Temporarily Unavailable"
        page = (
            f"<html><head><title>{status} {reason}</title></head>"
            f"<body><center><h1>{status} {reason}</h1></center></body></html>"
        )
        return Response(page, status=status, content_type="text/html")

    def _latency(self) -> None:
        delay = self.sandbox.knobs.get().latency_ms
        if delay > 0:
            time.sleep(delay / 1000.0)

    # -- temporary file links ----------------------------------------------------------------------

    def file(self, request: Request, tail: str) -> Response:
        parts = tail.split("/", 2)
        if len(parts) != 3:
            return self._s3(404, "NoSuchKey")
        realm, attachable_id, _ = parts
        problem = self.sandbox.signer.check(realm, attachable_id, dict(request.args.items()))
        if problem is not None:
            return self._s3(403, problem)
        if realm != self.sandbox.realm_id:
            return self._s3(404, "NoSuchKey")
        found = attachable_file(self.sandbox.company, attachable_id)
        if found is None:
            return self._s3(404, "NoSuchKey")
        record, data = found
        response = Response(data, status=200, content_type=str(record.doc.get("ContentType")))
        response.headers["Content-Length"] = str(len(data))
        return response

    def _s3(self, status: int, code: str) -> Response:
        return Response(s3_error(code), status=status, content_type="application/xml")

    # -- admin -------------------------------------------------------------------------------------

    def admin(self, request: Request, name: str) -> Response:
        sandbox = self.sandbox
        refusal = admin_refusal(request, self.hosts)
        if refusal is not None:
            return self._admin_json({"error": refusal}, 403)
        try:
            payload: Any = {}
            if request.method == "POST":
                raw = request.get_data(as_text=True)
                payload = json.loads(raw) if raw.strip() else {}
                if not isinstance(payload, dict):
                    raise ValueError("the body must be a JSON object")
            if name == "clock":
                if request.method == "POST":
                    if "advance" in payload:
                        sandbox.advance_clock(float(payload["advance"]))
                    if "set" in payload:
                        sandbox.set_clock(datetime.fromisoformat(str(payload["set"])))
                return self._admin_json(
                    {
                        "now": format_time_field(sandbox.clock.now()),
                        "offset_s": sandbox.clock.offset,
                    }
                )
            if name == "knobs":
                if request.method == "POST":
                    sandbox.set_knobs(payload)
                return self._admin_json(sandbox.knobs.as_dict())
            if name == "preferences":
                if request.method == "POST":
                    return self._admin_json(sandbox.update_preferences(payload))
                return self._admin_json(sandbox.preferences())
            if name == "tax-rate" and request.method == "POST":
                rate = sandbox.set_tax_rate(str(payload.get("id")), str(payload.get("RateValue")))
                return self._admin_json(rate)
            if name == "state" and request.method == "GET":
                return self._admin_json(sandbox.state())
            if name == "tokens" and request.method == "POST":
                client_id = payload.get("client_id")
                if client_id is not None and not isinstance(client_id, str):
                    raise ValueError("client_id must be a string")
                return self._admin_json(sandbox.issue_tokens(client_id))
        except (ValueError, KnobError, TypeError) as exc:
            return self._admin_json({"error": str(exc)}, 400)
        except faults.QBOFault as fault:
            return self._fault(fault)
        return self._admin_json({"error": f"unknown admin endpoint: {unquote(name)}"}, 404)

    def _admin_json(self, body: Any, status: int = 200) -> Response:
        return Response(dumps(body), status=status, content_type=JSON_OK)
