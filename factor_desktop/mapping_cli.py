"""`factor-desktop map ...` and `factor-desktop sync`: mappings and sync passes, headless.

Each `map` command runs in one transaction: it either happens entirely or, refused, changes
nothing and prints the reason on one line. QuickBooks records are named as they are in the lists
the last sync read (the name, the full `Parent:Child` name, or the Id), ignoring case.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import Any, TextIO

from sqlalchemy.orm import Session

from factor_desktop.services.errors import ServiceError
from factor_desktop.services.mappings import (
    ENTITY_LABEL,
    QBO_ENTITY_FOR_KIND,
    MappingLine,
    candidates,
    clear_mapping,
    describe,
    display_name,
    find_cached,
    find_local,
    local_name,
    mapping_coverage,
    mapping_lines,
    qbo_type,
    set_mapping,
)
from factor_desktop.sync.connection import ConnectError
from factor_desktop.sync.engine import SyncSummary, run_sync

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
        "lists the last sync read, by name or Id.",
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
    tax = actions.add_parser("tax-term", help="map a tax term to a tax code")
    tax.add_argument("name", metavar="CODE")
    tax.add_argument("qbo", metavar="TAXCODE_NAME_OR_ID")
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
    kind = KIND_ARGS[action]
    local = find_local(session, kind, args.name)
    return [_map(session, kind, local.id, local_name(local), args.qbo)]


def _map(session: Session, kind: str, local_id: int, name: str, qbo: str) -> str:
    record = find_cached(session, QBO_ENTITY_FOR_KIND[kind], qbo)
    set_mapping(session, kind, local_id, record.qbo_id)
    return f"Mapped the {KIND_LABELS[kind]} {name!r} to the QuickBooks {describe(record)}."


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
        {"id": line.local_id, "code": line.name, "active": line.active, "tax_code": _mapped(line)}
        for line in by_kind["tax_term"].values()
    ]
    coverage = {
        kind: {"mapped": mapped, "total": total}
        for kind, (mapped, total) in mapping_coverage(session).items()
    }
    return {
        "service_types": service_types,
        "expense_types": expense_types,
        "tax_terms": tax_terms,
        "coverage": coverage,
        "candidates": {
            kind: [
                {"id": r.qbo_id, "name": display_name(r), "type": qbo_type(r)}
                for r in candidates(session, kind)
            ]
            for kind in QBO_ENTITY_FOR_KIND
        },
    }


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
        "tax_term", [(name(r, "code"), _mapped_text(r["tax_code"])) for r in listing["tax_terms"]]
    )

    found = listing["candidates"]
    if not any(found.values()):
        print(
            "No QuickBooks lists have been read yet: run `factor-desktop sync` to read the "
            "products/services, accounts and tax codes to map to.",
            file=out,
        )
        return
    print("Candidates in the QuickBooks lists read so far:", file=out)
    for kind, heading in (
        ("service_type", "Products/services"),
        ("expense_type", "Expense accounts"),
        ("tax_term", "Tax codes"),
    ):
        entries = ", ".join(f"{c['name']} (Id {c['id']})" for c in found[kind]) or "none"
        print(f"  {heading}: {entries}", file=out)


def map_command(data_dir: Path | None, profile: str, args: argparse.Namespace) -> int:
    """`factor-desktop map ...`: one transaction; a refusal raises MapCommandError."""
    from factor_desktop.app import open_context

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
        else:
            print_listing(result, sys.stdout)
    else:
        for line in result:
            print(line)
    return 0


# --- sync ------------------------------------------------------------------------------------


def _cell(value: Any) -> str:
    return "" if value is None else str(value)


def planned_table(planned: Sequence[dict[str, Any]]) -> list[str]:
    """The changes a preview would make, as aligned text rows under a header."""
    base = ("action", "direction", "entity", "label")
    extras: list[str] = []
    for change in planned:
        for key in change:
            if key not in base and key not in extras:
                extras.append(key)
    columns = [*base, *extras]
    rows = [[_cell(change.get(c)) for c in columns] for change in planned]
    header = [c.replace("_", " ").capitalize() for c in columns]
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
    if reason is None:
        return 0
    print(f"factor-desktop: {reason}", file=sys.stderr)
    return 1


__all__ = [
    "MapCommandError",
    "add_map_parser",
    "failure_reason",
    "map_command",
    "map_listing",
    "planned_table",
    "run_map",
    "summary_lines",
    "sync_command",
]
