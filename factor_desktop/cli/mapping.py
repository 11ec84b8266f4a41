"""`factor-desktop map ...`: mappings, headless.

Each `map` command runs in one transaction: it either happens entirely or, refused, changes
nothing and prints the reason on one line. QuickBooks records are named as they are in the lists
the last sync read (the name, the full `Parent:Child` name, or the Id), ignoring case.

`map refresh` reads QuickBooks' lists into the cache (a "lists" run: reads only, nothing is
written to QuickBooks); `map suggest` proposes mappings and links from them by name, and
`--apply` maps the proposed types. What these commands print is in `cli.mapping_output`; the
`sync` command is in `cli.sync`.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import Any

from sqlalchemy.orm import Session

from factor_desktop.cli.mapping_output import (
    KIND_LABELS,
    lists_overview,
    map_listing,
    print_listing,
    print_overview,
    print_suggestions,
    refresh_lists,
    suggest_report,
)
from factor_desktop.domain.kinds import MappingKind
from factor_desktop.services.errors import ServiceError
from factor_desktop.services.mappings import (
    DEFAULT_TAX_RULE,
    ENTITY_LABEL,
    QBO_ENTITY_FOR_KIND,
    TAX_RULE_TEXT,
    TAX_RULES,
    TaxRateMismatch,
    chosen_tax_rule,
    clear_mapping,
    describe,
    display_name,
    find_cached,
    find_local,
    local_name,
    percent_text,
    set_mapping,
    tax_code_rate,
)
from factor_desktop.sync.connection import ConnectError

# Command-line spellings of the mapping kinds.
KIND_ARGS: dict[str, str] = {
    "service-type": MappingKind.SERVICE_TYPE,
    "expense-type": MappingKind.EXPENSE_TYPE,
    "expense-type-item": MappingKind.EXPENSE_TYPE_ITEM,
    "tax-term": MappingKind.TAX_TERM,
}


class MapCommandError(Exception):
    """A map or sync command was refused; the message is one line for the administrator."""


# --- map: the parser ------------------------------------------------------------------------


def add_map_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "map",
        help="map service types, expense types and tax terms to QBO",
        description="Say which QuickBooks record each Factor type stands for: service types "
        "map to products/services, expense types to expense accounts (and optionally a "
        "product/service), tax terms to tax codes. QuickBooks records are looked up in the "
        "lists last read (`map refresh` or a sync), by name or Id.",
    )
    actions = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    listing = actions.add_parser("list", help="every type with its mapping, and the candidates")
    listing.add_argument("--json", action="store_true", help="machine-readable output")
    service = actions.add_parser("service-type", help="map a service type to a product/service")
    service.add_argument("name", metavar="NAME")
    service.add_argument("qbo", metavar="ITEM_NAME_OR_ID")
    expense = actions.add_parser("expense-type", help="map an expense type to an account")
    expense.add_argument("name", metavar="NAME")
    expense.add_argument("qbo", metavar="ACCOUNT_NAME_OR_ID")
    expense.add_argument(
        "--item", metavar="ITEM", help="also the product/service QuickBooks books it by"
    )
    tax = actions.add_parser(
        "tax-term",
        help="map a tax term to a tax code",
        description="Map a tax term to a QuickBooks tax code. A code whose rate differs from "
        "the term's is refused unless --tax-rule says how the term's invoices reconcile: "
        "'override' (recommended) sends Factor's tax amount to QuickBooks, 'accept' accepts "
        "QuickBooks' figure.",
    )
    tax.add_argument("name", metavar="CODE")
    tax.add_argument("qbo", metavar="TAXCODE_NAME_OR_ID")
    tax.add_argument(
        "--tax-rule",
        choices=list(TAX_RULES),
        default=None,
        help="when the rates differ: override (send Factor's tax amount; recommended) or "
        "accept (QuickBooks' figure)",
    )
    refresh = actions.add_parser(
        "refresh",
        help="read QuickBooks' lists (nothing is written to QuickBooks)",
        description="Read QuickBooks' lists into Factor Desktop: products/services, accounts, "
        "tax codes and rates, terms, customers and sub-customers, vendors, and the sales-form "
        "custom fields. Reads only: nothing is created or changed in QuickBooks.",
    )
    refresh.add_argument("--json", action="store_true", help="machine-readable output")
    proposals = actions.add_parser(
        "suggest",
        help="propose mappings and links by name",
        description="Propose a QuickBooks record for each Factor type not mapped yet, and a "
        "customer or sub-customer for each client and project not linked yet, by name (case, "
        "'&'/'and', punctuation and a trailing 'Consultants'/'Fees' aside). --apply maps the "
        "proposed types; links are shown only.",
    )
    proposals.add_argument("--apply", action="store_true", help="map the proposed types")
    proposals.add_argument("--json", action="store_true", help="machine-readable output")
    clear = actions.add_parser(
        "clear",
        help="forget a mapping",
        description="Forget what a Factor type is mapped to. `expense-type` clears both the "
        "account and the product/service; `expense-type-item` only the product/service.",
    )
    clear.add_argument("kind", choices=list(KIND_ARGS), metavar="KIND")
    clear.add_argument("name", metavar="NAME")


# --- map: the commands ----------------------------------------------------------------------


def run_map(session: Session, args: argparse.Namespace) -> dict[str, Any] | list[str]:
    """One map command in `session`. Returns the listing, or the lines saying what changed."""
    action: str = args.action
    if action == "list":
        return map_listing(session)
    if action == "clear":
        return _clear(session, KIND_ARGS[args.kind], args.name)
    if action == "expense-type":
        local = find_local(session, MappingKind.EXPENSE_TYPE, args.name)
        done = [_map(session, MappingKind.EXPENSE_TYPE, local.id, local_name(local), args.qbo)]
        if args.item is not None:
            done.append(
                _map(session, MappingKind.EXPENSE_TYPE_ITEM, local.id, local_name(local), args.item)
            )
        return done
    if action == "suggest":
        return suggest_report(session, apply=args.apply)
    kind = KIND_ARGS[action]
    local = find_local(session, kind, args.name)
    rule = getattr(args, "tax_rule", None)
    return [_map(session, kind, local.id, local_name(local), args.qbo, tax_rule=rule)]


def _map(
    session: Session,
    kind: str,
    local_id: int,
    name: str,
    qbo: str,
    *,
    tax_rule: str | None = None,
) -> str:
    record = find_cached(session, QBO_ENTITY_FOR_KIND[kind], qbo)
    try:
        set_mapping(session, kind, local_id, record.qbo_id, tax_rule=tax_rule)
    except TaxRateMismatch as mismatch:
        raise ServiceError(
            f"{mismatch.message} Run it again with --tax-rule {DEFAULT_TAX_RULE} (recommended) "
            "or --tax-rule accept.",
            field=mismatch.field,
            code=mismatch.code,
        ) from None
    if kind != MappingKind.TAX_TERM:
        return f"Mapped the {KIND_LABELS[kind]} {name!r} to the QuickBooks {describe(record)}."
    rate = percent_text(tax_code_rate(session, record))
    text = (
        f"Mapped the tax term {name!r} to the QuickBooks tax code {display_name(record)!r} "
        f"(Id {record.qbo_id}, {rate})"
    )
    rule = chosen_tax_rule(session, local_id)
    if rule is not None:
        text += f"; {TAX_RULE_TEXT[rule]} ({rule})"
    return text + "."


def _clear(session: Session, kind: str, name: str) -> list[str]:
    local = find_local(session, kind, name)
    kinds = (
        [MappingKind.EXPENSE_TYPE, MappingKind.EXPENSE_TYPE_ITEM]
        if kind == MappingKind.EXPENSE_TYPE
        else [kind]
    )
    cleared = [k for k in kinds if clear_mapping(session, k, local.id)]
    label = f"the {KIND_LABELS[kind]} {local_name(local)!r}"
    if not cleared:
        return [f"Nothing to clear: {label} was not mapped."]
    what = " and ".join(ENTITY_LABEL[QBO_ENTITY_FOR_KIND[k]] for k in cleared)
    return [f"Cleared the QuickBooks {what} of {label}."]


def refresh_command(data_dir: Path | None, profile: str, *, as_json: bool) -> int:
    """`factor-desktop map refresh`: 0 when the lists were read, 1 otherwise (reason on stderr)."""
    from factor_desktop.app import open_context

    cancel = threading.Event()
    ctx = open_context(data_dir, profile)
    try:
        with interrupt_cancels(cancel):
            summary = refresh_lists(ctx, cancel=cancel)
        with ctx.store.session() as session:
            overview = lists_overview(session)
    except ConnectError as exc:
        raise MapCommandError(str(exc)) from None
    finally:
        ctx.close()
    if as_json:
        body = {"run": summary.to_json(), **overview}
        json.dump(body, sys.stdout, indent=2, default=str, ensure_ascii=False)
        sys.stdout.write("\n")
    else:
        print_overview(summary, overview, sys.stdout)
    if summary.status in ("ok", "partial"):
        return 0
    print(
        "factor-desktop: the QuickBooks lists could not be read: "
        f"{summary.error or summary.status}",
        file=sys.stderr,
    )
    return 1


def map_command(data_dir: Path | None, profile: str, args: argparse.Namespace) -> int:
    """`factor-desktop map ...`: one transaction; a refusal raises MapCommandError."""
    from factor_desktop.app import open_context

    if args.action == "refresh":
        return refresh_command(data_dir, profile, as_json=args.json)
    ctx = open_context(data_dir, profile)
    try:
        with ctx.store.session() as session:
            result = run_map(session, args)
    except ServiceError as exc:
        raise MapCommandError(exc.message) from None
    finally:
        ctx.close()
    if isinstance(result, dict):
        if args.json:
            json.dump(result, sys.stdout, indent=2, ensure_ascii=False)
            sys.stdout.write("\n")
        elif args.action == "suggest":
            print_suggestions(result, sys.stdout)
        else:
            print_listing(result, sys.stdout)
        return 0
    for line in result:
        print(line)
    return 0


@contextmanager
def interrupt_cancels(cancel: threading.Event) -> Iterator[None]:
    """Ctrl+C asks the pass to stop between requests, instead of killing it mid-write."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(_signum: int, _frame: FrameType | None) -> None:
        if cancel.is_set():
            raise KeyboardInterrupt
        print("Stopping after the current request… (Ctrl+C again to quit now)", file=sys.stderr)
        cancel.set()

    previous = signal.signal(signal.SIGINT, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


__all__ = [
    "KIND_ARGS",
    "MapCommandError",
    "add_map_parser",
    "interrupt_cancels",
    "map_command",
    "refresh_command",
    "run_map",
]
