"""Project budgets against actuals: cost, billable, billed and collected per budget line.

A project has budget lines for its services (the fee for each service) and for its expense
categories (sub-consultants such as "Structural", "MEP", "Landscape", and "Reimbursables").
Each line has a key, unique within the project, that actuals are recorded against.

How each figure is made
-----------------------
* cost, billable: the sum of the `CostEntry` amounts recorded against the key (expenses at cost
  and at their billable value after markup; for services, work at cost and at billing rates).
* billed: the sum of the lines of issued invoices (final, partially paid, paid) carrying the key.
  Draft and void invoices bill nothing.
* collected: payments are allocated to invoice lines pro rata. All the payment amounts applied to
  one invoice are added up and split over that invoice's lines in proportion to the line amounts,
  with `money.allocate_pro_rata` (largest remainder: each part within a cent of its exact share,
  the parts adding up exactly to what was applied). Each line's part is collected for its key.
  Invoice lines of kind "other" (for example a tax or a retainer line) take their share of the
  payment like any line, but count for no budget line: their share is reported as
  `other_collected`. Payments applied to an invoice without issued lines in the input are
  reported as `unallocated_collected` rather than lost.
* used: what has consumed the budget. For an expense line it is the billable amount (an expense
  uses its budget as soon as it is incurred, at the value it will be billed at); for a service
  line it is the amount billed (a fee is used as it is invoiced).
* remaining = budget - used (negative when over budget).
* percent_used = used / budget * 100 to one decimal place, rounded half-up; None when the
  budget is zero.
* over_budget: used > budget. A line with a zero budget is therefore over budget as soon as it
  has any use.

Unbudgeted actuals: an actual whose key has no budget line is reported on an extra line with
`unbudgeted=True`, a budget of 0 and `over_budget=True` (spending outside the budget needs
attention whatever its size). Such lines appear only when some amount on them is not zero,
after the budget lines, sorted by key. Their kind is taken from the first actual seen: cost
entries make expense lines; invoice lines keep their own kind. Their label is the first
non-empty label among their actuals, else the key.

Actuals are matched to budget lines by key alone; the budget line's kind decides how "used" is
measured. Negative amounts (credits, refunds, discounts) are added in like any other.
Totals add up every line, unbudgeted lines included; `service_totals` and `expense_totals` do
the same for one kind.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal, get_args

from factor_desktop.domain.money import (
    ZERO,
    allocate_pro_rata,
    percent_of,
    percent_ratio,
    sum_money,
    to_cents,
)
from factor_desktop.domain.status import InvoiceStatus

BudgetKind = Literal["service", "expense"]
"""A budget line covers a service's fee or an expense category."""

BilledKind = Literal["service", "expense", "other"]
"""An invoice line bills a service, an expense, or something outside the budget (tax, retainer)."""

InvoiceRef = int | str
"""How an invoice is identified in the inputs (the store's id)."""

_BUDGET_KINDS: frozenset[str] = frozenset(get_args(BudgetKind))
_BILLED_KINDS: frozenset[str] = frozenset(get_args(BilledKind))


def _check_key(key: object) -> None:
    if not isinstance(key, str) or not key.strip():
        raise ValueError(f"a budget key must be non-empty text, not {key!r}")


# --- inputs -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BudgetLine:
    """A project's budget for one service or one expense category.

    `amount` is taken to the cent and must be zero or more (`ValueError` otherwise);
    `kind` is "service" or "expense"; `key` identifies the line and must be non-empty.
    """

    key: str
    kind: BudgetKind
    label: str
    amount: Decimal

    def __post_init__(self) -> None:
        _check_key(self.key)
        if self.kind not in _BUDGET_KINDS:
            raise ValueError(f"a budget line is for a 'service' or an 'expense', not {self.kind!r}")
        amount = to_cents(self.amount)
        if amount < 0:
            raise ValueError(f"The budget for {self.label or self.key} can't be negative.")
        object.__setattr__(self, "amount", amount)


@dataclass(frozen=True)
class CostEntry:
    """A cost recorded against a budget key, with its billable value (after any markup).

    Amounts are taken to the cent; negative amounts are credits and refunds.
    """

    key: str
    cost: Decimal
    billable: Decimal
    label: str = ""

    def __post_init__(self) -> None:
        _check_key(self.key)
        object.__setattr__(self, "cost", to_cents(self.cost))
        object.__setattr__(self, "billable", to_cents(self.billable))


@dataclass(frozen=True)
class BilledLine:
    """One line of an invoice: what it bills against a budget key, and the invoice's status.

    Only lines of issued invoices (final, partially paid, paid) count as billed. `amount` is
    the line amount before tax, taken to the cent; negative lines are discounts and credits.
    """

    invoice_id: InvoiceRef
    key: str
    kind: BilledKind
    amount: Decimal
    status: InvoiceStatus
    label: str = ""

    def __post_init__(self) -> None:
        _check_key(self.key)
        if self.kind not in _BILLED_KINDS:
            raise ValueError(
                f"an invoice line kind is 'service', 'expense' or 'other', not {self.kind!r}"
            )
        object.__setattr__(self, "amount", to_cents(self.amount))
        object.__setattr__(self, "status", InvoiceStatus(self.status))


