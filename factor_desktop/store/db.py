"""Opening a firm's database: engine, sessions and schema migrations.

One SQLite file per firm profile, in WAL mode with foreign keys on, so the GUI thread can read
while the sync worker writes. Migrations ship inside the package and run when the store opens; a
copy of the file is taken before any upgrade, and a file written by a newer version is refused.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


class StoreError(Exception):
    """The store cannot be opened; the message says why in words an administrator can act on."""


class StoreTooNewError(StoreError):
    pass


def _set_sqlite_pragmas(dbapi_connection: sqlite3.Connection, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def make_engine(path: Path) -> Engine:
    engine = create_engine(f"sqlite:///{path}", future=True)
    event.listen(engine, "connect", _set_sqlite_pragmas)
    return engine


def _alembic_config(engine: Engine, migrations: Path = MIGRATIONS_DIR) -> Config:
    config = Config()
    config.set_main_option("script_location", str(migrations))
    config.attributes["engine"] = engine
    return config


def head_revision(migrations: Path = MIGRATIONS_DIR) -> str:
    script = ScriptDirectory(str(migrations))
    head = script.get_current_head()
    assert head is not None
    return head


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def backup_database(path: Path, backup_dir: Path, label: str) -> Path:
    """Copy a live SQLite database with SQLite's online backup, which is consistent under WAL."""
    backup_dir.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    target = backup_dir / f"{path.stem}-{label}-{stamp}.sqlite3"
    source = sqlite3.connect(path)
    try:
        dest = sqlite3.connect(target)
        try:
            source.backup(dest)
        finally:
            dest.close()
    finally:
        source.close()
    return target


def migrate(
    engine: Engine, path: Path, backup_dir: Path, migrations: Path = MIGRATIONS_DIR
) -> Path | None:
    """Bring the database to the newest schema. Returns the backup taken, if any."""
    script = ScriptDirectory(str(migrations))
    head = head_revision(migrations)
    current = current_revision(engine)
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
    backup: Path | None = None
    if current is not None:
        backup = backup_database(path, backup_dir, f"before-{head}")
        log.info("Backed up %s to %s before upgrading the schema", path, backup)
    command.upgrade(_alembic_config(engine, migrations), "head")
    log.info("Database %s is at schema %s", path, head)
    return backup


def downgrade(engine: Engine, revision: str) -> None:
    command.downgrade(_alembic_config(engine), revision)


@dataclass
class Store:
    """An open firm database: the engine and a factory of sessions (one session per thread)."""

    path: Path
    engine: Engine
    sessions: sessionmaker[Session]

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


def open_store(path: Path, backup_dir: Path | None = None) -> Store:
    """Open (creating if needed) and migrate the database at `path`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    engine = make_engine(path)
    try:
        migrate(engine, path, backup_dir or path.parent / "backups")
    except StoreError:
        engine.dispose()
        raise
    except (sqlite3.DatabaseError, DBAPIError) as exc:
        engine.dispose()
        reason = getattr(exc, "orig", None) or exc
        raise StoreError(f"The database {path} could not be opened: {reason}.") from exc
    return Store(path, engine, sessionmaker(engine, expire_on_commit=False))
