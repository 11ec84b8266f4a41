"""Invoices: drafts built from a project's progress and expenses, editing, finalizing, voiding.

A draft is freely edited and never leaves this machine. Finalizing allocates the next invoice
number from the firm's numbering settings in the same transaction (numbers are never reused:
voided invoices keep theirs), fixes the totals and due date, captures the project details
printed on the invoice, and queues the invoice for QuickBooks Online in the outbox. A finalized
invoice is locked; only payments (its status follows its balance) and voiding change it.

An invoice's lines are in `services.invoice_lines`, invoices from an import file in
`services.invoice_imports`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from uuid import uuid4

from sqlalchemy import select
from sqlalchemy.orm import Session

from factor_desktop.domain.budgets import fee_to_bill
from factor_desktop.domain.errors import RuleViolation
from factor_desktop.domain.invoices import (
    InvoiceLineInput,
    InvoiceNumberPolicy,
    InvoiceTotals,
    ProjectDetails,
    check_can_delete,
    check_can_edit,
    check_can_finalize,
    check_can_void,
    compute_totals,
    due_date,
)
from factor_desktop.domain.money import ZERO, format_money, sum_money
from factor_desktop.domain.payments import status_after_payments
from factor_desktop.domain.status import InvoiceStatus
from factor_desktop.services._fields import (
    UNSET,
    Unset,
    a_date,
    get_record,
    optional_text,
    whole_number,
)
from factor_desktop.services.errors import ServiceError
from factor_desktop.services.invoice_lines import (
    LINE_KINDS,
    LineInput,
    LineKind,
    _build_lines,
    _custom_fields,
    price_line,
)
from factor_desktop.services.records import to_rule
from factor_desktop.settings import load_settings, update_setting
from factor_desktop.store.models import (
    Client,
    Expense,
    Invoice,
    InvoiceCustomField,
    InvoiceLine,
    OutboxItem,
    Payment,
    PaymentApplication,
    Project,
    ProjectBudget,
    ServiceType,
    TaxTerm,
)

OPEN_OUTBOX = ("pending", "failed", "blocked")


def _refuse(violation: RuleViolation) -> ServiceError:
    return ServiceError.from_rule(violation)


def _status(invoice: Invoice) -> InvoiceStatus:
    return InvoiceStatus(invoice.status)


def get_invoice(session: Session, invoice_id: int) -> Invoice:
    return get_record(session, Invoice, invoice_id, "invoice")


# --- drafts -----------------------------------------------------------------------------------


def _billed_by_service(session: Session, project_id: int) -> dict[int, Decimal]:
    """What is already billed, or waiting on a draft, per service type of a project."""
    rows = session.execute(
        select(InvoiceLine.service_type_id, InvoiceLine.amount)
        .join(Invoice, InvoiceLine.invoice_id == Invoice.id)
        .where(
            Invoice.project_id == project_id,
            Invoice.status != InvoiceStatus.VOID.value,
            InvoiceLine.kind == "service",
        )
    )
    amounts: dict[int, list[Decimal]] = {}
    for service_type_id, amount in rows:
        if service_type_id is not None:
            amounts.setdefault(service_type_id, []).append(amount)
    return {key: sum_money(values) for key, values in amounts.items()}


def _percent_text(value: Decimal) -> str:
    return f"{value.normalize():f}%"


def service_lines_to_bill(session: Session, project_id: int) -> list[LineInput]:
    """Lines for each budgeted service whose earned fee is more than what was billed for it.

    The earned fee is the service's fee * its percent complete. What was billed counts every
    invoice of the project that is not void, drafts included, so two drafts never bill the
    same progress twice. Services with nothing more to bill are left out.
    """
    billed = _billed_by_service(session, project_id)
    budgets = session.scalars(
        select(ProjectBudget)
        .join(ServiceType, ProjectBudget.service_type_id == ServiceType.id)
        .where(ProjectBudget.project_id == project_id, ProjectBudget.kind == "service")
        .order_by(ProjectBudget.service_type_id)
    )
    lines: list[LineInput] = []
    for budget in budgets:
        assert budget.service_type is not None and budget.service_type_id is not None
        before = billed.get(budget.service_type_id, ZERO)
        amount = fee_to_bill(budget.amount, budget.percent_complete, before)
        if amount <= 0:
            continue
        description = (
            f"{budget.service_type.name}: {_percent_text(budget.percent_complete)} complete "
            f"of {format_money(budget.amount)} fee"
        )
        if before:
            description += f", less {format_money(before)} billed before"
        lines.append(
            LineInput(
                kind="service",
                description=description,
                amount=amount,
                service_type_id=budget.service_type_id,
            )
        )
    return lines


def unbilled_expenses(session: Session, project_id: int) -> list[Expense]:
    """The project's billable expenses that no invoice line bills yet, oldest first."""
    billed = select(InvoiceLine.expense_id).where(InvoiceLine.expense_id.is_not(None))
    return list(
        session.scalars(
            select(Expense)
            .where(
                Expense.project_id == project_id,
                Expense.billable.is_(True),
                Expense.deleted_in_qbo.is_(False),
                Expense.id.not_in(billed),
            )
            .order_by(Expense.incurred_on, Expense.id)
        )
    )


