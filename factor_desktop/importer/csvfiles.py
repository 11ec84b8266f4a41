"""Reading the CSV files of an import a row at a time, one file per kind, named after it.

`check_file` reads a file once (its encoding, its header, whether the csv module can read it to
the end, how many rows it holds); `rows` reads it again, yielding one row at a time. An invoice's
lines come from `invoice_lines.csv`, in any order: they are set aside in a private scratch
database (on disk, deleted when closed) and read back per invoice, so neither file is held in
memory.
"""

from __future__ import annotations

import codecs
import csv
import json
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from factor_desktop.importer.jsonstream import CHUNK, NOT_UTF8
from factor_desktop.importer.problems import Problem
from factor_desktop.importer.row import Row
from factor_desktop.importer.schema import CSV_CUSTOM_FIELD_COLUMNS, INVOICES, Kind


def _column(name: str) -> str:
    return "_".join(name.strip().lower().replace("-", " ").split())


@dataclass
class CsvFile:
    """One CSV file of an import, as its first read found it."""

    path: Path
    kind: Kind
    header: list[str] = field(default_factory=list)
    count: int = 0
    readable: bool = False

    @property
    def name(self) -> str:
        return str(self.path)


def _utf8_problem(path: Path) -> Problem | None:
    """Where the file stops being UTF-8 text, if it does."""
    decoder = codecs.getincrementaldecoder("utf-8-sig")()
    lines = 0
    with path.open("rb") as stream:
        while True:
            data = stream.read(CHUNK)
            try:
                decoder.decode(data, final=not data)
            except UnicodeDecodeError as exc:
                line = lines + exc.object[: exc.start].count(b"\n") + 1
                return Problem(str(path), line, None, NOT_UTF8)
            if not data:
                return None
            lines += data.count(b"\n")


def _records(path: Path) -> Iterator[tuple[int, list[str]]]:
    """Each record, numbered as a spreadsheet numbers its rows (the header is row 1)."""
    with path.open(encoding="utf-8-sig", newline="") as stream:
        yield from enumerate(csv.reader(stream), start=1)


def _blank(cells: list[str]) -> bool:
    return not any(cell.strip() for cell in cells)


def check_file(path: Path, kind: Kind, problems: list[Problem]) -> CsvFile:
    """Read the file once: its header's problems go to `problems`, and its rows are counted."""
    found = CsvFile(path, kind)
    file = str(path)
    bad = _utf8_problem(path)
    if bad is not None:
        problems.append(bad)
        return found
    with path.open(encoding="utf-8-sig", newline="") as stream:
        reader = csv.reader(stream)
        try:
            first = next(reader, None)
            if first is None:
                problems.append(Problem(file, 1, None, "The file is empty; it needs a header row."))
                return found
            found.header = [_column(name) for name in first]
            for cells in reader:
                if not _blank(cells):
                    found.count += 1
        except csv.Error as exc:
            problems.append(Problem(file, reader.line_num, None, f"Unreadable CSV: {exc}."))
            return found
    found.readable = True
    _check_header(found, problems)
    return found


def _check_header(found: CsvFile, problems: list[Problem]) -> None:
    kind, header, file = found.kind, found.header, found.name
    allowed = set(kind.fields)
    if kind is INVOICES:
        allowed = (allowed - {"lines", "custom_fields"}) | set(CSV_CUSTOM_FIELD_COLUMNS)
    for name in header:
        if name and name not in allowed:
            problems.append(
                Problem(
                    file,
                    1,
                    name,
                    f"Unknown column; the columns of {file.rsplit('/', 1)[-1]} are: "
                    f"{', '.join(f for f in kind.fields if f in allowed or f == 'custom_fields')}"
                    + (", custom_field_1_name ... custom_field_3_value" if kind is INVOICES else "")
                    + ".",
                )
            )
    seen: set[str] = set()
    for name in header:
        if name and name in seen:
            problems.append(Problem(file, 1, name, "This column appears twice."))
        seen.add(name)
    for name in kind.required:
        if name not in header:
            problems.append(Problem(file, 1, name, "This required column is missing."))


def _values(
    found: CsvFile, number: int, cells: list[str], problems: list[Problem]
) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for index, cell in enumerate(cells):
        name = found.header[index] if index < len(found.header) else ""
        if not name:
            if cell.strip():
                problems.append(
                    Problem(
                        found.name, number, f"column {index + 1}", "This cell has no column name."
                    )
                )
            continue
        values[name] = cell
    return values


