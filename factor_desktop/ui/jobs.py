"""Work the window asks for, run off the GUI thread one job at a time.

A `Job` has one shape: `run(env, report)` returns a result as plain data, `cancel()` sets a
`threading.Event` that the job checks between steps, and `report(payload)` sends progress. The
`JobRunner` (a QObject living in the GUI thread) owns one worker thread with a queue; the worker
builds its own `JobEnv` (a ConnectionService with its own HTTP session; every store read or write
opens its own session there) and emits `JobProgress` and `JobOutcome` values, which Qt queues to
the runner's slots in the GUI thread. Errors cross as messages, never as exceptions.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import keyring
from PySide6.QtCore import QObject, QThread, Signal, Slot

from factor_desktop.paths import DataDir
from factor_desktop.secrets import KeyringUnavailable, MemoryKeyring, SecretStoreError, TokenStore
from factor_desktop.services.errors import ServiceError
from factor_desktop.services.mappings import (
    ENTITY_LABEL,
    QBO_ENTITY_FOR_KIND,
    TAX_RULE_TEXT,
    cached,
    clear_mapping,
    describe,
    describe_local,
    set_mapping,
)
from factor_desktop.settings import SettingsError, update_setting
from factor_desktop.store.db import Store, StoreError
from factor_desktop.views import Snapshot, load_snapshot

if TYPE_CHECKING:
    # The sync and the OAuth client (authlib, cryptography) are imported by the worker when
    # a job first needs them, not before the window's first paint.
    from factor_desktop.sync.connection import ConnectionReport, ConnectionService
    from factor_desktop.sync.engine import SyncSummary

log = logging.getLogger(__name__)


@cache
def expected_errors() -> tuple[type[BaseException], ...]:
    """Failures whose message is written for the administrator: shown as they are."""
    from factor_desktop.qbo.oauth import OAuthFlowError
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
        message = (
            f"Something went wrong ({type(exc).__name__}: {exc}). The details are in the log file."
        )
        return JobOutcome(job.id, job.kind, error=message, failure=JobFailure.of(exc, message))
    return JobOutcome(job.id, job.kind, result=result)


# --- the jobs ------------------------------------------------------------------------------


class SnapshotJob(Job):
    kind = "snapshot"
    title = "Reading the firm's records…"

    def run(self, env: JobEnv, report: Report) -> Snapshot:
        return load_snapshot(env.store, env.tokens)


@dataclass(frozen=True)
class AuthorizeUrl:
    """Progress of a connect job: the sign-in page to open in the browser."""

    url: str
    # False when the redirect goes to a hosted page: the administrator must paste it back.
    loopback: bool


@dataclass(frozen=True)
class AwaitingPaste:
    """Result of a connect job whose redirect cannot come back to this computer by itself."""


class ConnectJob(Job):
    kind = "connect"
    title = "Waiting for QuickBooks…"

    def __init__(
        self,
        environment: str | None,
        client_id: str | None,
        client_secret: str | None,
        timeout: float = 300.0,
    ) -> None:
        super().__init__()
        self.environment = environment
        self.client_id = client_id
        self._client_secret = client_secret
        self.timeout = timeout

    def __repr__(self) -> str:  # the client secret never appears in a log line or traceback
        return f"ConnectJob(id={self.id}, environment={self.environment!r})"

    def run(self, env: JobEnv, report: Report) -> ConnectionReport | AwaitingPaste:
        secret, self._client_secret = self._client_secret, None
        pending = env.connection.begin(self.environment, self.client_id, secret)
        del secret
        try:
            report(AuthorizeUrl(pending.authorize_url, pending.receiver is not None))
            if pending.receiver is None:
                return AwaitingPaste()
            self.check_cancelled()
            redirect_url = pending.receiver.wait(self.timeout, cancel=self.cancel_event)
        finally:
            pending.close()
        self.check_cancelled()
        return env.connection.finish(pending, redirect_url)


class FinishConnectJob(Job):
    """Completes the connection begun earlier from the redirect address the admin pasted."""

    kind = "finish_connect"
    title = "Finishing the QuickBooks connection…"

    def __init__(self, redirect_url: str) -> None:
        super().__init__()
        self._redirect_url = redirect_url

    def __repr__(self) -> str:  # the address carries the one-time code
        return f"FinishConnectJob(id={self.id})"

    def run(self, env: JobEnv, report: Report) -> ConnectionReport:
        pending = env.connection.resume()
        return env.connection.finish(pending, self._redirect_url)


class DisconnectJob(Job):
    kind = "disconnect"
    title = "Disconnecting from QuickBooks…"

    def run(self, env: JobEnv, report: Report) -> bool:
        return env.connection.disconnect()


class SessionSecretsJob(Job):
    """The administrator's explicit choice: keep secrets in memory for this session only."""

    kind = "session_secrets"
    title = "Keeping secrets for this session only…"

    def run(self, env: JobEnv, report: Report) -> None:
        with env.store.session() as session:
            update_setting(session, "secret_storage", "session")
        install_session_keyring()


