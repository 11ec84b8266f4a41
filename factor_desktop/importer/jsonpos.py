"""Where each value sits in a JSON text, so a problem can be reported with its line.

`locate` walks text that `json.loads` has already accepted and maps the JSON path of every
object member and array item (`projects[3].client`, `invoices[0].custom_fields["PO Number"]`)
to its 1-based line. It also lists keys that appear twice in one object, which `json.loads`
would silently collapse into the last one.
"""

from __future__ import annotations

import bisect
import json
import re
from dataclasses import dataclass, field

_WHITESPACE = re.compile(r"[ \t\n\r]*")
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_SCALAR_END = re.compile(r"[^,\]}\s]*")
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)


def _string(text: str, index: int) -> tuple[str, int]:
    """The string starting at `index` (its opening quote) and the index just past it."""
    match = _STRING.match(text, index)
    assert match is not None
    return str(json.loads(match.group())), match.end()


def member_path(parent: str, key: str) -> str:
    """The path of `key` in the object at `parent`."""
    if _IDENTIFIER.fullmatch(key):
        return f"{parent}.{key}" if parent else key
    escaped = key.replace("\\", "\\\\").replace('"', '\\"')
    return f'{parent}["{escaped}"]'


def item_path(parent: str, index: int) -> str:
    return f"{parent}[{index}]"


@dataclass
class Positions:
    lines: dict[str, int] = field(default_factory=dict)
    duplicates: list[tuple[str, int]] = field(default_factory=list)

    def line(self, path: str) -> int | None:
        return self.lines.get(path)


class _Walker:
    def __init__(self, text: str) -> None:
        self.text = text
        self.newlines = [i for i, ch in enumerate(text) if ch == "\n"]
        self.found = Positions()

    def line_of(self, index: int) -> int:
        return bisect.bisect_left(self.newlines, index) + 1

    def skip(self, index: int) -> int:
        match = _WHITESPACE.match(self.text, index)
        assert match is not None
        return match.end()

    def value(self, index: int, path: str) -> int:
        index = self.skip(index)
        self.found.lines.setdefault(path, self.line_of(index))
        opener = self.text[index]
        if opener == "{":
            return self.members(index + 1, path)
        if opener == "[":
            return self.items(index + 1, path)
        if opener == '"':
            return _string(self.text, index)[1]
        match = _SCALAR_END.match(self.text, index)
        assert match is not None
        return match.end()

    def members(self, index: int, path: str) -> int:
        index = self.skip(index)
        if self.text[index] == "}":
            return index + 1
        seen: set[str] = set()
        while True:
            index = self.skip(index)
            key, index_after = _string(self.text, index)
            child = member_path(path, key)
            line = self.line_of(index)
            if key in seen:
                self.found.duplicates.append((child, line))
            seen.add(key)
            self.found.lines[child] = line
            index = self.skip(index_after) + 1  # past the colon
            index = self.skip(self.value(index, child))
            if self.text[index] == "}":
                return index + 1
            index += 1  # past the comma

    def items(self, index: int, path: str) -> int:
        index = self.skip(index)
        if self.text[index] == "]":
            return index + 1
        position = 0
        while True:
            index = self.skip(self.value(index, item_path(path, position)))
            position += 1
            if self.text[index] == "]":
                return index + 1
            index += 1


def locate(text: str) -> Positions:
    """The line of every member and item of a JSON text that `json.loads` accepted."""
    walker = _Walker(text)
    walker.value(0, "")
    return walker.found
