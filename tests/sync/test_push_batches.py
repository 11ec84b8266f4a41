"""Creates go to QuickBooks in batch requests: many invoices and customers in few requests, each
item with its own outcome, and a batch whose answer was lost replayed without a duplicate."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select

from factor_desktop import services as sv
from factor_desktop.qbo.query import select as qbo_select
from factor_desktop.store.models import Client, Invoice, OutboxItem, Project
from tests.sync.push_fixtures import Firm, Rig, rig

__all__ = ["rig"]


def _invoices(rig: Rig, firm: Firm, count: int) -> list[Invoice]:
    lines = [sv.LineInput(kind="other", description="Fee", amount=Decimal("100.00"))]
    return [rig.invoice(firm, lines=lines, tax=False) for _ in range(count)]


def _numbers_in_quickbooks(rig: Rig) -> list[str]:
    rows = rig.client.query_all(qbo_select("Invoice").order_by("Id"))
    return [str(row.get("DocNumber")) for row in rows]


def test_many_invoices_go_in_batches_of_thirty(rig: Rig) -> None:
    firm = rig.build_firm()
    rig.sync()  # the customers
    invoices = _invoices(rig, firm, 35)
    before = rig.client.requests_by_endpoint.get("POST batch", 0)
    ctx = rig.sync()

    assert all(rig.outbox(invoice.id).status == "done" for invoice in invoices)
    numbers = _numbers_in_quickbooks(rig)
    assert sorted(numbers) == sorted(str(invoice.number) for invoice in invoices)
    # 35 creates: one batch of 30, then the last five (a batch, or singles while the batch
    # allowance is used) — never 35 requests.
    batches = rig.client.requests_by_endpoint.get("POST batch", 0) - before
    singles = rig.client.requests_by_endpoint.get("POST invoice", 0)
    assert batches >= 1 and batches + singles <= 6
    created = rig.entries(ctx, entity_kind="invoice", action="created")
    assert len(created) == 35
    rig.session.expire_all()
    stored = rig.session.scalars(select(Invoice).where(Invoice.qbo_id.is_not(None))).all()
    assert len({invoice.qbo_id for invoice in stored}) == 35
    assert all(
        item.batch_request_id is None for item in rig.session.scalars(select(OutboxItem)).all()
    )


def test_a_lost_batch_answer_is_replayed_on_the_next_pass_without_duplicates(rig: Rig) -> None:
    firm = rig.build_firm()
    rig.sync()
    invoices = _invoices(rig, firm, 12)
    rig.sandbox.set_knobs(drop_after_commit_rate=1.0)  # QuickBooks saves; the answer is lost
    impatient = rig.new_client(max_retries=0)
    try:
        lost = rig.sync(client=impatient)
    finally:
        impatient.close()
        rig.sandbox.set_knobs(drop_after_commit_rate=0.0)

    rig.session.expire_all()
    rows = [rig.outbox(invoice.id) for invoice in invoices]
    assert {row.status for row in rows} == {"pending"}
    assert len({row.batch_request_id for row in rows}) == 1 and rows[0].batch_request_id
    [warning] = rig.entries(lost, entity_kind="invoice")
    assert "Nothing was lost" in (warning.reason or "")
    assert len(_numbers_in_quickbooks(rig)) == 12  # QuickBooks did create them

    ctx = rig.sync()  # the same rows under the same requestid: QuickBooks replays its answer
    rig.session.expire_all()
    assert {rig.outbox(invoice.id).status for invoice in invoices} == {"done"}
    numbers = _numbers_in_quickbooks(rig)
    assert sorted(numbers) == sorted(str(invoice.number) for invoice in invoices)
    assert len(rig.entries(ctx, entity_kind="invoice", action="created")) == 12
    stored = rig.session.scalars(select(Invoice.qbo_id).where(Invoice.qbo_id.is_not(None)))
    assert len(set(stored)) == 12


def test_one_refused_item_fails_alone_with_its_reason(rig: Rig) -> None:
    firm = rig.build_firm()
    rig.sync()
    invoices = _invoices(rig, firm, 4)
    taken = invoices[2]
    other = rig.client.create("Customer", {"DisplayName": "Someone Else LLC"})
    rig.client.create(
        "Invoice",
        {
            "DocNumber": taken.number,
            "CustomerRef": {"value": other["Id"]},
            "Line": [{"Amount": 75, "DetailType": "SalesItemLineDetail"}],
        },
    )
    ctx = rig.sync()

    rig.session.expire_all()
    statuses = {invoice.number: rig.outbox(invoice.id).status for invoice in invoices}
    assert statuses.pop(taken.number) == "blocked"
    assert set(statuses.values()) == {"done"}
    [blocked] = rig.entries(ctx, entity_kind="invoice", action="blocked")
    assert f"QuickBooks already has invoice {taken.number} for another customer" in (
        blocked.reason or ""
    )
    assert _numbers_in_quickbooks(rig).count(str(taken.number)) == 1


def test_customers_are_created_in_one_batch_clients_before_projects(rig: Rig) -> None:
    firm = rig.build_firm()
    for n in range(4):
        client = sv.create_client(rig.session, sv.ClientFields(name=f"Batch Client {n}"))
        sv.create_project(
            rig.session,
            sv.ProjectFields(client_id=client.id, number=f"B-{n}", name=f"Batch Project {n}"),
        )
    rig.session.commit()
    ctx = rig.sync()

    assert rig.client.requests_by_endpoint.get("POST customer", 0) == 0
    assert rig.client.requests_by_endpoint["POST batch"] == 2  # the clients, then the projects
    rig.session.expire_all()
    clients = rig.session.scalars(select(Client)).all()
    projects = rig.session.scalars(select(Project)).all()
    assert len(clients) == 5 and all(c.qbo_id for c in clients)
    assert len(projects) == 5 and all(p.qbo_id for p in projects)
    for project in projects:
        row = rig.client.read("Customer", str(project.qbo_id))
        assert row["ParentRef"]["value"] == project.client.qbo_id
    created = rig.entries(ctx, action="created")
    assert [e.entity_kind for e in created] == ["client"] * 5 + ["project"] * 5
    assert firm.client_id in {e.local_id for e in created}


# --- a create whose answer was lost, then the record changed -----------------------------------


def _lose_the_answer(rig: Rig) -> None:
    """A pass whose customer creates reach QuickBooks but whose answers never come back."""
    rig.sandbox.set_knobs(drop_after_commit_rate=1.0)
    impatient = rig.new_client(max_retries=0)
    try:
        rig.sync(client=impatient)
    finally:
        impatient.close()
        rig.sandbox.set_knobs(drop_after_commit_rate=0.0)


def _customers_named(rig: Rig, name: str) -> list[dict[str, object]]:
    return [row for row in rig.qbo("Customer") if row.get("DisplayName") == name]


def test_a_rename_after_a_lost_create_renames_the_customer_quickbooks_made(rig: Rig) -> None:
    firm = rig.build_firm()
    _lose_the_answer(rig)
    assert len(_customers_named(rig, "Harbor & Pine Holdings")) == 1  # QuickBooks made it
    rig.session.expire_all()
    client = rig.session.get(Client, firm.client_id)
    assert client is not None and client.qbo_id is None
    assert client.qbo_pending_name == "Harbor & Pine Holdings"

    sv.update_client(rig.session, firm.client_id, sv.ClientFields(name="Harbor Pine Group"))
    rig.session.commit()
    ctx = rig.sync()

    rig.session.expire_all()
    client = rig.session.get(Client, firm.client_id)
    assert client is not None and client.qbo_id and client.qbo_pending_name is None
    assert _customers_named(rig, "Harbor & Pine Holdings") == []
    [renamed] = _customers_named(rig, "Harbor Pine Group")
    assert renamed["Id"] == client.qbo_id  # the same customer, renamed: not a second one
    actions = [(e.entity_kind, e.action) for e in rig.entries(ctx, local_id=firm.client_id)]
    assert ("client", "linked") in actions and ("client", "updated") in actions
    assert ("client", "created") not in actions


def test_a_project_moved_and_closed_after_a_lost_create_is_settled_not_duplicated(
    rig: Rig,
) -> None:
    firm = rig.build_firm()
    rig.sync()  # the client and the project are in QuickBooks
    other = sv.create_client(rig.session, sv.ClientFields(name="Northgate Partners"))
    rig.session.commit()
    rig.sync()  # Northgate is created
    # A new project whose create's answer is lost.
    lost = sv.create_project(
        rig.session, sv.ProjectFields(client_id=firm.client_id, number="P-103", name="Pavilion")
    )
    rig.session.commit()
    _lose_the_answer(rig)
    assert len(_customers_named(rig, "Pavilion")) == 1

    sv.update_project(
        rig.session,
        lost.id,
        sv.ProjectFields(client_id=other.id, number="P-103", name="Pavilion", status="closed"),
    )
    rig.session.commit()
    rig.session.expire_all()  # the next pass reads the records afresh, as the engine's does
    rig.sync()

    rig.session.expire_all()
    project = rig.session.get(Project, lost.id)
    northgate = rig.session.get(Client, other.id)
    assert project is not None and northgate is not None and project.qbo_id
    rows = [r for r in rig.qbo("Customer") if str(r.get("DisplayName")).startswith("Pavilion")]
    assert [r["Id"] for r in rows] == [project.qbo_id]  # one customer: the one QuickBooks made
    row = rig.client.read("Customer", project.qbo_id)
    assert row["ParentRef"]["value"] == northgate.qbo_id  # moved, as in Factor
    assert row["Active"] is False  # closed, as in Factor
