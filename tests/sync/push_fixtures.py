"""A small firm in a fresh store, a local QuickBooks sandbox, and sync passes over real HTTP.

The passes run the real steps in order (reference cache, customers, outbox) on one worker session,
committing as the engine does; a preview pass works on a scratch copy of the store, as the
engine's does.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from factor_desktop import services as sv
from factor_desktop.qbo.client import JsonDict, QboClient
from factor_desktop.qbo.query import select as qbo_select
from factor_desktop.sandbox import SandboxConfig, SandboxServer
from factor_desktop.settings import update_setting
from factor_desktop.store.db import Store, open_store
from factor_desktop.store.models import Invoice, Mapping, OutboxItem, SyncLogEntry, SyncRun
from factor_desktop.sync.context import SyncContext, planned_entries
from factor_desktop.sync.engine import scratch_copy
from factor_desktop.sync.push import push_customers, push_outbox
from factor_desktop.sync.reference import refresh_reference

ISSUED = date(2025, 3, 3)
ALDER_TAX_CODE = "2"  # the sandbox company's 8.5 % sales tax code


def _no_sleep(_seconds: float) -> None:
    return None


@dataclass
class Firm:
    client_id: int
    project_id: int
    schematic_id: int
    admin_id: int
    printing_id: int
    alder_tax_id: int


@dataclass
class Rig:
    sandbox: SandboxServer
    store: Store
    session: Session
    client: QboClient
    attachments: Path

    # -- QuickBooks ----------------------------------------------------------------------------

    def new_client(self, *, max_retries: int = 2) -> QboClient:
        return QboClient(
            self.sandbox.base_url,
            self.sandbox.realm_id,
            self.sandbox.token_source(),
            sleep=_no_sleep,
            max_retries=max_retries,
        )

    def qbo(self, entity: str, **where: str) -> list[JsonDict]:
        """Rows of `entity` in QuickBooks (inactive names included), filtered by equality."""
        query = qbo_select(entity)
        if entity in ("Customer", "Vendor", "Item"):
            query = query.where("Active", "IN", [True, False])
        for key, value in where.items():
            query = query.where(key, "=", value)
        return self.client.query(query)

    def item_id(self, name: str) -> str:
        return str(self.qbo("Item", Name=name)[0]["Id"])

    def create_item(self, name: str) -> str:
        income = self.qbo("Account", Name="Services")[0]["Id"]
        item = self.client.create(
            "Item", {"Name": name, "Type": "Service", "IncomeAccountRef": {"value": income}}
        )
        return str(item["Id"])

    # -- passes --------------------------------------------------------------------------------

    def context(
        self,
        *,
        preview: bool = False,
        client: QboClient | None = None,
        session: Session | None = None,
        run_id: int | None = None,
    ) -> SyncContext:
        if run_id is None:
            run = SyncRun(kind="preview" if preview else "sync", status="running", counts={})
            self.session.add(run)
            self.session.commit()
            run_id = run.id
        session = session or self.session
        found = session.get(SyncRun, run_id)
        assert found is not None
        return SyncContext(
            session=session,
            client=client or self.client,
            settings=sv.current_settings(session),
            run=found,
            now=self.sandbox.clock.now(),
            attachments_dir=self.attachments,
            preview=preview,
        )

    def sync(self, *, preview: bool = False, client: QboClient | None = None) -> SyncContext:
        """Reference cache, customers, outbox: the push half of a pass. A preview works on a
        scratch copy of the store, as the engine's does, and its plan is that copy's log."""
        if not preview:
            ctx = self.context(client=client)
            refresh_reference(ctx)
            push_customers(ctx)
            push_outbox(ctx)
            self.session.commit()
            return ctx
        run = SyncRun(kind="preview", status="running", counts={})
        self.session.add(run)
        self.session.commit()
        folder = self.attachments.parent / f"preview-{run.id}"
        folder.mkdir()
        scratch = scratch_copy(self.store, folder)
        session = scratch.sessions()
        try:
            ctx = self.context(preview=True, client=client, session=session, run_id=run.id)
            refresh_reference(ctx)
            push_customers(ctx)
            push_outbox(ctx)
            session.commit()
            ctx.planned = planned_entries(session, run.id)
        finally:
            session.close()
            scratch.close()
        return ctx

    def push(self, *, client: QboClient | None = None) -> SyncContext:
        """Customers and outbox only, on the lists read by an earlier pass."""
        ctx = self.context(client=client)
        push_customers(ctx)
        push_outbox(ctx)
        self.session.commit()
        return ctx

    def entries(self, ctx: SyncContext, **where: Any) -> list[SyncLogEntry]:
        query = select(SyncLogEntry).where(SyncLogEntry.run_id == ctx.run.id)
        for key, value in where.items():
            query = query.where(getattr(SyncLogEntry, key) == value)
        return list(self.session.scalars(query.order_by(SyncLogEntry.id)))

    def outbox(self, invoice_id: int, operation: str = "create") -> OutboxItem:
        item = self.session.scalar(
            select(OutboxItem).where(
                OutboxItem.local_id == invoice_id, OutboxItem.operation == operation
            )
        )
        assert item is not None
        return item

    # -- the firm ------------------------------------------------------------------------------

    def setting(self, name: str, value: Any) -> None:
        update_setting(self.session, name, value)
        self.session.commit()

    def map(self, kind: str, local_id: int, qbo_id: str) -> None:
        self.session.add(Mapping(kind=kind, local_id=local_id, qbo_id=qbo_id))
        self.session.commit()

    def build_firm(
        self,
        *,
        client_name: str = "Harbor & Pine Holdings",
        project_name: str = "Waterfront Library",
        number: str = "P-101",
    ) -> Firm:
        s = self.session
        client = sv.create_client(
            s,
            sv.ClientFields(
                name=client_name,
                email="accounts@harborpine.example",
                phone="(510) 555-0199",
                address_line1="88 Pier Road",
                city="Port Alder",
                region="CA",
                postal_code="94612",
            ),
        )
        project = sv.create_project(
            s,
            sv.ProjectFields(
                client_id=client.id, number=number, name=project_name, address="1 Quay St"
            ),
        )
        schematic = sv.create_service_type(s, sv.ServiceTypeFields(name="Schematic Design"))
        admin = sv.create_service_type(s, sv.ServiceTypeFields(name="Construction Administration"))
        printing = sv.create_expense_type(
            s,
            sv.ExpenseTypeFields(
                name="Printing", category="Reimbursables", markup_percent=None, taxable=True
            ),
        )
        alder = sv.create_tax_term(
            s, sv.TaxTermFields(code="ALDER", name="Alder County", rate_percent=Decimal("8.5"))
        )
        sv.set_service_budget(s, project.id, schematic.id, Decimal("40000.00"), Decimal("25"))
        s.commit()
        return Firm(client.id, project.id, schematic.id, admin.id, printing.id, alder.id)

    def map_all(self, firm: Firm) -> None:
        """Map the firm's types the way an administrator would, on the Mappings tab."""
        self.map("service_type", firm.schematic_id, self.item_id("Services"))
        self.map("service_type", firm.admin_id, self.item_id("Hours"))
        self.map("expense_type_item", firm.printing_id, self.create_item("Reimbursables"))
        self.map("tax_term", firm.alder_tax_id, ALDER_TAX_CODE)

    def invoice(
        self,
        firm: Firm,
        *,
        project_id: int | None = None,
        lines: Sequence[sv.LineInput] | None = None,
        tax: bool = True,
        custom_fields: Sequence[tuple[str, str]] = (),
        memo: str | None = None,
    ) -> Invoice:
        """A finalized invoice: a fee line, an hourly line, an odd-priced line and printing."""
        s = self.session
        draft = sv.create_draft_invoice(
            s, project_id or firm.project_id, issue_date=ISSUED, from_project=False
        )
        if lines is None:
            lines = standard_lines(firm)
        sv.edit_draft_invoice(
            s,
            draft.id,
            sv.DraftChanges(
                lines=lines,
                tax_term_id=firm.alder_tax_id if tax else None,
                custom_fields=custom_fields,
                memo=memo,
            ),
        )
        invoice = sv.finalize_invoice(s, draft.id)
        s.commit()
        return invoice


