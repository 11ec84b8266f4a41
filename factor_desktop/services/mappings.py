"""Which QuickBooks record each Factor type stands for (service types, expense types, tax terms).

Kinds: `service_type` → Item, `expense_type` → Account, `expense_type_item` → Item (for expenses
QuickBooks books by item), `tax_term` → TaxCode. A QuickBooks account or item stands for at most
one expense type, so an expense pulled from QuickBooks always lands on exactly one type.

Mappings are checked against the local cache of QuickBooks lists (`qbo_cache`), which each sync
refreshes: a record that is not there, is inactive, or cannot be used the way the kind needs it
is refused with a reason the administrator can act on.

Tax terms and tax rates
-----------------------
A tax code's rate is the sum of its sales tax rates (`tax_code_rate`). Mapping a tax term to a
code of another rate is refused, naming both rates, unless the administrator says how invoices
of that term reconcile with QuickBooks (a *tax rule*):

* `override` (the default and the recommendation): Factor's tax amount is sent with the invoice
  (`TxnTaxDetail.TotalTax` beside `TxnTaxCodeRef`), so QuickBooks' total equals Factor's;
* `accept`: QuickBooks computes the tax at its own rate, and its figure is accepted for the term.

The choice is kept per tax-term mapping in the profile's settings table (key `tax_rules`), with
the tax code it was made for: mapping the term to another code asks again. `tax_rule()` says
which rule applies to a term's invoices.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Literal, cast, get_args

from sqlalchemy import select
from sqlalchemy.orm import Session

from factor_desktop.domain.kinds import MappingKind
from factor_desktop.qbo.mappers import automated_sales_tax, effective_sales_rate
from factor_desktop.services._fields import get_record
from factor_desktop.services.errors import ServiceError
from factor_desktop.store.models import (
    ExpenseType,
    Mapping,
    QboRecord,
    ServiceType,
    Setting,
    TaxTerm,
)

#: How a tax term's invoices reconcile with QuickBooks when its tax code's rate differs.
TaxRule = Literal["override", "accept"]
TAX_RULES: tuple[TaxRule, ...] = get_args(TaxRule)
#: The default and recommended rule: send Factor's tax amount.
DEFAULT_TAX_RULE: TaxRule = "override"
TAX_RULE_TEXT: dict[str, str] = {
    "override": "Factor's tax amount is sent to QuickBooks",
    "accept": "QuickBooks' tax figure is accepted",
}
# The settings row that keeps the rules, and the cache rows the rates come from.
_TAX_RULES_KEY = "tax_rules"
_PREFERENCES = "Preferences"

QBO_ENTITY_FOR_KIND: dict[str, str] = {
    MappingKind.SERVICE_TYPE: "Item",
    MappingKind.EXPENSE_TYPE: "Account",
    MappingKind.EXPENSE_TYPE_ITEM: "Item",
    MappingKind.TAX_TERM: "TaxCode",
}

# The Factor records each kind maps, and how an administrator calls them.
LocalType = ServiceType | ExpenseType | TaxTerm
LOCAL_FOR_KIND: dict[str, tuple[type[LocalType], str]] = {
    MappingKind.SERVICE_TYPE: (ServiceType, "service type"),
    MappingKind.EXPENSE_TYPE: (ExpenseType, "expense type"),
    MappingKind.EXPENSE_TYPE_ITEM: (ExpenseType, "expense type"),
    MappingKind.TAX_TERM: (TaxTerm, "tax term"),
}

# What a QuickBooks record of each entity is called in a message.
ENTITY_LABEL = {"Item": "product/service", "Account": "account", "TaxCode": "tax code"}
ENTITY_PLURAL = {"Item": "products/services", "Account": "accounts", "TaxCode": "tax codes"}

# Account types an expense can be booked to. Other accounts (bank, income, equity, ...) cannot
# stand for a kind of project cost.
EXPENSE_ACCOUNT_TYPES = ("Expense", "Cost of Goods Sold", "Other Expense")

# The kinds a coverage figure is given for: an expense type counts as mapped when it has an
# account or an item.
COVERAGE_KINDS: tuple[str, ...] = (
    MappingKind.SERVICE_TYPE,
    MappingKind.EXPENSE_TYPE,
    MappingKind.TAX_TERM,
)

# The kinds where one QuickBooks record may stand for one Factor type only.
# An account stands for one expense type, so an expense QuickBooks books to it lands on exactly
# one type. Items may be shared: several expense types are commonly invoiced under one
# "Reimbursable Expenses" item; an expense QuickBooks books by a shared item waits for review.
_EXCLUSIVE_KINDS: tuple[str, ...] = (MappingKind.EXPENSE_TYPE,)


def mapped_qbo_id(session: Session, kind: str, local_id: int) -> str | None:
    """The QBO Id a Factor type is mapped to, or None."""
    return session.scalar(
        select(Mapping.qbo_id).where(Mapping.kind == kind, Mapping.local_id == local_id)
    )


def local_for_qbo(session: Session, kind: str, qbo_id: str) -> int | None:
    """The Factor type mapped to a QBO record, or None."""
    return session.scalar(
        select(Mapping.local_id).where(Mapping.kind == kind, Mapping.qbo_id == qbo_id)
    )


def cached(session: Session, entity: str, qbo_id: str) -> QboRecord | None:
    """A QBO reference record from the local cache."""
    return session.scalar(
        select(QboRecord).where(QboRecord.entity == entity, QboRecord.qbo_id == qbo_id)
    )


# --- what a QuickBooks record is ------------------------------------------------------------


def qbo_type(record: QboRecord) -> str | None:
    """An Item's `Type` or an Account's `AccountType`, as QuickBooks sent it."""
    key = {"Item": "Type", "Account": "AccountType"}.get(record.entity)
    value = record.data.get(key) if key is not None and isinstance(record.data, dict) else None
    if isinstance(value, str) and value:
        return value
    return record.kind


def display_name(record: QboRecord) -> str:
    """The name QuickBooks shows: the full `Parent:Child` name when there is one."""
    return record.fully_qualified_name or record.name


def describe(record: QboRecord) -> str:
    """e.g. "product/service 'Design:DD' (Id 7)"."""
    label = ENTITY_LABEL.get(record.entity, record.entity)
    return f"{label} {display_name(record)!r} (Id {record.qbo_id})"


def unusable_reason(record: QboRecord, kind: str) -> str | None:
    """Why `record` cannot stand for a Factor type of `kind`, or None when it can."""
    entity = QBO_ENTITY_FOR_KIND[kind]
    if record.entity != entity:
        return (
            f"{_an(describe(record))} cannot stand for {_a(_local_label(kind))}: "
            f"{_local_label(kind)}s map to QuickBooks {ENTITY_PLURAL[entity]}."
        )
    if not record.active:
        return (
            f"The QuickBooks {describe(record)} is inactive. Make it active in QuickBooks "
            "(and sync), or choose another."
        )
    kind_of = qbo_type(record)
    if record.entity == "Item" and kind_of == "Category":
        return (
            f"{display_name(record)!r} is a QuickBooks category, and QuickBooks does not let "
            "categories be used in transactions. Choose a product or service inside it."
        )
    if kind == MappingKind.EXPENSE_TYPE and kind_of not in EXPENSE_ACCOUNT_TYPES:
        shown = f"of type {kind_of!r}" if kind_of else "of no known type"
        return (
            f"The QuickBooks account {display_name(record)!r} is {shown}, not an expense "
            f"account. Expense types map to accounts of type "
            f"{', '.join(EXPENSE_ACCOUNT_TYPES[:-1])} or {EXPENSE_ACCOUNT_TYPES[-1]}."
        )
    return None


def candidates(session: Session, kind: str) -> list[QboRecord]:
    """The cached QuickBooks records a Factor type of `kind` may be mapped to, by name."""
    _check_kind(kind)
    records = session.scalars(
        select(QboRecord).where(QboRecord.entity == QBO_ENTITY_FOR_KIND[kind])
    ).all()
    usable = [r for r in records if unusable_reason(r, kind) is None]
    return sorted(usable, key=lambda r: (display_name(r).casefold(), r.qbo_id))


def find_cached(session: Session, entity: str, name_or_id: str) -> QboRecord:
    """The cached QuickBooks record of `entity` named (ignoring case) or with the Id given.

    A name is compared with both the record's name and its full `Parent:Child` name. Several
    matches are refused with the list of them, so the administrator can give the Id instead.
    """
    wanted = name_or_id.strip()
    if not wanted:
        raise ServiceError(f"Give the name or Id of a QuickBooks {ENTITY_LABEL[entity]}.")
    folded = wanted.casefold()
    records = session.scalars(select(QboRecord).where(QboRecord.entity == entity)).all()
    found = {
        r.qbo_id: r
        for r in records
        if r.qbo_id == wanted or folded in (r.name.casefold(), display_name(r).casefold())
    }
    if len(found) == 1:
        return next(iter(found.values()))
    label = ENTITY_LABEL[entity]
    if not found:
        raise ServiceError(
            f"No QuickBooks {label} named {wanted!r} is in the lists read so far. Check the "
            "spelling (`factor-desktop map list` shows the candidates), or refresh the "
            "QuickBooks lists (`factor-desktop map refresh`) to read them again."
        )
    listed = "; ".join(
        describe(r) for r in sorted(found.values(), key=lambda r: (display_name(r), r.qbo_id))
    )
    raise ServiceError(
        f"{len(found)} QuickBooks {ENTITY_PLURAL[entity]} match {wanted!r}: {listed}. "
        "Give the Id instead."
    )


# --- changing mappings ----------------------------------------------------------------------


def set_mapping(
    session: Session,
    kind: str,
    local_id: int,
    qbo_id: str,
    *,
    entity: str | None = None,
    tax_rule: str | None = None,
) -> Mapping:
    """Map a Factor type to a cached QuickBooks record, replacing its earlier mapping.

    `entity`, when given, is the QuickBooks entity the caller picked the record from (a dropped
    record says what it is): one that does not suit the kind is refused by name.

    `tax_rule` ("override" or "accept", tax terms only) says how the term's invoices reconcile
    with QuickBooks when the code's rate differs from the term's. Without it such a mapping is
    refused with `TaxRateMismatch`, naming both rates, unless a rule was already chosen for this
    term and code.
    """
    if tax_rule is not None:
        _check_tax_rule(kind, tax_rule)
    local = _local(session, kind, local_id)
    wanted = QBO_ENTITY_FOR_KIND[kind]
    if entity is not None and entity != wanted:
        shown = ENTITY_LABEL.get(entity, entity)
        raise ServiceError(
            f"{_an(_local_label(kind))} maps to a QuickBooks "
            f"{ENTITY_LABEL[wanted]}, not to {_a(shown)}.",
            field="qbo_id",
        )
    entity = wanted
    record = cached(session, entity, str(qbo_id).strip())
    if record is None:
        raise ServiceError(
            f"QuickBooks {ENTITY_LABEL[entity]} Id {qbo_id} is not in the lists read so far. "
            "Refresh the QuickBooks lists to read it, then map it.",
            field="qbo_id",
        )
    reason = unusable_reason(record, kind)
    if reason is not None:
        raise ServiceError(reason, field="qbo_id")
    if kind in _EXCLUSIVE_KINDS:
        _refuse_shared(session, kind, local_id, record)
    if isinstance(local, TaxTerm):
        kept = _stored_rule(session, local.id, record.qbo_id)
        difference = tax_rate_difference(session, local, record)
        if difference is not None and tax_rule is None and kept is None:
            raise TaxRateMismatch(local, record, *difference)
        if tax_rule is not None:
            _store_rule(session, local.id, record.qbo_id, cast(TaxRule, tax_rule))
        elif kept is None:
            _store_rule(session, local.id, None, None)
    mapping = session.scalar(
        select(Mapping).where(Mapping.kind == kind, Mapping.local_id == local.id)
    )
    if mapping is None:
        mapping = Mapping(kind=kind, local_id=local.id, qbo_id=record.qbo_id)
        session.add(mapping)
    else:
        mapping.qbo_id = record.qbo_id
    session.flush()
    return mapping


def clear_mapping(session: Session, kind: str, local_id: int) -> bool:
    """Forget what a Factor type is mapped to. True when there was a mapping to forget."""
    _check_kind(kind)
    mapping = session.scalar(
        select(Mapping).where(Mapping.kind == kind, Mapping.local_id == local_id)
    )
    if mapping is None:
        _local(session, kind, local_id)
        return False
    session.delete(mapping)
    if kind == MappingKind.TAX_TERM:
        _store_rule(session, local_id, None, None)
    session.flush()
    return True


def mapping_coverage(session: Session) -> dict[str, tuple[int, int]]:
    """For each kind: how many active Factor types are mapped, out of how many."""
    mapped_ids: dict[str, set[int]] = {kind: set() for kind in QBO_ENTITY_FOR_KIND}
    for kind, local_id in session.execute(select(Mapping.kind, Mapping.local_id)):
        mapped_ids.setdefault(kind, set()).add(local_id)
    mapped_ids[MappingKind.EXPENSE_TYPE] |= mapped_ids[MappingKind.EXPENSE_TYPE_ITEM]
    coverage: dict[str, tuple[int, int]] = {}
    for kind in COVERAGE_KINDS:
        model, _label = LOCAL_FOR_KIND[kind]
        active = set(session.scalars(select(model.id).where(model.active.is_(True))))
        coverage[kind] = (len(active & mapped_ids[kind]), len(active))
    return coverage


def local_name(record: LocalType) -> str:
    """How a Factor type is named: a tax term by its code, the others by their name."""
    return record.code if isinstance(record, TaxTerm) else record.name


def describe_local(session: Session, kind: str, local_id: int) -> str:
    """e.g. "the service type 'Design Development'"."""
    model, label = _local_model(kind)
    # A get over a union of models is typed as the declarative base; the row is a `model`.
    found = cast(LocalType | None, session.get(model, local_id))
    return f"the {label} {local_name(found)!r}" if found is not None else f"{label} {local_id}"


def find_local(session: Session, kind: str, name: str) -> LocalType:
    """The Factor type of `kind` named `name` (a tax term: its code), ignoring case."""
    model, label = _local_model(kind)
    wanted = name.strip().casefold()
    records = _all_local(session, model)
    found = [r for r in records if local_name(r).casefold() == wanted]
    if len(found) == 1:
        return found[0]
    if not found:
        known = sorted((local_name(r) for r in records), key=str.casefold)
        listed = ", ".join(repr(k) for k in known) if known else "none yet"
        raise ServiceError(f"There is no {label} {name.strip()!r} (the firm's {label}s: {listed}).")
    listed = ", ".join(repr(local_name(r)) for r in found)
    raise ServiceError(
        f"Several {label}s match {name.strip()!r}: {listed}. Use the exact spelling."
    )


# --- tax rates and rules ---------------------------------------------------------------------


class TaxRateMismatch(ServiceError):
    """A tax term was mapped to a tax code of another rate without saying how to reconcile."""

    def __init__(
        self, term: TaxTerm, record: QboRecord, term_rate: Decimal, code_rate: Decimal | None
    ) -> None:
        self.term_id = term.id
        self.qbo_id = record.qbo_id
        self.term_rate = term_rate
        self.code_rate = code_rate
        if code_rate is None:
            theirs = (
                f"the rate of the QuickBooks {describe(record)} is not known (its tax rates are "
                "not in the lists read so far; refreshing the QuickBooks lists reads them)"
            )
        else:
            theirs = f"the QuickBooks {describe(record)} is {percent_text(code_rate)}"
        super().__init__(
            f"The tax term {term.code} ({term.name}) is {percent_text(term_rate)}, but {theirs}: "
            "its invoices would not total the same in QuickBooks. Choose how to reconcile them: "
            "send Factor's tax amount to QuickBooks (override, recommended), or accept "
            "QuickBooks' figure for this term (accept).",
            field="tax_rule",
            code="tax_rate_mismatch",
        )


def percent_text(value: Decimal | None) -> str:
    """8.25 → "8.25%", 8.50 → "8.5%", None → "rate unknown"."""
    if value is None:
        return "rate unknown"
    text = format(value.normalize() if value != value.to_integral_value() else value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return f"{text}%"


def tax_rate_values(session: Session) -> dict[str, Any]:
    """The cached TaxRates' `RateValue`s by Id."""
    rows = session.scalars(select(QboRecord).where(QboRecord.entity == "TaxRate"))
    return {row.qbo_id: row.data.get("RateValue") for row in rows if isinstance(row.data, dict)}


