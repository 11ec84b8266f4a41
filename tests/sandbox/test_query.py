"""The sandbox's QBO query language: grammar, evaluation, and QBO's own error texts."""

from __future__ import annotations

import json
import urllib.parse
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from factor_desktop.sandbox.query import (
    DEFAULT_MAX_RESULTS,
    MAX_RESULTS_LIMIT,
    NAME_LIST_ENTITIES,
    SUPPORTED_ENTITIES,
    Condition,
    OrderBy,
    Query,
    QueryError,
    Value,
    parse_query,
    run_query,
)

RECORDINGS = Path(__file__).resolve().parents[1] / "fixtures" / "qbo-recordings"

Row = dict[str, Any]

# The tokens QBO lists after a complete condition (recorded in production error texts).
AFTER_CONDITION = (
    "Was expecting one of:\n"
    "    <EOF> \n"
    "    <AND> ...\n"
    '    "iterator" ...\n'
    '    "maxresults" ...\n'
    "    <OR> ...\n"
    '    "order" ...\n'
    '    "orderby" ...\n'
    '    "startposition" ...\n'
    "    "
)


def ids(rows: list[Row]) -> list[str]:
    return [row["Id"] for row in rows]


def run(text: str, rows: list[Row]) -> tuple[list[str], int]:
    page, total = run_query(parse_query(text), rows)
    return ids(page), total


def error(text: str) -> QueryError:
    with pytest.raises(QueryError) as caught:
        parse_query(text)
    return caught.value


def customer(id_: str, name: str, *, active: bool = True, **extra: Any) -> Row:
    """A Customer row as QBO stores it."""
    row: Row = {
        "Id": id_,
        "SyncToken": "0",
        "DisplayName": name,
        "FullyQualifiedName": name,
        "Active": active,
        "MetaData": {
            "CreateTime": "2020-09-29T05:00:00-07:00",
            "LastUpdatedTime": "2020-09-29T05:00:00-07:00",
        },
    }
    row.update(extra)
    return row


def invoice(id_: str, **fields: Any) -> Row:
    row: Row = {"Id": id_, "SyncToken": "0", "CustomerRef": {"value": "1", "name": "Amy"}}
    row.update(fields)
    return row


# --------------------------------------------------------------------------------------------
# Real QBO traffic: every recorded query returns the recorded rows, in the recorded order.


def _interactions(name: str) -> list[dict[str, Any]]:
    with (RECORDINGS / name).open(encoding="utf-8") as handle:
        interactions: list[dict[str, Any]] = yaml.safe_load(handle)["http_interactions"]
    return interactions


def _body(interaction: dict[str, Any]) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(interaction["response"]["body"]["string"])
    return body


@cache
def recorded_company() -> dict[str, list[Row]]:
    """Every row the recordings show, per entity, inactive ones included."""
    return {
        "Customer": _body(_interactions("error/400.yml")[0])["QueryResponse"]["Customer"],
        "Vendor": _body(_interactions("get/inactive_vendors.yml")[0])["QueryResponse"]["Vendor"],
        "Employee": _body(_interactions("all/employees_including_active.yml")[1])["QueryResponse"][
            "Employee"
        ],
        "SalesReceipt": _body(_interactions("all/sales_receipts.yml")[0])["QueryResponse"][
            "SalesReceipt"
        ],
    }


def recorded_queries() -> list[tuple[str, str, dict[str, Any]]]:
    cases: list[tuple[str, str, dict[str, Any]]] = []
    for name in (
        "get/display_name.yml",
        "misc/ampersand.yml",
        "all/alt_select.yml",
        "all/customers.yml",
        "all/employees_including_active.yml",
        "all/sales_receipts.yml",
        "all/vendors_by_5.yml",
        "get/inactive_vendors.yml",
        "error/400.yml",
        "batch/basic.yml",
    ):
        for interaction in _interactions(name):
            uri = interaction["request"]["uri"]
            body = _body(interaction)
            if "query?" in uri:
                text = urllib.parse.parse_qs(urllib.parse.urlparse(uri).query)["query"][0]
                cases.append((name, text, body))
            elif uri.endswith("/batch"):
                request = json.loads(interaction["request"]["body"]["string"])
                queries = [item["Query"] for item in request["BatchItemRequest"] if "Query" in item]
                answers = [item for item in body["BatchItemResponse"] if "QueryResponse" in item]
                cases.extend(
                    (name, text, answer) for text, answer in zip(queries, answers, strict=True)
                )
    return cases


RECORDED = recorded_queries()


@pytest.mark.parametrize(
    ("cassette", "text", "answer"),
    [case for case in RECORDED if "Fault" not in case[2]],
    ids=[f"{c[0]}:{c[1]}" for c in RECORDED if "Fault" not in c[2]],
)
def test_recorded_queries_return_what_qbo_returned(
    cassette: str, text: str, answer: dict[str, Any]
) -> None:
    query = parse_query(text)
    page, total = run_query(query, recorded_company()[query.entity])
    recorded = answer["QueryResponse"]
    if query.count:
        assert page == []
        assert total == recorded["totalCount"]
    else:
        assert ids(page) == ids(recorded.get(query.entity, []))
        if recorded:
            assert query.start_position == recorded["startPosition"]
            assert len(page) == recorded["maxResults"]


def test_recorded_unknown_entity_fault() -> None:
    (text, answer) = next((t, a) for _, t, a in RECORDED if "Fault" in a)
    fault = answer["Fault"]["Error"][0]
    err = error(text)
    assert (err.code, err.message, err.detail) == (fault["code"], fault["Message"], fault["Detail"])


