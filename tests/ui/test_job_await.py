"""Awaiting a worker job from a coroutine on the window's qasync loop."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest
from PySide6.QtWidgets import QApplication

from factor_desktop.store.models import Client
from factor_desktop.ui.jobs import Job, JobEnv, JobRunner, Report, SnapshotJob
from factor_desktop.views import Snapshot

pytestmark = pytest.mark.gui


class WhereJob(Job):
    """Reports the thread it runs on, and counts the store's clients there."""

    kind = "where"

    def run(self, env: JobEnv, report: Report) -> tuple[str, int]:
        with env.store.session() as session:
            return threading.current_thread().name, session.query(Client).count()


class FailingJob(Job):
    kind = "failing"
    expected_errors = (LookupError,)

    def run(self, env: JobEnv, report: Report) -> None:
        raise LookupError("No such QuickBooks customer: 58")


def test_a_coroutine_awaits_a_job_and_goes_on_in_the_gui_thread(
    qapp: QApplication, qasync_loop: asyncio.AbstractEventLoop, runner: JobRunner, firm: Any
) -> None:
    async def flow() -> tuple[Any, Any, bool]:
        where = await runner.run(WhereJob())
        back_on_gui_thread = qapp.thread().isCurrentThread()
        snapshot = await runner.run(SnapshotJob())
        return where, snapshot, back_on_gui_thread

    where, snapshot, back_on_gui_thread = qasync_loop.run_until_complete(
        asyncio.wait_for(flow(), timeout=20)
    )
    assert where.ok, where.error
    assert where.kind == "where"
    assert where.result == ("worker", 2)
    assert back_on_gui_thread
    assert snapshot.ok, snapshot.error
    assert isinstance(snapshot.result, Snapshot)


def test_each_await_gets_its_own_job_outcome_including_failures(
    qasync_loop: asyncio.AbstractEventLoop, runner: JobRunner
) -> None:
    async def both() -> list[Any]:
        return list(await asyncio.gather(runner.run(FailingJob()), runner.run(WhereJob())))

    failed, worked = qasync_loop.run_until_complete(asyncio.wait_for(both(), timeout=20))
    assert failed.kind == "failing"
    assert failed.error is not None and "No such QuickBooks customer: 58" in failed.error
    assert worked.kind == "where" and worked.ok
    assert worked.result[1] == 0


def test_cancelling_the_await_cancels_the_job(
    qasync_loop: asyncio.AbstractEventLoop, runner: JobRunner
) -> None:
    gate = threading.Event()

    class Blocking(Job):
        kind = "blocking"

        def run(self, env: JobEnv, report: Report) -> None:
            gate.wait(10)
            self.check_cancelled()

    job = Blocking()

    async def cancel_soon() -> None:
        task = asyncio.ensure_future(runner.run(job))
        await asyncio.sleep(0.1)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    qasync_loop.run_until_complete(asyncio.wait_for(cancel_soon(), timeout=20))
    assert job.cancelled
    gate.set()
