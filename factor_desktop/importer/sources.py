"""Reading an import: a JSON file, or CSV files, into rows that remember where they came from.

Reading is in two steps so that memory stays flat however long the file is. `read_path` reads
every file once from end to end: whether it can be read at all (UTF-8, JSON, CSV), the problems
of its structure (unknown sections and columns, keys given twice, nesting), and how many rows of
each kind it holds. The `Bundle` it returns then reads the rows of one kind at a time from the
file again, when the import asks for them.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from factor_desktop.importer import csvfiles, jsonstream
from factor_desktop.importer.jsonpos import item_path, member_path
from factor_desktop.importer.problems import Problem
from factor_desktop.importer.row import Located, Row
from factor_desktop.importer.schema import (
    BY_NAME,
    FORMAT_NAME,
    FORMAT_VERSION,
    INVOICE_LINES,
    INVOICES,
    KINDS,
    SETTINGS_FIELDS,
    Kind,
)

__all__ = ["Bundle", "Row", "read_csv_files", "read_json", "read_path"]

MAX_DEPTH = jsonstream.MAX_DEPTH

CSV_KINDS = tuple(kind.name for kind in (*KINDS, INVOICE_LINES))
# The sections of a JSON file that hold lists of records.
_LISTS = frozenset(kind.name for kind in KINDS)


@dataclass
class Bundle:
    """An import as its first read found it: the problems so far, the settings, how many rows
    of each kind, and a way to read those rows (problems found on the way join `problems`)."""

    source: str
    problems: list[Problem] = field(default_factory=list)
    settings: Row | None = None
    counts: dict[str, int] = field(default_factory=dict)
    reader: Callable[[str], Iterator[Row]] | None = None
    closers: list[Callable[[], None]] = field(default_factory=list)

    def rows(self, kind: str) -> Iterator[Row]:
        """The rows of one kind, read from the file again each time."""
        if self.reader is None or kind not in self.counts:
            return iter(())
        return self.reader(kind)

    def close(self) -> None:
        for close in self.closers:
            close()
        self.closers.clear()


# --- JSON -------------------------------------------------------------------------------------


def _json_row(
    kind: Kind,
    file: str,
    path: str,
    data: Any,
    located: Located,
    line: int | None,
    problems: list[Problem],
) -> Row | None:
    if not isinstance(data, dict):
        at = located.line(path) if line is None else line
        problems.append(Problem(file, at, path, f"Each {kind.label} must be an object."))
        return None
    row = Row(kind.name, file, line, {}, path=path, located=located)
    for key, value in data.items():
        if key not in kind.fields:
            child = member_path(path, key)
            problems.append(Problem(file, located.line(child), child, _unknown_field(kind, key)))
            continue
        row.values[key] = value
    if kind is INVOICES:
        row.has_lines = "lines" in row.values
        lines = row.values.pop("lines", [])
        lines_path = member_path(path, "lines")
        if not isinstance(lines, list):
            problems.append(
                Problem(file, located.line(lines_path), lines_path, "lines must be a list.")
            )
            lines = []
        for index, item in enumerate(lines):
            line_row = _json_row(
                INVOICE_LINES, file, item_path(lines_path, index), item, located, None, problems
            )
            if line_row is not None:
                row.lines.append(line_row)
    return row


def _unknown_field(kind: Kind, key: str) -> str:
    return f"Unknown field {key!r} for a {kind.label}; the fields are: {', '.join(kind.fields)}."


def _json_settings(
    file: str, data: Any, located: Located, line: int, problems: list[Problem]
) -> Row | None:
    if not isinstance(data, dict):
        problems.append(Problem(file, line, "settings", "settings must be an object."))
        return None
    row = Row("settings", file, line, {}, path="settings")
    flat: list[tuple[str, str, Any]] = []
    for key, value in data.items():
        path = member_path("settings", key)
        if key == "invoice_numbering" and isinstance(value, dict):
            flat += [(f"{key}.{k}", member_path(path, k), v) for k, v in value.items()]
        else:
            flat.append((key, path, value))
    for name, path, value in flat:
        row.paths[name] = (located.line(path), path)
        if name not in SETTINGS_FIELDS:
            problems.append(
                Problem(
                    file,
                    located.line(path),
                    path,
                    f"Unknown setting; an import can set: {', '.join(SETTINGS_FIELDS)}.",
                )
            )
            continue
        row.values[name] = value
    return row


def _read_json(opener: jsonstream.Opener, file: str) -> Bundle:
    bundle = Bundle(source=file)
    problems = bundle.problems
    try:
        scan = jsonstream.scan(opener, _LISTS)
    except jsonstream.JsonError as exc:
        problems.append(Problem(file, exc.line, None, exc.reason))
        return bundle
    if scan.depth > MAX_DEPTH:
        problems.append(
            Problem(
                file,
                scan.deepest_line,
                None,
                f"This JSON nests objects or lists {scan.depth} levels deep; an import "
                f"file needs at most five (see docs/import-format.md), so it is not read.",
            )
        )
        return bundle
    for path, at in scan.duplicates:
        problems.append(
            Problem(file, at, path, "This key appears more than once in the same object.")
        )
    if scan.not_an_object:
        problems.append(
            Problem(
                file, 1, None, "The file must hold one JSON object (see docs/import-format.md)."
            )
        )
        return bundle
    for key, line, value, text in scan.members:
        if key == "format":
            if value != FORMAT_NAME:
                problems.append(Problem(file, line, key, f"format must be {FORMAT_NAME!r}."))
        elif key == "version":
            if value != FORMAT_VERSION:
                problems.append(
                    Problem(
                        file,
                        line,
                        key,
                        f"This version of Factor Desktop reads import format version "
                        f"{FORMAT_VERSION}, not {value}.",
                    )
                )
        elif key == "settings":
            located = Located(text, key, line)
            bundle.settings = _json_settings(file, value, located, line, problems)
        elif key in _LISTS:
            problems.append(Problem(file, line, key, f"{key} must be a list."))
        else:
            names = ", ".join(["format", "version", "settings", *(k.name for k in KINDS)])
            problems.append(
                Problem(file, line, key, f"Unknown section; the file may hold: {names}.")
            )
    bundle.counts = {name: section.count for name, section in scan.sections.items()}

    def read(kind_name: str) -> Iterator[Row]:
        kind = BY_NAME[kind_name]
        try:
            for index, value, text, line in jsonstream.records(opener, scan.sections[kind_name]):
                path = item_path(kind_name, index)
                row = _json_row(kind, file, path, value, Located(text, path, line), line, problems)
                if row is not None:
                    yield row
        except jsonstream.JsonError as exc:  # the file changed since it was first read
            problems.append(Problem(file, exc.line, None, exc.reason))

    bundle.reader = read
    return bundle


def read_json(text: str, file: str) -> Bundle:
    """Read the JSON import format from text. Numbers are read as exact Decimals, never floats."""
    data = text.encode("utf-8")

    def opener() -> BinaryIO:
        return io.BytesIO(data)

    return _read_json(opener, file)


def _read_json_file(path: Path) -> Bundle:
    def opener() -> BinaryIO:
        return path.open("rb")

    return _read_json(opener, str(path))


# --- CSV --------------------------------------------------------------------------------------


def read_csv_files(files: dict[str, Path], source: str) -> Bundle:
    """Read CSV files, keyed by the kind each holds, into one bundle."""
    bundle = Bundle(source=source)
    problems = bundle.problems
    found = {
        name: csvfiles.check_file(path, BY_NAME[name], problems) for name, path in files.items()
    }
    lines: csvfiles.InvoiceLines | None = None
    if INVOICE_LINES.name in found:
        lines = csvfiles.InvoiceLines(
            found.pop(INVOICE_LINES.name), found.get(INVOICES.name), problems
        )
        bundle.closers.append(lines.close)
    bundle.counts = {name: csv_file.count for name, csv_file in found.items() if csv_file.readable}

    def read(kind_name: str) -> Iterator[Row]:
        return csvfiles.rows(found[kind_name], problems, lines)

    bundle.reader = read
    return bundle


def read_path(path: Path) -> Bundle:
    """Read an import from a JSON file, a directory of CSV files, or one CSV file."""
    source = str(path)
    if path.is_dir():
        files: dict[str, Path] = {}
        bundle = Bundle(source=source)
        for child in sorted(path.iterdir()):
            if child.suffix.lower() != ".csv":
                continue
            kind = child.stem.lower()
            if kind not in CSV_KINDS:
                bundle.problems.append(Problem(str(child), None, None, _unknown_csv(child.name)))
                continue
            files[kind] = child
        if not files and not bundle.problems:
            bundle.problems.append(
                Problem(source, None, None, "This folder has no CSV files to import. " + _names())
            )
        read = read_csv_files(files, source)
        read.problems[:0] = bundle.problems
        return _check_lines_alone(read, files)
    if not path.is_file():
        return Bundle(source, problems=[Problem(source, None, None, "There is no such file.")])
    suffix = path.suffix.lower()
    if suffix == ".json":
        return _read_json_file(path)
    if suffix == ".csv":
        kind = path.stem.lower()
        if kind not in CSV_KINDS:
            return Bundle(source, problems=[Problem(source, None, None, _unknown_csv(path.name))])
        files = {kind: path}
        if kind == INVOICES.name:
            beside = path.with_name("invoice_lines.csv")
            if beside.is_file():
                files[INVOICE_LINES.name] = beside
        return _check_lines_alone(read_csv_files(files, source), files)
    return Bundle(
        source,
        problems=[
            Problem(source, None, None, "Import a .json file, a .csv file or a folder of them.")
        ],
    )


def _check_lines_alone(bundle: Bundle, files: dict[str, Path]) -> Bundle:
    if INVOICE_LINES.name in files and INVOICES.name not in files:
        bundle.problems.append(
            Problem(
                str(files[INVOICE_LINES.name]),
                None,
                None,
                "invoice_lines.csv is read together with invoices.csv; import invoices.csv "
                "(with this file beside it) or the folder holding both.",
            )
        )
    return bundle


def _names() -> str:
    return (
        "CSV files are named after what they hold: "
        + ", ".join(f"{name}.csv" for name in CSV_KINDS)
        + "."
    )


def _unknown_csv(name: str) -> str:
    return f"{name} is not a file Factor Desktop can import. " + _names()
