"""Applying an import to the store: every row checked, all or nothing, repeatable.

Rows are saved through the services, in one transaction, by natural key (client name, project
number, type name, tax code, invoice number; a draft invoice by its project and issue date), so
importing the same file again changes nothing. Every problem in every row is collected; if there
is any, the transaction is rolled back and nothing is imported.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any, TypeVar

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import InstrumentedAttribute, Session, object_session

from factor_desktop import services as sv
from factor_desktop.importer.claims import Claims
from factor_desktop.importer.fields import RowFields
from factor_desktop.importer.problems import ImportRejected, Problem
from factor_desktop.importer.schema import KINDS
from factor_desktop.importer.sources import Bundle, Row
from factor_desktop.services import UNSET, Change, Saved, ServiceError, Unset
from factor_desktop.services.records import (
    find_key,
    flush_imported,
    start_import_indexes,
    stop_import_indexes,
)
from factor_desktop.store.db import Store
from factor_desktop.store.models import Client, ExpenseType, Project, ServiceType, TaxTerm

T = TypeVar("T")

# Rows saved between two flushes: new records are inserted this many at a time and then let go.
FLUSH_EVERY = 2000

# Told (rows done, rows in all) as the import goes.
ImportProgress = Callable[[int, int], None]

# How the services name the inputs an import calls something else.
_FIELD_NAMES = {
    "client_id": "client",
    "project_id": "project",
    "service_type_id": "service_type",
    "expense_type_id": "expense_type",
    "tax_term_id": "tax_term",
    "is_subconsultant": "subconsultant",
    "expense_category": "expense_category",
}


@dataclass(frozen=True)
class Ref:
    """A record another row names: its id, and the name or number it was named by."""

    id: int
    key: str


@dataclass
class Counts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0

    def add(self, change: Change) -> None:
        setattr(self, change.value, getattr(self, change.value) + 1)

    def to_json(self) -> dict[str, int]:
        return {"created": self.created, "updated": self.updated, "unchanged": self.unchanged}


@dataclass
class ImportSummary:
    """What an import did, per kind of record."""

    source: str
    counts: dict[str, Counts] = field(default_factory=dict)

    def count(self, kind: str) -> Counts:
        return self.counts.setdefault(kind, Counts())

    @property
    def changed(self) -> bool:
        return any(c.created or c.updated for c in self.counts.values())

    def to_json(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "counts": {kind: counts.to_json() for kind, counts in self.counts.items()},
        }


class _Import:
    def __init__(self, session: Session, bundle: Bundle) -> None:
        self.session = session
        self.bundle = bundle
        # Reading the rows adds its problems to the same list.
        self.problems: list[Problem] = bundle.problems
        self.summary = ImportSummary(bundle.source)
        # Natural keys seen in this import, with where each was (to refuse duplicates), and
        # those that failed.
        self.seen = Claims()
        self.failed: dict[str, set[str]] = {}
        self.broken = False

    # --- shared steps -------------------------------------------------------------------------

    def claim(self, f: RowFields, kind: str, key: str, name: str, label: str) -> bool:
        """Note the row's natural key; a second row with the same key is a problem."""
        first = self.seen.claim(kind, key.casefold(), f.row.place)
        if first is not None:
            f.fail(name, f"{label} appears more than once in this import (also at {first}).")
            return False
        return True

    def save(
        self, f: RowFields, kind: str, key: str | None, action: Callable[[], Saved[T]]
    ) -> T | None:
        """Run a service for a checked row, noting its refusal against the row."""
        if f.bad:
            self.failed.setdefault(kind, set()).add((key or "").casefold())
            return None
        try:
            saved = action()
        except ServiceError as exc:
            f.fail(_FIELD_NAMES.get(exc.field or "", exc.field), exc.message)
            self.failed.setdefault(kind, set()).add((key or "").casefold())
            return None
        except IntegrityError as exc:
            f.fail(None, f"The store refused this record: {exc.orig}.")
            self.broken = True
            return None
        self.summary.count(kind).add(saved.change)
        return saved.record

    def reference(
        self,
        f: RowFields,
        name: str,
        kind: str,
        label: str,
        column: InstrumentedAttribute[str],
        *,
        required: bool = True,
    ) -> Ref | None:
        """The record another row names (a client by name, a project by number, ...)."""
        value = f.required_text(name) if required else f.text(name)
        if not isinstance(value, str):
            return None
        found = find_key(self.session, column, value.strip())
        if found is not None:
            return Ref(*found)
        if value.casefold() in self.failed.get(kind, set()):
            f.fail(name, f"The {label} {value!r} has problems of its own, reported with it.")
        else:
            f.fail(name, f"There is no {label} {value!r} in this import or in Factor Desktop.")
        return None

    def rows(self, kind: str) -> Iterator[Row]:
        return self.bundle.rows(kind)

    # --- settings ------------------------------------------------------------------------------

    def settings(self, row: Row) -> None:
        f = RowFields(row, self.problems)
        current = sv.current_settings(self.session)
        wanted: dict[str, Any] = {}
        prefix = f.text("invoice_numbering.prefix")
        if prefix is not UNSET:
            wanted["invoice_numbering.prefix"] = prefix or ""
        for name in ("invoice_numbering.padding", "default_terms_days"):
            number = f.integer(name)
            if isinstance(number, int):
                wanted[name] = number
        next_number = f.integer("invoice_numbering.next_number")
        # The next number is only ever raised, so an import never makes a number come round again.
        if isinstance(next_number, int) and next_number > current.invoice_numbering.next_number:
            wanted["invoice_numbering.next_number"] = next_number
        counts = self.summary.count("settings")
        for name, value in wanted.items():
            head, _, tail = name.partition(".")
            now = getattr(current.invoice_numbering, tail) if tail else getattr(current, head)
            if now == value:
                counts.add(Change.UNCHANGED)
                continue
            try:
                current = sv.change_setting(self.session, name, value)
            except ServiceError as exc:
                f.fail(name, exc.message)
                continue
            counts.add(Change.UPDATED)
        if isinstance(next_number, int) and "invoice_numbering.next_number" not in wanted:
            counts.add(Change.UNCHANGED)

    # --- records -----------------------------------------------------------------------------

    def client(self, row: Row) -> None:
        f = RowFields(row, self.problems)
        name = f.required_text("name", numbers=False)
        if name is not None and not self.claim(f, "clients", name, "name", f"The client {name!r}"):
            return
        fields = sv.ClientFields(
            name=name or UNSET,
            email=f.text("email"),
            phone=f.text("phone"),
            address_line1=f.text("address_line1"),
            city=f.text("city"),
            region=f.text("region"),
            postal_code=f.text("postal_code"),
            terms_days=f.integer("terms_days"),
            archived=f.flag("archived"),
        )
        qbo_id = f.text("qbo_id")

        def save() -> Saved[Any]:
            saved = sv.save_client(self.session, fields)
            return _linked(saved, qbo_id, lambda i, q: sv.link_client(self.session, i, q))

        self.save(f, "clients", name, save)

    def service_type(self, row: Row) -> None:
        f = RowFields(row, self.problems)
        name = f.required_text("name", numbers=False)
        if name is not None and not self.claim(
            f, "service_types", name, "name", f"The service type {name!r}"
        ):
            return
        fields = sv.ServiceTypeFields(
            name=name or UNSET,
            description=f.text("description"),
            taxable=f.flag("taxable"),
            active=f.flag("active"),
        )
        self.save(f, "service_types", name, lambda: sv.save_service_type(self.session, fields))

    def expense_type(self, row: Row) -> None:
        f = RowFields(row, self.problems)
        name = f.required_text("name", numbers=False)
        if name is not None and not self.claim(
            f, "expense_types", name, "name", f"The expense type {name!r}"
        ):
            return
        category = f.required_text("category")
        fields = sv.ExpenseTypeFields(
            name=name or UNSET,
            category=category or UNSET,
            markup_percent=f.decimal("markup_percent", "a markup percentage such as 12.5"),
            is_subconsultant=f.flag("subconsultant"),
            billable=f.flag("billable"),
            taxable=f.flag("taxable"),
            active=f.flag("active"),
        )
        self.save(f, "expense_types", name, lambda: sv.save_expense_type(self.session, fields))

    def tax_term(self, row: Row) -> None:
        f = RowFields(row, self.problems)
        code = f.required_text("code")
        if code is not None and not self.claim(f, "tax_terms", code, "code", f"Tax code {code!r}"):
            return
        rate = f.decimal("rate_percent", "a tax rate such as 8.25")
        if rate is None:
            f.fail("rate_percent", "This is required.")
        fields = sv.TaxTermFields(
            code=code or UNSET,
            name=f.required_text("name", numbers=False) or UNSET,
            rate_percent=rate if isinstance(rate, Decimal) else UNSET,
            active=f.flag("active"),
        )
        self.save(f, "tax_terms", code, lambda: sv.save_tax_term(self.session, fields))

    def project(self, row: Row) -> None:
        f = RowFields(row, self.problems)
        number = f.required_text("number")
        if number is not None and not self.claim(
            f, "projects", number, "number", f"Project number {number!r}"
        ):
            return
        client = self.reference(f, "client", "clients", "client", Client.name)
        fields = sv.ProjectFields(
            client_id=client.id if client else UNSET,
            number=number or UNSET,
            name=f.required_text("name", numbers=False) or UNSET,
            status=self.project_status(f),
            manager=f.text("manager"),
            address=f.text("address"),
        )
        qbo_id = f.text("qbo_id")

        def save() -> Saved[Any]:
            saved = sv.save_project(self.session, fields)
            return _linked(saved, qbo_id, lambda i, q: sv.link_project(self.session, i, q))

        self.save(f, "projects", number, save)

    def project_status(self, f: RowFields) -> str | Unset:
        status = f.text("status")
        if status is None or isinstance(status, Unset):
            return UNSET
        if status not in sv.PROJECT_STATUSES:
            f.fail("status", f"A project's status is one of {', '.join(sv.PROJECT_STATUSES)}.")
        return status

    def budget(self, row: Row) -> None:
        f = RowFields(row, self.problems)
        project = self.reference(f, "project", "projects", "project", Project.number)
        service = self.reference(
            f, "service_type", "service_types", "service type", ServiceType.name, required=False
        )
        category = f.text("expense_category")
        has_service = f.raw("service_type") not in (UNSET, None)
        if has_service == isinstance(category, str):
            f.fail(
                "service_type",
                "A budget is for a service_type (its fee) or an expense_category; give one.",
            )
        amount = f.money("amount", required=True)
        complete = f.decimal("percent_complete", "a percentage such as 35")
        if isinstance(category, str) and complete not in (UNSET, None):
            f.fail("percent_complete", "Only service budgets have a percent complete.")
        target = service.key if service else category if isinstance(category, str) else ""
        key = f"{project.key if project else ''}/{target}"
        if (
            project
            and target
            and not self.claim(
                f,
                "budgets",
                key,
                "project",
                f"The budget for {target!r} on project {project.key}",
            )
        ):
            return
        if f.bad or project is None or not isinstance(amount, Decimal):
            self.save(f, "budgets", key, _never)
            return
        if service is not None:
            percent: Decimal | Unset = complete if isinstance(complete, Decimal) else UNSET
            self.save(
                f,
                "budgets",
                key,
                lambda: sv.set_service_budget(
                    self.session, project.id, service.id, amount, percent
                ),
            )
        elif isinstance(category, str):
            self.save(
                f,
                "budgets",
                key,
                lambda: sv.set_expense_budget(self.session, project.id, category, amount),
            )

    # --- invoices -------------------------------------------------------------------------------

    def invoice(self, row: Row) -> None:
        f = RowFields(row, self.problems)
        number = f.text("number")
        status = f.text("status")
        if status not in (UNSET, None, "draft", "final"):
            f.fail("status", f"An import brings in draft or final invoices, not {status!r}.")
        if isinstance(number, str):
            if status == "draft":
                f.fail("number", "A draft has no number yet; remove it, or set status final.")
            self.claim(f, "invoices", number, "number", f"Invoice number {number!r}")
        elif status == "final":
            f.fail("number", "A final invoice needs its number.")
        project = self.reference(f, "project", "projects", "project", Project.number)
        issue_date = f.date("issue_date", required=True)
        if (
            isinstance(number, str) is False
            and project is not None
            and isinstance(issue_date, date)
        ):
            self.claim(
                f,
                "drafts",
                f"{project.key}/{issue_date}",
                "issue_date",
                f"A draft for project {project.key} dated {issue_date}",
            )
        tax_term = self.tax_term_ref(f)
        terms = f.integer("terms_days")
        memo = f.text("memo")
        custom = self.custom_fields(f)
        qbo_id = f.text("qbo_id")
        lines = [self.line(line_row) for line_row in row.lines]
        if any(line is None for line in lines):
            f.bad = True
        if f.bad or project is None or not isinstance(issue_date, date):
            self.save(f, "invoices", number if isinstance(number, str) else None, _never)
            return
        record = sv.InvoiceRecord(
            project_id=project.id,
            issue_date=issue_date,
            number=number if isinstance(number, str) else None,
            terms_days=terms,
            tax_term_id=tax_term,
            memo=memo,
            custom_fields=custom,
            lines=tuple(line for line in lines if line is not None) if row.has_lines else UNSET,
            qbo_id=qbo_id if isinstance(qbo_id, str) else None,
        )
        self.save(
            f,
            "invoices",
            record.number,
            lambda: sv.save_imported_invoice(self.session, record),
        )

    def tax_term_ref(self, f: RowFields) -> int | Unset | None:
        """The id of the invoice's tax term; None when the field is empty, UNSET when absent."""
        value = f.raw("tax_term")
        if value is None:
            return None
        if isinstance(value, Unset):
            return UNSET
        tax = self.reference(f, "tax_term", "tax_terms", "tax code", TaxTerm.code)
        return tax.id if tax else UNSET

    def custom_fields(self, f: RowFields) -> tuple[tuple[str, str], ...] | Unset:
        value = f.raw("custom_fields")
        if isinstance(value, Unset):
            return UNSET
        if value is None:
            return ()
        if not isinstance(value, dict) or not all(
            isinstance(k, str) and isinstance(v, str | int | Decimal) for k, v in value.items()
        ):
            f.fail("custom_fields", 'Write custom fields as {"Name": "value", ...}.')
            return UNSET
        return tuple((name, str(text)) for name, text in value.items())

    def line(self, row: Row) -> sv.LineInput | None:
        f = RowFields(row, self.problems)
        service = self.reference(
            f, "service_type", "service_types", "service type", ServiceType.name, required=False
        )
        expense_type = self.reference(
            f, "expense_type", "expense_types", "expense type", ExpenseType.name, required=False
        )
        given = f.text("kind")
        kind: sv.LineKind | None = "service" if service else "expense" if expense_type else "other"
        if isinstance(given, str):
            kind = _LINE_KINDS.get(given)
        if kind is None:
            f.fail("kind", f"A line is a service, expense or other line, not {given!r}.")
        elif kind == "service" and service is None and not f.bad:
            f.fail("service_type", "A service line names its service type.")
        elif kind == "expense" and expense_type is None and not f.bad:
            f.fail("expense_type", "An expense line names its expense type.")
        elif (kind != "service" and service) or (kind != "expense" and expense_type):
            f.fail("kind", f"An {kind} line names no service or expense type.")
        amount = f.money("amount")
        quantity = f.decimal("quantity", "a quantity such as 1.5")
        rate = f.decimal("rate", "a rate such as 150.00")
        description = f.text("description")
        taxable = f.flag("taxable")
        if f.bad or kind is None:
            return None
        try:
            priced = sv.price_line(
                amount if isinstance(amount, Decimal) else None,
                quantity if isinstance(quantity, Decimal) else None,
                rate if isinstance(rate, Decimal) else None,
            )
        except ServiceError as exc:
            f.fail(exc.field, exc.message)
            return None
        return sv.LineInput(
            kind=kind,
            description=description if isinstance(description, str) else "",
            amount=priced[2],
            quantity=priced[0],
            rate=priced[1],
            service_type_id=service.id if service and kind == "service" else None,
            expense_type_id=expense_type.id if expense_type and kind == "expense" else None,
            taxable=None if isinstance(taxable, Unset) else taxable,
        )

    # --- the whole import ---------------------------------------------------------------------

    def flush(self) -> None:
        """Insert what was saved so far; a refusal by the store stops the import."""
        if self.broken:
            return
        try:
            flush_imported(self.session)
        except IntegrityError as exc:
            self.problems.append(
                Problem(self.bundle.source, None, None, f"The store refused a record: {exc.orig}.")
            )
            self.broken = True

    def run(self, progress: ImportProgress | None = None) -> ImportSummary:
        total = sum(self.bundle.counts.get(kind.name, 0) for kind in KINDS)
        done = 0
        if self.bundle.settings is not None:
            self.settings(self.bundle.settings)
        steps: dict[str, Callable[[Row], None]] = {
            "clients": self.client,
            "service_types": self.service_type,
            "expense_types": self.expense_type,
            "tax_terms": self.tax_term,
            "projects": self.project,
            "budgets": self.budget,
            "invoices": self.invoice,
        }
        for kind in KINDS:
            if kind.name in self.bundle.counts:
                self.summary.count(kind.name)
            for row in self.rows(kind.name):
                if self.broken:
                    break
                steps[kind.name](row)
                done += 1
                if done % FLUSH_EVERY == 0:
                    self.flush()
                    if progress is not None:
                        progress(done, total)
            # The next kinds refer to these records by id.
            self.flush()
        if progress is not None:
            progress(total, total)
        if self.problems:
            self.problems.sort(key=lambda p: (p.file, p.line or 0))
            raise ImportRejected(self.problems)
        return self.summary


