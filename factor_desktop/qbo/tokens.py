"""The token lifecycle of one QBO connection: the client's `TokenSource`.

- The access token is refreshed ahead of its expiry, and once more when QBO answers 401.
- A rotated refresh token is written to the keyring before the new access token is handed out,
  so a crash can never leave the only valid refresh token in memory.
- Refreshes are coalesced: threads that need a token while one refresh is under way wait for it
  and use its result. Before refreshing, the keyring is read again, so a token already rotated by
  another process (the command line beside the desktop app) is used instead of refreshed twice.
- `invalid_grant` marks the connection "reconnect needed" (through `on_reconnect_needed`) and
  raises; queued work stays queued.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from factor_desktop.qbo.errors import QboAuthError
from factor_desktop.qbo.oauth import IntuitOAuth, InvalidGrantError, OAuthFlowError, TokenResponse
from factor_desktop.secrets import TokenSet, TokenStore

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]


def _utcnow() -> datetime:
    return datetime.now(UTC)


def token_set_from_response(realm_id: str, response: TokenResponse, now: datetime) -> TokenSet:
    return TokenSet(
        realm_id=realm_id,
        refresh_token=response.refresh_token,
        access_token=response.access_token,
        access_expires_at=now + timedelta(seconds=response.expires_in),
        refresh_issued_at=now,
        refresh_expires_at=(
            now + timedelta(seconds=response.refresh_expires_in)
            if response.refresh_expires_in
            else None
        ),
        refresh_hard_expires_at=(
            now + timedelta(seconds=response.hard_expires_in) if response.hard_expires_in else None
        ),
    )


class ReconnectNeededError(QboAuthError):
    """QuickBooks no longer accepts this connection; the administrator must reconnect."""


class TokenManager:
    def __init__(
        self,
        store: TokenStore,
        oauth: IntuitOAuth,
        clock: Clock = _utcnow,
        on_reconnect_needed: Callable[[str], None] | None = None,
        on_refreshed: Callable[[TokenSet], None] | None = None,
    ) -> None:
        self._store = store
        self._oauth = oauth
        self._clock = clock
        self._on_reconnect_needed = on_reconnect_needed
        self._on_refreshed = on_refreshed
        self._lock = threading.Lock()
        self._tokens: TokenSet | None = None
        self.refresh_count = 0

    def _current(self) -> TokenSet:
        if self._tokens is None:
            self._tokens = self._store.load_tokens()
        if self._tokens is None:
            raise ReconnectNeededError("Not connected to QuickBooks. Connect first.")
        return self._tokens

    def access_token(self) -> str:
        with self._lock:
            tokens = self._current()
            if tokens.access_valid(self._clock()):
                return tokens.access_token
            return self._refresh_locked(tokens.access_token).access_token

    def refresh_after_unauthorized(self, rejected_token: str) -> str:
        with self._lock:
            tokens = self._current()
            if tokens.access_token != rejected_token:
                return tokens.access_token  # another caller already refreshed
            return self._refresh_locked(rejected_token).access_token

    def _refresh_locked(self, stale_access_token: str) -> TokenSet:
        # Another process may have rotated the tokens since we read them.
        stored = self._store.load_tokens()
        if stored is None:
            raise ReconnectNeededError("Not connected to QuickBooks. Connect first.")
        now = self._clock()
        if stored.access_token != stale_access_token and stored.access_valid(now):
            self._tokens = stored
            return stored
        try:
            response = self._oauth.refresh(stored.refresh_token)
        except InvalidGrantError as exc:
            self._tokens = None
            if self._on_reconnect_needed is not None:
                self._on_reconnect_needed(str(exc))
            raise ReconnectNeededError(str(exc), code="invalid_grant") from None
        except OAuthFlowError as exc:
            raise QboAuthError(str(exc)) from None
        refreshed = stored.with_refresh(
            response.access_token,
            response.expires_in,
            response.refresh_token,
            response.refresh_expires_in,
            now,
        )
        # Persist first: the rotated refresh token must survive a crash right after this line.
        self._store.save_tokens(refreshed)
        self._tokens = refreshed
        self.refresh_count += 1
        if refreshed.refresh_token != stored.refresh_token:
            log.info("QuickBooks rotated the refresh token; the new one is saved in the keyring")
        if self._on_refreshed is not None:
            self._on_refreshed(refreshed)
        return refreshed
