"""Each project's budget against its actuals, line by line, as the Projects tab shows it and
`report projects` prints it."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from factor_desktop.services.budgets import project_budget
from factor_desktop.store.models import Client, ExpenseType, Project


@dataclass(frozen=True)
class BudgetLineFigures:
    """One budget line of a project (a service fee or an expense category) against actuals.

    `subconsultant` marks an expense category whose expense types are sub-consultants'.
    """

    label: str
    kind: str
    unbudgeted: bool
    subconsultant: bool
    budget: Decimal
    cost: Decimal
    billable: Decimal
    billed: Decimal
    collected: Decimal
    remaining: Decimal
    percent_used: Decimal | None
    over_budget: bool


@dataclass(frozen=True)
class ProjectFinancials:
    """A project's budget against actuals, line by line: what `report projects` prints and
    the window's Projects tab shows, computed once here so the two never disagree."""

    id: int
    number: str
    name: str
    client: str
    status: str
    lines: tuple[BudgetLineFigures, ...]


def project_financials(session: Session) -> list[ProjectFinancials]:
    """Every project's budget lines with their actuals, in project-number order."""
    subconsultant = {
        category.casefold()
        for category, flag in session.execute(
            select(ExpenseType.category, ExpenseType.is_subconsultant)
        )
        if flag
    }
    projects = session.scalars(
        select(Project).join(Client).options(selectinload(Project.client)).order_by(Project.number)
    )
    found: list[ProjectFinancials] = []
    for project in projects:
        report = project_budget(session, project.id)
        lines = tuple(
            BudgetLineFigures(
                label=line.label,
                kind=line.kind,
                unbudgeted=line.unbudgeted,
                subconsultant=line.kind == "expense" and line.label.casefold() in subconsultant,
                budget=line.budget,
                cost=line.cost,
                billable=line.billable,
                billed=line.billed,
                collected=line.collected,
                remaining=line.remaining,
                percent_used=line.percent_used,
                over_budget=line.over_budget,
            )
            for line in report.lines
        )
        found.append(
            ProjectFinancials(
                id=project.id,
                number=project.number,
                name=project.name,
                client=project.client.name,
                status=project.status,
                lines=lines,
            )
        )
    return found
