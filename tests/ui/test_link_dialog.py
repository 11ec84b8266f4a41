"""Linking clients and projects from the Clients & Projects tab: the searchable chooser, the
keyboard (Enter, Delete, Ctrl+Z), drag and drop, "create in QuickBooks", suggested links; every
change saved by the worker and undone through it."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from PySide6.QtCore import QModelIndex, QPointF, Qt
from PySide6.QtGui import QDragEnterEvent, QDragMoveEvent, QDropEvent
from PySide6.QtTest import QAbstractItemModelTester
from PySide6.QtWidgets import QApplication, QTreeView
from sqlalchemy import select

from factor_desktop.app import AppContext
from factor_desktop.services.links import create_requested
from factor_desktop.store.models import Client, Project, QboRecord
from factor_desktop.ui.client_links import ClientLinks
from factor_desktop.ui.jobs import JobOutcome
from factor_desktop.ui.link_dialog import (
    CustomerModel,
    LinkDialog,
    SuggestedLinksDialog,
    customers_mime,
)
from factor_desktop.ui.link_jobs import SetLinksJob
from factor_desktop.ui.main_window import MainWindow
from factor_desktop.ui.models.qbo_records import qbo_records_mime
from factor_desktop.views import QboCandidate, load_snapshot

from .conftest import Firm, wait_for_snapshot

pytestmark = pytest.mark.gui

MakeWindow = Callable[..., MainWindow]


def _customer(
    qbo_id: str,
    name: str,
    *,
    parent: str | None = None,
    parent_name: str | None = None,
    balance: str = "0",
    active: bool = True,
) -> QboRecord:
    full = f"{parent_name}:{name}" if parent_name else name
    return QboRecord(
        entity="Customer",
        qbo_id=qbo_id,
        name=name,
        fully_qualified_name=full,
        parent_qbo_id=parent,
        active=active,
        sync_token="0",
        data={"Id": qbo_id, "DisplayName": name, "FullyQualifiedName": full, "Balance": balance},
    )


@pytest.fixture
def customers(ctx: AppContext, firm: Firm) -> None:
    """QuickBooks customers beside the firm: Harbor Point (58, linked) and its tower (59,
    linked), Willow Creek and its gymnasium (not linked), an inactive customer."""
    harbor = "Harbor Point Holdings"
    willow = "Willow Creek School District"
    with ctx.store.session() as s:
        s.add_all(
            [
                _customer("58", harbor, balance="2345.50"),
                _customer("59", "Harbor Point Tower", parent="58", parent_name=harbor),
                _customer("72", "Harbor Annex", parent="58", parent_name=harbor),
                _customer("70", willow, balance="120"),
                _customer("71", "Gymnasium", parent="70", parent_name=willow),
                _customer("80", "Willow Creek Old", active=False),
            ]
        )


def _links(ctx: AppContext) -> dict[str, str | None]:
    with ctx.store.session() as s:
        found: dict[str, str | None] = {c.name: c.qbo_id for c in s.scalars(select(Client))}
        found.update({p.number: p.qbo_id for p in s.scalars(select(Project))})
        return found


def _requests(ctx: AppContext) -> set[tuple[str, int]]:
    with ctx.store.session() as s:
        return create_requested(s)


def _open_clients(qtbot: Any, make_window: MakeWindow) -> tuple[MainWindow, ClientLinks]:
    window = make_window()
    wait_for_snapshot(qtbot, window)
    window.tabs.setCurrentIndex(window.TAB_CLIENTS)
    links = window.clients_tab.links
    qtbot.waitUntil(lambda: links.view.viewport().isVisible())
    return window, links


def _finish_link_job(qtbot: Any, window: MainWindow, act: Callable[[], object]) -> JobOutcome:
    """Do `act`, wait for the link job it starts and for the snapshot after it."""
    outcomes: list[JobOutcome] = []
    window.runner.jobFinished.connect(outcomes.append)
    try:
        act()
        qtbot.waitUntil(lambda: any(o.kind == "set_links" for o in outcomes), timeout=10_000)
        wait_for_snapshot(qtbot, window)
    finally:
        window.runner.jobFinished.disconnect(outcomes.append)
    return next(o for o in outcomes if o.kind == "set_links")


def _row(links: ClientLinks, kind: str, local_id: int) -> QModelIndex:
    assert links.select(kind, local_id)
    return links.view.currentIndex()


# --- the chooser ------------------------------------------------------------------------------


def test_the_customer_list_is_a_sound_model_with_names_and_balances(
    qapp: Any, ctx: AppContext, customers: None
) -> None:
    snapshot = load_snapshot(ctx.store, ctx.tokens)
    model = CustomerModel()
    QAbstractItemModelTester(model, QAbstractItemModelTester.FailureReportingMode.Fatal)
    model.set_rows(snapshot.customers)
    by_id = {row.qbo_id: row for row in model.rows()}
    assert by_id["59"].full_name == "Harbor Point Holdings:Harbor Point Tower"
    assert by_id["58"].linked_to == "the client 'Harbor Point Holdings'"
    assert by_id["59"].linked_to == "the project 2024-017 'Harbor Point Tower'"
    row = list(model.rows()).index(by_id["58"])
    assert model.index(row, CustomerModel.COL_BALANCE).data() == "$2,345.50"
    assert model.index(row, CustomerModel.COL_LINKED).data() == "the client 'Harbor Point Holdings'"
    # Dragged, a customer travels as a Customer record, like the Mappings tab's records.
    data = model.mimeData([model.index(row, 0)])
    assert data.text() == "Harbor Point Holdings"


def test_the_chooser_filters_as_the_administrator_types(
    qtbot: Any, ctx: AppContext, firm: Firm, customers: None
) -> None:
    snapshot = load_snapshot(ctx.store, ctx.tokens)
    willow = next(c for c in snapshot.clients if c.id == firm.other_client_id)
    dialog = LinkDialog(willow, snapshot.customers)
    qtbot.addWidget(dialog)

    def names() -> list[str]:
        return [c.full_name for c in dialog.visible_customers()]

    # Active customers only, until asked.
    assert "Willow Creek Old" not in names() and len(names()) == 5
    dialog.search.setText("willow")
    assert names() == ["Willow Creek School District", "Willow Creek School District:Gymnasium"]
    dialog.search.setText("gym WILLOW")
    assert names() == ["Willow Creek School District:Gymnasium"]
    dialog.search.setText("72")  # by Id
    assert names() == ["Harbor Point Holdings:Harbor Annex"]
    dialog.search.setText("willow old")
    assert names() == []
    assert not dialog.link_button.isEnabled()
    dialog.inactive_box.setChecked(True)
    assert names() == ["Willow Creek Old"]
    # The first match is selected, so Enter links to it.
    assert dialog.selected_customer() is not None
    assert dialog.selected_customer().qbo_id == "80"  # type: ignore[union-attr]

    # A project's chooser starts at the sub-customers of its client's customer.
    harbor = next(c for c in snapshot.clients if c.id == firm.client_id)
    annex = next(p for p in harbor.projects if p.number == "2024-018")
    project_dialog = LinkDialog(annex, snapshot.customers, client_qbo_id="58")
    qtbot.addWidget(project_dialog)
    shown = [c.full_name for c in project_dialog.visible_customers()]
    assert shown == [
        "Harbor Point Holdings:Harbor Annex",
        "Harbor Point Holdings:Harbor Point Tower",
    ]
    project_dialog.under_box.setChecked(False)
    assert len(project_dialog.visible_customers()) == 5


# --- keyboard, worker, undo ---------------------------------------------------------------------


def test_link_by_keyboard_through_the_worker_and_undo(
    qtbot: Any,
    make_window: MakeWindow,
    ctx: AppContext,
    firm: Firm,
    customers: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    window, links = _open_clients(qtbot, make_window)
    ran_on: list[str] = []
    original_run = SetLinksJob.run

    def recording_run(job: SetLinksJob, env: Any, report: Any) -> Any:
        ran_on.append(threading.current_thread().name)
        return original_run(job, env, report)

    # Which thread saves it: the job itself runs unchanged.
    monkeypatch.setattr(SetLinksJob, "run", recording_run)
    try:
        index = _row(links, "client", firm.other_client_id)
        links.view.setFocus()
        qtbot.keyClick(links.view, Qt.Key.Key_Return)
        dialog = links.link_dialog
        assert isinstance(dialog, LinkDialog) and dialog.isVisible()
        qtbot.keyClicks(dialog.search, "willow creek school")
        assert [c.qbo_id for c in dialog.visible_customers()] == ["70", "71"]
        outcome = _finish_link_job(
            qtbot, window, lambda: qtbot.keyClick(dialog.search, Qt.Key.Key_Return)
        )
    finally:
        monkeypatch.undo()
    assert outcome.ok, outcome.error
    assert ran_on == ["worker"], "saved on the worker thread, not the GUI thread"
    assert _links(ctx)["Willow Creek School District"] == "70"
    index = _row(links, "client", firm.other_client_id)
    qbo_cell = index.siblingAtColumn(window.clients_tab.model.COL_QBO)
    assert qbo_cell.data() == "Willow Creek School District (Id 70)"
    assert "linked to QuickBooks customer 'Willow Creek School District' (Id 70)" in (
        links.message_bar.message.text()
    )
    # The same row stays selected after the snapshot, for the next key.
    assert links.current_item() is not None and links.current_item().id == firm.other_client_id  # type: ignore[union-attr]

    # Ctrl+Z puts it back, through the worker; Ctrl+Shift+Z does it again.
    links.view.setFocus()
    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window)
    _finish_link_job(
        qtbot,
        window,
        lambda: qtbot.keyClick(links.view, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier),
    )
    assert _links(ctx)["Willow Creek School District"] is None
    assert links.message_bar.title.text() == "Undone"
    _finish_link_job(
        qtbot,
        window,
        lambda: qtbot.keyClick(
            links.view,
            Qt.Key.Key_Z,
            Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier,
        ),
    )
    assert _links(ctx)["Willow Creek School District"] == "70"


def test_delete_unlinks_create_marks_and_undo_restores(
    qtbot: Any, make_window: MakeWindow, ctx: AppContext, firm: Firm, customers: None
) -> None:
    window, links = _open_clients(qtbot, make_window)
    # Delete on a linked project forgets its link (nothing changes in QuickBooks).
    _row(links, "project", firm.project_id)
    links.view.setFocus()
    _finish_link_job(qtbot, window, lambda: qtbot.keyClick(links.view, Qt.Key.Key_Delete))
    assert _links(ctx)["2024-017"] is None
    assert "no longer linked" in links.message_bar.message.text()
    _finish_link_job(qtbot, window, links.undo)
    assert _links(ctx)["2024-017"] == "59"
    assert not links.undo_stack

    # "Create in QuickBooks" on a project of an unlinked client marks both for the next sync.
    with ctx.store.session() as s:
        gym = s.scalar(select(Project).where(Project.number == "2025-003"))
        assert gym is not None
        gym_id = gym.id
    _row(links, "project", gym_id)
    assert links.create_button.isEnabled()
    _finish_link_job(qtbot, window, links.create_button.click)
    assert _requests(ctx) == {("project", gym_id), ("client", firm.other_client_id)}
    index = _row(links, "project", gym_id)
    model = window.clients_tab.model
    assert index.siblingAtColumn(model.COL_QBO).data() == "Create on next sync"
    assert not links.create_button.isEnabled() and links.unlink_button.isEnabled()
    assert "2 to be created by the next sync" in window.clients_tab.summary.text()
    # One undo withdraws both marks: they were one change.
    _finish_link_job(qtbot, window, links.undo)
    assert _requests(ctx) == set()
    assert _links(ctx)["2025-003"] is None


def test_a_refused_link_says_why_and_changes_nothing(
    qtbot: Any, make_window: MakeWindow, ctx: AppContext, firm: Firm, customers: None
) -> None:
    window, links = _open_clients(qtbot, make_window)
    willow = next(c for c in window.snapshot.clients if c.id == firm.other_client_id)  # type: ignore[union-attr]
    from factor_desktop.ui.link_jobs import LinkState

    outcome = _finish_link_job(qtbot, window, lambda: links.set_link(willow, LinkState("58")))
    assert outcome.error is not None and "already linked to the client" in outcome.error
    assert links.message_bar.title.text() == "The link was refused"
    assert _links(ctx)["Willow Creek School District"] is None
    assert not links.undo_stack and not links.undo_button.isEnabled()


# --- drag and drop ------------------------------------------------------------------------------


def _drop(view: QTreeView, index: QModelIndex, mime: Any) -> QDropEvent:
    view.scrollTo(index)
    center = view.visualRect(index).center()
    assert view.indexAt(center) == index
    args = (
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    enter = QDragEnterEvent(center, *args)
    QApplication.sendEvent(view.viewport(), enter)
    assert enter.isAccepted()
    move = QDragMoveEvent(center, *args)
    QApplication.sendEvent(view.viewport(), move)
    assert move.isAccepted()
    drop = QDropEvent(QPointF(center), *args)
    QApplication.sendEvent(view.viewport(), drop)
    return drop


def test_dragging_a_customer_onto_a_project_links_it(
    qtbot: Any, make_window: MakeWindow, ctx: AppContext, firm: Firm, customers: None
) -> None:
    window, links = _open_clients(qtbot, make_window)
    QAbstractItemModelTester(
        window.clients_tab.model, QAbstractItemModelTester.FailureReportingMode.Fatal
    )
    snapshot = window.snapshot
    assert snapshot is not None
    annex = next(p for c in snapshot.clients for p in c.projects if p.number == "2024-018")
    customer = next(c for c in links.customers.rows() if c.qbo_id == "72")
    target = _row(links, "project", annex.id)
    _finish_link_job(qtbot, window, lambda: _drop(links.view, target, customers_mime([customer])))
    assert _links(ctx)["2024-018"] == "72"
    assert links.customer_view.model().rowCount() == 5 + 1  # inactive ones listed here too
    linked = next(c for c in links.customers.rows() if c.qbo_id == "72")
    assert linked.linked_to == "the project 2024-018 'Harbor Annex'"
    _finish_link_job(qtbot, window, links.undo)
    assert _links(ctx)["2024-018"] is None

    # A product/service is not a customer: refused at once, nothing asked of the worker.
    item = QboCandidate(entity="Item", qbo_id="7", name="Design:DD", type="Service")
    target = _row(links, "project", annex.id)
    _drop(links.view, target, qbo_records_mime([item]))
    assert links.message_bar.title.text() == "Not linked"
    assert "customer" in links.message_bar.message.text()
    assert not any(isinstance(job, SetLinksJob) for job in window.runner.pending())


# --- suggested links ---------------------------------------------------------------------------


def test_suggested_links_accept_some(
    qtbot: Any, make_window: MakeWindow, ctx: AppContext, firm: Firm, customers: None
) -> None:
    window, links = _open_clients(qtbot, make_window)
    links.suggest_button.click()
    qtbot.waitUntil(lambda: links.suggestions_dialog is not None, timeout=10_000)
    dialog = links.suggestions_dialog
    assert isinstance(dialog, SuggestedLinksDialog)
    proposals = {(s.entity, s.name): s for s in dialog.suggestions}
    willow = proposals[("client", "Willow Creek School District")]
    assert (willow.action, willow.qbo_id) == ("link", "70")
    annex = proposals[("project", "Harbor Annex")]
    assert (annex.action, annex.qbo_id) == ("link", "72")
    # Untick the annex: only Willow Creek (and what else was ticked) is accepted.
    for row, suggestion in enumerate(dialog.suggestions):
        dialog.set_ticked(row, suggestion is willow)
    assert len(dialog.ticked_requests()) == 1
    _finish_link_job(qtbot, window, dialog.accept_selected.click)
    found = _links(ctx)
    assert found["Willow Creek School District"] == "70"
    assert found["2024-018"] is None


def test_the_snapshot_counts_the_decisions_the_first_sync_waits_for(
    qapp: Any, ctx: AppContext, firm: Firm, customers: None
) -> None:
    from factor_desktop.services.links import request_create_client

    setup = load_snapshot(ctx.store, ctx.tokens).setup
    # Two active clients and the one active project (projects are mirrored by default); the
    # linked client and its linked tower are decided.
    assert (setup.links_needed, setup.links_decided) == (3, 2)
    with ctx.store.session() as s:
        request_create_client(s, firm.other_client_id)
    snapshot = load_snapshot(ctx.store, ctx.tokens)
    assert (snapshot.setup.links_needed, snapshot.setup.links_decided) == (3, 3)
    assert snapshot.create_requests == frozenset({("client", firm.other_client_id)})


def test_the_sync_logs_advice_opens_the_chooser_for_that_record(
    qtbot: Any, make_window: MakeWindow, ctx: AppContext, firm: Firm, customers: None
) -> None:
    from factor_desktop.store.models import SyncLogEntry
    from factor_desktop.ui.models.base import RowRole
    from factor_desktop.views import LogRow

    reason = (
        "The client 'Willow Creek School District' is not linked to a QuickBooks customer; "
        "link it on the Clients & Projects tab or turn on auto-create (Settings: create "
        "customers in QuickBooks)."
    )
    with ctx.store.session() as s:
        s.add(
            SyncLogEntry(
                direction="push",
                entity_kind="client",
                local_id=firm.other_client_id,
                label="Willow Creek School District",
                action="blocked",
                level="error",
                reason=reason,
            )
        )
    window = make_window()
    wait_for_snapshot(qtbot, window)
    window.tabs.setCurrentIndex(window.TAB_LOG)
    log = window.log_tab
    proxy = log.view.model()
    rows = [proxy.index(r, 0) for r in range(proxy.rowCount())]
    [index] = [
        i for i in rows if isinstance(i.data(RowRole), LogRow) and i.data(RowRole).reason == reason
    ]
    log.view.setCurrentIndex(index)
    assert log.detail.text().endswith("(Double-click to link it.)")
    qtbot.waitUntil(lambda: log.view.viewport().isVisible())
    rect = log.view.visualRect(index)
    # (QTest's double-click reaches the view only after a click on the same cell.)
    qtbot.mouseClick(log.view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.mouseDClick(log.view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert window.tabs.currentIndex() == window.TAB_CLIENTS
    dialog = window.clients_tab.links.link_dialog
    assert isinstance(dialog, LinkDialog) and dialog.isVisible()
    assert dialog.item.id == firm.other_client_id
