"""Composition root: the data folder, the firm's store, its settings and its secrets."""

from __future__ import annotations

import contextlib
import logging
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from filelock import Timeout
from sqlalchemy.exc import DBAPIError

from factor_desktop.paths import DataDir, ProfileNameError, preview_scratch_prefix
from factor_desktop.secrets import KeyringUnavailable, SecretStoreError, TokenStore
from factor_desktop.settings import Settings, load_settings, store_identity
from factor_desktop.store.db import (
    Store,
    StoreError,
    describe_store_fault,
    open_store,
    sync_lock,
)
from factor_desktop.store.models import Connection

log = logging.getLogger(__name__)


@dataclass
class AppContext:
    data: DataDir
    profile: str
    store: Store
    tokens: TokenStore = field(repr=False)

    def settings(self) -> Settings:
        with self.store.session() as session:
            return load_settings(session)

    def close(self) -> None:
        self.store.close()


def open_context(data_dir: Path | None, profile: str = "default") -> AppContext:
    """Open the profile's store (creating and migrating it) and its token store."""
    data = DataDir.resolve(data_dir)
    try:
        path = data.database(profile)
    except ProfileNameError as exc:
        raise StoreError(str(exc)) from None
    try:
        data.ensure()
    except OSError as exc:
        raise StoreError(describe_store_fault(exc, path)) from None
    store = open_store(path, data.backups)
    try:
        with store.session() as session:
            identity = store_identity(session, path)
            conn = session.get(Connection, 1)
            realm = conn.realm_id if conn is not None and conn.state != "disconnected" else None
    except DBAPIError as exc:
        store.close()
        raise StoreError(describe_store_fault(exc, path)) from None
    tokens = TokenStore(profile, store_id=identity)
    try:
        if tokens.adopt_legacy(realm):
            log.info("The QuickBooks connection of profile %s now belongs to %s", profile, path)
    except (KeyringUnavailable, SecretStoreError) as exc:
        log.debug("Keyring not read at start: %s", exc)
    remove_stale_previews(path)
    return AppContext(data=data, profile=profile, store=store, tokens=tokens)


def remove_stale_previews(database: Path) -> None:
    """Delete preview copies of this database that a crash left, unless a pass is running."""
    folder = database.parent / "scratch"
    leftovers = list(folder.glob(f"{preview_scratch_prefix(database)}*")) if folder.is_dir() else []
    if not leftovers:
        return
    lock = sync_lock(database)
    try:
        lock.acquire()
    except (Timeout, OSError):
        return  # a preview may be using its copy right now
    try:
        for leftover in leftovers:
            with contextlib.suppress(OSError):
                shutil.rmtree(leftover)
                log.info("Removed a preview copy left by an interrupted pass: %s", leftover)
    finally:
        lock.release()
