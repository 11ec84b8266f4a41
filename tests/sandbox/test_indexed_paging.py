"""Query pages served from the store's indexes answer exactly what a scan of the entity answers.

Each statement runs twice over the same company: through the indexed path the server uses
(:func:`indexed_query`) and through :func:`run_query` over every stored row (the reference
evaluation). The company holds the awkward cases: equal timestamps, two UTC offsets, documents
without a DocNumber, names differing only in case, inactive records, sub-customers.
"""

from __future__ import annotations

import copy
import random
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest

from factor_desktop.sandbox.core import Sandbox, SandboxConfig
from factor_desktop.sandbox.entities import BY_NAME
from factor_desktop.sandbox.paging import indexed_query
from factor_desktop.sandbox.query import parse_query, run_query
from factor_desktop.sandbox.store import Record

JsonDict = dict[str, Any]


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    box = Sandbox(SandboxConfig(seed="demo", random_seed=3))
    box.update_preferences({"SalesFormsPrefs": {"CustomTxnNumbers": True}})
    company = box.company
    rng = random.Random(5)
    names = ["alpha", "Alpha Two", "ALPHA three", "beta", "Ädam", "zeta", "PG&E", "Pam Seitz"]
    customers: list[str] = []
    for name in names:
        doc = company.create(BY_NAME["Customer"], {"DisplayName": name}, set())
        customers.append(str(doc["Id"]))
    parent = company.create(BY_NAME["Customer"], {"DisplayName": "Parent Co"}, set())
    for child in ("child b", "Child a"):
        company.create(
            BY_NAME["Customer"],
            {"DisplayName": child, "Job": True, "ParentRef": {"value": parent["Id"]}},
            set(),
        )
    gone = company.read(BY_NAME["Customer"], customers[3])
    company.update(
        BY_NAME["Customer"],
        {"Id": gone["Id"], "SyncToken": gone["SyncToken"], "sparse": True, "Active": False},
        set(),
    )
    item = next(r for r in box.store.all(box.realm_id, "Item") if r.doc.get("Type") == "Service")
    numbers = ["7001", "7002", "A-7", "a-7", "B-1", "2024-01-05", "  9", "zz", "Z", "100"]
    for index in range(40):
        body: JsonDict = {
            "CustomerRef": {"value": rng.choice(customers[:3] + customers[4:])},
            "Line": [
                {
                    "Amount": float(rng.randint(1, 500)),
                    "DetailType": "SalesItemLineDetail",
                    "SalesItemLineDetail": {"ItemRef": {"value": item.id}},
                }
            ],
        }
        if index < len(numbers):
            body["DocNumber"] = numbers[index]
        else:
            body["DocNumber"] = f"X{rng.randint(1, 10**6)}"
        company.create(BY_NAME["Invoice"], body, set())
    # Rewrite some invoices the way only the store can: equal timestamps, another UTC offset,
    # no DocNumber at all.
    base = datetime.fromisoformat("2026-03-08T01:30:00-08:00")
    for position, record in enumerate(box.store.all(box.realm_id, "Invoice")):
        doc = copy.deepcopy(record.doc)
        moment = base + timedelta(hours=position // 3)
        if position % 4 == 0:
            moment = moment.astimezone(datetime.fromisoformat("2026-01-01T00:00:00-07:00").tzinfo)
        doc["MetaData"]["LastUpdatedTime"] = moment.isoformat()
        if position % 9 == 4:
            doc.pop("DocNumber", None)
        box.store.put(box.realm_id, Record("Invoice", record.id, doc, record.internal))
    yield box
    box.close()


def _reference(box: Sandbox, statement: str) -> tuple[list[str], int]:
    q = parse_query(statement)
    rule = BY_NAME[q.entity]
    ctx = box.company.ctx()
    rows = [rule.present(ctx, record) for record in ctx.all(rule.name)]
    page, total = run_query(q, rows)
    return [str(row["Id"]) for row in page], total


def _indexed(box: Sandbox, statement: str) -> tuple[list[str], int]:
    q = parse_query(statement)
    answer = indexed_query(box.company.ctx(), BY_NAME[q.entity], q)
    assert answer is not None, statement
    page, total = answer
    return [str(row["Id"]) for row in page], total


STATEMENTS = [
    "select * from Invoice",
    "select * from Invoice maxresults 7",
    "select * from Invoice startposition 5 maxresults 10",
    "select * from Invoice startposition 38 maxresults 10",
    "select * from Invoice startposition 400 maxresults 10",
    "select * from Invoice orderby Id desc maxresults 15",
    "select * from Invoice orderby Id startposition 3 maxresults 4",
    "select * from Invoice orderby DocNumber",
    "select * from Invoice orderby DocNumber desc",
    "select * from Invoice orderby DocNumber startposition 35 maxresults 10",
    "select * from Invoice orderby DocNumber desc startposition 33 maxresults 10",
    "select * from Invoice orderby MetaData.LastUpdatedTime",
    "select * from Invoice orderby MetaData.LastUpdatedTime desc startposition 4 maxresults 6",
    "select * from Invoice where Id > '20'",
    "select * from Invoice where Id <= 40 orderby DocNumber",
    "select * from Invoice where Id in ('3', '25', '26', '999')",
    "select * from Invoice where DocNumber = 'a-7'",
    "select * from Invoice where DocNumber in ('7001', 'A-7', 'nothing')",
    "select * from Invoice where DocNumber > 'b' orderby DocNumber",
    "select * from Invoice where DocNumber = '2024-01-05'",
    "select * from Invoice where DocNumber = ' '",
    "select * from Invoice where DocNumber like 'a%'",
    "select * from Invoice where DocNumber = 100",
    "select * from Invoice where MetaData.LastUpdatedTime > '2026-03-08T05:00:00-08:00'",
    "select * from Invoice where MetaData.LastUpdatedTime >= '2026-03-08T04:30:00-07:00' "
    "orderby MetaData.LastUpdatedTime",
    "select * from Invoice where MetaData.LastUpdatedTime = '2026-03-08T02:30:00-08:00'",
    "select * from Invoice where MetaData.LastUpdatedTime > '2026-03-08T05:30:00'",
    "select * from Invoice where MetaData.LastUpdatedTime < '2026-03-09' orderby Id",
    "select * from Invoice where MetaData.LastUpdatedTime > '2026-03-08T03:00:00Z' "
    "and DocNumber > 'X' startposition 2 maxresults 3",
    "select * from Invoice where TotalAmt > '200' startposition 2 maxresults 5",
    "select * from Invoice where CustomerRef = '1' orderby DocNumber",
    "select count(*) from Invoice",
    "select count(*) from Invoice where DocNumber > 'A'",
    "select count(*) from Invoice where TotalAmt < '100'",
    "select count(*) from Invoice where MetaData.LastUpdatedTime > '2026-03-08T06:00:00'",
    "select * from Customer",
    "select * from Customer startposition 3 maxresults 4",
    "select * from Customer where DisplayName = 'ALPHA'",
    "select * from Customer where DisplayName in ('pam seitz', 'pg&e')",
    "select * from Customer where Active = false",
    "select * from Customer where Active in (true, false) startposition 2 maxresults 50",
    "select * from Customer where FullyQualifiedName like 'Parent%'",
    "select * from Customer where FullyQualifiedName > 'p'",
    "select * from Customer orderby Id desc",
    "select count(*) from Customer",
    "select * from Item",
    "select * from Item where Name = 'services'",
    "select * from Account maxresults 5",
    "select * from Account where Name < 'C'",
    "select * from Vendor where DisplayName like '%a%'",
    "select * from Employee",
    "select * from Term",
    "select * from Payment",
    "select * from Attachable",
]


@pytest.mark.parametrize("statement", STATEMENTS)
def test_an_indexed_page_is_the_page_a_scan_gives(sandbox: Sandbox, statement: str) -> None:
    page, total = _indexed(sandbox, statement)
    expected_page, expected_total = _reference(sandbox, statement)
    assert page == expected_page
    if parse_query(statement).count:
        assert total == expected_total


def test_a_sort_no_index_holds_is_left_to_the_scan(sandbox: Sandbox) -> None:
    q = parse_query("select * from Invoice orderby TotalAmt")
    assert indexed_query(sandbox.company.ctx(), BY_NAME["Invoice"], q) is None
    answer = sandbox.company.query("select * from Invoice orderby TotalAmt maxresults 3")
    amounts = [row["TotalAmt"] for row in answer["Invoice"]]
    assert amounts == sorted(amounts)


def test_an_exact_page_reads_only_its_own_rows(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A page deep into ORDERBY Id loads the page's documents and nothing else."""
    loaded: list[int] = []
    store = sandbox.store
    original = store.get_many

    def counting(realm: str, entity: str, ids: list[str]) -> list[Record]:
        loaded.append(len(ids))
        return original(realm, entity, ids)

    monkeypatch.setattr(store, "get_many", counting)
    monkeypatch.setattr(store, "all", lambda *a, **k: pytest.fail("the whole entity was read"))
    answer = sandbox.company.query("select * from Invoice orderby Id startposition 30 maxresults 5")
    assert len(answer["Invoice"]) == 5
    assert loaded == [5]
