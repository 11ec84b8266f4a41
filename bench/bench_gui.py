#!/usr/bin/env python3
"""The window's GUI thread during a large push: how long it ever stops answering.

    cd bench && QT_QPA_PLATFORM=offscreen ../.venv/bin/python bench_gui.py [--invoices 10000]
                                         [--customers 200] [--time-scale 1.0] [--heartbeat-ms 5]

Starts its own sandbox, in a process of its own as QuickBooks is, with QuickBooks' rate limits
(bench_push's `serve`), builds a firm with ``--invoices`` finalized invoices (bench_push's
`build_firm`), connects through the real OAuth flow, and opens the real main window on that
profile. Once the window shows its first snapshot, the bench presses Sync Now (the window's own
action: the pass runs on the window's worker thread) and a heartbeat timer on the GUI thread
records the gap between its ticks until the pass has finished and the window shows the snapshot
that follows it.

Prints one JSON line per phase: ``gui_stall_open_<N>`` (the window reading and showing the
firm), ``gui_stall_push_<N>`` (the pass; the issue's figure, limits 50 ms longest and 16 ms
p99), ``gui_stall_after_<N>`` (the snapshot after the pass), and one ``gui_progress_<N>`` line
with what the progress area said, sampled once a second. Beside each gap figure: the most CPU
the GUI thread itself used within one gap (``max_gui_cpu_ms``; a long gap in which it used little
was a wait, for a core or for Python's GIL), and on the push line a reference heartbeat in a
process of its own (``reference_*``: the delays any thread on the machine saw meanwhile).

The platform is Qt's offscreen one unless QT_QPA_PLATFORM says otherwise (e.g. ``xcb`` under
``xvfb-run``).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench_push import build_firm, connect, serve

LIMIT_MAX_MS = 50.0
LIMIT_P99_MS = 16.0


def emit(**figure: Any) -> None:
    print(json.dumps(figure), flush=True)


def percentile(values: list[float], share: float) -> float:
    """The value below which `share` of `values` lie (nearest rank)."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(share * len(ordered) + 0.5) - 1))
    return ordered[rank]


def stall_figure(
    name: str, gaps: list[float], cpu: list[float], seconds: float, **extra: Any
) -> dict[str, Any]:
    ms = [gap * 1000 for gap in gaps]
    cpu_ms = [used * 1000 for used in cpu]
    return {
        "figure": name,
        "max_ms": round(max(ms, default=0.0), 1),
        "p99_ms": round(percentile(ms, 0.99), 1),
        "p50_ms": round(percentile(ms, 0.50), 1),
        "limit_max_ms": LIMIT_MAX_MS,
        "limit_p99_ms": LIMIT_P99_MS,
        "ticks": len(ms),
        "over_50_ms": sum(1 for gap in ms if gap > LIMIT_MAX_MS),
        # The most CPU the GUI thread itself spent within one gap, and within the longest gap.
        "max_gui_cpu_ms": round(max(cpu_ms, default=0.0), 1),
        "gui_cpu_in_longest_ms": round(cpu_ms[ms.index(max(ms))], 1) if ms else 0.0,
        "seconds": round(seconds, 1),
        **extra,
    }


def watch_stalls(state: dict[str, Any], threshold_s: float) -> None:
    """Print, to stderr, what every thread is doing while the heartbeat is late (diagnosis)."""
    import threading
    import traceback

    gui = threading.get_ident()

    def watch() -> None:
        reported = 0.0
        while state["phase"] != "done":
            time.sleep(threshold_s / 2)
            last = float(state["last"])
            if time.perf_counter() - last > threshold_s and last != reported:
                reported = last
                frames = sys._current_frames()
                print(f"--- heartbeat late by > {threshold_s * 1000:.0f} ms", file=sys.stderr)
                for ident, frame in frames.items():
                    if ident == threading.get_ident():
                        continue
                    who = "GUI" if ident == gui else f"thread {ident}"
                    stack = "".join(traceback.format_stack(frame, limit=12))
                    print(f"[{who}]\n{stack}", file=sys.stderr)

    threading.Thread(target=watch, name="stall-watch", daemon=True).start()


