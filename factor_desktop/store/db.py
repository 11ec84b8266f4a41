"""Opening a firm's database: engine, sessions and schema migrations.

One SQLite file per firm profile, in WAL mode with foreign keys on, so the GUI thread can read
while the sync worker writes. Migrations ship inside the package and run when the store opens.

Upgrades are crash-safe:

- Each migration step runs in one SQLite transaction (`BEGIN IMMEDIATE` ... `COMMIT`), DDL
  included. Python's sqlite3 driver would otherwise commit before every DDL statement on its
  own, so the migration engine takes transaction control away from it (SQLAlchemy's recipe:
  the driver's `isolation_level=None` plus an explicit BEGIN). A crash at any point leaves the
  file at the revision before the step or after it, never between.
- One consistent copy (SQLite's online backup) is taken into `backups/` before an upgrade, noted
  in a marker file, and reused by every retry of that upgrade; copies are pruned to a few.
- A file that is stamped with one revision but holds part of the next (left by a version of
  Factor Desktop that upgraded without transactions) fails its upgrade; it is then kept aside
  and replaced by the newest backup that upgrades cleanly, and the administrator is told.
- A file written by a newer version is refused untouched.

The copies taken before an upgrade are made and pruned in `store.backups`.

Alembic is imported only when a migration is due: a store already at `SCHEMA_HEAD` opens without
it (a third of the window's start-up time otherwise). A test keeps `SCHEMA_HEAD` equal to the
newest migration file's revision.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from filelock import FileLock, Timeout
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import NullPool

from factor_desktop.paths import PRIVATE_FILE_MODE, private_dir, private_file
from factor_desktop.store.backups import (
    BACKUPS_KEPT,
    _Marker,
    _marker_path,
    backup_database,
    copy_database,
    prune_backups,
)

if TYPE_CHECKING:
    from alembic.config import Config

log = logging.getLogger(__name__)

# The newest revision under migrations/versions (kept equal to it by a test).
SCHEMA_HEAD = "0003"
MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
BUSY_TIMEOUT_MS = 10_000


class StoreError(Exception):
    """The store cannot be opened; the message says why in words an administrator can act on."""


class StoreTooNewError(StoreError):
    pass


class StoreUpgradeError(StoreError):
    """A schema upgrade failed; the database is left at a whole revision."""


def _set_sqlite_pragmas(dbapi_connection: sqlite3.Connection, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    cursor.close()


def make_engine(path: Path) -> Engine:
    if str(path) != ":memory:":
        private_file(path)  # SQLite gives the -wal and -shm files the database's mode
    engine = create_engine(f"sqlite:///{path}", future=True)
    event.listen(engine, "connect", _set_sqlite_pragmas)
    return engine


# --- the migration engine ------------------------------------------------------------------


def _migration_pragmas(dbapi_connection: sqlite3.Connection, _record: Any) -> None:
    # The driver must not begin or commit on its own: SQLAlchemy's begin event does it.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    # Foreign keys stay off while tables are rebuilt (SQLite's documented procedure for
    # altering tables); each step is checked with foreign_key_check before it commits.
    cursor.execute("PRAGMA foreign_keys=OFF")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    cursor.close()


def _begin_immediate(conn: Any) -> None:
    conn.exec_driver_sql("BEGIN IMMEDIATE")


def make_migration_engine(path: Path) -> Engine:
    """An engine whose transactions include DDL, for running migrations."""
    private_file(path)
    engine = create_engine(f"sqlite:///{path}", future=True, poolclass=NullPool)
    event.listen(engine, "connect", _migration_pragmas)
    event.listen(engine, "begin", _begin_immediate)
    return engine


def _alembic_config(engine: Engine, migrations: Path = MIGRATIONS_DIR) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(migrations))
    config.attributes["engine"] = engine
    return config


def head_revision(migrations: Path = MIGRATIONS_DIR) -> str:
    from alembic.script import ScriptDirectory

    script = ScriptDirectory(str(migrations))
    head = script.get_current_head()
    assert head is not None
    return head


def current_revision(engine: Engine) -> str | None:
    """The revision the database is stamped with (None for a file never migrated)."""
    with engine.connect() as conn:
        stamped = conn.exec_driver_sql(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'alembic_version'"
        ).first()
        if stamped is None:
            return None
        rows = conn.exec_driver_sql("SELECT version_num FROM alembic_version").all()
    if len(rows) > 1:
        raise StoreError("The database is stamped with more than one schema revision.")
    return str(rows[0][0]) if rows else None


def _revision_of(path: Path) -> str | None:
    engine = make_migration_engine(path)
    try:
        return current_revision(engine)
    finally:
        engine.dispose()


def _upgrade_file(path: Path, migrations: Path, target: str = "head") -> None:
    from alembic import command

    engine = make_migration_engine(path)
    try:
        command.upgrade(_alembic_config(engine, migrations), target)
    finally:
        engine.dispose()


# --- faults in words ----------------------------------------------------------------------

_TRANSIENT = ("locked", "busy", "full", "readonly", "read-only", "disk i/o", "unable to open")


def _reason(exc: BaseException) -> str:
    orig = getattr(exc, "orig", None)
    return str(orig if orig is not None else exc)


def is_transient_fault(exc: BaseException) -> bool:
    """A fault of the file system or of another process, not of the database's contents."""
    if isinstance(exc, OSError):
        return True
    return any(word in _reason(exc).lower() for word in _TRANSIENT)


