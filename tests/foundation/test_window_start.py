"""Opening the window reads the command line without importing every other command."""

from __future__ import annotations

import subprocess
import sys

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
