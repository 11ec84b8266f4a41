"""Other lists: Item, Account, Term, TaxCode, TaxRate, CompanyInfo and Preferences."""

from __future__ import annotations

import copy
from typing import Any, ClassVar

from .. import faults
from ..context import Ctx
from ..keys import name_key
from ..store import JsonDict, Record
from .base import (
    USD,
    EntityRule,
    check_name_chars,
    copy_optional,
    dec,
    is_true,
    list_name,
    number,
    ref_value,
    resolve,
    text,
)

ACCOUNT_CLASSIFICATION = {
    "Bank": "Asset",
    "Accounts Receivable": "Asset",
    "Other Current Asset": "Asset",
    "Fixed Asset": "Asset",
    "Other Asset": "Asset",
    "Accounts Payable": "Liability",
    "Credit Card": "Liability",
    "Other Current Liability": "Liability",
    "Long Term Liability": "Liability",
    "Equity": "Equity",
    "Income": "Revenue",
    "Other Income": "Revenue",
    "Cost of Goods Sold": "Expense",
    "Expense": "Expense",
    "Other Expense": "Expense",
}
DEFAULT_SUBTYPE = {
    "Bank": "Checking",
    "Accounts Receivable": "AccountsReceivable",
    "Other Current Asset": "OtherCurrentAssets",
    "Fixed Asset": "OtherFixedAssets",
    "Other Asset": "OtherLongTermAssets",
    "Accounts Payable": "AccountsPayable",
    "Credit Card": "CreditCard",
    "Other Current Liability": "OtherCurrentLiabilities",
    "Long Term Liability": "OtherLongTermLiabilities",
    "Equity": "OwnersEquity",
    "Income": "ServiceFeeIncome",
    "Other Income": "OtherMiscellaneousIncome",
    "Cost of Goods Sold": "SuppliesMaterialsCogs",
    "Expense": "OtherMiscellaneousServiceCost",
    "Other Expense": "OtherMiscellaneousExpense",
}
SUBTYPE_TO_TYPE = {sub: kind for kind, sub in DEFAULT_SUBTYPE.items()} | {
    "Savings": "Bank",
    "MoneyMarket": "Bank",
    "UndepositedFunds": "Other Current Asset",
    "PrepaidExpenses": "Other Current Asset",
    "Inventory": "Other Current Asset",
    "SalesTaxPayable": "Other Current Liability",
    "OpeningBalanceEquity": "Equity",
    "RetainedEarnings": "Equity",
    "SalesOfProductIncome": "Income",
    "OtherPrimaryIncome": "Income",
    "DiscountsRefundsGiven": "Income",
    "AdvertisingPromotional": "Expense",
    "Auto": "Expense",
    "BankCharges": "Expense",
    "DuesSubscriptions": "Expense",
    "EntertainmentMeals": "Expense",
    "Insurance": "Expense",
    "LegalProfessionalFees": "Expense",
    "OfficeGeneralAdministrativeExpenses": "Expense",
    "RentOrLeaseOfBuildings": "Expense",
    "RepairMaintenance": "Expense",
    "SuppliesMaterials": "Expense",
    "TaxesPaid": "Expense",
    "Travel": "Expense",
    "TravelMeals": "Expense",
    "Utilities": "Expense",
    "CostOfLabor": "Expense",
}
ITEM_TYPES = {
    "Service",
    "NonInventory",
    "Inventory",
    "Category",
    "Group",
    "Bundle",
    "Other Charge",
    "Discount",
}


def _unique_name(ctx: Ctx, entity: str, own_id: str | None, fqn: str) -> None:
    """Names are unique within the list, inactive records' plain names included."""
    for record in ctx.store.find(ctx.realm, (entity,), "uniq", name_key(fqn)):
        if record.id != own_id:
            raise faults.duplicate_name()


def _required_name(src: JsonDict) -> str:
    name = text(src, "Name")
    if name is None or not name.strip():
        raise faults.required_param("Name")
    name = name.strip()
    check_name_chars(name, "Name")
    return name


def _active(src: JsonDict) -> bool:
    return is_true(src["Active"]) if "Active" in src else True


