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

import json
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any
from urllib.parse import quote, urlsplit

from .batch import (
    MAX_BATCH_ITEMS,
    MAX_BID_LENGTH,
    BatchItem,
    BatchResult,
    _batch_request_id,
    _void_body,
    _void_rule,
)
from .errors import QboError, QboParseError, intuit_tid_of, item_error
from .query import MAX_PAGE_SIZE, Query
from .transport import (
    _QUERY_SAFE,
    _ROW_KEYS_TO_SKIP,
    DEFAULT_MINOR_VERSION,
    JsonDict,
    QboTransport,
    _entity,
    _pick,
    _require_id_and_sync_token,
    _rows,
    logger,
)

__all__ = [
    "DEFAULT_MINOR_VERSION",
    "MAX_BATCH_ITEMS",
    "BatchItem",
    "BatchResult",
    "JsonDict",
    "QboClient",
]

#: Longer query statements go in a POST body instead of the URL.
MAX_QUERY_URL_CHARS = 4000


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


class QboClient(QboTransport):
    """Calls for one QBO company (realm). Safe to share between threads.

    ``base_url`` is the API host (``https://quickbooks.api.intuit.com``, the sandbox host, or the
    local sandbox). ``rate_limiter`` should be shared by every client of the same realm; without
    one the client does not pace itself. ``sleep``, ``clock`` and ``jitter`` (a source of floats
    in [0, 1)) are injectable so tests never wait.
    """

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
