"""What QuickBooks makes of an invoice sent to it: its subtotal, tax and total, predicted from
the payload and the tax codes read into the reference cache.

QuickBooks adds up the invoice's lines as sent, each Amount to the cent. Its tax is the amount
sent in `TxnTaxDetail.TotalTax` when the invoice carries it beside a tax code (an override, see
`services.tax_rules`); otherwise QuickBooks computes it from the tax code in
`TxnTaxDetail.TxnTaxCodeRef`: each of the code's sales rates applied to the amount of the lines
marked TAX, rounded to the cent (halves up), and those added up; nothing on a taxable amount of
zero or less. The sandbox computes it the same way (`sandbox/entities/sales.py`).

With Automated Sales Tax on, QuickBooks puts its own tax code on the invoice and computes the tax
from the addresses; "whenever an explicit tax amount is sent in the transaction request the AST
engine honors the amount and prorates it across tax rates in the AST-assigned tax code" (Intuit,
"Using QuickBooks Online API for automated sales tax", developer blog, December 2017). So an
override still fixes the figure, but without one the tax cannot be known before QuickBooks
computes it; nor can it when a rate of the tax code has not been read.

One computation serves both places that need it: a preview's recording writer answers an
invoice's create with this total, and the push compares it with Factor's total before sending.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from factor_desktop.qbo.mappers import effective_sales_rate

__all__ = ["QboInvoiceTotals", "TaxRates", "no_rates", "predict_invoice", "sales_rates"]

_CENT = Decimal("0.01")

#: A tax code's sales rates in percent, one per TaxRate it combines (each rounded on its own);
#: None when QuickBooks' tax with that code can't be known beforehand.
TaxRates = Callable[[str], Sequence[Decimal] | None]


def no_rates(_tax_code_id: str) -> Sequence[Decimal] | None:
    return None


@dataclass(frozen=True)
class QboInvoiceTotals:
    """QuickBooks' figures for an invoice. `tax` (and so `total`) is None when QuickBooks
    computes the tax from what only it knows: the addresses under Automated Sales Tax, or a rate
    not read yet."""

    subtotal: Decimal
    tax: Decimal | None
    # Whether the payload states its own tax (TxnTaxDetail.TotalTax beside the tax code).
    tax_sent: bool = False

    @property
    def total(self) -> Decimal | None:
        return None if self.tax is None else self.subtotal + self.tax


def sales_rates(
    tax_code: Mapping[str, Any], rate_values: Mapping[str, Any]
) -> list[Decimal] | None:
    """The sales rates a cached TaxCode combines (its `SalesTaxRateList.TaxRateDetail`), in
    percent, from the cached TaxRates' `RateValue`s; None when one of them is unknown."""
    rate_list = tax_code.get("SalesTaxRateList")
    details = rate_list.get("TaxRateDetail") if isinstance(rate_list, Mapping) else None
    rates: list[Decimal] = []
    for detail in details if isinstance(details, list) else []:
        if not isinstance(detail, Mapping):
            continue
        ref = detail.get("TaxRateRef")
        if not isinstance(ref, Mapping) or ref.get("value") in (None, ""):
            continue
        rate = effective_sales_rate({"SalesTaxRateList": {"TaxRateDetail": [detail]}}, rate_values)
        if rate is None:
            return None
        rates.append(rate)
    return rates


def _cents(value: Decimal) -> Decimal:
    return value.quantize(_CENT, ROUND_HALF_UP)


def _amount(value: Any) -> Decimal:
    """A JSON amount to the cent, halves up as QuickBooks rounds (0 when it is not a number)."""
    if value is None or isinstance(value, bool):
        return Decimal("0.00")
    try:
        number = Decimal(str(value))
    except ArithmeticError:
        return Decimal("0.00")
    return _cents(number) if number.is_finite() else Decimal("0.00")


def predict_invoice(invoice: Mapping[str, Any], rates: TaxRates) -> QboInvoiceTotals:
    """QuickBooks' subtotal, tax and total for an Invoice payload (see the module's notes).
    `rates` answers None for a tax code whose tax QuickBooks alone can compute (Automated Sales
    Tax on, or a rate not read)."""
    lines = invoice.get("Line")
    subtotal = Decimal("0.00")
    taxable = Decimal("0.00")
    for line in lines if isinstance(lines, list) else []:
        if not isinstance(line, Mapping) or line.get("DetailType") != "SalesItemLineDetail":
            continue
        amount = _amount(line.get("Amount"))
        subtotal += amount
        detail = line.get("SalesItemLineDetail")
        code = detail.get("TaxCodeRef") if isinstance(detail, Mapping) else None
        if isinstance(code, Mapping) and code.get("value") == "TAX":
            taxable += amount
    txn_tax = invoice.get("TxnTaxDetail")
    if not isinstance(txn_tax, Mapping):
        return QboInvoiceTotals(subtotal, Decimal("0.00"))
    code_ref = txn_tax.get("TxnTaxCodeRef")
    code_id = code_ref.get("value") if isinstance(code_ref, Mapping) else None
    if code_id in (None, ""):
        return QboInvoiceTotals(subtotal, Decimal("0.00"))
    if txn_tax.get("TotalTax") is not None:
        return QboInvoiceTotals(subtotal, _amount(txn_tax["TotalTax"]), tax_sent=True)
    if taxable <= 0:
        return QboInvoiceTotals(subtotal, Decimal("0.00"))
    code_rates = rates(str(code_id))
    if code_rates is None:
        return QboInvoiceTotals(subtotal, None)
    tax = sum((_cents(taxable * rate / 100) for rate in code_rates), Decimal("0.00"))
    return QboInvoiceTotals(subtotal, tax)