def test_recorded_escaped_apostrophe_query() -> None:
    text = "SELECT * FROM Customer WHERE DisplayName = 'Amy\\'s Bird Sanctuary'"
    query = parse_query(text)
    assert query.conditions == (
        Condition(
            "DisplayName",
            "=",
            (Value("string", "Amy's Bird Sanctuary", "Amy\\'s Bird Sanctuary"),),
        ),
    )
    page, total = run_query(query, recorded_company()["Customer"])
    assert [row["DisplayName"] for row in page] == ["Amy's Bird Sanctuary"]
    assert total == 1


def test_ampersand_in_a_value() -> None:
    page, _ = run(
        "SELECT * FROM Vendor WHERE DisplayName = 'Robertson & Associates'",
        recorded_company()["Vendor"],
    )
    assert page == ["49"]
    assert run("SELECT * FROM Vendor WHERE DisplayName LIKE '%&%'", recorded_company()["Vendor"])[
        0
    ] == ["48", "49"]


# --------------------------------------------------------------------------------------------
# Grammar


def test_parse_shapes_the_query() -> None:
    query = parse_query(
        "SELECT * FROM Invoice WHERE TotalAmt > '300.00' AND CustomerRef IN ('1', 2) "
        "AND DocNumber LIKE '10%' ORDER BY TxnDate DESC, Id ASC STARTPOSITION 3 MAXRESULTS 7"
    )
    assert query == Query(
        entity="Invoice",
        count=False,
        conditions=(
            Condition("TotalAmt", ">", (Value("string", "300.00", "300.00"),)),
            Condition("CustomerRef", "IN", (Value("string", "1", "1"), Value("integer", 2, "2"))),
            Condition("DocNumber", "LIKE", (Value("string", "10%", "10%"),)),
        ),
        order_by=(OrderBy("TxnDate", True), OrderBy("Id", False)),
        start_position=3,
        max_results=7,
    )


def test_defaults() -> None:
    query = parse_query("SELECT * FROM Customer")
    assert query == Query(entity="Customer")
    assert (query.start_position, query.max_results) == (1, DEFAULT_MAX_RESULTS)
    assert DEFAULT_MAX_RESULTS == 100
    assert query.conditions == () and query.order_by == () and not query.count


def test_keywords_entity_and_properties_ignore_case() -> None:
    lower = parse_query(
        "select * from customer where displayname = 'Cool Cars' and active in (true, false) "
        "order by displayname desc startposition 1 maxresults 5"
    )
    upper = parse_query(
        "SELECT * FROM CUSTOMER WHERE displayName = 'Cool Cars' AND Active IN (TRUE, FALSE) "
        "ORDERBY displayname DESC STARTPOSITION 1 MAXRESULTS 5"
    )
    assert lower.entity == upper.entity == "Customer"
    assert [c.op for c in lower.conditions] == [c.op for c in upper.conditions] == ["=", "IN"]
    assert lower.order_by == upper.order_by == (OrderBy("displayname", True),)
    assert run_query(lower, recorded_company()["Customer"])[0][0]["Id"] == "3"
    assert lower.mentions_active


def test_entity_names_are_canonical() -> None:
    for name in SUPPORTED_ENTITIES:
        assert parse_query(f"SELECT * FROM {name.upper()}").entity == name
    assert {
        "Customer",
        "Vendor",
        "Employee",
        "Item",
        "Account",
        "TaxCode",
        "TaxRate",
        "Term",
        "Invoice",
        "Payment",
        "Purchase",
        "Bill",
        "Attachable",
        "CompanyInfo",
        "Preferences",
        "PaymentMethod",
        "Class",
        "Department",
        "SalesReceipt",
    } <= SUPPORTED_ENTITIES
    assert NAME_LIST_ENTITIES <= SUPPORTED_ENTITIES


def test_count() -> None:
    query = parse_query("SELECT COUNT ( * ) FROM Customer WHERE Id IN ('5', '6', '70')")
    assert query.count
    page, total = run_query(query, recorded_company()["Customer"])
    assert (page, total) == ([], 3)
    assert parse_query("select count(*) from Vendor").count


def test_select_star_with_sku_as_python_quickbooks_sends_it() -> None:
    query = parse_query("SELECT *, Sku FROM Item MAXRESULTS 1000")
    assert query.projection == ("Sku",)
    item = {"Id": "1", "Name": "Rocks", "FullyQualifiedName": "Rocks", "Sku": "R-1"}
    assert run_query(query, [item]) == ([item], 1)


def test_orderby_and_order_by_are_the_same() -> None:
    assert (
        parse_query("SELECT * FROM Customer ORDERBY DisplayName").order_by
        == parse_query("SELECT * FROM Customer ORDER  BY DisplayName ASC").order_by
        == (OrderBy("DisplayName"),)
    )


def test_pagination_clauses_in_either_order() -> None:
    a = parse_query("SELECT * FROM Vendor STARTPOSITION 6 MAXRESULTS 5")
    b = parse_query("SELECT * FROM Vendor MAXRESULTS 5 STARTPOSITION 6")
    assert (a.start_position, a.max_results) == (b.start_position, b.max_results) == (6, 5)


def test_statement_over_several_lines() -> None:
    query = parse_query("SELECT *\r\n  FROM Customer\n\tWHERE Id = '1'\n")
    assert query.conditions[0].values[0].value == "1"