def _expense_line(expense: Expense) -> LineInput:
    parts = [expense.expense_type.name if expense.expense_type else "Expense"]
    if expense.vendor:
        parts.append(expense.vendor)
    if expense.description:
        parts.append(expense.description)
    parts.append(expense.incurred_on.isoformat())
    return LineInput(kind="expense", description=" - ".join(parts), expense_id=expense.id)


def create_draft_invoice(
    session: Session,
    project_id: int,
    *,
    issue_date: date | None = None,
    from_project: bool = True,
) -> Invoice:
    """Start a draft invoice for a project.

    With `from_project`, the draft bills each service's earned fee not billed yet and every
    unbilled billable expense, and is refused when there is nothing to bill. Without it, the
    draft starts empty. The issue date defaults to today.
    """
    project = get_record(session, Project, project_id, "project")
    issued = a_date(issue_date or date.today(), "Issue date", "issue_date")
    lines: list[LineInput] = []
    if from_project:
        lines = service_lines_to_bill(session, project.id)
        lines += [_expense_line(expense) for expense in unbilled_expenses(session, project.id)]
        if not lines:
            raise ServiceError(
                f"Nothing to bill on project {project.number}: every service's progress is "
                "billed and there are no unbilled billable expenses."
            )
    invoice = Invoice(
        project_id=project.id, project=project, status=InvoiceStatus.DRAFT.value, issue_date=issued
    )
    _apply_draft_changes(session, invoice, DraftChanges(lines=lines))
    return invoice


@dataclass(frozen=True)
class DraftChanges:
    """Changes to a draft; fields left `UNSET` stay as they are.

    `lines` and `custom_fields` replace the whole list. Custom fields are (name, value) pairs,
    at most three, as QuickBooks Online syncs no more.
    """

    lines: Sequence[LineInput] | Unset = UNSET
    custom_fields: Sequence[tuple[str, str]] | Unset = UNSET
    memo: str | Unset | None = UNSET
    tax_term_id: int | Unset | None = UNSET
    issue_date: date | Unset = UNSET
    terms_days: int | Unset | None = UNSET


def edit_draft_invoice(session: Session, invoice_id: int, changes: DraftChanges) -> Invoice:
    """Change a draft. Finalized and void invoices are locked and refused with the reason."""
    invoice = get_invoice(session, invoice_id)
    try:
        check_can_edit(_status(invoice), invoice.number)
    except RuleViolation as violation:
        raise _refuse(violation) from None
    _apply_draft_changes(session, invoice, changes)
    session.flush()
    return invoice


def _apply_draft_changes(session: Session, invoice: Invoice, changes: DraftChanges) -> None:
    """Check every change first, then make them all; a refused change leaves the draft as is."""
    values: dict[str, Any] = {}
    if not isinstance(changes.memo, Unset):
        values["memo"] = optional_text(changes.memo, "Memo", "memo", 4000, multiline=True)
    if not isinstance(changes.tax_term_id, Unset):
        values["tax_term"] = (
            None
            if changes.tax_term_id is None
            else get_record(session, TaxTerm, changes.tax_term_id, "tax term")
        )
    if not isinstance(changes.issue_date, Unset):
        values["issue_date"] = a_date(changes.issue_date, "Issue date", "issue_date")
    if not isinstance(changes.terms_days, Unset):
        values["terms_days"] = whole_number(
            changes.terms_days, "Payment terms (days)", "terms_days", 0, 365
        )
    fields = None
    if not isinstance(changes.custom_fields, Unset):
        fields = _custom_fields(changes.custom_fields)
    lines = None
    if not isinstance(changes.lines, Unset):
        lines = _build_lines(session, invoice, changes.lines)
    for key, value in values.items():
        setattr(invoice, key, value)
    if invoice not in session:
        session.add(invoice)
    if fields is not None:
        invoice.custom_fields.clear()
        session.flush()
        for position, custom in enumerate(fields, start=1):
            invoice.custom_fields.append(
                InvoiceCustomField(position=position, name=custom.name, value=custom.value)
            )
    if lines is not None:
        invoice.lines.clear()
        session.flush()  # the old lines go first, so an expense can move between lines
        invoice.lines.extend(lines)
    _refresh_draft_totals(invoice)
    session.flush()