def tax_code_rate(
    session: Session, record: QboRecord, rates: dict[str, Any] | None = None
) -> Decimal | None:
    """A cached tax code's effective sales rate in percent (the sum of its sales tax rates);
    None when a rate it combines has not been read. `rates` saves reading the TaxRates again
    when many codes are asked about."""
    if record.entity != "TaxCode" or not isinstance(record.data, dict):
        return None
    return effective_sales_rate(
        record.data, rates if rates is not None else tax_rate_values(session)
    )


def automated_sales_tax_on(session: Session) -> bool | None:
    """Whether Automated Sales Tax is on in QuickBooks, by the Preferences last read; None when
    they have not been read."""
    record = session.scalar(select(QboRecord).where(QboRecord.entity == _PREFERENCES))
    if record is None or not isinstance(record.data, dict):
        return None
    return automated_sales_tax(record.data)


def tax_rate_difference(
    session: Session, term: TaxTerm, record: QboRecord, rates: dict[str, Any] | None = None
) -> tuple[Decimal, Decimal | None] | None:
    """(the term's rate, the code's rate) when they differ or the code's is unknown; None when
    they are the same."""
    code_rate = tax_code_rate(session, record, rates)
    if code_rate is not None and code_rate == term.rate_percent:
        return None
    return term.rate_percent, code_rate


