"""Typed QuickBooks Online faults, parsed from every shape QBO answers with.

QBO reports a failure in several envelopes (QBO API reference, sections 8 and 9):

* the standard JSON fault ``{"Fault": {"Error": [{"Message", "Detail", "code", "element"}],
  "type": "ValidationFault"}}``, at the top level or inside ``QueryResponse``/``CDCResponse``;
* the 401 body, lower-camel: ``{"fault": {"error": [{"message", "detail", "code", "element":
  null}], "type": "AUTHENTICATION"}, ...}``;
* XML, even when JSON was asked for (429 throttling, older authentication faults):
  ``<IntuitResponse><Fault type="SERVICE"><Error code="3001"><Message>…``;
* HTTP 200 with a fault per item, inside ``BatchItemResponse`` and ``AttachableResponse``.

Every error keeps all of QBO's ``Error`` entries (``errors``); the first one is the primary and
fills ``code``, ``message``, ``detail`` and ``element``. Texts are redacted when the error is built:
QBO's 401 detail quotes the rejected token ("Token expired: AB0160…"), so no field and no
``str(exc)`` can carry a token, an Authorization header or a signed download link.

The fault shapes are read, and texts redacted, in `qbo.fault_shapes`.
"""

from __future__ import annotations

import email.utils
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, ClassVar

from factor_desktop.qbo.fault_shapes import FaultDetail, _fault_in, _parsed_fault, redact

if TYPE_CHECKING:
    # Only the responses' type: the window shows these errors long before it sends a request.
    import requests

__all__ = [
    "DEFAULT_THROTTLE_WAIT_SECONDS",
    "DuplicateDocNumberError",
    "DuplicateNameError",
    "FaultDetail",
    "InvalidReferenceError",
    "ObjectNotFoundError",
    "QboAuthError",
    "QboError",
    "QboParseError",
    "QboServerError",
    "QboThrottledError",
    "QboTransportError",
    "QboValidationError",
    "StaleObjectError",
    "UnsupportedOperationError",
    "error_for_fault",
    "from_response",
    "intuit_tid_of",
    "item_error",
    "redact",
    "retry_after_seconds",
]

#: Intuit: "wait 60 seconds before retrying" after a 429; QBO sends no Retry-After header.
DEFAULT_THROTTLE_WAIT_SECONDS = 60.0
#: A Retry-After longer than this is treated as this long (a bad header must not park the app).
MAX_THROTTLE_WAIT_SECONDS = 900.0

THROTTLE_CODE = "3001"
_AUTH_FAULT_TYPES = frozenset({"authentication", "authenticationfault", "authorizationfault"})
_BODY_SNIPPET_CHARS = 200


# --------------------------------------------------------------------------------------------
# The exceptions
# --------------------------------------------------------------------------------------------


class QboError(Exception):
    """Base of every failure of a QBO call.

    Attributes: ``code`` (QBO's error code as a string, "" when QBO gave none), ``message``,
    ``detail``, ``element`` (the offending field, "" when not given), ``intuit_tid`` (QBO's
    transaction id for support, when a response arrived), ``http_status`` (None when no response
    arrived), ``fault_type`` (``ValidationFault``, ``AUTHENTICATION``, ``SERVICE``… or "") and
    ``errors`` (every ``Error`` entry; the first one is the primary).
    """

    #: The start of the admin-readable sentence.
    summary: ClassVar[str] = "The QuickBooks request failed"
    #: Whether repeating the same request (same requestid) may succeed.
    retryable: ClassVar[bool] = False

    def __init__(
        self,
        message: str,
        *,
        code: str = "",
        detail: str = "",
        element: str = "",
        intuit_tid: str | None = None,
        http_status: int | None = None,
        fault_type: str = "",
        errors: Iterable[FaultDetail] = (),
        secrets: Iterable[str] = (),
    ) -> None:
        keep = tuple(secrets)
        given = tuple(errors) or (
            FaultDetail(code=code, message=message, detail=detail, element=element),
        )
        entries = tuple(entry.redacted(keep) for entry in given)
        primary = entries[0]
        self.code: str = primary.code
        self.message: str = primary.message
        self.detail: str = primary.detail
        self.element: str = primary.element
        self.errors: tuple[FaultDetail, ...] = entries
        self.intuit_tid: str | None = intuit_tid
        self.http_status: int | None = http_status
        self.fault_type: str = fault_type
        super().__init__(self.message)

    def __str__(self) -> str:
        text = self.message.strip().rstrip(".") or "no message"
        detail = self.detail.strip()
        if detail and detail != self.message.strip():
            text = f"{text}. {detail}"
        facts: list[str] = []
        if self.element:
            facts.append(f"field {self.element}")
        if self.code:
            facts.append(f"QBO error {self.code}")
        if self.http_status is not None:
            facts.append(f"HTTP {self.http_status}")
        facts.append(f"intuit_tid {self.intuit_tid or 'none'}")
        extra = len(self.errors) - 1
        if extra > 0:
            facts.append(f"{extra} more error{'s' if extra > 1 else ''}")
        return f"{self.summary}: {text} ({', '.join(facts)})"

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(code={self.code!r}, message={self.message!r}, "
            f"http_status={self.http_status!r}, intuit_tid={self.intuit_tid!r})"
        )


