"""Read-outs of what is in the store: invoices, expenses, project budgets and the sync log.

Each report is a list of rows with named columns, printed as an aligned text table, as JSON
(money as strings such as "1234.50", dates in ISO form) or written as CSV with the same columns,
so any state of the store can be checked from outside the app. The rows come from the read model
(`factor_desktop.views`), the very rows the window lists, so the two cannot disagree.
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

from sqlalchemy.orm import Session

from factor_desktop.receipts import ReceiptInfo, receipts_by_expense
from factor_desktop.store.models import Invoice
from factor_desktop.views.expenses import attachments_dir_of, load_expenses
from factor_desktop.views.invoices import FIX_HINTS, load_invoices
from factor_desktop.views.log import load_log
from factor_desktop.views.projects import project_financials
from factor_desktop.views.rows import InvoiceLineRow, InvoiceRow

REPORTS = ("invoices", "expenses", "projects", "log")

# A value already in JSON's terms (an invoice's lines, its custom fields): JSON output only.
Plain = list[dict[str, Any]]
Value = str | int | bool | Decimal | date | datetime | tuple[ReceiptInfo, ...] | Plain | None
Align = Literal["left", "right"]
Output = Literal["text", "json", "csv"]
EVERYWHERE: frozenset[Output] = frozenset(("text", "json", "csv"))
# Long sentences: in JSON and CSV columns, and on the terminal as notes under the table.
NOT_IN_TEXT: frozenset[Output] = frozenset(("json", "csv"))
JSON_ONLY: frozenset[Output] = frozenset(("json",))


@dataclass(frozen=True)
class Column:
    key: str
    title: str
    kind: Literal[
        "text", "money", "percent", "flag", "date", "datetime", "number", "receipts", "plain"
    ] = "text"
    outputs: frozenset[Output] = EVERYWHERE

    @property
    def align(self) -> Align:
        return "right" if self.kind in ("money", "percent", "number") else "left"


@dataclass(frozen=True)
class Report:
    name: str
    columns: tuple[Column, ...]
    rows: list[dict[str, Value]]
    # Sentences printed under the text table (what holds an invoice back, and its fix).
    notes: tuple[str, ...] = ()

    def columns_for(self, output: Output) -> tuple[Column, ...]:
        return tuple(c for c in self.columns if output in c.outputs)


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
    # sent, mismatched, pending, blocked, failed or "not sent" (see InvoiceRow.qbo_state).
    Column("quickbooks", "QuickBooks"),
    # What holds it back ("map", "link" or "retry"), and what to do, in words.
    Column("fix", "Fix"),
    Column("blocked_reason", "Why not in QuickBooks", outputs=NOT_IN_TEXT),
    Column("fix_hint", "What to do", outputs=NOT_IN_TEXT),
    # QuickBooks' total when it differs from Factor's, and why.
    Column("mismatched", "Differs", "flag", outputs=NOT_IN_TEXT),
    Column("qbo_total", "QBO total", "money", outputs=NOT_IN_TEXT),
    Column("qbo_balance", "QBO balance", "money", outputs=NOT_IN_TEXT),
    Column("mismatch_reason", "Why it differs", outputs=NOT_IN_TEXT),
    # JSON: [{"name", "value"}]; and the lines, each with the receipts of the expense it bills.
    Column("custom_fields", "Custom fields", "plain", outputs=JSON_ONLY),
    Column("lines", "Lines", "plain", outputs=JSON_ONLY),
)


def _line_json(line: InvoiceLineRow) -> dict[str, Any]:
    return {
        "position": line.position,
        "kind": line.kind,
        "description": line.description,
        "service_type": line.service_type,
        "expense_type": line.expense_type,
        "expense_id": line.expense_id,
        "quantity": format(line.quantity, "f"),
        "rate": format(line.rate, "f"),
        "amount": format(line.amount, "f"),
        "taxable": line.taxable,
        "receipts": [receipt.to_json() for receipt in line.receipts],
    }


def invoice_row(row: InvoiceRow) -> dict[str, Value]:
    """One row of the Invoices tab as `report invoices` prints it."""
    return {
        "id": row.id,
        "number": row.number,
        "project": row.project_number,
        "client": row.client_name,
        "status": row.status,
        "issue_date": row.issue_date,
        "due_date": row.due_date,
        "subtotal": row.subtotal,
        "tax": row.tax,
        "total": row.total,
        "paid": row.paid,
        "balance": row.balance,
        "qbo_id": row.qbo_id,
        "quickbooks": row.qbo_state,
        "fix": row.fix,
        "blocked_reason": row.blocked_reason,
        "fix_hint": FIX_HINTS.get(row.fix) if row.fix else None,
        "mismatched": row.mismatched,
        "qbo_total": row.qbo_total,
        "qbo_balance": row.qbo_balance,
        "mismatch_reason": row.mismatch_reason,
        "custom_fields": [{"name": name, "value": value} for name, value in row.custom_fields],
        "lines": [_line_json(line) for line in row.lines],
    }


def invoice_notes(rows: Sequence[InvoiceRow]) -> tuple[str, ...]:
    """What holds each invoice back from QuickBooks, or differs there, and the fix, in words
    (the window's "Needs attention")."""
    notes: list[str] = []
    for row in rows:
        label = row.number or f"Draft {row.id}"
        if row.blocked_reason:
            notes.append(f"{label} ({row.qbo_state}): {row.blocked_reason}")
            if row.fix:
                notes.append(f"  Fix: {FIX_HINTS[row.fix]}")
        if row.mismatched:
            figure = "total" if row.qbo_total is not None or row.qbo_balance is None else "balance"
            text = f"{label} ({figure} differs):"
            if row.qbo_total is not None:
                text += (
                    f" QuickBooks' total {row.qbo_total:,.2f} differs from Factor's "
                    f"{row.total:,.2f}."
                )
            if row.qbo_balance is not None:
                text += (
                    f" QuickBooks' balance {row.qbo_balance:,.2f} differs from Factor's "
                    f"{row.balance:,.2f}."
                )
            if row.mismatch_reason:
                text += f" {row.mismatch_reason}"
            notes.append(text)
    return ("Needs attention:", *notes) if notes else ()


def invoices_report(session: Session) -> Report:
    attachments = attachments_dir_of(session)
    found = load_invoices(session, receipts_by_expense(session, attachments), details=True)
    ordered = sorted(found, key=lambda i: (i.number is None, i.number or "", i.issue_date, i.id))
    rows = [invoice_row(row) for row in ordered]
    return Report("invoices", INVOICE_COLUMNS, rows, invoice_notes(ordered))


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


def expenses_report(session: Session, attachments_dir: Path | None = None) -> Report:
    receipts = receipts_by_expense(session, attachments_dir or attachments_dir_of(session))
    # The Expenses tab lists the newest first; the report reads oldest first.
    rows: list[dict[str, Value]] = [
        {
            "id": expense.id,
            "date": expense.incurred_on,
            "project": expense.project_number,
            "type": expense.type_name,
            "category": expense.category,
            "vendor": expense.vendor,
            "description": expense.description or None,
            "cost": expense.cost,
            "markup_percent": expense.markup_percent,
            "billable": expense.billable_amount,
            "billable_flag": expense.billable,
            "billed_on": expense.billed_on,
            "source": "qbo (deleted)" if expense.deleted_in_qbo else expense.source,
            "qbo_txn_type": expense.qbo_txn_type,
            "qbo_id": expense.qbo_id,
            "qbo_line_id": expense.qbo_line_id,
            "receipts": expense.receipt_files,
        }
        for expense in reversed(load_expenses(session, receipts))
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
    # All of the log, oldest first (the Sync Log tab lists the newest entries first).
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
            "state": entry.state,
            "reason": entry.reason,
        }
        for entry in reversed(load_log(session, limit=None))
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
    return value  # plain already (lists of JSON objects included)


def to_json(report: Report) -> str:
    rows = [
        {
            c.key: _plain(row.get(c.key, () if c.kind == "receipts" else None))
            for c in report.columns_for("json")
        }
        for row in report.rows
    ]
    return json.dumps(rows, indent=2, ensure_ascii=False)


def _cell(column: Column, value: Value, *, for_csv: bool) -> str:
    if value is None:
        return ""
    if isinstance(value, tuple):
        return "; ".join(receipt.file_name for receipt in value)
    if isinstance(value, list):
        return json.dumps(value, ensure_ascii=False)
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
    columns = report.columns_for("csv")
    writer.writerow([c.key for c in columns])
    for row in report.rows:
        writer.writerow([_cell(c, row.get(c.key), for_csv=True) for c in columns])
    return buffer.getvalue()


def write_csv(report: Report, path: Path) -> None:
    """Write the report as CSV (UTF-8 with a byte-order mark, so spreadsheets read accents)."""
    path.write_text(to_csv_text(report), encoding="utf-8-sig", newline="")


def to_text(report: Report) -> str:
    """An aligned text table, and the report's notes under it; an empty report says so."""
    if not report.rows:
        return f"No {'sync log entries' if report.name == 'log' else report.name}."
    columns = report.columns_for("text")
    cells = [
        [printable(_cell(c, row.get(c.key), for_csv=False).replace("\n", " ")) for c in columns]
        for row in report.rows
    ]
    titles = [c.title for c in columns]
    widths = [max(len(titles[i]), *(len(r[i]) for r in cells)) for i in range(len(titles))]

    def line(values: Sequence[str]) -> str:
        parts = [
            value.rjust(width) if column.align == "right" else value.ljust(width)
            for value, width, column in zip(values, widths, columns, strict=True)
        ]
        return "  ".join(parts).rstrip()

    rule = "  ".join("-" * width for width in widths)
    table = [line(titles), rule, *(line(r) for r in cells)]
    notes = [printable(note.replace("\n", " ")) for note in report.notes]
    return "\n".join([*table, "", *notes] if notes else table)
