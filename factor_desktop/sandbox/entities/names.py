"""Name-list people: Customer (with sub-customers), Vendor and Employee."""

from __future__ import annotations

from decimal import Decimal
from typing import ClassVar

from .. import faults
from ..context import Ctx
from ..keys import name_key
from ..store import JsonDict, Record
from .base import (
    NAME_ENTITIES,
    USD,
    EntityRule,
    check_name_chars,
    copy_optional,
    dec,
    is_true,
    list_name,
    money,
    ref_value,
    resolve,
    text,
)

MAX_CUSTOMER_LEVEL = 4

_NAME_BASE = frozenset(
    {
        "Organization",
        "Title",
        "GivenName",
        "MiddleName",
        "FamilyName",
        "Suffix",
        "FullyQualifiedName",
        "CompanyName",
        "DisplayName",
        "PrintOnCheckName",
        "UserId",
        "Active",
        "PrimaryPhone",
        "AlternatePhone",
        "Mobile",
        "Fax",
        "PrimaryEmailAddr",
        "WebAddr",
        "OtherContactInfo",
        "DefaultTaxCodeRef",
        "V4IDPseudonym",
        "Source",
    }
)
_CONTACT_FIELDS = [
    "Organization",
    "Title",
    "GivenName",
    "MiddleName",
    "FamilyName",
    "Suffix",
    "CompanyName",
    "PrimaryPhone",
    "AlternatePhone",
    "Mobile",
    "Fax",
    "PrimaryEmailAddr",
    "WebAddr",
    "OtherContactInfo",
    "Notes",
    "UserId",
    "Source",
]


def display_name(src: JsonDict) -> str:
    name = text(src, "DisplayName")
    if name is None or not name.strip():
        parts = [text(src, k) for k in ("Title", "GivenName", "MiddleName", "FamilyName", "Suffix")]
        name = " ".join(p.strip() for p in parts if p and p.strip())
    if not name:
        raise faults.required_param("DisplayName")
    name = name.strip()
    check_name_chars(name, "DisplayName")
    return name


def check_unique_display_name(ctx: Ctx, entity: str, own_id: str | None, name: str) -> None:
    """DisplayName is unique across customers, vendors and employees, inactive ones included
    (an inactive record keeps its name reserved under the " (deleted)" QBO shows)."""
    for record in ctx.store.find(ctx.realm, NAME_ENTITIES, "uniq", name_key(name)):
        if record.entity == entity and record.id == own_id:
            continue
        raise faults.duplicate_name()


def _active(src: JsonDict) -> bool:
    return is_true(src["Active"]) if "Active" in src else True


