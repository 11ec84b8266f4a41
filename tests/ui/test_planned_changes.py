"""The preview dialog's Details column says what the other columns and the colour do not."""

from __future__ import annotations

from typing import Any

from factor_desktop.ui.sync_dialog import PlannedChangesModel


def _details(row: dict[str, Any]) -> str:
    model = PlannedChangesModel()
    model.set_rows([row])
    return model.display(row, PlannedChangesModel.COL_DETAILS)


def test_details_leave_out_the_level_and_a_full_name_equal_to_the_record(qtbot: Any) -> None:
    row = {
        "direction": "push",
        "entity": "client",
        "label": "Café Lumière Hospitality",
        "action": "created",
        "level": "info",
        "full_name": "Café Lumière Hospitality",
    }
    assert _details(row) == ""
    moved = {**row, "full_name": "City of Port Alder - Parks Department"}
    assert _details(moved) == "full name: City of Port Alder - Parks Department"


def test_details_show_totals_as_money_beside_the_reason(qtbot: Any) -> None:
    row = {
        "direction": "push",
        "entity": "invoice",
        "label": "INV-0038",
        "action": "blocked",
        "level": "warning",
        "reason": "Its QuickBooks total would differ.",
        "total": "29990.3",
        "qbo_total": "29990.83",
        "qbo_id": "130",
    }
    assert _details(row) == (
        "Its QuickBooks total would differ. · total: $29,990.30 · "
        "QuickBooks total: $29,990.83 · QuickBooks Id: 130"
    )
