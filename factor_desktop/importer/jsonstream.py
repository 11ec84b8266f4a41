"""Reading a JSON import file a record at a time, so memory stays flat however long the file is.

The file is one object whose lists hold the records. `scan` reads it once from end to end: it
checks that it is JSON (each record is decoded by the json module's C decoder), how deeply it
nests and which keys appear twice, reads the short values (format, version, settings), and notes
where each list starts and how many records it holds. `records` then reads one list again from
where it starts, one record at a time, so an import can take the kinds in its own order. Only the
record being read is held, with its text, so the lines of its fields are found when a problem
names one and not before.
"""

from __future__ import annotations

import codecs
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, BinaryIO

from factor_desktop.importer.jsonpos import Positions, item_path, locate

# Characters read from the file at a time.
CHUNK = 1 << 20
# One value of an import file (an invoice with its lines) is far smaller than this; a value
# still open after it is reported as the decoder sees it (a string not closed, say).
MAX_VALUE = 64 << 20
# Deeper than any import file needs; refused before any record is imported.
MAX_DEPTH = 16

_BOM = codecs.BOM_UTF8
_SPACE = re.compile(r"[ \t\n\r]*")

NOT_UTF8 = 'The file is not UTF-8 text. Save it as "CSV UTF-8" (or UTF-8 JSON) and import it again.'
TOO_DEEP = (
    "This JSON is nested too deeply to read (objects or lists inside each other hundreds of "
    "levels down); an import file needs at most five levels."
)

Opener = Callable[[], BinaryIO]


