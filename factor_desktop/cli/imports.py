"""`factor-desktop import FILE|demo`: the import from the command line."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from factor_desktop.importer import DEMO_SOURCE, ImportRejected, ImportSummary, import_demo
from factor_desktop.importer.load import import_into
from factor_desktop.importer.sources import read_path

# Files and imports large enough to be told about on stderr as they go.
LARGE_FILE_BYTES = 5_000_000
LARGE_IMPORT_ROWS = 5_000


class _Progress:
    """Prints "Importing: 40,000 of 100,000 rows (40%)" to stderr, at most every second."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.last = 0.0

    def __call__(self, done: int, total: int) -> None:
        now = time.monotonic()
        if total < LARGE_IMPORT_ROWS or (done < total and now - self.last < 1.0):
            return
        self.last = now
        percent = done * 100 // max(total, 1)
        print(
            f"Importing {self.source}: {done:,} of {total:,} rows ({percent}%)",
            file=sys.stderr,
            flush=True,
        )


EXIT_OK = 0
EXIT_FAILURE = 1


def _summary_text(summary: ImportSummary) -> str:
    if not summary.counts:
        return f"{summary.source} holds no records to import."
    title = (
        f"Imported {summary.source}:"
        if summary.changed
        else f"Nothing changed: everything in {summary.source} is already in Factor Desktop."
    )
    rows = [("", "created", "updated", "unchanged")]
    rows += [
        (kind, str(c.created), str(c.updated), str(c.unchanged))
        for kind, c in summary.counts.items()
    ]
    width = max(len(row[0]) for row in rows)
    lines = [title]
    for kind, *numbers in rows:
        lines.append("  " + kind.ljust(width) + "".join(n.rjust(11) for n in numbers))
    return "\n".join(lines)


def run_import(data_dir: Path | None, profile: str, source: str, *, as_json: bool) -> int:
    """Import `source` (a file, a folder of CSV files, or "demo") into the profile's store.

    Prints a summary (JSON with `as_json`). Problems go to stderr, one per line, with the exit
    status 1; nothing is imported then.
    """
    from factor_desktop.app import open_context

    ctx = open_context(data_dir, profile)
    try:
        if source == DEMO_SOURCE:
            summary = import_demo(ctx.store)
        else:
            path = Path(source)
            if path.is_file() and path.stat().st_size >= LARGE_FILE_BYTES:
                size = path.stat().st_size / 1_000_000
                print(f"Reading {source} ({size:.0f} MB)...", file=sys.stderr, flush=True)
            summary = import_into(ctx.store, read_path(path), _Progress(source))
    except ImportRejected as rejected:
        print(f"factor-desktop: {rejected}", file=sys.stderr)
        for problem in rejected.problems:
            print(f"  {problem}", file=sys.stderr)
        if as_json:
            report = {
                "ok": False,
                "source": source,
                "problems": [p.to_json() for p in rejected.problems],
            }
            print(json.dumps(report, indent=2, ensure_ascii=False))
        return EXIT_FAILURE
    finally:
        ctx.close()
    if as_json:
        print(json.dumps({"ok": True, **summary.to_json()}, indent=2, ensure_ascii=False))
    else:
        print(_summary_text(summary))
    return EXIT_OK
