"""The QuickBooks Online query language, parsed and evaluated the way QBO does.

The sandbox server hands the text of ``GET /query?query=…``, ``POST /query`` and batch ``Query``
items to :func:`parse_query`, then runs the parsed :class:`Query` over the stored rows of the
entity with :func:`run_query`. Failures raise :class:`QueryError`, which carries the ``code``,
``Message`` and ``Detail`` of the QBO fault to send back (HTTP 400, ``ValidationFault``).

Grammar (keywords, entity and property names are case-insensitive)::

    SELECT ( * [, Property]... | COUNT(*) ) FROM Entity
        [WHERE Condition [AND Condition]...]
        [ORDERBY | ORDER BY Property [ASC|DESC] [, Property [ASC|DESC]]...]
        [STARTPOSITION n] [MAXRESULTS n]          (the last two in either order)

    Condition = Property ( = | < | > | <= | >= ) Value
              | Property IN ( Value [, Value]... )
              | Property LIKE 'pattern'
    Value     = 'quoted'  (backslash escapes any character: \\' and \\\\)
              | integer | decimal | true | false

``SELECT *, Sku FROM Item`` (issued by python-quickbooks) parses; the extra names are kept in
:attr:`Query.projection` and change nothing, since QBO always returns every property.

Errors, with the texts real QBO sends:

* ``4000`` "Error parsing query" — the statement does not lex or parse. The Detail is QBO's
  JavaCC report, byte for byte in the shapes recorded from production:
  ``QueryParserError: Encountered " <IDENTIFIER> "R "" at line 1, column 52.\\nWas expecting one
  of:\\n    <EOF> \\n    <AND> ...`` (an unescaped quote), and ``QueryParserError: Invalid content.
  Lexical error at line 1, column 43.  Encountered: "\\u2019" (8217), after : "\\'%Fleur"`` for a
  character QBO's lexer refuses — anything beyond Latin-1 inside a quoted value (typographic
  quotes and dashes), anything outside ASCII elsewhere, and characters such as ``%`` or ``!``
  outside quotes. A value whose last character is a lone
  backslash swallows its closing quote and runs to the end: ``Encountered: <EOF> after : "…"``.
  Lines and columns are 1-based and counted the way JavaCC counts them (a tab advances to the next
  multiple of 8; the end of input sits on the last character; an empty statement reports line 0,
  column 0). ``OR`` and ``ITERATOR`` appear among the tokens QBO says it expects, but QBO
  evaluates neither; using one is a 4000 error pointing at that word.
* ``4001`` "Invalid query" — the statement parses but QBO refuses it:
  ``QueryValidationError: invalid context declaration: Custmoer`` (unknown entity),
  ``QueryValidationError: property 'PrimaryEmailAddr' is not queryable`` (a property QBO does not
  filter or sort on: line, address, phone and other compound properties, and the per-entity
  exclusions QBO reports, see ``_NOT_QUERYABLE``; :func:`run_query` also raises it when a condition
  or sort key lands on a nested object or a list in the stored rows), and
  ``QueryValidationError: value 1500 is too large. Max allowed value is 1000`` (MAXRESULTS over
  1000). MAXRESULTS below 1 is refused the same way ("value 0 is too small. Min allowed value
  is 1").

Evaluation:

* Pages: STARTPOSITION is 1-based (below 1 counts as 1); MAXRESULTS defaults to 100, at most 1000.
  A start past the end gives an empty page. ``run_query`` returns the page and the number of rows
  matching the conditions (``totalCount``); for ``COUNT(*)`` the page is empty.
* Name-list entities (``NAME_LIST_ENTITIES``) leave out rows whose ``Active`` is false unless a
  condition names ``Active`` itself (``Active = false``, ``Active IN (true, false)``).
* A condition on a property a row lacks (or holds as null) is false — except that QBO writes null
  as ``' '`` (one space), so ``= ' '`` and ``IN (…, ' ')`` also match rows without the property.
  Through a list (``AttachableRef.EntityRef.value``) a row matches when any element does.
* A reference property (``CustomerRef``) compares by its ``value``.
* Numbers compare numerically, quoted or not (``TotalAmt > '300.00'``); ids (``Id``,
  ``SyncToken``, reference values) compare as integers when both sides are integers. Dates and
  date-times (``TxnDate``, ``MetaData.LastUpdatedTime > '2020-09-29T05:58:07-07:00'``) compare
  chronologically; a value without an offset is read in the stored value's offset (the company's
  local time), a bare date against a date-time means midnight. Booleans take ``true``/``false``,
  quoted or not.
* Text comparisons in conditions (``=``, ``IN``, ``<``… and ``LIKE``) ignore case: QBO treats
  names case-insensitively (DisplayName uniqueness included). In ``LIKE`` the only wildcard is
  ``%`` (any run of characters, possibly empty); ``\\%`` is a literal percent sign and ``_``
  is an ordinary character.
* Order: without ORDERBY, QBO's own order as recorded from a live company — name lists by their
  name (Customer, Item, Account, Class, Department by FullyQualifiedName; Vendor, Employee by
  DisplayName; Term, TaxCode, PaymentMethod and the like by Name), ascending by character code
  (``PG&E`` before ``Pam Seitz``); transactions and everything else by
  ``MetaData.LastUpdatedTime``, newest first. ORDERBY sorts the same way (numbers by value, dates
  by instant, text by character code). Rows without the sort property come last in either
  direction; ties fall back to ``Id`` ascending.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time
from decimal import Decimal, InvalidOperation
from typing import Any, Final, Literal, NoReturn

__all__ = [
    "DEFAULT_MAX_RESULTS",
    "MAX_RESULTS_LIMIT",
    "NAME_LIST_ENTITIES",
    "SUPPORTED_ENTITIES",
    "Condition",
    "Operator",
    "OrderBy",
    "Query",
    "QueryError",
    "Value",
    "ValueKind",
    "default_order",
    "is_active",
    "matches",
    "parse_query",
    "run_query",
    "sort_key",
    "temporal",
]

DEFAULT_MAX_RESULTS: Final = 100
MAX_RESULTS_LIMIT: Final = 1000

SUPPORTED_ENTITIES: Final[frozenset[str]] = frozenset(
    {
        "Account",
        "Attachable",
        "Bill",
        "BillPayment",
        "Budget",
        "Class",
        "CompanyCurrency",
        "CompanyInfo",
        "CreditCardPayment",
        "CreditMemo",
        "Customer",
        "CustomerType",
        "Department",
        "Deposit",
        "Employee",
        "Estimate",
        "ExchangeRate",
        "Invoice",
        "Item",
        "JournalCode",
        "JournalEntry",
        "Payment",
        "PaymentMethod",
        "Preferences",
        "Purchase",
        "PurchaseOrder",
        "RecurringTransaction",
        "RefundReceipt",
        "ReimburseCharge",
        "SalesReceipt",
        "TaxAgency",
        "TaxClassification",
        "TaxCode",
        "TaxPayment",
        "TaxRate",
        "Term",
        "TimeActivity",
        "Transfer",
        "Vendor",
        "VendorCredit",
    }
)
"""Entity names accepted after FROM, in any case (:attr:`Query.entity` is the canonical one)."""

NAME_LIST_ENTITIES: Final[frozenset[str]] = frozenset(
    {
        "Account",
        "Class",
        "Customer",
        "Department",
        "Employee",
        "Item",
        "PaymentMethod",
        "TaxCode",
        "Term",
        "Vendor",
    }
)
"""Entities whose inactive rows a query leaves out unless it names ``Active``."""

_ENTITY_BY_FOLDED: Final = {name.casefold(): name for name in SUPPORTED_ENTITIES}

# What QBO orders a name list by when the statement has no ORDERBY: the first of these
# properties a row has.
_BY_FULL_NAME: Final = ("FullyQualifiedName", "Name", "DisplayName")
_BY_DISPLAY_NAME: Final = ("DisplayName", "Name")
_BY_NAME: Final = ("Name", "DisplayName")
_DEFAULT_ORDER: Final[dict[str, tuple[str, ...]]] = {
    "Account": _BY_FULL_NAME,
    "Budget": _BY_NAME,
    "Class": _BY_FULL_NAME,
    "Customer": ("FullyQualifiedName", "DisplayName"),
    "CustomerType": _BY_NAME,
    "Department": _BY_FULL_NAME,
    "Employee": _BY_DISPLAY_NAME,
    "Item": _BY_FULL_NAME,
    "JournalCode": _BY_NAME,
    "PaymentMethod": _BY_NAME,
    "TaxAgency": _BY_DISPLAY_NAME,
    "TaxClassification": _BY_NAME,
    "TaxCode": _BY_NAME,
    "TaxRate": _BY_NAME,
    "Term": _BY_NAME,
    "Vendor": _BY_DISPLAY_NAME,
}
# Everything else (transactions, Attachable, CompanyInfo…): most recently changed first.
_DEFAULT_ORDER_FALLBACK: Final = "MetaData.LastUpdatedTime"

# Compound properties QBO never filters or sorts on, whatever the entity (first path segment).
_COMPOUND_PROPERTIES: Final = frozenset(
    name.casefold()
    for name in (
        "AlternatePhone",
        "BillAddr",
        "BillEmail",
        "BillEmailBcc",
        "BillEmailCc",
        "CompanyAddr",
        "CustomField",
        "CustomerCommunicationAddr",
        "DeliveryInfo",
        "Fax",
        "LegalAddr",
        "Line",
        "LinkedTxn",
        "Mobile",
        "NameValue",
        "OtherContactInfo",
        "PrimaryPhone",
        "PurchaseTaxRateList",
        "SalesTaxRateList",
        "ShipAddr",
        "ShipFromAddr",
        "TxnTaxDetail",
        "WebAddr",
    )
)

# Further properties QBO reports as "not queryable" for one entity: those Intuit's entity reference
# does not mark filterable (QBO answers ``Vendor WHERE PrimaryEmailAddr = …`` with this fault).
_NOT_QUERYABLE: Final = {
    "Account": frozenset({"acctnum"}),
    "Customer": frozenset({"acctnum"}),
    "Vendor": frozenset(
        name.casefold()
        for name in (
            "AcctNum",
            "APAccountRef",
            "Balance",
            "CurrencyRef",
            "PrimaryEmailAddr",
            "SyncToken",
            "TaxIdentifier",
            "TaxReportingBasis",
            "TermRef",
            "Title",
            "Vendor1099",
        )
    ),
}

_ID_SEGMENTS: Final = frozenset({"id", "synctoken", "value"})


class QueryError(Exception):
    """A query QBO refuses: ``code``, ``message`` and ``detail`` are the fault's fields."""

    code: str
    message: str
    detail: str

    def __init__(self, code: str, message: str, detail: str) -> None:
        super().__init__(f"{code} {message}: {detail}")
        self.code = code
        self.message = message
        self.detail = detail