def delete_draft_invoice(session: Session, invoice_id: int) -> None:
    """Delete a draft (its lines and custom fields with it). Issued invoices are voided instead."""
    invoice = get_invoice(session, invoice_id)
    try:
        check_can_delete(_status(invoice), invoice.number)
    except RuleViolation as violation:
        raise _refuse(violation) from None
    session.delete(invoice)
    session.flush()


# --- totals and finalizing ---------------------------------------------------------------------


def invoice_totals(invoice: Invoice) -> InvoiceTotals:
    """Subtotal, tax and total of the invoice's lines under its tax term (the domain rule)."""
    lines = [InvoiceLineInput(amount=line.amount, taxable=line.taxable) for line in invoice.lines]
    rule = to_rule(invoice.tax_term) if invoice.tax_term is not None else None
    return compute_totals(lines, rule)


def _refresh_draft_totals(invoice: Invoice) -> None:
    totals = invoice_totals(invoice)
    invoice.subtotal = totals.subtotal
    invoice.tax = totals.tax
    invoice.total = totals.total
    invoice.balance = totals.total


def numbering_policy(session: Session) -> InvoiceNumberPolicy:
    """The firm's invoice numbering, as the domain rule that allocates numbers."""
    numbering = load_settings(session).invoice_numbering
    try:
        return InvoiceNumberPolicy(numbering.prefix, numbering.next_number, numbering.padding)
    except (TypeError, ValueError) as exc:
        raise ServiceError(f"Invoice numbering settings: {exc}") from None


def used_invoice_numbers(session: Session) -> list[str]:
    """Every invoice number in the store, void invoices' included (numbers are never reused)."""
    return list(session.scalars(select(Invoice.number).where(Invoice.number.is_not(None))))


def _allocate_number(session: Session) -> str:
    policy = numbering_policy(session)
    try:
        number, advanced = policy.allocate(used_invoice_numbers(session))
    except ValueError as exc:
        raise ServiceError(str(exc)) from None
    update_setting(session, "invoice_numbering.next_number", advanced.next_number)
    return number


def _project_details(project: Project) -> dict[str, Any]:
    details: dict[str, Any] = ProjectDetails(project.number, project.name).as_dict()
    details["client"] = project.client.name
    if project.address:
        details["address"] = project.address
    if project.manager:
        details["manager"] = project.manager
    return details


def enqueue(session: Session, entity_kind: str, local_id: int, operation: str) -> OutboxItem:
    """Queue a push to QuickBooks Online; its request id makes every retry safe."""
    item = OutboxItem(
        entity_kind=entity_kind,
        local_id=local_id,
        operation=operation,
        request_id=str(uuid4()),
        status="pending",
    )
    session.add(item)
    return item


def _check_ready(invoice: Invoice, totals: InvoiceTotals) -> None:
    try:
        check_can_finalize(
            _status(invoice),
            invoice.number,
            line_count=len(invoice.lines),
            has_customer=invoice.project is not None,
            total=totals.total,
        )
    except RuleViolation as violation:
        raise _refuse(violation) from None


