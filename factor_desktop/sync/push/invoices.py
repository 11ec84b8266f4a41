"""The push half of a sync pass: clients and projects, then the outbox of invoices.

Customers (`push_customers`)
----------------------------
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

The Id and SyncToken of a twin are stored on the record in the commit that logs it; a customer
created is also put in the reference cache at once, as the next refresh of the lists would.

A create carries a requestid derived from the realm, the record and the payload, so a retry
after a lost answer or a crash replays QuickBooks' first answer instead of creating twice. The
payload is part of it because QuickBooks replays refusals too: after the administrator renames a
client that QuickBooks refused, the new name must really be tried. A refusal for a duplicate name
(6240) is looked into by reading who holds the name; when nobody does any more (the refusal was
an old answer replayed), the create is tried again under a new requestid.

Invoices (`push_outbox`)
------------------------
Outbox rows are handled in order of id: pending and blocked ones, and failed ones up to
`FAILED_RETRY_LIMIT` attempts. An invoice goes to its project's sub-customer; when the firm does
not let Factor Desktop create projects and the project is not linked, it goes to the client's
customer instead (the firm bills clients directly in QuickBooks). Every line needs its QuickBooks
product/service: a service line the one its service type is mapped to, an expense line the one
its expense type is mapped to (its "item" mapping); an invoice with tax needs its tax term mapped
to a tax code. Anything missing blocks the invoice with a reason naming the exact type and where
to map it, and the invoice is tried again on every pass until it goes.

Every write carries the outbox row's requestid. Before a write the row's attempt is committed
(with status pending), so an invoice voided later knows it may be in QuickBooks. The invoice's
QuickBooks Id, its SyncToken and the row marked done are one commit. When QuickBooks refuses a
write (a definite answer: nothing was written), the row gets a new requestid derived from the
old one, so a later attempt is really carried out rather than answered with the old refusal.

* 6140 (the number is taken): the QuickBooks invoice with that number is read. If it is for the
  same customer with the same total, it is this invoice (keyed in QuickBooks by hand, or sent by
  an earlier install) and is linked. Otherwise the invoice is blocked with the facts; Factor
  Desktop never renumbers a finalized invoice.
* QuickBooks unreachable, throttling, server errors (after the client's own retries): the row
  stays pending with the same requestid, a warning is logged, and pushing stops for this pass.
* Authentication errors end the pass. Other refusals mark the row failed with QuickBooks' code,
  field and intuit_tid in the log.
* After a create, QuickBooks' TotalAmt is compared with Factor's total (Automated Sales Tax may
  recompute tax) and its DocNumber with Factor's (custom transaction numbers may be off).

A void reads the invoice for its SyncToken and voids it, unless QuickBooks shows it void already
or a payment Factor Desktop has not pulled yet is applied to it (voiding would silently unapply
it, so that is reported instead). An invoice voided in Factor before QuickBooks ever accepted it
is not sent at all.

In a preview pass nothing is written to QuickBooks and nothing local changes: every decision is
reported with `ctx.would(...)` (reads still happen, so a number already taken in QuickBooks is
shown too).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from factor_desktop.domain.money import format_money
from factor_desktop.qbo.client import JsonDict
from factor_desktop.qbo.errors import (
    DuplicateDocNumberError,
    DuplicateNameError,
    ObjectNotFoundError,
    QboAuthError,
    QboError,
    QboValidationError,
    StaleObjectError,
)
from factor_desktop.qbo.mappers import (
    InvoiceForQbo,
    InvoiceLineForQbo,
    custom_field_definitions,
    customer_matches,
    customer_payload,
    decimal_of,
    invoice_payload,
    invoice_private_note,
    live_name,
    match_custom_fields,
    name_key,
    qbo_display_name,
    sub_customer_payload,
)
from factor_desktop.qbo.query import QueryValueError
from factor_desktop.qbo.query import select as qbo_select
from factor_desktop.services.mappings import cached, mapped_qbo_id, unusable_reason
from factor_desktop.store.models import (
    Client,
    Invoice,
    InvoiceLine,
    OutboxItem,
    Project,
    QboRecord,
    SyncLogEntry,
)
from factor_desktop.sync.context import SyncContext
from factor_desktop.sync.reference import last_updated

__all__ = ["FAILED_RETRY_LIMIT", "push_customers", "push_outbox"]

#: A failed outbox row (QuickBooks refused it) is tried again on later passes until it has
#: been attempted this many times; then it waits for the administrator.
FAILED_RETRY_LIMIT = 5
#: How many requestids a customer create may go through when QuickBooks answers "duplicate name"
#: but nobody holds the name any more (an old refusal replayed).
_NAME_CREATE_TRIES = 3
_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "urn:factor-desktop:qbo-push")
_PUSH = "push"
_OPEN_OUTBOX = ("pending", "blocked", "failed")
_NAME_ENTITIES = ("Customer", "Vendor", "Employee")
_ENTITY_WORDS = {"Customer": "customer", "Vendor": "vendor", "Employee": "employee"}

Kind = Literal["client", "project"]
Record = Client | Project


def _commit(ctx: SyncContext) -> None:
    if not ctx.preview:
        ctx.session.commit()


def _error_detail(error: QboError) -> dict[str, Any]:
    return {
        "code": error.code,
        "element": error.element,
        "intuit_tid": error.intuit_tid,
        "http_status": error.http_status,
    }


def _after_refusal(request_id: str) -> str:
    """The requestid for the next attempt after QuickBooks definitely refused `request_id`."""
    return str(uuid.uuid5(_NAMESPACE, f"after-refusal:{request_id}"))


# ============================================================================================
# QuickBooks customers as the push sees them
# ============================================================================================


@dataclass(frozen=True)
class _Twin:
    """A QuickBooks customer, vendor or employee holding a name."""

    entity: str
    qbo_id: str
    sync_token: str | None
    full_name: str
    parent_id: str | None
    active: bool
    data: Mapping[str, Any]

    @classmethod
    def from_row(cls, entity: str, row: Mapping[str, Any]) -> _Twin:
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
    def from_cache(cls, record: QboRecord) -> _Twin:
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


class _NameIndex:
    """The customers and vendors of the reference cache, by name as QuickBooks compares them."""

    def __init__(self, session: Session) -> None:
        self._by_key: dict[str, list[_Twin]] = {}
        self._customers: dict[str, _Twin] = {}
        records = session.scalars(
            select(QboRecord).where(QboRecord.entity.in_(("Customer", "Vendor", "Employee")))
        )
        for record in records:
            self.add(_Twin.from_cache(record))

    def add(self, twin: _Twin) -> None:
        key = name_key(live_name(twin.data))
        holders = [t for t in self._by_key.get(key, []) if t.qbo_id != twin.qbo_id]
        self._by_key[key] = [*holders, twin]
        if twin.entity == "Customer":
            self._customers[twin.qbo_id] = twin

    def holders(self, display_name: str) -> list[_Twin]:
        return list(self._by_key.get(name_key(display_name), []))

    def customer(self, qbo_id: str) -> _Twin | None:
        return self._customers.get(qbo_id)


def _remember(session: Session, row: Mapping[str, Any]) -> None:
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


def _record_kind(record: Record) -> Kind:
    return "client" if isinstance(record, Client) else "project"


def _label(record: Record) -> str:
    if isinstance(record, Client):
        return record.name
    return f"{record.number} {record.name}"


def _what(record: Record) -> str:
    """How a message names the record: "The client 'X'", "The project 2417 'Y'"."""
    if isinstance(record, Client):
        return f"The client {record.name!r}"
    return f"The project {record.number} {record.name!r}"


def _the(record: Record) -> str:
    """The same in the middle of a sentence."""
    text = _what(record)
    return text[:1].lower() + text[1:]


def _linked_records(session: Session) -> dict[str, str]:
    """QuickBooks customer Ids linked to a Factor client or project, with who holds them."""
    linked: dict[str, str] = {}
    for client in session.scalars(select(Client).where(Client.qbo_id.is_not(None))):
        assert client.qbo_id is not None
        linked[client.qbo_id] = _the(client)
    for project in session.scalars(select(Project).where(Project.qbo_id.is_not(None))):
        assert project.qbo_id is not None
        linked[project.qbo_id] = _the(project)
    return linked


def _conflict_reason(
    record: Record, display_name: str, holders: Sequence[_Twin], linked: Mapping[str, str]
) -> str:
    """Why the name cannot be given to a new customer, and what the administrator can do."""
    holder = holders[0]
    if holder.entity == "Customer" and holder.qbo_id in linked:
        whose = f"{holder.described()}, which is already linked to {linked[holder.qbo_id]}"
    elif holder.entity == "Customer" and not holder.active:
        whose = (
            f"{holder.described()}. Make that customer active again in QuickBooks and sync: "
            f"it is then linked to {_the(record)}"
        )
    elif holder.entity == "Customer":
        place = "under the client's customer" if isinstance(record, Project) else "at the top level"
        whose = f"{holder.described()}, which is not {place}"
    else:
        whose = holder.described()
    return (
        f"{_what(record)} can't be created in QuickBooks as {display_name!r}: that name is "
        f"already used by {whose}. QuickBooks needs every customer, sub-customer, vendor and "
        "employee name to be different (inactive ones included). Rename it in Factor Desktop "
        "or rename the other one in QuickBooks, or link it to an existing customer on the "
        "Clients & Projects tab; then sync again."
    )


def _customer_request_id(ctx: SyncContext, kind: Kind, local_id: int, payload: JsonDict) -> str:
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"))
    key = f"{ctx.client.realm_id}|Customer|{kind}:{local_id}|{canonical}"
    return str(uuid.uuid5(_NAMESPACE, key))


# ============================================================================================
# push_customers
# ============================================================================================


def _open_outbox(session: Session) -> list[OutboxItem]:
    rows = session.scalars(
        select(OutboxItem)
        .where(OutboxItem.status.in_(_OPEN_OUTBOX), OutboxItem.entity_kind == "invoice")
        .order_by(OutboxItem.id)
    )
    return [row for row in rows if row.status != "failed" or row.attempts < FAILED_RETRY_LIMIT]


def _projects_needed(session: Session) -> set[int]:
    """Projects whose invoices wait in the outbox to be created in QuickBooks."""
    invoice_ids = [row.local_id for row in _open_outbox(session) if row.operation == "create"]
    if not invoice_ids:
        return set()
    rows = session.execute(
        select(Invoice.project_id).where(Invoice.id.in_(invoice_ids), Invoice.qbo_id.is_(None))
    )
    return {project_id for (project_id,) in rows}


class _CustomerPush:
    def __init__(self, ctx: SyncContext) -> None:
        self.ctx = ctx
        self.session = ctx.session
        self.names = _NameIndex(ctx.session)
        self.linked = _linked_records(ctx.session)
        self.verified: set[str] = set()
        self.planned: set[tuple[Kind, int]] = set()

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
        kind = _record_kind(record)
        action = "blocked" if needed else "skipped"
        if self.ctx.preview:
            self.ctx.would(
                direction=_PUSH,
                entity_kind=kind,
                label=_label(record),
                action=action,
                local_id=record.id,
                reason=reason,
            )
            return
        self.ctx.log(
            direction=_PUSH,
            entity_kind=kind,
            label=_label(record),
            action=action,
            level="error" if needed else "warning",
            reason=reason,
            local_id=record.id,
            detail=detail,
        )
        _commit(self.ctx)

    def _link(self, record: Record, twin: _Twin, reason: str) -> None:
        kind = _record_kind(record)
        if self.ctx.preview:
            self.planned.add((kind, record.id))
            self.ctx.would(
                direction=_PUSH,
                entity_kind=kind,
                label=_label(record),
                action="link",
                local_id=record.id,
                qbo_id=twin.qbo_id,
                reason=reason,
            )
            return
        record.qbo_id = twin.qbo_id
        record.qbo_sync_token = twin.sync_token
        self.linked[twin.qbo_id] = _the(record)
        self.verified.add(twin.qbo_id)
        self.ctx.log(
            direction=_PUSH,
            entity_kind=kind,
            label=_label(record),
            action="linked",
            reason=reason,
            local_id=record.id,
            qbo_id=twin.qbo_id,
            detail={"full_name": twin.full_name},
        )
        _commit(self.ctx)

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
                    f"{_what(record)} is linked to QuickBooks customer Id {qbo_id}, which no "
                    "longer exists in QuickBooks. Unlink it on the Clients & Projects tab, then "
                    "link it to another customer or let the next sync create one.",
                    needed=True,
                    detail=_error_detail(error),
                )
                return
            twin = _Twin.from_row("Customer", row)
            self.names.add(twin)
            if not self.ctx.preview:
                _remember(self.session, row)
        if twin.active:
            self.verified.add(qbo_id)
            return
        self._block(
            record,
            f"{_what(record)} is linked to {twin.described()}, so nothing can be sent to it. "
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
            self._block(client, _conflict_reason(client, name, holders, self.linked), needed=needed)
            return
        if not self.ctx.settings.auto_create_customers:
            self._block(
                client,
                f"{_what(client)} is not linked to a QuickBooks customer; link it on the "
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
        auto = self.ctx.settings.auto_create_projects
        name = qbo_display_name(project.name)
        if client.qbo_id is None:
            if self.ctx.preview and ("client", client.id) in self.planned and auto:
                self.planned.add(("project", project.id))
                self.ctx.would(
                    direction=_PUSH,
                    entity_kind="project",
                    label=_label(project),
                    action="create",
                    local_id=project.id,
                    name=name,
                    reason=f"as a sub-customer of the new customer for {client.name!r}",
                )
            elif needed and auto:
                self._block(
                    project,
                    f"{_what(project)} can't be created in QuickBooks before its client "
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
                    f"{_what(project)} can't be added under {parent.described()}. Make that "
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
                project, _conflict_reason(project, name, holders, self.linked), needed=needed
            )
            return
        payload = sub_customer_payload(name, client.qbo_id, site_address=project.address)
        self._create(project, name, payload, parent_id=client.qbo_id, needed=needed)

    # -- creating -------------------------------------------------------------------------------

    def _linkable(self, holders: Iterable[_Twin], parent_id: str | None) -> _Twin | None:
        for twin in holders:
            if (
                twin.entity == "Customer"
                and twin.active
                and twin.parent_id == parent_id
                and twin.qbo_id not in self.linked
            ):
                return twin
        return None

    def _live_holders(self, display_name: str) -> list[_Twin] | None:
        """Who holds the name in QuickBooks now (inactive ones included), read live."""
        found: list[_Twin] = []
        try:
            for entity in _NAME_ENTITIES:
                query = (
                    qbo_select(entity)
                    .where("DisplayName", "LIKE", f"{display_name}%")
                    .where("Active", "IN", [True, False])
                )
                for row in self.ctx.client.query(query):
                    if customer_matches(row, display_name):
                        found.append(_Twin.from_row(entity, row))
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
        kind = _record_kind(record)
        if self.ctx.preview:
            self.planned.add((kind, record.id))
            self.ctx.would(
                direction=_PUSH,
                entity_kind=kind,
                label=_label(record),
                action="create",
                local_id=record.id,
                name=display_name,
            )
            return
        base = _customer_request_id(self.ctx, kind, record.id, payload)
        refusal: DuplicateNameError | None = None
        for attempt in range(_NAME_CREATE_TRIES):
            request_id = base if attempt == 0 else str(uuid.uuid5(_NAMESPACE, f"{base}:{attempt}"))
            try:
                created = self.ctx.client.create("Customer", payload, request_id=request_id)
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
                        _conflict_reason(record, display_name, holders, self.linked),
                        needed=needed,
                        detail=_error_detail(error),
                    )
                    return
                continue  # nobody holds the name now: that refusal was an old answer replayed
            except QboValidationError as error:
                entry = self.ctx.log_error(
                    error,
                    direction=_PUSH,
                    entity_kind=kind,
                    label=_label(record),
                    local_id=record.id,
                )
                entry.reason = f"{_what(record)} could not be created in QuickBooks. {entry.reason}"
                _commit(self.ctx)
                return
            twin = _Twin.from_row("Customer", created)
            _remember(self.session, created)
            record.qbo_id = twin.qbo_id
            record.qbo_sync_token = twin.sync_token
            self.linked[twin.qbo_id] = _the(record)
            self.verified.add(twin.qbo_id)
            self.names.add(twin)
            self.ctx.log(
                direction=_PUSH,
                entity_kind=kind,
                label=_label(record),
                action="created",
                local_id=record.id,
                qbo_id=twin.qbo_id,
                detail={"full_name": twin.full_name, "request_id": request_id},
            )
            _commit(self.ctx)
            return
        self._block(
            record,
            f"QuickBooks refused the name {display_name!r} for {_the(record)}: a customer, "
            "vendor or employee already has it (inactive ones count too). Rename it in Factor "
            "Desktop or rename the other one in QuickBooks, or link it to an existing customer "
            "on the Clients & Projects tab; then sync again.",
            needed=needed,
            detail=_error_detail(refusal) if refusal is not None else None,
        )


def push_customers(ctx: SyncContext) -> None:
    """Link or create the QuickBooks customers and sub-customers the firm's records need.

    Looks at the clients and projects that waiting invoices need, plus every active client
    (when auto-create customers is on) and every active project of a client that is or can be
    in QuickBooks (when auto-create projects is on). Commits after each record. Stops quietly
    (a warning in the log) when QuickBooks cannot be reached; authentication errors end the pass.
    """
    session = ctx.session
    settings = ctx.settings
    needed_projects = _projects_needed(session)
    projects: dict[int, Project] = {}
    for project_id in sorted(needed_projects):
        project = session.get(Project, project_id)
        if project is not None:
            projects[project.id] = project
    clients: dict[int, Client] = {p.client.id: p.client for p in projects.values()}
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
    pusher = _CustomerPush(ctx)
    ordered: list[tuple[Record, bool]] = [
        (client, client.id in needed_clients)
        for client in sorted(clients.values(), key=lambda c: (c.name.casefold(), c.id))
    ]
    ordered += [
        (project, project.id in needed_projects)
        for project in sorted(projects.values(), key=lambda p: (p.number, p.id))
    ]
    for record, needed in ordered:
        ctx.check_cancel()
        try:
            if isinstance(record, Client):
                pusher.client(record, needed)
            else:
                pusher.project(record, needed)
        except QboAuthError:
            raise
        except QboValidationError as error:
            _refused_read(ctx, _record_kind(record), _label(record), record.id, error)
        except QboError as error:
            _stop_warning(ctx, _record_kind(record), _label(record), record.id, error)
            return


def _refused_read(ctx: SyncContext, kind: str, label: str, local_id: int, error: QboError) -> None:
    """QuickBooks refused a look-up made for a record: report it and go on with the next."""
    if ctx.preview:
        ctx.would(
            direction=_PUSH,
            entity_kind=kind,
            label=label,
            action="failed",
            local_id=local_id,
            reason=str(error),
        )
        return
    ctx.log_error(error, direction=_PUSH, entity_kind=kind, label=label, local_id=local_id)
    _commit(ctx)


def _stop_warning(
    ctx: SyncContext, kind: str, label: str, local_id: int | None, error: QboError
) -> None:
    reason = (
        f"QuickBooks could not be reached or asked to slow down ({error}). Nothing was lost: "
        "this and the rest are sent on the next sync."
    )
    if ctx.preview:
        ctx.would(
            direction=_PUSH,
            entity_kind=kind,
            label=label,
            action="skipped",
            local_id=local_id,
            reason=reason,
        )
        return
    ctx.log(
        direction=_PUSH,
        entity_kind=kind,
        label=label,
        action="skipped",
        level="warning",
        reason=reason,
        local_id=local_id,
        detail=_error_detail(error),
    )
    _commit(ctx)


# ============================================================================================
# push_outbox
# ============================================================================================


@dataclass
class _Prepared:
    """An invoice ready to send, or the reasons it can't be sent yet."""

    customer_id: str | None = None
    customer_name: str | None = None
    billed_to_client: bool = False
    payload: JsonDict | None = None
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def _is_voided(row: Mapping[str, Any]) -> bool:
    note = str(row.get("PrivateNote") or "")
    return decimal_of(row.get("TotalAmt")) == Decimal("0.00") and note.startswith("Voided")


