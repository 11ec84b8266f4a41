"""Clients, projects, service types, expense types, tax terms and project budgets.

Each kind of record has a `...Fields` input whose fields default to `UNSET` (left as they are);
`create_...` refuses a record that already exists, `update_...` changes one by id, and
`save_...` creates or updates by the record's natural key (client name, project number, type
name, tax code), which is what an import does. Names are unique regardless of capitalization,
because QuickBooks Online treats "Tanaka Residence" and "tanaka residence" as the same name.
Nothing is committed here: the caller's session decides.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any, TypeVar, cast

from sqlalchemy import select
from sqlalchemy.orm import InstrumentedAttribute, Session

from factor_desktop.domain.budgets import BudgetLine
from factor_desktop.domain.invoices import TaxTerm as TaxRule
from factor_desktop.domain.markup import validate_markup_percent
from factor_desktop.services._fields import (
    UNSET,
    Unset,
    apply,
    email,
    flag,
    get_record,
    money,
    optional_text,
    percentage,
    text,
    whole_number,
)
from factor_desktop.services.errors import Change, Saved, ServiceError
from factor_desktop.store.models import (
    Client,
    ExpenseType,
    Invoice,
    Project,
    ProjectBudget,
    ServiceType,
    TaxTerm,
)

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

R = TypeVar("R")
M = TypeVar("M")
Check = Callable[[Any], Any]

PROJECT_STATUSES = ("active", "on_hold", "closed")
HUNDRED = Decimal(100)


def _checked(fields: DataclassInstance, checks: Mapping[str, Check]) -> dict[str, Any]:
    """The checked values of the fields that were given."""
    values: dict[str, Any] = {}
    for item in dataclasses.fields(fields):
        value = getattr(fields, item.name)
        if value is not UNSET:
            values[item.name] = checks[item.name](value)
    return values


def _require(values: Mapping[str, Any], field: str, label: str) -> None:
    if values.get(field) is None:
        raise ServiceError(f"{label} is required.", field=field)


# --- natural keys ---------------------------------------------------------------------------
#
# Names are unique ignoring capitalization, which SQLite cannot index (its lower() folds ASCII
# only). One record at a time, a scan of the column is fine. An import saves thousands in one
# session, so it turns on an index kept in the session: each column is read once (ids and
# values only), and every record the import saves is entered as it is saved. The import also
# defers the flush of new records to the end of each batch (`flush_imported`), so they are
# inserted many at a time.

_INDEXES = "factor.natural_key_indexes"
_DEFER_FLUSH = "factor.defer_flush"
_PINNED = "factor.pinned_records"
_BUDGETS = "factor.budget_index"
_UNFLUSHED = "factor.unflushed_keys"
_UNFLUSHED_BUDGETS = "factor.unflushed_budgets"

Ref = Any  # an id of a stored record, or a record not yet flushed
_Key = tuple[Any, str]  # (scope value, folded value)


@dataclass
class _Index:
    entries: dict[_Key, list[tuple[str, Ref]]]
    # The ids of the stored records of this kind, so a reference is checked without a read.
    ids: set[int]


def start_import_indexes(session: Session) -> None:
    """Keep natural-key indexes in this session and defer flushes (for an import's session)."""
    session.info[_INDEXES] = {}
    session.info[_DEFER_FLUSH] = True


def stop_import_indexes(session: Session) -> None:
    for key in (_INDEXES, _DEFER_FLUSH, _PINNED, _BUDGETS, _UNFLUSHED, _UNFLUSHED_BUDGETS):
        session.info.pop(key, None)


def flush_imported(session: Session) -> None:
    """Insert the records saved since the last flush, then let go of them to bound memory.

    The indexes keep the records' ids, not the records; a record needed again is read back.
    """
    session.flush()
    if session.info.get(_INDEXES) is None:
        return
    for index, key in session.info.pop(_UNFLUSHED, []):
        refs = index.entries.get(key, [])
        for position, (value, ref) in enumerate(refs):
            if not isinstance(ref, int):
                refs[position] = (value, ref.id)
                index.ids.add(ref.id)
    budgets: dict[Any, Ref] = session.info.get(_BUDGETS) or {}
    for key in session.info.pop(_UNFLUSHED_BUDGETS, []):
        ref = budgets.get(key)
        if ref is not None and not isinstance(ref, int):
            budgets[key] = ref.id
    # Everything is in the database now. Records still needed (the short lists the import
    # pinned) stay usable detached: their loaded values are read, never lazily loaded.
    session.expunge_all()


def _index(
    session: Session, column: InstrumentedAttribute[str], scope: InstrumentedAttribute[Any] | None
) -> _Index | None:
    indexes: dict[Any, _Index] | None = session.info.get(_INDEXES)
    if indexes is None:
        return None
    model = column.class_
    key = (model, column.key)
    index = indexes.get(key)
    if index is None:
        index = _Index({}, set())
        columns: list[Any] = [model.id, column, scope if scope is not None else model.id]
        for record_id, value, scope_value in session.execute(select(*columns)):
            folded = (scope_value if scope is not None else None, value.casefold())
            index.entries.setdefault(folded, []).append((value, record_id))
            index.ids.add(record_id)
        indexes[key] = index
    return index


def _check_exists(session: Session, model: type[Any], record_id: int, what: str) -> None:
    """Refuse an id that names no record; ids an import's index holds need no read."""
    indexes: dict[Any, _Index] | None = session.info.get(_INDEXES)
    if indexes is not None and any(
        kind is model and record_id in index.ids for (kind, _name), index in indexes.items()
    ):
        return
    with _deferred(session):
        get_record(session, model, record_id, what)


def _load(session: Session, model: type[M], record_id: int, what: str) -> M:
    """A record of a short list (a service type, ...); an import keeps each it loads at hand."""
    if session.info.get(_INDEXES) is None:
        return get_record(session, model, record_id, what)
    pinned: dict[tuple[type[Any], int], Any] = session.info.setdefault(_PINNED, {})
    record = pinned.get((model, record_id))
    if record is None:
        with _deferred(session):
            record = pinned[(model, record_id)] = get_record(session, model, record_id, what)
    return cast(M, record)


def _resolve(session: Session, model: Any, ref: Ref) -> Any:
    if not isinstance(ref, int):
        return ref
    with session.no_autoflush:  # the import's pending records go in at its next flush
        return session.get(model, ref)


def _same(ref: Ref, record: Any) -> bool:
    if record is None:
        return False
    if isinstance(ref, int):
        return ref == getattr(record, "id", None)
    return ref is record


def _clash(
    session: Session,
    column: InstrumentedAttribute[str],
    value: str,
    own: Any,
    scope: InstrumentedAttribute[Any] | None = None,
    scope_value: Any = None,
) -> str | None:
    """The existing value of `column` equal to `value` ignoring case, on another record."""
    wanted = value.casefold()
    index = _index(session, column, scope)
    if index is not None:
        for other, ref in index.entries.get((scope_value if scope else None, wanted), []):
            if not _same(ref, own):
                return other
        return None
    model = column.class_
    own_id = getattr(own, "id", None)
    where = [] if scope is None else [scope == scope_value]
    for other_id, other in session.execute(select(model.id, column).where(*where)):
        if other_id != own_id and other.casefold() == wanted:
            return str(other)
    return None


def _refuse_clash(
    session: Session,
    column: InstrumentedAttribute[str],
    value: str,
    own: Any,
    what: str,
    field: str,
    scope: InstrumentedAttribute[Any] | None = None,
    scope_value: Any = None,
) -> None:
    other = _clash(session, column, value, own, scope, scope_value)
    if other is None:
        return
    if other == value:
        raise ServiceError(f"{what} {value!r} already exists.", field=field)
    raise ServiceError(
        f"{what} {value!r} is the same as the existing {other!r} apart from capitalization; "
        "QuickBooks Online treats them as one name.",
        field=field,
    )


def _find(session: Session, column: InstrumentedAttribute[str], value: str) -> Any:
    index = _index(session, column, None)
    if index is not None:
        for other, ref in index.entries.get((None, value.casefold()), []):
            if other == value:
                return _resolve(session, column.class_, ref)
        return None
    return session.scalars(select(column.class_).where(column == value)).first()


# The natural keys of each kind of record: (column, the column that scopes it).
_KEYS: dict[type[Any], list[tuple[str, str | None]]] = {
    Client: [("name", None)],
    Project: [("number", None), ("name", "client_id")],
    ServiceType: [("name", None)],
    ExpenseType: [("name", None)],
    TaxTerm: [("code", None)],
}


def _keys_of(record: Any) -> list[tuple[str, _Key, str]]:
    keys = []
    for name, scope in _KEYS.get(type(record), []):
        value = getattr(record, name)
        if isinstance(value, str):
            scoped = getattr(record, scope) if scope else None
            keys.append((name, (scoped, value.casefold()), value))
    return keys


def _reindex(session: Session, record: Any, before: list[tuple[str, _Key, str]]) -> None:
    """Move `record` in the session's indexes from its keys `before` to its keys now."""
    indexes: dict[Any, _Index] | None = session.info.get(_INDEXES)
    if indexes is None:
        return
    after = _keys_of(record)
    if after == before:
        return
    for name, key, _value in before:
        index = indexes.get((type(record), name))
        if index is not None and key in index.entries:
            index.entries[key] = [e for e in index.entries[key] if not _same(e[1], record)]
    for name, key, value in after:
        index = indexes.get((type(record), name))
        if index is not None:
            ref = record.id if record.id is not None else record
            index.entries.setdefault(key, []).append((value, ref))
            if not isinstance(ref, int):
                session.info.setdefault(_UNFLUSHED, []).append((index, key))


def _deferred(session: Session) -> contextlib.AbstractContextManager[Any]:
    """While an import defers its flushes, a lookup does not flush them one by one.

    The import refuses two rows with the same natural key itself, so a lookup need not see the
    records it has not inserted yet.
    """
    return session.no_autoflush if session.info.get(_DEFER_FLUSH) else contextlib.nullcontext()


def _finish(session: Session, record: R, change: Change, before: Any = ()) -> Saved[R]:
    if change is Change.CREATED:
        session.add(record)
    if not session.info.get(_DEFER_FLUSH):
        session.flush()
    if change is not Change.UNCHANGED:
        _reindex(session, record, list(before))
    return Saved(record, change)


# --- clients ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ClientFields:
    name: str | Unset = UNSET
    email: str | Unset | None = UNSET
    phone: str | Unset | None = UNSET
    address_line1: str | Unset | None = UNSET
    city: str | Unset | None = UNSET
    region: str | Unset | None = UNSET
    postal_code: str | Unset | None = UNSET
    # Days to pay this client's invoices; None uses the firm's default terms.
    terms_days: int | Unset | None = UNSET
    archived: bool | Unset = UNSET


_CLIENT_CHECKS: dict[str, Check] = {
    "name": lambda v: text(v, "Client name", "name", 200),
    "email": email,
    "phone": lambda v: optional_text(v, "Phone", "phone", 50),
    "address_line1": lambda v: optional_text(v, "Address", "address_line1", 200),
    "city": lambda v: optional_text(v, "City", "city", 100),
    "region": lambda v: optional_text(v, "State or region", "region", 50),
    "postal_code": lambda v: optional_text(v, "Postal code", "postal_code", 20),
    "terms_days": lambda v: whole_number(v, "Payment terms (days)", "terms_days", 0, 365),
    "archived": lambda v: flag(v, "Archived", "archived"),
}


def _save_client(session: Session, client: Client | None, fields: ClientFields) -> Saved[Client]:
    values = _checked(fields, _CLIENT_CHECKS)
    if client is None:
        _require(values, "name", "Client name")
    if "name" in values:
        _refuse_clash(session, Client.name, values["name"], client, "A client named", "name")
    if client is None:
        return _finish(session, Client(**values), Change.CREATED)
    before = _keys_of(client)
    changed = apply(client, values)
    return _finish(session, client, Change.UPDATED if changed else Change.UNCHANGED, before)


def create_client(session: Session, fields: ClientFields) -> Client:
    """Add a client. Refused when the name is missing or already used."""
    return _save_client(session, None, fields).record


def update_client(session: Session, client_id: int, fields: ClientFields) -> Saved[Client]:
    """Change the given fields of a client."""
    return _save_client(session, get_record(session, Client, client_id, "client"), fields)


def save_client(session: Session, fields: ClientFields) -> Saved[Client]:
    """Create the client named `fields.name`, or update the one that has that name."""
    if isinstance(fields.name, Unset):
        raise ServiceError("Client name is required.", field="name")
    return _save_client(session, _find(session, Client.name, fields.name.strip()), fields)


def find_client(session: Session, name: str) -> Client | None:
    """The client with exactly this name (surrounding spaces ignored)."""
    found: Client | None = _find(session, Client.name, name.strip())
    return found


# --- projects ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ProjectFields:
    client_id: int | Unset = UNSET
    # The firm's project number, e.g. "2024-017"; unique across the firm.
    number: str | Unset = UNSET
    name: str | Unset = UNSET
    status: str | Unset = UNSET
    manager: str | Unset | None = UNSET
    address: str | Unset | None = UNSET


def _status(value: str) -> str:
    if value not in PROJECT_STATUSES:
        raise ServiceError(
            f"Project status {value!r} is not one of: {', '.join(PROJECT_STATUSES)}.",
            field="status",
        )
    return value


_PROJECT_CHECKS: dict[str, Check] = {
    "client_id": lambda v: whole_number(v, "Client", "client_id", 1, 2**62, optional=False),
    "number": lambda v: text(v, "Project number", "number", 30),
    "name": lambda v: text(v, "Project name", "name", 200),
    "status": _status,
    "manager": lambda v: optional_text(v, "Project manager", "manager", 100),
    "address": lambda v: optional_text(v, "Project address", "address", 300),
}


def _save_project(
    session: Session, project: Project | None, fields: ProjectFields
) -> Saved[Project]:
    values = _checked(fields, _PROJECT_CHECKS)
    if project is None:
        _require(values, "number", "Project number")
        _require(values, "name", "Project name")
        _require(values, "client_id", "The project's client")
    client_id: int = values.get("client_id", project.client_id if project else 0)
    _check_exists(session, Client, client_id, "client")
    if (
        project is not None
        and client_id != project.client_id
        and session.scalar(select(Invoice.id).where(Invoice.project_id == project.id).limit(1))
    ):
        raise ServiceError(
            f"Project {project.number} already has invoices billed to its client, so it "
            "can't be moved to another client.",
            field="client_id",
        )
    if "number" in values:
        _refuse_clash(
            session, Project.number, values["number"], project, "Project number", "number"
        )
    name = values.get("name", project.name if project else "")
    if "name" in values or "client_id" in values:
        _refuse_clash(
            session,
            Project.name,
            name,
            project,
            "This client already has a project named",
            "name",
            Project.client_id,
            client_id,
        )
    if project is None:
        values.setdefault("status", "active")
        return _finish(session, Project(**values), Change.CREATED)
    before = _keys_of(project)
    changed = apply(project, values)
    return _finish(session, project, Change.UPDATED if changed else Change.UNCHANGED, before)


def create_project(session: Session, fields: ProjectFields) -> Project:
    """Add a project under a client. The number must be new; the status defaults to active."""
    return _save_project(session, None, fields).record


def update_project(session: Session, project_id: int, fields: ProjectFields) -> Saved[Project]:
    """Change the given fields of a project (its status among them)."""
    return _save_project(session, get_record(session, Project, project_id, "project"), fields)


def save_project(session: Session, fields: ProjectFields) -> Saved[Project]:
    """Create the project numbered `fields.number`, or update the one with that number."""
    if isinstance(fields.number, Unset):
        raise ServiceError("Project number is required.", field="number")
    return _save_project(session, find_project(session, fields.number), fields)


def find_project(session: Session, number: str) -> Project | None:
    """The project with exactly this number (surrounding spaces ignored)."""
    found: Project | None = _find(session, Project.number, number.strip())
    return found


# --- service types ----------------------------------------------------------------------------


@dataclass(frozen=True)
class ServiceTypeFields:
    name: str | Unset = UNSET
    description: str | Unset | None = UNSET
    taxable: bool | Unset = UNSET
    active: bool | Unset = UNSET


_SERVICE_TYPE_CHECKS: dict[str, Check] = {
    "name": lambda v: text(v, "Service type name", "name", 100),
    "description": lambda v: optional_text(v, "Description", "description", 500, multiline=True),
    "taxable": lambda v: flag(v, "Taxable", "taxable"),
    "active": lambda v: flag(v, "Active", "active"),
}


def _save_service_type(
    session: Session, service_type: ServiceType | None, fields: ServiceTypeFields
) -> Saved[ServiceType]:
    values = _checked(fields, _SERVICE_TYPE_CHECKS)
    if service_type is None:
        _require(values, "name", "Service type name")
    if "name" in values:
        _refuse_clash(
            session, ServiceType.name, values["name"], service_type, "A service type named", "name"
        )
    if service_type is None:
        return _finish(session, ServiceType(**values), Change.CREATED)
    before = _keys_of(service_type)
    changed = apply(service_type, values)
    return _finish(session, service_type, Change.UPDATED if changed else Change.UNCHANGED, before)


def create_service_type(session: Session, fields: ServiceTypeFields) -> ServiceType:
    return _save_service_type(session, None, fields).record


def update_service_type(
    session: Session, service_type_id: int, fields: ServiceTypeFields
) -> Saved[ServiceType]:
    record = get_record(session, ServiceType, service_type_id, "service type")
    return _save_service_type(session, record, fields)


def save_service_type(session: Session, fields: ServiceTypeFields) -> Saved[ServiceType]:
    """Create the service type named `fields.name`, or update the one with that name."""
    if isinstance(fields.name, Unset):
        raise ServiceError("Service type name is required.", field="name")
    return _save_service_type(session, find_service_type(session, fields.name), fields)


def find_service_type(session: Session, name: str) -> ServiceType | None:
    found: ServiceType | None = _find(session, ServiceType.name, name.strip())
    return found


# --- expense types ----------------------------------------------------------------------------


@dataclass(frozen=True)
class ExpenseTypeFields:
    name: str | Unset = UNSET
    # The budget category expenses of this type count against, e.g. "Structural".
    category: str | Unset = UNSET
    is_subconsultant: bool | Unset = UNSET
    # The markup applied to expenses of this type; None bills them at cost.
    markup_percent: Decimal | Unset | None = UNSET
    billable: bool | Unset = UNSET
    taxable: bool | Unset = UNSET
    active: bool | Unset = UNSET


def _markup(value: Decimal | None) -> Decimal | None:
    try:
        result = validate_markup_percent(value)
    except (TypeError, ValueError) as exc:
        raise ServiceError(f"Markup: {exc}", field="markup_percent") from None
    if result is not None and result > 1000:
        raise ServiceError("Markup can't be more than 1000%.", field="markup_percent")
    return result


_EXPENSE_TYPE_CHECKS: dict[str, Check] = {
    "name": lambda v: text(v, "Expense type name", "name", 100),
    "category": lambda v: text(v, "Budget category", "category", 100),
    "is_subconsultant": lambda v: flag(v, "Sub-consultant", "is_subconsultant"),
    "markup_percent": _markup,
    "billable": lambda v: flag(v, "Billable", "billable"),
    "taxable": lambda v: flag(v, "Taxable", "taxable"),
    "active": lambda v: flag(v, "Active", "active"),
}


def _save_expense_type(
    session: Session, expense_type: ExpenseType | None, fields: ExpenseTypeFields
) -> Saved[ExpenseType]:
    values = _checked(fields, _EXPENSE_TYPE_CHECKS)
    if expense_type is None:
        _require(values, "name", "Expense type name")
        _require(values, "category", "Budget category")
    if "name" in values:
        _refuse_clash(
            session, ExpenseType.name, values["name"], expense_type, "An expense type named", "name"
        )
    if "category" in values:
        values["category"] = _known_category(session, values["category"]) or values["category"]
    if expense_type is None:
        return _finish(session, ExpenseType(**values), Change.CREATED)
    before = _keys_of(expense_type)
    changed = apply(expense_type, values)
    return _finish(session, expense_type, Change.UPDATED if changed else Change.UNCHANGED, before)


def create_expense_type(session: Session, fields: ExpenseTypeFields) -> ExpenseType:
    return _save_expense_type(session, None, fields).record


def update_expense_type(
    session: Session, expense_type_id: int, fields: ExpenseTypeFields
) -> Saved[ExpenseType]:
    record = get_record(session, ExpenseType, expense_type_id, "expense type")
    return _save_expense_type(session, record, fields)


def save_expense_type(session: Session, fields: ExpenseTypeFields) -> Saved[ExpenseType]:
    """Create the expense type named `fields.name`, or update the one with that name."""
    if isinstance(fields.name, Unset):
        raise ServiceError("Expense type name is required.", field="name")
    return _save_expense_type(session, find_expense_type(session, fields.name), fields)


def find_expense_type(session: Session, name: str) -> ExpenseType | None:
    found: ExpenseType | None = _find(session, ExpenseType.name, name.strip())
    return found


def expense_categories(session: Session) -> list[str]:
    """The budget categories of the firm's expense types, sorted."""
    return sorted(set(session.scalars(select(ExpenseType.category))), key=str.casefold)


def _known_category(session: Session, category: str) -> str | None:
    """The spelling in use of `category` (ignoring case), or None when no type uses it."""
    wanted = category.casefold()
    return next((c for c in expense_categories(session) if c.casefold() == wanted), None)


# --- tax terms --------------------------------------------------------------------------------


@dataclass(frozen=True)
class TaxTermFields:
    code: str | Unset = UNSET
    name: str | Unset = UNSET
    rate_percent: Decimal | Unset = UNSET
    active: bool | Unset = UNSET


_TAX_TERM_CHECKS: dict[str, Check] = {
    "code": lambda v: text(v, "Tax code", "code", 30),
    "name": lambda v: text(v, "Tax term name", "name", 100),
    "rate_percent": lambda v: percentage(v, "Tax rate", "rate_percent", HUNDRED),
    "active": lambda v: flag(v, "Active", "active"),
}


def _save_tax_term(session: Session, term: TaxTerm | None, fields: TaxTermFields) -> Saved[TaxTerm]:
    values = _checked(fields, _TAX_TERM_CHECKS)
    if term is None:
        _require(values, "code", "Tax code")
        _require(values, "name", "Tax term name")
        _require(values, "rate_percent", "Tax rate")
    if "code" in values:
        _refuse_clash(session, TaxTerm.code, values["code"], term, "Tax code", "code")
    if term is None:
        record = TaxTerm(**values)
        to_rule(record)
        return _finish(session, record, Change.CREATED)
    before = _keys_of(term)
    changed = apply(term, values)
    to_rule(term)
    return _finish(session, term, Change.UPDATED if changed else Change.UNCHANGED, before)


def to_rule(term: TaxTerm) -> TaxRule:
    """The domain's view of a stored tax term, used to compute tax."""
    try:
        return TaxRule(term.code, term.name, term.rate_percent)
    except ValueError as exc:
        raise ServiceError(str(exc), field="rate_percent") from None


def create_tax_term(session: Session, fields: TaxTermFields) -> TaxTerm:
    return _save_tax_term(session, None, fields).record


def update_tax_term(session: Session, tax_term_id: int, fields: TaxTermFields) -> Saved[TaxTerm]:
    return _save_tax_term(session, get_record(session, TaxTerm, tax_term_id, "tax term"), fields)


def save_tax_term(session: Session, fields: TaxTermFields) -> Saved[TaxTerm]:
    """Create the tax term with `fields.code`, or update the one with that code."""
    if isinstance(fields.code, Unset):
        raise ServiceError("Tax code is required.", field="code")
    return _save_tax_term(session, find_tax_term(session, fields.code), fields)


def find_tax_term(session: Session, code: str) -> TaxTerm | None:
    found: TaxTerm | None = _find(session, TaxTerm.code, code.strip())
    return found


# --- project budgets --------------------------------------------------------------------------


def _budget_amount(amount: Decimal, label: str) -> Decimal:
    checked = money(amount, f"The budget for {label}", "amount")
    try:
        BudgetLine(key=label, kind="service", label=label, amount=checked)
    except ValueError as exc:
        raise ServiceError(str(exc), field="amount") from None
    return checked


_BudgetKey = tuple[int, int | None, str | None]


def _budget_index(session: Session) -> dict[_BudgetKey, Ref] | None:
    """An import's index of the budgets by (project, service type, expense category)."""
    if session.info.get(_INDEXES) is None:
        return None
    index: dict[_BudgetKey, Ref] | None = session.info.get(_BUDGETS)
    if index is None:
        index = {}
        rows = session.execute(
            select(
                ProjectBudget.id,
                ProjectBudget.project_id,
                ProjectBudget.service_type_id,
                ProjectBudget.expense_category,
            )
        )
        for budget_id, project_id, service_type_id, category in rows:
            index[(project_id, service_type_id, category)] = budget_id
        session.info[_BUDGETS] = index
    return index


def _existing_budget(
    session: Session, project_id: int, service_type_id: int | None, category: str | None
) -> ProjectBudget | None:
    index = _budget_index(session)
    if index is not None:
        ref = index.get((project_id, service_type_id, category))
        if ref is None:
            return None
        found: ProjectBudget | None = _resolve(session, ProjectBudget, ref)
        return found
    where = (
        ProjectBudget.service_type_id == service_type_id
        if service_type_id is not None
        else ProjectBudget.expense_category == category
    )
    return session.scalars(
        select(ProjectBudget).where(ProjectBudget.project_id == project_id, where)
    ).first()


def _note_budget(session: Session, budget: ProjectBudget) -> None:
    index = _budget_index(session)
    if index is not None:
        key = (budget.project_id, budget.service_type_id, budget.expense_category)
        index[key] = budget
        session.info.setdefault(_UNFLUSHED_BUDGETS, []).append(key)


def set_service_budget(
    session: Session,
    project_id: int,
    service_type_id: int,
    fee: Decimal,
    percent_complete: Decimal | Unset = UNSET,
) -> Saved[ProjectBudget]:
    """Set a project's fee for a service, and optionally how far the service has progressed."""
    _check_exists(session, Project, project_id, "project")
    service = _load(session, ServiceType, service_type_id, "service type")
    values: dict[str, Any] = {"amount": _budget_amount(fee, service.name)}
    if percent_complete is not UNSET:
        values["percent_complete"] = percentage(
            percent_complete, "Percent complete", "percent_complete", HUNDRED
        )
    budget = _existing_budget(session, project_id, service.id, None)
    if budget is None:
        values.setdefault("percent_complete", Decimal(0))
        budget = ProjectBudget(
            project_id=project_id, kind="service", service_type_id=service.id, **values
        )
        _note_budget(session, budget)
        return _finish(session, budget, Change.CREATED)
    return _finish(session, budget, Change.UPDATED if apply(budget, values) else Change.UNCHANGED)


def set_percent_complete(
    session: Session, project_id: int, service_type_id: int, percent_complete: Decimal
) -> ProjectBudget:
    """Record how far a budgeted service has progressed (0 to 100%)."""
    budget = session.scalars(
        select(ProjectBudget).where(
            ProjectBudget.project_id == project_id,
            ProjectBudget.service_type_id == service_type_id,
        )
    ).first()
    if budget is None:
        raise ServiceError(
            "This project has no fee budget for that service; set the fee first.",
            field="service_type_id",
        )
    apply(
        budget,
        {
            "percent_complete": percentage(
                percent_complete, "Percent complete", "percent_complete", HUNDRED
            )
        },
    )
    session.flush()
    return budget


def set_expense_budget(
    session: Session, project_id: int, category: str, amount: Decimal
) -> Saved[ProjectBudget]:
    """Set a project's budget for an expense category (a category of the firm's expense types)."""
    _check_exists(session, Project, project_id, "project")
    wanted = text(category, "Budget category", "expense_category", 100)
    known = _known_category(session, wanted)
    if known is None:
        in_use = ", ".join(expense_categories(session)) or "none yet"
        raise ServiceError(
            f"No expense type has the budget category {wanted!r} (categories in use: {in_use}). "
            "Add an expense type with that category first.",
            field="expense_category",
        )
    values = {"amount": _budget_amount(amount, known)}
    budget = _existing_budget(session, project_id, None, known)
    if budget is None:
        budget = ProjectBudget(
            project_id=project_id, kind="expense", expense_category=known, **values
        )
        _note_budget(session, budget)
        return _finish(session, budget, Change.CREATED)
    return _finish(session, budget, Change.UPDATED if apply(budget, values) else Change.UNCHANGED)


def remove_budget(session: Session, budget_id: int) -> None:
    """Remove one budget line from a project. Invoices and expenses are not touched."""
    session.delete(get_record(session, ProjectBudget, budget_id, "project budget"))
    session.flush()


def find_key(
    session: Session, column: InstrumentedAttribute[str], value: str
) -> tuple[int, str] | None:
    """The id of the record whose `column` is exactly `value` (and the value); nothing loaded."""
    index = _index(session, column, None)
    if index is None:
        row = session.execute(
            select(column.class_.id, column).where(column == value).limit(1)
        ).first()
        return None if row is None else (int(row[0]), str(row[1]))
    for other, ref in index.entries.get((None, value.casefold()), []):
        if other == value:
            if not isinstance(ref, int):
                session.flush()  # a record this import has not inserted yet
                ref = ref.id
            return int(ref), other
    return None
