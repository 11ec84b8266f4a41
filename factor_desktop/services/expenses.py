"""Project expenses: entered here by hand, or brought back from QuickBooks Online.

Every expense takes the markup of its expense type when it is recorded, by the domain's markup
rule; the percentage applied is kept on the expense, so a later change to the type's markup
shows against expenses recorded before it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from factor_desktop.domain.markup import billable_amount
from factor_desktop.domain.money import format_money
from factor_desktop.services._fields import a_date, apply, get_record, money, optional_text
from factor_desktop.services.errors import Change, Saved, ServiceError
from factor_desktop.store.models import Expense, ExpenseType, Invoice, InvoiceLine, Project

ExpenseSource = Literal["factor", "qbo"]


@dataclass(frozen=True)
class ExpenseInput:
    """An expense as entered, or as read from a QuickBooks Purchase or Bill line.

    `billable` None takes the expense type's setting. Expenses from QuickBooks carry the
    transaction type ("Purchase" or "Bill"), its id and the line id, which together identify
    the expense when it changes there.
    """

    project_id: int
    expense_type_id: int
    incurred_on: date
    cost: Decimal
    vendor: str | None = None
    description: str = ""
    billable: bool | None = None
    source: ExpenseSource = "factor"
    qbo_txn_type: str | None = None
    qbo_id: str | None = None
    qbo_line_id: str | None = None
    qbo_sync_token: str | None = None


def _values(session: Session, data: ExpenseInput) -> dict[str, Any]:
    project = get_record(session, Project, data.project_id, "project")
    expense_type = get_record(session, ExpenseType, data.expense_type_id, "expense type")
    cost = money(data.cost, "Cost", "cost", allow_negative=True)
    if data.source not in ("factor", "qbo"):
        raise ServiceError(f"Unknown expense source {data.source!r}.", field="source")
    qbo = (data.qbo_txn_type, data.qbo_id, data.qbo_line_id)
    if data.source == "qbo" and None in qbo:
        raise ServiceError(
            "An expense from QuickBooks needs its transaction type, id and line id.",
            field="qbo_id",
        )
    if data.source == "factor" and any(v is not None for v in qbo):
        raise ServiceError("An expense entered here has no QuickBooks ids.", field="qbo_id")
    markup = expense_type.markup_percent
    return {
        "project_id": project.id,
        "expense_type_id": expense_type.id,
        "incurred_on": a_date(data.incurred_on, "Date", "incurred_on"),
        "vendor": optional_text(data.vendor, "Vendor", "vendor", 200),
        "description": optional_text(data.description, "Description", "description", 4000) or "",
        "cost": cost,
        "markup_percent": markup,
        "billable_amount": billable_amount(cost, markup),
        "billable": expense_type.billable if data.billable is None else data.billable,
        "source": data.source,
        "qbo_txn_type": optional_text(data.qbo_txn_type, "QuickBooks type", "qbo_txn_type", 20),
        "qbo_id": optional_text(data.qbo_id, "QuickBooks id", "qbo_id", 32),
        "qbo_line_id": optional_text(data.qbo_line_id, "QuickBooks line id", "qbo_line_id", 16),
        "qbo_sync_token": optional_text(data.qbo_sync_token, "Sync token", "qbo_sync_token", 16),
    }


def billing_invoice(session: Session, expense_id: int) -> Invoice | None:
    """The invoice whose line bills this expense, if any."""
    return session.scalars(
        select(Invoice)
        .join(InvoiceLine, InvoiceLine.invoice_id == Invoice.id)
        .where(InvoiceLine.expense_id == expense_id)
    ).first()


def record_expense(
    session: Session, data: ExpenseInput, *, known_new: bool = False, flush: bool = True
) -> Expense:
    """Record a new expense with its type's markup applied.

    `known_new`: the caller has just looked the QuickBooks line up and it is not recorded (the
    sync reads the stored lines of a page of transactions at once), so the look-up is not made
    again; the database's unique key still refuses a second copy. `flush` False leaves the new
    expense pending, without its id yet, for the caller to write with others in one flush.
    """
    values = _values(session, data)
    if data.source == "qbo" and not known_new and _find_qbo(session, data) is not None:
        raise ServiceError(
            f"The QuickBooks {data.qbo_txn_type} {data.qbo_id} line {data.qbo_line_id} is "
            "already recorded.",
            field="qbo_id",
        )
    expense = Expense(**values)
    session.add(expense)
    if flush:
        session.flush()
    return expense


def _find_qbo(session: Session, data: ExpenseInput) -> Expense | None:
    return session.scalars(
        select(Expense).where(
            Expense.qbo_txn_type == data.qbo_txn_type,
            Expense.qbo_id == data.qbo_id,
            Expense.qbo_line_id == data.qbo_line_id,
        )
    ).first()


def save_qbo_expense(session: Session, data: ExpenseInput) -> Saved[Expense]:
    """Record an expense line from QuickBooks, or bring the one already recorded up to date.

    An expense already billed on an invoice keeps what was billed: a change to its project,
    type or cost is refused with the invoice named, so it can be dealt with there.
    """
    if data.source != "qbo":
        raise ServiceError("Only expenses from QuickBooks are saved by their QuickBooks ids.")
    existing = _find_qbo(session, data)
    if existing is None:
        return Saved(record_expense(session, data, known_new=True), Change.CREATED)
    values = _values(session, data)
    invoice = billing_invoice(session, existing.id)
    if invoice is not None:
        billed = ("project_id", "expense_type_id", "cost")
        if any(getattr(existing, key) != values[key] for key in billed):
            raise ServiceError(
                f"The expense of {format_money(existing.cost)} on {existing.incurred_on} changed "
                f"in QuickBooks, but it is already billed on invoice {invoice.number or '(draft)'}"
                ". Remove it from that invoice (or void the invoice) to take the change.",
                field="cost",
            )
        # What was billed stays as billed.
        for key in ("markup_percent", "billable_amount", "billable"):
            values.pop(key)
    changed = apply(existing, values)
    session.flush()
    return Saved(existing, Change.UPDATED if changed else Change.UNCHANGED)
