"""A parsed QBO query statement (:class:`Query` and its parts), the entities and properties QBO
lets a query name, and :class:`QueryError` with the faults QBO sends. See `sandbox.query`."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Final, Literal

DEFAULT_MAX_RESULTS: Final = 100
MAX_RESULTS_LIMIT: Final = 1000

SUPPORTED_ENTITIES: Final[frozenset[str]] = frozenset(
    {
        "Account",
        "Attachable",
        "Bill",
        "BillPayment",
        "Budget",
        "Class",
        "CompanyCurrency",
        "CompanyInfo",
        "CreditCardPayment",
        "CreditMemo",
        "Customer",
        "CustomerType",
        "Department",
        "Deposit",
        "Employee",
        "Estimate",
        "ExchangeRate",
        "Invoice",
        "Item",
        "JournalCode",
        "JournalEntry",
        "Payment",
        "PaymentMethod",
        "Preferences",
        "Purchase",
        "PurchaseOrder",
        "RecurringTransaction",
        "RefundReceipt",
        "ReimburseCharge",
        "SalesReceipt",
        "TaxAgency",
        "TaxClassification",
        "TaxCode",
        "TaxPayment",
        "TaxRate",
        "Term",
        "TimeActivity",
        "Transfer",
        "Vendor",
        "VendorCredit",
    }
)
"""Entity names accepted after FROM, in any case (:attr:`Query.entity` is the canonical one)."""

NAME_LIST_ENTITIES: Final[frozenset[str]] = frozenset(
    {
        "Account",
        "Class",
        "Customer",
        "Department",
        "Employee",
        "Item",
        "PaymentMethod",
        "TaxCode",
        "Term",
        "Vendor",
    }
)
"""Entities whose inactive rows a query leaves out unless it names ``Active``."""

_ENTITY_BY_FOLDED: Final = {name.casefold(): name for name in SUPPORTED_ENTITIES}

# What QBO orders a name list by when the statement has no ORDERBY: the first of these
# properties a row has.
_BY_FULL_NAME: Final = ("FullyQualifiedName", "Name", "DisplayName")
_BY_DISPLAY_NAME: Final = ("DisplayName", "Name")
_BY_NAME: Final = ("Name", "DisplayName")
_DEFAULT_ORDER: Final[dict[str, tuple[str, ...]]] = {
    "Account": _BY_FULL_NAME,
    "Budget": _BY_NAME,
    "Class": _BY_FULL_NAME,
    "Customer": ("FullyQualifiedName", "DisplayName"),
    "CustomerType": _BY_NAME,
    "Department": _BY_FULL_NAME,
    "Employee": _BY_DISPLAY_NAME,
    "Item": _BY_FULL_NAME,
    "JournalCode": _BY_NAME,
    "PaymentMethod": _BY_NAME,
    "TaxAgency": _BY_DISPLAY_NAME,
    "TaxClassification": _BY_NAME,
    "TaxCode": _BY_NAME,
    "TaxRate": _BY_NAME,
    "Term": _BY_NAME,
    "Vendor": _BY_DISPLAY_NAME,
}
# Everything else (transactions, Attachable, CompanyInfo…): most recently changed first.
_DEFAULT_ORDER_FALLBACK: Final = "MetaData.LastUpdatedTime"

# Compound properties QBO never filters or sorts on, whatever the entity (first path segment).
_COMPOUND_PROPERTIES: Final = frozenset(
    name.casefold()
    for name in (
        "AlternatePhone",
        "BillAddr",
        "BillEmail",
        "BillEmailBcc",
        "BillEmailCc",
        "CompanyAddr",
        "CustomField",
        "CustomerCommunicationAddr",
        "DeliveryInfo",
        "Fax",
        "LegalAddr",
        "Line",
        "LinkedTxn",
        "Mobile",
        "NameValue",
        "OtherContactInfo",
        "PrimaryPhone",
        "PurchaseTaxRateList",
        "SalesTaxRateList",
        "ShipAddr",
        "ShipFromAddr",
        "TxnTaxDetail",
        "WebAddr",
    )
)

# Further properties QBO reports as "not queryable" for one entity: those Intuit's entity reference
# does not mark filterable (QBO answers ``Vendor WHERE PrimaryEmailAddr = …`` with this fault).
_NOT_QUERYABLE: Final = {
    "Account": frozenset({"acctnum"}),
    "Customer": frozenset({"acctnum"}),
    "Vendor": frozenset(
        name.casefold()
        for name in (
            "AcctNum",
            "APAccountRef",
            "Balance",
            "CurrencyRef",
            "PrimaryEmailAddr",
            "SyncToken",
            "TaxIdentifier",
            "TaxReportingBasis",
            "TermRef",
            "Title",
            "Vendor1099",
        )
    ),
}

_ID_SEGMENTS: Final = frozenset({"id", "synctoken", "value"})


class QueryError(Exception):
    """A query QBO refuses: ``code``, ``message`` and ``detail`` are the fault's fields."""

    code: str
    message: str
    detail: str

    def __init__(self, code: str, message: str, detail: str) -> None:
        super().__init__(f"{code} {message}: {detail}")
        self.code = code
        self.message = message
        self.detail = detail


def _parse_error(detail: str) -> QueryError:
    return QueryError("4000", "Error parsing query", f"QueryParserError: {detail}")


def _invalid(detail: str) -> QueryError:
    return QueryError("4001", "Invalid query", f"QueryValidationError: {detail}")


def _not_queryable(prop: str) -> QueryError:
    return _invalid(f"property '{prop}' is not queryable")


ValueKind = Literal["string", "integer", "decimal", "boolean"]
Operator = Literal["=", "<", ">", "<=", ">=", "IN", "LIKE"]


@dataclass(frozen=True)
class Value:
    """One literal of a condition.

    ``value`` is the Python value (escapes resolved for strings); ``raw`` is the text as written
    (for a string, what stood between the quotes, escapes included).
    """

    kind: ValueKind
    value: str | int | Decimal | bool
    raw: str


@dataclass(frozen=True)
class Condition:
    """``field op values``; ``values`` holds one literal except for ``IN``."""

    field: str
    op: Operator
    values: tuple[Value, ...]

    @property
    def path(self) -> tuple[str, ...]:
        return tuple(self.field.split("."))


@dataclass(frozen=True)
class OrderBy:
    """One ORDERBY key."""

    field: str
    descending: bool = False


@dataclass(frozen=True)
class Query:
    """A parsed statement. ``projection`` holds names listed after ``*`` (``SELECT *, Sku``)."""

    entity: str
    count: bool = False
    conditions: tuple[Condition, ...] = ()
    order_by: tuple[OrderBy, ...] = ()
    start_position: int = 1
    max_results: int = DEFAULT_MAX_RESULTS
    projection: tuple[str, ...] = ()

    @property
    def mentions_active(self) -> bool:
        """True when a condition is on ``Active``, which turns off the implicit active filter."""
        return any(c.path[0].casefold() == "active" for c in self.conditions)
