"""Connecting a firm profile to one QuickBooks Online company, and keeping it connected.

The flow: `begin()` reads Intuit's discovery document, opens a loopback listener (unless a hosted
redirect page is configured), and records the pending connection; the browser's redirect (or a
pasted redirect URL) goes to `finish()`, which checks `state`, exchanges the code, saves the tokens
in the keyring, guards against switching companies, reads CompanyInfo and Preferences, and warns
about QuickBooks settings that would break the sync. `disconnect()` revokes and forgets the tokens.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import requests
from sqlalchemy.orm import Session

from factor_desktop.qbo.client import QboClient
from factor_desktop.qbo.errors import QboError
from factor_desktop.qbo.oauth import (
    Endpoints,
    Environment,
    IntuitOAuth,
    LoopbackReceiver,
    OAuthFlowError,
    discover,
    new_state,
    parse_redirect,
    resolve_environment,
)
from factor_desktop.qbo.ratelimit import RateLimiter, time_scale_from_environment
from factor_desktop.qbo.tokens import TokenManager, token_set_from_response
from factor_desktop.secrets import AppCredentials, TokenStore
from factor_desktop.settings import load_settings
from factor_desktop.store.db import Store
from factor_desktop.store.models import Connection

log = logging.getLogger(__name__)

PENDING_LIFETIME = timedelta(minutes=30)

Clock = Callable[[], datetime]


def _utcnow() -> datetime:
    return datetime.now(UTC)


class ConnectError(Exception):
    """Connecting failed; the message says what the administrator can do."""


@dataclass
class PendingConnection:
    environment: Environment
    endpoints: Endpoints
    state: str
    redirect_uri: str
    authorize_url: str
    credentials: AppCredentials = field(repr=False)
    receiver: LoopbackReceiver | None = field(default=None, repr=False)

    def close(self) -> None:
        if self.receiver is not None:
            self.receiver.close()


@dataclass(frozen=True)
class ConnectionReport:
    realm_id: str
    company_name: str
    environment: str
    warnings: list[str]


def preflight_warnings(preferences: dict[str, Any]) -> list[str]:
    """QuickBooks settings that would make the sync surprise the firm."""
    warnings: list[str] = []
    sales = preferences.get("SalesFormsPrefs", {})
    if sales.get("CustomTxnNumbers") is False:
        warnings.append(
            "Custom transaction numbers are off in QuickBooks, so invoice numbers could not "
            "match Factor's. Turn on Account and settings > Sales > Custom transaction numbers."
        )
    tax = preferences.get("TaxPrefs", {})
    if tax.get("PartnerTaxEnabled") is True:
        warnings.append(
            "Automated Sales Tax is on in QuickBooks: it recalculates tax on the invoices "
            "Factor sends, so invoice totals may differ from Factor's."
        )
    currency = preferences.get("CurrencyPrefs", {})
    if currency.get("MultiCurrencyEnabled") is True:
        warnings.append(
            "Multicurrency is on in QuickBooks. Factor invoices are sent in the company's home "
            "currency; customers in another currency cannot receive them."
        )
    return warnings


class ConnectionService:
    def __init__(
        self,
        store: Store,
        tokens: TokenStore,
        http: requests.Session | None = None,
        clock: Clock = _utcnow,
    ) -> None:
        self.store = store
        self.tokens = tokens
        self.http = http or requests.Session()
        self.clock = clock
        self.rate_limiter = RateLimiter(time_scale=time_scale_from_environment())
        self._endpoints: dict[str, Endpoints] = {}

    # -- connecting -----------------------------------------------------------------------

    def begin(
        self,
        environment: str | None = None,
        client_id: str | None = None,
        client_secret: str | None = None,
        loopback: bool = True,
    ) -> PendingConnection:
        with self.store.session() as session:
            settings = load_settings(session)
        credentials = self._credentials(client_id, client_secret)
        env = resolve_environment(environment or settings.environment)
        endpoints = self._discover(env)
        state = new_state()
        receiver: LoopbackReceiver | None = None
        if settings.redirect_uri:
            redirect_uri = settings.redirect_uri
        elif loopback:
            receiver = LoopbackReceiver(state, port=settings.redirect_port)
            redirect_uri = receiver.redirect_uri
        else:
            port = settings.redirect_port or 8765
            redirect_uri = f"http://localhost:{port}/callback"
        oauth = IntuitOAuth(endpoints, credentials.client_id, credentials.client_secret, self.http)
        pending = PendingConnection(
            environment=env,
            endpoints=endpoints,
            state=state,
            redirect_uri=redirect_uri,
            authorize_url=oauth.authorization_url(redirect_uri, state),
            credentials=credentials,
            receiver=receiver,
        )
        # Keep the app keys in the keyring now, so a pasted redirect can finish later.
        self.tokens.save_app(credentials)
        with self.store.session() as session:
            conn = self._connection(session)
            conn.pending_state = state
            conn.pending_redirect_uri = redirect_uri
            conn.pending_environment = env.name
            conn.pending_started_at = self.clock()
        return pending

    def resume(self) -> PendingConnection:
        """The connection begun earlier (perhaps by another process), to finish from a paste."""
        with self.store.session() as session:
            conn = self._connection(session)
            state, redirect_uri = conn.pending_state, conn.pending_redirect_uri
            environment, started = conn.pending_environment, conn.pending_started_at
        if not (state and redirect_uri and environment and started):
            raise ConnectError(
                "No connection is waiting to be finished. Start with `factor-desktop connect`."
            )
        if self.clock() - started > PENDING_LIFETIME:
            raise ConnectError("The connection started too long ago. Start connecting again.")
        credentials = self._credentials(None, None)
        env = resolve_environment(environment)
        endpoints = self._discover(env)
        oauth = IntuitOAuth(endpoints, credentials.client_id, credentials.client_secret, self.http)
        return PendingConnection(
            env,
            endpoints,
            state,
            redirect_uri,
            oauth.authorization_url(redirect_uri, state),
            credentials,
        )

    def finish(self, pending: PendingConnection, redirect_url: str) -> ConnectionReport:
        result = parse_redirect(redirect_url, pending.state)
        oauth = IntuitOAuth(
            pending.endpoints,
            pending.credentials.client_id,
            pending.credentials.client_secret,
            self.http,
        )
        response = oauth.exchange_code(result.code, pending.redirect_uri)
        now = self.clock()
        new_tokens = token_set_from_response(result.realm_id, response, now)
        with self.store.session() as session:
            conn = self._connection(session)
            previous_realm = conn.realm_id
            previous_company = conn.company_name
        if previous_realm and previous_realm != result.realm_id:
            # Never switch companies silently: the records' QBO links belong to the old one.
            try:
                oauth.revoke(response.refresh_token)
            except OAuthFlowError:
                log.warning("Could not revoke the tokens of the refused company")
            raise ConnectError(
                f"This firm profile is linked to the QuickBooks company {previous_company!r} "
                f"(realm {previous_realm}), but you signed in to a different company "
                f"(realm {result.realm_id}). Nothing was changed. Sign in to "
                f"{previous_company!r}, or use a new firm profile for the other company."
            )
        self.tokens.save_tokens(new_tokens)
        manager = TokenManager(self.tokens, oauth, self.clock)
        client = self._client(pending.environment, result.realm_id, manager)
        try:
            info = client.company_info()
            preferences = client.preferences()
        except QboError as exc:
            raise ConnectError(
                f"Connected, but the company could not be read: {exc}. Try connecting again."
            ) from None
        finally:
            client.close()
        company_name = str(info.get("CompanyName") or info.get("LegalName") or result.realm_id)
        warnings = preflight_warnings(preferences)
        with self.store.session() as session:
            conn = self._connection(session)
            conn.state = "connected"
            conn.environment = pending.environment.name
            conn.realm_id = result.realm_id
            conn.company_name = company_name
            conn.connected_at = now
            conn.refresh_token_issued_at = now
            conn.refresh_token_last_used_at = now
            conn.last_error = None
            conn.warnings = warnings
            conn.pending_state = conn.pending_redirect_uri = conn.pending_environment = None
            conn.pending_started_at = None
        log.info("Connected to QuickBooks company %s (realm %s)", company_name, result.realm_id)
        return ConnectionReport(result.realm_id, company_name, pending.environment.name, warnings)

    def connect_with_loopback(
        self, pending: PendingConnection, timeout: float = 300.0
    ) -> ConnectionReport:
        if pending.receiver is None:
            raise ConnectError("This connection expects a pasted redirect URL.")
        try:
            redirect_url = pending.receiver.wait(timeout)
        finally:
            pending.close()
        return self.finish(pending, redirect_url)

    # -- using and ending the connection -------------------------------------------------

    def token_manager(self) -> TokenManager:
        env, _realm = self._connected()
        credentials = self._credentials(None, None)
        endpoints = self._discover(env)
        oauth = IntuitOAuth(endpoints, credentials.client_id, credentials.client_secret, self.http)
        return TokenManager(
            self.tokens,
            oauth,
            self.clock,
            on_reconnect_needed=self._mark_reconnect_needed,
            on_refreshed=lambda tokens: self._record_refresh(tokens.refresh_issued_at),
        )

    def client(self, manager: TokenManager | None = None) -> QboClient:
        env, realm = self._connected()
        return self._client(env, realm, manager or self.token_manager())

    def disconnect(self) -> bool:
        """Revoke the tokens at Intuit and forget them. Returns whether Intuit confirmed."""
        revoked = False
        tokens = self.tokens.load_tokens()
        credentials = self.tokens.load_app()
        with self.store.session() as session:
            conn = self._connection(session)
            environment = conn.environment
        if tokens is not None and credentials is not None and environment:
            try:
                endpoints = self._discover(resolve_environment(environment))
                IntuitOAuth(
                    endpoints, credentials.client_id, credentials.client_secret, self.http
                ).revoke(tokens.refresh_token)
                revoked = True
            except OAuthFlowError as exc:
                log.warning("Revoking the QuickBooks connection failed: %s", exc)
        self.tokens.clear_tokens()
        with self.store.session() as session:
            conn = self._connection(session)
            conn.state = "disconnected"
            conn.last_error = None
            # realm_id and company_name stay: records keep their links to that company, and
            # the company guard keeps a later connect from silently switching companies.
        return revoked

    # -- helpers --------------------------------------------------------------------------

    def _discover(self, env: Environment) -> Endpoints:
        """Intuit's endpoints for the environment, read once per service."""
        if env.discovery_url not in self._endpoints:
            self._endpoints[env.discovery_url] = discover(env, self.http)
        return self._endpoints[env.discovery_url]

    def _credentials(self, client_id: str | None, client_secret: str | None) -> AppCredentials:
        stored = self.tokens.load_app()
        cid = client_id or (stored.client_id if stored else None)
        secret = client_secret or (stored.client_secret if stored else None)
        if not cid or not secret:
            raise ConnectError(
                "The Intuit app's Client ID and Client Secret are needed to connect "
                "(from developer.intuit.com > your app > Keys & credentials)."
            )
        return AppCredentials(cid, secret)

    def _connected(self) -> tuple[Environment, str]:
        with self.store.session() as session:
            conn = self._connection(session)
            state, environment, realm = conn.state, conn.environment, conn.realm_id
        if state != "connected" or not environment or not realm:
            if state == "reconnect_needed":
                raise ConnectError("QuickBooks needs to be reconnected.")
            raise ConnectError("Not connected to QuickBooks. Connect first.")
        if self.tokens.load_tokens() is None:
            # This database's tokens are not in this computer's keyring (another computer, a
            # copied data folder): it is not connected, and nothing is tried with other tokens.
            raise ConnectError(
                "Not connected to QuickBooks: this firm's QuickBooks tokens are not in this "
                "computer's keyring. Connect again."
            )
        return resolve_environment(environment), realm

    def _client(self, env: Environment, realm_id: str, manager: TokenManager) -> QboClient:
        return QboClient(
            env.api_base, realm_id, manager, session=self.http, rate_limiter=self.rate_limiter
        )

    def _mark_reconnect_needed(self, reason: str) -> None:
        with self.store.session() as session:
            conn = self._connection(session)
            conn.state = "reconnect_needed"
            conn.last_error = reason

    def _record_refresh(self, issued_at: datetime) -> None:
        with self.store.session() as session:
            conn = self._connection(session)
            conn.refresh_token_issued_at = issued_at
            conn.refresh_token_last_used_at = self.clock()

    @staticmethod
    def _connection(session: Session) -> Connection:
        conn = session.get(Connection, 1)
        if conn is None:
            conn = Connection(id=1)
            session.add(conn)
            session.flush()
        return conn
