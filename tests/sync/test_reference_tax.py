"""Tax rates and the company's Preferences in the QuickBooks reference cache."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import select

from factor_desktop.qbo.mappers import automated_sales_tax, effective_sales_rate
from factor_desktop.store.models import QboRecord
from factor_desktop.sync.reference import PREFERENCES, SLOW_LISTS_EVERY, refresh_reference

from .pull_fixtures import PullRig
from .pull_fixtures import bare_rig_fixture as bare_rig_fixture
from .pull_fixtures import demo_firm_db_fixture as demo_firm_db_fixture


def _code(*rate_ids: str) -> dict[str, Any]:
    return {
        "Name": "Combined",
        "SalesTaxRateList": {
            "TaxRateDetail": [{"TaxRateRef": {"value": rate_id}} for rate_id in rate_ids]
        },
    }


def test_a_codes_rate_is_the_sum_of_its_sales_rates() -> None:
    rates = {"1": 6.25, "2": "1.5", "3": 0.5}
    assert effective_sales_rate(_code("1", "2", "3"), rates) == Decimal("8.25")
    assert effective_sales_rate(_code("2"), rates) == Decimal("1.5")
    assert str(effective_sales_rate(_code("1", "2", "3", "3"), {**rates, "3": 1.125})) == "10"


def test_a_code_without_sales_rates_is_zero_and_an_unknown_rate_makes_it_unknown() -> None:
    assert effective_sales_rate({"Name": "NON", "Taxable": False}, {}) == 0
    assert effective_sales_rate({"SalesTaxRateList": {"TaxRateDetail": []}}, {}) == 0
    assert effective_sales_rate(_code("1", "9"), {"1": 8.5}) is None
    assert effective_sales_rate(_code("1"), {"1": None}) is None


def test_automated_sales_tax_is_read_from_the_tax_preferences() -> None:
    assert automated_sales_tax({"TaxPrefs": {"PartnerTaxEnabled": True}}) is True
    assert automated_sales_tax({"TaxPrefs": {"PartnerTaxEnabled": "false"}}) is False
    assert automated_sales_tax({"TaxPrefs": {"UsingSalesTax": True}}) is None
    assert automated_sales_tax({}) is None


def _cached(rig: PullRig, entity: str) -> dict[str, QboRecord]:
    with rig.store.session() as session:
        rows = list(session.scalars(select(QboRecord).where(QboRecord.entity == entity)))
        session.expunge_all()
    return {row.name: row for row in rows}


def test_the_refresh_caches_tax_rates_and_the_preferences(bare_rig: PullRig) -> None:
    bare_rig.sync_pass([refresh_reference])

    rates = _cached(bare_rig, "TaxRate")
    assert set(rates) == {"Alder County"}
    assert rates["Alder County"].data["RateValue"] == 8.5
    codes = _cached(bare_rig, "TaxCode")
    values = {row.qbo_id: row.data.get("RateValue") for row in rates.values()}
    assert effective_sales_rate(codes["Alder County"].data, values) == Decimal("8.5")
    assert effective_sales_rate(codes["NON"].data, values) == 0
    (preferences,) = _cached(bare_rig, PREFERENCES).values()
    assert automated_sales_tax(preferences.data) is False

    # Automated Sales Tax switched on in QuickBooks: the pass that reads the slow lists sees it.
    bare_rig.sandbox.update_preferences({"TaxPrefs": {"PartnerTaxEnabled": True}})
    bare_rig.sandbox.advance_clock(SLOW_LISTS_EVERY.total_seconds())
    ctx = bare_rig.sync_pass([refresh_reference])
    (preferences,) = _cached(bare_rig, PREFERENCES).values()
    assert automated_sales_tax(preferences.data) is True
    assert ctx.counts["reference_refreshed"] == 1  # the Preferences, nothing else

    again = bare_rig.sync_pass([refresh_reference])
    assert again.counts["reference_refreshed"] == 0
