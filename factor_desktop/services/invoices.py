"""Invoices: drafts built from a project's progress and expenses, editing, finalizing, voiding.

A draft is freely edited and never leaves this machine. Finalizing allocates the next invoice
number from the firm's numbering settings in the same transaction (numbers are never reused:
voided invoices keep theirs), fixes the totals and due date, captures the project details
printed on the invoice, and queues the invoice for QuickBooks Online in the outbox. A finalized
invoice is locked; only payments (its status follows its balance) and voiding change it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, Literal
from uuid import uuid4

from sqlalchemy import select
from sqlalchemy.orm import Session

from factor_desktop.domain.budgets import fee_to_bill
from factor_desktop.domain.errors import RuleViolation
from factor_desktop.domain.invoices import (
    QBO_DOC_NUMBER_MAX_LENGTH,
    CustomField,
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
    validate_custom_fields,
)
from factor_desktop.domain.money import ZERO, format_money, sum_money
from factor_desktop.domain.payments import status_after_payments
from factor_desktop.domain.status import InvoiceStatus
from factor_desktop.services._fields import (
    UNSET,
    Unset,
    a_date,
    get_record,
    money,
    optional_text,
    text,
    whole_number,
)
from factor_desktop.services.errors import Change, Saved, ServiceError
from factor_desktop.services.records import to_rule
from factor_desktop.settings import load_settings, update_setting
from factor_desktop.store.models import (
    Client,
    Expense,
    ExpenseType,
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

LineKind = Literal["service", "expense", "other"]
LINE_KINDS: tuple[LineKind, ...] = ("service", "expense", "other")
OPEN_OUTBOX = ("pending", "failed", "blocked")


def _refuse(violation: RuleViolation) -> ServiceError:
    return ServiceError.from_rule(violation)


def _status(invoice: Invoice) -> InvoiceStatus:
    return InvoiceStatus(invoice.status)


def get_invoice(session: Session, invoice_id: int) -> Invoice:
    return get_record(session, Invoice, invoice_id, "invoice")


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


# --- import of invoices issued elsewhere --------------------------------------------------------


@dataclass(frozen=True)
class InvoiceRecord:
    """An invoice as an import file describes it, with names already resolved to ids.

    A `number` makes it a finalized invoice that keeps that number; without one it is a draft,
    recognised on a later import by its project and issue date. `qbo_id` marks an invoice that
    is already in QuickBooks Online, so it is linked rather than queued for creation. Fields
    left `UNSET` keep what the invoice has (and are empty on a new one).
    """

    project_id: int
    issue_date: date
    number: str | None = None
    terms_days: int | Unset | None = UNSET
    tax_term_id: int | Unset | None = UNSET
    memo: str | Unset | None = UNSET
    custom_fields: tuple[tuple[str, str], ...] | Unset = UNSET
    lines: tuple[LineInput, ...] | Unset = UNSET
    qbo_id: str | None = None


def _line_key(line: InvoiceLine) -> tuple[Any, ...]:
    return (
        line.kind,
        line.description,
        line.quantity,
        line.rate,
        line.amount,
        line.taxable,
        line.service_type_id,
        line.expense_type_id,
    )


def _stored_content(invoice: Invoice) -> dict[str, Any]:
    """What an import compares to tell whether an invoice changed."""
    return {
        "project_id": invoice.project_id,
        "issue_date": invoice.issue_date,
        "terms_days": invoice.terms_days,
        "tax_term_id": invoice.tax_term_id,
        "memo": invoice.memo,
        "custom_fields": tuple((c.name, c.value) for c in invoice.custom_fields),
        "lines": tuple(_line_key(line) for line in invoice.lines),
    }


def _same_content(session: Session, invoice: Invoice, record: InvoiceRecord) -> bool:
    """Whether every field `record` gives (checked, not stored) matches the stored invoice."""
    given: dict[str, Any] = {"project_id": record.project_id, "issue_date": record.issue_date}
    if not isinstance(record.terms_days, Unset):
        given["terms_days"] = record.terms_days
    if not isinstance(record.tax_term_id, Unset):
        if record.tax_term_id is not None:
            get_record(session, TaxTerm, record.tax_term_id, "tax term")
        given["tax_term_id"] = record.tax_term_id
    if not isinstance(record.memo, Unset):
        given["memo"] = optional_text(record.memo, "Memo", "memo", 4000, multiline=True)
    if not isinstance(record.custom_fields, Unset):
        fields = _custom_fields(record.custom_fields)
        given["custom_fields"] = tuple((c.name, c.value) for c in fields)
    if not isinstance(record.lines, Unset):
        lines = _build_lines(session, invoice, record.lines)
        given["lines"] = tuple(_line_key(line) for line in lines)
    stored = _stored_content(invoice)
    return all(stored[key] == value for key, value in given.items())


def _changes(record: InvoiceRecord) -> DraftChanges:
    return DraftChanges(
        lines=record.lines,
        custom_fields=record.custom_fields,
        memo=record.memo,
        tax_term_id=record.tax_term_id,
        issue_date=record.issue_date,
        terms_days=record.terms_days,
    )


def save_imported_invoice(session: Session, record: InvoiceRecord) -> Saved[Invoice]:
    """Create or update an invoice from an import.

    A finalized invoice is found by its number. When it is already in the store it must match
    the file: it is locked, so an import never changes it. A new one is finalized with its own
    number (which must be free), its totals and due date fixed, and queued for QuickBooks
    Online unless it carries the id of its QuickBooks twin. A draft is found by its project and
    issue date and updated to match the file.
    """
    project = get_record(session, Project, record.project_id, "project")
    if record.number is None:
        return _save_imported_draft(session, project, record)
    number = text(record.number, "Invoice number", "number", QBO_DOC_NUMBER_MAX_LENGTH)
    existing = session.scalars(select(Invoice).where(Invoice.number == number)).first()
    if existing is not None:
        if not _same_content(session, existing, record):
            raise ServiceError(
                f"Invoice {number} is already in the store with different details. It is "
                "finalized and locked, so an import can't change it; void it in Factor Desktop "
                "and import the corrected invoice under a new number.",
                field="number",
            )
        return Saved(existing, Change.UNCHANGED)
    clash = next(
        (n for n in used_invoice_numbers(session) if n.casefold() == number.casefold()), None
    )
    if clash is not None:
        raise ServiceError(
            f"Invoice number {number} is taken by invoice {clash}, which differs only in "
            "capitalization.",
            field="number",
        )
    qbo_id = optional_text(record.qbo_id, "QuickBooks invoice id", "qbo_id", 32)
    if qbo_id is not None and session.scalar(select(Invoice.id).where(Invoice.qbo_id == qbo_id)):
        raise ServiceError(
            f"QuickBooks invoice {qbo_id} is already linked to another invoice.", field="qbo_id"
        )
    invoice = Invoice(
        project_id=project.id,
        project=project,
        status=InvoiceStatus.DRAFT.value,
        issue_date=record.issue_date,
    )
    _apply_draft_changes(session, invoice, _changes(record))
    totals = invoice_totals(invoice)
    _check_ready(invoice, totals)
    _issue(session, invoice, number, totals, datetime.now(UTC), qbo_id)
    return Saved(invoice, Change.CREATED)


def _save_imported_draft(
    session: Session, project: Project, record: InvoiceRecord
) -> Saved[Invoice]:
    if record.qbo_id is not None:
        raise ServiceError(
            "A draft invoice can't be linked to QuickBooks Online; give the invoice its number "
            "if it is finalized.",
            field="qbo_id",
        )
    drafts = list(
        session.scalars(
            select(Invoice).where(
                Invoice.project_id == project.id,
                Invoice.issue_date == record.issue_date,
                Invoice.status == InvoiceStatus.DRAFT.value,
            )
        )
    )
    if len(drafts) > 1:
        raise ServiceError(
            f"Project {project.number} has {len(drafts)} draft invoices dated "
            f"{record.issue_date}, so the import can't tell which one this is. Delete or "
            "re-date the extra drafts first.",
            field="issue_date",
        )
    if drafts:
        draft = drafts[0]
        if _same_content(session, draft, record):
            return Saved(draft, Change.UNCHANGED)
        _apply_draft_changes(session, draft, _changes(record))
        return Saved(draft, Change.UPDATED)
    invoice = Invoice(
        project_id=project.id,
        project=project,
        status=InvoiceStatus.DRAFT.value,
        issue_date=record.issue_date,
    )
    _apply_draft_changes(session, invoice, _changes(record))
    return Saved(invoice, Change.CREATED)
