#!/usr/bin/env python3
"""What one request costs the local QuickBooks sandbox as its company grows.

    .venv/bin/python bench/bench_sandbox.py [--sizes 1000,10000,50000] [--repeat 10]

The company is grown in place to each size: that many invoices plus a fifth as many customers,
written straight into the sandbox's store from documents the API itself created (the fastest
internal path; 50,000 HTTP creates would measure the HTTP server, not the company's size). Every
figure is then measured over HTTP against the running server, as a client sees it: a query page
(first page in QBO's default order, a page deep into ORDERBY Id, a LastUpdatedTime window, a
DocNumber and a DisplayName lookup, COUNT), a create that goes through the duplicate checks
(invoice with its own DocNumber, customer with a new DisplayName) and a CDC call.

Prints one JSON line per figure (the median of ``--repeat`` calls, in milliseconds). Nothing is
asserted: the figures are compared between versions.
"""

from __future__ import annotations

import argparse
import http.client
import json
import statistics
import sys
import time
import urllib.parse
from datetime import datetime, timedelta
from typing import Any

from factor_desktop.sandbox import SandboxConfig, SandboxServer
from factor_desktop.sandbox.clock import format_datetime
from factor_desktop.sandbox.store import Record

CUSTOMER_SHARE = 5  # one customer per this many invoices


class Client:
    """A keep-alive HTTP client for the sandbox's v3 API."""

    def __init__(self, server: SandboxServer, token: str) -> None:
        parsed = urllib.parse.urlsplit(server.base_url)
        self.conn = http.client.HTTPConnection(parsed.hostname or "127.0.0.1", parsed.port)
        self.prefix = f"/v3/company/{server.realm_id}"
        self.headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}

    def call(self, method: str, path: str, body: Any = None) -> dict[str, Any]:
        headers = dict(self.headers)
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        self.conn.request(method, self.prefix + path, body=data, headers=headers)
        response = self.conn.getresponse()
        raw = response.read()
        if response.status != 200:
            raise RuntimeError(f"{method} {path}: {response.status} {raw[:300]!r}")
        answer: dict[str, Any] = json.loads(raw)
        return answer

    def query(self, statement: str) -> dict[str, Any]:
        answer = self.call("GET", "/query?" + urllib.parse.urlencode({"query": statement}))
        body: dict[str, Any] = answer["QueryResponse"]
        return body


def timed(repeat: int, action: Any) -> float:
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        action()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


