"""Clients and projects with their QuickBooks links, the cached QuickBooks customers they can be
linked to, and how far the first-run checklist has come."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from factor_desktop.services.links import create_requested
from factor_desktop.store.models import Client, QboRecord, SyncRun
from factor_desktop.views.rows import ClientRow, ProjectRow, QboCustomerRow, SetupProgress


def load_clients(session: Session) -> tuple[ClientRow, ...]:
    clients = session.scalars(
        select(Client).options(selectinload(Client.projects)).order_by(Client.name)
    ).all()
    return tuple(
        ClientRow(
            id=c.id,
            name=c.name,
            archived=c.archived,
            qbo_id=c.qbo_id,
            projects=tuple(
                ProjectRow(
                    id=p.id,
                    client_id=c.id,
                    number=p.number,
                    name=p.name,
                    status=p.status,
                    manager=p.manager,
                    qbo_id=p.qbo_id,
                )
                for p in sorted(c.projects, key=lambda p: p.number)
            ),
        )
        for c in clients
    )


def _balance(value: object) -> Decimal | None:
    try:
        return Decimal(str(value)).quantize(Decimal("0.01")) if value is not None else None
    except ArithmeticError:
        return None


def load_links_and_setup(
    session: Session, clients: tuple[ClientRow, ...], projects_mirrored: bool
) -> tuple[tuple[QboCustomerRow, ...], frozenset[tuple[str, int]], SetupProgress]:
    requested = frozenset(create_requested(session))
    linked_to: dict[str, str] = {}
    needed = decided = 0
    for client in clients:
        if client.qbo_id is not None:
            linked_to[client.qbo_id] = f"the client {client.name!r}"
        if not client.archived:
            needed += 1
            decided += client.qbo_id is not None or ("client", client.id) in requested
        for project in client.projects:
            if project.qbo_id is not None:
                linked_to[project.qbo_id] = f"the project {project.number} {project.name!r}"
            if projects_mirrored and not client.archived and project.status == "active":
                needed += 1
                decided += project.qbo_id is not None or ("project", project.id) in requested
    customers = tuple(
        QboCustomerRow(
            qbo_id=r.qbo_id,
            name=r.name,
            full_name=r.fully_qualified_name or r.name,
            parent_qbo_id=r.parent_qbo_id,
            balance=_balance(r.data.get("Balance") if isinstance(r.data, dict) else None),
            active=r.active,
            sync_token=r.sync_token,
            linked_to=linked_to.get(r.qbo_id),
        )
        for r in session.scalars(
            select(QboRecord)
            .where(QboRecord.entity == "Customer")
            .order_by(func.coalesce(QboRecord.fully_qualified_name, QboRecord.name))
        )
    )
    runs = dict(
        session.execute(
            select(SyncRun.kind, func.count(SyncRun.id))
            .where(SyncRun.status.not_in(("running", "failed", "cancelled")))
            .group_by(SyncRun.kind)
        ).all()
    )
    setup = SetupProgress(
        cached_records=int(session.scalar(select(func.count(QboRecord.id))) or 0),
        previews=int(runs.get("preview", 0)),
        syncs=sum(int(n) for kind, n in runs.items() if kind not in ("preview", "lists")),
        links_needed=needed,
        links_decided=decided,
    )
    return customers, requested, setup
