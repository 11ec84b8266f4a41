"""The Projects tab: each project's budget against actuals, by service fee and expense category.

A project opens onto its fees (budget, billed, collected), its expenses (budget, cost, billable,
billed) and, on their own, its sub-consultants. Lines over budget are shown in the error colour,
spending with no budget line in the warning colour (both from colors.py, contrast-checked).

The figures are `views.project_financials`, the very computation behind `report projects`, read
on the window's worker by `ProjectFinancialsJob` whenever a new snapshot arrives while the tab is
shown (or when it is shown after one).
"""

from __future__ import annotations

from collections.abc import Awaitable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QAbstractItemModel, QModelIndex, QObject, QPersistentModelIndex, Qt, Slot
from PySide6.QtGui import QBrush, QColor, QFont, QShowEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QHBoxLayout,
    QLabel,
    QVBoxLayout,
    QWidget,
)

from factor_desktop.domain.money import ZERO, percent_ratio, sum_money
from factor_desktop.ui.colors import ERROR_COLOR, MUTED_COLOR, WARNING_COLOR
from factor_desktop.ui.formatting import money_text, percent_text
from factor_desktop.ui.jobs import Job, JobEnv, JobOutcome, JobRunner, Report, spawn
from factor_desktop.ui.widgets import fit_columns, make_tree, muted_label

if TYPE_CHECKING:
    from factor_desktop.views.projects import BudgetLineFigures, ProjectFinancials

AnyIndex = QModelIndex | QPersistentModelIndex
RIGHT = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
LEFT = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter
NodeRole = Qt.ItemDataRole.UserRole + 11


class ProjectFinancialsJob(Job):
    """Read every project's budget against actuals (the `report projects` figures)."""

    kind = "project_financials"
    title = "Reading the project budgets…"
    refreshes_snapshot = False

    def run(self, env: JobEnv, report: Report) -> tuple[ProjectFinancials, ...]:
        from factor_desktop.views.projects import project_financials

        with env.store.session() as session:
            return tuple(project_financials(session))


# Jobs after which the budgets need no new read.
READ_ONLY_JOBS = frozenset({"snapshot", ProjectFinancialsJob.kind, "preview", "load_settings"})


# --- the tree --------------------------------------------------------------------------------

SECTIONS = (
    ("fees", "Fees"),
    ("expenses", "Expenses"),
    ("subconsultants", "Sub-consultants"),
)


def section_of(line: BudgetLineFigures) -> str:
    if line.kind == "service":
        return "fees"
    return "subconsultants" if line.subconsultant else "expenses"


@dataclass
class Node:
    """A project, a section of one (fees, expenses, sub-consultants) or a budget line."""

    kind: str  # "project", "section" or "line"
    label: str
    budget: Decimal
    cost: Decimal | None
    billable: Decimal | None
    billed: Decimal
    collected: Decimal
    remaining: Decimal
    percent_used: Decimal | None
    over_budget: bool
    unbudgeted: bool = False
    parent: int = -1
    children: list[int] = field(default_factory=list)
    project: ProjectFinancials | None = None
    line: BudgetLineFigures | None = None
    section: str | None = None


def _total(label: str, kind: str, lines: Sequence[BudgetLineFigures], expenses: bool) -> Node:
    """The sums of `lines`; cost and billable only where expenses are summed."""

    def total(values: Sequence[Decimal]) -> Decimal:
        return sum_money(values) if values else ZERO

    budget = total([line.budget for line in lines])
    remaining = total([line.remaining for line in lines])
    return Node(
        kind=kind,
        label=label,
        budget=budget,
        cost=total([line.cost for line in lines]) if expenses else None,
        billable=total([line.billable for line in lines]) if expenses else None,
        billed=total([line.billed for line in lines]),
        collected=total([line.collected for line in lines]),
        remaining=remaining,
        # Used is what the lines' own rule counts (billed fees, billable expenses):
        # budget - remaining, line by line.
        percent_used=percent_ratio(budget - remaining, budget),
        over_budget=any(line.over_budget for line in lines),
        unbudgeted=any(line.unbudgeted for line in lines),
    )


