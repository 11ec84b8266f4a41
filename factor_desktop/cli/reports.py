"""`factor-desktop report NAME`: a read-out of the store on the terminal, as JSON or as CSV."""

from __future__ import annotations

import sys
from pathlib import Path

from factor_desktop.reports import build_report, to_json, to_text, write_csv


def run_report(
    data_dir: Path | None, profile: str, name: str, *, as_json: bool, csv_path: Path | None
) -> int:
    """`factor-desktop report NAME`: print the report, as JSON, or write it to a CSV file."""
    from factor_desktop.app import open_context

    ctx = open_context(data_dir, profile)
    try:
        with ctx.store.session() as session:
            report = build_report(session, name)
    finally:
        ctx.close()
    if csv_path is not None:
        try:
            write_csv(report, csv_path)
        except OSError as exc:
            print(f"factor-desktop: {csv_path} could not be written: {exc}", file=sys.stderr)
            return 1
        print(f"Wrote {len(report.rows)} rows to {csv_path}.")
    elif as_json:
        print(to_json(report))
    else:
        print(to_text(report))
    return 0
