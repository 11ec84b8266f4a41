#!/usr/bin/env python3
"""Cold start: from launching `factor-desktop gui` to a painted window, in fresh processes.

    cd bench && ../.venv/bin/python bench_startup.py [--runs 5] [--importtime]

Each run starts ``python -m factor_desktop --data-dir D --profile P gui`` in a new process with
``FACTOR_DESKTOP_STARTUP_TRACE=quit``: the app prints a timing mark at each stage of its start
(ui/startup.py) and quits once the window has been painted with the firm's records. Profiles:

- ``new``: a data folder never used (the store is created and migrated in the run);
- ``empty``: a profile that exists and holds no records;
- ``demo``: a profile holding the bundled demo firm (``factor-desktop import demo``).

Prints one JSON line per profile with the medians of ``--runs`` runs: ``painted_s`` (launch to
the window's first painted frame; the limit is 1.0 s), ``with_records_s`` (to the first frame
showing the first snapshot), and the breakdown by stage, in wall seconds and in CPU seconds
(``painted_cpu_s``, ``breakdown_cpu_s``: on a machine shared with other work the wall clock
also counts the waits for a core). ``interpreter`` is a bare
``python -c pass`` measured the same way; ``imports`` is the rest of the time before the app's
``run_gui`` starts. The window is painted before the store is opened: ``store_open``,
``first_snapshot`` and ``painted_with_records`` are the stages after the first paint (the
worker opens the store, reads the first snapshot, the window shows it). ``--importtime`` adds
the slowest imports before the first paint (``-X importtime``).

The platform is Qt's offscreen one unless QT_QPA_PLATFORM says otherwise.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

LIMIT_S = 1.0
# The stages up to the first paint; the store is opened on the worker after it.
STAGES = (
    ("imports", "run_gui"),
    ("window_imports", "window_imports"),
    ("qapplication", "qapplication"),
    ("window_built", "window_built"),
    ("window_shown", "window_shown"),
    ("first_paint", "first_paint"),
)
# After the first paint, until the records are shown.
AFTER_PAINT = (
    ("store_open", "store_open"),
    ("first_snapshot", "first_snapshot_applied"),
    ("painted_with_records", "first_paint_with_records"),
)


def emit(**figure: Any) -> None:
    print(json.dumps(figure), flush=True)


def child_env(scratch: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("QT_QPA_PLATFORM", "offscreen")
    env["XDG_CONFIG_HOME"] = str(scratch / "config")  # the window's layout file goes here
    env["FACTOR_DESKTOP_STARTUP_TRACE"] = "quit"
    return env


def interpreter_start(env: dict[str, str]) -> tuple[float, float]:
    """A bare interpreter's start: wall seconds and CPU seconds."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.time()
    subprocess.run([sys.executable, "-c", "pass"], env=env, check=True)
    wall = time.time() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def one_start(data: Path, profile: str, env: dict[str, str]) -> dict[str, float]:
    """Launch the app once; the marks as seconds since the launch."""
    command = [sys.executable, "-m", "factor_desktop", "--data-dir", str(data)]
    command += ["--profile", profile, "gui"]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.time()
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    ended = time.time()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    marks: dict[str, float] = {}
    for line in done.stderr.splitlines():
        if line.startswith('{"startup_mark"'):
            record = json.loads(line)
            marks.setdefault(record["startup_mark"], record["time"] - started)
            marks.setdefault(f"cpu:{record['startup_mark']}", record["cpu"])
    if "first_paint" not in marks:
        raise RuntimeError(f"no paint mark (exit {done.returncode}): {done.stderr[-2000:]}")
    marks["exit"] = ended - started
    # The CPU the process used, start to exit: on a busy machine the wall clock also counts
    # the time it waited for a core.
    marks["cpu"] = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return marks


def median(values: list[float]) -> float:
    return round(statistics.median(values), 3)


