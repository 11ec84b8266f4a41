"""The first-run guide: a checklist beside the tabs that takes a new firm to its first sync.

connect → import the firm → refresh QuickBooks lists → accept or edit the mappings and links →
preview → first sync. Each step is worked out from the snapshot (`setup_steps`, no store reads
here) and shows done or to do, with a button to the place where it is done: the Connect dialog,
File > Import…, Sync > Refresh QuickBooks Lists (read only), the Mappings and Clients & Projects
tabs (with Sync > Suggested Mappings… once there are types left to map and lists to match them
with), Preview and Sync Now. Nothing in the order writes to QuickBooks before the last step: the
lists are read, mappings and links are saved in the firm's file, and the preview runs on a copy.

The guide opens by itself while a profile has never synced and the administrator has not closed it;
closing it (or finishing the steps) is remembered in the window's settings, beside its geometry,
and Help > Getting Started brings it back.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from PySide6.QtCore import QSettings, QSize, Qt, Signal, Slot
from PySide6.QtGui import QAction, QCloseEvent
from PySide6.QtWidgets import (
    QDockWidget,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from factor_desktop.ui.colors import MUTED_COLOR, css
from factor_desktop.ui.menus import menu_of
from factor_desktop.ui.widgets import muted_label

if TYPE_CHECKING:
    from factor_desktop.ui.main_window import MainWindow
    from factor_desktop.views import Snapshot

#: Where the window's settings remember that the guide was closed.
DISMISSED_KEY = "firstRun/dismissed"

DONE_MARK = "\N{CHECK MARK}"
TODO_MARK = "\N{WHITE CIRCLE}"


@dataclass(frozen=True)
class Step:
    """One line of the checklist."""

    key: str
    title: str
    done: bool
    detail: str
    # What the step's button says; the guide knows what each key's button does.
    button: str


def _mapping_text(snapshot: Snapshot) -> tuple[bool, str]:
    mapped = sum(m for _k, m, _t in snapshot.coverage)
    total = sum(t for _k, _m, t in snapshot.coverage)
    setup = snapshot.setup
    types_done = mapped == total
    links_done = setup.links_decided == setup.links_needed
    text = (
        f"{mapped} of {total} types mapped; {setup.links_decided} of {setup.links_needed} "
        "clients and projects linked or marked to create."
    )
    # A type can be mapped and still hold invoices back (an expense type billed on an invoice
    # needs its product/service too): the step is done when no invoice waits for a mapping.
    waiting = sum(1 for invoice in snapshot.invoices if invoice.fix == "map")
    if waiting:
        text += f" {_count(waiting, 'invoice waits', 'invoices wait')} for a mapping."
    has_records = total > 0 or setup.links_needed > 0
    return has_records and types_done and links_done and not waiting, text


def _count(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


def _sync_text(snapshot: Snapshot) -> str:
    if not snapshot.setup.syncs:
        return "The first write to QuickBooks, of what the preview showed."
    last = snapshot.last_sync
    if last is not None and last.status == "failed":
        return (
            "The last sync stopped before it finished; the Sync Log says why. Sync Now tries again."
        )
    if last is not None and last.status == "partial":
        return "Done, but some records could not go through: the Sync Log lists them with the fix."
    return "Done: the firm is in step with QuickBooks."


def setup_steps(snapshot: Snapshot) -> list[Step]:
    """The checklist for this snapshot, in the order it is done."""
    info = snapshot.connection
    setup = snapshot.setup
    connected = info.state == "connected"
    projects = sum(len(c.projects) for c in snapshot.clients)
    has_firm = bool(snapshot.clients or snapshot.service_types or snapshot.expense_types)
    mapped_and_linked, mapping_text = _mapping_text(snapshot)
    return [
        Step(
            "connect",
            "Connect to QuickBooks",
            connected,
            f"Connected to {info.company_name}."
            if connected and info.company_name
            else "Sign in to the firm's QuickBooks company.",
            "Connect…",
        ),
        Step(
            "import",
            "Import the firm's records",
            has_firm,
            f"{len(snapshot.clients)} clients, {projects} projects, "
            f"{len(snapshot.service_types)} service types."
            if has_firm
            else "Clients, projects, types and invoices from a JSON or CSV file.",
            "Import…",
        ),
        Step(
            "lists",
            "Read QuickBooks' lists",
            setup.cached_records > 0,
            f"{setup.cached_records} records read; nothing was written to QuickBooks."
            if setup.cached_records
            else "Customers, items, accounts and tax codes. Read only.",
            "Refresh Lists",
        ),
        Step(
            "mappings",
            "Accept or edit mappings and links",
            mapped_and_linked,
            mapping_text,
            "Mappings",
        ),
        Step(
            "preview",
            "Preview the first sync",
            setup.previews > 0,
            "Previewed." if setup.previews else "See what the sync would send; nothing is sent.",
            "Preview…",
        ),
        Step(
            "sync",
            "Run the first sync",
            setup.syncs > 0,
            _sync_text(snapshot),
            "Sync Now",
        ),
    ]


#: The narrowest a line of the guide wraps to: its labels ask for no more, so the checklist
#: always follows the dock's width instead of running past its right edge.
WRAP_WIDTH = 150


def _wrapping(label: QLabel) -> QLabel:
    label.setWordWrap(True)
    label.setMinimumWidth(WRAP_WIDTH)
    return label


class _GuideScroll(QScrollArea):
    """The guide's scroll area, which asks for a comfortable width to start with; its lines wrap
    to whatever width the dock is given after that."""

    PREFERRED_WIDTH = 320

    def sizeHint(self) -> QSize:
        return QSize(self.PREFERRED_WIDTH, super().sizeHint().height())


class _StepRow(QFrame):
    def __init__(self, number: int, title: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.mark = QLabel(TODO_MARK)
        self.mark.setFixedWidth(self.mark.fontMetrics().horizontalAdvance("MM"))
        self.mark.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignHCenter)
        self.title = QLabel(f"{number}. {title}")
        self.title.setTextFormat(Qt.TextFormat.PlainText)
        # Every line wraps to the dock's width: the dock can be narrower than the longest title.
        _wrapping(self.title)
        font = self.title.font()
        font.setBold(True)
        self.title.setFont(font)
        self.detail = _wrapping(muted_label())
        self.button = QPushButton()
        self.extra_button: QPushButton | None = None
        self.suggest_button: QPushButton | None = None
        self.buttons = QHBoxLayout()
        self.buttons.setContentsMargins(0, 0, 0, 0)
        self.buttons.setSpacing(6)
        self.buttons.addWidget(self.button)
        self.buttons.addStretch(1)
        # A second line of buttons, so a narrow dock never cuts one off.
        self.more_buttons = QHBoxLayout()
        self.more_buttons.setContentsMargins(0, 0, 0, 0)
        self.more_buttons.addStretch(1)
        grid = QGridLayout(self)
        grid.setContentsMargins(4, 6, 4, 6)
        grid.setHorizontalSpacing(6)
        grid.setVerticalSpacing(2)
        grid.addWidget(self.mark, 0, 0, 4, 1)
        grid.addWidget(self.title, 0, 1)
        grid.addWidget(self.detail, 1, 1)
        grid.addLayout(self.buttons, 2, 1)
        grid.addLayout(self.more_buttons, 3, 1)
        grid.setColumnStretch(1, 1)
        self.done = False

    def show_step(self, step: Step) -> None:
        self.done = step.done
        self.mark.setText(DONE_MARK if step.done else TODO_MARK)
        self.mark.setToolTip("Done" if step.done else "To do")
        self.detail.setText(step.detail)
        self.button.setText(step.button)
        self.title.setStyleSheet(css(MUTED_COLOR) if step.done else "")


class FirstRunGuide(QDockWidget):
    """The checklist in a dock beside the tabs. `install()` makes it for a window."""

    dismissed = Signal()

    def __init__(self, window: MainWindow) -> None:
        super().__init__("Getting started", window)
        self.setObjectName("first-run-guide")
        self.window_ = window
        self.setFeatures(
            QDockWidget.DockWidgetFeature.DockWidgetClosable
            | QDockWidget.DockWidgetFeature.DockWidgetMovable
        )
        self.setAllowedAreas(
            Qt.DockWidgetArea.RightDockWidgetArea | Qt.DockWidgetArea.LeftDockWidgetArea
        )
        self.steps: list[Step] = []
        self._types_left = False
        self.rows: dict[str, _StepRow] = {}
        body = QWidget()
        layout = QVBoxLayout(body)
        layout.setContentsMargins(10, 8, 10, 8)
        layout.setSpacing(4)
        self.intro = _wrapping(
            muted_label(
                "Six steps to the first sync. Nothing is written to QuickBooks before the last one."
            )
        )
        layout.addWidget(self.intro)
        titles = [
            ("connect", "Connect to QuickBooks"),
            ("import", "Import the firm's records"),
            ("lists", "Read QuickBooks' lists"),
            ("mappings", "Accept or edit mappings and links"),
            ("preview", "Preview the first sync"),
            ("sync", "Run the first sync"),
        ]
        for number, (key, title) in enumerate(titles, start=1):
            row = _StepRow(number, title)
            row.setObjectName(f"step-{key}")
            row.button.clicked.connect(self._opener(key))
            self.rows[key] = row
            layout.addWidget(row)
        links = QPushButton("Links…")
        links.setToolTip("The Clients & Projects tab, with the suggested links.")
        links.clicked.connect(self.open_links)
        self.rows["mappings"].extra_button = links
        self.rows["mappings"].buttons.insertWidget(1, links)
        suggested = QPushButton("Suggested mappings…")
        suggested.setToolTip(
            "Types whose names match a QuickBooks record, to accept all or some (Sync > "
            "Suggested Mappings…)."
        )
        suggested.clicked.connect(self.open_suggested_mappings)
        suggested.hide()
        self.rows["mappings"].suggest_button = suggested
        self.rows["mappings"].more_buttons.insertWidget(0, suggested)
        self.note = _wrapping(muted_label())
        layout.addWidget(self.note)
        layout.addStretch(1)
        self.close_button = QPushButton("Close the guide")
        self.close_button.setToolTip("Help > Getting Started shows it again.")
        self.close_button.clicked.connect(self.close)
        layout.addWidget(self.close_button, 0, Qt.AlignmentFlag.AlignRight)
        scroll = _GuideScroll()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setWidget(body)
        scroll.setMinimumWidth(240)
        self.setWidget(scroll)

        self.show_action = QAction("&Getting Started", self)
        self.show_action.setToolTip("The checklist from a new firm profile to its first sync.")
        self.show_action.triggered.connect(self.show_guide)
        self._decided = False

    # -- remembering ------------------------------------------------------------------------

    @property
    def settings(self) -> QSettings:
        return self.window_.ui_settings

    def was_dismissed(self) -> bool:
        value = self.settings.value(DISMISSED_KEY, False)
        return value is True or str(value).lower() in ("true", "1")

    def remember_dismissed(self) -> None:
        if self.window_.remembers_layout:
            self.settings.setValue(DISMISSED_KEY, True)
            self.settings.sync()

    def closeEvent(self, event: QCloseEvent) -> None:
        super().closeEvent(event)
        if event.isAccepted():
            self.remember_dismissed()
            self.dismissed.emit()

    @Slot()
    def show_guide(self) -> None:
        """Help > Getting Started: show the checklist whatever was decided before."""
        self.show()
        self.raise_()

    # -- the steps --------------------------------------------------------------------------

    @property
    def complete(self) -> bool:
        return bool(self.steps) and all(step.done for step in self.steps)

    def step(self, key: str) -> Step:
        return next(step for step in self.steps if step.key == key)

    @Slot(object)
    def show_snapshot(self, snapshot: Snapshot) -> None:
        self.steps = setup_steps(snapshot)
        self._types_left = any(mapped < total for _kind, mapped, total in snapshot.coverage)
        for step in self.steps:
            self.rows[step.key].show_step(step)
        self._enable_buttons()
        self.note.setText(self._note(snapshot))
        if not self._decided:
            # The first snapshot decides whether the guide opens by itself.
            self._decided = True
            # A profile that has synced before belongs to a returning user, even with a type
            # left unmapped on purpose: the guide waits for Help > Getting Started.
            if self.complete or snapshot.setup.syncs > 0:
                self.remember_dismissed()
            elif not self.was_dismissed():
                self.show()
        elif self.complete and self.isVisible():
            self.intro.setText("All done. The guide stays closed from now on.")
            self.remember_dismissed()

    def _enable_buttons(self) -> None:
        done = {step.key: step.done for step in self.steps}
        window = self.window_
        connected = done.get("connect", False)
        lists = self.rows["lists"].button
        lists.setEnabled(connected and window.refresh_lists_action.isEnabled())
        lists.setToolTip("" if connected else "Connect first.")
        self.rows["preview"].button.setEnabled(connected and window.preview_action.isEnabled())
        # The first write waits for the mappings and links to be accepted and previewed.
        ready = connected and done.get("mappings", False) and done.get("preview", False)
        sync = self.rows["sync"].button
        sync.setEnabled(ready and window.sync_action.isEnabled())
        # Suggestions need the lists read and a type left to map.
        suggest = self.rows["mappings"].suggest_button
        if suggest is not None:
            suggest.setVisible(self._types_left and done.get("lists", False))
            suggest.setEnabled(window.menu_actions.suggest_mappings.isEnabled())
        sync.setToolTip(
            "Send what the preview showed."
            if ready
            else "Accept the mappings and links and preview first: the sync is the first write "
            "to QuickBooks."
        )

    def _note(self, snapshot: Snapshot) -> str:
        if snapshot.setup.syncs or snapshot.auto_sync_minutes <= 0:
            return ""
        return (
            f"Automatic sync (every {snapshot.auto_sync_minutes} min) starts after the first "
            "sync you run yourself: until then nothing goes to QuickBooks on its own."
        )

    # -- where each step is done -------------------------------------------------------------

    def _opener(self, key: str) -> Callable[[], None]:
        def open_step() -> None:
            self.open_step(key)

        return open_step

    def open_step(self, key: str) -> None:
        window = self.window_
        if key == "connect":
            window.tabs.setCurrentIndex(window.TAB_CONNECTION)
            window.connection.open_connect_dialog()
        elif key == "import":
            window.menu_actions.import_file.trigger()
        elif key == "lists":
            window.refresh_lists_action.trigger()
        elif key == "mappings":
            window.tabs.setCurrentIndex(window.TAB_MAPPINGS)
        elif key == "preview":
            window.preview_action.trigger()
        elif key == "sync":
            window.sync_action.trigger()

    @Slot()
    def open_suggested_mappings(self) -> None:
        """The Mappings tab, and Sync > Suggested Mappings… over it."""
        window = self.window_
        window.tabs.setCurrentIndex(window.TAB_MAPPINGS)
        window.menu_actions.suggest_mappings.trigger()

    @Slot()
    def open_links(self) -> None:
        window = self.window_
        window.tabs.setCurrentIndex(window.TAB_CLIENTS)
        window.clients_tab.links.show_suggestions()


def install(window: MainWindow) -> FirstRunGuide:
    """Make the guide for `window`: a dock on the right (hidden until the first snapshot says
    whether it is needed), fed by each snapshot, and Help > Getting Started to show it."""
    guide = FirstRunGuide(window)
    window.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, guide)
    guide.hide()
    window.snapshotApplied.connect(guide.show_snapshot)
    help_menu = menu_of(window, "Help")
    actions = help_menu.actions()
    if actions:
        help_menu.insertAction(actions[0], guide.show_action)
        help_menu.insertSeparator(actions[0])
    else:
        help_menu.addAction(guide.show_action)
    return guide
