from __future__ import annotations

import shutil
import sqlite3
import threading
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import inspect, select, text

from factor_desktop.store.db import (
    StoreError,
    StoreTooNewError,
    current_revision,
    downgrade,
    head_revision,
    make_engine,
    migrate,
    open_store,
)
from factor_desktop.store.models import Base, Client, Expense, ExpenseType, Invoice, Project


def test_migrate_empty_to_head_creates_every_table_and_down_again(tmp_path: Path) -> None:
    path = tmp_path / "firm.sqlite3"
    engine = make_engine(path)
    assert migrate(engine, path, tmp_path / "backups") is None  # nothing to back up when new
    assert current_revision(engine) == head_revision()
    tables = set(inspect(engine).get_table_names())
    assert set(Base.metadata.tables) <= tables
    downgrade(engine, "base")
    assert current_revision(engine) is None
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    migrate(engine, path, tmp_path / "backups")
    assert current_revision(engine) == head_revision()
    engine.dispose()


def test_schema_matches_models(tmp_path: Path) -> None:
    """The migrations build exactly the schema the models describe."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    store = open_store(tmp_path / "firm.sqlite3")
    with store.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    store.close()
    assert diff == []


def test_sqlite_runs_in_wal_mode_with_foreign_keys(tmp_path: Path) -> None:
    store = open_store(tmp_path / "firm.sqlite3")
    with store.engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
    with pytest.raises(Exception, match="FOREIGN KEY"), store.session() as session:
        session.add(Project(client_id=999, number="P-1", name="Orphan"))
    store.close()


def test_database_from_a_newer_version_is_refused_and_left_untouched(tmp_path: Path) -> None:
    path = tmp_path / "firm.sqlite3"
    open_store(path).close()
    with sqlite3.connect(path) as raw:
        raw.execute("UPDATE alembic_version SET version_num = '9999_future'")
    before = path.read_bytes()
    with pytest.raises(StoreTooNewError, match="newer version of Factor Desktop"):
        open_store(path)
    assert path.read_bytes() == before


NEXT_REVISION = '''
"""add a nickname to clients"""
import sqlalchemy as sa
from alembic import op

revision = "0099"
down_revision = "{head}"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("clients") as batch:
        batch.add_column(sa.Column("nickname", sa.String(50), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("clients") as batch:
        batch.drop_column("nickname")
'''


def test_upgrade_takes_a_backup_first_and_keeps_the_data(tmp_path: Path) -> None:
    from factor_desktop.store.db import MIGRATIONS_DIR

    path = tmp_path / "firm.sqlite3"
    store = open_store(path)
    with store.session() as session:
        session.add(Client(name="Tanaka Residence"))
    store.close()
    # A later release: the shipped migrations plus one more revision.
    later = tmp_path / "migrations"
    shutil.copytree(MIGRATIONS_DIR, later, ignore=shutil.ignore_patterns("__pycache__"))
    (later / "versions" / "0099_nickname.py").write_text(NEXT_REVISION.format(head=head_revision()))
    engine = make_engine(path)
    backup = migrate(engine, path, tmp_path / "backups", later)
    assert current_revision(engine) == "0099"
    assert "nickname" in {c["name"] for c in inspect(engine).get_columns("clients")}
    engine.dispose()
    assert backup is not None and backup.parent == tmp_path / "backups"
    assert backup.name.startswith("firm-before-0099-")
    with sqlite3.connect(backup) as copy:
        assert copy.execute("SELECT name FROM clients").fetchall() == [("Tanaka Residence",)]
        assert copy.execute("SELECT version_num FROM alembic_version").fetchone() == (
            head_revision(),
        )
    with sqlite3.connect(path) as upgraded:
        assert upgraded.execute("SELECT name FROM clients").fetchall() == [("Tanaka Residence",)]
    # Opening again with the released migrations refuses the newer file.
    with pytest.raises(StoreTooNewError):
        open_store(path)


def test_a_file_that_is_not_a_database_gets_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "firm.sqlite3"
    path.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StoreError, match="could not be opened"):
        open_store(path)


def test_money_is_exact_and_refuses_floats(tmp_path: Path) -> None:
    store = open_store(tmp_path / "firm.sqlite3")
    with store.session() as session:
        client = Client(name="Summit Ridge Winery")
        project = Project(client=client, number="2026-001", name="Tasting Room & Cellar")
        session.add(Invoice(project=project, issue_date=date(2026, 1, 5), total=Decimal("0.10")))
    with store.session() as session:
        invoice = session.scalars(select(Invoice)).one()
        assert invoice.total == Decimal("0.10")
        assert isinstance(invoice.total, Decimal)
        assert invoice.issue_date == date(2026, 1, 5)
        invoice.total = 0.1  # type: ignore[assignment]
        with pytest.raises(Exception, match="not a float"):
            session.flush()
        session.rollback()
    with pytest.raises(Exception, match="fractions of a cent"), store.session() as session:
        invoice = session.scalars(select(Invoice)).one()
        invoice.total = Decimal("1.005")
    store.close()


def test_gui_session_reads_while_worker_session_writes(tmp_path: Path) -> None:
    store = open_store(tmp_path / "firm.sqlite3")
    with store.session() as session:
        client = Client(name="Riverside School District")
        session.add(Project(client=client, number="R-1", name="Riverside Elementary Addition"))
        session.add(ExpenseType(name="Printing", category="Reimbursables"))
    writing = threading.Event()
    done = threading.Event()
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            with store.session() as session:
                project = session.scalars(select(Project)).one()
                for n in range(200):
                    session.add(
                        Expense(
                            project=project,
                            incurred_on=date(2026, 1, 1),
                            cost=Decimal(n),
                            billable_amount=Decimal(n),
                        )
                    )
                session.flush()
                writing.set()
                done.wait(5)  # hold the write transaction open while the reader reads
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
            writing.set()

    thread = threading.Thread(target=worker)
    thread.start()
    assert writing.wait(5)
    # The reader is not blocked by the open write transaction and sees only committed data.
    with store.session() as reader:
        assert reader.scalar(select(Client.name)) == "Riverside School District"
        assert reader.query(Expense).count() == 0
    done.set()
    thread.join(5)
    assert not errors
    with store.session() as reader:
        assert reader.query(Expense).count() == 200
    store.close()
