"""Batch items and their results (up to 30 operations in one request), and the void rules: how
QBO spells a void for each entity, in a batch item or a call of its own.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from .errors import QboError
from .query import Query
from .transport import JsonDict, _entity, _require_id_and_sync_token, _rows

#: QBO's recommended maximum of items in one batch request.
MAX_BATCH_ITEMS = 30
MAX_BID_LENGTH = 10
_BATCH_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "urn:factor-desktop:qbo-batch")


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


def _batch_request_id(realm_id: str, request_items: list[JsonDict]) -> str:
    """A requestid for one batch chunk, derived from the caller's bIds and the chunk's content.

    The same chunk sent again (a retry, or the same outbox rows after a restart) gets the same
    requestid, so QBO replays its first answer instead of creating twice; a chunk whose content
    changed (say, a new SyncToken after a conflict) gets a new one and is really executed.
    """
    canonical = json.dumps(request_items, sort_keys=True, separators=(",", ":"))
    return str(uuid.uuid5(_BATCH_NAMESPACE, f"{realm_id}\n{canonical}"))