class QboAuthError(QboError):
    """The connection's credentials were refused (HTTP 401/403, codes below 500, AUTHENTICATION).

    Seen after a refresh failed or the company disconnected the app: the user must reconnect.
    """

    summary = "QuickBooks refused the connection's sign-in"


class QboValidationError(QboError):
    """QBO refused the request itself (HTTP 400 or a 200 with a fault): fix data, do not retry.

    Covers the 500-599 "unsupported operation" codes, 600-1999 general faults, 2000-4999
    validation (query parse errors included) and the 5000+ business rules.
    """

    summary = "QuickBooks rejected the request"


class UnsupportedOperationError(QboValidationError):
    """Codes 500-599: a path or operation QBO does not offer (HTTP 400 despite the code)."""

    summary = "QuickBooks does not support this operation"


class ObjectNotFoundError(QboValidationError):
    """Code 610: the object was deleted, or something it references was made inactive."""

    CODE: ClassVar[str] = "610"
    summary = "QuickBooks could not find an object the request uses"


class InvalidReferenceError(QboValidationError):
    """Code 2500: a reference points at an id that is inactive, unknown or unusable here."""

    CODE: ClassVar[str] = "2500"
    summary = "QuickBooks refused a reference in the request"


class StaleObjectError(QboValidationError):
    """Code 5010: the SyncToken is out of date; somebody changed the object first."""

    CODE: ClassVar[str] = "5010"
    summary = "QuickBooks has a newer version of this record"


class DuplicateDocNumberError(QboValidationError):
    """Code 6140: the document number is already used by another transaction."""

    CODE: ClassVar[str] = "6140"
    summary = "QuickBooks already has a transaction with this number"


class DuplicateNameError(QboValidationError):
    """Code 6240: the name is used by a customer, vendor or employee (inactive ones included)."""

    CODE: ClassVar[str] = "6240"
    summary = "QuickBooks already has a customer, vendor or employee with this name"


class QboThrottledError(QboError):
    """HTTP 429 (or fault 3001 ThrottleExceeded): too many requests; wait ``retry_after`` s."""

    summary = "QuickBooks asked Factor Desktop to slow down"
    retryable = True

    def __init__(
        self,
        message: str,
        *,
        retry_after: float = DEFAULT_THROTTLE_WAIT_SECONDS,
        **kwargs: Any,
    ) -> None:
        super().__init__(message, **kwargs)
        self.retry_after: float = retry_after

    def __str__(self) -> str:
        return f"{super().__str__()}; retry after {self.retry_after:g} s"


class QboServerError(QboError):
    """HTTP 5xx: a failure inside QBO. Safe to repeat with the same requestid."""

    summary = "QuickBooks had a problem on its side"
    retryable = True


class QboTransportError(QboError):
    """No usable response: timeout, refused or dropped connection, broken TLS."""

    summary = "Factor Desktop could not reach QuickBooks"
    retryable = True


class QboParseError(QboError):
    """A response arrived but its body could not be read (not JSON, no recognisable fault)."""

    summary = "QuickBooks sent a reply Factor Desktop could not read"


_CODE_CLASSES: dict[str, type[QboValidationError]] = {
    cls.CODE: cls
    for cls in (
        ObjectNotFoundError,
        InvalidReferenceError,
        StaleObjectError,
        DuplicateDocNumberError,
        DuplicateNameError,
    )
}


# --------------------------------------------------------------------------------------------
# Classification
# --------------------------------------------------------------------------------------------


def _code_number(code: str) -> int | None:
    code = code.strip()
    return int(code) if code.isdigit() else None


def _is_throttle(http_status: int | None, errors: tuple[FaultDetail, ...]) -> bool:
    if http_status == 429:
        return True
    primary = errors[0] if errors else None
    if primary is None:
        return False
    return primary.code.strip() == THROTTLE_CODE or "throttleexceeded" in primary.message.lower()


