"""Suggested mappings in the window: `map suggest`'s proposals, to accept all, some or none.

Every service type, expense type and tax term not mapped yet whose name matches a record of the
QuickBooks lists read so far (case, "&"/"and", punctuation and a trailing "Consultants" or
"Fees" aside) is listed with the record proposed and why; the ones with no suggestion are listed
greyed, with the reason. The proposals are worked out and accepted on the worker thread, by the
same service code as `map suggest [--apply]` (`services.suggest`), so each mapping goes through
the same checks as a drop on the Mappings tab. Nothing is written to QuickBooks: mappings are
saved in the firm's file.

* `SuggestMappingsJob` and `ApplyMappingSuggestionsJob`: the two jobs.
* `MappingSuggestionsDialog`: the table with a tick per proposal, Accept ticked / Accept all.
* `MappingSuggestions`: asks for the proposals, opens the dialog, applies what was accepted and
  shows the result in the dialog (whose list is then read again). `install` makes one for a
  window, behind the Sync menu's "Suggested Mappings…".
"""

from __future__ import annotations

from collections.abc import Awaitable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Qt, Signal, Slot
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from factor_desktop.domain.kinds import ENTITY_LABEL, LOCAL_LABEL, TAX_RULE_TEXT, MappingKind
from factor_desktop.services.errors import ServiceError
from factor_desktop.ui.colors import MUTED_COLOR
from factor_desktop.ui.formatting import plain_error
from factor_desktop.ui.jobs import Job, JobEnv, JobOutcome, JobRunner, Report, spawn
from factor_desktop.ui.widgets import Banner, muted_label

if TYPE_CHECKING:
    # The proposals are made and applied on the worker (SQLAlchemy), when they are asked for.
    from factor_desktop.services.suggest import MappingSuggestion, Suggestions, Unmatched
    from factor_desktop.ui.main_window import MainWindow

# The widest the Factor type and QuickBooks record columns start (logical pixels): the reason
# takes the rest, and every cell's tooltip has its full text.
NAME_COLUMN_CAP = 240
RECORD_COLUMN_CAP = 300


# --- the jobs ---------------------------------------------------------------------------------


class SuggestMappingsJob(Job):
    """`map suggest`'s proposals, from the lists last read (nothing is changed)."""

    kind = "suggest_mappings"
    title = "Looking for matching QuickBooks records…"
    refreshes_snapshot = False

    def run(self, env: JobEnv, report: Report) -> Suggestions:
        from factor_desktop.services.suggest import suggest

        with env.store.session() as session:
            return suggest(session)


@dataclass(frozen=True)
class MappingsApplied:
    """What accepting suggestions did: a sentence per mapping made and per refusal."""

    done: tuple[str, ...]
    refused: tuple[str, ...]

    @property
    def message(self) -> str:
        asked = len(self.done) + len(self.refused)
        text = f"Mapped {len(self.done)} of the {asked} accepted."
        if self.refused:
            text += " " + " ".join(self.refused)
        return text + " Nothing was written to QuickBooks."


class ApplyMappingSuggestionsJob(Job):
    """Map the accepted suggestions as `map suggest --apply` does; a refused one leaves the
    others mapped and says why."""

    kind = "apply_mapping_suggestions"
    title = "Saving the mappings…"
    expected_errors = (ServiceError,)

    def __init__(self, suggestions: Sequence[MappingSuggestion]) -> None:
        super().__init__()
        self.suggestions = tuple(suggestions)

    def run(self, env: JobEnv, report: Report) -> MappingsApplied:
        from factor_desktop.services.suggest import apply_suggestions

        with env.store.session() as session:
            done, refused = apply_suggestions(session, self.suggestions)
        return MappingsApplied(tuple(done), tuple(refused))


# --- the dialog -------------------------------------------------------------------------------


def kind_text(kind: str) -> str:
    """ "Service type", "Expense type (product/service)", ... for the Kind column."""
    label = LOCAL_LABEL[kind]
    if kind == MappingKind.EXPENSE_TYPE_ITEM:
        label += " (product/service)"
    return label[:1].upper() + label[1:]


def record_text(suggestion: MappingSuggestion) -> str:
    return f"{suggestion.qbo_name} (Id {suggestion.qbo_id})"