def _stored_rules(session: Session) -> dict[str, Any]:
    row = session.get(Setting, _TAX_RULES_KEY)
    return dict(row.value) if row is not None and isinstance(row.value, dict) else {}


def _stored_rule(session: Session, tax_term_id: int, qbo_id: str) -> TaxRule | None:
    """The rule chosen for this term mapped to this tax code, if one was."""
    entry = _stored_rules(session).get(str(tax_term_id))
    if not isinstance(entry, dict) or entry.get("qbo_id") != qbo_id:
        return None
    rule = entry.get("rule")
    return cast(TaxRule, rule) if rule in TAX_RULES else None


def _store_rule(
    session: Session, tax_term_id: int, qbo_id: str | None, rule: TaxRule | None
) -> None:
    """Keep (or, with `rule` None, forget) the rule of a term's mapping."""
    rules = _stored_rules(session)
    key = str(tax_term_id)
    if rule is None:
        if key not in rules:
            return
        del rules[key]
    else:
        rules[key] = {"qbo_id": qbo_id, "rule": rule}
    row = session.get(Setting, _TAX_RULES_KEY)
    if row is None:
        session.add(Setting(key=_TAX_RULES_KEY, value=rules))
    else:
        row.value = rules
    session.flush()


def chosen_tax_rule(session: Session, tax_term_id: int) -> TaxRule | None:
    """The rule the administrator chose for the term's current mapping; None when none was
    chosen (or the term is not mapped)."""
    qbo_id = mapped_qbo_id(session, MappingKind.TAX_TERM, tax_term_id)
    return _stored_rule(session, tax_term_id, qbo_id) if qbo_id is not None else None


