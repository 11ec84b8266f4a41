"""A tax code's rate, and how a tax term's invoices reconcile with QuickBooks.

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
which rule applies to a term's invoices. An `accept` keeps the code's rate it was chosen at
(`accepted_code_rate`): if QuickBooks changes that rate, the figure is no longer the one accepted.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Literal, cast, get_args

from sqlalchemy import select
from sqlalchemy.orm import Session

from factor_desktop.domain.kinds import MappingKind
from factor_desktop.qbo.mappers import automated_sales_tax, effective_sales_rate
from factor_desktop.services.errors import ServiceError
from factor_desktop.services.mapping_records import _local, cached, describe, mapped_qbo_id
from factor_desktop.store.models import QboRecord, Setting, TaxTerm

#: How a tax term's invoices reconcile with QuickBooks when its tax code's rate differs.
TaxRule = Literal["override", "accept"]
TAX_RULES: tuple[TaxRule, ...] = get_args(TaxRule)
#: The default and recommended rule: send Factor's tax amount.
DEFAULT_TAX_RULE: TaxRule = "override"
# The settings row that keeps the rules, and the cache rows the rates come from.
_TAX_RULES_KEY = "tax_rules"
_PREFERENCES = "Preferences"


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
        # The code's rate goes with the rule: QuickBooks' figure is accepted at that rate only.
        record = cached(session, "TaxCode", qbo_id) if qbo_id is not None else None
        rate = tax_code_rate(session, record) if record is not None else None
        rules[key] = {"qbo_id": qbo_id, "rule": rule}
        if rate is not None:
            rules[key]["code_rate"] = str(rate)
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


def accepted_code_rate(session: Session, tax_term_id: int) -> Decimal | None:
    """The tax code's rate when QuickBooks' figure was accepted for the term's current mapping;
    None when its rule is not "accept" or the rate was not known then. A code whose rate has
    changed since gives figures nobody accepted."""
    qbo_id = mapped_qbo_id(session, MappingKind.TAX_TERM, tax_term_id)
    entry = _stored_rules(session).get(str(tax_term_id))
    if qbo_id is None or not isinstance(entry, dict) or entry.get("qbo_id") != qbo_id:
        return None
    if entry.get("rule") != "accept" or entry.get("code_rate") is None:
        return None
    try:
        return Decimal(str(entry["code_rate"]))
    except ArithmeticError:
        return None


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
