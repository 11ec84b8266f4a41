"""The push half of a sync pass against the local QuickBooks sandbox, over real HTTP.

Clients and projects become customers and sub-customers (or are linked to the ones QuickBooks
already has), finalized invoices go with the same numbers, and nothing is ever created twice:
not after a lost answer, not after a crash, not when QuickBooks already has the record.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import pytest

from factor_desktop import services as sv
from factor_desktop.qbo.client import JsonDict, QboClient
from factor_desktop.services.mappings import set_mapping
from factor_desktop.store.models import Client, Invoice, Project, TaxTerm
from factor_desktop.sync.pull import pull_changes
from factor_desktop.sync.reference import refresh_reference
from tests.sync.push_fixtures import ALDER_TAX_CODE, Firm, Rig, rig

__all__ = ["rig"]


def _reload(rig: Rig, firm: Firm) -> tuple[Client, Project]:
    rig.session.expire_all()
    client = rig.session.get(Client, firm.client_id)
    project = rig.session.get(Project, firm.project_id)
    assert client is not None and project is not None
    return client, project


def _sales_lines(invoice: Mapping[str, Any]) -> list[JsonDict]:
    return [line for line in invoice["Line"] if line["DetailType"] == "SalesItemLineDetail"]


# --- customers and sub-customers -------------------------------------------------------------


def test_client_and_project_become_customer_and_sub_customer(rig: Rig) -> None:
    firm = rig.build_firm()
    ctx = rig.sync()

    client, project = _reload(rig, firm)
    assert client.qbo_id and client.qbo_sync_token is not None
    assert project.qbo_id and project.qbo_sync_token is not None
    parent = rig.client.read("Customer", client.qbo_id)
    child = rig.client.read("Customer", project.qbo_id)
    assert parent["DisplayName"] == "Harbor & Pine Holdings"
    assert parent["PrimaryEmailAddr"] == {"Address": "accounts@harborpine.example"}
    assert child["FullyQualifiedName"] == "Harbor & Pine Holdings:Waterfront Library"
    assert child["Job"] is True and child["BillWithParent"] is True
    assert child["ParentRef"]["value"] == client.qbo_id
    created = rig.entries(ctx, action="created")
    assert [(e.entity_kind, e.local_id) for e in created] == [
        ("client", firm.client_id),
        ("project", firm.project_id),
    ]

    again = rig.sync()
    assert rig.entries(again) == []
    assert len(rig.qbo("Customer")) == 2


def test_an_existing_customer_of_the_same_name_is_linked_not_duplicated(rig: Rig) -> None:
    firm = rig.build_firm()
    existing = rig.client.create("Customer", {"DisplayName": "HARBOR &  pine holdings"})
    existing_job = rig.client.create(
        "Customer",
        {"DisplayName": "waterfront library", "Job": True, "ParentRef": {"value": existing["Id"]}},
    )
    ctx = rig.sync()

    client, project = _reload(rig, firm)
    assert client.qbo_id == existing["Id"]
    assert project.qbo_id == existing_job["Id"]
    assert len(rig.qbo("Customer")) == 2  # nothing created
    linked = rig.entries(ctx, action="linked")
    assert [e.entity_kind for e in linked] == ["client", "project"]
    assert "instead of creating a duplicate" in (linked[0].reason or "")
    assert rig.entries(ctx, action="created") == []


def test_a_colon_in_a_name_becomes_a_dash(rig: Rig) -> None:
    firm = rig.build_firm(client_name="Smith: Jones Partners", project_name="Phase 1: Design")
    rig.sync()

    _, project = _reload(rig, firm)
    assert project.qbo_id is not None
    child = rig.client.read("Customer", project.qbo_id)
    assert child["FullyQualifiedName"] == "Smith - Jones Partners:Phase 1 - Design"
    assert rig.entries(rig.sync()) == []  # found again by name next time: nothing new


def test_a_name_used_by_a_vendor_is_explained_not_retried_blindly(rig: Rig) -> None:
    firm = rig.build_firm()
    rig.map_all(firm)
    invoice = rig.invoice(firm)
    rig.client.create("Vendor", {"DisplayName": "Harbor & Pine Holdings"})
    ctx = rig.sync()

    client, _ = _reload(rig, firm)
    assert client.qbo_id is None
    assert rig.qbo("Customer") == []
    assert "POST customer" not in rig.client.requests_by_endpoint  # known from the lists read
    [blocked] = rig.entries(ctx, entity_kind="client")
    assert blocked.action == "blocked" and blocked.level == "error"
    reason = blocked.reason or ""
    assert "already used by the QuickBooks vendor 'Harbor & Pine Holdings'" in reason
    assert "Rename it in Factor Desktop" in reason
    assert "link it to an existing customer on the Clients & Projects tab" in reason
    # The invoice waits, saying why.
    item = rig.outbox(invoice.id)
    assert item.status == "blocked" and item.attempts == 0
    assert "The client 'Harbor & Pine Holdings'" in (item.last_error or "")


def test_quickbooks_duplicate_name_refusal_is_looked_into_and_explained(rig: Rig) -> None:
    """The vendor appears after the lists were read, so QuickBooks itself refuses (6240)."""
    firm = rig.build_firm()
    ctx = rig.context()
    from factor_desktop.sync.push import push_customers

    refresh_reference(ctx)
    rig.client.create("Vendor", {"DisplayName": "harbor & pine holdings"})
    push_customers(ctx)
    rig.session.commit()

    [entry] = rig.entries(ctx, entity_kind="client")
    assert entry.action == "skipped" and entry.level == "warning"  # no invoice waits on it yet
    assert "vendor 'harbor & pine holdings'" in (entry.reason or "")
    assert entry.detail is not None and entry.detail["code"] == "6240"
    assert rig.qbo("Customer") == []
    client, _ = _reload(rig, firm)
    assert client.qbo_id is None

    # Once the vendor is renamed in QuickBooks, the next sync creates the customer: the old
    # refusal is not replayed to it.
    vendor = rig.qbo("Vendor")[0]
    rig.client.update(
        "Vendor",
        {"Id": vendor["Id"], "SyncToken": vendor["SyncToken"], "DisplayName": "Harbor Pine Supply"},
    )
    rig.sync()
    client, project = _reload(rig, firm)
    assert client.qbo_id is not None and project.qbo_id is not None
    # The refused attempt, its replay under the same requestid, the new attempt, the project.
    assert rig.client.requests_by_endpoint["POST customer"] == 4
    assert len(rig.qbo("Customer")) == 2


def test_a_linked_customer_made_inactive_blocks_with_a_clear_reason(rig: Rig) -> None:
    firm = rig.build_firm()
    rig.map_all(firm)
    rig.sync()
    _, project = _reload(rig, firm)
    assert project.qbo_id is not None
    job = rig.client.read("Customer", project.qbo_id)
    rig.client.update("Customer", {"Id": job["Id"], "SyncToken": job["SyncToken"], "Active": False})
    invoice = rig.invoice(firm)
    ctx = rig.sync()

    [entry] = rig.entries(ctx, entity_kind="project")
    assert entry.action == "blocked" and entry.reason == (
        "The project P-101 'Waterfront Library' is linked to the inactive QuickBooks "
        f"sub-customer 'Harbor & Pine Holdings:Waterfront Library (deleted)' (Id {job['Id']}), "
        "so nothing can be sent to it. Make it active again in QuickBooks, or unlink it on the "
        "Clients & Projects tab so it can be linked to another customer or created again."
    )
    item = rig.outbox(invoice.id)
    assert item.status == "blocked" and entry.reason in (item.last_error or "")
    assert rig.qbo("Invoice") == []
    _, project = _reload(rig, firm)
    assert project.qbo_id == job["Id"]  # still linked: nothing recreated behind the firm's back
    assert len(rig.qbo("Customer")) == 2


def test_without_auto_create_an_unlinked_client_blocks_its_invoice(rig: Rig) -> None:
    firm = rig.build_firm()
    rig.map_all(firm)
    rig.setting("auto_create_customers", False)
    rig.setting("auto_create_projects", False)
    invoice = rig.invoice(firm)
    ctx = rig.sync()

    [entry] = rig.entries(ctx, entity_kind="client")
    assert entry.action == "blocked"
    assert entry.reason == (
        "The client 'Harbor & Pine Holdings' is not linked to a QuickBooks customer; link it on "
        "the Clients & Projects tab or turn on auto-create (Settings: create customers in "
        "QuickBooks)."
    )
    assert rig.outbox(invoice.id).status == "blocked"
    assert rig.qbo("Customer") == [] and rig.qbo("Invoice") == []

    # Linked by hand, with projects not mirrored: the invoice goes to the client's customer.
    customer = rig.client.create("Customer", {"DisplayName": "Harbor & Pine (billing)"})
    sv.link_client(rig.session, firm.client_id, customer["Id"], customer["SyncToken"])
    rig.session.commit()
    ctx = rig.sync()
    [qbo_invoice] = rig.qbo("Invoice")
    assert qbo_invoice["CustomerRef"]["value"] == customer["Id"]
    [created] = rig.entries(ctx, action="created")
    assert created.detail is not None and created.detail["billed_to"] == "client"


# --- invoices ----------------------------------------------------------------------------------


def test_an_invoice_goes_with_its_number_customer_items_amounts_tax_and_fields(rig: Rig) -> None:
    firm = rig.build_firm()
    rig.map_all(firm)
    rig.sandbox.update_preferences({"custom_fields": {"2": "Project No."}})
    invoice = rig.invoice(
        firm,
        custom_fields=[("Project No.", "P-101"), ("Crew #", "North"), ("Phase", "CD")],
        memo="Thank you for your business.",
    )
    assert invoice.total == Decimal("10671.25")  # 10,650.00 + 8.5 % of the 250.00 printing
    ctx = rig.sync()

    rig.session.expire_all()
    stored = rig.session.get(Invoice, invoice.id)
    assert stored is not None and stored.qbo_id is not None and stored.qbo_sync_token == "0"
    item = rig.outbox(invoice.id)
    assert item.status == "done" and item.done_at is not None and item.attempts == 1
    _, project = _reload(rig, firm)

    qbo = rig.client.read("Invoice", stored.qbo_id)
    assert qbo["DocNumber"] == invoice.number == "INV-0001"
    assert qbo["CustomerRef"]["value"] == project.qbo_id
    assert qbo["TxnDate"] == "2025-03-03"
    assert stored.due_date is not None and qbo["DueDate"] == stored.due_date.isoformat()
    lines = _sales_lines(qbo)
    assert [line["Amount"] for line in lines] == [10000.0, 300.0, 100.0, 250.0]
    details = [line["SalesItemLineDetail"] for line in lines]
    assert [d["ItemRef"]["value"] for d in details] == [
        rig.item_id("Services"),
        rig.item_id("Hours"),
        rig.item_id("Services"),  # an "other" line: QuickBooks' default product/service
        rig.item_id("Reimbursables"),
    ]
    assert (details[1]["Qty"], details[1]["UnitPrice"]) == (2.5, 120)
    assert "Qty" not in details[2] and "UnitPrice" not in details[2]  # 3 x 33.333 is not 100
    assert [d["TaxCodeRef"]["value"] for d in details] == ["NON", "NON", "NON", "TAX"]
    assert qbo["TxnTaxDetail"]["TxnTaxCodeRef"]["value"] == ALDER_TAX_CODE
    assert qbo["TxnTaxDetail"]["TotalTax"] == 21.25
    assert Decimal(str(qbo["TotalAmt"])) == invoice.total
    values = {f["Name"]: f.get("StringValue") for f in qbo["CustomField"]}
    assert values == {"Crew #": "North", "Project No.": "P-101"}
    assert qbo["CustomerMemo"]["value"] == (
        "Project: P-101 - Waterfront Library\n\nThank you for your business."
    )
    assert qbo["PrivateNote"].startswith("Factor Desktop invoice INV-0001; project P-101")

    [created] = rig.entries(ctx, entity_kind="invoice")
    assert created.action == "created" and created.qbo_id == stored.qbo_id
    assert created.level == "warning"  # the custom field QuickBooks doesn't have
    assert "QuickBooks has no custom field named 'Phase'" in (created.reason or "")


def _city_rate(rig: Rig, firm: Firm) -> Invoice:
    """The term at 8.25 % mapped to QuickBooks' 8.5 % code, and an invoice with its tax."""
    rig.map_all(firm)
    sv.update_tax_term(
        rig.session, firm.alder_tax_id, sv.TaxTermFields(rate_percent=Decimal("8.25"))
    )
    rig.session.commit()
    invoice = rig.invoice(firm)
    assert invoice.total == Decimal("10670.63")
    return invoice


