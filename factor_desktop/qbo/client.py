"""A thin, typed client for the QuickBooks Online Accounting API v3 over ``requests``.

Every call goes to ``{base_url}/v3/company/{realm_id}/…`` with ``minorversion`` set, the headers
``Accept: application/json``, ``Content-Type: application/json`` and ``Authorization: Bearer …``
(the token comes from a :class:`~factor_desktop.qbo.auth_protocol.TokenSource`), and every write
carries a ``requestid``: QBO answers a repeated requestid with the original response instead of
doing the work twice, which is what makes retrying a write safe.

Failure handling, in one place (:meth:`QboClient._send`):

* HTTP 5xx, timeouts and dropped connections: retried with exponential backoff and jitter, at most
  ``max_retries`` times, always with the same URL and therefore the same requestid;
* HTTP 429 (XML body, fault 3001): wait ``Retry-After`` seconds, or 60, then retry (same bound);
* HTTP 401: ask the token source for a new token once, retry once; a second 401 raises
  :class:`~factor_desktop.qbo.errors.QboAuthError`;
* any other fault (HTTP 400 or a 200 carrying a fault): raised at once as a typed error.

Tokens never reach a log record or an exception: the log carries the method, the path inside the
company, the status, the intuit_tid and the duration (DEBUG, logger ``factor_desktop.qbo``).
"""

from __future__ import annotations

import contextlib
import json
import logging
import random
import re
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal
from urllib.parse import quote, urlsplit

import requests

from .auth_protocol import TokenSource
from .errors import (
    QboError,
    QboParseError,
    QboServerError,
    QboThrottledError,
    QboTransportError,
    from_response,
    intuit_tid_of,
    item_error,
)
from .query import MAX_PAGE_SIZE, Query
from .ratelimit import RateLimiter, RequestKind

__all__ = [
    "DEFAULT_MINOR_VERSION",
    "MAX_BATCH_ITEMS",
    "BatchItem",
    "BatchResult",
    "JsonDict",
    "QboClient",
]

JsonDict = dict[str, Any]

#: The one place the API minor version is chosen. QBO ignores anything below 75 since
#: 2025-08-01 and answers as 75; sending it explicitly keeps answers stable.
DEFAULT_MINOR_VERSION = 75
#: QBO's recommended maximum of items in one batch request.
MAX_BATCH_ITEMS = 30
MAX_REQUEST_ID_LENGTH = 50
MAX_BATCH_REQUEST_ID_LENGTH = 36
MAX_BID_LENGTH = 10
BACKOFF_BASE_SECONDS = 1.0
BACKOFF_CAP_SECONDS = 30.0
#: Longer query statements go in a POST body instead of the URL.
MAX_QUERY_URL_CHARS = 4000

logger = logging.getLogger("factor_desktop.qbo")

# Characters left unescaped in query-string values, as in QBO's recorded traffic
# (``SELECT%20*%20FROM%20Customer%20WHERE%20Id%20IN%20(%275%27,%20%276%27)``).
_QUERY_SAFE = "*=(),:"
_ENTITY_NAME = re.compile(r"^[A-Z][A-Za-z0-9]*$")
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]+$")
_REALM_ID = re.compile(r"^[A-Za-z0-9_-]+$")
_BATCH_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "urn:factor-desktop:qbo-batch")
_TRANSIENT_TRANSPORT_ERRORS = (
    requests.exceptions.ConnectionError,
    requests.exceptions.Timeout,
    requests.exceptions.ChunkedEncodingError,
)
_ROW_KEYS_TO_SKIP = frozenset({"startPosition", "maxResults", "totalCount"})


# --------------------------------------------------------------------------------------------
# Void: QBO spells it differently per entity; this table is the only place that knows.
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _VoidRule:
    params: tuple[tuple[str, str], ...]
    sparse: bool
    batch_operation: Literal["void", "update"]
    batch_options: str | None


_VOID_INVOICE = _VoidRule(
    params=(("operation", "void"),), sparse=False, batch_operation="void", batch_options=None
)
_VOID_BY_SPARSE_UPDATE = _VoidRule(
    params=(("operation", "update"), ("include", "void")),
    sparse=True,
    batch_operation="update",
    batch_options="void",
)
_VOID_RULES: dict[str, _VoidRule] = {
    "Invoice": _VOID_INVOICE,
    "Payment": _VOID_BY_SPARSE_UPDATE,
    "SalesReceipt": _VOID_BY_SPARSE_UPDATE,
    "BillPayment": _VOID_BY_SPARSE_UPDATE,
}