def _rows(found: CsvFile, problems: list[Problem]) -> Iterator[tuple[int, dict[str, Any]]]:
    """The values of each row that is not blank, with its line; cell problems to `problems`."""
    if not found.readable:
        return
    records = _records(found.path)
    next(records, None)
    for number, cells in records:
        if not _blank(cells):
            yield number, _values(found, number, cells, problems)


def rows(found: CsvFile, problems: list[Problem], lines: InvoiceLines | None) -> Iterator[Row]:
    """The file's rows, one at a time; an invoice with the lines `invoice_lines.csv` gives it."""
    for number, values in _rows(found, problems):
        row = Row(found.kind.name, found.name, number, values)
        if found.kind is INVOICES:
            _csv_custom_fields(row, problems)
            if lines is not None:
                lines.attach(row)
        yield row


def _csv_custom_fields(row: Row, problems: list[Problem]) -> None:
    """Gather the custom field column pairs into one value; no such columns leave it out."""
    if not any(column in row.values for column in CSV_CUSTOM_FIELD_COLUMNS):
        return
    fields: dict[str, str] = {}
    for n in (1, 2, 3):
        name = (row.values.pop(f"custom_field_{n}_name", "") or "").strip()
        value = row.values.pop(f"custom_field_{n}_value", "") or ""
        if not name:
            if value.strip():
                problems.append(
                    row.problem(f"custom_field_{n}_name", "This custom field value has no name.")
                )
            continue
        if name in fields:
            problems.append(
                row.problem(f"custom_field_{n}_name", f"The custom field {name!r} appears twice.")
            )
        fields[name] = value
    row.values["custom_fields"] = fields
    row.paths["custom_fields"] = (row.line, "custom_field_1_name")


class InvoiceLines:
    """The rows of `invoice_lines.csv`, set aside by the invoice each names (its ref or number).

    A line goes to the first invoice in `invoices.csv` whose ref or number it names, ignoring
    capitalization; a line naming none is a problem.
    """

    def __init__(self, found: CsvFile, invoices: CsvFile | None, problems: list[Problem]):
        self.file = found.name
        # An empty name is a private database on disk that SQLite deletes when it is closed.
        self.db = sqlite3.connect("", check_same_thread=False)
        self.db.executescript(
            "CREATE TABLE line (seq INTEGER PRIMARY KEY, ref TEXT, line INTEGER, vals TEXT);"
            "CREATE INDEX line_ref ON line (ref);"
            "CREATE TABLE owner (ref TEXT PRIMARY KEY, line INTEGER);"
            "CREATE INDEX owner_line ON owner (line);"
        )
        self.db.executemany(
            "INSERT INTO line (ref, line, vals) VALUES (?, ?, ?)", self._lines(found, problems)
        )
        if invoices is not None:
            self.db.executemany(
                "INSERT OR IGNORE INTO owner (ref, line) VALUES (?, ?)", self._refs(invoices)
            )
        unowned = self.db.execute(
            "SELECT line, vals FROM line WHERE ref NOT IN (SELECT ref FROM owner) ORDER BY seq"
        )
        for number, vals in unowned:
            ref = json.loads(vals)["\0ref"]
            problems.append(
                Problem(
                    self.file,
                    number,
                    "invoice",
                    f"No invoice in invoices.csv has the ref or number {ref!r}.",
                )
            )

    def _lines(self, found: CsvFile, problems: list[Problem]) -> Iterator[tuple[str, int, str]]:
        for number, values in _rows(found, problems):
            ref = (values.pop("invoice", "") or "").strip()
            if not ref:
                problems.append(
                    Problem(
                        self.file,
                        number,
                        "invoice",
                        "Name the invoice (its ref or number) for this line.",
                    )
                )
                continue
            yield ref.casefold(), number, json.dumps({**values, "\0ref": ref})

    @staticmethod
    def _refs(invoices: CsvFile) -> Iterator[tuple[str, int]]:
        for number, values in _rows(invoices, []):
            for key in ("ref", "number"):
                ref = values.get(key)
                if isinstance(ref, str) and ref.strip():
                    yield ref.strip().casefold(), number

    def attach(self, invoice: Row) -> None:
        found = self.db.execute(
            "SELECT line.line, line.vals FROM line JOIN owner ON owner.ref = line.ref "
            "WHERE owner.line = ? ORDER BY line.seq",
            (invoice.line,),
        )
        for number, vals in found:
            values = json.loads(vals)
            del values["\0ref"]
            invoice.lines.append(Row("invoice_lines", self.file, number, values))
            invoice.has_lines = True

    def close(self) -> None:
        self.db.close()