def _payment_ids(row: Mapping[str, Any]) -> list[str]:
    links = row.get("LinkedTxn")
    if not isinstance(links, list):
        return []
    return [
        str(link.get("TxnId"))
        for link in links
        if isinstance(link, Mapping) and link.get("TxnType") == "Payment"
    ]


def _ref(row: Mapping[str, Any], key: str) -> tuple[str | None, str | None]:
    ref = row.get(key)
    if not isinstance(ref, Mapping):
        return None, None
    value = ref.get("value")
    name = ref.get("name")
    return (
        str(value) if value not in (None, "") else None,
        str(name) if isinstance(name, str) and name else None,
    )


def _details(invoice: Invoice) -> tuple[str, str, str]:
    """(project number, project name, client name) as captured when the invoice was finalized."""
    details = invoice.project_details if isinstance(invoice.project_details, dict) else {}
    project = invoice.project
    number = str(details.get("number") or project.number)
    name = str(details.get("name") or project.name)
    client = str(details.get("client") or project.client.name)
    return number, name, client


class _OutboxPush:
    def __init__(self, ctx: SyncContext) -> None:
        self.ctx = ctx
        self.session = ctx.session
        self._definitions: dict[str, str] | None = None

    # -- logging --------------------------------------------------------------------------------

    def _log(
        self,
        invoice: Invoice | None,
        item: OutboxItem,
        action: str,
        *,
        level: str = "info",
        reason: str | None = None,
        detail: dict[str, Any] | None = None,
    ) -> SyncLogEntry:
        label = (
            invoice.number if invoice is not None and invoice.number else f"invoice {item.local_id}"
        )
        return self.ctx.log(
            direction=_PUSH,
            entity_kind="invoice",
            label=label,
            action=action,
            level=level,
            reason=reason,
            local_id=item.local_id,
            qbo_id=invoice.qbo_id if invoice is not None else None,
            detail={"operation": item.operation, "request_id": item.request_id, **(detail or {})},
        )

    def _would(self, invoice: Invoice, item: OutboxItem, action: str, **extra: Any) -> None:
        self.ctx.would(
            direction=_PUSH,
            entity_kind="invoice",
            label=invoice.number or f"invoice {invoice.id}",
            action=action,
            local_id=invoice.id,
            operation=item.operation,
            **extra,
        )

    def _before_send(self, item: OutboxItem) -> None:
        """Record the attempt before the request goes out: from now on QuickBooks may have it."""
        item.attempts += 1
        item.status = "pending"
        _commit(self.ctx)

    def _done(self, item: OutboxItem) -> None:
        item.status = "done"
        item.done_at = self.ctx.now
        item.last_error = None

    def _refused(self, invoice: Invoice, item: OutboxItem, error: QboError, what: str) -> None:
        """QuickBooks refused the write: nothing was written, so the next attempt is new."""
        refused_id = item.request_id
        item.status = "failed"
        item.last_error = str(error)
        item.request_id = _after_refusal(refused_id)
        entry = self.ctx.log_error(
            error,
            direction=_PUSH,
            entity_kind="invoice",
            label=invoice.number or f"invoice {invoice.id}",
            local_id=invoice.id,
            qbo_id=invoice.qbo_id,
        )
        retries = max(FAILED_RETRY_LIMIT - item.attempts, 0)
        again = (
            f"Factor Desktop tries again on the next {retries} sync{'s' if retries != 1 else ''}."
            if retries
            else "It is not tried again automatically; fix the cause, then send it again."
        )
        entry.reason = f"QuickBooks refused to {what} invoice {invoice.number}. {again} {error}"
        entry.detail = {
            **(entry.detail or {}),
            "operation": item.operation,
            "request_id": refused_id,
        }
        _commit(self.ctx)

    def _block(self, invoice: Invoice, item: OutboxItem, reason: str, **detail: Any) -> None:
        if self.ctx.preview:
            self._would(invoice, item, "blocked", reason=reason)
            return
        item.status = "blocked"
        item.last_error = reason
        self._log(invoice, item, "blocked", level="error", reason=reason, detail=detail or None)
        _commit(self.ctx)

    def _cancel(self, invoice: Invoice | None, item: OutboxItem, reason: str) -> None:
        if self.ctx.preview:
            if invoice is not None:
                self._would(invoice, item, "skipped", reason=reason)
            return
        item.status = "cancelled"
        item.last_error = reason
        self._log(invoice, item, "skipped", reason=reason)
        _commit(self.ctx)

    # -- reading QuickBooks ---------------------------------------------------------------------

    def definitions(self) -> dict[str, str]:
        """The company's sales-form custom fields, read once per pass."""
        if self._definitions is None:
            self._definitions = custom_field_definitions(self.ctx.client.preferences())
        return self._definitions

    def numbered(self, number: str) -> list[JsonDict]:
        """The QuickBooks invoices carrying `number`."""
        try:
            query = qbo_select("Invoice").where("DocNumber", "=", number)
        except QueryValueError:
            return []
        return self.ctx.client.query(query)

    def _customer_name(self, customer_id: str | None, fallback: str | None) -> str:
        if fallback:
            return fallback
        if customer_id is None:
            return "another customer"
        record = cached(self.session, "Customer", customer_id)
        if record is None:
            return f"customer Id {customer_id}"
        return repr(record.fully_qualified_name or record.name)

    # -- preparing an invoice -------------------------------------------------------------------

    def _planned(self, kind: str, local_id: int) -> bool:
        return any(
            entry.get("entity") == kind
            and entry.get("local_id") == local_id
            and entry.get("action") in ("create", "link")
            for entry in self.ctx.planned
        )

    def _why_not(self, kind: str, local_id: int) -> str | None:
        """What this pass found wrong with a client or project, if anything."""
        if self.ctx.preview:
            for entry in reversed(self.ctx.planned):
                if entry.get("entity") == kind and entry.get("local_id") == local_id:
                    reason = entry.get("reason")
                    if entry.get("action") in ("blocked", "skipped") and isinstance(reason, str):
                        return reason
            return None
        return self.session.scalar(
            select(SyncLogEntry.reason)
            .where(
                SyncLogEntry.run_id == self.ctx.run.id,
                SyncLogEntry.entity_kind == kind,
                SyncLogEntry.local_id == local_id,
                SyncLogEntry.level.in_(("error", "warning")),
            )
            .order_by(SyncLogEntry.id.desc())
            .limit(1)
        )

    def _twin_problem(self, record: Record) -> str | None:
        """Why a linked client's or project's QuickBooks customer can't be billed: what this
        pass found (inactive, or gone from QuickBooks), or an inactive one in the cache."""
        assert record.qbo_id is not None
        found = self._why_not(_record_kind(record), record.id)
        if found is not None:
            return found
        twin = cached(self.session, "Customer", record.qbo_id)
        if twin is None or twin.active:
            return None
        name = twin.fully_qualified_name or twin.name
        return (
            f"{_what(record)} is linked to the inactive QuickBooks customer {name!r} (Id "
            f"{twin.qbo_id}). Make it active again in QuickBooks, or unlink it on the Clients & "
            "Projects tab."
        )

    def _customer(self, invoice: Invoice, prepared: _Prepared) -> None:
        project = invoice.project
        client = project.client
        if project.qbo_id is not None:
            problem = self._twin_problem(project)
            if problem:
                prepared.problems.append(problem)
            prepared.customer_id = project.qbo_id
            return
        if self.ctx.settings.auto_create_projects:
            if self.ctx.preview and self._planned("project", project.id):
                prepared.customer_name = f"the new sub-customer for {project.name!r}"
                return
            if client.qbo_id is None:
                why = self._why_not("client", client.id)
                prepared.problems.append(
                    f"{_what(project)} can't be in QuickBooks before its client. "
                    + (why or f"{_what(client)} is not in QuickBooks yet.")
                )
            else:
                prepared.problems.append(
                    self._why_not("project", project.id)
                    or f"{_what(project)} is not in QuickBooks yet; the sync creates or links it "
                    "first."
                )
            return
        # The firm does not mirror projects in QuickBooks: bill the client's customer.
        prepared.billed_to_client = True
        if client.qbo_id is not None:
            problem = self._twin_problem(client)
            if problem:
                prepared.problems.append(problem)
            prepared.customer_id = client.qbo_id
            return
        if self.ctx.preview and self._planned("client", client.id):
            prepared.customer_name = f"the new customer for {client.name!r}"
            return
        prepared.problems.append(
            self._why_not("client", client.id)
            or f"{_what(client)} is not in QuickBooks yet; the sync creates or links it first."
        )

    def _item(self, line: InvoiceLine, problems: dict[tuple[str, int], str]) -> str | None:
        """The QuickBooks product/service of a line; an unmapped type is added to `problems`."""
        if line.kind == "service" and line.service_type is not None:
            kind, local_id, name = "service_type", line.service_type.id, line.service_type.name
            what = f"The service type {name!r}"
            where = "the Mappings tab (Service types)"
        elif line.kind == "expense" and line.expense_type is not None:
            kind, local_id, name = "expense_type_item", line.expense_type.id, line.expense_type.name
            what = f"The expense type {name!r}"
            where = "the Mappings tab (Expense types, product/service column)"
        else:
            return None  # QuickBooks books the line to its default product/service
        qbo_id = mapped_qbo_id(self.session, kind, local_id)
        if qbo_id is None:
            problems.setdefault(
                (kind, local_id),
                f"{what} is not mapped to a QuickBooks product/service; map it on {where}.",
            )
            return None
        record = cached(self.session, "Item", qbo_id)
        reason = unusable_reason(record, kind) if record is not None else None
        if reason is not None:
            problems.setdefault(
                (kind, local_id),
                f"{what} is mapped to a product/service that can't be used: {reason}",
            )
            return None
        return qbo_id

    def _tax_code(self, invoice: Invoice, problems: list[str]) -> str | None:
        term = invoice.tax_term
        if term is None or not any(line.taxable for line in invoice.lines):
            return None
        qbo_id = mapped_qbo_id(self.session, "tax_term", term.id)
        if qbo_id is None:
            if invoice.tax != 0:
                problems.append(
                    f"The tax term {term.code} ({term.name}) is not mapped to a QuickBooks tax "
                    "code; map it on the Mappings tab (Tax terms)."
                )
            return None
        record = cached(self.session, "TaxCode", qbo_id)
        reason = unusable_reason(record, "tax_term") if record is not None else None
        if reason is not None:
            problems.append(
                f"The tax term {term.code} is mapped to a tax code that can't be used: {reason}"
            )
            return None
        return qbo_id

    def _custom_fields(self, invoice: Invoice, warnings: list[str]) -> tuple[tuple[str, str], ...]:
        if not invoice.custom_fields:
            return ()
        try:
            definitions = self.definitions()
        except QboValidationError as error:
            warnings.append(
                "QuickBooks' custom field settings could not be read, so the invoice's custom "
                f"fields stay in Factor Desktop only ({error})."
            )
            return ()
        fields = [(field.name, field.value) for field in invoice.custom_fields]
        matched, unmatched = match_custom_fields(fields, definitions)
        if unmatched:
            known = ", ".join(repr(name) for name in definitions) or "none switched on"
            listed = ", ".join(repr(name) for name in unmatched)
            warnings.append(
                f"QuickBooks has no custom field named {listed} (it has: {known}), so "
                "that value stays on the Factor Desktop invoice only. To send it, add a custom "
                "field with that name in QuickBooks (Account and settings > Sales > Custom "
                "fields)."
            )
        return tuple(matched)

    def prepare(self, invoice: Invoice) -> _Prepared:
        prepared = _Prepared()
        self._customer(invoice, prepared)
        item_problems: dict[tuple[str, int], str] = {}
        lines: list[InvoiceLineForQbo] = []
        for line in invoice.lines:
            lines.append(
                InvoiceLineForQbo(
                    description=line.description,
                    amount=line.amount,
                    quantity=line.quantity,
                    rate=line.rate,
                    item_id=self._item(line, item_problems),
                    taxable=line.taxable,
                )
            )
        prepared.problems.extend(item_problems.values())
        tax_code_id = self._tax_code(invoice, prepared.problems)
        custom_fields = self._custom_fields(invoice, prepared.warnings)
        if prepared.problems or prepared.customer_id is None:
            return prepared
        assert invoice.number is not None
        number, name, client = _details(invoice)
        label = f"{number} - {name}" if number else name
        prepared.payload = invoice_payload(
            InvoiceForQbo(
                doc_number=invoice.number,
                customer_id=prepared.customer_id,
                txn_date=invoice.issue_date,
                due_date=invoice.due_date,
                lines=tuple(lines),
                tax_code_id=tax_code_id,
                custom_fields=custom_fields,
                memo=invoice.memo,
                project_label=label,
                private_note=invoice_private_note(
                    invoice.number, project_number=number, project_name=name, client_name=client
                ),
            )
        )
        return prepared

    # -- which QuickBooks invoice is this one ----------------------------------------------------

    def _ours(
        self, invoice: Invoice, rows: Iterable[JsonDict], customer_ids: set[str]
    ) -> JsonDict | None:
        for row in rows:
            customer_id, _ = _ref(row, "CustomerRef")
            row_id = str(row.get("Id"))
            taken = self.session.scalar(
                select(Invoice.id).where(Invoice.qbo_id == row_id, Invoice.id != invoice.id)
            )
            if (
                customer_id in customer_ids
                and decimal_of(row.get("TotalAmt")) == invoice.total
                and taken is None
            ):
                return row
        return None

    def _number_taken(self, invoice: Invoice, rows: Sequence[JsonDict], prepared: _Prepared) -> str:
        """Why the invoice can't go with its number, in the administrator's terms."""
        number = invoice.number
        ours_name = self._customer_name(prepared.customer_id, prepared.customer_name)
        ours_total = format_money(invoice.total)
        same_customer = [
            row
            for row in rows
            if prepared.customer_id is not None
            and _ref(row, "CustomerRef")[0] == prepared.customer_id
        ]
        if not rows:
            return f"QuickBooks says the number {number} is already used by another transaction."
        row = same_customer[0] if same_customer else rows[0]
        total = decimal_of(row.get("TotalAmt"))
        shown_total = format_money(total) if total is not None else "an unknown total"
        if same_customer:
            return (
                f"QuickBooks already has invoice {number} for {ours_name}, but for "
                f"{shown_total} instead of Factor's {ours_total}. If it is this invoice, correct "
                "it in QuickBooks to match and sync: it is then linked. If it is another "
                "invoice, delete or renumber that one in QuickBooks. Factor Desktop never "
                "renumbers a finalized invoice."
            )
        customer_id, customer_name = _ref(row, "CustomerRef")
        theirs = self._customer_name(customer_id, repr(customer_name) if customer_name else None)
        return (
            f"QuickBooks already has invoice {number} for another customer ({theirs}, "
            f"{shown_total}), so Factor's invoice {number} for {ours_name} ({ours_total}) can't "
            f"be sent with the same number. Delete or renumber the QuickBooks invoice if it is "
            f"a mistake, and {number} is sent on the next sync; Factor Desktop never renumbers "
            "a finalized invoice."
        )

    def _link(self, invoice: Invoice, item: OutboxItem, row: JsonDict, reason: str) -> None:
        if self.ctx.preview:
            self._would(invoice, item, "link", qbo_id=str(row.get("Id")), reason=reason)
            return
        invoice.qbo_id = str(row.get("Id"))
        token = row.get("SyncToken")
        invoice.qbo_sync_token = str(token) if token is not None else None
        self._done(item)
        self._log(invoice, item, "linked", reason=reason)
        _commit(self.ctx)
        self.ctx.linked_invoices.append(row)

    # -- create -----------------------------------------------------------------------------------

    def create(self, item: OutboxItem) -> None:
        invoice = self.session.get(Invoice, item.local_id)
        if invoice is None or invoice.number is None:
            self._cancel(invoice, item, "The invoice is no longer a finalized invoice in Factor.")
            return
        if invoice.qbo_id is not None:
            if self.ctx.preview:
                return
            self._done(item)
            self._log(
                invoice,
                item,
                "skipped",
                reason=f"Already linked to QuickBooks invoice Id {invoice.qbo_id}.",
            )
            _commit(self.ctx)
            return
        if invoice.status == "void" and not self._void_create_goes(invoice, item):
            return
        prepared = self.prepare(invoice)
        if prepared.problems:
            reason = f"Invoice {invoice.number} is waiting: " + " ".join(prepared.problems)
            reason += " It is sent on the next sync after that."
            self._block(invoice, item, reason)
            return
        if self.ctx.preview:
            self._preview_create(invoice, item, prepared)
            return
        assert prepared.payload is not None and prepared.customer_id is not None
        self._before_send(item)
        try:
            created = self.ctx.client.create(
                "Invoice", prepared.payload, request_id=item.request_id
            )
        except DuplicateDocNumberError as error:
            self._duplicate_number(invoice, item, prepared, error)
            return
        except QboValidationError as error:
            self._refused(invoice, item, error, "create")
            return
        self._created(invoice, item, created, prepared)

    def _preview_create(self, invoice: Invoice, item: OutboxItem, prepared: _Prepared) -> None:
        rows = self.numbered(invoice.number or "")
        if rows:
            ids = {prepared.customer_id} if prepared.customer_id is not None else set()
            ours = self._ours(invoice, rows, ids)
            if ours is not None:
                self._would(
                    invoice,
                    item,
                    "link",
                    qbo_id=str(ours.get("Id")),
                    reason="QuickBooks already has this invoice (same number, customer, total).",
                )
            else:
                self._would(
                    invoice, item, "blocked", reason=self._number_taken(invoice, rows, prepared)
                )
            return
        self._would(
            invoice,
            item,
            "create",
            customer=self._customer_name(prepared.customer_id, prepared.customer_name),
            total=str(invoice.total),
            warnings=prepared.warnings,
        )

    def _created(
        self, invoice: Invoice, item: OutboxItem, created: JsonDict, prepared: _Prepared
    ) -> None:
        qbo_id = str(created.get("Id"))
        other = self.session.scalar(
            select(Invoice).where(Invoice.qbo_id == qbo_id, Invoice.id != invoice.id)
        )
        if other is not None:
            self._block(
                invoice,
                item,
                f"QuickBooks answered with its invoice Id {qbo_id}, which is already linked to "
                f"Factor's invoice {other.number}. Check both invoices in QuickBooks.",
            )
            return
        invoice.qbo_id = qbo_id
        token = created.get("SyncToken")
        invoice.qbo_sync_token = str(token) if token is not None else None
        self._done(item)
        warnings = list(prepared.warnings)
        doc_number = created.get("DocNumber")
        if doc_number is not None and str(doc_number) != invoice.number:
            warnings.append(
                f"QuickBooks numbered it {doc_number} instead of {invoice.number}: custom "
                "transaction numbers are off in QuickBooks (Account and settings > Sales > "
                "Custom transaction numbers). Turn them on so both keep the same numbers."
            )
        total = decimal_of(created.get("TotalAmt"))
        if total is not None and total != invoice.total:
            warnings.append(
                f"QuickBooks computed a total of {format_money(total)}; Factor's total is "
                f"{format_money(invoice.total)} (tax {format_money(invoice.tax)}). QuickBooks "
                "recalculates sales tax (Automated Sales Tax, or the mapped tax code's rates "
                "differ from the tax term's): check the invoice in QuickBooks and the tax term "
                "mapping."
            )
        detail: dict[str, Any] = {
            "doc_number": invoice.number,
            "customer_id": prepared.customer_id,
            "total": str(invoice.total),
        }
        if total is not None:
            detail["qbo_total"] = str(total)
        if prepared.billed_to_client:
            detail["billed_to"] = "client"
        self._log(
            invoice,
            item,
            "created",
            level="warning" if warnings else "info",
            reason=" ".join(warnings) or None,
            detail=detail,
        )
        _commit(self.ctx)

    def _duplicate_number(
        self,
        invoice: Invoice,
        item: OutboxItem,
        prepared: _Prepared,
        error: DuplicateDocNumberError,
    ) -> None:
        assert invoice.number is not None and prepared.customer_id is not None
        rows = self.numbered(invoice.number)
        ours = self._ours(invoice, rows, {prepared.customer_id})
        if ours is not None:
            self._link(
                invoice,
                item,
                ours,
                f"QuickBooks already had invoice {invoice.number} for this customer with the "
                f"same total ({format_money(invoice.total)}); linked to it instead of creating "
                "a duplicate.",
            )
            return
        if not rows:
            self._refused(invoice, item, error, "create")
            return
        self._block(
            invoice, item, self._number_taken(invoice, rows, prepared), **_error_detail(error)
        )
        # Refused: the next attempt (once the number is free) must really be carried out.
        item.request_id = _after_refusal(item.request_id)
        _commit(self.ctx)

    def _void_create_goes(self, invoice: Invoice, item: OutboxItem) -> bool:
        """For an invoice voided in Factor whose create is still open: whether the create must
        still be sent (its last attempt's outcome is unknown, so only sending it again with
        the same requestid tells). Otherwise settles the create and returns False."""
        never = "The invoice was voided before QuickBooks accepted it; it was not sent."
        if item.status == "pending" and item.attempts > 0:
            return True
        if item.status == "failed" or item.attempts == 0:
            self._cancel(invoice, item, never)
            return False
        # Blocked after an earlier attempt: look for it by its number.
        project = invoice.project
        ids = {i for i in (project.qbo_id, project.client.qbo_id) if i is not None}
        ours = self._ours(invoice, self.numbered(invoice.number or ""), ids)
        if ours is not None:
            self._link(
                invoice, item, ours, "Found in QuickBooks by its number, customer and total."
            )
        else:
            self._cancel(invoice, item, never)
        return False

    # -- void -------------------------------------------------------------------------------------

    def void(self, item: OutboxItem) -> None:
        invoice = self.session.get(Invoice, item.local_id)
        if invoice is None:
            self._cancel(None, item, "The invoice is no longer in Factor.")
            return
        if invoice.qbo_id is None:
            self._void_unsent(invoice, item)
            return
        qbo_id = invoice.qbo_id
        if self.ctx.preview:
            self._would(invoice, item, "void", qbo_id=qbo_id)
            return
        self._before_send(item)
        for attempt in range(2):
            try:
                current = self.ctx.client.read("Invoice", qbo_id)
            except ObjectNotFoundError:
                self._gone(invoice, item)
                return
            if _is_voided(current):
                self._voided(invoice, item, current, "QuickBooks shows it void already.")
                return
            payments = _payment_ids(current)
            if payments:
                self._block(
                    invoice,
                    item,
                    f"QuickBooks has {len(payments)} payment{'s' if len(payments) > 1 else ''} "
                    f"applied to invoice {invoice.number} that Factor Desktop has not received "
                    "yet, and voiding would take it off the invoice without a word. Remove the "
                    "payment from the invoice in QuickBooks (or move it to the right invoice); "
                    "the void goes through on the next sync.",
                    payments=payments,
                )
                return
            try:
                voided = self.ctx.client.void(
                    "Invoice", qbo_id, str(current.get("SyncToken")), request_id=item.request_id
                )
            except ObjectNotFoundError:
                self._gone(invoice, item)
                return
            except StaleObjectError as error:
                # Changed in QuickBooks between the read and the void: nothing was voided.
                if attempt == 0:
                    item.request_id = _after_refusal(item.request_id)
                    _commit(self.ctx)
                    continue
                self._refused(invoice, item, error, "void")
                return
            except QboValidationError as error:
                self._refused(invoice, item, error, "void")
                return
            self._voided(invoice, item, voided, None)
            return

    def _void_unsent(self, invoice: Invoice, item: OutboxItem) -> None:
        """A void of an invoice QuickBooks has no Id for: settle its create first."""
        create = self.session.scalar(
            select(OutboxItem)
            .where(
                OutboxItem.entity_kind == "invoice",
                OutboxItem.local_id == invoice.id,
                OutboxItem.operation == "create",
                OutboxItem.status.in_(_OPEN_OUTBOX),
            )
            .order_by(OutboxItem.id.desc())
            .limit(1)
        )
        if create is not None and (create.status == "failed" or create.attempts == 0):
            # QuickBooks refused it, or it never went out: there is nothing in QuickBooks.
            self._cancel(
                invoice,
                create,
                "The invoice was voided before QuickBooks accepted it; it was not sent.",
            )
        elif create is not None:
            # Whether the invoice reached QuickBooks is not settled yet; the void waits for it.
            if self.ctx.preview:
                self._would(invoice, item, "void", reason="once its create is settled")
            else:
                item.last_error = "Waiting for the invoice's create to be settled first."
                _commit(self.ctx)
            return
        if self.ctx.preview:
            self._would(invoice, item, "skipped", reason="never in QuickBooks; nothing to void")
            return
        self._done(item)
        self._log(
            invoice,
            item,
            "skipped",
            reason=f"Invoice {invoice.number} never reached QuickBooks; there is nothing to void.",
        )
        _commit(self.ctx)

    def _voided(
        self, invoice: Invoice, item: OutboxItem, row: JsonDict, reason: str | None
    ) -> None:
        token = row.get("SyncToken")
        invoice.qbo_sync_token = str(token) if token is not None else invoice.qbo_sync_token
        self._done(item)
        self._log(invoice, item, "voided", reason=reason)
        _commit(self.ctx)

    def _gone(self, invoice: Invoice, item: OutboxItem) -> None:
        self._done(item)
        self._log(
            invoice,
            item,
            "voided",
            level="warning",
            reason=(
                f"Invoice {invoice.number} was deleted in QuickBooks (Id {invoice.qbo_id}), so "
                "there was nothing left to void there. It stays void in Factor."
            ),
        )
        _commit(self.ctx)


