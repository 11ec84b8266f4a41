"""Name lists and other lists: CRUD, sparse/full update, uniqueness, hierarchy, faults."""

from __future__ import annotations

from typing import Any

import requests

from factor_desktop.sandbox import SandboxServer

from .conftest import Api, invoice_body, new_customer


def test_create_read_customer_defaults(api: Api) -> None:
    created = new_customer(api, "Doe5, Jane")
    assert created["SyncToken"] == "0"
    assert created["FullyQualifiedName"] == created["PrintOnCheckName"] == "Doe5, Jane"
    assert created["Active"] is True and created["Job"] is False
    assert created["CurrencyRef"] == {"value": "USD", "name": "United States Dollar"}
    assert created["DefaultTaxCodeRef"] == {"value": "2"}
    assert "IsProject" not in created
    assert api.read("Customer", created["Id"]) == created


def test_full_and_sparse_update_increment_synctoken(api: Api) -> None:
    created = new_customer(api, "Jack Moe", PrimaryPhone={"FreeFormNumber": "1"}, Notes="n")
    full = api.create(
        "Customer",
        {
            "DisplayName": "Jack Moe",
            "PrimaryPhone": {"FreeFormNumber": "(415) 444-1234"},
            "Id": created["Id"],
            "SyncToken": "0",
        },
    )
    assert full["SyncToken"] == "1"
    assert full["PrimaryPhone"] == {"FreeFormNumber": "(415) 444-1234"}
    assert "Notes" not in full
    assert full["MetaData"]["CreateTime"] == created["MetaData"]["CreateTime"]
    sparse = api.create(
        "Customer",
        {"Id": created["Id"], "SyncToken": "1", "sparse": True, "Notes": "again"},
        operation="update",
    )
    assert sparse["SyncToken"] == "2"
    assert sparse["Notes"] == "again" and sparse["PrimaryPhone"] == full["PrimaryPhone"]


def test_stale_synctoken_is_5010(api: Api) -> None:
    created = new_customer(api, "Stale Co")
    api.create("Customer", {"Id": created["Id"], "SyncToken": "0", "sparse": True, "Notes": "x"})
    error = api.fault(
        api.post("customer", {"Id": created["Id"], "SyncToken": "0", "sparse": True, "Notes": "y"})
    )
    assert error["code"] == "5010"
    assert error["Message"] == "Stale Object Error"
    assert error["Detail"].startswith("Stale Object Error : You and ")
    assert "were working on this at the same time." in error["Detail"]
    assert error["element"] == ""


def test_duplicate_display_name_across_entities_and_inactive(api: Api) -> None:
    customer = new_customer(api, "Weiskopf Consulting")
    response = api.post("customer", {"DisplayName": "Weiskopf Consulting"})
    assert response.status_code == 400
    body = response.json()
    assert body["Fault"] == {
        "Error": [
            {
                "Message": "Duplicate Name Exists Error",
                "Detail": "The name supplied already exists. : null",
                "code": "6240",
            }
        ],
        "type": "ValidationFault",
    }
    assert "time" in body
    assert api.fault(api.post("vendor", {"DisplayName": "weiskopf consulting"}))["code"] == "6240"
    api.create(
        "Customer", {"Id": customer["Id"], "SyncToken": "0", "sparse": True, "Active": False}
    )
    assert api.fault(api.post("employee", {"DisplayName": "Weiskopf Consulting"}))["code"] == "6240"
    vendor = api.create("Vendor", {"DisplayName": "Boraski Family Store"})
    assert vendor["Vendor1099"] is False and vendor["Balance"] == 0
    assert (
        api.fault(api.post("customer", {"DisplayName": "Boraski Family Store"}))["code"] == "6240"
    )


def test_colon_in_display_name_is_refused(api: Api) -> None:
    error = api.fault(api.post("customer", {"DisplayName": "Rob:Barnett:Company"}))
    assert error["code"] == "2040"
    assert error["Detail"] == "Element contains invalid characters. Rob:Barnett:Company"


