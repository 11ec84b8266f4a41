"""Starting companies: ``empty`` (a new US company) and ``demo`` (an architecture firm).

Dates in the demo are relative to the sandbox clock's today, so the company always looks
current.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

from .attachments import Part, Upload, store_upload
from .clock import format_datetime
from .entities import BY_NAME
from .receipts import receipt_pdf, receipt_png
from .store import JsonDict, Record

if TYPE_CHECKING:
    from .core import Sandbox

# (Name, AccountType, AccountSubType): QBO's chart of accounts for a new US service company.
DEFAULT_ACCOUNTS: list[tuple[str, str, str]] = [
    ("Services", "Income", "ServiceFeeIncome"),
    ("Checking", "Bank", "Checking"),
    ("Savings", "Bank", "Savings"),
    ("Accounts Receivable (A/R)", "Accounts Receivable", "AccountsReceivable"),
    ("Undeposited Funds", "Other Current Asset", "UndepositedFunds"),
    ("Prepaid Expenses", "Other Current Asset", "PrepaidExpenses"),
    ("Furniture and Equipment", "Fixed Asset", "FurnitureAndFixtures"),
    ("Accounts Payable (A/P)", "Accounts Payable", "AccountsPayable"),
    ("Mastercard", "Credit Card", "CreditCard"),
    ("Sales Tax Payable", "Other Current Liability", "SalesTaxPayable"),
    ("Opening Balance Equity", "Equity", "OpeningBalanceEquity"),
    ("Owner's Investment", "Equity", "OwnersEquity"),
    ("Retained Earnings", "Equity", "RetainedEarnings"),
    ("Sales of Product Income", "Income", "SalesOfProductIncome"),
    ("Billable Expense Income", "Income", "OtherPrimaryIncome"),
    ("Uncategorized Income", "Income", "ServiceFeeIncome"),
    ("Cost of Goods Sold", "Cost of Goods Sold", "SuppliesMaterialsCogs"),
    ("Advertising", "Expense", "AdvertisingPromotional"),
    ("Automobile", "Expense", "Auto"),
    ("Bank Charges", "Expense", "BankCharges"),
    ("Dues & Subscriptions", "Expense", "DuesSubscriptions"),
    ("Insurance", "Expense", "Insurance"),
    ("Job Expenses", "Expense", "CostOfLabor"),
    ("Legal & Professional Fees", "Expense", "LegalProfessionalFees"),
    ("Meals and Entertainment", "Expense", "EntertainmentMeals"),
    ("Office Expenses", "Expense", "OfficeGeneralAdministrativeExpenses"),
    ("Rent or Lease", "Expense", "RentOrLeaseOfBuildings"),
    ("Repair & Maintenance", "Expense", "RepairMaintenance"),
    ("Supplies", "Expense", "SuppliesMaterials"),
    ("Taxes & Licenses", "Expense", "TaxesPaid"),
    ("Travel", "Expense", "Travel"),
    ("Travel Meals", "Expense", "TravelMeals"),
    ("Utilities", "Expense", "Utilities"),
    ("Uncategorized Expense", "Expense", "OtherMiscellaneousServiceCost"),
]
DEFAULT_TERMS: list[tuple[str, int]] = [
    ("Due on receipt", 0),
    ("Net 15", 15),
    ("Net 30", 30),
    ("Net 60", 60),
]
TAX_RATE_ID = "1"
TAX_CODE_ID = "2"


def _envelope(doc: JsonDict, entity_id: str, now: str) -> JsonDict:
    return {
        **doc,
        "domain": "QBO",
        "sparse": False,
        "Id": entity_id,
        "SyncToken": "0",
        "MetaData": {"CreateTime": now, "LastUpdatedTime": now},
    }


def _put(sandbox: Sandbox, entity: str, entity_id: str, doc: JsonDict) -> None:
    ctx = sandbox.company.ctx()
    ctx.save(Record(entity, entity_id, _envelope(doc, entity_id, ctx.now_str())))


def _create(sandbox: Sandbox, entity: str, body: JsonDict) -> JsonDict:
    return sandbox.company.create(BY_NAME[entity], body, set())


def preferences_doc(company_name: str) -> JsonDict:
    from .core import custom_field_groups

    return {
        "AccountingInfoPrefs": {
            "TrackDepartments": False,
            "DepartmentTerminology": "Location",
            "ClassTrackingPerTxn": False,
            "ClassTrackingPerTxnLine": False,
            "CustomerTerminology": "Customers",
        },
        "ProductAndServicesPrefs": {
            "ForSales": True,
            "ForPurchase": True,
            "QuantityWithPriceAndRate": True,
            "QuantityOnHand": True,
        },
        "SalesFormsPrefs": {
            "CustomField": custom_field_groups({"1": True}, {"1": "Crew #"}),
            "CustomTxnNumbers": True,
            "AllowDeposit": False,
            "AllowDiscount": True,
            "AllowEstimates": True,
            "ETransactionEnabledStatus": "NotApplicable",
            "ETransactionAttachPDF": False,
            "ETransactionPaymentEnabled": False,
            "IPNSupportEnabled": False,
            "AllowServiceDate": False,
            "AllowShipping": False,
            "EmailCopyToCompany": False,
            "UsingProgressInvoicing": False,
            "AutoApplyCredit": True,
            "AutoApplyPayments": True,
            "PrintItemWithZeroAmount": False,
        },
        "EmailMessagesPrefs": {
            "InvoiceMessage": {
                "Subject": f"Invoice [Invoice No.] from {company_name}",
                "Message": "Dear [Customer Name],\n\nHere's your invoice! We appreciate your "
                "prompt payment.\n\nThanks for your business!\n" + company_name,
            }
        },
        "VendorAndPurchasesPrefs": {
            "TrackingByCustomer": True,
            "BillableExpenseTracking": True,
            "DefaultMarkup": 0,
        },
        "TimeTrackingPrefs": {
            "UseServices": True,
            "BillCustomers": True,
            "ShowBillRateToAll": False,
            "WorkWeekStartDate": "Monday",
            "MarkTimeEntriesBillable": True,
        },
        "TaxPrefs": {"UsingSalesTax": True, "PartnerTaxEnabled": False},
        "CurrencyPrefs": {"MultiCurrencyEnabled": False, "HomeCurrency": {"value": "USD"}},
        "ReportPrefs": {"ReportBasis": "Accrual", "CalcAgingReportFromTxnDate": False},
        "OtherPrefs": {
            "NameValue": [
                {
                    "Name": "SalesFormsPrefs.DefaultCustomerMessage",
                    "Value": "Thank you for your business.",
                },
                {"Name": "DTXCopyMemo", "Value": "false"},
                {"Name": "ProjectsEnabled", "Value": "true"},
                {"Name": "WarnDuplicateCheckNumber", "Value": "true"},
            ]
        },
    }


def seed_company(sandbox: Sandbox, seed: str) -> None:
    with sandbox.store.transaction():
        _seed_empty(sandbox)
        if seed == "demo":
            _seed_demo(sandbox)


def _seed_empty(sandbox: Sandbox) -> None:
    today = sandbox.clock.today()
    name = sandbox.company_name
    address = {
        "Id": "1",
        "Line1": "1200 Harbor Way, Suite 300",
        "City": "Port Alder",
        "CountrySubDivisionCode": "CA",
        "PostalCode": "94612",
        "Country": "USA",
    }
    _put(
        sandbox,
        "CompanyInfo",
        "1",
        {
            "CompanyName": name,
            "LegalName": name,
            "CompanyAddr": address,
            "CustomerCommunicationAddr": address,
            "LegalAddr": address,
            "PrimaryPhone": {"FreeFormNumber": "(510) 555-0142"},
            "CompanyStartDate": (today - timedelta(days=365 * 3)).isoformat(),
            "FiscalYearStartMonth": "January",
            "Country": "US",
            "Email": {"Address": "office@example.com"},
            "WebAddr": {},
            "SupportedLanguages": "en",
            "NameValue": [
                {"Name": "NeoEnabled", "Value": "true"},
                {"Name": "IndustryType", "Value": "Architectural Services"},
                {"Name": "CompanyType", "Value": "LLC"},
                {"Name": "SubscriptionStatus", "Value": "SUBSCRIBED"},
                {"Name": "OfferingSku", "Value": "QuickBooks Online Plus"},
                {"Name": "PayrollFeature", "Value": "false"},
                {"Name": "AccountantFeature", "Value": "false"},
                {"Name": "IsQbdtMigrated", "Value": "false"},
            ],
        },
    )
    _put(sandbox, "Preferences", "1", preferences_doc(name))
    for account_name, account_type, sub_type in DEFAULT_ACCOUNTS:
        _create(
            sandbox,
            "Account",
            {"Name": account_name, "AccountType": account_type, "AccountSubType": sub_type},
        )
    _put(
        sandbox,
        "TaxRate",
        TAX_RATE_ID,
        {
            "Name": "Alder County",
            "Description": "Sales Tax",
            "Active": True,
            "RateValue": 8.5,
            "AgencyRef": {"value": "1"},
            "SpecialTaxType": "NONE",
            "DisplayType": "ReadOnly",
            "EffectiveTaxRate": [
                {"RateValue": 8.5, "EffectiveDate": (today - timedelta(days=3650)).isoformat()}
            ],
        },
    )
    for code, taxable in (("TAX", True), ("NON", False)):
        _put(
            sandbox,
            "TaxCode",
            code,
            {
                "Name": code,
                "Description": code,
                "Active": True,
                "Hidden": False,
                "Taxable": taxable,
                "TaxGroup": False,
            },
        )
    _put(
        sandbox,
        "TaxCode",
        TAX_CODE_ID,
        {
            "Name": "Alder County",
            "Description": "Alder County",
            "Active": True,
            "Hidden": False,
            "Taxable": True,
            "TaxGroup": True,
            "SalesTaxRateList": {
                "TaxRateDetail": [
                    {
                        "TaxRateRef": {"value": TAX_RATE_ID, "name": "Alder County"},
                        "TaxTypeApplicable": "TaxOnAmount",
                        "TaxOrder": 0,
                    }
                ]
            },
            "PurchaseTaxRateList": {"TaxRateDetail": []},
            "TaxCodeConfigType": "USER_DEFINED",
        },
    )
    for term_name, days in DEFAULT_TERMS:
        _create(sandbox, "Term", {"Name": term_name, "Type": "STANDARD", "DueDays": days})
    services = _account(sandbox, "Services")
    _create(
        sandbox,
        "Item",
        {"Name": "Services", "Type": "Service", "IncomeAccountRef": {"value": services}},
    )
    _create(
        sandbox,
        "Item",
        {"Name": "Hours", "Type": "Service", "IncomeAccountRef": {"value": services}},
    )


def _account(sandbox: Sandbox, name: str) -> str:
    for record in sandbox.store.all(sandbox.realm_id, "Account"):
        if record.doc.get("Name") == name:
            return record.id
    raise KeyError(name)


def _by_name(sandbox: Sandbox, entity: str, name: str) -> str:
    for record in sandbox.store.all(sandbox.realm_id, entity):
        if name in (record.doc.get("DisplayName"), record.doc.get("FullyQualifiedName")):
            return record.id
    raise KeyError(name)


def _address(line1: str, city: str, postal: str, addr_id: str) -> JsonDict:
    return {
        "Id": addr_id,
        "Line1": line1,
        "City": city,
        "CountrySubDivisionCode": "CA",
        "PostalCode": postal,
    }


# Demo customers: (DisplayName, CompanyName, contact, email, phone, street, city, postal)
DEMO_CUSTOMERS: list[tuple[str, str, str, str, str, str, str]] = [
    (
        "O'Brien & Sons Builders",
        "Declan O'Brien",
        "declan@obriensons.example",
        "(510) 555-0190",
        "88 Foundry Row",
        "Port Alder",
        "94607",
    ),
    (
        "Riverside School District",
        "Alicia Moreno",
        "facilities@riversidesd.example",
        "(510) 555-0113",
        "400 Riverside Blvd",
        "Riverside Flats",
        "94601",
    ),
    (
        "Bayside Lutheran Church",
        "Pastor Ruth Engstrom",
        "office@baysidelutheran.example",
        "(510) 555-0178",
        "21 Chapel Lane",
        "Port Alder",
        "94611",
    ),
    (
        "Summit Ridge Winery",
        "Marco Bellini",
        "marco@summitridge.example",
        "(707) 555-0134",
        "9100 Ridge Road",
        "Alder Valley",
        "94574",
    ),
    (
        "Tanaka Residence",
        "Kenji Tanaka",
        "kenji.tanaka@example.com",
        "(510) 555-0167",
        "17 Camellia Court",
        "Port Alder",
        "94610",
    ),
    (
        "Cafe Lumiere Hospitality",
        "Élise Fournier",
        "elise@cafelumiere.example",
        "(510) 555-0122",
        "3 Market Square",
        "Port Alder",
        "94612",
    ),
    (
        "Northgate Medical Partners",
        "Dr. Priya Raman",
        "admin@northgatemed.example",
        "(510) 555-0155",
        "1500 Northgate Ave",
        "Port Alder",
        "94609",
    ),
    (
        "Kowalski Dental Studio",
        "Dr. Anna Kowalski",
        "anna@kowalskidental.example",
        "(510) 555-0171",
        "62 Elm Street",
        "Port Alder",
        "94606",
    ),
    (
        "Harbor View Marina",
        "Tom Reyes",
        "office@harborviewmarina.example",
        "(510) 555-0148",
        "1 Pier Road",
        "Port Alder",
        "94607",
    ),
]
DEMO_PROJECTS: list[tuple[str, str]] = [
    ("O'Brien & Sons Builders", "Warehouse Conversion - 14 Dock St"),
    ("Riverside School District", "Riverside Elementary Addition"),
    ("Riverside School District", "District Office Re-roof"),
    ("Bayside Lutheran Church", "Fellowship Hall Expansion"),
    ("Summit Ridge Winery", "Tasting Room & Cellar"),
    ("Tanaka Residence", "Kitchen Remodel"),
]
# (Name, Description, hourly rate, income account)
DEMO_ITEMS: list[tuple[str, str, float, str]] = [
    ("Schematic Design", "Schematic design phase services", 165.0, "Services"),
    ("Design Development", "Design development phase services", 160.0, "Services"),
    ("Construction Documents", "Construction documents phase services", 150.0, "Services"),
    (
        "Construction Administration",
        "Construction administration phase services",
        155.0,
        "Services",
    ),
    ("Programming", "Programming and pre-design services", 150.0, "Services"),
    ("Bidding & Negotiation", "Bidding and negotiation phase services", 150.0, "Services"),
    ("Reimbursable Expenses", "Reimbursable project expenses", 0.0, "Billable Expense Income"),
    (
        "Consultant Fees",
        "Consultant fees billed at cost plus markup",
        0.0,
        "Billable Expense Income",
    ),
]
DEMO_EXPENSE_ACCOUNTS = [
    ("Structural Engineering Consultants", "LegalProfessionalFees"),
    ("MEP Engineering Consultants", "LegalProfessionalFees"),
    ("Landscape Architecture Consultants", "LegalProfessionalFees"),
    ("Printing and Reproduction", "OfficeGeneralAdministrativeExpenses"),
    ("Travel", "Travel"),
    ("Mileage", "Auto"),
]
# (DisplayName, CompanyName, street, city, postal, term)
DEMO_VENDORS: list[tuple[str, str, str, str, str | None]] = [
    ("Keller Structural Engineers", "410 Girder Street", "Port Alder", "94607", "Net 30"),
    ("Ampere MEP Consulting", "77 Conduit Ave, Suite 5", "Port Alder", "94612", "Net 30"),
    ("Verdant Landscape Studio", "12 Fern Hollow", "Alder Valley", "94574", "Net 15"),
    ("Copy Corner Reprographics", "255 Main Street", "Port Alder", "94612", None),
    ("Harborline Air", "Terminal 2, Port Alder Airport", "Port Alder", "94621", None),
]
DEMO_EMPLOYEES = [("Dana", "Whitfield"), ("Marcus", "Bell")]


def _seed_demo(sandbox: Sandbox) -> None:
    today = sandbox.clock.today()

    def day(offset: int) -> str:
        return (today - timedelta(days=offset)).isoformat()

    sandbox.update_preferences(
        {"custom_fields": {"1": "Project No.", "2": "PO Number", "3": "Project Phase"}}
    )
    for account_name, sub_type in DEMO_EXPENSE_ACCOUNTS:
        try:
            _account(sandbox, account_name)
        except KeyError:
            _create(
                sandbox,
                "Account",
                {"Name": account_name, "AccountType": "Expense", "AccountSubType": sub_type},
            )
    _create(sandbox, "Account", {"Name": "Visa Business Card", "AccountType": "Credit Card"})
    for item_name, description, rate, income in DEMO_ITEMS:
        _create(
            sandbox,
            "Item",
            {
                "Name": item_name,
                "Description": description,
                "Type": "Service",
                "UnitPrice": rate,
                "IncomeAccountRef": {"value": _account(sandbox, income)},
            },
        )
    net30 = _by_term(sandbox, "Net 30")
    for index, (name, contact, email, phone, street, city, postal) in enumerate(DEMO_CUSTOMERS):
        given, _, family = contact.replace("Dr. ", "").replace("Pastor ", "").partition(" ")
        _create(
            sandbox,
            "Customer",
            {
                "DisplayName": name,
                "CompanyName": name,
                "GivenName": given,
                "FamilyName": family,
                "PrimaryEmailAddr": {"Address": email},
                "PrimaryPhone": {"FreeFormNumber": phone},
                "BillAddr": _address(street, city, postal, str(100 + index)),
                "SalesTermRef": {"value": net30},
            },
        )
    for parent_name, project_name in DEMO_PROJECTS:
        parent_id = _by_name(sandbox, "Customer", parent_name)
        parent = sandbox.store.get(sandbox.realm_id, "Customer", parent_id)
        assert parent is not None
        job = _create(
            sandbox,
            "Customer",
            {
                "DisplayName": project_name,
                "CompanyName": parent_name,
                "Job": True,
                "ParentRef": {"value": parent_id},
                "BillWithParent": True,
                "BillAddr": parent.doc.get("BillAddr"),
                "PrimaryEmailAddr": parent.doc.get("PrimaryEmailAddr"),
                "SalesTermRef": {"value": net30},
            },
        )
        record = sandbox.store.get(sandbox.realm_id, "Customer", str(job["Id"]))
        assert record is not None
        # Projects are created in QBO's project centre; the API shows them as flagged jobs.
        record.doc["IsProject"] = True
        sandbox.store.put(sandbox.realm_id, record)
    for name, street, city, postal, term in DEMO_VENDORS:
        body: JsonDict = {
            "DisplayName": name,
            "CompanyName": name,
            "BillAddr": _address(street, city, postal, str(200 + len(name))),
            "Vendor1099": name.endswith(("Engineers", "Consulting", "Studio")),
        }
        if term is not None:
            body["TermRef"] = {"value": _by_term(sandbox, term)}
        _create(sandbox, "Vendor", body)
    for given, family in DEMO_EMPLOYEES:
        _create(sandbox, "Employee", {"GivenName": given, "FamilyName": family})

    def project(name: str) -> JsonDict:
        return {"value": _by_name(sandbox, "Customer", name)}

    def expense_line(account: str, amount: float, customer: str, description: str) -> JsonDict:
        return {
            "Description": description,
            "Amount": amount,
            "DetailType": "AccountBasedExpenseLineDetail",
            "AccountBasedExpenseLineDetail": {
                "AccountRef": {"value": _account(sandbox, account)},
                "CustomerRef": project(customer),
                "BillableStatus": "Billable",
            },
        }

    warehouse = "Warehouse Conversion - 14 Dock St"
    elementary = "Riverside Elementary Addition"
    reroof = "District Office Re-roof"
    fellowship = "Fellowship Hall Expansion"
    tasting = "Tasting Room & Cellar"
    kitchen = "Kitchen Remodel"
    bills: list[tuple[str, str, int, list[JsonDict], str | None]] = [
        (
            "Keller Structural Engineers",
            "KSE-2291",
            52,
            [
                expense_line(
                    "Structural Engineering Consultants",
                    4200.0,
                    warehouse,
                    "Structural assessment of existing timber frame",
                )
            ],
            "pdf",
        ),
        (
            "Keller Structural Engineers",
            "KSE-2317",
            24,
            [
                expense_line(
                    "Structural Engineering Consultants",
                    3150.0,
                    elementary,
                    "Foundation and lateral design, classroom wing",
                ),
                expense_line(
                    "Structural Engineering Consultants",
                    850.0,
                    reroof,
                    "Roof framing capacity check",
                ),
            ],
            None,
        ),
        (
            "Ampere MEP Consulting",
            "AMP-0448",
            38,
            [
                expense_line(
                    "MEP Engineering Consultants",
                    5600.0,
                    elementary,
                    "Mechanical and electrical design development",
                )
            ],
            "pdf",
        ),
        (
            "Ampere MEP Consulting",
            "AMP-0471",
            12,
            [
                expense_line(
                    "MEP Engineering Consultants",
                    2875.0,
                    tasting,
                    "Cellar refrigeration and HVAC load study",
                )
            ],
            None,
        ),
        (
            "Verdant Landscape Studio",
            "VLS-118",
            30,
            [
                expense_line(
                    "Landscape Architecture Consultants",
                    1980.0,
                    fellowship,
                    "Courtyard and accessible path planting plan",
                )
            ],
            None,
        ),
        (
            "Verdant Landscape Studio",
            "VLS-124",
            9,
            [
                expense_line(
                    "Landscape Architecture Consultants",
                    2400.0,
                    tasting,
                    "Vineyard terrace landscape concept",
                )
            ],
            None,
        ),
        (
            "Copy Corner Reprographics",
            "CC-55120",
            20,
            [
                expense_line(
                    "Printing and Reproduction",
                    186.4,
                    elementary,
                    "Permit set plots, 24x36, 4 sets",
                )
            ],
            None,
        ),
    ]
    for vendor_name, doc_number, age, lines, attachment in bills:
        bill = _create(
            sandbox,
            "Bill",
            {
                "VendorRef": {"value": _by_name(sandbox, "Vendor", vendor_name)},
                "DocNumber": doc_number,
                "TxnDate": day(age),
                "Line": lines,
            },
        )
        if attachment == "pdf":
            total = sum(float(line["Amount"]) for line in lines)
            pdf = receipt_pdf(
                f"{vendor_name} - Invoice {doc_number}",
                [f"Date: {day(age)}", f"Bill to: {sandbox.company_name}"]
                + [f"{line['Description']}: ${float(line['Amount']):,.2f}" for line in lines],
                f"Amount due: ${total:,.2f}",
                more_pages=_bill_detail_pages(vendor_name, doc_number, lines),
            )
            _attach(sandbox, "Bill", str(bill["Id"]), f"{doc_number}.pdf", "application/pdf", pdf)
    card = {"value": _account(sandbox, "Visa Business Card")}
    checking = {"value": _account(sandbox, "Checking")}
    purchases: list[tuple[str, JsonDict, str, int, list[JsonDict], str | None]] = [
        (
            "CreditCard",
            card,
            "Copy Corner Reprographics",
            45,
            [
                expense_line(
                    "Printing and Reproduction",
                    248.75,
                    warehouse,
                    "Schematic design presentation boards",
                )
            ],
            "png",
        ),
        (
            "CreditCard",
            card,
            "Copy Corner Reprographics",
            16,
            [
                expense_line(
                    "Printing and Reproduction", 92.3, kitchen, "Color renderings, client review"
                )
            ],
            "png",
        ),
        (
            "CreditCard",
            card,
            "Copy Corner Reprographics",
            6,
            [
                expense_line(
                    "Printing and Reproduction",
                    312.6,
                    fellowship,
                    "Construction document check set",
                )
            ],
            None,
        ),
        (
            "CreditCard",
            card,
            "Harborline Air",
            27,
            [expense_line("Travel", 438.2, tasting, "Site visit flight, Alder Valley")],
            "png",
        ),
        (
            "CreditCard",
            card,
            "Harborline Air",
            8,
            [expense_line("Travel", 389.0, elementary, "Flight to district board meeting")],
            None,
        ),
        (
            "Check",
            checking,
            "Dana Whitfield",
            21,
            [
                expense_line("Mileage", 61.64, reroof, "Site visit mileage, 92 mi"),
                expense_line("Mileage", 40.2, elementary, "Site visit mileage, 60 mi"),
            ],
            None,
        ),
        (
            "Check",
            checking,
            "Marcus Bell",
            11,
            [expense_line("Mileage", 83.08, warehouse, "Construction observation, 124 mi")],
            None,
        ),
        (
            "CreditCard",
            card,
            "Copy Corner Reprographics",
            3,
            [expense_line("Printing and Reproduction", 57.15, tasting, "Bid set reproduction")],
            None,
        ),
    ]
    for payment_type, account, payee, age, lines, attachment in purchases:
        payee_type = "Employee" if payee in ("Dana Whitfield", "Marcus Bell") else "Vendor"
        purchase = _create(
            sandbox,
            "Purchase",
            {
                "PaymentType": payment_type,
                "AccountRef": account,
                "EntityRef": {"value": _by_name(sandbox, payee_type, payee), "type": payee_type},
                "TxnDate": day(age),
                "Line": lines,
            },
        )
        if attachment == "png":
            png = receipt_png(
                payee,
                day(age),
                [(str(line["Description"]), float(line["Amount"])) for line in lines],
            )
            _attach(
                sandbox,
                "Purchase",
                str(purchase["Id"]),
                f"receipt-{purchase['Id']}.png",
                "image/png",
                png,
            )

    def sales_line(item: str, hours: float) -> JsonDict:
        item_id = _by_item(sandbox, item)
        record = sandbox.store.get(sandbox.realm_id, "Item", item_id)
        assert record is not None
        rate = float(record.doc.get("UnitPrice", 0))
        return {
            "Amount": round(rate * hours, 2),
            "DetailType": "SalesItemLineDetail",
            "Description": item,
            "SalesItemLineDetail": {
                "ItemRef": {"value": item_id},
                "UnitPrice": rate,
                "Qty": hours,
            },
        }

    invoices: list[tuple[str, str, int, list[JsonDict]]] = [
        ("1001", warehouse, 44, [sales_line("Schematic Design", 36)]),
        (
            "1002",
            elementary,
            30,
            [sales_line("Schematic Design", 48), sales_line("Design Development", 22)],
        ),
        ("1003", tasting, 18, [sales_line("Design Development", 30)]),
        (
            "1004",
            kitchen,
            7,
            [
                sales_line("Construction Documents", 16),
                {
                    "Amount": 92.3,
                    "DetailType": "SalesItemLineDetail",
                    "Description": "Color renderings (reimbursable)",
                    "SalesItemLineDetail": {
                        "ItemRef": {"value": _by_item(sandbox, "Reimbursable Expenses")}
                    },
                },
            ],
        ),
    ]
    created: dict[str, JsonDict] = {}
    for doc_number, customer, age, lines in invoices:
        created[doc_number] = _create(
            sandbox,
            "Invoice",
            {
                "DocNumber": doc_number,
                "CustomerRef": project(customer),
                "TxnDate": day(age),
                "Line": lines,
                "CustomField": [{"DefinitionId": "1", "StringValue": f"P-24{doc_number[-2:]}"}],
            },
        )
    full = created["1001"]
    _create(
        sandbox,
        "Payment",
        {
            "CustomerRef": project(warehouse),
            "TotalAmt": full["TotalAmt"],
            "TxnDate": day(20),
            "PaymentRefNum": "4471",
            "Line": [
                {
                    "Amount": full["TotalAmt"],
                    "LinkedTxn": [{"TxnId": full["Id"], "TxnType": "Invoice"}],
                }
            ],
        },
    )
    partial = created["1002"]
    _create(
        sandbox,
        "Payment",
        {
            "CustomerRef": project(elementary),
            "TotalAmt": 5000.0,
            "TxnDate": day(10),
            "PaymentRefNum": "DST-88213",
            "Line": [
                {"Amount": 5000.0, "LinkedTxn": [{"TxnId": partial["Id"], "TxnType": "Invoice"}]}
            ],
        },
    )
    sandbox.store.set_meta("demo_seeded_at", format_datetime(sandbox.clock.now()))


def _bill_detail_pages(
    vendor_name: str, doc_number: str, lines: list[JsonDict]
) -> list[tuple[str, list[str]]]:
    """A sub-consultant's invoice runs to a second page: hours by task, then the terms."""
    if len(lines) != 1:
        return []
    amount = float(lines[0]["Amount"])
    hours = [("Principal review", 0.1), ("Engineer", 0.55), ("Designer / drafting", 0.35)]
    rate = 185.0
    rows = [
        f"{task}: {amount * share / rate:,.1f} h at ${rate:,.2f} = ${amount * share:,.2f}"
        for task, share in hours
    ]
    return [
        (
            f"{doc_number} - Hours by task",
            [*rows, "", f"Total: ${amount:,.2f}", "", f"Remit to: {vendor_name}", "Net 30."],
        )
    ]


def _by_term(sandbox: Sandbox, name: str) -> str:
    for record in sandbox.store.all(sandbox.realm_id, "Term"):
        if record.doc.get("Name") == name:
            return record.id
    raise KeyError(name)


def _by_item(sandbox: Sandbox, name: str) -> str:
    for record in sandbox.store.all(sandbox.realm_id, "Item"):
        if record.doc.get("Name") == name:
            return record.id
    raise KeyError(name)


def _attach(
    sandbox: Sandbox, entity: str, entity_id: str, file_name: str, content_type: str, data: bytes
) -> None:
    metadata: dict[str, Any] = {
        "AttachableRef": [{"EntityRef": {"type": entity, "value": entity_id}}],
        "FileName": file_name,
        "ContentType": content_type,
        "Category": "Receipt",
    }
    upload = Upload(
        metadata=metadata,
        content=Part(
            name="file_content_01", filename=file_name, content_type=content_type, data=data
        ),
    )
    store_upload(sandbox.company, upload)
