"""Every dependency pyproject.toml declares is imported by the product, and nothing else is.

A declared package nobody imports is weight and risk (a PDF binding once pinned Qt to a broken
build); an imported package nobody declares breaks a clean install.
"""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from collections.abc import Iterator, Mapping
from functools import cache
from importlib.metadata import packages_distributions
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "factor_desktop"

# Import names of distributions whose installed metadata might not say (a fallback only).
# shiboken6 is PySide6's own binding layer, released with it at the same version: PySide6-
# Essentials requires exactly its own shiboken6, so using it directly needs no pin of its own.
KNOWN_IMPORT_NAMES = {
    "pyside6-essentials": {"PySide6", "shiboken6"},
    "pyyaml": {"yaml"},
    "sqlalchemy": {"sqlalchemy"},
    "werkzeug": {"werkzeug"},
}
# Imported only for type checking, never at run time.
TYPING_ONLY = {"_typeshed"}


def normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def declared() -> list[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    names = []
    for requirement in project["dependencies"]:
        match = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", requirement)
        assert match, requirement
        names.append(match.group(1))
    return names


@cache
def installed_modules() -> Mapping[str, list[str]]:
    return packages_distributions()


def import_names(distribution: str) -> set[str]:
    names = {
        module
        for module, owners in installed_modules().items()
        if normalize(distribution) in {normalize(owner) for owner in owners}
    }
    return names | KNOWN_IMPORT_NAMES.get(normalize(distribution), set())


def imported_top_levels(path: Path) -> Iterator[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name.split(".")[0]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.module.split(".")[0]


@cache
def product_imports() -> dict[str, set[str]]:
    """Top-level import name -> the product's modules that import it."""
    found: dict[str, set[str]] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        for name in imported_top_levels(path):
            found.setdefault(name, set()).add(str(path.relative_to(ROOT)))
    return found


def test_the_declared_list_is_read() -> None:
    names = {normalize(n) for n in declared()}
    assert {"pyside6-essentials", "qasync", "sqlalchemy", "pypdfium2"} <= names


@pytest.mark.parametrize("distribution", declared())
def test_each_declared_dependency_is_imported_by_the_product(distribution: str) -> None:
    names = import_names(distribution)
    assert names, f"{distribution} is declared but not installed, or installs no module"
    users = product_imports()
    importers = sorted(set().union(*(users.get(name, set()) for name in names)))
    assert importers, (
        f"{distribution} is declared in pyproject.toml but no module of factor_desktop imports "
        f"{' or '.join(sorted(names))}: drop it, or use it"
    )


def test_every_third_party_import_is_declared() -> None:
    allowed = {"factor_desktop"} | set(sys.stdlib_module_names) | TYPING_ONLY
    for distribution in declared():
        allowed |= import_names(distribution)
    undeclared = {
        name: sorted(users) for name, users in product_imports().items() if name not in allowed
    }
    assert not undeclared, f"imported but not declared in pyproject.toml: {undeclared}"


def test_the_scan_sees_imports_inside_functions(tmp_path: Path) -> None:
    module = tmp_path / "late.py"
    module.write_text(
        "import os.path\n"
        "from . import sibling\n"
        "def later():\n"
        "    from sqlalchemy.orm import Session\n"
        "    import qasync as q\n",
        encoding="utf-8",
    )
    assert sorted(imported_top_levels(module)) == ["os", "qasync", "sqlalchemy"]
