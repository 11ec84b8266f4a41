"""Store faults reach the administrator as one plain line: locked, full, read-only, damaged."""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from filelock import FileLock
from sqlalchemy import event

from factor_desktop.app import open_context
from factor_desktop.cli import main
from factor_desktop.sandbox import SandboxConfig, SandboxServer
from factor_desktop.store import db
from factor_desktop.store.models import Client
from factor_desktop.sync.connection import ConnectionService
from factor_desktop.sync.context import SyncContext
from factor_desktop.sync.engine import SyncEngine
from tests.reliability.crash import needs_fork


@pytest.fixture
def short_wait(monkeypatch: pytest.MonkeyPatch) -> None:
    """Wait half a second for a lock instead of ten, to keep the suite quick."""
    monkeypatch.setattr(db, "BUSY_TIMEOUT_MS", 500)


@contextlib.contextmanager
def _write_locked(path: Path) -> Iterator[None]:
    """Another program holding a write transaction on the database."""
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        yield
    finally:
        other.execute("ROLLBACK")
        other.close()


def _one_line(err: str) -> str:
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert "Traceback" not in err
    return lines[0]


def test_a_database_locked_by_another_program_waits_then_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], short_wait: None
) -> None:
    data = tmp_path / "data"
    open_context(data).close()
    path = data / "default.sqlite3"
    with _write_locked(path):
        assert main(["--data-dir", str(data), "settings", "auto_sync_minutes", "5"]) == 1
    line = _one_line(capsys.readouterr().err)
    assert line == (
        f"factor-desktop: The firm database {path} is in use by another program (another "
        "Factor Desktop window or command, or a database tool), which kept it locked for 0.5 "
        "seconds (database is locked), so it could not be used. Let that finish (or close it) "
        "and try again."
    )
    # Once the other program lets go, the same command goes through.
    assert main(["--data-dir", str(data), "settings", "auto_sync_minutes", "5"]) == 0


def test_a_lock_held_by_a_sync_elsewhere_is_named(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], short_wait: None
) -> None:
    data = tmp_path / "data"
    open_context(data).close()
    path = data / "default.sqlite3"
    with FileLock(f"{path}.sync-lock", timeout=0), _write_locked(path):
        assert main(["--data-dir", str(data), "import", "demo"]) == 1
    line = _one_line(capsys.readouterr().err)
    assert "is in use by a sync in another Factor Desktop window or command" in line


def test_a_database_locked_mid_sync_fails_the_pass_with_the_reason(
    tmp_path: Path, short_wait: None
) -> None:
    with SandboxServer(SandboxConfig(seed="empty", auto_approve=True)) as sandbox:
        ctx = open_context(tmp_path / "data")
        service = ConnectionService(ctx.store, ctx.tokens)
        pending = service.begin(sandbox.discovery_url, sandbox.client_id, sandbox.client_secret)
        assert requests.get(pending.authorize_url, timeout=10).status_code == 200
        service.connect_with_loopback(pending, timeout=10)
        holder: list[sqlite3.Connection] = []

        @event.listens_for(ctx.store.engine, "rollback")
        def let_go(_conn: object) -> None:
            # The other program finishes once the pass has given up on its write.
            while holder:
                other = holder.pop()
                other.execute("ROLLBACK")
                other.close()

        def first(step: SyncContext) -> None:
            step.session.add(Client(name="Written before the lock"))
            step.session.commit()
            other = sqlite3.connect(ctx.store.path, isolation_level=None, check_same_thread=False)
            other.execute("BEGIN IMMEDIATE")
            holder.append(other)

        def second(step: SyncContext) -> None:
            step.session.add(Client(name="Never written"))
            step.session.commit()

        engine = SyncEngine(
            ctx.store, service, ctx.data.attachments, steps=[("one", first), ("two", second)]
        )
        summary = engine.run()
        service.http.close()
        assert summary.status == "failed"
        assert summary.error is not None
        assert summary.error.startswith(
            f"The firm database {ctx.store.path} is in use by another program"
        )
        assert "could not be written" in summary.error
        with ctx.store.session() as session:
            names = sorted(c.name for c in session.query(Client))
        assert names == ["Written before the lock"]
        ctx.close()


# --- full and read-only disks ----------------------------------------------------------------


@contextlib.contextmanager
def _tmpfs(where: Path, size: str) -> Iterator[Path]:
    where.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)],
        capture_output=True,
        check=False,
    )
    if mounted.returncode != 0:
        pytest.skip("a small tmpfs cannot be mounted here (needs root)")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], capture_output=True, check=False)


