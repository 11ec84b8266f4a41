"""Invoices: status transitions, numbering, totals, due dates, custom fields, project details.

Transitions
-----------
* draft → final (`check_can_finalize`). A draft is freely edited (`check_can_edit`) and may be
  deleted (`check_can_delete`). Drafts have no number; one is allocated when the invoice is
  finalized (`InvoiceNumberPolicy.allocate`), so deleted drafts never leave gaps.
* final, partially paid and paid are issued invoices. They are locked: their lines, amounts and
  details are not edited. Their status changes only through payments, following the balance
  (`next_status_for_balance`), or by voiding.
* Voiding is allowed only while no payments are applied (`check_can_void`). A void invoice is
  kept for the record and never changes again. Drafts are deleted, not voided.

Refusals raise `RuleViolation` whose `message` an administrator can act on.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction
from typing import Final

from factor_desktop.domain.errors import RuleViolation
from factor_desktop.domain.money import (
    ZERO,
    exact,
    format_money,
    multiply_money,
    sum_money,
    to_cents,
)
from factor_desktop.domain.payments import status_after_payments
from factor_desktop.domain.status import InvoiceStatus

__all__ = [
    "DEFAULT_TERMS_DAYS",
    "QBO_CUSTOM_FIELD_LIMIT",
    "QBO_CUSTOM_FIELD_NAME_MAX_LENGTH",
    "QBO_CUSTOM_FIELD_VALUE_MAX_LENGTH",
    "QBO_DOC_NUMBER_MAX_LENGTH",
    "CustomField",
    "InvoiceLineInput",
    "InvoiceNumberPolicy",
    "InvoiceStatus",
    "InvoiceTotals",
    "ProjectDetails",
    "RuleViolation",
    "TaxTerm",
    "check_can_delete",
    "check_can_edit",
    "check_can_finalize",
    "check_can_void",
    "compute_totals",
    "due_date",
    "line_amount",
    "next_status_for_balance",
    "parse_number",
    "validate_custom_fields",
]

QBO_DOC_NUMBER_MAX_LENGTH: Final = 21
"""QuickBooks Online's limit on an invoice number (DocNumber)."""

PREFIX_MAX_LENGTH: Final = 10
"""The longest invoice number prefix Factor Desktop accepts."""

PADDING_MAX: Final = 10
"""The most digits an invoice number may be zero-padded to."""

QBO_CUSTOM_FIELD_LIMIT: Final = 3
"""QuickBooks Online syncs at most this many custom fields on an invoice."""

QBO_CUSTOM_FIELD_NAME_MAX_LENGTH: Final = 31
"""QuickBooks Online's limit on a custom field's name."""

QBO_CUSTOM_FIELD_VALUE_MAX_LENGTH: Final = 31
"""QuickBooks Online's limit on a string custom field's value."""

DEFAULT_TERMS_DAYS: Final = 30
"""Payment terms used when neither the invoice nor the client sets any: net 30."""

_DIGITS = re.compile(r"[0-9]+")


def _name(number: str | None) -> str:
    return f"Invoice {number}" if number else "This invoice"


# --- transitions ------------------------------------------------------------------------------


def check_can_edit(status: InvoiceStatus, number: str | None) -> None:
    """Refuse edits to anything but a draft.

    Raises `RuleViolation` with code "invoice_locked" for issued invoices (final, partially
    paid, paid) and "invoice_void" for void ones.
    """
    name = _name(number)
    if status is InvoiceStatus.DRAFT:
        return
    if status is InvoiceStatus.VOID:
        raise RuleViolation(f"{name} is void and can't be changed.", code="invoice_void")
    if status is InvoiceStatus.FINAL:
        advice = "To correct it, void it and create a new invoice."
    else:
        advice = (
            "It has payments applied; to correct it, remove the payments in QuickBooks, "
            "then void it and create a new invoice."
        )
    raise RuleViolation(
        f"{name} is finalized and locked, so it can't be edited. {advice}", code="invoice_locked"
    )


def check_can_delete(status: InvoiceStatus, number: str | None) -> None:
    """Only drafts may be deleted; issued and void invoices are kept for the record.

    Raises `RuleViolation` with code "not_deletable".
    """
    if status is InvoiceStatus.DRAFT:
        return
    if status is InvoiceStatus.VOID:
        message = f"{_name(number)} is void. Void invoices are kept for the record, not deleted."
    else:
        message = (
            f"{_name(number)} has been finalized, so it can't be deleted. Void it instead; "
            "its number stays used so the numbering has no gaps."
        )
    raise RuleViolation(message, code="not_deletable")


