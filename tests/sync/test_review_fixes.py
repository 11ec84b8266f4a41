"""Review fixes: each test pins a sync bug found in review, over the local sandbox."""

from __future__ import annotations

import sqlite3

from sqlalchemy.exc import OperationalError

from factor_desktop import services as sv
from factor_desktop.store.models import Project
from factor_desktop.sync.context import SyncContext
from factor_desktop.sync.engine import SyncEngine
from factor_desktop.sync.push import push_customers, push_outbox, retry_outbox
from tests.sync.push_fixtures import Rig, rig

from .conftest import Connected

__all__ = ["rig"]


def test_a_locked_firm_database_fails_the_pass_with_its_reason(connected: Connected) -> None:
    """SQLAlchemy wraps SQLite's "database is locked" in its own OperationalError: the pass is
    closed as failed with the reason, not crashed out of the engine."""

    def locked(ctx: SyncContext) -> None:
        raise OperationalError("UPDATE outbox", {}, sqlite3.OperationalError("database is locked"))

    engine = SyncEngine(
        connected.store, connected.connection, connected.attachments, steps=[("locked", locked)]
    )
    summary = engine.run()
    assert summary.status == "failed"
    assert summary.error is not None and "could not be written" in summary.error
    assert "database is locked" in summary.error


def test_retrying_the_outbox_never_sends_an_invoice_voided_before_quickbooks_took_it(
    rig: Rig,
) -> None:
    """A create blocked by a number QuickBooks had for someone else, then voided in Factor:
    "retry" must not send it once the number is free; the pass settles it without a write."""
    firm = rig.build_firm()
    rig.map_all(firm)
    other = rig.client.create("Customer", {"DisplayName": "Someone Else LLC"})
    stray = rig.client.create(
        "Invoice",
        {
            "DocNumber": "INV-0001",
            "CustomerRef": {"value": other["Id"]},
            "Line": [
                {
                    "Amount": 75,
                    "DetailType": "SalesItemLineDetail",
                    "SalesItemLineDetail": {"ItemRef": {"value": rig.item_id("Services")}},
                }
            ],
        },
    )
    invoice = rig.invoice(firm)
    rig.sync()
    assert rig.outbox(invoice.id).status == "blocked"
    assert rig.outbox(invoice.id).attempts == 1

    sv.void_invoice(rig.session, invoice.id)
    rig.session.commit()
    rig.client.delete("Invoice", stray["Id"], stray["SyncToken"])  # the number is free again
    retry_outbox(rig.session)
    rig.session.commit()
    rig.sync()

    rig.session.expire_all()
    assert rig.qbo("Invoice") == []
    assert rig.client.requests_by_endpoint["POST invoice"] == 3  # stray, 6140, its delete
    assert rig.outbox(invoice.id).status == "cancelled"
    assert rig.outbox(invoice.id, "void").status == "done"


def test_a_void_refused_pass_after_pass_waits_for_retry(rig: Rig) -> None:
    """A void whose QuickBooks read is refused every time (here a damaged link) stops being
    tried after the retry limit, and the Retry action puts it back."""
    from factor_desktop.sync.push import FAILED_RETRY_LIMIT

    firm = rig.build_firm()
    rig.map_all(firm)
    invoice = rig.invoice(firm)
    rig.sync()
    assert invoice.qbo_id is not None
    invoice.qbo_id = "not-a-number"  # QuickBooks answers 2030 to a read of this Id
    sv.void_invoice(rig.session, invoice.id)
    rig.session.commit()
    item = rig.outbox(invoice.id, "void")
    for _ in range(FAILED_RETRY_LIMIT):
        rig.push()
    assert item.status == "failed" and item.attempts == FAILED_RETRY_LIMIT
    assert "2030" in (item.last_error or "") or "Invalid ID" in (item.last_error or "")
    rig.push()
    assert item.attempts == FAILED_RETRY_LIMIT  # not tried again on its own
    assert retry_outbox(rig.session) == 1
    assert item.status == "pending"


def test_payments_made_before_an_invoice_was_linked_still_reach_factor(rig: Rig) -> None:
    """QuickBooks already had the invoice, paid in part, before Factor finalized its twin: the
    pass that links the two brings that earlier payment in too, though it predates the cursors."""
    from datetime import date
    from decimal import Decimal

    from factor_desktop.sync.pull import pull_changes
    from factor_desktop.sync.reference import refresh_reference

    firm = rig.build_firm()
    rig.map_all(firm)
    rig.sync()  # the client and project are in QuickBooks now
    project = rig.session.get(Project, firm.project_id)
    assert project is not None and project.qbo_id is not None
    draft = sv.create_draft_invoice(
        rig.session, firm.project_id, issue_date=date(2026, 11, 2), from_project=False
    )
    sv.edit_draft_invoice(
        rig.session,
        draft.id,
        sv.DraftChanges(
            lines=[
                sv.LineInput(
                    kind="service", service_type_id=firm.schematic_id, amount=Decimal("1200.00")
                )
            ]
        ),
    )
    rig.session.commit()
    qbo_invoice = rig.client.create(
        "Invoice",
        {
            "DocNumber": "INV-0001",
            "CustomerRef": {"value": project.qbo_id},
            "Line": [
                {
                    "Amount": 1200,
                    "DetailType": "SalesItemLineDetail",
                    "SalesItemLineDetail": {"ItemRef": {"value": rig.item_id("Services")}},
                }
            ],
        },
    )
    rig.client.create(
        "Payment",
        {
            "CustomerRef": {"value": project.qbo_id},
            "TotalAmt": 450,
            "Line": [
                {"Amount": 450, "LinkedTxn": [{"TxnId": qbo_invoice["Id"], "TxnType": "Invoice"}]}
            ],
        },
    )
    rig.sandbox.advance_clock(3600)  # the payment is now well before the feed's overlap
    ctx = rig.context()
    refresh_reference(ctx)
    pull_changes(ctx)  # the payment is read now, and is not Factor's yet
    rig.session.commit()
    invoice = sv.finalize_invoice(rig.session, draft.id)
    rig.session.commit()
    assert invoice.number == "INV-0001"
    ctx = rig.context()
    refresh_reference(ctx)
    push_customers(ctx)
    push_outbox(ctx)
    pull_changes(ctx)
    rig.session.commit()
    assert invoice.qbo_id == qbo_invoice["Id"]  # linked, not duplicated
    assert invoice.status == "partially_paid"
    assert invoice.balance == Decimal("750.00")
