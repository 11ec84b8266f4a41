"""Where Factor Desktop keeps its files: data, logs, caches and bundled resources."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

import platformdirs

APP_NAME = "FactorDesktop"
APP_AUTHOR = "Factor"


def default_data_dir() -> Path:
    """The platform's per-user data folder (for example ~/.local/share/FactorDesktop)."""
    return Path(platformdirs.user_data_dir(APP_NAME, APP_AUTHOR))


def default_log_dir() -> Path:
    """The platform's per-user log folder (for example ~/.local/state/FactorDesktop/log)."""
    return Path(platformdirs.user_log_dir(APP_NAME, APP_AUTHOR))


def resource_path(*parts: str) -> Path:
    """A file shipped in `resources/`, whether running from source or from a frozen build."""
    frozen_root = getattr(sys, "_MEIPASS", None)
    if frozen_root is not None:
        return Path(frozen_root, "resources", *parts)
    return Path(__file__).resolve().parent.parent.joinpath("resources", *parts)


@dataclass(frozen=True)
class DataDir:
    """The layout of one data folder. Each firm profile has its own database file."""

    root: Path
    log_dir: Path

    @classmethod
    def resolve(cls, root: Path | None, log_dir: Path | None = None) -> DataDir:
        if root is None:
            return cls(default_data_dir(), log_dir or default_log_dir())
        root = root.expanduser().resolve()
        # An explicit data folder keeps its logs beside it, so a test or a second profile
        # never writes into the user's real log folder.
        return cls(root, log_dir or root / "logs")

    def database(self, profile: str = "default") -> Path:
        return self.root / f"{profile}.sqlite3"

    @property
    def settings_file(self) -> Path:
        return self.root / "settings.json"

    @property
    def backups(self) -> Path:
        return self.root / "backups"

    @property
    def attachments(self) -> Path:
        return self.root / "attachments"

    def ensure(self) -> None:
        for folder in (self.root, self.log_dir, self.backups, self.attachments):
            folder.mkdir(parents=True, exist_ok=True)