def _close_log_files() -> None:
    import logging

    from factor_desktop import logs

    while logs._installed:
        handler = logs._installed.pop()
        logging.getLogger().removeHandler(handler)
        handler.close()


def _fill(folder: Path, leave: int) -> None:
    """Fill the file system holding `folder` until `leave` bytes are free."""
    stats = os.statvfs(folder)
    free = stats.f_bavail * stats.f_frsize
    with open(folder / "filler", "wb") as filler:
        filler.write(b"\0" * max(0, free - leave))


def test_a_full_disk_says_which_file_and_imports_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with _tmpfs(tmp_path / "disk", "4m") as disk:
        data = disk / "data"
        source = tmp_path / "firm.json"
        from bench.bench_import import firm

        source.write_text(json.dumps(firm(3000)))
        open_context(data).close()
        capsys.readouterr()
        _fill(disk, 64_000)
        assert main(["--data-dir", str(data), "import", str(source)]) == 1
        err = capsys.readouterr().err
        line = _one_line(err)
        assert f"The disk holding {data / 'default.sqlite3'} is full" in line
        assert "Free some space" in line
        (disk / "filler").unlink()
        ctx = open_context(data)
        with ctx.store.session() as session:
            assert session.query(Client).count() == 0  # all or nothing
        ctx.close()


def test_a_read_only_data_folder_is_one_plain_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with _tmpfs(tmp_path / "disk", "8m") as disk:
        data = disk / "data"
        assert main(["--data-dir", str(data), "import", "demo"]) == 0
        capsys.readouterr()
        _close_log_files()  # nothing open for writing, or the remount is refused
        remount = subprocess.run(
            ["mount", "-o", "remount,ro", str(disk)], capture_output=True, check=False
        )
        assert remount.returncode == 0, remount.stderr
        assert main(["--data-dir", str(data), "settings", "auto_sync_minutes", "5"]) == 1
        err = capsys.readouterr().err
        assert "Traceback" not in err
        last = err.strip().splitlines()[-1]
        assert last.startswith("factor-desktop: The firm database")
        assert "read-only" in last


# --- a damaged database ------------------------------------------------------------------------


@needs_fork
def test_a_database_damaged_by_a_crash_is_caught_on_open_with_the_backup_offered(
    tmp_path: Path,
) -> None:
    data = tmp_path / "data"
    ctx = open_context(data)
    with ctx.store.session() as session:
        session.add_all(Client(name=f"Client {n:05d}", city="x" * 150) for n in range(400))
    path = ctx.store.path
    ctx.close()
    backup = db.backup_database(path, data / "backups", "before-0099")
    pid = os.fork()
    if pid == 0:  # a process that dies with its last commit only in the write-ahead log
        conn = sqlite3.connect(path)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("UPDATE settings SET value = value")
        conn.execute(
            "INSERT INTO clients (name, archived, created_at, updated_at) "
            "VALUES ('late', 0, '', '')"
        )
        conn.commit()
        os._exit(0)
    os.waitpid(pid, 0)
    assert Path(f"{path}-wal").stat().st_size > 0
    with open(path, "r+b") as damaged:  # a torn write in the middle of the clients table
        damaged.seek(4096 * 6)  # a leaf page of the clients table: its header, then cells
        damaged.write(b"\xff" * 4096)
    with pytest.raises(db.StoreError) as caught:
        open_context(data)
    message = str(caught.value)
    assert message.startswith(f"The firm database {path} is damaged (SQLite's check found:")
    assert f"The newest backup is {backup}" in message


def test_the_check_is_not_run_after_a_clean_close(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = tmp_path / "data"
    open_context(data).close()
    checked: list[bool] = []
    monkeypatch.setattr(db, "quick_check", lambda engine: checked.append(True))
    open_context(data).close()
    assert checked == []


def test_threads_see_one_plain_message_too(tmp_path: Path, short_wait: None) -> None:
    """The window's worker gets the same words through StoreError."""
    data = tmp_path / "data"
    open_context(data).close()
    errors: list[str] = []

    def work() -> None:
        try:
            with _write_locked(data / "default.sqlite3"):
                open_context(data)
        except db.StoreError as exc:
            errors.append(str(exc))

    thread = threading.Thread(target=work)
    thread.start()
    thread.join()
    assert errors == []  # opening needs no write once the database has its identity
