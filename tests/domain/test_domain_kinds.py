"""The mapping kinds: members that are the strings the store keeps."""

from __future__ import annotations

import json

from factor_desktop.domain.kinds import MappingKind
from factor_desktop.store.models import MAPPING_KINDS


def test_the_store_keeps_the_members_values_in_order() -> None:
    assert MAPPING_KINDS == ("service_type", "expense_type", "expense_type_item", "tax_term")
    assert all(type(kind) is str for kind in MAPPING_KINDS)
    assert [MappingKind(kind) for kind in MAPPING_KINDS] == list(MappingKind)


def test_a_member_and_its_string_are_interchangeable() -> None:
    by_member: dict[str, str] = {MappingKind.EXPENSE_TYPE_ITEM: "Item"}
    assert by_member["expense_type_item"] == "Item"
    assert {"tax_term": 1}[MappingKind.TAX_TERM] == 1
    assert f"{MappingKind.SERVICE_TYPE}" == "service_type"
    assert json.dumps({MappingKind.EXPENSE_TYPE: MappingKind.TAX_TERM}) == (
        '{"expense_type": "tax_term"}'
    )