def _parse_error(detail: str) -> QueryError:
    return QueryError("4000", "Error parsing query", f"QueryParserError: {detail}")


def _invalid(detail: str) -> QueryError:
    return QueryError("4001", "Invalid query", f"QueryValidationError: {detail}")


def _not_queryable(prop: str) -> QueryError:
    return _invalid(f"property '{prop}' is not queryable")


ValueKind = Literal["string", "integer", "decimal", "boolean"]
Operator = Literal["=", "<", ">", "<=", ">=", "IN", "LIKE"]


@dataclass(frozen=True)
class Value:
    """One literal of a condition.

    ``value`` is the Python value (escapes resolved for strings); ``raw`` is the text as written
    (for a string, what stood between the quotes, escapes included).
    """

    kind: ValueKind
    value: str | int | Decimal | bool
    raw: str


@dataclass(frozen=True)
class Condition:
    """``field op values``; ``values`` holds one literal except for ``IN``."""

    field: str
    op: Operator
    values: tuple[Value, ...]

    @property
    def path(self) -> tuple[str, ...]:
        return tuple(self.field.split("."))


@dataclass(frozen=True)
class OrderBy:
    """One ORDERBY key."""

    field: str
    descending: bool = False


@dataclass(frozen=True)
class Query:
    """A parsed statement. ``projection`` holds names listed after ``*`` (``SELECT *, Sku``)."""

    entity: str
    count: bool = False
    conditions: tuple[Condition, ...] = ()
    order_by: tuple[OrderBy, ...] = ()
    start_position: int = 1
    max_results: int = DEFAULT_MAX_RESULTS
    projection: tuple[str, ...] = ()

    @property
    def mentions_active(self) -> bool:
        """True when a condition is on ``Active``, which turns off the implicit active filter."""
        return any(c.path[0].casefold() == "active" for c in self.conditions)