def _issue(
    session: Session,
    invoice: Invoice,
    number: str,
    totals: InvoiceTotals,
    now: datetime,
    qbo_id: str | None = None,
) -> None:
    """Make a draft a finalized invoice numbered `number` and queue it for QuickBooks."""
    client: Client = invoice.project.client
    default_days = client.terms_days
    if default_days is None:
        default_days = load_settings(session).default_terms_days
    terms = invoice.terms_days if invoice.terms_days is not None else default_days
    try:
        invoice.due_date = due_date(invoice.issue_date, terms, default_days)
    except ValueError as exc:
        raise ServiceError(str(exc), field="terms_days") from None
    invoice.number = number
    invoice.terms_days = terms
    invoice.subtotal = totals.subtotal
    invoice.tax = totals.tax
    invoice.total = totals.total
    invoice.balance = totals.total
    invoice.status = status_after_payments(totals.total, ZERO).value
    invoice.project_details = _project_details(invoice.project)
    invoice.finalized_at = now
    session.flush()
    if qbo_id is None:
        enqueue(session, "invoice", invoice.id, "create")
    else:
        invoice.qbo_id = qbo_id
    session.flush()


def finalize_invoice(session: Session, invoice_id: int, *, now: datetime | None = None) -> Invoice:
    """Finalize a draft: allocate its number, fix its totals and due date, queue it for QBO.

    The number comes from the firm's numbering settings, skipping any number already used, and
    the settings move past it in the same transaction, so a number is never handed out twice.
    """
    invoice = get_invoice(session, invoice_id)
    totals = invoice_totals(invoice)
    _check_ready(invoice, totals)
    number = _allocate_number(session)
    _issue(session, invoice, number, totals, now or datetime.now(UTC))
    return invoice


# --- voiding ------------------------------------------------------------------------------------


def paid_amounts(session: Session, invoice_id: int | None = None) -> dict[int, Decimal]:
    """The sum of the payments applied to each invoice that has any (voided payments left out);
    to one invoice only when `invoice_id` is given."""
    query = (
        select(PaymentApplication.invoice_id, PaymentApplication.amount)
        .join(Payment, PaymentApplication.payment_id == Payment.id)
        .where(Payment.voided.is_(False))
    )
    if invoice_id is not None:
        query = query.where(PaymentApplication.invoice_id == invoice_id)
    amounts: dict[int, list[Decimal]] = {}
    for applied_to, amount in session.execute(query):
        amounts.setdefault(applied_to, []).append(amount)
    return {key: sum_money(values) for key, values in amounts.items()}


def paid_amount(session: Session, invoice_id: int) -> Decimal:
    """The sum of the payments applied to an invoice (voided payments left out)."""
    return paid_amounts(session, invoice_id).get(invoice_id, ZERO)


def void_invoice(session: Session, invoice_id: int, *, now: datetime | None = None) -> Invoice:
    """Void a finalized invoice that has no payments applied.

    Its number stays used. If it is in QuickBooks Online (or may be: its create was attempted),
    a void is queued; if its create never went out, the create is cancelled instead. The
    expenses it billed are released so a replacement invoice can bill them.
    """
    invoice = get_invoice(session, invoice_id)
    try:
        check_can_void(_status(invoice), paid_amount(session, invoice.id), invoice.number)
    except RuleViolation as violation:
        raise _refuse(violation) from None
    creates = list(
        session.scalars(
            select(OutboxItem).where(
                OutboxItem.entity_kind == "invoice",
                OutboxItem.local_id == invoice.id,
                OutboxItem.operation == "create",
                OutboxItem.status != "cancelled",
            )
        )
    )
    never_sent = invoice.qbo_id is None and all(
        item.status in OPEN_OUTBOX and item.attempts == 0 for item in creates
    )
    if never_sent:
        for item in creates:
            item.status = "cancelled"
            item.last_error = "The invoice was voided before it was sent to QuickBooks Online."
    else:
        enqueue(session, "invoice", invoice.id, "void")
    for line in invoice.lines:
        line.expense_id = None
    invoice.status = InvoiceStatus.VOID.value
    invoice.balance = ZERO
    invoice.voided_at = now or datetime.now(UTC)
    session.flush()
    return invoice


__all__ = [
    "LINE_KINDS",
    "OPEN_OUTBOX",
    "DraftChanges",
    "LineInput",
    "LineKind",
    "create_draft_invoice",
    "delete_draft_invoice",
    "edit_draft_invoice",
    "enqueue",
    "finalize_invoice",
    "get_invoice",
    "invoice_totals",
    "numbering_policy",
    "paid_amount",
    "paid_amounts",
    "price_line",
    "service_lines_to_bill",
    "unbilled_expenses",
    "used_invoice_numbers",
    "void_invoice",
]
