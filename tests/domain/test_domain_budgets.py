"""Project budgets: per-line status, pro-rata collections, unbudgeted spend and totals."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from factor_desktop.domain.budgets import (
    Actuals,
    AppliedPayment,
    BilledLine,
    BudgetLine,
    CostEntry,
    actuals_by_key,
    budget_status,
)
from factor_desktop.domain.money import ZERO, cents_from_int
from factor_desktop.domain.status import InvoiceStatus

D = Decimal
S = InvoiceStatus

BUDGET = [
    BudgetLine("SD", "service", "Schematic Design", D("20000")),
    BudgetLine("CD", "service", "Construction Documents", D("50000")),
    BudgetLine("Structural", "expense", "Structural", D("8000")),
    BudgetLine("MEP", "expense", "MEP", D("12000")),
    BudgetLine("Landscape", "expense", "Landscape", D("0")),
    BudgetLine("Reimbursables", "expense", "Reimbursables", D("1500")),
]


def _svc(invoice: str, key: str, amount: str, status: InvoiceStatus = S.FINAL) -> BilledLine:
    return BilledLine(invoice, key, "service", D(amount), status)


def _exp(invoice: str, key: str, amount: str, status: InvoiceStatus = S.FINAL) -> BilledLine:
    return BilledLine(invoice, key, "expense", D(amount), status)


def test_a_project_with_no_actuals() -> None:
    report = budget_status(BUDGET, [], [], [])
    assert [line.key for line in report.lines] == [b.key for b in BUDGET]
    sd = report.line("SD")
    assert (sd.budget, sd.used, sd.remaining, sd.percent_used) == (
        D("20000.00"),
        ZERO,
        D("20000.00"),
        D("0.0"),
    )
    assert not sd.over_budget
    landscape = report.line("Landscape")
    assert landscape.percent_used is None  # zero budget
    assert not landscape.over_budget  # nothing used yet
    assert report.totals.budget == D("91500.00")
    assert report.over_budget_lines == ()


def test_service_lines_use_their_budget_as_they_are_billed() -> None:
    report = budget_status(
        BUDGET,
        [CostEntry("SD", D("9000"), D("15000"))],  # work at cost and at billing rates
        [_svc("1", "SD", "12000"), _svc("2", "SD", "3000.50")],
        [],
    )
    sd = report.line("SD")
    assert (sd.cost, sd.billable, sd.billed) == (D("9000.00"), D("15000.00"), D("15000.50"))
    assert sd.used == sd.billed
    assert sd.remaining == D("4999.50")
    assert sd.percent_used == D("75.0")  # 75.0025 %
    assert not sd.over_budget


def test_expense_lines_use_their_budget_as_costs_are_incurred() -> None:
    report = budget_status(
        BUDGET,
        [
            CostEntry("Structural", D("5000"), D("5500")),
            CostEntry("Structural", D("2000"), D("2200")),
        ],
        [_exp("1", "Structural", "5500")],
        [],
    )
    structural = report.line("Structural")
    assert structural.cost == D("7000.00")
    assert structural.billable == D("7700.00")
    assert structural.billed == D("5500.00")
    assert structural.used == structural.billable
    assert structural.remaining == D("300.00")
    assert structural.percent_used == D("96.3")  # 96.25 rounds half-up


def test_over_budget() -> None:
    report = budget_status(BUDGET, [CostEntry("MEP", D("11000"), D("12100"))], [], [])
    mep = report.line("MEP")
    assert mep.over_budget
    assert mep.remaining == D("-100.00")
    assert mep.percent_used == D("100.8")
    assert report.over_budget_lines == (mep,)


def test_exactly_on_budget_is_not_over() -> None:
    report = budget_status(BUDGET, [], [_svc("1", "SD", "20000")], [])
    sd = report.line("SD")
    assert sd.percent_used == D("100.0")
    assert sd.remaining == ZERO
    assert not sd.over_budget


def test_zero_budget_with_spend_is_over_budget() -> None:
    report = budget_status(BUDGET, [CostEntry("Landscape", D("100"), D("110"))], [], [])
    landscape = report.line("Landscape")
    assert landscape.over_budget
    assert landscape.percent_used is None
    assert landscape.remaining == D("-110.00")
    assert not landscape.unbudgeted


def test_unbudgeted_spend_gets_its_own_flagged_line() -> None:
    report = budget_status(
        BUDGET,
        [
            CostEntry("Geotechnical", D("3000"), D("3300"), label="Geotechnical survey"),
            CostEntry("Acoustics", D("500"), D("500")),
        ],
        [],
        [],
    )
    keys = [line.key for line in report.lines]
    assert keys == [*(b.key for b in BUDGET), "Acoustics", "Geotechnical"]  # sorted after budget
    geo = report.line("Geotechnical")
    assert geo.unbudgeted
    assert geo.over_budget
    assert geo.kind == "expense"
    assert geo.label == "Geotechnical survey"
    assert (geo.budget, geo.cost, geo.billable) == (ZERO, D("3000.00"), D("3300.00"))
    assert geo.percent_used is None
    assert report.line("Acoustics").label == "Acoustics"
    assert report.totals.over_budget is False  # the project as a whole is still within budget
    assert {line.key for line in report.over_budget_lines} == {"Acoustics", "Geotechnical"}


def test_unbudgeted_refund_is_still_flagged() -> None:
    report = budget_status(BUDGET, [CostEntry("Printing", D("-40"), D("-40"))], [], [])
    printing = report.line("Printing")
    assert printing.unbudgeted and printing.over_budget
    assert printing.remaining == D("40.00")


def test_unbudgeted_keys_with_nothing_on_them_are_left_out() -> None:
    report = budget_status(BUDGET, [CostEntry("Misc", D("0"), D("0"))], [], [])
    with pytest.raises(KeyError):
        report.line("Misc")


def test_unbudgeted_billed_service_keeps_its_kind() -> None:
    report = budget_status(BUDGET, [], [_svc("1", "Extra services", "2500")], [])
    extra = report.line("Extra services")
    assert extra.kind == "service"
    assert extra.unbudgeted and extra.over_budget
    assert report.service_totals.billed == D("2500.00")


def test_negative_amounts_are_added_in() -> None:
    report = budget_status(
        BUDGET,
        [
            CostEntry("Reimbursables", D("300"), D("330")),
            CostEntry("Reimbursables", D("-50"), D("-55")),  # refund
        ],
        [_svc("1", "CD", "10000"), _svc("1", "CD", "-1000")],  # discount line
        [],
    )
    assert report.line("Reimbursables").billable == D("275.00")
    assert report.line("CD").billed == D("9000.00")


def test_drafts_and_void_invoices_bill_nothing() -> None:
    report = budget_status(
        BUDGET,
        [],
        [
            _svc("1", "SD", "1000", S.DRAFT),
            _svc("2", "SD", "2000", S.VOID),
            _svc("3", "SD", "300", S.PARTIALLY_PAID),
            _svc("4", "SD", "40", S.PAID),
        ],
        [],
    )
    assert report.line("SD").billed == D("340.00")


def test_payments_are_collected_pro_rata_over_the_invoice_lines() -> None:
    lines = [
        _svc("7", "SD", "6000", S.PARTIALLY_PAID),
        _svc("7", "CD", "3000", S.PARTIALLY_PAID),
        _exp("7", "Reimbursables", "1000", S.PARTIALLY_PAID),
    ]
    payments = [AppliedPayment("7", D("2000")), AppliedPayment("7", D("500"))]
    report = budget_status(BUDGET, [], lines, payments)
    assert report.line("SD").collected == D("1500.00")
    assert report.line("CD").collected == D("750.00")
    assert report.line("Reimbursables").collected == D("250.00")
    assert report.totals.collected == D("2500.00")


def test_collected_cents_go_to_the_largest_remainders() -> None:
    lines = [_svc("9", "SD", "100"), _svc("9", "CD", "100"), _exp("9", "MEP", "100")]
    report = budget_status(BUDGET, [], lines, [AppliedPayment("9", D("100"))])
    assert [report.line(k).collected for k in ("SD", "CD", "MEP")] == [
        D("33.34"),
        D("33.33"),
        D("33.33"),
    ]
    assert report.totals.collected == D("100.00")


def test_other_lines_take_their_share_but_no_budget() -> None:
    lines = [
        _svc("5", "SD", "1000", S.PAID),
        BilledLine("5", "tax", "other", D("80"), S.PAID),
    ]
    report = budget_status(BUDGET, [], lines, [AppliedPayment("5", D("1080"))])
    assert report.line("SD").collected == D("1000.00")
    assert report.other_billed == D("80.00")
    assert report.other_collected == D("80.00")
    with pytest.raises(KeyError):
        report.line("tax")


def test_payments_on_invoices_without_lines_are_unallocated() -> None:
    report = budget_status(
        BUDGET,
        [],
        [_svc("1", "SD", "100", S.VOID)],
        [AppliedPayment("1", D("100")), AppliedPayment("99", D("25"))],
    )
    assert report.unallocated_collected == D("125.00")
    assert report.totals.collected == ZERO


def test_totals_by_kind() -> None:
    report = budget_status(
        BUDGET,
        [CostEntry("MEP", D("1000"), D("1100")), CostEntry("Geo", D("10"), D("10"))],
        [_svc("1", "SD", "5000"), _svc("1", "CD", "5000")],
        [],
    )
    assert report.service_totals.budget == D("70000.00")
    assert report.service_totals.used == D("10000.00")
    assert report.service_totals.percent_used == D("14.3")
    assert report.expense_totals.budget == D("21500.00")
    assert report.expense_totals.used == D("1110.00")
    assert report.totals.used == D("11110.00")
    assert report.totals.remaining == D("80390.00")
    assert not report.totals.over_budget


def test_budget_line_validation() -> None:
    with pytest.raises(ValueError, match="negative"):
        BudgetLine("SD", "service", "Schematic Design", D("-1"))
    with pytest.raises(ValueError):
        BudgetLine("", "service", "Nothing", D("1"))
    with pytest.raises(ValueError):
        BudgetLine("X", "fee", "Fee", D("1"))  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        BudgetLine("X", "service", "Float", 10.5)  # type: ignore[arg-type]
    assert BudgetLine("X", "service", "X", D("10.005")).amount == D("10.01")


def test_duplicate_budget_keys_are_refused() -> None:
    with pytest.raises(ValueError, match="more than once"):
        budget_status([*BUDGET, BudgetLine("SD", "service", "Again", D("1"))], [], [], [])


def test_actuals_by_key() -> None:
    actuals = actuals_by_key(
        [CostEntry("MEP", D("100"), D("110"))],
        [_exp("1", "MEP", "110"), BilledLine("1", "tax", "other", D("10"), S.FINAL)],
        [AppliedPayment("1", D("60"))],
    )
    assert actuals == {
        "MEP": Actuals(cost=D("100"), billable=D("110"), billed=D("110"), collected=D("55"))
    }
    assert Actuals() + actuals["MEP"] == actuals["MEP"]


# --- properties -----------------------------------------------------------------------------------

KEYS = ["SD", "CD", "Structural", "MEP", "Landscape", "Reimbursables", "Geo", "tax"]
amounts = st.integers(min_value=-(10**7), max_value=10**9).map(cents_from_int)
billed_lines = st.builds(
    BilledLine,
    invoice_id=st.sampled_from(["1", "2", "3"]),
    key=st.sampled_from(KEYS),
    kind=st.sampled_from(["service", "expense", "other"]),
    amount=amounts,
    status=st.sampled_from(list(S)),
)
applied = st.builds(
    AppliedPayment,
    invoice_id=st.sampled_from(["1", "2", "3", "4"]),
    amount=st.integers(min_value=1, max_value=10**9).map(cents_from_int),
)
costs = st.builds(CostEntry, key=st.sampled_from(KEYS), cost=amounts, billable=amounts)


@given(
    st.lists(costs, max_size=10), st.lists(billed_lines, max_size=15), st.lists(applied, max_size=8)
)
def test_every_payment_cent_is_accounted_for(
    entries: list[CostEntry], lines: list[BilledLine], payments: list[AppliedPayment]
) -> None:
    report = budget_status(BUDGET, entries, lines, payments)
    received = sum((p.amount for p in payments), ZERO)
    assert (
        report.totals.collected + report.other_collected + report.unallocated_collected == received
    )
    assert report.totals.collected == sum((line.collected for line in report.lines), ZERO)


@given(st.lists(costs, max_size=10), st.lists(billed_lines, max_size=15))
def test_report_figures_are_consistent(entries: list[CostEntry], lines: list[BilledLine]) -> None:
    report = budget_status(BUDGET, entries, lines, [])
    for line in report.lines:
        assert line.remaining == line.budget - line.used
        assert line.used == (line.billable if line.kind == "expense" else line.billed)
        assert line.over_budget == (line.unbudgeted or line.used > line.budget)
        assert (line.percent_used is None) == (line.budget == 0)
    totals = report.totals
    assert totals.budget == sum((line.budget for line in report.lines), ZERO)
    assert totals.billed == report.service_totals.billed + report.expense_totals.billed
    assert totals.cost == sum((e.cost for e in entries), ZERO)
    assert totals.billable == sum((e.billable for e in entries), ZERO)
    billed_issued = sum(
        (line.amount for line in lines if line.status.is_issued and line.kind != "other"), ZERO
    )
    assert totals.billed == billed_issued


def test_fee_to_bill_is_earned_fee_less_billed() -> None:
    from factor_desktop.domain.budgets import fee_to_bill

    assert fee_to_bill(Decimal("13200.00"), Decimal("37.5"), Decimal("0")) == Decimal("4950.00")
    assert fee_to_bill(Decimal("100.00"), Decimal("33.335"), Decimal("0")) == Decimal("33.34")
    assert fee_to_bill(Decimal("1000.00"), Decimal("50"), Decimal("400.00")) == Decimal("100.00")
    assert fee_to_bill(Decimal("1000.00"), Decimal("50"), Decimal("600.00")) == Decimal("-100.00")