_STORE_ERRNOS = {errno.ENOSPC, errno.EROFS, errno.EACCES, errno.EPERM, errno.EDQUOT}


def is_store_fault(exc: BaseException) -> bool:
    """SQLite's errors, and the file system's refusals (full, read-only, not permitted)."""
    if isinstance(exc, sqlite3.Error | DBAPIError):
        return True
    return isinstance(exc, OSError) and exc.errno in _STORE_ERRNOS


def describe_store_fault(
    exc: BaseException, path: Path, doing: str = "opened", *, in_sync: bool = False
) -> str:
    """A store fault (SQLite's or the file system's) in words an administrator can act on.

    `in_sync`: said by a sync pass, which holds the profile's sync lock itself.
    """
    reason = _reason(exc)
    text = reason.lower()
    folder = path.parent
    if "locked" in text or "busy" in text:
        holder = _OTHER_PROGRAM if in_sync else _lock_holder(path)
        return (
            f"The firm database {path} is in use by {holder}, which kept it locked for "
            f"{BUSY_TIMEOUT_MS / 1000:g} seconds ({reason}), so it could not be {doing}. Let "
            "that finish (or close it) and try again."
        )
    if "full" in text or getattr(exc, "errno", None) == 28:
        where = getattr(exc, "filename", None) or path
        return (
            f"The disk holding {where} is full, so the firm database could not be {doing}. "
            f"Free some space on it (the database is {_size(path)}; a sync or an upgrade may "
            "need as much again) and try again. Nothing was half-written."
        )
    # SQLite says only "unable to open" when a write-ahead log cannot be made beside the file.
    cannot_open = "unable to open" in text
    unwritable = cannot_open and folder.is_dir() and not os.access(folder, os.W_OK)
    if "readonly" in text or "read-only" in text or isinstance(exc, PermissionError) or unwritable:
        return (
            f"The firm database {path} (or its folder {folder}) cannot be written: it is "
            "read-only or belongs to another user. Make the folder writable for you, or choose "
            "another data folder with --data-dir."
        )
    if cannot_open:
        return (
            f"The firm database {path} could not be {doing}: its folder {folder} is missing "
            "or not writable."
        )
    if "malformed" in text or "not a database" in text or "corrupt" in text:
        return f"The firm database {path} could not be {doing}: it is damaged ({reason}). " + (
            _backup_offer(path)
        )
    return f"The firm database {path} could not be {doing}: {reason}."


def _size(path: Path) -> str:
    try:
        size = path.stat().st_size
    except OSError:
        return "of unknown size"
    return f"{size / 1_000_000:.1f} MB" if size >= 100_000 else f"{size // 1000 or 1} kB"


def sync_lock(database: Path | str) -> FileLock:
    """The lock a sync pass holds across processes, beside the database and as private as it."""
    return FileLock(f"{database}.sync-lock", timeout=0, mode=PRIVATE_FILE_MODE)


def _lock_holder(path: Path) -> str:
    lock = sync_lock(path)
    try:
        lock.acquire()
    except Timeout:
        return "a sync in another Factor Desktop window or command"
    except OSError:
        return "another program"
    lock.release()
    return _OTHER_PROGRAM


_OTHER_PROGRAM = "another program (another Factor Desktop window or command, or a database tool)"


def _backup_offer(path: Path) -> str:
    backups = sorted(
        (path.parent / "backups").glob(f"{path.stem}-*.sqlite3"),
        key=lambda p: p.name.rsplit("-", 1)[-1],
        reverse=True,
    )
    if not backups:
        return "There is no backup of it in the backups folder; keep the file for recovery."
    return (
        f"The newest backup is {backups[0]}: close Factor Desktop, keep the damaged file, and "
        f"copy the backup over {path.name} to go back to that point."
    )


# --- migrating -----------------------------------------------------------------------------


