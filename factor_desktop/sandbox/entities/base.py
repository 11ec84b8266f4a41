"""Shared machinery for entity rules: the rule interface, references, money and lines."""

from __future__ import annotations

import copy
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any, ClassVar

from .. import faults
from ..context import Ctx
from ..keys import DELETED_SUFFIX
from ..keys import NAME_ENTITIES as NAME_ENTITIES
from ..keys import live_name as live_name
from ..store import JsonDict, Record

ENVELOPE_FIELDS = frozenset({"Id", "SyncToken", "domain", "sparse", "MetaData", "status"})
USD = {"value": "USD", "name": "United States Dollar"}

# The properties QBO's schema knows on a transaction line and on the detail objects the sandbox
# reads (Intuit's XSD types Line, SalesItemLineDetail, DiscountOverride/DiscountLineDetail,
# DescriptionLineDetail, SubTotalLineDetail, AccountBasedExpenseLineDetail and
# ItemBasedExpenseLineDetail). Anything else in a line is a 2010 fault, as at the top level.
_ITEM_LINE_DETAIL = frozenset(
    {
        "ItemRef",
        "ClassRef",
        "UnitPrice",
        "RatePercent",
        "PriceLevelRef",
        "MarkupInfo",
        "Qty",
        "UOMRef",
        "ItemAccountRef",
        "InventorySiteRef",
        "TaxCodeRef",
    }
)
LINE_DETAILS: dict[str, frozenset[str]] = {
    "SalesItemLineDetail": _ITEM_LINE_DETAIL
    | frozenset(
        {"ServiceDate", "TaxInclusiveAmt", "DiscountRate", "DiscountAmt", "SalesItemLineDetailEx"}
    ),
    "ItemBasedExpenseLineDetail": _ITEM_LINE_DETAIL
    | frozenset(
        {"CustomerRef", "BillableStatus", "TaxInclusiveAmt", "ItemBasedExpenseLineDetailEx"}
    ),
    "AccountBasedExpenseLineDetail": frozenset(
        {
            "CustomerRef",
            "ClassRef",
            "AccountRef",
            "BillableStatus",
            "MarkupInfo",
            "TaxAmount",
            "TaxCodeRef",
            "TaxInclusiveAmt",
            "ExpenseDetailLineDetailEx",
        }
    ),
    "DiscountLineDetail": frozenset(
        {
            "DiscountRef",
            "PercentBased",
            "DiscountPercent",
            "DiscountAccountRef",
            "ServiceDate",
            "ClassRef",
            "TaxCodeRef",
            "DiscountLineDetailEx",
        }
    ),
    "DescriptionLineDetail": frozenset({"ServiceDate", "TaxCodeRef", "DescriptionLineDetailEx"}),
    "SubTotalLineDetail": frozenset({"ItemRef", "ServiceDate"}),
}
LINE_PROPERTIES = frozenset(
    {
        "Id",
        "LineNum",
        "Description",
        "Amount",
        "Received",
        "LinkedTxn",
        "DetailType",
        "PaymentLineDetail",
        "DiscountLineDetail",
        "TaxLineDetail",
        "SalesItemLineDetail",
        "DescriptionLineDetail",
        "ItemBasedExpenseLineDetail",
        "AccountBasedExpenseLineDetail",
        "ReimburseLineDetail",
        "DepositLineDetail",
        "PurchaseOrderItemLineDetail",
        "SalesOrderItemLineDetail",
        "ItemReceiptLineDetail",
        "JournalEntryLineDetail",
        "GroupLineDetail",
        "SubTotalLineDetail",
        "TDSLineDetail",
        "CustomField",
        "LineEx",
        "ProjectRef",
        "CostAmount",
    }
)


