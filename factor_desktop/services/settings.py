"""Changing the firm's settings from the app or the command line."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from factor_desktop.services.errors import ServiceError
from factor_desktop.settings import Settings, SettingsError, load_settings, update_setting


def change_setting(session: Session, name: str, value: Any) -> Settings:
    """Change one setting by its dotted name, e.g. "invoice_numbering.prefix" or
    "default_terms_days". A bad name or value is refused with the setting named."""
    try:
        return update_setting(session, name, value)
    except SettingsError as exc:
        raise ServiceError(str(exc), field=name) from None


def current_settings(session: Session) -> Settings:
    try:
        return load_settings(session)
    except SettingsError as exc:
        raise ServiceError(str(exc)) from None
