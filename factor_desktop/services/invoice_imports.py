"""Invoices issued elsewhere, from an import file: a finalized invoice keeps its number (and is
linked when it is already in QuickBooks Online), a draft is recognised by its project and issue
date; importing the same file again changes nothing."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from factor_desktop.domain.invoices import QBO_DOC_NUMBER_MAX_LENGTH
from factor_desktop.domain.status import InvoiceStatus
from factor_desktop.services._fields import UNSET, Unset, get_record, optional_text, text
from factor_desktop.services._natural_keys import import_cache
from factor_desktop.services.errors import Change, Saved, ServiceError
from factor_desktop.services.invoice_lines import LineInput, _build_lines, _custom_fields
from factor_desktop.services.invoices import (
    DraftChanges,
    _apply_draft_changes,
    _check_ready,
    _issue,
    invoice_totals,
    used_invoice_numbers,
)
from factor_desktop.store.models import Invoice, InvoiceLine, Project, TaxTerm

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


class _TakenNumbers:
    """Every invoice number in the store by its text ignoring case, kept in an import's
    scratch database, and those the import issues as it goes."""

    def __init__(self, db: sqlite3.Connection, numbers: Iterable[str]) -> None:
        self.db = db
        db.execute("CREATE TABLE invoice_numbers (folded TEXT PRIMARY KEY, number TEXT)")
        self.add_all(numbers)

    def add_all(self, numbers: Iterable[str]) -> None:
        self.db.executemany(
            "INSERT OR IGNORE INTO invoice_numbers VALUES (?, ?)",
            ((number.casefold(), number) for number in numbers),
        )

    def get(self, number: str) -> str | None:
        found = self.db.execute(
            "SELECT number FROM invoice_numbers WHERE folded = ?", (number.casefold(),)
        ).fetchone()
        return None if found is None else str(found[0])


def _taken_numbers(session: Session) -> _TakenNumbers | None:
    """During an import: the invoice numbers in the store, read once and kept up to date as the
    import issues invoices, so checking a number costs a lookup rather than a read of every
    number (which made a large import quadratic)."""
    query = select(Invoice.number).where(Invoice.number.is_not(None))
    return import_cache(
        session,
        "invoice_numbers",
        lambda db: _TakenNumbers(db, session.scalars(query.execution_options(yield_per=1000))),
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
    taken = _taken_numbers(session)
    if taken is not None:
        clash = taken.get(number)
    else:
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
    if taken is not None:
        taken.add_all([number])
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
