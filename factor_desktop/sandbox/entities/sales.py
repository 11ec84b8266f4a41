"""Sales transactions: Invoice, with balances and links kept in step with the payments applied
to it (Payment is in `payments`)."""

from __future__ import annotations

import copy
import re
from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, ClassVar

from .. import faults
from ..context import Ctx
from ..store import JsonDict, Record
from .base import (
    CENT,
    USD,
    EntityRule,
    account_ref,
    copy_optional,
    customer_ref,
    dec,
    is_true,
    item_ref,
    money,
    number,
    number_lines,
    ordered_line,
    qty_price_amount,
    ref_value,
    require_list,
    resolve,
    tax_code_ref,
    text,
)
from .dates import due_from_term, parse_date, txn_date
from .lists import custom_field_definitions
from .names import recompute_customer_balances

_TXN_COMMON = frozenset(
    {
        "DocNumber",
        "TxnDate",
        "DepartmentRef",
        "CurrencyRef",
        "ExchangeRate",
        "PrivateNote",
        "TxnStatus",
        "LinkedTxn",
        "Line",
        "TxnTaxDetail",
        "TxnSource",
        "TaxFormType",
        "TaxFormNum",
        "TransactionLocationType",
        "Tag",
        "TxnApprovalInfo",
        "RecurDataRef",
        "ProjectRef",
        "GlobalTaxCalculation",
        "HomeTotalAmt",
        "TotalAmt",
    }
)
_SALES_COMMON = _TXN_COMMON | frozenset(
    {
        "AutoDocNumber",
        "CustomerRef",
        "CustomerMemo",
        "BillAddr",
        "ShipAddr",
        "FreeFormAddress",
        "ShipFromAddr",
        "RemitToRef",
        "ClassRef",
        "SalesTermRef",
        "DueDate",
        "SalesRepRef",
        "PONumber",
        "FOB",
        "ShipMethodRef",
        "ShipDate",
        "TrackingNum",
        "PrintStatus",
        "EmailStatus",
        "BillEmail",
        "BillEmailCc",
        "BillEmailBcc",
        "ARAccountRef",
        "Balance",
        "HomeBalance",
        "FinanceCharge",
        "PaymentMethodRef",
        "PaymentRefNum",
        "PaymentType",
        "CreditCardPayment",
        "DepositToAccountRef",
        "DeliveryInfo",
        "DiscountRate",
        "DiscountAmt",
        "GovtTxnRefIdentifier",
        "TaxExemptionRef",
        "ApplyTaxAfterDiscount",
        "CustomField",
        "TemplateRef",
        "AllowIPNPayment",
        "AllowOnlinePayment",
        "AllowOnlineCreditCardPayment",
        "AllowOnlineACHPayment",
        "EInvoiceStatus",
        "ECloudStatusTimeStamp",
        "CfdiUse",
        "Exportation",
        "Deposit",
        "InvoiceLink",
        "callToAction",
        "invoiceStatusLog",
        "InvoiceEx",
        "LessCIS",
        "TaxFormType",
        "ConvenienceFeeDetail",
        "PaymentDetailsMessage",
        "SalesTransactionEx",
    }
)
_TRAILING_NUMBER = re.compile(r"^(.*?)(\d+)$")


def _next_doc_number(ctx: Ctx, entity: str) -> str:
    """Continue the company's numbering from the latest numbered document, keeping any prefix."""
    records = ctx.all(entity, include_deleted=True)
    used = {str(r.doc.get("DocNumber") or r.internal.get("DocNumber") or "") for r in records}
    latest: str | None = None
    for record in sorted(records, key=lambda r: int(r.id) if r.id.isdigit() else 0):
        number_text = record.doc.get("DocNumber") or record.internal.get("DocNumber")
        if number_text and _TRAILING_NUMBER.match(str(number_text)):
            latest = str(number_text)
    if latest is None:
        candidate = "1001"
    else:
        match = _TRAILING_NUMBER.match(latest)
        assert match is not None
        prefix, digits = match.group(1), match.group(2)
        candidate = f"{prefix}{int(digits) + 1:0{len(digits)}d}"
    while candidate in used:
        match = _TRAILING_NUMBER.match(candidate)
        assert match is not None
        prefix, digits = match.group(1), match.group(2)
        candidate = f"{prefix}{int(digits) + 1:0{len(digits)}d}"
    return candidate


