"""The empty and demo companies."""

from __future__ import annotations

import requests

from factor_desktop.sandbox import SandboxServer

from .conftest import Api

EXACT = [
    "O'Brien & Sons Builders",
    "Riverside School District",
    "Bayside Lutheran Church",
    "Summit Ridge Winery",
    "Tanaka Residence",
]
NEAR = ["Cafe Lumiere Hospitality", "Northgate Medical Partners"]
QBO_ONLY = ["Kowalski Dental Studio", "Harbor View Marina"]
PROJECTS = [
    "O'Brien & Sons Builders:Warehouse Conversion - 14 Dock St",
    "Riverside School District:Riverside Elementary Addition",
    "Riverside School District:District Office Re-roof",
    "Bayside Lutheran Church:Fellowship Hall Expansion",
    "Summit Ridge Winery:Tasting Room & Cellar",
    "Tanaka Residence:Kitchen Remodel",
]


def test_empty_company_has_qbo_defaults(api: Api) -> None:
    accounts = {a["Name"]: a for a in api.query("select * from Account maxresults 1000")["Account"]}
    for name in (
        "Checking",
        "Accounts Receivable (A/R)",
        "Undeposited Funds",
        "Accounts Payable (A/P)",
        "Services",
        "Job Expenses",
        "Travel",
    ):
        assert name in accounts
    assert accounts["Accounts Receivable (A/R)"]["AccountType"] == "Accounts Receivable"
    assert accounts["Undeposited Funds"]["AccountSubType"] == "UndepositedFunds"
    assert api.query("select count(*) from Customer") == {"totalCount": 0}
    assert api.query("select count(*) from Invoice") == {"totalCount": 0}
    prefs = api.ok(api.get("preferences"))["Preferences"]
    assert prefs["SalesFormsPrefs"]["CustomTxnNumbers"] is True


def test_demo_company_names(demo_api: Api) -> None:
    customers = demo_api.query("select * from Customer maxresults 1000")["Customer"]
    names = {c["FullyQualifiedName"] for c in customers}
    assert set(EXACT + NEAR + QBO_ONLY + PROJECTS) == names
    projects = [c for c in customers if c.get("Job")]
    assert all(c["IsProject"] and c["Level"] == 1 for c in projects)
    items = {i["Name"] for i in demo_api.query("select * from Item")["Item"]}
    assert {
        "Schematic Design",
        "Design Development",
        "Construction Documents",
        "Construction Administration",
        "Reimbursable Expenses",
        "Consultant Fees",
    } <= items
    accounts = {
        a["Name"] for a in demo_api.query("select * from Account maxresults 1000")["Account"]
    }
    assert {
        "Structural Engineering Consultants",
        "MEP Engineering Consultants",
        "Landscape Architecture Consultants",
        "Printing and Reproduction",
        "Travel",
        "Mileage",
        "Checking",
        "Job Expenses",
    } <= accounts
    vendors = {v["DisplayName"] for v in demo_api.query("select * from Vendor")["Vendor"]}
    assert {
        "Keller Structural Engineers",
        "Ampere MEP Consulting",
        "Verdant Landscape Studio",
        "Copy Corner Reprographics",
    } <= vendors


def test_demo_transactions_and_receipts(demo_api: Api, demo: SandboxServer) -> None:
    project_ids = {demo_api.find("Customer", p.split(":")[1])["Id"] for p in PROJECTS}
    purchases = demo_api.query("select * from Purchase")["Purchase"]
    bills = demo_api.query("select * from Bill")["Bill"]
    assert 13 <= len(purchases) + len(bills) <= 17
    for txn in purchases + bills:
        for line in txn["Line"]:
            detail = line["AccountBasedExpenseLineDetail"]
            assert detail["BillableStatus"] == "Billable"
            assert detail["CustomerRef"]["value"] in project_ids
        assert txn["TxnDate"] <= demo.clock.today().isoformat()
    invoices = {i["DocNumber"]: i for i in demo_api.query("select * from Invoice")["Invoice"]}
    assert sorted(invoices) == ["1001", "1002", "1003", "1004"]
    assert invoices["1001"]["Balance"] == 0
    assert 0 < invoices["1002"]["Balance"] < invoices["1002"]["TotalAmt"]
    assert invoices["1003"]["Balance"] == invoices["1003"]["TotalAmt"]
    payments = demo_api.query("select * from Payment")["Payment"]
    assert len(payments) == 2
    attachables = demo_api.query("select * from Attachable")["Attachable"]
    kinds = {a["ContentType"] for a in attachables}
    assert kinds == {"image/png", "application/pdf"}
    for attachable in attachables:
        data = requests.get(attachable["TempDownloadUri"], timeout=5).content
        assert len(data) == attachable["Size"]
        if attachable["ContentType"] == "image/png":
            assert data.startswith(b"\x89PNG\r\n\x1a\n") and data.endswith(b"IEND\xaeB`\x82")
        else:
            assert data.startswith(b"%PDF-1.4") and data.rstrip().endswith(b"%%EOF")
        target = attachable["AttachableRef"][0]["EntityRef"]
        assert target["type"] in ("Purchase", "Bill")
    totals = {
        c["DisplayName"]: c["BalanceWithJobs"]
        for c in demo_api.query("select * from Customer where Job = false")["Customer"]
    }
    assert totals["Riverside School District"] == invoices["1002"]["Balance"]
