"""The QuickBooks JSON Factor Desktop sends: names, customers, sub-customers and invoices."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

import pytest

from factor_desktop.qbo.mappers import (
    InvoiceForQbo,
    InvoiceLineForQbo,
    custom_field_definitions,
    customer_matches,
    customer_payload,
    decimal_of,
    invoice_payload,
    invoice_private_note,
    line_payload,
    match_custom_fields,
    qbo_display_name,
    sub_customer_payload,
)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Smith:Jones Partners", "Smith - Jones Partners"),
        ("Smith: Jones Partners", "Smith - Jones Partners"),
        ("  Harbor   &\tPine\nHoldings ", "Harbor & Pine Holdings"),
        ("a:b:c", "a - b - c"),
        ("O'Brien & Sons", "O'Brien & Sons"),
    ],
)
def test_display_names_have_no_colon_and_single_spaces(name: str, expected: str) -> None:
    assert qbo_display_name(name) == expected


def test_display_names_are_cut_to_100_characters_without_a_trailing_space() -> None:
    name = "x" * 99 + " yz"
    shown = qbo_display_name(name)
    assert shown == "x" * 99
    assert len(qbo_display_name("y" * 150)) == 100


def test_customer_matches_the_way_quickbooks_compares_names() -> None:
    assert customer_matches({"DisplayName": "HARBOR &  pine Holdings"}, "Harbor & Pine Holdings")
    assert customer_matches({"DisplayName": "Smith - Jones"}, "Smith:Jones")
    assert not customer_matches({"DisplayName": "Harbor & Pine"}, "Harbor & Pine Holdings")
    # An inactive customer still holds its name, shown with " (deleted)".
    inactive = {"DisplayName": "Tanaka Residence (deleted)", "Active": False}
    assert customer_matches(inactive, "tanaka residence")
    # An active customer really named like that is another name.
    assert not customer_matches({"DisplayName": "Tanaka Residence (deleted)"}, "Tanaka Residence")
    assert not customer_matches({"DisplayName": ""}, "")


def test_customer_payload_carries_contact_details_and_leaves_empty_ones_out() -> None:
    payload = customer_payload(
        "City of Alder: Parks",
        email=" parks@alder.example ",
        phone=None,
        address_line1="1 Civic Plaza",
        city="Port Alder",
        region="CA",
        postal_code="",
    )
    assert payload == {
        "DisplayName": "City of Alder - Parks",
        "CompanyName": "City of Alder - Parks",
        "PrimaryEmailAddr": {"Address": "parks@alder.example"},
        "BillAddr": {
            "Line1": "1 Civic Plaza",
            "City": "Port Alder",
            "CountrySubDivisionCode": "CA",
        },
    }
    with pytest.raises(ValueError):
        customer_payload("  ")


def test_sub_customer_payload_is_a_job_under_its_parent() -> None:
    assert sub_customer_payload("Phase 1: Design", "58") == {
        "DisplayName": "Phase 1 - Design",
        "Job": True,
        "ParentRef": {"value": "58"},
        "BillWithParent": True,
    }
    alone = sub_customer_payload("Library", "58", bill_with_parent=False, site_address="1 Quay St")
    assert alone["BillWithParent"] is False
    assert alone["ShipAddr"] == {"Line1": "1 Quay St"}


def test_qty_and_unit_price_go_only_when_they_multiply_to_the_amount_exactly() -> None:
    exact = line_payload(
        InvoiceLineForQbo("CA hours", Decimal("300.00"), Decimal("2.5"), Decimal("120"), "7"),
        taxed=False,
    )
    assert exact["Amount"] == 300
    assert exact["SalesItemLineDetail"]["Qty"] == 2.5
    assert exact["SalesItemLineDetail"]["UnitPrice"] == 120
    assert exact["SalesItemLineDetail"]["ItemRef"] == {"value": "7"}
    # 3 x 33.333 = 99.999, billed as 100.00: QBO would refuse Qty/UnitPrice with 6070.
    rounded = line_payload(
        InvoiceLineForQbo("Site visits", Decimal("100.00"), Decimal("3"), Decimal("33.333")),
        taxed=False,
    )
    assert rounded["Amount"] == 100
    assert "Qty" not in rounded["SalesItemLineDetail"]
    assert "UnitPrice" not in rounded["SalesItemLineDetail"]
    assert "ItemRef" not in rounded["SalesItemLineDetail"]
    # An amount alone (no rate) is sent as an amount.
    fee = line_payload(InvoiceLineForQbo("Fee", Decimal("10000.10")), taxed=False)
    assert fee["Amount"] == 10000.1 and "Qty" not in fee["SalesItemLineDetail"]


def test_lines_are_tax_or_non_as_us_companies_mark_them() -> None:
    taxable = InvoiceLineForQbo("Printing", Decimal("250.00"), taxable=True)
    plain = InvoiceLineForQbo("Design", Decimal("1000.00"))
    assert line_payload(taxable, taxed=True)["SalesItemLineDetail"]["TaxCodeRef"] == {
        "value": "TAX"
    }
    assert line_payload(plain, taxed=True)["SalesItemLineDetail"]["TaxCodeRef"] == {"value": "NON"}
    # Without a tax code on the invoice nothing is taxed, as in Factor.
    assert line_payload(taxable, taxed=False)["SalesItemLineDetail"]["TaxCodeRef"] == {
        "value": "NON"
    }


def _invoice(**changes: object) -> InvoiceForQbo:
    values: dict[str, object] = {
        "doc_number": "INV-0042",
        "customer_id": "61",
        "txn_date": date(2025, 3, 3),
        "due_date": date(2025, 4, 2),
        "lines": (
            InvoiceLineForQbo("Schematic Design", Decimal("10000.00"), item_id="1"),
            InvoiceLineForQbo("Printing", Decimal("250.00"), item_id="9", taxable=True),
        ),
        "tax_code_id": "2",
        "custom_fields": (("1", "P-101"), ("3", "Crew A")),
        "memo": "Thank you.",
        "project_label": "P-101 - Waterfront Library",
        "private_note": invoice_private_note(
            "INV-0042",
            project_number="P-101",
            project_name="Waterfront Library",
            client_name="Harbor & Pine",
        ),
    }
    values.update(changes)
    return InvoiceForQbo(**values)  # type: ignore[arg-type]


def test_invoice_payload_has_the_same_number_customer_dates_tax_and_fields() -> None:
    payload = invoice_payload(_invoice())
    json.dumps(payload)  # plain JSON: no Decimal or date objects left
    assert payload["DocNumber"] == "INV-0042"
    assert payload["CustomerRef"] == {"value": "61"}
    assert payload["TxnDate"] == "2025-03-03" and payload["DueDate"] == "2025-04-02"
    assert payload["TxnTaxDetail"] == {"TxnTaxCodeRef": {"value": "2"}}
    assert [line["SalesItemLineDetail"]["TaxCodeRef"]["value"] for line in payload["Line"]] == [
        "NON",
        "TAX",
    ]
    assert payload["CustomField"] == [
        {"DefinitionId": "1", "Type": "StringType", "StringValue": "P-101"},
        {"DefinitionId": "3", "Type": "StringType", "StringValue": "Crew A"},
    ]
    assert payload["CustomerMemo"] == {"value": "Project: P-101 - Waterfront Library\n\nThank you."}
    assert payload["PrivateNote"] == (
        "Factor Desktop invoice INV-0042; project P-101 Waterfront Library; client Harbor & Pine"
    )


def test_an_untaxed_invoice_sends_no_tax_code_and_optional_parts_are_left_out() -> None:
    payload = invoice_payload(
        _invoice(
            tax_code_id=None,
            custom_fields=(),
            memo=None,
            project_label=None,
            private_note=None,
            due_date=None,
        )
    )
    assert set(payload) == {"DocNumber", "TxnDate", "CustomerRef", "Line"}
    assert all(
        line["SalesItemLineDetail"]["TaxCodeRef"]["value"] == "NON" for line in payload["Line"]
    )


def test_a_tax_override_sends_factors_tax_beside_the_tax_code() -> None:
    payload = invoice_payload(_invoice(), tax_override=Decimal("20.63"))
    json.dumps(payload)
    assert payload["TxnTaxDetail"] == {"TxnTaxCodeRef": {"value": "2"}, "TotalTax": 20.63}
    # The lines are as without the override: QuickBooks still knows what is taxable.
    assert payload["Line"] == invoice_payload(_invoice())["Line"]
    whole = invoice_payload(_invoice(), tax_override=Decimal("21.00"))
    assert whole["TxnTaxDetail"]["TotalTax"] == 21
    zero = invoice_payload(_invoice(), tax_override=Decimal("0"))
    assert zero["TxnTaxDetail"] == {"TxnTaxCodeRef": {"value": "2"}, "TotalTax": 0}


def test_a_tax_override_needs_a_tax_code_and_an_amount_in_cents() -> None:
    with pytest.raises(ValueError, match="only with a tax code"):
        invoice_payload(_invoice(tax_code_id=None), tax_override=Decimal("1.00"))
    with pytest.raises(ValueError, match="fractions of a cent"):
        invoice_payload(_invoice(), tax_override=Decimal("20.625"))
    with pytest.raises(ValueError, match="not valid"):
        invoice_payload(_invoice(), tax_override=Decimal("-0.01"))
    with pytest.raises(ValueError, match="not valid"):
        invoice_payload(_invoice(), tax_override=Decimal("NaN"))


def test_invoice_payload_refuses_what_quickbooks_would_refuse() -> None:
    with pytest.raises(ValueError, match="at most 3"):
        invoice_payload(_invoice(custom_fields=(("1", "a"), ("2", "b"), ("3", "c"), ("4", "d"))))
    with pytest.raises(ValueError, match="twice"):
        invoice_payload(_invoice(custom_fields=(("1", "a"), ("1", "b"))))
    with pytest.raises(ValueError, match="no lines"):
        invoice_payload(_invoice(lines=()))
    long_memo = invoice_payload(_invoice(memo="m" * 2000, project_label=None))
    assert len(long_memo["CustomerMemo"]["value"]) == 1000


def _preferences(enabled: dict[str, bool], names: dict[str, str]) -> dict[str, object]:
    return {
        "SalesFormsPrefs": {
            "CustomField": [
                {
                    "CustomField": [
                        {
                            "Name": f"SalesFormsPrefs.UseSalesCustom{n}",
                            "Type": "BooleanType",
                            "BooleanValue": enabled.get(n, False),
                        }
                        for n in ("1", "2", "3")
                    ]
                },
                {
                    "CustomField": [
                        {
                            "Name": f"SalesFormsPrefs.SalesCustomName{n}",
                            "Type": "StringType",
                            "StringValue": name,
                        }
                        for n, name in names.items()
                    ]
                },
            ]
        }
    }


def test_custom_field_definitions_are_the_switched_on_ones_by_name() -> None:
    prefs = _preferences({"1": True, "2": False, "3": True}, {"1": "Crew #", "2": "Old", "3": "PO"})
    assert custom_field_definitions(prefs) == {"Crew #": "1", "PO": "3"}
    assert custom_field_definitions({}) == {}


def test_custom_fields_match_by_name_and_report_the_unknown_ones() -> None:
    definitions = {"Crew #": "1", "Project No.": "2"}
    matched, unmatched = match_custom_fields(
        [("project  no.", "P-101"), ("Phase", "CD"), ("Crew #", "")], definitions
    )
    assert matched == [("2", "P-101")]
    assert unmatched == ["Phase"]


def test_decimal_of_reads_quickbooks_amounts_to_the_cent() -> None:
    assert decimal_of(10671.25) == Decimal("10671.25")
    assert decimal_of("0") == Decimal("0.00")
    assert decimal_of(None) is None and decimal_of("n/a") is None and decimal_of(True) is None