def _check_duplicate_doc_number(
    ctx: Ctx, entity: str, doc_number: str, own_id: str | None, options: set[str]
) -> None:
    if "allowduplicatedocnum" in options:
        return
    # The store indexes DocNumber casefolded; the comparison itself is exact.
    for record in ctx.store.find(ctx.realm, (entity,), "f_docnum", doc_number.casefold()):
        if record.id != own_id and str(record.doc.get("DocNumber", "")) == doc_number:
            raise faults.duplicate_doc_number(doc_number, entity, record.id)


def payment_applications(
    ctx: Ctx, invoice_id: str, *, exclude: str | None = None
) -> list[tuple[str, Decimal]]:
    """(payment Id, amount) for every live payment line applied to the invoice."""
    out: list[tuple[str, Decimal]] = []
    for payment in ctx.all("Payment"):
        if payment.id == exclude:
            continue
        for line in payment.doc.get("Line") or []:
            for link in line.get("LinkedTxn") or []:
                if link.get("TxnType") == "Invoice" and str(link.get("TxnId")) == invoice_id:
                    out.append((payment.id, dec(line.get("Amount", 0))))
    return out


def refresh_invoice(ctx: Ctx, invoice_id: str) -> None:
    """Recompute an invoice's Balance and its Payment links from the payments applied to it."""
    record = ctx.get("Invoice", invoice_id)
    if record is None or record.deleted:
        return
    applied = payment_applications(ctx, invoice_id)
    total = dec(record.doc.get("TotalAmt", 0))
    paid = sum((amount for _, amount in applied), Decimal(0))
    balance = money(max(total - paid, Decimal(0)))
    payment_ids: list[str] = []
    for pid, amount in applied:
        if amount > 0 and pid not in payment_ids:
            payment_ids.append(pid)
    links = [
        link for link in record.doc.get("LinkedTxn") or [] if link.get("TxnType") != "Payment"
    ] + [{"TxnId": pid, "TxnType": "Payment"} for pid in payment_ids]
    if record.doc.get("Balance") != balance or record.doc.get("LinkedTxn") != links:
        record.doc["Balance"] = balance
        record.doc["LinkedTxn"] = links
        ctx.bump(record)


def _customer_family(ctx: Ctx, customer_id: str) -> set[str]:
    """The customer and all of its sub-customers."""
    family = {customer_id}
    changed = True
    customers = ctx.all("Customer")
    while changed:
        changed = False
        for record in customers:
            parent = ref_value(record.doc.get("ParentRef"))
            if parent in family and record.id not in family:
                family.add(record.id)
                changed = True
    return family


