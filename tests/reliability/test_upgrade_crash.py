"""Schema upgrades survive SIGKILL before any statement, and half-upgraded files are restored."""

from __future__ import annotations

import os
import shutil
import sqlite3
from pathlib import Path
from types import ModuleType

import pytest
from sqlalchemy import inspect

from factor_desktop.store.db import (
    MIGRATIONS_DIR,
    StoreUpgradeError,
    backup_database,
    current_revision,
    downgrade,
    head_revision,
    make_engine,
    migrate,
    open_store,
)
from factor_desktop.store.models import Client, Connection, Project
from tests.reliability.crash import FINISHED, KILLED, needs_fork, run_killed_at

pytestmark = needs_fork

# A later release's step that rebuilds a table other tables point at (SQLite's copy-and-rename),
# the hardest kind of step to interrupt safely.
REBUILD_REVISION = '''
"""clients get a nickname; their phone column goes"""
import sqlalchemy as sa
from alembic import op

revision = "0099"
down_revision = "{head}"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("clients", recreate="always") as batch:
        batch.add_column(sa.Column("nickname", sa.String(50), nullable=True))
        batch.drop_column("phone")
    op.execute("UPDATE clients SET nickname = substr(name, 1, 5)")


def downgrade() -> None:
    with op.batch_alter_table("clients", recreate="always") as batch:
        batch.add_column(sa.Column("phone", sa.String(50), nullable=True))
        batch.drop_column("nickname")
'''


@pytest.fixture(autouse=True)
def migration_files_read_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """Alembic reads and compiles every migration file each time it looks at the folder, three
    times per upgrade; the trials below run hundreds of upgrades of the same unchanged files.
    Each is read once per test (and a forked trial inherits what its parent read). env.py is
    still run every time: running it is what upgrades the file."""
    from alembic import util

    read = util.load_python_file
    modules: dict[tuple[str, str, int], ModuleType] = {}

    def load_once(folder: str, filename: str) -> ModuleType:
        if filename == "env.py":
            return read(folder, filename)
        key = (folder, filename, os.stat(os.path.join(folder, filename)).st_mtime_ns)
        if key not in modules:
            modules[key] = read(folder, filename)
        return modules[key]

    monkeypatch.setattr(util, "load_python_file", load_once)


def _firm_at(path: Path, revision: str | None) -> None:
    """A synced-looking firm database stamped at `revision` (None: no file at all)."""
    if revision is None:
        return
    store = open_store(path)
    with store.session() as session:
        client = Client(name="Tanaka Residence", phone="555-0100", qbo_id="58")
        session.add(client)
        session.flush()
        session.add(Project(client_id=client.id, number="2024-017", name="Kitchen", qbo_id="59"))
        session.add(Connection(id=1, state="connected", realm_id="9130", company_name="Tanaka"))
    if revision != head_revision():
        downgrade(store.engine, revision)
    store.close()
    shutil.rmtree(path.parent / "backups", ignore_errors=True)


def _records(path: Path) -> list[tuple[str, str, str]]:
    with sqlite3.connect(path) as conn:
        return conn.execute(
            "SELECT c.name, p.number, p.qbo_id FROM clients c JOIN projects p ON p.client_id = c.id"
        ).fetchall()


def _trials(
    tmp_path: Path, start: str | None, migrations: Path = MIGRATIONS_DIR
) -> tuple[int, list[Path]]:
    template = tmp_path / "template" / "firm.sqlite3"
    template.parent.mkdir()
    _firm_at(template, start)
    expected = _records(template) if start is not None else None
    head = head_revision(migrations)
    kill_at = 0
    outcome = KILLED
    while outcome == KILLED:
        kill_at += 1
        assert kill_at < 2000, "the upgrade never finished"
        folder = tmp_path / f"trial-{kill_at}"
        folder.mkdir()
        path = folder / "firm.sqlite3"
        if template.exists():
            shutil.copy(template, path)

        def upgrade(path: Path = path) -> None:
            engine = make_engine(path)
            try:
                migrate(engine, path, path.parent / "backups", migrations)
            finally:
                engine.dispose()

        outcome = run_killed_at(upgrade, kill_at)
        # The next ordinary start finishes the job, with the firm's data as it was.
        engine = make_engine(path)
        notices: list[str] = []
        migrate(engine, path, folder / "backups", migrations, notices)
        assert current_revision(engine) == head, f"killed at statement {kill_at}"
        engine.dispose()
        assert notices == []  # nothing needed restoring: every step was all or nothing
        if expected is not None:
            assert _records(path) == expected, f"killed at statement {kill_at}"
            # One backup for the upgrade, however many starts it took.
            assert len(list((folder / "backups").glob("firm-before-*.sqlite3"))) == 1
        shutil.rmtree(folder)
    return kill_at, []


def test_sigkill_before_every_statement_of_a_new_database(tmp_path: Path) -> None:
    statements, _ = _trials(tmp_path, None)
    assert statements > 30  # every CREATE of the first schema was a kill point


def test_sigkill_before_every_statement_of_each_upgrade_keeps_the_data(tmp_path: Path) -> None:
    statements, _ = _trials(tmp_path, "0001")
    assert statements > 5


