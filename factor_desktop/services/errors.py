"""How the services refuse an action, and how they report what a save did."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Generic, TypeVar

from factor_desktop.domain.errors import RuleViolation

T = TypeVar("T")


class ServiceError(Exception):
    """An action was refused. `message` says why in words an administrator can act on.

    `field` names the input that was wrong when there is one (for example "name" or
    "client_id"), so a form or an import can point at it. `code` is the stable identifier of
    the business rule that refused, when a domain rule did.
    """

    def __init__(self, message: str, *, field: str | None = None, code: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field
        self.code = code

    @classmethod
    def from_rule(cls, violation: RuleViolation, *, field: str | None = None) -> ServiceError:
        return cls(violation.message, field=field, code=violation.code)

    def __repr__(self) -> str:
        return f"ServiceError({self.message!r}, field={self.field!r}, code={self.code!r})"


class Change(StrEnum):
    """What saving a record did to the store."""

    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"


@dataclass(frozen=True)
class Saved(Generic[T]):
    """A record after a save, and whether the save created, changed or left it as it was."""

    record: T
    change: Change
