"""QuickBooks Online JSON for what Factor Desktop pushes: customers, sub-customers and invoices.

Pure functions: plain values and dataclasses in, QBO JSON dicts out. No SQL, no HTTP, no Qt; the
sync layer gathers the values from the store and sends the result with the client.

Names
-----
QuickBooks keeps one namespace for the DisplayName of every customer, sub-customer, vendor and
employee, inactive ones included, and compares names without regard to case or repeated spaces.
It refuses a colon in a DisplayName (the colon separates the levels of a FullyQualifiedName,
``Client:Project``). :func:`qbo_display_name` turns a Factor name into the DisplayName Factor
Desktop sends, and :func:`customer_matches` compares a QuickBooks record's name with a Factor name
the way QuickBooks' uniqueness rule does.

Invoices
--------
QuickBooks checks each sales line's ``Amount`` against ``Qty * UnitPrice`` and refuses a mismatch
(error 6070). Factor lines carry an amount rounded to the cent from quantity * rate, so a line
whose quantity and rate do not multiply to its amount *exactly* is sent with its amount only:
the amount is what the client owes and what Factor's totals add up. US companies mark each line
``TAX`` or ``NON`` and name the invoice's tax code in ``TxnTaxDetail.TxnTaxCodeRef``.

Tax
---
Given only the tax code, QuickBooks computes the tax itself, at the code's rates (or, with
Automated Sales Tax on, from the addresses). It keeps the tax amount a client sends when the
invoice carries both ``TxnTaxDetail.TxnTaxCodeRef`` and ``TxnTaxDetail.TotalTax`` (Intuit's SDK
maintainer: "The only case it matters is when you override the tax, in which case you will
provide TxnTaxDetail.TxnTaxCodeRef and TxnTaxDetail.TotalTax", intuit/QuickBooks-V3-PHP-SDK
issue 199). :func:`invoice_payload` sends Factor's tax that way when asked (``tax_override``), so
QuickBooks' total equals Factor's whatever the code's rate. A code's rate is the sum of its sales
tax rates (:func:`effective_sales_rate`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

__all__ = [
    "DELETED_SUFFIX",
    "MAX_CUSTOMER_MEMO_LENGTH",
    "MAX_CUSTOM_FIELDS",
    "MAX_DISPLAY_NAME_LENGTH",
    "MAX_PRIVATE_NOTE_LENGTH",
    "InvoiceForQbo",
    "InvoiceLineForQbo",
    "automated_sales_tax",
    "custom_field_definitions",
    "customer_matches",
    "customer_payload",
    "decimal_of",
    "effective_sales_rate",
    "invoice_payload",
    "invoice_private_note",
    "line_payload",
    "live_name",
    "match_custom_fields",
    "name_key",
    "qbo_display_name",
    "sub_customer_payload",
]

JsonDict = dict[str, Any]

#: The longest DisplayName Factor Desktop sends (QuickBooks' customer name field holds 100).
MAX_DISPLAY_NAME_LENGTH = 100
#: QuickBooks' limit on an invoice's customer memo (the message printed on the invoice).
MAX_CUSTOMER_MEMO_LENGTH = 1000
#: QuickBooks' limit on a transaction's private note.
MAX_PRIVATE_NOTE_LENGTH = 4000
#: QuickBooks Online takes at most three string custom fields on a sales form.
MAX_CUSTOM_FIELDS = 3
#: What QuickBooks appends to the name of a customer, vendor or employee made inactive.
DELETED_SUFFIX = " (deleted)"

_CENT = Decimal("0.01")
_WHITESPACE = re.compile(r"\s+")
_CUSTOM_NAME_KEY = re.compile(r"^SalesFormsPrefs\.SalesCustomName(\d+)$")
_CUSTOM_USE_KEY = re.compile(r"^SalesFormsPrefs\.UseSalesCustom(\d+)$")


# --- names -----------------------------------------------------------------------------------


def _collapse(text: str) -> str:
    return _WHITESPACE.sub(" ", text).strip()


def qbo_display_name(name: str) -> str:
    """The DisplayName Factor Desktop gives a client's or project's QuickBooks twin.

    * every colon becomes " - " (QuickBooks refuses ':' in names: it separates the levels of a
      FullyQualifiedName), so "Smith:Jones" becomes "Smith - Jones";
    * runs of whitespace (tabs, line breaks, repeated spaces) become one space, and surrounding
      spaces go;
    * the result is cut to 100 characters (at a character, then trailing spaces removed).

    The same Factor name always gives the same DisplayName, so the twin is found again by name.
    """
    text = _collapse(name.replace(":", " - "))
    return text[:MAX_DISPLAY_NAME_LENGTH].rstrip()


def name_key(name: str) -> str:
    """How QuickBooks tells names apart: case ignored, whitespace runs as one space."""
    return _collapse(name).casefold()


def live_name(record: Mapping[str, Any], key: str = "DisplayName") -> str:
    """A customer's, vendor's or employee's name without the " (deleted)" QuickBooks shows
    while it is inactive: the name it still holds in QuickBooks' namespace."""
    name = str(record.get(key) or "")
    if record.get("Active") is False and name.endswith(DELETED_SUFFIX):
        return name[: -len(DELETED_SUFFIX)]
    return name


