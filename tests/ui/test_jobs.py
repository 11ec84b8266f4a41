"""The job runner: jobs off the GUI thread, one at a time, results as plain data, joined on exit."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from PySide6.QtCore import QObject, Slot

from factor_desktop.app import AppContext
from factor_desktop.services.errors import ServiceError
from factor_desktop.sync.connection import ConnectionService
from factor_desktop.ui.job_types import FinishConnectJob
from factor_desktop.ui.jobs import (
    Job,
    JobEnv,
    JobFailure,
    JobOutcome,
    JobRunner,
    Report,
    SnapshotJob,
    default_env_factory,
    execute,
)
from factor_desktop.views import Snapshot

from .conftest import Firm

pytestmark = pytest.mark.gui


class Receiver(QObject):
    """A GUI-thread object whose slots record where and what they were given."""

    def __init__(self) -> None:
        super().__init__()
        self.threads: list[int] = []
        self.outcomes: list[JobOutcome] = []
        self.snapshots: list[Snapshot] = []

    @Slot(object)
    def on_finished(self, outcome: JobOutcome) -> None:
        self.threads.append(threading.get_ident())
        self.outcomes.append(outcome)

    @Slot(object)
    def on_snapshot(self, snapshot: Snapshot) -> None:
        self.threads.append(threading.get_ident())
        self.snapshots.append(snapshot)


class RecordThread(Job):
    kind = "record"

    def __init__(self, log: list[tuple[str, int]], name: str, gate: threading.Event | None = None):
        super().__init__()
        self.log, self.name, self.gate = log, name, gate

    def run(self, env: JobEnv, report: Report) -> int:
        self.log.append((f"start {self.name}", threading.get_ident()))
        if self.gate is not None:
            self.gate.wait(5)
        self.log.append((f"end {self.name}", threading.get_ident()))
        return threading.get_ident()


class WaitForCancel(Job):
    kind = "wait"

    def __init__(self) -> None:
        super().__init__()
        self.running = threading.Event()

    def run(self, env: JobEnv, report: Report) -> None:
        self.running.set()
        while not self.cancel_event.wait(0.01):
            pass
        self.check_cancelled()


def test_snapshot_job_runs_synchronously(ctx: AppContext, firm: Firm) -> None:
    env = JobEnv(ctx.store, ctx.tokens, ConnectionService(ctx.store, ctx.tokens))
    try:
        outcome = execute(SnapshotJob(), env, lambda payload: None)
    finally:
        env.close()
    assert outcome.ok
    assert isinstance(outcome.result, Snapshot)
    assert {c.name for c in outcome.result.clients} == {
        "Harbor Point Holdings",
        "Willow Creek School District",
    }


def test_errors_cross_as_messages(ctx: AppContext) -> None:
    env = JobEnv(ctx.store, ctx.tokens, ConnectionService(ctx.store, ctx.tokens))
    try:
        outcome = execute(FinishConnectJob("http://localhost/callback?code=x"), env, print)
    finally:
        env.close()
    assert not outcome.ok
    assert outcome.error is not None and "No connection is waiting" in outcome.error
    assert "code=x" not in repr(FinishConnectJob("http://localhost/callback?code=x"))


def test_worker_delivers_a_snapshot_to_the_gui_thread(
    qtbot: Any, runner: JobRunner, firm: Firm
) -> None:
    receiver = Receiver()
    runner.snapshotReady.connect(receiver.on_snapshot)
    runner.jobFinished.connect(receiver.on_finished)
    with qtbot.waitSignal(runner.snapshotReady, timeout=10_000) as blocker:
        job = runner.refresh()
    assert job is not None
    snapshot = blocker.args[0]
    assert isinstance(snapshot, Snapshot)
    assert [i.number for i in snapshot.invoices if i.number] == ["INV-0042"]
    qtbot.waitUntil(lambda: len(receiver.outcomes) == 1)
    assert receiver.outcomes[0].job_id == job.id
    # Every slot ran in the GUI thread, not in the worker.
    assert set(receiver.threads) == {threading.get_ident()}


def test_jobs_run_one_at_a_time_in_order_off_the_gui_thread(qtbot: Any, runner: JobRunner) -> None:
    log: list[tuple[str, int]] = []
    gate = threading.Event()
    first = runner.submit(RecordThread(log, "first", gate))
    second = runner.submit(RecordThread(log, "second"))
    finished: list[int] = []
    runner.jobFinished.connect(lambda outcome: finished.append(outcome.job_id))
    qtbot.waitUntil(lambda: len(log) == 1)
    assert log[0][0] == "start first"
    gate.set()
    qtbot.waitUntil(lambda: second.id in finished, timeout=5_000)
    assert [entry for entry, _ in log] == ["start first", "end first", "start second", "end second"]
    assert threading.get_ident() not in {thread for _, thread in log}
    assert finished.index(first.id) < finished.index(second.id)


def test_a_job_after_another_refreshes_the_snapshot(qtbot: Any, runner: JobRunner) -> None:
    with qtbot.waitSignal(runner.snapshotReady, timeout=10_000):
        runner.submit(RecordThread([], "one"))


def test_refresh_is_coalesced(runner: JobRunner) -> None:
    gate = threading.Event()
    runner.submit(RecordThread([], "blocker", gate))
    first = runner.refresh()
    assert first is not None
    assert runner.refresh() is None
    gate.set()


def test_cancel_reaches_a_running_job(qtbot: Any, runner: JobRunner) -> None:
    job = WaitForCancel()
    runner.submit(job)
    assert job.running.wait(5)
    with qtbot.waitSignal(runner.jobFinished, timeout=5_000) as blocker:
        runner.cancel(job)
    assert blocker.args[0].job_id == job.id
    assert blocker.args[0].cancelled


def test_shutdown_cancels_and_joins_the_worker(ctx: AppContext) -> None:
    runner = JobRunner(default_env_factory(ctx.store, ctx.tokens))
    job = WaitForCancel()
    log: list[tuple[str, int]] = []
    queued = RecordThread(log, "never")
    runner.submit(job)
    runner.submit(queued)
    assert job.running.wait(5)
    assert runner.shutdown()
    assert not runner.running
    assert job.cancelled and queued.cancelled
    assert log == []
    with pytest.raises(RuntimeError):
        runner.submit(SnapshotJob())


class _Refused(Job):
    """A job the service layer refuses, with the field and rule code a form points at."""

    kind = "refused"
    expected_errors = (ServiceError,)

    def run(self, env: JobEnv, report: Any) -> Any:
        raise ServiceError("The client needs a name.", field="name", code="name_required")


class _Broken(Job):
    kind = "broken"

    def run(self, env: JobEnv, report: Any) -> Any:
        raise KeyError("surprise")


def test_a_failure_crosses_threads_typed_with_its_field_and_code(
    qtbot: Any, runner: JobRunner
) -> None:
    outcomes: list[JobOutcome] = []
    runner.jobFinished.connect(outcomes.append)
    runner.submit(_Refused())
    runner.submit(_Broken())
    qtbot.waitUntil(lambda: len(outcomes) == 2, timeout=10_000)
    refused, broken = outcomes
    assert refused.failure == JobFailure(
        message="The client needs a name.",
        error_type="ServiceError",
        field="name",
        code="name_required",
        expected=True,
    )
    assert refused.error == "The client needs a name."
    assert broken.failure is not None and not broken.failure.expected
    assert broken.failure.error_type == "KeyError" and broken.failure.field is None
    assert broken.error is not None and "log file" in broken.error
