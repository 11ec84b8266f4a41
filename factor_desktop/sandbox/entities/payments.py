"""Payment: amounts applied to a customer's invoices, whose balances follow (see `sales`)."""

from __future__ import annotations

from decimal import Decimal
from typing import ClassVar

from .. import faults
from ..context import Ctx
from ..store import JsonDict, Record
from .base import (
    USD,
    EntityRule,
    account_ref,
    copy_optional,
    customer_ref,
    dec,
    find_account,
    is_true,
    money,
    ref_value,
    text,
)
from .dates import txn_date
from .names import recompute_customer_balances
from .sales import (
    _TXN_COMMON,
    _customer_family,
    _voided_note,
    payment_applications,
    refresh_invoice,
)


class PaymentRule(EntityRule):
    name = "Payment"
    resource = "payment"
    deletable = True
    void_mode = "include"
    id_family = "txn"
    fields: ClassVar[frozenset[str]] = _TXN_COMMON | frozenset(
        {
            "CustomerRef",
            "RemitToRef",
            "ARAccountRef",
            "DepositToAccountRef",
            "PaymentMethodRef",
            "PaymentRefNum",
            "CreditCardPayment",
            "TotalAmt",
            "UnappliedAmt",
            "ProcessPayment",
            "PaymentEx",
            "TaxExemptionRef",
            "ClassRef",
        }
    )
    computed: ClassVar[frozenset[str]] = frozenset({"UnappliedAmt"})

    def build(
        self, ctx: Ctx, src: JsonDict, existing: Record | None, options: set[str]
    ) -> JsonDict:
        if src.get("CustomerRef") is None:
            raise faults.required_param("CustomerRef")
        customer, cref = customer_ref(ctx, src["CustomerRef"], "CustomerRef")
        if src.get("TotalAmt") is None:
            raise faults.required_param("TotalAmt")
        total = dec(src["TotalAmt"], "TotalAmt")
        if total < 0:
            raise faults.business_validation("A payment amount cannot be negative.", "TotalAmt")
        own_id = existing.id if existing else None
        family = _customer_family(ctx, customer.id)
        lines: list[JsonDict] = []
        applied_total = Decimal(0)
        for raw in src.get("Line") or []:
            if raw.get("Amount") is None:
                raise faults.required_param("Line.Amount")
            amount = dec(raw["Amount"], "Line.Amount")
            links: list[JsonDict] = []
            for link in raw.get("LinkedTxn") or []:
                txn_type = text(link, "TxnType")
                txn_id = text(link, "TxnId")
                if txn_type != "Invoice":
                    raise faults.invalid_reference_detail(
                        f"A payment can only be applied to invoices here ({txn_type}).",
                        "LinkedTxn.TxnType",
                    )
                invoice = ctx.get("Invoice", txn_id or "")
                if invoice is None:
                    raise faults.invalid_reference("LinkedTxn.TxnId")
                if invoice.deleted:
                    raise faults.deleted_transaction()
                if ref_value(invoice.doc.get("CustomerRef")) not in family:
                    raise faults.business_validation(
                        f"Invoice {invoice.doc.get('DocNumber', invoice.id)} belongs to another "
                        "customer. A payment can only be applied to its customer's invoices.",
                        "LinkedTxn",
                    )
                others = sum(
                    (a for _, a in payment_applications(ctx, invoice.id, exclude=own_id)),
                    Decimal(0),
                )
                open_amount = dec(invoice.doc.get("TotalAmt", 0)) - others
                if amount > open_amount:
                    raise faults.business_validation(
                        f"The payment amount {money(amount):.2f} applied to invoice "
                        f"{invoice.doc.get('DocNumber', invoice.id)} is more than its open "
                        f"balance of {money(open_amount):.2f}.",
                        "Line.Amount",
                    )
                links.append({"TxnId": invoice.id, "TxnType": "Invoice"})
            applied_total += amount
            lines.append({"Amount": money(amount), "LinkedTxn": links})
        if applied_total > total:
            raise faults.business_validation(
                "The amount applied to invoices is more than the payment amount.", "TotalAmt"
            )
        doc: JsonDict = {"CustomerRef": cref}
        if src.get("DepositToAccountRef") is not None:
            doc["DepositToAccountRef"] = account_ref(
                ctx, src["DepositToAccountRef"], "DepositToAccountRef"
            )
        else:
            undeposited = find_account(ctx, "Other Current Asset", "UndepositedFunds")
            if undeposited is not None:
                doc["DepositToAccountRef"] = {"value": undeposited.id}
        if src.get("ARAccountRef") is not None:
            doc["ARAccountRef"] = account_ref(ctx, src["ARAccountRef"], "ARAccountRef")
        copy_optional(src, doc, ["PaymentMethodRef", "PaymentRefNum"])
        doc["TotalAmt"] = money(total)
        doc["UnappliedAmt"] = money(total - applied_total)
        doc["ProcessPayment"] = is_true(src.get("ProcessPayment", False))
        doc["TxnDate"] = txn_date(ctx, src).isoformat()
        doc["CurrencyRef"] = dict(USD)
        copy_optional(src, doc, ["PrivateNote", "DocNumber", "ProjectRef"])
        doc["Line"] = lines
        return doc

    def after_write(self, ctx: Ctx, old: JsonDict | None, new: Record) -> None:
        for invoice_id in _linked_invoices(old) | _linked_invoices(new.doc):
            refresh_invoice(ctx, invoice_id)
        recompute_customer_balances(ctx)

    def after_delete(self, ctx: Ctx, old: Record) -> None:
        for invoice_id in _linked_invoices(old.doc):
            refresh_invoice(ctx, invoice_id)
        recompute_customer_balances(ctx)

    def void(self, ctx: Ctx, record: Record) -> None:
        doc = record.doc
        doc["TotalAmt"] = 0
        doc["UnappliedAmt"] = 0
        for line in doc.get("Line") or []:
            line["Amount"] = 0
        doc["PrivateNote"] = _voided_note(doc.get("PrivateNote"))
        record.internal["voided"] = True


def _linked_invoices(doc: JsonDict | None) -> set[str]:
    out: set[str] = set()
    for line in (doc or {}).get("Line") or []:
        for link in line.get("LinkedTxn") or []:
            if link.get("TxnType") == "Invoice" and link.get("TxnId") is not None:
                out.add(str(link["TxnId"]))
    return out
