"""The sync pass around its steps: run records, preview isolation, cancel, failures."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from sqlalchemy import select

from factor_desktop.qbo.errors import QboAuthError
from factor_desktop.secrets import TokenStore
from factor_desktop.store.db import open_store
from factor_desktop.store.models import Client, SyncLogEntry, SyncRun
from factor_desktop.sync.connection import ConnectError, ConnectionService
from factor_desktop.sync.context import SyncCancelled, SyncContext
from factor_desktop.sync.engine import SyncBusyError, SyncEngine

from .conftest import Connected


def _engine(c: Connected, steps: list) -> SyncEngine:  # type: ignore[type-arg]
    return SyncEngine(c.store, c.connection, c.attachments, steps=steps)


def _add_client(name: str):  # type: ignore[no-untyped-def]
    def step(ctx: SyncContext) -> None:
        ctx.session.add(Client(name=name))
        ctx.session.flush()
        ctx.log(direction="pull", entity_kind="client", label=name, action="created")
        ctx.session.commit()

    return step


def _read_company(ctx: SyncContext) -> None:
    ctx.client.company_info()


def _runs(c: Connected) -> list[SyncRun]:
    with c.store.session() as s:
        runs = list(s.scalars(select(SyncRun).order_by(SyncRun.id)))
        for r in runs:
            s.expunge(r)
        return runs


def test_a_pass_runs_its_steps_in_order_and_records_the_run(connected: Connected) -> None:
    seen: list[str] = []
    progress: list[tuple[str, int, int]] = []
    steps = [
        ("one", lambda ctx: seen.append("one")),
        ("read", _read_company),
        ("two", _add_client("Tanaka Residence")),
    ]
    summary = _engine(connected, steps).run(progress=lambda *p: progress.append(p))
    assert seen == ["one"]
    assert summary.status == "ok" and summary.kind == "sync"
    assert summary.counts == {"created": 1}
    assert summary.requests_used >= 1
    assert [p[0] for p in progress] == ["one", "read", "two", "Done"]
    (run,) = _runs(connected)
    assert run.status == "ok" and run.finished_at is not None and run.counts == summary.counts
    with connected.store.session() as s:
        assert s.scalar(select(Client.name)) == "Tanaka Residence"
        assert s.scalar(select(SyncLogEntry.run_id)) == run.id


def test_preview_changes_nothing_but_says_what_it_would_do(connected: Connected) -> None:
    summary = _engine(connected, [("add", _add_client("Preview Only LLC"))]).run(preview=True)
    assert summary.kind == "preview" and summary.status == "ok"
    # The plan is what the pass logged on its scratch copy: the same entries a sync logs.
    assert summary.planned == [
        {
            "direction": "pull",
            "entity": "client",
            "label": "Preview Only LLC",
            "action": "created",
            "level": "info",
        }
    ]
    assert summary.counts == {"created": 1}
    with connected.store.session() as s:
        assert s.scalar(select(Client)) is None
        assert s.scalar(select(SyncLogEntry)) is None
    (run,) = _runs(connected)
    assert run.kind == "preview" and run.status == "ok"


def test_cancel_keeps_what_was_committed(connected: Connected) -> None:
    cancel = threading.Event()

    def cancel_now(ctx: SyncContext) -> None:
        cancel.set()

    steps = [
        ("add", _add_client("Kept Client")),
        ("cancel", cancel_now),
        ("never", _add_client("X")),
    ]
    summary = _engine(connected, steps).run(cancel=cancel)
    assert summary.status == "cancelled"
    with connected.store.session() as s:
        assert list(s.scalars(select(Client.name))) == ["Kept Client"]


def test_auth_failure_fails_the_run_with_the_reason(connected: Connected) -> None:
    def refuse(ctx: SyncContext) -> None:
        raise QboAuthError("Token revoked")

    summary = _engine(connected, [("refuse", refuse)]).run()
    assert summary.status == "failed"
    assert summary.error is not None and "refused the connection" in summary.error


def test_a_crash_in_a_step_closes_the_run_as_failed(connected: Connected) -> None:
    def boom(ctx: SyncContext) -> None:
        raise RuntimeError("bug")

    with pytest.raises(RuntimeError):
        _engine(connected, [("boom", boom)]).run()
    (run,) = _runs(connected)
    assert run.status == "failed" and run.error and "unexpectedly" in run.error


def test_a_run_left_running_by_a_crash_is_closed_at_the_next_pass(connected: Connected) -> None:
    with connected.store.session() as s:
        s.add(SyncRun(kind="sync", status="running"))
    _engine(connected, []).run()
    first, second = _runs(connected)
    assert first.status == "failed" and first.error and "interrupted" in first.error
    assert second.status == "ok"


def test_only_one_pass_at_a_time(connected: Connected) -> None:
    inside, release = threading.Event(), threading.Event()

    def hold(ctx: SyncContext) -> None:
        inside.set()
        release.wait(10)

    engine = _engine(connected, [("hold", hold)])
    worker = threading.Thread(target=engine.run)
    worker.start()
    try:
        assert inside.wait(10)
        with pytest.raises(SyncBusyError):
            _engine(connected, []).run()
    finally:
        release.set()
        worker.join(10)


def test_not_connected_is_refused_before_anything_is_recorded(tmp_path: Path) -> None:
    store = open_store(tmp_path / "other.sqlite3")
    service = ConnectionService(store, TokenStore("other"))
    with pytest.raises(ConnectError, match="Not connected"):
        SyncEngine(store, service, tmp_path).run()
    with store.session() as s:
        assert s.scalar(select(SyncRun)) is None
    store.close()


def test_a_step_that_raises_cancelled_directly(connected: Connected) -> None:
    def stop(ctx: SyncContext) -> None:
        raise SyncCancelled("stop")

    assert _engine(connected, [("stop", stop)]).run().status == "cancelled"


def test_a_pass_in_another_process_is_refused(connected: Connected, tmp_path: Path) -> None:
    import subprocess
    import sys
    import textwrap

    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent(
                f"""
                import sys, time
                from filelock import FileLock
                lock = FileLock({str(connected.store.path) + ".sync-lock"!r})
                lock.acquire()
                print("held", flush=True)
                sys.stdin.readline()
                """
            ),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        with pytest.raises(SyncBusyError):
            _engine(connected, []).run()
        assert _runs(connected) == []  # nothing recorded, nothing closed as interrupted
    finally:
        assert holder.stdin is not None
        holder.stdin.close()
        holder.wait(10)
        holder.stdout.close()  # type: ignore[union-attr]
    assert _engine(connected, []).run().status == "ok"  # the lock went with the process