def record_tooltip(suggestion: MappingSuggestion) -> str:
    what = ENTITY_LABEL[suggestion.qbo_entity]
    return f"The QuickBooks {what} {suggestion.qbo_name!r} (Id {suggestion.qbo_id})."


def reason_text(suggestion: MappingSuggestion) -> str:
    text = suggestion.reason
    if suggestion.tax_rule is not None:
        text += (
            f"; the rates differ, so {TAX_RULE_TEXT[suggestion.tax_rule].lower()} "
            f"({suggestion.tax_rule})"
        )
    return text


def already_text(already: dict[str, int]) -> str:
    parts = [
        f"{count} {LOCAL_LABEL[kind]}{'s' if count != 1 else ''}"
        + (" (product/service)" if kind == MappingKind.EXPENSE_TYPE_ITEM else "")
        for kind, count in already.items()
    ]
    return f"Already mapped, left as they are: {', '.join(parts)}." if parts else ""


def _cell(text: str, tooltip: str | None = None) -> QTableWidgetItem:
    item = QTableWidgetItem(text)
    item.setToolTip(tooltip if tooltip is not None else text)
    item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable)
    return item


class MappingSuggestionsDialog(QDialog):
    """The proposals, ticked to be accepted; the types with none, greyed with why.

    "Accept ticked" and "Accept all" emit `acceptedSuggestions` with the suggestions chosen;
    the dialog stays open to show what mapping them did (`show_result`) and its list read again
    (`show_suggestions`). Nothing is saved here.
    """

    acceptedSuggestions = Signal(object)  # tuple[MappingSuggestion, ...]

    COL_TYPE = 0
    COL_KIND = 1
    COL_RECORD = 2
    COL_WHY = 3
    HEADERS = ("Factor type", "Kind", "QuickBooks record", "Why")

    def __init__(self, found: Suggestions, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Suggested mappings")
        self.setObjectName("suggested-mappings")
        intro = muted_label(
            "Service types, expense types and tax terms not mapped yet, with the QuickBooks "
            "record of the same name (case, '&'/'and', punctuation and a trailing "
            '"Consultants" or "Fees" aside). Accepting saves the mappings in the firm\'s '
            "file; nothing is written to QuickBooks, and the Mappings tab changes any of them."
        )
        self.result_banner = Banner("info")
        dismiss = self.result_banner.add_button("Dismiss")
        dismiss.clicked.connect(self.result_banner.clear)
        self.empty_label = muted_label()
        self.table = QTableWidget(0, len(self.HEADERS))
        self.table.setHorizontalHeaderLabels(list(self.HEADERS))
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setWordWrap(False)
        self.table.setTextElideMode(Qt.TextElideMode.ElideRight)
        header = self.table.horizontalHeader()
        header.setStretchLastSection(True)
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.already_label = muted_label()
        self.buttons = QDialogButtonBox()
        self.accept_selected = self.buttons.addButton(
            "Accept ticked", QDialogButtonBox.ButtonRole.ActionRole
        )
        self.accept_all = self.buttons.addButton(
            "Accept all", QDialogButtonBox.ButtonRole.ActionRole
        )
        self.close_button = self.buttons.addButton(QDialogButtonBox.StandardButton.Close)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.result_banner)
        layout.addWidget(self.empty_label)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.already_label)
        layout.addWidget(self.buttons)
        self.resize(860, 480)
        self.table.itemChanged.connect(self._update_buttons)
        self.accept_selected.clicked.connect(self._accept_ticked)
        self.accept_all.clicked.connect(self._accept_all)
        self.buttons.rejected.connect(self.reject)
        self.suggestions: tuple[MappingSuggestion, ...] = ()
        self.unmatched: tuple[Unmatched, ...] = ()
        self._busy = False
        self.show_suggestions(found)

    # -- the list ----------------------------------------------------------------------------

    def show_suggestions(self, found: Suggestions) -> None:
        self.suggestions = tuple(found.mappings)
        self.unmatched = tuple(found.unmatched)
        table = self.table
        table.setRowCount(len(self.suggestions) + len(self.unmatched))
        for row, suggestion in enumerate(self.suggestions):
            name = _cell(suggestion.local_name)
            name.setFlags(name.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            name.setCheckState(Qt.CheckState.Checked)
            table.setItem(row, self.COL_TYPE, name)
            table.setItem(row, self.COL_KIND, _cell(kind_text(suggestion.kind)))
            record = _cell(record_text(suggestion), record_tooltip(suggestion))
            table.setItem(row, self.COL_RECORD, record)
            table.setItem(row, self.COL_WHY, _cell(reason_text(suggestion)))
        for offset, unmatched in enumerate(self.unmatched):
            row = len(self.suggestions) + offset
            cells = (
                _cell(unmatched.local_name),
                _cell(kind_text(unmatched.kind)),
                _cell("No suggestion", "Map it by hand on the Mappings tab."),
                _cell(unmatched.reason),
            )
            for column, cell in enumerate(cells):
                # Greyed and not tickable: there is nothing to accept.
                cell.setFlags(Qt.ItemFlag.NoItemFlags)
                cell.setForeground(MUTED_COLOR)
                table.setItem(row, column, cell)
        if not found.lists_read:
            empty = (
                "No QuickBooks lists have been read yet: Sync > Refresh QuickBooks Lists reads "
                "them (and writes nothing to QuickBooks)."
            )
        elif not self.suggestions and not self.unmatched:
            empty = "Every service type, expense type and tax term is mapped already."
        elif not self.suggestions:
            empty = "No type left to map has a QuickBooks record of the same name."
        else:
            empty = ""
        self.empty_label.setText(empty)
        self.empty_label.setVisible(bool(empty))
        self.already_label.setText(already_text(found.already_mapped))
        self.already_label.setVisible(bool(found.already_mapped))
        # No cell starts current: its focus frame would look like a box to fill in.
        table.setCurrentCell(-1, -1)
        self._fit_columns()
        self._update_buttons()

    def _fit_columns(self) -> None:
        """Each column to its contents, the names and records capped so the reason (which
        stretches) stays in sight at 1024 pixels wide."""
        table = self.table
        header = table.horizontalHeader()
        caps = {self.COL_TYPE: NAME_COLUMN_CAP, self.COL_RECORD: RECORD_COLUMN_CAP}
        for column in (self.COL_TYPE, self.COL_KIND, self.COL_RECORD):
            table.resizeColumnToContents(column)
            cap = caps.get(column)
            if cap is not None and header.sectionSize(column) > cap:
                header.resizeSection(column, cap)

    def set_ticked(self, row: int, ticked: bool) -> None:
        item = self.table.item(row, self.COL_TYPE)
        if item is not None and item.flags() & Qt.ItemFlag.ItemIsUserCheckable:
            item.setCheckState(Qt.CheckState.Checked if ticked else Qt.CheckState.Unchecked)

    def ticked(self) -> tuple[MappingSuggestion, ...]:
        chosen: list[MappingSuggestion] = []
        for row, suggestion in enumerate(self.suggestions):
            item = self.table.item(row, self.COL_TYPE)
            if item is not None and item.checkState() == Qt.CheckState.Checked:
                chosen.append(suggestion)
        return tuple(chosen)

    # -- accepting ---------------------------------------------------------------------------

    def set_busy(self, busy: bool) -> None:
        """While accepted suggestions are being saved, they can't be accepted again."""
        self._busy = busy
        if busy:
            self.result_banner.show_message("Saving the mappings…", "", "info")
        self._update_buttons()

    def show_result(self, title: str, message: str, kind: str = "info") -> None:
        self.result_banner.show_message(title, message, kind)

    @Slot()
    def _update_buttons(self, *_args: object) -> None:
        some = bool(self.suggestions) and not self._busy
        self.accept_selected.setEnabled(some and bool(self.ticked()))
        self.accept_all.setEnabled(some)

    @Slot()
    def _accept_ticked(self) -> None:
        chosen = self.ticked()
        if chosen:
            self.acceptedSuggestions.emit(chosen)

    @Slot()
    def _accept_all(self) -> None:
        if self.suggestions:
            self.acceptedSuggestions.emit(self.suggestions)


# --- asking the worker --------------------------------------------------------------------------


class MappingSuggestions(QObject):
    """Opens the suggested mappings for a window: the proposals and the accepted mappings are
    worked out on the window's worker (`runner`); the dialog shows what was done.

    `applied` (ok, message) is emitted when accepted suggestions have been saved or refused;
    the runner reads the window's snapshot again afterwards, as after any change.
    """

    applied = Signal(bool, str)

    def __init__(self, runner: JobRunner, parent_widget: QWidget) -> None:
        super().__init__(parent_widget)
        self.runner = runner
        self.parent_widget = parent_widget
        self.dialog: MappingSuggestionsDialog | None = None
        self._suggest_job: SuggestMappingsJob | None = None
        self._apply_job: ApplyMappingSuggestionsJob | None = None

    @Slot()
    def show_suggestions(self) -> SuggestMappingsJob:
        """Ask the worker for the proposals; they open (or refresh) the dialog."""
        job = SuggestMappingsJob()
        self._suggest_job = job
        spawn(self._suggested(job, self.runner.run(job)))
        return job

    def _open(self, found: Suggestions) -> MappingSuggestionsDialog:
        if self.dialog is not None:
            # Open already (window-modal, so in front of the window): its list is read again.
            self.dialog.show_suggestions(found)
            self.dialog.activateWindow()
            return self.dialog
        dialog = MappingSuggestionsDialog(found, self.parent_widget)
        dialog.acceptedSuggestions.connect(self.apply)
        dialog.finished.connect(self._closed)
        self.dialog = dialog
        dialog.open()
        return dialog

    @Slot(object)
    def apply(self, suggestions: Sequence[MappingSuggestion]) -> ApplyMappingSuggestionsJob | None:
        if not suggestions or self._apply_job is not None:
            return None
        job = ApplyMappingSuggestionsJob(suggestions)
        self._apply_job = job
        if self.dialog is not None:
            self.dialog.set_busy(True)
        spawn(self._applied(job, self.runner.run(job)))
        return job

    @Slot(int)
    def _closed(self, _result: int) -> None:
        dialog, self.dialog = self.dialog, None
        if dialog is not None:
            dialog.deleteLater()

    async def _suggested(self, job: SuggestMappingsJob, pending: Awaitable[JobOutcome]) -> None:
        from factor_desktop.services.suggest import Suggestions  # loaded by the job already

        outcome = await pending
        if self._suggest_job is job:
            self._suggest_job = None
        if outcome.ok and isinstance(outcome.result, Suggestions):
            self._open(outcome.result)
        elif outcome.error and self.dialog is not None:
            self.dialog.show_result("No suggestions", plain_error(outcome.error).text, "error")
        elif outcome.error:
            self.applied.emit(False, plain_error(outcome.error).text)

    async def _applied(
        self, job: ApplyMappingSuggestionsJob, pending: Awaitable[JobOutcome]
    ) -> None:
        outcome = await pending
        self._apply_job = None
        dialog = self.dialog
        if dialog is not None:
            dialog.set_busy(False)
        if outcome.cancelled:
            return
        result = outcome.result
        if outcome.error is not None or not isinstance(result, MappingsApplied):
            message = plain_error(outcome.error).text if outcome.error else "Nothing was mapped."
            if dialog is not None:
                dialog.show_result("Not mapped", message, "error")
            self.applied.emit(False, message)
            return
        title = "Mapped" if not result.refused else "Mapped, with some refused"
        if dialog is not None:
            dialog.show_result(title, result.message, "warning" if result.refused else "info")
            # What is left to suggest, now that these are mapped.
            self.show_suggestions()
        self.applied.emit(not result.refused, result.message)


def suggestions_button(suggestions: MappingSuggestions) -> QPushButton:
    """A "Suggested mappings…" button opening `suggestions` (for the Mappings tab)."""
    button = QPushButton("Suggested mappings…")
    button.setToolTip(
        "Service types, expense types and tax terms matched by name to QuickBooks records, "
        "to accept all or some."
    )
    button.clicked.connect(suggestions.show_suggestions)
    return button


def install(window: MainWindow) -> MappingSuggestions:
    """The suggested mappings for `window`, behind its Sync > Suggested Mappings… action."""
    suggestions = MappingSuggestions(window.runner, window)
    action = window.menu_actions.suggest_mappings
    action.triggered.connect(suggestions.show_suggestions)
    action.setEnabled(True)
    return suggestions