class JsonError(Exception):
    """The file is not JSON (or not UTF-8) from this point: nothing in it is read."""

    def __init__(self, reason: str, line: int | None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.line = line


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number JSON allows")


class _Decoder(json.JSONDecoder):
    """Numbers as exact Decimals, NaN refused, and a note when an object repeats a key."""

    def __init__(self, *, note_duplicates: bool) -> None:
        self.repeated = False
        hook = self._pairs if note_duplicates else None
        super().__init__(
            parse_float=Decimal, parse_constant=_refuse_constant, object_pairs_hook=hook
        )

    def _pairs(self, pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        found = dict(pairs)
        if len(found) != len(pairs):
            self.repeated = True
        return found


class _Text:
    """The unread part of a JSON text read from a binary stream in chunks, and its line."""

    def __init__(self, stream: BinaryIO, *, offset: int = 0, line: int = 1, column: int = 0):
        self.stream = stream
        self.decoder = codecs.getincrementaldecoder("utf-8")()
        self.buf = ""
        self.pos = 0
        self.line = line  # the line of buf[pos]
        self.column = column  # the column (from 0) of buf[0] in its line
        self.offset = offset  # the byte offset of buf[0] in the file
        self.eof = False
        if offset == 0:
            head = stream.read(len(_BOM))
            if head == _BOM:
                self.offset = len(_BOM)
            else:
                self.buf = self._decode(head)

    def _decode(self, data: bytes) -> str:
        try:
            return self.decoder.decode(data, final=not data)
        except UnicodeDecodeError as exc:
            before = exc.object[: exc.start].count(b"\n")
            raise JsonError(NOT_UTF8, self.line + self.buf.count("\n", self.pos) + before) from None

    def more(self) -> bool:
        """Read the next chunk, dropping what was read; False at the end of the file."""
        if self.eof:
            return False
        if self.pos:
            done = self.buf[: self.pos]
            self.offset += len(done.encode("utf-8"))
            newline = done.rfind("\n")
            self.column = len(done) - newline - 1 if newline >= 0 else self.column + len(done)
            self.buf = self.buf[self.pos :]
            self.pos = 0
        data = self.stream.read(CHUNK)
        self.eof = not data
        self.buf += self._decode(data)
        return True

    def advance(self, to: int) -> None:
        self.line += self.buf.count("\n", self.pos, to)
        self.pos = to

    def peek(self) -> str:
        """The next character that is not white space ("" at the end of the file)."""
        while True:
            self.advance(_SPACE.match(self.buf, self.pos).end())  # type: ignore[union-attr]
            if self.pos < len(self.buf) or not self.more():
                return self.buf[self.pos : self.pos + 1]

    def take(self, char: str, expecting: str) -> None:
        if self.peek() != char:
            raise self.error(expecting, self.pos)
        self.pos += 1

    def where(self, index: int) -> tuple[int, int]:
        """The line and column (from 1) of buf[index], at or after the read position."""
        line = self.line + self.buf.count("\n", self.pos, index)
        newline = self.buf.rfind("\n", 0, index)
        return line, index - newline if newline >= 0 else self.column + index + 1

    def error(self, message: str, index: int) -> JsonError:
        line, column = self.where(index)
        return JsonError(f"This is not valid JSON: {message} (column {column}).", line)

    def byte_offset(self) -> int:
        return self.offset + len(self.buf[: self.pos].encode("utf-8"))

    def value(self, decoder: json.JSONDecoder) -> tuple[Any, str, int]:
        """The next value, its text and its line."""
        self.peek()
        wanted = CHUNK
        while True:
            while len(self.buf) - self.pos < wanted and self.more():
                pass
            can_grow = not self.eof and wanted < MAX_VALUE
            try:
                found, end = decoder.raw_decode(self.buf, self.pos)
            except json.JSONDecodeError as exc:
                cut = exc.pos >= len(self.buf) - 64 or exc.msg.startswith("Unterminated string")
                if can_grow and cut:  # the value goes on past what is read so far
                    wanted *= 2
                    continue
                raise self.error(exc.msg, exc.pos) from None
            except ValueError as exc:
                raise JsonError(f"This is not valid JSON: {exc}.", None) from None
            except RecursionError:
                raise JsonError(TOO_DEEP, None) from None
            if end >= len(self.buf) - 1 and can_grow:  # a number may go on in the next chunk
                wanted *= 2
                continue
            line = self.line
            text = self.buf[self.pos : end]
            self.advance(end)
            return found, text, line


def _items(text: _Text, decoder: json.JSONDecoder) -> Iterator[tuple[int, Any, str, int]]:
    """The items of the list that starts at the read position: index, value, text and line."""
    text.take("[", "Expecting value")
    if text.peek() == "]":
        text.pos += 1
        return
    index = 0
    while True:
        value, raw, line = text.value(decoder)
        yield index, value, raw, line
        index += 1
        after = text.peek()
        text.pos += 1
        if after == "]":
            return
        if after != ",":
            raise text.error("Expecting ',' delimiter", text.pos - 1)


def _depth(value: Any) -> int:
    """How many objects or lists deep `value` is (a string: 0), without recursion."""
    if not isinstance(value, dict | list):
        return 0
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        deepest = max(deepest, depth)
        for child in node.values() if isinstance(node, dict) else node:
            if isinstance(child, dict | list):
                stack.append((child, depth + 1))
    return deepest


@dataclass
class Section:
    """Where a list of records starts in the file, and how many it holds."""

    offset: int
    line: int
    column: int
    count: int = 0


@dataclass
class Scan:
    """What one read of the whole file found."""

    # Members of the top object that are not lists of records: (key, its line, value, text).
    members: list[tuple[str, int, Any, str]] = field(default_factory=list)
    sections: dict[str, Section] = field(default_factory=dict)
    # Keys that appear twice in one object: (path, line).
    duplicates: list[tuple[str, int]] = field(default_factory=list)
    depth: int = 0
    deepest_line: int = 1
    not_an_object: bool = False


class _Scanner:
    def __init__(self, lists: frozenset[str]) -> None:
        self.lists = lists
        self.decoder = _Decoder(note_duplicates=True)
        self.found = Scan()

    def check(self, value: Any, raw: str, path: str, line: int, above: int) -> None:
        """Note how deep a value nests and the keys it repeats (found with their lines)."""
        depth = above + _depth(value)
        repeated, self.decoder.repeated = self.decoder.repeated, False
        positions: Positions | None = None
        if repeated:
            positions = locate(raw, path, line)
            self.found.duplicates += positions.duplicates
        if depth > self.found.depth:
            self.found.depth = depth
            if depth > MAX_DEPTH:
                positions = positions or locate(raw, path, line)
                self.found.deepest_line = positions.deepest_line
            else:
                self.found.deepest_line = line

    def run(self, text: _Text) -> Scan:
        found = self.found
        if text.peek() != "{":
            text.value(self.decoder)
            if text.peek():
                raise text.error("Extra data", text.pos)
            found.not_an_object = True
            return found
        text.pos += 1
        found.depth = 1
        seen: set[str] = set()
        after = text.peek()
        while after != "}":
            if after != '"':
                raise text.error("Expecting property name enclosed in double quotes", text.pos)
            key, _raw, line = text.value(self.decoder)
            if key in seen:
                found.duplicates.append((key, line))
            seen.add(key)
            text.take(":", "Expecting ':' delimiter")
            if key in self.lists and text.peek() == "[":
                section = Section(text.byte_offset(), text.line, text.where(text.pos)[1] - 1)
                for index, value, raw, at in _items(text, self.decoder):
                    self.check(value, raw, item_path(key, index), at, 2)
                    section.count += 1
                found.sections[key] = section
                found.members = [m for m in found.members if m[0] != key]
            else:
                value, raw, _line = text.value(self.decoder)
                self.check(value, raw, key, line, 1)
                # A key given twice counts once, with its last value (as json.loads reads it).
                found.members = [m for m in found.members if m[0] != key]
                found.members.append((key, line, value, raw))
                found.sections.pop(key, None)
            after = text.peek()
            text.pos += 1
            if after == ",":
                after = text.peek()
                if after == "}":
                    raise text.error("Expecting property name enclosed in double quotes", text.pos)
            elif after != "}":
                raise text.error("Expecting ',' delimiter", text.pos - 1)
        text.pos += 1
        if text.peek():
            raise text.error("Extra data", text.pos)
        return found


def scan(opener: Opener, lists: frozenset[str]) -> Scan:
    """Read the whole file once; `lists` are the keys whose lists hold records.

    Raises `JsonError` when the file is not JSON: nothing else is reported then.
    """
    with opener() as stream:
        return _Scanner(lists).run(_Text(stream))


def records(opener: Opener, section: Section) -> Iterator[tuple[int, Any, str, int]]:
    """The records of one list: index, value, text and line; read again from the file."""
    decoder = _Decoder(note_duplicates=False)
    with opener() as stream:
        stream.seek(section.offset)
        text = _Text(stream, offset=section.offset, line=section.line, column=section.column)
        yield from _items(text, decoder)