class ProjectFinancialsModel(QAbstractItemModel):
    """Projects at the top, their sections beneath, the budget lines under each section.

    An index's internal id is its node's place in `nodes` plus one.
    """

    COL_LINE = 0
    COL_BUDGET = 1
    COL_COST = 2
    COL_BILLABLE = 3
    COL_BILLED = 4
    COL_COLLECTED = 5
    COL_REMAINING = 6
    COL_USED = 7
    HEADERS = (
        "Project / budget line",
        "Budget",
        "Cost",
        "Billable",
        "Billed",
        "Collected",
        "Remaining",
        "Used",
    )

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._projects: tuple[ProjectFinancials, ...] = ()
        self.nodes: list[Node] = []
        self.top: list[int] = []

    def set_projects(self, projects: Sequence[ProjectFinancials]) -> bool:
        projects = tuple(projects)
        if projects == self._projects:
            return False
        self.beginResetModel()
        self._projects = projects
        self.nodes, self.top = [], []
        for project in projects:
            expenses = any(line.kind == "expense" for line in project.lines)
            head = _total(
                f"{project.number} {project.name} — {project.client}",
                "project",
                project.lines,
                expenses,
            )
            head.project = project
            head_id = self._add(head, -1)
            self.top.append(head_id)
            for key, title in SECTIONS:
                lines = [line for line in project.lines if section_of(line) == key]
                if not lines:
                    continue
                section = _total(title, "section", lines, key != "fees")
                section.section = key
                section.project = project
                section_id = self._add(section, head_id)
                for line in lines:
                    node = Node(
                        kind="line",
                        label=line.label + (" (unbudgeted)" if line.unbudgeted else ""),
                        budget=line.budget,
                        cost=line.cost if line.kind == "expense" else None,
                        billable=line.billable if line.kind == "expense" else None,
                        billed=line.billed,
                        collected=line.collected,
                        remaining=line.remaining,
                        percent_used=line.percent_used,
                        over_budget=line.over_budget,
                        unbudgeted=line.unbudgeted,
                        project=project,
                        line=line,
                        section=key,
                    )
                    self._add(node, section_id)
        self.endResetModel()
        return True

    def _add(self, node: Node, parent: int) -> int:
        node.parent = parent
        self.nodes.append(node)
        node_id = len(self.nodes) - 1
        if parent >= 0:
            self.nodes[parent].children.append(node_id)
        return node_id

    def projects(self) -> tuple[ProjectFinancials, ...]:
        return self._projects

    def node(self, index: AnyIndex) -> Node | None:
        if not index.isValid():
            return None
        return self.nodes[index.internalId() - 1]

    # -- structure --------------------------------------------------------------------------

    def _children(self, parent: AnyIndex) -> list[int]:
        node = self.node(parent)
        return self.top if node is None else node.children

    def index(self, row: int, column: int, parent: AnyIndex = QModelIndex()) -> QModelIndex:  # noqa: B008
        if not self.hasIndex(row, column, parent):
            return QModelIndex()
        return self.createIndex(row, column, self._children(parent)[row] + 1)

    def parent(self, index: AnyIndex | None = None) -> Any:  # also QObject.parent()
        if index is None:
            return super().parent()
        node = self.node(index)
        if node is None or node.parent < 0:
            return QModelIndex()
        up = self.nodes[node.parent]
        siblings = self.top if up.parent < 0 else self.nodes[up.parent].children
        return self.createIndex(siblings.index(node.parent), 0, node.parent + 1)

    def rowCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008
        if parent.isValid() and parent.column() != 0:
            return 0
        return len(self._children(parent))

    def columnCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008
        return len(self.HEADERS)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation != Qt.Orientation.Horizontal or not 0 <= section < len(self.HEADERS):
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return self.HEADERS[section]
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return LEFT if section == self.COL_LINE else RIGHT
        return None

    def flags(self, index: AnyIndex) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable

    # -- data -------------------------------------------------------------------------------

    def display(self, node: Node, column: int) -> str:
        def money(value: Decimal | None) -> str:
            return "" if value is None else money_text(value)

        if column == self.COL_LINE:
            return node.label
        if column == self.COL_BUDGET:
            return money(node.budget)
        if column == self.COL_COST:
            return money(node.cost)
        if column == self.COL_BILLABLE:
            return money(node.billable)
        if column == self.COL_BILLED:
            return money(node.billed)
        if column == self.COL_COLLECTED:
            return money(node.collected)
        if column == self.COL_REMAINING:
            return money(node.remaining)
        if column == self.COL_USED:
            return percent_text(node.percent_used, "—" if node.kind == "line" else "")
        return ""

    def tooltip(self, node: Node) -> str | None:
        if node.over_budget and node.kind == "line":
            return f"{node.label} is over its budget."
        if node.over_budget:
            return "A line below is over its budget."
        if node.unbudgeted and node.kind == "line":
            return "Spent or billed with no budget line for it."
        if node.unbudgeted:
            return "A line below has spending with no budget for it."
        return None

    def foreground(self, node: Node, column: int) -> QColor | None:
        # A line over budget is red throughout; a project or section holding one, by its name.
        if node.over_budget and (node.kind == "line" or column == self.COL_LINE):
            return ERROR_COLOR
        if node.unbudgeted and (node.kind == "line" or column == self.COL_LINE):
            return WARNING_COLOR
        if column in (self.COL_COST, self.COL_BILLABLE) and node.cost is None:
            return MUTED_COLOR
        return None

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        node = self.node(index)
        if node is None:
            return None
        column = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return self.display(node, column)
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return LEFT if column == self.COL_LINE else RIGHT
        if role == Qt.ItemDataRole.ForegroundRole:
            color = self.foreground(node, column)
            return QBrush(color) if color is not None else None
        if role == Qt.ItemDataRole.FontRole and (node.kind != "line" or node.over_budget):
            font = QFont()
            font.setBold(True)
            return font
        if role == Qt.ItemDataRole.ToolTipRole:
            return self.tooltip(node)
        if role == NodeRole:
            return node
        return None