# --------------------------------------------------------------------------------------------
# Operators and comparisons

AMOUNTS = [
    invoice("1", TotalAmt=100.0, TxnDate="2020-09-01", DocNumber="1001"),
    invoice("2", TotalAmt=337.5, TxnDate="2020-09-15", DocNumber="1002"),
    invoice("3", TotalAmt=300.0, TxnDate="2020-09-29", DocNumber="A-1003"),
    invoice("10", TotalAmt=0, TxnDate="2020-10-01", DocNumber="a-1010"),
]


@pytest.mark.parametrize(
    ("where", "expected"),
    [
        ("TotalAmt = 300", ["3"]),
        ("TotalAmt = '300.00'", ["3"]),
        ("TotalAmt > '300.00'", ["2"]),
        ("TotalAmt >= 300.00", ["2", "3"]),
        ("TotalAmt < 300", ["1", "10"]),
        ("TotalAmt <= '100'", ["1", "10"]),
        ("TotalAmt IN (0, '337.50')", ["2", "10"]),
        ("TotalAmt = 'lots'", []),
        ("Id < '3'", ["1", "2"]),
        ("Id > 2", ["3", "10"]),
        ("Id IN ('10', '1')", ["1", "10"]),
        ("TxnDate >= '2020-09-15' AND TxnDate < '2020-10-01'", ["2", "3"]),
        ("TxnDate = '2020-09-29T23:30:00-07:00'", ["3"]),
        ("DocNumber = 'a-1003'", ["3"]),
        ("DocNumber LIKE 'A-%'", ["3", "10"]),
        ("DocNumber LIKE '%3'", ["3"]),
        ("DocNumber LIKE '%00%'", ["1", "2", "3"]),
        ("DocNumber LIKE '1001'", ["1"]),
        ("DocNumber LIKE '100'", []),
        ("DocNumber > 'A'", ["3", "10"]),
        ("CustomerRef = '1'", ["1", "2", "3", "10"]),
        ("CustomerRef = 1", ["1", "2", "3", "10"]),
        ("CustomerRef IN ('2', '3')", []),
        ("CustomerRef.value = '1' AND CustomerRef.name LIKE 'am%'", ["1", "2", "3", "10"]),
        ("Balance > 0", []),
    ],
)
def test_operators(where: str, expected: list[str]) -> None:
    page, total = run(f"SELECT * FROM Invoice WHERE {where} ORDERBY Id", AMOUNTS)
    assert page == expected
    assert total == len(expected)


def test_like_wildcards() -> None:
    rows = [
        customer("1", "100% Cotton"),
        customer("2", "100 Cotton"),
        customer("3", "a_b"),
        customer("4", "axb"),
        customer("5", "Line\nBreak"),
    ]
    assert run("SELECT * FROM Customer WHERE DisplayName LIKE '100\\%%'", rows)[0] == ["1"]
    assert run("SELECT * FROM Customer WHERE DisplayName LIKE '100%'", rows)[0] == ["2", "1"]
    assert run("SELECT * FROM Customer WHERE DisplayName LIKE 'a_b'", rows)[0] == ["3"]
    assert run("SELECT * FROM Customer WHERE DisplayName LIKE '%COTTON'", rows)[0] == ["2", "1"]
    assert run("SELECT * FROM Customer WHERE DisplayName LIKE 'line%break'", rows)[0] == ["5"]
    assert run("SELECT * FROM Customer WHERE DisplayName LIKE '%'", rows)[1] == 5
    assert run("SELECT * FROM Customer WHERE Id LIKE '%'", rows)[1] == 5


def test_names_match_without_regard_to_case() -> None:
    rows = [customer("1", "Amy's Bird Sanctuary"), customer("2", "Bill's Windsurf Shop")]
    text = "SELECT * FROM Customer WHERE DisplayName = 'AMY\\'S BIRD SANCTUARY'"
    assert run(text, rows)[0] == ["1"]
    assert run("SELECT * FROM Customer WHERE DisplayName IN ('bill\\'s windsurf shop')", rows)[
        0
    ] == ["2"]
    assert run("SELECT * FROM Customer WHERE DisplayName = 'Amy'", rows)[0] == []


def test_escapes_resolve_in_values() -> None:
    query = parse_query(r"SELECT * FROM Item WHERE Name = 'back\\slash \'quoted\' \%'")
    value = query.conditions[0].values[0]
    assert value.value == "back\\slash 'quoted' %"
    assert value.raw == r"back\\slash \'quoted\' \%"
    row = {"Id": "1", "Name": "back\\slash 'quoted' %", "FullyQualifiedName": "x"}
    assert run_query(query, [row])[1] == 1


def test_booleans() -> None:
    rows = [customer("1", "A", Taxable=True), customer("2", "B", Taxable=False), customer("3", "C")]
    assert run("SELECT * FROM Customer WHERE Taxable = true", rows)[0] == ["1"]
    assert run("SELECT * FROM Customer WHERE Taxable = 'false'", rows)[0] == ["2"]
    assert run("SELECT * FROM Customer WHERE Taxable IN (true, false)", rows)[0] == ["1", "2"]
    assert run("SELECT * FROM Customer WHERE Taxable = 1", rows)[0] == []
    assert run("SELECT * FROM Customer WHERE Taxable > false", rows)[0] == ["1"]


