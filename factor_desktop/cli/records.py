"""`factor-desktop invoice ...` and `factor-desktop link ...`: the firm-record services, headless.

Each command runs one service call in one transaction: it either happens entirely or, refused,
changes nothing and prints the service's reason on one line.
"""

from __future__ import annotations

import argparse
import json
from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from factor_desktop.reports import describe_invoice, invoice_text
from factor_desktop.services import (
    ServiceError,
    create_draft_invoice,
    delete_draft_invoice,
    finalize_invoice,
    find_client,
    find_project,
    link_client,
    link_project,
    unlink_client,
    unlink_project,
    void_invoice,
)
from factor_desktop.services.links import (
    cancel_create_request,
    request_create_client,
    request_create_project,
)
from factor_desktop.store.models import Client, Invoice, Project


class RecordCommandError(Exception):
    pass


def add_invoice_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "invoice",
        help="draft, finalize, void or delete an invoice",
        description="Draft an invoice from a project's earned fees and unbilled expenses, "
        "finalize it (it gets its number and is queued for QuickBooks), void it, or delete "
        "a draft.",
    )
    actions = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    draft = actions.add_parser("draft", help="draft an invoice for a project")
    draft.add_argument("project", metavar="PROJECT_NUMBER")
    draft.add_argument("--date", type=date.fromisoformat, help="issue date (YYYY-MM-DD)")
    for name, text in (
        ("finalize", "finalize a draft (by its id)"),
        ("void", "void a finalized invoice (by number or id)"),
        ("delete", "delete a draft (by its id)"),
    ):
        action = actions.add_parser(name, help=text)
        action.add_argument("invoice", metavar="NUMBER_OR_ID")
    for action_parser in actions.choices.values():
        action_parser.add_argument("--json", action="store_true", help="machine-readable output")


def add_link_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "link",
        help="link a client or project to a QuickBooks customer, or unlink it",
        description="Link a client (by name) or a project (by number) to a QuickBooks "
        "customer or sub-customer Id; `--unlink` forgets the link; `--create` has the next "
        "sync create it in QuickBooks (as auto-create would, for this record only) and "
        "`--no-create` withdraws that. Nothing changes in QuickBooks now.",
    )
    p.add_argument("kind", choices=["client", "project"])
    p.add_argument("record", metavar="NAME_OR_NUMBER")
    p.add_argument("qbo_id", metavar="QBO_ID", nargs="?")
    what = p.add_mutually_exclusive_group()
    what.add_argument("--unlink", action="store_true")
    what.add_argument("--create", action="store_true", help="create it in QuickBooks next sync")
    what.add_argument("--no-create", action="store_true", help="withdraw --create")


def _invoice(session: Session, key: str) -> Invoice:
    found = session.query(Invoice).filter(Invoice.number == key).one_or_none()
    if found is None and key.isdigit():
        found = session.get(Invoice, int(key))
    if found is None:
        raise RecordCommandError(f"No invoice has the number or id {key!r}.")
    return found


def _describe(invoice: Invoice) -> dict[str, Any]:
    return describe_invoice(invoice)


def run_invoice(session: Session, args: argparse.Namespace) -> dict[str, Any] | None:
    if args.action == "draft":
        project = find_project(session, args.project)
        if project is None:
            raise RecordCommandError(f"No project has the number {args.project!r}.")
        invoice = create_draft_invoice(session, project.id, issue_date=args.date)
        session.flush()
        return _describe(invoice)
    invoice = _invoice(session, args.invoice)
    if args.action == "finalize":
        return _describe(finalize_invoice(session, invoice.id))
    if args.action == "void":
        return _describe(void_invoice(session, invoice.id))
    delete_draft_invoice(session, invoice.id)
    return None


def run_link(session: Session, args: argparse.Namespace) -> str:
    record: Client | Project | None
    if args.kind == "client":
        record = find_client(session, args.record)
    else:
        record = find_project(session, args.record)
    if record is None:
        raise RecordCommandError(f"No {args.kind} is called {args.record!r}.")
    if args.unlink:
        if args.kind == "client":
            unlink_client(session, record.id)
        else:
            unlink_project(session, record.id)
        return f"Unlinked {args.kind} {args.record}."
    if (getattr(args, "create", False) or getattr(args, "no_create", False)) and args.qbo_id:
        raise RecordCommandError("Give a QuickBooks Id to link to, or --create, not both.")
    if getattr(args, "create", False):
        if args.kind == "client":
            request_create_client(session, record.id)
        else:
            request_create_project(session, record.id)
        return f"The next sync creates {args.kind} {args.record} in QuickBooks (preview it first)."
    if getattr(args, "no_create", False):
        withdrawn = cancel_create_request(session, args.kind, record.id)
        return (
            f"{args.kind.capitalize()} {args.record} will not be created in QuickBooks."
            if withdrawn
            else f"{args.kind.capitalize()} {args.record} was not marked to be created."
        )
    if not args.qbo_id:
        raise RecordCommandError("Give the QuickBooks Id to link to, or --unlink.")
    if args.kind == "client":
        link_client(session, record.id, args.qbo_id)
    else:
        link_project(session, record.id, args.qbo_id)
    return f"Linked {args.kind} {args.record} to QuickBooks Id {args.qbo_id}."


def print_invoice(result: dict[str, Any] | None, as_json: bool, action: str) -> None:
    if as_json:
        print(json.dumps(result if result is not None else {"deleted": True}, indent=2))
    else:
        print(invoice_text(result))


__all__ = [
    "RecordCommandError",
    "ServiceError",
    "add_invoice_parser",
    "add_link_parser",
    "print_invoice",
    "run_invoice",
    "run_link",
]
