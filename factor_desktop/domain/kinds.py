"""The kinds of mapping: which Factor type stands for which kind of QuickBooks record."""

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
