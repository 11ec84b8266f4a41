"""The window's menu bar: File, View, Sync and Help, with their shortcuts, and the About box.

The actions are made here and their slots live in the window's controllers; each action's
shortcut is shown in its menu (Qt does that) and at the end of its tooltip (`tip`).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

from PySide6 import __version__ as pyside_version
from PySide6.QtCore import QObject, Qt, qVersion
from PySide6.QtGui import QAction, QIcon, QKeySequence
from PySide6.QtWidgets import QMainWindow, QMenu, QMessageBox, QWidget

from factor_desktop import __version__
from factor_desktop.paths import resource_path

SELF_TEST_TIP = (
    "Run the whole loop against a local QuickBooks sandbox in a temporary folder: connect, "
    "map, sync, and draw each tab. This firm and its QuickBooks company are not touched."
)


def shortcut_text(action: QAction) -> str:
    """The action's first shortcut as the platform writes it ("Ctrl+Shift+S"), or ""."""
    shortcut = action.shortcut()
    return shortcut.toString(QKeySequence.SequenceFormat.NativeText) if shortcut else ""


def tip(action: QAction, text: str) -> None:
    """Set the action's tooltip to `text`, followed by its shortcut in brackets while the
    action can be used (a disabled action's tooltip says why instead)."""
    keys = shortcut_text(action) if action.isEnabled() else ""
    action.setToolTip(f"{text} ({keys})" if keys and text else text)


def _action(
    parent: QObject,
    text: str,
    shortcuts: list[QKeySequence] | None = None,
    tooltip: str = "",
) -> QAction:
    action = QAction(text, parent)
    if shortcuts:
        action.setShortcuts(shortcuts)
    action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
    tip(action, tooltip)
    return action


@dataclass
class MenuActions:
    import_file: QAction
    settings: QAction
    quit: QAction
    refresh: QAction
    refresh_lists: QAction
    suggest_mappings: QAction
    self_test: QAction
    documentation: QAction
    about: QAction


def build_menus(
    window: QMainWindow,
    sync: QAction,
    preview: QAction,
    cancel: QAction,
) -> MenuActions:
    """Make the menu bar of `window`; the sync actions are the window's own (toolbar too)."""
    keys = QKeySequence
    actions = MenuActions(
        import_file=_action(
            window,
            "&Import…",
            [keys("Ctrl+I")],
            "Import clients, projects, types, budgets and invoices from a JSON or CSV file.",
        ),
        settings=_action(
            window,
            "&Settings…",
            [keys("Ctrl+,")],
            "Automatic sync, creating customers and projects, invoice numbers, the QuickBooks "
            "environment.",
        ),
        quit=_action(window, "&Quit", [keys(keys.StandardKey.Quit)], "Close Factor Desktop."),
        refresh=_action(
            window,
            "&Refresh",
            [keys("Ctrl+R"), keys("F5")],
            "Read the firm's records again.",
        ),
        refresh_lists=_action(
            window,
            "Refresh QuickBooks &Lists",
            None,
            "Read QuickBooks' customers, items, accounts, tax codes and terms. Changes nothing "
            "in QuickBooks.",
        ),
        suggest_mappings=_action(
            window,
            "Suggested &Mappings…",
            None,
            "Service types, expense types and tax terms matched by name to the QuickBooks lists "
            "read, to accept all or some. Changes nothing in QuickBooks.",
        ),
        self_test=_action(window, "Run &Self-Test", None, SELF_TEST_TIP),
        documentation=_action(
            window,
            "&Documentation",
            [keys(keys.StandardKey.HelpContents)],
            "Open the guide to Factor Desktop.",
        ),
        about=_action(window, "&About Factor Desktop"),
    )
    # Usable once the window's suggested mappings are installed behind it.
    actions.suggest_mappings.setEnabled(False)
    actions.about.setMenuRole(QAction.MenuRole.AboutRole)
    actions.settings.setMenuRole(QAction.MenuRole.PreferencesRole)
    actions.quit.setMenuRole(QAction.MenuRole.QuitRole)

    bar = window.menuBar()
    file_menu = bar.addMenu("&File")
    file_menu.addAction(actions.import_file)
    file_menu.addAction(actions.settings)
    file_menu.addSeparator()
    file_menu.addAction(actions.quit)

    view_menu = bar.addMenu("&View")
    view_menu.addAction(actions.refresh)

    sync_menu = bar.addMenu("&Sync")
    sync_menu.addAction(sync)
    sync_menu.addAction(preview)
    sync_menu.addAction(cancel)
    sync_menu.addSeparator()
    sync_menu.addAction(actions.refresh_lists)
    sync_menu.addAction(actions.suggest_mappings)

    help_menu = bar.addMenu("&Help")
    help_menu.addAction(actions.self_test)
    help_menu.addAction(actions.documentation)
    help_menu.addSeparator()
    help_menu.addAction(actions.about)
    for menu in (file_menu, view_menu, sync_menu, help_menu):
        menu.setToolTipsVisible(True)
    return actions


def menu_titles(window: QMainWindow) -> list[str]:
    return [action.text().replace("&", "") for action in window.menuBar().actions()]


def menu_of(window: QMainWindow, title: str) -> QMenu:
    for action in window.menuBar().actions():
        if action.text().replace("&", "") == title:
            menu = action.menu()
            assert isinstance(menu, QMenu)
            return menu
    raise KeyError(title)


def documentation_path() -> Path | None:
    """The guide: README.md beside the package (a checkout) or shipped in the resources."""
    here = Path(__file__).resolve()
    for candidate in (here.parents[2] / "README.md", resource_path("README.md")):
        if candidate.is_file():
            return candidate
    return None


def about_text(data_folder: Path, data_file: Path | None = None) -> str:
    lines = [
        f"Factor Desktop {__version__}",
        "Keeps a firm's Factor records and its QuickBooks Online company in step.",
        "",
        f"Qt {qVersion()}, PySide6 {pyside_version}, Python {sys.version.split()[0]}",
        f"Data folder: {data_folder}",
    ]
    if data_file is not None:
        lines.append(f"This firm's data file: {data_file}")
    return "\n".join(lines)


def about_box(parent: QWidget, data_folder: Path, data_file: Path | None = None) -> QMessageBox:
    box = QMessageBox(parent)
    icon = resource_path("factor-desktop.png")  # drawn from resources/icons/factor-desktop.svg
    if icon.is_file():
        box.setIconPixmap(QIcon(str(icon)).pixmap(64, 64))
    else:
        box.setIcon(QMessageBox.Icon.Information)
    box.setWindowTitle("About Factor Desktop")
    box.setTextFormat(Qt.TextFormat.PlainText)
    box.setText(f"Factor Desktop {__version__}")
    box.setInformativeText(about_text(data_folder, data_file).split("\n", 1)[1])
    box.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    box.setStandardButtons(QMessageBox.StandardButton.Close)
    return box