# --------------------------------------------------------------------------------------------
# Lexer: tokens as QBO's JavaCC grammar names them.

_EOF: Final = "<EOF>"
_IDENT: Final = "IDENTIFIER"
_INTEGER: Final = "INTEGER_LITERAL"
_DECIMAL: Final = "DECIMAL_LITERAL"
_STRING: Final = "STRING_LITERAL"

_KEYWORDS: Final = (
    "and",
    "asc",
    "by",
    "count",
    "desc",
    "false",
    "from",
    "in",
    "iterator",
    "like",
    "maxresults",
    "or",
    "order",
    "orderby",
    "select",
    "startposition",
    "true",
    "where",
)
_PUNCTUATION: Final = ("*", "(", ")", ",", "=", "<", ">", "<=", ">=")
_KIND_ORDER: Final = (_EOF, *_KEYWORDS, *_PUNCTUATION, _IDENT, _INTEGER, _DECIMAL, _STRING)
_KIND_RANK: Final = {kind: rank for rank, kind in enumerate(_KIND_ORDER)}
_IMAGE: Final = {
    _EOF: "<EOF>",
    "and": "<AND>",
    "or": "<OR>",
    _IDENT: "<IDENTIFIER>",
    _INTEGER: "<INTEGER_LITERAL>",
    _DECIMAL: "<DECIMAL_LITERAL>",
    _STRING: "<STRING_LITERAL>",
    **{kw: f'"{kw}"' for kw in _KEYWORDS if kw not in ("and", "or")},
    **{p: f'"{p}"' for p in _PUNCTUATION},
}

