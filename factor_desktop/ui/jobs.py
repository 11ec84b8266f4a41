"""Work the window asks for, run off the GUI thread one job at a time.

A `Job` has one shape: `run(env, report)` returns a result as plain data, `cancel()` sets a
`threading.Event` that the job checks between steps, and `report(payload)` sends progress. The
`JobRunner` (a QObject living in the GUI thread) owns one worker thread with a queue; the worker
builds its own `JobEnv` (a ConnectionService with its own HTTP session; every store read or write
opens its own session there) and emits `JobProgress` and `JobOutcome` values, which Qt queues to
the runner's slots in the GUI thread. Errors cross as messages, never as exceptions.

Whoever asks for a job awaits its outcome there: `spawn(self._done(runner.run(job)))` queues the
job at once and `_done` goes on with `outcome = await ...` on the GUI thread's qasync loop. The
window's jobs themselves are in `job_types.py` and `jobs_extra.py`.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import queue
import threading
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from PySide6.QtCore import QObject, QThread, Signal, Slot

from factor_desktop.paths import DataDir

if TYPE_CHECKING:
    # The store (SQLAlchemy), the secrets (keyring), the read model's queries, the connection
    # service and the OAuth client (oauthlib, requests) are imported by the worker when a job
    # first needs them, not before the window's first paint.
    from factor_desktop.secrets import MemoryKeyring, TokenStore
    from factor_desktop.store.db import Store
    from factor_desktop.sync.connection import ConnectionService
    from factor_desktop.views.snapshot import Snapshot

log = logging.getLogger(__name__)


@cache
def expected_errors() -> tuple[type[BaseException], ...]:
    """Failures whose message is written for the administrator: shown as they are."""
    from factor_desktop.qbo.oauth import OAuthFlowError
    from factor_desktop.secrets import KeyringUnavailable, SecretStoreError
    from factor_desktop.settings import SettingsError
    from factor_desktop.store.db import StoreError
    from factor_desktop.sync.connection import ConnectError

    return (
        ConnectError,
        OAuthFlowError,
        KeyringUnavailable,
        SecretStoreError,
        StoreError,
        SettingsError,
    )


_job_ids = itertools.count(1)


class JobCancelled(Exception):
    """Raised inside a job when it notices its cancel event."""


class EnvUnavailable(Exception):
    """The worker's environment cannot be made (the firm's store could not be opened). Every
    job then fails with this message, which is written for the administrator and logged."""


@dataclass
class JobEnv:
    """What jobs work with. Built and closed on the worker thread."""

    store: Store
    tokens: TokenStore
    connection: ConnectionService

    @property
    def attachments_dir(self) -> Path:
        """Where receipts are cached: the data folder's, beside the firm's database."""
        return DataDir.resolve(self.store.path.parent).attachments

    def close(self) -> None:
        self.connection.http.close()


@dataclass(frozen=True)
class JobProgress:
    job_id: int
    kind: str
    payload: Any


@dataclass(frozen=True)
class JobFailure:
    """Why a job failed, as it crosses to the GUI thread: the administrator's message, and what
    a form needs to point at the cause (a ServiceError's `field`, a rule's or QuickBooks' `code`,
    the error's type)."""

    message: str
    error_type: str
    field: str | None = None
    code: str | None = None
    expected: bool = True

    @classmethod
    def of(cls, exc: BaseException, message: str | None = None) -> JobFailure:
        field = getattr(exc, "field", None)
        code = getattr(exc, "code", None)
        return cls(
            message=message if message is not None else str(exc),
            error_type=type(exc).__name__,
            field=field if isinstance(field, str) else None,
            code=str(code) if code not in (None, "") else None,
            expected=message is None,
        )


@dataclass(frozen=True)
class JobOutcome:
    job_id: int
    kind: str
    result: Any = None
    error: str | None = None
    cancelled: bool = False
    failure: JobFailure | None = None

    @property
    def ok(self) -> bool:
        return self.error is None and not self.cancelled


Report = Callable[[Any], None]


class Job:
    kind: ClassVar[str] = "job"
    # What the status bar says while the job runs.
    title: ClassVar[str] = "Working…"
    # Further failures whose message is written for the administrator.
    expected_errors: ClassVar[tuple[type[BaseException], ...]] = ()
    # Whether the window reads the store again afterwards (False: the job changes nothing listed).
    refreshes_snapshot: ClassVar[bool] = True

    def __init__(self) -> None:
        self.id = next(_job_ids)
        self.cancel_event = threading.Event()

    def cancel(self) -> None:
        self.cancel_event.set()

    @property
    def cancelled(self) -> bool:
        return self.cancel_event.is_set()

    def check_cancelled(self) -> None:
        if self.cancel_event.is_set():
            raise JobCancelled

    def run(self, env: JobEnv, report: Report) -> Any:
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"{type(self).__name__}(id={self.id})"


def execute(job: Job, env: JobEnv, report: Report) -> JobOutcome:
    """Run one job and turn whatever happens into a JobOutcome. Used by the worker and tests."""
    if job.cancelled:
        return JobOutcome(job.id, job.kind, cancelled=True)
    try:
        result = job.run(env, report)
    except JobCancelled:
        return JobOutcome(job.id, job.kind, cancelled=True)
    except (*expected_errors(), *job.expected_errors) as exc:
        if job.cancelled:
            return JobOutcome(job.id, job.kind, cancelled=True)
        log.info("%s failed: %s", job, exc)
        return JobOutcome(job.id, job.kind, error=str(exc), failure=JobFailure.of(exc))
    except Exception as exc:
        log.exception("%s failed unexpectedly", job)
        from factor_desktop.store.db import describe_store_fault, is_store_fault

        if is_store_fault(exc):
            message = describe_store_fault(exc, env.store.path, "read or saved")
        else:
            message = (
                f"Something went wrong ({type(exc).__name__}: {exc}). "
                "The details are in the log file."
            )
        return JobOutcome(job.id, job.kind, error=message, failure=JobFailure.of(exc, message))
    return JobOutcome(job.id, job.kind, result=result)


# --- the jobs ------------------------------------------------------------------------------


class SnapshotJob(Job):
    kind = "snapshot"
    title = "Reading the firm's records…"

    def run(self, env: JobEnv, report: Report) -> Snapshot:
        from factor_desktop.views.snapshot import load_snapshot

        return load_snapshot(env.store, env.tokens)


def install_session_keyring() -> MemoryKeyring:
    """Secrets live in this process's memory from now on, and are gone when it ends."""
    import keyring

    from factor_desktop.secrets import MemoryKeyring

    current = keyring.get_keyring()
    if type(current) is MemoryKeyring:
        return current
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    log.info("Secrets are kept in memory for this session only")
    return backend


# --- the worker thread and the runner -------------------------------------------------------


EnvFactory = Callable[[], JobEnv]


class _WorkerThread(QThread):
    """Takes jobs from a queue and runs them one at a time, in order."""

    started_job = Signal(object)  # JobProgress with payload None
    progress = Signal(object)  # JobProgress
    done = Signal(object)  # JobOutcome

    def __init__(self, env_factory: EnvFactory, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("factor-desktop-worker")
        self._env_factory = env_factory
        self._queue: queue.Queue[Job | None] = queue.Queue()

    def put(self, job: Job | None) -> None:
        self._queue.put(job)

    def run(self) -> None:
        threading.current_thread().name = "worker"
        env: JobEnv | None = None
        try:
            while True:
                job = self._queue.get()
                if job is None:
                    break
                if job.cancelled:
                    self.done.emit(JobOutcome(job.id, job.kind, cancelled=True))
                    continue
                self.started_job.emit(JobProgress(job.id, job.kind, None))
                if env is None:
                    try:
                        env = self._env_factory()
                    except EnvUnavailable as exc:
                        failure = JobFailure.of(exc)
                        self.done.emit(
                            JobOutcome(job.id, job.kind, error=str(exc), failure=failure)
                        )
                        continue
                    except Exception as exc:
                        log.exception("The worker could not be set up")
                        self.done.emit(JobOutcome(job.id, job.kind, error=str(exc)))
                        continue
                self.done.emit(execute(job, env, self._reporter(job)))
        finally:
            if env is not None:
                env.close()

    def _reporter(self, job: Job) -> Report:
        def report(payload: Any) -> None:
            self.progress.emit(JobProgress(job.id, job.kind, payload))

        return report


def default_env_factory(store: Store, tokens: TokenStore) -> EnvFactory:
    def make() -> JobEnv:
        from factor_desktop.sync.connection import ConnectionService

        return JobEnv(store, tokens, ConnectionService(store, tokens))

    return make


@dataclass
class _Queued:
    job: Job
    started: bool = False


class JobRunner(QObject):
    """The one place that runs jobs off the GUI thread. Lives in the GUI thread.

    Whoever asks for a job awaits its outcome where it asked (`outcome = await runner.run(job)`
    in a coroutine started with `spawn`); `jobFinished` follows, once that coroutine has dealt
    with the outcome, for what watches every job (the busy indicator, tests).
    """

    jobStarted = Signal(object)  # Job
    jobProgress = Signal(object)  # JobProgress
    jobFinished = Signal(object)  # JobOutcome
    snapshotReady = Signal(object)  # Snapshot
    snapshotFailed = Signal(str)  # why the firm's records could not be read
    busyChanged = Signal(str)  # what runs now, "" when idle

    def __init__(self, env_factory: EnvFactory, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._thread = _WorkerThread(env_factory)
        self._thread.started_job.connect(self._on_started)
        self._thread.progress.connect(self._on_progress)
        self._thread.done.connect(self._on_done)
        self._jobs: dict[int, _Queued] = {}
        self._awaited: dict[int, asyncio.Future[JobOutcome]] = {}
        self._stopped = False
        self._thread.start()

    @property
    def running(self) -> bool:
        return self._thread.isRunning()

    @property
    def stopped(self) -> bool:
        """Shut down: no more jobs are taken."""
        return self._stopped

    def submit(self, job: Job) -> Job:
        if self._stopped:
            raise RuntimeError("the job runner has been shut down")
        self._jobs[job.id] = _Queued(job)
        self._thread.put(job)
        return job

    def run(self, job: Job) -> Coroutine[Any, Any, JobOutcome]:
        """Submit `job` now, in the order of the calls, and return what to await for its outcome.

        For coroutines on the window's qasync loop: the outcome arrives in the GUI thread, so
        the coroutine goes on there. Cancelling the coroutine cancels the job.
        """
        outcome: asyncio.Future[JobOutcome] = asyncio.get_event_loop().create_future()
        self.submit(job)
        self._awaited[job.id] = outcome
        return self._outcome(job, outcome)

    async def _outcome(self, job: Job, outcome: asyncio.Future[JobOutcome]) -> JobOutcome:
        try:
            return await outcome
        except asyncio.CancelledError:
            job.cancel()
            raise
        finally:
            self._awaited.pop(job.id, None)

    def refresh(self) -> SnapshotJob | None:
        """Queue a snapshot unless one is already waiting to start."""
        if self._stopped:
            return None
        for queued in self._jobs.values():
            if isinstance(queued.job, SnapshotJob) and not queued.started:
                return None
        job = SnapshotJob()
        self.submit(job)
        return job

    def pending(self) -> list[Job]:
        return [q.job for q in self._jobs.values()]

    def cancel(self, job: Job) -> None:
        job.cancel()

    def shutdown(self, timeout_ms: int = 30_000) -> bool:
        """Cancel every job, stop the worker and join it. Safe to call twice.

        Coroutines still awaiting a job are cancelled too: nothing runs on for a window that
        is closing."""
        if self._stopped:
            return True
        self._stopped = True
        for queued in self._jobs.values():
            queued.job.cancel()
        for outcome in self._awaited.values():
            outcome.cancel()
        self._thread.put(None)
        finished = self._thread.wait(timeout_ms)
        if not finished:
            log.error("The worker thread did not stop within %d ms", timeout_ms)
        return bool(finished)

    @Slot(object)
    def _on_started(self, event: JobProgress) -> None:
        queued = self._jobs.get(event.job_id)
        if queued is None:
            return
        queued.started = True
        self.jobStarted.emit(queued.job)
        self.busyChanged.emit(queued.job.title)

    @Slot(object)
    def _on_progress(self, event: JobProgress) -> None:
        self.jobProgress.emit(event)

    @Slot(object)
    def _on_done(self, outcome: JobOutcome) -> None:
        queued = self._jobs.pop(outcome.job_id, None)
        awaited = self._awaited.pop(outcome.job_id, None)
        if awaited is not None and not awaited.done() and not awaited.get_loop().is_closed():
            awaited.set_result(outcome)
            # asyncio runs callbacks in the order they were scheduled: the coroutine that
            # awaited the job deals with its outcome before the runner says the job finished.
            awaited.get_loop().call_soon(self._finished, outcome, queued)
            return
        self._finished(outcome, queued)

    def _finished(self, outcome: JobOutcome, queued: _Queued | None) -> None:
        if outcome.kind == "snapshot" and outcome.ok:
            self.snapshotReady.emit(outcome.result)
        elif outcome.kind == "snapshot" and outcome.error is not None and not outcome.cancelled:
            self.snapshotFailed.emit(outcome.error)
        self.jobFinished.emit(outcome)
        if self._stopped:
            return
        if outcome.kind != "snapshot" and (queued is None or queued.job.refreshes_snapshot):
            self.refresh()
        busy = next((q.job.title for q in self._jobs.values() if q.started), "")
        self.busyChanged.emit(busy)


# Coroutines started from slots; asyncio keeps only weak references to its tasks.
_tasks: set[asyncio.Task[None]] = set()


def spawn(flow: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
    """Start `flow` on the GUI thread's loop (qasync's) from a slot, which returns at once.

    What `flow` raises is logged with its traceback; a cancelled flow (the window closing) ends
    quietly.
    """
    task = asyncio.get_event_loop().create_task(flow, name=getattr(flow, "__qualname__", None))
    _tasks.add(task)
    task.add_done_callback(_flow_done)
    return task


def _flow_done(task: asyncio.Task[None]) -> None:
    _tasks.discard(task)
    if task.cancelled():
        return
    error = task.exception()
    if error is not None:
        log.error("%s failed", task.get_name(), exc_info=error)