def _void_rule(entity: str) -> _VoidRule:
    rule = _VOID_RULES.get(entity)
    if rule is None:
        voidable = ", ".join(sorted(_VOID_RULES))
        raise ValueError(f"QuickBooks cannot void a {entity}; voidable: {voidable}")
    return rule


def _void_body(entity_id: str, sync_token: str, rule: _VoidRule) -> JsonDict:
    body: JsonDict = {"Id": str(entity_id), "SyncToken": str(sync_token)}
    if rule.sparse:
        body["sparse"] = True
    return body


# --------------------------------------------------------------------------------------------
# Batch items and results
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BatchItem:
    """One operation inside a batch request. Build with the class methods.

    ``bid`` is the caller's id for the item (at most 10 characters, unique in the batch); the
    result for the item carries it back.
    """

    bid: str
    operation: Literal["create", "update", "delete", "void"] | None = None
    entity: str | None = None
    payload: Mapping[str, Any] | None = None
    statement: str | None = None
    options_data: str | None = None

    @classmethod
    def create(cls, bid: str, entity: str, payload: Mapping[str, Any]) -> BatchItem:
        return cls(bid, "create", _entity(entity), dict(payload))

    @classmethod
    def update(
        cls, bid: str, entity: str, payload: Mapping[str, Any], *, sparse: bool = True
    ) -> BatchItem:
        _require_id_and_sync_token(payload)
        return cls(bid, "update", _entity(entity), {**payload, "sparse": sparse})

    @classmethod
    def delete(cls, bid: str, entity: str, entity_id: str, sync_token: str) -> BatchItem:
        body = {"Id": str(entity_id), "SyncToken": str(sync_token)}
        return cls(bid, "delete", _entity(entity), body)

    @classmethod
    def void(cls, bid: str, entity: str, entity_id: str, sync_token: str) -> BatchItem:
        name = _entity(entity)
        rule = _void_rule(name)
        body = _void_body(entity_id, sync_token, rule)
        return cls(bid, rule.batch_operation, name, body, options_data=rule.batch_options)

    @classmethod
    def query(cls, bid: str, statement: str | Query) -> BatchItem:
        text = statement.build() if isinstance(statement, Query) else statement
        return cls(bid, statement=text)

    def to_json(self) -> JsonDict:
        """The item as it appears in ``BatchItemRequest``."""
        item: JsonDict = {"bId": self.bid}
        if self.statement is not None:
            item["Query"] = self.statement
            return item
        if self.operation is None or self.entity is None or self.payload is None:
            raise ValueError(f"batch item {self.bid!r} has neither an operation nor a query")
        item["operation"] = self.operation
        if self.options_data:
            item["optionsData"] = self.options_data
        item[self.entity] = dict(self.payload)
        return item


@dataclass(frozen=True)
class BatchResult:
    """The outcome of one :class:`BatchItem`: ``data`` on success, ``error`` on failure.

    ``data`` is the entity QBO returned (for create, update, delete and void) or the
    ``QueryResponse`` (for a query item, whose rows are in :attr:`rows`).
    """

    bid: str
    item: BatchItem
    data: JsonDict | None = None
    error: QboError | None = None
    intuit_tid: str | None = field(default=None, compare=False)

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def rows(self) -> list[JsonDict]:
        """The rows of a query item's answer (empty for other items or no matches)."""
        if self.item.statement is None or self.data is None:
            return []
        return _rows(self.data)


# --------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------


def _entity(name: str) -> str:
    """Check an entity name in QBO's spelling (``Customer``, ``SalesReceipt``)."""
    if not _ENTITY_NAME.match(name):
        raise ValueError(f"{name!r} is not a QBO entity name (spell it as QBO does: 'Customer')")
    return name


def _require_id_and_sync_token(payload: Mapping[str, Any]) -> None:
    missing = [key for key in ("Id", "SyncToken") if payload.get(key) in (None, "")]
    if missing:
        raise ValueError(f"an update needs {' and '.join(missing)} in the payload")