def test_dates_and_times_with_offsets() -> None:
    def stamped(id_: str, when: str) -> Row:
        row = customer(id_, f"C{id_}")
        row["MetaData"] = {"CreateTime": when, "LastUpdatedTime": when}
        return row

    rows = [
        stamped("1", "2020-09-29T05:58:07-07:00"),  # 12:58:07 UTC
        stamped("2", "2020-09-29T13:00:00Z"),  # 13:00:00 UTC
        stamped("3", "2020-09-29T08:00:00-04:00"),  # 12:00:00 UTC
        stamped("4", "2020-09-30T00:00:00.500-07:00"),
    ]
    base = "SELECT * FROM Customer WHERE MetaData.LastUpdatedTime"
    assert run(f"{base} > '2020-09-29T05:58:07-07:00' ORDERBY Id", rows)[0] == ["2", "4"]
    assert run(f"{base} >= '2020-09-29T12:58:07Z' ORDERBY Id", rows)[0] == ["1", "2", "4"]
    assert run(f"{base} = '2020-09-29T20:58:07+08:00'", rows)[0] == ["1"]
    assert run(f"{base} < '2020-09-29T12:30:00+0000'", rows)[0] == ["3"]
    # A bare date means midnight; a time without offset is read in the stored value's offset.
    assert run(f"{base} >= '2020-09-30' ORDERBY Id", rows)[0] == ["4"]
    assert run(f"{base} > '2020-09-29T05:58:06' ORDERBY Id", rows)[0] == ["1", "2", "3", "4"]
    assert run(f"{base} < '2020-09-29T05:58:07'", rows)[0] == []
    # Ordering by instants, not by text.
    assert run("SELECT * FROM Customer ORDERBY MetaData.LastUpdatedTime", rows)[0] == [
        "3",
        "1",
        "2",
        "4",
    ]


def test_missing_properties_never_match_except_as_null() -> None:
    rows = [customer("1", "A", CompanyName="Acme"), customer("2", "B"), customer("3", "C")]
    rows[2]["CompanyName"] = None
    assert run("SELECT * FROM Customer WHERE CompanyName = 'Acme'", rows)[0] == ["1"]
    assert run("SELECT * FROM Customer WHERE CompanyName < 'Z'", rows)[0] == ["1"]
    assert run("SELECT * FROM Customer WHERE CompanyName LIKE '%'", rows)[0] == ["1"]
    assert run("SELECT * FROM Customer WHERE Nonexistent.Thing = 'x'", rows)[0] == []
    # QBO spells null as one space in quotes.
    assert run("SELECT * FROM Customer WHERE CompanyName = ' '", rows)[0] == ["2", "3"]
    assert run("SELECT * FROM Customer WHERE CompanyName IN ('Acme', ' ')", rows)[0] == [
        "1",
        "2",
        "3",
    ]
    assert run("SELECT * FROM Customer WHERE CompanyName > ' '", rows)[0] == ["1"]


def test_conditions_through_lists_match_any_element() -> None:
    attachables: list[Row] = [
        {
            "Id": "100",
            "AttachableRef": [
                {"EntityRef": {"type": "Invoice", "value": "95"}},
                {"EntityRef": {"type": "Customer", "value": "7"}},
            ],
        },
        {"Id": "101", "AttachableRef": [{"EntityRef": {"type": "Invoice", "value": "96"}}]},
        {"Id": "102", "Note": "no links"},
    ]
    text = "SELECT * FROM Attachable WHERE AttachableRef.EntityRef.Type = 'invoice' ORDERBY Id"
    assert run(text, attachables)[0] == ["100", "101"]
    assert run("SELECT * FROM Attachable WHERE AttachableRef.EntityRef.value = '7'", attachables)[
        0
    ] == ["100"]
    assert run("SELECT * FROM Attachable WHERE AttachableRef.EntityRef = '96'", attachables)[0] == [
        "101"
    ]


# --------------------------------------------------------------------------------------------
# Active filtering


ACTIVITY = [
    customer("1", "Active One"),
    customer("2", "Gone", active=False),
    customer("3", "No Flag"),
]
del ACTIVITY[2]["Active"]


@pytest.mark.parametrize(
    ("where", "expected"),
    [
        ("", ["1", "3"]),
        ("WHERE Id IN ('1', '2', '3')", ["1", "3"]),
        ("WHERE Active = true", ["1"]),
        ("WHERE Active = false", ["2"]),
        ("WHERE active = FALSE", ["2"]),
        ("WHERE Active IN (true, false)", ["1", "2"]),
        ("WHERE Active IN ( true, false ) AND Id = '2'", ["2"]),
    ],
)
def test_name_lists_hide_inactive_rows_unless_asked(where: str, expected: list[str]) -> None:
    assert run(f"SELECT * FROM Customer {where} ORDERBY Id", ACTIVITY) == (expected, len(expected))


def test_every_name_list_hides_inactive_rows() -> None:
    for entity in NAME_LIST_ENTITIES:
        rows = [{"Id": "1", "Name": "a", "Active": True}, {"Id": "2", "Name": "b", "Active": False}]
        assert run(f"SELECT * FROM {entity}", rows) == (["1"], 1)
        assert run(f"SELECT COUNT(*) FROM {entity} WHERE Active = false", rows) == ([], 1)


def test_transactions_are_not_filtered_by_active() -> None:
    rows = [invoice("1", Active=False), invoice("2")]
    assert run("SELECT * FROM Invoice ORDERBY Id", rows)[0] == ["1", "2"]