_WHITESPACE: Final = frozenset(" \t\n\r\f")
_IDENT_RE: Final = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*")
_NUMBER_RE: Final = re.compile(r"-?[0-9]+(?:\.[0-9]+)?")
_TAB_SIZE: Final = 8
_ASCII_MAX: Final = 0x7F
# Inside a quoted value QBO's lexer takes Latin-1 (accented names such as "Café Lumière" are
# found), but refuses typographic characters beyond it such as ’ (8217) and – (8211), the only
# characters real QBO errors are on record for. The Latin-1 bound is an inference from both.
_STRING_CHAR_MAX: Final = 0xFF


_JAVA_ESCAPES: Final = {
    0x08: "\\b",
    0x09: "\\t",
    0x0A: "\\n",
    0x0C: "\\f",
    0x0D: "\\r",
    0x22: '\\"',
    0x27: "\\'",
    0x5C: "\\\\",
}


def _utf16_units(ch: str) -> tuple[int, ...]:
    """The UTF-16 code units of a character: what a Java ``char`` holds."""
    code = ord(ch)
    if code <= 0xFFFF:
        return (code,)
    code -= 0x10000
    return (0xD800 + (code >> 10), 0xDC00 + (code & 0x3FF))


def _escape_unit(unit: int) -> str:
    """JavaCC's ``addEscapes`` for one UTF-16 unit (NUL is dropped, as JavaCC drops it)."""
    if unit == 0:
        return ""
    special = _JAVA_ESCAPES.get(unit)
    if special is not None:
        return special
    if unit < 0x20 or unit > 0x7E:
        return f"\\u{unit:04x}"
    return chr(unit)


def _java_escape(text: str) -> str:
    """How QBO quotes token images and characters in its error texts."""
    return "".join(_escape_unit(unit) for ch in text for unit in _utf16_units(ch))


@dataclass(frozen=True)
class _Token:
    kind: str
    image: str
    line: int
    column: int


class _Positions:
    """Line and column of every character, as JavaCC's SimpleCharStream counts them."""

    def __init__(self, text: str) -> None:
        self.lines: list[int] = []
        self.columns: list[int] = []
        line, column = 1, 0
        after_cr = after_lf = False
        for ch in text:
            column += 1
            if after_lf:
                after_lf = False
                line += 1
                column = 1
            elif after_cr:
                after_cr = False
                if ch == "\n":
                    after_lf = True
                else:
                    line += 1
                    column = 1
            if ch == "\r":
                after_cr = True
            elif ch == "\n":
                after_lf = True
            elif ch == "\t":
                column -= 1
                column += _TAB_SIZE - (column % _TAB_SIZE)
            self.lines.append(line)
            self.columns.append(column)
            # A character outside the Basic Multilingual Plane is two UTF-16 units to Java.
            if ord(ch) > 0xFFFF:
                column += 1

    def at(self, index: int) -> tuple[int, int]:
        if index < 0:
            return 0, 0
        return self.lines[index], self.columns[index]


