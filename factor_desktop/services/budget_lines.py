"""A project's budget lines: a fee per service type (with how far it has progressed) and an
amount per expense category.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from factor_desktop.domain.budgets import BudgetLine
from factor_desktop.services._fields import UNSET, Unset, apply, get_record, money, percentage, text
from factor_desktop.services._natural_keys import (
    HUNDRED,
    BudgetIndex,
    _check_exists,
    _finish,
    _load,
    _resolve,
    budget_index,
)
from factor_desktop.services.catalog import _known_category, expense_categories
from factor_desktop.services.errors import Change, Saved, ServiceError
from factor_desktop.store.models import Project, ProjectBudget, ServiceType

# --- project budgets --------------------------------------------------------------------------


def _budget_amount(amount: Decimal, label: str) -> Decimal:
    checked = money(amount, f"The budget for {label}", "amount")
    try:
        BudgetLine(key=label, kind="service", label=label, amount=checked)
    except ValueError as exc:
        raise ServiceError(str(exc), field="amount") from None
    return checked


def _budget_index(session: Session) -> BudgetIndex | None:
    """An import's index of the budgets by (project, service type, expense category)."""
    return budget_index(
        session,
        lambda: session.execute(
            select(
                ProjectBudget.id,
                ProjectBudget.project_id,
                ProjectBudget.service_type_id,
                ProjectBudget.expense_category,
            )
        ),
    )


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
        index.note((budget.project_id, budget.service_type_id, budget.expense_category), budget)


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
