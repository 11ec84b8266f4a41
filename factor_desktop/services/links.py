"""Linking clients and projects to their QuickBooks Online twins.

A client is a QBO customer and a project is a QBO sub-customer, so both draw on the same QBO
Customer ids: one id may be linked to one client or one project, never to two records.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from factor_desktop.services._fields import get_record, optional_text, text
from factor_desktop.services.errors import ServiceError
from factor_desktop.store.models import Client, Project


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
    session.flush()
    return project
