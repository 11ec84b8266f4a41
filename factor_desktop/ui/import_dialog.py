"""File > Import…: the file chooser, and what an import did or the list of problems that stopped
it.

The chooser opens in the folder the last import came from (remembered in the window's settings,
beside its geometry), else the user's Documents folder, else their home folder; never the folder
the program happened to be started from.

The import itself runs on the worker (`ImportJob`); an import is all or nothing, so when the
file has problems nothing was changed and every problem is listed here with its file, line,
field and reason, as the command line prints them.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSettings, QStandardPaths, Qt, Slot
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QHeaderView,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from factor_desktop.importer import Problem
from factor_desktop.ui.colors import ERROR_COLOR
from factor_desktop.ui.jobs_extra import ImportResult
from factor_desktop.ui.models.base import RowTableModel
from factor_desktop.ui.widgets import fit_columns, make_table, muted_label

#: Where the window's settings remember the folder of the last file imported.
LAST_FOLDER_KEY = "import/lastFolder"
NAME_FILTERS = ["Factor records (*.json *.csv)", "JSON (*.json)", "CSV (*.csv)", "All files (*)"]


def import_start_folder(settings: QSettings) -> Path:
    """The folder the last import came from if it is still there, else Documents, else home."""
    remembered = settings.value(LAST_FOLDER_KEY, "")
    if isinstance(remembered, str) and remembered and Path(remembered).is_dir():
        return Path(remembered)
    documents = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.DocumentsLocation)
    if documents and Path(documents).is_dir():
        return Path(documents)
    return Path.home()


def import_file_dialog(
    parent: QWidget, settings: QSettings, *, remember: bool = True
) -> QFileDialog:
    """The chooser for the file to import (JSON, or CSV named after its kind), opening where
    `import_start_folder` says; with `remember`, the folder of the file chosen is kept for next
    time. Not shown yet: the caller connects `fileSelected` and opens it."""
    dialog = QFileDialog(parent, "Import Factor records", str(import_start_folder(settings)))
    dialog.setFileMode(QFileDialog.FileMode.ExistingFile)
    dialog.setNameFilters(NAME_FILTERS)

    def chosen(path: str) -> None:
        if path and remember:
            settings.setValue(LAST_FOLDER_KEY, str(Path(path).parent))
            settings.sync()

    dialog.fileSelected.connect(chosen)
    return dialog


def import_summary_text(result: ImportResult) -> str:
    """A sentence on what an import did: "Imported firm.json: 3 clients created; …"."""
    summary = result.summary
    name = Path(result.source).name
    if summary is None:
        return f"Nothing was imported from {name}."
    if not summary.counts:
        return f"{name} holds no records to import."
    if not summary.changed:
        return f"Nothing changed: everything in {name} is already in Factor Desktop."
    parts: list[str] = []
    for action in ("created", "updated"):
        items = [
            f"{getattr(counts, action)} {kind.replace('_', ' ')}"
            for kind, counts in summary.counts.items()
            if getattr(counts, action)
        ]
        if items:
            parts.append(f"{', '.join(items)} {action}")
    return f"Imported {name}: {'; '.join(parts)}."


class ProblemTableModel(RowTableModel[Problem]):
    COL_FILE = 0
    COL_LINE = 1
    COL_FIELD = 2
    COL_REASON = 3
    HEADERS = ("File", "Line", "Field", "Reason")
    NUMBER_COLUMNS = frozenset({COL_LINE})

    def display(self, row: Problem, column: int) -> str:
        if column == self.COL_FILE:
            return Path(row.file).name or row.file
        if column == self.COL_LINE:
            return str(row.line) if row.line is not None else ""
        if column == self.COL_FIELD:
            return row.where or ""
        if column == self.COL_REASON:
            return row.reason
        return ""

    def sort_key(self, row: Problem, column: int) -> object:
        if column == self.COL_LINE:
            return row.line if row.line is not None else -1
        return self.display(row, column).casefold()

    def tooltip(self, row: Problem, column: int) -> str | None:
        if column == self.COL_FILE:
            return row.file
        if column == self.COL_REASON:
            return row.reason
        return None


class ImportProblemsDialog(QDialog):
    """Why nothing was imported: one row per problem, and a Copy button for all of them."""

    def __init__(self, result: ImportResult, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Nothing was imported")
        self.resize(860, 420)
        self.result_ = result
        count = len(result.problems)
        name = Path(result.source).name
        if count:
            headline = (
                f"Nothing was imported from {name}: {count} problem{'s' if count != 1 else ''} "
                "found."
            )
            advice = (
                "An import is all or nothing, so the firm's records are as they were. Fix the "
                "rows below (lines count as a text editor or spreadsheet shows them) and import "
                "the file again."
            )
        else:
            headline = f"Nothing was imported from {name}."
            advice = result.error or "The log file has the details."
        self.headline = QLabel(headline)
        self.headline.setTextFormat(Qt.TextFormat.PlainText)
        self.headline.setWordWrap(True)
        font = self.headline.font()
        font.setBold(True)
        self.headline.setFont(font)
        self.headline.setStyleSheet(f"color: {ERROR_COLOR.name()};")
        self.advice = muted_label(advice)
        self.model = ProblemTableModel(self)
        self.model.set_rows(result.problems)
        self.view = make_table(
            self.model,
            (ProblemTableModel.COL_REASON,),
            "No problems were listed.",
        )
        self.view.setWordWrap(True)
        fit_columns(self.view, maximum=220)
        # A long reason wraps onto more lines rather than being cut.
        self.view.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.view.setVisible(bool(count))
        buttons = QDialogButtonBox()
        self.copy_button: QPushButton = buttons.addButton(
            "Copy the list", QDialogButtonBox.ButtonRole.ActionRole
        )
        self.copy_button.setVisible(bool(count))
        self.copy_button.clicked.connect(self.copy_problems)
        buttons.addButton(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 16, 16, 12)
        layout.addWidget(self.headline)
        layout.addWidget(self.advice)
        layout.addWidget(self.view, 1)
        layout.addWidget(buttons)

    def problems_text(self) -> str:
        """The problems one per line, as the command line prints them."""
        return "\n".join(str(problem) for problem in self.result_.problems)

    @Slot()
    def copy_problems(self) -> None:
        QGuiApplication.clipboard().setText(self.problems_text())