class CustomerRule(EntityRule):
    name = "Customer"
    resource = "customer"
    name_list = True
    id_family = "Customer"
    fields: ClassVar[frozenset[str]] = _NAME_BASE | frozenset(
        {
            "Taxable",
            "BillAddr",
            "ShipAddr",
            "OtherAddr",
            "ContactName",
            "AltContactName",
            "Notes",
            "Job",
            "BillWithParent",
            "RootCustomerRef",
            "ParentRef",
            "Level",
            "CustomerTypeRef",
            "SalesTermRef",
            "SalesRepRef",
            "PaymentMethodRef",
            "CCDetail",
            "PriceLevelRef",
            "Balance",
            "OpenBalanceDate",
            "BalanceWithJobs",
            "CreditLimit",
            "AcctNum",
            "CurrencyRef",
            "OverDueBalance",
            "TotalRevenue",
            "TotalExpense",
            "PreferredDeliveryMethod",
            "ResaleNum",
            "JobInfo",
            "TDSEnabled",
            "CustomerEx",
            "SecondaryTaxIdentifier",
            "ARAccountRef",
            "PrimaryTaxIdentifier",
            "TaxExemptionReasonId",
            "IsProject",
            "BusinessNumber",
            "GSTIN",
            "GSTRegistrationType",
            "IsCISContractor",
            "ClientCompanyId",
            "ClientEntityId",
            "TaxRegime",
            "HasTpar",
            "ShipAddrs",
            "CustomerPaymentProfile",
        }
    )
    computed: ClassVar[frozenset[str]] = frozenset(
        {"FullyQualifiedName", "Level", "Balance", "BalanceWithJobs", "IsProject"}
    )

    def build(
        self, ctx: Ctx, src: JsonDict, existing: Record | None, options: set[str]
    ) -> JsonDict:
        active = _active(src)
        base, name = list_name(display_name(src), active, existing)
        own_id = existing.id if existing else None
        check_unique_display_name(ctx, self.name, own_id, base)
        if existing is not None and existing.doc.get("Active", True) and not active:
            _refuse_open_balance(ctx, existing)
        doc: JsonDict = {}
        doc["Taxable"] = is_true(src["Taxable"]) if "Taxable" in src else True
        copy_optional(src, doc, ["BillAddr", "ShipAddr", "OtherAddr"])
        parent_value = ref_value(src.get("ParentRef"))
        job = is_true(src.get("Job", False)) or parent_value is not None
        if job and parent_value is None:
            raise faults.required_param("ParentRef")
        level = 0
        fqn = name
        doc["Job"] = job
        doc["BillWithParent"] = is_true(src.get("BillWithParent", False)) if job else False
        if parent_value is not None:
            parent = resolve(ctx, "Customer", src.get("ParentRef"), "ParentRef")
            if own_id is not None and (parent.id == own_id or own_id in _ancestors(ctx, parent)):
                raise faults.single(
                    "Parent cannot be child",
                    "Parent cannot be child : A customer cannot be its own parent or the parent "
                    "of one of its own sub-customers.",
                    "900",
                    "ParentRef",
                )
            level = int(parent.doc.get("Level", 0)) + 1
            depth_below = _subtree_depth(ctx, own_id) if own_id else 0
            if level + depth_below > MAX_CUSTOMER_LEVEL:
                raise faults.business_validation(
                    "You can only have up to 4 levels of sub-customers.", "ParentRef"
                )
            fqn = f"{parent.doc.get('FullyQualifiedName', parent.doc.get('DisplayName'))}:{name}"
            doc["ParentRef"] = {"value": parent.id}
            doc["Level"] = level
        for key in ("SalesTermRef", "PaymentMethodRef", "CustomerTypeRef", "SalesRepRef"):
            if key in src and src[key] is not None:
                entity = {"SalesTermRef": "Term"}.get(key)
                if entity is not None:
                    term = resolve(ctx, entity, src[key], key)
                    doc[key] = {"value": term.id, "name": term.doc.get("Name")}
                else:
                    doc[key] = src[key]
        previous = existing.doc if existing else {}
        doc["Balance"] = previous.get("Balance", 0)
        doc["BalanceWithJobs"] = previous.get("BalanceWithJobs", 0)
        if "CreditLimit" in src:
            doc["CreditLimit"] = money(dec(src["CreditLimit"], "CreditLimit"))
        doc["CurrencyRef"] = dict(USD)
        doc["PreferredDeliveryMethod"] = text(src, "PreferredDeliveryMethod") or "Print"
        copy_optional(src, doc, [*_CONTACT_FIELDS, "AcctNum", "ResaleNum", "ContactName"])
        doc["FullyQualifiedName"] = fqn
        doc["DisplayName"] = name
        doc["PrintOnCheckName"] = text(src, "PrintOnCheckName") or base
        doc["Active"] = active
        if previous.get("IsProject"):
            doc["IsProject"] = True
        tax_code = _default_tax_code(ctx, src, doc["Taxable"])
        if tax_code is not None:
            doc["DefaultTaxCodeRef"] = tax_code
        return doc

    def after_write(self, ctx: Ctx, old: JsonDict | None, new: Record) -> None:
        if old is None:
            return
        if old.get("Active", True) and new.doc.get("Active") is False:
            _deactivate_children(ctx, new)
        if old.get("FullyQualifiedName") != new.doc.get("FullyQualifiedName") or old.get(
            "Level"
        ) != new.doc.get("Level"):
            _cascade_names(ctx, new)
        recompute_customer_balances(ctx)


def _refuse_open_balance(ctx: Ctx, customer: Record) -> None:
    """Deactivating a customer also deactivates its sub-customers, so none may owe anything."""
    pending = [customer]
    seen: set[str] = set()
    while pending:
        record = pending.pop()
        if record.id in seen:
            continue
        seen.add(record.id)
        if dec(record.doc.get("Balance", 0)) != 0:
            raise faults.list_has_balance()
        pending.extend(_children(ctx, record.id))