def push_outbox(ctx: SyncContext) -> None:
    """Send the outbox to QuickBooks: creates and voids of finalized invoices, oldest first.

    See the module's notes for what each outcome does to the outbox row. Commits after each
    row. Stops (a warning in the log, the row left pending) when QuickBooks cannot be reached
    or asks to slow down; authentication errors end the pass.
    """
    pusher = _OutboxPush(ctx)
    for item in _open_outbox(ctx.session):
        ctx.check_cancel()
        try:
            if item.operation == "create":
                pusher.create(item)
            elif item.operation == "void":
                pusher.void(item)
            else:
                _unknown_operation(ctx, item)
        except QboAuthError:
            raise
        except QboValidationError as error:
            _refused_read(ctx, "invoice", f"invoice {item.local_id}", item.local_id, error)
            if not ctx.preview and item.attempts >= FAILED_RETRY_LIMIT:
                # Refused pass after pass: it waits for the administrator's Retry now.
                item.status = "failed"
                item.last_error = str(error)
                _commit(ctx)
        except QboError as error:
            if not ctx.preview:
                item.last_error = str(error)
            invoice = ctx.session.get(Invoice, item.local_id)
            label = (
                invoice.number
                if invoice is not None and invoice.number
                else f"invoice {item.local_id}"
            )
            _stop_warning(ctx, "invoice", label, item.local_id, error)
            return


