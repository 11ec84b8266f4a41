"""`factor-desktop map ...` and `factor-desktop sync`: mappings and sync passes, headless.

Each `map` command runs in one transaction: it either happens entirely or, refused, changes
nothing and prints the reason on one line. QuickBooks records are named as they are in the lists
the last sync read (the name, the full `Parent:Child` name, or the Id), ignoring case.

`map refresh` reads QuickBooks' lists into the cache (a "lists" run: reads only, nothing is
written to QuickBooks); `map suggest` proposes mappings and links from them by name, and
`--apply` maps the proposed types.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from types import FrameType
from typing import Any, TextIO

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from factor_desktop.domain.money import format_money
from factor_desktop.qbo.mappers import custom_field_definitions
from factor_desktop.services.errors import ServiceError
from factor_desktop.services.mappings import (
    DEFAULT_TAX_RULE,
    ENTITY_LABEL,
    QBO_ENTITY_FOR_KIND,
    TAX_RULE_TEXT,
    TAX_RULES,
    MappingLine,
    TaxRateMismatch,
    automated_sales_tax_on,
    candidates,
    chosen_tax_rule,
    clear_mapping,
    describe,
    display_name,
    find_cached,
    find_local,
    local_name,
    mapping_coverage,
    mapping_lines,
    percent_text,
    qbo_type,
    set_mapping,
    tax_code_rate,
    tax_rate_values,
)
from factor_desktop.services.suggest import apply_suggestions, suggest
from factor_desktop.store.models import QboRecord
from factor_desktop.sync.connection import ConnectError, ConnectionService
from factor_desktop.sync.engine import SyncEngine, SyncSummary, run_sync
from factor_desktop.sync.reference import PREFERENCES, refresh_reference

# Command-line spellings of the mapping kinds.
KIND_ARGS = {
    "service-type": "service_type",
    "expense-type": "expense_type",
    "expense-type-item": "expense_type_item",
    "tax-term": "tax_term",
}
KIND_TITLES = {
    "service_type": "Service types → QuickBooks products/services",
    "expense_type": "Expense types → QuickBooks accounts",
    "expense_type_item": "Expense types → QuickBooks products/services (optional)",
    "tax_term": "Tax terms → QuickBooks tax codes",
}
KIND_LABELS = {
    "service_type": "service type",
    "expense_type": "expense type",
    "expense_type_item": "expense type",
    "tax_term": "tax term",
}
NOT_MAPPED = "not mapped"


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
        local = find_local(session, "expense_type", args.name)
        done = [_map(session, "expense_type", local.id, local_name(local), args.qbo)]
        if args.item is not None:
            done.append(_map(session, "expense_type_item", local.id, local_name(local), args.item))
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
    if kind != "tax_term":
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
    kinds = ["expense_type", "expense_type_item"] if kind == "expense_type" else [kind]
    cleared = [k for k in kinds if clear_mapping(session, k, local.id)]
    label = f"the {KIND_LABELS[kind]} {local_name(local)!r}"
    if not cleared:
        return [f"Nothing to clear: {label} was not mapped."]
    what = " and ".join(ENTITY_LABEL[QBO_ENTITY_FOR_KIND[k]] for k in cleared)
    return [f"Cleared the QuickBooks {what} of {label}."]


def _mapped(line: MappingLine) -> dict[str, Any] | None:
    if line.qbo_id is None:
        return None
    return {"id": line.qbo_id, "name": line.qbo_name, "problem": line.problem}


def map_listing(session: Session) -> dict[str, Any]:
    """Every Factor type with what it is mapped to, the coverage, and the candidates."""
    by_kind: dict[str, dict[int, MappingLine]] = {kind: {} for kind in QBO_ENTITY_FOR_KIND}
    for line in mapping_lines(session):
        by_kind[line.kind][line.local_id] = line
    service_types = [
        {"id": line.local_id, "name": line.name, "active": line.active, "item": _mapped(line)}
        for line in by_kind["service_type"].values()
    ]
    expense_types = [
        {
            "id": line.local_id,
            "name": line.name,
            "active": line.active,
            "account": _mapped(line),
            "item": _mapped(by_kind["expense_type_item"][line.local_id]),
        }
        for line in by_kind["expense_type"].values()
    ]
    tax_terms = [
        {
            "id": line.local_id,
            "code": line.name,
            "active": line.active,
            "rate": None if line.rate is None else str(line.rate),
            "tax_code": _tax_mapped(line),
        }
        for line in by_kind["tax_term"].values()
    ]
    rates = tax_rate_values(session)
    coverage = {
        kind: {"mapped": mapped, "total": total}
        for kind, (mapped, total) in mapping_coverage(session).items()
    }
    return {
        "service_types": service_types,
        "expense_types": expense_types,
        "tax_terms": tax_terms,
        "coverage": coverage,
        "automated_sales_tax": automated_sales_tax_on(session),
        "candidates": {
            kind: [_candidate(session, r, rates) for r in candidates(session, kind)]
            for kind in QBO_ENTITY_FOR_KIND
        },
    }


def _candidate(session: Session, record: QboRecord, rates: dict[str, Any]) -> dict[str, Any]:
    row: dict[str, Any] = {
        "id": record.qbo_id,
        "name": display_name(record),
        "type": qbo_type(record),
    }
    if record.entity == "TaxCode":
        rate = tax_code_rate(session, record, rates)
        row["rate"] = None if rate is None else str(rate)
    return row


def _tax_mapped(line: MappingLine) -> dict[str, Any] | None:
    """A tax term's code with its rate, and how the term's invoices reconcile with QuickBooks:
    `rule` is the one applying (chosen, or the default), `rates_differ` whether it matters."""
    mapped = _mapped(line)
    if mapped is None:
        return None
    differ = line.qbo_rate is None or line.qbo_rate != line.rate
    mapped["rate"] = None if line.qbo_rate is None else str(line.qbo_rate)
    mapped["rates_differ"] = differ
    mapped["rule"] = line.tax_rule or DEFAULT_TAX_RULE
    mapped["rule_chosen"] = line.tax_rule is not None
    return mapped


def _mapped_text(mapped: dict[str, Any] | None) -> str:
    if mapped is None:
        return NOT_MAPPED
    name = mapped["name"] if mapped["name"] is not None else "?"
    text = f"{name} (Id {mapped['id']})"
    return f"{text}: {mapped['problem']}" if mapped["problem"] else text


def print_listing(listing: dict[str, Any], out: TextIO) -> None:
    def section(kind: str, rows: list[tuple[str, str]]) -> None:
        coverage = listing["coverage"].get(kind)
        title = KIND_TITLES[kind]
        if coverage is not None:
            title += f" ({coverage['mapped']} of {coverage['total']} mapped)"
        print(title, file=out)
        if not rows:
            print("  (none yet)", file=out)
        width = max((len(name) for name, _ in rows), default=0)
        for name, value in rows:
            print(f"  {name.ljust(width)}  {value}", file=out)
        print(file=out)

    def name(row: dict[str, Any], key: str = "name") -> str:
        return str(row[key]) if row["active"] else f"{row[key]} (inactive)"

    section(
        "service_type",
        [(name(r), _mapped_text(r["item"])) for r in listing["service_types"]],
    )
    section(
        "expense_type",
        [
            (
                name(r),
                _mapped_text(r["account"])
                + (f"; product/service {_mapped_text(r['item'])}" if r["item"] else ""),
            )
            for r in listing["expense_types"]
        ],
    )
    section(
        "tax_term",
        [
            (f"{name(r, 'code')} ({_rate_text(r['rate'])})", _tax_text(r["tax_code"]))
            for r in listing["tax_terms"]
        ],
    )
    ast = listing.get("automated_sales_tax")
    if ast is not None:
        print(
            "Automated Sales Tax is on in QuickBooks: it computes tax itself unless Factor's "
            "amount is sent (override)."
            if ast
            else "Automated Sales Tax is off in QuickBooks.",
            file=out,
        )
        print(file=out)

    found = listing["candidates"]
    if not any(found.values()):
        print(
            "No QuickBooks lists have been read yet: `factor-desktop map refresh` reads the "
            "products/services, accounts and tax codes to map to (and writes nothing to "
            "QuickBooks).",
            file=out,
        )
        return
    print("Candidates in the QuickBooks lists read so far:", file=out)
    for kind, heading in (
        ("service_type", "Products/services"),
        ("expense_type", "Expense accounts"),
        ("tax_term", "Tax codes"),
    ):
        entries = (
            ", ".join(
                f"{c['name']} (Id {c['id']}"
                + (f", {_rate_text(c['rate'])})" if "rate" in c else ")")
                for c in found[kind]
            )
            or "none"
        )
        print(f"  {heading}: {entries}", file=out)


def _rate_text(rate: str | None) -> str:
    return percent_text(None if rate is None else Decimal(rate))


def _tax_text(mapped: dict[str, Any] | None) -> str:
    if mapped is None:
        return NOT_MAPPED
    name = mapped["name"] if mapped["name"] is not None else "?"
    text = f"{name} (Id {mapped['id']}, {_rate_text(mapped['rate'])})"
    if mapped["problem"]:
        text += f": {mapped['problem']}"
    if mapped["rates_differ"]:
        rule = mapped["rule"]
        chosen = "" if mapped["rule_chosen"] else " by default"
        text += f"; the rates differ: {TAX_RULE_TEXT[rule]}{chosen} ({rule})"
    return text


# --- map suggest ------------------------------------------------------------------------------


def suggest_report(session: Session, *, apply: bool) -> dict[str, Any]:
    """The suggestions, and with `apply` what mapping them did."""
    found = suggest(session)
    report = found.to_json()
    if apply:
        done, refused = apply_suggestions(session, found.mappings)
        report["applied"] = done
        report["refused"] = refused
    return report


def print_suggestions(report: dict[str, Any], out: TextIO) -> None:
    if not report["lists_read"]:
        print(
            "No QuickBooks lists have been read yet: run `factor-desktop map refresh` first.",
            file=out,
        )
        return
    mappings = report["mappings"]
    if "applied" in report:
        print(f"Mapped {len(report['applied'])} of {len(mappings)} suggested:", file=out)
        for line in [*report["applied"], *report["refused"]]:
            print(f"  {line}", file=out)
    else:
        print(f"Suggested mappings ({len(mappings)}):", file=out)
        for row in mappings:
            print(f"  {_suggestion_text(row)}", file=out)
        if not mappings:
            print("  none", file=out)
    already = report["already_mapped"]
    if already:
        counts = ", ".join(
            f"{count} {KIND_LABELS[kind]}{'s' if count != 1 else ''}"
            + (" (product/service)" if kind == "expense_type_item" else "")
            for kind, count in already.items()
        )
        print(f"Already mapped, left as they are: {counts}.", file=out)
    if report["unmatched"]:
        print(file=out)
        print("No suggestion (map these by hand):", file=out)
        for row in report["unmatched"]:
            print(f"  {KIND_LABELS[row['kind']]} {row['name']!r}: {row['reason']}", file=out)
    links = report["links"]
    if links:
        print(file=out)
        print(
            "Clients and projects (shown only: link by hand, the sync creates the rest):",
            file=out,
        )
        for row in links:
            print(f"  {_link_text(row)}", file=out)
    if "applied" not in report and mappings:
        print(file=out)
        print("`factor-desktop map suggest --apply` maps the suggested types.", file=out)


def _suggestion_text(row: dict[str, Any]) -> str:
    label = KIND_LABELS[row["kind"]]
    what = ENTITY_LABEL[row["qbo_entity"]]
    text = f"{label} {row['name']!r} → {what} {row['qbo_name']!r} (Id {row['qbo_id']}): "
    text += str(row["reason"])
    if row["tax_rule"] is not None:
        text += (
            f"; the rates differ ({_rate_text(row['rate'])} in Factor, "
            f"{_rate_text(row['qbo_rate'])} in QuickBooks): "
            f"{TAX_RULE_TEXT[row['tax_rule']]} ({row['tax_rule']})"
        )
    return text


def _link_text(row: dict[str, Any]) -> str:
    what = f"{row['entity']} {row['name']!r}"
    if row["entity"] == "project" and row["client"]:
        what += f" (client {row['client']!r})"
    if row["action"] == "link":
        kind = "customer" if row["entity"] == "client" else "sub-customer"
        return f"link {what} → {kind} {row['qbo_name']!r} (Id {row['qbo_id']}): {row['reason']}"
    return f"{row['action']} {what}: {row['reason']}"


# --- map refresh ------------------------------------------------------------------------------

_LIST_LABELS = (
    ("Customer", "customers"),
    ("Vendor", "vendors"),
    ("Item", "products/services"),
    ("Account", "accounts"),
    ("TaxCode", "tax codes"),
    ("TaxRate", "tax rates"),
    ("Term", "terms"),
)


_SINGULAR = {
    "customers": "customer",
    "vendors": "vendor",
    "products/services": "product/service",
    "accounts": "account",
    "tax codes": "tax code",
    "tax rates": "tax rate",
    "terms": "term",
}


def refresh_lists(ctx: Any, *, cancel: threading.Event | None = None) -> SyncSummary:
    """Read QuickBooks' lists into the cache for an open firm profile (an `AppContext`): a
    "lists" run, reading only; nothing is written to QuickBooks."""
    connection = ConnectionService(ctx.store, ctx.tokens)
    try:
        engine = SyncEngine(
            ctx.store,
            connection,
            ctx.data.attachments,
            steps=[("Reading QuickBooks lists", refresh_reference)],
        )
        return engine.run(kind="lists", cancel=cancel)
    finally:
        connection.http.close()


def lists_overview(session: Session) -> dict[str, Any]:
    """What the cache holds of QuickBooks' lists: counts, tax codes with their rates, custom
    fields and whether Automated Sales Tax is on."""
    counts: dict[str, int] = {
        entity: int(count)
        for entity, count in session.execute(
            select(QboRecord.entity, func.count(QboRecord.id))
            .where(QboRecord.active.is_(True))
            .group_by(QboRecord.entity)
        )
    }
    sub_customers = session.scalar(
        select(func.count(QboRecord.id)).where(
            QboRecord.entity == "Customer",
            QboRecord.active.is_(True),
            QboRecord.parent_qbo_id.is_not(None),
        )
    )
    rates = tax_rate_values(session)
    codes = session.scalars(
        select(QboRecord).where(QboRecord.entity == "TaxCode", QboRecord.active.is_(True))
    )
    preferences = session.scalar(select(QboRecord).where(QboRecord.entity == PREFERENCES))
    fields = custom_field_definitions(preferences.data) if preferences is not None else {}
    return {
        "counts": {entity: int(counts.get(entity, 0)) for entity, _ in _LIST_LABELS},
        "sub_customers": int(sub_customers or 0),
        "tax_codes": [
            {
                "id": code.qbo_id,
                "name": display_name(code),
                "rate": _str_or_none(tax_code_rate(session, code, rates)),
            }
            for code in sorted(codes, key=lambda c: (display_name(c).casefold(), c.qbo_id))
        ],
        "custom_fields": list(fields),
        "automated_sales_tax": automated_sales_tax_on(session),
    }


def _str_or_none(value: Any) -> str | None:
    return None if value is None else str(value)


def print_overview(summary: SyncSummary, overview: dict[str, Any], out: TextIO) -> None:
    print(
        f"Read QuickBooks' lists (run {summary.run_id}, {summary.requests_used} requests, "
        f"{summary.duration_s:.1f} s); nothing was written to QuickBooks.",
        file=out,
    )
    counts = overview["counts"]
    parts = []
    for entity, label in _LIST_LABELS:
        count = counts[entity]
        text = f"{count} {label if count != 1 else _SINGULAR.get(label, label)}"
        if entity == "Customer" and overview["sub_customers"]:
            text += f" ({overview['sub_customers']} of them sub-customers)"
        parts.append(text)
    print("  " + ", ".join(parts) + ".", file=out)
    codes = ", ".join(f"{c['name']} {_rate_text(c['rate'])}" for c in overview["tax_codes"])
    print(f"  Tax codes: {codes or 'none'}.", file=out)
    fields = ", ".join(overview["custom_fields"]) or "none switched on"
    print(f"  Sales-form custom fields: {fields}.", file=out)
    ast = overview["automated_sales_tax"]
    state = "not known" if ast is None else "on" if ast else "off"
    print(f"  Automated Sales Tax: {state}.", file=out)


def refresh_command(data_dir: Path | None, profile: str, *, as_json: bool) -> int:
    """`factor-desktop map refresh`: 0 when the lists were read, 1 otherwise (reason on stderr)."""
    from factor_desktop.app import open_context

    cancel = threading.Event()
    ctx = open_context(data_dir, profile)
    try:
        with _interrupt_cancels(cancel):
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


# --- sync ------------------------------------------------------------------------------------


_MONEY_KEYS = frozenset({"total", "qbo_total"})
#: Keys of a planned change that say nothing to someone reading the table.
_UNSHOWN = frozenset({"level", "local_id", "customer_id", "operation", "full_name"})
_HEADERS = {"qbo_total": "QuickBooks total", "qbo_id": "QuickBooks Id"}


def _cell(value: Any, key: str = "") -> str:
    if value is None:
        return ""
    if key in _MONEY_KEYS:
        try:
            return format_money(Decimal(str(value)))
        except (ArithmeticError, ValueError):
            return str(value)
    return str(value)


def planned_table(planned: Sequence[dict[str, Any]]) -> list[str]:
    """The changes a preview would make, as aligned text rows under a header: money as money,
    the reason last."""
    base = ("action", "direction", "entity", "label")
    extras: list[str] = []
    for change in planned:
        for key in change:
            if key not in base and key not in extras and key not in _UNSHOWN:
                extras.append(key)
    if "reason" in extras:
        extras.remove("reason")
        extras.append("reason")
    columns = [*base, *extras]
    rows = [[_cell(change.get(c), c) for c in columns] for change in planned]
    header = [_HEADERS.get(c, c.replace("_", " ").capitalize()) for c in columns]
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(header)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)).rstrip()]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)).rstrip() for r in rows]
    return lines


def summary_lines(summary: SyncSummary) -> list[str]:
    """What a finished pass did, for a terminal."""
    title = "Preview (nothing was changed)" if summary.kind == "preview" else "Sync"
    lines = [
        f"{title}: {summary.status} (run {summary.run_id}), {summary.requests_used} "
        f"requests, {summary.duration_s:.1f} s."
    ]
    counts = {k: v for k, v in summary.counts.items() if v}
    if counts:
        width = max(len(k) for k in counts)
        lines += [
            f"  {k.replace('_', ' ').ljust(width)}  {v:>5}" for k, v in sorted(counts.items())
        ]
    else:
        lines.append("  Nothing to do: Factor and QuickBooks are in step.")
    if summary.kind == "preview":
        if summary.planned:
            lines.append("")
            lines.append(f"Planned changes ({len(summary.planned)}):")
            lines += [f"  {row}" for row in planned_table(summary.planned)]
        else:
            lines.append("No changes are planned.")
    return lines


def failure_reason(summary: SyncSummary) -> str | None:
    """Why a pass did not end "ok", in one line; None when it did."""
    if summary.status == "ok":
        return None
    if summary.status == "partial":
        problems = summary.counts.get("failed", 0) + summary.counts.get("blocked", 0)
        return (
            f"the sync finished, but {problems} record{'s' if problems != 1 else ''} could not "
            "go through; `factor-desktop report log` lists them with the reason."
        )
    if summary.status == "cancelled":
        return "the sync was cancelled; what it finished is kept."
    return f"the sync failed: {summary.error or 'see the log file.'}"


@contextmanager
def _interrupt_cancels(cancel: threading.Event) -> Iterator[None]:
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


def sync_command(
    data_dir: Path | None, profile: str, *, preview: bool, full: bool, as_json: bool
) -> int:
    """`factor-desktop sync`: one pass. 0 when it ended ok, 1 otherwise (the reason on stderr)."""
    from factor_desktop.app import open_context

    def progress(step: str, done: int, total: int) -> None:
        print(f"[{done}/{total}] {step}", file=sys.stderr, flush=True)

    show_progress = not as_json and sys.stderr.isatty()
    cancel = threading.Event()
    ctx = open_context(data_dir, profile)
    try:
        with _interrupt_cancels(cancel):
            summary = run_sync(
                ctx,
                preview=preview,
                full=full,
                cancel=cancel,
                progress=progress if show_progress else None,
            )
    except ConnectError as exc:
        raise MapCommandError(str(exc)) from None
    finally:
        ctx.close()
    if as_json:
        json.dump(summary.to_json(), sys.stdout, indent=2, default=str, ensure_ascii=False)
        sys.stdout.write("\n")
    else:
        for line in summary_lines(summary):
            print(line)
    reason = failure_reason(summary)
    if reason is None or (summary.kind == "preview" and summary.status == "partial"):
        return 0  # a preview that ran did its job; what would not go through is in its plan
    print(f"factor-desktop: {reason}", file=sys.stderr)
    return 1


__all__ = [
    "MapCommandError",
    "add_map_parser",
    "failure_reason",
    "lists_overview",
    "map_command",
    "map_listing",
    "planned_table",
    "refresh_lists",
    "run_map",
    "summary_lines",
    "sync_command",
]