def standard_lines(firm: Firm) -> list[sv.LineInput]:
    return [
        sv.LineInput(
            kind="service",
            service_type_id=firm.schematic_id,
            description="Schematic Design: 25% complete of $40,000.00 fee",
            amount=Decimal("10000.00"),
        ),
        sv.LineInput(
            kind="service",
            service_type_id=firm.admin_id,
            description="Construction administration",
            quantity=Decimal("2.5"),
            rate=Decimal("120"),
        ),
        sv.LineInput(
            kind="other",
            description="Site visits",
            quantity=Decimal("3"),
            rate=Decimal("33.333"),
        ),
        sv.LineInput(
            kind="expense",
            expense_type_id=firm.printing_id,
            description="Printing - plan sets",
            amount=Decimal("250.00"),
        ),
    ]


@pytest.fixture
def rig(tmp_path: Path) -> Iterator[Rig]:
    with SandboxServer(SandboxConfig(seed="empty", random_seed=5)) as sandbox:
        store = open_store(tmp_path / "firm.sqlite3")
        session = store.sessions()
        client = QboClient(
            sandbox.base_url,
            sandbox.realm_id,
            sandbox.token_source(),
            sleep=_no_sleep,
            max_retries=2,
        )
        try:
            yield Rig(sandbox, store, session, client, tmp_path / "attachments")
        finally:
            client.close()
            session.close()
            store.close()
