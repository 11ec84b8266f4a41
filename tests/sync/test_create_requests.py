""" "Create in QuickBooks" by hand: a client or project marked for creation is created by the next
sync even with auto-create off, only that one, and the mark is settled once it has its twin."""

from __future__ import annotations

from sqlalchemy import select

from factor_desktop import services as sv
from factor_desktop.services.links import (
    cancel_create_request,
    create_requested,
    request_create_client,
    request_create_project,
)
from factor_desktop.store.models import Client, OutboxItem, Project
from tests.sync.push_fixtures import Rig, rig

__all__ = ["rig"]


def _off(rig: Rig) -> None:
    rig.setting("auto_create_customers", False)
    rig.setting("auto_create_projects", False)


def test_a_project_marked_for_creation_is_created_with_its_client_and_nothing_else(
    rig: Rig,
) -> None:
    firm = rig.build_firm()
    other = sv.create_client(rig.session, sv.ClientFields(name="Willow Creek Schools"))
    rig.session.commit()
    _off(rig)
    request_create_project(rig.session, firm.project_id)
    rig.session.commit()
    # The project's client is marked too: a sub-customer needs its parent.
    assert create_requested(rig.session) == {
        ("project", firm.project_id),
        ("client", firm.client_id),
    }

    # A preview plans the two creates and writes nothing.
    plan = rig.sync(preview=True)
    created = [(e["entity"], e["action"]) for e in plan.planned if e["action"] == "created"]
    assert sorted(created) == [("client", "created"), ("project", "created")]
    assert rig.qbo("Customer") == []

    rig.sync()
    names = sorted(c["FullyQualifiedName"] for c in rig.qbo("Customer"))
    assert names == ["Harbor & Pine Holdings", "Harbor & Pine Holdings:Waterfront Library"]
    rig.session.expire_all()
    client = rig.session.get(Client, firm.client_id)
    project = rig.session.get(Project, firm.project_id)
    assert client is not None and client.qbo_id is not None
    assert project is not None and project.qbo_id is not None
    unmarked = rig.session.get(Client, other.id)
    assert unmarked is not None and unmarked.qbo_id is None
    # Settled: nothing is left marked, and the next pass creates nothing more.
    assert create_requested(rig.session) == set()
    statuses = rig.session.scalars(
        select(OutboxItem.status).where(OutboxItem.entity_kind.in_(("client", "project")))
    ).all()
    assert sorted(statuses) == ["done", "done"]
    rig.sync()
    assert len(rig.qbo("Customer")) == 2


def test_a_withdrawn_mark_or_a_link_by_hand_creates_nothing(rig: Rig) -> None:
    firm = rig.build_firm()
    _off(rig)
    request_create_client(rig.session, firm.client_id)
    assert cancel_create_request(rig.session, "client", firm.client_id)
    assert not cancel_create_request(rig.session, "client", firm.client_id)
    rig.session.commit()
    rig.sync()
    assert rig.qbo("Customer") == []

    request_create_client(rig.session, firm.client_id)
    rig.session.commit()
    customer = rig.client.create("Customer", {"DisplayName": "Harbor & Pine (billing)"})
    sv.link_client(rig.session, firm.client_id, customer["Id"], customer["SyncToken"])
    rig.session.commit()
    assert create_requested(rig.session) == set()
    rig.sync()
    assert [c["DisplayName"] for c in rig.qbo("Customer")] == ["Harbor & Pine (billing)"]
