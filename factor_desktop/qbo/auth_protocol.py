"""What the QBO client needs from whoever holds the OAuth tokens.

The client never stores, logs or refreshes tokens itself: it asks a :class:`TokenSource` for a
bearer token before every request, and reports a 401 back to it exactly once per call.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

__all__ = ["TokenSource"]


@runtime_checkable
class TokenSource(Protocol):
    """Supplies access tokens for one QBO company connection."""

    def access_token(self) -> str:
        """A valid access token, refreshed ahead of its expiry when needed.

        Raises :class:`factor_desktop.qbo.errors.QboAuthError` when no valid token can be had
        (never connected, refresh token revoked or expired).
        """
        ...

    def refresh_after_unauthorized(self, rejected_token: str) -> str:
        """QBO refused ``rejected_token`` with a 401: return a fresh token, or raise.

        If another thread already replaced ``rejected_token``, return the newer token without
        refreshing again. Raises :class:`factor_desktop.qbo.errors.QboAuthError` when the
        connection cannot be renewed and the user must reconnect.
        """
        ...
