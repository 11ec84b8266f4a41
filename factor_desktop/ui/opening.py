"""Opening the firm's store after the window has been painted.

`factor-desktop gui` shows its window before it opens the profile's store: the window's modules
import only Qt and plain data, and everything the store needs (SQLAlchemy, Alembic, the keyring,
the services) is imported by the worker thread when it opens the store. `ProfileOpener` is that
worker's job environment: the first job the window queues (`OpenStoreJob`) makes the worker
call it, and it opens the store exactly as the command line does (`open_context`: created,
migrated, restored from its backup), installs the in-memory keyring when the profile keeps its
secrets for the session only, and builds the connection service.

A store that cannot be opened (locked by another program, made by a newer version, damaged, a
full disk) is never opened again by this window: every later job fails with the same plain
message, so nothing is written to it.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from factor_desktop.ui.jobs import (
    EnvUnavailable,
    Job,
    JobEnv,
    Report,
    expected_errors,
    install_session_keyring,
)
from factor_desktop.ui.startup import mark

if TYPE_CHECKING:
    from factor_desktop.app import AppContext

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class StoreOpened:
    """What the window learns once the worker has opened the store."""

    path: Path
    # What opening it had to do (a restore from the backup), for the Connection tab's banner.
    notices: tuple[str, ...]
    check_for_updates: bool


class ProfileOpener:
    """Opens a profile's store on the worker thread, once (the window's job environment)."""

    def __init__(self, data_dir: Path | None, profile: str, database: Path) -> None:
        self.data_dir = data_dir
        self.profile = profile
        # Where the store is (known before it is opened: the window shows it in its status bar).
        self.path = database
        self.context: AppContext | None = None
        self.check_for_updates = False
        # Why the store could not be opened; it is not tried again.
        self.failure: str | None = None
        self._lock = threading.Lock()

    def __call__(self) -> JobEnv:
        """Open the store and build the worker's environment (on the worker thread)."""
        with self._lock:
            if self.failure is not None:
                raise EnvUnavailable(self.failure)
            try:
                return self._open()
            except Exception as exc:
                self.failure = self._describe(exc)
                raise EnvUnavailable(self.failure) from None

    def _open(self) -> JobEnv:
        from factor_desktop.app import open_context
        from factor_desktop.sync.connection import ConnectionService

        ctx = open_context(self.data_dir, self.profile)
        try:
            settings = ctx.settings()
            if settings.secret_storage == "session":
                # Chosen earlier, explicitly: secrets live in memory and the connection is renewed.
                install_session_keyring()
            env = JobEnv(ctx.store, ctx.tokens, ConnectionService(ctx.store, ctx.tokens))
        except BaseException:
            ctx.close()
            raise
        self.context = ctx
        self.check_for_updates = settings.check_for_updates
        mark("store_open")
        log.info("Main window open on profile %s (%s)", self.profile, ctx.store.path)
        return env

    def _describe(self, exc: Exception) -> str:
        from factor_desktop.store.db import describe_store_fault, is_store_fault

        if isinstance(exc, expected_errors()):
            log.info("The firm database %s could not be opened: %s", self.path, exc)
            return str(exc)
        log.exception("The firm database %s could not be opened", self.path)
        if is_store_fault(exc):
            return describe_store_fault(exc, self.path, "opened")
        return (
            f"The firm database {self.path} could not be opened ({type(exc).__name__}: {exc}). "
            "The details are in the log file."
        )

    def close(self) -> None:
        """Close the store (on the GUI thread, once the worker has stopped)."""
        if self.context is not None:
            self.context.close()
            self.context = None


class OpenStoreJob(Job):
    """The window's first job: the worker opens the store before it runs it."""

    kind = "open_store"
    title = "Opening the firm's records…"
    # The window asks for the first snapshot itself, once it knows the store is open.
    refreshes_snapshot = False

    def __init__(self, opener: ProfileOpener) -> None:
        super().__init__()
        self._opener = opener

    def run(self, env: JobEnv, report: Report) -> StoreOpened:
        return StoreOpened(env.store.path, tuple(env.store.notices), self._opener.check_for_updates)
