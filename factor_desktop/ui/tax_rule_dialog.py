"""Mapping a tax term onto a tax code of another rate: the administrator says how to reconcile.

When a QuickBooks tax code is dropped on a tax term whose rate differs from the code's (or the
code's rate is not known), the Mappings tab asks, before anything is saved:

(a) send Factor's tax amount to QuickBooks (override; recommended, preselected), so QuickBooks'
    invoice totals equal Factor's; or
(b) accept QuickBooks' figure for this term (accept): QuickBooks computes the tax at its rate.

The dialog only asks; the tab sends the choice with the mapping request to the worker.
"""

from __future__ import annotations

from decimal import Decimal

from PySide6.QtWidgets import (
    QButtonGroup,
    QDialog,
    QDialogButtonBox,
    QLabel,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from factor_desktop.ui.formatting import percent_text
from factor_desktop.ui.widgets import muted_label

__all__ = ["TaxRuleDialog", "rates_differ"]


def rates_differ(term_rate: Decimal, code_rate: Decimal | None) -> bool:
    """Whether mapping needs a rule: the rates differ, or the code's is not known."""
    return code_rate is None or code_rate != term_rate


class TaxRuleDialog(QDialog):
    """Asks how invoices of a tax term reconcile with a tax code of another rate."""

    def __init__(
        self,
        term_label: str,
        term_rate: Decimal,
        code_name: str,
        code_rate: Decimal | None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("The tax rates differ")
        self.setModal(True)
        theirs = percent_text(code_rate, none="a rate not known yet")
        ours = percent_text(term_rate, none="0%")
        self.question = QLabel(
            f"The tax term {term_label} is {ours}; the QuickBooks tax code {code_name!r} is "
            f"{theirs}. Its invoices would not total the same in QuickBooks. How should they "
            "reconcile?"
        )
        self.question.setWordWrap(True)
        self.override_button = QRadioButton("Send Factor's tax amount to QuickBooks (recommended)")
        self.accept_button = QRadioButton("Accept QuickBooks' figure for this term")
        self.override_button.setChecked(True)
        self.choices = QButtonGroup(self)
        self.choices.addButton(self.override_button)
        self.choices.addButton(self.accept_button)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        ok = buttons.button(QDialogButtonBox.StandardButton.Ok)
        ok.setText("Map")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.question)
        layout.addWidget(self.override_button)
        layout.addWidget(
            muted_label(
                f"QuickBooks keeps the tax Factor computed at {ours}, so both totals agree."
            )
        )
        layout.addWidget(self.accept_button)
        layout.addWidget(
            muted_label(
                f"QuickBooks computes the tax at {theirs}; its invoice totals differ from "
                "Factor's, and that difference is expected for this term."
            )
        )
        layout.addWidget(buttons)

    def rule(self) -> str:
        """The choice: "override" or "accept"."""
        return "accept" if self.accept_button.isChecked() else "override"