def _check_request_id(request_id: str, limit: int = MAX_REQUEST_ID_LENGTH) -> str:
    if not request_id or len(request_id) > limit or not _REQUEST_ID.match(request_id):
        raise ValueError(
            f"requestid must be 1-{limit} characters of letters, digits and . _ : - "
            f"(got {request_id!r})"
        )
    return request_id


def _encode_params(params: Sequence[tuple[str, str]]) -> str:
    return "&".join(
        f"{quote(key, safe='')}={quote(value, safe=_QUERY_SAFE)}" for key, value in params
    )


def _rows(query_response: Mapping[str, Any]) -> list[JsonDict]:
    """The entity rows of a ``QueryResponse`` (``{}`` means no rows)."""
    for key, value in query_response.items():
        if key not in _ROW_KEYS_TO_SKIP and isinstance(value, list):
            return [row for row in value if isinstance(row, dict)]
    return []


def _pick(body: Mapping[str, Any], name: str) -> Any:
    """``body[name]``, matching the key without regard to case."""
    if name in body:
        return body[name]
    lowered = name.lower()
    for key, value in body.items():
        if key.lower() == lowered:
            return value
    return None


def _batch_request_id(realm_id: str, request_items: list[JsonDict]) -> str:
    """A requestid for one batch chunk, derived from the caller's bIds and the chunk's content.

    The same chunk sent again (a retry, or the same outbox rows after a restart) gets the same
    requestid, so QBO replays its first answer instead of creating twice; a chunk whose content
    changed (say, a new SyncToken after a conflict) gets a new one and is really executed.
    """
    canonical = json.dumps(request_items, sort_keys=True, separators=(",", ":"))
    return str(uuid.uuid5(_BATCH_NAMESPACE, f"{realm_id}\n{canonical}"))


def _temporary_url(text: str) -> str:
    url = text.strip()
    if url.startswith('"'):
        try:
            decoded = json.loads(url)
        except ValueError:
            decoded = None
        url = decoded if isinstance(decoded, str) else url
    if urlsplit(url).scheme not in ("https", "http") or not urlsplit(url).netloc:
        raise QboParseError("QuickBooks did not answer with a download link")
    return url


# --------------------------------------------------------------------------------------------
# The client
# --------------------------------------------------------------------------------------------


