"""Which QuickBooks record each Factor type stands for (service types, expense types, tax terms).

Kinds: `service_type` → Item, `expense_type` → Account, `expense_type_item` → Item (for expenses
QuickBooks books by item), `tax_term` → TaxCode. A QuickBooks account or item stands for at most
one expense type, so an expense pulled from QuickBooks always lands on exactly one type.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from factor_desktop.store.models import Mapping, QboRecord

QBO_ENTITY_FOR_KIND = {
    "service_type": "Item",
    "expense_type": "Account",
    "expense_type_item": "Item",
    "tax_term": "TaxCode",
}


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
