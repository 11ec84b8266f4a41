"""Where each value sits in a JSON text, so a problem can be reported with its line.

`locate` walks text that `json.loads` has already accepted and maps the JSON path of every
object member and array item (`projects[3].client`, `invoices[0].custom_fields["PO Number"]`)
to its 1-based line. It also lists keys that appear twice in one object, which `json.loads`
would silently collapse into the last one.
"""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass, field

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@functools.lru_cache(maxsize=4096)
def _member_suffix(key: str) -> tuple[str, bool]:
    """How `key` is written after its parent's path, and whether it is a plain name."""
    if _IDENTIFIER.fullmatch(key):
        return key, True
    escaped = key.replace("\\", "\\\\").replace('"', '\\"')
    return f'["{escaped}"]', False


def member_path(parent: str, key: str) -> str:
    """The path of `key` in the object at `parent`."""
    suffix, plain = _member_suffix(key)
    if plain:
        return f"{parent}.{suffix}" if parent else suffix
    return parent + suffix


def item_path(parent: str, index: int) -> str:
    return f"{parent}[{index}]"


@dataclass
class Positions:
    lines: dict[str, int] = field(default_factory=dict)
    duplicates: list[tuple[str, int]] = field(default_factory=list)
    # How deeply objects and lists are nested, and the line where that depth is first reached.
    depth: int = 0
    deepest_line: int = 1

    def line(self, path: str) -> int | None:
        return self.lines.get(path)


# One token of JSON text that `json.loads` accepted: a string, a bracket, a colon or comma, or a
# bare scalar (number, true, false, null).
_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[{}\[\]:,]|[^{}\[\]:,\s"]+', re.DOTALL)


class _Frame:
    """An object or array being read: its path, and where in it the reader is."""

    __slots__ = ("index", "is_object", "key", "path", "seen")

    def __init__(self, is_object: bool, path: str) -> None:
        self.is_object = is_object
        self.path = path
        self.index = 0
        self.key: str | None = None
        self.seen: set[str] = set()

    def child(self) -> str:
        if self.is_object:
            assert self.key is not None
            return member_path(self.path, self.key)
        return item_path(self.path, self.index)


def locate(text: str, root: str = "", first_line: int = 1) -> Positions:
    """The line of every member and item of a JSON text that `json.loads` accepted.

    The text may be one value cut out of a larger file: `root` is then its path in the file
    and `first_line` the file's line the text starts on. One pass over the tokens, without
    recursion: the time grows with the length of the text and nesting of any depth is read.
    """
    found = Positions()
    stack: list[_Frame] = []
    line, last = first_line, 0
    expecting_key = False
    for match in _TOKEN.finditer(text):
        start = match.start()
        line += text.count("\n", last, start)
        last = start
        token = match.group()
        first = token[0]
        top = stack[-1] if stack else None
        if expecting_key:
            assert top is not None
            expecting_key = False
            if first == "}":
                stack.pop()
                continue
            key = str(json.loads(token))
            child = member_path(top.path, key)
            if key in top.seen:
                found.duplicates.append((child, line))
            top.seen.add(key)
            top.key = key
            found.lines[child] = line
            continue
        if first == ":":
            continue
        if first == ",":
            assert top is not None
            if top.is_object:
                expecting_key = True
            else:
                top.index += 1
            continue
        if first in "}]":
            stack.pop()
            continue
        path = top.child() if top is not None else root
        found.lines.setdefault(path, line)
        if first in "{[":
            stack.append(_Frame(first == "{", path))
            expecting_key = first == "{"
            if len(stack) > found.depth:
                found.depth, found.deepest_line = len(stack), line
    return found
