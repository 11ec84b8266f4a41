"""How long QuickBooks keeps a connection's tokens usable (plain data: the window says it before
it reads the keyring)."""

from __future__ import annotations

from datetime import timedelta

# QuickBooks ends a connection whose refresh token goes unused this long.
REFRESH_IDLE_LIMIT = timedelta(days=100)