def test_factors_tax_is_sent_so_quickbooks_total_matches_across_rates(rig: Rig) -> None:
    firm = rig.build_firm()
    invoice = _city_rate(rig, firm)
    ctx = rig.sync()

    [created] = rig.entries(ctx, entity_kind="invoice")
    assert created.action == "created" and created.level == "info"
    rig.session.expire_all()
    stored = rig.session.get(Invoice, invoice.id)
    assert stored is not None and stored.qbo_id is not None
    qbo = rig.client.read("Invoice", stored.qbo_id)
    assert qbo["TxnTaxDetail"]["TotalTax"] == float(invoice.tax)  # Factor's 8.25 %
    assert Decimal(str(qbo["TotalAmt"])) == invoice.total


def test_quickbooks_recomputing_tax_is_reported_with_both_totals_and_why(rig: Rig) -> None:
    firm = rig.build_firm()
    invoice = _city_rate(rig, firm)
    term = rig.session.get(TaxTerm, firm.alder_tax_id)
    assert term is not None
    refresh_reference(rig.context())  # the lists, so the mapping can be set with its rule
    set_mapping(rig.session, "tax_term", term.id, ALDER_TAX_CODE, tax_rule="accept")
    rig.session.commit()
    ctx = rig.sync()

    # The term's rule accepts QuickBooks' figure: created, the difference explained, no alarm.
    [created] = rig.entries(ctx, entity_kind="invoice")
    assert created.action == "created" and created.level == "warning"
    assert "QuickBooks' total for invoice INV-0001 is $10,671.25; Factor's is $10,670.63" in (
        created.reason or ""
    )
    assert "recalculated the tax" in (created.reason or "") and "Accepted" in (created.reason or "")
    assert ctx.attention == 0
    assert invoice.number == "INV-0001"

    # The pull that follows knows QuickBooks answered the create with that total: nobody changed
    # the invoice there since, and it says nothing more.
    pull = rig.context()
    pull_changes(pull)
    rig.session.commit()
    assert rig.entries(pull, entity_kind="invoice", action="mismatched") == []