class InvoiceRule(EntityRule):
    name = "Invoice"
    resource = "invoice"
    deletable = True
    void_mode = "operation"
    id_family = "txn"
    id_start = 1
    has_doc_number_sequence = True
    fields: ClassVar[frozenset[str]] = _SALES_COMMON
    computed: ClassVar[frozenset[str]] = frozenset(
        {"TotalAmt", "Balance", "HomeBalance", "HomeTotalAmt", "LinkedTxn", "InvoiceLink"}
    )

    def build(
        self, ctx: Ctx, src: JsonDict, existing: Record | None, options: set[str]
    ) -> JsonDict:
        if src.get("CustomerRef") is None:
            raise faults.required_param("CustomerRef")
        customer, cref = customer_ref(ctx, src["CustomerRef"], "CustomerRef")
        raw_lines = require_list(src, "Line")
        prefs = ctx.preferences()
        using_tax = bool((prefs.get("TaxPrefs") or {}).get("UsingSalesTax"))
        lines: list[JsonDict] = []
        subtotal = Decimal(0)
        taxable = Decimal(0)
        discounts: list[JsonDict] = []
        for raw in raw_lines:
            detail_type = text(raw, "DetailType")
            if detail_type == "SubTotalLineDetail":
                continue
            line: JsonDict = {}
            copy_optional(raw, line, ["Id", "Description"])
            if detail_type == "SalesItemLineDetail":
                detail = copy.deepcopy(raw.get("SalesItemLineDetail") or {})
                item_value = detail.get("ItemRef")
                if item_value is None:
                    default = next(
                        (r for r in ctx.all("Item") if r.doc.get("Name") == "Services"), None
                    )
                    if default is None:
                        raise faults.required_param("ItemRef")
                    item_value = {"value": default.id}
                item, iref = item_ref(ctx, item_value, "ItemRef")
                amount = qty_price_amount(detail, raw)
                out_detail: JsonDict = {"ItemRef": iref}
                copy_optional(detail, out_detail, ["ClassRef", "ServiceDate", "UnitPrice", "Qty"])
                if detail.get("TaxCodeRef") is not None:
                    out_detail["TaxCodeRef"] = tax_code_ref(ctx, detail["TaxCodeRef"], "TaxCodeRef")
                else:
                    taxed = using_tax and bool(item.doc.get("Taxable"))
                    out_detail["TaxCodeRef"] = {"value": "TAX" if taxed else "NON"}
                line["Amount"] = money(amount)
                line["DetailType"] = detail_type
                line["SalesItemLineDetail"] = out_detail
                subtotal += dec(line["Amount"])
                if out_detail["TaxCodeRef"]["value"] != "NON":
                    taxable += dec(line["Amount"])
            elif detail_type == "DescriptionOnly":
                line["DetailType"] = detail_type
                detail = copy.deepcopy(raw.get("DescriptionLineDetail") or {})
                line["DescriptionLineDetail"] = detail
                if raw.get("Amount") is not None:
                    line["Amount"] = money(dec(raw["Amount"], "Line.Amount"))
            elif detail_type == "DiscountLineDetail":
                detail = copy.deepcopy(raw.get("DiscountLineDetail") or {})
                out_detail = {"PercentBased": is_true(detail.get("PercentBased", False))}
                if out_detail["PercentBased"]:
                    out_detail["DiscountPercent"] = number(
                        dec(detail.get("DiscountPercent", 0), "DiscountPercent")
                    )
                if detail.get("DiscountAccountRef") is not None:
                    out_detail["DiscountAccountRef"] = account_ref(
                        ctx, detail["DiscountAccountRef"], "DiscountAccountRef"
                    )
                line["Amount"] = money(dec(raw.get("Amount", 0), "Line.Amount"))
                line["DetailType"] = detail_type
                line["DiscountLineDetail"] = out_detail
                discounts.append(line)
            elif detail_type is None:
                raise faults.required_param("Line.DetailType")
            else:
                raise faults.invalid_enumeration(detail_type, "Line.DetailType")
            lines.append(line)
        if not any(line["DetailType"] == "SalesItemLineDetail" for line in lines):
            raise faults.business_validation("You must select a product/service or an amount.")
        number_lines(lines, existing.doc.get("Line") if existing else None)
        discount_total = Decimal(0)
        for line in discounts:
            detail = line["DiscountLineDetail"]
            if detail["PercentBased"]:
                line["Amount"] = money(subtotal * dec(detail["DiscountPercent"]) / 100)
            discount_total += dec(line["Amount"])
        lines = [ordered_line(line) for line in lines]
        lines.append(
            {
                "Amount": money(subtotal),
                "DetailType": "SubTotalLineDetail",
                "SubTotalLineDetail": {},
            }
        )
        tax_detail, total_tax = self._tax(ctx, src, customer.doc, taxable, existing)
        total = subtotal - discount_total + total_tax
        doc: JsonDict = {
            "AllowIPNPayment": is_true(src.get("AllowIPNPayment", False)),
            "AllowOnlinePayment": is_true(src.get("AllowOnlinePayment", False)),
            "AllowOnlineCreditCardPayment": is_true(src.get("AllowOnlineCreditCardPayment", False)),
            "AllowOnlineACHPayment": is_true(src.get("AllowOnlineACHPayment", False)),
        }
        doc["CustomField"] = self._custom_fields(prefs, src)
        doc["DocNumber"] = self._doc_number(ctx, src, existing, prefs, options)
        start = txn_date(ctx, src)
        doc["TxnDate"] = start.isoformat()
        doc["CurrencyRef"] = dict(USD)
        copy_optional(src, doc, ["PrivateNote", "DepartmentRef", "ClassRef"])
        doc["LinkedTxn"] = copy.deepcopy(existing.doc.get("LinkedTxn", [])) if existing else []
        doc["Line"] = lines
        doc["TxnTaxDetail"] = tax_detail
        doc["CustomerRef"] = cref
        copy_optional(src, doc, ["CustomerMemo"])
        for key in ("BillAddr", "ShipAddr"):
            if src.get(key) is not None:
                doc[key] = copy.deepcopy(src[key])
            elif customer.doc.get(key) is not None:
                doc[key] = copy.deepcopy(customer.doc[key])
        term_ref = src.get("SalesTermRef")
        if term_ref is None:
            term_ref = customer.doc.get("SalesTermRef")
        term_doc: JsonDict | None = None
        if term_ref is not None:
            term = resolve(ctx, "Term", term_ref, "SalesTermRef")
            doc["SalesTermRef"] = {"value": term.id, "name": term.doc.get("Name")}
            term_doc = term.doc
        if src.get("DueDate") not in (None, ""):
            due = parse_date(src["DueDate"], "DueDate")
        elif term_doc is not None:
            due = due_from_term(term_doc, start)
        else:
            due = start + timedelta(days=30)
        doc["DueDate"] = due.isoformat()
        copy_optional(src, doc, ["ShipDate", "TrackingNum", "ShipMethodRef", "PONumber"])
        doc["TotalAmt"] = money(total)
        doc["ApplyTaxAfterDiscount"] = is_true(src.get("ApplyTaxAfterDiscount", False))
        doc["PrintStatus"] = text(src, "PrintStatus") or "NeedToPrint"
        doc["EmailStatus"] = text(src, "EmailStatus") or "NotSet"
        if src.get("BillEmail") is not None:
            doc["BillEmail"] = copy.deepcopy(src["BillEmail"])
        elif customer.doc.get("PrimaryEmailAddr") is not None:
            doc["BillEmail"] = copy.deepcopy(customer.doc["PrimaryEmailAddr"])
        copy_optional(src, doc, ["BillEmailCc", "BillEmailBcc", "DeliveryInfo", "ProjectRef"])
        paid = Decimal(0)
        if existing is not None:
            paid = sum((amount for _, amount in payment_applications(ctx, existing.id)), Decimal(0))
            if total < paid:
                raise faults.business_validation(
                    "The invoice total cannot be less than the payments already applied to it.",
                    "TotalAmt",
                )
        doc["Balance"] = money(total - paid)
        return doc

    def _tax(
        self,
        ctx: Ctx,
        src: JsonDict,
        customer: JsonDict,
        taxable: Decimal,
        existing: Record | None = None,
    ) -> tuple[JsonDict, Decimal]:
        """The invoice's `TxnTaxDetail` and its total tax.

        QuickBooks computes the tax from the tax code named in `TxnTaxDetail.TxnTaxCodeRef`: one
        TaxLine per sales rate of the code, each the taxable amount times the rate, rounded to
        the cent (halves up, as the sandbox rounds every amount).
        A client overrides that by sending `TxnTaxDetail.TotalTax` with the code: "The only case
        it matters is when you override the tax, in which case you will provide
        TxnTaxDetail.TxnTaxCodeRef and TxnTaxDetail.TotalTax" (Intuit's SDK maintainer,
        https://github.com/intuit/QuickBooks-V3-PHP-SDK/issues/199; a client sending Factor's
        figure that way, with its TaxLine, in https://github.com/ruckus/quickbooks-ruby/issues/547).
        The amount sent is kept: the TaxLines are computed as usual and the difference goes on
        the last one, which says so in `TaxLineDetail.OverrideDeltaAmount` ("the difference
        between the actual tax and the overridden amount supplied by the user", Intuit's
        TaxLineDetail field reference). Spreading the difference on the last line is an
        inference: the sources do not say which line QuickBooks adjusts.

        `TotalTax` without a code, or no `TotalTax`, is computed. An update that sends back the
        `TxnTaxDetail` it read (a full update echoing a computed tax, or a sparse update, which
        carries the stored one) is computed again from the new lines, unless the stored tax was
        itself an override, which stays.
        """
        sent = src.get("TxnTaxDetail") or {}
        requested = ref_value(sent.get("TxnTaxCodeRef"))
        if requested is None and taxable > 0 and ctx.preference("TaxPrefs", "UsingSalesTax"):
            requested = ref_value(customer.get("DefaultTaxCodeRef"))
        if requested is None or not requested.isdigit():
            return {"TotalTax": 0}, Decimal(0)
        code = ctx.get("TaxCode", requested)
        if code is None:
            raise faults.invalid_reference("TxnTaxDetail.TxnTaxCodeRef")
        override = self._override(sent, existing)
        detail: JsonDict = {"TxnTaxCodeRef": {"value": code.id}}
        tax_lines: list[JsonDict] = []
        total = Decimal(0)
        if taxable > 0:
            rate_list = (code.doc.get("SalesTaxRateList") or {}).get("TaxRateDetail") or []
            for rate_detail in rate_list:
                rate_id = ref_value(rate_detail.get("TaxRateRef"))
                rate = ctx.get("TaxRate", rate_id) if rate_id else None
                if rate is None:
                    continue
                percent = dec(rate.doc.get("RateValue", 0))
                amount = (taxable * percent / 100).quantize(CENT, rounding=ROUND_HALF_UP)
                total += amount
                tax_lines.append(
                    {
                        "Amount": money(amount),
                        "DetailType": "TaxLineDetail",
                        "TaxLineDetail": {
                            "TaxRateRef": {"value": rate.id},
                            "PercentBased": True,
                            "TaxPercent": number(percent),
                            "NetAmountTaxable": money(taxable),
                        },
                    }
                )
        if override is not None and override != total:
            delta = override - total
            if tax_lines:
                last = tax_lines[-1]
                last["Amount"] = money(dec(last["Amount"]) + delta)
                last["TaxLineDetail"]["OverrideDeltaAmount"] = money(delta)
            total = override
        detail["TotalTax"] = money(total)
        if taxable > 0:
            detail["TaxLine"] = tax_lines
        return detail, total

    @staticmethod
    def _override(sent: JsonDict, existing: Record | None) -> Decimal | None:
        """The tax amount the client overrides with, if it does (see `_tax`)."""
        if sent.get("TotalTax") is None or ref_value(sent.get("TxnTaxCodeRef")) is None:
            return None
        amount = dec(sent["TotalTax"], "TxnTaxDetail.TotalTax").quantize(CENT)
        stored = existing.doc.get("TxnTaxDetail") if existing is not None else None
        if isinstance(stored, dict) and sent == stored:
            overridden = any(
                "OverrideDeltaAmount" in (line.get("TaxLineDetail") or {})
                for line in stored.get("TaxLine") or []
            )
            return amount if overridden else None
        return amount

    def _custom_fields(self, prefs: JsonDict, src: JsonDict) -> list[JsonDict]:
        values: dict[str, Any] = {}
        for field in src.get("CustomField") or []:
            if isinstance(field, dict) and field.get("DefinitionId") is not None:
                values[str(field["DefinitionId"])] = field.get("StringValue")
        out: list[JsonDict] = []
        for definition in custom_field_definitions(prefs):
            entry = dict(definition)
            value = values.get(definition["DefinitionId"])
            if value not in (None, ""):
                entry["StringValue"] = str(value)
            out.append(entry)
        return out

    def _doc_number(
        self, ctx: Ctx, src: JsonDict, existing: Record | None, prefs: JsonDict, options: set[str]
    ) -> str:
        custom = bool((prefs.get("SalesFormsPrefs") or {}).get("CustomTxnNumbers"))
        supplied = text(src, "DocNumber")
        if supplied is not None:
            supplied = supplied.strip() or None
        if existing is not None and (supplied is None or not custom):
            kept = existing.doc.get("DocNumber")
            if kept:
                return str(kept)
        if supplied is not None and custom:
            if len(supplied) > 21:
                raise faults.single(
                    "String length is either shorter or longer than supported by specification",
                    f"String length specified does not match the supported length. Min:0 Max:21 "
                    f"supplied length:{len(supplied)}",
                    "2050",
                    "DocNumber",
                )
            _check_duplicate_doc_number(
                ctx, self.name, supplied, existing.id if existing else None, options
            )
            return supplied
        return _next_doc_number(ctx, self.name)

    def after_write(self, ctx: Ctx, old: JsonDict | None, new: Record) -> None:
        recompute_customer_balances(ctx)

    def after_delete(self, ctx: Ctx, old: Record) -> None:
        _unlink_payments(ctx, old.id)
        recompute_customer_balances(ctx)

    def void(self, ctx: Ctx, record: Record) -> None:
        doc = record.doc
        for line in doc.get("Line") or []:
            if "Amount" in line:
                line["Amount"] = 0
            detail = line.get("SalesItemLineDetail")
            if isinstance(detail, dict) and "Qty" in detail:
                detail["Qty"] = 0
        tax = doc.get("TxnTaxDetail") or {}
        doc["TxnTaxDetail"] = {
            **({"TxnTaxCodeRef": tax["TxnTaxCodeRef"]} if "TxnTaxCodeRef" in tax else {}),
            "TotalTax": 0,
        }
        doc["PrivateNote"] = _voided_note(doc.get("PrivateNote"))
        doc["TotalAmt"] = 0
        doc["Balance"] = 0
        record.internal["voided"] = True
        _unlink_payments(ctx, record.id)
        doc["LinkedTxn"] = [
            link for link in doc.get("LinkedTxn") or [] if link.get("TxnType") != "Payment"
        ]


def _voided_note(note: Any) -> str:
    return "Voided" if not note else f"Voided - {note}"


def _unlink_payments(ctx: Ctx, invoice_id: str) -> None:
    """A voided or deleted invoice releases the payment amounts applied to it."""
    for payment in ctx.all("Payment"):
        lines = payment.doc.get("Line") or []
        kept = [
            line
            for line in lines
            if not any(
                link.get("TxnType") == "Invoice" and str(link.get("TxnId")) == invoice_id
                for link in line.get("LinkedTxn") or []
            )
        ]
        if len(kept) != len(lines):
            applied = sum((dec(line.get("Amount", 0)) for line in kept), Decimal(0))
            payment.doc["Line"] = kept
            payment.doc["UnappliedAmt"] = money(dec(payment.doc.get("TotalAmt", 0)) - applied)
            ctx.bump(payment)
