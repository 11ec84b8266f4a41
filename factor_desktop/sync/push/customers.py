"""Clients and projects as QuickBooks customers and sub-customers (`push_customers`).

A client is a QuickBooks customer and a project a sub-customer under it (FullyQualifiedName
``Client:Project``). The records looked at are the clients and projects that an invoice waiting
in the outbox needs and, when the firm lets Factor Desktop create them, every active client
(auto-create customers) and every active project of a client that is or can be in QuickBooks
(auto-create projects). For each one:

* linked already: a record an invoice needs is checked against the reference cache (or read from
  QuickBooks when the cache does not have it). A twin that is inactive or gone is reported as a
  blocking error; nothing is recreated behind the administrator's back;
* not linked: a QuickBooks customer holding the same DisplayName (QuickBooks' rule: case and
  repeated spaces ignored) in the right place (top level for a client, under the client's
  customer for a project) is linked instead of creating a duplicate; a name held by something
  else (a vendor, an inactive customer, a sub-customer elsewhere, a customer linked to another
  record) is explained, with what to do; otherwise the twin is created when auto-create is on,
  and the record is reported as blocked when it is off and an invoice needs it. A problem with
  a record no invoice waits on yet is logged as "skipped" (a warning), not "blocked".

Creates go out in batch requests of up to 30: every client first, then every project (a batch
item cannot refer to a customer created by another item of the same batch). The Id and
SyncToken of a twin are stored on the record in the commit that logs it; a customer created is
also put in the reference cache at once, as the next refresh of the lists would.

A create carries a requestid derived from the realm, the record and the payload, so a retry
after a lost answer replays QuickBooks' first answer instead of creating twice; a batch's
requestid is derived from its items' requestids. The payload is part of it because QuickBooks
replays refusals too: after the administrator renames a client that QuickBooks refused, the new
name must really be tried. A create whose answer was lost for good is settled by the name rule:
the next attempt is refused as a duplicate name (6240), the holder is read, and it is linked. A
refusal for a duplicate name is looked into by reading who holds the name; when nobody does any
more (the refusal was an old answer replayed), the create is tried again under a new requestid.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from factor_desktop.qbo.client import MAX_BATCH_ITEMS, BatchItem, JsonDict
from factor_desktop.qbo.errors import (
    DuplicateNameError,
    ObjectNotFoundError,
    QboAuthError,
    QboError,
    QboValidationError,
)
from factor_desktop.qbo.mappers import (
    customer_matches,
    customer_payload,
    name_key,
    qbo_display_name,
    sub_customer_payload,
)
from factor_desktop.qbo.query import QueryValueError
from factor_desktop.qbo.query import select as qbo_select
from factor_desktop.services.links import create_requested, settle_create_requests
from factor_desktop.store.models import Client, Invoice, Project
from factor_desktop.sync.context import SyncContext
from factor_desktop.sync.push.common import (
    NAMESPACE,
    PUSH,
    Kind,
    Record,
    commit,
    error_detail,
    label,
    open_outbox,
    record_kind,
    refused_read,
    stop_warning,
    the,
    what,
)
from factor_desktop.sync.push.lost import LostCreates
from factor_desktop.sync.push.names import (
    NameIndex,
    Twin,
    conflict_reason,
    linked_records,
    remember,
)

__all__ = ["push_customers"]

#: How many requestids a customer create may go through when QuickBooks answers "duplicate name"
#: but nobody holds the name any more (an old refusal replayed).
_NAME_CREATE_TRIES = 3
_NAME_ENTITIES = ("Customer", "Vendor", "Employee")


def _customer_request_id(ctx: SyncContext, kind: Kind, local_id: int, payload: JsonDict) -> str:
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"))
    key = f"{ctx.client.realm_id}|Customer|{kind}:{local_id}|{canonical}"
    return str(uuid.uuid5(NAMESPACE, key))


def _projects_needed(session: Session) -> set[int]:
    """Projects whose invoices wait in the outbox to be created in QuickBooks."""
    invoice_ids = [row.local_id for row in open_outbox(session) if row.operation == "create"]
    if not invoice_ids:
        return set()
    rows = session.execute(
        select(Invoice.project_id).where(Invoice.id.in_(invoice_ids), Invoice.qbo_id.is_(None))
    )
    return {project_id for (project_id,) in rows}


@dataclass(frozen=True)
class _NewCustomer:
    """A customer or sub-customer decided on, waiting to go out with others in a batch."""

    record: Record
    display_name: str
    payload: JsonDict
    parent_id: str | None
    needed: bool
    request_id: str


class _CustomerPush(LostCreates):
    def __init__(self, ctx: SyncContext) -> None:
        self.ctx = ctx
        self.session = ctx.session
        self.names = NameIndex(ctx.session)
        self.linked = linked_records(ctx.session)
        self.verified: set[str] = set()
        self.queue: list[_NewCustomer] = []
        self.queued_names: dict[str, Record] = {}
        # Records the administrator marked "create in QuickBooks" (auto-create for that one).
        self.requested = create_requested(ctx.session)

    # -- outcomes ------------------------------------------------------------------------------

    def _block(
        self,
        record: Record,
        reason: str,
        *,
        needed: bool,
        detail: dict[str, Any] | None = None,
    ) -> None:
        """Report why a record can't be in QuickBooks: "blocked" (an error) when an invoice
        waits on it, "skipped" (a warning) when nothing does yet."""
        kind = record_kind(record)
        action = "blocked" if needed else "skipped"
        record.qbo_pending_name = None
        self.ctx.log(
            direction=PUSH,
            entity_kind=kind,
            label=label(record),
            action=action,
            level="error" if needed else "warning",
            reason=reason,
            local_id=record.id,
            detail=detail,
        )
        commit(self.ctx)

    def _link(self, record: Record, twin: Twin, reason: str) -> None:
        kind = record_kind(record)
        record.qbo_pending_name = None
        record.qbo_id = twin.qbo_id
        record.qbo_sync_token = twin.sync_token
        self.linked[twin.qbo_id] = the(record)
        self.verified.add(twin.qbo_id)
        self.ctx.log(
            direction=PUSH,
            entity_kind=kind,
            label=label(record),
            action="linked",
            reason=reason,
            local_id=record.id,
            qbo_id=twin.qbo_id,
            detail={"full_name": twin.full_name},
        )
        commit(self.ctx)

    # -- linked records ------------------------------------------------------------------------

    def _check_linked(self, record: Record) -> None:
        """Report a linked twin that is inactive or gone: what waits on it can't be sent."""
        qbo_id = record.qbo_id
        assert qbo_id is not None
        if qbo_id in self.verified:
            return
        twin = self.names.customer(qbo_id)
        if twin is None:
            try:
                row = self.ctx.client.read("Customer", qbo_id)
            except ObjectNotFoundError as error:
                self._block(
                    record,
                    f"{what(record)} is linked to QuickBooks customer Id {qbo_id}, which no "
                    "longer exists in QuickBooks. Unlink it on the Clients & Projects tab, then "
                    "link it to another customer or let the next sync create one.",
                    needed=True,
                    detail=error_detail(error),
                )
                return
            twin = Twin.from_row("Customer", row)
            self.names.add(twin)
            remember(self.session, row)
        if twin.active:
            self.verified.add(qbo_id)
            return
        self._block(
            record,
            f"{what(record)} is linked to {twin.described()}, so nothing can be sent to it. "
            "Make it active again in QuickBooks, or unlink it on the Clients & Projects tab so "
            "it can be linked to another customer or created again.",
            needed=True,
        )

    # -- clients --------------------------------------------------------------------------------

    def client(self, client: Client, needed: bool) -> None:
        if client.qbo_id is not None:
            if needed:
                self._check_linked(client)
            return
        if client.qbo_pending_name is not None and self._settle_pending(client, None):
            return
        if client.archived and not needed:
            return  # looked at only to settle a create whose answer was lost
        name = qbo_display_name(client.name)
        holders = self.names.holders(name)
        match = self._linkable(holders, parent_id=None)
        if match is not None:
            self._link(
                client,
                match,
                f"QuickBooks already has the customer {match.full_name!r}; linked to it "
                "instead of creating a duplicate.",
            )
            return
        if holders:
            self._block(client, conflict_reason(client, name, holders, self.linked), needed=needed)
            return
        if not (self.ctx.settings.auto_create_customers or ("client", client.id) in self.requested):
            self._block(
                client,
                f"{what(client)} is not linked to a QuickBooks customer; link it on the "
                "Clients & Projects tab or turn on auto-create (Settings: create customers "
                "in QuickBooks).",
                needed=needed,
            )
            return
        payload = customer_payload(
            client.name,
            email=client.email,
            phone=client.phone,
            address_line1=client.address_line1,
            city=client.city,
            region=client.region,
            postal_code=client.postal_code,
        )
        self._create(client, name, payload, parent_id=None, needed=needed)

    # -- projects -------------------------------------------------------------------------------

    def project(self, project: Project, needed: bool) -> None:
        if project.qbo_id is not None:
            if needed:
                self._check_linked(project)
            return
        client = project.client
        if project.qbo_pending_name is not None and self._settle_pending(project, client.qbo_id):
            return
        if project.status != "active" and not needed:
            return  # looked at only to settle a create whose answer was lost
        auto = self.ctx.settings.auto_create_projects or ("project", project.id) in self.requested
        name = qbo_display_name(project.name)
        if client.qbo_id is None:
            if needed and auto:
                self._block(
                    project,
                    f"{what(project)} can't be created in QuickBooks before its client "
                    f"{client.name!r}, which is not in QuickBooks yet (see the client's entry "
                    "in this sync's log).",
                    needed=True,
                )
            return
        parent = self.names.customer(client.qbo_id)
        if parent is not None and not parent.active:
            if needed or auto:
                self._block(
                    project,
                    f"{what(project)} can't be added under {parent.described()}. Make that "
                    "customer active again in QuickBooks, or unlink the client on the Clients & "
                    "Projects tab.",
                    needed=needed,
                )
            return
        holders = self.names.holders(name)
        match = self._linkable(holders, parent_id=client.qbo_id)
        if match is not None:
            self._link(
                project,
                match,
                f"QuickBooks already has the sub-customer {match.full_name!r}; linked to it "
                "instead of creating a duplicate.",
            )
            return
        if not auto:
            # Projects are not mirrored in QuickBooks: their invoices go to the client's customer.
            return
        if holders:
            self._block(
                project, conflict_reason(project, name, holders, self.linked), needed=needed
            )
            return
        payload = sub_customer_payload(name, client.qbo_id, site_address=project.address)
        self._create(project, name, payload, parent_id=client.qbo_id, needed=needed)

    # -- creating -------------------------------------------------------------------------------

    def _linkable(self, holders: Iterable[Twin], parent_id: str | None) -> Twin | None:
        for twin in holders:
            if (
                twin.entity == "Customer"
                and twin.active
                and twin.parent_id == parent_id
                and twin.qbo_id not in self.linked
            ):
                return twin
        return None

    def _live_holders(self, display_name: str) -> list[Twin] | None:
        """Who holds the name in QuickBooks now (inactive ones included), read live."""
        found: list[Twin] = []
        try:
            for entity in _NAME_ENTITIES:
                query = (
                    qbo_select(entity)
                    .where("DisplayName", "LIKE", f"{display_name}%")
                    .where("Active", "IN", [True, False])
                )
                for row in self.ctx.client.query(query):
                    if customer_matches(row, display_name):
                        found.append(Twin.from_row(entity, row))
        except QueryValueError:
            return None
        for twin in found:
            self.names.add(twin)
        return found

    def _create(
        self,
        record: Record,
        display_name: str,
        payload: JsonDict,
        *,
        parent_id: str | None,
        needed: bool,
    ) -> None:
        """Decide on a create; it goes out with the others of its kind in `flush`. A name that
        another record of this pass is being created under is refused here, as QuickBooks would
        refuse the second of the two."""
        key = name_key(display_name)
        other = self.queued_names.get(key)
        if other is not None:
            self._block(
                record,
                f"{what(record)} can't be created in QuickBooks as {display_name!r}: {the(other)} "
                "is created under that name in this sync, and QuickBooks needs every customer, "
                "sub-customer, vendor and employee name to be different. Rename one of them in "
                "Factor Desktop, or link this one to an existing customer on the Clients & "
                "Projects tab; then sync again.",
                needed=needed,
            )
            return
        self.queued_names[key] = record
        request_id = _customer_request_id(self.ctx, record_kind(record), record.id, payload)
        self.queue.append(
            _NewCustomer(record, display_name, payload, parent_id, needed, request_id)
        )

    def flush(self) -> None:
        """Send the queued creates: in batches of up to 30, a lone one by itself.

        An item QuickBooks refuses for its name is looked into one by one (`_create_one`); a
        batch that could not be sent at all (QuickBooks unreachable, throttling, an expired
        connection) raises its error, and what was not settled goes again on the next pass.
        """
        while self.queue:
            self.ctx.check_cancel()
            chunk = self.queue[:MAX_BATCH_ITEMS]
            # From here QuickBooks may have them: a crash before the answer is settled leaves
            # the name to look for on the next pass.
            for new in chunk:
                new.record.qbo_pending_name = new.display_name
            commit(self.ctx)
            if len(chunk) == 1:
                self._create_one(chunk[0])
                self.queue = self.queue[1:]
                continue
            items = [
                BatchItem.create(str(n), "Customer", new.payload) for n, new in enumerate(chunk)
            ]
            batch_id = str(
                uuid.uuid5(NAMESPACE, "customers|" + ",".join(new.request_id for new in chunk))
            )
            results = self.ctx.writer.batch(items, request_id=batch_id)
            for new, result in zip(chunk, results, strict=True):
                if result.data is not None:
                    self._created(new, result.data, batch_id)
                elif isinstance(result.error, DuplicateNameError):
                    self._create_one(new)
                elif isinstance(result.error, QboValidationError):
                    self._refused(new, result.error)
                elif result.error is not None:
                    raise result.error
            self.queue = self.queue[len(chunk) :]

    def _created(self, new: _NewCustomer, created: JsonDict, request_id: str) -> None:
        record = new.record
        record.qbo_pending_name = None
        twin = Twin.from_row("Customer", created)
        remember(self.session, created)
        record.qbo_id = twin.qbo_id
        record.qbo_sync_token = twin.sync_token
        self.linked[twin.qbo_id] = the(record)
        self.verified.add(twin.qbo_id)
        self.names.add(twin)
        self.ctx.log(
            direction=PUSH,
            entity_kind=record_kind(record),
            label=label(record),
            action="created",
            local_id=record.id,
            qbo_id=twin.qbo_id,
            detail={"full_name": twin.full_name, "request_id": request_id},
        )
        commit(self.ctx)

    def _refused(self, new: _NewCustomer, error: QboValidationError) -> None:
        record = new.record
        record.qbo_pending_name = None
        self.ctx.log_error(
            error,
            direction=PUSH,
            entity_kind=record_kind(record),
            label=label(record),
            local_id=record.id,
            reason=f"{what(record)} could not be created in QuickBooks. {error}",
        )
        commit(self.ctx)

    def _create_one(self, new: _NewCustomer) -> None:
        record, display_name, payload = new.record, new.display_name, new.payload
        parent_id, needed = new.parent_id, new.needed
        base = new.request_id
        refusal: DuplicateNameError | None = None
        for attempt in range(_NAME_CREATE_TRIES):
            request_id = base if attempt == 0 else str(uuid.uuid5(NAMESPACE, f"{base}:{attempt}"))
            try:
                created = self.ctx.writer.create("Customer", payload, request_id=request_id)
            except DuplicateNameError as error:
                refusal = error
                holders = self._live_holders(display_name)
                if holders is None:
                    break
                match = self._linkable(holders, parent_id)
                if match is not None:
                    self._link(
                        record,
                        match,
                        f"QuickBooks already has {match.described()}; linked to it instead "
                        "of creating a duplicate.",
                    )
                    return
                if holders:
                    self._block(
                        record,
                        conflict_reason(record, display_name, holders, self.linked),
                        needed=needed,
                        detail=error_detail(error),
                    )
                    return
                continue  # nobody holds the name now: that refusal was an old answer replayed
            except QboValidationError as error:
                self._refused(new, error)
                return
            self._created(new, created, request_id)
            return
        self._block(
            record,
            f"QuickBooks refused the name {display_name!r} for {the(record)}: a customer, "
            "vendor or employee already has it (inactive ones count too). Rename it in Factor "
            "Desktop or rename the other one in QuickBooks, or link it to an existing customer "
            "on the Clients & Projects tab; then sync again.",
            needed=needed,
            detail=error_detail(refusal) if refusal is not None else None,
        )