# A process of its own that only sleeps 5 ms at a time and notes how late it wakes, from the
# start of the push to the end of the refresh after it: the delays any thread on this machine
# sees meanwhile, whatever the window does (on a shared, busy machine, a thread that waits for
# a core can be late by a few hundred milliseconds).
REFERENCE = """
import json, signal, time
stop = []
signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
gaps, last = [], time.perf_counter()
while not stop:
    time.sleep(0.005)
    now = time.perf_counter()
    gaps.append(now - last)
    last = now
print(json.dumps(gaps), flush=True)
"""


class Reference:
    """The reference heartbeat's gaps over a stretch of the run."""

    def __init__(self) -> None:
        import subprocess

        self._process = subprocess.Popen(
            [sys.executable, "-c", REFERENCE], stdout=subprocess.PIPE, text=True
        )

    def stop(self) -> list[float]:
        import signal
        import subprocess

        self._process.send_signal(signal.SIGTERM)
        try:
            out, _ = self._process.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.communicate()
            return []
        gaps: list[float] = json.loads(out or "[]")
        return gaps


def reference_figures(gaps: list[float]) -> dict[str, float]:
    ms = [gap * 1000 for gap in gaps]
    return {
        "reference_max_ms": round(max(ms, default=0.0), 1),
        "reference_p99_ms": round(percentile(ms, 0.99), 1),
        "reference_over_50_ms": sum(1 for gap in ms if gap > LIMIT_MAX_MS),
        "load_average": round(os.getloadavg()[0], 1),
    }


