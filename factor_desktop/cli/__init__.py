"""The command line: `factor-desktop COMMAND`, one module per group of commands.

`main` and `gui_main` are the installed entry points (`factor_desktop.cli:main`,
`factor_desktop.cli:gui_main`); the parser and the handlers live in `cli.main`.
"""

from __future__ import annotations

from factor_desktop.cli.main import (
    EXIT_FAILURE,
    EXIT_OK,
    EXIT_USAGE,
    CliError,
    build_parser,
    cmd_demo,
    cmd_gui,
    gui_main,
    main,
)

__all__ = [
    "EXIT_FAILURE",
    "EXIT_OK",
    "EXIT_USAGE",
    "CliError",
    "build_parser",
    "cmd_demo",
    "cmd_gui",
    "gui_main",
    "main",
]