class _Lexer:
    def __init__(self, text: str) -> None:
        self.text = text
        self.positions = _Positions(text)
        self.index = 0

    def next(self) -> _Token:
        text, n = self.text, len(self.text)
        i = self.index
        while i < n and text[i] in _WHITESPACE:
            i += 1
        if i == n:
            self.index = n
            line, column = self.positions.at(n - 1)
            return _Token(_EOF, "", line, column)
        ch = text[i]
        line, column = self.positions.at(i)
        if ch == "'":
            end = self._string_end(i)
            kind = _STRING
        elif ch.isascii() and (ch.isalpha() or ch == "_"):
            match = _IDENT_RE.match(text, i)
            assert match is not None
            end = match.end()
            word = text[i:end].casefold()
            kind = word if word in _KEYWORDS else _IDENT
        elif (ch.isascii() and ch.isdigit()) or ch == "-":
            match = _NUMBER_RE.match(text, i)
            if match is None:
                self._lexical_error(i, i + 1)
            end = match.end()
            kind = _DECIMAL if "." in match.group() else _INTEGER
        elif text.startswith(("<=", ">="), i):
            end = i + 2
            kind = text[i:end]
        elif ch in "*(),=<>":
            end = i + 1
            kind = ch
        else:
            self._lexical_error(i, i)
        self.index = end
        return _Token(kind, text[i:end], line, column)

    def _string_end(self, start: int) -> int:
        """Index just past the closing quote of the string starting at ``start``."""
        text, n = self.text, len(self.text)
        i = start + 1
        while i < n:
            ch = text[i]
            if ord(ch) > _STRING_CHAR_MAX:
                self._lexical_error(start, i)
            if ch == "'":
                return i + 1
            if ch == "\\":
                i += 1
                if i < n and ord(text[i]) > _STRING_CHAR_MAX:
                    self._lexical_error(start, i)
            i += 1
        self._lexical_error(start, n)

    def _lexical_error(self, start: int, failed_at: int) -> NoReturn:
        """QBO's TokenMgrError for a token begun at ``start`` that dies at ``failed_at``."""
        text = self.text
        prefix = text[start:failed_at]
        if failed_at >= len(text):
            line, column = self.positions.at(len(text) - 1)
            if text and text[-1] in "\r\n":
                line, column = line + 1, 0
            else:
                column += 1
            after = prefix if len(prefix) > 1 else ""
            encountered = "<EOF> "
        else:
            line, column = self.positions.at(failed_at)
            after = prefix
            unit = _utf16_units(text[failed_at])[0]
            encountered = f'"{_escape_unit(unit)}" ({unit}), '
        raise _parse_error(
            f"Invalid content. Lexical error at line {line}, column {column}.  "
            f'Encountered: {encountered}after : "{_java_escape(after)}"'
        )


# --------------------------------------------------------------------------------------------
# Parser


class _Parser:
    def __init__(self, text: str) -> None:
        self.lexer = _Lexer(text)
        self.peeked: _Token | None = None

    def peek(self) -> _Token:
        if self.peeked is None:
            self.peeked = self.lexer.next()
        return self.peeked

    def take(self) -> _Token:
        token = self.peek()
        self.peeked = None
        return token

    def expect(self, kind: str, *also: str) -> _Token:
        """Consume a token of ``kind``; on failure ``also`` are reported as expected too."""
        if self.peek().kind == kind:
            return self.take()
        self.fail((kind, *also))

    def fail(self, expected: Iterable[str]) -> NoReturn:
        """QBO's ParseException for the next token, listing what the grammar accepts there.

        The token just met is never listed: the grammar accepted everything else it expects, so
        it is one QBO lists but does not evaluate (OR, ITERATOR).
        """
        token = self.peek()
        kinds = sorted({k for k in expected if k != token.kind}, key=_KIND_RANK.__getitem__)
        if token.kind == _EOF:
            encountered = "<EOF>"
        else:
            encountered = f' {_IMAGE[token.kind]} "{_java_escape(token.image)} "'
        heading = "Was expecting:" if len(kinds) == 1 else "Was expecting one of:"
        listing = "".join(f"{_IMAGE[k]} {'' if k == _EOF else '...'}\n    " for k in kinds)
        raise _parse_error(
            f'Encountered "{encountered}" at line {token.line}, column {token.column}.\n'
            f"{heading}\n    {listing}"
        )

    # Statement ------------------------------------------------------------------------------

    def statement(self) -> Query:
        """The statement as written (entity not yet checked)."""
        self.expect("select")
        count = False
        projection: list[str] = []
        token = self.peek()
        if token.kind == "*":
            self.take()
            while self.peek().kind == ",":
                self.take()
                projection.append(self.expect(_IDENT).image)
            self.expect("from", ",")
        elif token.kind == "count":
            self.take()
            self.expect("(")
            self.expect("*")
            self.expect(")")
            self.expect("from")
            count = True
        else:
            self.fail(("*", "count"))
        entity = self.expect(_IDENT).image

        conditions: list[Condition] = []
        pending: tuple[str, ...] = ("where",)
        if self.peek().kind == "where":
            self.take()
            conditions.append(self.condition())
            while self.peek().kind == "and":
                self.take()
                conditions.append(self.condition())
            pending = ("and", "or")

        order_by: list[OrderBy] = []
        if self.peek().kind in ("order", "orderby"):
            if self.take().kind == "order":
                self.expect("by")
            pending = self.order_items(order_by)
            order_allowed = False
        else:
            order_allowed = True

        start, max_results = self.pagination(pending, order_allowed)
        return Query(
            entity=entity,
            count=count,
            conditions=tuple(conditions),
            order_by=tuple(order_by),
            start_position=max(start, 1) if start is not None else 1,
            max_results=max_results if max_results is not None else DEFAULT_MAX_RESULTS,
            projection=tuple(projection),
        )

    def condition(self) -> Condition:
        prop = self.expect(_IDENT).image
        token = self.peek()
        op: Operator
        if token.kind in ("=", "<", ">", "<=", ">="):
            self.take()
            op = _COMPARISON[token.kind]
            values: tuple[Value, ...] = (self.value(),)
        elif token.kind == "in":
            self.take()
            op = "IN"
            self.expect("(")
            items = [self.value()]
            while self.peek().kind == ",":
                self.take()
                items.append(self.value())
            self.expect(")", ",")
            values = tuple(items)
        elif token.kind == "like":
            self.take()
            op = "LIKE"
            values = (_string_value(self.expect(_STRING).image),)
        else:
            self.fail(("=", "<", ">", "<=", ">=", "in", "like"))
        return Condition(prop, op, values)

    def value(self) -> Value:
        token = self.peek()
        if token.kind == _STRING:
            return _string_value(self.take().image)
        if token.kind == _INTEGER:
            return Value("integer", int(self.take().image), token.image)
        if token.kind == _DECIMAL:
            return Value("decimal", Decimal(self.take().image), token.image)
        if token.kind in ("true", "false"):
            self.take()
            return Value("boolean", token.kind == "true", token.image)
        self.fail((_STRING, _INTEGER, _DECIMAL, "true", "false"))

    def order_items(self, out: list[OrderBy]) -> tuple[str, ...]:
        """Parse ``Property [ASC|DESC] [, …]``; returns what else could have followed."""
        while True:
            prop = self.expect(_IDENT).image
            descending = False
            pending: tuple[str, ...] = (",", "asc", "desc")
            if self.peek().kind in ("asc", "desc"):
                descending = self.take().kind == "desc"
                pending = (",",)
            out.append(OrderBy(prop, descending))
            if self.peek().kind != ",":
                return pending
            self.take()

    def pagination(
        self, pending: tuple[str, ...], order_allowed: bool
    ) -> tuple[int | None, int | None]:
        start: int | None = None
        max_results: int | None = None
        while True:
            kind = self.peek().kind
            if kind == "startposition" and start is None:
                self.take()
                start = int(self.expect(_INTEGER).image)
            elif kind == "maxresults" and max_results is None:
                self.take()
                max_results = int(self.expect(_INTEGER).image)
            elif kind == _EOF:
                return start, max_results
            else:
                expected = [_EOF, "iterator", *pending]
                if start is None:
                    expected.append("startposition")
                if max_results is None:
                    expected.append("maxresults")
                if order_allowed:
                    expected.extend(("order", "orderby"))
                self.fail(expected)
            pending = ()
            order_allowed = False