def test_recorded_inactive_vendor_shows_only_when_asked() -> None:
    vendors = recorded_company()["Vendor"]
    assert "53" not in run("SELECT * FROM Vendor MAXRESULTS 1000", vendors)[0]
    assert run("SELECT * FROM Vendor WHERE Active = false", vendors) == (["53"], 1)


# --------------------------------------------------------------------------------------------
# Pagination


PAGED = [customer(str(n), f"Customer {n:04d}") for n in range(1, 1101)]


def test_pages() -> None:
    assert run("SELECT * FROM Customer", PAGED) == ([str(n) for n in range(1, 101)], 1100)
    assert run("SELECT * FROM Customer STARTPOSITION 1099", PAGED) == (["1099", "1100"], 1100)
    assert run("SELECT * FROM Customer STARTPOSITION 1100 MAXRESULTS 1", PAGED) == (["1100"], 1100)
    assert run("SELECT * FROM Customer STARTPOSITION 1101", PAGED) == ([], 1100)
    assert run("SELECT * FROM Customer STARTPOSITION 5000 MAXRESULTS 3", PAGED) == ([], 1100)
    page, total = run(f"SELECT * FROM Customer MAXRESULTS {MAX_RESULTS_LIMIT}", PAGED)
    assert (len(page), page[-1], total) == (1000, "1000", 1100)
    assert run("SELECT * FROM Customer STARTPOSITION 1001 MAXRESULTS 1000", PAGED)[0] == [
        str(n) for n in range(1001, 1101)
    ]


def test_start_position_below_one_counts_as_one() -> None:
    assert parse_query("SELECT * FROM Customer STARTPOSITION 0").start_position == 1
    assert parse_query("SELECT * FROM Customer STARTPOSITION -4").start_position == 1


def test_max_results_limits() -> None:
    assert parse_query("SELECT * FROM Customer MAXRESULTS 1000").max_results == 1000
    assert parse_query("SELECT * FROM Customer MAXRESULTS 1").max_results == 1
    err = error("SELECT * FROM Customer MAXRESULTS 1001")
    assert (err.code, err.message, err.detail) == (
        "4001",
        "Invalid query",
        "QueryValidationError: value 1001 is too large. Max allowed value is 1000",
    )
    assert error("SELECT COUNT(*) FROM Customer MAXRESULTS 1500").detail == (
        "QueryValidationError: value 1500 is too large. Max allowed value is 1000"
    )
    small = error("SELECT * FROM Customer MAXRESULTS 0")
    assert (small.code, small.detail) == (
        "4001",
        "QueryValidationError: value 0 is too small. Min allowed value is 1",
    )


# --------------------------------------------------------------------------------------------
# Order


def test_default_order_is_qbos() -> None:
    customers = [
        customer("3", "Pam Seitz"),
        customer("1", "PG&E"),
        customer("2", "Amy"),
        customer("4", "Amy:Job", FullyQualifiedName="Amy:Job", DisplayName="Job"),
    ]
    # Name lists by name, by character code: upper case before lower case.
    assert run("SELECT * FROM Customer", customers)[0] == ["2", "4", "1", "3"]
    # Transactions: most recently changed first, then Id.
    txns = [
        invoice("1", MetaData={"LastUpdatedTime": "2020-01-01T00:00:00-08:00"}),
        invoice("2", MetaData={"LastUpdatedTime": "2021-01-01T00:00:00-08:00"}),
        invoice("3"),
        invoice("4", MetaData={"LastUpdatedTime": "2020-01-01T00:00:00-08:00"}),
    ]
    assert run("SELECT * FROM Invoice", txns)[0] == ["2", "1", "4", "3"]
    terms = [{"Id": "1", "Name": "Net 30"}, {"Id": "2", "Name": "Due on receipt"}]
    assert run("SELECT * FROM Term", terms)[0] == ["2", "1"]


def test_default_order_falls_back_along_the_names_a_row_has() -> None:
    rows = [customer("1", "Zed"), customer("2", "Abe"), customer("3", "Moe")]
    del rows[0]["FullyQualifiedName"], rows[2]["FullyQualifiedName"]
    assert run("SELECT * FROM Customer", rows)[0] == ["2", "3", "1"]
    items = [
        {"Id": "1", "Name": "Sub", "FullyQualifiedName": "Parent:Sub"},
        {"Id": "2", "Name": "Parent", "FullyQualifiedName": "Parent"},
        {"Id": "3", "Name": "Hours"},
    ]
    assert run("SELECT * FROM Item", items)[0] == ["3", "2", "1"]


def test_order_by_numbers_text_and_several_keys() -> None:
    rows = [
        invoice("1", TotalAmt=50, DocNumber="b"),
        invoice("2", TotalAmt=5, DocNumber="B"),
        invoice("3", TotalAmt=50, DocNumber="a"),
        invoice("4", DocNumber="c"),
        invoice("11", TotalAmt=5.5),
    ]
    assert run("SELECT * FROM Invoice ORDERBY TotalAmt", rows)[0] == ["2", "11", "1", "3", "4"]
    assert run("SELECT * FROM Invoice ORDERBY TotalAmt DESC", rows)[0] == [
        "1",
        "3",
        "11",
        "2",
        "4",
    ]
    assert run("SELECT * FROM Invoice ORDER BY TotalAmt DESC, DocNumber", rows)[0] == [
        "3",
        "1",
        "11",
        "2",
        "4",
    ]
    assert run("SELECT * FROM Invoice ORDERBY DocNumber", rows)[0] == ["2", "3", "1", "4", "11"]
    assert run("SELECT * FROM Invoice ORDERBY Id DESC", rows)[0] == ["11", "4", "3", "2", "1"]