def test_sub_customers_hierarchy(api: Api) -> None:
    parent = new_customer(api, "Shara Barnett")
    child = new_customer(
        api,
        "Barnett Design",
        ParentRef={"value": parent["Id"]},
        BillWithParent=True,
        IsProject=True,
    )
    assert child["Job"] is True and child["Level"] == 1
    assert child["ParentRef"] == {"value": parent["Id"]}
    assert child["FullyQualifiedName"] == "Shara Barnett:Barnett Design"
    assert child["BillWithParent"] is True
    assert "IsProject" not in child
    level = child
    for depth in range(2, 5):
        level = new_customer(api, f"Level {depth}", ParentRef={"value": level["Id"]})
        assert level["Level"] == depth
    assert level["FullyQualifiedName"].count(":") == 4
    too_deep = api.post("customer", {"DisplayName": "Level 5", "ParentRef": {"value": level["Id"]}})
    assert api.fault(too_deep)["code"] == "6000"
    renamed = api.create(
        "Customer",
        {"Id": parent["Id"], "SyncToken": "0", "sparse": True, "DisplayName": "Shara Barnett-Lee"},
    )
    assert renamed["FullyQualifiedName"] == "Shara Barnett-Lee"
    assert api.read("Customer", child["Id"])["FullyQualifiedName"] == (
        "Shara Barnett-Lee:Barnett Design"
    )
    api.create(
        "Customer",
        {"Id": parent["Id"], "SyncToken": renamed["SyncToken"], "sparse": True, "Active": False},
    )
    assert api.read("Customer", child["Id"])["Active"] is False
    assert api.query("select * from Customer where Active = false")["maxResults"] == 5


def test_name_lists_cannot_be_deleted(api: Api) -> None:
    created = new_customer(api, "Keep Me")
    error = api.fault(
        api.post(
            "customer", {"Id": created["Id"], "SyncToken": "0"}, params={"operation": "delete"}
        )
    )
    assert error["code"] == "500" and error["Message"] == "Unsupported Operation"


def test_unknown_property_is_2010(api: Api) -> None:
    error = api.fault(api.post("invoice", {"BadJson": True}))
    assert error["code"] == "2010"
    assert error["Message"] == "Request has invalid or unsupported property"
    assert error["Detail"].startswith(
        'Property Name:Unrecognized field "BadJson" (class com.intuit.schema.finance.v3.Invoice)'
    )
    assert error["Detail"].endswith("specified is unsupported or invalid")


def test_invalid_id_and_unknown_path(api: Api, qbo: SandboxServer) -> None:
    response = api.get("customer/1.5")
    assert response.status_code == 400
    assert response.json() == {
        "Fault": {
            "Error": [
                {
                    "Message": "Invalid ID",
                    "Detail": "Id should be a valid number. Supplied value:1.5",
                    "code": "2030",
                    "element": "Id",
                }
            ],
            "type": "ValidationFault",
        }
    }
    unknown = api.get("customer/1/5")
    error = api.fault(unknown)
    assert error["code"] == "500" and error["Message"] == "Unsupported Operation"
    relative = f"/v3/company/{qbo.realm_id}/customer/1/5"
    assert error["Detail"] == (
        f"Operation Could not find resource for relative : {relative} of full path: "
        f"{qbo.base_url}{relative} is not supported."
    )
    assert "element" not in error
    assert api.fault(api.get("estimatez/1"))["code"] == "500"


def test_missing_object_is_610(api: Api) -> None:
    error = api.fault(api.get("customer/9999"))
    assert error["code"] == "610" and error["Message"] == "Object Not Found"


def test_item_and_account_crud(api: Api) -> None:
    income = api.find("Account", "Services")
    item = api.create(
        "Item",
        {
            "Name": "Site Visit",
            "Type": "Service",
            "UnitPrice": 125,
            "IncomeAccountRef": {"value": income["Id"]},
        },
    )
    assert item["FullyQualifiedName"] == "Site Visit"
    assert item["IncomeAccountRef"] == {"value": income["Id"], "name": "Services"}
    assert (
        api.fault(
            api.post(
                "item",
                {
                    "Name": "site visit",
                    "Type": "Service",
                    "IncomeAccountRef": {"value": income["Id"]},
                },
            )
        )["code"]
        == "6240"
    )
    assert api.fault(api.post("item", {"Name": "No Account", "Type": "Service"}))["code"] == "2020"
    account = api.create("Account", {"Name": "Model Making", "AccountType": "Expense"})
    assert account["Classification"] == "Expense"
    assert account["AccountSubType"]
    sub = api.create(
        "Account",
        {"Name": "Foam Board", "AccountType": "Expense", "ParentRef": {"value": account["Id"]}},
    )
    assert sub["SubAccount"] is True and sub["FullyQualifiedName"] == "Model Making:Foam Board"
    deactivated = api.create(
        "Account", {"Id": account["Id"], "SyncToken": "0", "sparse": True, "Active": False}
    )
    assert deactivated["Active"] is False
    rows = api.query("select * from Account where Name = 'Model Making'")
    assert rows == {}
    category = api.create("Item", {"Name": "Design Services", "Type": "Category"})
    customer = new_customer(api, "Category User")
    refused = api.post(
        "invoice",
        {
            "CustomerRef": {"value": customer["Id"]},
            "Line": [
                {
                    "Amount": 10,
                    "DetailType": "SalesItemLineDetail",
                    "SalesItemLineDetail": {"ItemRef": {"value": category["Id"]}},
                }
            ],
        },
    )
    error = api.fault(refused)
    assert error["code"] == "2500"
    assert error["Detail"] == "Invalid Reference Id : Categories cannot be used in transactions."


