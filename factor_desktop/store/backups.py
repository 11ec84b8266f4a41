"""Copies of a firm's database: consistent copies (SQLite's online backup, flushed to disk) into
`backups/`, pruned to a few, and the marker that lets every retry of one upgrade reuse its copy.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from factor_desktop.paths import private_dir, private_file

# --- backups -------------------------------------------------------------------------------

#: Copies kept of each firm database (the newest).
BACKUPS_KEPT = 3


def _stamp() -> str:
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")


def copy_database(source_path: Path, target: Path) -> Path:
    """A consistent copy of a live SQLite database (SQLite's online backup, safe under WAL).

    The copy is written beside its final name and renamed into place, so a crash never leaves
    a half-written file under a backup's name.
    """
    partial = target.with_name(f".{target.name}.part")
    with contextlib.suppress(FileNotFoundError):
        partial.unlink()
    private_file(partial)
    source = sqlite3.connect(source_path)
    try:
        dest = sqlite3.connect(partial)
        try:
            source.backup(dest)
            dest.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
        finally:
            dest.close()
    except BaseException:
        with contextlib.suppress(OSError):
            partial.unlink()
        raise
    finally:
        source.close()
    _fsync(partial)
    os.replace(partial, target)
    _fsync_dir(target.parent)
    return target


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_dir(path: Path) -> None:
    if os.name != "posix":
        return
    with contextlib.suppress(OSError):
        _fsync(path)


def backup_database(path: Path, backup_dir: Path, label: str) -> Path:
    """Copy a live SQLite database into `backup_dir` as `<stem>-<label>-<time>.sqlite3`."""
    private_dir(backup_dir)
    return copy_database(path, backup_dir / f"{path.stem}-{label}-{_stamp()}.sqlite3")


def prune_backups(path: Path, backup_dir: Path, keep: int = BACKUPS_KEPT) -> list[Path]:
    """Keep the newest `keep` upgrade backups (and damaged copies) of this database."""
    removed: list[Path] = []
    for kind in ("before", "damaged"):
        found = sorted(
            backup_dir.glob(f"{path.stem}-{kind}-*.sqlite3"),
            key=lambda p: p.name.rsplit("-", 1)[-1],
            reverse=True,
        )
        for old in found[keep:]:
            with contextlib.suppress(OSError):
                old.unlink()
                removed.append(old)
    return removed


def _marker_path(path: Path, backup_dir: Path) -> Path:
    return backup_dir / f"{path.stem}.upgrade.json"


@dataclass(frozen=True)
class _Marker:
    """An upgrade under way: from which revision, to which, and the copy taken before it."""

    source: str
    target: str
    backup: str

    @classmethod
    def read(cls, file: Path) -> _Marker | None:
        try:
            data = json.loads(file.read_text("utf-8"))
            return cls(str(data["from"]), str(data["to"]), str(data["backup"]))
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def write(self, file: Path) -> None:
        partial = file.with_name(f".{file.name}.part")
        private_file(partial)
        partial.write_text(
            json.dumps({"from": self.source, "to": self.target, "backup": self.backup}), "utf-8"
        )
        _fsync(partial)
        os.replace(partial, file)
        _fsync_dir(file.parent)
