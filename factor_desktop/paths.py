"""Where Factor Desktop keeps its files: data, logs, caches and bundled resources."""

from __future__ import annotations

import contextlib
import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path

import platformdirs

APP_NAME = "FactorDesktop"
APP_AUTHOR = "Factor"

# The firm's records, tokens' whereabouts and logs are for the person running the app only,
# whatever the umask: folders rwx------, files rw-------. (On Windows the per-user folders
# already keep other users out; the modes below are then mostly ignored by the OS.)
PRIVATE_DIR_MODE = 0o700
PRIVATE_FILE_MODE = 0o600

# A profile names a database file inside the data folder, so it is one plain name.
_PROFILE = re.compile(r"[A-Za-z0-9][A-Za-z0-9 _.-]{0,63}")


class ProfileNameError(ValueError):
    """A firm profile name that cannot be used as a file name inside the data folder."""


def check_profile(name: str) -> str:
    """The profile name, refused when it is not one plain name (no folders, no '..')."""
    if not _PROFILE.fullmatch(name) or ".." in name or name.endswith((".", " ")):
        raise ProfileNameError(
            f"{name!r} is not a usable firm profile name: use letters, digits, spaces, '-', "
            "'_' or '.', starting with a letter or digit (at most 64 characters, no '..')."
        )
    return name


def private_dir(path: Path) -> Path:
    """Create `path` (and missing parents) and make it private to this user."""
    path.mkdir(mode=PRIVATE_DIR_MODE, parents=True, exist_ok=True)
    _tighten(path, PRIVATE_DIR_MODE)
    return path


def private_file(path: Path) -> Path:
    """Create `path` empty if it is missing, and make it readable by this user only.

    A file that exists is never opened here: closing any descriptor of a database file drops
    every POSIX lock this process holds on it, SQLite's included, and another process could then
    take the file for its own (deleting the write-ahead log under this process's connections).
    """
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    try:
        fd = os.open(path, flags, PRIVATE_FILE_MODE)
    except FileExistsError:
        pass
    else:
        os.close(fd)
    _tighten(path, PRIVATE_FILE_MODE)
    return path


def preview_scratch_prefix(database: Path) -> str:
    """How the preview copies of `database` are named in the data folder's scratch folder."""
    return f"{database.stem}-preview-"


def preview_scratch_dir(database: Path) -> Path:
    """The private folder beside `database` where preview passes keep their copies."""
    return private_dir(database.parent / "scratch")


def _tighten(path: Path, mode: int) -> None:
    if os.name != "posix":
        return
    with contextlib.suppress(OSError):  # a file we do not own keeps its mode; SQLite decides
        if path.stat().st_mode & 0o777 & ~mode:
            path.chmod(mode)


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
        return self.root / f"{check_profile(profile)}.sqlite3"

    @property
    def settings_file(self) -> Path:
        return self.root / "settings.json"

    @property
    def backups(self) -> Path:
        return self.root / "backups"

    @property
    def attachments(self) -> Path:
        return self.root / "attachments"

    @property
    def scratch(self) -> Path:
        """Short-lived copies of a database (a preview pass works on one)."""
        return self.root / "scratch"

    def ensure(self) -> None:
        for folder in (self.root, self.log_dir, self.backups, self.attachments):
            private_dir(folder)