def migrate(
    engine: Engine,
    path: Path,
    backup_dir: Path,
    migrations: Path = MIGRATIONS_DIR,
    notices: list[str] | None = None,
) -> Path | None:
    """Bring the database to the newest schema. Returns the backup taken, if any.

    `engine` is the application's engine for the file; the migrations run on an engine of
    their own that makes each step one transaction. Messages the administrator should read
    (a store restored from its backup) are appended to `notices` and logged as warnings.
    """
    if migrations == MIGRATIONS_DIR and current_revision(engine) == SCHEMA_HEAD:
        return None  # the common case, decided without importing Alembic
    head = head_revision(migrations)
    if current_revision(engine) == head:
        return None
    private_dir(backup_dir)
    # One upgrade at a time, across processes (the window and a command started beside it).
    lock = FileLock(str(backup_dir / f".{path.stem}.upgrade-lock"), mode=PRIVATE_FILE_MODE)
    with lock:
        return _migrate_locked(path, backup_dir, migrations, head, notices)


def _migrate_locked(
    path: Path, backup_dir: Path, migrations: Path, head: str, notices: list[str] | None
) -> Path | None:
    from alembic.script import ScriptDirectory

    script = ScriptDirectory(str(migrations))
    for leftover in (
        *backup_dir.glob(f".{path.stem}-*.part"),
        *backup_dir.glob(f".{path.stem}-trial.sqlite3*"),
    ):
        with contextlib.suppress(OSError):
            leftover.unlink()  # a copy a crash interrupted
    current = _revision_of(path)
    if current == head:
        return None
    if current is not None:
        try:
            script.get_revision(current)
        except Exception as exc:
            raise StoreTooNewError(
                f"The database {path} was written by a newer version of Factor Desktop "
                f"(schema {current}). Install the newer version to open it; "
                "this version has not changed the file."
            ) from exc
    marker_file = _marker_path(path, backup_dir)
    marker = _Marker.read(marker_file)
    backup: Path | None = None
    if marker is not None and marker.target == head and (backup_dir / marker.backup).is_file():
        backup = backup_dir / marker.backup
        log.warning(
            "An earlier upgrade of %s to schema %s did not finish; it resumes from schema %s "
            "(each step is all or nothing). The copy taken before it is %s",
            path,
            head,
            current,
            backup,
        )
    elif current is not None:
        backup = backup_database(path, backup_dir, f"before-{head}")
        _Marker(current, head, backup.name).write(marker_file)
        log.info("Backed up %s to %s before upgrading the schema", path, backup)
    try:
        _upgrade_file(path, migrations)
    except (sqlite3.Error, DBAPIError) as exc:
        if is_transient_fault(exc):
            raise StoreUpgradeError(describe_store_fault(exc, path, "upgraded")) from exc
        _recover(path, backup_dir, migrations, head, current, exc, notices)
    with contextlib.suppress(FileNotFoundError):
        marker_file.unlink()
    prune_backups(path, backup_dir)
    log.info("Database %s is at schema %s", path, head)
    return backup


def _recover(
    path: Path,
    backup_dir: Path,
    migrations: Path,
    head: str,
    current: str | None,
    failure: BaseException,
    notices: list[str] | None,
) -> None:
    """The upgrade failed on the file's contents: it is not what its revision says.

    The failed step was rolled back, so the file is as it was. Try the backups, newest first
    (a backup taken by an earlier failed start is as damaged as the file): the first whose
    upgrade succeeds on a scratch copy replaces the file's contents.
    """
    reason = _reason(failure)
    now = _revision_of(path)
    if current is None and _holds_no_records(path):
        # Never got past the first schema: nothing of the firm's is in it yet.
        damaged = backup_database(path, backup_dir, "damaged")
        _wipe_schema(path)
        _upgrade_file(path, migrations)
        _notice(
            notices,
            f"The database {path} was left part-way through its creation ({reason}); it held "
            f"no records and was created again. The unfinished file was kept as {damaged}.",
        )
        return
    candidates = sorted(
        backup_dir.glob(f"{path.stem}-before-*.sqlite3"),
        key=lambda p: p.name.rsplit("-", 1)[-1],
        reverse=True,
    )
    for candidate in candidates:
        trial = backup_dir / f".{path.stem}-trial.sqlite3"
        try:
            copy_database(candidate, trial)
            _upgrade_file(trial, migrations)
        except (sqlite3.Error, DBAPIError) as exc:
            log.info("The backup %s does not upgrade either: %s", candidate, _reason(exc))
            _remove_database_files(trial)
            continue
        damaged = backup_database(path, backup_dir, "damaged")
        _restore_into(trial, path)
        _remove_database_files(trial)
        taken = datetime.fromtimestamp(candidate.stat().st_mtime, UTC).strftime("%Y-%m-%d %H:%M")
        _notice(
            notices,
            f"The database {path.name} was found part-way through a schema upgrade (marked as "
            f"schema {now or 'none'}, but the upgrade failed: {reason}). It has been restored "
            f"from its backup {candidate} (taken {taken} UTC, before that upgrade) and upgraded "
            f"to schema {head}; changes made after that backup are not in it. The damaged file "
            f"was kept as {damaged}.",
        )
        return
    raise StoreUpgradeError(
        f"The database {path} could not be upgraded to schema {head}: {reason}. The file is "
        f"unchanged (schema {now or 'none'}), and no backup in {backup_dir} upgrades cleanly "
        "either. Keep the file and its backups, and contact support."
    ) from failure