@dataclass(frozen=True)
class AppliedPayment:
    """An amount of a payment applied to an invoice. Taken to the cent."""

    invoice_id: InvoiceRef
    amount: Decimal

    def __post_init__(self) -> None:
        object.__setattr__(self, "amount", to_cents(self.amount))


@dataclass(frozen=True)
class Actuals:
    """What has happened against one budget key."""

    cost: Decimal = ZERO
    billable: Decimal = ZERO
    billed: Decimal = ZERO
    collected: Decimal = ZERO

    def __add__(self, other: Actuals) -> Actuals:
        return Actuals(
            cost=self.cost + other.cost,
            billable=self.billable + other.billable,
            billed=self.billed + other.billed,
            collected=self.collected + other.collected,
        )

    @property
    def is_zero(self) -> bool:
        """True when every figure is zero."""
        return not (self.cost or self.billable or self.billed or self.collected)


# --- outputs ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BudgetFigures:
    """Budget against actuals, for a line or a total. See the module notes for each figure."""

    budget: Decimal
    cost: Decimal
    billable: Decimal
    billed: Decimal
    collected: Decimal
    used: Decimal
    remaining: Decimal
    percent_used: Decimal | None
    over_budget: bool


@dataclass(frozen=True)
class BudgetLineReport(BudgetFigures):
    """One line of the budget report: a budget line, or an unbudgeted key with actuals."""

    key: str
    kind: BudgetKind
    label: str
    unbudgeted: bool


@dataclass(frozen=True)
class ProjectBudgetReport:
    """A project's budget status: per line, totals, and collections outside the budget."""

    lines: tuple[BudgetLineReport, ...]
    totals: BudgetFigures
    service_totals: BudgetFigures
    expense_totals: BudgetFigures
    other_billed: Decimal
    """Billed on issued invoices' "other" lines (not budgeted, e.g. tax)."""
    other_collected: Decimal
    """Payments allocated to "other" lines."""
    unallocated_collected: Decimal
    """Payments applied to invoices with no issued lines in the input."""

    @property
    def over_budget_lines(self) -> tuple[BudgetLineReport, ...]:
        """The lines flagged over budget, in report order."""
        return tuple(line for line in self.lines if line.over_budget)

    def line(self, key: str) -> BudgetLineReport:
        """The report line for `key` (`KeyError` if there is none)."""
        for line in self.lines:
            if line.key == key:
                return line
        raise KeyError(key)


# --- computation --------------------------------------------------------------------------------


@dataclass
class _Tally:
    cost: list[Decimal]
    billable: list[Decimal]
    billed: list[Decimal]
    collected: list[Decimal]
    kind: BudgetKind | None = None
    label: str = ""

    def actuals(self) -> Actuals:
        return Actuals(
            cost=sum_money(self.cost),
            billable=sum_money(self.billable),
            billed=sum_money(self.billed),
            collected=sum_money(self.collected),
        )

    def note(self, kind: BudgetKind, label: str) -> None:
        if self.kind is None:
            self.kind = kind
        if not self.label and label.strip():
            self.label = label.strip()


@dataclass
class _Collected:
    per_key: dict[str, _Tally]
    other_billed: Decimal
    other_collected: Decimal
    unallocated: Decimal


def _tally_actuals(
    expenses: Iterable[CostEntry],
    invoice_lines: Iterable[BilledLine],
    payments_allocations: Iterable[AppliedPayment],
) -> _Collected:
    per_key: dict[str, _Tally] = defaultdict(lambda: _Tally([], [], [], []))
    for entry in expenses:
        tally = per_key[entry.key]
        tally.cost.append(entry.cost)
        tally.billable.append(entry.billable)
        tally.note("expense", entry.label)

    lines_by_invoice: dict[InvoiceRef, list[BilledLine]] = defaultdict(list)
    other_billed: list[Decimal] = []
    for line in invoice_lines:
        if not line.status.is_issued:
            continue
        lines_by_invoice[line.invoice_id].append(line)
        if line.kind == "other":
            other_billed.append(line.amount)
        else:
            tally = per_key[line.key]
            tally.billed.append(line.amount)
            tally.note(line.kind, line.label)

    applied: dict[InvoiceRef, list[Decimal]] = defaultdict(list)
    for payment in payments_allocations:
        applied[payment.invoice_id].append(payment.amount)

    other_collected: list[Decimal] = []
    unallocated: list[Decimal] = []
    for invoice_id, amounts in applied.items():
        total_applied = sum_money(amounts)
        lines = lines_by_invoice.get(invoice_id)
        if not lines:
            unallocated.append(total_applied)
            continue
        parts = allocate_pro_rata(total_applied, [line.amount for line in lines])
        for line, part in zip(lines, parts, strict=True):
            if line.kind == "other":
                other_collected.append(part)
            else:
                per_key[line.key].collected.append(part)

    return _Collected(
        per_key=dict(per_key),
        other_billed=sum_money(other_billed),
        other_collected=sum_money(other_collected),
        unallocated=sum_money(unallocated),
    )