@dataclass(frozen=True)
class SyncProgress:
    """Progress of a sync job: the step running, and how many of the steps are done.

    `queued` is how many records waited in the outbox when the pass began (0 for a preview),
    `sent` how many of them the pass has dealt with so far (sent, or found blocked or failed).
    """

    step: str
    done: int
    total: int
    sent: int = 0
    queued: int = 0


# How often a running pass's outbox is counted for the progress area, in seconds.
OUTBOX_COUNT_INTERVAL = 1.0


def pending_outbox(store: Store) -> int:
    """Records waiting in the outbox to go to QuickBooks."""
    from sqlalchemy import func, select

    from factor_desktop.store.models import OutboxItem

    with store.session() as session:
        count = session.scalar(
            select(func.count()).select_from(OutboxItem).where(OutboxItem.status == "pending")
        )
    return int(count or 0)


class OutboxCounter:
    """Counts, on a thread of its own, how many of the records queued when a pass began it has
    dealt with: the pass commits each answer, so the store says how far it has got. Calls
    `counted(sent)` when the number changes; a count takes a millisecond or two."""

    def __init__(
        self,
        store: Store,
        queued: int,
        counted: Callable[[int], None],
        interval: float | None = None,
    ) -> None:
        self._store = store
        self._queued = queued
        self._counted = counted
        self._interval = OUTBOX_COUNT_INTERVAL if interval is None else interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="outbox-counter", daemon=True)

    def start(self) -> OutboxCounter:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()

    def _run(self) -> None:
        last = 0
        while not self._stop.wait(self._interval):
            try:
                sent = min(self._queued, max(0, self._queued - pending_outbox(self._store)))
            except Exception:
                log.debug("The outbox could not be counted", exc_info=True)
                continue
            if sent != last:
                last = sent
                self._counted(sent)


class SyncJob(Job):
    """One sync pass by the sync engine, on the worker thread."""

    kind = "sync"
    title = "Syncing with QuickBooks…"
    preview: ClassVar[bool] = False

    def __init__(self, *, full: bool = False, auto: bool = False) -> None:
        super().__init__()
        self.full = full
        # Started by the auto-sync timer rather than by the administrator.
        self.auto = auto

    def run(self, env: JobEnv, report: Report) -> SyncSummary:
        from factor_desktop.sync.engine import SyncEngine

        engine = SyncEngine(env.store, env.connection, env.attachments_dir)
        # A preview works on a copy: the firm's outbox does not move.
        queued = 0 if self.preview else pending_outbox(env.store)
        lock = threading.Lock()
        last = SyncProgress("", 0, 0, 0, queued)

        def progress(step: str, done: int, total: int) -> None:
            nonlocal last
            with lock:
                last = SyncProgress(step, done, total, last.sent, queued)
                report(last)

        def counted(sent: int) -> None:
            nonlocal last
            with lock:
                last = SyncProgress(last.step, last.done, last.total, sent, queued)
                report(last)

        counter = OutboxCounter(env.store, queued, counted).start() if queued else None
        try:
            return engine.run(
                preview=self.preview, full=self.full, cancel=self.cancel_event, progress=progress
            )
        finally:
            if counter is not None:
                counter.stop()


class PreviewJob(SyncJob):
    """A sync pass that changes nothing and says what it would do."""

    kind = "preview"
    title = "Previewing the sync…"
    preview = True


@dataclass(frozen=True)
class MappingChanged:
    """Result of a mapping job: what changed, in a sentence."""

    kind: str
    local_id: int
    qbo_id: str | None
    message: str


