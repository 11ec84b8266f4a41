"""Read-outs of what is in the store: invoices, expenses, project budgets and the sync log.

Each report is a list of rows with named columns, printed as an aligned text table, as JSON
(money as strings such as "1234.50", dates in ISO form) or written as CSV with the same columns,
so any state of the store can be checked from outside the app.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, selectinload

from factor_desktop.domain.money import ZERO
from factor_desktop.paths import DataDir
from factor_desktop.receipts import ReceiptInfo, receipts_by_expense
from factor_desktop.services.budgets import project_budget
from factor_desktop.services.invoices import paid_amounts
from factor_desktop.store.models import (
    Client,
    Expense,
    ExpenseType,
    Invoice,
    InvoiceLine,
    Project,
    SyncLogEntry,
)

REPORTS = ("invoices", "expenses", "projects", "log")

Value = str | int | bool | Decimal | date | datetime | tuple[ReceiptInfo, ...] | None
Align = Literal["left", "right"]


@dataclass(frozen=True)
class Column:
    key: str
    title: str
    kind: Literal["text", "money", "percent", "flag", "date", "datetime", "number", "receipts"] = (
        "text"
    )

    @property
    def align(self) -> Align:
        return "right" if self.kind in ("money", "percent", "number") else "left"


@dataclass(frozen=True)
class Report:
    name: str
    columns: tuple[Column, ...]
    rows: list[dict[str, Value]]


# --- the reports --------------------------------------------------------------------------------

INVOICE_COLUMNS = (
    Column("id", "Id", "number"),
    Column("number", "Number"),
    Column("project", "Project"),
    Column("client", "Client"),
    Column("status", "Status"),
    Column("issue_date", "Issued", "date"),
    Column("due_date", "Due", "date"),
    Column("subtotal", "Subtotal", "money"),
    Column("tax", "Tax", "money"),
    Column("total", "Total", "money"),
    Column("paid", "Paid", "money"),
    Column("balance", "Balance", "money"),
    Column("qbo_id", "QBO id"),
)


def invoices_report(session: Session) -> Report:
    paid = paid_amounts(session)
    invoices = session.scalars(
        select(Invoice).options(selectinload(Invoice.project).selectinload(Project.client))
    ).all()
    ordered = sorted(invoices, key=lambda i: (i.number is None, i.number or "", i.issue_date, i.id))
    rows: list[dict[str, Value]] = [
        {
            "id": invoice.id,
            "number": invoice.number,
            "project": invoice.project.number,
            "client": invoice.project.client.name,
            "status": invoice.status,
            "issue_date": invoice.issue_date,
            "due_date": invoice.due_date,
            "subtotal": invoice.subtotal,
            "tax": invoice.tax,
            "total": invoice.total,
            "paid": paid.get(invoice.id, ZERO),
            "balance": invoice.balance,
            "qbo_id": invoice.qbo_id,
        }
        for invoice in ordered
    ]
    return Report("invoices", INVOICE_COLUMNS, rows)


def describe_invoice(invoice: Invoice) -> dict[str, Any]:
    """One invoice as `invoice --json` prints it after an action."""
    return {
        "id": invoice.id,
        "number": invoice.number,
        "status": invoice.status,
        "project": invoice.project.number,
        "issue_date": invoice.issue_date.isoformat(),
        "due_date": invoice.due_date.isoformat() if invoice.due_date else None,
        "subtotal": str(invoice.subtotal),
        "tax": str(invoice.tax),
        "total": str(invoice.total),
        "balance": str(invoice.balance),
        "lines": len(invoice.lines),
    }


def invoice_text(described: dict[str, Any] | None) -> str:
    """The sentence `invoice` prints after an action (None: a draft deleted); the window's
    invoice actions say the same."""
    if described is None:
        return "Draft deleted."
    label = described["number"] or f"draft {described['id']}"
    return (
        f"Invoice {label} ({described['status']}) for project {described['project']}: "
        f"total {described['total']}, balance {described['balance']}, "
        f"{described['lines']} lines."
    )


EXPENSE_COLUMNS = (
    Column("id", "Id", "number"),
    Column("date", "Date", "date"),
    Column("project", "Project"),
    Column("type", "Type"),
    Column("category", "Category"),
    Column("vendor", "Vendor"),
    Column("description", "Description"),
    Column("cost", "Cost", "money"),
    Column("markup_percent", "Markup %", "percent"),
    Column("billable", "Billable", "money"),
    Column("billable_flag", "Bill?", "flag"),
    Column("billed_on", "Billed on"),
    Column("source", "Source"),
    Column("qbo_txn_type", "QBO type"),
    Column("qbo_id", "QBO id"),
    Column("qbo_line_id", "QBO line"),
    # JSON: a list of {"file_name", "content_type", "size", "path"} ("path" null until the file
    # is downloaded); text and CSV: the file names.
    Column("receipts", "Receipts", "receipts"),
)


def attachments_dir_of(session: Session) -> Path:
    """The receipt folder of the data folder that holds the session's database."""
    bind = session.get_bind()
    engine = bind if isinstance(bind, Engine) else bind.engine
    database = engine.url.database
    root = Path(database).parent if database else Path.cwd()
    return DataDir.resolve(root).attachments


