"""The jobs behind the window's connection, sync and mapping actions.

Each runs on the worker thread like every other `Job` (see `jobs.py`): it opens its own store
session there and hands back plain data.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from factor_desktop.domain.kinds import ENTITY_LABEL, QBO_ENTITY_FOR_KIND, TAX_RULE_TEXT
from factor_desktop.services.errors import ServiceError
from factor_desktop.ui.jobs import Job, JobEnv, Report, install_session_keyring
from factor_desktop.ui.memory import freeze_long_lived, pass_finished, pause_full_collections

if TYPE_CHECKING:
    # The store and the services (SQLAlchemy), the sync and the OAuth client (authlib,
    # cryptography) are imported by the worker when a job first needs them, not before the
    # window's first paint.
    from factor_desktop.store.db import Store
    from factor_desktop.sync.connection import ConnectionReport
    from factor_desktop.sync.engine import SyncSummary

log = logging.getLogger(__name__)


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
        from factor_desktop.settings import update_setting

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

        freeze_long_lived("sync loaded")  # the sync's modules are here for good now
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
        pause_full_collections()  # see ui/memory.py: the window is not held up during the pass
        try:
            return engine.run(
                preview=self.preview, full=self.full, cancel=self.cancel_event, progress=progress
            )
        finally:
            pass_finished()
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
        from factor_desktop.services.mappings import cached, describe, describe_local, set_mapping

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
        from factor_desktop.services.mappings import clear_mapping, describe_local

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
