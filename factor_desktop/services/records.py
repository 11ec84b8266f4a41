"""Clients, projects, service types, expense types, tax terms and project budgets.

Each kind of record has a `...Fields` input whose fields default to `UNSET` (left as they are);
`create_...` refuses a record that already exists, `update_...` changes one by id, and
`save_...` creates or updates by the record's natural key (client name, project number, type
name, tax code), which is what an import does. Names are unique regardless of capitalization,
because QuickBooks Online treats "Tanaka Residence" and "tanaka residence" as the same name.
Nothing is committed here: the caller's session decides.

Clients and projects are here; service types, expense types and tax terms in `services.catalog`,
budget lines in `services.budget_lines` (all importable from here too); what they share in
`services._natural_keys`.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from factor_desktop.services._fields import (
    UNSET,
    Unset,
    email,
    flag,
    get_record,
    optional_text,
    text,
    whole_number,
)
from factor_desktop.services._natural_keys import (
    Check,
    _check_exists,
    _checked,
    _find,
    _refuse_clash,
    _require,
    _store,
    find_key,
    flush_imported,
    start_import_indexes,
    stop_import_indexes,
)
from factor_desktop.services.budget_lines import (
    remove_budget,
    set_expense_budget,
    set_percent_complete,
    set_service_budget,
)
from factor_desktop.services.catalog import (
    ExpenseTypeFields,
    ServiceTypeFields,
    TaxTermFields,
    create_expense_type,
    create_service_type,
    create_tax_term,
    expense_categories,
    find_expense_type,
    find_service_type,
    find_tax_term,
    save_expense_type,
    save_service_type,
    save_tax_term,
    to_rule,
    update_expense_type,
    update_service_type,
    update_tax_term,
)
from factor_desktop.services.errors import Saved, ServiceError
from factor_desktop.store.models import Client, Invoice, Project

PROJECT_STATUSES = ("active", "on_hold", "closed")


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
    return _store(session, Client, client, values)


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
    return _store(session, Project, project, values)


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


__all__ = [
    "PROJECT_STATUSES",
    "ClientFields",
    "ExpenseTypeFields",
    "ProjectFields",
    "ServiceTypeFields",
    "TaxTermFields",
    "create_client",
    "create_expense_type",
    "create_project",
    "create_service_type",
    "create_tax_term",
    "expense_categories",
    "find_client",
    "find_expense_type",
    "find_key",
    "find_project",
    "find_service_type",
    "find_tax_term",
    "flush_imported",
    "remove_budget",
    "save_client",
    "save_expense_type",
    "save_project",
    "save_service_type",
    "save_tax_term",
    "set_expense_budget",
    "set_percent_complete",
    "set_service_budget",
    "start_import_indexes",
    "stop_import_indexes",
    "to_rule",
    "update_client",
    "update_expense_type",
    "update_project",
    "update_service_type",
    "update_tax_term",
]
