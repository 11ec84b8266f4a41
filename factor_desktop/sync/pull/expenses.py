"""Expenses: the lines of QuickBooks Purchases and Bills booked to Factor's projects.

Each expense line (account- or item-based) booked to a customer linked to a Factor project
becomes an Expense through `save_qbo_expense`, which applies the expense type's markup and
billable rule; the type is the one mapped to the line's account (`expense_type`) or item
(`expense_type_item`). BillableStatus "NotBillable" or "HasBeenBilled" (billed to the client in
QuickBooks already) makes the expense not billable; otherwise the type decides. A credit-card
credit is a negative cost. Lines booked to a customer not linked to a project are skipped
(`expense_lines_unlinked`, an info entry once per customer); lines with no customer are not
project costs (`expense_lines_without_customer`). A line whose account or item is not mapped is
blocked: a warning (one per transaction and account or item; the `blocked` count is per line)
names it and asks for it to be mapped on the Mappings tab. A line's project is its ProjectRef
(line or transaction) when that names a linked project, else its CustomerRef. Deleted
transactions and removed lines (or lines moved to a customer not linked) mark their expenses
`deleted_in_qbo`; nothing is deleted, and an expense already billed gets a warning. A change
QuickBooks makes to an expense already billed is refused by `save_qbo_expense` (logged, the
transaction waits until the expense is unbilled).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from factor_desktop.domain.money import format_money
from factor_desktop.qbo.client import JsonDict
from factor_desktop.services.errors import Change, Saved, ServiceError
from factor_desktop.services.expenses import (
    ExpenseInput,
    billing_invoice,
    record_expense,
    save_qbo_expense,
)
from factor_desktop.store.models import Expense, ExpenseType, Project
from factor_desktop.sync.pull.common import (
    ACCOUNT_LINE,
    ITEM_LINE,
    BadData,
    read_date,
    read_id,
    read_money,
    read_text,
)
from factor_desktop.sync.pull.core import PullPass
from factor_desktop.sync.pull.waiting import forget, remember
from factor_desktop.sync.reference import is_deleted, ref_value


@dataclass
class _Line:
    """An expense line of a Purchase or Bill, as far as Factor is concerned."""

    line_id: str
    detail_type: str
    detail: JsonDict
    raw: JsonDict


def _txn_label(p: PullPass, entity: str, row: JsonDict) -> str:
    payee_ref = row.get("EntityRef") if entity == "Purchase" else row.get("VendorRef")
    payee = p.name_of("Vendor", payee_ref)
    number = row.get("DocNumber") or row.get("Id")
    return f"{entity} {number}" + (f" · {payee}" if payee else "")


def apply_expense_txn(p: PullPass, entity: str, row: JsonDict) -> None:
    txn_id = read_id(row)
    if is_deleted(row):
        _expense_txn_deleted(p, entity, txn_id)
        return
    label = _txn_label(p, entity, row)
    payee_ref = row.get("EntityRef") if entity == "Purchase" else row.get("VendorRef")
    vendor = p.name_of("Vendor", payee_ref)
    incurred_on = read_date(row.get("TxnDate"), f"a date for {label}")
    credit = entity == "Purchase" and row.get("Credit") is True
    note = read_text(row.get("PrivateNote"), 4000)
    token = row.get("SyncToken")
    txn_project = ref_value(row.get("ProjectRef"))

    lines: list[_Line] = []
    for raw in row.get("Line") or []:
        if not isinstance(raw, dict):
            continue
        detail_type = raw.get("DetailType")
        if detail_type not in (ACCOUNT_LINE, ITEM_LINE):
            continue
        detail = raw.get(detail_type)
        if raw.get("Id") in (None, "") or not isinstance(detail, dict):
            raise BadData(f"{label} has an expense line QuickBooks sent without its detail.")
        lines.append(_Line(str(raw["Id"]), str(detail_type), detail, raw))

    stored = {expense.qbo_line_id for expense in p.expenses_of(entity, txn_id)}
    waiting = False
    kept_lines: set[str] = set()  # lines whose expense stays as it is or was just saved
    for line in lines:
        # The project a line is for: QuickBooks's ProjectRef (line or transaction) when it
        # names a linked project, else the line's customer (a sub-customer or project).
        customer_ref = line.detail.get("CustomerRef")
        candidates = [ref_value(line.raw.get("ProjectRef")), txn_project]
        candidates.append(ref_value(customer_ref))
        known = [c for c in candidates if c is not None]
        linked = [c for c in known if p.project(c) is not None]
        customer_id = linked[0] if linked else ref_value(customer_ref) or next(iter(known), None)
        if customer_id is None:
            p.ctx.counts["expense_lines_without_customer"] += 1
            continue
        project = p.project(customer_id)
        if project is None:
            p.ctx.counts["expense_lines_unlinked"] += 1
            _unlinked_customer(p, customer_id, customer_ref)
            waiting = True
            continue
        expense_type_id = _expense_type(p, entity, txn_id, label, line)
        if expense_type_id is None:
            kept_lines.add(line.line_id)
            waiting = True
            continue
        cost = read_money(line.raw.get("Amount"), f"an amount for {label} line {line.line_id}")
        data = ExpenseInput(
            project_id=project.id,
            expense_type_id=expense_type_id,
            incurred_on=incurred_on,
            cost=-cost if credit else cost,
            vendor=read_text(vendor, 200),
            description=read_text(line.raw.get("Description"), 4000) or note or "",
            # Already billed to the client in QuickBooks: billing it again here would
            # charge the client twice.
            billable=False
            if line.detail.get("BillableStatus") in ("NotBillable", "HasBeenBilled")
            else None,
            source="qbo",
            qbo_txn_type=entity,
            qbo_id=txn_id,
            qbo_line_id=line.line_id,
            qbo_sync_token=str(token) if token is not None else None,
        )
        kept_lines.add(line.line_id)
        new = line.line_id not in stored
        if not _save_expense(p, entity, txn_id, label, line, project, data, new=new, credit=credit):
            waiting = True
            continue
        stored.add(line.line_id)
        p.resolve("customer", customer_id, ("skipped",))

    present = {line.line_id for line in lines}
    for expense in p.expenses_of(entity, txn_id):
        if expense.qbo_line_id in kept_lines or expense.deleted_in_qbo:
            continue
        gone = expense.qbo_line_id not in present
        _mark_deleted(
            p,
            expense,
            label,
            "Its line was deleted in QuickBooks."
            if gone
            else "Its line is no longer booked to a project linked to Factor.",
        )
    if waiting:
        remember(p, entity, row, label)
    else:
        forget(p, entity, txn_id)
        p.resolve(entity.lower(), txn_id, ("blocked", "failed"))


def _expense_type(p: PullPass, entity: str, txn_id: str, label: str, line: _Line) -> int | None:
    """The expense type mapped to the line's account or item; None (and a blocked entry)
    when there is none."""
    if line.detail_type == ACCOUNT_LINE:
        kind, what, ref = "expense_type", "account", line.detail.get("AccountRef")
        cache_entity = "Account"
    else:
        kind, what, ref = "expense_type_item", "item", line.detail.get("ItemRef")
        cache_entity = "Item"
    qbo_id = ref_value(ref)
    if qbo_id is None:
        raise BadData(f"{label} line {line.line_id} names no {what}.")
    candidates = p.mapped(kind, qbo_id)
    if len(candidates) == 1:
        return candidates[0]
    name = p.name_of(cache_entity, ref) or f"{what} {qbo_id}"
    if len(candidates) > 1:
        types = sorted(
            t.name
            for t in p.session.scalars(select(ExpenseType).where(ExpenseType.id.in_(candidates)))
        )
        reason = (
            f"The QuickBooks {what} '{name}' stands for several expense types "
            f"({', '.join(types)}), so this expense can't be placed. Book it to an "
            "expense account in QuickBooks, or map the item to one expense type."
        )
    else:
        reason = (
            f"The QuickBooks {what} '{name}' is not mapped to a Factor expense type, so "
            f"this expense can't be brought in. Map the {what} to an expense type on the "
            "Mappings tab; the next sync then brings the expense in."
        )
    p.note(
        entity_kind=entity.lower(),
        label=label,
        action="blocked",
        level="warning",
        reason=reason,
        qbo_id=txn_id,
        detail={f"{what}_id": qbo_id, f"{what}_name": name, "line_id": line.line_id},
        once=True,
    )
    return None


def _unlinked_customer(p: PullPass, customer_id: str, ref: Any) -> None:
    name = p.name_of("Customer", ref) or f"customer {customer_id}"
    p.note(
        entity_kind="customer",
        label=name,
        action="skipped",
        reason=(
            f"The QuickBooks customer '{name}' is not linked to a Factor project, so the "
            "expenses booked to it are not brought in. Link a project to it and the next "
            "sync brings them in."
        ),
        qbo_id=customer_id,
        once=True,
    )


#: Expense dates outside these are flagged for review (applied all the same).
REVIEW_EARLIEST = date(1990, 1, 1)
REVIEW_AHEAD = timedelta(days=365)


def _save_expense(
    p: PullPass,
    entity: str,
    txn_id: str,
    label: str,
    line: _Line,
    project: Project,
    data: ExpenseInput,
    *,
    new: bool,
    credit: bool = False,
) -> bool:
    """Save one expense line; False when it was refused (logged, to be tried again).

    `new`: the transaction has no expense for this line yet. It is recorded without a savepoint
    (the service refuses a line before it changes anything) and written with the rest of its
    page; an expense already stored is brought up to date in a savepoint of its own, so a
    refused change leaves it as it was.
    """
    line_label = f"{label} line {line.line_id} → {project.number}"
    try:
        if new:
            # Its log entry gets the expense's id when the page is written.
            expense = record_expense(p.session, data, known_new=True, flush=False)
            saved = Saved(expense, Change.CREATED)
            p.expense_added(expense)
        else:
            with p.session.begin_nested():
                saved = save_qbo_expense(p.session, data)
    except ServiceError as error:
        p.note(
            entity_kind=entity.lower(),
            label=line_label,
            action="failed",
            level="warning",
            reason=error.message,
            qbo_id=txn_id,
            detail={"line_id": line.line_id},
            once=True,
        )
        return False
    expense = saved.record
    change = saved.change
    if expense.deleted_in_qbo:
        expense.deleted_in_qbo = False
        change = Change.UPDATED
    if change is not Change.UNCHANGED:
        p.note(
            entity_kind="expense",
            label=f"{line_label} · {format_money(expense.cost)}",
            action=change.value,
            local_id=expense.id,
            local_record=expense,
            qbo_id=txn_id,
            detail={
                "txn_type": entity,
                "line_id": line.line_id,
                "cost": str(expense.cost),
                "markup_percent": (
                    None if expense.markup_percent is None else str(expense.markup_percent)
                ),
                "billable_amount": str(expense.billable_amount),
                "billable": expense.billable,
            },
        )
        _review(p, txn_id, line_label, expense, credit=credit)
    return True


def _review(p: PullPass, txn_id: str, line_label: str, expense: Expense, *, credit: bool) -> None:
    """An amount or date outside reason is applied, and flagged for the administrator's review."""
    reasons: list[str] = []
    if expense.cost < 0 and not credit:
        reasons.append(f"its cost is negative ({format_money(expense.cost)})")
    ceiling = p.ctx.settings.expense_review_ceiling
    if ceiling and abs(expense.cost) > ceiling:
        reasons.append(
            f"its cost, {format_money(expense.cost)}, is above the review amount "
            f"({format_money(Decimal(ceiling))}, in Settings)"
        )
    if expense.incurred_on < REVIEW_EARLIEST:
        reasons.append(f"its date, {expense.incurred_on.isoformat()}, is before 1990")
    elif expense.incurred_on > p.ctx.now.date() + REVIEW_AHEAD:
        reasons.append(f"its date, {expense.incurred_on.isoformat()}, is more than a year ahead")
    if not reasons:
        return
    p.note(
        entity_kind="expense",
        label=f"{line_label} · {format_money(expense.cost)}",
        action="review",
        level="warning",
        reason=(
            "Brought in, but worth a look: "
            + "; ".join(reasons)
            + ". If it is a mistake, correct it in QuickBooks and the next sync takes the change."
        ),
        local_id=expense.id,
        local_record=expense,
        qbo_id=txn_id,
        once=True,
    )


