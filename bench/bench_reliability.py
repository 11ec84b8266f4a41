#!/usr/bin/env python3
"""The fault storm and SIGKILL trials: does the firm end where one clean sync ends?

    .venv/bin/python bench/bench_reliability.py [--kills 10] [--fail-5xx 0.2] [--drop 0.2]

The demo firm is imported, connected to a local sandbox (the demo company) and mapped. Then,
with QuickBooks answering a share of requests with 5xx and dropping a share of replies after
committing, `factor-desktop sync` runs in child processes that are killed (SIGKILL) at random
moments, `--kills` times. Passes then run, faults still on, until one ends ok having nothing
left to do (that pass is counted). Each pass is shown on stderr. Prints one JSON line: the kills,
the passes it took to converge, and what a clean
sync would have been judged by: invoices and customers in QuickBooks more than once
(duplicates) and finalized invoices or linked records QuickBooks does not have (missing).
Both should be 0. Nothing here asserts; the figures go into notes and are compared.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import keyring
import requests

MAPS = [
    ("service-type", "Programming", "Programming"),
    ("service-type", "Schematic Design", "Schematic Design"),
    ("service-type", "Design Development", "Design Development"),
    ("service-type", "Construction Documents", "Construction Documents"),
    ("service-type", "Bidding & Negotiation", "Bidding & Negotiation"),
    ("service-type", "Construction Administration", "Construction Administration"),
    ("tax-term", "NON", "NON"),
    ("tax-term", "PA-CITY", "Alder County", "--tax-rule", "override"),
]
EXPENSE_MAPS = [
    ("Structural Engineering", "Structural Engineering Consultants", "Consultant Fees"),
    ("MEP Engineering", "MEP Engineering Consultants", "Consultant Fees"),
    ("Landscape Architecture", "Landscape Architecture Consultants", "Consultant Fees"),
    ("Printing & Reproduction", "Printing and Reproduction", "Reimbursable Expenses"),
    ("Travel", "Travel", "Reimbursable Expenses"),
    ("Mileage", "Mileage", "Reimbursable Expenses"),
]
KEYRING = "tests.support.file_keyring.TestFileKeyring"


def _cli(data: Path, env: dict[str, str], *args: str, check: bool = True) -> Any:
    done = subprocess.run(
        [sys.executable, "-m", "factor_desktop", "--data-dir", str(data), *args],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    if check and done.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(args)} failed:\n{done.stderr[-3000:]}")
    out = done.stdout.strip()
    return json.loads(out) if out.startswith(("{", "[")) else out


def _killed_pass(data: Path, env: dict[str, str], delay: float) -> bool:
    """A sync killed after `delay` seconds. True when the kill landed before it ended."""
    child = subprocess.Popen(
        [sys.executable, "-m", "factor_desktop", "--data-dir", str(data), "sync", "--json"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
    )
    try:
        child.wait(delay)
        return False
    except subprocess.TimeoutExpired:
        child.send_signal(signal.SIGKILL)
        child.wait()
        return True


def _qbo_rows(base: Path, env: dict[str, str], data: Path) -> tuple[list[Any], list[Any]]:
    """Invoices and customers as QuickBooks has them now (read with the firm's connection)."""
    script = (
        "import json, sys\n"
        "from pathlib import Path\n"
        "from factor_desktop.app import open_context\n"
        "from factor_desktop.qbo.query import select\n"
        "from factor_desktop.sync.connection import ConnectionService\n"
        "ctx = open_context(Path(sys.argv[1]))\n"
        "client = ConnectionService(ctx.store, ctx.tokens).client()\n"
        "invoices = list(client.query_all(select('Invoice')))\n"
        "customers = list("
        "client.query_all(select('Customer').where('Active', 'IN', [True, False])))\n"
        "print(json.dumps([invoices, customers]))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, str(data)],
        capture_output=True,
        text=True,
        env=env,
        check=True,
        cwd=base,
    )
    invoices, customers = json.loads(done.stdout)
    return invoices, customers


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kills", type=int, default=10)
    parser.add_argument("--fail-5xx", type=float, default=0.2)
    parser.add_argument("--drop", type=float, default=0.2, help="replies dropped after commit")
    parser.add_argument("--max-passes", type=int, default=8)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    root = Path(__file__).resolve().parent.parent
    sys.path.insert(0, str(root))

    from factor_desktop.app import open_context
    from factor_desktop.sandbox import SandboxConfig, SandboxServer
    from factor_desktop.sync.connection import ConnectionService
    from tests.support.file_keyring import TestFileKeyring

    with (
        tempfile.TemporaryDirectory(prefix="bench-reliability-") as folder,
        SandboxServer(SandboxConfig(seed="demo", auto_approve=True, random_seed=args.seed)) as qbo,
    ):
        scratch = Path(folder)
        data = scratch / "data"
        env = dict(os.environ)
        env.update(
            PYTHON_KEYRING_BACKEND=KEYRING,
            FACTOR_TEST_KEYRING_FILE=str(scratch / "keyring.json"),
            PYTHONPATH=str(root),
        )
        os.environ["FACTOR_TEST_KEYRING_FILE"] = env["FACTOR_TEST_KEYRING_FILE"]
        keyring.set_keyring(TestFileKeyring())  # type: ignore[no-untyped-call]

        _cli(data, env, "import", "demo")
        ctx = open_context(data)
        service = ConnectionService(ctx.store, ctx.tokens)
        pending = service.begin(qbo.discovery_url, qbo.client_id, qbo.client_secret)
        requests.get(pending.authorize_url, timeout=10)
        service.connect_with_loopback(pending, timeout=10)
        service.http.close()
        ctx.close()
        began = time.monotonic()
        _cli(data, env, "sync", "--json")  # QuickBooks' lists, for the mappings
        # Kills land anywhere from start-up to well past a whole pass of this length.
        span = max(2.0, 3 * (time.monotonic() - began))
        for kind, local, remote, *extra in MAPS:
            _cli(data, env, "map", kind, local, remote, *extra)
        for local, account, item in EXPENSE_MAPS:
            _cli(data, env, "map", "expense-type", local, account, "--item", item)

        qbo.sandbox.knobs.update(
            {"fail_5xx_rate": args.fail_5xx, "drop_after_commit_rate": args.drop}
        )
        started = time.monotonic()
        landed = sum(_killed_pass(data, env, rng.uniform(0.3, span)) for _ in range(args.kills))
        passes = 0
        converged = False
        while passes < args.max_passes and not converged:
            passes += 1
            summary = _cli(data, env, "sync", "--retry", "--json")
            counts = summary.get("counts", {}) if isinstance(summary, dict) else {}
            work = sum(counts.get(k, 0) for k in ("created", "updated", "failed", "blocked"))
            status = summary.get("status") if isinstance(summary, dict) else summary
            error = summary.get("error") if isinstance(summary, dict) else None
            print(f"pass {passes}: {status} {counts} {error or ''}", file=sys.stderr, flush=True)
            converged = isinstance(summary, dict) and summary.get("status") == "ok" and not work
        qbo.sandbox.knobs.update({"fail_5xx_rate": 0.0, "drop_after_commit_rate": 0.0})

        invoices, customers = _qbo_rows(root, env, data)
        local = _cli(data, env, "report", "invoices", "--json")
        ours = {row["number"] for row in local if row["number"]}
        numbers = Counter(str(i.get("DocNumber")) for i in invoices)
        names = Counter(str(c.get("FullyQualifiedName") or c.get("DisplayName")) for c in customers)
        duplicates = sum(n - 1 for number, n in numbers.items() if number in ours and n > 1)
        duplicates += sum(n - 1 for n in names.values() if n > 1)
        in_qbo_ids = {str(i["Id"]) for i in invoices}
        missing = sum(
            1
            for row in local
            if row["status"] != "draft" and (not row["qbo_id"] or row["qbo_id"] not in in_qbo_ids)
        )
        print(
            json.dumps(
                {
                    "kills": args.kills,
                    "kills_mid_pass": landed,
                    "fail_5xx_rate": args.fail_5xx,
                    "drop_after_commit_rate": args.drop,
                    "passes_to_converge": passes if converged else None,
                    "duplicates": duplicates,
                    "missing": missing,
                    "seconds": round(time.monotonic() - started, 1),
                }
            ),
            flush=True,
        )


if __name__ == "__main__":
    main()
