"""The guard against PySide6 6.12.0 losing references to None on Python 3.11."""

from __future__ import annotations

import sys
from typing import Any

import pytest
from PySide6.QtWidgets import QLabel

from factor_desktop.ui.qtfix import NONE_RESERVE, drops_none_references, protect_none

pytestmark = pytest.mark.gui


def test_none_survives_many_qt_calls(qapp: Any) -> None:
    protected = protect_none()
    if drops_none_references():
        # The bug is present: the guard is on, and None keeps its reserve.
        assert protected
        assert sys.getrefcount(None) > NONE_RESERVE // 2
    label = QLabel()
    for _ in range(200_000):  # more than None's own count on an unguarded Python 3.11
        label.setText("x")
    assert label.text() == "x"