class EntityRule:
    """How one QBO entity is validated, completed and kept consistent.

    ``fields`` are the properties QBO's schema knows for the entity (anything else is a 2010
    fault); ``computed`` are properties QBO fills itself and ignores on input.
    """

    name: ClassVar[str] = ""
    resource: ClassVar[str] = ""
    fields: ClassVar[frozenset[str]] = frozenset()
    computed: ClassVar[frozenset[str]] = frozenset()
    name_list: ClassVar[bool] = False
    writable: ClassVar[bool] = True
    deletable: ClassVar[bool] = False
    void_mode: ClassVar[str | None] = None  # "operation" (Invoice) or "include" (Payment)
    id_family: ClassVar[str] = ""
    id_start: ClassVar[int] = 1
    cdc: ClassVar[bool] = True
    numeric_ids: ClassVar[bool] = True
    has_doc_number_sequence: ClassVar[bool] = False

    def known_properties(self) -> frozenset[str]:
        return self.fields | self.computed | ENVELOPE_FIELDS

    def build(
        self, ctx: Ctx, src: JsonDict, existing: Record | None, options: set[str]
    ) -> JsonDict:
        """Validate ``src`` (request merged with the stored object for sparse updates) and
        return the complete document without envelope fields."""
        raise NotImplementedError

    def after_write(self, ctx: Ctx, old: JsonDict | None, new: Record) -> None:
        """Propagate side effects of a create or update (balances, links)."""

    def after_delete(self, ctx: Ctx, old: Record) -> None:
        """Undo side effects of a deleted object."""

    def void(self, ctx: Ctx, record: Record) -> None:
        raise faults.operation_not_supported("void")

    def present(self, ctx: Ctx, record: Record) -> JsonDict:
        """The document as returned to a client."""
        return copy.deepcopy(record.doc)


# -- plain values -------------------------------------------------------------------------------

CENT = Decimal("0.01")


def dec(value: Any, element: str = "") -> Decimal:
    if isinstance(value, bool):
        raise faults.single(
            "Invalid Number", f"Invalid Number : {value}", "2090", element or "Amount"
        )
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise faults.single(
            "Invalid Number", f"Invalid Number : {value}", "2090", element or "Amount"
        ) from None


def money(value: Decimal | float | int) -> float:
    return float(Decimal(str(value)).quantize(CENT, rounding=ROUND_HALF_UP))


def number(value: Decimal) -> float | int:
    """Non-money numbers (Qty, UnitPrice, TaxPercent): integral values stay integers."""
    return int(value) if value == value.to_integral_value() else float(value)