class QboClient:
    """Calls for one QBO company (realm). Safe to share between threads.

    ``base_url`` is the API host (``https://quickbooks.api.intuit.com``, the sandbox host, or the
    local sandbox). ``rate_limiter`` should be shared by every client of the same realm; without
    one the client does not pace itself. ``sleep``, ``clock`` and ``jitter`` (a source of floats
    in [0, 1)) are injectable so tests never wait.
    """

    def __init__(
        self,
        base_url: str,
        realm_id: str,
        tokens: TokenSource,
        session: requests.Session | None = None,
        minor_version: int = DEFAULT_MINOR_VERSION,
        timeout: float | tuple[float, float] = (5, 60),
        rate_limiter: RateLimiter | None = None,
        max_retries: int = 4,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        if not _REALM_ID.match(realm_id):
            raise ValueError(f"{realm_id!r} is not a QBO company (realm) id")
        if max_retries < 0:
            raise ValueError("max_retries cannot be negative")
        self._realm_id = realm_id
        self._company_url = f"{base_url.rstrip('/')}/v3/company/{realm_id}"
        self._tokens = tokens
        self._owns_session = session is None
        self._session = session if session is not None else requests.Session()
        self._minor_version = minor_version
        self._timeout = timeout
        self._rate_limiter = rate_limiter
        self._max_retries = max_retries
        self._sleep = sleep
        self._clock = clock
        self._jitter = jitter
        self._lock = threading.Lock()
        self._request_count = 0
        self._endpoint_counts: Counter[str] = Counter()
        self._last_intuit_tid: str | None = None

    # -- bookkeeping ----------------------------------------------------------------------

    @property
    def realm_id(self) -> str:
        return self._realm_id

    @property
    def rate_limiter(self) -> RateLimiter | None:
        """The pacer shared by the clients of this company, if any."""
        return self._rate_limiter

    @property
    def minor_version(self) -> int:
        return self._minor_version

    @property
    def request_count(self) -> int:
        """HTTP requests sent so far, retries and attachment downloads included."""
        with self._lock:
            return self._request_count

    @property
    def requests_by_endpoint(self) -> dict[str, int]:
        """Requests sent so far per ``"METHOD endpoint"`` (``"GET query"``, ``"POST batch"``)."""
        with self._lock:
            return dict(self._endpoint_counts)

    @property
    def last_intuit_tid(self) -> str | None:
        """The intuit_tid of the latest response (quote it to Intuit support)."""
        with self._lock:
            return self._last_intuit_tid

    def close(self) -> None:
        """Close the HTTP session if the client created it."""
        if self._owns_session:
            self._session.close()

    def __enter__(self) -> QboClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- entities -------------------------------------------------------------------------

    def create(
        self, entity: str, payload: Mapping[str, Any], request_id: str | None = None
    ) -> JsonDict:
        """Create an entity; returns it as QBO stored it (with ``Id`` and ``SyncToken``)."""
        name = _entity(entity)
        resp = self._call("POST", name.lower(), json_body=dict(payload), request_id=request_id)
        return self._entity_of(resp, name)

    def read(self, entity: str, entity_id: str) -> JsonDict:
        name = _entity(entity)
        resp = self._call("GET", f"{name.lower()}/{quote(str(entity_id), safe='')}")
        return self._entity_of(resp, name)

    def update(
        self,
        entity: str,
        payload: Mapping[str, Any],
        sparse: bool = True,
        request_id: str | None = None,
    ) -> JsonDict:
        """Update an entity; ``payload`` needs ``Id`` and the current ``SyncToken``.

        Sparse (the default) changes only the fields sent; a full update clears the writable
        fields left out. Line arrays are replaced whole either way.
        """
        name = _entity(entity)
        _require_id_and_sync_token(payload)
        body = {**payload, "sparse": sparse}
        resp = self._call("POST", name.lower(), json_body=body, request_id=request_id)
        return self._entity_of(resp, name)

    def delete(
        self, entity: str, entity_id: str, sync_token: str, request_id: str | None = None
    ) -> JsonDict:
        """Delete a transaction (or attachable); returns QBO's ``status: Deleted`` stub.

        Name lists (customers, vendors, items, accounts) cannot be deleted: update them with
        ``Active: false`` instead.
        """
        name = _entity(entity)
        body = {"Id": str(entity_id), "SyncToken": str(sync_token)}
        resp = self._call(
            "POST",
            name.lower(),
            params=(("operation", "delete"),),
            json_body=body,
            request_id=request_id,
        )
        return self._entity_of(resp, name)

    def void(
        self, entity: str, entity_id: str, sync_token: str, request_id: str | None = None
    ) -> JsonDict:
        """Void an Invoice, Payment, SalesReceipt or BillPayment; returns the voided entity.

        QBO voids an Invoice with ``?operation=void`` and the others with a sparse update and
        ``?operation=update&include=void``; the caller does not need to know.
        """
        name = _entity(entity)
        rule = _void_rule(name)
        resp = self._call(
            "POST",
            name.lower(),
            params=rule.params,
            json_body=_void_body(entity_id, sync_token, rule),
            request_id=request_id,
        )
        return self._entity_of(resp, name)

    def company_info(self) -> JsonDict:
        resp = self._call("GET", f"companyinfo/{self._realm_id}")
        return self._entity_of(resp, "CompanyInfo")

    def preferences(self) -> JsonDict:
        resp = self._call("GET", "preferences")
        return self._entity_of(resp, "Preferences")

    # -- queries --------------------------------------------------------------------------

    def query(self, statement: str | Query) -> list[JsonDict]:
        """Rows answered for one statement (one page: QBO returns at most 1000 rows)."""
        text = statement.build() if isinstance(statement, Query) else statement
        return _rows(self._query_response(text))

    def query_all(self, query: Query, page_size: int = MAX_PAGE_SIZE) -> Iterator[JsonDict]:
        """Every row, fetched page by page (STARTPOSITION/MAXRESULTS) until a short page.

        Give the query an ``order_by`` (``Id`` is a good choice) so pages do not shift while
        they are read.
        """
        start = 1
        while True:
            rows = self.query(query.build(start=start, max_results=page_size))
            yield from rows
            if len(rows) < page_size:
                return
            start += page_size

    def count(self, query: Query) -> int:
        """How many rows match ``query`` (``SELECT COUNT(*)`` and its ``totalCount``)."""
        answer = self._query_response(query.as_count().build())
        try:
            return int(answer.get("totalCount", 0))
        except (TypeError, ValueError) as exc:
            raise QboParseError("QuickBooks sent a count that is not a number") from exc

    def _query_response(self, statement: str) -> JsonDict:
        encoded = quote(statement, safe=_QUERY_SAFE)
        if len(self._company_url) + len(encoded) < MAX_QUERY_URL_CHARS:
            resp = self._call("GET", "query", params=(("query", statement),))
        else:
            resp = self._call(
                "POST", "query", body=statement.encode("utf-8"), content_type="application/text"
            )
        answer = self._json(resp).get("QueryResponse")
        if not isinstance(answer, dict):
            raise self._parse_error(resp, "the query answer has no QueryResponse")
        return answer

    # -- change data capture --------------------------------------------------------------

    def cdc(self, entities: Sequence[str], changed_since: datetime) -> dict[str, list[JsonDict]]:
        """Objects of ``entities`` changed since ``changed_since`` (timezone-aware).

        QBO looks back at most 30 days; an older cursor needs a full query instead.

        Returns a list per requested entity (empty when nothing changed). Deleted objects are
        kept as QBO sends them: stubs with ``"status": "Deleted"``, an ``Id`` and ``MetaData``.
        QBO caps one answer at 1000 objects; a caller that gets 1000 should ask for a shorter
        period.
        """
        if not entities:
            raise ValueError("cdc needs at least one entity")
        if changed_since.tzinfo is None or changed_since.utcoffset() is None:
            raise ValueError("changed_since must be timezone-aware")
        names = [_entity(name) for name in entities]
        params = (
            ("entities", ",".join(names)),
            ("changedSince", changed_since.isoformat(timespec="seconds")),
        )
        resp = self._call("GET", "cdc", params=params)
        body = self._json(resp)
        by_lower = {name.lower(): name for name in names}
        changes: dict[str, list[JsonDict]] = {name: [] for name in names}
        parts = body.get("CDCResponse")
        if not isinstance(parts, list):
            raise self._parse_error(resp, "the change answer has no CDCResponse")
        for part in parts:
            responses = part.get("QueryResponse") if isinstance(part, dict) else None
            for answer in responses if isinstance(responses, list) else []:
                if not isinstance(answer, dict):
                    continue
                for key, value in answer.items():
                    if key in _ROW_KEYS_TO_SKIP or not isinstance(value, list):
                        continue
                    target = by_lower.get(str(key).lower()) or str(key)
                    rows = [row for row in value if isinstance(row, dict)]
                    changes.setdefault(target, []).extend(rows)
        total = sum(len(rows) for rows in changes.values())
        if total >= 1000:
            logger.warning(
                "QBO change capture returned %d objects, its cap; narrow the period", total
            )
        return changes

    # -- batch ----------------------------------------------------------------------------

    def batch(
        self, items: Sequence[BatchItem], *, request_id: str | None = None
    ) -> list[BatchResult]:
        """Run ``items`` in batch requests of at most 30; one result per item, in order.

        Each request has its own requestid derived from its items (see
        :func:`_batch_request_id`), or ``request_id`` when the caller keeps one for a single
        request of at most 30 items (an outbox that must send the same rows again under the
        same requestid after a crash). A fault on one item becomes that item's ``error``; it is not
        raised. When a whole request fails (after the usual retries), its items and the items
        of the requests not yet sent carry that error, and results already obtained are kept:
        nothing done in QBO is lost to an exception. Only invalid items raise (ValueError).
        """
        seen: set[str] = set()
        for item in items:
            if not item.bid or len(item.bid) > MAX_BID_LENGTH:
                raise ValueError(f"bId must be 1-{MAX_BID_LENGTH} characters: {item.bid!r}")
            if item.bid in seen:
                raise ValueError(f"bId {item.bid!r} is used twice")
            seen.add(item.bid)
        if request_id is not None and len(items) > MAX_BATCH_ITEMS:
            raise ValueError(f"one requestid covers at most {MAX_BATCH_ITEMS} batch items")
        request_items = [item.to_json() for item in items]

        results: list[BatchResult] = []
        stopped_by: QboError | None = None
        for start in range(0, len(items), MAX_BATCH_ITEMS):
            chunk = items[start : start + MAX_BATCH_ITEMS]
            if stopped_by is not None:
                results.extend(BatchResult(item.bid, item, error=stopped_by) for item in chunk)
                continue
            chunk_json = request_items[start : start + MAX_BATCH_ITEMS]
            chunk_request_id = request_id or _batch_request_id(self._realm_id, chunk_json)
            try:
                resp = self._call(
                    "POST",
                    "batch",
                    json_body={"BatchItemRequest": chunk_json},
                    request_id=chunk_request_id,
                    kind="batch",
                )
                answers = self._json(resp).get("BatchItemResponse")
                if not isinstance(answers, list):
                    raise self._parse_error(resp, "the batch answer has no BatchItemResponse")
            except QboError as error:
                stopped_by = error
                results.extend(BatchResult(item.bid, item, error=error) for item in chunk)
                continue
            tid = intuit_tid_of(resp)
            by_bid = {
                str(answer.get("bId")): answer for answer in answers if isinstance(answer, dict)
            }
            results.extend(self._batch_result(item, by_bid.get(item.bid), tid) for item in chunk)
        return results

    @staticmethod
    def _batch_result(item: BatchItem, answer: JsonDict | None, tid: str | None) -> BatchResult:
        if answer is None:
            missing = QboParseError(
                f"QuickBooks sent no answer for batch item {item.bid}",
                http_status=200,
                intuit_tid=tid,
            )
            return BatchResult(item.bid, item, error=missing, intuit_tid=tid)
        error = item_error(answer, intuit_tid=tid)
        if error is not None:
            return BatchResult(item.bid, item, error=error, intuit_tid=tid)
        if item.statement is not None:
            data = answer.get("QueryResponse")
        elif item.entity is not None:
            data = _pick(answer, item.entity)
        else:
            data = None
        if not isinstance(data, dict):
            unreadable = QboParseError(
                f"QuickBooks's answer for batch item {item.bid} has no result",
                http_status=200,
                intuit_tid=tid,
            )
            return BatchResult(item.bid, item, error=unreadable, intuit_tid=tid)
        return BatchResult(item.bid, item, data=data, intuit_tid=tid)

    # -- attachments ----------------------------------------------------------------------

    def upload_attachment(
        self,
        file_name: str,
        content: bytes,
        content_type: str,
        attach_to: tuple[str, str] | None = None,
        request_id: str | None = None,
    ) -> JsonDict:
        """Upload a file, optionally linked to ``(entity, id)``; returns the new Attachable.

        Sent as QBO expects: multipart parts ``file_metadata_01`` (the Attachable as JSON) and
        ``file_content_01`` (the bytes). QBO reports a refused upload as HTTP 200 with a fault
        in ``AttachableResponse``; it is raised as the matching typed error.
        """
        metadata: JsonDict = {}
        if attach_to is not None:
            entity, entity_id = attach_to
            metadata["AttachableRef"] = [
                {"EntityRef": {"type": _entity(entity), "value": str(entity_id)}}
            ]
        metadata["FileName"] = file_name
        metadata["ContentType"] = content_type
        files = [
            (
                "file_metadata_01",
                ("attachment.json", json.dumps(metadata).encode(), "application/json"),
            ),
            ("file_content_01", (file_name, content, content_type)),
        ]
        resp = self._call("POST", "upload", files=files, content_type=None, request_id=request_id)
        entries = self._json(resp).get("AttachableResponse")
        first = entries[0] if isinstance(entries, list) and entries else None
        if not isinstance(first, dict):
            raise self._parse_error(resp, "the upload answer has no AttachableResponse")
        error = item_error(first, intuit_tid=intuit_tid_of(resp))
        if error is not None:
            raise error
        attachable = first.get("Attachable")
        if not isinstance(attachable, dict):
            raise self._parse_error(resp, "the upload answer has no Attachable")
        return attachable

    def download_attachment(self, attachable_id: str) -> bytes:
        """The file of an Attachable: QBO answers with a short-lived link, fetched untokened."""
        resp = self._call("GET", f"download/{quote(str(attachable_id), safe='')}")
        try:
            url = _temporary_url(resp.text)
        except QboParseError as exc:
            raise self._parse_error(resp, str(exc.message)) from None
        return self._fetch_temporary(url)

    def download_attachable(self, attachable: Mapping[str, Any]) -> bytes:
        """The file of an Attachable already read: its ``TempDownloadUri`` when present, and
        a fresh link through :meth:`download_attachment` when that one is missing or expired.
        """
        url = attachable.get("TempDownloadUri")
        attachable_id = attachable.get("Id")
        if isinstance(url, str) and url:
            try:
                return self._fetch_temporary(_temporary_url(url))
            except QboError as error:
                if attachable_id is None or error.retryable:
                    raise
                logger.info(
                    "QBO download link refused (HTTP %s); asking for a fresh one",
                    error.http_status,
                )
        if attachable_id is None:
            raise ValueError("the Attachable has neither a TempDownloadUri nor an Id")
        return self.download_attachment(str(attachable_id))

    # -- transport ------------------------------------------------------------------------

    def _call(
        self,
        method: str,
        path: str,
        *,
        params: Sequence[tuple[str, str]] = (),
        json_body: Any = None,
        body: bytes | None = None,
        files: Sequence[tuple[str, tuple[str, Any, str]]] | None = None,
        content_type: str | None = "application/json",
        request_id: str | None = None,
        kind: RequestKind = "request",
    ) -> requests.Response:
        """Send one API call (with retries). Every POST is a write and carries a requestid."""
        query: list[tuple[str, str]] = [("minorversion", str(self._minor_version)), *params]
        if method == "POST" and path != "query":
            limit = MAX_BATCH_REQUEST_ID_LENGTH if path == "batch" else MAX_REQUEST_ID_LENGTH
            rid = _check_request_id(request_id, limit) if request_id else str(uuid.uuid4())
            query.append(("requestid", rid))
        url = f"{self._company_url}/{path}?{_encode_params(query)}"
        if json_body is not None:
            body = json.dumps(json_body, separators=(",", ":")).encode("ascii")
        endpoint = f"{method} {path.split('/', 1)[0]}"
        return self._send(method, url, path, endpoint, body, files, content_type, kind)

    def _send(
        self,
        method: str,
        url: str,
        path: str,
        endpoint: str,
        body: bytes | None,
        files: Sequence[tuple[str, tuple[str, Any, str]]] | None,
        content_type: str | None,
        kind: RequestKind,
    ) -> requests.Response:
        target = f"{method} /{path}"
        retries = 0
        refreshed = False
        token: str | None = None
        while True:
            pacing = (
                self._rate_limiter.request(kind)
                if self._rate_limiter is not None
                else contextlib.nullcontext(0.0)
            )
            with pacing:
                if token is None:  # asked after any wait, so a token about to expire is renewed
                    token = self._tokens.access_token()
                headers = {"Accept": "application/json", "Authorization": f"Bearer {token}"}
                if content_type is not None:
                    headers["Content-Type"] = content_type
                started = self._clock()
                failure: QboTransportError | None = None
                try:
                    resp = self._session.request(
                        method,
                        url,
                        data=body,
                        files=files,
                        headers=headers,
                        timeout=self._timeout,
                        allow_redirects=False,
                    )
                except requests.exceptions.RequestException as exc:
                    failure = QboTransportError(f"{type(exc).__name__}: {exc}", secrets=(token,))
                    transient = isinstance(exc, _TRANSIENT_TRANSPORT_ERRORS)
            # Raised here, outside the handler, so the requests exception (which holds the
            # prepared request and its Authorization header) is not kept as the context.
            if failure is not None:
                self._count(endpoint)
                logger.debug(
                    "QBO %s -> %s after %.0f ms",
                    target,
                    failure.message.split(":", 1)[0],
                    (self._clock() - started) * 1000,
                )
                if transient and retries < self._max_retries:
                    retries += 1
                    self._wait_before_retry(target, failure, self._backoff(retries), retries)
                    token = None
                    continue
                raise failure

            self._count(endpoint)
            tid = intuit_tid_of(resp)
            if tid:
                with self._lock:
                    self._last_intuit_tid = tid
            logger.debug(
                "QBO %s -> %d intuit_tid=%s %.0f ms",
                target,
                resp.status_code,
                tid or "-",
                (self._clock() - started) * 1000,
            )
            if resp.status_code == 401 and not refreshed:
                refreshed = True
                token = self._tokens.refresh_after_unauthorized(token)
                continue
            error = from_response(resp, secrets=(token,))
            if error is None:
                return resp
            if retries < self._max_retries:
                if isinstance(error, QboThrottledError):
                    retries += 1
                    if self._rate_limiter is not None:
                        # The limiter holds every request to this company until there is room,
                        # rather than this one sleeping a fixed minute while others carry on.
                        asked = error.retry_after if "Retry-After" in resp.headers else 0.0
                        pause = self._rate_limiter.throttled(at_least=asked)
                        logger.info(
                            "QBO %s throttled; requests paused %.1f s (retry %d of %d)",
                            target,
                            pause,
                            retries,
                            self._max_retries,
                        )
                    else:
                        self._wait_before_retry(target, error, error.retry_after, retries)
                    token = None
                    continue
                if isinstance(error, QboServerError) and resp.status_code >= 500:
                    retries += 1
                    self._wait_before_retry(target, error, self._backoff(retries), retries)
                    token = None
                    continue
            raise error

    def _fetch_temporary(self, url: str) -> bytes:
        """GET a pre-signed download link: no token, no QBO pacing, retried like API calls."""
        target = f"GET download link on {urlsplit(url).netloc}"
        retries = 0
        while True:
            started = self._clock()
            failure: QboTransportError | None = None
            try:
                # Authorization=None drops any session-wide header: the link is the credential.
                resp = self._session.get(
                    url,
                    headers={"Accept": "*/*", "Authorization": None},
                    timeout=self._timeout,
                )
            except requests.exceptions.RequestException as exc:
                failure = QboTransportError(f"{type(exc).__name__} during {target}")
                transient = isinstance(exc, _TRANSIENT_TRANSPORT_ERRORS)
            if failure is not None:
                self._count("GET download-link")
                if transient and retries < self._max_retries:
                    retries += 1
                    self._wait_before_retry(target, failure, self._backoff(retries), retries)
                    continue
                raise failure
            self._count("GET download-link")
            logger.debug(
                "QBO %s -> %d %.0f ms",
                target,
                resp.status_code,
                (self._clock() - started) * 1000,
            )
            if resp.status_code < 300:
                return resp.content
            if resp.status_code >= 500 and retries < self._max_retries:
                retries += 1
                server = QboServerError(f"HTTP {resp.status_code}", http_status=resp.status_code)
                self._wait_before_retry(target, server, self._backoff(retries), retries)
                continue
            cls = QboServerError if resp.status_code >= 500 else QboError
            raise cls(
                f"the download link answered HTTP {resp.status_code} (it may have expired)",
                http_status=resp.status_code,
            )

    def _wait_before_retry(self, target: str, error: QboError, delay: float, attempt: int) -> None:
        logger.info(
            "QBO %s failed (%s); retry %d of %d in %.1f s",
            target,
            error,
            attempt,
            self._max_retries,
            delay,
        )
        self._sleep(delay)

    def _backoff(self, attempt: int) -> float:
        """Exponential backoff with "equal jitter": half fixed, half random."""
        ceiling = min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * 2.0 ** (attempt - 1))
        return ceiling / 2 + self._jitter() * ceiling / 2

    def _count(self, endpoint: str) -> None:
        with self._lock:
            self._request_count += 1
            self._endpoint_counts[endpoint] += 1

    # -- response reading -----------------------------------------------------------------

    def _json(self, resp: requests.Response) -> JsonDict:
        try:
            body = resp.json()
        except ValueError:
            raise self._parse_error(resp, "the answer is not JSON") from None
        if not isinstance(body, dict):
            raise self._parse_error(resp, "the answer is not a JSON object")
        return body

    def _entity_of(self, resp: requests.Response, name: str) -> JsonDict:
        entity = _pick(self._json(resp), name)
        if not isinstance(entity, dict):
            raise self._parse_error(resp, f"the answer has no {name}")
        return entity

    @staticmethod
    def _parse_error(resp: requests.Response, what: str) -> QboParseError:
        return QboParseError(
            f"{what} (HTTP {resp.status_code})",
            http_status=resp.status_code,
            intuit_tid=intuit_tid_of(resp),
        )
