"""Tokens and the Intuit app's client secret, kept in the OS keyring and nowhere else.

Two keyring entries per firm database, each one JSON document written in a single call:
`tokens` (refresh token, access token, its expiry, realm id, issue times) and `app` (client id
and secret). They are filed under the database's own identity (a UUID kept in it), not under the
profile name alone, so two data folders with a profile of the same name never share, overwrite
or revoke each other's connection. Entries filed by earlier versions under the profile name are
moved to the database they belong to (the one connected to the same QuickBooks company) the
first time it is opened.

Writing the whole token set at once is what makes a rotated refresh token replace the old one
atomically: there is never a moment where the new access token is stored beside the old refresh
token.

When the machine has no keyring (headless Linux resolves to `keyring.backends.fail.Keyring`),
`KeyringUnavailable` says so plainly; the administrator may then choose, explicitly, to keep the
secrets in memory for this session only. There is no silent fallback to a plaintext file.
"""

from __future__ import annotations

import json
import threading
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import keyring
import keyring.backend
import keyring.errors
from keyring.backends import fail

from factor_desktop.logs import register_secret

SERVICE_PREFIX = "Factor Desktop"
ACCESS_TOKEN_MARGIN = timedelta(minutes=5)


class KeyringUnavailable(RuntimeError):
    """No usable keyring backend on this machine."""

    def __init__(self, backend_name: str) -> None:
        self.backend_name = backend_name
        if backend_name in _PLAINTEXT_BACKENDS:
            what = (
                f"The only keyring found here ({backend_name}) writes secrets to a plain file, "
                "which Factor Desktop does not use for QuickBooks tokens."
            )
        else:
            what = f"No system keyring is available on this computer (backend: {backend_name})."
        super().__init__(
            f"{what} Factor Desktop keeps QuickBooks tokens only in a keyring. Install and "
            "unlock one (for example GNOME Keyring or KWallet on Linux), or choose 'Keep for "
            "this session only' and reconnect each time the app starts."
        )


# Backends that would keep secrets in a readable file, or silently drop them. `keyring` may
# pick them on its own when nothing better is installed; Factor Desktop refuses them.
_PLAINTEXT_BACKENDS = frozenset({"keyrings.alt.file.PlaintextKeyring"})
_REFUSED_BACKENDS = _PLAINTEXT_BACKENDS | {
    "keyring.backends.null.Keyring",
    "keyring.backends.fail.Keyring",
}


class SecretStoreError(RuntimeError):
    pass


@dataclass(frozen=True)
class TokenSet:
    realm_id: str
    refresh_token: str
    access_token: str
    access_expires_at: datetime
    refresh_issued_at: datetime
    refresh_expires_at: datetime | None = None
    refresh_hard_expires_at: datetime | None = None

    def __repr__(self) -> str:  # never show token values, even in a debugger or a traceback
        return (
            f"TokenSet(realm_id={self.realm_id!r}, access_expires_at={self.access_expires_at}, "
            f"refresh_issued_at={self.refresh_issued_at})"
        )

    __str__ = __repr__

    def access_valid(self, now: datetime) -> bool:
        return now + ACCESS_TOKEN_MARGIN < self.access_expires_at

    def to_json(self) -> str:
        data: dict[str, Any] = asdict(self)
        for key, value in data.items():
            if isinstance(value, datetime):
                data[key] = value.astimezone(UTC).isoformat()
        return json.dumps(data)

    @classmethod
    def from_json(cls, text: str) -> TokenSet:
        data = json.loads(text)
        for key in (
            "access_expires_at",
            "refresh_issued_at",
            "refresh_expires_at",
            "refresh_hard_expires_at",
        ):
            if data.get(key):
                data[key] = datetime.fromisoformat(data[key])
        return cls(**data)

    def with_refresh(
        self,
        access_token: str,
        expires_in: int,
        refresh_token: str,
        refresh_expires_in: int | None,
        now: datetime,
    ) -> TokenSet:
        rotated = refresh_token != self.refresh_token
        return replace(
            self,
            access_token=access_token,
            access_expires_at=now + timedelta(seconds=expires_in),
            refresh_token=refresh_token,
            refresh_issued_at=now if rotated else self.refresh_issued_at,
            refresh_expires_at=(
                now + timedelta(seconds=refresh_expires_in)
                if refresh_expires_in
                else self.refresh_expires_at
            ),
        )


@dataclass(frozen=True)
class AppCredentials:
    client_id: str
    client_secret: str

    def __repr__(self) -> str:
        return f"AppCredentials(client_id={self.client_id!r}, client_secret=[redacted])"

    __str__ = __repr__