class ItemRule(EntityRule):
    name = "Item"
    resource = "item"
    name_list = True
    id_family = "Item"
    fields: ClassVar[frozenset[str]] = frozenset(
        {
            "Name",
            "Sku",
            "Description",
            "Active",
            "SubItem",
            "ParentRef",
            "Level",
            "FullyQualifiedName",
            "Taxable",
            "SalesTaxIncluded",
            "PercentBased",
            "UnitPrice",
            "RatePercent",
            "Type",
            "PaymentMethodRef",
            "UOMSetRef",
            "IncomeAccountRef",
            "PurchaseDesc",
            "PurchaseTaxIncluded",
            "PurchaseCost",
            "ExpenseAccountRef",
            "COGSAccountRef",
            "AssetAccountRef",
            "PrefVendorRef",
            "AvgCost",
            "TrackQtyOnHand",
            "QtyOnHand",
            "QtyOnPurchaseOrder",
            "QtyOnSalesOrder",
            "ReorderPoint",
            "ManPartNum",
            "DepositToAccountRef",
            "SalesTaxCodeRef",
            "PurchaseTaxCodeRef",
            "InvStartDate",
            "BuildPoint",
            "PrintGroupedItems",
            "SpecialItem",
            "SpecialItemType",
            "ItemGroupDetail",
            "ItemAssemblyDetail",
            "AbatementRate",
            "ReverseChargeRate",
            "ServiceType",
            "ItemCategoryType",
            "ItemEx",
            "TaxClassificationRef",
            "UQCDisplayText",
            "UQCId",
            "ClassRef",
            "Source",
            "DeferredRevenue",
        }
    )
    computed: ClassVar[frozenset[str]] = frozenset({"FullyQualifiedName", "Level"})

    def build(
        self, ctx: Ctx, src: JsonDict, existing: Record | None, options: set[str]
    ) -> JsonDict:
        active = _active(src)
        base, name = list_name(_required_name(src), active, existing)
        item_type = text(src, "Type") or "Service"
        if item_type not in ITEM_TYPES:
            raise faults.invalid_enumeration(item_type, "Type")
        doc: JsonDict = {"Name": name}
        copy_optional(src, doc, ["Description", "Sku"])
        doc["Active"] = active
        prefix = ""
        parent_value = ref_value(src.get("ParentRef"))
        if parent_value is not None:
            parent = resolve(ctx, "Item", src["ParentRef"], "ParentRef")
            doc["SubItem"] = True
            doc["ParentRef"] = {"value": parent.id, "name": parent.doc.get("Name")}
            doc["Level"] = int(parent.doc.get("Level", 0)) + 1
            prefix = f"{parent.doc.get('FullyQualifiedName')}:"
        elif item_type == "Category" or "SubItem" in src:
            doc["SubItem"] = False
        doc["FullyQualifiedName"] = f"{prefix}{name}"
        _unique_name(ctx, "Item", existing.id if existing else None, f"{prefix}{base}")
        doc["Type"] = item_type
        if item_type != "Category":
            doc["Taxable"] = is_true(src.get("Taxable", False))
            doc["UnitPrice"] = number(dec(src.get("UnitPrice", 0), "UnitPrice"))
            for key in ("IncomeAccountRef", "ExpenseAccountRef", "AssetAccountRef"):
                if src.get(key) is not None:
                    account = resolve(ctx, "Account", src[key], key)
                    doc[key] = {"value": account.id, "name": account.doc.get("FullyQualifiedName")}
            if (
                item_type in ("Service", "NonInventory", "Inventory")
                and "IncomeAccountRef" not in doc
            ):
                raise faults.required_param("IncomeAccountRef")
            if item_type == "Inventory" and "AssetAccountRef" not in doc:
                raise faults.required_param("AssetAccountRef")
            copy_optional(src, doc, ["PurchaseDesc"])
            doc["PurchaseCost"] = number(dec(src.get("PurchaseCost", 0), "PurchaseCost"))
            doc["TrackQtyOnHand"] = is_true(src.get("TrackQtyOnHand", item_type == "Inventory"))
            if doc["TrackQtyOnHand"]:
                doc["QtyOnHand"] = number(dec(src.get("QtyOnHand", 0), "QtyOnHand"))
                copy_optional(src, doc, ["InvStartDate"])
        return doc


