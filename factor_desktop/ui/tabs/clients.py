"""The Clients & Projects tab: clients and projects beside the QuickBooks customers."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtWidgets import QWidget

from factor_desktop.ui.client_links import ClientLinks
from factor_desktop.ui.jobs import JobRunner
from factor_desktop.ui.link_dialog import kind_of
from factor_desktop.ui.models.clients import ClientProjectTreeModel
from factor_desktop.ui.tabs.base import Tab, plural
from factor_desktop.ui.widgets import fit_columns, make_tree

if TYPE_CHECKING:
    from factor_desktop.views import Snapshot


class ClientsTab(Tab):
    """Clients and projects beside the QuickBooks customers; linked, unlinked or marked for
    creation by keyboard, by drag and drop or from suggestions (`links`, see client_links.py)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = ClientProjectTreeModel(self)
        self.view = make_tree(self.model)
        self.links = ClientLinks(self.model, self.view)
        self._layout.addWidget(self.links, 1)

    def attach_runner(self, runner: JobRunner) -> None:
        """Save link changes on this runner's worker thread."""
        self.links.attach_runner(runner)

    def open_link(self, kind: str, local_id: int) -> bool:
        """Select the client or project and open its QuickBooks chooser (from the Sync Log)."""
        if not self.links.select(kind, local_id):
            return False
        return self.links.open_link_dialog() is not None

    def show_snapshot(self, snapshot: Snapshot) -> None:
        clients = snapshot.clients
        current = self.links.current_item()
        if self.model.set_rows(clients):
            self.view.expandAll()
            if current is not None:
                self.links.select(kind_of(current), current.id)
        self.links.show_snapshot(snapshot)
        projects = [p for c in clients for p in c.projects]
        linked_clients = sum(1 for c in clients if c.qbo_id)
        linked_projects = sum(1 for p in projects if p.qbo_id)
        if not clients:
            self.summary.setText(
                "No clients yet. Import the firm's Factor records with File > Import…."
            )
        else:
            marked = len(snapshot.create_requests)
            self.summary.setText(
                f"{plural(len(clients), 'client')} ({linked_clients} linked to QuickBooks "
                f"customers), {plural(len(projects), 'project')} ({linked_projects} linked to "
                "sub-customers)"
                + (f"; {marked} to be created by the next sync." if marked else ".")
                + " Enter or double-click links the selected row; Ctrl+Z undoes."
            )
        if clients and not self._fitted:
            # A long client name is cut rather than the QuickBooks column pushed out of view.
            fit_columns(self.view, maximum=340)
            self._fitted = True
