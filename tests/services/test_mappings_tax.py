"""Tax terms mapped to QuickBooks tax codes: rates compared, and the rule that reconciles them."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy.orm import Session

from factor_desktop.services import ServiceError
from factor_desktop.services.mappings import (
    TaxRateMismatch,
    automated_sales_tax_on,
    chosen_tax_rule,
    clear_mapping,
    expected_qbo_tax,
    invoice_tax_override,
    mapped_qbo_id,
    mapping_lines,
    percent_text,
    set_mapping,
    set_tax_rule,
    tax_code_rate,
    tax_rule,
)
from factor_desktop.store.models import QboRecord
from tests.services.firm import Firm


def _record(entity: str, qbo_id: str, name: str, **data: Any) -> QboRecord:
    return QboRecord(
        entity=entity,
        qbo_id=qbo_id,
        name=name,
        active=True,
        data={"Id": qbo_id, "Name": name, "Active": True, **data},
    )


def _code(qbo_id: str, name: str, *rate_ids: str) -> QboRecord:
    details = [{"TaxRateRef": {"value": rate_id}} for rate_id in rate_ids]
    return _record(
        "TaxCode",
        qbo_id,
        name,
        Taxable=bool(rate_ids),
        SalesTaxRateList={"TaxRateDetail": details},
    )


@pytest.fixture(autouse=True)
def cache(session: Session) -> None:
    session.add_all(
        [
            _record("TaxRate", "1", "State", RateValue=6.25),
            _record("TaxRate", "2", "City", RateValue=2),
            _record("TaxRate", "3", "District", RateValue=0.25),
            _record("TaxRate", "4", "Alder County", RateValue=8.5),
            _code("10", "Port Alder", "1", "2"),  # 8.25%, as the firm's CITY term
            _code("11", "Alder County", "4"),  # 8.5%
            _code("12", "Port Alder District", "1", "2", "3"),  # 8.5%
            _code("13", "Unread", "1", "99"),  # a rate not in the cache
            _code("NON", "NON"),
        ]
    )
    session.flush()


def _code_record(session: Session, qbo_id: str) -> QboRecord:
    record = session.query(QboRecord).filter_by(entity="TaxCode", qbo_id=qbo_id).one()
    return record


def test_a_codes_rate_sums_its_sales_rates(session: Session) -> None:
    assert tax_code_rate(session, _code_record(session, "10")) == Decimal("8.25")
    assert tax_code_rate(session, _code_record(session, "12")) == Decimal("8.5")
    assert tax_code_rate(session, _code_record(session, "NON")) == 0
    assert tax_code_rate(session, _code_record(session, "13")) is None
    assert [percent_text(v) for v in (Decimal("8.50"), Decimal("8"), Decimal("0"), None)] == [
        "8.5%",
        "8%",
        "0%",
        "rate unknown",
    ]


def test_a_code_of_the_same_rate_maps_without_a_rule(session: Session, firm: Firm) -> None:
    set_mapping(session, "tax_term", firm.city_tax_id, "10")
    assert mapped_qbo_id(session, "tax_term", firm.city_tax_id) == "10"
    assert chosen_tax_rule(session, firm.city_tax_id) is None
    # Factor's tax is still sent by default: totals agree even where QuickBooks rounds otherwise.
    assert tax_rule(session, firm.city_tax_id) == "override"


def test_a_code_of_another_rate_is_refused_naming_both_rates(session: Session, firm: Firm) -> None:
    with pytest.raises(TaxRateMismatch) as refused:
        set_mapping(session, "tax_term", firm.city_tax_id, "11")
    message = refused.value.message
    assert "The tax term CITY (City sales tax) is 8.25%" in message
    assert "the QuickBooks tax code 'Alder County' (Id 11) is 8.5%" in message
    assert "override, recommended" in message and "(accept)" in message
    assert (refused.value.term_rate, refused.value.code_rate) == (Decimal("8.25"), Decimal("8.5"))
    assert mapped_qbo_id(session, "tax_term", firm.city_tax_id) is None
    assert tax_rule(session, firm.city_tax_id) is None  # not mapped


def test_an_unknown_rate_needs_a_rule_too(session: Session, firm: Firm) -> None:
    with pytest.raises(TaxRateMismatch, match="is not known"):
        set_mapping(session, "tax_term", firm.city_tax_id, "13")


@pytest.mark.parametrize("rule", ["override", "accept"])
def test_the_chosen_rule_is_kept_with_the_mapping(session: Session, firm: Firm, rule: str) -> None:
    set_mapping(session, "tax_term", firm.city_tax_id, "11", tax_rule=rule)
    assert mapped_qbo_id(session, "tax_term", firm.city_tax_id) == "11"
    assert chosen_tax_rule(session, firm.city_tax_id) == rule
    assert tax_rule(session, firm.city_tax_id) == rule
    # Mapping to the same code again keeps the choice; no need to say it twice.
    set_mapping(session, "tax_term", firm.city_tax_id, "11")
    assert tax_rule(session, firm.city_tax_id) == rule
    (line,) = [line for line in mapping_lines(session) if line.kind == "tax_term"]
    assert (line.rate, line.qbo_rate, line.tax_rule) == (Decimal("8.25"), Decimal("8.5"), rule)


def test_another_code_asks_again_and_clearing_forgets_the_rule(
    session: Session, firm: Firm
) -> None:
    set_mapping(session, "tax_term", firm.city_tax_id, "11", tax_rule="accept")
    # Another code of another rate: the choice was made for Alder County, not for it.
    with pytest.raises(TaxRateMismatch):
        set_mapping(session, "tax_term", firm.city_tax_id, "12")
    assert tax_rule(session, firm.city_tax_id) == "accept"  # unchanged by the refusal
    # A code of the term's rate: the old choice no longer applies.
    set_mapping(session, "tax_term", firm.city_tax_id, "10")
    assert chosen_tax_rule(session, firm.city_tax_id) is None
    set_mapping(session, "tax_term", firm.city_tax_id, "11", tax_rule="accept")
    assert clear_mapping(session, "tax_term", firm.city_tax_id)
    assert tax_rule(session, firm.city_tax_id) is None
    # Mapped again later: the old choice is gone, so it is asked for again.
    with pytest.raises(TaxRateMismatch):
        set_mapping(session, "tax_term", firm.city_tax_id, "11")


def test_the_rule_can_be_changed_on_a_mapped_term(session: Session, firm: Firm) -> None:
    with pytest.raises(ServiceError, match="not mapped to a QuickBooks tax code yet"):
        set_tax_rule(session, firm.city_tax_id, "accept")
    set_mapping(session, "tax_term", firm.city_tax_id, "11", tax_rule="override")
    set_tax_rule(session, firm.city_tax_id, "accept")
    assert tax_rule(session, firm.city_tax_id) == "accept"


def test_bad_rules_are_refused(session: Session, firm: Firm) -> None:
    with pytest.raises(ServiceError, match="Unknown tax rule 'ignore'"):
        set_mapping(session, "tax_term", firm.city_tax_id, "11", tax_rule="ignore")
    with pytest.raises(ServiceError, match="tax terms only"):
        set_mapping(session, "service_type", firm.design_id, "11", tax_rule="override")


def test_automated_sales_tax_comes_from_the_cached_preferences(session: Session) -> None:
    assert automated_sales_tax_on(session) is None
    preferences = _record("Preferences", "1", "Preferences", TaxPrefs={"PartnerTaxEnabled": True})
    session.add(preferences)
    session.flush()
    assert automated_sales_tax_on(session) is True


def test_the_tax_to_send_follows_the_terms_rule(session: Session, firm: Firm) -> None:
    tax = Decimal("291.18")
    assert invoice_tax_override(session, None, tax) is None
    assert invoice_tax_override(session, firm.city_tax_id, tax) is None  # not mapped
    set_mapping(session, "tax_term", firm.city_tax_id, "10")  # same rate
    assert invoice_tax_override(session, firm.city_tax_id, tax) == tax
    set_mapping(session, "tax_term", firm.city_tax_id, "11", tax_rule="accept")
    assert invoice_tax_override(session, firm.city_tax_id, tax) is None
    set_tax_rule(session, firm.city_tax_id, "override")
    assert invoice_tax_override(session, firm.city_tax_id, tax) == tax


def test_the_tax_quickbooks_would_compute_alone(session: Session, firm: Firm) -> None:
    assert expected_qbo_tax(session, firm.city_tax_id, Decimal("100.00")) is None  # not mapped
    set_mapping(session, "tax_term", firm.city_tax_id, "12", tax_rule="override")
    # Each rate rounded on its own: 6.25% of 3529.41 = 220.588..., 2% = 70.588..., 0.25% =
    # 8.823...: 220.59 + 70.59 + 8.82.
    assert expected_qbo_tax(session, firm.city_tax_id, Decimal("3529.41")) == Decimal("300.00")
    set_mapping(session, "tax_term", firm.city_tax_id, "11", tax_rule="accept")
    assert expected_qbo_tax(session, firm.city_tax_id, Decimal("1.00")) == Decimal("0.09")
    set_mapping(session, "tax_term", firm.city_tax_id, "13", tax_rule="accept")
    assert expected_qbo_tax(session, firm.city_tax_id, Decimal("1.00")) is None  # rate not read
