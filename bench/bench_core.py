#!/usr/bin/env python3
"""Figures for the core: demo-firm import, read-outs, and QBO client round trips to the sandbox.

    .venv/bin/python bench/bench_core.py [--requests 300]

Prints one line per figure. Nothing here asserts a target; the figures go into issue notes and
are compared between versions.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import resource
import statistics
import tempfile
import time
from pathlib import Path

from factor_desktop.cli.imports import run_import
from factor_desktop.cli.reports import run_report
from factor_desktop.qbo.client import BatchItem, QboClient
from factor_desktop.qbo.query import select
from factor_desktop.sandbox import SandboxConfig, SandboxServer


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def _percentiles(samples: list[float]) -> str:
    ordered = sorted(samples)
    p95 = ordered[int(len(ordered) * 0.95) - 1]
    return f"p50 {_ms(statistics.median(ordered))}, p95 {_ms(p95)}"


def bench_import(scratch: Path) -> None:
    with contextlib.redirect_stdout(io.StringIO()):
        started = time.perf_counter()
        run_import(scratch, "bench", "demo", as_json=True)
        first = time.perf_counter() - started
        started = time.perf_counter()
        run_import(scratch, "bench", "demo", as_json=True)
        again = time.perf_counter() - started
        started = time.perf_counter()
        run_report(scratch, "bench", "projects", as_json=True, csv_path=None)
        report = time.perf_counter() - started
    print(f"import demo firm (fresh store, migrations included): {_ms(first)}")
    print(f"import demo firm again (no-op): {_ms(again)}")
    print(f"report projects --json (30 projects, 218 budget lines): {_ms(report)}")


def bench_client(requests: int) -> None:
    with SandboxServer(SandboxConfig(seed="demo")) as qbo:
        client = QboClient(qbo.base_url, qbo.realm_id, qbo.token_source())
        reads, creates = [], []
        for _ in range(requests):
            started = time.perf_counter()
            client.company_info()
            reads.append(time.perf_counter() - started)
        for n in range(requests // 3):
            started = time.perf_counter()
            client.create("Customer", {"DisplayName": f"Bench Client {n:04d}"})
            creates.append(time.perf_counter() - started)
        items = [
            BatchItem.create(f"b{n}", "Customer", {"DisplayName": f"Batch Client {n:04d}"})
            for n in range(300)
        ]
        started = time.perf_counter()
        client.batch(items)
        batch = time.perf_counter() - started
        started = time.perf_counter()
        rows = list(client.query_all(select("Customer").order_by("Id")))
        paged = time.perf_counter() - started
        print(f"read CompanyInfo x{requests}: {_percentiles(reads)}")
        print(f"create Customer x{len(creates)}: {_percentiles(creates)}")
        print(f"batch create 300 customers (10 requests): {_ms(batch)}")
        print(f"query_all {len(rows)} customers: {_ms(paged)}")
        print(f"client requests made: {client.request_count}")
        client.close()


def bench_sync(scratch: Path) -> None:
    """The demo firm against the demo company: the first full pass, then a pass with no news."""
    import keyring

    from factor_desktop.demo import DemoSession
    from factor_desktop.secrets import MemoryKeyring
    from factor_desktop.sync.connection import ConnectionService
    from factor_desktop.sync.engine import SyncEngine

    keyring.set_keyring(MemoryKeyring())
    demo = DemoSession(scratch, fresh=True)
    try:
        demo.start_sandbox()
        demo.load_firm()
        connection = ConnectionService(demo.ctx.store, demo.ctx.tokens)
        demo.connect(connection)
        demo.prepare_mappings(connection)
        engine = SyncEngine(demo.ctx.store, connection, demo.ctx.data.attachments)
        # The client paces itself at QBO's 10 requests per second, as it must against QBO.
        for label in ("first sync pass (demo firm to demo company)", "next pass, nothing new"):
            summary = engine.run()
            done = {
                k: v for k, v in summary.counts.items() if k in ("created", "linked", "blocked")
            }
            print(
                f"{label}: {_ms(summary.duration_s)}, {summary.requests_used} requests, "
                f"{summary.status}, {done}"
            )
        connection.http.close()
    finally:
        demo.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=300)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        bench_import(Path(scratch))
    bench_client(args.requests)
    with tempfile.TemporaryDirectory() as scratch:
        bench_sync(Path(scratch))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(f"peak resident memory: {peak / 1024:.0f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