def customer_matches(qbo_customer: Mapping[str, Any], name: str) -> bool:
    """Whether a QuickBooks customer (or vendor, or employee) holds the DisplayName that the
    Factor name `name` would get, by QuickBooks' uniqueness rule (case and repeated spaces
    ignored; an inactive record still holds its name)."""
    wanted = name_key(qbo_display_name(name))
    return bool(wanted) and name_key(live_name(qbo_customer)) == wanted


# --- customers -------------------------------------------------------------------------------


def _clean(value: str | None) -> str | None:
    if value is None:
        return None
    text = _collapse(value)
    return text or None


def customer_payload(
    display_name: str,
    *,
    email: str | None = None,
    phone: str | None = None,
    address_line1: str | None = None,
    city: str | None = None,
    region: str | None = None,
    postal_code: str | None = None,
) -> JsonDict:
    """A top-level Customer for a Factor client. `display_name` goes through
    :func:`qbo_display_name`; empty contact fields are left out."""
    name = qbo_display_name(display_name)
    if not name:
        raise ValueError("A QuickBooks customer needs a name.")
    payload: JsonDict = {"DisplayName": name, "CompanyName": name}
    if (address := _clean(email)) is not None:
        payload["PrimaryEmailAddr"] = {"Address": address}
    if (number := _clean(phone)) is not None:
        payload["PrimaryPhone"] = {"FreeFormNumber": number}
    bill_addr: JsonDict = {}
    for key, value in (
        ("Line1", address_line1),
        ("City", city),
        ("CountrySubDivisionCode", region),
        ("PostalCode", postal_code),
    ):
        if (text := _clean(value)) is not None:
            bill_addr[key] = text
    if bill_addr:
        payload["BillAddr"] = bill_addr
    return payload


def sub_customer_payload(
    display_name: str,
    parent_id: str,
    bill_with_parent: bool = True,
    *,
    site_address: str | None = None,
) -> JsonDict:
    """A sub-customer (QuickBooks job) for a Factor project, under the client's customer.

    `bill_with_parent` makes QuickBooks bill the parent customer for the project's invoices
    (its balance rolls up to the client), as a firm bills its client per project.
    `site_address`, the project's address, becomes the sub-customer's shipping address.
    """
    name = qbo_display_name(display_name)
    if not name:
        raise ValueError("A QuickBooks sub-customer needs a name.")
    if not str(parent_id).strip():
        raise ValueError("A QuickBooks sub-customer needs its parent customer.")
    payload: JsonDict = {
        "DisplayName": name,
        "Job": True,
        "ParentRef": {"value": str(parent_id)},
        "BillWithParent": bool(bill_with_parent),
    }
    if (address := _clean(site_address)) is not None:
        payload["ShipAddr"] = {"Line1": address[:500]}
    return payload


