"""The HTTP side of the QuickBooks Online client: the company URL, the token, requestids, pacing,
retries with backoff, the counters, and reading answers. `QboClient` (qbo/client.py) builds the
API calls on it; the failure handling it implements is described there.
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
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Self
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
)
from .ratelimit import RateLimiter, RequestKind

JsonDict = dict[str, Any]

#: The one place the API minor version is chosen. QBO ignores anything below 75 since
#: 2025-08-01 and answers as 75; sending it explicitly keeps answers stable.
DEFAULT_MINOR_VERSION = 75
MAX_REQUEST_ID_LENGTH = 50
MAX_BATCH_REQUEST_ID_LENGTH = 36
BACKOFF_BASE_SECONDS = 1.0
BACKOFF_CAP_SECONDS = 30.0

logger = logging.getLogger("factor_desktop.qbo")

# Characters left unescaped in query-string values, as in QBO's recorded traffic
# (``SELECT%20*%20FROM%20Customer%20WHERE%20Id%20IN%20(%275%27,%20%276%27)``).
_QUERY_SAFE = "*=(),:"
_ENTITY_NAME = re.compile(r"^[A-Z][A-Za-z0-9]*$")
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]+$")
_REALM_ID = re.compile(r"^[A-Za-z0-9_-]+$")
_TRANSIENT_TRANSPORT_ERRORS = (
    requests.exceptions.ConnectionError,
    requests.exceptions.Timeout,
    requests.exceptions.ChunkedEncodingError,
)
_ROW_KEYS_TO_SKIP = frozenset({"startPosition", "maxResults", "totalCount"})


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


class QboTransport:
    """Sends the calls of one QBO company (realm): the base of :class:`QboClient`, with its
    constructor. Safe to share between threads."""

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

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

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