def test_terms_tax_codes_companyinfo_preferences(api: Api, qbo: SandboxServer) -> None:
    terms = api.query("select * from Term")["Term"]
    assert {t["Name"]: t["DueDays"] for t in terms} == {
        "Due on receipt": 0,
        "Net 15": 15,
        "Net 30": 30,
        "Net 60": 60,
    }
    codes = {c["Id"] for c in api.query("select * from TaxCode")["TaxCode"]}
    assert {"TAX", "NON", "2"} <= codes
    assert api.read("TaxCode", "2")["SalesTaxRateList"]["TaxRateDetail"][0]["TaxRateRef"]
    assert api.fault(api.post("taxcode", {"Name": "X"}))["code"] == "500"
    assert api.read("TaxRate", "1")["RateValue"] == 8.5
    info = api.ok(api.get(f"companyinfo/{qbo.realm_id}"))["CompanyInfo"]
    assert info["CompanyName"] == qbo.company_name and info["Id"] == "1"
    prefs = api.ok(api.get("preferences"))["Preferences"]
    assert prefs["SalesFormsPrefs"]["CustomTxnNumbers"] is True
    assert prefs["TaxPrefs"] == {"UsingSalesTax": True, "PartnerTaxEnabled": False}
    assert prefs["CurrencyPrefs"]["MultiCurrencyEnabled"] is False
    updated = api.ok(
        api.post(
            "preferences",
            {
                "Id": "1",
                "SyncToken": prefs["SyncToken"],
                "sparse": True,
                "SalesFormsPrefs": {"CustomTxnNumbers": False},
            },
        )
    )["Preferences"]
    assert updated["SalesFormsPrefs"]["CustomTxnNumbers"] is False
    assert updated["SalesFormsPrefs"]["CustomField"] == prefs["SalesFormsPrefs"]["CustomField"]


def test_admin_preferences_endpoint(qbo: SandboxServer, api: Api) -> None:
    admin = f"{qbo.base_url}/_sandbox/admin/preferences"
    answer = requests.post(
        admin,
        json={"custom_fields": {"2": "Phase"}, "CurrencyPrefs": {"MultiCurrencyEnabled": True}},
        timeout=5,
    )
    assert answer.status_code == 200
    prefs = api.ok(api.get("preferences"))["Preferences"]
    assert prefs["CurrencyPrefs"]["MultiCurrencyEnabled"] is True
    names = [f["StringValue"] for f in prefs["SalesFormsPrefs"]["CustomField"][1]["CustomField"]]
    assert names == ["Crew #", "Phase"]
    bad = requests.post(admin, json={"NoSuchPrefs": {}}, timeout=5)
    assert bad.status_code == 400


