"""The self-test: the whole loop of the app, end to end, in a temporary data folder.

    factor-desktop self-test [--gui] [--json]

It starts the bundled QuickBooks sandbox in this process (the demo company, sign-in approved at
once), imports the demo firm into a fresh profile in a temporary folder, connects the two through
the real OAuth flow (an HTTP client stands in for the browser, as in the demo), reads
QuickBooks' lists, maps the firm's types (the demo's mappings, the name-based suggestions, and
the city sales tax by hand), runs a sync and checks what it did: every finalized invoice is in
QuickBooks under Factor's number and with Factor's total, payments and expenses came back, and
a receipt was downloaded. Last, the window renders each of its tabs on this data
(`ui/selftest_gui.py`, imported only then): offscreen, or with `--gui` in a real window that
closes itself.

Secrets stay in this process's memory: the tokens never reach the computer's keyring, and the
user's data folder is never opened. The temporary folder is removed after a pass, and kept
(its path printed) when a check fails, for its log. This module does not import Qt.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, TextIO

from sqlalchemy import func, select

from factor_desktop.demo import DEMO_PROFILE, DemoSession
from factor_desktop.logs import setup_logging
from factor_desktop.paths import DataDir
from factor_desktop.qbo.query import select as qbo_select
from factor_desktop.receipts import receipts_by_expense
from factor_desktop.sandbox import SandboxConfig, SandboxServer
from factor_desktop.secrets import MemoryKeyring, TokenStore
from factor_desktop.services.mappings import (
    QBO_ENTITY_FOR_KIND,
    find_cached,
    find_local,
    set_mapping,
)
from factor_desktop.services.suggest import apply_suggestions, suggest
from factor_desktop.store.models import (
    Expense,
    Invoice,
    Mapping,
    Payment,
    QboRecord,
    ServiceType,
    TaxTerm,
)
from factor_desktop.sync.connection import ConnectionService
from factor_desktop.sync.engine import run_sync

log = logging.getLogger(__name__)

# The checks, in the order they run; each needs the ones before it.
CHECKS: tuple[str, ...] = (
    "start the bundled sandbox",
    "load the demo firm",
    "connect through OAuth",
    "refresh the QuickBooks lists",
    "map types and tax terms",
    "sync",
    "invoices in QuickBooks with Factor's numbers and totals",
    "payments came back",
    "expenses came back",
    "a receipt was downloaded",
    "render every tab",
)
CITY_TAX = ("PA-CITY", "Alder County", "override")


class CheckFailed(Exception):
    """A check did not pass; the message says why, in one line."""


@dataclass(frozen=True)
class CheckResult:
    name: str
    ok: bool
    detail: str = ""
    seconds: float = 0.0

    def line(self) -> str:
        if self.ok:
            return f"ok   {self.name}" + (f" ({self.detail})" if self.detail else "")
        return f"FAIL {self.name}: {self.detail}"


@dataclass(frozen=True)
class SelfTestReport:
    checks: tuple[CheckResult, ...]
    data_dir: Path | None  # kept for a look when a check failed; None when removed

    @property
    def ok(self) -> bool:
        return bool(self.checks) and all(check.ok for check in self.checks)

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "checks": [asdict(check) for check in self.checks],
            "data_dir": str(self.data_dir) if self.data_dir else None,
        }


# How the window check is run: (the test's data, show a real window) -> one detail line.
Renderer = Callable[["SelfTest", bool], str]


def render_with_window(test: SelfTest, show: bool) -> str:
    """The window check, from the Qt side (imported only when it runs)."""
    from factor_desktop.ui.selftest_gui import render_tabs

    return render_tabs(test.session.ctx.store, test.session.ctx.tokens, show=show)


@contextmanager
def offscreen_unless_display(show: bool) -> Iterator[None]:
    """Without a display (a server, CI), Qt renders offscreen for the window check only."""
    headless = (
        sys.platform.startswith("linux")
        and not os.environ.get("DISPLAY")
        and not os.environ.get("WAYLAND_DISPLAY")
    )
    if show or not headless or os.environ.get("QT_QPA_PLATFORM"):
        yield
        return
    os.environ["QT_QPA_PLATFORM"] = "offscreen"
    try:
        yield
    finally:
        os.environ.pop("QT_QPA_PLATFORM", None)


class SelfTest:
    """One run of the checks in `root` (an empty folder of its own)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.session = DemoSession(root)
        # Secrets in this process only: nothing is written to the computer's keyring.
        ctx = self.session.ctx
        ctx.tokens = TokenStore(DEMO_PROFILE, MemoryKeyring(), store_id=ctx.tokens.store_id)
        self.connection = ConnectionService(ctx.store, ctx.tokens)

    def close(self) -> None:
        self.connection.http.close()
        self.session.close()

    # -- the checks, each returning its detail or raising CheckFailed --------------------------

    def start_sandbox(self) -> str:
        self.session.sandbox = SandboxServer(SandboxConfig(seed="demo", auto_approve=True)).start()
        return self.session.sandbox.base_url

    def load_firm(self) -> str:
        self.session.load_firm()
        with self.session.ctx.store.session() as session:
            invoices = session.scalar(select(func.count(Invoice.id))) or 0
        if not invoices:
            raise CheckFailed("the demo firm has no invoices after the import")
        return f"{invoices} invoices"

    def connect(self) -> str:
        report = self.session.connect(self.connection)
        return report.company_name or report.realm_id

    def refresh_lists(self) -> str:
        made = self.session.prepare_mappings(self.connection)  # reads the lists, then maps
        self.demo_mapped = made
        with self.session.ctx.store.session() as session:
            cached = session.scalar(select(func.count(QboRecord.id))) or 0
        if not cached:
            raise CheckFailed("no QuickBooks list record was read")
        return f"{cached} records"

    def map_types(self) -> str:
        with self.session.ctx.store.session() as session:
            done, refused = apply_suggestions(session, suggest(session).mappings)
            code, qbo_name, rule = CITY_TAX
            term = find_local(session, "tax_term", code)
            record = find_cached(session, QBO_ENTITY_FOR_KIND["tax_term"], qbo_name)
            set_mapping(session, "tax_term", term.id, record.qbo_id, tax_rule=rule)
            mapped = {
                (kind, local_id)
                for kind, local_id in session.execute(select(Mapping.kind, Mapping.local_id))
            }
            unmapped = [
                name
                for kind, model in (("service_type", ServiceType), ("tax_term", TaxTerm))
                for local_id, name in session.execute(select(model.id, model.name))
                if (kind, local_id) not in mapped
            ]
        if refused:
            raise CheckFailed(refused[0])
        if unmapped:
            raise CheckFailed(f"still unmapped: {', '.join(sorted(unmapped))}")
        return f"{self.demo_mapped} demo, {len(done)} suggested, {code} by hand"

    def sync(self) -> str:
        summary = run_sync(self.session.ctx)
        self.counts = summary.counts
        if summary.status != "ok":
            from factor_desktop.cli.sync import failure_reason

            raise CheckFailed(f"the pass ended {summary.status}: {failure_reason(summary)}")
        return ", ".join(
            f"{v} {k}"
            for k, v in sorted(summary.counts.items())
            if v and k in ("created", "updated", "linked", "downloaded")
        )

    def _qbo_invoices(self) -> list[dict[str, Any]]:
        client = self.connection.client()
        try:
            return list(client.query_all(qbo_select("Invoice")))
        finally:
            client.close()

    def invoices(self) -> str:
        with self.session.ctx.store.session() as session:
            factor = {
                number: (qbo_id, total)
                for number, qbo_id, total in session.execute(
                    select(Invoice.number, Invoice.qbo_id, Invoice.total).where(
                        Invoice.status != "draft"
                    )
                )
            }
        in_qbo = self._qbo_invoices()
        by_id = {str(row["Id"]): row for row in in_qbo}
        if not factor:
            raise CheckFailed("the demo firm has no finalized invoice")
        for number, (qbo_id, total) in sorted(factor.items(), key=lambda item: str(item[0])):
            row = by_id.get(str(qbo_id)) if qbo_id else None
            if row is None:
                raise CheckFailed(f"invoice {number} is not in QuickBooks")
            if row.get("DocNumber") != number:
                raise CheckFailed(f"invoice {number} is numbered {row.get('DocNumber')!r} there")
            if Decimal(str(row["TotalAmt"])) != total:
                raise CheckFailed(f"invoice {number} totals {row['TotalAmt']} there, {total} here")
        numbers = [row.get("DocNumber") for row in in_qbo]
        doubled = sorted({str(n) for n in numbers if n in factor and numbers.count(n) > 1})
        if doubled:
            raise CheckFailed(f"invoice {doubled[0]} is in QuickBooks more than once")
        return f"{len(factor)} invoices"

    def payments(self) -> str:
        """A client pays part of one invoice in QuickBooks; the next pass brings it back."""
        with self.session.ctx.store.session() as session:
            target = session.scalars(
                select(Invoice)
                .where(Invoice.status == "final", Invoice.qbo_id.is_not(None))
                .order_by(Invoice.number)
                .limit(1)
            ).first()
            if target is None:
                raise CheckFailed("no open invoice in QuickBooks to pay")
            number, qbo_id, total = target.number, str(target.qbo_id), target.total
        twin = next((row for row in self._qbo_invoices() if str(row["Id"]) == qbo_id), None)
        if twin is None:
            raise CheckFailed(f"invoice {number} is not in QuickBooks")
        amount = (total / 2).quantize(Decimal("0.01"))
        client = self.connection.client()
        try:
            client.create(
                "Payment",
                {
                    "CustomerRef": twin["CustomerRef"],
                    "TotalAmt": str(amount),
                    "PaymentRefNum": "SELFTEST",
                    "Line": [
                        {
                            "Amount": str(amount),
                            "LinkedTxn": [{"TxnId": qbo_id, "TxnType": "Invoice"}],
                        }
                    ],
                },
            )
        finally:
            client.close()
        sandbox = self.session.sandbox
        assert sandbox is not None
        sandbox.advance_clock(60)
        summary = run_sync(self.session.ctx)
        if summary.status != "ok":
            raise CheckFailed(f"the pass after the payment ended {summary.status}")
        with self.session.ctx.store.session() as session:
            status, balance = session.execute(
                select(Invoice.status, Invoice.balance).where(Invoice.number == number)
            ).one()
            count = session.scalar(
                select(func.count(Payment.id)).where(Payment.qbo_id.is_not(None))
            )
        if (status, balance) != ("partially_paid", total - amount):
            raise CheckFailed(
                f"invoice {number} is {status} with {balance} due after a payment of {amount}"
            )
        return f"invoice {number} partly paid, {count} payments"

    def expenses(self) -> str:
        with self.session.ctx.store.session() as session:
            count = session.scalar(select(func.count(Expense.id)).where(Expense.source == "qbo"))
        if not count:
            raise CheckFailed("no expense came back from QuickBooks")
        return f"{count} expenses"

    def receipt(self) -> str:
        ctx = self.session.ctx
        with ctx.store.session() as session:
            receipts = [
                info
                for infos in receipts_by_expense(session, ctx.data.attachments).values()
                for info in infos
            ]
        downloaded = {info.path for info in receipts if info.path is not None}
        if not downloaded:
            raise CheckFailed(f"none of {len(receipts)} receipts was downloaded")
        if not all(path.stat().st_size > 0 for path in downloaded):
            raise CheckFailed("a downloaded receipt is empty")
        return f"{len(downloaded)} of {len(receipts)} receipts"


