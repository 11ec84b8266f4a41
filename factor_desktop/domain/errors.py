"""The exception business rules raise when they refuse an action."""

from __future__ import annotations

from collections.abc import Callable


class RuleViolation(Exception):
    """A business rule refused an action.

    `message` is written for the firm's administrator: it says what is wrong and what to do
    about it, and can be shown as is. `code` is a short stable identifier for programs
    (for example "invoice_locked" or "payments_applied"); each checking function documents
    the codes it raises.
    """

    def __init__(self, message: str, *, code: str) -> None:
        super().__init__(message)
        self.message = message
        self.code = code

    def __reduce__(self) -> tuple[Callable[[str, str], RuleViolation], tuple[str, str]]:
        # Keeps the exception picklable despite its keyword-only `code`.
        return (_restore, (self.message, self.code))

    def __repr__(self) -> str:
        return f"RuleViolation(code={self.code!r}, message={self.message!r})"


def _restore(message: str, code: str) -> RuleViolation:
    return RuleViolation(message, code=code)
