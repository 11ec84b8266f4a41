"""The QuickBooks reference cache, against the demo company over HTTP."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

from sqlalchemy import select

from factor_desktop.qbo.query import select as qbo_select
from factor_desktop.store.models import ChangeCursor, QboRecord
from factor_desktop.sync.reference import (
    PREFERENCES,
    REFERENCE_ENTITIES,
    SLOW_LISTS_EVERY,
    refresh_reference,
)

from .pull_fixtures import PullRig
from .pull_fixtures import bare_rig_fixture as bare_rig_fixture
from .pull_fixtures import demo_firm_db_fixture as demo_firm_db_fixture


def _cache(rig: PullRig) -> dict[tuple[str, str], QboRecord]:
    with rig.store.session() as session:
        rows = list(session.scalars(select(QboRecord)))
        session.expunge_all()
    return {(row.entity, row.name): row for row in rows}


def _in_qbo(rig: PullRig, entity: str) -> int:
    query = qbo_select(entity).where("Active", "IN", [True, False]).order_by("Id")
    return len(list(rig.qbo.query_all(query)))


def test_the_first_refresh_fills_the_cache_with_every_list(bare_rig: PullRig) -> None:
    ctx = bare_rig.sync_pass([refresh_reference])

    cache = _cache(bare_rig)
    per_entity = Counter(entity for entity, _ in cache)
    assert per_entity == {
        **{entity: _in_qbo(bare_rig, entity) for entity in REFERENCE_ENTITIES},
        "Preferences": 1,
    }
    assert per_entity["Customer"] == 15 and per_entity["Account"] >= 40
    assert ctx.counts["reference_refreshed"] == len(cache)
    assert ctx.counts["reference_full_reads"] == len(REFERENCE_ENTITIES)

    warehouse = cache[("Customer", "Warehouse Conversion - 14 Dock St")]
    obrien = cache[("Customer", "O'Brien & Sons Builders")]
    assert warehouse.kind == "project" and obrien.kind == "customer"
    assert warehouse.parent_qbo_id == obrien.qbo_id
    assert (
        warehouse.fully_qualified_name
        == "O'Brien & Sons Builders:Warehouse Conversion - 14 Dock St"
    )
    in_qbo = bare_rig.customer("Warehouse Conversion - 14 Dock St")
    assert warehouse.active and warehouse.sync_token == in_qbo["SyncToken"]
    assert warehouse.last_updated is not None
    assert warehouse.data["DisplayName"] == warehouse.name
    projects = [
        row for (entity, _), row in cache.items() if entity == "Customer" and row.kind == "project"
    ]
    assert len(projects) == 6
    assert all(
        cache[("Customer", row.fully_qualified_name.split(":")[0])].qbo_id == row.parent_qbo_id
        for row in projects
        if row.fully_qualified_name
    )

    assert cache[("Account", "Structural Engineering Consultants")].kind == "Expense"
    assert cache[("Account", "Visa Business Card")].kind == "Credit Card"
    assert cache[("Item", "Schematic Design")].kind == "Service"
    assert {name for entity, name in cache if entity == "TaxCode"} == {"TAX", "NON", "Alder County"}
    assert cache[("Term", "Net 30")].data["DueDays"] == 30
    assert ("Vendor", "Keller Structural Engineers") in cache

    with bare_rig.store.session() as session:
        cursors = {c.entity: c.changed_since for c in session.scalars(select(ChangeCursor))}
    assert cursors == {entity: ctx.now for entity in (*REFERENCE_ENTITIES, PREFERENCES)}


def test_later_refreshes_read_only_what_changed(bare_rig: PullRig) -> None:
    bare_rig.sync_pass([refresh_reference])
    bare_rig.sandbox.advance_clock(600)
    tanaka = bare_rig.customer("Tanaka Residence")
    bare_rig.qbo.update(
        "Customer",
        {"Id": tanaka["Id"], "SyncToken": tanaka["SyncToken"], "DisplayName": "Tanaka Family Home"},
    )
    (hours,) = bare_rig.qbo.query(qbo_select("Item").where("Name", "=", "Hours"))
    bare_rig.qbo.update(
        "Item", {"Id": hours["Id"], "SyncToken": hours["SyncToken"], "Active": False}
    )
    bare_rig.sandbox.advance_clock(60)

    client = bare_rig.new_client()
    ctx = bare_rig.sync_pass([refresh_reference], client=client)

    # One change request for the lists it covers (and the pull's entities): tax codes, tax
    # rates and the Preferences, outside change data capture, wait for their own cadence.
    assert client.requests_by_endpoint == {"GET cdc": 1}
    assert ctx.counts.get("reference_full_reads", 0) == 0
    cache = _cache(bare_rig)
    renamed = cache[("Customer", "Tanaka Family Home")]
    assert renamed.qbo_id == tanaka["Id"]
    assert renamed.sync_token == str(int(tanaka["SyncToken"]) + 1)
    assert ("Customer", "Tanaka Residence") not in cache
    kitchen = cache[("Customer", "Kitchen Remodel")]
    assert kitchen.fully_qualified_name == "Tanaka Family Home:Kitchen Remodel"
    (hours_cached,) = [
        row for (entity, _), row in cache.items() if row.qbo_id == hours["Id"] and entity == "Item"
    ]
    assert not hours_cached.active
    assert (
        ctx.counts["reference_refreshed"] == 3
    )  # the customer, its project (renamed with it), the item
    assert len(cache) == 1 + sum(_in_qbo(bare_rig, entity) for entity in REFERENCE_ENTITIES)

    # Nothing changed since: the overlap reads the same changes again and changes nothing.
    again = bare_rig.sync_pass([refresh_reference])
    assert again.counts["reference_refreshed"] == 0
    assert _cache(bare_rig).keys() == cache.keys()

    # Six hours on, the lists outside change data capture are read again, in full.
    bare_rig.sandbox.advance_clock(SLOW_LISTS_EVERY.total_seconds())
    client = bare_rig.new_client()
    later = bare_rig.sync_pass([refresh_reference], client=client)
    assert client.requests_by_endpoint == {"GET cdc": 1, "GET query": 2, "GET preferences": 1}
    assert later.counts["reference_full_reads"] == 2


def test_a_cursor_older_than_the_change_window_means_a_full_read(bare_rig: PullRig) -> None:
    bare_rig.sync_pass([refresh_reference])
    bare_rig.sandbox.advance_clock(timedelta(days=31).total_seconds())
    client = bare_rig.new_client()
    ctx = bare_rig.sync_pass([refresh_reference], client=client)
    assert ctx.counts["reference_full_reads"] == len(REFERENCE_ENTITIES)
    assert "GET cdc" not in client.requests_by_endpoint
    assert ctx.counts["reference_refreshed"] == 0  # the same lists, read again

    full = bare_rig.sync_pass([refresh_reference], full=True)
    assert full.counts["reference_full_reads"] == len(REFERENCE_ENTITIES)