# --------------------------------------------------------------------------------------------
# Errors, with QBO's texts


@pytest.mark.parametrize(
    ("text", "detail"),
    [
        # mcohen01/node-quickbooks#56: an apostrophe left unescaped.
        (
            "select * from Vendor where DisplayName = 'Cutlery 'R Us'",
            'QueryParserError: Encountered " <IDENTIFIER> "R "" at line 1, column 52.\n'
            + AFTER_CONDITION,
        ),
        # ruckus/quickbooks-ruby#471
        (
            "SELECT * FROM Vendor WHERE DisplayName = 'Aido's  LLC'",
            'QueryParserError: Encountered " <IDENTIFIER> "s "" at line 1, column 48.\n'
            + AFTER_CONDITION,
        ),
        # ruckus/quickbooks-ruby#309: a typographic apostrophe inside the value.
        (
            "SELECT * FROM ITEM WHERE NAME LIKE '%Fleur’t'",
            "QueryParserError: Invalid content. Lexical error at line 1, column 43.  "
            'Encountered: "\\u2019" (8217), after : "\\\'%Fleur"',
        ),
        # intuit/QuickBooks-V3-PHP-SDK#397: an en dash inside the value.
        (
            "select * from Item WHERE Name='Boot – Wolverine – Legend 6\" Safety Toe'",
            "QueryParserError: Invalid content. Lexical error at line 1, column 37.  "
            'Encountered: "\\u2013" (8211), after : "\\\'Boot "',
        ),
        # pbrink231/quickbooks-node-promise#1: a percent sign outside quotes.
        (
            "select * from account where AccountSubType=%27Inventory%27",
            "QueryParserError: Invalid content. Lexical error at line 1, column 44.  "
            'Encountered: "%" (37), after : ""',
        ),
        # consolibyte/quickbooks-php#129: nothing at all.
        (
            "",
            'QueryParserError: Encountered "<EOF>" at line 0, column 0.\n'
            'Was expecting:\n    "select" ...\n    ',
        ),
    ],
)
def test_parse_errors_read_as_qbo_writes_them(text: str, detail: str) -> None:
    err = error(text)
    assert (err.code, err.message, err.detail) == ("4000", "Error parsing query", detail)


def test_trailing_backslash_runs_the_value_to_the_end() -> None:
    # ruckus/quickbooks-ruby#345: the client escaped the quote but not the backslash before it.
    text = "select * from item where Name = 'Case preparation  b\\' STARTPOSITION 1 MAXRESULTS 20"
    err = error(text)
    assert err.code == "4000"
    assert err.detail == (
        f"QueryParserError: Invalid content. Lexical error at line 1, column {len(text) + 1}.  "
        "Encountered: <EOF> after : \"\\'Case preparation  b\\\\\\' STARTPOSITION 1 MAXRESULTS 20\""
    )
    # Escaping the backslash as well is what makes the value round-trip.
    fixed = "select * from item where Name = 'Case preparation  b\\\\'"
    assert parse_query(fixed).conditions[0].values[0].value == "Case preparation  b\\"