class AccountRule(EntityRule):
    name = "Account"
    resource = "account"
    name_list = True
    id_family = "Account"
    fields: ClassVar[frozenset[str]] = frozenset(
        {
            "Name",
            "SubAccount",
            "ParentRef",
            "Description",
            "FullyQualifiedName",
            "AccountAlias",
            "TxnLocationType",
            "Active",
            "Classification",
            "AccountType",
            "AccountSubType",
            "AccountPurposes",
            "AcctNum",
            "AcctNumExtn",
            "BankNum",
            "OpeningBalance",
            "OpeningBalanceDate",
            "CurrentBalance",
            "CurrentBalanceWithSubAccounts",
            "CurrencyRef",
            "TaxAccount",
            "TaxCodeRef",
            "OnlineBankingEnabled",
            "FIName",
            "JournalCodeRef",
            "AccountEx",
        }
    )
    computed: ClassVar[frozenset[str]] = frozenset(
        {"FullyQualifiedName", "Classification", "CurrentBalance", "CurrentBalanceWithSubAccounts"}
    )

    def build(
        self, ctx: Ctx, src: JsonDict, existing: Record | None, options: set[str]
    ) -> JsonDict:
        active = _active(src)
        base, name = list_name(_required_name(src), active, existing)
        account_type = text(src, "AccountType")
        sub_type = text(src, "AccountSubType")
        if account_type is None and sub_type is not None:
            account_type = SUBTYPE_TO_TYPE.get(sub_type)
        if account_type is None:
            raise faults.required_param("AccountType")
        if account_type not in ACCOUNT_CLASSIFICATION:
            raise faults.invalid_enumeration(account_type, "AccountType")
        doc: JsonDict = {"Name": name}
        prefix = ""
        parent_value = ref_value(src.get("ParentRef"))
        if parent_value is not None:
            parent = resolve(ctx, "Account", src["ParentRef"], "ParentRef")
            doc["SubAccount"] = True
            doc["ParentRef"] = {"value": parent.id}
            prefix = f"{parent.doc.get('FullyQualifiedName')}:"
        else:
            doc["SubAccount"] = False
        _unique_name(ctx, "Account", existing.id if existing else None, f"{prefix}{base}")
        doc["FullyQualifiedName"] = f"{prefix}{name}"
        copy_optional(src, doc, ["Description", "AcctNum"])
        doc["Active"] = active
        doc["Classification"] = ACCOUNT_CLASSIFICATION[account_type]
        doc["AccountType"] = account_type
        doc["AccountSubType"] = sub_type or DEFAULT_SUBTYPE[account_type]
        previous = existing.doc if existing else {}
        doc["CurrentBalance"] = previous.get("CurrentBalance", 0)
        doc["CurrentBalanceWithSubAccounts"] = previous.get("CurrentBalanceWithSubAccounts", 0)
        doc["CurrencyRef"] = dict(USD)
        return doc


class TermRule(EntityRule):
    name = "Term"
    resource = "term"
    name_list = True
    id_family = "Term"
    fields: ClassVar[frozenset[str]] = frozenset(
        {
            "Name",
            "Active",
            "Type",
            "DiscountPercent",
            "DueDays",
            "DiscountDays",
            "DayOfMonthDue",
            "DueNextMonthDays",
            "DiscountDayOfMonth",
        }
    )

    def build(
        self, ctx: Ctx, src: JsonDict, existing: Record | None, options: set[str]
    ) -> JsonDict:
        name = _required_name(src)
        own_id = existing.id if existing else None
        for record in ctx.all("Term"):
            if record.id != own_id and name_key(str(record.doc.get("Name"))) == name_key(name):
                raise faults.duplicate_name()
        term_type = (text(src, "Type") or "STANDARD").upper().replace(" ", "_")
        if term_type in ("STANDARD",):
            term_type = "STANDARD"
        elif term_type in ("DATEDRIVEN", "DATE_DRIVEN"):
            term_type = "DATE_DRIVEN"
        else:
            raise faults.invalid_enumeration(str(src.get("Type")), "Type")
        doc: JsonDict = {"Name": name, "Active": _active(src), "Type": term_type}
        if term_type == "STANDARD":
            doc["DueDays"] = int(dec(src.get("DueDays", 0), "DueDays"))
            if src.get("DiscountDays") is not None:
                doc["DiscountDays"] = int(dec(src["DiscountDays"], "DiscountDays"))
        else:
            doc["DayOfMonthDue"] = int(dec(src.get("DayOfMonthDue", 1), "DayOfMonthDue"))
            doc["DueNextMonthDays"] = int(dec(src.get("DueNextMonthDays", 0), "DueNextMonthDays"))
            if src.get("DiscountDayOfMonth") is not None:
                doc["DiscountDayOfMonth"] = int(dec(src["DiscountDayOfMonth"]))
        if src.get("DiscountPercent") is not None:
            doc["DiscountPercent"] = number(dec(src["DiscountPercent"], "DiscountPercent"))
        return doc


