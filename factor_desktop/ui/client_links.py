"""The Clients & Projects tab's body: the clients and projects tree beside the QuickBooks
customers, the link buttons, and the undo list.

Every change is a `SetLinksJob` on the window's worker; the chooser and the suggestions are
`link_dialog`'s. Nothing here reads the store or QuickBooks.
"""

from __future__ import annotations

from collections.abc import Awaitable, Sequence
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QEvent, QModelIndex, QObject, Qt, Signal, Slot
from PySide6.QtGui import QAction, QKeyEvent, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QLineEdit,
    QPushButton,
    QSplitter,
    QToolButton,
    QTreeView,
    QVBoxLayout,
    QWidget,
)

from factor_desktop.ui.jobs import JobOutcome, JobRunner, spawn
from factor_desktop.ui.link_dialog import (
    CustomerFilter,
    CustomerModel,
    Item,
    LinkDialog,
    SuggestedLinksDialog,
    customer_table,
    item_label,
    kind_of,
)
from factor_desktop.ui.link_jobs import (
    CREATE,
    UNLINKED,
    LinkRequest,
    LinksChanged,
    LinkState,
    SetLinksJob,
    SuggestLinksJob,
)
from factor_desktop.ui.models.clients import ClientProjectTreeModel
from factor_desktop.ui.widgets import Banner, fit_columns, muted_label
from factor_desktop.views import ClientRow, ProjectRow

if TYPE_CHECKING:
    from factor_desktop.services.suggest import LinkSuggestion
    from factor_desktop.views import Snapshot


