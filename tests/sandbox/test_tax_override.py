"""Sales tax on invoices: computed from the tax code's rates, or the amount the client sends.

QuickBooks keeps a transaction's tax amount when the invoice carries both
`TxnTaxDetail.TxnTaxCodeRef` and `TxnTaxDetail.TotalTax` (intuit/QuickBooks-V3-PHP-SDK issue 199;
a client doing so in ruckus/quickbooks-ruby issue 547), and computes it otherwise.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from itertools import count
from typing import Any

import requests

from factor_desktop.qbo.mappers import InvoiceForQbo, InvoiceLineForQbo, invoice_payload
from factor_desktop.sandbox import SandboxServer
from factor_desktop.sandbox.seeds import _put

from .conftest import Api, invoice_body, new_customer

ALDER_COUNTY = "2"  # the empty company's tax code: one rate, 8.5%


_customers = count(1)


def _taxed(api: Api, *amounts: float, **tax: Any) -> dict[str, Any]:
    customer = new_customer(api, f"Taxed customer {next(_customers)}")
    body = invoice_body(customer["Id"], *amounts)
    for line in body["Line"]:
        line["SalesItemLineDetail"]["TaxCodeRef"] = {"value": "TAX"}
    body["TxnTaxDetail"] = {"TxnTaxCodeRef": {"value": ALDER_COUNTY}, **tax}
    return body


def test_without_a_total_the_tax_is_computed_from_the_codes_rate(api: Api) -> None:
    invoice = api.create("Invoice", _taxed(api, 3529.41))
    tax = invoice["TxnTaxDetail"]
    assert tax["TotalTax"] == 300.0  # 3529.41 * 8.5% = 299.99985
    assert "OverrideDeltaAmount" not in tax["TaxLine"][0]["TaxLineDetail"]
    assert invoice["TotalAmt"] == 3829.41


def test_a_total_sent_with_the_code_is_kept(api: Api) -> None:
    # Factor's 8.25% on 3529.41 is 291.18; the code's 8.5% would be 300.00.
    invoice = api.create("Invoice", _taxed(api, 3529.41, TotalTax=291.18))
    tax = invoice["TxnTaxDetail"]
    assert tax["TxnTaxCodeRef"] == {"value": ALDER_COUNTY}
    assert tax["TotalTax"] == 291.18
    (line,) = tax["TaxLine"]
    assert line["Amount"] == 291.18
    assert line["TaxLineDetail"]["OverrideDeltaAmount"] == -8.82
    assert line["TaxLineDetail"]["TaxPercent"] == 8.5
    assert invoice["TotalAmt"] == 3820.59 and invoice["Balance"] == 3820.59


def test_a_total_without_a_code_is_not_an_override(api: Api) -> None:
    body = _taxed(api, 100.0)
    body["TxnTaxDetail"] = {"TotalTax": 5}
    invoice = api.create("Invoice", body)
    # Computed, from the customer's default tax code, as without the amount.
    assert invoice["TxnTaxDetail"]["TotalTax"] == 8.5
    assert invoice["TotalAmt"] == 108.5


def test_an_update_keeps_an_override_and_recomputes_a_computed_tax(api: Api) -> None:
    computed = api.create("Invoice", _taxed(api, 100.0))
    overridden = api.create("Invoice", _taxed(api, 100.0, TotalTax=8.25))

    # A full update sending back what it read, with a changed line: computed again.
    body = {k: v for k, v in computed.items() if k not in ("MetaData", "domain", "sparse")}
    body["Line"] = [line for line in body["Line"] if line["DetailType"] != "SubTotalLineDetail"]
    body["Line"][0]["Amount"] = 200.0
    again = api.create("Invoice", body)
    assert again["TxnTaxDetail"]["TotalTax"] == 17.0 and again["TotalAmt"] == 217.0

    # A sparse update of the note: the override stays.
    noted = api.create(
        "Invoice",
        {
            "Id": overridden["Id"],
            "SyncToken": overridden["SyncToken"],
            "sparse": True,
            "PrivateNote": "Checked",
        },
    )
    assert noted["TxnTaxDetail"]["TotalTax"] == 8.25 and noted["TotalAmt"] == 108.25

    # A new amount sent with the code replaces it.
    changed = api.create(
        "Invoice",
        {
            "Id": noted["Id"],
            "SyncToken": noted["SyncToken"],
            "sparse": True,
            "TxnTaxDetail": {"TxnTaxCodeRef": {"value": ALDER_COUNTY}, "TotalTax": 8.0},
        },
    )
    assert changed["TxnTaxDetail"]["TotalTax"] == 8.0 and changed["TotalAmt"] == 108.0


def test_with_several_rates_the_difference_goes_on_the_last_line(
    qbo: SandboxServer, api: Api
) -> None:
    sandbox = qbo.sandbox
    with sandbox.store.transaction():
        for rate_id, name, value in (("7", "State", 6.25), ("8", "City", 2)):
            _put(sandbox, "TaxRate", rate_id, {"Name": name, "Active": True, "RateValue": value})
        _put(
            sandbox,
            "TaxCode",
            "9",
            {
                "Name": "State and City",
                "Active": True,
                "Taxable": True,
                "TaxGroup": True,
                "SalesTaxRateList": {
                    "TaxRateDetail": [
                        {"TaxRateRef": {"value": "7"}, "TaxTypeApplicable": "TaxOnAmount"},
                        {"TaxRateRef": {"value": "8"}, "TaxTypeApplicable": "TaxOnAmount"},
                    ]
                },
            },
        )
    body = _taxed(api, 1000.0, 234.56)
    body["TxnTaxDetail"]["TxnTaxCodeRef"] = {"value": "9"}
    computed = api.create("Invoice", body)["TxnTaxDetail"]
    assert [line["Amount"] for line in computed["TaxLine"]] == [77.16, 24.69]
    assert computed["TotalTax"] == 101.85

    body["TxnTaxDetail"]["TotalTax"] = 101.84  # Factor rounds the sum once, at 8.25%
    kept = api.create("Invoice", body)
    lines = kept["TxnTaxDetail"]["TaxLine"]
    assert [line["Amount"] for line in lines] == [77.16, 24.68]
    assert "OverrideDeltaAmount" not in lines[0]["TaxLineDetail"]
    assert lines[1]["TaxLineDetail"]["OverrideDeltaAmount"] == -0.01
    assert kept["TxnTaxDetail"]["TotalTax"] == 101.84 and kept["TotalAmt"] == 1336.40


def test_an_override_on_an_invoice_with_nothing_taxable(api: Api) -> None:
    body = _taxed(api, 100.0, TotalTax=0)
    body["Line"][0]["SalesItemLineDetail"]["TaxCodeRef"] = {"value": "NON"}
    invoice = api.create("Invoice", body)
    assert invoice["TxnTaxDetail"] == {
        "TxnTaxCodeRef": {"value": ALDER_COUNTY},
        "TotalTax": 0,
    }
    assert invoice["TotalAmt"] == 100.0


def test_factors_invoice_with_its_tax_override_totals_the_same_in_quickbooks(api: Api) -> None:
    # Factor: 8.25% on the taxable line; the company's only taxable code is 8.5%.
    customer = new_customer(api, "Override Customer")
    invoice = InvoiceForQbo(
        doc_number="INV-0038",
        customer_id=customer["Id"],
        txn_date=date(2025, 3, 3),
        lines=(
            InvoiceLineForQbo("Design", Decimal("26000.00"), item_id="1"),
            InvoiceLineForQbo("Printing", Decimal("3529.41"), item_id="1", taxable=True),
        ),
        tax_code_id=ALDER_COUNTY,
    )
    factor_tax = Decimal("291.18")
    sent = api.create("Invoice", invoice_payload(invoice, tax_override=factor_tax))
    assert sent["TxnTaxDetail"]["TotalTax"] == 291.18
    assert sent["TotalAmt"] == float(Decimal("26000.00") + Decimal("3529.41") + factor_tax)
    computed = api.create("Invoice", {**invoice_payload(invoice), "DocNumber": "INV-0039"})
    assert computed["TxnTaxDetail"]["TotalTax"] == 300.0  # what QuickBooks makes of it alone


def test_each_tax_line_rounds_half_a_cent_up(api: Api) -> None:
    # 8.5% of 1.00 is 0.085 exactly: 0.09, not the 0.08 of rounding halves to even.
    invoice = api.create("Invoice", _taxed(api, 1.0))
    assert invoice["TxnTaxDetail"]["TotalTax"] == 0.09 and invoice["TotalAmt"] == 1.09


def test_a_rate_changed_in_quickbooks_is_read_and_taxes_the_next_invoices(
    qbo: SandboxServer, api: Api
) -> None:
    before = api.read("TaxRate", "1")
    assert before["RateValue"] == 8.5
    changed = qbo.set_tax_rate("1", "9")
    assert changed["RateValue"] == 9 and changed["SyncToken"] != before["SyncToken"]
    assert api.read("TaxRate", "1")["RateValue"] == 9
    invoice = api.create("Invoice", _taxed(api, 250.0))
    assert invoice["TxnTaxDetail"]["TotalTax"] == 22.5 and invoice["TotalAmt"] == 272.5

    admin = f"{qbo.base_url}/_sandbox/admin/tax-rate"
    answer = requests.post(admin, json={"id": "1", "RateValue": "8.25"}, timeout=5)
    assert answer.status_code == 200 and answer.json()["RateValue"] == 8.25
    assert api.read("TaxRate", "1")["RateValue"] == 8.25
    assert requests.post(admin, json={"id": "1", "RateValue": "x"}, timeout=5).status_code == 400
    assert requests.post(admin, json={"id": "99", "RateValue": "1"}, timeout=5).status_code == 400