def tax_rule(session: Session, tax_term_id: int) -> TaxRule | None:
    """How invoices of a tax term reconcile their tax with QuickBooks.

    "override": send Factor's tax amount with the invoice (`TxnTaxDetail.TotalTax`), so
    QuickBooks' total is Factor's; "accept": let QuickBooks compute the tax and accept its
    figure. The rule chosen for the term's mapping, else the default "override" (which also
    keeps totals equal when the rates agree but QuickBooks rounds otherwise, or Automated Sales
    Tax is on). None when the term is not mapped to a tax code.
    """
    qbo_id = mapped_qbo_id(session, MappingKind.TAX_TERM, tax_term_id)
    if qbo_id is None:
        return None
    return _stored_rule(session, tax_term_id, qbo_id) or DEFAULT_TAX_RULE


def invoice_tax_override(session: Session, tax_term_id: int | None, tax: Decimal) -> Decimal | None:
    """The tax amount to send with an invoice of this tax term (`TxnTaxDetail.TotalTax`, see
    `qbo.mappers.invoice_payload(..., tax_override=...)`): Factor's `tax` when the term's rule is
    "override", None when QuickBooks' figure is accepted or the term is not mapped."""
    if tax_term_id is None:
        return None
    return tax if tax_rule(session, tax_term_id) == "override" else None


