"""Settings of one firm profile, kept in its database beside the records they govern.

Each setting has a default, a type and a check; a bad value is refused with a message that names
the setting and says what is allowed. Settings that later features add are declared here too.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import sqlite3
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from factor_desktop.domain.invoices import InvoiceNumberPolicy

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

# The settings' types are plain data, which the window uses before it opens the store: the
# store's model (SQLAlchemy) is imported where a setting is read or saved.

ENVIRONMENTS = ("production", "sandbox")
SECRET_STORAGE = ("keyring", "session")


class SettingsError(ValueError):
    pass


@dataclass(frozen=True)
class InvoiceNumbering:
    """How Factor numbers finalized invoices; QBO receives the same numbers."""

    prefix: str = "INV-"
    next_number: int = 1
    padding: int = 4

    def check(self) -> None:
        """The domain's numbering rules decide; their messages name the problem."""
        try:
            InvoiceNumberPolicy(self.prefix, self.next_number, self.padding).format(
                self.next_number
            )
        except (TypeError, ValueError) as exc:
            raise SettingsError(str(exc)) from None


@dataclass(frozen=True)
class Settings:
    # "production", "sandbox", or the discovery URL of a local QBO sandbox.
    environment: str = "production"
    # Minutes between background syncs; 0 turns automatic sync off.
    auto_sync_minutes: int = 15
    auto_create_customers: bool = True
    auto_create_projects: bool = True
    invoice_numbering: InvoiceNumbering = field(default_factory=InvoiceNumbering)
    # Days after the issue date an invoice falls due when its client has no terms.
    default_terms_days: int = 30
    # "keyring": the OS keyring. "session": kept in memory only (chosen explicitly when the
    # machine has no keyring); the connection must then be renewed at each start.
    secret_storage: str = "keyring"
    # The loopback port for the OAuth redirect; 0 picks a free one.
    redirect_port: int = 0
    # A hosted https redirect page registered with Intuit (needed for production keys); empty
    # means the redirect comes back to this computer at http://localhost:PORT/callback.
    redirect_uri: str = ""
    # Opt-in: at most once a day, read the update feed and offer a newer version's download
    # (factor_desktop/updates.py; nothing is installed by the app).
    check_for_updates: bool = False
    update_feed_url: str = ""
    # An expense from QuickBooks above this cost (whole dollars) is brought in and flagged for
    # review; 0 turns the check off.
    expense_review_ceiling: int = 25000

    def check(self) -> None:
        if self.environment not in ENVIRONMENTS and not self.environment.startswith(
            ("http://127.0.0.1", "http://localhost", "https://")
        ):
            raise SettingsError(
                "Environment: 'production', 'sandbox', or the URL of a QuickBooks discovery "
                "document."
            )
        if not 0 <= self.auto_sync_minutes <= 24 * 60:
            raise SettingsError("Auto-sync interval: 0 (off) to 1440 minutes.")
        if not 0 <= self.default_terms_days <= 365:
            raise SettingsError("Default payment terms: 0 to 365 days.")
        if self.secret_storage not in SECRET_STORAGE:
            raise SettingsError("Secret storage: 'keyring' or 'session'.")
        if not 0 <= self.redirect_port <= 65535:
            raise SettingsError("Redirect port: 0 to 65535.")
        if self.redirect_uri and not self.redirect_uri.startswith(("https://", "http://localhost")):
            raise SettingsError(
                "Redirect URI: an https:// address (or http://localhost for development keys)."
            )
        if self.update_feed_url and not self.update_feed_url.startswith(
            ("https://", "http://127.0.0.1", "http://localhost")
        ):
            raise SettingsError("Update feed URL: an https:// address.")
        if not 0 <= self.expense_review_ceiling <= 100_000_000:
            raise SettingsError("Expense review amount: 0 (off) to 100,000,000.")
        self.invoice_numbering.check()

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Settings:
        known = {f.name for f in dataclasses.fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        numbering = values.get("invoice_numbering")
        if isinstance(numbering, dict):
            values["invoice_numbering"] = InvoiceNumbering(**numbering)
        return cls(**values)


def _coerce(name: str, raw: Any, default: Any) -> Any:
    if isinstance(default, bool):
        if isinstance(raw, bool):
            return raw
        if isinstance(raw, str) and raw.lower() in (
            "true",
            "yes",
            "on",
            "1",
            "false",
            "no",
            "off",
            "0",
        ):
            return raw.lower() in ("true", "yes", "on", "1")
        raise SettingsError(f"{name}: expected yes or no, got {raw!r}.")
    if isinstance(default, int):
        try:
            return int(raw)
        except (TypeError, ValueError):
            raise SettingsError(f"{name}: expected a whole number, got {raw!r}.") from None
    if isinstance(default, str):
        return str(raw)
    raise SettingsError(f"{name} cannot be set this way.")


def load_settings(session: Session) -> Settings:
    from factor_desktop.store.models import Setting

    stored = {row.key: row.value for row in session.query(Setting)}
    try:
        return Settings.from_json(stored)
    except TypeError as exc:
        raise SettingsError(f"The stored settings are damaged: {exc}") from exc


def save_settings(session: Session, settings: Settings) -> None:
    from factor_desktop.store.models import Setting

    settings.check()
    for key, value in settings.to_json().items():
        row = session.get(Setting, key)
        if row is None:
            session.add(Setting(key=key, value=value))
        elif row.value != value:
            row.value = value


def update_setting(session: Session, dotted_name: str, raw: Any) -> Settings:
    """Change one setting by name (e.g. `auto_sync_minutes` or `invoice_numbering.prefix`)."""
    current = load_settings(session)
    head, _, tail = dotted_name.partition(".")
    if head == "invoice_numbering" and tail:
        numbering = current.invoice_numbering
        if tail not in {f.name for f in dataclasses.fields(numbering)}:
            raise SettingsError(f"Unknown setting: {dotted_name}")
        value = _coerce(dotted_name, raw, getattr(numbering, tail))
        updated = dataclasses.replace(
            current, invoice_numbering=dataclasses.replace(numbering, **{tail: value})
        )
    else:
        if (
            head not in {f.name for f in dataclasses.fields(current)}
            or tail
            or head == "invoice_numbering"
        ):
            raise SettingsError(f"Unknown setting: {dotted_name}")
        value = _coerce(dotted_name, raw, getattr(current, head))
        updated = dataclasses.replace(current, **{head: value})
    save_settings(session, updated)
    return updated


# --- the database's identity ------------------------------------------------------------------

# Kept in the settings table beside the settings (not one of them: `Settings` ignores it).
STORE_IDENTITY_KEY = "store_identity"


def store_identity(session: Session, path: Path) -> str:
    """This database's identity, a UUID kept in it; the keyring files its secrets under it.

    The identity remembers where the file was when it was given. Opened somewhere else, the
    file was moved (the original is gone: the identity follows it) or copied (the original is
    still there with the same identity: the copy gets a new one, so a copy of a data folder
    never uses, rotates or revokes the original's QuickBooks connection).
    """
    from factor_desktop.store.models import Setting

    here = str(path.resolve())
    row = session.get(Setting, STORE_IDENTITY_KEY)
    value = row.value if row is not None else None
    if isinstance(value, dict) and isinstance(value.get("id"), str):
        known, where = str(value["id"]), value.get("path")
        if where == here:
            return known
        if not (isinstance(where, str) and _identity_in(Path(where)) == known):
            assert row is not None
            row.value = {"id": known, "path": here}
            return known
    fresh = str(uuid.uuid4())
    if row is None:
        session.add(Setting(key=STORE_IDENTITY_KEY, value={"id": fresh, "path": here}))
    else:
        row.value = {"id": fresh, "path": here}
    session.flush()
    return fresh


def _identity_in(path: Path) -> str | None:
    """The identity recorded in the database at `path`, if there is one there."""
    if not path.is_file():
        return None
    with contextlib.suppress(sqlite3.Error, ValueError, TypeError):
        conn = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True, timeout=2)
        try:
            found = conn.execute(
                "SELECT value FROM settings WHERE key = ?", (STORE_IDENTITY_KEY,)
            ).fetchone()
        finally:
            conn.close()
        if found is not None:
            value = json.loads(found[0])
            if isinstance(value, dict) and isinstance(value.get("id"), str):
                return str(value["id"])
    return None
