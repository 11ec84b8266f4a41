"""The domain package: its public names and its refusal exception."""

from __future__ import annotations

import pickle
import subprocess
import sys

import factor_desktop.domain as domain
from factor_desktop.domain import RuleViolation


def test_every_exported_name_exists() -> None:
    for name in domain.__all__:
        assert hasattr(domain, name), name


def test_main_names_are_re_exported() -> None:
    expected = {
        "to_cents",
        "parse_money",
        "format_money",
        "ZERO",
        "sum_money",
        "percent",
        "billable_amount",
        "markup_amount",
        "BudgetLine",
        "Actuals",
        "budget_status",
        "ProjectBudgetReport",
        "InvoiceStatus",
        "RuleViolation",
        "check_can_edit",
        "check_can_finalize",
        "check_can_void",
        "next_status_for_balance",
        "InvoiceNumberPolicy",
        "parse_number",
        "InvoiceLineInput",
        "TaxTerm",
        "compute_totals",
        "InvoiceTotals",
        "due_date",
        "CustomField",
        "QBO_CUSTOM_FIELD_LIMIT",
        "ProjectDetails",
        "apply_payment",
        "status_after_payments",
        "balance",
    }
    assert expected <= set(domain.__all__)


def test_rule_violation_carries_message_and_code() -> None:
    error = RuleViolation("Invoice INV-0001 is void and can't be changed.", code="invoice_void")
    assert error.message == str(error) == "Invoice INV-0001 is void and can't be changed."
    assert error.code == "invoice_void"
    copy = pickle.loads(pickle.dumps(error))
    assert (copy.message, copy.code) == (error.message, error.code)


def test_domain_layer_uses_only_the_standard_library() -> None:
    code = (
        "import sys, factor_desktop.domain; "
        "bad = [m for m in sys.modules if m.split('.')[0] in "
        "{'PySide6', 'sqlalchemy', 'requests', 'shiboken6', 'alembic'}]; "
        "print(','.join(bad))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert result.stdout.strip() == ""
