"""A store already at the newest schema opens without importing Alembic (start-up time), which
only holds while `SCHEMA_HEAD` names the newest migration."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from factor_desktop.store.db import SCHEMA_HEAD, current_revision, head_revision, open_store


def test_schema_head_is_the_newest_migration() -> None:
    assert head_revision() == SCHEMA_HEAD


def test_a_current_store_opens_without_alembic_and_a_new_one_is_migrated(tmp_path: Path) -> None:
    path = tmp_path / "firm.sqlite3"
    probe = (
        "import sys\n"
        "from pathlib import Path\n"
        "from factor_desktop.store.db import open_store, current_revision\n"
        f"store = open_store(Path({str(path)!r}))\n"
        "print(current_revision(store.engine), 'alembic' in sys.modules)\n"
        "store.engine.dispose()\n"
    )

    def run() -> str:
        done = subprocess.run(
            [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60
        )
        assert done.returncode == 0, done.stderr
        return done.stdout.strip()

    # A new file needs the migrations, so Alembic is loaded; the next start does without it.
    assert run() == f"{SCHEMA_HEAD} True"
    assert run() == f"{SCHEMA_HEAD} False"


def test_current_revision_of_a_file_never_migrated_is_none(tmp_path: Path) -> None:
    store = open_store(tmp_path / "firm.sqlite3")
    try:
        assert current_revision(store.engine) == SCHEMA_HEAD
        with store.engine.begin() as conn:
            conn.exec_driver_sql("DROP TABLE alembic_version")
        assert current_revision(store.engine) is None
    finally:
        store.engine.dispose()
