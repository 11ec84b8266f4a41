"""What the window keeps for good is out of the garbage collector's sight once it is open, so a
full collection on the worker during a long push scans only what the push keeps."""

from __future__ import annotations

import subprocess
import sys


def test_the_first_snapshot_freezes_what_is_alive_once() -> None:
    # In a process of its own: the freeze happens once per process.
    probe = """
import gc, sys, tempfile
from pathlib import Path
from factor_desktop.app import open_context
from factor_desktop.ui.application import make_application
from factor_desktop.ui.main_window import MainWindow
from factor_desktop.ui.memory import freeze_long_lived
from factor_desktop.ui.qt import pumped_event_loop
app = make_application()
ctx = open_context(Path(tempfile.mkdtemp()))
with pumped_event_loop(app):
    window = MainWindow(ctx.store, ctx.tokens, remember_layout=False)
    window.show()
    before = gc.get_freeze_count()
    deadline = __import__("time").monotonic() + 30
    while window.snapshot is None and __import__("time").monotonic() < deadline:
        app.processEvents()
    after = gc.get_freeze_count()
    again = freeze_long_lived("window open")
    window.close()
ctx.close()
print(before, after, again)
"""
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    before, after, again = done.stdout.split()[-3:]
    assert int(before) == 0
    assert int(after) > 50_000  # the modules of Qt, SQLAlchemy and the app at least
    assert again == "False"
