"""The domain layer: Factor Desktop's business rules, free of UI, storage and network.

Money is `Decimal` throughout and rounded by one rule, in one place (`money.to_cents`): to the
cent, ROUND_HALF_UP (halves away from zero). Dates are `datetime.date`. Business refusals raise
`RuleViolation`, whose `message` is written for the firm's administrator; malformed input
raises `ValueError` or `TypeError`.

Modules: `money` (amounts, rounding, parsing, display, pro-rata allocation), `markup`
(billable amounts of expenses), `budgets` (project budget status), `invoices` (status
transitions, numbering, totals, due dates, custom fields), `payments` (balances and the
statuses they lead to).
"""

from factor_desktop.domain.budgets import (
    Actuals,
    AppliedPayment,
    BilledKind,
    BilledLine,
    BudgetFigures,
    BudgetKind,
    BudgetLine,
    BudgetLineReport,
    CostEntry,
    ProjectBudgetReport,
    actuals_by_key,
    budget_status,
)
from factor_desktop.domain.errors import RuleViolation
from factor_desktop.domain.invoices import (
    DEFAULT_TERMS_DAYS,
    QBO_CUSTOM_FIELD_LIMIT,
    QBO_DOC_NUMBER_MAX_LENGTH,
    CustomField,
    InvoiceLineInput,
    InvoiceNumberPolicy,
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
    parse_number,
    validate_custom_fields,
)
from factor_desktop.domain.markup import billable_amount, markup_amount, validate_markup_percent
from factor_desktop.domain.money import (
    CENT,
    ZERO,
    allocate_pro_rata,
    format_money,
    parse_money,
    percent,
    percent_ratio,
    sum_money,
    to_cents,
)
from factor_desktop.domain.payments import (
    apply_payment,
    balance,
    check_can_receive_payment,
    status_after_payments,
)
from factor_desktop.domain.status import InvoiceStatus

__all__ = [
    "CENT",
    "DEFAULT_TERMS_DAYS",
    "QBO_CUSTOM_FIELD_LIMIT",
    "QBO_DOC_NUMBER_MAX_LENGTH",
    "ZERO",
    "Actuals",
    "AppliedPayment",
    "BilledKind",
    "BilledLine",
    "BudgetFigures",
    "BudgetKind",
    "BudgetLine",
    "BudgetLineReport",
    "CostEntry",
    "CustomField",
    "InvoiceLineInput",
    "InvoiceNumberPolicy",
    "InvoiceStatus",
    "InvoiceTotals",
    "ProjectBudgetReport",
    "ProjectDetails",
    "RuleViolation",
    "TaxTerm",
    "actuals_by_key",
    "allocate_pro_rata",
    "apply_payment",
    "balance",
    "billable_amount",
    "budget_status",
    "check_can_delete",
    "check_can_edit",
    "check_can_finalize",
    "check_can_receive_payment",
    "check_can_void",
    "compute_totals",
    "due_date",
    "format_money",
    "line_amount",
    "markup_amount",
    "next_status_for_balance",
    "parse_money",
    "parse_number",
    "percent",
    "percent_ratio",
    "status_after_payments",
    "sum_money",
    "to_cents",
    "validate_custom_fields",
    "validate_markup_percent",
]
