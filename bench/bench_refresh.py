#!/usr/bin/env python3
"""The window applying a snapshot of a large firm: the GUI thread's own time, without the sync.

    cd bench && QT_QPA_PLATFORM=offscreen ../.venv/bin/python bench_refresh.py [--invoices 10000]
                                             [--customers 200] [--rounds 6]

Builds a firm with ``--invoices`` finalized invoices (bench_push's `build_firm`), opens the real
main window on it and times, on the GUI thread, `MainWindow._on_snapshot` (every tab showing the
snapshot) and the events that follow it:

- ``gui_refresh_open_<N>``: the first snapshot, read by the window's worker as it opens;
- ``gui_refresh_pushed_<N>``: a snapshot as one after a push of them all: every invoice with a
  QuickBooks Id, every client and project linked, their customers and sub-customers listed, a
  Sync Log of 2,000 entries; the first such (``first_*``) and the median of ``--rounds`` more.

Each snapshot after the first is a deep copy with the changes made, so that replacing the one
shown frees a whole snapshot's objects on the GUI thread, as it does after a real pass. Figures
are wall and CPU milliseconds of the GUI thread (on a busy machine the wall clock also counts the
waits for a core). bench_gui.py measures the same work inside a real push, with its waits.
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import gc
import json
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench_push import build_firm


def emit(**figure: Any) -> None:
    print(json.dumps(figure), flush=True)


def pushed(snapshot: Any, run: int) -> Any:
    """`snapshot` as the one after a push: new objects throughout, everything in QuickBooks."""
    from factor_desktop.views import LogRow, QboCustomerRow

    snapshot = copy.deepcopy(snapshot)
    invoices = tuple(
        replace(invoice, qbo_id=str(run * 100_000 + n), outbox_status=None)
        for n, invoice in enumerate(snapshot.invoices)
    )
    clients = tuple(
        replace(
            client,
            qbo_id=f"C{client.id}",
            projects=tuple(replace(p, qbo_id=f"P{p.id}") for p in client.projects),
        )
        for client in snapshot.clients
    )
    customers = tuple(
        QboCustomerRow(
            qbo_id=f"C{c.id}",
            name=c.name,
            full_name=c.name,
            parent_qbo_id=None,
            balance=None,
            active=True,
            sync_token="0",
            linked_to=f"the client {c.name!r}",
        )
        for c in snapshot.clients
    ) + tuple(
        QboCustomerRow(
            qbo_id=f"P{p.id}",
            name=p.name,
            full_name=f"{c.name}:{p.name}",
            parent_qbo_id=f"C{c.id}",
            balance=None,
            active=True,
            sync_token="0",
            linked_to=f"the project {p.number}",
        )
        for c in snapshot.clients
        for p in c.projects
    )
    start = datetime(2026, 11, 2, tzinfo=UTC)
    log = tuple(
        LogRow(
            id=run * 10_000 + n,
            at=start + timedelta(seconds=n),
            direction="push",
            entity_kind="invoice",
            label=invoice.number or "",
            qbo_id=invoice.qbo_id,
            action="create",
            level="info",
            reason=None,
            run_id=run,
        )
        for n, invoice in enumerate(invoices[:2000])
    )
    return replace(snapshot, invoices=invoices, clients=clients, customers=customers, log=log)


def run(args: argparse.Namespace) -> int:
    from PySide6.QtCore import QSettings, QTimer  # noqa: TID251  (timing the window's slot)

    from factor_desktop.secrets import TokenStore
    from factor_desktop.store.db import open_store
    from factor_desktop.ui.application import make_application
    from factor_desktop.ui.main_window import MainWindow
    from factor_desktop.ui.qt import close_event_loop, new_event_loop

    with tempfile.TemporaryDirectory(prefix="bench-refresh-") as folder:
        scratch = Path(folder)
        store_path = scratch / "bench.sqlite3"
        setup = build_firm(store_path, args.customers, args.invoices)
        app = make_application()
        loop = new_event_loop(app)
        asyncio.set_event_loop(loop)
        store = open_store(store_path)
        timings: list[tuple[float, float]] = []
        apply = MainWindow._on_snapshot

        def timed(window: MainWindow, snapshot: Any) -> None:
            wall, cpu = time.perf_counter(), time.thread_time()
            apply(window, snapshot)
            app.processEvents()
            timings.append((time.perf_counter() - wall, time.thread_time() - cpu))

        MainWindow._on_snapshot = timed  # type: ignore[method-assign]
        settings = QSettings(str(scratch / "ui.ini"), QSettings.Format.IniFormat)
        window = MainWindow(
            store,
            TokenStore("bench"),
            open_url=lambda _url: None,
            ui_settings=settings,
            remember_layout=False,
        )
        window.resize(1280, 800)
        window.show()

        def rounds() -> None:
            first = window.snapshot
            assert first is not None
            gc.collect()
            for n in range(args.rounds + 1):
                snapshot = pushed(first, n + 1)
                app.processEvents()
                window._on_snapshot(snapshot)
                del snapshot
            loop.stop()

        started: list[bool] = []

        def opened(_snapshot: object) -> None:
            if not started:  # the rounds' own snapshots are applied with this signal too
                started.append(True)
                QTimer.singleShot(300, rounds)

        window.snapshotApplied.connect(opened)
        QTimer.singleShot(int(args.timeout * 1000), loop.stop)
        try:
            loop.run_forever()
        finally:
            window.shutdown()
            window.close()
            store.close()
            asyncio.set_event_loop(None)
            close_event_loop(loop)

    def ms(value: float) -> float:
        return round(value * 1000, 1)

    if not timings:
        emit(figure="gui_refresh", error=f"no snapshot within {args.timeout} s")
        return 1
    wall, cpu = timings[0]
    emit(figure=f"gui_refresh_open_{args.invoices}", wall_ms=ms(wall), cpu_ms=ms(cpu))
    after = timings[1:]
    if len(after) < 2:
        emit(figure="gui_refresh", error="the rounds did not run")
        return 1
    emit(
        figure=f"gui_refresh_pushed_{args.invoices}",
        first_wall_ms=ms(after[0][0]),
        first_cpu_ms=ms(after[0][1]),
        median_wall_ms=ms(statistics.median(t[0] for t in after[1:])),
        median_cpu_ms=ms(statistics.median(t[1] for t in after[1:])),
        rounds=len(after) - 1,
        firm_setup_s=round(setup, 1),
        platform=app.platformName(),
    )
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--invoices", type=int, default=10_000)
    parser.add_argument("--customers", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--timeout", type=float, default=600.0)
    return run(parser.parse_args())


if __name__ == "__main__":
    sys.exit(main())
