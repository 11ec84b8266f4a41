"""Reading an import file (JSON) or CSV files into rows that remember where they came from."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from factor_desktop.importer.jsonpos import Positions, item_path, locate, member_path
from factor_desktop.importer.problems import Problem
from factor_desktop.importer.schema import (
    BY_NAME,
    CSV_CUSTOM_FIELD_COLUMNS,
    FORMAT_NAME,
    FORMAT_VERSION,
    INVOICE_LINES,
    INVOICES,
    KINDS,
    SETTINGS_FIELDS,
    Kind,
)

# Deeper than any import file needs; refused before anything walks it.
MAX_DEPTH = 16

CSV_KINDS = tuple(kind.name for kind in (*KINDS, INVOICE_LINES))


@dataclass(slots=True)
class Row:
    """One record of an import file, with where each of its fields is."""

    kind: str
    file: str
    line: int | None
    values: dict[str, Any]
    # JSON: the path and line of each field. CSV fields are at the row's line, in their column.
    paths: dict[str, tuple[int | None, str]] = field(default_factory=dict)
    # JSON: the line of each field, its path being the row's path and the field's name (kept
    # apart from `paths` so a large file does not hold a path string per field).
    field_lines: dict[str, int | None] = field(default_factory=dict)
    path: str | None = None
    # An invoice's lines, and whether the import gives them at all (left out: kept as they are).
    lines: list[Row] = field(default_factory=list)
    has_lines: bool = False

    def where(self, name: str) -> tuple[int | None, str]:
        if name in self.paths:
            return self.paths[name]
        if name in self.field_lines and self.path is not None:
            return self.field_lines[name], member_path(self.path, name)
        if self.path is not None:
            return self.line, member_path(self.path, name)
        return self.line, name

    def problem(self, name: str | None, reason: str) -> Problem:
        if name is None:
            return Problem(self.file, self.line, self.path, reason)
        line, where = self.where(name)
        return Problem(self.file, line, where, reason)

    @property
    def place(self) -> str:
        """Where the row is, for messages that point at another row."""
        if self.path is not None:
            return f"{self.path} (line {self.line})" if self.line else self.path
        return f"{self.file} line {self.line}"


@dataclass
class Bundle:
    """Everything read from an import: rows per kind, the settings, and reading problems."""

    source: str
    rows: dict[str, list[Row]] = field(default_factory=dict)
    settings: Row | None = None
    problems: list[Problem] = field(default_factory=list)


# --- JSON -------------------------------------------------------------------------------------


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number JSON allows")


def _json_row(
    kind: Kind, file: str, path: str, data: Any, positions: Positions, bundle: Bundle
) -> Row | None:
    line = positions.line(path)
    if not isinstance(data, dict):
        bundle.problems.append(Problem(file, line, path, f"Each {kind.label} must be an object."))
        return None
    row = Row(kind.name, file, line, {}, path=path)
    for key, value in data.items():
        child = member_path(path, key)
        row.field_lines[key] = positions.line(child)
        if key not in kind.fields:
            bundle.problems.append(
                Problem(file, positions.line(child), child, _unknown_field(kind, key))
            )
            continue
        row.values[key] = value
    if kind is INVOICES:
        row.has_lines = "lines" in row.values
        lines = row.values.pop("lines", [])
        lines_path = member_path(path, "lines")
        if not isinstance(lines, list):
            bundle.problems.append(
                Problem(file, positions.line(lines_path), lines_path, "lines must be a list.")
            )
            lines = []
        for index, item in enumerate(lines):
            line_row = _json_row(
                INVOICE_LINES, file, item_path(lines_path, index), item, positions, bundle
            )
            if line_row is not None:
                row.lines.append(line_row)
    return row


def _unknown_field(kind: Kind, key: str) -> str:
    return f"Unknown field {key!r} for a {kind.label}; the fields are: {', '.join(kind.fields)}."


def _json_settings(file: str, data: Any, positions: Positions, bundle: Bundle) -> Row | None:
    line = positions.line("settings")
    if not isinstance(data, dict):
        bundle.problems.append(Problem(file, line, "settings", "settings must be an object."))
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
        row.paths[name] = (positions.line(path), path)
        if name not in SETTINGS_FIELDS:
            bundle.problems.append(
                Problem(
                    file,
                    positions.line(path),
                    path,
                    f"Unknown setting; an import can set: {', '.join(SETTINGS_FIELDS)}.",
                )
            )
            continue
        row.values[name] = value
    return row


def read_json(text: str, file: str) -> Bundle:
    """Read the JSON import format. Numbers are read as exact Decimals, never floats."""
    bundle = Bundle(source=file)
    try:
        data = json.loads(text, parse_float=Decimal, parse_constant=_refuse_constant)
    except json.JSONDecodeError as exc:
        bundle.problems.append(
            Problem(
                file, exc.lineno, None, f"This is not valid JSON: {exc.msg} (column {exc.colno})."
            )
        )
        return bundle
    except ValueError as exc:
        bundle.problems.append(Problem(file, None, None, f"This is not valid JSON: {exc}."))
        return bundle
    except RecursionError:
        bundle.problems.append(
            Problem(
                file,
                None,
                None,
                "This JSON is nested too deeply to read (objects or lists inside each other "
                "hundreds of levels down); an import file needs at most five levels.",
            )
        )
        return bundle
    positions = locate(text)
    if positions.depth > MAX_DEPTH:
        bundle.problems.append(
            Problem(
                file,
                positions.deepest_line,
                None,
                f"This JSON nests objects or lists {positions.depth} levels deep; an import "
                f"file needs at most five (see docs/import-format.md), so it is not read.",
            )
        )
        return bundle
    for path, at in positions.duplicates:
        bundle.problems.append(
            Problem(file, at, path, "This key appears more than once in the same object.")
        )
    if not isinstance(data, dict):
        bundle.problems.append(
            Problem(
                file, 1, None, "The file must hold one JSON object (see docs/import-format.md)."
            )
        )
        return bundle
    for key, value in data.items():
        line = positions.line(key)
        if key == "format":
            if value != FORMAT_NAME:
                bundle.problems.append(Problem(file, line, key, f"format must be {FORMAT_NAME!r}."))
        elif key == "version":
            if value != FORMAT_VERSION:
                bundle.problems.append(
                    Problem(
                        file,
                        line,
                        key,
                        f"This version of Factor Desktop reads import format version "
                        f"{FORMAT_VERSION}, not {value}.",
                    )
                )
        elif key == "settings":
            bundle.settings = _json_settings(file, value, positions, bundle)
        elif key in BY_NAME and key != INVOICE_LINES.name:
            kind = BY_NAME[key]
            if not isinstance(value, list):
                bundle.problems.append(Problem(file, line, key, f"{key} must be a list."))
                continue
            rows = [
                _json_row(kind, file, item_path(key, index), item, positions, bundle)
                for index, item in enumerate(value)
            ]
            bundle.rows[key] = [row for row in rows if row is not None]
        else:
            names = ", ".join(["format", "version", "settings", *(k.name for k in KINDS)])
            bundle.problems.append(
                Problem(file, line, key, f"Unknown section; the file may hold: {names}.")
            )
    return bundle


# --- CSV --------------------------------------------------------------------------------------


def _column(name: str) -> str:
    return "_".join(name.strip().lower().replace("-", " ").split())


def _read_csv_rows(text: str, kind: Kind, file: str, bundle: Bundle) -> list[Row]:
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        records = list(reader)
    except csv.Error as exc:
        bundle.problems.append(Problem(file, reader.line_num, None, f"Unreadable CSV: {exc}."))
        return []
    if not records:
        bundle.problems.append(Problem(file, 1, None, "The file is empty; it needs a header row."))
        return []
    header = [_column(name) for name in records[0]]
    allowed = set(kind.fields)
    if kind is INVOICES:
        allowed = (allowed - {"lines", "custom_fields"}) | set(CSV_CUSTOM_FIELD_COLUMNS)
    for name in header:
        if name and name not in allowed:
            bundle.problems.append(
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
            bundle.problems.append(Problem(file, 1, name, "This column appears twice."))
        seen.add(name)
    for name in kind.required:
        if name not in header:
            bundle.problems.append(Problem(file, 1, name, "This required column is missing."))
    rows: list[Row] = []
    for number, cells in enumerate(records[1:], start=2):
        if not any(cell.strip() for cell in cells):
            continue
        values: dict[str, Any] = {}
        for index, cell in enumerate(cells):
            name = header[index] if index < len(header) else ""
            if not name:
                if cell.strip():
                    bundle.problems.append(
                        Problem(
                            file, number, f"column {index + 1}", "This cell has no column name."
                        )
                    )
                continue
            values[name] = cell
        row = Row(kind.name, file, number, values)
        if kind is INVOICES:
            _csv_custom_fields(row, bundle)
        rows.append(row)
    return rows


def _csv_custom_fields(row: Row, bundle: Bundle) -> None:
    """Gather the custom field column pairs into one value; no such columns leave it out."""
    if not any(column in row.values for column in CSV_CUSTOM_FIELD_COLUMNS):
        return
    fields: dict[str, str] = {}
    for n in (1, 2, 3):
        name = (row.values.pop(f"custom_field_{n}_name", "") or "").strip()
        value = row.values.pop(f"custom_field_{n}_value", "") or ""
        if not name:
            if value.strip():
                bundle.problems.append(
                    row.problem(f"custom_field_{n}_name", "This custom field value has no name.")
                )
            continue
        if name in fields:
            bundle.problems.append(
                row.problem(f"custom_field_{n}_name", f"The custom field {name!r} appears twice.")
            )
        fields[name] = value
    row.values["custom_fields"] = fields
    row.paths["custom_fields"] = (row.line, "custom_field_1_name")


def _decode(data: bytes, file: str, bundle: Bundle) -> str | None:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        bundle.problems.append(
            Problem(
                file,
                line,
                None,
                'The file is not UTF-8 text. Save it as "CSV UTF-8" (or UTF-8 JSON) and import '
                "it again.",
            )
        )
        return None


def _attach_lines(bundle: Bundle, line_rows: list[Row]) -> None:
    invoices = bundle.rows.get(INVOICES.name, [])
    by_ref: dict[str, Row] = {}
    for invoice in invoices:
        for key in ("ref", "number"):
            ref = invoice.values.get(key)
            if isinstance(ref, str) and ref.strip():
                by_ref.setdefault(ref.strip().casefold(), invoice)
    for line_row in line_rows:
        ref = (line_row.values.pop("invoice", "") or "").strip()
        if not ref:
            bundle.problems.append(
                line_row.problem("invoice", "Name the invoice (its ref or number) for this line.")
            )
            continue
        owner = by_ref.get(ref.casefold())
        if owner is None:
            bundle.problems.append(
                line_row.problem(
                    "invoice", f"No invoice in invoices.csv has the ref or number {ref!r}."
                )
            )
            continue
        owner.lines.append(line_row)
        owner.has_lines = True


def read_csv_files(files: dict[str, Path], source: str) -> Bundle:
    """Read CSV files, keyed by the kind each holds, into one bundle."""
    bundle = Bundle(source=source)
    line_rows: list[Row] = []
    for kind_name, path in files.items():
        text = _decode(path.read_bytes(), str(path), bundle)
        if text is None:
            continue
        rows = _read_csv_rows(text, BY_NAME[kind_name], str(path), bundle)
        if kind_name == INVOICE_LINES.name:
            line_rows = rows
        else:
            bundle.rows[kind_name] = rows
    if line_rows:
        _attach_lines(bundle, line_rows)
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
        bundle = Bundle(source=source)
        text = _decode(path.read_bytes(), source, bundle)
        return bundle if text is None else read_json(text, source)
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
