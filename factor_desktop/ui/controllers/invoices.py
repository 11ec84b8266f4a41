"""Where the window takes an invoice's fix and the Sync Log's "link it": the Mappings tab, the
link chooser on Clients & Projects, or sending the held-back records again."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Slot

if TYPE_CHECKING:
    from factor_desktop.ui.main_window import MainWindow


class InvoicesController(QObject):
    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self._window = window
        actions = window.invoices_tab.invoice_actions
        actions.fixRequested.connect(self.fix_invoice)
        actions.openUrlRequested.connect(window.open_url)
        window.log_tab.linkRequested.connect(self.open_link)

    @Slot(str, int)
    def fix_invoice(self, fix: str, project_id: int = 0) -> None:
        """An invoice's fix: its mapping (the Mappings tab), its link (the link chooser on
        Clients & Projects, for its client when that is not linked, else for its project), or
        sending it again."""
        window = self._window
        if fix == "map":
            window.tabs.setCurrentWidget(window.mappings_tab)
        elif fix == "link":
            window.tabs.setCurrentWidget(window.clients_tab)
            snapshot = window.snapshot
            client = next(
                (
                    c
                    for c in (snapshot.clients if snapshot is not None else ())
                    if any(p.id == project_id for p in c.projects)
                ),
                None,
            )
            if client is None:
                return
            links = window.clients_tab.links
            found = (
                links.select("client", client.id)
                if client.qbo_id is None
                else links.select("project", project_id)
            )
            if found:
                links.open_link_dialog()
        elif fix == "retry":
            window.sync.retry_failed()

    @Slot(str, int)
    def open_link(self, kind: str, local_id: int) -> bool:
        """The sync log's "link it on the Clients & Projects tab": there, with its chooser."""
        self._window.tabs.setCurrentWidget(self._window.clients_tab)
        return self._window.clients_tab.open_link(kind, local_id)