def actuals_by_key(
    expenses: Iterable[CostEntry],
    invoice_lines: Iterable[BilledLine],
    payments_allocations: Iterable[AppliedPayment],
) -> dict[str, Actuals]:
    """Cost, billable, billed and collected per budget key, by the rules in the module notes.

    Keys of "other" invoice lines are not included; see `budget_status` for those.
    """
    collected = _tally_actuals(expenses, invoice_lines, payments_allocations)
    return {key: tally.actuals() for key, tally in collected.per_key.items()}


def _figures(budget: Decimal, actuals: Actuals, used: Decimal, *, flag: bool) -> BudgetFigures:
    return BudgetFigures(
        budget=budget,
        cost=actuals.cost,
        billable=actuals.billable,
        billed=actuals.billed,
        collected=actuals.collected,
        used=used,
        remaining=budget - used,
        percent_used=percent_ratio(used, budget),
        over_budget=flag or used > budget,
    )


def _line_report(
    key: str, kind: BudgetKind, label: str, budget: Decimal, actuals: Actuals, *, unbudgeted: bool
) -> BudgetLineReport:
    used = actuals.billable if kind == "expense" else actuals.billed
    figures = _figures(budget, actuals, used, flag=unbudgeted)
    return BudgetLineReport(**vars(figures), key=key, kind=kind, label=label, unbudgeted=unbudgeted)


def _totals(lines: Sequence[BudgetLineReport]) -> BudgetFigures:
    budget = sum_money(line.budget for line in lines)
    actuals = Actuals(
        cost=sum_money(line.cost for line in lines),
        billable=sum_money(line.billable for line in lines),
        billed=sum_money(line.billed for line in lines),
        collected=sum_money(line.collected for line in lines),
    )
    used = sum_money(line.used for line in lines)
    return _figures(budget, actuals, used, flag=False)


def budget_status(
    budget_lines: Iterable[BudgetLine],
    expenses: Iterable[CostEntry],
    invoice_lines: Iterable[BilledLine],
    payments_allocations: Iterable[AppliedPayment],
) -> ProjectBudgetReport:
    """A project's budget report: each budget line against its actuals, plus totals.

    `budget_lines` are the project's budgets (keys must be unique: `ValueError` otherwise);
    `expenses` the costs recorded against budget keys; `invoice_lines` the lines of the
    project's invoices with their invoice's status; `payments_allocations` the payment amounts
    applied to those invoices. See the module notes for how every figure is made, how payments
    are allocated to lines and how unbudgeted actuals are reported.
    """
    budgets: dict[str, BudgetLine] = {}
    for budget_line in budget_lines:
        if budget_line.key in budgets:
            raise ValueError(f"the budget key {budget_line.key!r} appears more than once")
        budgets[budget_line.key] = budget_line

    collected = _tally_actuals(expenses, invoice_lines, payments_allocations)
    actuals: Mapping[str, Actuals] = {
        key: tally.actuals() for key, tally in collected.per_key.items()
    }

    lines: list[BudgetLineReport] = [
        _line_report(
            b.key, b.kind, b.label, b.amount, actuals.get(b.key, Actuals()), unbudgeted=False
        )
        for b in budgets.values()
    ]
    extra_keys = sorted(
        (k for k, a in actuals.items() if k not in budgets and not a.is_zero),
        key=lambda k: (k.casefold(), k),
    )
    for key in extra_keys:
        tally = collected.per_key[key]
        kind: BudgetKind = tally.kind or "expense"
        lines.append(
            _line_report(key, kind, tally.label or key, ZERO, actuals[key], unbudgeted=True)
        )

    return ProjectBudgetReport(
        lines=tuple(lines),
        totals=_totals(lines),
        service_totals=_totals([line for line in lines if line.kind == "service"]),
        expense_totals=_totals([line for line in lines if line.kind == "expense"]),
        other_billed=collected.other_billed,
        other_collected=collected.other_collected,
        unallocated_collected=collected.unallocated,
    )


def fee_to_bill(fee: Decimal, percent_complete: Decimal, already_billed: Decimal) -> Decimal:
    """Percent-complete fee billing: the fee earned so far less what is already billed.

    The earned fee is `fee` x `percent_complete` % rounded once with the one rounding rule. The
    result is negative when more was billed than earned (the caller then bills nothing).
    """
    return percent_of(fee, percent_complete) - to_cents(already_billed)
