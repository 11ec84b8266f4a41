"""Opening a store again in a process that has it open must not drop SQLite's locks.

Closing any descriptor of a database file releases every POSIX lock the process holds on it.
If that happened, another process closing its last connection would take the file as unused
and delete the write-ahead log under the first process's connections (seen as "disk I/O
error" in the window after a command was run beside it).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from sqlalchemy import text

from factor_desktop.store.db import open_store
from factor_desktop.sync.engine import scratch_copy


def _touch_from_another_process(path: Path) -> None:
    probe = (
        "import sqlite3\n"
        f"c = sqlite3.connect({str(path)!r})\n"
        "c.execute('SELECT count(*) FROM clients').fetchall()\n"
        "c.close()\n"
    )
    subprocess.run([sys.executable, "-c", probe], check=True, timeout=60)


def test_a_second_open_in_the_same_process_keeps_the_write_ahead_log(tmp_path: Path) -> None:
    path = tmp_path / "firm.sqlite3"
    store = open_store(path)
    try:
        with store.engine.connect() as conn:
            conn.execute(text("SELECT count(*) FROM clients")).all()
            again = open_store(path)  # e.g. a job opening its own context on the same file
            again.engine.dispose()
            _touch_from_another_process(path)
            assert Path(f"{path}-wal").exists()
            assert Path(f"{path}-shm").exists()
        # The preview's copy reads through this process's connections' log.
        scratch = tmp_path / "scratch"
        scratch.mkdir()
        copy = scratch_copy(store, scratch)
        with copy.engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM clients")).scalar_one() == 0
        copy.engine.dispose()
    finally:
        store.engine.dispose()