def test_sigkill_inside_a_table_rebuild_of_a_later_release(tmp_path: Path) -> None:
    later = tmp_path / "migrations"
    shutil.copytree(MIGRATIONS_DIR, later, ignore=shutil.ignore_patterns("__pycache__"))
    (later / "versions" / "0099_rebuild.py").write_text(
        REBUILD_REVISION.format(head=head_revision())
    )
    # From the shipped head: the kills before every statement of 0001 -> head are the trials
    # of the test above; here only the later release's rebuild (and its backup) is new.
    statements, _ = _trials(tmp_path, head_revision(), later)
    assert statements > 10


def _half_upgraded(path: Path) -> None:
    """What the earlier, non-transactional upgrade left when killed: 0002's columns, at 0001."""
    with sqlite3.connect(path, isolation_level=None) as conn:
        conn.execute("ALTER TABLE connection ADD COLUMN pending_state VARCHAR(100)")
        conn.execute("ALTER TABLE connection ADD COLUMN pending_redirect_uri VARCHAR(500)")


def test_a_half_upgraded_store_is_restored_from_its_backup_and_says_so(tmp_path: Path) -> None:
    path = tmp_path / "firm.sqlite3"
    _firm_at(path, "0001")
    backups = tmp_path / "backups"
    good = backup_database(path, backups, "before-0002")
    _half_upgraded(path)
    # Each failed start of that version took another copy: of the broken file.
    backup_database(path, backups, "before-0002")
    backup_database(path, backups, "before-0002")

    store = open_store(path)
    assert current_revision(store.engine) == head_revision()
    assert len(store.notices) == 1
    notice = store.notices[0]
    assert "part-way through a schema upgrade" in notice
    assert f"restored from its backup {good}" in notice
    assert "duplicate column name: pending_state" in notice
    columns = {c["name"] for c in inspect(store.engine).get_columns("connection")}
    assert {"pending_state", "pending_environment", "pending_started_at"} <= columns
    store.close()
    assert _records(path) == [("Tanaka Residence", "2024-017", "59")]
    damaged = list(backups.glob("firm-damaged-*.sqlite3"))
    assert len(damaged) == 1
    # Pruned to a few copies; a second start changes nothing and copies nothing.
    assert len(list(backups.glob("firm-before-*.sqlite3"))) <= 3
    before = sorted(p.name for p in backups.iterdir())
    reopened = open_store(path)
    assert reopened.notices == []
    reopened.close()
    assert sorted(p.name for p in backups.iterdir()) == before


def test_a_half_upgraded_store_without_a_good_backup_is_left_alone_with_a_clear_error(
    tmp_path: Path,
) -> None:
    path = tmp_path / "firm.sqlite3"
    _firm_at(path, "0001")
    _half_upgraded(path)
    before = _records(path)
    with pytest.raises(StoreUpgradeError) as caught:
        open_store(path)
    message = str(caught.value)
    assert "could not be upgraded" in message
    assert "duplicate column name" in message
    assert "The file is unchanged (schema 0001)" in message
    assert _records(path) == before
    # A second attempt reuses the copy taken by the first rather than taking another.
    with pytest.raises(StoreUpgradeError):
        open_store(path)
    assert len(list((tmp_path / "backups").glob("firm-before-*.sqlite3"))) == 1


def test_a_failing_step_leaves_the_previous_revision_whole(tmp_path: Path) -> None:
    later = tmp_path / "migrations"
    shutil.copytree(MIGRATIONS_DIR, later, ignore=shutil.ignore_patterns("__pycache__"))
    failing = REBUILD_REVISION.format(head=head_revision()).replace(
        'op.execute("UPDATE clients SET nickname = substr(name, 1, 5)")',
        'op.execute("UPDATE no_such_table SET x = 1")',
    )
    (later / "versions" / "0099_rebuild.py").write_text(failing)
    path = tmp_path / "firm.sqlite3"
    _firm_at(path, head_revision())
    engine = make_engine(path)
    with pytest.raises(StoreUpgradeError, match="no such table: no_such_table"):
        migrate(engine, path, tmp_path / "backups", later)
    assert current_revision(engine) == head_revision()
    assert "phone" in {c["name"] for c in inspect(engine).get_columns("clients")}
    engine.dispose()
    assert _records(path) == [("Tanaka Residence", "2024-017", "59")]


@pytest.mark.parametrize("kept", [3])
def test_backups_are_pruned_to_a_few(tmp_path: Path, kept: int) -> None:
    from factor_desktop.store.db import prune_backups

    path = tmp_path / "firm.sqlite3"
    _firm_at(path, head_revision())
    backups = tmp_path / "backups"
    made = [backup_database(path, backups, f"before-00{n}") for n in range(5)]
    prune_backups(path, backups, kept)
    assert sorted(backups.glob("firm-before-*.sqlite3")) == sorted(made[-kept:])


def test_the_killed_child_really_dies(tmp_path: Path) -> None:
    """The harness itself: a kill point that is reached ends the child by SIGKILL."""
    path = tmp_path / "firm.sqlite3"
    assert run_killed_at(lambda: open_store(path).close(), 1) == KILLED
    assert run_killed_at(lambda: None, 1) == FINISHED
