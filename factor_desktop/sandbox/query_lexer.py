"""The lexer of QBO's query language: tokens as its JavaCC grammar names them, and lexical
errors reported byte for byte as QBO reports them (see `sandbox.query`)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final, NoReturn

from .query_model import _parse_error

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