def _deactivate_children(ctx: Ctx, parent: Record) -> None:
    """Sub-customers go inactive with their parent, each with QBO's " (deleted)" name."""
    for child in _children(ctx, parent.id):
        if child.doc.get("Active", True):
            _, name = list_name(str(child.doc.get("DisplayName", "")), False, None)
            child.doc["Active"] = False
            child.doc["DisplayName"] = name
            child.doc["FullyQualifiedName"] = f"{parent.doc['FullyQualifiedName']}:{name}"
            ctx.bump(child)
            _deactivate_children(ctx, child)


def _default_tax_code(ctx: Ctx, src: JsonDict, taxable: bool) -> JsonDict | None:
    given = ref_value(src.get("DefaultTaxCodeRef"))
    if given is not None:
        record = ctx.get("TaxCode", given)
        if record is None:
            raise faults.invalid_reference("DefaultTaxCodeRef")
        return {"value": record.id}
    if not taxable or not ctx.preference("TaxPrefs", "UsingSalesTax"):
        return None
    for record in ctx.all("TaxCode"):
        if record.id.isdigit() and record.doc.get("Active", True):
            return {"value": record.id}
    return None


def _children(ctx: Ctx, customer_id: str) -> list[Record]:
    return ctx.store.find(ctx.realm, ("Customer",), "parent", customer_id)


def _ancestors(ctx: Ctx, record: Record) -> list[str]:
    out: list[str] = []
    current: Record | None = record
    while current is not None:
        parent_id = ref_value(current.doc.get("ParentRef"))
        if parent_id is None or parent_id in out:
            break
        out.append(parent_id)
        current = ctx.get("Customer", parent_id)
    return out


def _subtree_depth(ctx: Ctx, customer_id: str | None) -> int:
    if customer_id is None:
        return 0
    children = _children(ctx, customer_id)
    return 0 if not children else 1 + max(_subtree_depth(ctx, c.id) for c in children)


def _cascade_names(ctx: Ctx, parent: Record) -> None:
    for child in _children(ctx, parent.id):
        fqn = f"{parent.doc['FullyQualifiedName']}:{child.doc.get('DisplayName')}"
        level = int(parent.doc.get("Level", 0)) + 1
        if child.doc.get("FullyQualifiedName") == fqn and child.doc.get("Level") == level:
            continue
        child.doc["FullyQualifiedName"] = fqn
        child.doc["Level"] = level
        ctx.bump(child)
        _cascade_names(ctx, child)


def recompute_customer_balances(ctx: Ctx) -> None:
    """Balance = open invoices less unapplied payments; BalanceWithJobs adds the sub-tree.

    Only the customers this operation touched (see ``Ctx.touched``) and their ancestors can
    have changed, so only they are recomputed, each from its own transactions (indexed).
    A changed balance is a change to the customer, as in QBO: new SyncToken and LastUpdatedTime,
    so it shows in CDC and a client holding the old SyncToken gets 5010.
    """
    pending = sorted(ctx.touched.get("Customer", set()))
    if not pending:
        return
    targets: list[str] = []
    seen: set[str] = set()
    for cid in pending:
        current: str | None = cid
        while current is not None and current not in seen:
            seen.add(current)
            targets.append(current)
            record = ctx.get("Customer", current)
            current = None if record is None else ref_value(record.doc.get("ParentRef"))
    own: dict[str, Decimal] = {}
    totals: dict[str, Decimal] = {}

    def own_balance(cid: str) -> Decimal:
        if cid not in own:
            amounts = ctx.store.amounts(ctx.realm, ("Invoice", "Payment"), cid)
            own[cid] = sum((Decimal(a) for a in amounts), Decimal(0))
        return own[cid]

    def with_jobs(cid: str, path: frozenset[str]) -> Decimal:
        if cid in totals:
            return totals[cid]
        total = own_balance(cid)
        for child in _children(ctx, cid):
            if child.id not in path:
                total += with_jobs(child.id, path | {child.id})
        totals[cid] = total
        return total

    for cid in targets:
        record = ctx.get("Customer", cid)
        if record is None or record.deleted:
            continue
        balance = money(own_balance(cid))
        jobs = money(with_jobs(cid, frozenset({cid})))
        if record.doc.get("Balance") != balance or record.doc.get("BalanceWithJobs") != jobs:
            record.doc["Balance"] = balance
            record.doc["BalanceWithJobs"] = jobs
            ctx.bump(record)


