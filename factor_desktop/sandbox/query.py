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

The statement's model is in `sandbox.query_model`, the lexer in `sandbox.query_lexer`, the
evaluation in `sandbox.query_eval`; this module parses, and exports what they define.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import replace
from decimal import Decimal
from typing import Final, NoReturn

from .query_eval import default_order, is_active, matches, run_query, sort_key, temporal
from .query_lexer import (
    _DECIMAL,
    _EOF,
    _IDENT,
    _IMAGE,
    _INTEGER,
    _KIND_RANK,
    _STRING,
    _java_escape,
    _Lexer,
    _Token,
)
from .query_model import (
    _COMPOUND_PROPERTIES,
    _ENTITY_BY_FOLDED,
    _NOT_QUERYABLE,
    DEFAULT_MAX_RESULTS,
    MAX_RESULTS_LIMIT,
    NAME_LIST_ENTITIES,
    SUPPORTED_ENTITIES,
    Condition,
    Operator,
    OrderBy,
    Query,
    QueryError,
    Value,
    ValueKind,
    _invalid,
    _not_queryable,
    _parse_error,
)

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
