"""Every write a sync pass makes to QuickBooks, and every receipt file it keeps, goes through one
writer.

A live pass writes with :class:`LiveWriter` (the QBO client: requestids, retries, pacing). A
preview runs the very same steps against a scratch copy of the firm database with
:class:`RecordingWriter`, which sends nothing: it answers each write as QuickBooks would (a new
Id, a SyncToken, the entity echoed back, an invoice's total computed from its lines and tax),
and a receipt file it is given is not written to the cache; what the preview did is its log on
the copy. Because the decisions are made by the same code in both cases, a preview cannot predict
another sync than the one that follows it. Reads are not the writer's business: both kinds of
pass read QuickBooks through the client (a preview downloads the receipts a sync would, and
keeps none).

The pass chooses its writer once, in :func:`writer_for`; no step asks whether it is a preview.
"""

from __future__ import annotations

import itertools
import os
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from factor_desktop.qbo.client import BatchItem, BatchResult, JsonDict, QboClient
from factor_desktop.qbo.errors import DuplicateDocNumberError, QboValidationError
from factor_desktop.qbo.query import QueryValueError
from factor_desktop.qbo.query import select as qbo_select
from factor_desktop.qbo.ratelimit import RequestKind
from factor_desktop.sync.totals import TaxRates, no_rates, predict_invoice

__all__ = [
    "LiveWriter",
    "QboWriter",
    "RecordingWriter",
    "write_atomically",
    "writer_for",
]


class QboWriter(Protocol):
    """What a sync step may change in QuickBooks.

    ``created`` holds the Ids of the objects this writer created, by entity: a full read taken
    before those writes cannot say they are gone.
    """

    created: dict[str, set[str]]

    def create(self, entity: str, payload: Mapping[str, Any], *, request_id: str) -> JsonDict: ...

    def update(self, entity: str, payload: Mapping[str, Any], *, request_id: str) -> JsonDict: ...

    def void(
        self, entity: str, entity_id: str, sync_token: str, *, request_id: str
    ) -> JsonDict: ...

    def batch(self, items: Sequence[BatchItem], *, request_id: str) -> list[BatchResult]: ...

    def wait_for(self, kind: RequestKind) -> float:
        """Seconds before a request of ``kind`` could go without waiting (0: now)."""
        ...

    def save_file(self, path: Path, content: bytes) -> None:
        """Keep a receipt's file in the attachment cache."""
        ...


