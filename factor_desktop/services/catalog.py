"""The firm's service types, expense types and tax terms: created, updated and saved by their
natural key (type name, tax code) like every record service (see `services.records`).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from factor_desktop.domain.invoices import TaxTerm as TaxRule
from factor_desktop.domain.markup import validate_markup_percent
from factor_desktop.services._fields import (
    UNSET,
    Unset,
    apply,
    flag,
    get_record,
    optional_text,
    percentage,
    text,
)
from factor_desktop.services._natural_keys import (
    HUNDRED,
    Check,
    _checked,
    _find,
    _finish,
    _keys_of,
    _refuse_clash,
    _require,
    _store,
)
from factor_desktop.services.errors import Change, Saved, ServiceError
from factor_desktop.store.models import ExpenseType, ServiceType, TaxTerm

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
    return _store(session, ServiceType, service_type, values)


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
    return _store(session, ExpenseType, expense_type, values)


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
