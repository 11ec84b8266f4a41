"""A large import says how far it has got, from the worker, while the window stays usable."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from factor_desktop.importer.load import FLUSH_EVERY
from factor_desktop.ui.jobs import JobOutcome, JobProgress
from factor_desktop.ui.jobs_extra import ImportProgress
from factor_desktop.ui.main_window import MainWindow

from .conftest import wait_for_snapshot

MakeWindow = Callable[..., MainWindow]


def test_a_large_import_reports_its_progress(
    qtbot: Any, make_window: MakeWindow, tmp_path: Path
) -> None:
    rows = FLUSH_EVERY * 2 + 10
    big = tmp_path / "clients.csv"
    big.write_text("name\n" + "".join(f"Client {n:06d}\n" for n in range(rows)), encoding="utf-8")
    window = make_window()
    wait_for_snapshot(qtbot, window)
    seen: list[tuple[int, int]] = []
    messages: list[str] = []
    threads: set[int] = set()

    def on_progress(event: JobProgress) -> None:
        if isinstance(event.payload, ImportProgress):
            threads.add(threading.get_ident())
            seen.append((event.payload.done, event.payload.total))
            messages.append(window.statusBar().currentMessage())

    window.runner.jobProgress.connect(on_progress)
    finished: list[JobOutcome] = []
    window.runner.jobFinished.connect(finished.append)
    job = window.imports.import_file(big)
    assert job is not None
    qtbot.waitUntil(lambda: any(o.job_id == job.id for o in finished), timeout=60_000)
    assert seen[-1] == (rows, rows)
    assert [done for done, _ in seen] == sorted(done for done, _ in seen)
    assert len(seen) >= 2  # along the way, not only at the end
    assert threads == {threading.get_ident()}  # delivered to the GUI thread
    assert window.statusBar().currentMessage().startswith("Imported clients.csv")
    assert f"Importing clients.csv: {FLUSH_EVERY:,} of {rows:,} records…" in messages
