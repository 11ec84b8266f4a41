#!/usr/bin/env python3
"""Push throughput at QuickBooks' real limits, beside a naive client in the same run.

    .venv/bin/python bench/bench_push.py [--invoices 10000] [--customers 200]
                                         [--naive 1000] [--time-scale 1.0]

Starts its own sandbox, in a process of its own as QuickBooks is, with QuickBooks' rate limits
(500 requests/minute, 10/second, 40 batch requests/minute, 30 items a batch), builds a firm with
``--customers`` clients (one project each) and ``--invoices`` finalized invoices, connects through
the real OAuth flow, and runs the app's own sync engine over them (lists, customers, outbox).
Then the naive baseline: python-quickbooks (the ``bench`` extra), one ``Invoice.save()`` at a
time, sleeping one (scaled) second on a 429, for ``--naive`` invoices.

``--time-scale X`` runs both sides compressed: the sandbox's windows and the app's pacer are
scaled by the same X (``FACTOR_DESKTOP_QBO_TIME_SCALE``), and every rate is reported per
QuickBooks minute. The ceiling is what the limits allow for creates: 40 batches of 30 plus the
rest of the 500 requests as singles, 1,660 writes a minute.

Prints one JSON line per figure.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import keyring
import requests

from factor_desktop import services as sv
from factor_desktop.qbo.client import QboClient
from factor_desktop.secrets import MemoryKeyring, TokenStore
from factor_desktop.services.invoices import enqueue
from factor_desktop.settings import update_setting
from factor_desktop.store.db import Store, open_store
from factor_desktop.store.models import Invoice, InvoiceLine, Project
from factor_desktop.sync.connection import ConnectionService
from factor_desktop.sync.engine import SyncEngine
from factor_desktop.sync.push import push_customers, push_outbox
from factor_desktop.sync.reference import refresh_reference

CEILING = 40 * 30 + (500 - 40)  # creates a QuickBooks minute can take
FEE = Decimal("125.00")


def emit(**figure: Any) -> None:
    print(json.dumps(figure), flush=True)


class _Connection:
    """What the engine asks of a connection: a client for the company."""

    def __init__(self, client: QboClient) -> None:
        self._client = client

    def client(self) -> QboClient:
        return self._client


def build_firm(store_path: Path, customers: int, invoices: int) -> float:
    started = time.perf_counter()
    store = open_store(store_path)
    session = store.sessions()
    try:
        update_setting(session, "auto_create_customers", True)
        update_setting(session, "auto_create_projects", True)
        projects = []
        for n in range(customers):
            client = sv.create_client(session, sv.ClientFields(name=f"Bench Client {n:05d}"))
            project = sv.create_project(
                session,
                sv.ProjectFields(client_id=client.id, number=f"B{n:05d}", name=f"Project {n:05d}"),
            )
            projects.append(project.id)
        session.commit()
        # The invoices as finalizing leaves them (number, totals, the outbox row), written
        # directly: finalizing 10,000 drafts one by one would make the set-up the benchmark.
        issued = datetime.now(UTC)
        for n in range(invoices):
            project = session.get(Project, projects[n % len(projects)])
            assert project is not None
            invoice = Invoice(
                number=f"INV-{n + 1:05d}",
                project_id=project.id,
                status="final",
                issue_date=date(2026, 11, 2),
                due_date=date(2026, 12, 2),
                subtotal=FEE,
                total=FEE,
                balance=FEE,
                project_details={
                    "number": project.number,
                    "name": project.name,
                    "client": project.client.name,
                },
                finalized_at=issued,
            )
            invoice.lines.append(
                InvoiceLine(position=1, kind="other", description="Fee", amount=FEE)
            )
            session.add(invoice)
            session.flush()
            enqueue(session, "invoice", invoice.id, "create")
            if n % 1000 == 999:
                session.commit()
        session.commit()
    finally:
        session.close()
        store.close()
    return time.perf_counter() - started


@contextmanager
def serve(scale: float) -> Iterator[dict[str, Any]]:
    """A sandbox with QuickBooks' limits, served by `factor-desktop sandbox` in its own process."""
    command = [sys.executable, "-m", "factor_desktop.sandbox", "--auto-approve", "--rate-limits"]
    command += ["--time-scale", str(scale)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        described: dict[str, Any] = json.loads(process.stdout.readline())
        yield described
    finally:
        process.terminate()
        process.wait(timeout=30)


def connect(store: Store, sandbox: dict[str, Any]) -> ConnectionService:
    keyring.set_keyring(MemoryKeyring())
    connection = ConnectionService(store, TokenStore("bench"))
    pending = connection.begin(
        sandbox["discovery_url"], sandbox["client_id"], sandbox["client_secret"]
    )
    requests.get(pending.authorize_url, timeout=30)
    connection.connect_with_loopback(pending, timeout=30)
    return connection


def bench_app(
    sandbox: dict[str, Any], scratch: Path, customers: int, invoices: int, scale: float
) -> str:
    """The app's push; returns an access token for the naive client."""
    store_path = scratch / "bench.sqlite3"
    setup = build_firm(store_path, customers, invoices)
    store = open_store(store_path)
    connection = connect(store, sandbox)
    engine = SyncEngine(
        store,
        connection,
        scratch / "attachments",
        steps=[
            ("lists", refresh_reference),
            ("customers", push_customers),
            ("invoices", push_outbox),
        ],
    )
    requests_by_endpoint: dict[str, int] = {}
    send = QboClient._send

    def counted(self: QboClient, method: str, url: str, path: str, endpoint: str, *a: Any) -> Any:
        requests_by_endpoint[endpoint] = requests_by_endpoint.get(endpoint, 0) + 1
        return send(self, method, url, path, endpoint, *a)

    QboClient._send = counted  # type: ignore[method-assign]
    started = time.perf_counter()
    try:
        summary = engine.run()
    finally:
        QboClient._send = send  # type: ignore[method-assign]
    elapsed = time.perf_counter() - started
    client = connection.client()
    token = client._tokens.access_token()
    client.close()
    connection.http.close()
    store.close()
    writes = summary.counts.get("created", 0)
    minutes = elapsed / scale / 60
    stats = connection.rate_limiter.stats()
    emit(
        figure=f"push_{invoices}",
        invoices=invoices,
        customers=customers * 2,
        writes=writes,
        status=summary.status,
        seconds=round(elapsed, 1),
        qbo_minutes=round(minutes, 2),
        writes_per_min=round(writes / minutes),
        ceiling=CEILING,
        ratio=round(writes / minutes / CEILING, 3),
        throttled=stats.throttled,
        requests=summary.requests_used,
        batch_requests=requests_by_endpoint.get("POST batch", 0),
        single_creates=requests_by_endpoint.get("POST invoice", 0)
        + requests_by_endpoint.get("POST customer", 0),
        firm_setup_s=round(setup, 1),
        time_scale=scale,
    )
    return str(token)


def bench_naive(sandbox: dict[str, Any], token: str, invoices: int, scale: float) -> float | None:
    """python-quickbooks, one save at a time, a (scaled) second's sleep on a 429."""
    try:
        from quickbooks import QuickBooks
        from quickbooks.exceptions import QuickbooksException
        from quickbooks.objects.customer import Customer
        from quickbooks.objects.detailline import SalesItemLine, SalesItemLineDetail
        from quickbooks.objects.invoice import Invoice
    except ImportError:
        emit(figure="naive", skipped="install the bench extra: pip install -e '.[bench]'")
        return None
    os.environ["OAUTHLIB_INSECURE_TRANSPORT"] = "1"  # the sandbox speaks http on loopback
    QuickBooks.sandbox_api_url_v3 = f"{sandbox['base_url'].rstrip('/')}/v3"
    # The library's own session over a token the sandbox issued (intuitlib's AuthClient would
    # fetch Intuit's discovery document, which is not reachable here).
    auth = SimpleNamespace(
        client_id="bench",
        environment="sandbox",
        access_token=token,
        refresh_token="unused",
    )
    qb = QuickBooks(auth_client=auth, company_id=sandbox["realm_id"], minorversion=75)
    throttled = 0

    def save(obj: Any) -> None:
        nonlocal throttled
        while True:
            try:
                obj.save(qb=qb)
                return
            except QuickbooksException as error:
                if (
                    "429" not in str(error)
                    and "Throttl" not in str(error)
                    and error.error_code != 429
                ):
                    raise
                throttled += 1
                time.sleep(1.0 * scale)

    time.sleep(60 * scale)  # let the app's minute leave the windows
    customer = Customer()
    customer.DisplayName = "Naive Bench Customer"
    save(customer)
    started = time.perf_counter()
    for n in range(invoices):
        invoice = Invoice()
        invoice.DocNumber = f"NAIVE-{n:05d}"
        invoice.CustomerRef = customer.to_ref()
        line = SalesItemLine()
        line.Amount = 125
        line.SalesItemLineDetail = SalesItemLineDetail()
        invoice.Line = [line]
        save(invoice)
    elapsed = time.perf_counter() - started
    minutes = elapsed / scale / 60
    emit(
        figure=f"naive_{invoices}",
        client="python-quickbooks Invoice.save(), 1 s sleep on 429",
        writes=invoices,
        seconds=round(elapsed, 1),
        writes_per_min=round(invoices / minutes),
        ceiling=CEILING,
        ratio=round(invoices / minutes / CEILING, 3),
        throttled=throttled,
        time_scale=scale,
    )
    return invoices / minutes / CEILING


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--invoices", type=int, default=10_000)
    parser.add_argument("--customers", type=int, default=200)
    parser.add_argument("--naive", type=int, default=1_000)
    parser.add_argument("--time-scale", type=float, default=1.0)
    args = parser.parse_args()
    os.environ["FACTOR_DESKTOP_QBO_TIME_SCALE"] = str(args.time_scale)
    with tempfile.TemporaryDirectory(prefix="bench-push-") as folder, serve(args.time_scale) as qbo:
        token = bench_app(qbo, Path(folder), args.customers, args.invoices, args.time_scale)
        if args.naive:
            bench_naive(qbo, token, args.naive, args.time_scale)
    return 0


if __name__ == "__main__":
    sys.exit(main())