def error_for_fault(
    fault_type: str,
    errors: Iterable[FaultDetail],
    *,
    http_status: int | None,
    intuit_tid: str | None,
    retry_after: float = DEFAULT_THROTTLE_WAIT_SECONDS,
    secrets: Iterable[str] = (),
) -> QboError:
    """The typed error for a parsed fault; the first error entry decides the class.

    Order matters: throttling first (QBO once sent it as 403, and its code 3001 sits in the
    validation range), then authentication (401, 403, AUTHENTICATION faults, codes 1-499),
    then server errors (HTTP 5xx), then the validation family by code.
    """
    entries = tuple(errors) or (FaultDetail(code="", message="QuickBooks returned an error"),)
    kwargs: dict[str, Any] = {
        "errors": entries,
        "http_status": http_status,
        "intuit_tid": intuit_tid,
        "fault_type": fault_type,
        "secrets": tuple(secrets),
    }
    primary = entries[0]
    if _is_throttle(http_status, entries):
        return QboThrottledError(primary.message, retry_after=retry_after, **kwargs)
    number = _code_number(primary.code)
    if (
        http_status in (401, 403)
        or fault_type.strip().lower() in _AUTH_FAULT_TYPES
        or (number is not None and 0 < number < 500)
    ):
        return QboAuthError(primary.message, **kwargs)
    if http_status is not None and http_status >= 500:
        return QboServerError(primary.message, **kwargs)
    cls: type[QboValidationError] = _CODE_CLASSES.get(primary.code.strip(), QboValidationError)
    if cls is QboValidationError and number is not None and 500 <= number <= 599:
        cls = UnsupportedOperationError
    return cls(primary.message, **kwargs)


# --------------------------------------------------------------------------------------------
# Parsing
# --------------------------------------------------------------------------------------------


def intuit_tid_of(resp: requests.Response) -> str | None:
    """QBO's transaction id of a response (header ``intuit_tid``, also sent as ``Intuit-Tid``)."""
    for name in ("intuit_tid", "Intuit-Tid"):
        value = resp.headers.get(name)
        if value:
            return value.strip()
    return None


def retry_after_seconds(resp: requests.Response, *, now: datetime | None = None) -> float:
    """Seconds to wait from a ``Retry-After`` header (seconds or HTTP date), else 60."""
    raw = (resp.headers.get("Retry-After") or "").strip()
    if not raw:
        return DEFAULT_THROTTLE_WAIT_SECONDS
    try:
        seconds = float(raw)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(raw)
        except (TypeError, ValueError):
            return DEFAULT_THROTTLE_WAIT_SECONDS
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - (now or datetime.now(UTC))).total_seconds()
    if seconds != seconds:  # NaN
        return DEFAULT_THROTTLE_WAIT_SECONDS
    return min(max(seconds, 0.0), MAX_THROTTLE_WAIT_SECONDS)


def _body_snippet(resp: requests.Response) -> str:
    text = resp.content[: _BODY_SNIPPET_CHARS * 4].decode("utf-8", errors="replace")
    text = " ".join(text.split())
    if len(text) > _BODY_SNIPPET_CHARS:
        text = text[:_BODY_SNIPPET_CHARS] + "…"
    return text


def from_response(resp: requests.Response, *, secrets: Iterable[str] = ()) -> QboError | None:
    """The typed error ``resp`` carries, or None when it is a success.

    A response is a failure when its status is 400 or above, or when a 2xx body carries a fault
    for the whole request: top-level ``Fault`` (JSON, lower-camel or XML), a fault inside
    ``QueryResponse`` or ``CDCResponse``, or an ``AttachableResponse`` whose entries are all
    faults. A batch answer is never a failure as a whole: its per-item faults are read with
    :func:`item_error`. ``secrets`` are exact strings (the token sent) to redact as well.
    """
    keep = tuple(secrets)
    status = resp.status_code
    tid = intuit_tid_of(resp)
    wait = retry_after_seconds(resp)
    parsed = _parsed_fault(resp)
    if parsed is not None:
        fault_type, errors = parsed
        return error_for_fault(
            fault_type,
            errors,
            http_status=status,
            intuit_tid=tid,
            retry_after=wait,
            secrets=keep,
        )
    if status < 400:
        return None
    reason = resp.reason or "error"
    snippet = _body_snippet(resp)
    message = f"HTTP {status} {reason}" + (f": {snippet}" if snippet else "")
    common: dict[str, Any] = {"http_status": status, "intuit_tid": tid, "secrets": keep}
    if status == 429:
        return QboThrottledError(message, retry_after=wait, **common)
    if status in (401, 403):
        return QboAuthError(message, **common)
    if status >= 500:
        return QboServerError(message, **common)
    return QboParseError(message, **common)


def item_error(
    item: Mapping[str, Any],
    *,
    intuit_tid: str | None,
    http_status: int = 200,
    secrets: Iterable[str] = (),
) -> QboError | None:
    """The typed error of one ``BatchItemResponse`` or ``AttachableResponse`` entry, if any."""
    found = _fault_in(item)
    if found is None:
        return None
    fault_type, errors = found
    return error_for_fault(
        fault_type, errors, http_status=http_status, intuit_tid=intuit_tid, secrets=secrets
    )
