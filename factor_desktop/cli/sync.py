"""`factor-desktop sync`: one sync pass, headless, with its summary and (for a preview) the
planned changes as a table."""

from __future__ import annotations

import json
import sys
import threading
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

from factor_desktop.cli.mapping import MapCommandError, interrupt_cancels
from factor_desktop.domain.money import format_money
from factor_desktop.sync.connection import ConnectError
from factor_desktop.sync.engine import SyncSummary, run_sync

_MONEY_KEYS = frozenset({"total", "qbo_total"})
#: Keys of a planned change that say nothing to someone reading the table.
_UNSHOWN = frozenset({"level", "local_id", "customer_id", "operation", "full_name"})
_HEADERS = {"qbo_total": "QuickBooks total", "qbo_id": "QuickBooks Id"}


def _cell(value: Any, key: str = "") -> str:
    if value is None:
        return ""
    if key in _MONEY_KEYS:
        try:
            return format_money(Decimal(str(value)))
        except (ArithmeticError, ValueError):
            return str(value)
    return str(value)


def planned_table(planned: Sequence[dict[str, Any]]) -> list[str]:
    """The changes a preview would make, as aligned text rows under a header: money as money,
    the reason last."""
    base = ("action", "direction", "entity", "label")
    extras: list[str] = []
    for change in planned:
        for key in change:
            if key not in base and key not in extras and key not in _UNSHOWN:
                extras.append(key)
    if "reason" in extras:
        extras.remove("reason")
        extras.append("reason")
    columns = [*base, *extras]
    rows = [[_cell(change.get(c), c) for c in columns] for change in planned]
    header = [_HEADERS.get(c, c.replace("_", " ").capitalize()) for c in columns]
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(header)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)).rstrip()]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)).rstrip() for r in rows]
    return lines


def summary_lines(summary: SyncSummary) -> list[str]:
    """What a finished pass did, for a terminal."""
    title = "Preview (nothing was changed)" if summary.kind == "preview" else "Sync"
    lines = [
        f"{title}: {summary.status} (run {summary.run_id}), {summary.requests_used} "
        f"requests, {summary.duration_s:.1f} s."
    ]
    counts = {k: v for k, v in summary.counts.items() if v}
    if counts:
        width = max(len(k) for k in counts)
        lines += [
            f"  {k.replace('_', ' ').ljust(width)}  {v:>5}" for k, v in sorted(counts.items())
        ]
    else:
        lines.append("  Nothing to do: Factor and QuickBooks are in step.")
    if summary.kind == "preview":
        if summary.planned:
            lines.append("")
            lines.append(f"Planned changes ({len(summary.planned)}):")
            lines += [f"  {row}" for row in planned_table(summary.planned)]
        else:
            lines.append("No changes are planned.")
    return lines


def failure_reason(summary: SyncSummary) -> str | None:
    """Why a pass did not end "ok", in one line; None when it did."""
    if summary.status == "ok":
        return None
    if summary.status == "partial":
        problems = summary.counts.get("failed", 0) + summary.counts.get("blocked", 0)
        return (
            f"the sync finished, but {problems} record{'s' if problems != 1 else ''} could not "
            "go through; `factor-desktop report log` lists them with the reason."
        )
    if summary.status == "cancelled":
        return "the sync was cancelled; what it finished is kept."
    return f"the sync failed: {summary.error or 'see the log file.'}"


def sync_command(
    data_dir: Path | None, profile: str, *, preview: bool, full: bool, as_json: bool
) -> int:
    """`factor-desktop sync`: one pass. 0 when it ended ok, 1 otherwise (the reason on stderr)."""
    from factor_desktop.app import open_context

    def progress(step: str, done: int, total: int) -> None:
        print(f"[{done}/{total}] {step}", file=sys.stderr, flush=True)

    show_progress = not as_json and sys.stderr.isatty()
    cancel = threading.Event()
    ctx = open_context(data_dir, profile)
    try:
        with interrupt_cancels(cancel):
            summary = run_sync(
                ctx,
                preview=preview,
                full=full,
                cancel=cancel,
                progress=progress if show_progress else None,
            )
    except ConnectError as exc:
        raise MapCommandError(str(exc)) from None
    finally:
        ctx.close()
    if as_json:
        json.dump(summary.to_json(), sys.stdout, indent=2, default=str, ensure_ascii=False)
        sys.stdout.write("\n")
    else:
        for line in summary_lines(summary):
            print(line)
    reason = failure_reason(summary)
    if reason is None or (summary.kind == "preview" and summary.status == "partial"):
        return 0  # a preview that ran did its job; what would not go through is in its plan
    print(f"factor-desktop: {reason}", file=sys.stderr)
    return 1


__all__ = [
    "failure_reason",
    "planned_table",
    "summary_lines",
    "sync_command",
]
