"""Build QBO query statements with values quoted the way QBO's parser expects.

QBO's query language is a small SQL: ``SELECT * | COUNT(*) FROM <Entity> [WHERE <cond> [AND
<cond>]…] [ORDERBY <field> [ASC|DESC]] [STARTPOSITION n] [MAXRESULTS n]``, with no OR, no joins
and no projections. Values are written as follows:

* text is quoted with ``'``; a backslash is written ``\\\\`` and a quote ``\\'`` (QBO's escape,
  proven by the recorded lookup of "Amy's Bird Sanctuary"); a trailing backslash is therefore safe;
* text is put in Unicode NFC form, so a name typed with combining accents matches the stored one;
* accented and other letters (``Café Lumière``, ``Łódź``, ``Zoë``) are passed as they are: they are
  real client names and QBO stores them. The lexical errors on record are all for punctuation
  above U+00FF and no source shows QBO refusing a letter; should it refuse one, the query fails
  with a 4000 :class:`~factor_desktop.qbo.errors.QboValidationError` that names the character
  (the local sandbox is stricter than that record and refuses every non-ASCII character);
* typographic punctuation that QBO's parser rejects with "Lexical error … Encountered: \\u2019"
  (curly quotes, en and em dashes, the minus sign, the ellipsis, non-breaking spaces) is replaced
  by its ASCII twin (``'``, ``"``, ``-``, ``...``, space): what a user typing the name means.
  A name *stored* in QBO with a typographic character therefore cannot be found by ``=`` at
  all; find it by ``Id``, or with ``LIKE`` on a part without that character and compare the rows;
* any other non-ASCII character that is not a letter, digit or mark (symbols, emoji, control
  characters) is refused with :class:`QueryValueError` before a request is made;
* ``True``/``False`` are written ``true``/``false``; ``int`` and ``Decimal`` as quoted plain
  numbers (``'300.00'``, as QBO accepts); ``date`` as ``'YYYY-MM-DD'``; an aware ``datetime`` as
  ISO 8601 with its offset (naive datetimes and floats are refused: a cursor or an amount must
  not depend on the local clock or on binary rounding).

``&``, ``%`` and other URL-special characters are not touched here: the client URL-encodes the
whole statement (``&`` becomes ``%26``). In a ``LIKE`` value ``%`` is QBO's wildcard.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal
from typing import Literal

__all__ = [
    "MAX_PAGE_SIZE",
    "Operator",
    "Query",
    "QueryValue",
    "QueryValueError",
    "format_value",
    "quote_text",
    "select",
]

#: QBO answers at most 1000 rows per query.
MAX_PAGE_SIZE = 1000

Operator = Literal["=", "<", ">", "<=", ">=", "IN", "LIKE"]
QueryValue = str | bool | int | Decimal | date | datetime

_OPERATORS: frozenset[str] = frozenset({"=", "<", ">", "<=", ">=", "IN", "LIKE"})
_ENTITY = re.compile(r"^[A-Za-z][A-Za-z0-9]*$")
_FIELD = re.compile(r"^[A-Za-z][A-Za-z0-9_]*(?:\.[A-Za-z][A-Za-z0-9_]*)*$")

# Typographic characters that QBO's lexer rejects, and what a user typing them means.
_ASCII_TWINS: dict[str, str] = {
    "\u2018": "'",  # left single quotation mark
    "\u2019": "'",  # right single quotation mark (typographic apostrophe)
    "\u201a": "'",  # single low-9 quotation mark
    "\u201b": "'",  # single high-reversed-9 quotation mark
    "\u2032": "'",  # prime
    "\u02bc": "'",  # modifier letter apostrophe
    "\u00b4": "'",  # acute accent used as an apostrophe
    "\u201c": '"',  # left double quotation mark
    "\u201d": '"',  # right double quotation mark
    "\u201e": '"',  # double low-9 quotation mark
    "\u201f": '"',  # double high-reversed-9 quotation mark
    "\u2033": '"',  # double prime
    "\u00ab": '"',  # left-pointing double angle quotation mark
    "\u00bb": '"',  # right-pointing double angle quotation mark
    "\u2010": "-",  # hyphen
    "\u2011": "-",  # non-breaking hyphen
    "\u2012": "-",  # figure dash
    "\u2013": "-",  # en dash
    "\u2014": "-",  # em dash
    "\u2015": "-",  # horizontal bar
    "\u2212": "-",  # minus sign
    "\u2026": "...",  # horizontal ellipsis
    "\u00a0": " ",  # no-break space
    "\u2007": " ",  # figure space
    "\u202f": " ",  # narrow no-break space
}
_PASSED_CATEGORIES = ("L", "M", "N")  # letters, combining marks, digits


class QueryValueError(ValueError):
    """A value that cannot be written into a QBO query (QBO's parser would reject it)."""


def _normalize_text(value: str) -> str:
    text = unicodedata.normalize("NFC", value)
    out: list[str] = []
    for char in text:
        if char.isascii():
            if not char.isprintable():
                raise QueryValueError(f"control character {char!r} cannot be used in a query")
            out.append(char)
            continue
        twin = _ASCII_TWINS.get(char)
        if twin is not None:
            out.append(twin)
        elif unicodedata.category(char).startswith(_PASSED_CATEGORIES):
            out.append(char)
        else:
            name = unicodedata.name(char, "unnamed character")
            raise QueryValueError(
                f"QuickBooks cannot search for the character {char!r} (U+{ord(char):04X} {name})"
            )
    return "".join(out)


def quote_text(value: str) -> str:
    """``value`` as a QBO string literal: normalized, backslash and quote escaped, in quotes."""
    text = _normalize_text(value)
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def format_value(value: QueryValue) -> str:
    """One value written as QBO's query language expects it."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        raise QueryValueError("use Decimal, not float, for numbers in a query")
    if isinstance(value, int):
        return f"'{value}'"
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise QueryValueError(f"{value} is not a finite number")
        return f"'{value:f}'"
    if isinstance(value, datetime):
        if value.tzinfo is None or value.utcoffset() is None:
            raise QueryValueError("datetimes in a query must be timezone-aware")
        return "'" + value.isoformat(timespec="seconds") + "'"
    if isinstance(value, date):
        return "'" + value.isoformat() + "'"
    if isinstance(value, str):
        return quote_text(value)
    raise QueryValueError(f"unsupported query value type {type(value).__name__}")


@dataclass(frozen=True)
class _Condition:
    field: str
    operator: str
    value: str  # already formatted

    def render(self) -> str:
        return f"{self.field} {self.operator} {self.value}"


@dataclass(frozen=True)
class Query:
    """An immutable query; every method returns a new one. Start with :func:`select`."""

    entity: str
    conditions: tuple[_Condition, ...] = ()
    order: tuple[str, bool] | None = None  # (field, descending)
    counting: bool = False

    def where(
        self, field: str, operator: Operator, value: QueryValue | Iterable[QueryValue]
    ) -> Query:
        """Add ``field operator value`` (conditions are joined with AND; QBO has no OR).

        ``IN`` takes a non-empty iterable of values, ``LIKE`` a text pattern (``%`` wildcard).
        """
        _check_field(field)
        op = operator.upper()
        if op not in _OPERATORS:
            raise QueryValueError(f"unsupported operator {operator!r}")
        if op == "IN":
            if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
                raise QueryValueError("IN needs a list of values")
            items = [format_value(item) for item in value]
            if not items:
                raise QueryValueError("IN needs at least one value")
            rendered = "(" + ", ".join(items) + ")"
        else:
            if not isinstance(value, (str, bool, int, Decimal, date, datetime)):
                raise QueryValueError(f"{op} needs a single value")
            if op == "LIKE" and not isinstance(value, str):
                raise QueryValueError("LIKE needs a text pattern")
            rendered = format_value(value)
        return replace(self, conditions=(*self.conditions, _Condition(field, op, rendered)))

    def order_by(self, field: str, *, descending: bool = False) -> Query:
        """Sort by ``field`` (paging needs a stable order, ``Id`` is a good one)."""
        _check_field(field)
        return replace(self, order=(field, descending))

    def as_count(self) -> Query:
        """The same filter as ``SELECT COUNT(*)``; QBO answers with ``totalCount``."""
        return replace(self, counting=True, order=None)

    def build(self, start: int | None = None, max_results: int | None = None) -> str:
        """The statement. ``start`` is 1-based (STARTPOSITION); ``max_results`` at most 1000."""
        parts = [f"SELECT {'COUNT(*)' if self.counting else '*'} FROM {self.entity}"]
        if self.conditions:
            parts.append("WHERE " + " AND ".join(cond.render() for cond in self.conditions))
        if self.order is not None and not self.counting:
            field, descending = self.order
            parts.append(f"ORDERBY {field}" + (" DESC" if descending else ""))
        if start is not None:
            if start < 1:
                raise QueryValueError("STARTPOSITION is 1-based")
            parts.append(f"STARTPOSITION {start}")
        if max_results is not None:
            if not 1 <= max_results <= MAX_PAGE_SIZE:
                raise QueryValueError(f"MAXRESULTS must be between 1 and {MAX_PAGE_SIZE}")
            parts.append(f"MAXRESULTS {max_results}")
        return " ".join(parts)

    def __str__(self) -> str:
        return self.build()


def _check_field(field: str) -> None:
    if not _FIELD.match(field):
        raise QueryValueError(f"{field!r} is not a QBO field name")


def select(entity: str) -> Query:
    """``SELECT * FROM entity``; chain ``where``, ``order_by`` and finish with ``build``."""
    if not _ENTITY.match(entity):
        raise QueryValueError(f"{entity!r} is not a QBO entity name")
    return Query(entity)
