"""The frozen program's entry point: the window by default, a command when one is given."""

from factor_desktop.cli import gui_main

raise SystemExit(gui_main())
