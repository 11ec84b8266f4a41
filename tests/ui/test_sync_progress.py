"""A long push in the progress area: records counted from the outbox, and the time left."""

from __future__ import annotations

import sys
import threading
import time
import uuid
from typing import Any

import pytest
from sqlalchemy import update

from factor_desktop.app import AppContext
from factor_desktop.store.models import OutboxItem
from factor_desktop.ui.application import GIL_SWITCH_INTERVAL_S, make_application
from factor_desktop.ui.job_types import OutboxCounter, pending_outbox
from factor_desktop.ui.status_bar import ProgressArea

pytestmark = pytest.mark.gui


def queue_invoices(ctx: AppContext, count: int) -> list[int]:
    with ctx.store.session() as s:
        rows = [
            OutboxItem(
                entity_kind="invoice",
                local_id=n + 1,
                operation="create",
                request_id=str(uuid.uuid4()),
            )
            for n in range(count)
        ]
        s.add_all(rows)
        s.flush()
        return [row.id for row in rows]


def settle(ctx: AppContext, ids: list[int], status: str) -> None:
    with ctx.store.session() as s:
        s.execute(update(OutboxItem).where(OutboxItem.id.in_(ids)).values(status=status))


def test_the_counter_follows_the_outbox_as_a_pass_commits(qtbot: Any, ctx: AppContext) -> None:
    ids = queue_invoices(ctx, 40)
    assert pending_outbox(ctx.store) == 40
    seen: list[int] = []
    threads: set[int] = set()

    def counted(sent: int) -> None:
        threads.add(threading.get_ident())
        seen.append(sent)

    counter = OutboxCounter(ctx.store, 40, counted, interval=0.01).start()
    try:
        settle(ctx, ids[:5], "done")
        qtbot.waitUntil(lambda: 5 in seen, timeout=5_000)
        # Blocked and failed records are dealt with too: the pass has moved past them.
        settle(ctx, ids[5:30], "done")
        settle(ctx, ids[30:35], "blocked")
        settle(ctx, ids[35:], "failed")
        qtbot.waitUntil(lambda: seen[-1] == 40, timeout=5_000)
    finally:
        counter.stop()
    assert seen == sorted(seen), "the count only grows"
    assert len(seen) == len(set(seen)), "a count is reported when it changes"
    assert threading.get_ident() not in threads


def test_the_progress_area_counts_records_and_says_the_time_left(qtbot: Any) -> None:
    area = ProgressArea()
    qtbot.addWidget(area)
    start = time.monotonic()
    area.start("Syncing with QuickBooks…")
    area.report("Linking clients and projects", 1, 4, now=start + 2, sent=0, queued=10_000)
    assert area.text().startswith("2 of 4 · Linking clients and projects")

    area.report("Sending invoices", 2, 4, now=start + 10, sent=1_000, queued=10_000)
    assert area.text() == "1,000 of 10,000 sent · Sending invoices"
    assert (area.bar.maximum(), area.bar.value()) == (10_000, 1_000)

    # A thousand a minute since the first were seen sent: 8,000 left take eight minutes.
    area.report("Sending invoices", 2, 4, now=start + 70, sent=2_000, queued=10_000)
    assert area.text() == "2,000 of 10,000 sent · Sending invoices · about 8 min left"

    # The next step has begun before the last count came in: the steps count again.
    area.report("Receiving payments and expenses", 3, 4, now=start + 590, sent=9_980, queued=10_000)
    assert area.text().startswith("4 of 4 · Receiving payments and expenses")
    # Every record dealt with: the steps count too.
    area.report(
        "Receiving payments and expenses", 3, 4, now=start + 600, sent=10_000, queued=10_000
    )
    assert area.text().startswith("4 of 4 · Receiving payments and expenses")
    assert (area.bar.maximum(), area.bar.value()) == (4, 3)


def test_the_window_waits_at_most_a_millisecond_for_the_gil(qapp: Any) -> None:
    """While the worker runs a pass, each Python call of a paint waits for the worker to let
    go of the GIL; the app shortens Python's 5 ms default."""
    previous = sys.getswitchinterval()
    sys.setswitchinterval(0.005)
    try:
        assert make_application() is qapp
        assert sys.getswitchinterval() == pytest.approx(GIL_SWITCH_INTERVAL_S)
    finally:
        sys.setswitchinterval(previous)
