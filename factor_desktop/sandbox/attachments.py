"""File attachments: multipart upload, temporary download links and the files behind them.

Temporary links imitate QBO's pre-signed S3 URLs: they carry their signing time and a 900 s
lifetime, are signed with a secret kept in the company database, and stop working once the
sandbox clock has moved past their expiry.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import mimetypes
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.parser import BytesHeaderParser
from typing import Any
from urllib.parse import quote, urlencode

from . import faults
from .clock import SandboxClock
from .company import Company, clean
from .entities import BY_NAME
from .store import JsonDict, Record

TEMP_URL_LIFETIME_S = 900
DOWNLOAD_PREFIX = "/attachments"
_PART_NAME = re.compile(r"^file_(metadata|content)_(\d+)$")


@dataclass
class Part:
    name: str
    filename: str | None
    content_type: str | None
    data: bytes


@dataclass
class Upload:
    metadata: JsonDict | None = None
    content: Part | None = None
    errors: list[str] = field(default_factory=list)


def parse_multipart(body: bytes, content_type: str) -> list[Part]:
    """Split a multipart/form-data body, honouring ``Content-Transfer-Encoding: base64``."""
    match = re.search(r'boundary="?([^";]+)"?', content_type, re.IGNORECASE)
    if match is None:
        raise faults.malformed_request("multipart boundary missing")
    delimiter = b"--" + match.group(1).encode("latin-1")
    parts: list[Part] = []
    for chunk in body.split(delimiter)[1:]:
        if chunk.startswith(b"--"):
            break
        chunk = chunk[2:] if chunk.startswith(b"\r\n") else chunk.lstrip(b"\n")
        head, sep, data = chunk.partition(b"\r\n\r\n")
        if not sep:
            head, sep, data = chunk.partition(b"\n\n")
        if data.endswith(b"\r\n"):
            data = data[:-2]
        elif data.endswith(b"\n"):
            data = data[:-1]
        headers = BytesHeaderParser().parsebytes(head + b"\r\n\r\n")
        disposition = headers.get("Content-Disposition", "")
        name = _disposition_param(disposition, "name")
        if name is None:
            continue
        encoding = (headers.get("Content-Transfer-Encoding") or "").strip().lower()
        if encoding == "base64":
            try:
                data = base64.b64decode(b"".join(data.split()), validate=True)
            except binascii.Error:
                raise faults.malformed_request(f"{name} is not valid base64") from None
        parts.append(
            Part(
                name=name,
                filename=_disposition_param(disposition, "filename"),
                content_type=headers.get("Content-Type"),
                data=data,
            )
        )
    return parts


def _disposition_param(disposition: str, key: str) -> str | None:
    match = re.search(rf'(?:^|;)\s*{key}="([^"]*)"', disposition) or re.search(
        rf"(?:^|;)\s*{key}=([^;\s]+)", disposition
    )
    return None if match is None else match.group(1)


def group_uploads(parts: list[Part]) -> list[Upload]:
    """Pair ``file_metadata_NN`` with ``file_content_NN`` (metadata alone or content alone too)."""
    uploads: dict[str, Upload] = {}
    order: list[str] = []
    for part in parts:
        match = _PART_NAME.match(part.name)
        if match is None:
            continue
        kind, number = match.group(1), match.group(2)
        if number not in uploads:
            uploads[number] = Upload()
            order.append(number)
        upload = uploads[number]
        if kind == "content":
            upload.content = part
        else:
            try:
                metadata: Any = json.loads(part.data.decode("utf-8"))
            except (UnicodeDecodeError, ValueError):
                upload.errors.append(f"{part.name} is not valid JSON")
                continue
            if not isinstance(metadata, dict):
                upload.errors.append(f"{part.name} must be a JSON object")
                continue
            upload.metadata = clean(metadata)
    return [uploads[n] for n in order]


def store_upload(company: Company, upload: Upload) -> JsonDict:
    """Create the Attachable for one uploaded file; raises QBOFault on a refused file."""
    if upload.errors:
        raise faults.malformed_request(upload.errors[0])
    rule = BY_NAME["Attachable"]
    metadata = dict(upload.metadata or {})
    for key in metadata:
        if key not in rule.known_properties():
            raise faults.unsupported_property("Attachable", key, sorted(rule.known_properties()))
    if upload.content is None:
        raise faults.business_validation("The file content (file_content_01) is missing.")
    content = upload.content
    file_name = str(metadata.get("FileName") or content.filename or "attachment")
    content_type = str(
        metadata.get("ContentType")
        or content.content_type
        or mimetypes.guess_type(file_name)[0]
        or "application/octet-stream"
    )
    metadata["FileName"] = file_name
    metadata["ContentType"] = content_type
    with company.store.transaction():
        doc = company.create(rule, metadata, set())
        record = company.record("Attachable", str(doc["Id"]))
        assert record is not None
        record.doc["FileAccessUri"] = f"/v3/company/{company.realm}/download/{record.id}"
        record.doc["Size"] = len(content.data)
        record.doc = _file_fields_first(record.doc)
        record.internal["has_file"] = True
        company.store.put(company.realm, record)
        company.store.put_blob(company.realm, record.id, content.data)
        ctx = company.ctx()
        return rule.present(ctx, record)


def _file_fields_first(doc: JsonDict) -> JsonDict:
    head = ("FileName", "FileAccessUri", "Size", "ContentType")
    out: JsonDict = {k: doc[k] for k in head if k in doc}
    out.update({k: v for k, v in doc.items() if k not in out})
    return out


class LinkSigner:
    """Signs and checks temporary download links."""

    def __init__(self, secret: bytes, clock: SandboxClock, base_url: str) -> None:
        self._secret = secret
        self._clock = clock
        self.base_url = base_url

    def url(self, realm: str, attachable_id: str, file_name: str) -> str:
        signed_at = datetime.fromtimestamp(int(self._clock.timestamp()), UTC)
        stamp = signed_at.strftime("%Y%m%dT%H%M%SZ")
        signature = self._sign(realm, attachable_id, stamp)
        query = urlencode(
            {
                "X-Amz-Algorithm": "AWS4-HMAC-SHA256",
                "X-Amz-Date": stamp,
                "X-Amz-SignedHeaders": "host",
                "X-Amz-Expires": str(TEMP_URL_LIFETIME_S),
                "X-Amz-Signature": signature,
            }
        )
        name = quote(file_name or "file", safe="")
        return f"{self.base_url}{DOWNLOAD_PREFIX}/{realm}/{attachable_id}/{name}?{query}"

    def check(self, realm: str, attachable_id: str, args: dict[str, str]) -> str | None:
        """``None`` when the link is good, else S3's error code for it."""
        stamp = args.get("X-Amz-Date", "")
        signature = args.get("X-Amz-Signature", "")
        try:
            expires = int(args.get("X-Amz-Expires", ""))
            signed_at = datetime.strptime(stamp, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
        except ValueError:
            return "AuthorizationQueryParametersError"
        expected = self._sign(realm, attachable_id, stamp)
        if expires != TEMP_URL_LIFETIME_S or not hmac.compare_digest(signature, expected):
            return "SignatureDoesNotMatch"
        if self._clock.timestamp() > signed_at.timestamp() + expires:
            return "AccessDenied"
        return None

    def _sign(self, realm: str, attachable_id: str, stamp: str) -> str:
        message = f"{realm}/{attachable_id}/{stamp}".encode()
        return hmac.new(self._secret, message, hashlib.sha256).hexdigest()


def s3_error(code: str) -> bytes:
    messages = {
        "AccessDenied": "Request has expired",
        "SignatureDoesNotMatch": "The request signature we calculated does not match the "
        "signature you provided.",
        "AuthorizationQueryParametersError": "Query-string authentication requires the "
        "X-Amz-Algorithm, X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, "
        "and X-Amz-Expires parameters.",
        "NoSuchKey": "The specified key does not exist.",
    }
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<Error><Code>{code}</Code><Message>{messages.get(code, code)}</Message></Error>"
    ).encode()


def attachable_file(company: Company, attachable_id: str) -> tuple[Record, bytes] | None:
    record = company.record("Attachable", attachable_id)
    if record is None or record.deleted or not record.internal.get("has_file"):
        return None
    data = company.store.get_blob(company.realm, attachable_id)
    return None if data is None else (record, data)