def _mark_deleted(p: PullPass, expense: Expense, label: str, why: str) -> None:
    expense.deleted_in_qbo = True
    p.session.flush()
    invoice = billing_invoice(p.session, expense.id)
    line_label = f"{label} line {expense.qbo_line_id} → {expense.project.number}"
    line_label += f" · {format_money(expense.cost)}"
    if invoice is not None:
        p.note(
            entity_kind="expense",
            label=line_label,
            action="deleted",
            level="warning",
            reason=(
                f"{why} The expense is already billed on invoice "
                f"{invoice.number or '(draft)'}; it is kept and marked as removed in "
                "QuickBooks. Review that invoice."
            ),
            local_id=expense.id,
            qbo_id=expense.qbo_id,
        )
    else:
        p.note(
            entity_kind="expense",
            label=line_label,
            action="deleted",
            reason=f"{why} The expense is kept and marked as removed in QuickBooks.",
            local_id=expense.id,
            qbo_id=expense.qbo_id,
        )


def _expense_txn_deleted(p: PullPass, entity: str, txn_id: str) -> None:
    for expense in p.expenses_of(entity, txn_id):
        if not expense.deleted_in_qbo:
            label = f"{entity} {txn_id}" + (f" · {expense.vendor}" if expense.vendor else "")
            _mark_deleted(p, expense, label, f"The {entity} was deleted in QuickBooks.")
    forget(p, entity, txn_id)
    p.resolve(entity.lower(), txn_id, ("blocked", "failed"))