def expected_qbo_tax(session: Session, tax_term_id: int, taxable: Decimal) -> Decimal | None:
    """The tax QuickBooks would compute by itself on `taxable` with the term's tax code: each
    of the code's sales rates applied to the taxable amount and rounded to the cent (halves up),
    then added up. None when the term is not mapped or a rate has not been read. With
    Automated Sales Tax on, QuickBooks computes from addresses instead, so this is only a guess."""
    qbo_id = mapped_qbo_id(session, MappingKind.TAX_TERM, tax_term_id)
    record = cached(session, "TaxCode", qbo_id) if qbo_id is not None else None
    if record is None or not isinstance(record.data, dict):
        return None
    values = tax_rate_values(session)
    rate_list = record.data.get("SalesTaxRateList")
    details = rate_list.get("TaxRateDetail") if isinstance(rate_list, dict) else None
    total = Decimal("0.00")
    for detail in details if isinstance(details, list) else []:
        ref = detail.get("TaxRateRef") if isinstance(detail, dict) else None
        rate_id = ref.get("value") if isinstance(ref, dict) else None
        if rate_id in (None, ""):
            continue
        rate = effective_sales_rate({"SalesTaxRateList": {"TaxRateDetail": [detail]}}, values)
        if rate is None:
            return None
        total += (taxable * rate / 100).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    return total


