"""Linking clients and projects to their QuickBooks Online twins.

A client is a QBO customer and a project is a QBO sub-customer, so both draw on the same QBO
Customer ids: one id may be linked to one client or one project, never to two records.

A record not linked may instead be marked "create in QuickBooks": an outbox row of its kind
(`client` or `project`, operation `create`) that the next sync's customer step honours as if
auto-create were on for that one record, and marks done once the record has its twin. Unlinking
or linking the record by hand withdraws the request. Nothing is written to QuickBooks here.
"""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import uuid4

from sqlalchemy import select
from sqlalchemy.orm import Session

from factor_desktop.services._fields import get_record, optional_text, text
from factor_desktop.services.errors import ServiceError
from factor_desktop.store.models import Client, OutboxItem, Project

#: The outbox statuses of a creation request the next sync still has to carry out.
_OPEN = ("pending", "blocked", "failed")


def _linked_elsewhere(session: Session, qbo_id: str, record: Client | Project) -> str | None:
    """A description of the other client or project already linked to `qbo_id`, if any."""
    for client in session.scalars(select(Client).where(Client.qbo_id == qbo_id)):
        if client is not record:
            return f"the client {client.name!r}"
    for project in session.scalars(select(Project).where(Project.qbo_id == qbo_id)):
        if project is not record:
            return f"the project {project.number} {project.name!r}"
    return None


def _link(
    session: Session, record: Client | Project, what: str, qbo_id: str, sync_token: str | None
) -> None:
    qbo_id = text(qbo_id, "QuickBooks customer id", "qbo_id", 32)
    sync_token = optional_text(sync_token, "QuickBooks sync token", "qbo_sync_token", 16)
    if record.qbo_id is not None and record.qbo_id != qbo_id:
        raise ServiceError(
            f"{what} is already linked to QuickBooks customer {record.qbo_id}. Unlink it first "
            f"to link it to customer {qbo_id}.",
            field="qbo_id",
        )
    other = _linked_elsewhere(session, qbo_id, record)
    if other is not None:
        raise ServiceError(
            f"QuickBooks customer {qbo_id} is already linked to {other}. A QuickBooks customer "
            "can stand for only one client or project; unlink it there first.",
            field="qbo_id",
        )
    record.qbo_id = qbo_id
    if sync_token is not None:
        record.qbo_sync_token = sync_token
    _close_requests(session, _kind(record), record.id, "done")
    session.flush()


def link_client(
    session: Session, client_id: int, qbo_id: str, sync_token: str | None = None
) -> Client:
    """Link a client to a QuickBooks customer (its `Id`, and the `SyncToken` last seen)."""
    client = get_record(session, Client, client_id, "client")
    _link(session, client, f"The client {client.name!r}", qbo_id, sync_token)
    return client


def unlink_client(session: Session, client_id: int) -> Client:
    """Forget a client's QuickBooks customer. Nothing changes in QuickBooks."""
    client = get_record(session, Client, client_id, "client")
    client.qbo_id = None
    client.qbo_sync_token = None
    _close_requests(session, "client", client.id, "cancelled")
    session.flush()
    return client


def link_project(
    session: Session, project_id: int, qbo_id: str, sync_token: str | None = None
) -> Project:
    """Link a project to a QuickBooks sub-customer (its `Id`, and the `SyncToken` last seen)."""
    project = get_record(session, Project, project_id, "project")
    _link(session, project, f"The project {project.number}", qbo_id, sync_token)
    return project


def unlink_project(session: Session, project_id: int) -> Project:
    """Forget a project's QuickBooks sub-customer. Nothing changes in QuickBooks."""
    project = get_record(session, Project, project_id, "project")
    project.qbo_id = None
    project.qbo_sync_token = None
    _close_requests(session, "project", project.id, "cancelled")
    session.flush()
    return project


# --- "create in QuickBooks" on the next sync ---------------------------------------------------


def _kind(record: Client | Project) -> str:
    return "client" if isinstance(record, Client) else "project"


def _open_requests(session: Session, kind: str, local_id: int) -> list[OutboxItem]:
    return list(
        session.scalars(
            select(OutboxItem).where(
                OutboxItem.entity_kind == kind,
                OutboxItem.local_id == local_id,
                OutboxItem.operation == "create",
                OutboxItem.status.in_(_OPEN),
            )
        )
    )


def _close_requests(session: Session, kind: str, local_id: int, status: str) -> int:
    rows = _open_requests(session, kind, local_id)
    for row in rows:
        row.status = status
        row.done_at = datetime.now(UTC) if status == "done" else None
    return len(rows)


def create_requested(session: Session) -> set[tuple[str, int]]:
    """The (kind, id) of every client and project marked to be created by the next sync."""
    rows = session.execute(
        select(OutboxItem.entity_kind, OutboxItem.local_id).where(
            OutboxItem.entity_kind.in_(("client", "project")),
            OutboxItem.operation == "create",
            OutboxItem.status.in_(_OPEN),
        )
    )
    return {(kind, local_id) for kind, local_id in rows}


def _request(session: Session, record: Client | Project, what: str) -> bool:
    if record.qbo_id is not None:
        raise ServiceError(
            f"{what} is already linked to QuickBooks customer {record.qbo_id}. Unlink it "
            "first to have a new customer created for it.",
            field="qbo_id",
        )
    kind = _kind(record)
    if _open_requests(session, kind, record.id):
        return False
    session.add(
        OutboxItem(
            entity_kind=kind,
            local_id=record.id,
            operation="create",
            request_id=str(uuid4()),
            status="pending",
        )
    )
    session.flush()
    return True


def request_create_client(session: Session, client_id: int) -> Client:
    """Mark a client to be created as a QuickBooks customer by the next sync (unless QuickBooks
    already has a free customer of its name, which is linked instead)."""
    client = get_record(session, Client, client_id, "client")
    if client.archived:
        raise ServiceError(
            f"The client {client.name!r} is archived; restore it in Factor before creating it "
            "in QuickBooks."
        )
    _request(session, client, f"The client {client.name!r}")
    return client


def request_create_project(session: Session, project_id: int) -> Project:
    """Mark a project to be created as a sub-customer by the next sync; its client too when
    the client is not in QuickBooks yet (a sub-customer needs its parent)."""
    project = get_record(session, Project, project_id, "project")
    if project.client.archived:
        raise ServiceError(
            f"The project {project.number}'s client {project.client.name!r} is archived; "
            "restore it in Factor first."
        )
    _request(session, project, f"The project {project.number}")
    if project.client.qbo_id is None:
        _request(session, project.client, f"The client {project.client.name!r}")
    return project


def cancel_create_request(session: Session, kind: str, local_id: int) -> bool:
    """Withdraw a "create in QuickBooks" mark; False when there was none."""
    if kind not in ("client", "project"):
        raise ServiceError(f"Unknown kind of record {kind!r}: a client or a project.")
    closed = _close_requests(session, kind, local_id, "cancelled")
    session.flush()
    return closed > 0


def settle_create_requests(session: Session) -> int:
    """Mark done the requests whose record has its QuickBooks twin now; returns how many."""
    settled = 0
    for kind, model in (("client", Client), ("project", Project)):
        rows = session.execute(
            select(OutboxItem, model.qbo_id)
            .join(model, model.id == OutboxItem.local_id)
            .where(
                OutboxItem.entity_kind == kind,
                OutboxItem.operation == "create",
                OutboxItem.status.in_(_OPEN),
            )
        ).all()
        for row, qbo_id in rows:
            if qbo_id is not None:
                row.status = "done"
                row.done_at = datetime.now(UTC)
                settled += 1
    return settled
