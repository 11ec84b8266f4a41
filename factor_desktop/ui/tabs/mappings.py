"""The Mappings tab: Factor types beside the QuickBooks records dragged onto them."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import (
    QEvent,
    QModelIndex,
    QObject,
    QPoint,
    QSortFilterProxyModel,
    Qt,
    Signal,
    Slot,
)
from PySide6.QtGui import QAction, QKeyEvent, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMenu,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from factor_desktop.domain.kinds import ENTITY_LABEL, LOCAL_LABEL, QBO_ENTITY_FOR_KIND
from factor_desktop.ui.mapping_chooser import MappingChooser
from factor_desktop.ui.models.mappings import (
    ExpenseTypeMappingModel,
    MappingTableModel,
    ServiceTypeMappingModel,
    TaxTermMappingModel,
)
from factor_desktop.ui.models.qbo_records import QboCandidateFilter, QboCandidateModel
from factor_desktop.ui.tax_rule_dialog import TaxRuleDialog, rates_differ
from factor_desktop.ui.widgets import Banner, fit_columns, grow_columns, make_table, muted_label
from factor_desktop.views import TaxTermRow

if TYPE_CHECKING:
    from factor_desktop.views import MappedRecord, Snapshot


class MappingSection(QGroupBox):
    """One kind of Factor type (a drop target) beside the QuickBooks records to drag onto it."""

    def __init__(
        self,
        model: MappingTableModel[Any],
        stretch_columns: tuple[int, ...],
        placeholder: str,
        candidates: QboCandidateModel,
        hint: str,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.model = model
        self.candidates = candidates
        self.candidate_filter = QboCandidateFilter(self)
        self.view = make_table(model, stretch_columns, placeholder)
        self.view.setDragDropMode(QAbstractItemView.DragDropMode.DropOnly)
        self.view.setDragDropOverwriteMode(True)
        self.view.setDropIndicatorShown(True)
        self.view.setDefaultDropAction(Qt.DropAction.CopyAction)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.view.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.candidate_view = make_table(
            candidates,
            (QboCandidateModel.COL_NAME, QboCandidateModel.COL_USED_BY),
            "Nothing read from QuickBooks yet. Sync Now reads the company's lists.",
            proxy=self.candidate_filter,
        )
        self.candidate_view.setDragDropMode(QAbstractItemView.DragDropMode.DragOnly)
        self.candidate_view.setDragEnabled(True)
        self.candidate_view.setDefaultDropAction(Qt.DropAction.CopyAction)
        self.candidate_view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        # The filter box above it takes no room from the window's smallest size (1024x700).
        self.candidate_view.setMinimumHeight(44)
        self.hint = muted_label(hint)
        self.search = QLineEdit()
        self.search.setPlaceholderText("Filter by name, type or Id")
        self.search.setClearButtonEnabled(True)
        self.search.textChanged.connect(self.candidate_filter.set_text)
        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(0, 0, 0, 0)
        right_layout.setSpacing(4)
        right_layout.addWidget(self.hint)
        right_layout.addWidget(self.search)
        right_layout.addWidget(self.candidate_view, 1)
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.setChildrenCollapsible(False)
        splitter.addWidget(self.view)
        splitter.addWidget(right)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 2)
        splitter.setSizes([800, 400])
        inner = QVBoxLayout(self)
        inner.setContentsMargins(8, 8, 8, 8)
        inner.addWidget(splitter)

    def fit(self) -> None:
        fit_columns(self.view)

    def row_at(self, proxy_index: Any) -> Any:
        """The Factor type shown at `proxy_index` of the table, and the source column."""
        proxy = self.view.model()
        assert isinstance(proxy, QSortFilterProxyModel)
        source = proxy.mapToSource(proxy_index)
        return self.model.row_at(source.row()), source.column()


class MappingsTab(QWidget):
    """Service types, expense types and tax terms, mapped by dragging QuickBooks records on them
    or by choosing one in the chooser that Enter or a double-click opens (`MappingChooser`).

    A drop, a choice or a clear is a request (`mappingRequested`, `clearRequested`) that the
    window's worker carries out; `show_result()` tells how it went, and the next snapshot shows
    it. Ctrl+Z (or "Undo") asks to put back the mapping of the last change (`undoRequested`).
    """

    # kind, Factor type id, QuickBooks Id, QuickBooks entity
    mappingRequested = Signal(str, int, str, str)
    # kind, Factor type id
    clearRequested = Signal(str, int)
    # tax term id, QuickBooks tax code Id, rule ("override" or "accept"): a code of another rate
    taxMappingRequested = Signal(int, str, str)
    undoRequested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.service_model = ServiceTypeMappingModel(self)
        self.expense_model = ExpenseTypeMappingModel(self)
        self.tax_model = TaxTermMappingModel(self)
        self.item_candidates = QboCandidateModel(self)
        self.expense_candidates = QboCandidateModel(self, show_entity=True)
        self.tax_candidates = QboCandidateModel(self)
        self.service_section = MappingSection(
            self.service_model,
            (ServiceTypeMappingModel.COL_DESCRIPTION, ServiceTypeMappingModel.COL_ITEM),
            "No service types yet.",
            self.item_candidates,
            "Drag a product/service onto a service type:",
        )
        self.expense_section = MappingSection(
            self.expense_model,
            (ExpenseTypeMappingModel.COL_ACCOUNT, ExpenseTypeMappingModel.COL_ITEM),
            "No expense types yet.",
            self.expense_candidates,
            "Drag an account or product/service onto an expense type:",
        )
        self.tax_section = MappingSection(
            self.tax_model,
            (TaxTermMappingModel.COL_TAX_CODE,),
            "No tax terms yet.",
            self.tax_candidates,
            "Drag a tax code onto a tax term:",
        )
        self.sections = (self.service_section, self.expense_section, self.tax_section)
        self.service_view, self.expense_view, self.tax_view = (s.view for s in self.sections)
        self.service_box, self.expense_box, self.tax_box = self.sections

        self.message_bar = Banner("info")
        dismiss = self.message_bar.add_button("Dismiss")
        dismiss.clicked.connect(self.message_bar.clear)
        self.coverage_label = QLabel()
        self.coverage_label.setTextFormat(Qt.TextFormat.PlainText)
        self.coverage_label.setWordWrap(True)

        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.setChildrenCollapsible(False)
        for section in self.sections:
            splitter.addWidget(section)
        splitter.setSizes([260, 300, 180])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 12, 12, 12)
        layout.setSpacing(8)
        layout.addWidget(self.message_bar)
        # The count of what is mapped, and room at its right for the suggestions' button.
        self.header = QHBoxLayout()
        self.header.addWidget(self.coverage_label, 1)
        self.undo_action = QAction("Undo mapping change", self)
        self.undo_action.setShortcuts(QKeySequence.StandardKey.Undo)
        self.undo_action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        self.addAction(self.undo_action)
        self.undo_button = QPushButton("Undo")
        self.header.addWidget(self.undo_button)
        self.undo_button.clicked.connect(self.undoRequested)
        self.undo_action.triggered.connect(self.undoRequested)
        self.set_undo(None)
        layout.addLayout(self.header)
        layout.addWidget(
            muted_label(
                "Drag a QuickBooks record from a list on the right onto a Factor type, or press "
                "Enter (or double-click) on the type to choose one; Delete (or right-click) "
                "clears a mapping. Unmapped types, in orange, hold back the invoices and "
                "expenses that use them."
            )
        )
        layout.addWidget(splitter, 1)
        self._fitted = False

        for section in self.sections:
            if section is self.tax_section:
                # A code of another rate asks how to reconcile before anything is requested.
                section.model.mappingRequested.connect(self._tax_code_dropped)
            else:
                section.model.mappingRequested.connect(self.mappingRequested)
            section.model.dropRefused.connect(self._drop_refused)
            section.view.installEventFilter(self)
            section.view.customContextMenuRequested.connect(self._context_menu)
            section.view.doubleClicked.connect(self._double_clicked)
        self.context_menu: QMenu | None = None
        self.tax_rule_dialog: TaxRuleDialog | None = None
        self.chooser: MappingChooser | None = None

    # -- results ----------------------------------------------------------------------------

    def set_undo(self, message: str | None) -> None:
        """What Ctrl+Z and "Undo" would undo now (None: nothing, so both are disabled)."""
        self.undo_action.setEnabled(message is not None)
        self.undo_button.setEnabled(message is not None)
        shortcut = self.undo_action.shortcut().toString()
        self.undo_button.setToolTip(
            f"Undo: {message} ({shortcut})"
            if message is not None
            else f"Undo the last mapping change ({shortcut})."
        )

    def show_result(self, ok: bool, message: str) -> None:
        """How a mapping request went: saved (info) or refused, with the reason."""
        if ok:
            self.message_bar.show_message("Mapping saved", message, "info")
        else:
            self.message_bar.show_message("The mapping was refused", message, "error")

    @Slot(str)
    def _drop_refused(self, message: str) -> None:
        self.show_result(False, message)

    @Slot(str, int, str, str)
    def _tax_code_dropped(self, kind: str, local_id: int, qbo_id: str, entity: str) -> None:
        """A record dropped on a tax term: a code of the term's rate is requested at once; one of
        another rate (or of a rate not known) first asks how to reconcile (`TaxRuleDialog`)."""
        term = next((r for r in self.tax_model.rows() if r.id == local_id), None)
        code = next(
            (c for c in self.tax_candidates.rows() if (c.entity, c.qbo_id) == (entity, qbo_id)),
            None,
        )
        if term is None or code is None or not rates_differ(term.rate_percent, code.rate):
            self.mappingRequested.emit(kind, local_id, qbo_id, entity)
            return
        if self.tax_rule_dialog is not None:
            self.tax_rule_dialog.deleteLater()
        dialog = TaxRuleDialog(
            f"{term.code} ({term.name})", term.rate_percent, code.name, code.rate, self
        )
        dialog.accepted.connect(
            lambda: self.taxMappingRequested.emit(local_id, qbo_id, dialog.rule())
        )
        dialog.rejected.connect(
            lambda: self.message_bar.show_message(
                "Not mapped", f"The tax term {term.code} was left as it was.", "info"
            )
        )
        self.tax_rule_dialog = dialog
        dialog.open()

    # -- choosing by keyboard ----------------------------------------------------------------

    @Slot(QModelIndex)
    def _double_clicked(self, index: QModelIndex) -> None:
        section = self._section_of(self.sender())
        if section is not None:
            self.open_chooser(section, index)

    def open_chooser(self, section: MappingSection, proxy_index: Any) -> MappingChooser | None:
        """The chooser of the QuickBooks records the row at `proxy_index` can map to; for an
        expense type, the product/service column chooses its product/service, others its
        account. A choice is asked for as a drop of that record on the row is."""
        if not proxy_index.isValid():
            return None
        row, column = section.row_at(proxy_index)
        kind = section.model.mapping_kinds(column)[0]
        local_id = section.model.row_id(row)
        label = f"the {LOCAL_LABEL[kind]} {section.model.display(row, 0)!r}"
        if self.chooser is not None:
            self.chooser.deleteLater()
        chooser = MappingChooser(
            kind, label, section.model.mapped(row, kind), section.candidates.rows(), self
        )
        chooser.chosen.connect(
            lambda entity, qbo_id: section.model.mappingRequested.emit(
                kind, local_id, qbo_id, entity
            )
        )
        chooser.clearChosen.connect(lambda: self.clearRequested.emit(kind, local_id))
        self.chooser = chooser
        chooser.open()
        return chooser

    def mapped_now(self, kind: str, local_id: int) -> MappedRecord | None:
        """What the Factor type `local_id` is mapped to for `kind`, as the last snapshot says."""
        for section in self.sections:
            if kind not in section.model.mapping_kinds(-1):
                continue
            row = next(
                (r for r in section.model.rows() if section.model.row_id(r) == local_id), None
            )
            record = section.model.mapped(row, kind) if row is not None else None
            if (
                isinstance(row, TaxTermRow)
                and record is not None
                and record.tax_rule is None
                and rates_differ(row.rate_percent, record.rate)
            ):
                # No rule chosen for a code of another rate means Factor's tax is sent: named
                # so, this mapping can be saved again as it is.
                return replace(record, tax_rule="override")
            return record
        return None

    # -- clearing ---------------------------------------------------------------------------

    def _section_of(self, view: QObject) -> MappingSection | None:
        return next((s for s in self.sections if s.view is view), None)

    def clear_at(self, section: MappingSection, proxy_index: Any) -> list[tuple[str, int]]:
        """Ask to clear the mappings of the row at `proxy_index` shown in its column."""
        proxy = section.view.model()
        if not proxy_index.isValid() or not isinstance(proxy, QSortFilterProxyModel):
            return []
        source = proxy.mapToSource(proxy_index)
        row = section.model.row_at(source.row())
        kinds = [
            k
            for k in section.model.mapping_kinds(source.column())
            if section.model.mapped(row, k) is not None
        ]
        if not kinds:
            self.message_bar.show_message(
                "Nothing to clear", "That Factor type is not mapped there.", "info"
            )
            return []
        requests = [(kind, section.model.row_id(row)) for kind in kinds]
        for kind, local_id in requests:
            self.clearRequested.emit(kind, local_id)
        return requests

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        section = self._section_of(watched)
        if (
            section is not None
            and event.type() == QEvent.Type.KeyPress
            and isinstance(event, QKeyEvent)
        ):
            if event.key() in (Qt.Key.Key_Delete, Qt.Key.Key_Backspace):
                self.clear_at(section, section.view.currentIndex())
                return True
            if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
                self.open_chooser(section, section.view.currentIndex())
                return True
        return super().eventFilter(watched, event)

    @Slot(QPoint)
    def _context_menu(self, pos: QPoint) -> None:
        section = self._section_of(self.sender())
        if section is None:
            return
        index = section.view.indexAt(pos)
        if not index.isValid():
            return
        menu = self.build_context_menu(section, index)
        menu.popup(section.view.viewport().mapToGlobal(pos))

    def build_context_menu(self, section: MappingSection, proxy_index: Any) -> QMenu:
        """The row's menu: one "Clear" per mapping the row can have, enabled when it has it."""
        proxy = section.view.model()
        assert isinstance(proxy, QSortFilterProxyModel)
        source = proxy.mapToSource(proxy_index)
        row = section.model.row_at(source.row())
        local_id = section.model.row_id(row)
        if self.context_menu is not None:
            self.context_menu.deleteLater()
        menu = QMenu(self)
        for kind in section.model.mapping_kinds(-1):
            label = ENTITY_LABEL[QBO_ENTITY_FOR_KIND[kind]]
            action = menu.addAction(f"Clear the QuickBooks {label}")
            action.setEnabled(section.model.mapped(row, kind) is not None)
            action.triggered.connect(self._clear_action(kind, local_id))
        self.context_menu = menu
        return menu

    def _clear_action(self, kind: str, local_id: int) -> Any:
        def clear() -> None:
            # A QAction's own signal, in the GUI thread.
            self.clearRequested.emit(kind, local_id)

        return clear

    # -- the snapshot -----------------------------------------------------------------------

    def show_snapshot(self, snapshot: Snapshot) -> None:
        self.service_model.set_rows(snapshot.service_types)
        self.expense_model.set_rows(snapshot.expense_types)
        self.tax_model.set_rows(snapshot.tax_terms)
        found = snapshot.candidates
        for section, rows in zip(
            self.sections,
            (found.items, found.expense_accounts + found.items, found.tax_codes),
            strict=True,
        ):
            if section.candidates.set_rows(rows):
                grow_columns(section.candidate_view, maximum=160)
        titles = (
            ("service_type", "Service types → QuickBooks products/services"),
            ("expense_type", "Expense types → QuickBooks accounts"),
            ("tax_term", "Tax terms → QuickBooks tax codes"),
        )
        parts: list[str] = []
        for section, (kind, title) in zip(self.sections, titles, strict=True):
            mapped, total = snapshot.coverage_of(kind)
            section.setTitle(f"{title} ({mapped} of {total} mapped)")
            parts.append(f"{mapped} of {total}")
        ast = {
            None: "",
            False: " (Automated Sales Tax is off in QuickBooks)",
            True: " (Automated Sales Tax is on in QuickBooks: it computes tax itself unless "
            "Factor's amount is sent)",
        }[found.automated_sales_tax]
        self.tax_section.hint.setText(f"Drag a tax code onto a tax term:{ast}")
        complete = all(m == t for _k, m, t in snapshot.coverage)
        self.coverage_label.setText(
            f"Mapped: {parts[0]} service types, {parts[1]} expense types, {parts[2]} tax terms."
            + (" Everything in use is mapped." if complete else "")
        )
        if not self._fitted and (
            snapshot.service_types or snapshot.expense_types or snapshot.tax_terms
        ):
            for section in self.sections:
                section.fit()
            self._fitted = True