def test_deactivating_a_customer_with_an_open_balance_is_refused(api: Api) -> None:
    owing = new_customer(api, "Owing Customer")
    invoice = api.create("Invoice", invoice_body(owing["Id"], 100.0))
    owing = api.read("Customer", owing["Id"])
    sparse = api.post(
        "customer",
        {"Id": owing["Id"], "SyncToken": owing["SyncToken"], "sparse": True, "Active": False},
    )
    error = api.fault(sparse)
    assert error == {
        "Message": "Delete List Has Balance Error",
        "Detail": "The entity you are trying to delete has an open balance. : This customer "
        "cannot be deleted because it has a non-zero balance",
        "code": "6000",
        "element": "",
    }
    full = {**owing, "Active": False}
    assert api.fault(api.post("customer", full)) == error
    batch = api.ok(
        api.post(
            "batch",
            {"BatchItemRequest": [{"bId": "1", "operation": "update", "Customer": full}]},
        )
    )
    assert batch["BatchItemResponse"][0]["Fault"]["Error"][0] == error
    still = api.read("Customer", owing["Id"])
    assert still["Active"] is True and still["SyncToken"] == owing["SyncToken"]

    parent = new_customer(api, "Quiet Parent")
    job = new_customer(api, "Busy Job", ParentRef={"value": parent["Id"]})
    grandchild = new_customer(api, "Busy Phase", ParentRef={"value": job["Id"]})
    api.create("Invoice", invoice_body(grandchild["Id"], 40.0))
    parent = api.read("Customer", parent["Id"])
    assert parent["Balance"] == 0 and parent["BalanceWithJobs"] == 40.0
    refused = api.post(
        "customer",
        {"Id": parent["Id"], "SyncToken": parent["SyncToken"], "sparse": True, "Active": False},
    )
    assert api.fault(refused) == error
    assert api.read("Customer", job["Id"])["Active"] is True

    api.create(
        "Payment",
        {
            "CustomerRef": {"value": owing["Id"]},
            "TotalAmt": 100.0,
            "Line": [
                {"Amount": 100.0, "LinkedTxn": [{"TxnId": invoice["Id"], "TxnType": "Invoice"}]}
            ],
        },
    )
    paid = api.read("Customer", owing["Id"])
    assert paid["Balance"] == 0
    closed = api.create(
        "Customer",
        {"Id": paid["Id"], "SyncToken": paid["SyncToken"], "sparse": True, "Active": False},
    )
    assert closed["Active"] is False


def test_deactivated_names_get_the_deleted_suffix(api: Api) -> None:
    parent = new_customer(api, "Rondonuwu Fruit")
    child = new_customer(api, "Orchard Job", ParentRef={"value": parent["Id"]})
    done = api.create(
        "Customer", {"Id": parent["Id"], "SyncToken": "0", "sparse": True, "Active": False}
    )
    assert done["DisplayName"] == done["FullyQualifiedName"] == "Rondonuwu Fruit (deleted)"
    assert done["PrintOnCheckName"] == "Rondonuwu Fruit"
    job = api.read("Customer", child["Id"])
    assert job["Active"] is False and job["SyncToken"] == "1"
    assert job["DisplayName"] == "Orchard Job (deleted)"
    assert job["FullyQualifiedName"] == "Rondonuwu Fruit (deleted):Orchard Job (deleted)"
    rows = api.query("select * from Customer where Active = false")["Customer"]
    assert {row["DisplayName"] for row in rows} == {
        "Rondonuwu Fruit (deleted)",
        "Orchard Job (deleted)",
    }
    assert api.fault(api.post("vendor", {"DisplayName": "Rondonuwu Fruit"}))["code"] == "6240"
    # python-quickbooks saves back every property it read: the suffixed name means the plain one.
    echoed = api.create("Customer", {**done, "Notes": "still closed"})
    assert echoed["DisplayName"] == "Rondonuwu Fruit (deleted)"
    assert echoed["Notes"] == "still closed"
    back = api.create("Customer", {**echoed, "Active": True})
    assert back["DisplayName"] == back["FullyQualifiedName"] == "Rondonuwu Fruit"
    assert api.read("Customer", child["Id"])["FullyQualifiedName"] == (
        "Rondonuwu Fruit:Orchard Job (deleted)"
    )

    vendor = api.create("Vendor", {"DisplayName": "United States Treasury"})
    gone = api.create(
        "Vendor", {"Id": vendor["Id"], "SyncToken": "0", "sparse": True, "Active": False}
    )
    assert gone["DisplayName"] == "United States Treasury (deleted)"
    assert gone["PrintOnCheckName"] == "United States Treasury"
    income = api.find("Account", "Services")
    item = api.create(
        "Item", {"Name": "Drafting", "Type": "Service", "IncomeAccountRef": {"value": income["Id"]}}
    )
    retired = api.create(
        "Item", {"Id": item["Id"], "SyncToken": "0", "sparse": True, "Active": False}
    )
    assert retired["Name"] == retired["FullyQualifiedName"] == "Drafting (deleted)"
    clash = api.post(
        "item", {"Name": "drafting", "Type": "Service", "IncomeAccountRef": {"value": income["Id"]}}
    )
    assert api.fault(clash)["code"] == "6240"
    term = api.find("Term", "Net 60")
    closed_term = api.create(
        "Term", {"Id": term["Id"], "SyncToken": term["SyncToken"], "sparse": True, "Active": False}
    )
    assert closed_term["Name"] == "Net 60"


