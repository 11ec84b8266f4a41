"""What the store indexes about each object, so lookups and query pages need not read an entity.

Every stored object carries a few columns computed from its document when it is written:

* ``k_*``: sort keys, bytes that order the way :mod:`.query` orders the property (rank, then
  number or instant or text by character code), for ``MetaData.LastUpdatedTime``, ``DocNumber``
  and the entity's default query order. NULL when the object lacks the property.
* ``f_*``: the casefolded text of ``DocNumber``, ``DisplayName``, ``Name`` and
  ``FullyQualifiedName``, which is how query conditions compare text.
* ``active``: what a query's implicit ``Active = true`` filter sees.
* ``uniq``: the name a name list keeps unique (DisplayName across customers, vendors and
  employees; FullyQualifiedName within other lists), inactive records' plain names included.
* ``party`` and ``amount``: the customer (or vendor) an invoice, payment or bill counts toward, and
  what it adds to that balance; ``parent``: a sub-customer's parent.

Deleted objects keep none of these (their columns are NULL), so no lookup finds them.
"""

from __future__ import annotations

import struct
from decimal import Decimal, InvalidOperation
from typing import Any

from .query import default_order, is_active, sort_key

JsonDict = dict[str, Any]

INDEX_VERSION = "1"
DELETED_SUFFIX = " (deleted)"
NAME_ENTITIES = ("Customer", "Vendor", "Employee")

SORT_COLUMNS: dict[str, str] = {
    "metadata.lastupdatedtime": "k_updated",
    "docnumber": "k_docnum",
}
"""Folded property path -> the sort-key column that orders it."""

FOLD_COLUMNS: dict[str, str] = {
    "docnumber": "f_docnum",
    "displayname": "f_display",
    "name": "f_name",
    "fullyqualifiedname": "f_fqn",
}
"""Folded property name -> the column holding its casefolded text."""

# What a transaction adds to a balance: (entity of the party, reference, amount, sign).
_PARTIES: dict[str, tuple[str, str, str, int]] = {
    "Invoice": ("Customer", "CustomerRef", "Balance", 1),
    "Payment": ("Customer", "CustomerRef", "UnappliedAmt", -1),
    "Bill": ("Vendor", "VendorRef", "Balance", 1),
}

COLUMNS: tuple[str, ...] = (
    "active",
    "k_default",
    "k_updated",
    "k_docnum",
    "f_docnum",
    "f_display",
    "f_name",
    "f_fqn",
    "uniq",
    "party",
    "amount",
    "parent",
)
COLUMN_TYPES: dict[str, str] = {
    "active": "INTEGER",
    "k_default": "BLOB",
    "k_updated": "BLOB",
    "k_docnum": "BLOB",
    "amount": "TEXT",
}


def party_entity(entity: str) -> str | None:
    """The entity whose balance an object of ``entity`` counts toward (Customer, Vendor)."""
    found = _PARTIES.get(entity)
    return found[0] if found else None


def live_name(doc: JsonDict, key: str) -> str:
    """A name-list record's name without the " (deleted)" QBO shows while it is inactive."""
    name = str(doc.get(key) or "")
    if doc.get("Active") is False and name.endswith(DELETED_SUFFIX):
        return name[: -len(DELETED_SUFFIX)]
    return name


def name_key(name: str) -> str:
    """How QBO compares names for uniqueness: case and repeated spaces ignored."""
    return " ".join(name.split()).casefold()


def fold(value: str) -> str:
    return value.casefold()


def _float_bytes(value: float) -> bytes:
    """Eight bytes that compare (as bytes) the way the floats compare."""
    (bits,) = struct.unpack(">Q", struct.pack(">d", value))
    flipped: int = bits ^ 0xFFFFFFFFFFFFFFFF if bits >> 63 else bits | (1 << 63)
    return flipped.to_bytes(8, "big")


def encode_key(key: tuple[int, Decimal, float, str]) -> bytes:
    """A query sort key as bytes with the same order."""
    rank, number, instant, text = key
    if rank in (0, 1):
        payload = _float_bytes(float(number))
    elif rank == 2:
        payload = _float_bytes(instant)
    else:
        payload = text.encode("utf-8", "surrogatepass")
    return bytes([rank]) + payload


def instant_key(timestamp: float) -> bytes:
    """The sort key of a date-time at ``timestamp`` (what ``k_updated`` holds)."""
    return bytes([2]) + _float_bytes(timestamp)


def _sort_bytes(doc: JsonDict, props: tuple[str, ...]) -> bytes | None:
    try:
        for prop in props:
            key = sort_key(doc, prop)
            if key is not None:
                return encode_key(key)
    except Exception:  # a property QBO could not sort on: the query finds out by itself
        return None
    return None


def _text(doc: JsonDict, key: str) -> str | None:
    value = doc.get(key)
    return value if isinstance(value, str) else None


def _ref(doc: JsonDict, key: str) -> str | None:
    ref = doc.get(key)
    if isinstance(ref, dict):
        value = ref.get("value")
        return None if value in (None, "") else str(value)
    if isinstance(ref, str | int) and not isinstance(ref, bool):
        return str(ref)
    return None


def _uniq(entity: str, doc: JsonDict) -> str | None:
    if entity in NAME_ENTITIES:
        return name_key(live_name(doc, "DisplayName"))
    if entity in ("Item", "Account"):
        return name_key(live_name(doc, "FullyQualifiedName"))
    return None


def _amount(entity: str, doc: JsonDict) -> tuple[str | None, str | None]:
    found = _PARTIES.get(entity)
    if found is None:
        return None, None
    _, ref_key, amount_key, sign = found
    party = _ref(doc, ref_key)
    try:
        amount = Decimal(str(doc.get(amount_key, 0))) * sign
    except (InvalidOperation, ValueError):
        amount = Decimal(0)
    return party, str(amount)


def columns(entity: str, doc: JsonDict, deleted: bool) -> tuple[Any, ...]:
    """The values of :data:`COLUMNS` for one object."""
    if deleted:
        return (None,) * len(COLUMNS)
    props, descending = default_order(entity)
    k_default = None if descending else _sort_bytes(doc, props)
    docnum = _text(doc, "DocNumber")
    display = _text(doc, "DisplayName")
    name = _text(doc, "Name")
    fqn = _text(doc, "FullyQualifiedName")
    party, amount = _amount(entity, doc)
    parent = _ref(doc, "ParentRef") if entity == "Customer" else None
    return (
        int(is_active(doc)),
        k_default,
        _sort_bytes(doc, ("MetaData.LastUpdatedTime",)),
        _sort_bytes(doc, ("DocNumber",)) if "DocNumber" in doc else None,
        None if docnum is None else fold(docnum),
        None if display is None else fold(display),
        None if name is None else fold(name),
        None if fqn is None else fold(fqn),
        _uniq(entity, doc),
        party,
        amount,
        parent,
    )