# --- invoices --------------------------------------------------------------------------------


@dataclass(frozen=True)
class InvoiceLineForQbo:
    """One invoice line as QuickBooks receives it.

    `item_id` is the QuickBooks product/service the line is booked to; None leaves the choice to
    QuickBooks (its default "Services" item). `taxable` marks the line TAX when the invoice has a
    tax code.
    """

    description: str
    amount: Decimal
    quantity: Decimal = Decimal(1)
    rate: Decimal | None = None
    item_id: str | None = None
    taxable: bool = False


@dataclass(frozen=True)
class InvoiceForQbo:
    """A finalized Factor invoice, with every Factor reference already resolved to a QBO Id.

    `customer_id` is the project's sub-customer (or the client's customer). `tax_code_id` is
    the QuickBooks tax code of the invoice's tax term, or None when the invoice carries no tax
    (every line then goes as NON). `custom_fields` are (DefinitionId, value) pairs, at most
    three. `project_label` ("2417 - Riverside Library") heads the customer memo printed on the
    invoice; `private_note` is the note only the firm sees in QuickBooks.
    """

    doc_number: str
    customer_id: str
    txn_date: date
    lines: tuple[InvoiceLineForQbo, ...]
    due_date: date | None = None
    tax_code_id: str | None = None
    custom_fields: tuple[tuple[str, str], ...] = field(default=())
    memo: str | None = None
    project_label: str | None = None
    private_note: str | None = None


def _json_number(value: Decimal) -> int | float:
    """A Decimal as a JSON number; money and rates keep their exact decimal text."""
    if value == value.to_integral_value():
        return int(value)
    return float(value)


def _qty_and_price_agree(line: InvoiceLineForQbo) -> bool:
    """Whether Qty * UnitPrice equals the amount exactly, so QuickBooks cannot refuse the line
    with 6070 nor recompute a different amount."""
    if line.rate is None:
        return False
    return line.quantity * line.rate == line.amount


def line_payload(line: InvoiceLineForQbo, *, taxed: bool) -> JsonDict:
    """A SalesItemLineDetail line. `taxed`: the invoice carries a tax code, so taxable lines
    are marked TAX (all lines are NON otherwise)."""
    detail: JsonDict = {}
    if line.item_id is not None:
        detail["ItemRef"] = {"value": str(line.item_id)}
    if _qty_and_price_agree(line):
        assert line.rate is not None
        detail["Qty"] = _json_number(line.quantity)
        detail["UnitPrice"] = _json_number(line.rate)
    detail["TaxCodeRef"] = {"value": "TAX" if taxed and line.taxable else "NON"}
    payload: JsonDict = {}
    description = line.description.strip()
    if description:
        payload["Description"] = description[:4000]
    payload["Amount"] = _json_number(line.amount)
    payload["DetailType"] = "SalesItemLineDetail"
    payload["SalesItemLineDetail"] = detail
    return payload


def invoice_private_note(
    number: str, *, project_number: str = "", project_name: str = "", client_name: str = ""
) -> str:
    """The note only the firm sees in QuickBooks, naming where the invoice came from:
    "Factor Desktop invoice INV-0042; project 2417 Riverside Library; client City of Alder"."""
    parts = [f"Factor Desktop invoice {number}"]
    project = " ".join(p for p in (project_number.strip(), project_name.strip()) if p)
    if project:
        parts.append(f"project {project}")
    if client_name.strip():
        parts.append(f"client {client_name.strip()}")
    return "; ".join(parts)[:MAX_PRIVATE_NOTE_LENGTH]


def _customer_memo(inv: InvoiceForQbo) -> str | None:
    parts = []
    if inv.project_label and inv.project_label.strip():
        parts.append(f"Project: {inv.project_label.strip()}")
    if inv.memo and inv.memo.strip():
        parts.append(inv.memo.strip())
    if not parts:
        return None
    return "\n\n".join(parts)[:MAX_CUSTOMER_MEMO_LENGTH]


