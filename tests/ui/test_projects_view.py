"""The Projects tab shows, for the demo firm, the very figures `report projects --json` prints,
read on the worker; sub-consultants have their own section, over-budget and unbudgeted lines
their colours."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QModelIndex, Qt
from sqlalchemy import select

from factor_desktop.cli import main
from factor_desktop.demo import DEMO_PROFILE, DemoSession
from factor_desktop.store.models import Expense, ExpenseType, ProjectBudget
from factor_desktop.ui.colors import ERROR_COLOR, WARNING_COLOR
from factor_desktop.ui.formatting import money_text, percent_text
from factor_desktop.ui.main_window import MainWindow
from factor_desktop.ui.projects_view import Node, ProjectFinancialsJob, ProjectFinancialsModel

from .conftest import wait_for_snapshot

pytestmark = pytest.mark.gui

M = ProjectFinancialsModel


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[DemoSession]:
    session = DemoSession(tmp_path, fresh=True)
    try:
        session.load_firm()
        yield session
    finally:
        session.close()


def _walk(model: M, parent: QModelIndex, depth: int = 0) -> Iterator[tuple[QModelIndex, Node]]:
    for row in range(model.rowCount(parent)):
        index = model.index(row, 0, parent)
        node = model.node(index)
        assert node is not None
        yield index, node
        yield from _walk(model, index, depth + 1)


def _money(value: str | None) -> str:
    return money_text(Decimal(value)) if value is not None else ""


def _report(demo: DemoSession, capsys: pytest.CaptureFixture[str]) -> list[dict[str, Any]]:
    argv = ["--data-dir", str(demo.root), "--profile", DEMO_PROFILE, "report", "projects"]
    assert main([*argv, "--json"]) == 0
    rows: list[dict[str, Any]] = json.loads(capsys.readouterr().out)
    assert rows
    return rows


def _same_figures(model: M, report: list[dict[str, Any]]) -> list[tuple[QModelIndex, Node]]:
    """Every report row is one line of the tab, with the same figures; returns the lines."""
    assert [p.number for p in model.projects()] == list(dict.fromkeys(r["number"] for r in report))
    lines = [(i, n) for i, n in _walk(model, QModelIndex()) if n.kind == "line"]
    per_project: dict[str, list[dict[str, Any]]] = {}
    for row in report:
        if row["line"] is not None:
            per_project.setdefault(row["number"], []).append(row)
    shown: dict[str, dict[str, Node]] = {}
    for _index, node in lines:
        assert node.project is not None
        shown.setdefault(node.project.number, {})[node.label] = node
    assert {k: len(v) for k, v in shown.items()} == {k: len(v) for k, v in per_project.items()}
    for number, rows in per_project.items():
        for row in rows:
            node = shown[number][row["line"]]
            expense = row["kind"] == "expense"
            assert model.display(node, M.COL_BUDGET) == _money(row["budget"])
            assert model.display(node, M.COL_BILLED) == _money(row["billed"])
            assert model.display(node, M.COL_COLLECTED) == _money(row["collected"])
            assert model.display(node, M.COL_REMAINING) == _money(row["remaining"])
            used = Decimal(row["percent_used"]) if row["percent_used"] is not None else None
            assert model.display(node, M.COL_USED) == percent_text(used, "—")
            if expense:
                assert model.display(node, M.COL_COST) == _money(row["cost"])
                assert model.display(node, M.COL_BILLABLE) == _money(row["billable"])
                section = "subconsultants" if row["subconsultant"] else "expenses"
            else:
                # A fee has no cost: the cells are empty, and the report has nothing there.
                assert model.display(node, M.COL_COST) == ""
                assert Decimal(row["cost"]) == 0 and Decimal(row["billable"]) == 0
                section = "fees"
            assert node.section == section
            assert node.over_budget is row["over_budget"]
            assert node.unbudgeted is row["line"].endswith("(unbudgeted)")
    return lines


def _overspend(demo: DemoSession) -> tuple[str, str]:
    """An expense past a category's budget and one in a category with no budget, on one
    project; returns (over-budget category, unbudgeted category)."""
    with demo.ctx.store.session() as s:
        budget = s.scalars(
            select(ProjectBudget).where(ProjectBudget.kind == "expense").order_by(ProjectBudget.id)
        ).first()
        assert budget is not None and budget.expense_category is not None
        types = list(s.scalars(select(ExpenseType).order_by(ExpenseType.id)))
        budgeted = {
            (b.expense_category or "").casefold()
            for b in s.scalars(
                select(ProjectBudget).where(ProjectBudget.project_id == budget.project_id)
            )
        }
        over = next(t for t in types if t.category.casefold() == budget.expense_category.casefold())
        outside = next(t for t in types if t.category.casefold() not in budgeted)
        amount = budget.amount + Decimal("1000.00")
        for kind, cost in ((over, amount), (outside, Decimal("250.00"))):
            s.add(
                Expense(
                    project_id=budget.project_id,
                    expense_type_id=kind.id,
                    source="factor",
                    incurred_on=date(2025, 4, 1),
                    description="Added by the test",
                    cost=cost,
                    billable_amount=cost,
                )
            )
        return over.category, outside.category


def test_the_projects_tab_shows_the_report_projects_figures(
    qtbot: Any, demo: DemoSession, capsys: pytest.CaptureFixture[str]
) -> None:
    report = _report(demo, capsys)
    window = MainWindow(demo.ctx.store, demo.ctx.tokens, open_url=lambda url: None)
    qtbot.addWidget(window)
    window.resize(1280, 800)
    window.show()
    threads: set[int] = set()

    def on_start(_event: Any) -> None:
        threads.add(threading.get_ident())

    window.runner._thread.started_job.connect(on_start, Qt.ConnectionType.DirectConnection)

    def loaded(act: Any) -> None:
        with qtbot.waitSignal(
            window.runner.jobFinished,
            timeout=20_000,
            check_params_cb=lambda outcome: outcome.kind == "project_financials",
        ) as blocker:
            act()
        assert blocker.args[0].ok, blocker.args[0].error

    try:
        view = window.projects_tab
        model = view.model
        assert ProjectFinancialsJob.refreshes_snapshot is False
        loaded(lambda: window.tabs.setCurrentWidget(view))
        assert threads and threading.get_ident() not in threads, "read on the worker"
        _same_figures(model, report)
        # A snapshot that changes nothing the budgets depend on reads nothing again.
        wait_for_snapshot(qtbot, window)
        assert view.job is None and not view.stale
        # Sub-consultants are a section of their own.
        sections = [n for _i, n in _walk(model, QModelIndex()) if n.kind == "section"]
        assert any(n.label == "Sub-consultants" for n in sections)
        assert any(row["subconsultant"] for row in report)

        # Spending past a budget and outside any budget: the next snapshot brings new figures,
        # again the report's; over budget in the error colour, unbudgeted in the warning colour.
        over_category, outside_category = _overspend(demo)
        loaded(window.refresh)
        report = _report(demo, capsys)
        lines = _same_figures(model, report)
        over = [(i, n) for i, n in lines if n.over_budget]
        unbudgeted = [(i, n) for i, n in lines if n.unbudgeted and not n.over_budget]
        assert any(n.label == over_category for _i, n in over)
        assert any(n.label == f"{outside_category} (unbudgeted)" for _i, n in unbudgeted) or any(
            n.label == f"{outside_category} (unbudgeted)" for _i, n in over
        )
        for index, _node in over:
            brush = index.siblingAtColumn(M.COL_REMAINING).data(Qt.ItemDataRole.ForegroundRole)
            assert brush.color() == ERROR_COLOR
        for index, _node in unbudgeted:
            assert index.data(Qt.ItemDataRole.ForegroundRole).color() == WARNING_COLOR
        over_projects = {row["number"] for row in report if row["over_budget"]}
        assert f"{len(over_projects)} over budget" in view.summary.text()

        # "Only projects over budget or with unbudgeted spending" hides the others.
        view.attention_only.setChecked(True)
        visible = {
            model.projects()[row].number
            for row in range(len(model.top))
            if not view.view.isRowHidden(row, QModelIndex())
        }
        flagged = {
            row["number"]
            for row in report
            if row["over_budget"] or (row["line"] or "").endswith("(unbudgeted)")
        }
        assert visible == flagged and visible != {p.number for p in model.projects()}
    finally:
        window.runner._thread.started_job.disconnect(on_start)
        window.shutdown()
    assert not window.runner.running