def run_self_test(
    *,
    gui: bool = False,
    render: Renderer | None = render_with_window,
    on_check: Callable[[CheckResult], None] | None = None,
    keep: bool | None = None,
    verbose: int = 0,
    log_here: bool = False,
) -> SelfTestReport:
    """Run every check in a new temporary folder. `render=None` leaves the window out (the
    check is then not listed). `keep` keeps the folder (default: only when a check failed)."""
    root = Path(tempfile.mkdtemp(prefix="factor-desktop-selftest-"))
    if log_here:  # the command's log goes with its data, not to the user's log folder
        setup_logging(DataDir.resolve(root).log_dir, verbose)
    results: list[CheckResult] = []
    failure: str | None = None

    def record(result: CheckResult) -> None:
        results.append(result)
        if on_check is not None:
            on_check(result)

    test: SelfTest | None = None
    try:
        test = SelfTest(root)
        steps: list[tuple[str, Callable[[], str]]] = [
            (CHECKS[0], test.start_sandbox),
            (CHECKS[1], test.load_firm),
            (CHECKS[2], test.connect),
            (CHECKS[3], test.refresh_lists),
            (CHECKS[4], test.map_types),
            (CHECKS[5], test.sync),
            (CHECKS[6], test.invoices),
            (CHECKS[7], test.payments),
            (CHECKS[8], test.expenses),
            (CHECKS[9], test.receipt),
        ]
        if render is not None:
            renderer = render
            window_test = test

            def window() -> str:
                with offscreen_unless_display(gui):
                    return renderer(window_test, gui)

            steps.append((CHECKS[10], window))
        for name, step in steps:
            if failure is not None:
                record(CheckResult(name, False, f"not run: {failure}"))
                continue
            started = time.monotonic()
            try:
                detail = step()
            except CheckFailed as exc:
                detail, ok = str(exc), False
            except Exception as exc:
                log.exception("Self-test check %r stopped on an error", name)
                detail, ok = f"{type(exc).__name__}: {exc}", False
            else:
                ok = True
            record(CheckResult(name, ok, detail, round(time.monotonic() - started, 2)))
            if not ok:
                failure = f"{name!r} failed"
    except Exception as exc:
        log.exception("The self-test could not start")
        record(
            CheckResult("prepare a temporary data folder", False, f"{type(exc).__name__}: {exc}")
        )
    finally:
        if test is not None:
            test.close()
    passed = bool(results) and all(r.ok for r in results)
    if keep or (keep is None and not passed):
        return SelfTestReport(tuple(results), root)
    shutil.rmtree(root, ignore_errors=True)
    return SelfTestReport(tuple(results), None)


def self_test_command(
    *, gui: bool, as_json: bool, verbose: int = 0, out: TextIO | None = None
) -> int:
    """`factor-desktop self-test`: one line per check as it ends (or JSON at the end);
    0 only when every check passed."""
    stream = out or sys.stdout

    def show(result: CheckResult) -> None:
        if not as_json:
            print(result.line(), file=stream, flush=True)

    report = run_self_test(gui=gui, on_check=show, verbose=verbose, log_here=True)
    if as_json:
        json.dump(report.to_json(), stream, indent=2)
        stream.write("\n")
    elif report.data_dir is not None:
        print(f"The self-test's data and log are kept in {report.data_dir}", file=stream)
    return 0 if report.ok else 1


__all__ = [
    "CHECKS",
    "CheckFailed",
    "CheckResult",
    "SelfTest",
    "SelfTestReport",
    "run_self_test",
    "self_test_command",
]