def test_an_unmapped_service_type_blocks_until_it_is_mapped(rig: Rig) -> None:
    firm = rig.build_firm()
    rig.map("service_type", firm.schematic_id, rig.item_id("Services"))
    rig.map("expense_type_item", firm.printing_id, rig.create_item("Reimbursables"))
    rig.map("tax_term", firm.alder_tax_id, ALDER_TAX_CODE)
    invoice = rig.invoice(firm)
    ctx = rig.sync()

    item = rig.outbox(invoice.id)
    assert item.status == "blocked" and item.attempts == 0
    [entry] = rig.entries(ctx, entity_kind="invoice")
    assert entry.action == "blocked" and entry.level == "error"
    assert entry.reason == (
        "Invoice INV-0001 is waiting: The service type 'Construction Administration' is not "
        "mapped to a QuickBooks product/service; map it on the Mappings tab (Service types). "
        "It is sent on the next sync after that."
    )
    assert rig.qbo("Invoice") == []

    rig.map("service_type", firm.admin_id, rig.item_id("Hours"))
    ctx = rig.sync()
    assert rig.outbox(invoice.id).status == "done"
    assert [e.action for e in rig.entries(ctx, entity_kind="invoice")] == ["created"]
    assert [i["DocNumber"] for i in rig.qbo("Invoice")] == ["INV-0001"]


