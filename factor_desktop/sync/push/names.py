"""QuickBooks customers as the customer push sees them: who holds a name, and why a name can't
be given to a new customer."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from factor_desktop.qbo.mappers import live_name, name_key
from factor_desktop.services.mappings import cached
from factor_desktop.store.models import Client, Project, QboRecord
from factor_desktop.sync.push.common import Record, the, what
from factor_desktop.sync.reference import last_updated

__all__ = ["NameIndex", "Twin", "conflict_reason", "linked_records", "remember"]

_ENTITY_WORDS = {"Customer": "customer", "Vendor": "vendor", "Employee": "employee"}


@dataclass(frozen=True)
class Twin:
    """A QuickBooks customer, vendor or employee holding a name."""

    entity: str
    qbo_id: str
    sync_token: str | None
    full_name: str
    parent_id: str | None
    active: bool
    data: Mapping[str, Any]

    @classmethod
    def from_row(cls, entity: str, row: Mapping[str, Any]) -> Twin:
        parent = row.get("ParentRef")
        parent_id = parent.get("value") if isinstance(parent, Mapping) else None
        token = row.get("SyncToken")
        name = str(row.get("FullyQualifiedName") or row.get("DisplayName") or row.get("Id"))
        return cls(
            entity=entity,
            qbo_id=str(row.get("Id")),
            sync_token=str(token) if token is not None else None,
            full_name=name,
            parent_id=str(parent_id) if parent_id not in (None, "") else None,
            active=row.get("Active") is not False,
            data=row,
        )

    @classmethod
    def from_cache(cls, record: QboRecord) -> Twin:
        data = dict(record.data) if isinstance(record.data, Mapping) else {}
        data.setdefault("DisplayName", record.name)
        data["Active"] = record.active
        return cls(
            entity=record.entity,
            qbo_id=record.qbo_id,
            sync_token=record.sync_token,
            full_name=record.fully_qualified_name or record.name,
            parent_id=record.parent_qbo_id,
            active=record.active,
            data=data,
        )

    def described(self) -> str:
        word = _ENTITY_WORDS.get(self.entity, self.entity.lower())
        if self.entity == "Customer" and self.parent_id is not None:
            word = "sub-customer"
        state = "" if self.active else "inactive "
        return f"the {state}QuickBooks {word} {self.full_name!r} (Id {self.qbo_id})"


class NameIndex:
    """The customers and vendors of the reference cache, by name as QuickBooks compares them."""

    def __init__(self, session: Session) -> None:
        self._by_key: dict[str, list[Twin]] = {}
        self._customers: dict[str, Twin] = {}
        records = session.scalars(
            select(QboRecord).where(QboRecord.entity.in_(("Customer", "Vendor", "Employee")))
        )
        for record in records:
            self.add(Twin.from_cache(record))

    def add(self, twin: Twin) -> None:
        key = name_key(live_name(twin.data))
        holders = [t for t in self._by_key.get(key, []) if t.qbo_id != twin.qbo_id]
        self._by_key[key] = [*holders, twin]
        if twin.entity == "Customer":
            self._customers[twin.qbo_id] = twin

    def holders(self, display_name: str) -> list[Twin]:
        return list(self._by_key.get(name_key(display_name), []))

    def customer(self, qbo_id: str) -> Twin | None:
        return self._customers.get(qbo_id)


def remember(session: Session, row: Mapping[str, Any]) -> None:
    """Keep a customer just created (or read) in the reference cache, as the next refresh of
    the lists would, so the Clients & Projects tab and this pass's messages know its name."""
    qbo_id = str(row.get("Id"))
    name = str(row.get("DisplayName") or qbo_id)
    is_job = row.get("Job") is True or row.get("IsProject") is True
    token = row.get("SyncToken")
    parent = row.get("ParentRef")
    parent_id = parent.get("value") if isinstance(parent, Mapping) else None
    fields: dict[str, Any] = {
        "name": name[:500],
        "fully_qualified_name": str(row.get("FullyQualifiedName") or name)[:1000],
        "parent_qbo_id": str(parent_id) if parent_id not in (None, "") else None,
        "kind": "project" if is_job else "customer",
        "active": row.get("Active") is not False,
        "sync_token": str(token)[:16] if token is not None else None,
        "data": dict(row),
        "last_updated": last_updated(row),
    }
    record = cached(session, "Customer", qbo_id)
    if record is None:
        session.add(QboRecord(entity="Customer", qbo_id=qbo_id, **fields))
    else:
        for key, value in fields.items():
            setattr(record, key, value)


def linked_records(session: Session) -> dict[str, str]:
    """QuickBooks customer Ids linked to a Factor client or project, with who holds them."""
    linked: dict[str, str] = {}
    for client in session.scalars(select(Client).where(Client.qbo_id.is_not(None))):
        assert client.qbo_id is not None
        linked[client.qbo_id] = the(client)
    for project in session.scalars(select(Project).where(Project.qbo_id.is_not(None))):
        assert project.qbo_id is not None
        linked[project.qbo_id] = the(project)
    return linked


def conflict_reason(
    record: Record, display_name: str, holders: Sequence[Twin], linked: Mapping[str, str]
) -> str:
    """Why the name cannot be given to a new customer, and what the administrator can do."""
    holder = holders[0]
    if holder.entity == "Customer" and holder.qbo_id in linked:
        whose = f"{holder.described()}, which is already linked to {linked[holder.qbo_id]}"
    elif holder.entity == "Customer" and not holder.active:
        whose = (
            f"{holder.described()}. Make that customer active again in QuickBooks and sync: "
            f"it is then linked to {the(record)}"
        )
    elif holder.entity == "Customer":
        place = "under the client's customer" if isinstance(record, Project) else "at the top level"
        whose = f"{holder.described()}, which is not {place}"
    else:
        whose = holder.described()
    return (
        f"{what(record)} can't be created in QuickBooks as {display_name!r}: that name is "
        f"already used by {whose}. QuickBooks needs every customer, sub-customer, vendor and "
        "employee name to be different (inactive ones included). Rename it in Factor Desktop "
        "or rename the other one in QuickBooks, or link it to an existing customer on the "
        "Clients & Projects tab; then sync again."
    )
