"""A pull commits a page of records at a time: what a crash or a cancel mid-page leaves, what a
record that fails leaves, and how much work each record costs."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import event, func, select

from factor_desktop.store.models import ChangeCursor, Expense, QboRecord, SyncLogEntry
from factor_desktop.sync.context import SyncCancelled, SyncContext
from factor_desktop.sync.pull import WAITING, pull_changes
from factor_desktop.sync.pull import run as pull_run
from factor_desktop.sync.reference import refresh_reference

from .pull_fixtures import PullRig
from .pull_fixtures import bare_rig_fixture as bare_rig_fixture
from .pull_fixtures import demo_firm_db_fixture as demo_firm_db_fixture
from .pull_fixtures import rig_fixture as rig_fixture

BOTH = [refresh_reference, pull_changes]
PAGE = 4


@pytest.fixture(autouse=True)
def small_pages(monkeypatch: pytest.MonkeyPatch) -> None:
    """Pages of a few records, so the demo company spans several."""
    monkeypatch.setattr(pull_run, "PAGE", PAGE)


def _add_purchases(rig: PullRig, count: int, *, project: str = "Tasting Room & Cellar") -> None:
    account = rig.qbo_id("Account", "Name", "Travel")
    bank = rig.qbo_id("Account", "Name", "Checking")
    customer = rig.customer(project)["Id"]
    for n in range(count):
        rig.qbo.create(
            "Purchase",
            {
                "PaymentType": "Cash",
                "AccountRef": {"value": bank},
                "Line": [
                    {
                        "Amount": 10 + n,
                        "Description": f"Taxi {n}",
                        "DetailType": "AccountBasedExpenseLineDetail",
                        "AccountBasedExpenseLineDetail": {
                            "AccountRef": {"value": account},
                            "CustomerRef": {"value": customer},
                            "BillableStatus": "Billable",
                        },
                    }
                ],
            },
        )


def _expense_lines(rig: PullRig) -> tuple[int, int]:
    """How many expenses the store holds, and from how many distinct QuickBooks lines."""
    with rig.store.session() as session:
        total = session.scalar(select(func.count()).select_from(Expense)) or 0
        distinct = (
            session.scalar(
                select(func.count()).select_from(
                    select(Expense.qbo_txn_type, Expense.qbo_id, Expense.qbo_line_id)
                    .distinct()
                    .subquery()
                )
            )
            or 0
        )
        return total, distinct


def _created_entries(rig: PullRig) -> list[str]:
    with rig.store.session() as session:
        return list(
            session.scalars(
                select(SyncLogEntry.label).where(
                    SyncLogEntry.entity_kind == "expense", SyncLogEntry.action == "created"
                )
            )
        )


def _cursor(rig: PullRig, entity: str) -> Any:
    with rig.store.session() as session:
        cursor = session.get(ChangeCursor, entity)
        return None if cursor is None else cursor.changed_since


class _PowerCut(Exception):
    """The machine stops in the middle of a pass."""


@contextmanager
def _stop_after(rig: PullRig, inserts: int, stop: Any) -> Iterator[None]:
    """Call `stop()` when the pass has written `inserts` expenses (in the database's view)."""
    seen = 0

    def watch(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        nonlocal seen
        if statement.lstrip().upper().startswith("INSERT INTO EXPENSES"):
            seen += 1
            if seen == inserts:
                stop()

    event.listen(rig.store.engine, "before_cursor_execute", watch)
    try:
        yield
    finally:
        event.remove(rig.store.engine, "before_cursor_execute", watch)


def test_a_crash_mid_page_loses_the_page_only_and_the_next_pass_brings_every_line_once(
    rig: PullRig,
) -> None:
    _add_purchases(rig, 9)
    rig.sync_pass([refresh_reference])

    def power_cut() -> None:
        raise _PowerCut

    # The sixth expense written is in the second page of Bills/Purchases: the first page stays.
    with _stop_after(rig, 6, power_cut), pytest.raises(_PowerCut):
        rig.sync_pass([pull_changes])
    kept, distinct = _expense_lines(rig)
    assert kept == distinct and kept < 6  # the page being applied is gone, with its log
    assert kept == len(_created_entries(rig))
    assert _cursor(rig, "Purchase") is None and _cursor(rig, "Bill") is None

    ctx = rig.sync_pass([pull_changes])
    total, distinct = _expense_lines(rig)
    assert total == distinct == 13 + 9  # the demo's lines on linked, mapped projects, and ours
    assert ctx.counts["created"] >= total - kept
    assert _cursor(rig, "Purchase") == ctx.now

    # Each expense's log entry names it, though the expenses of a page are written together.
    with rig.store.session() as session:
        named = list(
            session.scalars(
                select(SyncLogEntry.local_id).where(
                    SyncLogEntry.entity_kind == "expense", SyncLogEntry.action == "created"
                )
            )
        )
        ids = list(session.scalars(select(Expense.id)))
    assert sorted(i for i in named if i is not None) == sorted(ids) and None not in named

    again = rig.sync_pass([pull_changes])
    assert _expense_lines(rig) == (total, distinct)
    assert again.counts.get("created", 0) == 0 and again.counts.get("updated", 0) == 0


def test_a_cancel_mid_page_keeps_the_pages_committed_and_the_next_pass_finishes(
    rig: PullRig,
) -> None:
    _add_purchases(rig, 9)
    rig.sync_pass([refresh_reference])
    contexts: list[SyncContext] = []

    def step(ctx: SyncContext) -> None:
        contexts.append(ctx)
        pull_changes(ctx)

    with _stop_after(rig, 7, lambda: contexts[0].cancel.set()), pytest.raises(SyncCancelled):
        rig.sync_pass([step])
    kept, _ = _expense_lines(rig)
    assert 0 < kept < 13 + 9

    rig.sync_pass([pull_changes])
    assert _expense_lines(rig) == (13 + 9, 13 + 9)


def test_a_record_quickbooks_sent_unreadable_fails_alone_in_its_page(rig: PullRig) -> None:
    _add_purchases(rig, 6)
    broken = rig.purchase_for("Taxi 2")
    company = rig.sandbox.sandbox.company
    record = company.record("Purchase", str(broken["Id"]))
    assert record is not None
    record.doc["TxnDate"] = "the day after tomorrow"
    company.ctx().save(record)

    ctx = rig.sync_pass(BOTH)
    with rig.store.session() as session:
        taxis = set(
            session.scalars(select(Expense.description).where(Expense.description.like("Taxi %")))
        )
        failed = list(
            session.scalars(
                select(SyncLogEntry).where(
                    SyncLogEntry.action == "failed", SyncLogEntry.entity_kind == "purchase"
                )
            )
        )
        waiting = set(
            session.scalars(
                select(QboRecord.qbo_id).where(
                    QboRecord.kind == WAITING, QboRecord.entity == "Purchase"
                )
            )
        )
    assert taxis == {f"Taxi {n}" for n in range(6)} - {"Taxi 2"}
    assert len(failed) == 1 and failed[0].qbo_id == broken["Id"]
    assert "not a date" in str(failed[0].reason)
    assert broken["Id"] in waiting
    assert ctx.counts["failed"] == 1
    assert _expense_lines(rig)[0] == 13 + 5


def test_work_per_line_is_bounded(rig: PullRig) -> None:
    """Each further expense line costs the same few SQL statements, however many a pass brings:
    the line's own (the service's look-up, the expense, its log entry) and its share of its page
    (the page's expenses read at once, its savepoint, its commit). Mappings, links, standing log
    entries and waiting records are read once per pass."""
    rig.sync_pass(BOTH)

    def work_for(count: int) -> tuple[int, int]:
        _add_purchases(rig, count, project="Riverside Elementary Addition")
        # Past the overlap, so that the next pass reads only what is added for it.
        rig.sandbox.advance_clock(400)
        statements = commits = 0

        def statement(*_args: Any) -> None:
            nonlocal statements
            statements += 1

        def commit(*_args: Any) -> None:
            nonlocal commits
            commits += 1

        event.listen(rig.store.engine, "before_cursor_execute", statement)
        event.listen(rig.store.engine, "commit", commit)
        try:
            ctx = rig.sync_pass([pull_changes])
        finally:
            event.remove(rig.store.engine, "before_cursor_execute", statement)
            event.remove(rig.store.engine, "commit", commit)
        assert ctx.counts["created"] == count
        return statements, commits

    (few, few_commits), (many, many_commits) = work_for(8), work_for(24)
    assert (many - few) / 16 <= 3 + 3 / PAGE, (many - few) / 16
    assert many_commits - few_commits == 16 / PAGE


def test_a_blocked_line_names_the_account_it_waits_for(rig: PullRig) -> None:
    rig.sync_pass(BOTH)
    mileage = rig.qbo_id("Account", "Name", "Mileage")
    with rig.store.session() as session:
        details = [
            entry.detail
            for entry in session.scalars(
                select(SyncLogEntry).where(SyncLogEntry.action == "blocked")
            )
        ]
    assert details and all(
        detail is not None
        and detail["account_id"] == mileage
        and detail["account_name"] == "Mileage"
        for detail in details
    )