class TaxCodeRule(EntityRule):
    """Tax codes are created through the tax service, so the entity endpoint only reads."""

    name = "TaxCode"
    resource = "taxcode"
    writable = False
    cdc = False
    numeric_ids = False
    fields: ClassVar[frozenset[str]] = frozenset(
        {
            "Name",
            "Description",
            "Active",
            "Hidden",
            "Taxable",
            "TaxGroup",
            "SalesTaxRateList",
            "PurchaseTaxRateList",
            "AdjustmentTaxRateList",
            "TaxCodeConfigType",
        }
    )


class TaxRateRule(EntityRule):
    name = "TaxRate"
    resource = "taxrate"
    writable = False
    cdc = False
    fields: ClassVar[frozenset[str]] = frozenset(
        {
            "Name",
            "Description",
            "Active",
            "RateValue",
            "AgencyRef",
            "TaxReturnLineRef",
            "SpecialTaxType",
            "DisplayType",
            "EffectiveTaxRate",
        }
    )


def deep_merge(base: Any, patch: Any) -> Any:
    if isinstance(base, dict) and isinstance(patch, dict):
        out = copy.deepcopy(base)
        for key, value in patch.items():
            out[key] = deep_merge(out.get(key), value) if key in out else copy.deepcopy(value)
        return out
    return copy.deepcopy(patch)


class CompanyInfoRule(EntityRule):
    name = "CompanyInfo"
    resource = "companyinfo"
    cdc = False
    fields: ClassVar[frozenset[str]] = frozenset(
        {
            "CompanyName",
            "LegalName",
            "CompanyAddr",
            "CustomerCommunicationAddr",
            "LegalAddr",
            "CustomerCommunicationEmailAddr",
            "PrimaryPhone",
            "CompanyStartDate",
            "EmployerId",
            "FiscalYearStartMonth",
            "Country",
            "Email",
            "WebAddr",
            "SupportedLanguages",
            "DefaultTimeZone",
            "NameValue",
            "OtherContactInfo",
        }
    )

    def build(
        self, ctx: Ctx, src: JsonDict, existing: Record | None, options: set[str]
    ) -> JsonDict:
        if existing is None:
            raise faults.operation_not_supported("create")
        name = text(src, "CompanyName")
        if not name:
            raise faults.required_param("CompanyName")
        doc = {k: copy.deepcopy(v) for k, v in src.items() if k in self.fields}
        return doc


class PreferencesRule(EntityRule):
    name = "Preferences"
    resource = "preferences"
    fields: ClassVar[frozenset[str]] = frozenset(
        {
            "AccountingInfoPrefs",
            "AdvancedInventoryPrefs",
            "ProductAndServicesPrefs",
            "SalesFormsPrefs",
            "EmailMessagesPrefs",
            "PrintDocumentPrefs",
            "VendorAndPurchasesPrefs",
            "TimeTrackingPrefs",
            "TaxPrefs",
            "FinanceChargesPrefs",
            "CurrencyPrefs",
            "ReportPrefs",
            "OtherPrefs",
        }
    )

    def build(
        self, ctx: Ctx, src: JsonDict, existing: Record | None, options: set[str]
    ) -> JsonDict:
        if existing is None:
            raise faults.operation_not_supported("create")
        base = {k: v for k, v in existing.doc.items() if k in self.fields}
        patch = {k: v for k, v in src.items() if k in self.fields}
        merged: JsonDict = deep_merge(base, patch)
        return merged


def custom_field_definitions(prefs: JsonDict) -> list[JsonDict]:
    """Sales-form custom fields switched on in Preferences, as ``{DefinitionId, Name, Type}``."""
    sales = prefs.get("SalesFormsPrefs") or {}
    enabled: dict[str, bool] = {}
    names: dict[str, str] = {}
    for group in sales.get("CustomField") or []:
        for field in group.get("CustomField") or []:
            key = str(field.get("Name", ""))
            if key.startswith("SalesFormsPrefs.UseSalesCustom"):
                enabled[key[-1]] = bool(field.get("BooleanValue"))
            elif key.startswith("SalesFormsPrefs.SalesCustomName"):
                names[key[-1]] = str(field.get("StringValue", ""))
    return [
        {"DefinitionId": n, "Name": names[n], "Type": "StringType"}
        for n in ("1", "2", "3")
        if enabled.get(n) and names.get(n)
    ]
