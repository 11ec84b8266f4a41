"""The demo firm beside the demo QuickBooks company, for the reference-cache and pull tests.

The firm store is the demo practice (`import_demo`), built once per session and copied for each
test. The sandbox is a fresh "demo" company per test, its clock moved an hour past the moment it
was seeded, so the seed is older than a pass's overlap margin. Passes run the real steps against
the sandbox over HTTP, with a `SyncContext` built here (the engine is used where a test needs it).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from factor_desktop.importer import import_demo
from factor_desktop.qbo.client import QboClient
from factor_desktop.qbo.query import select as qbo_select
from factor_desktop.sandbox import SandboxConfig, SandboxServer
from factor_desktop.services.links import link_project
from factor_desktop.settings import load_settings
from factor_desktop.store.db import Store, open_store
from factor_desktop.store.models import ExpenseType, Mapping, Project, SyncRun
from factor_desktop.sync.context import SyncContext

Step = Callable[[SyncContext], None]

#: Factor expense type → the demo company's expense account it is mapped to. Mileage is left
#: out on purpose: its lines are blocked until a test maps it.
DEMO_MAPPINGS: dict[str, str] = {
    "Structural Engineering": "Structural Engineering Consultants",
    "MEP Engineering": "MEP Engineering Consultants",
    "Landscape Architecture": "Landscape Architecture Consultants",
    "Printing & Reproduction": "Printing and Reproduction",
    "Travel": "Travel",
}
#: The demo company's project left unlinked at first.
UNLINKED_PROJECT = "Kitchen Remodel"


@dataclass
class PullRig:
    sandbox: SandboxServer
    store: Store
    attachments: Path
    qbo: QboClient  # the test's own client, for arranging things in QuickBooks

    def new_client(self, cls: type[QboClient] = QboClient, **kwargs: Any) -> QboClient:
        """A fresh client (its request counts start at zero)."""
        return cls(
            self.sandbox.base_url,
            self.sandbox.realm_id,
            self.sandbox.token_source(),
            sleep=lambda _s: None,
            **kwargs,
        )

    def sync_pass(
        self, steps: Sequence[Step], *, client: QboClient | None = None, full: bool = False
    ) -> SyncContext:
        """Run `steps` as one pass at the sandbox's current time; returns its context."""
        client = client or self.new_client()
        session = self.store.sessions()
        try:
            now = self.sandbox.clock.now()
            run = SyncRun(kind="full" if full else "sync", started_at=now, counts={})
            session.add(run)
            session.commit()
            ctx = SyncContext(
                session=session,
                client=client,
                settings=load_settings(session),
                run=run,
                now=now,
                attachments_dir=self.attachments,
                full=full,
            )
            for step in steps:
                step(ctx)
                session.commit()
            return ctx
        finally:
            session.close()

    # -- QuickBooks look-ups --------------------------------------------------------------

    def qbo_id(self, entity: str, field: str, value: str) -> str:
        rows = self.qbo.query(qbo_select(entity).where(field, "=", value))
        assert len(rows) == 1, f"{entity} {field}={value!r}: {len(rows)} found"
        return str(rows[0]["Id"])

    def customer(self, name: str) -> dict[str, Any]:
        (row,) = self.qbo.query(qbo_select("Customer").where("DisplayName", "=", name))
        return row

    def txn(self, entity: str, **match: Any) -> dict[str, Any]:
        """The one `entity` transaction whose fields equal `match` (e.g. DocNumber)."""
        rows = [
            row
            for row in self.qbo.query_all(qbo_select(entity).order_by("Id"))
            if all(row.get(key) == value for key, value in match.items())
        ]
        assert len(rows) == 1, f"{entity} {match}: {len(rows)} found"
        return rows[0]

    def purchase_for(self, description: str) -> dict[str, Any]:
        rows = [
            row
            for row in self.qbo.query_all(qbo_select("Purchase").order_by("Id"))
            if any(line.get("Description") == description for line in row.get("Line", []))
        ]
        assert len(rows) == 1, description
        return rows[0]

    # -- the Factor side ------------------------------------------------------------------

    def link(self, project_name: str) -> int:
        customer_id = self.qbo_id("Customer", "DisplayName", project_name)
        with self.store.session() as session:
            project = session.scalars(select(Project).where(Project.name == project_name)).one()
            link_project(session, project.id, customer_id)
            return project.id

    def map_account(self, expense_type: str, account: str) -> None:
        account_id = self.qbo_id("Account", "Name", account)
        with self.store.session() as session:
            type_id = session.scalars(
                select(ExpenseType.id).where(ExpenseType.name == expense_type)
            ).one()
            session.add(Mapping(kind="expense_type", local_id=type_id, qbo_id=account_id))

    def markup(self, expense_type: str) -> Decimal | None:
        with self.store.session() as session:
            return session.scalars(
                select(ExpenseType.markup_percent).where(ExpenseType.name == expense_type)
            ).one()


def _copy_database(source: Path, target: Path) -> None:
    src = sqlite3.connect(source)
    try:
        dest = sqlite3.connect(target)
        try:
            src.backup(dest)
        finally:
            dest.close()
    finally:
        src.close()


@pytest.fixture(scope="session", name="demo_firm_db")
def demo_firm_db_fixture(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo practice's firm database, built once."""
    path = tmp_path_factory.mktemp("demo-firm") / "firm.sqlite3"
    store = open_store(path)
    try:
        import_demo(store)
    finally:
        store.close()
    return path


@pytest.fixture(name="bare_rig")
def bare_rig_fixture(demo_firm_db: Path, tmp_path: Path) -> Iterator[PullRig]:
    """The demo firm and the demo company, nothing linked or mapped yet."""
    _copy_database(demo_firm_db, tmp_path / "firm.sqlite3")
    store = open_store(tmp_path / "firm.sqlite3")
    with SandboxServer(SandboxConfig(seed="demo", auto_approve=True, random_seed=5)) as sandbox:
        sandbox.advance_clock(3600)
        tokens = sandbox.token_source()
        with QboClient(sandbox.base_url, sandbox.realm_id, tokens) as qbo:
            try:
                yield PullRig(sandbox, store, tmp_path / "attachments", qbo)
            finally:
                store.close()


@pytest.fixture(name="rig")
def rig_fixture(bare_rig: PullRig) -> PullRig:
    """The demo firm with its projects linked to the demo company's (but one) and its expense
    types mapped to the company's expense accounts (but Mileage)."""
    for row in bare_rig.qbo.query(qbo_select("Customer").where("Job", "=", True)):
        if row["DisplayName"] != UNLINKED_PROJECT:
            bare_rig.link(str(row["DisplayName"]))
    for expense_type, account in DEMO_MAPPINGS.items():
        bare_rig.map_account(expense_type, account)
    return bare_rig