@pytest.mark.parametrize(
    ("text", "detail"),
    [
        (
            "SELECT * FROM Customer WHERE DisplayName = 'A' OR DisplayName = 'B'",
            'Encountered " <OR> "OR "" at line 1, column 48.\nWas expecting one of:\n'
            '    <EOF> \n    <AND> ...\n    "iterator" ...\n    "maxresults" ...\n'
            '    "order" ...\n    "orderby" ...\n    "startposition" ...\n    ',
        ),
        (
            "SELECT * FROM Customer ITERATOR 5",
            'Encountered " "iterator" "ITERATOR "" at line 1, column 24.\nWas expecting one of:\n'
            '    <EOF> \n    "maxresults" ...\n    "order" ...\n    "orderby" ...\n'
            '    "startposition" ...\n    "where" ...\n    ',
        ),
        (
            "SELECT * FROM Customer GROUP BY Id",
            'Encountered " <IDENTIFIER> "GROUP "" at line 1, column 24.\nWas expecting one of:\n'
            '    <EOF> \n    "iterator" ...\n    "maxresults" ...\n    "order" ...\n'
            '    "orderby" ...\n    "startposition" ...\n    "where" ...\n    ',
        ),
        (
            "SELECT * FROM Customer JOIN Invoice",
            'Encountered " <IDENTIFIER> "JOIN "" at line 1, column 24.\nWas expecting one of:\n'
            '    <EOF> \n    "iterator" ...\n    "maxresults" ...\n    "order" ...\n'
            '    "orderby" ...\n    "startposition" ...\n    "where" ...\n    ',
        ),
        (
            "SELECT * FROM Customer, Invoice",
            'Encountered " "," ", "" at line 1, column 23.\nWas expecting one of:\n'
            '    <EOF> \n    "iterator" ...\n    "maxresults" ...\n    "order" ...\n'
            '    "orderby" ...\n    "startposition" ...\n    "where" ...\n    ',
        ),
        (
            "SELECT Id, DisplayName FROM Customer",
            'Encountered " <IDENTIFIER> "Id "" at line 1, column 8.\nWas expecting one of:\n'
            '    "count" ...\n    "*" ...\n    ',
        ),
        (
            "SELECT * FROM Customer WHERE",
            'Encountered "<EOF>" at line 1, column 28.\nWas expecting:\n    <IDENTIFIER> ...\n    ',
        ),
        (
            "SELECT * FROM Customer WHERE Id != '1'",
            "Invalid content. Lexical error at line 1, column 33.  "
            'Encountered: "!" (33), after : ""',
        ),
        (
            "SELECT * FROM Customer WHERE Id = ",
            'Encountered "<EOF>" at line 1, column 34.\nWas expecting one of:\n'
            '    "false" ...\n    "true" ...\n    <INTEGER_LITERAL> ...\n'
            "    <DECIMAL_LITERAL> ...\n    <STRING_LITERAL> ...\n    ",
        ),
        (
            "SELECT * FROM Customer WHERE Name LIKE 5",
            'Encountered " <INTEGER_LITERAL> "5 "" at line 1, column 40.\n'
            "Was expecting:\n    <STRING_LITERAL> ...\n    ",
        ),
        (
            "SELECT * FROM Customer WHERE Id IN ('1' '2')",
            'Encountered " <STRING_LITERAL> "\\\'2\\\' "" at line 1, column 41.\n'
            'Was expecting one of:\n    ")" ...\n    "," ...\n    ',
        ),
        (
            "SELECT * FROM Customer WHERE Id BETWEEN 1 AND 2",
            'Encountered " <IDENTIFIER> "BETWEEN "" at line 1, column 33.\nWas expecting one of:\n'
            '    "in" ...\n    "like" ...\n    "=" ...\n    "<" ...\n    ">" ...\n'
            '    "<=" ...\n    ">=" ...\n    ',
        ),
        (
            "SELECT * FROM Customer ORDER DisplayName",
            'Encountered " <IDENTIFIER> "DisplayName "" at line 1, column 30.\n'
            'Was expecting:\n    "by" ...\n    ',
        ),
        (
            "SELECT * FROM Customer ORDERBY Id DESC WHERE Id = '1'",
            'Encountered " "where" "WHERE "" at line 1, column 40.\nWas expecting one of:\n'
            '    <EOF> \n    "iterator" ...\n    "maxresults" ...\n    "startposition" ...\n'
            '    "," ...\n    ',
        ),
        (
            "SELECT * FROM Customer MAXRESULTS 5 MAXRESULTS 6",
            'Encountered " "maxresults" "MAXRESULTS "" at line 1, column 37.\n'
            'Was expecting one of:\n    <EOF> \n    "iterator" ...\n    "startposition" ...\n    ',
        ),
        (
            "SELECT * FROM Customer STARTPOSITION '1'",
            'Encountered " <STRING_LITERAL> "\\\'1\\\' "" at line 1, column 38.\n'
            "Was expecting:\n    <INTEGER_LITERAL> ...\n    ",
        ),
        (
            "SELECT * FROM Customer MAXRESULTS 10.5",
            'Encountered " <DECIMAL_LITERAL> "10.5 "" at line 1, column 35.\n'
            "Was expecting:\n    <INTEGER_LITERAL> ...\n    ",
        ),
        (
            "SELECT * FROM Customer WHERE Name = 'Café – Bar'",
            "Invalid content. Lexical error at line 1, column 43.  "
            'Encountered: "\\u2013" (8211), after : "\\\'Caf\\u00e9 "',
        ),
        (
            "SELECT * FROM Customer WHERE Name = 'x🙂'",
            "Invalid content. Lexical error at line 1, column 39.  "
            'Encountered: "\\ud83d" (55357), after : "\\\'x"',
        ),
        (
            "SELECT * FROM Customer WHERE Name = ’x’",
            "Invalid content. Lexical error at line 1, column 37.  "
            'Encountered: "\\u2019" (8217), after : ""',
        ),
        (
            "SELECT * FROM Customer WHERE Name = 'open",
            "Invalid content. Lexical error at line 1, column 42.  "
            'Encountered: <EOF> after : "\\\'open"',
        ),
        (
            "SELECT * FROM Customer WHERE Name = '",
            'Invalid content. Lexical error at line 1, column 38.  Encountered: <EOF> after : ""',
        ),
        (
            "SELECT * FROM Customer WHERE Balance > -x",
            "Invalid content. Lexical error at line 1, column 41.  "
            'Encountered: "x" (120), after : "-"',
        ),
        (
            "SELECT * FROM Customer WHERE MetaData. = '1'",
            "Invalid content. Lexical error at line 1, column 38.  "
            'Encountered: "." (46), after : ""',
        ),
        (
            "SELECT *\n FROM Customer\n WHERE Name = 'a'\n   'b'",
            'Encountered " <STRING_LITERAL> "\\\'b\\\' "" at line 4, column 4.\n' + AFTER_CONDITION,
        ),
        (
            "SELECT *\r\nFROM Customer WHERE\r\n",
            'Encountered "<EOF>" at line 2, column 21.\nWas expecting:\n    <IDENTIFIER> ...\n    ',
        ),
        (
            "SELECT *\tFROM Customer\tWHERE\tId\t= 'a\tb' ?",
            "Invalid content. Lexical error at line 1, column 60.  "
            'Encountered: "?" (63), after : ""',
        ),
        (
            "SELECT * FROM Customer WHERE Name = 'a\n",
            "Invalid content. Lexical error at line 2, column 0.  "
            'Encountered: <EOF> after : "\\\'a\\n"',
        ),
        (
            "SELECT * FROM Customer WHERE Name = 'a'\n'",
            'Invalid content. Lexical error at line 2, column 2.  Encountered: <EOF> after : ""',
        ),
    ],
)
def test_more_parse_errors(text: str, detail: str) -> None:
    err = error(text)
    assert (err.code, err.message, err.detail) == (
        "4000",
        "Error parsing query",
        f"QueryParserError: {detail}",
    )


