"""A project's budgets against what has happened: the domain's budget rules over store rows."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from factor_desktop.domain.budgets import (
    AppliedPayment,
    BilledLine,
    BudgetLine,
    CostEntry,
    ProjectBudgetReport,
    budget_status,
)
from factor_desktop.domain.status import InvoiceStatus
from factor_desktop.services._fields import get_record
from factor_desktop.store.models import (
    Expense,
    ExpenseType,
    Invoice,
    InvoiceLine,
    Payment,
    PaymentApplication,
    Project,
)

OTHER_KEY = "other"


def service_key(service_type_id: int) -> str:
    """The budget key of a service's fee."""
    return f"service:{service_type_id}"


def category_key(category: str) -> str:
    """The budget key of an expense category (compared without regard to case)."""
    return f"expense:{category.casefold()}"


def project_budget(session: Session, project_id: int) -> ProjectBudgetReport:
    """Budget, cost, billable, billed, collected, remaining and percent used per service fee
    and expense category of a project, as the domain's `budget_status` computes them."""
    project = get_record(session, Project, project_id, "project")
    budget_lines: list[BudgetLine] = []
    # Service fees first, in the order the service types were set up; then expense categories.
    for budget in sorted(
        project.budgets,
        key=lambda b: (b.kind != "service", b.service_type_id or 0, b.expense_category or ""),
    ):
        if budget.kind == "service" and budget.service_type is not None:
            budget_lines.append(
                BudgetLine(
                    service_key(budget.service_type.id),
                    "service",
                    budget.service_type.name,
                    budget.amount,
                )
            )
        elif budget.expense_category is not None:
            budget_lines.append(
                BudgetLine(
                    category_key(budget.expense_category),
                    "expense",
                    budget.expense_category,
                    budget.amount,
                )
            )

    costs = [
        CostEntry(
            category_key(expense_type.category),
            expense.cost,
            expense.billable_amount,
            label=expense_type.category,
        )
        for expense, expense_type in session.execute(
            select(Expense, ExpenseType)
            .join(ExpenseType, Expense.expense_type_id == ExpenseType.id)
            .where(Expense.project_id == project.id, Expense.deleted_in_qbo.is_(False))
        )
    ]

    invoices = list(session.scalars(select(Invoice).where(Invoice.project_id == project.id)))
    billed: list[BilledLine] = []
    for invoice in invoices:
        status = InvoiceStatus(invoice.status)
        for line in invoice.lines:
            billed.append(_billed_line(invoice.id, status, line))

    applied = [
        AppliedPayment(invoice_id, amount)
        for invoice_id, amount in session.execute(
            select(PaymentApplication.invoice_id, PaymentApplication.amount)
            .join(Payment, PaymentApplication.payment_id == Payment.id)
            .join(Invoice, PaymentApplication.invoice_id == Invoice.id)
            .where(Invoice.project_id == project.id, Payment.voided.is_(False))
        )
    ]
    return budget_status(budget_lines, costs, billed, applied)


def _billed_line(invoice_id: int, status: InvoiceStatus, line: InvoiceLine) -> BilledLine:
    if line.kind == "service" and line.service_type is not None:
        return BilledLine(
            invoice_id,
            service_key(line.service_type.id),
            "service",
            line.amount,
            status,
            label=line.service_type.name,
        )
    if line.kind == "expense" and line.expense_type is not None:
        category = line.expense_type.category
        return BilledLine(
            invoice_id, category_key(category), "expense", line.amount, status, label=category
        )
    return BilledLine(invoice_id, OTHER_KEY, "other", line.amount, status)