def check_can_finalize(
    status: InvoiceStatus,
    number: str | None = None,
    *,
    line_count: int,
    has_customer: bool,
    total: Decimal,
) -> None:
    """Check a draft is ready to be finalized.

    Needs: the invoice is a draft ("not_draft" otherwise); it has at least one line
    ("no_lines"); it names the client or project being billed ("no_customer"); and its total is
    zero or more ("negative_total"). A zero total is allowed (for example a no-charge invoice
    or one whose credits cancel its charges); QuickBooks Online does not accept invoices with a
    negative total, so those are refused. Raises `RuleViolation` with the code shown.
    """
    if status is not InvoiceStatus.DRAFT:
        state = "void" if status is InvoiceStatus.VOID else "already finalized"
        raise RuleViolation(f"{_name(number)} is {state}.", code="not_draft")
    if line_count < 1:
        raise RuleViolation(
            "Add at least one line to this invoice before finalizing it.", code="no_lines"
        )
    if not has_customer:
        raise RuleViolation(
            "Choose the client or project this invoice bills before finalizing it.",
            code="no_customer",
        )
    total_cents = to_cents(total)
    if total_cents < 0:
        raise RuleViolation(
            f"This invoice totals {format_money(total_cents)}. QuickBooks Online doesn't accept "
            "an invoice with a total below zero; reduce the credit or discount lines so the "
            "total is $0.00 or more.",
            code="negative_total",
        )


def check_can_void(status: InvoiceStatus, paid_amount: Decimal, number: str | None) -> None:
    """Voiding is allowed only for an issued invoice with no payments applied.

    Raises `RuleViolation` with code "payments_applied" when `paid_amount` (the sum of the
    payments applied to the invoice) is above zero, "draft_not_voidable" for a draft (delete
    it instead) and "already_void" for a void invoice. The decision rests on `paid_amount`,
    not on the status, so a zero-total invoice (PAID with nothing paid) may be voided.
    Raises `ValueError` for a negative paid amount.
    """
    if status is InvoiceStatus.DRAFT:
        raise RuleViolation(
            "This invoice is still a draft. Delete it instead of voiding it.",
            code="draft_not_voidable",
        )
    if status is InvoiceStatus.VOID:
        raise RuleViolation(f"{_name(number)} is already void.", code="already_void")
    paid = to_cents(paid_amount)
    if paid < 0:
        raise ValueError(f"the amount paid cannot be negative ({format_money(paid)})")
    if paid > 0:
        raise RuleViolation(
            f"{_name(number)} has {format_money(paid)} in payments applied. Remove the payments "
            "in QuickBooks before voiding it.",
            code="payments_applied",
        )


def next_status_for_balance(
    total: Decimal, balance: Decimal, current: InvoiceStatus
) -> InvoiceStatus:
    """The status an invoice should have now that its balance is `balance`.

    Drafts and void invoices keep their status: balances don't move them. Issued invoices
    follow `payments.status_after_payments(total, total - balance)`: balance == total → FINAL,
    0 < balance < total → PARTIALLY_PAID, balance == 0 → PAID (including zero-total invoices).
    Raises `ValueError` when the balance is negative or above the total.
    """
    if current in (InvoiceStatus.DRAFT, InvoiceStatus.VOID):
        return current
    total_cents = to_cents(total)
    balance_cents = to_cents(balance)
    if not ZERO <= balance_cents <= total_cents:
        raise ValueError(
            f"a balance of {format_money(balance_cents)} is impossible on an invoice "
            f"totalling {format_money(total_cents)}"
        )
    return status_after_payments(total_cents, total_cents - balance_cents)


# --- numbering --------------------------------------------------------------------------------


