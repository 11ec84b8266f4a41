"""QBO fault envelopes, worded as QuickBooks Online words them.

Every message, detail and code here follows recorded QBO traffic or Intuit's documentation; the
few situations Intuit has never documented are marked where they are built.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

INACTIVE_DETAIL = (
    "Something you're trying to use has been made inactive. Check the fields with accounts, "
    "customers, items, vendors or employees."
)
_MISSING = object()


@dataclass
class FaultError:
    message: str
    detail: str
    code: str
    element: Any = _MISSING  # omitted from the JSON when not given, as QBO does for some codes

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"Message": self.message, "Detail": self.detail, "code": self.code}
        if self.element is not _MISSING:
            out["element"] = self.element
        return out


@dataclass
class QBOFault(Exception):
    """A fault answered as ``{"Fault": {...}, "time": ...}`` with the given HTTP status."""

    errors: list[FaultError]
    type: str = "ValidationFault"
    status: int = 400
    with_time: bool = True
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        super().__init__(self.errors[0].message if self.errors else self.type)

    @property
    def code(self) -> str:
        return self.errors[0].code if self.errors else ""

    def fault_json(self) -> dict[str, Any]:
        return {"Error": [e.to_json() for e in self.errors], "type": self.type}


def single(
    message: str,
    detail: str,
    code: str,
    element: Any = _MISSING,
    *,
    fault_type: str = "ValidationFault",
    status: int = 400,
    with_time: bool = True,
) -> QBOFault:
    return QBOFault(
        [FaultError(message, detail, code, element)],
        type=fault_type,
        status=status,
        with_time=with_time,
    )


def unsupported_operation(relative: str, full: str) -> QBOFault:
    return single(
        "Unsupported Operation",
        f"Operation Could not find resource for relative : {relative} of full path: {full} "
        "is not supported.",
        "500",
    )


def operation_not_supported(operation: str) -> QBOFault:
    return single("Unsupported Operation", f"Operation {operation} is not supported.", "500")


def invalid_id(value: str) -> QBOFault:
    # The recorded answer carries no "time" field.
    return single(
        "Invalid ID",
        f"Id should be a valid number. Supplied value:{value}",
        "2030",
        "Id",
        with_time=False,
    )


def object_not_found() -> QBOFault:
    return single("Object Not Found", f"Object Not Found : {INACTIVE_DETAIL}", "610", "")


def deleted_transaction() -> QBOFault:
    return single(
        "Object Not Found",
        "Object Not Found : Another user has deleted this transaction.",
        "610",
        "",
    )


def invalid_reference(element: str = "") -> QBOFault:
    return single(
        "Invalid Reference Id", f"Invalid Reference Id : {INACTIVE_DETAIL}", "2500", element
    )


def invalid_reference_detail(reason: str, element: str = "") -> QBOFault:
    return single("Invalid Reference Id", f"Invalid Reference Id : {reason}", "2500", element)


def stale_object(user_name: str) -> QBOFault:
    return single(
        "Stale Object Error",
        f"Stale Object Error : You and {user_name} were working on this at the same time. "
        f"{user_name} finished before you did, so your work was not saved.",
        "5010",
        "",
    )


def duplicate_name() -> QBOFault:
    return single("Duplicate Name Exists Error", "The name supplied already exists. : null", "6240")


def duplicate_doc_number(doc_number: str, txn_type: str, txn_id: str) -> QBOFault:
    return single(
        "Duplicate Document Number Error",
        "Duplicate Document Number Error : You must specify a different number. This number has "
        f"already been used. DocNumber={doc_number} is assigned to TxnType={txn_type} "
        f"with TxnId={txn_id}",
        "6140",
        "",
    )


def required_param(name: str) -> QBOFault:
    return single(
        "Required param missing, need to supply the required value for the API",
        f"Required parameter {name} is missing in the request",
        "2020",
        "",
    )


def invalid_string(value: str, element: str = "") -> QBOFault:
    return single(
        "Invalid String. The String may contain unsupported or illegal chars",
        f"Element contains invalid characters. {value}",
        "2040",
        element,
    )


def invalid_enumeration(value: str, element: str = "") -> QBOFault:
    return single("Invalid Enumeration", f"Invalid Enumeration : {value}", "2170", element)


def business_validation(reason: str, element: str = "") -> QBOFault:
    return single(
        "A business validation error has occurred while processing your request",
        f"Business Validation Error: {reason}",
        "6000",
        element,
    )


def amount_calculation(supplied: float) -> QBOFault:
    return single(
        "Amount calculation incorrect in the request.",
        f"Amount is not equal to UnitPrice * Qty. Supplied value:{_number(supplied)}",
        "6070",
        "Line.Amount",
    )


def unsupported_property(entity: str, prop: str, known: list[str]) -> QBOFault:
    quoted = [f'"{name}"' for name in known]
    listing = ""
    for item in quoted:
        candidate = f"{listing}, {item}" if listing else item
        if len(candidate) > 1000:
            listing += " [truncated]"
            break
        listing = candidate
    return single(
        "Request has invalid or unsupported property",
        f'Property Name:Unrecognized field "{prop}" (class com.intuit.schema.finance.v3.{entity}), '
        f"not marked as ignorable ({len(known)} known properties: {listing}])\n"
        " specified is unsupported or invalid",
        "2010",
    )


def malformed_request(problem: str) -> QBOFault:
    return single(
        "Request has invalid or unsupported property",
        f"Property Name:{problem} specified is unsupported or invalid",
        "2010",
    )


def query_fault(code: str, message: str, detail: str) -> QBOFault:
    return single(message, detail, code)


def batch_too_large(size: int, limit: int) -> QBOFault:
    return single(
        "Batch size exceeds allowed limit",
        f"Batch size exceeds allowed limit : {size} BatchItemRequest elements sent, "
        f"the limit is {limit}",
        "1040",
        "",
    )


def list_has_balance() -> QBOFault:
    """A customer (or one of its sub-customers) with an open balance cannot be deactivated.

    Message and Detail are QBO's words as a client reported them (quickbooks-ruby issue 390);
    the code of that answer was never published, so the sandbox uses 6000, the code of QBO's
    business validation faults.
    """
    return single(
        "Delete List Has Balance Error",
        "The entity you are trying to delete has an open balance. : This customer cannot be "
        "deleted because it has a non-zero balance",
        "6000",
        "",
    )


def system_failure() -> QBOFault:
    return single(
        "An application error has occurred while processing your request",
        "System Failure Error: An unexpected error occurred while accessing or saving your data. "
        "Please wait a few minutes and try again. If the problem persists, contact customer "
        "support.",
        "10000",
        fault_type="SystemFault",
        status=500,
    )


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)
