"""The kinds of mapping: which Factor type stands for which kind of QuickBooks record, and the
words the app uses for them (plain data, which the window shows before it opens the store)."""

from __future__ import annotations

from enum import StrEnum


class MappingKind(StrEnum):
    """A kind of mapping. The values are what the store saves (`mappings.kind`); a member equals
    its value, so code that still spells a kind as a string compares and looks up alike.

    SERVICE_TYPE maps a service type to a product/service (Item), EXPENSE_TYPE an expense type to
    an account, EXPENSE_TYPE_ITEM an expense type to the product/service QuickBooks books it by
    (optional), TAX_TERM a tax term to a tax code.
    """

    SERVICE_TYPE = "service_type"
    EXPENSE_TYPE = "expense_type"
    EXPENSE_TYPE_ITEM = "expense_type_item"
    TAX_TERM = "tax_term"


# The QuickBooks entity each kind maps to.
QBO_ENTITY_FOR_KIND: dict[str, str] = {
    MappingKind.SERVICE_TYPE: "Item",
    MappingKind.EXPENSE_TYPE: "Account",
    MappingKind.EXPENSE_TYPE_ITEM: "Item",
    MappingKind.TAX_TERM: "TaxCode",
}

# How an administrator calls the Factor records each kind maps.
LOCAL_LABEL: dict[str, str] = {
    MappingKind.SERVICE_TYPE: "service type",
    MappingKind.EXPENSE_TYPE: "expense type",
    MappingKind.EXPENSE_TYPE_ITEM: "expense type",
    MappingKind.TAX_TERM: "tax term",
}

# What a QuickBooks record of each entity is called in a message.
ENTITY_LABEL = {"Item": "product/service", "Account": "account", "TaxCode": "tax code"}
ENTITY_PLURAL = {"Item": "products/services", "Account": "accounts", "TaxCode": "tax codes"}

# What each tax rule of a tax term's mapping does, in words.
TAX_RULE_TEXT: dict[str, str] = {
    "override": "Factor's tax amount is sent to QuickBooks",
    "accept": "QuickBooks' tax figure is accepted",
}
