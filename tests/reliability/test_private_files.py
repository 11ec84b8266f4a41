"""The firm's files are private to the user running the app, whatever the umask."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from filelock import FileLock

from factor_desktop.app import open_context
from factor_desktop.paths import preview_scratch_dir
from factor_desktop.store.db import downgrade, open_store
from factor_desktop.store.models import Client

pytestmark = pytest.mark.skipif(os.name != "posix", reason="POSIX file modes")


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def umask_000() -> Iterator[None]:
    previous = os.umask(0)
    try:
        yield
    finally:
        os.umask(previous)


def test_the_command_line_creates_private_folders_database_and_log(tmp_path: Path) -> None:
    data = tmp_path / "data"
    subprocess.run(
        [sys.executable, "-m", "factor_desktop", "--data-dir", str(data), "import", "demo"],
        check=True,
        capture_output=True,
        umask=0,
    )
    for folder in (data, data / "logs", data / "backups", data / "attachments"):
        assert _mode(folder) == 0o700, folder
    assert _mode(data / "default.sqlite3") == 0o600
    log_file = data / "logs" / "factor-desktop.log"
    assert log_file.exists() and _mode(log_file) == 0o600


def test_database_wal_shm_backups_and_preview_copies_are_private(
    tmp_path: Path, umask_000: None
) -> None:
    data = tmp_path / "data"
    ctx = open_context(data)
    with ctx.store.session() as session:
        session.add(Client(name="Tanaka Residence"))
    path = ctx.store.path
    with ctx.store.engine.connect() as conn:  # the write-ahead log and its index exist now
        for name in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
            assert _mode(name) == 0o600, name
    downgrade(ctx.store.engine, "0001")
    ctx.close()
    store = open_store(path, data / "backups")  # an upgrade: one backup taken
    store.close()
    backups = list((data / "backups").glob("default-before-*.sqlite3"))
    assert len(backups) == 1 and _mode(backups[0]) == 0o600
    assert _mode(preview_scratch_dir(path)) == 0o700
    del conn


def test_an_existing_readable_data_folder_and_log_are_tightened(tmp_path: Path) -> None:
    data = tmp_path / "data"
    (data / "logs").mkdir(parents=True)
    (data / "logs" / "factor-desktop.log").write_text("old\n")
    for folder in (data, data / "logs"):
        folder.chmod(0o755)
    (data / "logs" / "factor-desktop.log").chmod(0o644)
    subprocess.run(
        [sys.executable, "-m", "factor_desktop", "--data-dir", str(data), "status"],
        check=True,
        capture_output=True,
    )
    assert _mode(data) == 0o700 and _mode(data / "logs") == 0o700
    assert _mode(data / "default.sqlite3") == 0o600
    assert _mode(data / "logs" / "factor-desktop.log") == 0o600


def test_a_preview_copy_left_by_a_crash_is_removed_at_start(tmp_path: Path) -> None:
    data = tmp_path / "data"
    open_context(data).close()
    leftover = preview_scratch_dir(data / "default.sqlite3") / "default-preview-abc123"
    leftover.mkdir()
    (leftover / "default.sqlite3").write_bytes(b"a whole copy of the firm")
    # Not while a pass (perhaps that very preview) holds the profile's lock.
    with FileLock(f"{data / 'default.sqlite3'}.sync-lock", timeout=0):
        open_context(data).close()
        assert leftover.exists()
    open_context(data).close()
    assert not leftover.exists()


def test_the_sync_lock_is_private(tmp_path: Path, umask_000: None) -> None:
    data = tmp_path / "data"
    open_context(data).close()
    lock = Path(f"{data / 'default.sqlite3'}.sync-lock")
    assert not lock.exists()
    (preview_scratch_dir(data / "default.sqlite3") / "default-preview-abc123").mkdir()
    open_context(data).close()  # removing the leftover copy takes the sync lock
    assert _mode(lock) == 0o600


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_a_killed_preview_leaves_its_copy_in_the_data_folder_only_until_the_next_start(
    tmp_path: Path,
) -> None:
    import signal
    import tempfile

    import requests
    from sqlalchemy import Engine, event

    from factor_desktop.sandbox import SandboxConfig, SandboxServer
    from factor_desktop.sync.connection import ConnectionService
    from factor_desktop.sync.engine import run_sync

    data = tmp_path / "data"
    shared_temp = set(Path(tempfile.gettempdir()).glob("factor-preview-*"))
    with SandboxServer(SandboxConfig(seed="empty", auto_approve=True)) as sandbox:
        ctx = open_context(data)
        service = ConnectionService(ctx.store, ctx.tokens)
        pending = service.begin(sandbox.discovery_url, sandbox.client_id, sandbox.client_secret)
        requests.get(pending.authorize_url, timeout=10)
        service.connect_with_loopback(pending, timeout=10)
        service.http.close()
        ctx.store.engine.dispose()
        pid = os.fork()
        if pid == 0:  # a preview killed as soon as it opens its copy

            def on_connect(dbapi_connection: object, _record: object) -> None:
                files = dbapi_connection.execute("PRAGMA database_list").fetchall()  # type: ignore[attr-defined]
                if any("/scratch/" in str(row[2]) for row in files):
                    os.kill(os.getpid(), signal.SIGKILL)

            event.listen(Engine, "connect", on_connect)
            try:
                run_sync(ctx, preview=True)
            finally:
                os._exit(3)
        _, status = os.waitpid(pid, 0)
        assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL
        ctx.close()
    # The pass took the sync lock; its file is as private as the database.
    assert _mode(Path(f"{data / 'default.sqlite3'}.sync-lock")) == 0o600
    leftovers = list((data / "scratch").glob("default-preview-*"))
    assert len(leftovers) == 1
    assert _mode(leftovers[0]) == 0o700
    assert _mode(leftovers[0] / "default.sqlite3") == 0o600
    assert set(Path(tempfile.gettempdir()).glob("factor-preview-*")) == shared_temp
    open_context(data).close()
    assert list((data / "scratch").glob("default-preview-*")) == []
