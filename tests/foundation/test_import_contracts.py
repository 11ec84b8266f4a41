"""The import contracts (.importlinter) cover every part of the package.

`lint-imports` (run by `python3 run.py check`) enforces the contracts; this test makes sure a new
top-level module cannot slip past them by being named in none.
"""

from __future__ import annotations

import configparser
import pkgutil
import re
from pathlib import Path

import factor_desktop

ROOT = Path(__file__).resolve().parents[2]


def contracts() -> configparser.ConfigParser:
    parser = configparser.ConfigParser(inline_comment_prefixes=(";",), comment_prefixes=(";",))
    parser.read(ROOT / ".importlinter", encoding="utf-8")
    return parser


def listed(value: str) -> list[str]:
    return [name for name in re.split(r"[\s:|]+", value) if name]


def top_level_modules() -> set[str]:
    return {
        f"factor_desktop.{info.name}"
        for info in pkgutil.iter_modules(factor_desktop.__path__)
        if info.name != "__main__"
    }


def test_every_top_level_module_has_a_layer() -> None:
    layers = listed(contracts()["importlinter:contract:layers"]["layers"])
    assert len(layers) == len(set(layers)), "a module is in two layers"
    missing = top_level_modules() - set(layers) - {"factor_desktop.sandbox"}
    assert not missing, f"give these a layer in .importlinter: {sorted(missing)}"
    assert "factor_desktop.sandbox" not in layers, "the sandbox stands outside the product"


def test_the_sandbox_is_forbidden_every_other_part() -> None:
    forbidden = set(listed(contracts()["importlinter:contract:sandbox"]["forbidden_modules"]))
    missing = top_level_modules() - forbidden - {"factor_desktop.sandbox"}
    assert not missing, f"add these to the sandbox's forbidden_modules: {sorted(missing)}"


def test_qt_belongs_to_ui_alone() -> None:
    qt = contracts()["importlinter:contract:qt"]
    assert qt["type"] == "protected"
    assert set(listed(qt["protected_modules"])) >= {"PySide6", "qasync"}
    assert listed(qt["allowed_importers"]) == ["factor_desktop.ui"]


def test_the_layers_run_from_cli_down_to_domain() -> None:
    layers = listed(contracts()["importlinter:contract:layers"]["layers"])
    order = [
        "factor_desktop.cli",
        "factor_desktop.ui",
        "factor_desktop.demo",
        "factor_desktop.sync",
        "factor_desktop.services",
        "factor_desktop.qbo",
        "factor_desktop.store",
        "factor_desktop.domain",
    ]
    positions = [layers.index(name) for name in order]
    assert positions == sorted(positions)


def test_only_the_top_layers_open_the_app() -> None:
    """The read-outs, sync, services and the importer take a store or a session; opening a
    profile (factor_desktop.app) is left to the command line, the window and demo mode."""
    layers = listed(contracts()["importlinter:contract:layers"]["layers"])
    app = layers.index("factor_desktop.app")
    for name in ("factor_desktop.cli", "factor_desktop.ui", "factor_desktop.demo"):
        assert layers.index(name) < app, name
    for name in (
        "factor_desktop.reports",
        "factor_desktop.views",
        "factor_desktop.receipts",
        "factor_desktop.sync",
        "factor_desktop.services",
        "factor_desktop.importer",
    ):
        assert layers.index(name) > app, name


def test_the_read_model_sits_under_both_its_readers() -> None:
    """The window and the reports render the read model's rows; the read model reads the store
    through services, and nothing that writes to QuickBooks reaches up to it."""
    layers = listed(contracts()["importlinter:contract:layers"]["layers"])
    views = layers.index("factor_desktop.views")
    for name in ("factor_desktop.cli", "factor_desktop.ui", "factor_desktop.reports"):
        assert layers.index(name) < views, name
    for name in ("factor_desktop.sync", "factor_desktop.services", "factor_desktop.store"):
        assert layers.index(name) > views, name
