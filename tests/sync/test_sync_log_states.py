"""The sync log states the current truth: a record that went through has its earlier problems
resolved, a new reason supersedes the old one, and a problem that stands unchanged is neither
written nor counted again (the pass still says something needs attention)."""

from __future__ import annotations

from sqlalchemy import select

from factor_desktop.reports import log_report
from factor_desktop.store.models import SyncLogEntry
from tests.sync.push_fixtures import ALDER_TAX_CODE, Rig, rig

__all__ = ["rig"]


def _invoice_entries(rig: Rig, invoice_id: int) -> list[SyncLogEntry]:
    rig.session.expire_all()
    return list(
        rig.session.scalars(
            select(SyncLogEntry)
            .where(SyncLogEntry.entity_kind == "invoice", SyncLogEntry.local_id == invoice_id)
            .order_by(SyncLogEntry.id)
        )
    )


def test_a_blocked_invoice_is_reported_once_then_resolved_when_it_goes(rig: Rig) -> None:
    firm = rig.build_firm()
    rig.map("service_type", firm.schematic_id, rig.item_id("Services"))
    rig.map("expense_type_item", firm.printing_id, rig.create_item("Reimbursables"))
    rig.map("tax_term", firm.alder_tax_id, ALDER_TAX_CODE)
    invoice = rig.invoice(firm)

    first = rig.sync()
    assert first.counts["blocked"] == 1 and first.attention == 1
    [blocked] = _invoice_entries(rig, invoice.id)
    assert (blocked.action, blocked.current_state, blocked.resolved) == (
        "blocked",
        "waiting",
        False,
    )

    # Nothing changed: the same reason is not written or counted again, yet still needs attention.
    second = rig.sync()
    assert second.counts.get("blocked", 0) == 0 and second.attention == 1
    assert [e.id for e in _invoice_entries(rig, invoice.id)] == [blocked.id]

    # Mapped now: the invoice goes, and its earlier problem is resolved.
    rig.map("service_type", firm.admin_id, rig.item_id("Hours"))
    third = rig.sync()
    entries = _invoice_entries(rig, invoice.id)
    assert [e.action for e in entries] == ["blocked", "created"]
    assert entries[0].current_state == "resolved" and entries[0].resolved
    assert entries[1].current_state == "ok"
    assert third.attention == 0

    report = [
        (row["action"], row["state"])
        for row in log_report(rig.session).rows
        if row["entity"] == "invoice"
    ]
    assert report == [("blocked", "resolved"), ("created", "ok")]


def test_a_problem_with_a_new_reason_supersedes_the_old_one(rig: Rig) -> None:
    firm = rig.build_firm()
    rig.map("expense_type_item", firm.printing_id, rig.create_item("Reimbursables"))
    rig.map("tax_term", firm.alder_tax_id, ALDER_TAX_CODE)
    invoice = rig.invoice(firm)
    rig.sync()  # both service types unmapped
    rig.map("service_type", firm.schematic_id, rig.item_id("Services"))
    second = rig.sync()  # one left: the reason changed

    entries = _invoice_entries(rig, invoice.id)
    assert [e.action for e in entries] == ["blocked", "blocked"]
    assert entries[0].current_state == "superseded" and entries[0].resolved
    assert entries[1].current_state == "waiting" and not entries[1].resolved
    assert "Schematic Design" not in (entries[1].reason or "")
    assert second.counts["blocked"] == 1 and second.attention == 1
