"""Factor's types and tax terms with what each is mapped to in QuickBooks, and the cached
QuickBooks records they may be mapped to."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from factor_desktop.services.mappings import (
    QBO_ENTITY_FOR_KIND,
    automated_sales_tax_on,
    candidates,
    chosen_tax_rule,
    display_name,
    local_name,
    mapping_coverage,
    qbo_type,
    tax_code_rate,
    tax_rate_values,
    unusable_reason,
)
from factor_desktop.store.models import ExpenseType, Mapping, QboRecord, ServiceType, TaxTerm
from factor_desktop.views.rows import (
    Candidates,
    ExpenseTypeRow,
    MappedRecord,
    QboCandidate,
    ServiceTypeRow,
    TaxTermRow,
)

# Which QBO entity each mapping kind points at.
MAPPING_ENTITIES = QBO_ENTITY_FOR_KIND


def mapped_records(session: Session) -> dict[tuple[str, int], MappedRecord]:
    """What each mapped Factor type or tax term points at: (kind, local id) → the record."""
    cache = {
        (r.entity, r.qbo_id): r
        for r in session.scalars(
            select(QboRecord).where(QboRecord.entity.in_(set(MAPPING_ENTITIES.values())))
        )
    }
    found: dict[tuple[str, int], MappedRecord] = {}
    rates = tax_rate_values(session)
    for m in session.scalars(select(Mapping)):
        entity = MAPPING_ENTITIES.get(m.kind)
        if entity is None:
            continue
        record = cache.get((entity, m.qbo_id))
        taxed = m.kind == "tax_term" and record is not None
        found[(m.kind, m.local_id)] = MappedRecord(
            qbo_id=m.qbo_id,
            entity=entity,
            name=display_name(record) if record is not None else None,
            active=record.active if record is not None else True,
            problem=unusable_reason(record, m.kind) if record is not None else None,
            rate=tax_code_rate(session, record, rates) if taxed and record else None,
            tax_rule=chosen_tax_rule(session, m.local_id) if taxed else None,
        )
    return found


def load_service_types(
    session: Session, mapped: dict[tuple[str, int], MappedRecord]
) -> tuple[ServiceTypeRow, ...]:
    return tuple(
        ServiceTypeRow(
            id=s.id,
            name=s.name,
            description=s.description,
            taxable=s.taxable,
            active=s.active,
            item=mapped.get(("service_type", s.id)),
        )
        for s in session.scalars(select(ServiceType).order_by(ServiceType.name))
    )


def load_expense_types(
    session: Session, mapped: dict[tuple[str, int], MappedRecord]
) -> tuple[ExpenseTypeRow, ...]:
    return tuple(
        ExpenseTypeRow(
            id=e.id,
            name=e.name,
            category=e.category,
            markup_percent=e.markup_percent,
            billable=e.billable,
            is_subconsultant=e.is_subconsultant,
            active=e.active,
            account=mapped.get(("expense_type", e.id)),
            item=mapped.get(("expense_type_item", e.id)),
        )
        for e in session.scalars(select(ExpenseType).order_by(ExpenseType.name))
    )


def load_tax_terms(
    session: Session, mapped: dict[tuple[str, int], MappedRecord]
) -> tuple[TaxTermRow, ...]:
    return tuple(
        TaxTermRow(
            id=t.id,
            code=t.code,
            name=t.name,
            rate_percent=t.rate_percent,
            active=t.active,
            tax_code=mapped.get(("tax_term", t.id)),
        )
        for t in session.scalars(select(TaxTerm).order_by(TaxTerm.code))
    )


def coverage(session: Session) -> tuple[tuple[str, int, int], ...]:
    """Per kind (service_type, expense_type, tax_term): active types mapped, active types."""
    return tuple((k, m, t) for k, (m, t) in mapping_coverage(session).items())


def load_candidates(session: Session) -> Candidates:
    """What the Mappings tab offers to drag, each with the Factor types already mapped to it."""
    names: dict[str, dict[int, str]] = {
        "service_type": {s.id: s.name for s in session.scalars(select(ServiceType))},
        "expense_type": {e.id: e.name for e in session.scalars(select(ExpenseType))},
        "tax_term": {t.id: local_name(t) for t in session.scalars(select(TaxTerm))},
    }
    names["expense_type_item"] = names["expense_type"]
    used_by: dict[tuple[str, str], list[str]] = {}
    for m in session.scalars(select(Mapping).order_by(Mapping.kind, Mapping.local_id)):
        name = names.get(m.kind, {}).get(m.local_id)
        if name is not None:
            used_by.setdefault((MAPPING_ENTITIES[m.kind], m.qbo_id), []).append(name)

    rates = tax_rate_values(session)

    def rows(kind: str) -> tuple[QboCandidate, ...]:
        return tuple(
            QboCandidate(
                entity=r.entity,
                qbo_id=r.qbo_id,
                name=display_name(r),
                type=qbo_type(r),
                used_by=tuple(dict.fromkeys(used_by.get((r.entity, r.qbo_id), ()))),
                rate=tax_code_rate(session, r, rates) if r.entity == "TaxCode" else None,
            )
            for r in candidates(session, kind)
        )

    return Candidates(
        items=rows("service_type"),
        expense_accounts=rows("expense_type"),
        tax_codes=rows("tax_term"),
        automated_sales_tax=automated_sales_tax_on(session),
    )