def _unknown_operation(ctx: SyncContext, item: OutboxItem) -> None:
    reason = (
        f"This version of Factor Desktop can't {item.operation!r} an invoice in QuickBooks; "
        "the entry stays in the outbox."
    )
    if ctx.preview:
        return
    ctx.log(
        direction=_PUSH,
        entity_kind="invoice",
        label=f"invoice {item.local_id}",
        action="skipped",
        level="warning",
        reason=reason,
        local_id=item.local_id,
    )
    _commit(ctx)


def retry_outbox(session: Session) -> int:
    """Put failed and blocked outbox rows back in the queue; returns how many.

    They go back to pending, which the next pass sends whatever their earlier attempts (a
    failed row otherwise stops after a few). Their `requestid` stays: a write QuickBooks did
    receive is answered from its record, never doubled. A refused create of an invoice voided
    since stays failed with its attempts forgotten, so the pass settles it without sending it;
    a blocked one stays blocked, so the pass looks for it in QuickBooks by its number instead of
    sending it.
    """
    rows = session.scalars(
        select(OutboxItem).where(OutboxItem.status.in_(("failed", "blocked")))
    ).all()
    for row in rows:
        invoice = session.get(Invoice, row.local_id) if row.entity_kind == "invoice" else None
        voided = invoice is not None and invoice.status == "void"
        if row.status == "failed" and row.operation == "create" and voided:
            row.attempts = 0
        elif row.operation == "create" and voided:
            pass  # never sent again: `_void_create_goes` settles it
        else:
            row.status = "pending"
    session.flush()
    return len(rows)
