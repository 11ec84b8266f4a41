"""The QuickBooks connection as the window shows it: the stored state, the tokens' dates and
what the keyring says. Never holds a token."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import keyring

from factor_desktop.domain.tokens import REFRESH_IDLE_LIMIT
from factor_desktop.secrets import (
    KeyringUnavailable,
    MemoryKeyring,
    SecretStoreError,
    TokenSet,
    TokenStore,
    keyring_problem,
)
from factor_desktop.store.models import Connection


@dataclass(frozen=True)
class ConnectionInfo:
    """The QuickBooks connection as the Connection tab shows it. Never holds a token."""

    # The state to show: "connected", "disconnected" or "reconnect_needed". A stored
    # "connected" without tokens in the keyring is shown as "reconnect_needed".
    state: str
    stored_state: str
    company_name: str | None
    realm_id: str | None
    environment: str | None
    connected_at: datetime | None
    refresh_token_issued_at: datetime | None
    refresh_token_last_used_at: datetime | None
    idle_deadline: datetime | None
    hard_deadline: datetime | None
    last_error: str | None
    warnings: tuple[str, ...]
    pending_since: datetime | None
    tokens_present: bool
    # The keyring's own complaint when it cannot be used (KeyringUnavailable or a read error).
    keyring_message: str | None
    keyring_unavailable: bool
    secret_storage: str
    keyring_backend: str
    # True when secrets live in this process's memory (the session-only choice, or the demo).
    secrets_in_memory: bool
    # The backend's name when it writes secrets unencrypted to a file.
    client_id: str | None
    settings_environment: str

    @property
    def has_saved_secret(self) -> bool:
        return self.client_id is not None


def _keyring_backend() -> tuple[str, bool]:
    """The keyring backend's name, and whether it keeps secrets in this process only."""
    backend = keyring.get_keyring()
    name = getattr(backend, "name", None)
    return (str(name) if name else type(backend).__name__), isinstance(backend, MemoryKeyring)


def connection_info(
    conn: Connection | None, tokens: TokenStore, secret_storage: str, settings_environment: str
) -> ConnectionInfo:
    token_set: TokenSet | None = None
    client_id: str | None = None
    keyring_message: str | None = None
    unavailable = False
    try:
        token_set = tokens.load_tokens()
        app = tokens.load_app()
        client_id = app.client_id if app is not None else None
    except KeyringUnavailable as exc:
        keyring_message, unavailable = str(exc), True
    except SecretStoreError as exc:
        keyring_message = str(exc)
    stored_state = conn.state if conn is not None else "disconnected"
    state = stored_state
    last_error = conn.last_error if conn is not None else None
    if stored_state == "connected" and token_set is None:
        state = "reconnect_needed"
        if last_error is None:
            last_error = (
                "The QuickBooks tokens are not on this computer any more"
                + (
                    " (they were kept for an earlier session only)"
                    if secret_storage == "session"
                    else ""
                )
                + ". Connect again to continue."
            )
    backend_name, in_memory = _keyring_backend()
    last_used = conn.refresh_token_last_used_at if conn is not None else None
    issued = token_set.refresh_issued_at if token_set is not None else None
    if issued is None and conn is not None:
        issued = conn.refresh_token_issued_at
    return ConnectionInfo(
        state=state,
        stored_state=stored_state,
        company_name=conn.company_name if conn is not None else None,
        realm_id=conn.realm_id if conn is not None else None,
        environment=conn.environment if conn is not None else None,
        connected_at=conn.connected_at if conn is not None else None,
        refresh_token_issued_at=issued,
        refresh_token_last_used_at=last_used,
        idle_deadline=last_used + REFRESH_IDLE_LIMIT if last_used is not None else None,
        hard_deadline=token_set.refresh_hard_expires_at if token_set is not None else None,
        last_error=last_error,
        warnings=tuple(conn.warnings or ()) if conn is not None else (),
        pending_since=conn.pending_started_at if conn is not None else None,
        tokens_present=token_set is not None,
        keyring_message=keyring_message,
        keyring_unavailable=unavailable,
        secret_storage=secret_storage,
        keyring_backend=backend_name if keyring_problem() is None else "none",
        secrets_in_memory=in_memory,
        client_id=client_id,
        settings_environment=settings_environment,
    )