# --- the tab ---------------------------------------------------------------------------------


class ProjectsView(QWidget):
    """The Projects tab. `attach_runner()` hands it the window's worker."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.runner: JobRunner | None = None
        self.job: ProjectFinancialsJob | None = None
        self.stale = True
        self._basis: tuple[object, object, object] = (None, None, None)
        self.model = ProjectFinancialsModel(self)
        self.view = make_tree(self.model, stretch_last=False)
        self.summary = QLabel("Reading the project budgets…")
        self.summary.setTextFormat(Qt.TextFormat.PlainText)
        self.summary.setWordWrap(True)
        self.attention_only = QCheckBox("Only projects over budget or with unbudgeted spending")
        self.attention_only.toggled.connect(self._filter)
        controls = QHBoxLayout()
        controls.addWidget(self.attention_only)
        controls.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 12, 12, 12)
        layout.setSpacing(8)
        layout.addWidget(self.summary)
        layout.addLayout(controls)
        layout.addWidget(self.view, 1)
        layout.addWidget(
            muted_label(
                "Fees: budget, billed and collected per service. Expenses and sub-consultants: "
                "budget, cost, billable (with markup) and billed per category. Over budget in "
                "red, spending without a budget line in orange. The same figures as "
                "`factor-desktop report projects`."
            )
        )
        self._fitted = False

    def attach_runner(self, runner: JobRunner) -> None:
        self.runner = runner
        runner.snapshotReady.connect(self._snapshot_ready)
        # Any job that writes makes the figures stale.
        runner.jobFinished.connect(self._job_finished)

    def load(self) -> ProjectFinancialsJob | None:
        """Read the figures on the worker (unless a read is already queued)."""
        if self.runner is None:
            return None
        if self.job is not None:
            self.stale = True
            return self.job
        if self.runner.stopped:  # the window is closing: its worker takes no more jobs
            return None
        job = ProjectFinancialsJob()
        spawn(self._loaded(self.runner.run(job)))
        self.stale = False
        self.job = job
        return job

    @Slot(object)
    def _snapshot_ready(self, snapshot: object) -> None:
        # The budgets are read again only when something they depend on may have changed:
        # a job that writes (an import, a sync, an invoice action), or invoices, expenses,
        # clients and projects that differ from the last snapshot's (another process wrote).
        basis = (
            getattr(snapshot, "invoices", None),
            getattr(snapshot, "expenses", None),
            getattr(snapshot, "clients", None),
        )
        if basis != self._basis:
            self._basis = basis
            # A read already on its way was queued after this snapshot's, on the same worker
            # that runs jobs in order, so it sees at least what this snapshot saw.
            if self.job is None:
                self.stale = True
        if not self.stale:
            return
        if self.isVisible():
            self.load()

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if self.stale:
            self.load()

    @Slot(object)
    def _job_finished(self, outcome: JobOutcome) -> None:
        if outcome.kind not in READ_ONLY_JOBS:
            self.stale = True

    async def _loaded(self, running: Awaitable[JobOutcome]) -> None:
        outcome = await running
        self.job = None
        if outcome.error is not None:
            self.summary.setText(f"The project budgets could not be read: {outcome.error}")
        elif outcome.ok:
            self.show_projects(outcome.result)
        if self.stale and self.isVisible():
            self.load()

    def show_projects(self, projects: Sequence[ProjectFinancials]) -> None:
        if self.model.set_projects(projects):
            self._expand()
            self._filter()
            if not self._fitted and projects:
                fit_columns(self.view, maximum=300)
                self._fitted = True
        over = sum(1 for p in projects if any(line.over_budget for line in p.lines))
        unbudgeted = sum(1 for p in projects if any(line.unbudgeted for line in p.lines))
        if not projects:
            self.summary.setText("No projects yet.")
            return
        text = f"{len(projects)} project{'s' if len(projects) != 1 else ''}"
        text += f": {over} over budget" if over else ": none over budget"
        if unbudgeted:
            text += f", {unbudgeted} with spending outside the budget"
        self.summary.setText(text + ".")

    def _expand(self) -> None:
        """Open the projects that need a look (over budget, unbudgeted spending) down to their
        lines; the others show their totals until opened. With none, the first is opened."""
        model = self.model
        flagged = [
            row
            for row, node_id in enumerate(model.top)
            if model.nodes[node_id].over_budget or model.nodes[node_id].unbudgeted
        ]
        for row in flagged or ([0] if model.top else []):
            index = model.index(row, 0)
            self.view.expand(index)
            for section in range(model.rowCount(index)):
                self.view.expand(model.index(section, 0, index))

    @Slot()
    def _filter(self) -> None:
        only = self.attention_only.isChecked()
        for row, node_id in enumerate(self.model.top):
            node = self.model.nodes[node_id]
            hide = only and not (node.over_budget or node.unbudgeted)
            self.view.setRowHidden(row, QModelIndex(), hide)
