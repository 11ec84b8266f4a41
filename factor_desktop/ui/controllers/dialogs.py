"""The window's own dialogs from the File and Help menus: Settings, the guide, About, and the
self-test (which runs in a process of its own)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QUrl, Slot
from PySide6.QtWidgets import QMessageBox

from factor_desktop.ui.menus import about_box, documentation_path

if TYPE_CHECKING:
    from factor_desktop.ui.main_window import MainWindow
    from factor_desktop.ui.selftest_gui import SelfTestDialog
    from factor_desktop.ui.settings_dialog import SettingsDialog

# The dialogs are imported when they are first opened, not before the window's first paint.


class DialogsController(QObject):
    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self._window = window
        self.settings_dialog: SettingsDialog | None = None
        self.about_dialog: QMessageBox | None = None
        self.self_test_dialog: SelfTestDialog | None = None
        actions = window.menu_actions
        actions.settings.triggered.connect(self.open_settings)
        actions.documentation.triggered.connect(self.open_documentation)
        actions.about.triggered.connect(self.show_about)
        actions.self_test.triggered.connect(self.run_self_test)

    @Slot()
    def open_settings(self) -> SettingsDialog:
        if self.settings_dialog is not None and self.settings_dialog.isVisible():
            self.settings_dialog.raise_()
            return self.settings_dialog
        from factor_desktop.ui.settings_dialog import SettingsDialog

        dialog = SettingsDialog(self._window.runner, self._window)
        dialog.saved.connect(self._settings_saved)
        dialog.finished.connect(self._settings_closed)
        self.settings_dialog = dialog
        dialog.open()
        return dialog

    @Slot(object)
    def _settings_saved(self, _settings: object) -> None:
        self._window.statusBar().showMessage("Settings saved.", 10_000)

    @Slot(int)
    def _settings_closed(self, _result: int) -> None:
        dialog, self.settings_dialog = self.settings_dialog, None
        if dialog is not None:
            dialog.deleteLater()

    @Slot()
    def open_documentation(self) -> bool:
        path = documentation_path()
        if path is None:
            self._window.statusBar().showMessage(
                "The guide is not installed with this copy; see README.md in the source.", 15_000
            )
            return False
        opened = self._window.open_url(QUrl.fromLocalFile(str(path)).toString())
        if opened is False:
            self._window.statusBar().showMessage(f"No viewer could open the guide: {path}", 30_000)
            return False
        return True

    @Slot()
    def show_about(self) -> QMessageBox:
        if self.about_dialog is not None:
            self.about_dialog.close()
        box = about_box(self._window, self._window.data_folder, self._window.store_path)
        box.finished.connect(box.deleteLater)
        self.about_dialog = box
        box.open()
        return box

    @Slot()
    def run_self_test(self) -> SelfTestDialog:
        """The self-test in a process of its own; its lines show in a dialog as they come."""
        if self.self_test_dialog is not None and self.self_test_dialog.running():
            self.self_test_dialog.raise_()
            return self.self_test_dialog
        from factor_desktop.ui.selftest_gui import SelfTestDialog

        dialog = SelfTestDialog(self._window)
        dialog.finished.connect(self._self_test_closed)
        self.self_test_dialog = dialog
        dialog.open()
        return dialog

    @Slot(int)
    def _self_test_closed(self, _result: int) -> None:
        dialog, self.self_test_dialog = self.self_test_dialog, None
        if dialog is not None:
            dialog.deleteLater()
