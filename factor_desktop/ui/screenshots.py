"""Screenshots of every tab on the demo firm, for the README.

    python -m factor_desktop.ui.screenshots OUTDIR [--data-dir DIR]

Runs the real demo (a local QuickBooks sandbox, the demo firm, the OAuth connection) offscreen in
a temporary data folder unless `--data-dir` is given, and waits until it is connected. Then it
works the window the way an administrator would: a first sync reads QuickBooks's lists, the
service types, expense types and tax terms whose names match a QuickBooks record are mapped
through the window's own requests (one drop is refused, to show why), a preview is taken
(`OUTDIR/sync-preview.png`, the dialog), and a second sync sends what it can. Finally it saves
`OUTDIR/<tab>.png` for each tab (the Invoices tab with an invoice held back selected, its
reason and fix shown; the Projects tab's budgets against actuals; the Expenses tab with a PDF
receipt in its pane), and the
receipt viewer on a PDF receipt and on an image receipt (`receipt-pdf.png`,
`receipt-image.png`), and the mapping chooser on a service type (`mapping-chooser.png`).
Before the first sync it also saves the first-run guide
(`first-run.png`), the link chooser (`link-dialog.png`) and the suggested mappings
(`mapping-suggestions.png`: on the demo, the types it leaves unmapped and why). Secrets are
kept in memory for the run and never drawn: the connect dialog is not opened.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

# Before Qt is imported: render without a display.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QApplication

START_TIMEOUT = 60.0
SYNC_TIMEOUT = 120.0


def _wait(app: QApplication, condition: object, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        app.processEvents()
        if condition():  # type: ignore[operator]
            return True
        time.sleep(0.01)
    return False


def _settle(app: QApplication, seconds: float = 0.3) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        app.processEvents()
        time.sleep(0.01)


def _idle(window: Any) -> bool:
    return window.sync.job is None and not window.runner.pending()


def _sync(app: QApplication, window: Any, preview: bool = False) -> None:
    job = window.sync.start_preview() if preview else window.sync.start_sync()
    if job is None:
        raise SystemExit(f"The sync could not start: {window.sync.blocked_reason()}")
    if not _wait(app, lambda: _idle(window), SYNC_TIMEOUT):
        raise SystemExit(f"The sync did not finish within {SYNC_TIMEOUT:g} s")


def _refused_drop(app: QApplication, window: Any) -> None:
    """Drop an account already standing for one expense type onto another, as an administrator
    might: the Mappings tab then shows why it was refused. (The demo maps the rest itself.)"""
    snapshot = window.snapshot
    accounts = {c.name.casefold(): c for c in snapshot.candidates.expense_accounts}
    travel = accounts.get("travel")
    mileage = next((r for r in snapshot.expense_types if r.name == "Mileage"), None)
    if travel is not None and mileage is not None:
        window.mappings.request_mapping("expense_type", mileage.id, travel.qbo_id, travel.entity)
    _wait(app, lambda: _idle(window), START_TIMEOUT)


def _receipt_expenses(window: Any) -> tuple[Any, Any]:
    """The demo expenses whose first receipt is a downloaded PDF (one with the most pages'
    worth: the sub-consultant's invoice), and a downloaded image."""
    snapshot = window.snapshot
    found: dict[str, Any] = {}
    for row in snapshot.expenses if snapshot is not None else ():
        files = [r for r in row.receipt_files if r.path is not None]
        if files and files[0].kind not in found:
            found[files[0].kind] = row
    if "pdf" not in found or "image" not in found:
        raise SystemExit("The demo sync brought no PDF or no image receipt")
    return found["pdf"], found["image"]


def _show_receipt(app: QApplication, window: Any, expense: Any) -> None:
    """Select the expense on the Expenses tab and wait until its receipt is drawn."""
    tab = window.expenses_tab
    tab.select_expense(expense.id)
    if not _wait(app, lambda: tab.receipt_pane.page is not None, START_TIMEOUT):
        raise SystemExit(f"The receipt of expense {expense.id} was not drawn")


def _select_blocked_invoice(window: Any) -> None:
    """Select an invoice QuickBooks does not have yet, so its reason and fix are shown."""
    tab = window.invoices_tab
    blocked = next((r for r in tab.model.rows() if r.fix is not None), None)
    if blocked is None:
        raise SystemExit("The demo sync left no invoice held back to show")
    tab.select_invoice(blocked.id)


def _show_projects(app: QApplication, window: Any) -> None:
    """Wait until the Projects tab has read the budgets (on the worker)."""
    view = window.projects_tab

    def read() -> bool:
        return view.job is None and view.model.rowCount() > 0

    if not _wait(app, read, START_TIMEOUT):
        raise SystemExit("The Projects tab read no project budgets")


def _receipt_dialog(app: QApplication, window: Any, expense: Any, path: Path) -> Path:
    """The larger receipt viewer on `expense`, saved to `path`."""
    _show_receipt(app, window, expense)
    dialog = window.expenses_tab.open_receipt_dialog()
    if dialog is None:
        raise SystemExit(f"The receipt viewer did not open for expense {expense.id}")
    try:
        dialog.resize(900, 820)
        if not _wait(app, lambda: dialog.viewer.page is not None, START_TIMEOUT):
            raise SystemExit(f"The receipt viewer drew nothing for expense {expense.id}")
        _settle(app)
        return _save(dialog, path)
    finally:
        dialog.reject()
        _settle(app, 0.1)


def _first_run_and_link_dialog(app: QApplication, window: Any, out_dir: Path) -> list[Path]:
    """Before the first sync: the first-run guide beside the Connection tab
    (`first-run.png`), and the link chooser on a client not linked yet, searched by the first
    word of its name (`link-dialog.png`). The guide is put away for the other pictures."""
    saved: list[Path] = []
    guide = window.first_run
    window.refresh()
    _wait(app, lambda: _idle(window), START_TIMEOUT)
    window.tabs.setCurrentIndex(window.TAB_CONNECTION)
    guide.show_guide()
    _settle(app)
    saved.append(_save(window, out_dir / "first-run.png"))
    guide.hide()
    window.tabs.setCurrentIndex(window.TAB_CLIENTS)
    links = window.clients_tab.links
    snapshot = window.snapshot
    client = next((c for c in snapshot.clients if c.qbo_id is None), None) if snapshot else None
    if client is None or not links.select("client", client.id):
        raise SystemExit("The demo has no client left to link")
    dialog = links.open_link_dialog()
    if dialog is None:
        raise SystemExit("The link chooser did not open")
    try:
        dialog.search.setText(client.name.split()[0])
        dialog.resize(720, 460)
        _settle(app)
        saved.append(_save(dialog, out_dir / "link-dialog.png"))
    finally:
        dialog.reject()
        _settle(app, 0.1)
    return saved


def _mapping_suggestions(app: QApplication, window: Any, path: Path) -> Path:
    """The suggested mappings dialog as Sync > Suggested Mappings… opens it, saved to `path`."""
    from factor_desktop.ui.mapping_suggestions import MappingSuggestions

    suggestions = MappingSuggestions(window.runner, window)
    suggestions.show_suggestions()
    if not _wait(app, lambda: suggestions.dialog is not None, START_TIMEOUT):
        raise SystemExit("The suggested mappings did not open")
    dialog = suggestions.dialog
    assert dialog is not None
    try:
        _settle(app)
        return _save(dialog, path)
    finally:
        dialog.reject()
        _settle(app, 0.1)
        suggestions.deleteLater()


def _mapping_chooser(app: QApplication, window: Any, path: Path) -> Path:
    """The chooser that Enter opens on the first service type of the Mappings tab, searched by
    the first word of its name, saved to `path`."""
    window.tabs.setCurrentIndex(window.TAB_MAPPINGS)
    tab = window.mappings_tab
    section = tab.service_section
    index = section.view.model().index(0, 0)
    chooser = tab.open_chooser(section, index)
    if chooser is None:
        raise SystemExit("The mapping chooser did not open")
    try:
        chooser.search.setText(str(index.data()).split()[0])
        _settle(app)
        return _save(chooser, path)
    finally:
        chooser.reject()
        _settle(app, 0.1)


def _save(widget: Any, path: Path) -> Path:
    if not widget.grab().save(str(path)):
        raise SystemExit(f"Could not write {path}")
    return path


def take_screenshots(out_dir: Path, data_dir: Path) -> list[Path]:
    from factor_desktop.ui.application import make_application
    from factor_desktop.ui.jobs import install_session_keyring
    from factor_desktop.ui.qt import pumped_event_loop

    app = make_application()
    install_session_keyring()
    with pumped_event_loop(app):
        return _take_screenshots(app, out_dir, data_dir)


def _take_screenshots(app: QApplication, out_dir: Path, data_dir: Path) -> list[Path]:
    from factor_desktop.ui.demo_window import open_demo_window

    # The window's remembered sizes, column widths and closed guide are the user's: the
    # pictures start from none of them.
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(data_dir / "ui"))
    window, controller = open_demo_window(data_dir, fresh=True)
    saved: list[Path] = []
    try:
        window.show()
        # The window's usual size, whatever the stand-in screen's (Qt's offscreen one is
        # 800x600, which the window would otherwise shrink to).
        window.resize(1280, 800)

        def connected() -> bool:
            snapshot = window.snapshot
            return (
                controller.job is None
                and snapshot is not None
                and snapshot.connection.state == "connected"
                and not window.runner.pending()
            )

        if not _wait(app, connected, START_TIMEOUT):
            banner = window.connection_tab.activity_banner
            raise SystemExit(
                f"The demo did not connect within {START_TIMEOUT:g} s: "
                f"{banner.title.text()} {banner.message.text()}".strip()
            )
        out_dir.mkdir(parents=True, exist_ok=True)
        saved.extend(_first_run_and_link_dialog(app, window, out_dir))
        saved.append(_mapping_suggestions(app, window, out_dir / "mapping-suggestions.png"))
        _refused_drop(app, window)
        _sync(app, window, preview=True)
        dialog = window.sync.preview_dialog
        if dialog is None:
            raise SystemExit("The sync preview did not open")
        _settle(app)
        saved.append(_save(dialog, out_dir / "sync-preview.png"))
        dialog.reject()
        _sync(app, window)
        _settle(app)
        window.statusBar().clearMessage()
        pdf, image = _receipt_expenses(window)
        for index, name in enumerate(window.TAB_NAMES):
            window.tabs.setCurrentIndex(index)
            if index == window.TAB_EXPENSES:
                _show_receipt(app, window, pdf)
            elif index == window.TAB_INVOICES:
                _select_blocked_invoice(window)
            elif index == window.TAB_PROJECTS:
                _show_projects(app, window)
            _settle(app)
            saved.append(_save(window, out_dir / f"{name}.png"))
        window.tabs.setCurrentIndex(window.TAB_EXPENSES)
        for expense, name in ((pdf, "receipt-pdf.png"), (image, "receipt-image.png")):
            saved.append(_receipt_dialog(app, window, expense, out_dir / name))
        saved.append(_mapping_chooser(app, window, out_dir / "mapping-chooser.png"))
    finally:
        window.close()
    return saved


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m factor_desktop.ui.screenshots",
        description="Save a screenshot of each tab of the demo firm.",
    )
    parser.add_argument("out_dir", type=Path, metavar="OUTDIR")
    parser.add_argument(
        "--data-dir", type=Path, default=None, help="run the demo here (default: a temp folder)"
    )
    args = parser.parse_args(argv)
    if args.data_dir is not None:
        paths = take_screenshots(args.out_dir, args.data_dir)
    else:
        with tempfile.TemporaryDirectory(prefix="factor-desktop-screens-") as tmp:
            paths = take_screenshots(args.out_dir, Path(tmp))
    for path in paths:
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