_COMPARISON: Final[dict[str, Operator]] = {
    "=": "=",
    "<": "<",
    ">": ">",
    "<=": "<=",
    ">=": ">=",
}


def _string_value(image: str) -> Value:
    body = image[1:-1]
    return Value("string", re.sub(r"\\(.)", r"\1", body, flags=re.DOTALL), body)


def parse_query(text: str) -> Query:
    """Parse a QBO query statement; raises :class:`QueryError` exactly where QBO would."""
    query = _Parser(text).statement()
    canonical = _ENTITY_BY_FOLDED.get(query.entity.casefold())
    if canonical is None:
        raise _invalid(f"invalid context declaration: {query.entity}")
    for prop in [c.field for c in query.conditions] + [o.field for o in query.order_by]:
        if _is_not_queryable(canonical, prop):
            raise _not_queryable(prop)
    if query.max_results > MAX_RESULTS_LIMIT:
        raise _invalid(
            f"value {query.max_results} is too large. Max allowed value is {MAX_RESULTS_LIMIT}"
        )
    if query.max_results < 1:
        raise _invalid(f"value {query.max_results} is too small. Min allowed value is 1")
    return replace(query, entity=canonical)


def _is_not_queryable(entity: str, prop: str) -> bool:
    head = prop.split(".", 1)[0].casefold()
    return head in _COMPOUND_PROPERTIES or head in _NOT_QUERYABLE.get(entity, frozenset())


# --------------------------------------------------------------------------------------------
# Evaluation

_MISSING: Final = object()
_DATE_RE: Final = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_DATETIME_RE: Final = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]{1,6})?)?"
    r"(?:Z|[+-][0-9]{2}:?[0-9]{2})?"
)
_INTEGER_RE: Final = re.compile(r"-?[0-9]+")

Scalar = str | int | float | Decimal | bool
Temporal = date | datetime


def run_query(q: Query, rows: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], int]:
    """Rows of the page ``q`` asks for (in QBO's order) and how many rows match in all.

    ``rows`` are the stored entities of ``q.entity``; the page holds the same dict objects.
    For ``COUNT(*)`` the page is empty.
    """
    active_only = q.entity in NAME_LIST_ENTITIES and not q.mentions_active
    matched = [
        row
        for row in rows
        if (not active_only or _is_active(row)) and all(_holds(c, row) for c in q.conditions)
    ]
    if q.count:
        return [], len(matched)
    ordered = _ordered(q, matched)
    start = q.start_position - 1
    return ordered[start : start + q.max_results], len(matched)


