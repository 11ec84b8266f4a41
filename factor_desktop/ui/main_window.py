"""The main window: one tab per concern, menus, a status bar, and the job runner behind them.

The window builds the tabs, the toolbar, the menus and the status bar, and hands each area to
its controller (`ui/controllers/`): syncing, the connection, mappings, imports, invoices'
fixes and the update check. It keeps what belongs to the window itself: its title, size and
columns, the snapshot it shows (handed to every tab and controller), and closing.

A window is built on an open store (`MainWindow(store, tokens)`), or, as `factor-desktop gui`
starts, on a `ProfileOpener` (`MainWindow(opener=...)`): it is painted first, saying that it is
opening the firm's records, and then its worker opens the store (see `opening.py`).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QByteArray, QEvent, QSettings, QSize, Qt, QTimer, QUrl, Signal, Slot
from PySide6.QtGui import (
    QAction,
    QCloseEvent,
    QDesktopServices,
    QGuiApplication,
    QIcon,
    QKeySequence,
    QShowEvent,
)
from PySide6.QtWidgets import (
    QApplication,
    QHeaderView,
    QMainWindow,
    QMessageBox,
    QSystemTrayIcon,
    QTabWidget,
    QToolBar,
    QWidget,
)

from factor_desktop.paths import DataDir
from factor_desktop.ui.colors import follow_palette
from factor_desktop.ui.connection_tab import ConnectionTab
from factor_desktop.ui.controllers.connection import ConnectionController
from factor_desktop.ui.controllers.dialogs import DialogsController
from factor_desktop.ui.controllers.imports import ImportsController
from factor_desktop.ui.controllers.invoices import InvoicesController
from factor_desktop.ui.controllers.mappings import MappingsController
from factor_desktop.ui.controllers.sync import SyncController
from factor_desktop.ui.controllers.updates import UpdatesController
from factor_desktop.ui.first_run import FirstRunGuide
from factor_desktop.ui.first_run import install as install_first_run
from factor_desktop.ui.jobs import (
    EnvFactory,
    JobOutcome,
    JobRunner,
    SnapshotJob,
    default_env_factory,
    spawn,
)
from factor_desktop.ui.mapping_suggestions import install as install_mapping_suggestions
from factor_desktop.ui.mapping_suggestions import suggestions_button
from factor_desktop.ui.memory import freeze_long_lived
from factor_desktop.ui.menus import build_menus
from factor_desktop.ui.opening import OpenStoreJob, ProfileOpener, StoreOpened
from factor_desktop.ui.projects_view import ProjectsView
from factor_desktop.ui.startup import when_painted
from factor_desktop.ui.status_bar import AppStatusBar
from factor_desktop.ui.tabs.clients import ClientsTab
from factor_desktop.ui.tabs.expenses import ExpensesTab
from factor_desktop.ui.tabs.invoices import InvoicesTab
from factor_desktop.ui.tabs.mappings import MappingsTab
from factor_desktop.ui.tabs.sync_log import SyncLogTab

if TYPE_CHECKING:
    # Only named: the window is painted before the store (SQLAlchemy) and the keyring are loaded.
    from factor_desktop.secrets import TokenStore
    from factor_desktop.store.db import Store
    from factor_desktop.views import Snapshot

log = logging.getLogger(__name__)

REFRESH_INTERVAL_MS = 30_000
WINDOW_SIZE = (1280, 800)
# The share of the screen a first window may take at most.
SCREEN_SHARE = 0.92
# Platforms whose screen is only a stand-in: nothing about it is worth remembering.
STAND_IN_PLATFORMS = ("offscreen", "minimal")
# How long a desktop notification stays up.
NOTIFY_MS = 15_000


def open_in_browser(url: str) -> bool:
    """Open `url` in the system's browser (or viewer); False when nothing could be launched."""
    return bool(QDesktopServices.openUrl(QUrl(url)))


def default_ui_settings() -> QSettings:
    """Where the window keeps its size and column widths (not firm data: the user's config)."""
    return QSettings(
        QSettings.Format.IniFormat, QSettings.Scope.UserScope, "Factor", "Factor Desktop"
    )


def fit_to_screen(wanted: QSize, available: QSize) -> QSize:
    """`wanted`, shrunk to fit inside `available` with room for the window's frame."""
    return QSize(
        min(wanted.width(), int(available.width() * SCREEN_SHARE)),
        min(wanted.height(), int(available.height() * SCREEN_SHARE)),
    )


