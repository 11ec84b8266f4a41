"""The shapes of a QBO fault, read into :class:`FaultDetail` entries: the JSON fault at the top
level or inside ``QueryResponse``, ``CDCResponse`` or ``AttachableResponse``, the 401's
lower-camel fault, and XML (well-formed or not); and the redaction every text of a fault goes
through. The typed errors built from them are in `qbo.errors`, which exports these too.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from factor_desktop.logs import REDACTED
from factor_desktop.logs import redact as redact_known_secrets

if TYPE_CHECKING:
    import requests

_XML_FAULT_MAX_BYTES = 256 * 1024


# --------------------------------------------------------------------------------------------
# Redaction
# --------------------------------------------------------------------------------------------

# The project-wide redaction (factor_desktop.logs) masks registered secrets, bearer and Basic
# headers, OAuth token fields, JWTs and Intuit refresh tokens. QBO texts add a few shapes of
# their own, masked here on top.
_QBO_REDACTIONS: tuple[tuple[re.Pattern[str], str], ...] = (
    # Texts that quote a token: "Token expired: AB0160…", "Refresh token not found: AB11…"
    (re.compile(r"(?i)(\btoken\b[\w ]{0,40}?:\s*)[^\s,;\"'<>]+"), r"\1" + REDACTED),
    # Pre-signed download links (TempDownloadUri) carry a credential and a signature
    (
        re.compile(r"(?i)(X-Amz-(?:Signature|Credential|Security-Token)=)[^&\s\"'<>]+"),
        r"\1" + REDACTED,
    ),
)
# Long opaque runs of letters and digits (tokens, signatures). Hyphens and dots break a run, so
# intuit_tids, UUIDs, Java class names and numeric ids stay readable.
_OPAQUE_RUN = re.compile(r"[A-Za-z0-9_+/=]{32,}")


def _redact_opaque(match: re.Match[str]) -> str:
    run = match.group(0)
    has_letter = any(ch.isalpha() for ch in run)
    has_digit = any(ch.isdigit() for ch in run)
    return REDACTED if has_letter and has_digit else run


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """``text`` with tokens, credentials and signatures replaced by ``[redacted]``.

    ``secrets`` are exact strings to remove as well (for example the access token just sent);
    strings shorter than 8 characters are ignored so that a short value cannot blank out words.
    """
    for secret in secrets:
        if secret and len(secret) >= 8:
            text = text.replace(secret, REDACTED)
    text = redact_known_secrets(text)
    for pattern, replacement in _QBO_REDACTIONS:
        text = pattern.sub(replacement, text)
    return _OPAQUE_RUN.sub(_redact_opaque, text)


@dataclass(frozen=True)
class FaultDetail:
    """One ``Error`` entry of a QBO fault. ``code`` is a string, as QBO sends it."""

    code: str
    message: str
    detail: str = ""
    element: str = ""

    def redacted(self, secrets: Iterable[str] = ()) -> FaultDetail:
        keep = tuple(secrets)
        return FaultDetail(
            code=redact(self.code, keep),
            message=redact(self.message, keep),
            detail=redact(self.detail, keep),
            element=redact(self.element, keep),
        )


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _errors_from_json(raw: Any) -> tuple[FaultDetail, ...]:
    items = raw if isinstance(raw, list) else [raw] if isinstance(raw, Mapping) else []
    found: list[FaultDetail] = []
    for item in items:
        if not isinstance(item, Mapping):
            continue
        keys = {str(key).lower(): value for key, value in item.items()}
        found.append(
            FaultDetail(
                code=_text(keys.get("code")),
                message=_text(keys.get("message")),
                detail=_text(keys.get("detail")),
                element=_text(keys.get("element")),
            )
        )
    return tuple(found)


def _fault_in(container: Mapping[str, Any]) -> tuple[str, tuple[FaultDetail, ...]] | None:
    """The fault directly inside ``container`` (``Fault`` or the 401's lower-camel ``fault``)."""
    fault = container.get("Fault")
    if fault is None:
        fault = container.get("fault")
    if not isinstance(fault, Mapping):
        return None
    keys = {str(key).lower(): value for key, value in fault.items()}
    return _text(keys.get("type")), _errors_from_json(keys.get("error"))


def _fault_in_body(body: Mapping[str, Any]) -> tuple[str, tuple[FaultDetail, ...]] | None:
    """A fault that makes the whole response a failure, wherever QBO put it."""
    found = _fault_in(body)
    if found is not None:
        return found
    query = body.get("QueryResponse")
    if isinstance(query, Mapping):
        found = _fault_in(query)
        if found is not None:
            return found
    cdc = body.get("CDCResponse")
    if isinstance(cdc, list):
        for part in cdc:
            if isinstance(part, Mapping) and (found := _fault_in(part)) is not None:
                return found
    attachables = body.get("AttachableResponse")
    if isinstance(attachables, list) and attachables:
        # One upload, one entry: when no entry carries an Attachable, the upload failed.
        entries = [entry for entry in attachables if isinstance(entry, Mapping)]
        if entries and not any("Attachable" in entry for entry in entries):
            for entry in entries:
                if (found := _fault_in(entry)) is not None:
                    return found
    return None


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


_XML_ERROR_OPEN = re.compile(r"<(?:\w+:)?Error\b([^>]*)>")
_XML_ATTR = re.compile(r"""(\w+)\s*=\s*["']([^"']*)["']""")
_XML_CHILD = re.compile(r"<(?:\w+:)?(Message|Detail|Element)>(.*?)</(?:\w+:)?\1>", re.S)
_XML_FAULT_TYPE = re.compile(r"""<(?:\w+:)?Fault\b[^>]*\btype\s*=\s*["']([^"']*)["']""")


def _xml_fault(data: bytes) -> tuple[str, tuple[FaultDetail, ...]] | None:
    """A fault from an XML body; tolerant of the malformed XML QBO has been seen to send."""
    if len(data) > _XML_FAULT_MAX_BYTES:
        return None
    try:
        root = ET.fromstring(data)
    except ET.ParseError:
        return _xml_fault_by_pattern(data.decode("utf-8", errors="replace"))
    fault = next((el for el in root.iter() if _local(el.tag) == "Fault"), None)
    if fault is None:
        return None
    errors: list[FaultDetail] = []
    for error in fault:
        if _local(error.tag) != "Error":
            continue
        children = {_local(child.tag): (child.text or "").strip() for child in error}
        errors.append(
            FaultDetail(
                code=error.get("code", "").strip(),
                message=children.get("Message", ""),
                detail=children.get("Detail", ""),
                element=error.get("element", "") or children.get("Element", ""),
            )
        )
    return fault.get("type", ""), tuple(errors)


def _xml_fault_by_pattern(text: str) -> tuple[str, tuple[FaultDetail, ...]] | None:
    """Read a fault from XML the parser refused (for example an ``Error`` never closed)."""
    type_match = _XML_FAULT_TYPE.search(text)
    if type_match is None:
        return None
    openings = list(_XML_ERROR_OPEN.finditer(text))
    errors: list[FaultDetail] = []
    for index, opening in enumerate(openings):
        end = openings[index + 1].start() if index + 1 < len(openings) else len(text)
        attributes = dict(_XML_ATTR.findall(opening.group(1)))
        children = {
            name: value.strip() for name, value in _XML_CHILD.findall(text[opening.end() : end])
        }
        errors.append(
            FaultDetail(
                code=attributes.get("code", "").strip(),
                message=children.get("Message", ""),
                detail=children.get("Detail", ""),
                element=attributes.get("element", "") or children.get("Element", ""),
            )
        )
    return type_match.group(1), tuple(errors)


def _parsed_fault(resp: requests.Response) -> tuple[str, tuple[FaultDetail, ...]] | None:
    data = resp.content or b""
    stripped = data.lstrip()
    if stripped.startswith(b"<"):
        return _xml_fault(stripped)
    if not stripped.startswith((b"{", b"[")):
        return None
    if resp.status_code < 400 and b'"Fault"' not in data and b'"fault"' not in data:
        return None  # a success without any fault key: skip parsing a possibly large body
    try:
        body = json.loads(data)
    except ValueError:
        return None
    if isinstance(body, Mapping):
        return _fault_in_body(body)
    return None
