"""For any firm and company, a preview plans exactly what the sync right after it does.

Generated: clients and projects (some names already held in QuickBooks by a customer, a
sub-customer or a vendor), finalized invoices with service, expense and other lines, some types
mapped and some not, with and without tax, and the firm's auto-create settings. The preview runs on
a scratch copy with the recording writer; the sync that follows runs for real. Their entries,
counted by entity and action, must be the same.
"""

from __future__ import annotations

import tempfile
from collections import Counter
from decimal import Decimal
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from factor_desktop import services as sv
from factor_desktop.qbo.client import QboClient
from factor_desktop.sandbox import SandboxConfig, SandboxServer
from factor_desktop.store.db import open_store
from factor_desktop.store.models import SyncLogEntry
from tests.sync.push_fixtures import ALDER_TAX_CODE, ISSUED, Rig

NAMES = ["Harbor & Pine", "Okafor Studio", "Tanaka Residence", "Birch Hall", "O'Brien Group"]


def _no_sleep(_seconds: float) -> None:
    return None


@st.composite
def scenarios(draw: st.DrawFn) -> dict[str, object]:
    clients = draw(st.lists(st.sampled_from(NAMES), min_size=1, max_size=3, unique=True))
    return {
        "clients": clients,
        "projects": draw(st.lists(st.integers(0, 2), min_size=len(clients), max_size=3)),
        "in_quickbooks": draw(
            st.lists(
                st.tuples(st.sampled_from(NAMES), st.sampled_from(["Customer", "Vendor"])),
                max_size=3,
                unique_by=lambda pair: pair[0],
            )
        ),
        "invoices": draw(
            st.lists(
                st.tuples(st.integers(0, 5), st.sampled_from(["service", "expense", "other"])),
                max_size=5,
            )
        ),
        "map_service": draw(st.booleans()),
        "map_tax": draw(st.booleans()),
        "taxed": draw(st.booleans()),
        "auto_customers": draw(st.booleans()),
        "auto_projects": draw(st.booleans()),
    }


def _build(rig: Rig, scenario: dict[str, object]) -> None:
    s = rig.session
    for name, entity in scenario["in_quickbooks"]:  # type: ignore[attr-defined]
        rig.client.create(entity, {"DisplayName": name})
    rig.setting("auto_create_customers", scenario["auto_customers"])
    rig.setting("auto_create_projects", scenario["auto_projects"])
    service = sv.create_service_type(s, sv.ServiceTypeFields(name="Design"))
    printing = sv.create_expense_type(
        s, sv.ExpenseTypeFields(name="Printing", category="Reimbursables", taxable=True)
    )
    alder = sv.create_tax_term(
        s, sv.TaxTermFields(code="ALDER", name="Alder County", rate_percent=Decimal("8.5"))
    )
    projects = []
    counts = scenario["projects"]
    for index, name in enumerate(scenario["clients"]):  # type: ignore[arg-type]
        client = sv.create_client(s, sv.ClientFields(name=name))
        for n in range(counts[index]):  # type: ignore[index]
            project = sv.create_project(
                s,
                sv.ProjectFields(client_id=client.id, number=f"P-{index}{n}", name=f"Job {n}"),
            )
            projects.append(project.id)
    s.commit()
    if scenario["map_service"]:
        rig.map("service_type", service.id, rig.item_id("Services"))
        rig.map("expense_type_item", printing.id, rig.item_id("Services"))
    if scenario["map_tax"]:
        rig.map("tax_term", alder.id, ALDER_TAX_CODE)
    for project_index, kind in scenario["invoices"]:  # type: ignore[attr-defined]
        if not projects:
            break
        line = sv.LineInput(
            kind=kind,
            description="Work",
            amount=Decimal("100.00"),
            service_type_id=service.id if kind == "service" else None,
            expense_type_id=printing.id if kind == "expense" else None,
        )
        draft = sv.create_draft_invoice(
            s, projects[project_index % len(projects)], issue_date=ISSUED, from_project=False
        )
        taxed = bool(scenario["taxed"])
        sv.edit_draft_invoice(
            s,
            draft.id,
            sv.DraftChanges(lines=[line], tax_term_id=alder.id if taxed else None),
        )
        sv.finalize_invoice(s, draft.id)
    s.commit()


def _run_counts(rig: Rig, run_id: int) -> Counter[tuple[str, str]]:
    entries = rig.session.scalars(select(SyncLogEntry).where(SyncLogEntry.run_id == run_id))
    return Counter((e.entity_kind, e.action) for e in entries)


@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(scenario=scenarios())
def test_the_preview_plans_exactly_what_the_next_sync_does(scenario: dict[str, object]) -> None:
    with (
        tempfile.TemporaryDirectory(prefix="preview-property-") as folder,
        SandboxServer(SandboxConfig(seed="empty", random_seed=5)) as sandbox,
    ):
        store = open_store(Path(folder) / "firm.sqlite3")
        session = store.sessions()
        client = QboClient(
            sandbox.base_url,
            sandbox.realm_id,
            sandbox.token_source(),
            sleep=_no_sleep,
            max_retries=2,
        )
        rig = Rig(sandbox, store, session, client, Path(folder) / "attachments")
        try:
            _build(rig, scenario)
            preview = rig.sync(preview=True)
            planned = Counter((p["entity"], p["action"]) for p in preview.planned)
            real = rig.sync()
            assert planned == _run_counts(rig, real.run.id)
            assert preview.attention == real.attention
        finally:
            client.close()
            session.close()
            store.close()