class Company:
    """Grows the sandbox company by cloning documents the API created."""

    def __init__(self, server: SandboxServer, client: Client) -> None:
        self.server = server
        self.sandbox = server.sandbox
        self.client = client
        self.invoices = 0
        self.customers = 0
        self.customer_ids: list[str] = []
        customer = client.call("POST", "/customer", {"DisplayName": "Template Customer"})
        self.customer_template = customer["Customer"]
        self.customer_ids.append(str(self.customer_template["Id"]))
        self.customers = 1
        items = client.query("select * from Item where Type = 'Service'")
        item_id = str(items["Item"][0]["Id"])
        invoice = client.call(
            "POST",
            "/invoice",
            {
                "CustomerRef": {"value": self.customer_ids[0]},
                "DocNumber": "T-1",
                "Line": [
                    {
                        "Amount": 120.0,
                        "DetailType": "SalesItemLineDetail",
                        "SalesItemLineDetail": {"ItemRef": {"value": item_id}},
                    }
                ],
            },
        )
        self.invoice_template = invoice["Invoice"]
        self.item_id = item_id
        self.invoices = 1
        # Seeded objects were last changed two days ago, one second apart, so that a CDC call
        # for the last hour sees only what the benchmark itself creates.
        self.epoch = self.sandbox.clock.now() - timedelta(days=2)
        self.stamp = 0

    def _moment(self) -> datetime:
        self.stamp += 1
        return self.epoch + timedelta(seconds=self.stamp)

    def grow(self, invoices: int) -> None:
        sandbox = self.sandbox
        store = sandbox.store
        realm = sandbox.realm_id
        ctx = sandbox.company.ctx()
        customers = max(invoices // CUSTOMER_SHARE, 1)
        customer_text = json.dumps(self.customer_template)
        invoice_text = json.dumps(self.invoice_template)
        with store.transaction():
            while self.customers < customers:
                self.customers += 1
                moment = self._moment()
                entity_id = ctx.next_id("Customer", 1)
                doc = json.loads(customer_text)
                name = f"Customer {self.customers:06d}"
                doc.update(
                    Id=entity_id,
                    DisplayName=name,
                    FullyQualifiedName=name,
                    PrintOnCheckName=name,
                    Balance=0,
                    BalanceWithJobs=0,
                    MetaData={
                        "CreateTime": format_datetime(moment),
                        "LastUpdatedTime": format_datetime(moment),
                    },
                )
                store.put(realm, Record("Customer", entity_id, doc, updated=moment.timestamp()))
                self.customer_ids.append(entity_id)
            while self.invoices < invoices:
                self.invoices += 1
                moment = self._moment()
                entity_id = ctx.next_id("txn", 1)
                doc = json.loads(invoice_text)
                customer_id = self.customer_ids[self.invoices % len(self.customer_ids)]
                doc.update(
                    Id=entity_id,
                    DocNumber=f"B{self.invoices:07d}",
                    CustomerRef={"value": customer_id},
                    Balance=0,  # paid: customers' balances stay as seeded
                    TxnDate=moment.date().isoformat(),
                    MetaData={
                        "CreateTime": format_datetime(moment),
                        "LastUpdatedTime": format_datetime(moment),
                    },
                )
                store.put(realm, Record("Invoice", entity_id, doc, updated=moment.timestamp()))

    def middle_time(self) -> str:
        return format_datetime(self.epoch + timedelta(seconds=self.stamp // 2))


def measure(company: Company, client: Client, repeat: int, created: list[int]) -> None:
    size = company.invoices
    objects = company.invoices + company.customers

    def emit(figure: str, ms: float, **extra: Any) -> None:
        line = {"figure": figure, "invoices": size, "objects": objects, "ms": round(ms, 2)}
        line.update(extra)
        print(json.dumps(line), flush=True)

    statements = {
        "query_page_first": "select * from Invoice maxresults 100",
        "query_page_deep": (
            f"select * from Invoice orderby Id startposition {size // 2} maxresults 100"
        ),
        "query_page_since": (
            "select * from Invoice where MetaData.LastUpdatedTime > "
            f"'{company.middle_time()}' orderby MetaData.LastUpdatedTime maxresults 100"
        ),
        "query_docnumber": f"select * from Invoice where DocNumber = 'B{size // 3:07d}'",
        "query_customer_name": (
            f"select * from Customer where DisplayName = 'Customer {company.customers // 2:06d}'"
        ),
        "query_count": "select count(*) from Invoice",
        "query_customer_page": "select * from Customer startposition 1 maxresults 100",
    }
    for figure, statement in statements.items():
        answer = client.query(statement)
        lists = [len(value) for value in answer.values() if isinstance(value, list)]
        rows = answer.get("totalCount", lists[0] if lists else 0)
        ms = timed(repeat, lambda s=statement: client.query(s))
        emit(figure, ms, rows=rows)

    def create_invoice() -> None:
        created[0] += 1
        client.call(
            "POST",
            "/invoice",
            {
                "CustomerRef": {
                    "value": company.customer_ids[created[0] % len(company.customer_ids)]
                },
                "DocNumber": f"N{created[0]:07d}",
                "Line": [
                    {
                        "Amount": 80.0,
                        "DetailType": "SalesItemLineDetail",
                        "SalesItemLineDetail": {"ItemRef": {"value": company.item_id}},
                    }
                ],
            },
        )

    def create_customer() -> None:
        created[1] += 1
        client.call("POST", "/customer", {"DisplayName": f"New Customer {created[1]:06d}"})

    emit("create_invoice_docnumber_check", timed(repeat, create_invoice))
    emit("create_customer_name_check", timed(repeat, create_customer))
    since = format_datetime(company.sandbox.clock.now() - timedelta(hours=1))
    cdc_path = "/cdc?" + urllib.parse.urlencode(
        {"entities": "Invoice,Customer,Payment", "changedSince": since}
    )
    emit("cdc_call", timed(repeat, lambda: client.call("GET", cdc_path)))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="1000,10000,50000", help="invoice counts, ascending")
    parser.add_argument("--repeat", type=int, default=10, help="calls per figure (median)")
    args = parser.parse_args()
    sizes = [int(part) for part in args.sizes.split(",")]
    with SandboxServer(SandboxConfig(seed="empty", random_seed=1)) as server:
        server.update_preferences({"SalesFormsPrefs": {"CustomTxnNumbers": True}})
        client = Client(server, str(server.issue_tokens()["access_token"]))
        company = Company(server, client)
        created = [0, 0]
        for size in sizes:
            started = time.perf_counter()
            company.grow(size)
            seeded_s = time.perf_counter() - started
            print(
                json.dumps(
                    {
                        "figure": "seed",
                        "invoices": company.invoices,
                        "objects": company.invoices + company.customers,
                        "s": round(seeded_s, 2),
                    }
                ),
                file=sys.stderr,
                flush=True,
            )
            measure(company, client, args.repeat, created)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