class SetMappingJob(Job):
    """Map a Factor type to a cached QuickBooks record (a dropped one)."""

    kind = "set_mapping"
    title = "Saving the mapping…"
    expected_errors = (ServiceError,)

    def __init__(
        self,
        kind: str,
        local_id: int,
        qbo_id: str,
        entity: str | None = None,
        *,
        tax_rule: str | None = None,
    ) -> None:
        super().__init__()
        self.mapping_kind = kind
        self.local_id = local_id
        self.qbo_id = qbo_id
        self.entity = entity
        # A tax term onto a code of another rate: "override" or "accept" (see set_mapping).
        self.tax_rule = tax_rule

    def run(self, env: JobEnv, report: Report) -> MappingChanged:
        with env.store.session() as session:
            mapping = set_mapping(
                session,
                self.mapping_kind,
                self.local_id,
                self.qbo_id,
                entity=self.entity,
                tax_rule=self.tax_rule,
            )
            record = cached(session, QBO_ENTITY_FOR_KIND[self.mapping_kind], mapping.qbo_id)
            local = describe_local(session, self.mapping_kind, self.local_id)
            what = describe(record) if record is not None else mapping.qbo_id
            message = f"{local[:1].upper()}{local[1:]} is mapped to the QuickBooks {what}."
            if self.tax_rule is not None:
                message = f"{message[:-1]}; {TAX_RULE_TEXT[self.tax_rule]} ({self.tax_rule})."
        return MappingChanged(self.mapping_kind, self.local_id, self.qbo_id, message)


class ClearMappingJob(Job):
    """Forget what a Factor type is mapped to."""

    kind = "clear_mapping"
    title = "Clearing the mapping…"
    expected_errors = (ServiceError,)

    def __init__(self, kind: str, local_id: int) -> None:
        super().__init__()
        self.mapping_kind = kind
        self.local_id = local_id

    def run(self, env: JobEnv, report: Report) -> MappingChanged:
        with env.store.session() as session:
            cleared = clear_mapping(session, self.mapping_kind, self.local_id)
            label = describe_local(session, self.mapping_kind, self.local_id)
        entity = ENTITY_LABEL[QBO_ENTITY_FOR_KIND[self.mapping_kind]]
        message = (
            f"Cleared the QuickBooks {entity} of {label}."
            if cleared
            else f"Nothing to clear: {label} had no QuickBooks {entity}."
        )
        return MappingChanged(self.mapping_kind, self.local_id, None, message)


class RetryOutboxJob(Job):
    """Put the failed and blocked pushes back in the queue for the next pass."""

    kind = "retry_outbox"
    title = "Queuing the failed records again…"

    def run(self, env: JobEnv, report: Report) -> int:
        from factor_desktop.sync.push import retry_outbox

        with env.store.session() as session:
            return retry_outbox(session)


def install_session_keyring() -> MemoryKeyring:
    """Secrets live in this process's memory from now on, and are gone when it ends."""
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
    """The one place that runs jobs off the GUI thread. Lives in the GUI thread."""

    jobStarted = Signal(object)  # Job
    jobProgress = Signal(object)  # JobProgress
    jobFinished = Signal(object)  # JobOutcome
    snapshotReady = Signal(object)  # Snapshot
    busyChanged = Signal(str)  # what runs now, "" when idle

    def __init__(self, env_factory: EnvFactory, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._thread = _WorkerThread(env_factory)
        self._thread.started_job.connect(self._on_started)
        self._thread.progress.connect(self._on_progress)
        self._thread.done.connect(self._on_done)
        self._jobs: dict[int, _Queued] = {}
        self._stopped = False
        self._thread.start()

    @property
    def running(self) -> bool:
        return self._thread.isRunning()

    def submit(self, job: Job) -> Job:
        if self._stopped:
            raise RuntimeError("the job runner has been shut down")
        self._jobs[job.id] = _Queued(job)
        self._thread.put(job)
        return job

    async def run(self, job: Job) -> JobOutcome:
        """Submit `job` and wait for its outcome without blocking the GUI thread.

        For coroutines on the window's qasync loop: the Future is resolved by `jobFinished`,
        which the runner emits in the GUI thread, so the coroutine goes on there. Cancelling the
        coroutine cancels the job.
        """
        outcome: asyncio.Future[JobOutcome] = asyncio.get_running_loop().create_future()

        def resolve(finished: JobOutcome) -> None:
            if finished.job_id == job.id and not outcome.done():
                outcome.set_result(finished)

        self.jobFinished.connect(resolve)
        try:
            self.submit(job)
            return await outcome
        except asyncio.CancelledError:
            job.cancel()
            raise
        finally:
            self.jobFinished.disconnect(resolve)

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
        """Cancel every job, stop the worker and join it. Safe to call twice."""
        if self._stopped:
            return True
        self._stopped = True
        for queued in self._jobs.values():
            queued.job.cancel()
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
        if outcome.kind == "snapshot" and outcome.ok:
            self.snapshotReady.emit(outcome.result)
        self.jobFinished.emit(outcome)
        if self._stopped:
            return
        if outcome.kind != "snapshot" and (queued is None or queued.job.refreshes_snapshot):
            self.refresh()
        busy = next((q.job.title for q in self._jobs.values() if q.started), "")
        self.busyChanged.emit(busy)
