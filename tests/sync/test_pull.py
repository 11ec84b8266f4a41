"""The pull half of a sync pass, against the demo company over HTTP."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import requests
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from factor_desktop.qbo.client import QboClient
from factor_desktop.qbo.errors import QboServerError, UnsupportedOperationError
from factor_desktop.qbo.query import select as qbo_select
from factor_desktop.secrets import TokenStore
from factor_desktop.services.invoices import create_draft_invoice, delete_draft_invoice
from factor_desktop.store.models import (
    Attachment,
    ChangeCursor,
    Expense,
    ExpenseType,
    Invoice,
    Payment,
    QboRecord,
    SyncLogEntry,
)
from factor_desktop.store.models import Mapping as TypeMapping
from factor_desktop.sync.connection import ConnectionService
from factor_desktop.sync.engine import SyncEngine
from factor_desktop.sync.pull import PULL_ENTITIES, WAITING, attachment_path, pull_changes
from factor_desktop.sync.reference import SLOW_LISTS_EVERY, refresh_reference

from .pull_fixtures import UNLINKED_PROJECT, PullRig
from .pull_fixtures import bare_rig_fixture as bare_rig_fixture
from .pull_fixtures import demo_firm_db_fixture as demo_firm_db_fixture
from .pull_fixtures import rig_fixture as rig_fixture

BOTH = [refresh_reference, pull_changes]


@dataclass(frozen=True)
class Row:
    """An expense as the store holds it, detached from any session."""

    id: int
    project: str
    expense_type: str | None
    txn_type: str | None
    txn_id: str | None
    line_id: str | None
    incurred_on: date
    vendor: str | None
    description: str
    cost: Decimal
    markup_percent: Decimal | None
    billable_amount: Decimal
    billable: bool
    deleted_in_qbo: bool


def _expenses(rig: PullRig) -> list[Row]:
    with rig.store.session() as session:
        return [
            Row(
                e.id,
                e.project.number,
                e.expense_type.name if e.expense_type else None,
                e.qbo_txn_type,
                e.qbo_id,
                e.qbo_line_id,
                e.incurred_on,
                e.vendor,
                e.description,
                e.cost,
                e.markup_percent,
                e.billable_amount,
                e.billable,
                e.deleted_in_qbo,
            )
            for e in session.scalars(select(Expense).order_by(Expense.id))
        ]


def _by_description(rows: Sequence[Row]) -> dict[str, Row]:
    return {row.description: row for row in rows}


def _log(rig: PullRig, **where: Any) -> list[SyncLogEntry]:
    with rig.store.session() as session:
        query = select(SyncLogEntry).order_by(SyncLogEntry.id)
        for key, value in where.items():
            query = query.where(getattr(SyncLogEntry, key) == value)
        entries = list(session.scalars(query))
        session.expunge_all()
        return entries


def _count(rig: PullRig, model: type[Any]) -> int:
    with rig.store.session() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def _waiting(rig: PullRig) -> dict[str, set[str]]:
    with rig.store.session() as session:
        out: dict[str, set[str]] = {}
        for record in session.scalars(select(QboRecord).where(QboRecord.kind == WAITING)):
            out.setdefault(record.entity, set()).add(record.qbo_id)
        return out


def _attachments(rig: PullRig) -> list[Attachment]:
    with rig.store.session() as session:
        rows = list(session.scalars(select(Attachment).order_by(Attachment.id)))
        session.expunge_all()
        return rows


def _invoice(session: Session, number: str) -> Invoice:
    return session.scalars(select(Invoice).where(Invoice.number == number)).one()


def _files(folder: Path) -> list[Path]:
    return sorted(folder.iterdir()) if folder.exists() else []


# --------------------------------------------------------------------------------------------
# Expenses and receipts
# --------------------------------------------------------------------------------------------


def test_expenses_come_in_with_markup_and_receipts_and_unmapped_ones_wait(rig: PullRig) -> None:
    ctx = rig.sync_pass(BOTH)
    rows = _by_description(_expenses(rig))

    structural = rows["Structural assessment of existing timber frame"]
    bill = rig.txn("Bill", DocNumber="KSE-2291")
    assert structural.project == "2024-017" and structural.expense_type == "Structural Engineering"
    assert (structural.txn_type, structural.txn_id, structural.line_id) == ("Bill", bill["Id"], "1")
    assert structural.vendor == "Keller Structural Engineers"
    assert structural.incurred_on == date.fromisoformat(bill["TxnDate"])
    assert structural.cost == Decimal("4200.00") and structural.markup_percent == Decimal("10")
    assert structural.billable_amount == Decimal("4620.00") and structural.billable
    landscape = rows["Courtyard and accessible path planting plan"]
    assert landscape.markup_percent == rig.markup("Landscape Architecture") == Decimal("12.5")
    assert landscape.billable_amount == Decimal("2227.50")
    # 312.60 * 1.15 = 359.49 exactly; 57.15 * 1.15 = 65.7225 rounds to 65.72.
    assert rows["Construction document check set"].billable_amount == Decimal("359.49")
    assert rows["Bid set reproduction"].billable_amount == Decimal("65.72")
    travel = rows["Site visit flight, Alder Valley"]
    assert travel.markup_percent is None and travel.billable_amount == travel.cost
    assert travel.vendor == "Harborline Air" and travel.txn_type == "Purchase"
    assert all(not row.deleted_in_qbo and row.expense_type != "Mileage" for row in rows.values())
    assert len(rows) == 13  # every line on a linked project whose account is mapped

    # Mileage is not mapped: its three lines are blocked, said once per transaction (two), and
    # kept to be applied later.
    blocked = _log(rig, action="blocked")
    assert len(blocked) == 2 and ctx.counts["blocked"] == 2  # counted as logged
    assert ctx.attention == 3  # the three lines still need attention
    for entry in blocked:
        assert entry.level == "warning" and entry.direction == "pull"
        assert entry.reason is not None
        assert "'Mileage'" in entry.reason and "Mappings tab" in entry.reason
    # Kitchen Remodel is not linked: its line is skipped and the customer named once.
    unlinked = _log(rig, entity_kind="customer")
    assert [entry.label for entry in unlinked] == [UNLINKED_PROJECT]
    assert unlinked[0].level == "info" and "not linked to a Factor project" in str(
        unlinked[0].reason
    )
    assert ctx.counts["expense_lines_unlinked"] == 1
    mileage_one = rig.purchase_for("Site visit mileage, 92 mi")["Id"]
    mileage_two = rig.purchase_for("Construction observation, 124 mi")["Id"]
    kitchen = rig.purchase_for("Color renderings, client review")["Id"]
    assert _waiting(rig) == {
        "Purchase": {mileage_one, mileage_two, kitchen},
        "Attachable": {_attachable_of(rig, "Purchase", kitchen)},
    }
    # Payments in the demo company pay invoices Factor did not issue.
    assert ctx.counts["payments_not_ours"] == 2

    # Receipts of the expenses brought in: downloaded once, stored under their SHA-256.
    attachments = _attachments(rig)
    assert sorted(a.file_name for a in attachments) == sorted(
        [
            "KSE-2291.pdf",
            "AMP-0448.pdf",
            f"receipt-{rig.purchase_for('Schematic design presentation boards')['Id']}.png",
            f"receipt-{rig.purchase_for('Site visit flight, Alder Valley')['Id']}.png",
        ]
    )
    stored = _files(rig.attachments)
    assert len(stored) == 4
    for attachment in attachments:
        path = attachment_path(rig.attachments, attachment)
        assert path is not None and path in stored
        content = path.read_bytes()
        assert hashlib.sha256(content).hexdigest() == attachment.sha256 == path.stem
        assert path.suffix == Path(attachment.file_name).suffix
        assert attachment.size == len(content) and attachment.downloaded_at == ctx.now
        magic = b"%PDF" if path.suffix == ".pdf" else b"\x89PNG"
        assert content.startswith(magic) and attachment.content_type in (
            "application/pdf",
            "image/png",
        )
        assert attachment.expense_id is not None
    kse = next(a for a in attachments if a.file_name == "KSE-2291.pdf")
    assert (kse.qbo_txn_type, kse.qbo_txn_id, kse.expense_id) == ("Bill", bill["Id"], structural.id)
    assert len(_log(rig, action="downloaded")) == 4

    # Mapping Mileage is enough: the next pull applies the waiting lines, QuickBooks unchanged.
    rig.map_account("Mileage", "Mileage")
    client = rig.new_client()
    after_mapping = rig.sync_pass([pull_changes], client=client)
    assert client.requests_by_endpoint == {"GET cdc": 1}
    mileage = [row for row in _expenses(rig) if row.expense_type == "Mileage"]
    assert sorted(row.cost for row in mileage) == [
        Decimal("40.20"),
        Decimal("61.64"),
        Decimal("83.08"),
    ]
    assert all(row.billable_amount == row.cost and row.markup_percent is None for row in mileage)
    assert after_mapping.counts["created"] == 3 and after_mapping.counts.get("blocked", 0) == 0
    assert all(entry.resolved for entry in _log(rig, action="blocked"))
    assert _waiting(rig)["Purchase"] == {kitchen}

    # Linking the project brings its expense and its receipt in too.
    rig.link(UNLINKED_PROJECT)
    linked = rig.sync_pass([pull_changes])
    renderings = _by_description(_expenses(rig))["Color renderings, client review"]
    assert renderings.project == "2024-020" and renderings.cost == Decimal("92.30")
    assert renderings.billable_amount == Decimal("106.15")  # 106.145, rounded half up
    assert linked.counts["downloaded"] == 1 and len(_files(rig.attachments)) == 5
    assert _waiting(rig) == {}
    assert all(entry.resolved for entry in _log(rig, entity_kind="customer"))


def _attachable_of(rig: PullRig, entity: str, txn_id: str) -> str:
    for row in rig.qbo.query_all(qbo_select("Attachable").order_by("Id")):
        for ref in row.get("AttachableRef", []):
            if ref["EntityRef"] == {"value": txn_id, "type": entity}:
                return str(row["Id"])
    raise AssertionError(f"no attachable on {entity} {txn_id}")


def test_a_second_pull_with_nothing_new_changes_nothing(rig: PullRig) -> None:
    first = rig.sync_pass(BOTH)
    with rig.store.session() as session:
        cursors = {c.entity: c.changed_since for c in session.scalars(select(ChangeCursor))}
    assert {entity: cursors[entity] for entity in PULL_ENTITIES} == {
        entity: first.now for entity in PULL_ENTITIES
    }
    expenses, log_size = _expenses(rig), _count(rig, SyncLogEntry)
    attachments = [(a.id, a.sha256, a.downloaded_at) for a in _attachments(rig)]
    files = _files(rig.attachments)

    rig.sandbox.advance_clock(60)  # the overlap reads the first pass's changes again
    client = rig.new_client()
    second = rig.sync_pass(BOTH, client=client)

    assert _expenses(rig) == expenses
    assert [(a.id, a.sha256, a.downloaded_at) for a in _attachments(rig)] == attachments
    assert _files(rig.attachments) == files
    assert _count(rig, SyncLogEntry) == log_size  # nothing new to say; the blocks still stand
    assert "GET download-link" not in client.requests_by_endpoint
    assert "GET download" not in client.requests_by_endpoint
    # One request: a change data capture for the lists and the pull together (tax codes, tax
    # rates and the Preferences wait for their own cadence)
    assert client.requests_by_endpoint == {"GET cdc": 1}
    for action in ("created", "updated", "deleted", "downloaded", "failed"):
        assert second.counts.get(action, 0) == 0, action
    # Still blocked: not logged or counted again, yet the pass is not reported clean.
    assert second.counts.get("blocked", 0) == 0 and second.attention == 3
    with rig.store.session() as session:
        moved = {c.entity: c.changed_since for c in session.scalars(select(ChangeCursor))}
    assert all(moved[entity] == second.now > first.now for entity in PULL_ENTITIES)


def test_a_preview_says_what_it_would_do_and_writes_nothing(rig: PullRig) -> None:
    tokens = TokenStore("firm")
    connection = ConnectionService(rig.store, tokens, clock=rig.sandbox.clock.now)
    pending = connection.begin(
        rig.sandbox.discovery_url, rig.sandbox.client_id, rig.sandbox.client_secret
    )
    requests.get(pending.authorize_url, timeout=10)
    connection.connect_with_loopback(pending, timeout=10)
    engine = SyncEngine(
        rig.store,
        connection,
        rig.attachments,
        clock=rig.sandbox.clock.now,
        steps=[("lists", refresh_reference), ("pull", pull_changes)],
    )
    try:
        summary = engine.run(preview=True)
        assert _files(rig.attachments) == []
        for model in (Expense, Attachment, Payment, ChangeCursor, QboRecord, SyncLogEntry):
            assert _count(rig, model) == 0, model.__name__
        real = engine.run()
    finally:
        connection.http.close()

    # The sync right after it does exactly what the preview said, entry by entry.
    with rig.store.session() as session:
        logged = [
            (e.entity_kind, e.action, e.label)
            for e in session.scalars(
                select(SyncLogEntry)
                .where(SyncLogEntry.run_id == real.run_id)
                .order_by(SyncLogEntry.id)
            )
        ]
    assert [(p["entity"], p["action"], p["label"]) for p in summary.planned] == logged
    assert summary.counts == real.counts

    assert summary.kind == "preview" and summary.status == "partial"  # Mileage is blocked
    planned = summary.planned
    created = [p for p in planned if p["entity"] == "expense" and p["action"] == "created"]
    assert len(created) == 13
    assert any("Bill KSE-2291" in p["label"] and "2024-017" in p["label"] for p in created)
    # The receipts a sync would download, downloaded and kept nowhere (no file was written).
    assert len([p for p in planned if p["action"] == "downloaded"]) == 4
    assert len([p for p in planned if p["action"] == "blocked"]) == 2
    assert summary.counts["created"] >= 13  # the same counts a sync gives


# --------------------------------------------------------------------------------------------
# Payments and invoices
# --------------------------------------------------------------------------------------------


def _invoice_state(rig: PullRig, number: str) -> tuple[str, Decimal, str | None]:
    with rig.store.session() as session:
        invoice = _invoice(session, number)
        return invoice.status, invoice.balance, invoice.qbo_sync_token


def _payments(rig: PullRig) -> list[tuple[str | None, Decimal, Decimal, bool, list[Decimal]]]:
    with rig.store.session() as session:
        return [
            (p.qbo_id, p.amount, p.unapplied, p.voided, [a.amount for a in p.applications])
            for p in session.scalars(select(Payment).order_by(Payment.id))
        ]


def _pay(rig: PullRig, customer_id: str, invoice_id: str, amount: str) -> dict[str, Any]:
    line = {"Amount": amount, "LinkedTxn": [{"TxnId": invoice_id, "TxnType": "Invoice"}]}
    return rig.qbo.create(
        "Payment",
        {
            "CustomerRef": {"value": customer_id},
            "TotalAmt": amount,
            "PaymentRefNum": "CHK-5521",
            "Line": [line],
        },
    )


def test_payments_in_quickbooks_move_factor_invoices(rig: PullRig) -> None:
    first = rig.sync_pass(BOTH)
    assert first.counts["payments_not_ours"] == 2
    # INV-0020 (27,900.00, project 2024-017) as the push step would have sent it.
    with rig.store.session() as session:
        invoice = _invoice(session, "INV-0020")
        assert (invoice.status, invoice.total, invoice.tax) == (
            "final",
            Decimal("27900.00"),
            Decimal("0.00"),
        )
        customer_id = invoice.project.qbo_id
        assert customer_id is not None
    services = rig.qbo_id("Item", "Name", "Services")
    twin = rig.qbo.create(
        "Invoice",
        {
            "DocNumber": "INV-0020",
            "CustomerRef": {"value": customer_id},
            "Line": [
                {
                    "Amount": 27900,
                    "DetailType": "SalesItemLineDetail",
                    "SalesItemLineDetail": {"ItemRef": {"value": services}},
                }
            ],
        },
    )
    with rig.store.session() as session:
        invoice = _invoice(session, "INV-0020")
        invoice.qbo_id, invoice.qbo_sync_token = str(twin["Id"]), "0"

    rig.sync_pass([pull_changes])
    assert _invoice_state(rig, "INV-0020") == ("final", Decimal("27900.00"), twin["SyncToken"])

    payment = _pay(rig, customer_id, twin["Id"], "10000.00")
    partial = rig.sync_pass([pull_changes])
    status, balance, token = _invoice_state(rig, "INV-0020")
    assert (status, balance) == ("partially_paid", Decimal("17900.00"))
    assert token == rig.qbo.read("Invoice", twin["Id"])["SyncToken"]
    assert _payments(rig) == [
        (payment["Id"], Decimal("10000.00"), Decimal("0.00"), False, [Decimal("10000.00")])
    ]
    assert partial.counts["payments_not_ours"] == 0  # the overlap does not re-read the seed
    (created,) = _log(rig, entity_kind="payment")
    assert created.action == "created" and "CHK-5521" in created.label
    moved = _log(rig, entity_kind="invoice")
    assert [entry.detail["status"] for entry in moved if entry.detail] == [
        ["final", "partially_paid"]
    ]

    rig.sandbox.advance_clock(60)
    line = {"Amount": 27900, "LinkedTxn": [{"TxnId": twin["Id"], "TxnType": "Invoice"}]}
    edited = rig.qbo.update(
        "Payment",
        {"Id": payment["Id"], "SyncToken": payment["SyncToken"], "TotalAmt": 27900, "Line": [line]},
    )
    rig.sync_pass([pull_changes])
    assert _invoice_state(rig, "INV-0020")[:2] == ("paid", Decimal("0.00"))
    assert _payments(rig) == [
        (payment["Id"], Decimal("27900.00"), Decimal("0.00"), False, [Decimal("27900.00")])
    ]

    rig.sandbox.advance_clock(60)
    rig.qbo.delete("Payment", edited["Id"], edited["SyncToken"])
    deleted = rig.sync_pass([pull_changes])
    assert _invoice_state(rig, "INV-0020")[:2] == ("final", Decimal("27900.00"))
    assert _payments(rig) == []
    assert deleted.counts["deleted"] == 1
    again = rig.sync_pass([pull_changes])
    assert _invoice_state(rig, "INV-0020")[:2] == ("final", Decimal("27900.00"))
    assert again.counts.get("deleted", 0) == 0 and again.counts.get("updated", 0) == 0

    # A voided payment is kept, marked void, and no longer counts.
    rig.sandbox.advance_clock(60)
    second = _pay(rig, customer_id, twin["Id"], "5000.00")
    rig.sync_pass([pull_changes])
    assert _invoice_state(rig, "INV-0020")[:2] == ("partially_paid", Decimal("22900.00"))
    rig.sandbox.advance_clock(60)
    rig.qbo.void("Payment", second["Id"], second["SyncToken"])
    voided = rig.sync_pass([pull_changes])
    assert _invoice_state(rig, "INV-0020")[:2] == ("final", Decimal("27900.00"))
    assert _payments(rig) == [
        (second["Id"], Decimal("5000.00"), Decimal("0.00"), True, [Decimal("5000.00")])
    ]
    assert voided.counts["voided"] == 1

    # Edited in QuickBooks after it was sent: Factor keeps its total and says so.
    rig.sandbox.advance_clock(60)
    current = rig.qbo.read("Invoice", twin["Id"])
    changed_line = dict(current["Line"][0], Amount=28000)
    changed = rig.qbo.update(
        "Invoice", {"Id": twin["Id"], "SyncToken": current["SyncToken"], "Line": [changed_line]}
    )
    assert changed["TotalAmt"] == 28000
    rig.sync_pass([pull_changes])
    warnings = [e for e in _log(rig, entity_kind="invoice", level="warning")]
    edited_warning = [
        e for e in warnings if "was changed in QuickBooks after it was sent" in str(e.reason)
    ]
    assert len(edited_warning) == 1
    assert edited_warning[0].action == "mismatched"
    assert edited_warning[0].current_state == "mismatched"
    assert "$28,000.00" in str(edited_warning[0].reason) and "$27,900.00" in str(
        edited_warning[0].reason
    )
    assert _invoice_state(rig, "INV-0020")[:2] == ("final", Decimal("27900.00"))

    # Deleted in QuickBooks: kept in Factor, flagged for review.
    rig.sandbox.advance_clock(60)
    rig.qbo.delete("Invoice", twin["Id"], changed["SyncToken"])
    rig.sync_pass([pull_changes])
    gone = [e for e in _log(rig, entity_kind="invoice", action="deleted")]
    assert len(gone) == 1 and gone[0].level == "warning"
    assert "deleted in QuickBooks" in str(gone[0].reason)
    with rig.store.session() as session:
        kept = _invoice(session, "INV-0020")
        assert kept.status == "final" and kept.qbo_id == twin["Id"]


# --------------------------------------------------------------------------------------------
# Deletions, failed downloads, capped change answers
# --------------------------------------------------------------------------------------------


def test_deletes_in_quickbooks_mark_expenses_and_never_delete_them(rig: PullRig) -> None:
    rig.sync_pass(BOTH)
    before = _by_description(_expenses(rig))
    # The Fellowship Hall expenses go on a draft invoice: they count as billed from now on.
    check_set = before["Construction document check set"]
    with rig.store.session() as session:
        project_id = session.get_one(Expense, check_set.id).project_id
        draft = create_draft_invoice(session, project_id)
        session.flush()
        assert check_set.id in {line.expense_id for line in draft.lines}

    rig.sandbox.advance_clock(60)
    billed = rig.purchase_for("Construction document check set")
    rig.qbo.delete("Purchase", billed["Id"], billed["SyncToken"])
    plain = rig.purchase_for("Schematic design presentation boards")
    rig.qbo.delete("Purchase", plain["Id"], plain["SyncToken"])
    two_lines = rig.txn("Bill", DocNumber="KSE-2317")
    kept_line = two_lines["Line"][0]
    assert kept_line["Description"] == "Foundation and lateral design, classroom wing"
    rig.qbo.update(
        "Bill",
        {
            "Id": two_lines["Id"],
            "SyncToken": two_lines["SyncToken"],
            "Line": [kept_line],
            "VendorRef": two_lines["VendorRef"],
        },
    )
    ctx = rig.sync_pass([pull_changes])

    after = _by_description(_expenses(rig))
    assert len(after) == len(before)  # nothing is deleted here
    assert after["Construction document check set"].deleted_in_qbo
    assert after["Schematic design presentation boards"].deleted_in_qbo
    assert after["Roof framing capacity check"].deleted_in_qbo
    assert not after["Foundation and lateral design, classroom wing"].deleted_in_qbo
    changed = {
        "Construction document check set",
        "Schematic design presentation boards",
        "Roof framing capacity check",
    }
    assert all(not row.deleted_in_qbo for key, row in after.items() if key not in changed)
    assert ctx.counts["deleted"] == 3

    warnings = _log(rig, entity_kind="expense", action="deleted", level="warning")
    assert len(warnings) == 1
    assert "already billed on invoice (draft)" in str(warnings[0].reason)
    assert warnings[0].local_id == before["Construction document check set"].id
    line_gone = [
        e
        for e in _log(rig, entity_kind="expense", action="deleted")
        if e.local_id == before["Roof framing capacity check"].id
    ]
    assert len(line_gone) == 1 and "line was deleted" in str(line_gone[0].reason)

    again = rig.sync_pass([pull_changes])
    assert again.counts.get("deleted", 0) == 0
    assert _by_description(_expenses(rig)) == after

    # A receipt deleted in QuickBooks leaves the expense; its file stays in the cache.
    rig.sandbox.advance_clock(60)
    (pdf,) = [a for a in _attachments(rig) if a.file_name == "KSE-2291.pdf"]
    assert pdf.qbo_id is not None
    attachable = rig.qbo.read("Attachable", pdf.qbo_id)
    rig.qbo.delete("Attachable", pdf.qbo_id, attachable["SyncToken"])
    files = _files(rig.attachments)
    removed = rig.sync_pass([pull_changes])
    assert pdf.qbo_id not in {a.qbo_id for a in _attachments(rig)}
    assert removed.counts["deleted"] == 1 and _files(rig.attachments) == files


def test_a_change_to_a_billed_expense_waits_until_it_is_no_longer_billed(rig: PullRig) -> None:
    rig.sync_pass(BOTH)
    check_set = _by_description(_expenses(rig))["Construction document check set"]
    with rig.store.session() as session:
        project_id = session.get_one(Expense, check_set.id).project_id
        draft_id = create_draft_invoice(session, project_id).id
    rig.sandbox.advance_clock(60)
    purchase = rig.purchase_for("Construction document check set")
    line = dict(purchase["Line"][0], Amount=350)
    rig.qbo.update(
        "Purchase", {"Id": purchase["Id"], "SyncToken": purchase["SyncToken"], "Line": [line]}
    )

    refused = rig.sync_pass([pull_changes])
    assert _by_description(_expenses(rig))["Construction document check set"] == check_set
    (entry,) = _log(rig, entity_kind="purchase", action="failed")
    assert entry.level == "warning" and "already billed on invoice (draft)" in str(entry.reason)
    assert refused.counts["failed"] == 1
    assert purchase["Id"] in _waiting(rig)["Purchase"]

    with rig.store.session() as session:
        delete_draft_invoice(session, draft_id)
    applied = rig.sync_pass([pull_changes])
    changed = _by_description(_expenses(rig))["Construction document check set"]
    assert changed.id == check_set.id and changed.cost == Decimal("350.00")
    assert changed.billable_amount == Decimal("402.50")
    assert applied.counts["updated"] == 1 and applied.counts.get("failed", 0) == 0
    assert all(e.resolved for e in _log(rig, entity_kind="purchase", action="failed"))
    assert purchase["Id"] not in _waiting(rig).get("Purchase", set())


class _FailingDownloads(QboClient):
    """The real client, with receipt downloads failing as on a dropped connection."""

    def download_attachable(self, attachable: Mapping[str, Any]) -> bytes:
        raise QboServerError("the download link answered HTTP 503", http_status=503)

    def download_attachment(self, attachable_id: str) -> bytes:
        raise QboServerError("the download link answered HTTP 503", http_status=503)


def test_a_failed_download_is_logged_and_tried_again_next_pass(rig: PullRig) -> None:
    first = rig.sync_pass(BOTH, client=rig.new_client(_FailingDownloads))
    attachments = _attachments(rig)
    assert len(attachments) == 4 and _files(rig.attachments) == []
    assert all(a.downloaded_at is None and a.sha256 is None for a in attachments)
    failed = _log(rig, entity_kind="attachment", action="failed")
    assert len(failed) == 4 and first.counts["failed"] == 4
    assert all("tries again" in str(entry.reason) for entry in failed)
    assert all("X-Amz" not in str(entry.reason) for entry in failed)

    # Later (the links QuickBooks sent have expired): fresh links are asked for.
    rig.sandbox.advance_clock(1800)
    client = rig.new_client()
    second = rig.sync_pass([pull_changes], client=client)
    assert second.counts["downloaded"] == 4
    assert client.requests_by_endpoint.get("GET download") == 4
    assert all(a.downloaded_at == second.now and a.sha256 for a in _attachments(rig))
    assert len(_files(rig.attachments)) == 4
    assert all(entry.resolved for entry in _log(rig, entity_kind="attachment", action="failed"))


class _CappedPurchases(QboClient):
    """The real client; QuickBooks refuses change data capture with Purchase in it, as it does
    for an answer of more than 1000 objects."""

    def cdc(self, entities: Sequence[str], changed_since: Any) -> dict[str, list[dict[str, Any]]]:
        if "Purchase" in entities:
            raise UnsupportedOperationError(
                "Operation cdc returning 1001 objects is not supported.", code="500"
            )
        return super().cdc(entities, changed_since)


def test_a_capped_change_answer_is_narrowed_and_its_deletions_swept_later(rig: PullRig) -> None:
    rig.sync_pass(BOTH)
    rig.sandbox.advance_clock(60)
    gone = rig.purchase_for("Bid set reproduction")
    rig.qbo.delete("Purchase", gone["Id"], gone["SyncToken"])
    client = rig.new_client(_CappedPurchases)
    ctx = rig.sync_pass([pull_changes], client=client)
    assert ctx.counts["cdc_capped"] == 1
    # Not a full read: one batch of queries for the objects changed since the cursor (the
    # refused change capture is this test client's, made without a request).
    assert client.requests_by_endpoint == {"POST batch": 1}
    with rig.store.session() as session:
        cursor = session.get(ChangeCursor, "Purchase")
        assert cursor is not None and cursor.changed_since == ctx.now
        # A query does not return deleted objects: a sweep is due for what was narrowed.
        assert session.get(ChangeCursor, "sweep:Purchase") is not None
    assert sum(row.deleted_in_qbo for row in _expenses(rig)) == 0

    # The pass that reads the slow lists reads the narrowed entities in full: the deletion is
    # found by absence, and the sweep is done.
    rig.sandbox.advance_clock(SLOW_LISTS_EVERY.total_seconds())
    later = rig.sync_pass(BOTH)
    rows = _by_description(_expenses(rig))
    assert rows["Bid set reproduction"].deleted_in_qbo
    assert sum(row.deleted_in_qbo for row in rows.values()) == 1
    assert later.counts["reference_full_reads"] >= 2
    with rig.store.session() as session:
        assert session.get(ChangeCursor, "sweep:Purchase") is None


def test_an_item_shared_by_several_expense_types_holds_its_expense_for_review(
    rig: PullRig,
) -> None:
    item_id = rig.qbo_id("Item", "Name", "Reimbursable Expenses")
    account_id = rig.qbo_id("Account", "Name", "Checking")
    project_customer = rig.customer("Tasting Room & Cellar")
    with rig.store.session() as session:
        types = {
            name: id_ for name, id_ in session.execute(select(ExpenseType.name, ExpenseType.id))
        }
        for name in ("Printing & Reproduction", "Travel"):
            session.add(TypeMapping(kind="expense_type_item", local_id=types[name], qbo_id=item_id))
    rig.qbo.create(
        "Purchase",
        {
            "PaymentType": "Cash",
            "AccountRef": {"value": account_id},
            "Line": [
                {
                    "Amount": 120.00,
                    "Description": "Plots for the cellar review",
                    "DetailType": "ItemBasedExpenseLineDetail",
                    "ItemBasedExpenseLineDetail": {
                        "ItemRef": {"value": item_id},
                        "CustomerRef": {"value": project_customer["Id"]},
                        "BillableStatus": "Billable",
                        "Qty": 1,
                        "UnitPrice": 120.00,
                    },
                }
            ],
        },
    )

    def plots(session: Session) -> list[Expense]:
        return list(session.scalars(select(Expense).where(Expense.description.like("Plots for%"))))

    ctx = rig.sync_pass([refresh_reference, pull_changes])
    with rig.store.session() as session:
        assert plots(session) == []
        reasons = list(
            session.scalars(select(SyncLogEntry.reason).where(SyncLogEntry.action == "blocked"))
        )
    assert any("stands for several expense types" in (r or "") for r in reasons)
    assert ctx.counts["blocked"] >= 1
    # Keep the item for one type only: the waiting expense comes in on the next pass.
    with rig.store.session() as session:
        session.execute(
            delete(TypeMapping).where(
                TypeMapping.kind == "expense_type_item", TypeMapping.local_id == types["Travel"]
            )
        )
    rig.sync_pass([refresh_reference, pull_changes])
    with rig.store.session() as session:
        (expense,) = plots(session)
        assert expense.expense_type_id == types["Printing & Reproduction"]
        assert expense.cost == Decimal("120.00")
        assert expense.billable_amount == Decimal("138.00")  # 15% markup


def test_an_expense_already_billed_in_quickbooks_is_not_billable_again(rig: PullRig) -> None:
    account_id = rig.qbo_id("Account", "Name", "Travel")
    bank_id = rig.qbo_id("Account", "Name", "Checking")
    project = rig.customer("Tasting Room & Cellar")
    line: dict[str, Any] = {
        "DetailType": "AccountBasedExpenseLineDetail",
        "AccountBasedExpenseLineDetail": {
            "AccountRef": {"value": account_id},
            "CustomerRef": {"value": project["Id"]},
        },
    }
    rig.qbo.create(
        "Purchase",
        {
            "PaymentType": "Cash",
            "AccountRef": {"value": bank_id},
            "Line": [
                {
                    **line,
                    "Amount": 310.00,
                    "Description": "Flight billed already",
                    "AccountBasedExpenseLineDetail": {
                        **line["AccountBasedExpenseLineDetail"],
                        "BillableStatus": "HasBeenBilled",
                    },
                },
                {
                    **line,
                    "Amount": 95.50,
                    "Description": "Taxi to the site",
                    "AccountBasedExpenseLineDetail": {
                        **line["AccountBasedExpenseLineDetail"],
                        "BillableStatus": "Billable",
                    },
                },
            ],
        },
    )
    rig.sync_pass([refresh_reference, pull_changes])
    with rig.store.session() as session:
        flight, taxi = (
            session.scalars(select(Expense).where(Expense.description == text)).one()
            for text in ("Flight billed already", "Taxi to the site")
        )
        assert flight.billable is False and flight.cost == Decimal("310.00")
        assert taxi.billable is True and taxi.billable_amount == Decimal("95.50")


def test_amounts_and_dates_outside_reason_are_applied_and_flagged_for_review(
    rig: PullRig,
) -> None:
    rig.sync_pass(BOTH)
    checking = rig.qbo_id("Account", "Name", "Checking")
    printing = rig.qbo_id("Account", "Name", "Printing and Reproduction")
    project_customer = rig.customer("Tasting Room & Cellar")

    def purchase(amount: float, day: str, description: str) -> None:
        rig.qbo.create(
            "Purchase",
            {
                "PaymentType": "Cash",
                "AccountRef": {"value": checking},
                "TxnDate": day,
                "Line": [
                    {
                        "Amount": amount,
                        "Description": description,
                        "DetailType": "AccountBasedExpenseLineDetail",
                        "AccountBasedExpenseLineDetail": {
                            "AccountRef": {"value": printing},
                            "CustomerRef": {"value": project_customer["Id"]},
                        },
                    }
                ],
            },
        )

    purchase(48_000.00, "2026-11-20", "Large plotter")
    purchase(90.00, "1987-03-02", "Old print run")
    purchase(75.00, "2026-11-21", "Ordinary prints")
    rig.sandbox.advance_clock(60)
    ctx = rig.sync_pass(BOTH)
    assert ctx.counts["review"] == 2  # flagged, and still brought in

    with rig.store.session() as session:
        described = {e.description: e for e in session.scalars(select(Expense))}
        reviews = {
            entry.local_id: entry.reason or ""
            for entry in session.scalars(
                select(SyncLogEntry).where(SyncLogEntry.action == "review")
            )
        }
    large, old, ordinary = (
        described["Large plotter"],
        described["Old print run"],
        described["Ordinary prints"],
    )
    assert large.cost == Decimal("48000.00") and old.cost == Decimal("90.00")  # applied
    assert "above the review amount ($25,000.00" in reviews[large.id]
    assert "before 1990" in reviews[old.id]
    assert ordinary.id not in reviews
