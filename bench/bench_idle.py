#!/usr/bin/env python3
"""Requests a sync pass makes when nothing changed, and right after a bulk change.

    .venv/bin/python bench/bench_idle.py [--invoices 1000] [--customers 50]

Starts its own sandbox with QuickBooks' rate limits, builds a firm (``--customers`` clients with
a project each, ``--invoices`` finalized invoices), and runs the app's sync engine with all its
steps (lists, customers, invoices, pull) three times: the pass that pushes everything, the pass
right after it (QuickBooks' change data capture now holds the bulk of our own writes), and an idle
pass, and an idle pass once the change capture's five-minute overlap has passed the bulk. Prints
one JSON line per pass with the requests it made, by endpoint.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

from bench_push import _Connection, build_firm

from factor_desktop.qbo.client import QboClient
from factor_desktop.qbo.ratelimit import RateLimiter
from factor_desktop.sandbox import SandboxConfig, SandboxServer
from factor_desktop.store.db import open_store
from factor_desktop.sync.engine import SyncEngine
from factor_desktop.sync.reference import CDC_OVERLAP


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--invoices", type=int, default=1_000)
    parser.add_argument("--customers", type=int, default=50)
    args = parser.parse_args()
    config = SandboxConfig(seed="empty", rate_limits=True)
    with tempfile.TemporaryDirectory(prefix="bench-idle-") as folder, SandboxServer(config) as qbo:
        scratch = Path(folder)
        build_firm(scratch / "bench.sqlite3", args.customers, args.invoices)
        store = open_store(scratch / "bench.sqlite3")
        try:
            for name in ("push", "after_bulk", "idle", "idle_after_overlap"):
                if name == "idle_after_overlap":
                    # The change capture re-reads the last five minutes (clock differences):
                    # once they have passed, the bulk is behind every cursor.
                    qbo.advance_clock(CDC_OVERLAP.total_seconds() + 1)
                client = QboClient(
                    qbo.base_url, qbo.realm_id, qbo.token_source(), rate_limiter=RateLimiter()
                )
                engine = SyncEngine(
                    store,
                    _Connection(client),  # type: ignore[arg-type]
                    scratch / "attachments",
                    clock=qbo.clock.now,
                )
                started = time.perf_counter()
                summary = engine.run()
                print(
                    json.dumps(
                        {
                            "figure": f"pass_{name}",
                            "requests": summary.requests_used,
                            "limit": {"push": None, "after_bulk": 2}.get(name, 1),
                            "by_endpoint": client.requests_by_endpoint,
                            "seconds": round(time.perf_counter() - started, 1),
                            "status": summary.status,
                            "created": summary.counts.get("created", 0),
                            "cdc_capped": summary.counts.get("cdc_capped", 0),
                        }
                    ),
                    flush=True,
                )
                time.sleep(2)
        finally:
            store.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