def _check_int(value: object, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{what} must be a whole number, not {type(value).__name__}")
    return value


@dataclass(frozen=True)
class InvoiceNumberPolicy:
    """How invoice numbers are made: prefix + the number zero-padded to `padding` digits.

    InvoiceNumberPolicy("INV-", 42, 4).format(42) == "INV-0042". A number with more digits than
    the padding is written in full (INV-9999 is followed by INV-10000). Numbers are never
    reused: `allocate` only moves forward and skips numbers already taken.

    Validation (`ValueError` with a message for the administrator): the prefix has at most 10
    characters, no colon, no control characters and no leading or trailing spaces; padding is
    0 to 10; next_number is 1 or more; and prefix plus padding fit QuickBooks Online's
    21-character invoice number.
    """

    prefix: str = ""
    next_number: int = 1
    padding: int = 4

    def __post_init__(self) -> None:
        if not isinstance(self.prefix, str):
            raise TypeError("the invoice number prefix must be text")
        _check_int(self.next_number, "the next invoice number")
        _check_int(self.padding, "the invoice number padding")
        prefix = self.prefix
        if len(prefix) > PREFIX_MAX_LENGTH:
            raise ValueError(
                f"The invoice number prefix {prefix!r} is {len(prefix)} characters long; "
                f"use at most {PREFIX_MAX_LENGTH}."
            )
        if ":" in prefix:
            raise ValueError(f"The invoice number prefix {prefix!r} can't contain a colon (:).")
        if any(not ch.isprintable() for ch in prefix):
            raise ValueError(
                f"The invoice number prefix {prefix!r} contains characters that can't be printed."
            )
        if prefix != prefix.strip():
            raise ValueError(
                f"The invoice number prefix {prefix!r} can't start or end with a space."
            )
        if not 0 <= self.padding <= PADDING_MAX:
            raise ValueError(
                f"Invoice numbers can be padded to between 0 and {PADDING_MAX} digits, "
                f"not {self.padding}."
            )
        if self.next_number < 1:
            raise ValueError(f"The next invoice number must be 1 or more, not {self.next_number}.")
        if len(prefix) + self.padding > QBO_DOC_NUMBER_MAX_LENGTH:
            raise ValueError(
                f"A prefix of {len(prefix)} characters with numbers padded to {self.padding} "
                f"digits makes invoice numbers longer than the {QBO_DOC_NUMBER_MAX_LENGTH} "
                "characters QuickBooks Online allows. Shorten the prefix or the padding."
            )

    def format(self, n: int) -> str:
        """Invoice number `n` as text, e.g. "INV-0042".

        Raises `ValueError` for n < 1 and when the result would be longer than the 21
        characters QuickBooks Online allows.
        """
        _check_int(n, "an invoice number")
        if n < 1:
            raise ValueError(f"Invoice numbers start at 1, not {n}.")
        room = QBO_DOC_NUMBER_MAX_LENGTH - len(self.prefix)
        if n >= 10**room:
            raise ValueError(
                f"Invoice number {n} doesn't fit: with the prefix {self.prefix!r}, QuickBooks "
                f"Online's {QBO_DOC_NUMBER_MAX_LENGTH}-character limit leaves room for "
                f"{room} digits. Choose a shorter prefix or start a new numbering sequence."
            )
        return self.prefix + str(n).zfill(self.padding)

    def allocate(self, used: Iterable[str]) -> tuple[str, InvoiceNumberPolicy]:
        """The next free invoice number and the policy advanced past it.

        Returns the first number ≥ next_number that is not already used, together with a copy
        of this policy whose next_number is one past it; store that copy so the number is never
        handed out again. A number counts as used when its text is in `used` (compared without
        regard to case or surrounding spaces) or when an entry in `used` has this prefix and the
        same numeric value with different padding ("INV-42" uses 42 for "INV-0042").
        Raises `ValueError` when the next free number no longer fits in 21 characters.
        """
        taken_text: set[str] = set()
        taken_numbers: set[int] = set()
        for doc_number in used:
            taken_text.add(doc_number.strip().casefold())
            parsed = parse_number(doc_number, self)
            if parsed is not None:
                taken_numbers.add(parsed)
        n = self.next_number
        while True:
            candidate = self.format(n)
            if n not in taken_numbers and candidate.casefold() not in taken_text:
                return candidate, replace(self, next_number=n + 1)
            n += 1


def parse_number(doc_number: str, policy: InvoiceNumberPolicy) -> int | None:
    """The sequence number in an invoice number made under `policy`, or None.

    parse_number("INV-0042", InvoiceNumberPolicy("INV-")) == 42. The prefix is matched without
    regard to case; what follows it must be digits only (any zero padding). Returns None for
    numbers from another scheme, for "INV-" with no digits, and for a number of 0.
    """
    text = doc_number.strip()
    prefix = policy.prefix
    if text[: len(prefix)].casefold() != prefix.casefold():
        return None
    digits = text[len(prefix) :]
    if len(digits) > QBO_DOC_NUMBER_MAX_LENGTH or not _DIGITS.fullmatch(digits):
        return None
    n = int(digits)
    return n if n >= 1 else None


# --- lines and totals ---------------------------------------------------------------------------


def line_amount(quantity: Decimal, rate: Decimal) -> Decimal:
    """A line's amount from quantity * rate, computed exactly and rounded once to the cent."""
    return multiply_money(quantity, rate)


@dataclass(frozen=True)
class InvoiceLineInput:
    """One invoice line as far as totals are concerned.

    `amount` is taken to the cent with the rule. Negative amounts (discounts, credits) are
    allowed. When `quantity` and `rate` are given (use `InvoiceLineInput.priced`), the amount
    must equal quantity * rate rounded to the cent, as QuickBooks Online requires; a mismatch
    raises `ValueError`. `taxable` lines count towards the taxable subtotal.
    """

    amount: Decimal
    taxable: bool = False
    quantity: Decimal | None = None
    rate: Decimal | None = None
    description: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "amount", to_cents(self.amount))
        if (self.quantity is None) != (self.rate is None):
            raise ValueError("give both a quantity and a rate for a line, or neither")
        if self.quantity is not None and self.rate is not None:
            expected = line_amount(self.quantity, self.rate)
            if expected != self.amount:
                raise ValueError(
                    f"The line amount {format_money(self.amount)} doesn't match quantity "
                    f"{self.quantity} * rate {self.rate} = {format_money(expected)}."
                )

    @classmethod
    def priced(
        cls, quantity: Decimal, rate: Decimal, *, taxable: bool = False, description: str = ""
    ) -> InvoiceLineInput:
        """A line whose amount is quantity * rate, rounded to the cent."""
        return cls(
            amount=line_amount(quantity, rate),
            taxable=taxable,
            quantity=quantity,
            rate=rate,
            description=description,
        )


