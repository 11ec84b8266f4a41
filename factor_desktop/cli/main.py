"""The command-line front end. Every subcommand works over the same core as the desktop app."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from factor_desktop import __version__
from factor_desktop.logs import setup_logging
from factor_desktop.paths import DataDir

log = logging.getLogger(__name__)

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2

Handler = Callable[[argparse.Namespace], int]


class CliError(Exception):
    """A failure reported to the administrator as one line on stderr."""

    def __init__(self, message: str, exit_code: int = EXIT_FAILURE) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def _print_json(data: Any) -> None:
    json.dump(data, sys.stdout, indent=2, default=str, ensure_ascii=False)
    sys.stdout.write("\n")


def _iso(value: datetime | None) -> str | None:
    return value.astimezone(UTC).isoformat() if value else None


# --- status ----------------------------------------------------------------------------


def cmd_status(args: argparse.Namespace) -> int:
    from factor_desktop.app import open_context
    from factor_desktop.domain.tokens import REFRESH_IDLE_LIMIT
    from factor_desktop.secrets import KeyringUnavailable, SecretStoreError
    from factor_desktop.store.db import current_revision
    from factor_desktop.store.models import Connection, SyncRun

    ctx = open_context(args.data_dir, args.profile)
    try:
        with ctx.store.session() as session:
            conn = session.get(Connection, 1)
            last_run = session.query(SyncRun).order_by(SyncRun.id.desc()).first()
            settings = ctx.settings()
            state = conn.state if conn else "disconnected"
            now = datetime.now(UTC)
            keyring_state = "ok"
            token_info: dict[str, Any] = {}
            try:
                tokens = ctx.tokens.load_tokens() if settings.secret_storage == "keyring" else None
            except KeyringUnavailable as exc:
                keyring_state = "unavailable"
                tokens = None
                token_info["problem"] = str(exc)
            except SecretStoreError as exc:
                keyring_state = "error"
                tokens = None
                token_info["problem"] = str(exc)
            if tokens is not None:
                age = now - tokens.refresh_issued_at
                token_info.update(
                    access_token_expires_at=_iso(tokens.access_expires_at),
                    access_token_valid=tokens.access_valid(now),
                    refresh_token_age_days=round(age.total_seconds() / 86400, 2),
                    refresh_token_expires_at=_iso(tokens.refresh_expires_at),
                    refresh_token_hard_expires_at=_iso(tokens.refresh_hard_expires_at),
                    refresh_token_idle_expires_at=_iso(
                        conn.refresh_token_last_used_at + REFRESH_IDLE_LIMIT
                        if conn and conn.refresh_token_last_used_at
                        else None
                    ),
                )
            connected = state == "connected" and tokens is not None
            if state == "connected" and tokens is None and keyring_state == "ok":
                # This database's tokens are not in the keyring (another computer, a copied
                # data folder): it is not connected, whatever the row says.
                token_info["problem"] = (
                    "This firm's QuickBooks tokens are not in this computer's keyring; "
                    "connect again."
                )
            report: dict[str, Any] = {
                "connected": connected,
                "state": state if (connected or state != "connected") else "reconnect_needed",
                "realm_id": conn.realm_id if conn else None,
                "company_name": conn.company_name if conn else None,
                "environment": (conn.environment if conn and conn.environment else None)
                or settings.environment,
                "connected_at": _iso(conn.connected_at) if conn else None,
                "tokens": token_info,
                "keyring": keyring_state,
                "warnings": (conn.warnings or []) if conn else [],
                "last_sync": None
                if last_run is None
                else {
                    "id": last_run.id,
                    "status": last_run.status,
                    "started_at": _iso(last_run.started_at),
                    "finished_at": _iso(last_run.finished_at),
                    "counts": last_run.counts,
                },
                "data_dir": str(ctx.data.root),
                "database": str(ctx.store.path),
                "schema": current_revision(ctx.store.engine),
                "version": __version__,
            }
    finally:
        ctx.close()
    if args.json:
        _print_json(report)
    else:
        if report["connected"]:
            print(f"Connected to {report['company_name']} (realm {report['realm_id']}).")
        elif report["state"] == "reconnect_needed" and state == "connected":
            print(f"Not connected to QuickBooks Online: {token_info.get('problem', '')}".rstrip())
        elif report["state"] == "reconnect_needed":
            reason = conn.last_error if conn else None
            company = report["company_name"] or "QuickBooks Online"
            print(f"Reconnect needed for {company}" + (f": {reason}" if reason else "."))
        else:
            print("Not connected to QuickBooks Online.")
        print(f"Data: {report['database']}")
        if report["last_sync"]:
            ls: dict[str, Any] = report["last_sync"]
            print(f"Last sync: {ls['status']} at {ls['finished_at'] or ls['started_at']}")
    return EXIT_OK


# --- settings --------------------------------------------------------------------------


def cmd_settings(args: argparse.Namespace) -> int:
    from factor_desktop.app import open_context
    from factor_desktop.settings import load_settings, update_setting

    if args.name is not None and args.value is None:
        raise CliError("Give a value: factor-desktop settings NAME VALUE", EXIT_USAGE)
    ctx = open_context(args.data_dir, args.profile)
    try:
        with ctx.store.session() as session:
            settings = (
                update_setting(session, args.name, args.value)
                if args.name is not None
                else load_settings(session)
            )
    finally:
        ctx.close()
    _print_json(settings.to_json())
    return EXIT_OK


# --- connect / disconnect ------------------------------------------------------------


def _connection_service(args: argparse.Namespace) -> tuple[Any, Any]:
    from factor_desktop.app import open_context
    from factor_desktop.sync.connection import ConnectionService

    ctx = open_context(args.data_dir, args.profile)
    return ctx, ConnectionService(ctx.store, ctx.tokens)


def cmd_connect(args: argparse.Namespace) -> int:
    import os
    import webbrowser

    from factor_desktop.qbo.oauth import OAuthFlowError
    from factor_desktop.sync.connection import ConnectError

    ctx, service = _connection_service(args)
    try:
        if args.redirect_url:
            pending = service.resume()
            report = service.finish(pending, args.redirect_url)
        else:
            if args.client_secret:
                print(
                    "Warning: a --client-secret on the command line can be seen by other users "
                    "of this computer; use --client-secret-stdin, FACTOR_DESKTOP_CLIENT_SECRET "
                    "or the prompt.",
                    file=sys.stderr,
                )
            secret = args.client_secret or os.environ.get("FACTOR_DESKTOP_CLIENT_SECRET")
            if args.client_secret_stdin:
                secret = sys.stdin.readline().strip()
            if args.client_id and not secret and sys.stdin.isatty():
                import getpass

                secret = getpass.getpass("Client Secret of your Intuit app: ")
            pending = service.begin(args.environment, args.client_id, secret)
            if args.no_browser:
                print(pending.authorize_url, flush=True)
            else:
                print("Opening QuickBooks sign-in in your browser. If it does not open, visit:")
                print(pending.authorize_url, flush=True)
                webbrowser.open(pending.authorize_url)
            if pending.receiver is not None:
                report = service.connect_with_loopback(pending, timeout=args.timeout)
            elif sys.stdin.isatty():
                pasted = input("Paste the address QuickBooks redirected you to: ")
                report = service.finish(pending, pasted)
            else:
                print(
                    "When QuickBooks redirects you, finish with: "
                    "factor-desktop connect --redirect-url 'ADDRESS'",
                    file=sys.stderr,
                )
                return EXIT_OK
    except (ConnectError, OAuthFlowError) as exc:
        raise CliError(str(exc)) from None
    finally:
        ctx.close()
    print(f"Connected to {report.company_name} (realm {report.realm_id}).")
    for warning in report.warnings:
        print(f"Warning: {warning}")
    return EXIT_OK


def cmd_disconnect(args: argparse.Namespace) -> int:
    ctx, service = _connection_service(args)
    try:
        revoked = service.disconnect()
    finally:
        ctx.close()
    if revoked:
        print("Disconnected: QuickBooks revoked the connection and its tokens are forgotten.")
    else:
        print("Disconnected here: the tokens are forgotten (QuickBooks could not be told).")
    return EXIT_OK


# --- gui / demo ------------------------------------------------------------------------


def cmd_gui(args: argparse.Namespace) -> int:
    from factor_desktop.ui.application import run_gui

    return run_gui(args.data_dir, args.profile)


def cmd_demo(args: argparse.Namespace) -> int:
    from factor_desktop.ui.demo_window import run_demo

    return run_demo(args.data_dir, fresh=args.fresh)


# --- import / report -----------------------------------------------------------------


def cmd_import(args: argparse.Namespace) -> int:
    from factor_desktop.cli.imports import run_import

    return run_import(args.data_dir, args.profile, args.source, as_json=args.json)


def cmd_report(args: argparse.Namespace) -> int:
    from factor_desktop.cli.reports import run_report

    return run_report(args.data_dir, args.profile, args.what, as_json=args.json, csv_path=args.csv)


# --- invoice / link ----------------------------------------------------------------------


def cmd_invoice(args: argparse.Namespace) -> int:
    from factor_desktop.app import open_context
    from factor_desktop.cli.records import (
        RecordCommandError,
        ServiceError,
        print_invoice,
        run_invoice,
    )

    ctx = open_context(args.data_dir, args.profile)
    try:
        with ctx.store.session() as session:
            result = run_invoice(session, args)
    except (ServiceError, RecordCommandError) as exc:
        raise CliError(str(exc)) from None
    finally:
        ctx.close()
    print_invoice(result, args.json, args.action)
    return EXIT_OK


def cmd_link(args: argparse.Namespace) -> int:
    from factor_desktop.app import open_context
    from factor_desktop.cli.records import RecordCommandError, ServiceError, run_link

    ctx = open_context(args.data_dir, args.profile)
    try:
        with ctx.store.session() as session:
            message = run_link(session, args)
    except (ServiceError, RecordCommandError) as exc:
        raise CliError(str(exc)) from None
    finally:
        ctx.close()
    print(message)
    return EXIT_OK


# --- map / sync ----------------------------------------------------------------------------


def cmd_map(args: argparse.Namespace) -> int:
    from factor_desktop.cli.mapping import MapCommandError, map_command

    try:
        return map_command(args.data_dir, args.profile, args)
    except MapCommandError as exc:
        raise CliError(str(exc)) from None


def cmd_sync(args: argparse.Namespace) -> int:
    from factor_desktop.cli.mapping import MapCommandError
    from factor_desktop.cli.sync import sync_command

    if args.retry and not args.preview:
        from factor_desktop.app import open_context
        from factor_desktop.sync.push import retry_outbox

        ctx = open_context(args.data_dir, args.profile)
        try:
            with ctx.store.session() as session:
                count = retry_outbox(session)
        finally:
            ctx.close()
        if not args.json:
            print(f"{count} failed or blocked invoice change(s) queued again.")
    try:
        return sync_command(
            args.data_dir, args.profile, preview=args.preview, full=args.full, as_json=args.json
        )
    except MapCommandError as exc:
        raise CliError(str(exc)) from None


def cmd_receipts(args: argparse.Namespace) -> int:
    from factor_desktop.cli.receipts import ReceiptsCommandError, receipts_command

    try:
        return receipts_command(args.data_dir, args.profile, args)
    except ReceiptsCommandError as exc:
        raise CliError(str(exc)) from None


def cmd_self_test(args: argparse.Namespace) -> int:
    from factor_desktop.selftest import self_test_command

    return self_test_command(gui=args.gui, as_json=args.json, verbose=args.verbose)


# --- sandbox ---------------------------------------------------------------------------


def _add_sandbox(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "sandbox",
        help="run the local QuickBooks Online sandbox server",
        description="Serve a local QuickBooks Online company (OAuth and the v3 API) on "
        "127.0.0.1. The first line printed is a JSON object with base_url, discovery_url, "
        "client_id, client_secret and realm_id.",
    )
    from factor_desktop.sandbox.cli import add_arguments, run_from_args

    add_arguments(p)
    p.set_defaults(handler=lambda a: run_from_args(a))


# --- parser ----------------------------------------------------------------------------


#: The commands that open the window: their start is timed to the first paint, so the parser
#: they are read with leaves out the other commands (whose modules take most of a second to
#: import).
WINDOW_COMMANDS = ("gui", "demo")
_GLOBAL_WITH_VALUE = ("--data-dir", "--profile")


def window_command(argv: Sequence[str]) -> bool:
    """Whether `argv` names a window command (after the global options)."""
    tokens = iter(argv)
    for token in tokens:
        if token in _GLOBAL_WITH_VALUE:
            next(tokens, None)
        elif token.startswith("-"):
            continue
        else:
            return token in WINDOW_COMMANDS
    return False


def build_parser(*, window_only: bool = False) -> argparse.ArgumentParser:
    """The command line; `window_only` knows just the commands that open the window."""
    parser = argparse.ArgumentParser(
        prog="factor-desktop",
        description="Factor Desktop keeps a firm's Factor records and its QuickBooks Online "
        "company in step.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=None,
        metavar="DIR",
        help="where the firm databases live (default: the platform's user data folder)",
    )
    parser.add_argument(
        "--profile", default="default", help="firm profile (one database each; default: default)"
    )
    parser.add_argument(
        "-v", "--verbose", action="count", default=0, help="more detail in the log (-vv: on screen)"
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("gui", help="open the main window (the default)")
    p.set_defaults(handler=cmd_gui)

    p = sub.add_parser("demo", help="open the main window on the demo firm and a local sandbox")
    p.add_argument("--fresh", action="store_true", help="start the demo from scratch")
    p.set_defaults(handler=cmd_demo)
    if window_only:
        return parser

    _add_sandbox(sub)

    p = sub.add_parser("connect", help="connect this firm to a QuickBooks Online company")
    p.add_argument("--environment", help="production, sandbox, or a discovery document URL")
    p.add_argument("--client-id")
    p.add_argument("--client-secret", help="visible to other users in the process list")
    p.add_argument(
        "--client-secret-stdin",
        action="store_true",
        help="read the Client Secret from the first line of standard input "
        "(or set FACTOR_DESKTOP_CLIENT_SECRET; without either, it is asked for)",
    )
    p.add_argument("--no-browser", action="store_true", help="print the authorization URL")
    p.add_argument("--redirect-url", help="complete the connection from a pasted redirect URL")
    p.add_argument(
        "--timeout", type=float, default=300.0, help="seconds to wait for the redirect (300)"
    )
    p.set_defaults(handler=cmd_connect)

    p = sub.add_parser("disconnect", help="revoke the QuickBooks connection and forget its tokens")
    p.set_defaults(handler=cmd_disconnect)

    p = sub.add_parser("status", help="show the QuickBooks connection and the last sync")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(handler=cmd_status)

    from factor_desktop.cli.mapping import add_map_parser

    add_map_parser(sub)
    sub.choices["map"].set_defaults(handler=cmd_map)

    p = sub.add_parser("sync", help="run one sync pass without the window")
    p.add_argument("--preview", action="store_true", help="show what would change, change nothing")
    p.add_argument("--full", action="store_true", help="re-read everything, not only changes")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument(
        "--retry",
        action="store_true",
        help="first put failed and blocked invoices back in the queue (after fixing a mapping)",
    )
    p.set_defaults(handler=cmd_sync)

    p = sub.add_parser("import", help="import Factor records from a file, or the demo firm")
    p.add_argument("source", metavar="FILE|demo")
    p.add_argument("--json", action="store_true", help="machine-readable summary")
    p.set_defaults(handler=cmd_import)

    p = sub.add_parser(
        "report",
        help="read out invoices, expenses, projects or the sync log",
        description=(
            "Read out what is in the store, the same rows the window shows. `report invoices` "
            "says where each invoice stands with QuickBooks (sent, pending, blocked, failed, "
            "or sent with a total that differs there), and under the table why one is held "
            "back and how to fix it; --json adds each invoice's lines, custom fields and the "
            "receipts of the expenses it bills."
        ),
    )
    p.add_argument("what", choices=["invoices", "expenses", "projects", "log"])
    fmt = p.add_mutually_exclusive_group()
    fmt.add_argument("--json", action="store_true", help="machine-readable output")
    fmt.add_argument("--csv", type=Path, metavar="FILE", help="write a CSV file")
    p.set_defaults(handler=cmd_report)

    from factor_desktop.cli.receipts import add_receipts_parser

    add_receipts_parser(sub)
    sub.choices["receipts"].set_defaults(handler=cmd_receipts)

    from factor_desktop.cli.records import add_invoice_parser, add_link_parser

    add_invoice_parser(sub)
    sub.choices["invoice"].set_defaults(handler=cmd_invoice)
    add_link_parser(sub)
    sub.choices["link"].set_defaults(handler=cmd_link)

    p = sub.add_parser("self-test", help="run the whole loop against the bundled sandbox")
    p.add_argument("--gui", action="store_true", help="show the window while it is checked")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(handler=cmd_self_test)

    p = sub.add_parser("settings", help="show settings, or change one: settings NAME VALUE")
    p.add_argument("name", nargs="?", help="e.g. auto_sync_minutes or invoice_numbering.prefix")
    p.add_argument("value", nargs="?")
    p.set_defaults(handler=cmd_settings)
    return parser


def _configure_logging(args: argparse.Namespace) -> None:
    data = DataDir.resolve(args.data_dir)
    try:
        setup_logging(data.log_dir, args.verbose)
    except OSError as exc:
        print(f"factor-desktop: logs cannot be written to {data.log_dir}: {exc}", file=sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    given = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(window_only=window_command(given))
    args = parser.parse_args(given)
    if args.command is None:
        args = parser.parse_args([*(argv or sys.argv[1:]), "gui"])
    if args.command not in ("sandbox", "self-test"):  # the self-test logs in its own folder
        _configure_logging(args)
    handler: Handler = args.handler
    try:
        return handler(args)
    except CliError as exc:
        print(f"factor-desktop: {exc}", file=sys.stderr)
        return exc.exit_code
    except _plain_errors() as exc:
        print(f"factor-desktop: {exc}", file=sys.stderr)
        return EXIT_FAILURE
    except KeyboardInterrupt:
        print("factor-desktop: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:
        if args.verbose:
            raise
        print(f"factor-desktop: {_plain_failure(args, exc)}", file=sys.stderr)
        return EXIT_FAILURE


def _plain_errors() -> tuple[type[Exception], ...]:
    """Failures whose message is written for the administrator. Imported only when something
    failed: the store (SQLAlchemy) and the keyring are not what the window's start should wait
    for."""
    from factor_desktop.secrets import KeyringUnavailable
    from factor_desktop.settings import SettingsError
    from factor_desktop.store.db import StoreError

    return (StoreError, SettingsError, KeyringUnavailable)


def _plain_failure(args: argparse.Namespace, exc: Exception) -> str:
    """One line for a failure nobody caught; the traceback goes to the log file only."""
    from factor_desktop.paths import ProfileNameError
    from factor_desktop.store.db import describe_store_fault, is_store_fault

    log.info("%s stopped on an error", args.command, exc_info=exc)  # the file, not the screen
    data = DataDir.resolve(args.data_dir)
    if is_store_fault(exc):
        try:
            return describe_store_fault(exc, data.database(args.profile), "used")
        except ProfileNameError:
            pass
    return (
        f"{args.command} stopped on an unexpected error ({type(exc).__name__}: {exc}). "
        f"The log in {data.log_dir} has the details; -v shows them here."
    )


def gui_main() -> int:
    """Entry point of the windowed launcher used by installers."""
    return main(sys.argv[1:] or ["gui"])