def default_order(entity: str) -> tuple[tuple[str, ...], bool]:
    """QBO's order without ORDERBY: (properties, the first a row has sorts it; descending)."""
    default = _DEFAULT_ORDER.get(entity)
    return (default, False) if default else ((_DEFAULT_ORDER_FALLBACK,), True)


def is_active(row: dict[str, Any]) -> bool:
    """Whether a row passes the implicit ``Active = true`` filter of name-list queries."""
    return _is_active(row)


def sort_key(row: dict[str, Any], prop: str) -> tuple[int, Decimal, float, str] | None:
    """The key ORDERBY ``prop`` sorts ``row`` by (None: the row lacks it and sorts last)."""
    return _sort_key(row, prop)


def temporal(text: str) -> date | datetime | None:
    """The date or date-time a literal or stored text stands for, as conditions read it."""
    return _temporal(text)


def matches(q: Query, row: dict[str, Any]) -> bool:
    """Whether ``row`` satisfies every condition of ``q`` and its implicit active filter."""
    if q.entity in NAME_LIST_ENTITIES and not q.mentions_active and not _is_active(row):
        return False
    return all(_holds(c, row) for c in q.conditions)


def _is_active(row: dict[str, Any]) -> bool:
    active = _get(row, "Active")
    if isinstance(active, bool):
        return active
    return not (isinstance(active, str) and active.casefold() == "false")


def _get(node: dict[str, Any], key: str) -> Any:
    if key in node:
        return node[key]
    folded = key.casefold()
    for name, item in node.items():
        if name.casefold() == folded:
            return item
    return _MISSING


def _candidates(row: dict[str, Any], prop: str) -> list[tuple[Scalar, bool]]:
    """The scalar values ``prop`` names in ``row``, each with whether it is an id.

    A reference yields its ``value``; lists along the way yield one candidate per element.
    """
    segments = prop.split(".")
    nodes: list[Any] = [row]
    for segment in segments:
        found: list[Any] = []
        for node in nodes:
            for item in node if isinstance(node, list) else (node,):
                if isinstance(item, dict):
                    child = _get(item, segment)
                    if child is not _MISSING and child is not None:
                        found.append(child)
        nodes = found
    is_id = segments[-1].casefold() in _ID_SEGMENTS
    out: list[tuple[Scalar, bool]] = []
    for node in nodes:
        if isinstance(node, dict):
            ref = _get(node, "value")
            if ref is _MISSING or isinstance(ref, dict | list):
                raise _not_queryable(prop)
            if ref is not None:
                out.append((ref, True))
        elif isinstance(node, list):
            raise _not_queryable(prop)
        elif isinstance(node, str | int | float | Decimal):
            out.append((node, is_id))
        else:
            out.append((str(node), is_id))
    return out


def _holds(condition: Condition, row: dict[str, Any]) -> bool:
    candidates = _candidates(row, condition.field)
    if not candidates:
        return condition.op in ("=", "IN") and any(
            v.kind == "string" and v.value == " " for v in condition.values
        )
    return any(_satisfies(condition, actual, is_id) for actual, is_id in candidates)


def _satisfies(condition: Condition, actual: Scalar, is_id: bool) -> bool:
    op = condition.op
    if op == "LIKE":
        if not isinstance(actual, str):
            return False
        return _like_pattern(condition.values[0].raw).fullmatch(actual) is not None
    if op == "IN":
        return any(_compare(actual, v, is_id) == 0 for v in condition.values)
    result = _compare(actual, condition.values[0], is_id)
    if result is None:
        return False
    if op == "=":
        return result == 0
    if op == "<":
        return result < 0
    if op == ">":
        return result > 0
    if op == "<=":
        return result <= 0
    return result >= 0


@functools.lru_cache(maxsize=256)
def _like_pattern(raw: str) -> re.Pattern[str]:
    parts: list[str] = []
    chars: Iterator[str] = iter(raw)
    for ch in chars:
        if ch == "\\":
            parts.append(re.escape(next(chars, "")))
        elif ch == "%":
            parts.append(".*")
        else:
            parts.append(re.escape(ch))
    return re.compile("".join(parts), re.IGNORECASE | re.DOTALL)


def _sign(a: Any, b: Any) -> int:
    return int(a > b) - int(a < b)


