#!/usr/bin/env python3
"""Pulling many expense lines: the first sync of a QuickBooks company with N expense lines.

    .venv/bin/python bench/bench_pull.py [--lines 50000] [--lines-per-txn 1]

A sandbox company (the demo company, plus N expense lines on its projects, written straight into
the sandbox's store: its fastest path, not the API) is served by a sandbox in a process of its
own, so the figures of this process are the app's alone. The demo firm is connected to it
through the real OAuth flow, its projects linked and its expense types mapped, and one sync pass
runs through the engine with its default steps, the way `factor-desktop sync` runs it.

Prints one JSON line:

    {"figure": "pull_50000", "seconds": ..., "limit_s": 120, "peak_rss_mb": ..., "limit_mb": 300,
     "sql_per_line": ..., "requests": ..., ...}

`seconds` is the app's time: the pass's wall time less the time spent inside QuickBooks calls
(waiting for the sandbox, which answers a page in time that grows with the company). Both are
printed beside it (`wall_seconds`, `client_seconds`), and so is the CPU time this process used
during the pass (`cpu_seconds`: on a busy machine, wall time also counts waiting for a core).
`sql_per_line` counts the SQL statements the firm database ran during the pass. `expenses` is how
many expenses the store holds afterwards (N plus the demo company's own), `distinct_lines` how
many distinct QuickBooks lines they come from: equal when every line came in once.
"""

from __future__ import annotations

import argparse
import copy
import json
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

LIMIT_S = 120
LIMIT_MB = 300

#: Factor expense type -> the demo company's expense account it is mapped to.
MAPPINGS: dict[str, str] = {
    "Structural Engineering": "Structural Engineering Consultants",
    "MEP Engineering": "MEP Engineering Consultants",
    "Landscape Architecture": "Landscape Architecture Consultants",
    "Printing & Reproduction": "Printing and Reproduction",
    "Travel": "Travel",
    "Mileage": "Mileage",
}
#: The demo company's project not linked to the firm (its lines are skipped).
UNLINKED = "Kitchen Remodel"


# --------------------------------------------------------------------------------------------
# The sandbox company (run in a child process, so its memory is not the app's)
# --------------------------------------------------------------------------------------------


