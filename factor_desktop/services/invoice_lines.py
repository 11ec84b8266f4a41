"""An invoice's lines: what a line may be (a service, an expense, anything else), its price, and
the checks that an expense on it is billable and billed only once."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from factor_desktop.domain.invoices import CustomField, InvoiceLineInput, validate_custom_fields
from factor_desktop.domain.money import format_money
from factor_desktop.services._fields import get_record, money, optional_text
from factor_desktop.services.errors import ServiceError
from factor_desktop.store.models import Expense, ExpenseType, Invoice, InvoiceLine, ServiceType

LineKind = Literal["service", "expense", "other"]
LINE_KINDS: tuple[LineKind, ...] = ("service", "expense", "other")


# --- lines ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LineInput:
    """One invoice line as entered.

    Give `amount`, or `quantity` and `rate` (the amount is then quantity * rate, rounded once to
    the cent), or all three when they agree. A "service" line names its service type; an
    "expense" line names its expense type, or the expense it bills (each expense is billed at
    most once). `taxable` None takes the service or expense type's setting.
    """

    kind: LineKind = "other"
    description: str = ""
    amount: Decimal | None = None
    quantity: Decimal | None = None
    rate: Decimal | None = None
    service_type_id: int | None = None
    expense_type_id: int | None = None
    expense_id: int | None = None
    taxable: bool | None = None


def price_line(
    amount: Decimal | None, quantity: Decimal | None, rate: Decimal | None
) -> tuple[Decimal, Decimal, Decimal]:
    """(quantity, rate, amount) of a line, checked with the domain's line rule.

    An amount alone is one of that amount; a quantity and a rate give quantity * rate rounded
    once to the cent (a rate alone is a quantity of one); all three must agree.
    """
    if quantity is None and rate is None:
        if amount is None:
            raise ServiceError("Give the line an amount, or a quantity and a rate.", field="amount")
        amount = money(amount, "Line amount", "amount", allow_negative=True)
        return Decimal(1), amount, amount
    if rate is None:
        raise ServiceError("Give the line a rate as well as a quantity.", field="rate")
    quantity = Decimal(1) if quantity is None else quantity
    try:
        checked = (
            InvoiceLineInput.priced(quantity, rate)
            if amount is None
            else InvoiceLineInput(amount=amount, quantity=quantity, rate=rate)
        )
    except (TypeError, ValueError) as exc:
        raise ServiceError(str(exc), field="amount") from None
    return quantity, rate, checked.amount


def _billed_elsewhere(session: Session, expense_id: int, invoice: Invoice) -> Invoice | None:
    return session.scalars(
        select(Invoice)
        .join(InvoiceLine, InvoiceLine.invoice_id == Invoice.id)
        .where(InvoiceLine.expense_id == expense_id, Invoice.id != invoice.id)
    ).first()


def _invoice_name(invoice: Invoice) -> str:
    return f"invoice {invoice.number}" if invoice.number else f"the draft invoice (id {invoice.id})"


def _build_line(session: Session, invoice: Invoice, line: LineInput) -> InvoiceLine:
    if line.kind not in LINE_KINDS:
        raise ServiceError(
            f"Line kind {line.kind!r} is not one of: {', '.join(LINE_KINDS)}.", field="kind"
        )
    description = optional_text(
        line.description, "Description", "description", 4000, multiline=True
    )
    service: ServiceType | None = None
    expense_type: ExpenseType | None = None
    expense: Expense | None = None
    default_amount: Decimal | None = None
    if line.kind == "service":
        if line.service_type_id is None:
            raise ServiceError("A service line needs its service type.", field="service_type_id")
        service = get_record(session, ServiceType, line.service_type_id, "service type")
    elif line.service_type_id is not None:
        raise ServiceError("Only service lines name a service type.", field="service_type_id")
    if line.kind == "expense":
        if line.expense_id is not None:
            expense = get_record(session, Expense, line.expense_id, "expense")
            _check_billable_expense(session, expense, invoice)
            default_amount = expense.billable_amount
        type_id = line.expense_type_id or (expense.expense_type_id if expense else None)
        if type_id is None:
            raise ServiceError("An expense line needs its expense type.", field="expense_type_id")
        expense_type = get_record(session, ExpenseType, type_id, "expense type")
    elif line.expense_type_id is not None or line.expense_id is not None:
        raise ServiceError("Only expense lines name an expense.", field="expense_type_id")
    amount = line.amount if line.amount is not None or line.rate is not None else default_amount
    quantity, rate, amount = price_line(amount, line.quantity, line.rate)
    taxable = line.taxable
    if taxable is None:
        taxable = bool(service and service.taxable) or bool(expense_type and expense_type.taxable)
    return InvoiceLine(
        kind=line.kind,
        description=description or "",
        quantity=quantity,
        rate=rate,
        amount=amount,
        taxable=taxable,
        service_type_id=service.id if service else None,
        expense_type_id=expense_type.id if expense_type else None,
        expense_id=expense.id if expense else None,
    )


def _check_billable_expense(session: Session, expense: Expense, invoice: Invoice) -> None:
    if expense.project_id != invoice.project_id:
        raise ServiceError(
            f"The expense of {format_money(expense.cost)} on {expense.incurred_on} belongs to "
            "another project.",
            field="expense_id",
        )
    if not expense.billable or expense.deleted_in_qbo:
        reason = "was deleted in QuickBooks" if expense.deleted_in_qbo else "is not billable"
        raise ServiceError(
            f"The expense of {format_money(expense.cost)} on {expense.incurred_on} {reason}.",
            field="expense_id",
        )
    owner = _billed_elsewhere(session, expense.id, invoice)
    if owner is not None:
        raise ServiceError(
            f"The expense of {format_money(expense.cost)} on {expense.incurred_on} is already "
            f"billed on {_invoice_name(owner)}; an expense is billed only once.",
            field="expense_id",
        )


def _build_lines(
    session: Session, invoice: Invoice, lines: Sequence[LineInput]
) -> list[InvoiceLine]:
    built = [_build_line(session, invoice, line) for line in lines]
    expense_ids = [line.expense_id for line in built if line.expense_id is not None]
    if len(expense_ids) != len(set(expense_ids)):
        raise ServiceError("The same expense appears on two lines; bill it once.", field="lines")
    for position, line in enumerate(built, start=1):
        line.position = position
    return built


def _custom_fields(values: Iterable[tuple[str, str]]) -> tuple[CustomField, ...]:
    try:
        return validate_custom_fields(CustomField(name, value) for name, value in values)
    except (TypeError, ValueError) as exc:
        raise ServiceError(str(exc), field="custom_fields") from None
