"""Reading the values of one import row into typed inputs, noting every bad value.

Money is read with the domain's `parse_money` and percentages with its `percent`: never through
a float. A field left out of the row is `UNSET` (the record keeps what it has); an empty value
is `None` (an optional field is cleared).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from factor_desktop.domain.money import parse_money, percent
from factor_desktop.importer.problems import Problem
from factor_desktop.importer.row import Row
from factor_desktop.services import UNSET, Unset

_TRUE = ("yes", "y", "true", "t", "1", "x")
_FALSE = ("no", "n", "false", "f", "0")


class RowFields:
    """Typed access to a row's fields; a bad value is noted against the row and read as UNSET."""

    def __init__(self, row: Row, problems: list[Problem]) -> None:
        self.row = row
        self.problems = problems
        self.bad = False

    def fail(self, name: str | None, reason: str) -> None:
        self.problems.append(self.row.problem(name, reason))
        self.bad = True

    def raw(self, name: str) -> object:
        """The value as read: UNSET when the field is left out, None when it is empty."""
        if name not in self.row.values:
            return UNSET
        value: object = self.row.values[name]
        if value is None or (isinstance(value, str) and not value.strip()):
            return None
        return value

    def _absent(self, name: str, value: object, required: bool) -> tuple[bool, Unset | None]:
        """Whether the value is missing, and what to read it as then."""
        if value is not UNSET and value is not None:
            return False, None
        if required:
            self.fail(name, "This is required.")
            return True, UNSET
        return True, None if value is None else UNSET

    def text(
        self, name: str, *, required: bool = False, numbers: bool = True
    ) -> str | Unset | None:
        """Text; a whole number is read as its digits when `numbers` (a project number 1017)."""
        value = self.raw(name)
        missing, absent = self._absent(name, value, required)
        if missing:
            return absent
        if isinstance(value, int) and not isinstance(value, bool) and not numbers:
            self.fail(name, f"Expected a name in quotes, not the number {value}.")
            return UNSET
        if isinstance(value, bool) or not isinstance(value, str | int):
            self.fail(name, "Expected text.")
            return UNSET
        return str(value).strip()

    def required_text(self, name: str, *, numbers: bool = True) -> str | None:
        value = self.text(name, required=True, numbers=numbers)
        return value if isinstance(value, str) else None

    def money(self, name: str, *, required: bool = False) -> Decimal | Unset | None:
        value = self.raw(name)
        missing, absent = self._absent(name, value, required)
        if missing:
            return absent
        if isinstance(value, Decimal | int) and not isinstance(value, bool):
            value = format(value, "f")
        if not isinstance(value, str):
            self.fail(name, "Expected an amount of money, such as 1250.00.")
            return UNSET
        try:
            return parse_money(value)
        except ValueError as exc:
            self.fail(name, f"{exc}; write amounts like 1250.00 or $1,250.00.")
            return UNSET

    def decimal(self, name: str, what: str) -> Decimal | Unset | None:
        """A percentage or a quantity, exactly as written (12.5, "12.5" or "12.5%")."""
        value = self.raw(name)
        missing, absent = self._absent(name, value, False)
        if missing:
            return absent
        if isinstance(value, bool) or not isinstance(value, str | int | Decimal):
            self.fail(name, f"Expected {what}.")
            return UNSET
        try:
            return percent(value)
        except (TypeError, ValueError):
            self.fail(name, f"Expected {what}, not {value!r}.")
            return UNSET

    def integer(self, name: str) -> int | Unset | None:
        value = self.raw(name)
        missing, absent = self._absent(name, value, False)
        if missing:
            return absent
        if isinstance(value, str) and value.strip().isdigit():
            return int(value.strip())
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        self.fail(name, f"Expected a whole number, not {value!r}.")
        return UNSET

    def flag(self, name: str) -> bool | Unset:
        value = self.raw(name)
        if value is UNSET or value is None:
            return UNSET
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in _TRUE + _FALSE:
            return value.strip().lower() in _TRUE
        self.fail(name, f"Expected yes or no, not {value!r}.")
        return UNSET

    def date(self, name: str, *, required: bool = False) -> date | Unset | None:
        value = self.raw(name)
        missing, absent = self._absent(name, value, required)
        if missing:
            return absent
        if isinstance(value, str):
            try:
                return date.fromisoformat(value.strip())
            except ValueError:
                pass
        self.fail(name, f"Expected a date written as YYYY-MM-DD, not {value!r}.")
        return UNSET