def expenses_report(session: Session, attachments_dir: Path | None = None) -> Report:
    billed_on = {
        expense_id: number or "draft"
        for expense_id, number in session.execute(
            select(InvoiceLine.expense_id, Invoice.number)
            .join(Invoice, InvoiceLine.invoice_id == Invoice.id)
            .where(InvoiceLine.expense_id.is_not(None))
        )
    }
    receipts = receipts_by_expense(session, attachments_dir or attachments_dir_of(session))
    expenses = session.scalars(
        select(Expense)
        .options(selectinload(Expense.project), selectinload(Expense.expense_type))
        .order_by(Expense.incurred_on, Expense.id)
    )
    rows: list[dict[str, Value]] = [
        {
            "id": expense.id,
            "date": expense.incurred_on,
            "project": expense.project.number,
            "type": expense.expense_type.name if expense.expense_type else None,
            "category": expense.expense_type.category if expense.expense_type else None,
            "vendor": expense.vendor,
            "description": expense.description or None,
            "cost": expense.cost,
            "markup_percent": expense.markup_percent,
            "billable": expense.billable_amount,
            "billable_flag": expense.billable,
            "billed_on": billed_on.get(expense.id),
            "source": "qbo (deleted)" if expense.deleted_in_qbo else expense.source,
            "qbo_txn_type": expense.qbo_txn_type,
            "qbo_id": expense.qbo_id,
            "qbo_line_id": expense.qbo_line_id,
            "receipts": receipts.get(expense.id, ()),
        }
        for expense in expenses
    ]
    return Report("expenses", EXPENSE_COLUMNS, rows)


PROJECT_COLUMNS = (
    Column("number", "Number"),
    Column("name", "Project"),
    Column("client", "Client"),
    Column("status", "Status"),
    Column("line", "Budget line"),
    Column("kind", "Kind"),
    Column("budget", "Budget", "money"),
    Column("cost", "Cost", "money"),
    Column("billable", "Billable", "money"),
    Column("billed", "Billed", "money"),
    Column("collected", "Collected", "money"),
    Column("remaining", "Remaining", "money"),
    Column("percent_used", "Used %", "percent"),
    Column("over_budget", "Over", "flag"),
    Column("subconsultant", "Sub", "flag"),
)


@dataclass(frozen=True)
class BudgetLineFigures:
    """One budget line of a project (a service fee or an expense category) against actuals.

    `subconsultant` marks an expense category whose expense types are sub-consultants'.
    """

    label: str
    kind: str
    unbudgeted: bool
    subconsultant: bool
    budget: Decimal
    cost: Decimal
    billable: Decimal
    billed: Decimal
    collected: Decimal
    remaining: Decimal
    percent_used: Decimal | None
    over_budget: bool


@dataclass(frozen=True)
class ProjectFinancials:
    """A project's budget against actuals, line by line: what `report projects` prints and
    the window's Projects tab shows, computed once here so the two never disagree."""

    id: int
    number: str
    name: str
    client: str
    status: str
    lines: tuple[BudgetLineFigures, ...]


def project_financials(session: Session) -> list[ProjectFinancials]:
    """Every project's budget lines with their actuals, in project-number order."""
    subconsultant = {
        category.casefold()
        for category, flag in session.execute(
            select(ExpenseType.category, ExpenseType.is_subconsultant)
        )
        if flag
    }
    projects = session.scalars(
        select(Project).join(Client).options(selectinload(Project.client)).order_by(Project.number)
    )
    found: list[ProjectFinancials] = []
    for project in projects:
        report = project_budget(session, project.id)
        lines = tuple(
            BudgetLineFigures(
                label=line.label,
                kind=line.kind,
                unbudgeted=line.unbudgeted,
                subconsultant=line.kind == "expense" and line.label.casefold() in subconsultant,
                budget=line.budget,
                cost=line.cost,
                billable=line.billable,
                billed=line.billed,
                collected=line.collected,
                remaining=line.remaining,
                percent_used=line.percent_used,
                over_budget=line.over_budget,
            )
            for line in report.lines
        )
        found.append(
            ProjectFinancials(
                id=project.id,
                number=project.number,
                name=project.name,
                client=project.client.name,
                status=project.status,
                lines=lines,
            )
        )
    return found


def projects_report(session: Session) -> Report:
    rows: list[dict[str, Value]] = []
    for project in project_financials(session):
        head: dict[str, Value] = {
            "number": project.number,
            "name": project.name,
            "client": project.client,
            "status": project.status,
        }
        if not project.lines:
            rows.append({**head, **{c.key: None for c in PROJECT_COLUMNS[4:]}})
        for line in project.lines:
            rows.append(
                {
                    **head,
                    "line": line.label + (" (unbudgeted)" if line.unbudgeted else ""),
                    "kind": line.kind,
                    "budget": line.budget,
                    "cost": line.cost,
                    "billable": line.billable,
                    "billed": line.billed,
                    "collected": line.collected,
                    "remaining": line.remaining,
                    "percent_used": line.percent_used,
                    "over_budget": line.over_budget,
                    "subconsultant": line.subconsultant,
                }
            )
    return Report("projects", PROJECT_COLUMNS, rows)