def write_atomically(path: Path, content: bytes) -> None:
    """Write `content` to a temporary file beside `path`, then rename it into place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".receipt-", suffix=".part")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(content)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _note_created(created: dict[str, set[str]], entity: str, answer: Mapping[str, Any]) -> None:
    if answer.get("Id") not in (None, ""):
        created.setdefault(entity, set()).add(str(answer["Id"]))


def _note_batch(created: dict[str, set[str]], results: Sequence[BatchResult]) -> None:
    for result in results:
        item = result.item
        if result.data is not None and item.operation == "create" and item.entity is not None:
            _note_created(created, item.entity, result.data)


class LiveWriter:
    """Writes go to QuickBooks through the client."""

    def __init__(self, client: QboClient) -> None:
        self.client = client
        self.created: dict[str, set[str]] = {}

    def create(self, entity: str, payload: Mapping[str, Any], *, request_id: str) -> JsonDict:
        answer = self.client.create(entity, payload, request_id=request_id)
        _note_created(self.created, entity, answer)
        return answer

    def update(self, entity: str, payload: Mapping[str, Any], *, request_id: str) -> JsonDict:
        return self.client.update(entity, payload, request_id=request_id)

    def void(self, entity: str, entity_id: str, sync_token: str, *, request_id: str) -> JsonDict:
        return self.client.void(entity, entity_id, sync_token, request_id=request_id)

    def batch(self, items: Sequence[BatchItem], *, request_id: str) -> list[BatchResult]:
        results = self.client.batch(items, request_id=request_id)
        _note_batch(self.created, results)
        return results

    def wait_for(self, kind: RequestKind) -> float:
        limiter = self.client.rate_limiter
        return 0.0 if limiter is None else limiter.wait_for(kind)

    def save_file(self, path: Path, content: bytes) -> None:
        write_atomically(path, content)


@dataclass
class RecordingWriter:
    """Answers writes as QuickBooks would and sends nothing.

    An invoice is answered with the total QuickBooks would give it (`sync/totals.py`, with
    ``tax_rates`` giving a tax code's sales rates), or without one when QuickBooks alone could
    compute its tax. With a ``reader`` (the pass's client), an invoice whose number QuickBooks
    already has is refused with QuickBooks' duplicate-number fault (6140), as the real write
    would be.
    """

    tax_rates: TaxRates = no_rates
    reader: QboClient | None = None
    created: dict[str, set[str]] = field(default_factory=dict)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def _answer(self, operation: str, entity: str, payload: Mapping[str, Any]) -> JsonDict:
        answer: JsonDict = dict(payload)
        if operation == "create":
            answer["Id"] = f"preview-{next(self._ids)}"
            _note_created(self.created, entity, answer)
            answer["SyncToken"] = "0"
            answer.setdefault("Active", True)
            if entity == "Customer":
                answer["FullyQualifiedName"] = answer.get("DisplayName")
                answer["Job"] = isinstance(answer.get("ParentRef"), Mapping)
            if entity == "Invoice":
                total = predict_invoice(answer, self.tax_rates).total
                if total is not None:
                    answer["TotalAmt"] = float(total)
                    answer["Balance"] = answer["TotalAmt"]
        else:
            answer["SyncToken"] = str(int(str(answer.get("SyncToken") or 0)) + 1)
            if operation == "void":
                answer.update({"TotalAmt": 0, "Balance": 0, "PrivateNote": "Voided"})
        return answer

    def _refusal(self, entity: str, payload: Mapping[str, Any]) -> QboValidationError | None:
        """The refusal QuickBooks would answer the create with, as far as a read can tell."""
        number = payload.get("DocNumber")
        if entity != "Invoice" or self.reader is None or not isinstance(number, str):
            return None
        try:
            taken = self.reader.query(qbo_select("Invoice").where("DocNumber", "=", number))
        except QueryValueError:
            return None
        if not taken:
            return None
        return DuplicateDocNumberError(
            f"Duplicate Document Number Error: {number}",
            code=DuplicateDocNumberError.CODE,
            detail=f"Duplicate Document Number Error : You must specify a different number. "
            f"This number has already been used. DocNumber={number} is assigned to "
            f"TxnType=Invoice with TxnId={taken[0].get('Id')}",
            element="",
            http_status=400,
        )

    def create(self, entity: str, payload: Mapping[str, Any], *, request_id: str) -> JsonDict:
        refusal = self._refusal(entity, payload)
        if refusal is not None:
            raise refusal
        return self._answer("create", entity, payload)

    def update(self, entity: str, payload: Mapping[str, Any], *, request_id: str) -> JsonDict:
        return self._answer("update", entity, payload)

    def void(self, entity: str, entity_id: str, sync_token: str, *, request_id: str) -> JsonDict:
        body = {"Id": entity_id, "SyncToken": sync_token}
        return self._answer("void", entity, body)

    def batch(self, items: Sequence[BatchItem], *, request_id: str) -> list[BatchResult]:
        results: list[BatchResult] = []
        for item in items:
            if item.entity is None or item.payload is None or item.operation is None:
                raise ValueError(f"a preview records writes only, not batch item {item.bid!r}")
            refusal = self._refusal(item.entity, item.payload)
            if refusal is not None and item.operation == "create":
                results.append(BatchResult(item.bid, item, error=refusal))
                continue
            answer = self._answer(item.operation, item.entity, item.payload)
            results.append(BatchResult(item.bid, item, data=answer))
        return results

    def wait_for(self, kind: RequestKind) -> float:
        return 0.0

    def save_file(self, path: Path, content: bytes) -> None:
        return None  # a preview keeps no file


def writer_for(client: QboClient, *, preview: bool, tax_rates: TaxRates = no_rates) -> QboWriter:
    """The one place a pass's kind chooses how it writes."""
    if preview:
        return RecordingWriter(tax_rates=tax_rates, reader=client)
    return LiveWriter(client)
