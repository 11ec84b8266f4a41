"""The two ends of a mapping: the Factor types of each kind and the cached QuickBooks records
they may stand for, looked up by name or Id, described in messages, and checked for whether a
record can stand for a kind (see `services.mappings`)."""

from __future__ import annotations

from typing import cast

from sqlalchemy import select
from sqlalchemy.orm import Session

from factor_desktop.domain.kinds import (
    ENTITY_LABEL,
    ENTITY_PLURAL,
    LOCAL_LABEL,
    QBO_ENTITY_FOR_KIND,
    MappingKind,
)
from factor_desktop.services._fields import get_record
from factor_desktop.services.errors import ServiceError
from factor_desktop.store.models import ExpenseType, Mapping, QboRecord, ServiceType, TaxTerm

# The Factor records each kind maps, and how an administrator calls them.
LocalType = ServiceType | ExpenseType | TaxTerm
LOCAL_FOR_KIND: dict[str, tuple[type[LocalType], str]] = {
    MappingKind.SERVICE_TYPE: (ServiceType, LOCAL_LABEL[MappingKind.SERVICE_TYPE]),
    MappingKind.EXPENSE_TYPE: (ExpenseType, LOCAL_LABEL[MappingKind.EXPENSE_TYPE]),
    MappingKind.EXPENSE_TYPE_ITEM: (ExpenseType, LOCAL_LABEL[MappingKind.EXPENSE_TYPE_ITEM]),
    MappingKind.TAX_TERM: (TaxTerm, LOCAL_LABEL[MappingKind.TAX_TERM]),
}


# Account types an expense can be booked to. Other accounts (bank, income, equity, ...) cannot
# stand for a kind of project cost.
EXPENSE_ACCOUNT_TYPES = ("Expense", "Cost of Goods Sold", "Other Expense")

# The kinds a coverage figure is given for: an expense type counts as mapped when it has an
# account or an item.
COVERAGE_KINDS: tuple[str, ...] = (
    MappingKind.SERVICE_TYPE,
    MappingKind.EXPENSE_TYPE,
    MappingKind.TAX_TERM,
)

# The kinds where one QuickBooks record may stand for one Factor type only.
# An account stands for one expense type, so an expense QuickBooks books to it lands on exactly
# one type. Items may be shared: several expense types are commonly invoiced under one
# "Reimbursable Expenses" item; an expense QuickBooks books by a shared item waits for review.
_EXCLUSIVE_KINDS: tuple[str, ...] = (MappingKind.EXPENSE_TYPE,)


def mapped_qbo_id(session: Session, kind: str, local_id: int) -> str | None:
    """The QBO Id a Factor type is mapped to, or None."""
    return session.scalar(
        select(Mapping.qbo_id).where(Mapping.kind == kind, Mapping.local_id == local_id)
    )


def local_for_qbo(session: Session, kind: str, qbo_id: str) -> int | None:
    """The Factor type mapped to a QBO record, or None."""
    return session.scalar(
        select(Mapping.local_id).where(Mapping.kind == kind, Mapping.qbo_id == qbo_id)
    )


def cached(session: Session, entity: str, qbo_id: str) -> QboRecord | None:
    """A QBO reference record from the local cache."""
    return session.scalar(
        select(QboRecord).where(QboRecord.entity == entity, QboRecord.qbo_id == qbo_id)
    )


# --- what a QuickBooks record is ------------------------------------------------------------


def qbo_type(record: QboRecord) -> str | None:
    """An Item's `Type` or an Account's `AccountType`, as QuickBooks sent it."""
    key = {"Item": "Type", "Account": "AccountType"}.get(record.entity)
    value = record.data.get(key) if key is not None and isinstance(record.data, dict) else None
    if isinstance(value, str) and value:
        return value
    return record.kind


def display_name(record: QboRecord) -> str:
    """The name QuickBooks shows: the full `Parent:Child` name when there is one."""
    return record.fully_qualified_name or record.name


def describe(record: QboRecord) -> str:
    """e.g. "product/service 'Design:DD' (Id 7)"."""
    label = ENTITY_LABEL.get(record.entity, record.entity)
    return f"{label} {display_name(record)!r} (Id {record.qbo_id})"


def unusable_reason(record: QboRecord, kind: str) -> str | None:
    """Why `record` cannot stand for a Factor type of `kind`, or None when it can."""
    entity = QBO_ENTITY_FOR_KIND[kind]
    if record.entity != entity:
        return (
            f"{_an(describe(record))} cannot stand for {_a(_local_label(kind))}: "
            f"{_local_label(kind)}s map to QuickBooks {ENTITY_PLURAL[entity]}."
        )
    if not record.active:
        return (
            f"The QuickBooks {describe(record)} is inactive. Make it active in QuickBooks "
            "(and sync), or choose another."
        )
    kind_of = qbo_type(record)
    if record.entity == "Item" and kind_of == "Category":
        return (
            f"{display_name(record)!r} is a QuickBooks category, and QuickBooks does not let "
            "categories be used in transactions. Choose a product or service inside it."
        )
    if kind == MappingKind.EXPENSE_TYPE and kind_of not in EXPENSE_ACCOUNT_TYPES:
        shown = f"of type {kind_of!r}" if kind_of else "of no known type"
        return (
            f"The QuickBooks account {display_name(record)!r} is {shown}, not an expense "
            f"account. Expense types map to accounts of type "
            f"{', '.join(EXPENSE_ACCOUNT_TYPES[:-1])} or {EXPENSE_ACCOUNT_TYPES[-1]}."
        )
    return None