def is_true(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() == "true"
    return bool(value)


def text(src: JsonDict, key: str) -> str | None:
    value = src.get(key)
    if value is None:
        return None
    return str(value)


def ref_value(ref: Any) -> str | None:
    if isinstance(ref, dict):
        value = ref.get("value")
        return None if value in (None, "") else str(value)
    if isinstance(ref, str | int):
        return str(ref)
    return None


def check_line_properties(lines: list[Any]) -> None:
    """2010 for a property QBO does not know on a line or inside a line's detail object.

    Requests reach this check with JSON nulls already dropped (see ``company.clean``), so the
    null defaults python-quickbooks leaves in its line objects pass, as they do at the top level;
    its empty-string defaults (``ServiceDate: ""``) sit on properties QBO knows.
    """
    for line in lines:
        if not isinstance(line, dict):
            continue
        for key in line:
            if key not in LINE_PROPERTIES:
                raise faults.unsupported_property("Line", key, sorted(LINE_PROPERTIES))
        for detail_name, known in LINE_DETAILS.items():
            detail = line.get(detail_name)
            if not isinstance(detail, dict):
                continue
            for key in detail:
                if key not in known:
                    raise faults.unsupported_property(detail_name, key, sorted(known))


# -- name-list names -----------------------------------------------------------------------------


def list_name(name: str, active: bool, existing: Record | None) -> tuple[str, str]:
    """(the name itself, the name as kept) for a name-list record.

    QBO keeps a deactivated record's name with " (deleted)" appended (DisplayName, Name and
    FullyQualifiedName; PrintOnCheckName keeps the plain name). A client that sends an inactive
    record's suffixed name back, as a full update or on reactivation, means the plain name.
    """
    base = name
    if (
        existing is not None
        and existing.doc.get("Active") is False
        and base.endswith(DELETED_SUFFIX)
    ):
        base = base[: -len(DELETED_SUFFIX)].rstrip()
    return base, base if active else f"{base}{DELETED_SUFFIX}"


# -- references -------------------------------------------------------------------------------


def resolve(
    ctx: Ctx, entity: str, ref: Any, element: str, *, allow_inactive: bool = False
) -> Record:
    """Look up a referenced object: a missing one is 2500, an inactive one 610 (as QBO)."""
    value = ref_value(ref)
    if value is None:
        raise faults.invalid_reference(element)
    record = ctx.get(entity, value)
    if record is None or record.deleted:
        raise faults.invalid_reference(element)
    if not allow_inactive and record.doc.get("Active") is False:
        raise faults.object_not_found()
    return record


def ref_to(record: Record, name_key: str = "DisplayName") -> JsonDict:
    out: JsonDict = {"value": record.id}
    name = record.doc.get(name_key)
    if name is not None:
        out["name"] = name
    return out


def account_ref(ctx: Ctx, ref: Any, element: str) -> JsonDict:
    record = resolve(ctx, "Account", ref, element)
    return ref_to(record, "FullyQualifiedName")


def item_ref(ctx: Ctx, ref: Any, element: str) -> tuple[Record, JsonDict]:
    record = resolve(ctx, "Item", ref, element)
    if record.doc.get("Type") == "Category":
        raise faults.invalid_reference_detail("Categories cannot be used in transactions.", element)
    return record, ref_to(record, "FullyQualifiedName")


def customer_ref(ctx: Ctx, ref: Any, element: str) -> tuple[Record, JsonDict]:
    record = resolve(ctx, "Customer", ref, element)
    return record, ref_to(record)


def find_account(ctx: Ctx, account_type: str, sub_type: str | None = None) -> Record | None:
    for record in ctx.all("Account"):
        doc = record.doc
        if (
            doc.get("AccountType") == account_type
            and doc.get("Active", True)
            and (sub_type is None or doc.get("AccountSubType") == sub_type)
        ):
            return record
    return None


def tax_code_ref(ctx: Ctx, ref: Any, element: str) -> JsonDict:
    value = ref_value(ref)
    if value is None:
        return {"value": "NON"}
    record = ctx.get("TaxCode", value)
    if record is None:
        raise faults.invalid_reference(element)
    return {"value": record.id}


# -- lines --------------------------------------------------------------------------------------


def number_lines(lines: list[JsonDict], existing: list[JsonDict] | None) -> None:
    """Give every detail line an ``Id`` and ``LineNum`` (kept when a client sends them back)."""
    used = {str(line["Id"]) for line in lines if line.get("Id") not in (None, "")}
    for line in existing or []:
        if line.get("Id") not in (None, ""):
            used.add(str(line["Id"]))
    next_id = max((int(i) for i in used if i.isdigit()), default=0) + 1
    for position, line in enumerate(lines, start=1):
        if line.get("Id") in (None, ""):
            line["Id"] = str(next_id)
            next_id += 1
        else:
            line["Id"] = str(line["Id"])
        line["LineNum"] = position


def ordered_line(line: JsonDict) -> JsonDict:
    order = ["Id", "LineNum", "Description", "Amount", "DetailType", "LinkedTxn"]
    out: JsonDict = {k: line[k] for k in order if k in line}
    out.update({k: v for k, v in line.items() if k not in out})
    return out


def qty_price_amount(detail: JsonDict, line: JsonDict, element: str = "Line.Amount") -> Decimal:
    """The line amount, checked against UnitPrice * Qty the way QBO checks it (6070)."""
    amount = line.get("Amount")
    price = detail.get("UnitPrice")
    qty = detail.get("Qty")
    if price is not None:
        detail["UnitPrice"] = number(dec(price, "UnitPrice"))
    if qty is not None:
        detail["Qty"] = number(dec(qty, "Qty"))
    if amount is None:
        if price is not None and qty is not None:
            return dec(price) * dec(qty)
        raise faults.required_param("Line.Amount")
    value = dec(amount, element)
    # python-quickbooks sends UnitPrice 0 and Qty 0 on every line whose price it was not given
    # (its defaults), and QBO takes such a line at its Amount: python-quickbooks' own
    # integration tests create invoices that way against QBO's sandbox.
    unpriced = price is not None and qty is not None and dec(price) == 0 and dec(qty) == 0
    if price is not None and qty is not None and not unpriced:
        expected = (dec(price) * dec(qty)).quantize(CENT, rounding=ROUND_HALF_UP)
        if expected != value.quantize(CENT, rounding=ROUND_HALF_UP):
            raise faults.amount_calculation(float(value))
    return value


def require_list(src: JsonDict, key: str) -> list[JsonDict]:
    value = src.get(key)
    if value is None:
        raise faults.required_param(key)
    if not isinstance(value, list):
        raise faults.malformed_request(f"{key} must be an array")
    out: list[JsonDict] = []
    for item in value:
        if not isinstance(item, dict):
            raise faults.malformed_request(f"{key} elements must be objects")
        out.append(copy.deepcopy(item))
    return out


def check_name_chars(value: str, element: str) -> None:
    if ":" in value:
        raise faults.invalid_string(value, element)


def copy_optional(src: JsonDict, out: JsonDict, keys: list[str]) -> None:
    for key in keys:
        if key in src and src[key] is not None:
            out[key] = copy.deepcopy(src[key])