def _notice(notices: list[str] | None, message: str) -> None:
    log.warning("%s", message)
    if notices is not None:
        notices.append(message)


def _holds_no_records(path: Path) -> bool:
    with contextlib.closing(sqlite3.connect(path)) as conn:
        tables = [
            row[0]
            for row in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            )
        ]
        for table in tables:
            quoted = table.replace('"', '""')
            if conn.execute(f'SELECT 1 FROM "{quoted}" LIMIT 1').fetchone():
                return False
    return True


def _wipe_schema(path: Path) -> None:
    with contextlib.closing(sqlite3.connect(path, isolation_level=None)) as conn:
        conn.execute("PRAGMA foreign_keys=OFF")
        conn.execute("BEGIN IMMEDIATE")
        objects = conn.execute(
            "SELECT type, name FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' "
            "AND type IN ('table', 'view')"
        ).fetchall()
        for kind, name in objects:
            quoted = name.replace('"', '""')
            conn.execute(f'DROP {kind.upper()} IF EXISTS "{quoted}"')
        conn.execute("COMMIT")


def _restore_into(source: Path, target: Path) -> None:
    """Replace the contents of `target` with `source`, in one transaction of `target`."""
    with (
        contextlib.closing(sqlite3.connect(source)) as src,
        contextlib.closing(sqlite3.connect(target)) as dest,
    ):
        dest.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        src.backup(dest)
        dest.execute("PRAGMA journal_mode=WAL")


def _remove_database_files(path: Path) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        with contextlib.suppress(FileNotFoundError):
            Path(f"{path}{suffix}").unlink()


def downgrade(engine: Engine, revision: str) -> None:
    from alembic import command

    path = Path(engine.url.database or "")
    migration_engine = make_migration_engine(path)
    try:
        command.downgrade(_alembic_config(migration_engine), revision)
    finally:
        migration_engine.dispose()


def quick_check(engine: Engine) -> str | None:
    """None when SQLite finds the file sound; otherwise what it found."""
    with engine.connect() as conn:
        rows = [str(r[0]) for r in conn.exec_driver_sql("PRAGMA quick_check").fetchall()]
    return None if rows == ["ok"] else "; ".join(rows[:3])


@dataclass
class Store:
    """An open firm database: the engine and a factory of sessions (one session per thread)."""

    path: Path
    engine: Engine
    sessions: sessionmaker[Session]
    # What the administrator should be told about this opening (a restore from a backup).
    notices: list[str] = field(default_factory=list)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session whose work is committed on success and rolled back on any error."""
        session = self.sessions()
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    def close(self) -> None:
        self.engine.dispose()


def _unclean(path: Path) -> bool:
    """The last process to use the file did not close it (its write-ahead log is left over)."""
    wal = Path(f"{path}-wal")
    try:
        return wal.stat().st_size > 0
    except OSError:
        return False


def open_store(path: Path, backup_dir: Path | None = None) -> Store:
    """Open (creating if needed) and migrate the database at `path`."""
    notices: list[str] = []
    try:
        private_dir(path.parent)
        unclean = _unclean(path)
        engine = make_engine(path)
    except OSError as exc:
        raise StoreError(describe_store_fault(exc, path)) from exc
    try:
        if unclean:
            problem = quick_check(engine)
            if problem is not None:
                raise StoreError(
                    f"The firm database {path} is damaged (SQLite's check found: {problem}). "
                    + _backup_offer(path)
                )
        migrate(engine, path, backup_dir or path.parent / "backups", notices=notices)
    except StoreError:
        engine.dispose()
        raise
    except (sqlite3.DatabaseError, DBAPIError, OSError) as exc:
        engine.dispose()
        raise StoreError(describe_store_fault(exc, path)) from exc
    return Store(path, engine, sessionmaker(engine, expire_on_commit=False), notices)


__all__ = [
    "BACKUPS_KEPT",
    "BUSY_TIMEOUT_MS",
    "MIGRATIONS_DIR",
    "SCHEMA_HEAD",
    "Store",
    "StoreError",
    "StoreTooNewError",
    "StoreUpgradeError",
    "backup_database",
    "copy_database",
    "current_revision",
    "describe_store_fault",
    "downgrade",
    "head_revision",
    "is_store_fault",
    "is_transient_fault",
    "make_engine",
    "make_migration_engine",
    "migrate",
    "open_store",
    "prune_backups",
    "quick_check",
]