def run(args: argparse.Namespace) -> int:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    os.environ["FACTOR_DESKTOP_QBO_TIME_SCALE"] = str(args.time_scale)

    from PySide6.QtCore import QSettings, Qt, QTimer  # noqa: TID251  (the heartbeat is a Qt timer)

    from factor_desktop.secrets import TokenStore
    from factor_desktop.store.db import open_store
    from factor_desktop.ui.application import make_application
    from factor_desktop.ui.jobs import JobOutcome
    from factor_desktop.ui.main_window import MainWindow
    from factor_desktop.ui.qt import close_event_loop, new_event_loop

    with tempfile.TemporaryDirectory(prefix="bench-gui-") as folder, serve(args.time_scale) as qbo:
        scratch = Path(folder)
        store_path = scratch / "data" / "bench.sqlite3"
        store_path.parent.mkdir()
        setup = build_firm(store_path, args.customers, args.invoices)
        store = open_store(store_path)
        connection = connect(store, qbo)  # tokens in an in-memory keyring, as "bench"
        connection.http.close()

        app = make_application()
        loop = new_event_loop(app)
        asyncio.set_event_loop(loop)
        settings = QSettings(str(scratch / "ui.ini"), QSettings.Format.IniFormat)
        phases: dict[str, list[float]] = {"open": [], "push": [], "after": [], "done": []}
        # The GUI thread's own CPU time within each gap: a long gap with little of it was the
        # thread waiting (for the CPU, on a loaded machine, or for Python's GIL), not working.
        busy: dict[str, list[float]] = {phase: [] for phase in phases}
        marks: dict[str, float] = {}
        progress: list[tuple[float, str]] = []
        state: dict[str, Any] = {"phase": "open", "last": 0.0, "cpu": 0.0}
        sync_ids: list[int] = []
        references: dict[str, Reference] = {}
        reference_gaps: dict[str, list[float]] = {}

        started = time.perf_counter()
        marks["open"] = started
        window = MainWindow(
            store,
            TokenStore("bench"),
            open_url=lambda _url: None,
            ui_settings=settings,
            remember_layout=False,
        )
        window.resize(1280, 800)
        window.show()

        heartbeat = QTimer()
        heartbeat.setTimerType(Qt.TimerType.PreciseTimer)
        heartbeat.setInterval(args.heartbeat_ms)

        def tick() -> None:
            now = time.perf_counter()
            cpu = time.thread_time()
            if state["last"]:
                phase = str(state["phase"])
                phases[phase].append(now - float(state["last"]))
                busy[phase].append(cpu - float(state["cpu"]))
            state["last"] = now
            state["cpu"] = cpu

        heartbeat.timeout.connect(tick)

        def switch(phase: str) -> None:
            """The gap running now belongs to the phase that ends."""
            tick()
            state["phase"] = phase

        if args.trace_stalls:
            watch_stalls(state, args.trace_stalls / 1000)
        state["last"] = time.perf_counter()
        state["cpu"] = time.thread_time()
        heartbeat.start()

        sampler = QTimer()
        sampler.setInterval(1000)

        def sample() -> None:
            if window.sync.job is not None and window.status.progress_shown():
                text = window.status.progress.text()
                if not progress or progress[-1][1] != text:
                    progress.append((round(time.perf_counter() - marks["push"], 1), text))

        sampler.timeout.connect(sample)

        def on_snapshot(_snapshot: object) -> None:
            if state["phase"] == "open":
                marks["opened"] = time.perf_counter()
                switch("push")
                marks["push"] = time.perf_counter()
                references["push"] = Reference()
                job = window.sync.start_sync()
                if job is None:
                    emit(figure="gui_bench", error="Sync Now was refused")
                    loop.stop()
                    return
                sync_ids.append(job.id)
                sampler.start()
            elif state["phase"] == "after":
                marks["after_done"] = time.perf_counter()
                switch("done")
                loop.stop()

        def on_finished(outcome: JobOutcome) -> None:
            if sync_ids and outcome.job_id == sync_ids[0]:
                marks["pushed"] = time.perf_counter()
                switch("after")
                state["summary"] = outcome.result if outcome.ok else outcome.error
                sample()
                sampler.stop()

        window.snapshotApplied.connect(on_snapshot)
        window.runner.jobFinished.connect(on_finished)
        QTimer.singleShot(int(args.timeout * 1000), loop.stop)
        try:
            loop.run_forever()
        finally:
            heartbeat.stop()
            sampler.stop()
            if "push" in references:  # it ran over the push and the refresh after it
                reference_gaps["push"] = references["push"].stop()
            window.shutdown()
            window.close()
            store.close()
            asyncio.set_event_loop(None)
            close_event_loop(loop)

        summary = state.get("summary")
        counts = getattr(summary, "counts", None)
        platform = app.platformName()
        if "opened" in marks:
            emit(
                **stall_figure(
                    f"gui_stall_open_{args.invoices}",
                    phases["open"],
                    busy["open"],
                    marks["opened"] - marks["open"],
                    platform=platform,
                )
            )
        if "pushed" in marks:
            emit(
                **stall_figure(
                    f"gui_stall_push_{args.invoices}",
                    phases["push"],
                    busy["push"],
                    marks["pushed"] - marks["push"],
                    push_seconds=round(marks["pushed"] - marks["push"], 1),
                    status=getattr(summary, "status", str(summary)),
                    created=(counts or {}).get("created"),
                    time_scale=args.time_scale,
                    heartbeat_ms=args.heartbeat_ms,
                    **reference_figures(reference_gaps.get("push", [])),
                    firm_setup_s=round(setup, 1),
                    platform=platform,
                )
            )
        if "after_done" in marks:
            emit(
                **stall_figure(
                    f"gui_stall_after_{args.invoices}",
                    phases["after"],
                    busy["after"],
                    marks["after_done"] - marks["pushed"],
                    platform=platform,
                )
            )
        emit(
            figure=f"gui_progress_{args.invoices}",
            samples=len(progress),
            shown=[{"t": t, "text": text} for t, text in progress[:: max(1, len(progress) // 25)]],
        )
        if "after_done" not in marks:
            emit(figure="gui_bench", error=f"did not finish within {args.timeout} s")
            return 1
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--invoices", type=int, default=10_000)
    parser.add_argument("--customers", type=int, default=200)
    parser.add_argument("--time-scale", type=float, default=1.0)
    parser.add_argument("--heartbeat-ms", type=int, default=5)
    parser.add_argument("--timeout", type=float, default=3600.0)
    parser.add_argument(
        "--trace-stalls",
        type=float,
        default=0,
        metavar="MS",
        help="print every thread's stack to stderr when the heartbeat is this late (diagnosis)",
    )
    return run(parser.parse_args())


if __name__ == "__main__":
    sys.exit(main())