_LINE_KINDS: dict[str, sv.LineKind] = {kind: kind for kind in sv.LINE_KINDS}


def _never() -> Saved[Any]:
    raise AssertionError("a row with problems is not saved")


def _linked(
    saved: Saved[Any], qbo_id: str | Unset | None, link: Callable[[int, str], Any]
) -> Saved[Any]:
    """Link the saved record to its QuickBooks customer when the import names one."""
    record = saved.record
    if not isinstance(qbo_id, str) or record.qbo_id == qbo_id:
        return saved
    if record.id is None:  # saved by this import and not inserted yet: linking needs its id
        session = object_session(record)
        if session is not None:
            session.flush()
    link(record.id, qbo_id)
    return Saved(record, Change.CREATED if saved.change is Change.CREATED else Change.UPDATED)


def import_bundle(
    session: Session, bundle: Bundle, progress: ImportProgress | None = None
) -> ImportSummary:
    """Apply a read import to the session; `ImportRejected` lists every problem found.

    The caller rolls the session back when it is rejected (`Store.session()` does). Records
    saved are let go as they are inserted, so memory stays bounded however long the file is.
    """
    start_import_indexes(session)
    importing = _Import(session, bundle)
    try:
        return importing.run(progress)
    finally:
        importing.seen.close()
        stop_import_indexes(session)
        bundle.close()


def import_into(
    store: Store, bundle: Bundle, progress: ImportProgress | None = None
) -> ImportSummary:
    """Apply a read import in one transaction: all of it, or, when anything is wrong, none."""
    with store.session() as session:
        return import_bundle(session, bundle, progress)