class MemoryKeyring(keyring.backend.KeyringBackend):
    """A keyring that lives in this process only.

    Used by the test suite, and when an administrator explicitly chooses to keep secrets for the
    current session only. Its priority keeps keyring from ever picking it on its own.
    """

    priority = -1

    def __init__(self) -> None:
        super().__init__()  # type: ignore[no-untyped-call]  # keyring's base is untyped
        self._values: dict[tuple[str, str], str] = {}
        self._lock = threading.Lock()

    def get_password(self, service: str, username: str) -> str | None:
        with self._lock:
            return self._values.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        with self._lock:
            self._values[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        with self._lock:
            if (service, username) not in self._values:
                raise keyring.errors.PasswordDeleteError("not found")
            del self._values[(service, username)]


def _backend_name(backend: object) -> str:
    return f"{type(backend).__module__}.{type(backend).__name__}"


def keyring_problem() -> str | None:
    """None when a usable keyring exists; otherwise the name of the backend that is refused.

    A chained backend writes to its first member, so that member decides.
    """
    backend = keyring.get_keyring()
    if isinstance(backend, fail.Keyring):
        return _backend_name(backend)
    members = getattr(backend, "backends", None)
    if members is not None:
        if not members:
            return _backend_name(backend)
        backend = members[0]
    name = _backend_name(backend)
    return name if name in _REFUSED_BACKENDS else None


class TokenStore:
    """Reads and writes one firm database's secrets in a keyring backend.

    `store_id` is the database's identity; without it (tests, tools) the entries are filed under
    the profile name, as earlier versions did.
    """

    def __init__(
        self,
        profile: str = "default",
        backend: keyring.backend.KeyringBackend | None = None,
        *,
        store_id: str | None = None,
    ) -> None:
        self.profile = profile
        self.store_id = store_id
        self.service = (
            f"{SERVICE_PREFIX}/{profile}/{store_id}" if store_id else f"{SERVICE_PREFIX}/{profile}"
        )
        self._backend = backend
        self._lock = threading.Lock()

    def adopt_legacy(self, realm_id: str | None) -> bool:
        """Move the entries an earlier version filed under the profile name to this database.

        Only when this database has none of its own and the old tokens are for the QuickBooks
        company this database is connected to (`realm_id`); the old entries are then removed,
        so no other data folder can pick them up. Returns whether anything was moved.
        """
        if self.store_id is None or not realm_id:
            return False
        legacy = TokenStore(self.profile, self._backend)
        if self._get("tokens") is not None:
            return False
        raw = legacy._get("tokens")
        if raw is None:
            return False
        try:
            tokens = TokenSet.from_json(raw)
        except (ValueError, TypeError, KeyError):
            return False
        if tokens.realm_id != realm_id:
            return False
        app = legacy._get("app")
        if app is not None:
            self._set("app", app)
        self._set("tokens", raw)
        legacy.clear_all()
        return True

    @property
    def backend(self) -> keyring.backend.KeyringBackend:
        if self._backend is not None:
            return self._backend
        problem = keyring_problem()
        if problem is not None:
            raise KeyringUnavailable(problem)
        return keyring.get_keyring()

    def _get(self, key: str) -> str | None:
        try:
            return self.backend.get_password(self.service, key)
        except keyring.errors.KeyringError as exc:
            raise SecretStoreError(f"The keyring could not be read: {type(exc).__name__}") from None

    def _set(self, key: str, value: str) -> None:
        try:
            self.backend.set_password(self.service, key, value)
        except keyring.errors.KeyringError as exc:
            raise SecretStoreError(
                f"The keyring refused to store the QuickBooks connection: {type(exc).__name__}"
            ) from None

    def _delete(self, key: str) -> None:
        try:
            self.backend.delete_password(self.service, key)
        except keyring.errors.PasswordDeleteError:
            pass
        except keyring.errors.KeyringError as exc:
            raise SecretStoreError(
                f"The keyring could not be cleared: {type(exc).__name__}"
            ) from None

    def load_tokens(self) -> TokenSet | None:
        raw = self._get("tokens")
        if raw is None:
            return None
        try:
            tokens = TokenSet.from_json(raw)
        except (ValueError, TypeError, KeyError):
            raise SecretStoreError(
                "The QuickBooks tokens in the keyring are damaged; reconnect to QuickBooks."
            ) from None
        register_secret(tokens.access_token)
        register_secret(tokens.refresh_token)
        return tokens

    def save_tokens(self, tokens: TokenSet) -> None:
        """Replace the whole token set in one keyring write."""
        register_secret(tokens.access_token)
        register_secret(tokens.refresh_token)
        with self._lock:
            self._set("tokens", tokens.to_json())

    def clear_tokens(self) -> None:
        with self._lock:
            self._delete("tokens")

    def load_app(self) -> AppCredentials | None:
        raw = self._get("app")
        if raw is None:
            return None
        data = json.loads(raw)
        register_secret(data["client_secret"])
        return AppCredentials(data["client_id"], data["client_secret"])

    def save_app(self, credentials: AppCredentials) -> None:
        register_secret(credentials.client_secret)
        self._set(
            "app",
            json.dumps(
                {"client_id": credentials.client_id, "client_secret": credentials.client_secret}
            ),
        )

    def clear_all(self) -> None:
        with self._lock:
            self._delete("tokens")
            self._delete("app")