def invoice_payload(inv: InvoiceForQbo, *, tax_override: Decimal | None = None) -> JsonDict:
    """The Invoice to create in QuickBooks: the same DocNumber, customer, dates, lines, tax
    code, custom fields and notes as the Factor invoice.

    `tax_override`: Factor's tax amount for the invoice, sent as ``TxnTaxDetail.TotalTax`` beside
    the tax code so that QuickBooks keeps it rather than computing its own (see the module's
    notes). It needs the invoice's tax code and is a non-negative amount in whole cents. None
    lets QuickBooks compute the tax.
    """
    if tax_override is not None:
        if inv.tax_code_id is None:
            raise ValueError(
                f"Invoice {inv.doc_number}: a tax amount goes to QuickBooks only with a tax code."
            )
        if not tax_override.is_finite() or tax_override < 0:
            raise ValueError(
                f"Invoice {inv.doc_number}: the tax amount {tax_override} is not valid."
            )
        if tax_override != tax_override.quantize(_CENT):
            raise ValueError(
                f"Invoice {inv.doc_number}: the tax amount {tax_override} has fractions of a cent."
            )
    if not inv.doc_number.strip():
        raise ValueError("An invoice goes to QuickBooks with its number.")
    if not inv.lines:
        raise ValueError(f"Invoice {inv.doc_number} has no lines.")
    if len(inv.custom_fields) > MAX_CUSTOM_FIELDS:
        raise ValueError(
            f"Invoice {inv.doc_number} has {len(inv.custom_fields)} custom fields; QuickBooks "
            f"Online takes at most {MAX_CUSTOM_FIELDS}."
        )
    definition_ids = [definition_id for definition_id, _ in inv.custom_fields]
    if len(set(definition_ids)) != len(definition_ids):
        raise ValueError(f"Invoice {inv.doc_number} fills one QuickBooks custom field twice.")
    taxed = inv.tax_code_id is not None
    payload: JsonDict = {
        "DocNumber": inv.doc_number.strip(),
        "TxnDate": inv.txn_date.isoformat(),
        "CustomerRef": {"value": str(inv.customer_id)},
        "Line": [line_payload(line, taxed=taxed) for line in inv.lines],
    }
    if inv.due_date is not None:
        payload["DueDate"] = inv.due_date.isoformat()
    if inv.tax_code_id is not None:
        payload["TxnTaxDetail"] = {"TxnTaxCodeRef": {"value": str(inv.tax_code_id)}}
        if tax_override is not None:
            payload["TxnTaxDetail"]["TotalTax"] = _json_number(tax_override.quantize(_CENT))
    if inv.custom_fields:
        payload["CustomField"] = [
            {"DefinitionId": str(definition_id), "Type": "StringType", "StringValue": value}
            for definition_id, value in inv.custom_fields
        ]
    memo = _customer_memo(inv)
    if memo is not None:
        payload["CustomerMemo"] = {"value": memo}
    if inv.private_note and inv.private_note.strip():
        payload["PrivateNote"] = inv.private_note.strip()[:MAX_PRIVATE_NOTE_LENGTH]
    return payload


# --- custom fields ----------------------------------------------------------------------------


def _name_values(group: Any) -> Iterable[Mapping[str, Any]]:
    if isinstance(group, Mapping):
        inner = group.get("CustomField")
        if isinstance(inner, list):
            for entry in inner:
                if isinstance(entry, Mapping):
                    yield entry
            return
        yield group