def test_an_unmapped_tax_term_blocks_an_invoice_with_tax(rig: Rig) -> None:
    firm = rig.build_firm()
    rig.map("service_type", firm.schematic_id, rig.item_id("Services"))
    rig.map("service_type", firm.admin_id, rig.item_id("Hours"))
    rig.map("expense_type_item", firm.printing_id, rig.create_item("Reimbursables"))
    invoice = rig.invoice(firm)
    rig.sync()
    assert "The tax term ALDER (Alder County) is not mapped to a QuickBooks tax code" in (
        rig.outbox(invoice.id).last_error or ""
    )


def test_a_lost_answer_is_retried_and_makes_exactly_one_invoice(rig: Rig) -> None:
    firm = rig.build_firm()
    rig.map_all(firm)
    rig.sync()  # customers first
    invoice = rig.invoice(firm)
    rig.sandbox.set_knobs(drop_after_commit_rate=1.0)  # QuickBooks saves, the answer is lost
    ctx = rig.sync()
    rig.sandbox.set_knobs(drop_after_commit_rate=0.0)

    assert rig.outbox(invoice.id).status == "done"
    assert rig.client.requests_by_endpoint["POST invoice"] == 2  # lost, then replayed
    assert len(rig.qbo("Invoice", DocNumber="INV-0001")) == 1
    assert [e.action for e in rig.entries(ctx, entity_kind="invoice")] == ["created"]


