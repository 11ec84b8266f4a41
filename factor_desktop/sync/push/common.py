"""What the customer push and the invoice push share: naming records, outcomes, the outbox."""

from __future__ import annotations

import uuid
from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from factor_desktop.qbo.errors import QboError
from factor_desktop.store.models import Client, OutboxItem, Project
from factor_desktop.sync.context import SyncContext

#: A failed outbox row (QuickBooks refused it) is tried again on later passes until it has
#: been attempted this many times; then it waits for the administrator.
FAILED_RETRY_LIMIT = 5
NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "urn:factor-desktop:qbo-push")
PUSH = "push"
OPEN_OUTBOX = ("pending", "blocked", "failed")

Kind = Literal["client", "project"]
Record = Client | Project


def commit(ctx: SyncContext) -> None:
    """Commit what one record's outcome changed (a preview commits to its scratch copy)."""
    ctx.session.commit()


def error_detail(error: QboError) -> dict[str, Any]:
    return {
        "code": error.code,
        "element": error.element,
        "intuit_tid": error.intuit_tid,
        "http_status": error.http_status,
    }


def after_refusal(request_id: str) -> str:
    """The requestid for the next attempt after QuickBooks definitely refused `request_id`."""
    return str(uuid.uuid5(NAMESPACE, f"after-refusal:{request_id}"))


def record_kind(record: Record) -> Kind:
    return "client" if isinstance(record, Client) else "project"


def label(record: Record) -> str:
    if isinstance(record, Client):
        return record.name
    return f"{record.number} {record.name}"


def what(record: Record) -> str:
    """How a message names the record: "The client 'X'", "The project 2417 'Y'"."""
    if isinstance(record, Client):
        return f"The client {record.name!r}"
    return f"The project {record.number} {record.name!r}"


def the(record: Record) -> str:
    """The same in the middle of a sentence."""
    text = what(record)
    return text[:1].lower() + text[1:]


def open_outbox(session: Session) -> list[OutboxItem]:
    rows = session.scalars(
        select(OutboxItem)
        .where(OutboxItem.status.in_(OPEN_OUTBOX), OutboxItem.entity_kind == "invoice")
        .order_by(OutboxItem.id)
    )
    return [row for row in rows if row.status != "failed" or row.attempts < FAILED_RETRY_LIMIT]


def refused_read(ctx: SyncContext, kind: str, label: str, local_id: int, error: QboError) -> None:
    """QuickBooks refused a look-up made for a record: report it and go on with the next."""
    ctx.log_error(error, direction=PUSH, entity_kind=kind, label=label, local_id=local_id)
    commit(ctx)


def stop_warning(
    ctx: SyncContext, kind: str, label: str, local_id: int | None, error: QboError
) -> None:
    """QuickBooks can't be reached or asks to slow down: say so; the rest waits for next time."""
    reason = (
        f"QuickBooks could not be reached or asked to slow down ({error}). Nothing was lost: "
        "this and the rest are sent on the next sync."
    )
    ctx.log(
        direction=PUSH,
        entity_kind=kind,
        label=label,
        action="skipped",
        level="warning",
        reason=reason,
        local_id=local_id,
        detail=error_detail(error),
    )
    commit(ctx)
