"""Expenses as the Expenses tab lists them and `report expenses` prints them, with their
receipts and the invoice that bills each."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, selectinload

from factor_desktop.paths import DataDir
from factor_desktop.receipts import ReceiptInfo
from factor_desktop.store.models import Expense, Invoice, InvoiceLine
from factor_desktop.views.rows import ExpenseRow


def attachments_dir_of(session: Session) -> Path:
    """The receipt folder of the data folder that holds the session's database."""
    bind = session.get_bind()
    engine = bind if isinstance(bind, Engine) else bind.engine
    database = engine.url.database
    root = Path(database).parent if database else Path.cwd()
    return DataDir.resolve(root).attachments


def _billed_on(session: Session) -> dict[int, str]:
    """The invoice that bills each billed expense: its number, or "draft"."""
    return {
        expense_id: number or "draft"
        for expense_id, number in session.execute(
            select(InvoiceLine.expense_id, Invoice.number)
            .join(Invoice, InvoiceLine.invoice_id == Invoice.id)
            .where(InvoiceLine.expense_id.is_not(None))
        )
        if expense_id is not None
    }


def load_expenses(
    session: Session, receipts: Mapping[int, tuple[ReceiptInfo, ...]]
) -> tuple[ExpenseRow, ...]:
    """Every expense, newest first; `receipts` by expense id (from `receipts_by_expense`)."""
    billed_on = _billed_on(session)
    expenses = session.scalars(
        select(Expense)
        .options(selectinload(Expense.project), selectinload(Expense.expense_type))
        .order_by(Expense.incurred_on.desc(), Expense.id.desc())
    ).all()
    return tuple(
        ExpenseRow(
            id=e.id,
            incurred_on=e.incurred_on,
            project_number=e.project.number,
            project_name=e.project.name,
            type_name=e.expense_type.name if e.expense_type is not None else None,
            vendor=e.vendor,
            description=e.description,
            cost=e.cost,
            markup_percent=e.markup_percent,
            billable_amount=e.billable_amount,
            billable=e.billable,
            source=e.source,
            qbo_txn_type=e.qbo_txn_type,
            receipts=len(receipts.get(e.id, ())),
            deleted_in_qbo=e.deleted_in_qbo,
            receipt_files=receipts.get(e.id, ()),
            category=e.expense_type.category if e.expense_type is not None else None,
            billed_on=billed_on.get(e.id),
            qbo_id=e.qbo_id,
            qbo_line_id=e.qbo_line_id,
        )
        for e in expenses
    )
