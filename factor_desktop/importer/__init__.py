"""Importing Factor records from JSON or CSV files, and loading the demo firm.

The format is documented in docs/import-format.md. An import is all or nothing: every problem
in the file is reported (file, line, field, reason) and, if there is any, nothing is imported.
Importing the same file again changes nothing.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from factor_desktop.importer.load import Counts, ImportSummary, import_bundle, import_into
from factor_desktop.importer.problems import ImportRejected, Problem
from factor_desktop.importer.sources import Bundle, read_json, read_path
from factor_desktop.store.db import Store

DEMO_SOURCE = "demo"

__all__ = [
    "DEMO_SOURCE",
    "Bundle",
    "Counts",
    "ImportRejected",
    "ImportSummary",
    "Problem",
    "demo_firm_text",
    "import_bundle",
    "import_demo",
    "import_into",
    "import_path",
    "read_json",
    "read_path",
]


def import_path(store: Store, path: Path) -> ImportSummary:
    """Import a JSON file, a folder of CSV files, or one CSV file named after its kind."""
    return import_into(store, read_path(path))


def demo_firm_text() -> str:
    """The demo firm, in the import format."""
    return resources.files("factor_desktop").joinpath("data", "demo_firm.json").read_text("utf-8")


def import_demo(store: Store) -> ImportSummary:
    """Load the demo architecture practice. Loading it again changes nothing."""
    bundle = read_json(demo_firm_text(), "demo_firm.json")
    bundle.source = DEMO_SOURCE
    return import_into(store, bundle)