def test_parse_errors_come_before_later_lexical_errors() -> None:
    # QBO reads tokens as it parses: the stray R is reported, not the unterminated quote after it.
    err = error("SELECT * FROM Vendor WHERE DisplayName = 'Cutlery 'R Us’'")
    assert err.detail.startswith('QueryParserError: Encountered " <IDENTIFIER> "R ""')


def test_parse_errors_come_before_validation() -> None:
    assert error("SELECT * FROM Custmoer WHERE").code == "4000"
    assert error("SELECT * FROM Custmoer MAXRESULTS 5000").detail == (
        "QueryValidationError: invalid context declaration: Custmoer"
    )


@pytest.mark.parametrize(
    ("text", "prop"),
    [
        # ruckus/quickbooks-ruby#403
        ("SELECT * FROM Vendor WHERE PrimaryEmailAddr = 'john@doe.com'", "PrimaryEmailAddr"),
        # intuit/QuickBooks-V3-DotNET-SDK#163
        ("SELECT * FROM Customer where AcctNum = '1001'", "AcctNum"),
        ("SELECT * FROM Vendor WHERE Balance > 0", "Balance"),
        ("SELECT * FROM Invoice WHERE Line.Amount > 10", "Line.Amount"),
        ("SELECT * FROM Customer WHERE BillAddr.City = 'Bayshore'", "BillAddr.City"),
        ("SELECT * FROM Customer ORDERBY PrimaryPhone", "PrimaryPhone"),
    ],
)
def test_properties_qbo_does_not_query(text: str, prop: str) -> None:
    err = error(text)
    assert (err.code, err.message, err.detail) == (
        "4001",
        "Invalid query",
        f"QueryValidationError: property '{prop}' is not queryable",
    )


def test_nested_objects_in_rows_are_not_queryable() -> None:
    rows = [customer("1", "A", PrimaryEmailAddr={"Address": "a@example.com"})]
    assert run("SELECT * FROM Customer WHERE PrimaryEmailAddr.Address LIKE 'a@%'", rows)[0] == ["1"]
    for text in (
        "SELECT * FROM Customer WHERE PrimaryEmailAddr = 'a@example.com'",
        "SELECT * FROM Customer ORDERBY PrimaryEmailAddr",
        "SELECT * FROM Customer WHERE MetaData = 'x'",
    ):
        with pytest.raises(QueryError) as caught:
            run_query(parse_query(text), rows)
        assert caught.value.code == "4001"
        assert caught.value.detail.endswith("' is not queryable")


def test_unknown_entities() -> None:
    for name in ("Custmoer", "Customers", "Customer.Id", "Report"):
        err = error(f"SELECT * FROM {name}")
        assert (err.code, err.message, err.detail) == (
            "4001",
            "Invalid query",
            f"QueryValidationError: invalid context declaration: {name}",
        )


def test_query_error_is_an_exception_with_the_fault_fields() -> None:
    err = error("SELECT * FROM Custmoer")
    assert isinstance(err, Exception)
    assert "4001" in str(err) and "Custmoer" in str(err)


# --------------------------------------------------------------------------------------------
# Escaping round trip, the way QBO clients escape


def escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("'", "\\'")


PRINTABLE = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=40)


@settings(max_examples=300, deadline=None)
@given(name=PRINTABLE, others=st.lists(PRINTABLE, max_size=5))
def test_escaped_display_names_round_trip(name: str, others: list[str]) -> None:
    text = f"SELECT * FROM Customer WHERE DisplayName = '{escape(name)}'"
    query = parse_query(text)
    assert query.conditions[0].values[0].value == name
    rows = [customer("1", name)] + [
        customer(str(n), other)
        for n, other in enumerate(others, start=2)
        if other.casefold() != name.casefold()
    ]
    page, total = run_query(query, rows)
    assert [row["DisplayName"] for row in page] == [name]
    assert total == 1


@settings(max_examples=200, deadline=None)
@given(name=PRINTABLE)
def test_escaped_like_patterns_match_the_literal_text(name: str) -> None:
    pattern = escape(name).replace("%", "\\%")
    query = parse_query(f"SELECT * FROM Customer WHERE DisplayName LIKE '%{pattern}%'")
    rows = [customer("1", f"<{name}>")]
    assert run_query(query, rows)[1] == 1


def test_decimal_literals_keep_their_precision() -> None:
    value = parse_query("SELECT * FROM Invoice WHERE TotalAmt = 300.10").conditions[0].values[0]
    assert value == Value("decimal", Decimal("300.10"), "300.10")
    assert run("SELECT * FROM Invoice WHERE TotalAmt = 300.1", [invoice("1", TotalAmt=300.1)])[
        0
    ] == ["1"]


def test_latin1_letters_in_values_are_accepted() -> None:
    rows = [
        {"Id": "1", "DisplayName": "Café Lumière Hospitality", "Active": True},
        {"Id": "2", "DisplayName": "Müller-Østergaard Residences", "Active": True},
    ]
    page, total = run_query(
        parse_query("SELECT * FROM Customer WHERE DisplayName = 'Müller-Østergaard Residences'"),
        rows,
    )
    assert [r["Id"] for r in page] == ["2"] and total == 1
