"""Invoices as the Invoices tab lists them and `report invoices` prints them: totals, payments,
lines and custom fields, and what holds an issued invoice back from QuickBooks."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session, aliased, selectinload

from factor_desktop.domain.money import ZERO
from factor_desktop.receipts import ReceiptInfo
from factor_desktop.services.invoices import paid_amounts
from factor_desktop.store.models import (
    ExpenseType,
    Invoice,
    InvoiceCustomField,
    InvoiceLine,
    OutboxItem,
    Project,
    ServiceType,
    SyncLogEntry,
)
from factor_desktop.views.rows import InvoiceLineRow, InvoiceRow

# What to do about each fix, in the command line's words (the window offers a button instead).
# A blocked invoice is tried again by every sync; a failed one waits for a retry.
FIX_HINTS = {
    "map": "Map it with `factor-desktop map` (or on the Mappings tab); the next sync sends it.",
    "link": (
        "Link it with `factor-desktop link` (or on the Clients & Projects tab); "
        "the next sync sends it."
    ),
    "retry": "Run `factor-desktop sync --retry` to send it again.",
}


def blocking_fix(outbox_status: str | None, reason: str | None) -> str | None:
    """The fix for what holds an invoice back: "map" (a type or tax term to map on the Mappings
    tab), "link" (a client or project to link on Clients & Projects), "retry" (send it again),
    or None when nothing holds it (or it only waits for the next sync)."""
    if outbox_status not in ("blocked", "failed"):
        return None
    text = reason or ""
    if outbox_status == "blocked":
        if "Mappings tab" in text:
            return "map"
        if "Clients & Projects" in text or "not in QuickBooks yet" in text:
            return "link"
    return "retry"


# A sync log entry that still stands (as the sync's own NEEDS_ATTENTION: the sync package is not
# imported here, to keep the window's start light).
_STANDING = and_(
    SyncLogEntry.resolved.is_(False),
    or_(
        SyncLogEntry.state.in_(("waiting", "failed", "mismatched")),
        and_(SyncLogEntry.state.is_(None), SyncLogEntry.level.in_(("warning", "error"))),
    ),
)


def _money_or_none(value: object) -> Decimal | None:
    try:
        return Decimal(str(value)) if value is not None else None
    except ArithmeticError:
        return None


def _lines(
    session: Session, receipts: Mapping[int, tuple[ReceiptInfo, ...]]
) -> dict[int, tuple[InvoiceLineRow, ...]]:
    """Every invoice's lines, read in one query (plain columns, no ORM objects to build)."""
    service = aliased(ServiceType)
    expense_type = aliased(ExpenseType)
    found: dict[int, list[InvoiceLineRow]] = {}
    query = (
        select(
            InvoiceLine.invoice_id,
            InvoiceLine.position,
            InvoiceLine.kind,
            InvoiceLine.description,
            InvoiceLine.quantity,
            InvoiceLine.rate,
            InvoiceLine.amount,
            InvoiceLine.taxable,
            service.name,
            expense_type.name,
            InvoiceLine.expense_id,
        )
        .outerjoin(service, InvoiceLine.service_type_id == service.id)
        .outerjoin(expense_type, InvoiceLine.expense_type_id == expense_type.id)
        .order_by(InvoiceLine.invoice_id, InvoiceLine.position, InvoiceLine.id)
    )
    for (
        invoice_id,
        position,
        kind,
        text,
        qty,
        rate,
        amount,
        taxable,
        st,
        et,
        expense_id,
    ) in session.execute(query):
        found.setdefault(invoice_id, []).append(
            InvoiceLineRow(
                position=position,
                kind=kind,
                description=text,
                quantity=qty,
                rate=rate,
                amount=amount,
                taxable=taxable,
                service_type=st,
                expense_type=et,
                expense_id=expense_id,
                receipts=receipts.get(expense_id, ()) if expense_id is not None else (),
            )
        )
    return {key: tuple(rows) for key, rows in found.items()}