def _compare(actual: Scalar, literal: Value, is_id: bool) -> int | None:
    """-1, 0 or 1 comparing a stored value with a literal; None when they cannot compare."""
    if isinstance(actual, bool):
        flag = _as_bool(literal)
        return None if flag is None else _sign(actual, flag)
    if isinstance(actual, int | float | Decimal):
        left = _to_decimal(actual)
        right = _as_decimal(literal)
        if left is None or right is None:
            return None
        return _sign(left, right)
    text = _as_text(literal)
    stored = _temporal(actual)
    if stored is not None and literal.kind == "string":
        wanted = _temporal(text)
        if wanted is not None:
            return _compare_temporal(stored, wanted)
    if is_id and _INTEGER_RE.fullmatch(actual) and _INTEGER_RE.fullmatch(text):
        return _sign(int(actual), int(text))
    return _sign(actual.casefold(), text.casefold())


def _as_bool(literal: Value) -> bool | None:
    if literal.kind == "boolean":
        return bool(literal.value)
    if literal.kind == "string":
        word = str(literal.value).strip().casefold()
        if word in ("true", "false"):
            return word == "true"
    return None


def _to_decimal(number: int | float | Decimal) -> Decimal | None:
    try:
        value = Decimal(str(number)) if isinstance(number, float) else Decimal(number)
    except InvalidOperation:
        return None
    return value if value.is_finite() else None


def _as_decimal(literal: Value) -> Decimal | None:
    if isinstance(literal.value, Decimal):
        return literal.value
    if literal.kind == "integer" and isinstance(literal.value, int):
        return Decimal(literal.value)
    if literal.kind == "string":
        try:
            value = Decimal(str(literal.value).strip())
        except InvalidOperation:
            return None
        return value if value.is_finite() else None
    return None


def _as_text(literal: Value) -> str:
    if literal.kind == "string":
        return str(literal.value)
    if literal.kind == "boolean":
        return "true" if literal.value else "false"
    return literal.raw


def _temporal(text: str) -> Temporal | None:
    try:
        if _DATE_RE.fullmatch(text):
            return date.fromisoformat(text)
        if _DATETIME_RE.fullmatch(text):
            return datetime.fromisoformat(text)
    except ValueError:
        return None
    return None


def _compare_temporal(stored: Temporal, wanted: Temporal) -> int:
    if isinstance(stored, datetime):
        if not isinstance(wanted, datetime):
            wanted = datetime.combine(wanted, time(), tzinfo=stored.tzinfo)
        elif (stored.tzinfo is None) != (wanted.tzinfo is None):
            if stored.tzinfo is None:
                stored = stored.replace(tzinfo=wanted.tzinfo)
            else:
                wanted = wanted.replace(tzinfo=stored.tzinfo)
        return _sign(stored, wanted)
    if isinstance(wanted, datetime):
        wanted = wanted.date()
    return _sign(stored, wanted)


# Sort keys: (rank, number, instant, text) so that any two keys compare without type errors.
_SortKey = tuple[int, Decimal, float, str]
_NO_KEY: Final[_SortKey] = (0, Decimal(0), 0.0, "")


def _sort_key(row: dict[str, Any], prop: str) -> _SortKey | None:
    candidates = _candidates(row, prop)
    if not candidates:
        return None
    actual, is_id = candidates[0]
    if isinstance(actual, bool):
        return (0, Decimal(int(actual)), 0.0, "")
    if isinstance(actual, int | float | Decimal):
        number = _to_decimal(actual)
        return None if number is None else (1, number, 0.0, "")
    if is_id and _INTEGER_RE.fullmatch(actual):
        return (1, Decimal(int(actual)), 0.0, "")
    instant = _temporal(actual)
    if instant is not None:
        return (2, Decimal(0), _timestamp(instant), "")
    return (3, Decimal(0), 0.0, actual)


def _timestamp(value: Temporal) -> float:
    if not isinstance(value, datetime):
        value = datetime.combine(value, time(), tzinfo=UTC)
    elif value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.timestamp()


def _placed(row: dict[str, Any], props: tuple[str, ...], descending: bool) -> tuple[int, _SortKey]:
    """Sort key on the first of ``props`` the row has; rows with none of them go last."""
    key = next((k for k in (_sort_key(row, prop) for prop in props) if k is not None), None)
    if key is None:
        # Sorting descending reverses the flag as well, so it is inverted there.
        return (0 if descending else 1, _NO_KEY)
    return (1 if descending else 0, key)


def _ordered(q: Query, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    keys: list[tuple[tuple[str, ...], bool]] = [
        ((item.field,), item.descending) for item in q.order_by
    ]
    if not keys:
        keys = [default_order(q.entity)]
    out = sorted(rows, key=functools.partial(_placed, props=("Id",), descending=False))
    for props, descending in reversed(keys):
        out.sort(
            key=functools.partial(_placed, props=props, descending=descending), reverse=descending
        )
    return out
