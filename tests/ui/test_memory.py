"""What the window keeps for good is out of the garbage collector's sight once it is open, so a
full collection on the worker during a long push scans only what the push keeps."""

from __future__ import annotations

import gc
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


def test_a_pass_puts_full_collections_off_until_the_window_resumes_them() -> None:
    from factor_desktop.ui import memory

    before = gc.get_threshold()
    try:
        memory.pause_full_collections()
        assert gc.get_threshold()[:2] == before[:2]
        assert gc.get_threshold()[2] > 1_000_000  # the oldest generation waits
        # A second pass beside it, then the first ends: still paused while one runs.
        memory.pause_full_collections()
        memory.pass_finished()
        assert not memory.resume_full_collections()
        assert gc.get_threshold()[2] > 1_000_000
        memory.pass_finished()
        assert memory.resume_full_collections()
        assert gc.get_threshold() == before
        assert not memory.resume_full_collections()  # nothing left to resume
    finally:
        gc.set_threshold(*before)
