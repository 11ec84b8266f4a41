"""The QBO entities the sandbox serves, and the rules each one follows."""

from __future__ import annotations

from .attachable import AttachableRule
from .base import EntityRule
from .expenses import BillRule, PurchaseRule
from .lists import (
    AccountRule,
    CompanyInfoRule,
    ItemRule,
    PreferencesRule,
    TaxCodeRule,
    TaxRateRule,
    TermRule,
)
from .names import CustomerRule, EmployeeRule, VendorRule
from .payments import PaymentRule
from .sales import InvoiceRule

RULES: tuple[EntityRule, ...] = (
    CustomerRule(),
    VendorRule(),
    EmployeeRule(),
    ItemRule(),
    AccountRule(),
    TaxCodeRule(),
    TaxRateRule(),
    TermRule(),
    InvoiceRule(),
    PaymentRule(),
    PurchaseRule(),
    BillRule(),
    AttachableRule(),
    CompanyInfoRule(),
    PreferencesRule(),
)
BY_NAME: dict[str, EntityRule] = {rule.name: rule for rule in RULES}
BY_RESOURCE: dict[str, EntityRule] = {rule.resource: rule for rule in RULES}
BY_LOWER_NAME: dict[str, EntityRule] = {rule.name.lower(): rule for rule in RULES}

__all__ = ["BY_LOWER_NAME", "BY_NAME", "BY_RESOURCE", "RULES", "EntityRule"]