def platform_title(title: str) -> str:
    """The title as the window system shows it: Qt adds " — <application display name>"
    unless the title is that name."""
    name = QGuiApplication.applicationDisplayName()
    if not name or title == name:
        return title
    return f"{title} \N{EM DASH} {name}" if title else name


class MainWindow(QMainWindow):
    TAB_CONNECTION = 0
    TAB_CLIENTS = 1
    TAB_MAPPINGS = 2
    TAB_INVOICES = 3
    TAB_PROJECTS = 4
    TAB_EXPENSES = 5
    TAB_LOG = 6
    TAB_NAMES = (
        "connection",
        "clients",
        "mappings",
        "invoices",
        "projects",
        "expenses",
        "sync-log",
    )

    snapshotApplied = Signal(object)  # Snapshot

    def __init__(
        self,
        store: Store | None = None,
        tokens: TokenStore | None = None,
        *,
        opener: ProfileOpener | None = None,
        title: str = "Factor Desktop",
        status_note: str | None = None,
        open_url: Callable[[str], object] = open_in_browser,
        refresh_interval_ms: int = REFRESH_INTERVAL_MS,
        env_factory: EnvFactory | None = None,
        ui_settings: QSettings | None = None,
        remember_layout: bool | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        if opener is not None:
            self.store_path = opener.path
        elif store is not None and tokens is not None:
            self.store_path = store.path
        else:
            raise TypeError("a window needs a store and its tokens, or an opener")
        self._title = title
        self._use_title(title)
        self.opener = opener
        # Why the firm's store could not be opened (a window built on an opener), or None.
        self.store_fault: str | None = None
        self.store_fault_box: QMessageBox | None = None
        self._opening: OpenStoreJob | None = None
        # Snapshots are read once the store is open (a window on an opener asks when it is).
        self._store_ready = opener is None
        self.open_url = open_url
        self.ui_settings = ui_settings if ui_settings is not None else default_ui_settings()
        # A window on a stand-in screen (tests, the screenshot command) leaves alone the size
        # and columns the administrator's real window keeps.
        self.remembers_layout = (
            remember_layout
            if remember_layout is not None
            else QGuiApplication.platformName() not in STAND_IN_PLATFORMS
        )
        self._snapshot: Snapshot | None = None
        self._shutdown_hooks: list[Callable[[], None]] = []
        self.closed = False
        self.tray: QSystemTrayIcon | None = None
        # The last desktop notification: (title, text), for the administrator and for tests.
        self.last_notification: tuple[str, str] | None = None

        self.connection_tab = ConnectionTab()
        if store is not None:
            self._show_notices(store.notices)
        self.clients_tab = ClientsTab()
        self.mappings_tab = MappingsTab()
        self.invoices_tab = InvoicesTab()
        self.projects_tab = ProjectsView()
        self.expenses_tab = ExpensesTab()
        self.log_tab = SyncLogTab()
        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        self.tabs.addTab(self.connection_tab, "Connection")
        self.tabs.addTab(self.clients_tab, "Clients && Projects")
        self.tabs.addTab(self.mappings_tab, "Mappings")
        self.tabs.addTab(self.invoices_tab, "Invoices")
        self.tabs.addTab(self.projects_tab, "Projects")
        self.tabs.addTab(self.expenses_tab, "Expenses")
        self.tabs.addTab(self.log_tab, "Sync Log")
        self.setCentralWidget(self.tabs)

        # The status bar: one row of fields that never overlap (see status_bar.py).
        self.status = AppStatusBar()
        self.setStatusBar(self.status)
        self.state_status = self.status.state
        self.busy_status = self.status.message
        self.sync_progress = self.status.progress.bar
        self.cancel_button = self.status.progress.cancel_button
        self.sync_status = self.status.last_sync
        self.next_sync_status = self.status.next_sync
        self.note_status = self.status.note
        self.data_status = self.status.data
        self.status.set_field(self.note_status, status_note or "")
        self.status.set_field(self.data_status, f"Data: {self.store_path}", str(self.store_path))
        self.sync_progress.hide()
        self.cancel_button.hide()

        # The toolbar's actions; the sync controller starts and stops the passes.
        self.sync_action = QAction("Sync Now", self)
        self.sync_action.setShortcut(QKeySequence("Ctrl+Shift+S"))
        self.preview_action = QAction("Preview Sync…", self)
        self.preview_action.setShortcut(QKeySequence("Ctrl+Shift+P"))
        self.cancel_action = QAction("Cancel Sync", self)
        self.cancel_action.setEnabled(False)
        self.toolbar = QToolBar("Sync", self)
        self.toolbar.setObjectName("sync-toolbar")
        self.toolbar.setMovable(False)
        self.toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        self.toolbar.addAction(self.sync_action)
        self.toolbar.addAction(self.preview_action)
        self.toolbar.addAction(self.cancel_action)
        self.addToolBar(Qt.ToolBarArea.TopToolBarArea, self.toolbar)
        self.menu_actions = build_menus(
            self, self.sync_action, self.preview_action, self.cancel_action
        )
        self.refresh_lists_action = self.menu_actions.refresh_lists
        self.connection_tab.use_sync_actions(self.sync_action, self.preview_action)

        if opener is not None:
            factory: EnvFactory = opener
        elif env_factory is not None:
            factory = env_factory
        else:
            assert store is not None and tokens is not None
            factory = default_env_factory(store, tokens)
        self.runner = JobRunner(factory, self)
        self.runner.snapshotReady.connect(self._on_snapshot)
        self.runner.busyChanged.connect(self._on_busy)
        self.expenses_tab.attach_runner(self.runner)
        self.clients_tab.attach_runner(self.runner)
        self.clients_tab.links.add_refresh_action(self.menu_actions.refresh_lists)
        self.invoices_tab.attach_runner(self.runner)
        self.projects_tab.attach_runner(self.runner)

        # Each area's requests are started, awaited and answered by its controller.
        self.connection = ConnectionController(self)
        self.sync = SyncController(self)
        self.mappings = MappingsController(self)
        self.imports = ImportsController(self)
        self.invoices = InvoicesController(self)
        self.updates = UpdatesController(self)
        self.dialogs = DialogsController(self)
        self.menu_actions.quit.triggered.connect(self.close)
        self.menu_actions.refresh.triggered.connect(self.refresh)
        self.sync.update_actions()

        # The first-run checklist (a dock), and Help > Getting Started to bring it back.
        self.first_run: FirstRunGuide = install_first_run(self)
        # Sync > Suggested Mappings…, the guide's step 4 and the Mappings tab's button.
        self.mapping_suggestions = install_mapping_suggestions(self)
        self.mapping_suggestions.applied.connect(self.mappings_tab.show_result)
        self.mappings_tab.header.addWidget(suggestions_button(self.mapping_suggestions))

        follow_palette()
        self._restored_tabs: set[int] = set()
        self._shown_once = False
        self._restore_geometry()

        self.refresh_timer = QTimer(self)
        self.refresh_timer.setInterval(refresh_interval_ms)
        self.refresh_timer.timeout.connect(self.refresh)
        if opener is None:
            self.refresh_timer.start()
            self.refresh()
        else:
            self.add_shutdown_hook(opener.close)
            self.status.set_busy(OpenStoreJob.title)
            # The worker's imports would hold Python's GIL and delay the first frame.
            when_painted(self, self.open_store)

    # -- state ------------------------------------------------------------------------------

    @property
    def snapshot(self) -> Snapshot | None:
        return self._snapshot

    def add_shutdown_hook(self, hook: Callable[[], None]) -> None:
        """Run `hook` on the GUI thread after the worker has stopped (e.g. stop the sandbox)."""
        self._shutdown_hooks.append(hook)

    @Slot()
    def refresh(self) -> None:
        if self._store_ready:
            self.runner.refresh()

    # -- opening the store (a window built on an opener) ------------------------------------

    @Slot()
    def open_store(self) -> OpenStoreJob | None:
        """Have the worker open the firm's store; once, on a window built on an opener."""
        if self.opener is None or self._opening is not None or self.closed:
            return None
        self._opening = OpenStoreJob(self.opener)
        spawn(self._store_opened(self.runner.run(self._opening)))
        return self._opening

    async def _store_opened(self, running: Awaitable[JobOutcome]) -> None:
        outcome = await running
        if outcome.cancelled or self.closed:
            return
        opened = outcome.result
        if not isinstance(opened, StoreOpened):
            self._store_failed(outcome.error or "The firm database could not be opened.")
            return
        self._show_notices(opened.notices)
        self._store_ready = True
        self.refresh_timer.start()
        self.refresh()
        if opened.check_for_updates:  # opted in; the feed is read on the worker
            self.updates.check_for_updates()

    def _show_notices(self, notices: list[str] | tuple[str, ...]) -> None:
        if notices:
            self.connection_tab.store_banner.show_message(
                "The firm database was repaired when it was opened", "\n".join(notices)
            )

    def _store_failed(self, message: str) -> None:
        """Say why the store could not be opened: on the Connection tab, and in a box whose
        Quit closes the window. Nothing else runs on the store."""
        self.store_fault = message
        title = "The firm database could not be opened"
        self.status.set_busy("")
        self.state_status.setText(title)
        self.connection_tab.store_banner.show_message(title, message, kind="error")
        self.tabs.setCurrentIndex(self.TAB_CONNECTION)
        self.sync.update_actions()
        box = QMessageBox(QMessageBox.Icon.Critical, "Factor Desktop", f"{title}.", parent=self)
        box.setInformativeText(message)
        quit_button = box.addButton("Quit", QMessageBox.ButtonRole.AcceptRole)
        box.addButton("Close", QMessageBox.ButtonRole.RejectRole)
        box.setDefaultButton(quit_button)
        quit_button.clicked.connect(self.close)
        self.store_fault_box = box
        box.open()

    def set_status_note(self, text: str) -> None:
        self.status.set_field(self.note_status, text)

    @Slot(object)
    def _on_snapshot(self, snapshot: Snapshot) -> None:
        first = self._snapshot is None
        self._snapshot = snapshot
        if first:
            freeze_long_lived("window open")
        self.connection.show_snapshot(snapshot, first)
        for tab in (
            self.clients_tab,
            self.mappings_tab,
            self.invoices_tab,
            self.expenses_tab,
            self.log_tab,
        ):
            tab.show_snapshot(snapshot)
        self.sync.show_last_sync(snapshot.last_sync)
        self.sync.update_actions()
        self.sync.schedule_auto_sync()
        self._restore_columns()
        self.snapshotApplied.emit(snapshot)

    @Slot(str)
    def _on_busy(self, title: str) -> None:
        # A routine refresh takes a moment; only work the administrator asked for is shown, and
        # a sync's own progress area already says what it does.
        sync = self.sync.job
        shown_elsewhere = sync is not None and title == sync.title
        self.status.set_busy("" if title == SnapshotJob.title or shown_elsewhere else title)
        self.connection.show_busy(title)

    @property
    def data_folder(self) -> Path:
        return DataDir.resolve(self.store_path.parent).root

    def notify(self, title: str, text: str) -> None:
        """A desktop notification: the tray's message when there is a tray, else the window
        asks for attention (a flashing taskbar entry)."""
        self.last_notification = (title, text)
        if QSystemTrayIcon.isSystemTrayAvailable():
            if self.tray is None:
                icon = self.windowIcon()
                self.tray = QSystemTrayIcon(icon if not icon.isNull() else QIcon(), self)
                self.tray.activated.connect(self._tray_activated)
            self.tray.show()
            self.tray.showMessage(title, text, QSystemTrayIcon.MessageIcon.Warning, NOTIFY_MS)
        else:
            QApplication.alert(self, NOTIFY_MS)

    @Slot(QSystemTrayIcon.ActivationReason)
    def _tray_activated(self, _reason: QSystemTrayIcon.ActivationReason) -> None:
        self.showNormal()
        self.activateWindow()

    # -- the title, size, colours --------------------------------------------------------

    def _use_title(self, title: str) -> None:
        """Show `title` as it is: Qt would add the application's name after a title that
        already starts with it ("Factor Desktop — Demo — Factor Desktop")."""
        name = QGuiApplication.applicationDisplayName()
        if name and title != name and title.startswith(name):
            QGuiApplication.setApplicationDisplayName(title)
        self.setWindowTitle(title)

    def _restore_geometry(self) -> None:
        """The size and place it had, else 1280x800; never larger than the screen."""
        saved = self.ui_settings.value("window/geometry")
        if isinstance(saved, QByteArray) and not saved.isEmpty():
            self.restoreGeometry(saved)
        else:
            self.resize(*WINDOW_SIZE)
        screen = self.screen() or QGuiApplication.primaryScreen()
        if screen is not None:
            fitted = fit_to_screen(self.size(), screen.availableGeometry().size())
            if fitted != self.size():
                self.resize(fitted)

    @Slot()
    def keep_on_screen(self) -> None:
        """Once the window manager has framed the window: frame and all inside the screen."""
        screen = self.screen()
        if screen is None or self.isMaximized() or self.isFullScreen():
            return
        available = screen.availableGeometry()
        frame = self.frameGeometry()
        if available.contains(frame) or QGuiApplication.platformName() in STAND_IN_PLATFORMS:
            return  # inside, or a screen that is only a stand-in (tests, screenshots)
        extra_w, extra_h = frame.width() - self.width(), frame.height() - self.height()
        width = min(self.width(), available.width() - extra_w)
        height = min(self.height(), available.height() - extra_h)
        if (width, height) != (self.width(), self.height()):
            self.resize(width, height)
        x = min(max(frame.x(), available.left()), available.right() + 1 - (width + extra_w))
        y = min(max(frame.y(), available.top()), available.bottom() + 1 - (height + extra_h))
        self.move(x, y)

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if not self._shown_once:
            self._shown_once = True
            # The frame's size is known only after the window manager has decorated it.
            QTimer.singleShot(300, self, self.keep_on_screen)

    def _headers(self, tab: QWidget | None) -> list[QHeaderView]:
        if tab is None:
            return []
        return [
            header
            for header in tab.findChildren(QHeaderView)
            if header.orientation() == Qt.Orientation.Horizontal
        ]

    def _restore_columns(self) -> None:
        """Column widths as the administrator left them, once each tab has fitted its own."""
        for index in range(self.tabs.count()):
            if index in self._restored_tabs:
                continue
            tab = self.tabs.widget(index)
            if not getattr(tab, "_fitted", True):
                continue  # the tab sizes its columns when its rows first arrive
            self._restored_tabs.add(index)
            for number, header in enumerate(self._headers(tab)):
                saved = self.ui_settings.value(f"columns/{self.TAB_NAMES[index]}/{number}")
                if isinstance(saved, QByteArray) and not saved.isEmpty():
                    header.restoreState(saved)

    def save_layout(self) -> None:
        """Remember the window's geometry and its columns' widths (the user's config file)."""
        if not self.remembers_layout:
            return
        settings = self.ui_settings
        settings.setValue("window/geometry", self.saveGeometry())
        for index in range(self.tabs.count()):
            if index not in self._restored_tabs:
                continue  # never fitted: nothing the administrator chose
            for number, header in enumerate(self._headers(self.tabs.widget(index))):
                settings.setValue(f"columns/{self.TAB_NAMES[index]}/{number}", header.saveState())
        settings.sync()

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        palette_changed = event.type() == QEvent.Type.PaletteChange
        # Text coloured through style sheets takes the new shades.
        if palette_changed and follow_palette() and self._snapshot is not None:
            self.connection.show_snapshot(self._snapshot, first=False)
            self.sync.show_last_sync(self._snapshot.last_sync)

    # -- closing ----------------------------------------------------------------------------

    def shutdown(self) -> None:
        """Stop the timer, cancel and join the worker, then run the shutdown hooks."""
        if self.closed:
            return
        self.closed = True
        self.refresh_timer.stop()
        self.sync.auto_sync_timer.stop()
        try:
            self.save_layout()
        except Exception:
            log.exception("The window's layout could not be saved")
        for dialog in (
            self.connection.connect_dialog,
            self.sync.preview_dialog,
            self.dialogs.settings_dialog,
            self.imports.problems_dialog,
            self.imports.import_dialog,
            self.dialogs.self_test_dialog,
            self.store_fault_box,
        ):
            if dialog is not None:
                dialog.reject()
        if self.tray is not None:
            self.tray.hide()
        self.runner.shutdown()
        hooks, self._shutdown_hooks = self._shutdown_hooks, []
        for hook in reversed(hooks):
            try:
                hook()
            except Exception:
                log.exception("A shutdown step failed")

    def closeEvent(self, event: QCloseEvent) -> None:
        self.shutdown()
        super().closeEvent(event)
