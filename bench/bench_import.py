#!/usr/bin/env python3
"""Import time and memory by file size: generated firms of 10,000, 100,000 and 300,000 rows.

    .venv/bin/python bench/bench_import.py [--rows 10000 100000 300000] [--invoices N]

Each size is written as one JSON import file (a quarter clients, half projects, a quarter fee
budgets; `--invoices N` adds N final invoices of one line each) and imported by `factor-desktop
import` in a fresh process into a new data folder, so the peak memory is that import's own.
Prints one JSON line per size: rows, file size, seconds (wall and CPU), rows per second, CPU
milliseconds per row (flat when the import is linear), peak resident memory (flat when it
streams), and how many progress lines reached stderr. Nothing here asserts a target.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

SERVICE_TYPES = ("Design", "Construction Administration", "Permitting")

CHILD = """
import resource, sys, time
from pathlib import Path
from factor_desktop.cli import main
started = time.perf_counter()
code = main(["--data-dir", sys.argv[1], "import", sys.argv[2]])
elapsed = time.perf_counter() - started
usage = resource.getrusage(resource.RUSAGE_SELF)
cpu = usage.ru_utime + usage.ru_stime
# On Linux ru_maxrss keeps the high-water mark of the parent this process was forked from
# (the benchmark, holding the generated firm); VmHWM is this program's own.
peak_kb = usage.ru_maxrss
try:
    with open("/proc/self/status") as status:
        peak_kb = next(int(l.split()[1]) for l in status if l.startswith("VmHWM:"))
except (OSError, StopIteration):
    pass
print(f"{code} {elapsed} {peak_kb} {cpu}", file=sys.stderr)
"""


def firm(rows: int, invoices: int = 0) -> dict[str, Any]:
    """A firm of `rows` client, project and budget rows, and `invoices` invoices."""
    clients = max(1, rows // 4)
    projects = max(1, rows // 2)
    budgets = max(1, rows - clients - projects)
    return {
        "format": "factor-desktop-import",
        "version": 1,
        "clients": [
            {"name": f"Client {n:06d}", "email": f"ap{n}@client.example", "terms_days": 30}
            for n in range(clients)
        ],
        "service_types": [{"name": name} for name in SERVICE_TYPES],
        "projects": [
            {
                "number": f"P-{n:06d}",
                "name": f"Project {n:06d}",
                "client": f"Client {n % clients:06d}",
                "manager": "R. Okafor",
            }
            for n in range(projects)
        ],
        "budgets": [
            {
                "project": f"P-{n % projects:06d}",
                "service_type": SERVICE_TYPES[(n // projects) % len(SERVICE_TYPES)],
                "amount": "12500.00",
                "percent_complete": 25,
            }
            for n in range(budgets)
        ],
        "invoices": [
            {
                "number": f"INV-{n:06d}",
                "status": "final",
                "project": f"P-{n % projects:06d}",
                "issue_date": "2026-03-01",
                "lines": [
                    {"kind": "service", "service_type": "Design", "amount": "1250.00"},
                ],
            }
            for n in range(invoices)
        ],
    }


def measure(rows: int, scratch: Path, invoices: int = 0) -> dict[str, Any]:
    source = scratch / f"firm-{rows}.json"
    source.write_text(json.dumps(firm(rows, invoices)), "utf-8")
    data = scratch / f"data-{rows}"
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", CHILD, str(data), str(source)],
        capture_output=True,
        text=True,
        check=False,
    )
    wall = time.perf_counter() - started
    code, seconds, peak_kb, cpu = done.stderr.strip().splitlines()[-1].split()
    if code != "0":
        raise SystemExit(f"the import of {rows} rows failed:\n{done.stderr[-2000:]}")
    progress = [line for line in done.stderr.splitlines() if "rows" in line and "%" in line]
    return {
        "rows": rows + invoices,
        "invoices": invoices,
        "file_mb": round(source.stat().st_size / 1_000_000, 2),
        "import_s": round(float(seconds), 2),
        "process_s": round(wall, 2),
        # CPU time of the importing process: the figure to compare on a busy machine.
        "process_cpu_s": round(float(cpu), 2),
        "rows_per_s": round((rows + invoices) / float(seconds)),
        "cpu_ms_per_row": round(float(cpu) * 1000 / (rows + invoices), 3),
        "peak_rss_mb": round(int(peak_kb) / 1024, 1),
        "progress_lines": len(progress),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[10_000, 100_000, 300_000])
    parser.add_argument("--invoices", type=int, default=0, help="final invoices added to each")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-import-") as folder:
        for rows in args.rows:
            print(json.dumps(measure(rows, Path(folder), args.invoices)), flush=True)


if __name__ == "__main__":
    main()