def recompute_vendor_balances(ctx: Ctx) -> None:
    """Balance = open bills; a change bumps the vendor like any other change. Only vendors
    whose bills this operation saved are recomputed."""
    for vid in sorted(ctx.touched.get("Vendor", set())):
        record = ctx.get("Vendor", vid)
        if record is None or record.deleted:
            continue
        amounts = ctx.store.amounts(ctx.realm, ("Bill",), vid)
        balance = money(sum((Decimal(a) for a in amounts), Decimal(0)))
        if record.doc.get("Balance") != balance:
            record.doc["Balance"] = balance
            ctx.bump(record)


class VendorRule(EntityRule):
    name = "Vendor"
    resource = "vendor"
    name_list = True
    id_family = "Vendor"
    fields: ClassVar[frozenset[str]] = _NAME_BASE | frozenset(
        {
            "BillAddr",
            "OtherAddr",
            "ContactName",
            "AltContactName",
            "Notes",
            "TaxCountry",
            "TaxIdentifier",
            "BusinessNumber",
            "ParentRef",
            "VendorTypeRef",
            "TermRef",
            "PrefillAccountRef",
            "Balance",
            "BillRate",
            "CostRate",
            "AcctNum",
            "Vendor1099",
            "T4AEligible",
            "T5018Eligible",
            "CurrencyRef",
            "TaxReportingBasis",
            "APAccountRef",
            "VendorPaymentBankDetail",
            "GSTIN",
            "GSTRegistrationType",
            "IsSubContractor",
            "HasTPAR",
            "VendorEx",
            "OpenBalanceDate",
            "TaxRegime",
            "Source",
        }
    )
    computed: ClassVar[frozenset[str]] = frozenset({"Balance"})

    def build(
        self, ctx: Ctx, src: JsonDict, existing: Record | None, options: set[str]
    ) -> JsonDict:
        active = _active(src)
        base, name = list_name(display_name(src), active, existing)
        check_unique_display_name(ctx, self.name, existing.id if existing else None, base)
        doc: JsonDict = {}
        copy_optional(src, doc, ["BillAddr", "OtherAddr", "TaxIdentifier"])
        if src.get("TermRef") is not None:
            term = resolve(ctx, "Term", src["TermRef"], "TermRef")
            doc["TermRef"] = {"value": term.id}
        doc["Balance"] = existing.doc.get("Balance", 0) if existing else 0
        copy_optional(src, doc, ["AcctNum", "BillRate", "CostRate"])
        doc["Vendor1099"] = is_true(src.get("Vendor1099", False))
        doc["CurrencyRef"] = dict(USD)
        copy_optional(src, doc, _CONTACT_FIELDS)
        doc["DisplayName"] = name
        doc["PrintOnCheckName"] = text(src, "PrintOnCheckName") or base
        doc["Active"] = active
        return doc


class EmployeeRule(EntityRule):
    name = "Employee"
    resource = "employee"
    name_list = True
    id_family = "Employee"
    fields: ClassVar[frozenset[str]] = _NAME_BASE | frozenset(
        {
            "EmployeeType",
            "EmployeeNumber",
            "SSN",
            "PrimaryAddr",
            "OtherAddr",
            "BillableTime",
            "BillRate",
            "BirthDate",
            "Gender",
            "HiredDate",
            "ReleasedDate",
            "UseTimeEntry",
            "EmployeeEx",
            "CostRate",
        }
    )

    def build(
        self, ctx: Ctx, src: JsonDict, existing: Record | None, options: set[str]
    ) -> JsonDict:
        active = _active(src)
        base, name = list_name(display_name(src), active, existing)
        check_unique_display_name(ctx, self.name, existing.id if existing else None, base)
        doc: JsonDict = {}
        copy_optional(src, doc, ["EmployeeNumber", "SSN", "PrimaryAddr"])
        doc["BillableTime"] = is_true(src.get("BillableTime", False))
        copy_optional(
            src, doc, ["BillRate", "CostRate", "BirthDate", "Gender", "HiredDate", "ReleasedDate"]
        )
        copy_optional(src, doc, _CONTACT_FIELDS)
        doc["DisplayName"] = name
        given = " ".join(
            p for p in (text(src, "GivenName"), text(src, "FamilyName")) if p and p.strip()
        )
        doc["PrintOnCheckName"] = text(src, "PrintOnCheckName") or given or base
        doc["Active"] = active
        return doc