def push_customers(ctx: SyncContext) -> None:
    """Link or create the QuickBooks customers and sub-customers the firm's records need.

    Looks at the clients and projects that waiting invoices need or that the administrator
    marked "create in QuickBooks" (services.links), plus every active client (when auto-create
    customers is on) and every active project of a client that is or can be in QuickBooks (when
    auto-create projects is on). Commits after each record. Stops quietly
    (a warning in the log) when QuickBooks cannot be reached; authentication errors end the pass.
    """
    session = ctx.session
    settings = ctx.settings
    if settle_create_requests(session):
        commit(ctx)
    requested = create_requested(session)
    needed_projects = _projects_needed(session) | {i for k, i in requested if k == "project"}
    projects: dict[int, Project] = {}
    for project_id in sorted(needed_projects):
        project = session.get(Project, project_id)
        if project is not None:
            projects[project.id] = project
    clients: dict[int, Client] = {p.client.id: p.client for p in projects.values()}
    for kind, client_id in sorted(requested):
        client = session.get(Client, client_id) if kind == "client" else None
        if client is not None:
            clients[client.id] = client
    needed_clients = set(clients)
    if settings.auto_create_customers:
        for client in session.scalars(select(Client).where(Client.archived.is_(False))):
            clients.setdefault(client.id, client)
    if settings.auto_create_projects:
        active = session.scalars(
            select(Project)
            .join(Project.client)
            .where(Project.status == "active", Client.archived.is_(False))
        )
        for project in active:
            if project.client.qbo_id is not None or settings.auto_create_customers:
                projects.setdefault(project.id, project)
                clients.setdefault(project.client.id, project.client)
    # Records whose create went out without a settled answer, whatever they are now.
    for client in session.scalars(
        select(Client).where(Client.qbo_pending_name.is_not(None), Client.qbo_id.is_(None))
    ):
        clients.setdefault(client.id, client)
    for project in session.scalars(
        select(Project).where(Project.qbo_pending_name.is_not(None), Project.qbo_id.is_(None))
    ):
        projects.setdefault(project.id, project)
        clients.setdefault(project.client.id, project.client)
    pusher = _CustomerPush(ctx)
    client_order = sorted(clients.values(), key=lambda c: (c.name.casefold(), c.id))
    project_order = sorted(projects.values(), key=lambda p: (p.number, p.id))
    rounds: list[list[tuple[Record, bool]]] = [
        [(client, client.id in needed_clients) for client in client_order],
        [(project, project.id in needed_projects) for project in project_order],
    ]
    # Clients first, all of them sent before any project: a sub-customer needs its parent's Id.
    for records in rounds:
        if not _decide(ctx, pusher, records):
            return
        try:
            pusher.flush()
        except QboAuthError:
            raise
        except QboError as error:
            if pusher.queue:
                record = pusher.queue[0].record
                stop_warning(ctx, record_kind(record), label(record), record.id, error)
            return
    if settle_create_requests(session):
        commit(ctx)


def _decide(ctx: SyncContext, pusher: _CustomerPush, records: list[tuple[Record, bool]]) -> bool:
    """Link, check or queue each record; False when QuickBooks stopped answering."""
    for record, needed in records:
        ctx.check_cancel()
        try:
            if isinstance(record, Client):
                pusher.client(record, needed)
            else:
                pusher.project(record, needed)
        except QboAuthError:
            raise
        except QboValidationError as error:
            refused_read(ctx, record_kind(record), label(record), record.id, error)
        except QboError as error:
            stop_warning(ctx, record_kind(record), label(record), record.id, error)
            return False
    return True