LOG_COLUMNS = (
    Column("at", "At", "datetime"),
    Column("direction", "Direction"),
    Column("entity", "Entity"),
    Column("local_id", "Local id", "number"),
    Column("qbo_id", "QBO id"),
    Column("label", "Record"),
    Column("action", "Action"),
    Column("level", "Level"),
    Column("state", "State"),
    Column("reason", "Reason"),
)


def log_report(session: Session) -> Report:
    entries = session.scalars(select(SyncLogEntry).order_by(SyncLogEntry.at, SyncLogEntry.id))
    rows: list[dict[str, Value]] = [
        {
            "at": entry.at,
            "direction": entry.direction,
            "entity": entry.entity_kind,
            "local_id": entry.local_id,
            "qbo_id": entry.qbo_id,
            "label": entry.label,
            "action": entry.action,
            "level": entry.level,
            "state": entry.current_state,
            "reason": entry.reason,
        }
        for entry in entries
    ]
    return Report("log", LOG_COLUMNS, rows)


BUILDERS: dict[str, Callable[[Session], Report]] = {
    "invoices": invoices_report,
    "expenses": expenses_report,
    "projects": projects_report,
    "log": log_report,
}


def build_report(session: Session, name: str) -> Report:
    """One of `REPORTS`, read from the store."""
    try:
        builder = BUILDERS[name]
    except KeyError:
        choices = ", ".join(REPORTS)
        raise ValueError(f"There is no {name!r} report; choose one of {choices}.") from None
    return builder(session)


# --- output ---------------------------------------------------------------------------------------


def _plain(value: Value) -> Any:
    """A value as JSON carries it: money and percentages as exact strings, dates in ISO form."""
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, tuple):
        return [receipt.to_json() for receipt in value]
    return value


def to_json(report: Report) -> str:
    rows = [
        {
            c.key: _plain(row.get(c.key, () if c.kind == "receipts" else None))
            for c in report.columns
        }
        for row in report.rows
    ]
    return json.dumps(rows, indent=2, ensure_ascii=False)


def _cell(column: Column, value: Value, *, for_csv: bool) -> str:
    if value is None:
        return ""
    if isinstance(value, tuple):
        return "; ".join(receipt.file_name for receipt in value)
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, Decimal):
        if column.kind == "money" and not for_csv:
            return f"{value:,.2f}"
        if column.kind == "percent" and not for_csv:
            return f"{value.normalize():f}%"
        return format(value, "f")
    if isinstance(value, datetime):
        return value.isoformat() if for_csv else value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, date):
        return value.isoformat()
    if for_csv and isinstance(value, str):
        return csv_safe(value)
    return str(value)


# A spreadsheet runs a cell that starts with one of these as a formula (CSV injection).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_safe(text: str) -> str:
    """Text a spreadsheet shows as text: a formula-like start is escaped with an apostrophe."""
    return f"'{text}" if text.startswith(_FORMULA_START) else text


# Terminal escape sequences (CSI, OSC and the rest) and other control characters, which names
# from QuickBooks could carry into a terminal.
_ESCAPES = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[@-_]?|\x9b[0-?]*[ -/]*[@-~]"
)
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def printable(text: str) -> str:
    """Text safe to print on a terminal: escape sequences removed, control characters shown as ?."""
    return _CONTROLS.sub("?", _ESCAPES.sub("", text))


def to_csv_text(report: Report) -> str:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([c.key for c in report.columns])
    for row in report.rows:
        writer.writerow([_cell(c, row.get(c.key), for_csv=True) for c in report.columns])
    return buffer.getvalue()


def write_csv(report: Report, path: Path) -> None:
    """Write the report as CSV (UTF-8 with a byte-order mark, so spreadsheets read accents)."""
    path.write_text(to_csv_text(report), encoding="utf-8-sig", newline="")


def to_text(report: Report) -> str:
    """An aligned text table; an empty report says so."""
    if not report.rows:
        return f"No {'sync log entries' if report.name == 'log' else report.name}."
    cells = [
        [
            printable(_cell(c, row.get(c.key), for_csv=False).replace("\n", " "))
            for c in report.columns
        ]
        for row in report.rows
    ]
    titles = [c.title for c in report.columns]
    widths = [max(len(titles[i]), *(len(r[i]) for r in cells)) for i in range(len(titles))]

    def line(values: Sequence[str]) -> str:
        parts = [
            value.rjust(width) if column.align == "right" else value.ljust(width)
            for value, width, column in zip(values, widths, report.columns, strict=True)
        ]
        return "  ".join(parts).rstrip()

    rule = "  ".join("-" * width for width in widths)
    return "\n".join([line(titles), rule, *(line(r) for r in cells)])