def _custom_fields(session: Session) -> dict[int, tuple[tuple[str, str], ...]]:
    found: dict[int, list[tuple[str, str]]] = {}
    query = select(
        InvoiceCustomField.invoice_id, InvoiceCustomField.name, InvoiceCustomField.value
    ).order_by(InvoiceCustomField.invoice_id, InvoiceCustomField.position)
    for invoice_id, name, value in session.execute(query):
        found.setdefault(invoice_id, []).append((name, value))
    return {key: tuple(fields) for key, fields in found.items()}


def load_invoices(
    session: Session,
    receipts: Mapping[int, tuple[ReceiptInfo, ...]] | None = None,
    *,
    details: bool = False,
) -> tuple[InvoiceRow, ...]:
    """Every invoice, newest first, with why an issued one is not in QuickBooks yet.

    With `details`, each row also carries its lines and custom fields, and `receipts` (by
    expense id, from `receipts_by_expense`) gives a line that bills an expense its receipts.
    The window lists neither, so its snapshot leaves them out: they would only make every
    snapshot of a large firm slower to read and to compare."""
    invoices = session.scalars(
        select(Invoice)
        .options(selectinload(Invoice.project).selectinload(Project.client))
        .order_by(Invoice.issue_date.desc(), Invoice.id.desc())
    ).all()
    # The open create of each invoice, and the invoice's standing problem in the sync log.
    outbox: dict[int, OutboxItem] = {}
    for item in session.scalars(
        select(OutboxItem)
        .where(
            OutboxItem.entity_kind == "invoice",
            OutboxItem.operation == "create",
            OutboxItem.status.in_(("pending", "blocked", "failed")),
        )
        .order_by(OutboxItem.id)
    ):
        outbox[item.local_id] = item
    standing: dict[int, SyncLogEntry] = {}
    mismatched: dict[int, SyncLogEntry] = {}
    for entry in session.scalars(
        select(SyncLogEntry)
        .where(
            SyncLogEntry.entity_kind == "invoice",
            SyncLogEntry.local_id.is_not(None),
            SyncLogEntry.direction.in_(("push", "pull")),
            _STANDING,
        )
        .order_by(SyncLogEntry.id)
    ):
        assert entry.local_id is not None
        state = entry.current_state
        if entry.action == "mismatched" or state == "mismatched":
            mismatched[entry.local_id] = entry
        elif state in ("waiting", "failed"):
            standing[entry.local_id] = entry
    paid = paid_amounts(session)
    lines = _lines(session, receipts or {}) if details else {}
    fields = _custom_fields(session) if details else {}
    rows: list[InvoiceRow] = []
    for i in invoices:
        open_item = outbox.get(i.id) if i.qbo_id is None else None
        problem = standing.get(i.id) if open_item is not None else None
        reason = (problem.reason if problem is not None else None) or (
            open_item.last_error if open_item is not None else None
        )
        status = open_item.status if open_item is not None else None
        if status == "pending" and problem is None:
            reason = None
        mismatch = mismatched.get(i.id)
        detail = mismatch.detail if mismatch is not None and mismatch.detail else {}
        rows.append(
            InvoiceRow(
                id=i.id,
                number=i.number,
                project_number=i.project.number,
                project_name=i.project.name,
                client_name=i.project.client.name,
                status=i.status,
                issue_date=i.issue_date,
                due_date=i.due_date,
                total=i.total,
                balance=i.balance,
                qbo_id=i.qbo_id,
                outbox_status=status,
                blocked_reason=reason,
                fix=blocking_fix(status, reason),
                qbo_total=_money_or_none(detail.get("qbo_total")),
                mismatch_reason=mismatch.reason if mismatch is not None else None,
                qbo_balance=_money_or_none(detail.get("qbo_balance")),
                project_id=i.project_id,
                subtotal=i.subtotal,
                tax=i.tax,
                paid=paid.get(i.id, ZERO),
                lines=lines.get(i.id, ()),
                custom_fields=fields.get(i.id, ()),
            )
        )
    return tuple(rows)
