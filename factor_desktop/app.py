"""Composition root: the data folder, the firm's store, its settings and its secrets."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

from factor_desktop.paths import DataDir
from factor_desktop.secrets import TokenStore
from factor_desktop.settings import Settings, load_settings
from factor_desktop.store.db import Store, open_store

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
    data.ensure()
    store = open_store(data.database(profile), data.backups)
    return AppContext(data=data, profile=profile, store=store, tokens=TokenStore(profile))
