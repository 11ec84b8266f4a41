"""What the `map` commands show: the mapping listing, the suggestions and the overview of the
QuickBooks lists read, as dictionaries (the JSON output) and as text."""

from __future__ import annotations

import threading
from decimal import Decimal
from typing import Any, TextIO

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from factor_desktop.domain.kinds import MappingKind
from factor_desktop.qbo.mappers import custom_field_definitions
from factor_desktop.services.mappings import (
    DEFAULT_TAX_RULE,
    ENTITY_LABEL,
    QBO_ENTITY_FOR_KIND,
    TAX_RULE_TEXT,
    MappingLine,
    automated_sales_tax_on,
    candidates,
    display_name,
    mapping_coverage,
    mapping_lines,
    percent_text,
    qbo_type,
    tax_code_rate,
    tax_rate_values,
)
from factor_desktop.services.suggest import apply_suggestions, suggest
from factor_desktop.store.models import QboRecord
from factor_desktop.sync.connection import ConnectionService
from factor_desktop.sync.engine import SyncEngine, SyncSummary
from factor_desktop.sync.reference import PREFERENCES, refresh_reference

KIND_TITLES: dict[str, str] = {
    MappingKind.SERVICE_TYPE: "Service types → QuickBooks products/services",
    MappingKind.EXPENSE_TYPE: "Expense types → QuickBooks accounts",
    MappingKind.EXPENSE_TYPE_ITEM: "Expense types → QuickBooks products/services (optional)",
    MappingKind.TAX_TERM: "Tax terms → QuickBooks tax codes",
}
KIND_LABELS: dict[str, str] = {
    MappingKind.SERVICE_TYPE: "service type",
    MappingKind.EXPENSE_TYPE: "expense type",
    MappingKind.EXPENSE_TYPE_ITEM: "expense type",
    MappingKind.TAX_TERM: "tax term",
}
NOT_MAPPED = "not mapped"


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
        for line in by_kind[MappingKind.SERVICE_TYPE].values()
    ]
    expense_types = [
        {
            "id": line.local_id,
            "name": line.name,
            "active": line.active,
            "account": _mapped(line),
            "item": _mapped(by_kind[MappingKind.EXPENSE_TYPE_ITEM][line.local_id]),
        }
        for line in by_kind[MappingKind.EXPENSE_TYPE].values()
    ]
    tax_terms = [
        {
            "id": line.local_id,
            "code": line.name,
            "active": line.active,
            "rate": None if line.rate is None else str(line.rate),
            "tax_code": _tax_mapped(line),
        }
        for line in by_kind[MappingKind.TAX_TERM].values()
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
        MappingKind.SERVICE_TYPE,
        [(name(r), _mapped_text(r["item"])) for r in listing["service_types"]],
    )
    section(
        MappingKind.EXPENSE_TYPE,
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
        MappingKind.TAX_TERM,
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
        (MappingKind.SERVICE_TYPE, "Products/services"),
        (MappingKind.EXPENSE_TYPE, "Expense accounts"),
        (MappingKind.TAX_TERM, "Tax codes"),
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
            + (" (product/service)" if kind == MappingKind.EXPENSE_TYPE_ITEM else "")
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


__all__ = [
    "KIND_LABELS",
    "KIND_TITLES",
    "NOT_MAPPED",
    "lists_overview",
    "map_listing",
    "print_listing",
    "print_overview",
    "print_suggestions",
    "refresh_lists",
    "suggest_report",
]
