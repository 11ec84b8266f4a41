"""A preview's plan read in a terminal: money as money, the reason last, no internal keys."""

from __future__ import annotations

from typing import Any

from factor_desktop.cli.sync import planned_table


def test_planned_changes_show_money_as_money_and_the_reason_last() -> None:
    planned: list[dict[str, Any]] = [
        {
            "action": "created",
            "direction": "push",
            "entity": "invoice",
            "label": "INV-0038",
            "level": "info",
            "local_id": 38,
            "reason": "a reason",
            "total": "29990.3",
            "qbo_total": "29990.83",
        },
        {"action": "blocked", "direction": "push", "entity": "client", "label": "O'Brien"},
    ]
    header, rule, first, second = planned_table(planned)
    assert header.split() == [
        "Action",
        "Direction",
        "Entity",
        "Label",
        "Total",
        "QuickBooks",
        "total",
        "Reason",
    ]
    assert set(rule) == {"-", " "}
    assert "$29,990.30" in first and "$29,990.83" in first and first.endswith("a reason")
    assert "38" not in first.replace("INV-0038", "")  # the local id is not shown
    assert second.split() == ["blocked", "push", "client", "O'Brien"]