def test_an_answer_lost_for_the_whole_pass_is_settled_by_the_next_one(rig: Rig) -> None:
    firm = rig.build_firm()
    rig.map_all(firm)
    rig.sync()
    invoice = rig.invoice(firm)
    rig.sandbox.set_knobs(drop_after_commit_rate=1.0)
    impatient = rig.new_client(max_retries=0)
    try:
        ctx = rig.sync(client=impatient)
    finally:
        impatient.close()
        rig.sandbox.set_knobs(drop_after_commit_rate=0.0)

    item = rig.outbox(invoice.id)
    assert item.status == "pending" and item.attempts == 1
    [warning] = rig.entries(ctx, entity_kind="invoice")
    assert warning.level == "warning" and "Nothing was lost" in (warning.reason or "")
    assert len(rig.qbo("Invoice")) == 1  # QuickBooks did save it

    ctx = rig.sync()
    rig.session.expire_all()
    assert rig.outbox(invoice.id).status == "done"
    [qbo_invoice] = rig.qbo("Invoice")
    stored = rig.session.get(Invoice, invoice.id)
    assert stored is not None and stored.qbo_id == qbo_invoice["Id"]


class _PowerCut(Exception):
    pass


class _CrashingClient(QboClient):
    """The machine stops right after QuickBooks created the invoice, before Factor recorded it."""

    def create(
        self, entity: str, payload: Mapping[str, Any], request_id: str | None = None
    ) -> JsonDict:
        created = super().create(entity, payload, request_id=request_id)
        if entity == "Invoice":
            raise _PowerCut
        return created


def test_a_crash_between_the_create_and_the_commit_is_replayed_not_duplicated(rig: Rig) -> None:
    firm = rig.build_firm()
    rig.map_all(firm)
    rig.sync()
    invoice = rig.invoice(firm)
    crashing = _CrashingClient(
        rig.sandbox.base_url, rig.sandbox.realm_id, rig.sandbox.token_source(), max_retries=0
    )
    with pytest.raises(_PowerCut):
        rig.sync(client=crashing)
    crashing.close()
    rig.session.rollback()  # what the crash lost

    rig.session.expire_all()
    stored = rig.session.get(Invoice, invoice.id)
    assert stored is not None and stored.qbo_id is None
    assert rig.outbox(invoice.id).attempts == 1  # the attempt itself was kept
    assert len(rig.qbo("Invoice")) == 1

    ctx = rig.sync()
    rig.session.expire_all()
    [qbo_invoice] = rig.qbo("Invoice")
    stored = rig.session.get(Invoice, invoice.id)
    assert stored is not None and stored.qbo_id == qbo_invoice["Id"]
    assert rig.outbox(invoice.id).status == "done"
    assert [e.action for e in rig.entries(ctx, entity_kind="invoice")] == ["created"]


