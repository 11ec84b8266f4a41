"""Jobs behind the Clients & Projects tab: link, unlink, mark for creation, suggest.

Each runs on the worker thread like every other `Job` (see `jobs.py`) through the services the
`link` command uses (`services.links`), in one transaction: a set of changes (an accepted group
of suggestions, say) happens whole or, refused, not at all. A result says what each record was
before and after, so the window can undo it by asking for the "before" again.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from factor_desktop.services.errors import ServiceError
from factor_desktop.ui.jobs import Job, JobEnv, Report

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from factor_desktop.services.suggest import LinkSuggestion
    from factor_desktop.store.models import Client, Project, QboRecord

# The services and the store's models (SQLAlchemy) are imported where the jobs use them, on the
# worker: the window builds the Clients & Projects tab before it opens the store.

Kind = Literal["client", "project"]


@dataclass(frozen=True)
class LinkState:
    """Where a client or project stands with QuickBooks: linked to a customer (`qbo_id`),
    marked to be created by the next sync (`create`), or neither."""

    qbo_id: str | None = None
    create: bool = False


UNLINKED = LinkState()
CREATE = LinkState(create=True)


@dataclass(frozen=True)
class LinkRequest:
    """Put one record in `target`'s state."""

    kind: Kind
    local_id: int
    target: LinkState


@dataclass(frozen=True)
class LinkChange:
    kind: Kind
    local_id: int
    label: str
    before: LinkState
    after: LinkState


@dataclass(frozen=True)
class LinksChanged:
    """What a link job changed (records left as they were are not listed), in a sentence."""

    changes: tuple[LinkChange, ...]
    message: str

    def undo_requests(self) -> tuple[LinkRequest, ...]:
        return tuple(LinkRequest(c.kind, c.local_id, c.before) for c in reversed(self.changes))

    def redo_requests(self) -> tuple[LinkRequest, ...]:
        return tuple(LinkRequest(c.kind, c.local_id, c.after) for c in self.changes)


def _record(session: Session, kind: Kind, local_id: int) -> Client | Project:
    from factor_desktop.services._fields import get_record
    from factor_desktop.store.models import Client, Project

    if kind == "client":
        return get_record(session, Client, local_id, "client")
    return get_record(session, Project, local_id, "project")


def _label(record: Client | Project) -> str:
    from factor_desktop.store.models import Client

    if isinstance(record, Client):
        return f"the client {record.name!r}"
    return f"the project {record.number} {record.name!r}"


def _state(session: Session, kind: Kind, local_id: int) -> LinkState:
    from factor_desktop.services.links import create_requested

    record = _record(session, kind, local_id)
    return LinkState(record.qbo_id, (kind, local_id) in create_requested(session))


def _customer(session: Session, qbo_id: str) -> QboRecord | None:
    from sqlalchemy import select

    from factor_desktop.store.models import QboRecord

    return session.scalar(
        select(QboRecord).where(QboRecord.entity == "Customer", QboRecord.qbo_id == qbo_id)
    )


def _customer_text(session: Session, qbo_id: str) -> str:
    row = _customer(session, qbo_id)
    name = (row.fully_qualified_name or row.name) if row is not None else None
    return f"QuickBooks customer {name!r} (Id {qbo_id})" if name else f"QuickBooks Id {qbo_id}"


def _apply(session: Session, request: LinkRequest) -> None:
    from factor_desktop.services.links import (
        cancel_create_request,
        link_client,
        link_project,
        request_create_client,
        request_create_project,
        unlink_client,
        unlink_project,
    )

    kind, local_id, target = request.kind, request.local_id, request.target
    before = _state(session, kind, local_id)
    if before.qbo_id is not None and before.qbo_id != target.qbo_id:
        (unlink_client if kind == "client" else unlink_project)(session, local_id)
    elif before.create and not target.create:
        cancel_create_request(session, kind, local_id)
    if target.qbo_id is not None and target.qbo_id != before.qbo_id:
        cached = _customer(session, target.qbo_id)
        token = cached.sync_token if cached is not None else None
        (link_client if kind == "client" else link_project)(session, local_id, target.qbo_id, token)
    elif target.create and not before.create:
        if kind == "client":
            request_create_client(session, local_id)
        else:
            request_create_project(session, local_id)


def _sentence(session: Session, change: LinkChange) -> str:
    what = change.label[:1].upper() + change.label[1:]
    after = change.after
    if after.qbo_id is not None:
        return f"{what} is linked to {_customer_text(session, after.qbo_id)}."
    if after.create:
        return f"{what} will be created in QuickBooks by the next sync."
    if change.before.qbo_id is not None:
        return f"{what} is no longer linked (nothing changed in QuickBooks)."
    return f"{what} will not be created in QuickBooks."


class SetLinksJob(Job):
    """Link, unlink or mark clients and projects for creation, all or nothing."""

    kind = "set_links"
    title = "Saving the QuickBooks links…"
    expected_errors = (ServiceError,)

    def __init__(self, requests: Sequence[LinkRequest], *, undoing: bool = False) -> None:
        super().__init__()
        self.requests = tuple(requests)
        # An undo (or redo) of earlier changes: not recorded as a change of its own.
        self.undoing = undoing

    def run(self, env: JobEnv, report: Report) -> LinksChanged:
        from factor_desktop.store.models import Project

        with env.store.session() as session:
            touched: list[tuple[Kind, int]] = []
            for request in self.requests:
                key = (request.kind, request.local_id)
                if key not in touched:
                    touched.append(key)
                if request.kind == "project" and request.target.create:
                    project = _record(session, "project", request.local_id)
                    assert isinstance(project, Project)
                    if ("client", project.client_id) not in touched:
                        touched.append(("client", project.client_id))
            before = {key: _state(session, *key) for key in touched}
            for request in self.requests:
                _apply(session, request)
            session.flush()
            changes = tuple(
                LinkChange(
                    kind,
                    local_id,
                    _label(_record(session, kind, local_id)),
                    before[(kind, local_id)],
                    _state(session, kind, local_id),
                )
                for kind, local_id in touched
                if _state(session, kind, local_id) != before[(kind, local_id)]
            )
            sentences = [_sentence(session, c) for c in changes]
        if not sentences:
            message = "Nothing to change: the links were already so."
        elif len(sentences) <= 3:
            message = " ".join(sentences)
        else:
            message = f"{len(sentences)} clients and projects changed. {sentences[0]} …"
        return LinksChanged(changes, message)


class SuggestLinksJob(Job):
    """The `map suggest` proposals for clients and projects, from the lists last read."""

    kind = "suggest_links"
    title = "Looking for matching QuickBooks customers…"
    refreshes_snapshot = False

    def run(self, env: JobEnv, report: Report) -> tuple[LinkSuggestion, ...]:
        from factor_desktop.services.suggest import suggest

        with env.store.session() as session:
            return suggest(session).links


def request_for(suggestion: LinkSuggestion) -> LinkRequest | None:
    """What accepting a suggestion asks for: its link, or creation; None for a "review"."""
    if suggestion.action == "link" and suggestion.qbo_id is not None:
        return LinkRequest(suggestion.entity, suggestion.local_id, LinkState(suggestion.qbo_id))
    if suggestion.action == "create":
        return LinkRequest(suggestion.entity, suggestion.local_id, CREATE)
    return None