def bench_profile(
    name: str,
    data_for_run: Any,
    profile: str,
    runs: int,
    env: dict[str, str],
    base: tuple[float, float],
) -> None:
    results = [one_start(data_for_run(n), profile, env) for n in range(runs)]
    breakdown: dict[str, float] = {"interpreter": round(base[0], 3)}
    # The same stages in CPU seconds of the process (its threads together): what they cost
    # whatever else the machine is doing.
    breakdown_cpu: dict[str, float] = {"interpreter": round(base[1], 3)}
    previous = "start"
    for stage, marker in (*STAGES, *AFTER_PAINT):
        gaps = [r[marker] - (r[previous] if previous != "start" else 0.0) for r in results]
        cpu = [
            r[f"cpu:{marker}"] - (r[f"cpu:{previous}"] if previous != "start" else 0.0)
            for r in results
        ]
        if stage == "imports":
            gaps = [gap - base[0] for gap in gaps]
            cpu = [used - base[1] for used in cpu]
        breakdown[stage] = median(gaps)
        breakdown_cpu[stage] = median(cpu)
        previous = marker
    painted = [r["first_paint"] for r in results]
    with_records = [r.get("first_paint_with_records", float("nan")) for r in results]
    snapshot = [r.get("first_snapshot_applied", float("nan")) for r in results]
    emit(
        figure=f"startup_{name}",
        painted_s=median(painted),
        painted_min_s=round(min(painted), 3),
        painted_max_s=round(max(painted), 3),
        limit_s=LIMIT_S,
        with_records_s=median(with_records),
        snapshot_applied_s=median(snapshot),
        painted_cpu_s=median([r["cpu:first_paint"] for r in results]),
        process_cpu_s=median([r["cpu"] for r in results]),
        load_average=round(os.getloadavg()[0], 1),
        runs=runs,
        breakdown_s=breakdown,
        breakdown_cpu_s=breakdown_cpu,
        platform=env["QT_QPA_PLATFORM"],
    )


def slowest_imports(env: dict[str, str], count: int) -> None:
    """The start's imports by cumulative time (`-X importtime`), top-level packages first."""
    # What the GUI thread imports before the first paint (the store's modules come after it,
    # on the worker).
    code = (
        "import factor_desktop.cli.main, factor_desktop.ui.application, "
        "factor_desktop.ui.main_window"
    )
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", code],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    rows: list[tuple[int, str]] = []
    for line in done.stderr.splitlines():
        if not line.startswith("import time:") or "cumulative" in line:
            continue
        _self_us, cumulative, name = line.split("|")
        rows.append((int(cumulative), name.strip()))
    top = sorted(rows, reverse=True)
    # The outermost modules only: a module inside one listed already is part of its time.
    listed: list[tuple[int, str]] = []
    for micros, name in top:
        if any(name.startswith(other + ".") for _, other in listed):
            continue
        listed.append((micros, name))
        if len(listed) == count:
            break
    emit(
        figure="startup_imports",
        slowest=[{"module": name, "cumulative_ms": round(us / 1000, 1)} for us, name in listed],
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--importtime", action="store_true")
    parser.add_argument("--profiles", default="new,empty,demo")
    args = parser.parse_args()
    wanted = args.profiles.split(",")
    with tempfile.TemporaryDirectory(prefix="bench-startup-") as folder:
        scratch = Path(folder)
        env = child_env(scratch)
        bare = [interpreter_start(env) for _ in range(args.runs)]
        base = (statistics.median(w for w, _ in bare), statistics.median(c for _, c in bare))
        if "new" in wanted:
            bench_profile("new", lambda n: scratch / f"new-{n}", "default", args.runs, env, base)
        if "empty" in wanted:
            empty = scratch / "empty"
            one_start(empty, "default", env)  # creates and migrates it
            bench_profile("empty", lambda n: empty, "default", args.runs, env, base)
        if "demo" in wanted:
            demo = scratch / "demo"
            command = [sys.executable, "-m", "factor_desktop", "--data-dir", str(demo)]
            subprocess.run([*command, "import", "demo"], env=env, check=True, capture_output=True)
            bench_profile("demo", lambda n: demo, "default", args.runs, env, base)
        if args.importtime:
            slowest_imports(env, 15)
    return 0


if __name__ == "__main__":
    sys.exit(main())