def candidates(session: Session, kind: str) -> list[QboRecord]:
    """The cached QuickBooks records a Factor type of `kind` may be mapped to, by name."""
    _check_kind(kind)
    records = session.scalars(
        select(QboRecord).where(QboRecord.entity == QBO_ENTITY_FOR_KIND[kind])
    ).all()
    usable = [r for r in records if unusable_reason(r, kind) is None]
    return sorted(usable, key=lambda r: (display_name(r).casefold(), r.qbo_id))


def find_cached(session: Session, entity: str, name_or_id: str) -> QboRecord:
    """The cached QuickBooks record of `entity` named (ignoring case) or with the Id given.

    A name is compared with both the record's name and its full `Parent:Child` name. Several
    matches are refused with the list of them, so the administrator can give the Id instead.
    """
    wanted = name_or_id.strip()
    if not wanted:
        raise ServiceError(f"Give the name or Id of a QuickBooks {ENTITY_LABEL[entity]}.")
    folded = wanted.casefold()
    records = session.scalars(select(QboRecord).where(QboRecord.entity == entity)).all()
    found = {
        r.qbo_id: r
        for r in records
        if r.qbo_id == wanted or folded in (r.name.casefold(), display_name(r).casefold())
    }
    if len(found) == 1:
        return next(iter(found.values()))
    label = ENTITY_LABEL[entity]
    if not found:
        raise ServiceError(
            f"No QuickBooks {label} named {wanted!r} is in the lists read so far. Check the "
            "spelling (`factor-desktop map list` shows the candidates), or refresh the "
            "QuickBooks lists (`factor-desktop map refresh`) to read them again."
        )
    listed = "; ".join(
        describe(r) for r in sorted(found.values(), key=lambda r: (display_name(r), r.qbo_id))
    )
    raise ServiceError(
        f"{len(found)} QuickBooks {ENTITY_PLURAL[entity]} match {wanted!r}: {listed}. "
        "Give the Id instead."
    )


def local_name(record: LocalType) -> str:
    """How a Factor type is named: a tax term by its code, the others by their name."""
    return record.code if isinstance(record, TaxTerm) else record.name


def describe_local(session: Session, kind: str, local_id: int) -> str:
    """e.g. "the service type 'Design Development'"."""
    model, label = _local_model(kind)
    # A get over a union of models is typed as the declarative base; the row is a `model`.
    found = cast(LocalType | None, session.get(model, local_id))
    return f"the {label} {local_name(found)!r}" if found is not None else f"{label} {local_id}"


def find_local(session: Session, kind: str, name: str) -> LocalType:
    """The Factor type of `kind` named `name` (a tax term: its code), ignoring case."""
    model, label = _local_model(kind)
    wanted = name.strip().casefold()
    records = _all_local(session, model)
    found = [r for r in records if local_name(r).casefold() == wanted]
    if len(found) == 1:
        return found[0]
    if not found:
        known = sorted((local_name(r) for r in records), key=str.casefold)
        listed = ", ".join(repr(k) for k in known) if known else "none yet"
        raise ServiceError(f"There is no {label} {name.strip()!r} (the firm's {label}s: {listed}).")
    listed = ", ".join(repr(local_name(r)) for r in found)
    raise ServiceError(
        f"Several {label}s match {name.strip()!r}: {listed}. Use the exact spelling."
    )


def _a(noun: str) -> str:
    return f"{'an' if noun[:1].lower() in 'aeiou' else 'a'} {noun}"


def _an(noun: str) -> str:
    """`_a` at the start of a sentence."""
    article = _a(noun)
    return article[:1].upper() + article[1:]


def _local_label(kind: str) -> str:
    return LOCAL_FOR_KIND[kind][1]


def _check_kind(kind: str) -> None:
    if kind not in QBO_ENTITY_FOR_KIND:
        kinds = ", ".join(QBO_ENTITY_FOR_KIND)
        raise ServiceError(f"Unknown kind of mapping {kind!r} (one of: {kinds}).", field="kind")


def _local_model(kind: str) -> tuple[type[LocalType], str]:
    _check_kind(kind)
    return LOCAL_FOR_KIND[kind]


def _all_local(session: Session, model: type[LocalType]) -> list[LocalType]:
    # A select over a union of models is typed as the declarative base; the rows are `model`s.
    return cast(list[LocalType], list(session.scalars(select(model))))


def _local(session: Session, kind: str, local_id: int) -> LocalType:
    model, label = _local_model(kind)
    return get_record(session, model, local_id, label)
