"""Invoices, payments, purchases and bills: totals, numbering, links, void and delete."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from factor_desktop.sandbox import SandboxServer

from .conftest import Api, invoice_body, new_customer

ADDRESS = {
    "Line1": "4581 Finch St.",
    "City": "Bayshore",
    "CountrySubDivisionCode": "CA",
    "PostalCode": "94326",
}


def customer_with_address(api: Api, name: str = "Amy's Bird Sanctuary") -> dict[str, Any]:
    return new_customer(
        api,
        name,
        BillAddr=ADDRESS,
        ShipAddr=ADDRESS,
        PrimaryEmailAddr={"Address": "amy@example.com"},
    )


def test_invoice_create_fills_what_qbo_fills(api: Api, qbo: SandboxServer) -> None:
    customer = customer_with_address(api)
    invoice = api.create("Invoice", invoice_body(customer["Id"], 100.0))
    assert invoice["DocNumber"] == "1001"
    today = qbo.clock.today()
    assert invoice["TxnDate"] == today.isoformat()
    assert invoice["DueDate"] == (today + timedelta(days=30)).isoformat()
    assert invoice["CustomerRef"] == {"value": customer["Id"], "name": "Amy's Bird Sanctuary"}
    assert invoice["BillAddr"] == ADDRESS and invoice["ShipAddr"] == ADDRESS
    assert invoice["BillEmail"] == {"Address": "amy@example.com"}
    first, subtotal = invoice["Line"]
    assert first["Id"] == "1" and first["LineNum"] == 1
    assert first["SalesItemLineDetail"]["TaxCodeRef"] == {"value": "NON"}
    assert first["SalesItemLineDetail"]["ItemRef"] == {"value": "1", "name": "Services"}
    assert subtotal == {
        "Amount": 100.0,
        "DetailType": "SubTotalLineDetail",
        "SubTotalLineDetail": {},
    }
    assert invoice["TxnTaxDetail"] == {"TotalTax": 0}
    assert invoice["TotalAmt"] == invoice["Balance"] == 100.0
    assert invoice["CustomField"] == [{"DefinitionId": "1", "Name": "Crew #", "Type": "StringType"}]
    assert invoice["LinkedTxn"] == []
    assert invoice["PrintStatus"] == "NeedToPrint" and invoice["EmailStatus"] == "NotSet"
    second = api.create("Invoice", invoice_body(customer["Id"], 5.0))
    assert second["DocNumber"] == "1002"
    assert api.read("Customer", customer["Id"])["Balance"] == 105.0


def test_doc_number_sequence_duplicates_and_override(api: Api) -> None:
    customer = new_customer(api, "Doc Numbers")
    body = invoice_body(customer["Id"], 10.0)
    api.create("Invoice", {**body, "DocNumber": "INV-0099"})
    assert api.create("Invoice", body)["DocNumber"] == "INV-0100"
    clash = api.post("invoice", {**body, "DocNumber": "INV-0099"})
    error = api.fault(clash)
    assert error["code"] == "6140"
    assert error["Message"] == "Duplicate Document Number Error"
    assert error["Detail"].startswith(
        "Duplicate Document Number Error : You must specify a different number. This number has "
        "already been used. DocNumber=INV-0099 is assigned to TxnType=Invoice with TxnId="
    )
    allowed = api.create(
        "Invoice", {**body, "DocNumber": "INV-0099"}, include="allowduplicatedocnum"
    )
    assert allowed["DocNumber"] == "INV-0099"


def test_amount_must_equal_price_times_qty(api: Api) -> None:
    customer = new_customer(api, "Math Check")
    body = invoice_body(customer["Id"], 58.0)
    body["Line"][0]["SalesItemLineDetail"].update({"UnitPrice": 20, "Qty": 3})
    error = api.fault(api.post("invoice", body))
    assert (error["code"], error["element"]) == ("6070", "Line.Amount")
    assert error["Detail"] == "Amount is not equal to UnitPrice * Qty. Supplied value:58"
    body["Line"][0]["Amount"] = 60
    line = api.create("Invoice", body)["Line"][0]
    assert line["SalesItemLineDetail"]["UnitPrice"] == 20 and line["Amount"] == 60.0


def test_terms_custom_fields_and_sales_tax(api: Api) -> None:
    net15 = api.find("Term", "Net 15")
    customer = new_customer(api, "Taxed Customer")
    body = invoice_body(customer["Id"], 100.0, 50.0)
    body["TxnDate"] = "2024-03-01"
    body["SalesTermRef"] = {"value": net15["Id"]}
    body["Line"][0]["SalesItemLineDetail"]["TaxCodeRef"] = {"value": "TAX"}
    body["TxnTaxDetail"] = {"TxnTaxCodeRef": {"value": "2"}}
    body["CustomField"] = [{"DefinitionId": "1", "StringValue": "Crew 7", "Type": "StringType"}]
    invoice = api.create("Invoice", body)
    assert invoice["DueDate"] == "2024-03-16"
    assert invoice["SalesTermRef"] == {"value": net15["Id"], "name": "Net 15"}
    assert invoice["CustomField"][0]["StringValue"] == "Crew 7"
    tax = invoice["TxnTaxDetail"]
    assert tax["TxnTaxCodeRef"] == {"value": "2"} and tax["TotalTax"] == 8.5
    assert tax["TaxLine"] == [
        {
            "Amount": 8.5,
            "DetailType": "TaxLineDetail",
            "TaxLineDetail": {
                "TaxRateRef": {"value": "1"},
                "PercentBased": True,
                "TaxPercent": 8.5,
                "NetAmountTaxable": 100.0,
            },
        }
    ]
    assert invoice["Line"][-1]["Amount"] == 150.0
    assert invoice["TotalAmt"] == 158.5


def test_references_must_exist_and_be_active(api: Api) -> None:
    error = api.fault(api.post("invoice", invoice_body("4040", 10.0)))
    assert error["code"] == "2500" and error["Message"] == "Invalid Reference Id"
    gone = new_customer(api, "Gone Customer")
    api.create("Customer", {"Id": gone["Id"], "SyncToken": "0", "sparse": True, "Active": False})
    error = api.fault(api.post("invoice", invoice_body(gone["Id"], 10.0)))
    assert error["code"] == "610"
    assert error["Detail"] == (
        "Object Not Found : Something you're trying to use has been made inactive. Check the "
        "fields with accounts, customers, items, vendors or employees."
    )
    assert api.fault(api.post("invoice", {"Line": []}))["code"] == "2020"


def test_payments_apply_partially_fully_and_restore(api: Api) -> None:
    customer = new_customer(api, "Paying Customer")
    first = api.create("Invoice", invoice_body(customer["Id"], 300.0))
    second = api.create("Invoice", invoice_body(customer["Id"], 200.0))
    payment = api.create(
        "Payment",
        {
            "CustomerRef": {"value": customer["Id"]},
            "TotalAmt": 450.0,
            "Line": [
                {"Amount": 300.0, "LinkedTxn": [{"TxnId": first["Id"], "TxnType": "Invoice"}]},
                {"Amount": 100.0, "LinkedTxn": [{"TxnId": second["Id"], "TxnType": "Invoice"}]},
            ],
        },
    )
    assert payment["UnappliedAmt"] == 50.0
    assert payment["DepositToAccountRef"]["value"] == api.find("Account", "Undeposited Funds")["Id"]
    paid = api.read("Invoice", first["Id"])
    assert paid["Balance"] == 0 and paid["SyncToken"] == "1"
    assert paid["LinkedTxn"] == [{"TxnId": payment["Id"], "TxnType": "Payment"}]
    assert api.read("Invoice", second["Id"])["Balance"] == 100.0
    assert api.read("Customer", customer["Id"])["Balance"] == 50.0
    over = api.post(
        "payment",
        {
            "CustomerRef": {"value": customer["Id"]},
            "TotalAmt": 150.0,
            "Line": [
                {"Amount": 150.0, "LinkedTxn": [{"TxnId": second["Id"], "TxnType": "Invoice"}]}
            ],
        },
    )
    assert api.fault(over)["code"] == "6000"
    deleted = api.ok(
        api.post("payment", {"Id": payment["Id"], "SyncToken": "0"}, params={"operation": "delete"})
    )["Payment"]
    assert deleted == {"domain": "QBO", "status": "Deleted", "Id": payment["Id"]}
    restored = api.read("Invoice", first["Id"])
    assert restored["Balance"] == 300.0 and restored["LinkedTxn"] == []
    assert api.read("Invoice", second["Id"])["Balance"] == 200.0
    assert api.read("Customer", customer["Id"])["Balance"] == 500.0


def test_void_payment_restores_invoice(api: Api) -> None:
    customer = new_customer(api, "Void Payer")
    invoice = api.create("Invoice", invoice_body(customer["Id"], 80.0))
    payment = api.create(
        "Payment",
        {
            "CustomerRef": {"value": customer["Id"]},
            "TotalAmt": 80.0,
            "PrivateNote": "check 12",
            "Line": [
                {"Amount": 80.0, "LinkedTxn": [{"TxnId": invoice["Id"], "TxnType": "Invoice"}]}
            ],
        },
    )
    assert api.read("Invoice", invoice["Id"])["Balance"] == 0
    voided = api.ok(
        api.post(
            "payment",
            {"Id": payment["Id"], "SyncToken": "0", "sparse": True},
            params={"operation": "update", "include": "void"},
        )
    )["Payment"]
    assert voided["TotalAmt"] == 0 and voided["SyncToken"] == "1"
    assert voided["PrivateNote"].startswith("Voided")
    assert api.read("Invoice", invoice["Id"])["Balance"] == 80.0


def test_void_and_delete_invoice(api: Api) -> None:
    customer = new_customer(api, "Void Customer")
    invoice = api.create("Invoice", invoice_body(customer["Id"], 100.0))
    voided = api.ok(
        api.post("invoice", {"Id": invoice["Id"], "SyncToken": "0"}, params={"operation": "void"})
    )["Invoice"]
    assert voided["SyncToken"] == "1" and voided["PrivateNote"] == "Voided"
    assert voided["TotalAmt"] == 0 and voided["Balance"] == 0
    assert [line["Amount"] for line in voided["Line"]] == [0, 0]
    assert voided["DocNumber"] == invoice["DocNumber"]
    other = api.create("Invoice", invoice_body(customer["Id"], 40.0))
    stub = api.ok(
        api.post("invoice", {"Id": other["Id"], "SyncToken": "0"}, params={"operation": "delete"})
    )
    assert stub["Invoice"] == {"domain": "QBO", "status": "Deleted", "Id": other["Id"]}
    assert api.query(f"select * from Invoice where Id = '{other['Id']}'") == {}
    again = api.fault(
        api.post("invoice", {"Id": other["Id"], "SyncToken": "0"}, params={"operation": "delete"})
    )
    assert again["code"] == "610"
    assert again["Detail"] == "Object Not Found : Another user has deleted this transaction."
    update = api.fault(
        api.post(
            "invoice", {**invoice_body(customer["Id"], 1.0), "Id": other["Id"], "SyncToken": "0"}
        )
    )
    assert update["Detail"] == "Object Not Found : Another user has deleted this transaction."
    assert api.fault(api.get(f"invoice/{other['Id']}"))["code"] == "610"
    assert api.read("Customer", customer["Id"])["Balance"] == 0


def test_sparse_invoice_update_keeps_lines_and_recomputes(api: Api) -> None:
    customer = new_customer(api, "Sparse Invoice")
    invoice = api.create("Invoice", invoice_body(customer["Id"], 100.0))
    updated = api.create(
        "Invoice", {"Id": invoice["Id"], "SyncToken": "0", "sparse": True, "PrivateNote": "Phase 1"}
    )
    assert updated["Line"] == invoice["Line"] and updated["PrivateNote"] == "Phase 1"
    lines = [
        *updated["Line"][:1],
        {
            "Amount": 25.0,
            "DetailType": "SalesItemLineDetail",
            "SalesItemLineDetail": {"ItemRef": {"value": "1"}},
        },
    ]
    grown = api.create(
        "Invoice", {"Id": invoice["Id"], "SyncToken": "1", "sparse": True, "Line": lines}
    )
    assert [line.get("Id") for line in grown["Line"]] == ["1", "2", None]
    assert grown["TotalAmt"] == 125.0 and grown["Balance"] == 125.0


def test_purchase_and_bill(api: Api, qbo: SandboxServer) -> None:
    customer = new_customer(api, "Billable Client")
    vendor = api.create("Vendor", {"DisplayName": "Keller Structural"})
    card = api.find("Account", "Mastercard")
    travel = api.find("Account", "Travel")
    line = {
        "Amount": 120.5,
        "DetailType": "AccountBasedExpenseLineDetail",
        "AccountBasedExpenseLineDetail": {
            "AccountRef": {"value": travel["Id"]},
            "CustomerRef": {"value": customer["Id"]},
            "BillableStatus": "Billable",
        },
    }
    purchase = api.create(
        "Purchase",
        {
            "PaymentType": "CreditCard",
            "AccountRef": {"value": card["Id"]},
            "EntityRef": {"value": vendor["Id"], "type": "Vendor"},
            "Line": [line, line],
        },
    )
    assert purchase["TotalAmt"] == 241.0 and purchase["Credit"] is False
    detail = purchase["Line"][0]["AccountBasedExpenseLineDetail"]
    assert detail["CustomerRef"] == {"value": customer["Id"], "name": "Billable Client"}
    assert detail["AccountRef"] == {"value": travel["Id"], "name": "Travel"}
    assert detail["BillableStatus"] == "Billable" and detail["TaxCodeRef"] == {"value": "NON"}
    assert purchase["EntityRef"] == {
        "value": vendor["Id"],
        "name": "Keller Structural",
        "type": "Vendor",
    }
    assert (
        api.fault(api.post("purchase", {"AccountRef": {"value": card["Id"]}, "Line": [line]}))[
            "code"
        ]
        == "2020"
    )
    assert (
        api.fault(api.post("purchase", {"PaymentType": "Check", "Line": [line]}))["code"] == "2020"
    )
    net30 = api.find("Term", "Net 30")
    bill = api.create(
        "Bill",
        {
            "VendorRef": {"value": vendor["Id"]},
            "TxnDate": "2024-05-01",
            "SalesTermRef": {"value": net30["Id"]},
            "Line": [line],
        },
    )
    assert bill["TotalAmt"] == bill["Balance"] == 120.5
    assert bill["DueDate"] == "2024-05-31"
    assert bill["APAccountRef"]["name"] == "Accounts Payable (A/P)"
    assert api.read("Vendor", vendor["Id"])["Balance"] == 120.5
    stub = api.ok(
        api.post("bill", {"Id": bill["Id"], "SyncToken": "0"}, params={"operation": "delete"})
    )["Bill"]
    assert stub["status"] == "Deleted"
    assert api.read("Vendor", vendor["Id"])["Balance"] == 0
    items = api.create(
        "Item",
        {
            "Name": "Plotter Paper",
            "Type": "Service",
            "IncomeAccountRef": {"value": api.find("Account", "Services")["Id"]},
        },
    )
    item_line = {
        "Amount": 30,
        "DetailType": "ItemBasedExpenseLineDetail",
        "ItemBasedExpenseLineDetail": {
            "ItemRef": {"value": items["Id"]},
            "UnitPrice": 10,
            "Qty": 3,
        },
    }
    check = api.create(
        "Purchase",
        {
            "PaymentType": "Check",
            "AccountRef": {"value": api.find("Account", "Checking")["Id"]},
            "Line": [item_line],
        },
    )
    assert check["TotalAmt"] == 30.0
    assert date.fromisoformat(check["TxnDate"]) == qbo.clock.today()


def test_doc_numbers_are_assigned_when_custom_numbers_are_off(api: Api, qbo: SandboxServer) -> None:
    customer = new_customer(api, "Auto Numbered")
    qbo.update_preferences({"SalesFormsPrefs": {"CustomTxnNumbers": False}})
    first = api.create("Invoice", {**invoice_body(customer["Id"], 1.0), "DocNumber": "X-9"})
    second = api.create("Invoice", {**invoice_body(customer["Id"], 2.0), "DocNumber": "X-9"})
    assert (first["DocNumber"], second["DocNumber"]) == ("1001", "1002")
    qbo.update_preferences({"custom_fields": {"1": None}})
    assert api.create("Invoice", invoice_body(customer["Id"], 3.0))["CustomField"] == []


def changed(api: Api, entities: str, since: datetime) -> dict[str, list[dict[str, Any]]]:
    """CDC answer by entity name."""
    answer = api.ok(
        api.get("cdc", params={"entities": entities, "changedSince": since.isoformat()})
    )
    out: dict[str, list[dict[str, Any]]] = {}
    for block in answer["CDCResponse"][0]["QueryResponse"]:
        for key, rows in block.items():
            if key not in ("startPosition", "maxResults"):
                out[key] = rows
    return out


def test_balance_changes_are_changes_to_the_customer(api: Api, qbo: SandboxServer) -> None:
    customer = new_customer(api, "Balance Watcher")
    parent = new_customer(api, "Watcher Parent")
    job = new_customer(api, "Watcher Job", ParentRef={"value": parent["Id"]})
    qbo.clock.advance(60)
    since = qbo.clock.now()
    qbo.clock.advance(1)
    invoice = api.create("Invoice", invoice_body(customer["Id"], 100.0))
    owed = api.read("Customer", customer["Id"])
    assert owed["Balance"] == 100.0 and owed["SyncToken"] == "1"
    assert datetime.fromisoformat(owed["MetaData"]["LastUpdatedTime"]) > since
    assert owed["MetaData"]["CreateTime"] == customer["MetaData"]["CreateTime"]
    stale = api.post(
        "customer", {"Id": customer["Id"], "SyncToken": "0", "sparse": True, "Notes": "x"}
    )
    assert api.fault(stale)["code"] == "5010"
    assert changed(api, "Customer", since) == {"Customer": [owed]}
    api.create(
        "Payment",
        {
            "CustomerRef": {"value": customer["Id"]},
            "TotalAmt": 40.0,
            "Line": [
                {"Amount": 40.0, "LinkedTxn": [{"TxnId": invoice["Id"], "TxnType": "Invoice"}]}
            ],
        },
    )
    paid = api.read("Customer", customer["Id"])
    assert paid["Balance"] == 60.0 and paid["SyncToken"] == "2"
    invoice = api.read("Invoice", invoice["Id"])
    api.create(
        "Invoice",
        {
            "Id": invoice["Id"],
            "SyncToken": invoice["SyncToken"],
            "sparse": True,
            "PrivateNote": "n",
        },
    )
    assert api.read("Customer", customer["Id"]) == paid
    api.create("Invoice", invoice_body(job["Id"], 25.0))
    job_now = api.read("Customer", job["Id"])
    parent_now = api.read("Customer", parent["Id"])
    assert (job_now["Balance"], job_now["SyncToken"]) == (25.0, "1")
    assert (parent_now["Balance"], parent_now["BalanceWithJobs"]) == (0, 25.0)
    assert parent_now["SyncToken"] == "1"
    rows = changed(api, "Customer", since)["Customer"]
    assert {row["Id"]: row["SyncToken"] for row in rows} == {
        customer["Id"]: "2",
        parent["Id"]: "1",
        job["Id"]: "1",
    }


def test_deleting_purchases_and_bills(api: Api, qbo: SandboxServer) -> None:
    customer = new_customer(api, "Expense Client")
    vendor = api.create("Vendor", {"DisplayName": "Paper Supply Co"})
    line = {
        "Amount": 50.0,
        "DetailType": "AccountBasedExpenseLineDetail",
        "AccountBasedExpenseLineDetail": {
            "AccountRef": {"value": api.find("Account", "Travel")["Id"]},
            "CustomerRef": {"value": customer["Id"]},
            "BillableStatus": "Billable",
        },
    }
    card = {
        "PaymentType": "CreditCard",
        "AccountRef": {"value": api.find("Account", "Mastercard")["Id"]},
        "EntityRef": {"value": vendor["Id"], "type": "Vendor"},
    }
    kept = api.create("Purchase", {**card, "Line": [line]})
    doomed = api.create("Purchase", {**card, "DocNumber": "CC-7", "Line": [line, line]})
    kept_bill = api.create("Bill", {"VendorRef": {"value": vendor["Id"]}, "Line": [line]})
    doomed_bill = api.create("Bill", {"VendorRef": {"value": vendor["Id"]}, "Line": [line, line]})
    owed = api.read("Vendor", vendor["Id"])
    assert (owed["Balance"], owed["SyncToken"]) == (150.0, "2")
    client = api.read("Customer", customer["Id"])
    since = qbo.clock.now()
    qbo.clock.advance(1)

    stale = api.post(
        "purchase", {"Id": doomed["Id"], "SyncToken": "3"}, params={"operation": "delete"}
    )
    assert api.fault(stale)["code"] == "5010"
    assert api.read("Purchase", doomed["Id"]) == doomed
    stub = api.ok(
        api.post("purchase", {"Id": doomed["Id"], "SyncToken": "0"}, params={"operation": "delete"})
    )["Purchase"]
    assert stub == {"domain": "QBO", "status": "Deleted", "Id": doomed["Id"]}
    assert api.fault(api.get(f"purchase/{doomed['Id']}"))["code"] == "610"
    gone = "Object Not Found : Another user has deleted this transaction."
    again = api.post(
        "purchase", {"Id": doomed["Id"], "SyncToken": "0"}, params={"operation": "delete"}
    )
    assert api.fault(again)["Detail"] == gone
    assert api.fault(api.post("purchase", doomed))["Detail"] == gone
    assert api.fault(api.post("purchase", {**doomed, "sparse": True}))["Detail"] == gone
    assert [row["Id"] for row in api.query("select * from Purchase")["Purchase"]] == [kept["Id"]]
    assert api.read("Purchase", kept["Id"]) == kept
    assert api.read("Vendor", vendor["Id"]) == owed
    assert api.read("Customer", customer["Id"]) == client

    deleted = api.ok(
        api.post(
            "bill", {"Id": doomed_bill["Id"], "SyncToken": "0"}, params={"operation": "delete"}
        )
    )["Bill"]
    assert deleted == {"domain": "QBO", "status": "Deleted", "Id": doomed_bill["Id"]}
    assert api.fault(api.get(f"bill/{doomed_bill['Id']}"))["code"] == "610"
    assert api.fault(api.post("bill", doomed_bill))["Detail"] == gone
    assert api.read("Bill", kept_bill["Id"]) == kept_bill
    assert [row["Id"] for row in api.query("select * from Bill")["Bill"]] == [kept_bill["Id"]]
    settled = api.read("Vendor", vendor["Id"])
    assert (settled["Balance"], settled["SyncToken"]) == (50.0, "3")
    assert api.read("Customer", customer["Id"]) == client

    rows = changed(api, "Purchase,Bill,Vendor,Customer", since)
    assert set(rows) == {"Purchase", "Bill", "Vendor"}
    (purchase_stub,) = rows["Purchase"]
    assert {k: v for k, v in purchase_stub.items() if k != "MetaData"} == stub
    assert set(purchase_stub["MetaData"]) == {"LastUpdatedTime"}
    assert [row["Id"] for row in rows["Bill"]] == [doomed_bill["Id"]]
    assert rows["Bill"][0]["status"] == "Deleted"
    assert rows["Vendor"] == [settled]