def seed(state: Path, lines: int, per_txn: int) -> None:
    """The demo company plus `lines` expense lines on its linked projects, in `per_txn` lines
    per Purchase, written to the sandbox store in one transaction."""
    from factor_desktop.sandbox import SandboxConfig
    from factor_desktop.sandbox.core import Sandbox
    from factor_desktop.sandbox.entities import BY_NAME
    from factor_desktop.sandbox.store import Record

    sandbox = Sandbox(SandboxConfig(state_path=state, seed="demo", random_seed=7))
    try:
        company = sandbox.company
        ctx = company.ctx()
        projects = [
            record
            for record in ctx.all("Customer")
            if record.doc.get("Job") and record.doc.get("DisplayName") != UNLINKED
        ]
        accounts = {str(r.doc["Name"]): r for r in ctx.all("Account")}
        expense_accounts = [accounts[name] for name in MAPPINGS.values()]
        vendors = ctx.all("Vendor")
        # One Purchase through the sandbox's own rules: the shape every copy takes.
        made = company.create(
            BY_NAME["Purchase"],
            {
                "PaymentType": "Cash",
                "AccountRef": {"value": accounts["Checking"].id},
                "EntityRef": {"value": vendors[0].id, "type": "Vendor"},
                "Line": [
                    {
                        "Amount": 1,
                        "Description": "template",
                        "DetailType": "AccountBasedExpenseLineDetail",
                        "AccountBasedExpenseLineDetail": {
                            "AccountRef": {"value": expense_accounts[0].id},
                            "CustomerRef": {"value": projects[0].id},
                            "BillableStatus": "Billable",
                        },
                    }
                ],
            },
            set(),
        )
        stored = ctx.get("Purchase", str(made["Id"]))
        assert stored is not None
        template = stored.doc
        line_template = template["Line"][0]
        today = sandbox.clock.today()
        txns = -(-lines // per_txn)
        written = 0
        with sandbox.store.transaction():
            for n in range(txns):
                entity_id = ctx.next_id("txn", 1)
                doc = copy.deepcopy(template)
                vendor = vendors[n % len(vendors)]
                doc["Id"] = entity_id
                doc["DocNumber"] = f"B-{n:06d}"
                doc["TxnDate"] = (today - timedelta(days=n % 25)).isoformat()
                doc["EntityRef"] = {
                    "value": vendor.id,
                    "name": vendor.doc["DisplayName"],
                    "type": "Vendor",
                }
                doc_lines = []
                total = 0
                for k in range(min(per_txn, lines - written)):
                    account = expense_accounts[(n + k) % len(expense_accounts)]
                    project = projects[(n * per_txn + k) % len(projects)]
                    cents = 500 + (n * 7919 + k * 104729) % 250000
                    line = copy.deepcopy(line_template)
                    line["Id"] = str(k + 1)
                    line["Description"] = f"Bench expense {n}-{k}"
                    line["Amount"] = cents / 100
                    detail = line["AccountBasedExpenseLineDetail"]
                    detail["AccountRef"] = {"value": account.id, "name": account.doc["Name"]}
                    detail["CustomerRef"] = {
                        "value": project.id,
                        "name": project.doc["DisplayName"],
                    }
                    doc_lines.append(line)
                    total += cents
                written += len(doc_lines)
                doc["Line"] = doc_lines
                doc["TotalAmt"] = total / 100
                ctx.save(Record("Purchase", entity_id, doc))
            template_record = ctx.get("Purchase", str(made["Id"]))
            assert template_record is not None
            company.delete(
                BY_NAME["Purchase"],
                {"Id": template_record.id, "SyncToken": template_record.doc["SyncToken"]},
            )
    finally:
        sandbox.close()


@contextmanager
def serve(state: Path) -> Iterator[dict[str, Any]]:
    """The sandbox company in `state`, served by `factor-desktop sandbox` in its own process."""
    process = subprocess.Popen(
        [sys.executable, "-m", "factor_desktop.sandbox", "--state", str(state), "--auto-approve"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        described: dict[str, Any] = json.loads(process.stdout.readline())
        yield described
    finally:
        process.terminate()
        process.wait(timeout=30)


# --------------------------------------------------------------------------------------------
# The app
# --------------------------------------------------------------------------------------------


def run_pass(scratch: Path, sandbox: dict[str, Any], lines: int) -> dict[str, Any]:
    import keyring
    import requests
    from sqlalchemy import delete, event, func, select

    from factor_desktop.importer import import_demo
    from factor_desktop.qbo.client import QboClient
    from factor_desktop.qbo.query import select as qbo_select
    from factor_desktop.secrets import MemoryKeyring, TokenStore
    from factor_desktop.services.links import link_project
    from factor_desktop.store.db import open_store
    from factor_desktop.store.models import Expense as ExpenseRow
    from factor_desktop.store.models import ExpenseType, Mapping, OutboxItem, Project
    from factor_desktop.sync.connection import ConnectionService
    from factor_desktop.sync.engine import SyncEngine

    keyring.set_keyring(MemoryKeyring())
    store = open_store(scratch / "firm.sqlite3")
    import_demo(store)
    connection = ConnectionService(store, TokenStore("bench"))
    pending = connection.begin(
        sandbox["discovery_url"], sandbox["client_id"], sandbox["client_secret"]
    )
    requests.get(pending.authorize_url, timeout=30)
    connection.connect_with_loopback(pending, timeout=30)

    # The firm as an administrator leaves it after setting up: projects linked, expense types
    # mapped, and its own invoices already in QuickBooks (nothing queued to send).
    setup = connection.client()
    try:
        jobs = setup.query(qbo_select("Customer").where("Job", "=", True))
        accounts = {str(row["Name"]): str(row["Id"]) for row in setup.query(qbo_select("Account"))}
    finally:
        setup.close()
    with store.session() as session:
        session.execute(delete(OutboxItem))
        for job in jobs:
            if job["DisplayName"] == UNLINKED:
                continue
            project = session.scalars(
                select(Project).where(Project.name == job["DisplayName"])
            ).one()
            link_project(session, project.id, str(job["Id"]))
        for type_name, account in MAPPINGS.items():
            type_id = session.scalars(
                select(ExpenseType.id).where(ExpenseType.name == type_name)
            ).one()
            session.add(Mapping(kind="expense_type", local_id=type_id, qbo_id=accounts[account]))

    # Time inside QuickBooks calls (the client's transport), and SQL statements run.
    client_seconds = 0.0
    send = QboClient._send  # measured, not changed

    def timed_send(self: QboClient, *args: Any, **kwargs: Any) -> Any:
        nonlocal client_seconds
        started = time.perf_counter()
        try:
            return send(self, *args, **kwargs)
        finally:
            client_seconds += time.perf_counter() - started

    QboClient._send = timed_send  # type: ignore[method-assign]
    statements = 0

    def count(*_args: Any) -> None:
        nonlocal statements
        statements += 1

    event.listen(store.engine, "before_cursor_execute", count)
    engine = SyncEngine(store, connection, scratch / "attachments")
    started, cpu_started = time.perf_counter(), time.process_time()
    summary = engine.run()
    wall, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    event.remove(store.engine, "before_cursor_execute", count)
    QboClient._send = send  # type: ignore[method-assign]
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    with store.session() as session:
        expenses = session.scalar(select(func.count()).select_from(ExpenseRow)) or 0
        distinct = (
            session.scalar(
                select(func.count()).select_from(
                    select(ExpenseRow.qbo_txn_type, ExpenseRow.qbo_id, ExpenseRow.qbo_line_id)
                    .distinct()
                    .subquery()
                )
            )
            or 0
        )
    connection.http.close()
    store.close()
    return {
        "figure": f"pull_{lines}",
        "seconds": round(wall - client_seconds, 1),
        "limit_s": LIMIT_S,
        "peak_rss_mb": round(peak),
        "limit_mb": LIMIT_MB,
        "sql_per_line": round(statements / lines, 2),
        "requests": summary.requests_used,
        "wall_seconds": round(wall, 1),
        "client_seconds": round(client_seconds, 1),
        "cpu_seconds": round(cpu, 1),
        "status": summary.status,
        "created": summary.counts.get("created", 0),
        "expenses": expenses,
        "distinct_lines": distinct,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=50000)
    parser.add_argument("--lines-per-txn", type=int, default=1)
    parser.add_argument("--seed-only", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.seed_only is not None:
        seed(args.seed_only, args.lines, args.lines_per_txn)
        return 0
    with tempfile.TemporaryDirectory(prefix="bench-pull-") as folder:
        scratch = Path(folder)
        state = scratch / "company.sqlite3"
        started = time.perf_counter()
        subprocess.run(
            [
                sys.executable,
                __file__,
                "--seed-only",
                str(state),
                "--lines",
                str(args.lines),
                "--lines-per-txn",
                str(args.lines_per_txn),
            ],
            check=True,
        )
        seeded = time.perf_counter() - started
        print(f"seeded {args.lines} lines in {seeded:.1f} s", file=sys.stderr)
        with serve(state) as sandbox:
            figures = run_pass(scratch, sandbox, args.lines)
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