def set_tax_rule(session: Session, tax_term_id: int, rule: str) -> None:
    """Choose how a mapped tax term's invoices reconcile with QuickBooks."""
    _check_tax_rule(MappingKind.TAX_TERM, rule)
    term = cast(TaxTerm, _local(session, MappingKind.TAX_TERM, tax_term_id))
    qbo_id = mapped_qbo_id(session, MappingKind.TAX_TERM, term.id)
    if qbo_id is None:
        raise ServiceError(
            f"The tax term {term.code} is not mapped to a QuickBooks tax code yet; map it first.",
            field="tax_rule",
        )
    _store_rule(session, term.id, qbo_id, cast(TaxRule, rule))


def _check_tax_rule(kind: str, rule: str) -> None:
    if kind != MappingKind.TAX_TERM:
        raise ServiceError("A tax rule applies to tax terms only.", field="tax_rule")
    if rule not in TAX_RULES:
        raise ServiceError(
            f"Unknown tax rule {rule!r}: 'override' (send Factor's tax amount) or 'accept' "
            "(accept QuickBooks' figure).",
            field="tax_rule",
        )


# --- helpers --------------------------------------------------------------------------------


def _a(noun: str) -> str:
    return f"{'an' if noun[:1].lower() in 'aeiou' else 'a'} {noun}"


def _an(noun: str) -> str:
    """`_a` at the start of a sentence."""
    article = _a(noun)
    return article[:1].upper() + article[1:]