class ClientLinks(QWidget):
    """The clients and projects tree beside the QuickBooks customers, and the link actions.

    Every change is a `SetLinksJob` on the window's worker (`attach_runner`); its result goes on
    the undo list, so Ctrl+Z (or "Undo") asks the worker to put the records back as they were,
    and Ctrl+Shift+Z does it again.
    """

    # Emitted when a link job finishes: ok, the message shown.
    linkFinished = Signal(bool, str)

    def __init__(
        self, model: ClientProjectTreeModel, view: QTreeView, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.model = model
        self.view = view
        self.runner: JobRunner | None = None
        self._snapshot: Snapshot | None = None
        self._suggest_job: SuggestLinksJob | None = None
        self.undo_stack: list[LinksChanged] = []
        self.redo_stack: list[LinksChanged] = []
        self.link_dialog: LinkDialog | None = None
        self.suggestions_dialog: SuggestedLinksDialog | None = None

        self.splitter = QSplitter(Qt.Orientation.Horizontal, self)
        self.splitter.setChildrenCollapsible(False)
        self.splitter.addWidget(view)
        view.setDragDropMode(QAbstractItemView.DragDropMode.DropOnly)
        view.setDragDropOverwriteMode(True)
        view.setDropIndicatorShown(True)
        view.setDefaultDropAction(Qt.DropAction.CopyAction)
        view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        view.installEventFilter(self)
        view.doubleClicked.connect(self._double_clicked)
        model.linkRequested.connect(self._dropped)
        model.dropRefused.connect(self._refused)

        self.message_bar = Banner("info")
        dismiss = self.message_bar.add_button("Dismiss")
        dismiss.clicked.connect(self.message_bar.clear)

        self.link_button = QPushButton("Link…")
        self.link_button.setToolTip("Choose the QuickBooks customer for the selected row (Enter).")
        self.unlink_button = QPushButton("Unlink")
        self.unlink_button.setToolTip(
            "Forget the selected row's link, or its mark for creation (Delete). Nothing "
            "changes in QuickBooks."
        )
        self.create_button = QPushButton("Create in QuickBooks")
        self.create_button.setToolTip(
            "The next sync creates the selected client (or project, as a sub-customer). "
            "Nothing is written now; Preview shows it first."
        )
        self.suggest_button = QPushButton("Suggested links…")
        self.suggest_button.setToolTip(
            "Clients and projects matched by name to QuickBooks customers, to accept all or some."
        )
        self.undo_action = QAction("Undo link change", self)
        self.undo_action.setShortcuts(QKeySequence.StandardKey.Undo)
        self.undo_action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        self.redo_action = QAction("Redo link change", self)
        self.redo_action.setShortcuts(QKeySequence.StandardKey.Redo)
        self.redo_action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        self.addAction(self.undo_action)
        self.addAction(self.redo_action)
        self.undo_button = QPushButton("Undo")
        self.undo_button.setToolTip("Undo the last link change (Ctrl+Z).")
        self.refresh_slot = QHBoxLayout()
        self.refresh_slot.setContentsMargins(0, 0, 0, 0)

        buttons = QHBoxLayout()
        buttons.setSpacing(6)
        for button in (self.link_button, self.unlink_button, self.create_button):
            buttons.addWidget(button)
        buttons.addSpacing(12)
        buttons.addWidget(self.suggest_button)
        buttons.addStretch(1)
        buttons.addWidget(self.undo_button)

        self.customers = CustomerModel(self)
        self.customer_filter = CustomerFilter(self)
        self.customer_search = QLineEdit()
        self.customer_search.setPlaceholderText("Filter QuickBooks customers")
        self.customer_search.setClearButtonEnabled(True)
        self.customer_view = customer_table(
            self.customers,
            self.customer_filter,
            "No QuickBooks customers read yet: Refresh QuickBooks Lists reads them (read only).",
        )
        self.customer_view.setDragDropMode(QAbstractItemView.DragDropMode.DragOnly)
        self.customer_view.setDragEnabled(True)
        self.customer_view.setDefaultDropAction(Qt.DropAction.CopyAction)
        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(0, 0, 0, 0)
        right_layout.setSpacing(4)
        right_layout.addWidget(muted_label("Drag a QuickBooks customer onto a client or project:"))
        search_row = QHBoxLayout()
        search_row.setContentsMargins(0, 0, 0, 0)
        search_row.addWidget(self.customer_search, 1)
        search_row.addLayout(self.refresh_slot)
        right_layout.addLayout(search_row)
        right_layout.addWidget(self.customer_view, 1)
        self.splitter.addWidget(right)
        # The tree's header first among the tab's: the window remembers a tab's column widths by
        # the order of its headers, and the tree's was the tab's only one before this list came.
        right.raise_()
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 2)
        self.splitter.setSizes([740, 420])

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(6)
        layout.addWidget(self.message_bar)
        layout.addLayout(buttons)
        layout.addWidget(self.splitter, 1)

        self.link_button.clicked.connect(self.open_link_dialog)
        self.unlink_button.clicked.connect(self.unlink_current)
        self.create_button.clicked.connect(self.create_current)
        self.suggest_button.clicked.connect(self.show_suggestions)
        self.undo_button.clicked.connect(self.undo)
        self.undo_action.triggered.connect(self.undo)
        self.redo_action.triggered.connect(self.redo)
        self.customer_search.textChanged.connect(self.customer_filter.set_text)
        view.selectionModel().currentChanged.connect(self._update_buttons)
        self._fitted = False
        self._update_buttons()

    def attach_runner(self, runner: JobRunner) -> None:
        self.runner = runner
        self._update_buttons()

    def add_refresh_action(self, action: QAction) -> None:
        """Put the window's Refresh QuickBooks Lists beside the buttons (one action, one state)."""
        button = QToolButton()
        button.setDefaultAction(action)
        button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        self.refresh_slot.addWidget(button)

    # -- what is selected --------------------------------------------------------------------

    def current_item(self) -> Item | None:
        item = self.model.item(self.view.currentIndex())
        return item if isinstance(item, ClientRow | ProjectRow) else None

    def select(self, kind: str, local_id: int) -> bool:
        """Make the client or project with this id the current row."""
        for row, client in enumerate(self.model.rows()):
            parent = self.model.index(row, 0)
            if kind == "client" and client.id == local_id:
                self.view.setCurrentIndex(parent)
                return True
            for number, project in enumerate(client.projects):
                if kind == "project" and project.id == local_id:
                    index = self.model.index(number, 0, parent)
                    self.view.expand(parent)
                    self.view.setCurrentIndex(index)
                    return True
        return False

    def _requested(self, item: Item) -> bool:
        snapshot = self._snapshot
        return snapshot is not None and (kind_of(item), item.id) in snapshot.create_requests

    def _client_qbo_id(self, item: Item) -> str | None:
        if isinstance(item, ClientRow):
            return item.qbo_id
        client = next((c for c in self.model.rows() if c.id == item.client_id), None)
        return client.qbo_id if client is not None else None

    @Slot()
    def _update_buttons(self, *_args: Any) -> None:
        item = self.current_item()
        ready = self.runner is not None
        self.link_button.setEnabled(ready and item is not None)
        self.unlink_button.setEnabled(
            ready and item is not None and (item.qbo_id is not None or self._requested(item))
        )
        self.create_button.setEnabled(
            ready and item is not None and item.qbo_id is None and not self._requested(item)
        )
        self.undo_button.setEnabled(ready and bool(self.undo_stack))
        self.undo_action.setEnabled(ready and bool(self.undo_stack))
        self.redo_action.setEnabled(ready and bool(self.redo_stack))
        if self.undo_stack:
            self.undo_button.setToolTip(
                f"Undo: {self.undo_stack[-1].message} ({self.undo_action.shortcut().toString()})"
            )

    # -- asking for changes ------------------------------------------------------------------

    def request(
        self, requests: Sequence[LinkRequest], *, undoing: bool = False
    ) -> SetLinksJob | None:
        """Send link changes to the worker; their outcome shows in the banner."""
        if self.runner is None or not requests:
            return None
        job = SetLinksJob(requests, undoing=undoing)
        spawn(self._links_set(job, self.runner.run(job)))
        return job

    def set_link(self, item: Item, target: LinkState) -> SetLinksJob | None:
        return self.request([LinkRequest(kind_of(item), item.id, target)])  # type: ignore[arg-type]

    @Slot()
    def open_link_dialog(self) -> LinkDialog | None:
        item = self.current_item()
        if item is None:
            return None
        if self.link_dialog is not None:
            self.link_dialog.close()
        dialog = LinkDialog(
            item,
            self._snapshot.customers if self._snapshot is not None else (),
            requested=self._requested(item),
            client_qbo_id=self._client_qbo_id(item) if isinstance(item, ProjectRow) else None,
            parent=self,
        )
        dialog.chosen.connect(lambda state: self.set_link(item, state))
        dialog.finished.connect(self._dialog_closed)
        self.link_dialog = dialog
        dialog.open()
        return dialog

    @Slot(int)
    def _dialog_closed(self, _result: int) -> None:
        dialog, self.link_dialog = self.link_dialog, None
        if dialog is not None:
            dialog.deleteLater()

    @Slot()
    def unlink_current(self) -> SetLinksJob | None:
        item = self.current_item()
        if item is None:
            return None
        if item.qbo_id is None and not self._requested(item):
            self.message_bar.show_message(
                "Nothing to unlink", f"{item_label(item).capitalize()} is not linked.", "info"
            )
            return None
        return self.set_link(item, UNLINKED)

    @Slot()
    def create_current(self) -> SetLinksJob | None:
        item = self.current_item()
        if item is None or item.qbo_id is not None:
            return None
        return self.set_link(item, CREATE)

    @Slot(str, int, str)
    def _dropped(self, kind: str, local_id: int, qbo_id: str) -> None:
        self.request([LinkRequest(kind, local_id, LinkState(qbo_id))])  # type: ignore[arg-type]

    @Slot(str)
    def _refused(self, message: str) -> None:
        self.message_bar.show_message("Not linked", message, "error")

    @Slot(QModelIndex)
    def _double_clicked(self, index: QModelIndex) -> None:
        if index.isValid():
            self.open_link_dialog()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if (
            watched is self.view
            and event.type() == QEvent.Type.KeyPress
            and isinstance(event, QKeyEvent)
        ):
            if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
                self.open_link_dialog()
                return True
            if event.key() in (Qt.Key.Key_Delete, Qt.Key.Key_Backspace):
                self.unlink_current()
                return True
        return super().eventFilter(watched, event)

    # -- undo --------------------------------------------------------------------------------

    @Slot()
    def undo(self) -> SetLinksJob | None:
        if not self.undo_stack:
            return None
        done = self.undo_stack.pop()
        self.redo_stack.append(done)
        self._update_buttons()
        return self.request(done.undo_requests(), undoing=True)

    @Slot()
    def redo(self) -> SetLinksJob | None:
        if not self.redo_stack:
            return None
        done = self.redo_stack.pop()
        self.undo_stack.append(done)
        self._update_buttons()
        return self.request(done.redo_requests(), undoing=True)

    # -- suggestions -------------------------------------------------------------------------

    @Slot()
    def show_suggestions(self) -> SuggestLinksJob | None:
        """Ask the worker for `map suggest`'s link proposals; they open in a dialog."""
        if self.runner is None:
            return None
        job = SuggestLinksJob()
        self._suggest_job = job
        spawn(self._suggested(job, self.runner.run(job)))
        return job

    def _open_suggestions(self, suggestions: Sequence[LinkSuggestion]) -> SuggestedLinksDialog:
        if self.suggestions_dialog is not None:
            self.suggestions_dialog.close()
        dialog = SuggestedLinksDialog(suggestions, self)
        dialog.acceptedRequests.connect(self.request)
        dialog.finished.connect(self._suggestions_closed)
        self.suggestions_dialog = dialog
        dialog.open()
        return dialog

    @Slot(int)
    def _suggestions_closed(self, _result: int) -> None:
        dialog, self.suggestions_dialog = self.suggestions_dialog, None
        if dialog is not None:
            dialog.deleteLater()

    # -- outcomes ----------------------------------------------------------------------------

    async def _suggested(self, job: SuggestLinksJob, running: Awaitable[JobOutcome]) -> None:
        outcome = await running
        if self._suggest_job is not job:
            return  # asked again since: the newer answer counts
        self._suggest_job = None
        if outcome.ok:
            self._open_suggestions(outcome.result)
        elif outcome.error:
            self.message_bar.show_message("No suggestions", outcome.error, "error")

    async def _links_set(self, job: SetLinksJob, running: Awaitable[JobOutcome]) -> None:
        outcome = await running
        if outcome.cancelled:
            return
        if outcome.error is not None:
            self.message_bar.show_message("The link was refused", outcome.error, "error")
            self.linkFinished.emit(False, outcome.error)
            return
        result = outcome.result
        if not isinstance(result, LinksChanged):
            return
        if result.changes and not job.undoing:
            self.undo_stack.append(result)
            self.redo_stack.clear()
        title = "Undone" if job.undoing else "Saved"
        self.message_bar.show_message(title, result.message, "info")
        self._update_buttons()
        self.linkFinished.emit(True, result.message)

    # -- the snapshot ------------------------------------------------------------------------

    def show_snapshot(self, snapshot: Snapshot) -> None:
        self._snapshot = snapshot
        names = {c.qbo_id: c.full_name for c in snapshot.customers}
        self.model.set_links(names, snapshot.create_requests)
        if self.customers.set_rows(snapshot.customers) and not self._fitted:
            fit_columns(self.customer_view, maximum=140)
            self._fitted = True
        self._update_buttons()
