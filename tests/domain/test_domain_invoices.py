"""Invoices: transitions, totals, due dates, custom fields and project details."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from factor_desktop.domain.errors import RuleViolation
from factor_desktop.domain.invoices import (
    QBO_CUSTOM_FIELD_LIMIT,
    CustomField,
    InvoiceLineInput,
    InvoiceStatus,
    InvoiceTotals,
    ProjectDetails,
    TaxTerm,
    check_can_delete,
    check_can_edit,
    check_can_finalize,
    check_can_void,
    compute_totals,
    due_date,
    line_amount,
    next_status_for_balance,
    validate_custom_fields,
)
from factor_desktop.domain.money import cents_from_int, to_cents

D = Decimal
S = InvoiceStatus
ISSUED = [S.FINAL, S.PARTIALLY_PAID, S.PAID]


# --- statuses and transitions -------------------------------------------------------------------


def test_status_values_are_what_the_store_saves() -> None:
    assert [s.value for s in S] == ["draft", "final", "partially_paid", "paid", "void"]
    assert S("partially_paid") is S.PARTIALLY_PAID
    assert S.PARTIALLY_PAID.label == "Partially paid"
    assert [s for s in S if s.is_issued] == ISSUED


def test_drafts_can_be_edited_and_deleted() -> None:
    check_can_edit(S.DRAFT, None)
    check_can_delete(S.DRAFT, None)


@pytest.mark.parametrize("status", ISSUED)
def test_finalized_invoices_are_locked(status: InvoiceStatus) -> None:
    with pytest.raises(RuleViolation) as raised:
        check_can_edit(status, "INV-0042")
    assert raised.value.code == "invoice_locked"
    assert raised.value.message.startswith("Invoice INV-0042 is finalized and locked")
    assert str(raised.value) == raised.value.message


def test_locked_message_tells_how_to_correct() -> None:
    with pytest.raises(RuleViolation, match="void it and create a new invoice"):
        check_can_edit(S.FINAL, "INV-0042")
    with pytest.raises(RuleViolation, match="remove the payments in QuickBooks"):
        check_can_edit(S.PARTIALLY_PAID, "INV-0042")


def test_void_invoices_cannot_be_edited() -> None:
    with pytest.raises(RuleViolation) as raised:
        check_can_edit(S.VOID, "INV-0007")
    assert raised.value.code == "invoice_void"
    assert raised.value.message == "Invoice INV-0007 is void and can't be changed."


@pytest.mark.parametrize("status", [*ISSUED, S.VOID])
def test_only_drafts_can_be_deleted(status: InvoiceStatus) -> None:
    with pytest.raises(RuleViolation) as raised:
        check_can_delete(status, "INV-0042")
    assert raised.value.code == "not_deletable"
    assert "INV-0042" in raised.value.message


def _finalize(**overrides: object) -> None:
    arguments: dict[str, object] = {"line_count": 2, "has_customer": True, "total": D("100.00")}
    arguments.update(overrides)
    status = arguments.pop("status", S.DRAFT)
    check_can_finalize(status, None, **arguments)  # type: ignore[arg-type]


def test_a_complete_draft_can_be_finalized() -> None:
    _finalize()


def test_a_zero_total_invoice_can_be_finalized() -> None:
    _finalize(total=D("0.00"))


@pytest.mark.parametrize(
    ("overrides", "code", "phrase"),
    [
        ({"line_count": 0}, "no_lines", "at least one line"),
        ({"has_customer": False}, "no_customer", "client or project"),
        ({"total": D("-0.01")}, "negative_total", "-$0.01"),
        ({"status": S.FINAL}, "not_draft", "already finalized"),
        ({"status": S.PAID}, "not_draft", "already finalized"),
        ({"status": S.VOID}, "not_draft", "is void"),
    ],
)
def test_finalize_refusals(overrides: dict[str, object], code: str, phrase: str) -> None:
    with pytest.raises(RuleViolation) as raised:
        _finalize(**overrides)
    assert raised.value.code == code
    assert phrase in raised.value.message


def test_void_is_allowed_without_payments() -> None:
    check_can_void(S.FINAL, D("0"), "INV-0042")
    # A zero-total invoice is PAID with nothing paid; it may still be voided.
    check_can_void(S.PAID, D("0.00"), "INV-0043")


def test_void_after_payment_is_refused_with_an_administrators_message() -> None:
    with pytest.raises(RuleViolation) as raised:
        check_can_void(S.PARTIALLY_PAID, D("500"), "INV-0042")
    assert raised.value.code == "payments_applied"
    assert raised.value.message == (
        "Invoice INV-0042 has $500.00 in payments applied. "
        "Remove the payments in QuickBooks before voiding it."
    )


def test_void_refusals_for_drafts_and_void_invoices() -> None:
    with pytest.raises(RuleViolation) as raised:
        check_can_void(S.DRAFT, D("0"), None)
    assert raised.value.code == "draft_not_voidable"
    assert "Delete it" in raised.value.message
    with pytest.raises(RuleViolation) as raised:
        check_can_void(S.VOID, D("0"), "INV-0001")
    assert raised.value.code == "already_void"


def test_void_with_a_negative_paid_amount_is_a_data_error() -> None:
    with pytest.raises(ValueError):
        check_can_void(S.FINAL, D("-1"), "INV-0001")


@pytest.mark.parametrize(
    ("total", "balance", "current", "expected"),
    [
        ("100", "100", S.FINAL, S.FINAL),
        ("100", "40", S.FINAL, S.PARTIALLY_PAID),
        ("100", "0", S.PARTIALLY_PAID, S.PAID),
        ("100", "100", S.PAID, S.FINAL),  # payment removed in QuickBooks
        ("100", "0.01", S.PAID, S.PARTIALLY_PAID),
        ("0", "0", S.FINAL, S.PAID),  # zero-total invoices are paid
        ("100", "100", S.DRAFT, S.DRAFT),
        ("0", "0", S.VOID, S.VOID),
        ("100", "20", S.VOID, S.VOID),
    ],
)
def test_status_follows_the_balance(
    total: str, balance: str, current: InvoiceStatus, expected: InvoiceStatus
) -> None:
    assert next_status_for_balance(D(total), D(balance), current) is expected


@pytest.mark.parametrize(("total", "balance"), [("100", "-1"), ("100", "100.01")])
def test_impossible_balances_are_refused(total: str, balance: str) -> None:
    with pytest.raises(ValueError, match="impossible"):
        next_status_for_balance(D(total), D(balance), S.FINAL)


# --- lines and totals ---------------------------------------------------------------------------


def test_line_amount_is_quantity_times_rate_rounded_once() -> None:
    assert line_amount(D("3"), D("33.335")) == D("100.01")
    assert line_amount(D("7.5"), D("185")) == D("1387.50")
    assert line_amount(D("0.333"), D("0.15")) == D("0.05")  # 0.04995
    assert line_amount(D("-1"), D("250")) == D("-250.00")


def test_priced_lines_keep_quantity_and_rate() -> None:
    line = InvoiceLineInput.priced(D("12.5"), D("165"), taxable=True, description="Design")
    assert line.amount == D("2062.50")
    assert (line.quantity, line.rate, line.taxable) == (D("12.5"), D("165"), True)


def test_line_amount_must_match_quantity_times_rate() -> None:
    with pytest.raises(ValueError, match="doesn't match"):
        InvoiceLineInput(amount=D("100"), quantity=D("2"), rate=D("49.99"))
    with pytest.raises(ValueError, match="both a quantity and a rate"):
        InvoiceLineInput(amount=D("100"), quantity=D("2"))


def test_line_amounts_are_taken_to_the_cent() -> None:
    assert InvoiceLineInput(D("10.005")).amount == D("10.01")
    with pytest.raises(TypeError):
        InvoiceLineInput(10.0)  # type: ignore[arg-type]


SALES_TAX = TaxTerm("CA", "California", D("7.25"))


def test_totals_without_tax() -> None:
    lines = [InvoiceLineInput(D("1000.00")), InvoiceLineInput(D("250.50"), taxable=True)]
    assert compute_totals(lines, None) == InvoiceTotals(
        subtotal=D("1250.50"), taxable_subtotal=D("250.50"), tax=D("0.00"), total=D("1250.50")
    )


def test_tax_is_on_the_taxable_subtotal_rounded_once() -> None:
    # Three taxable lines of 0.10 at 7.25%: per line 0.00725 → 0.01 each (0.03);
    # on the subtotal 0.30 x 7.25% = 0.02175 → 0.02.
    lines = [InvoiceLineInput(D("0.10"), taxable=True) for _ in range(3)]
    totals = compute_totals(lines, SALES_TAX)
    assert totals.taxable_subtotal == D("0.30")
    assert totals.tax == D("0.02")
    assert totals.total == D("0.32")


def test_tax_half_cent_rounds_up() -> None:
    totals = compute_totals(
        [InvoiceLineInput(D("100.00"), taxable=True)], TaxTerm("X", "X", D("0.005"))
    )
    assert totals.tax == D("0.01")  # exactly 0.005


def test_tax_ignores_non_taxable_lines() -> None:
    lines = [
        InvoiceLineInput(D("5000.00")),
        InvoiceLineInput(D("200.00"), taxable=True),
    ]
    totals = compute_totals(lines, SALES_TAX)
    assert totals.tax == D("14.50")
    assert totals.total == D("5214.50")


def test_tax_rounds_once_per_component_rate() -> None:
    term = TaxTerm("SF", "San Francisco", D("8.625"), components=(D("6"), D("2.625")))
    lines = [InvoiceLineInput(D("10.10"), taxable=True)]
    totals = compute_totals(lines, term)
    # 10.10 x 6% = 0.606 → 0.61; 10.10 x 2.625% = 0.265125 → 0.27; combined rate would give 0.87
    assert totals.tax == D("0.88")
    single = compute_totals(lines, TaxTerm("SF1", "San Francisco", D("8.625")))
    assert single.tax == D("0.87")


def test_tax_term_validation() -> None:
    with pytest.raises(ValueError, match="add up to"):
        TaxTerm("SF", "San Francisco", D("8.625"), components=(D("6"), D("2.5")))
    with pytest.raises(ValueError, match="negative"):
        TaxTerm("N", "Negative", D("-1"))
    with pytest.raises(ValueError, match="code"):
        TaxTerm(" ", "No code", D("1"))
    with pytest.raises(TypeError):
        TaxTerm("F", "Float", 7.25)  # type: ignore[arg-type]


def test_discount_lines_reduce_the_totals() -> None:
    lines = [
        InvoiceLineInput(D("1000.00"), taxable=True),
        InvoiceLineInput(D("-100.00"), taxable=True, description="Discount"),
        InvoiceLineInput(D("-50.00"), description="Retainer applied"),
    ]
    totals = compute_totals(lines, TaxTerm("T", "Tax", D("10")))
    assert totals.subtotal == D("850.00")
    assert totals.taxable_subtotal == D("900.00")
    assert totals.tax == D("90.00")
    assert totals.total == D("940.00")


def test_negative_taxable_subtotal_gives_negative_tax() -> None:
    totals = compute_totals(
        [InvoiceLineInput(D("-10.05"), taxable=True)], TaxTerm("T", "T", D("10"))
    )
    assert totals.tax == D("-1.01")  # -1.005 rounds away from zero


def test_no_lines_total_zero() -> None:
    assert compute_totals([], SALES_TAX) == InvoiceTotals(D("0"), D("0"), D("0"), D("0"))


line_strategy = st.builds(
    InvoiceLineInput,
    amount=st.integers(min_value=-(10**9), max_value=10**10).map(cents_from_int),
    taxable=st.booleans(),
)
rate_strategy = st.decimals(min_value=0, max_value=30, places=4)


@given(st.lists(line_strategy, max_size=20), st.none() | rate_strategy)
def test_total_is_subtotal_plus_tax(lines: list[InvoiceLineInput], rate: Decimal | None) -> None:
    term = None if rate is None else TaxTerm("T", "Tax", rate)
    totals = compute_totals(lines, term)
    assert totals.total == totals.subtotal + totals.tax
    assert totals.subtotal == sum((line.amount for line in lines), D(0))
    for value in (totals.subtotal, totals.taxable_subtotal, totals.tax, totals.total):
        assert value == to_cents(value)
    if term is None:
        assert totals.tax == 0


@given(
    st.decimals(min_value=0, max_value=10_000, places=4),
    st.decimals(min_value=0, max_value=10_000, places=4),
)
def test_priced_lines_always_validate(quantity: Decimal, rate: Decimal) -> None:
    line = InvoiceLineInput.priced(quantity, rate)
    assert line.amount == to_cents(quantity * rate)


# --- due dates ------------------------------------------------------------------------------------


def test_due_date() -> None:
    issued = date(2024, 1, 31)
    assert due_date(issued, 30) == date(2024, 3, 1)  # leap year
    assert due_date(issued, 0) == issued  # due on receipt
    assert due_date(issued, None) == date(2024, 3, 1)  # net 30 by default
    assert due_date(issued, None, default_days=15) == date(2024, 2, 15)
    assert due_date(date(2023, 12, 20), 15) == date(2024, 1, 4)


def test_due_date_refuses_bad_terms() -> None:
    with pytest.raises(ValueError, match="negative"):
        due_date(date(2024, 1, 1), -1)
    with pytest.raises(TypeError):
        due_date(date(2024, 1, 1), True)
    with pytest.raises(ValueError, match="too long"):
        due_date(date(2024, 1, 1), 10**7)


# --- custom fields and project details ------------------------------------------------------------


def test_custom_fields_are_trimmed_and_limited_to_31_characters() -> None:
    field = CustomField("  PO Number ", " 4500012345 ")
    assert (field.name, field.value) == ("PO Number", "4500012345")
    CustomField("N" * 31, "V" * 31)
    CustomField("Phase", "")
    with pytest.raises(ValueError, match="at most 31"):
        CustomField("N" * 32, "v")
    with pytest.raises(ValueError, match="at most 31"):
        CustomField("Phase", "V" * 32)
    with pytest.raises(ValueError, match="needs a name"):
        CustomField("  ", "v")


def test_at_most_three_custom_fields_sync() -> None:
    assert QBO_CUSTOM_FIELD_LIMIT == 3
    three = [CustomField("PO", "1"), CustomField("Phase", "SD"), CustomField("Contract", "A-1")]
    assert validate_custom_fields(three) == tuple(three)
    with pytest.raises(ValueError, match="at most 3"):
        validate_custom_fields([*three, CustomField("Extra", "x")])


def test_custom_field_names_are_unique() -> None:
    with pytest.raises(ValueError, match="more than once"):
        validate_custom_fields([CustomField("PO", "1"), CustomField("po", "2")])


def test_project_details() -> None:
    details = ProjectDetails(" 2417 ", " Riverside Library ")
    assert details.label == "2417 - Riverside Library"
    assert ProjectDetails("", "Riverside Library").label == "Riverside Library"
    assert ProjectDetails.from_dict(details.as_dict()) == details
    assert ProjectDetails.from_dict({"name": "Annex"}) == ProjectDetails("", "Annex")
    with pytest.raises(ValueError):
        ProjectDetails("2417", " ")
    with pytest.raises(ValueError):
        ProjectDetails.from_dict({"number": 2417, "name": "Annex"})