def _local_label(kind: str) -> str:
    return LOCAL_FOR_KIND[kind][1]


def _check_kind(kind: str) -> None:
    if kind not in QBO_ENTITY_FOR_KIND:
        kinds = ", ".join(QBO_ENTITY_FOR_KIND)
        raise ServiceError(f"Unknown kind of mapping {kind!r} (one of: {kinds}).", field="kind")


def _local_model(kind: str) -> tuple[type[LocalType], str]:
    _check_kind(kind)
    return LOCAL_FOR_KIND[kind]


def _all_local(session: Session, model: type[LocalType]) -> list[LocalType]:
    # A select over a union of models is typed as the declarative base; the rows are `model`s.
    return cast(list[LocalType], list(session.scalars(select(model))))


def _local(session: Session, kind: str, local_id: int) -> LocalType:
    model, label = _local_model(kind)
    return get_record(session, model, local_id, label)


def _refuse_shared(session: Session, kind: str, local_id: int, record: QboRecord) -> None:
    """One QuickBooks account or item stands for one expense type only."""
    other_id = local_for_qbo(session, kind, record.qbo_id)
    if other_id is None or other_id == local_id:
        return
    other = session.get(ExpenseType, other_id)
    other_name = repr(other.name) if other is not None else f"id {other_id}"
    raise ServiceError(
        f"The QuickBooks {describe(record)} already stands for the expense type {other_name}. "
        "One QuickBooks record can stand for only one expense type, or expenses pulled from "
        "QuickBooks could not be told apart; clear that mapping first.",
        field="qbo_id",
    )


@dataclass(frozen=True)
class MappingLine:
    """One Factor type and what it is mapped to, for listings."""

    kind: str
    local_id: int
    name: str
    active: bool
    qbo_id: str | None
    qbo_name: str | None
    problem: str | None
    # Tax terms: the term's rate, the mapped code's effective rate (None when unknown) and the
    # rule chosen for the mapping (None: none chosen; "override" applies).
    rate: Decimal | None = None
    qbo_rate: Decimal | None = None
    tax_rule: str | None = None


def mapping_lines(session: Session) -> list[MappingLine]:
    """Every service type, expense type (account and item) and tax term with its mapping.

    `problem` says why a mapped record would not go through now (missing from the cache,
    inactive, wrong type), so a listing can show it.
    """
    mappings = {(m.kind, m.local_id): m.qbo_id for m in session.scalars(select(Mapping))}
    cache = {
        (r.entity, r.qbo_id): r
        for r in session.scalars(
            select(QboRecord).where(QboRecord.entity.in_(set(QBO_ENTITY_FOR_KIND.values())))
        )
    }
    rates = tax_rate_values(session)
    lines: list[MappingLine] = []
    for kind in QBO_ENTITY_FOR_KIND:
        model, _label = LOCAL_FOR_KIND[kind]
        records = sorted(_all_local(session, model), key=lambda r: local_name(r).casefold())
        for local in records:
            qbo_id = mappings.get((kind, local.id))
            qbo_name: str | None = None
            problem: str | None = None
            qbo_rate: Decimal | None = None
            if qbo_id is not None:
                record = cache.get((QBO_ENTITY_FOR_KIND[kind], qbo_id))
                if record is None:
                    problem = "not in the QuickBooks lists read so far"
                else:
                    qbo_name = display_name(record)
                    problem = unusable_reason(record, kind)
                    if isinstance(local, TaxTerm):
                        qbo_rate = tax_code_rate(session, record, rates)
            is_term = isinstance(local, TaxTerm)
            lines.append(
                MappingLine(
                    kind,
                    local.id,
                    local_name(local),
                    local.active,
                    qbo_id,
                    qbo_name,
                    problem,
                    rate=local.rate_percent if isinstance(local, TaxTerm) else None,
                    qbo_rate=qbo_rate,
                    tax_rule=(
                        _stored_rule(session, local.id, qbo_id)
                        if is_term and qbo_id is not None
                        else None
                    ),
                )
            )
    return lines