def test_a_number_quickbooks_has_for_another_customer_blocks_with_the_facts(rig: Rig) -> None:
    firm = rig.build_firm()
    rig.map_all(firm)
    other = rig.client.create("Customer", {"DisplayName": "Someone Else LLC"})
    rig.client.create(
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
    ctx = rig.sync()

    item = rig.outbox(invoice.id)
    assert item.status == "blocked" and item.attempts == 1
    [entry] = rig.entries(ctx, entity_kind="invoice")
    assert entry.action == "blocked" and entry.detail is not None
    assert entry.detail["code"] == "6140"
    assert (entry.reason or "").startswith(
        "QuickBooks already has invoice INV-0001 for another customer ('Someone Else LLC', "
        "$75.00), so Factor's invoice INV-0001 for 'Harbor & Pine Holdings:Waterfront Library' "
        "($10,671.25) can't be sent with the same number."
    )
    assert len(rig.qbo("Invoice")) == 1

    # The firm deletes the stray QuickBooks invoice; the next sync sends Factor's.
    stray = rig.qbo("Invoice")[0]
    rig.client.delete("Invoice", stray["Id"], stray["SyncToken"])
    rig.sync()
    assert rig.outbox(invoice.id).status == "done"
    [sent] = rig.qbo("Invoice")
    assert sent["TotalAmt"] == 10671.25


def test_the_same_invoice_already_in_quickbooks_is_linked(rig: Rig) -> None:
    firm = rig.build_firm()
    rig.map_all(firm)
    rig.sync()
    _, project = _reload(rig, firm)
    keyed = rig.client.create(
        "Invoice",
        {
            "DocNumber": "INV-0001",
            "CustomerRef": {"value": project.qbo_id},
            "Line": [
                {
                    "Amount": 500,
                    "DetailType": "SalesItemLineDetail",
                    "SalesItemLineDetail": {"ItemRef": {"value": rig.item_id("Services")}},
                }
            ],
        },
    )
    invoice = rig.invoice(firm, lines=[sv.LineInput(kind="other", amount=Decimal("500"))])
    ctx = rig.sync()

    rig.session.expire_all()
    stored = rig.session.get(Invoice, invoice.id)
    assert stored is not None and stored.qbo_id == keyed["Id"]
    [entry] = rig.entries(ctx, entity_kind="invoice")
    assert entry.action == "linked"
    assert len(rig.qbo("Invoice")) == 1


def test_a_void_in_factor_voids_the_quickbooks_invoice(rig: Rig) -> None:
    firm = rig.build_firm()
    rig.map_all(firm)
    invoice = rig.invoice(firm)
    rig.sync()
    sv.void_invoice(rig.session, invoice.id)
    rig.session.commit()
    ctx = rig.sync()

    rig.session.expire_all()
    stored = rig.session.get(Invoice, invoice.id)
    assert stored is not None and stored.qbo_id is not None
    qbo = rig.client.read("Invoice", stored.qbo_id)
    assert qbo["TotalAmt"] == 0 and qbo["PrivateNote"].startswith("Voided")
    assert stored.qbo_sync_token == qbo["SyncToken"]
    assert rig.outbox(invoice.id, "void").status == "done"
    assert [e.action for e in rig.entries(ctx, entity_kind="invoice")] == ["voided"]


def test_an_invoice_voided_while_blocked_is_never_sent(rig: Rig) -> None:
    firm = rig.build_firm()
    invoice = rig.invoice(firm)  # nothing mapped: blocked
    rig.sync()
    assert rig.outbox(invoice.id).status == "blocked"
    sv.void_invoice(rig.session, invoice.id)  # never went out: the create is cancelled
    rig.session.commit()
    rig.map_all(firm)
    rig.sync()
    assert rig.outbox(invoice.id).status == "cancelled"
    assert rig.qbo("Invoice") == []


def test_a_preview_writes_nothing_to_quickbooks_and_keeps_nothing(rig: Rig) -> None:
    firm = rig.build_firm()
    rig.map_all(firm)
    invoice = rig.invoice(firm)
    customers, invoices = len(rig.qbo("Customer")), len(rig.qbo("Invoice"))
    ctx = rig.sync(preview=True)

    assert (len(rig.qbo("Customer")), len(rig.qbo("Invoice"))) == (customers, invoices)
    planned = [(p["entity"], p["action"]) for p in ctx.planned]
    # The same actions, by the same names, as the sync that follows will log.
    assert planned == [("client", "created"), ("project", "created"), ("invoice", "created")]
    rig.session.expire_all()
    client, project = _reload(rig, firm)
    assert client.qbo_id is None and project.qbo_id is None
    item = rig.outbox(invoice.id)
    assert item.status == "pending" and item.attempts == 0

    # With the customers in place: a void to send, and a number QuickBooks already has.
    rig.sync()
    sv.void_invoice(rig.session, invoice.id)
    rig.session.commit()
    second = rig.invoice(firm, lines=[sv.LineInput(kind="other", amount=Decimal("80"))])
    other = rig.client.create("Customer", {"DisplayName": "Someone Else LLC"})
    rig.client.create(
        "Invoice",
        {
            "DocNumber": second.number,
            "CustomerRef": {"value": other["Id"]},
            "Line": [{"Amount": 75, "DetailType": "SalesItemLineDetail"}],
        },
    )
    invoices = len(rig.qbo("Invoice"))
    ctx = rig.sync(preview=True)
    assert [(p["label"], p["action"]) for p in ctx.planned] == [
        ("INV-0001", "voided"),
        ("INV-0002", "blocked"),
    ]
    assert "QuickBooks already has invoice INV-0002 for another customer" in str(
        ctx.planned[1]["reason"]
    )
    assert len(rig.qbo("Invoice")) == invoices
    assert rig.qbo("Invoice", DocNumber="INV-0001")[0]["TotalAmt"] != 0


def test_quickbooks_unreachable_leaves_the_invoice_pending(rig: Rig) -> None:
    firm = rig.build_firm()
    rig.map_all(firm)
    rig.sync()
    invoice = rig.invoice(firm)
    rig.sandbox.set_knobs(fail_5xx_rate=1.0)
    try:
        ctx = rig.push()
    finally:
        rig.sandbox.set_knobs(fail_5xx_rate=0.0)
    item = rig.outbox(invoice.id)
    assert item.status == "pending" and item.attempts == 1 and item.last_error
    [entry] = rig.entries(ctx, entity_kind="invoice")
    assert entry.action == "skipped" and entry.level == "warning"
    assert rig.qbo("Invoice") == []

    rig.sync()
    assert rig.outbox(invoice.id).status == "done"
    assert len(rig.qbo("Invoice")) == 1


def test_a_void_waits_when_quickbooks_has_a_payment_factor_has_not_seen(rig: Rig) -> None:
    firm = rig.build_firm()
    rig.map_all(firm)
    invoice = rig.invoice(firm)
    rig.sync()
    _, project = _reload(rig, firm)
    rig.session.expire_all()
    stored = rig.session.get(Invoice, invoice.id)
    assert stored is not None and stored.qbo_id is not None
    rig.client.create(
        "Payment",
        {
            "CustomerRef": {"value": project.qbo_id},
            "TotalAmt": 500,
            "Line": [
                {"Amount": 500, "LinkedTxn": [{"TxnId": stored.qbo_id, "TxnType": "Invoice"}]}
            ],
        },
    )
    sv.void_invoice(rig.session, invoice.id)  # Factor has not received the payment yet
    rig.session.commit()
    ctx = rig.push()

    item = rig.outbox(invoice.id, "void")
    assert item.status == "blocked"
    [entry] = rig.entries(ctx, entity_kind="invoice")
    assert entry.action == "blocked"
    assert "QuickBooks has 1 payment applied to invoice INV-0001" in (entry.reason or "")
    assert rig.client.read("Invoice", stored.qbo_id)["TotalAmt"] == 10671.25


def test_a_refusal_is_reported_and_the_fixed_invoice_really_goes_next_time(rig: Rig) -> None:
    firm = rig.build_firm()
    rig.map_all(firm)
    rig.sync()  # customers, and the lists with "Hours" active
    invoice = rig.invoice(firm)
    refused_request = rig.outbox(invoice.id).request_id
    hours = rig.qbo("Item", Name="Hours")[0]
    rig.client.update("Item", {"Id": hours["Id"], "SyncToken": hours["SyncToken"], "Active": False})
    ctx = rig.push()  # the lists read before still show "Hours" active: QuickBooks refuses

    item = rig.outbox(invoice.id)
    next_request = item.request_id
    assert item.status == "failed" and item.attempts == 1
    assert next_request != refused_request  # the refusal would be replayed to the old one
    [entry] = rig.entries(ctx, entity_kind="invoice")
    assert entry.action == "failed" and entry.level == "error"
    assert (entry.reason or "").startswith(
        "QuickBooks refused to create invoice INV-0001. Factor Desktop tries again on the next "
        "4 syncs."
    )
    assert entry.detail is not None and entry.detail["code"] and entry.detail["intuit_tid"]
    assert rig.qbo("Invoice") == []

    hours = rig.client.read("Item", hours["Id"])
    rig.client.update("Item", {"Id": hours["Id"], "SyncToken": hours["SyncToken"], "Active": True})
    rig.sync()
    item = rig.outbox(invoice.id)
    assert item.status == "done" and item.attempts == 2 and item.request_id == next_request
    assert len(rig.qbo("Invoice")) == 1  # carried out, not answered with the old refusal
