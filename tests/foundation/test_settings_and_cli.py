from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from factor_desktop.cli import main
from factor_desktop.settings import (
    InvoiceNumbering,
    Settings,
    SettingsError,
    load_settings,
    update_setting,
)
from factor_desktop.store.db import head_revision, open_store

SUBCOMMANDS = [
    "gui",
    "demo",
    "sandbox",
    "connect",
    "disconnect",
    "status",
    "map",
    "sync",
    "import",
    "report",
]


def test_settings_have_defaults_and_persist(tmp_path: Path) -> None:
    store = open_store(tmp_path / "firm.sqlite3")
    with store.session() as session:
        settings = load_settings(session)
        assert settings == Settings()
        assert settings.auto_sync_minutes == 15 and settings.auto_create_customers
        update_setting(session, "auto_sync_minutes", "30")
        update_setting(session, "invoice_numbering.prefix", "AE-")
        update_setting(session, "auto_create_projects", "no")
    with store.session() as session:
        settings = load_settings(session)
    assert settings.auto_sync_minutes == 30
    assert settings.invoice_numbering == InvoiceNumbering(prefix="AE-")
    assert settings.auto_create_projects is False
    store.close()


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("auto_sync_minutes", "-5", "Auto-sync interval"),
        ("auto_sync_minutes", "soon", "whole number"),
        ("environment", "staging", "Environment"),
        ("invoice_numbering.prefix", "A:B", "colon"),
        ("invoice_numbering.padding", "40", "padded to between 0 and 10"),
        ("invoice_numbering.prefix", "ABCDEFGHIJK", "at most 10"),
        ("secret_storage", "plaintext", "Secret storage"),
        ("colour", "blue", "Unknown setting"),
    ],
)
def test_bad_settings_are_refused_with_the_setting_named(
    tmp_path: Path, name: str, value: str, message: str
) -> None:
    store = open_store(tmp_path / "firm.sqlite3")
    with pytest.raises(SettingsError, match=message), store.session() as session:
        update_setting(session, name, value)
    with store.session() as session:
        assert load_settings(session) == Settings()  # nothing half-saved
    store.close()


def test_numbering_longer_than_qbo_allows_is_refused() -> None:
    with pytest.raises(SettingsError, match="21"):
        Settings(invoice_numbering=InvoiceNumbering("INV-2026-X", 10**11, 2)).check()
    Settings(invoice_numbering=InvoiceNumbering("INV-2026-X", 10**10, 2)).check()


def test_help_lists_every_subcommand() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "factor_desktop", "--help"],
        capture_output=True,
        text=True,
        check=True,
    )
    for name in SUBCOMMANDS:
        assert f"    {name}" in result.stdout


def test_each_subcommand_has_help(capsys: pytest.CaptureFixture[str]) -> None:
    for name in SUBCOMMANDS:
        with pytest.raises(SystemExit) as info:
            main([name, "--help"])
        assert info.value.code == 0
        assert "usage: factor-desktop " + name in capsys.readouterr().out


def test_status_json_creates_and_migrates_the_store(tmp_path: Path) -> None:
    data = tmp_path / "data"
    result = subprocess.run(
        [sys.executable, "-m", "factor_desktop", "--data-dir", str(data), "status", "--json"],
        capture_output=True,
        text=True,
        check=True,
    )
    report = json.loads(result.stdout)
    assert report["connected"] is False
    assert report["state"] == "disconnected"
    assert report["company_name"] is None
    assert report["schema"] == head_revision()
    assert (data / "default.sqlite3").exists()
    assert (data / "logs" / "factor-desktop.log").exists() or (data / "logs").is_dir()


def test_version_flag(capsys: pytest.CaptureFixture[str]) -> None:
    from factor_desktop import __version__

    with pytest.raises(SystemExit):
        main(["--version"])
    assert __version__ in capsys.readouterr().out


def test_refused_store_is_one_clear_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / "default.sqlite3").write_bytes(b"garbage" * 200)
    assert main(["--data-dir", str(data), "status"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "could not be opened" in err[0]
