"""What is wrong with an import file, said so the administrator can find and fix it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an import: where it is and why it is refused.

    `file` is the file as named to the import. `line` is 1-based, as a spreadsheet or text
    editor shows it (in a CSV file the header is line 1). `where` is the JSON path of the
    value (`projects[3].client`, counting from 0) or the CSV column.
    """

    file: str
    line: int | None
    where: str | None
    reason: str

    def __str__(self) -> str:
        place = self.file if self.line is None else f"{self.file}:{self.line}"
        return f"{place}: {self.where}: {self.reason}" if self.where else f"{place}: {self.reason}"

    def to_json(self) -> dict[str, Any]:
        return {"file": self.file, "line": self.line, "where": self.where, "reason": self.reason}


class ImportRejected(Exception):
    """The import changed nothing because of these problems (every one found is listed)."""

    def __init__(self, problems: list[Problem]) -> None:
        count = len(problems)
        super().__init__(f"Nothing was imported: {count} problem{'s' if count != 1 else ''} found.")
        self.problems = problems
