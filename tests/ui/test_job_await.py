"""Awaiting a worker job from a coroutine on the window's qasync loop."""

from __future__ import annotations

import asyncio
import logging
import threading
from typing import Any

import pytest
from PySide6.QtWidgets import QApplication

from factor_desktop.store.models import Client
from factor_desktop.ui.jobs import Job, JobEnv, JobRunner, Report, SnapshotJob, spawn
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


def test_job_finished_follows_the_coroutine_that_awaited_the_job(
    qasync_loop: asyncio.AbstractEventLoop, runner: JobRunner
) -> None:
    seen: list[str] = []
    runner.jobFinished.connect(lambda outcome: seen.append(f"finished {outcome.kind}"))

    async def ask() -> None:
        outcome = await runner.run(WhereJob())
        seen.append(f"handled {outcome.kind}")

    async def flow() -> None:
        await spawn(ask())
        while len(seen) < 2:
            await asyncio.sleep(0.01)

    qasync_loop.run_until_complete(asyncio.wait_for(flow(), timeout=20))
    assert seen[:2] == ["handled where", "finished where"]


def test_spawn_logs_what_a_coroutine_raises(
    qasync_loop: asyncio.AbstractEventLoop, caplog: pytest.LogCaptureFixture
) -> None:
    async def broken() -> None:
        raise ValueError("the outcome could not be shown")

    async def flow() -> None:
        task = spawn(broken())
        with pytest.raises(ValueError):
            await task

    with caplog.at_level(logging.ERROR, logger="factor_desktop.ui.jobs"):
        qasync_loop.run_until_complete(asyncio.wait_for(flow(), timeout=20))
    [record] = [r for r in caplog.records if r.name == "factor_desktop.ui.jobs"]
    assert "broken failed" in record.getMessage()
    # The traceback goes with it (the log file's redaction, when installed, keeps it as text).
    traceback = record.exc_text or (
        logging.Formatter().formatException(record.exc_info) if record.exc_info else ""
    )
    assert "ValueError: the outcome could not be shown" in traceback


def test_shutting_the_runner_down_cancels_what_still_awaits_a_job(
    qasync_loop: asyncio.AbstractEventLoop, runner: JobRunner
) -> None:
    gate = threading.Event()

    class Blocking(Job):
        kind = "blocking"

        def run(self, env: JobEnv, report: Report) -> None:
            gate.wait(10)

    job = Blocking()

    async def flow() -> asyncio.Task[None]:
        async def waits() -> None:
            await runner.run(job)

        task = spawn(waits())
        await asyncio.sleep(0.1)
        gate.set()
        runner.shutdown()
        with pytest.raises(asyncio.CancelledError):
            await task
        return task

    task = qasync_loop.run_until_complete(asyncio.wait_for(flow(), timeout=20))
    assert task.cancelled() and job.cancelled
