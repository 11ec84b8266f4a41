"""Opening the window reads the command line without importing every other command."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from factor_desktop.cli.main import build_parser, window_command


def test_the_window_commands_are_told_apart_after_the_global_options() -> None:
    assert window_command(["gui"]) and window_command(["demo", "--fresh"])
    assert window_command(["--data-dir", "/tmp/x", "--profile", "firm", "-v", "gui"])
    assert not window_command(["--profile", "gui", "sync"])  # a profile named "gui"
    assert not window_command(["sync", "--preview"]) and not window_command([])


def test_a_window_start_parses_without_the_other_commands() -> None:
    args = build_parser(window_only=True).parse_args(["--profile", "firm", "demo", "--fresh"])
    assert (args.command, args.profile, args.fresh) == ("demo", "firm", True)
    probe = (
        "import sys; from factor_desktop.cli.main import build_parser; "
        "build_parser(window_only=True); "
        "print(sorted(m for m in sys.modules if m.startswith('factor_desktop.cli.')))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    ).stdout
    assert "factor_desktop.cli.mapping" not in loaded and "factor_desktop.cli.main" in loaded


# Stops the app at its first painted frame and says what was loaded by then.
FIRST_PAINT_PROBE = """
import json, sys
from pathlib import Path

from PySide6.QtWidgets import QApplication
from factor_desktop.ui import startup

WATCHED = json.loads(sys.argv[2])
report = {}
traced = startup.mark


def mark(name):
    traced(name)
    if name == "first_paint" and not report:
        report["loaded"] = sorted(m for m in WATCHED if m in sys.modules)
        report["database_exists"] = (Path(sys.argv[1]) / "default.sqlite3").exists()
        app = QApplication.instance()
        window = next(w for w in app.topLevelWidgets() if w.isVisible())
        report["busy"] = window.status.message.text()
        app.quit()


startup.mark = mark
from factor_desktop.cli.main import main

main(["--data-dir", sys.argv[1], "gui"])
print(json.dumps(report))
"""

# What the window's first frame must not wait for: the store (SQLAlchemy, Alembic), the keyring,
# HTTP (requests, the OAuth client), the services, the importer and the sync.
NOT_BEFORE_FIRST_PAINT = [
    "sqlalchemy",
    "alembic",
    "keyring",
    "requests",
    "oauthlib",
    "factor_desktop.app",
    "factor_desktop.store.db",
    "factor_desktop.secrets",
    "factor_desktop.services.records",
    "factor_desktop.services.mappings",
    "factor_desktop.importer",
    "factor_desktop.sync",
    "factor_desktop.views.snapshot",
]


def test_the_window_is_painted_before_the_store_is_opened(tmp_path: Path) -> None:
    data = tmp_path / "data"
    env = dict(
        os.environ,
        QT_QPA_PLATFORM="offscreen",
        FACTOR_DESKTOP_STARTUP_TRACE="1",
        XDG_CONFIG_HOME=str(tmp_path / "config"),
    )
    done = subprocess.run(
        [sys.executable, "-c", FIRST_PAINT_PROBE, str(data), json.dumps(NOT_BEFORE_FIRST_PAINT)],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["loaded"] == [], "imported before the first paint"
    assert report["database_exists"] is False  # a new profile: not created yet
    assert report["busy"] == "Opening the firm's records…"
