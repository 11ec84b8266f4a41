"""Which QuickBooks record each Factor type stands for (service types, expense types, tax terms).

Kinds: `service_type` → Item, `expense_type` → Account, `expense_type_item` → Item (for expenses
QuickBooks books by item), `tax_term` → TaxCode. A QuickBooks account or item stands for at most
one expense type, so an expense pulled from QuickBooks always lands on exactly one type.

Mappings are checked against the local cache of QuickBooks lists (`qbo_cache`), which each sync
refreshes: a record that is not there, is inactive, or cannot be used the way the kind needs it
is refused with a reason the administrator can act on.

The Factor types and QuickBooks records a mapping joins are looked up in
`services.mapping_records`; tax codes' rates and the tax rules in `services.tax_rules`. Everything
is importable from here.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import cast

from sqlalchemy import select
from sqlalchemy.orm import Session

from factor_desktop.domain.kinds import (
    ENTITY_LABEL,
    ENTITY_PLURAL,
    QBO_ENTITY_FOR_KIND,
    TAX_RULE_TEXT,
    MappingKind,
)
from factor_desktop.services.errors import ServiceError
from factor_desktop.services.mapping_records import (
    _EXCLUSIVE_KINDS,
    COVERAGE_KINDS,
    EXPENSE_ACCOUNT_TYPES,
    LOCAL_FOR_KIND,
    LocalType,
    _a,
    _all_local,
    _an,
    _check_kind,
    _local,
    _local_label,
    cached,
    candidates,
    describe,
    describe_local,
    display_name,
    find_cached,
    find_local,
    local_for_qbo,
    local_name,
    mapped_qbo_id,
    qbo_type,
    unusable_reason,
)
from factor_desktop.services.tax_rules import (
    DEFAULT_TAX_RULE,
    TAX_RULES,
    TaxRateMismatch,
    TaxRule,
    _check_tax_rule,
    _store_rule,
    _stored_rule,
    accepted_code_rate,
    automated_sales_tax_on,
    chosen_tax_rule,
    expected_qbo_tax,
    invoice_tax_override,
    percent_text,
    set_tax_rule,
    tax_code_rate,
    tax_rate_difference,
    tax_rate_values,
    tax_rule,
)
from factor_desktop.store.models import ExpenseType, Mapping, QboRecord, TaxTerm

# --- changing mappings ----------------------------------------------------------------------


def set_mapping(
    session: Session,
    kind: str,
    local_id: int,
    qbo_id: str,
    *,
    entity: str | None = None,
    tax_rule: str | None = None,
) -> Mapping:
    """Map a Factor type to a cached QuickBooks record, replacing its earlier mapping.

    `entity`, when given, is the QuickBooks entity the caller picked the record from (a dropped
    record says what it is): one that does not suit the kind is refused by name.

    `tax_rule` ("override" or "accept", tax terms only) says how the term's invoices reconcile
    with QuickBooks when the code's rate differs from the term's. Without it such a mapping is
    refused with `TaxRateMismatch`, naming both rates, unless a rule was already chosen for this
    term and code.
    """
    if tax_rule is not None:
        _check_tax_rule(kind, tax_rule)
    local = _local(session, kind, local_id)
    wanted = QBO_ENTITY_FOR_KIND[kind]
    if entity is not None and entity != wanted:
        shown = ENTITY_LABEL.get(entity, entity)
        raise ServiceError(
            f"{_an(_local_label(kind))} maps to a QuickBooks "
            f"{ENTITY_LABEL[wanted]}, not to {_a(shown)}.",
            field="qbo_id",
        )
    entity = wanted
    record = cached(session, entity, str(qbo_id).strip())
    if record is None:
        raise ServiceError(
            f"QuickBooks {ENTITY_LABEL[entity]} Id {qbo_id} is not in the lists read so far. "
            "Refresh the QuickBooks lists to read it, then map it.",
            field="qbo_id",
        )
    reason = unusable_reason(record, kind)
    if reason is not None:
        raise ServiceError(reason, field="qbo_id")
    if kind in _EXCLUSIVE_KINDS:
        _refuse_shared(session, kind, local_id, record)
    if isinstance(local, TaxTerm):
        kept = _stored_rule(session, local.id, record.qbo_id)
        difference = tax_rate_difference(session, local, record)
        if difference is not None and tax_rule is None and kept is None:
            raise TaxRateMismatch(local, record, *difference)
        if tax_rule is not None:
            _store_rule(session, local.id, record.qbo_id, cast(TaxRule, tax_rule))
        elif kept is None:
            _store_rule(session, local.id, None, None)
    mapping = session.scalar(
        select(Mapping).where(Mapping.kind == kind, Mapping.local_id == local.id)
    )
    if mapping is None:
        mapping = Mapping(kind=kind, local_id=local.id, qbo_id=record.qbo_id)
        session.add(mapping)
    else:
        mapping.qbo_id = record.qbo_id
    session.flush()
    return mapping


def clear_mapping(session: Session, kind: str, local_id: int) -> bool:
    """Forget what a Factor type is mapped to. True when there was a mapping to forget."""
    _check_kind(kind)
    mapping = session.scalar(
        select(Mapping).where(Mapping.kind == kind, Mapping.local_id == local_id)
    )
    if mapping is None:
        _local(session, kind, local_id)
        return False
    session.delete(mapping)
    if kind == MappingKind.TAX_TERM:
        _store_rule(session, local_id, None, None)
    session.flush()
    return True


def mapping_coverage(session: Session) -> dict[str, tuple[int, int]]:
    """For each kind: how many active Factor types are mapped, out of how many."""
    mapped_ids: dict[str, set[int]] = {kind: set() for kind in QBO_ENTITY_FOR_KIND}
    for kind, local_id in session.execute(select(Mapping.kind, Mapping.local_id)):
        mapped_ids.setdefault(kind, set()).add(local_id)
    mapped_ids[MappingKind.EXPENSE_TYPE] |= mapped_ids[MappingKind.EXPENSE_TYPE_ITEM]
    coverage: dict[str, tuple[int, int]] = {}
    for kind in COVERAGE_KINDS:
        model, _label = LOCAL_FOR_KIND[kind]
        active = set(session.scalars(select(model.id).where(model.active.is_(True))))
        coverage[kind] = (len(active & mapped_ids[kind]), len(active))
    return coverage


def _refuse_shared(session: Session, kind: str, local_id: int, record: QboRecord) -> None:
    """One QuickBooks account or item stands for one expense type only."""
    other_id = local_for_qbo(session, kind, record.qbo_id)
    if other_id is None or other_id == local_id:
        return
    other = session.get(ExpenseType, other_id)
    other_name = repr(other.name) if other is not None else f"id {other_id}"
    raise ServiceError(
        f"The QuickBooks {describe(record)} already stands for the expense type {other_name}. "
        "One QuickBooks record can stand for only one expense type, or expenses pulled from "
        "QuickBooks could not be told apart; clear that mapping first.",
        field="qbo_id",
    )


@dataclass(frozen=True)
class MappingLine:
    """One Factor type and what it is mapped to, for listings."""

    kind: str
    local_id: int
    name: str
    active: bool
    qbo_id: str | None
    qbo_name: str | None
    problem: str | None
    # Tax terms: the term's rate, the mapped code's effective rate (None when unknown) and the
    # rule chosen for the mapping (None: none chosen; "override" applies).
    rate: Decimal | None = None
    qbo_rate: Decimal | None = None
    tax_rule: str | None = None


def mapping_lines(session: Session) -> list[MappingLine]:
    """Every service type, expense type (account and item) and tax term with its mapping.

    `problem` says why a mapped record would not go through now (missing from the cache,
    inactive, wrong type), so a listing can show it.
    """
    mappings = {(m.kind, m.local_id): m.qbo_id for m in session.scalars(select(Mapping))}
    cache = {
        (r.entity, r.qbo_id): r
        for r in session.scalars(
            select(QboRecord).where(QboRecord.entity.in_(set(QBO_ENTITY_FOR_KIND.values())))
        )
    }
    rates = tax_rate_values(session)
    lines: list[MappingLine] = []
    for kind in QBO_ENTITY_FOR_KIND:
        model, _label = LOCAL_FOR_KIND[kind]
        records = sorted(_all_local(session, model), key=lambda r: local_name(r).casefold())
        for local in records:
            qbo_id = mappings.get((kind, local.id))
            qbo_name: str | None = None
            problem: str | None = None
            qbo_rate: Decimal | None = None
            if qbo_id is not None:
                record = cache.get((QBO_ENTITY_FOR_KIND[kind], qbo_id))
                if record is None:
                    problem = "not in the QuickBooks lists read so far"
                else:
                    qbo_name = display_name(record)
                    problem = unusable_reason(record, kind)
                    if isinstance(local, TaxTerm):
                        qbo_rate = tax_code_rate(session, record, rates)
            is_term = isinstance(local, TaxTerm)
            lines.append(
                MappingLine(
                    kind,
                    local.id,
                    local_name(local),
                    local.active,
                    qbo_id,
                    qbo_name,
                    problem,
                    rate=local.rate_percent if isinstance(local, TaxTerm) else None,
                    qbo_rate=qbo_rate,
                    tax_rule=(
                        _stored_rule(session, local.id, qbo_id)
                        if is_term and qbo_id is not None
                        else None
                    ),
                )
            )
    return lines


__all__ = [
    "COVERAGE_KINDS",
    "DEFAULT_TAX_RULE",
    "ENTITY_LABEL",
    "ENTITY_PLURAL",
    "EXPENSE_ACCOUNT_TYPES",
    "LOCAL_FOR_KIND",
    "QBO_ENTITY_FOR_KIND",
    "TAX_RULES",
    "TAX_RULE_TEXT",
    "LocalType",
    "MappingLine",
    "TaxRateMismatch",
    "TaxRule",
    "accepted_code_rate",
    "automated_sales_tax_on",
    "cached",
    "candidates",
    "chosen_tax_rule",
    "clear_mapping",
    "describe",
    "describe_local",
    "display_name",
    "expected_qbo_tax",
    "find_cached",
    "find_local",
    "invoice_tax_override",
    "local_for_qbo",
    "local_name",
    "mapped_qbo_id",
    "mapping_coverage",
    "mapping_lines",
    "percent_text",
    "qbo_type",
    "set_mapping",
    "set_tax_rule",
    "tax_code_rate",
    "tax_rate_difference",
    "tax_rate_values",
    "tax_rule",
    "unusable_reason",
]
