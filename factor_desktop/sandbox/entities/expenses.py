"""Purchases (expenses, checks, card charges) and Bills with billable expense lines."""

from __future__ import annotations

import copy
from decimal import Decimal
from typing import ClassVar

from .. import faults
from ..context import Ctx
from ..store import JsonDict, Record
from .base import (
    NAME_ENTITIES,
    USD,
    EntityRule,
    account_ref,
    copy_optional,
    customer_ref,
    dec,
    find_account,
    is_true,
    item_ref,
    money,
    qty_price_amount,
    ref_to,
    ref_value,
    require_list,
    resolve,
    tax_code_ref,
    text,
)
from .dates import due_from_term, parse_date, txn_date
from .names import recompute_vendor_balances
from .sales import _TXN_COMMON

BILLABLE_STATUSES = ("Billable", "NotBillable", "HasBeenBilled")
PAYMENT_TYPES = ("Cash", "Check", "CreditCard")
_LINE_KEYS = ("AccountBasedExpenseLineDetail", "ItemBasedExpenseLineDetail")


def expense_lines(
    ctx: Ctx, raw_lines: list[JsonDict], existing: list[JsonDict] | None
) -> tuple[list[JsonDict], Decimal]:
    """Validate expense lines (account- or item-based, optionally billable to a customer)."""
    lines: list[JsonDict] = []
    total = Decimal(0)
    used = {str(line.get("Id")) for line in existing or [] if line.get("Id")}
    used |= {str(line.get("Id")) for line in raw_lines if line.get("Id") not in (None, "")}
    next_id = max((int(i) for i in used if i.isdigit()), default=0) + 1
    for raw in raw_lines:
        detail_type = text(raw, "DetailType")
        if detail_type is None:
            raise faults.required_param("Line.DetailType")
        if detail_type not in _LINE_KEYS:
            raise faults.invalid_enumeration(detail_type, "Line.DetailType")
        detail = copy.deepcopy(raw.get(detail_type) or {})
        out_detail: JsonDict = {}
        if detail_type == "AccountBasedExpenseLineDetail":
            if detail.get("AccountRef") is None:
                raise faults.required_param("AccountRef")
            out_detail["AccountRef"] = account_ref(ctx, detail["AccountRef"], "AccountRef")
            if raw.get("Amount") is None:
                raise faults.required_param("Line.Amount")
            amount = dec(raw["Amount"], "Line.Amount")
        else:
            if detail.get("ItemRef") is None:
                raise faults.required_param("ItemRef")
            _, out_detail["ItemRef"] = item_ref(ctx, detail["ItemRef"], "ItemRef")
            amount = qty_price_amount(detail, raw)
            copy_optional(detail, out_detail, ["UnitPrice", "Qty"])
        if detail.get("CustomerRef") is not None:
            _, out_detail["CustomerRef"] = customer_ref(ctx, detail["CustomerRef"], "CustomerRef")
        copy_optional(detail, out_detail, ["ClassRef", "MarkupInfo"])
        status = text(detail, "BillableStatus") or "NotBillable"
        if status not in BILLABLE_STATUSES:
            raise faults.invalid_enumeration(status, "BillableStatus")
        if status == "Billable" and "CustomerRef" not in out_detail:
            raise faults.business_validation(
                "A billable expense line needs a customer. Select a customer or clear Billable.",
                "BillableStatus",
            )
        out_detail["BillableStatus"] = status
        out_detail["TaxCodeRef"] = tax_code_ref(ctx, detail.get("TaxCodeRef"), "TaxCodeRef")
        line_id = raw.get("Id")
        if line_id in (None, ""):
            line_id = str(next_id)
            next_id += 1
        line: JsonDict = {"Id": str(line_id)}
        copy_optional(raw, line, ["Description"])
        line["Amount"] = money(amount)
        line["DetailType"] = detail_type
        line[detail_type] = out_detail
        copy_optional(raw, line, ["LinkedTxn", "ProjectRef"])
        lines.append(line)
        total += dec(line["Amount"])
    return lines, total


def _entity_ref(ctx: Ctx, ref: JsonDict) -> JsonDict:
    wanted = text(ref, "type")
    entities = (wanted,) if wanted in NAME_ENTITIES else NAME_ENTITIES
    if wanted is not None and wanted not in NAME_ENTITIES:
        raise faults.invalid_enumeration(wanted, "EntityRef.type")
    value = ref_value(ref)
    for entity in entities:
        record = ctx.get(entity, value or "")
        if record is not None:
            if record.doc.get("Active") is False:
                raise faults.object_not_found()
            out = ref_to(record)
            out["type"] = entity
            return out
    raise faults.invalid_reference("EntityRef")