@dataclass(frozen=True)
class TaxTerm:
    """A sales tax code and its rate, e.g. TaxTerm("CA-SF", "San Francisco", Decimal("8.625")).

    `rate_percent` is the combined rate. When the code is made of several agency rates (state,
    county, city), list them in `components`; they must add up to `rate_percent`. Tax is then
    computed and rounded once per component rate, as QuickBooks Online does. Rates must be
    zero or more (`ValueError` otherwise).
    """

    code: str
    name: str
    rate_percent: Decimal
    components: tuple[Decimal, ...] = field(default=())

    def __post_init__(self) -> None:
        if not self.code.strip():
            raise ValueError("a tax term needs a code")
        rate = exact(self.rate_percent, "tax rate")
        if rate < 0:
            raise ValueError(f"The tax rate of {self.name} can't be negative.")
        parts = [exact(c, "tax rate") for c in self.components]
        if any(p < 0 for p in parts):
            raise ValueError(f"The tax rates that make up {self.name} can't be negative.")
        if parts and sum(parts, Fraction(0)) != rate:
            raise ValueError(
                f"The rates that make up {self.name} add up to "
                f"{sum(self.components, Decimal(0))}%, not {self.rate_percent}%."
            )

    @property
    def rates(self) -> tuple[Decimal, ...]:
        """The rates tax is computed at, each rounded separately: the components, or the rate."""
        return self.components or (self.rate_percent,)


@dataclass(frozen=True)
class InvoiceTotals:
    """An invoice's totals; total == subtotal + tax exactly."""

    subtotal: Decimal
    taxable_subtotal: Decimal
    tax: Decimal
    total: Decimal


def compute_totals(lines: Iterable[InvoiceLineInput], tax_term: TaxTerm | None) -> InvoiceTotals:
    """Subtotal, taxable subtotal, tax and total of an invoice.

    subtotal is the sum of the line amounts (each already to the cent); taxable_subtotal the sum
    of the taxable ones. Tax is computed on the taxable subtotal, not line by line: for each rate
    of the tax term, taxable_subtotal * rate / 100 rounded once to the cent (ROUND_HALF_UP), and
    those added up. This matches QuickBooks Online, which applies each tax rate to the invoice's
    taxable subtotal. Without a tax term the tax is zero. Discounts that make the taxable
    subtotal negative give a negative tax (the rule is symmetric). total = subtotal + tax.
    """
    line_list = list(lines)
    subtotal = sum_money(line.amount for line in line_list)
    taxable_subtotal = sum_money(line.amount for line in line_list if line.taxable)
    tax = ZERO
    if tax_term is not None:
        base = exact(taxable_subtotal)
        tax = sum_money(to_cents(base * exact(r, "tax rate") / 100) for r in tax_term.rates)
    return InvoiceTotals(
        subtotal=subtotal,
        taxable_subtotal=taxable_subtotal,
        tax=tax,
        total=subtotal + tax,
    )


