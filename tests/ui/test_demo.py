"""Demo mode end to end: sandbox, demo firm, real OAuth connection, window, clean stop."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from factor_desktop.cli import build_parser, cmd_demo, cmd_gui
from factor_desktop.demo import DemoStarted
from factor_desktop.services.mappings import find_local, mapped_qbo_id, mapping_coverage
from factor_desktop.store.db import open_store
from factor_desktop.ui.demo_window import DemoController, open_demo_window
from factor_desktop.ui.main_window import MainWindow

pytestmark = [pytest.mark.gui, pytest.mark.integration]

DEMO_COMPANY = "Alder & Finch Architects"


def run_demo_once(qtbot: Any, data_dir: Path, fresh: bool) -> tuple[DemoStarted, MainWindow]:
    window, controller = open_demo_window(data_dir, fresh=fresh)
    qtbot.addWidget(window)
    demo = controller.demo
    results: list[DemoStarted] = []
    window.runner.jobFinished.connect(
        lambda outcome: results.append(outcome.result) if outcome.kind == "demo_start" else None
    )
    window.show()
    try:
        banner = window.connection_tab.activity_banner
        assert banner.title.text() == "Starting the demo…"
        qtbot.waitUntil(lambda: bool(results), timeout=20_000)
        assert isinstance(results[0], DemoStarted), banner.message.text()
        qtbot.waitUntil(
            lambda: window.connection_tab.company_label.text() == DEMO_COMPANY, timeout=10_000
        )
        assert banner.isHidden()
        assert window.connection_tab.state_label.text() == "Connected"
        assert window.windowTitle() == "Factor Desktop — Demo"
        assert window.note_status.text().startswith("Demo")
        assert window.snapshot is not None and window.snapshot.data_file == (
            data_dir / "demo" / "demo.sqlite3"
        )
        qtbot.waitUntil(lambda: window.clients_tab.model.rowCount() > 0)
        assert window.invoices_tab.model.rowCount() > 0
        assert demo.sandbox is not None
    finally:
        window.close()
    assert demo.sandbox is None, "the sandbox stops with the window"
    assert not window.runner.running
    return results[0], window


def test_demo_end_to_end(qtbot: Any, tmp_path: Path) -> None:
    started = time.monotonic()
    first, _ = run_demo_once(qtbot, tmp_path, fresh=True)
    assert first.firm_imported
    assert first.company_name == DEMO_COMPANY
    assert (tmp_path / "demo" / "sandbox.sqlite3").exists()
    # The demo firm's types were mapped to the sandbox company's lists, all but the city tax.
    store = open_store(tmp_path / "demo" / "demo.sqlite3")
    try:
        with store.session() as session:
            coverage = mapping_coverage(session)
            pa_city = find_local(session, "tax_term", "PA-CITY")
            assert mapped_qbo_id(session, "tax_term", pa_city.id) is None
    finally:
        store.close()
    assert coverage["service_type"] == (6, 6)
    assert coverage["expense_type"] == (6, 6)
    assert coverage["tax_term"] == (2, 3)
    # A second start keeps the firm and the sandbox company, and connects again.
    second, _ = run_demo_once(qtbot, tmp_path, fresh=False)
    assert not second.firm_imported
    assert second.realm_id == first.realm_id
    assert time.monotonic() - started < 20


def test_fresh_starts_over(qtbot: Any, tmp_path: Path) -> None:
    leftover = tmp_path / "demo" / "leftover.txt"
    leftover.parent.mkdir(parents=True)
    leftover.write_text("from an earlier demo")
    window, controller = open_demo_window(tmp_path, fresh=True)
    qtbot.addWidget(window)
    try:
        assert not leftover.exists()
        assert isinstance(controller, DemoController)
    finally:
        window.close()
    assert controller.demo.sandbox is None


def test_cli_wires_gui_and_demo() -> None:
    parser = build_parser()
    assert parser.parse_args(["gui"]).handler is cmd_gui
    args = parser.parse_args(["demo", "--fresh"])
    assert args.handler is cmd_demo and args.fresh
