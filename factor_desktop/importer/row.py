"""One record of an import file, and where each of its values is in the file."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from factor_desktop.importer.jsonpos import Positions, locate, member_path
from factor_desktop.importer.problems import Problem


class Located:
    """A JSON record's text, whose values' lines are found only when a problem names one."""

    __slots__ = ("_positions", "first_line", "root", "text")

    def __init__(self, text: str, root: str, first_line: int) -> None:
        self.text = text
        self.root = root
        self.first_line = first_line
        self._positions: Positions | None = None

    def line(self, path: str) -> int | None:
        if self._positions is None:
            self._positions = locate(self.text, self.root, self.first_line)
        return self._positions.line(path)


@dataclass(slots=True)
class Row:
    """One record of an import file, with where each of its fields is."""

    kind: str
    file: str
    # The row's line; for an invoice line read from JSON, found from `located` when needed.
    at: int | None
    values: dict[str, Any]
    # Where fields are that are not at the row's line or under its JSON path (settings, the
    # CSV custom field columns).
    paths: dict[str, tuple[int | None, str]] = field(default_factory=dict)
    path: str | None = None
    # JSON: the text of the record the row is (or is in).
    located: Located | None = None
    # An invoice's lines, and whether the import gives them at all (left out: kept as they are).
    lines: list[Row] = field(default_factory=list)
    has_lines: bool = False

    @property
    def line(self) -> int | None:
        if self.at is None and self.located is not None and self.path is not None:
            return self.located.line(self.path)
        return self.at

    def where(self, name: str) -> tuple[int | None, str]:
        if name in self.paths:
            return self.paths[name]
        if self.path is not None:
            child = member_path(self.path, name)
            line = self.located.line(child) if self.located is not None else None
            return (self.line if line is None else line), child
        return self.line, name

    def problem(self, name: str | None, reason: str) -> Problem:
        if name is None:
            return Problem(self.file, self.line, self.path, reason)
        line, where = self.where(name)
        return Problem(self.file, line, where, reason)

    @property
    def place(self) -> str:
        """Where the row is, for messages that point at another row."""
        line = self.line
        if self.path is not None:
            return f"{self.path} (line {line})" if line else self.path
        return f"{self.file} line {line}"
