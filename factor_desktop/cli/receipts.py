"""`factor-desktop receipts`: an expense's receipts from the command line.

    factor-desktop receipts list EXPENSE_ID [--json]
    factor-desktop receipts export EXPENSE_ID DIR [--json]

`export` writes the receipts into DIR under their own file names; a name already taken there gets
a numbered suffix ("AMP-0448 (2).pdf") and nothing is overwritten. A receipt the sync has not
downloaded is fetched first when QuickBooks is connected; otherwise the export stops, before
writing anything, and says so. Expense ids are those of `factor-desktop report expenses --json`.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from factor_desktop.receipts import (
    ReceiptError,
    ReceiptInfo,
    describe_size,
    download_receipt,
    export_receipts,
    receipts_of,
)


class ReceiptsCommandError(Exception):
    """A failure reported to the administrator as one line on stderr."""


def add_receipts_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "receipts",
        help="list an expense's receipts, or write them to a folder under their own names",
        description="The receipts of one expense (ids from `report expenses --json`).",
    )
    actions = parser.add_subparsers(dest="receipts_action", metavar="ACTION", required=True)
    listing = actions.add_parser("list", help="the expense's receipts and whether they are here")
    listing.add_argument("expense_id", type=int, metavar="EXPENSE_ID")
    listing.add_argument("--json", action="store_true", help="machine-readable output")
    export = actions.add_parser(
        "export", help="write the expense's receipts into DIR under their original names"
    )
    export.add_argument("expense_id", type=int, metavar="EXPENSE_ID")
    export.add_argument("dir", type=Path, metavar="DIR")
    export.add_argument("--json", action="store_true", help="machine-readable output")


def _download_missing(ctx: Any, receipts: tuple[ReceiptInfo, ...]) -> tuple[ReceiptInfo, ...]:
    """Fetch the receipts not in the cache yet, when QuickBooks is connected."""
    from factor_desktop.qbo.errors import QboError
    from factor_desktop.sync.connection import ConnectError, ConnectionService

    missing = [r for r in receipts if r.path is None]
    if not missing or any(r.qbo_id is None for r in missing):
        return receipts
    service = ConnectionService(ctx.store, ctx.tokens)
    try:
        try:
            client = service.client()
        except ConnectError as exc:
            names = ", ".join(r.file_name for r in missing)
            raise ReceiptsCommandError(
                f"Not downloaded yet: {names}, and QuickBooks is not available to fetch them "
                f"({exc}). Connect (`factor-desktop connect`) or run `factor-desktop sync`, then "
                "export again."
            ) from None
        fetched: dict[int, ReceiptInfo] = {}
        try:
            for receipt in missing:
                print(f"Downloading {receipt.file_name} from QuickBooks…", file=sys.stderr)
                fetched[receipt.id] = download_receipt(
                    ctx.store, client, ctx.data.attachments, receipt.id
                )
        except QboError as exc:
            raise ReceiptsCommandError(
                f"{receipt.file_name} could not be downloaded: {exc}"
            ) from None
        finally:
            client.close()
    finally:
        service.http.close()
    return tuple(fetched.get(r.id, r) for r in receipts)


def receipts_command(data_dir: Path | None, profile: str, args: argparse.Namespace) -> int:
    from factor_desktop.app import open_context

    ctx = open_context(data_dir, profile)
    try:
        with ctx.store.session() as session:
            receipts = receipts_of(session, ctx.data.attachments, args.expense_id)
        if args.receipts_action == "list":
            _print_list(args.expense_id, receipts, args.json)
            return 0
        if not receipts:
            raise ReceiptsCommandError(f"Expense {args.expense_id} has no receipts.")
        receipts = _download_missing(ctx, receipts)
        written = export_receipts(receipts, args.dir)
    except ReceiptError as exc:
        raise ReceiptsCommandError(str(exc)) from None
    except OSError as exc:
        raise ReceiptsCommandError(
            f"The receipts could not be written to {args.dir}: {exc}"
        ) from None
    finally:
        ctx.close()
    if args.json:
        rows = [
            {**receipt.to_json(), "written": str(path)}
            for receipt, path in zip(receipts, written, strict=True)
        ]
        json.dump(rows, sys.stdout, indent=2, ensure_ascii=False)
        sys.stdout.write("\n")
    else:
        for path in written:
            print(path)
    return 0


def _print_list(expense_id: int, receipts: tuple[ReceiptInfo, ...], as_json: bool) -> None:
    if as_json:
        json.dump([r.to_json() for r in receipts], sys.stdout, indent=2, ensure_ascii=False)
        sys.stdout.write("\n")
        return
    if not receipts:
        print(f"Expense {expense_id} has no receipts.")
        return
    for receipt in receipts:
        size = describe_size(receipt.size)
        what = ", ".join(part for part in (receipt.content_type, size) if part)
        where = str(receipt.path) if receipt.path is not None else f"not here: {receipt.missing}"
        print(
            f"{receipt.file_name} ({what}) — {where}" if what else f"{receipt.file_name} — {where}"
        )


__all__ = ["ReceiptsCommandError", "add_receipts_parser", "receipts_command"]