def test_unknown_property_in_a_line_or_its_detail_is_2010(api: Api) -> None:
    customer = new_customer(api, "Line Checks")
    body = invoice_body(customer["Id"], 10.0)
    body["Line"][0]["Colour"] = "red"
    error = api.fault(api.post("invoice", body))
    assert error["code"] == "2010"
    assert error["Message"] == "Request has invalid or unsupported property"
    assert error["Detail"].startswith(
        'Property Name:Unrecognized field "Colour" (class com.intuit.schema.finance.v3.Line), '
        "not marked as ignorable ("
    )
    body = invoice_body(customer["Id"], 10.0)
    body["Line"][0]["SalesItemLineDetail"]["Rate"] = 10
    error = api.fault(api.post("invoice", body))
    assert error["code"] == "2010"
    assert '"Rate" (class com.intuit.schema.finance.v3.SalesItemLineDetail)' in error["Detail"]
    assert '"UnitPrice"' in error["Detail"]
    expense = {
        "PaymentType": "Cash",
        "AccountRef": {"value": api.find("Account", "Checking")["Id"]},
        "Line": [
            {
                "Amount": 5.0,
                "DetailType": "AccountBasedExpenseLineDetail",
                "AccountBasedExpenseLineDetail": {
                    "AccountRef": {"value": api.find("Account", "Travel")["Id"]},
                    "Billable": True,
                },
            }
        ],
    }
    error = api.fault(api.post("purchase", expense))
    assert (
        '"Billable" (class com.intuit.schema.finance.v3.AccountBasedExpenseLineDetail)'
        in (error["Detail"])
    )
    payment = {
        "CustomerRef": {"value": customer["Id"]},
        "TotalAmt": 1.0,
        "Line": [{"Amount": 1.0, "LinkedTxns": []}],
    }
    assert (
        '"LinkedTxns" (class com.intuit.schema.finance.v3.Line)'
        in (api.fault(api.post("payment", payment))["Detail"])
    )
    assert api.query("select count(*) from Invoice") == {"totalCount": 0}
    assert api.query("select count(*) from Purchase") == {"totalCount": 0}


def test_python_quickbooks_line_defaults_are_accepted(api: Api) -> None:
    customer = new_customer(api, "PQB Customer")
    # A SalesItemLine as python-quickbooks serialises it when only Amount and ItemRef are set
    # (its null defaults left in, as a client that does not filter them sends them).
    line: dict[str, Any] = {
        "Id": None,
        "LineNum": 0,
        "Description": "description",
        "Amount": 100,
        "DetailType": "SalesItemLineDetail",
        "LinkedTxn": [],
        "CustomField": [],
        "SalesItemLineDetail": {
            "UnitPrice": 0,
            "Qty": 0,
            "ServiceDate": "",
            "MarkupInfo": None,
            "ItemRef": {"value": "1", "name": "Services", "type": ""},
            "ClassRef": None,
            "TaxCodeRef": None,
            "PriceLevelRef": None,
        },
    }
    subtotal = {"Amount": 0, "DetailType": "SubTotalLineDetail", "SubtotalLineDetail": None}
    invoice = api.create(
        "Invoice",
        {
            "CustomerRef": {"value": customer["Id"], "name": "", "type": ""},
            "Line": [line, subtotal],
            "SyncToken": 0,
            "sparse": False,
            "domain": "QBO",
        },
    )
    assert invoice["TotalAmt"] == 100.0 and invoice["Line"][0]["Amount"] == 100.0
    echoed = api.create("Invoice", {**invoice, "PrivateNote": "saved back"})
    assert echoed["SyncToken"] == "1" and echoed["TotalAmt"] == 100.0


def test_an_update_that_changes_nothing_keeps_the_synctoken(api: Api) -> None:
    customer = api.create("Customer", {"DisplayName": "Quiet Update Co", "Notes": "first"})
    same = api.ok(
        api.post(
            "customer",
            {"Id": customer["Id"], "SyncToken": "0", "sparse": True, "Notes": "first"},
        )
    )["Customer"]
    assert same["SyncToken"] == "0"
    assert same["MetaData"]["LastUpdatedTime"] == customer["MetaData"]["LastUpdatedTime"]
    changed = api.ok(
        api.post(
            "customer",
            {"Id": customer["Id"], "SyncToken": "0", "sparse": True, "Notes": "second"},
        )
    )["Customer"]
    assert changed["SyncToken"] == "1" and changed["Notes"] == "second"