def due_date(
    issue_date: date, terms_days: int | None, default_days: int = DEFAULT_TERMS_DAYS
) -> date:
    """The date payment is due: issue date + terms in days.

    `terms_days` None means the invoice has no terms of its own, so `default_days` applies
    (net 30 unless the caller passes the client's terms). 0 means due on receipt: the issue
    date. Negative days raise `ValueError`.
    """
    days = default_days if terms_days is None else terms_days
    _check_int(days, "payment terms")
    if days < 0:
        raise ValueError(f"Payment terms can't be negative ({days} days).")
    try:
        return issue_date + timedelta(days=days)
    except OverflowError as error:
        raise ValueError(f"Payment terms of {days} days are too long.") from error


# --- custom fields and project details --------------------------------------------------------


@dataclass(frozen=True)
class CustomField:
    """A custom field printed on the invoice and synced to QuickBooks Online.

    Name and value have surrounding spaces removed. The name is required; both are limited to
    31 characters, QuickBooks Online's limit for string custom fields (`ValueError` otherwise).
    An empty value is allowed.
    """

    name: str
    value: str

    def __post_init__(self) -> None:
        name = self.name.strip()
        value = self.value.strip()
        if not name:
            raise ValueError("A custom field needs a name.")
        if len(name) > QBO_CUSTOM_FIELD_NAME_MAX_LENGTH:
            raise ValueError(
                f"The custom field name {name!r} is {len(name)} characters long; QuickBooks "
                f"Online allows at most {QBO_CUSTOM_FIELD_NAME_MAX_LENGTH}."
            )
        if len(value) > QBO_CUSTOM_FIELD_VALUE_MAX_LENGTH:
            raise ValueError(
                f"The value of custom field {name!r} is {len(value)} characters long; "
                f"QuickBooks Online allows at most {QBO_CUSTOM_FIELD_VALUE_MAX_LENGTH}."
            )
        object.__setattr__(self, "name", name)
        object.__setattr__(self, "value", value)


def validate_custom_fields(fields: Iterable[CustomField]) -> tuple[CustomField, ...]:
    """Check an invoice's custom fields as a set, returning them in order.

    At most `QBO_CUSTOM_FIELD_LIMIT` (3) fields, as QuickBooks Online syncs no more, and no two
    with the same name (ignoring case). Raises `ValueError` explaining which rule failed.
    """
    result = tuple(fields)
    if len(result) > QBO_CUSTOM_FIELD_LIMIT:
        raise ValueError(
            f"This invoice has {len(result)} custom fields; QuickBooks Online syncs at most "
            f"{QBO_CUSTOM_FIELD_LIMIT}. Remove {len(result) - QBO_CUSTOM_FIELD_LIMIT}."
        )
    seen: set[str] = set()
    for custom in result:
        key = custom.name.casefold()
        if key in seen:
            raise ValueError(f"The custom field {custom.name!r} appears more than once.")
        seen.add(key)
    return result


@dataclass(frozen=True)
class ProjectDetails:
    """The project an invoice bills, as printed on it and captured when it is finalized.

    `name` is required; `number` (the firm's project number, e.g. "2417") may be empty. Both have
    surrounding spaces removed. `as_dict`/`from_dict` give the form the store keeps.
    """

    number: str
    name: str

    def __post_init__(self) -> None:
        number = self.number.strip()
        name = self.name.strip()
        if not name:
            raise ValueError("An invoice's project details need the project name.")
        object.__setattr__(self, "number", number)
        object.__setattr__(self, "name", name)

    @property
    def label(self) -> str:
        """ "2417 - Riverside Library", or just the name when there is no number."""
        return f"{self.number} - {self.name}" if self.number else self.name

    def as_dict(self) -> dict[str, str]:
        """{"number": ..., "name": ...}"""
        return {"number": self.number, "name": self.name}

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> ProjectDetails:
        """The inverse of `as_dict`; a missing number reads as empty. `ValueError` if malformed."""
        number = data.get("number", "")
        name = data.get("name")
        if not isinstance(number, str) or not isinstance(name, str):
            raise ValueError("project details need a text 'name' and an optional text 'number'")
        return cls(number=number, name=name)
