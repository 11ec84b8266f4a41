"""Demo mode: the main window on the demo firm, connected to a local QuickBooks sandbox.

Everything is real: the demo's data lives in `<data dir>/demo/` (profile "demo"), the sandbox
is the same local QuickBooks Online the integration tests use, started in this process with its
demo company, the demo firm is imported like any firm, and the connection goes through the OAuth
flow: discovery, the sign-in page (which the sandbox approves at once), the redirect to the
loopback listener, the code exchange and the company checks. Only the browser is replaced, by a
plain HTTP request that follows the redirects.

This module is the demo's Qt-free core (`DemoSession`); `ui/demo_window.py` runs its steps on the
window's worker thread while the window says "Starting the demo…".
"""

from __future__ import annotations

import logging
import shutil
from dataclasses import dataclass
from pathlib import Path

import requests
from sqlalchemy import func, select

from factor_desktop.app import AppContext, open_context
from factor_desktop.importer import ImportRejected, import_demo
from factor_desktop.paths import DataDir
from factor_desktop.sandbox import SandboxConfig, SandboxServer
from factor_desktop.services.errors import ServiceError
from factor_desktop.services.mappings import (
    QBO_ENTITY_FOR_KIND,
    find_cached,
    find_local,
    mapped_qbo_id,
    set_mapping,
)
from factor_desktop.store.models import Client
from factor_desktop.sync.connection import ConnectionReport, ConnectionService
from factor_desktop.sync.engine import SyncEngine
from factor_desktop.sync.reference import refresh_reference

log = logging.getLogger(__name__)

DEMO_PROFILE = "demo"
DEMO_FOLDER = "demo"
SANDBOX_STATE = "sandbox.sqlite3"

# How the demo firm's types meet the sandbox company's lists: (kind, Factor name, QBO name).
DEMO_MAPPINGS: tuple[tuple[str, str, str], ...] = (
    ("service_type", "Programming", "Programming"),
    ("service_type", "Schematic Design", "Schematic Design"),
    ("service_type", "Design Development", "Design Development"),
    ("service_type", "Construction Documents", "Construction Documents"),
    ("service_type", "Bidding & Negotiation", "Bidding & Negotiation"),
    ("service_type", "Construction Administration", "Construction Administration"),
    ("expense_type", "Structural Engineering", "Structural Engineering Consultants"),
    ("expense_type", "MEP Engineering", "MEP Engineering Consultants"),
    ("expense_type", "Landscape Architecture", "Landscape Architecture Consultants"),
    ("expense_type", "Printing & Reproduction", "Printing and Reproduction"),
    ("expense_type", "Travel", "Travel"),
    ("expense_type", "Mileage", "Mileage"),
    ("expense_type_item", "Structural Engineering", "Consultant Fees"),
    ("expense_type_item", "MEP Engineering", "Consultant Fees"),
    ("expense_type_item", "Landscape Architecture", "Consultant Fees"),
    ("expense_type_item", "Printing & Reproduction", "Reimbursable Expenses"),
    ("expense_type_item", "Travel", "Reimbursable Expenses"),
    ("expense_type_item", "Mileage", "Reimbursable Expenses"),
    ("tax_term", "NON", "NON"),
    ("tax_term", "EXEMPT", "NON"),
)
# Seconds the demo waits for the sandbox's redirect to reach the loopback listener.
REDIRECT_TIMEOUT = 30.0


class DemoError(Exception):
    """The demo could not start; the message says why."""


def demo_root(data_dir: Path | None) -> Path:
    return DataDir.resolve(data_dir).root / DEMO_FOLDER


class DemoSession:
    """The demo's parts: its data folder and store, the sandbox, the demo firm, the connection."""

    def __init__(self, data_dir: Path | None, fresh: bool = False) -> None:
        self.root = demo_root(data_dir)
        if fresh and self.root.exists():
            shutil.rmtree(self.root)
        self.ctx: AppContext = open_context(self.root, DEMO_PROFILE)
        self.sandbox: SandboxServer | None = None

    def start_sandbox(self) -> SandboxServer:
        if self.sandbox is None:
            self.sandbox = SandboxServer(
                SandboxConfig(seed="demo", auto_approve=True, state_path=self.root / SANDBOX_STATE)
            ).start()
        return self.sandbox

    def firm_loaded(self) -> bool:
        with self.ctx.store.session() as session:
            return bool(session.scalar(select(func.count(Client.id))))

    def load_firm(self) -> bool:
        """Import the demo firm unless it is already in the store. True when imported now."""
        if self.firm_loaded():
            return False
        try:
            import_demo(self.ctx.store)
        except ImportRejected as exc:
            details = "; ".join(str(p) for p in exc.problems[:3])
            raise DemoError(f"The demo firm could not be imported. {exc} {details}") from None
        return True

    def connect(self, connection: ConnectionService) -> ConnectionReport:
        """Connect through the real OAuth flow; an HTTP client stands in for the browser."""
        sandbox = self.start_sandbox()
        pending = connection.begin(
            environment=sandbox.discovery_url,
            client_id=sandbox.client_id,
            client_secret=sandbox.client_secret,
        )
        try:
            try:
                with requests.Session() as browser:
                    browser.trust_env = False  # never through a proxy: all is on 127.0.0.1
                    response = browser.get(
                        pending.authorize_url, allow_redirects=True, timeout=REDIRECT_TIMEOUT
                    )
            except requests.RequestException as exc:
                raise DemoError(
                    f"The sandbox's sign-in page could not be reached ({type(exc).__name__})."
                ) from None
            if not response.url.startswith(pending.redirect_uri):
                # The sign-in stopped before sending the browser back to this app.
                raise DemoError(
                    "The sandbox's sign-in did not send the browser back to Factor Desktop "
                    f"(HTTP {response.status_code})."
                )
        except BaseException:
            pending.close()
            raise
        # The loopback listener has the redirect; finishing checks it and exchanges the code.
        return connection.connect_with_loopback(pending, timeout=REDIRECT_TIMEOUT)

    def prepare_mappings(self, connection: ConnectionService) -> int:
        """Read the sandbox company's lists and map the demo firm's types to them, as the
        firm's administrator would have done on the Mappings tab. The city sales tax is left
        unmapped on purpose, so the demo shows an invoice held back until it is mapped.
        Returns how many mappings were made."""
        engine = SyncEngine(
            self.ctx.store,
            connection,
            self.ctx.data.attachments,
            steps=[("Reading QuickBooks lists", refresh_reference)],
        )
        engine.run(kind="lists")
        made = 0
        with self.ctx.store.session() as session:
            for kind, local_name, qbo_name in DEMO_MAPPINGS:
                try:
                    local = find_local(session, kind, local_name)
                    record = find_cached(session, QBO_ENTITY_FOR_KIND[kind], qbo_name)
                    if mapped_qbo_id(session, kind, local.id) is None:
                        set_mapping(session, kind, local.id, record.qbo_id)
                        made += 1
                except ServiceError as exc:
                    log.warning("Demo mapping %s -> %s skipped: %s", local_name, qbo_name, exc)
        return made

    def stop(self) -> None:
        if self.sandbox is not None:
            self.sandbox.stop()
            self.sandbox = None

    def close(self) -> None:
        self.stop()
        self.ctx.close()


@dataclass(frozen=True)
class DemoStarted:
    company_name: str
    realm_id: str
    firm_imported: bool
    warnings: tuple[str, ...]