class PurchaseRule(EntityRule):
    name = "Purchase"
    resource = "purchase"
    deletable = True
    id_family = "txn"
    fields: ClassVar[frozenset[str]] = _TXN_COMMON | frozenset(
        {
            "AccountRef",
            "PaymentType",
            "EntityRef",
            "Credit",
            "RemitToAddr",
            "TotalAmt",
            "NonTaxableAmt",
            "PrintStatus",
            "PaymentMethodRef",
            "PaymentRefNum",
            "PurchaseEx",
            "IncludeInAnnualTPAR",
            "ClassRef",
        }
    )

    def build(
        self, ctx: Ctx, src: JsonDict, existing: Record | None, options: set[str]
    ) -> JsonDict:
        payment_type = text(src, "PaymentType")
        if payment_type is None:
            raise faults.required_param("PaymentType")
        if payment_type not in PAYMENT_TYPES:
            raise faults.invalid_enumeration(payment_type, "PaymentType")
        if src.get("AccountRef") is None:
            raise faults.required_param("AccountRef")
        account = resolve(ctx, "Account", src["AccountRef"], "AccountRef")
        account_type = account.doc.get("AccountType")
        if payment_type == "CreditCard" and account_type != "Credit Card":
            raise faults.business_validation(
                "A credit card expense must use a credit card account.", "AccountRef"
            )
        if payment_type == "Check" and account_type != "Bank":
            raise faults.business_validation("A check must use a bank account.", "AccountRef")
        lines, total = expense_lines(
            ctx, require_list(src, "Line"), existing.doc.get("Line") if existing else None
        )
        doc: JsonDict = {"AccountRef": ref_to(account, "FullyQualifiedName")}
        doc["PaymentType"] = payment_type
        if src.get("EntityRef") is not None:
            doc["EntityRef"] = _entity_ref(ctx, src["EntityRef"])
        if payment_type == "CreditCard":
            doc["Credit"] = is_true(src.get("Credit", False))
        doc["TotalAmt"] = money(total)
        if payment_type == "Check":
            doc["PrintStatus"] = text(src, "PrintStatus") or "NotSet"
        copy_optional(src, doc, ["DocNumber"])
        doc["TxnDate"] = txn_date(ctx, src).isoformat()
        doc["CurrencyRef"] = dict(USD)
        copy_optional(src, doc, ["PrivateNote", "PaymentMethodRef", "DepartmentRef", "RemitToAddr"])
        doc["Line"] = lines
        return doc


class BillRule(EntityRule):
    name = "Bill"
    resource = "bill"
    deletable = True
    id_family = "txn"
    fields: ClassVar[frozenset[str]] = _TXN_COMMON | frozenset(
        {
            "VendorRef",
            "VendorAddr",
            "PayerRef",
            "SalesTermRef",
            "DueDate",
            "RemitToAddr",
            "ShipAddr",
            "APAccountRef",
            "TotalAmt",
            "Balance",
            "HomeBalance",
            "BillEx",
            "IncludeInAnnualTPAR",
        }
    )
    computed: ClassVar[frozenset[str]] = frozenset({"Balance", "HomeBalance", "LinkedTxn"})

    def build(
        self, ctx: Ctx, src: JsonDict, existing: Record | None, options: set[str]
    ) -> JsonDict:
        if src.get("VendorRef") is None:
            raise faults.required_param("VendorRef")
        vendor = resolve(ctx, "Vendor", src["VendorRef"], "VendorRef")
        lines, total = expense_lines(
            ctx, require_list(src, "Line"), existing.doc.get("Line") if existing else None
        )
        start = txn_date(ctx, src)
        term_ref = src.get("SalesTermRef") or vendor.doc.get("TermRef")
        term_doc: JsonDict | None = None
        term_out: JsonDict | None = None
        if term_ref is not None:
            term = resolve(ctx, "Term", term_ref, "SalesTermRef")
            term_doc = term.doc
            term_out = {"value": term.id}
        if src.get("DueDate") not in (None, ""):
            due = parse_date(src["DueDate"], "DueDate")
        elif term_doc is not None:
            due = due_from_term(term_doc, start)
        else:
            due = start
        doc: JsonDict = {"DueDate": due.isoformat(), "Balance": money(total)}
        copy_optional(src, doc, ["DocNumber"])
        doc["TxnDate"] = start.isoformat()
        doc["CurrencyRef"] = dict(USD)
        copy_optional(src, doc, ["PrivateNote", "DepartmentRef"])
        doc["LinkedTxn"] = copy.deepcopy(existing.doc.get("LinkedTxn", [])) if existing else []
        doc["Line"] = lines
        doc["VendorRef"] = ref_to(vendor)
        if src.get("APAccountRef") is not None:
            doc["APAccountRef"] = account_ref(ctx, src["APAccountRef"], "APAccountRef")
        else:
            payable = find_account(ctx, "Accounts Payable")
            if payable is not None:
                doc["APAccountRef"] = ref_to(payable, "FullyQualifiedName")
        if term_out is not None:
            doc["SalesTermRef"] = term_out
        doc["TotalAmt"] = money(total)
        return doc

    def after_write(self, ctx: Ctx, old: JsonDict | None, new: Record) -> None:
        recompute_vendor_balances(ctx)

    def after_delete(self, ctx: Ctx, old: Record) -> None:
        recompute_vendor_balances(ctx)