def custom_field_definitions(preferences: Mapping[str, Any]) -> dict[str, str]:
    """The sales-form custom fields a company has switched on: {name: DefinitionId}.

    QuickBooks lists them in ``Preferences.SalesFormsPrefs.CustomField`` as name/value pairs:
    ``SalesFormsPrefs.UseSalesCustomN`` (on or off) and ``SalesFormsPrefs.SalesCustomNameN``
    (the name), N being the DefinitionId (1 to 3).
    """
    sales = preferences.get("SalesFormsPrefs")
    groups = sales.get("CustomField") if isinstance(sales, Mapping) else None
    names: dict[str, str] = {}
    enabled: dict[str, bool] = {}
    for group in groups if isinstance(groups, list) else []:
        for entry in _name_values(group):
            key = str(entry.get("Name") or "")
            if match := _CUSTOM_NAME_KEY.match(key):
                value = entry.get("StringValue")
                if isinstance(value, str) and value.strip():
                    names[match.group(1)] = value.strip()
            elif match := _CUSTOM_USE_KEY.match(key):
                enabled[match.group(1)] = entry.get("BooleanValue") in (True, "true")
    return {
        name: definition_id
        for definition_id, name in sorted(names.items())
        if enabled.get(definition_id, False)
    }


def match_custom_fields(
    fields: Sequence[tuple[str, str]], definitions: Mapping[str, str]
) -> tuple[list[tuple[str, str]], list[str]]:
    """Pair Factor custom fields (name, value) with QuickBooks' definitions by name (case and
    repeated spaces ignored). Returns the (DefinitionId, value) pairs to send, in Factor's order,
    and the names QuickBooks has no field for. Empty values are not sent."""
    by_key = {name_key(name): definition_id for name, definition_id in definitions.items()}
    matched: list[tuple[str, str]] = []
    unmatched: list[str] = []
    used: set[str] = set()
    for name, value in fields:
        definition_id = by_key.get(name_key(name))
        if definition_id is None:
            unmatched.append(name)
            continue
        if definition_id in used or not value.strip():
            continue
        used.add(definition_id)
        matched.append((definition_id, value.strip()))
    return matched, unmatched


# --- reading answers ---------------------------------------------------------------------------


def decimal_of(value: Any) -> Decimal | None:
    """A QuickBooks JSON number (``TotalAmt``) as a Decimal to the cent, or None."""
    if value is None or isinstance(value, bool):
        return None
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
    if not number.is_finite():
        return None
    return number.quantize(Decimal("0.01"))


# --- tax rates ----------------------------------------------------------------------------------


def _percent(value: Any) -> Decimal | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
    return number if number.is_finite() else None


def _plain(value: Decimal) -> Decimal:
    """8.50 as 8.5 and 10.0 as 10 (never 1E+1)."""
    if value == value.to_integral_value():
        return value.quantize(Decimal(1))
    return value.normalize()


def effective_sales_rate(
    tax_code: Mapping[str, Any], rate_values: Mapping[str, Any]
) -> Decimal | None:
    """A tax code's sales rate in percent: the sum of the ``RateValue``s of the TaxRates its
    ``SalesTaxRateList.TaxRateDetail`` entries name (``TaxRateRef``). `rate_values` maps a
    TaxRate Id to its ``RateValue``. A code that combines no sales rates (QuickBooks' "NON") is
    0%; None when a rate it names is unknown (not read, or without a value)."""
    rate_list = tax_code.get("SalesTaxRateList")
    details = rate_list.get("TaxRateDetail") if isinstance(rate_list, Mapping) else None
    total = Decimal(0)
    for detail in details if isinstance(details, list) else []:
        if not isinstance(detail, Mapping):
            continue
        ref = detail.get("TaxRateRef")
        rate_id = ref.get("value") if isinstance(ref, Mapping) else None
        if rate_id in (None, ""):
            continue
        value = _percent(rate_values.get(str(rate_id)))
        if value is None:
            return None
        total += value
    return _plain(total)


def automated_sales_tax(preferences: Mapping[str, Any]) -> bool | None:
    """Whether Automated Sales Tax is on (``TaxPrefs.PartnerTaxEnabled``); None when the
    Preferences do not say."""
    tax = preferences.get("TaxPrefs")
    value = tax.get("PartnerTaxEnabled") if isinstance(tax, Mapping) else None
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    return None
