"""File > Settings…: this firm profile's settings, checked by the same rules as `settings`.

The settings are read and saved on the worker (they live in the firm's database). The values
are checked with `Settings.check()`, the very check the command line's `settings NAME VALUE`
runs, before the dialog hands them to the worker, which checks them again as it saves.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Awaitable

from PySide6.QtCore import Qt, QTimer, Signal, Slot
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGroupBox,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from factor_desktop.domain.invoices import InvoiceNumberPolicy
from factor_desktop.settings import InvoiceNumbering, Settings, SettingsError
from factor_desktop.ui.colors import ERROR_COLOR, css
from factor_desktop.ui.jobs import Job, JobOutcome, JobRunner, spawn
from factor_desktop.ui.jobs_extra import LoadSettingsJob, SaveSettingsJob
from factor_desktop.ui.widgets import fit_height, muted_label

ENV_PRODUCTION = 0
ENV_SANDBOX = 1
ENV_CUSTOM = 2

# Wide input ranges: the limits that count are Settings.check()'s, which says them in words.
_SPIN_MAX = 1_000_000_000


def _spin(minimum: int = 0, maximum: int = _SPIN_MAX, suffix: str = "") -> QSpinBox:
    spin = QSpinBox()
    spin.setRange(minimum, maximum)
    spin.setSuffix(suffix)
    spin.setAccelerated(True)
    return spin


class SettingsDialog(QDialog):
    saved = Signal(object)  # Settings

    def __init__(self, runner: JobRunner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Settings")
        self.setMinimumWidth(self.fontMetrics().averageCharWidth() * 80)
        self._runner = runner
        self._job: Job | None = None
        self._waiting: asyncio.Task[None] | None = None
        self._loaded: Settings | None = None
        self._closed = False

        self.auto_sync_spin = _spin(suffix=" min")
        self.auto_sync_spin.setSpecialValueText("Off")
        self.auto_sync_spin.setToolTip("Minutes between background syncs; 0 turns them off.")
        self.create_customers_check = QCheckBox("Create QuickBooks customers for new clients")
        self.create_projects_check = QCheckBox("Create QuickBooks sub-customers for new projects")
        self.prefix_edit = QLineEdit()
        self.next_number_spin = _spin()
        self.padding_spin = _spin(suffix=" digits")
        self.example_label = muted_label()
        self.environment_combo = QComboBox()
        self.environment_combo.addItems(
            ["Production", "Sandbox (Intuit developer sandbox)", "Custom discovery URL"]
        )
        self.url_edit = QLineEdit()
        self.url_edit.setPlaceholderText("https://… or http://127.0.0.1:PORT/…")

        sync_box = QGroupBox("Sync")
        sync_form = QFormLayout(sync_box)
        sync_form.addRow("Automatic sync every:", self.auto_sync_spin)
        sync_form.addRow(self.create_customers_check)
        sync_form.addRow(self.create_projects_check)
        sync_form.addRow(
            muted_label(
                "Without automatic creation, only the clients and projects an invoice needs are "
                "created; link the others by hand."
            )
        )
        numbering_box = QGroupBox("Invoice numbers")
        numbering_form = QFormLayout(numbering_box)
        numbering_form.addRow("Prefix:", self.prefix_edit)
        numbering_form.addRow("Next number:", self.next_number_spin)
        numbering_form.addRow("Pad to:", self.padding_spin)
        numbering_form.addRow("The next invoice:", self.example_label)
        environment_box = QGroupBox("QuickBooks")
        environment_form = QFormLayout(environment_box)
        environment_form.addRow("Environment:", self.environment_combo)
        environment_form.addRow("Discovery URL:", self.url_edit)
        environment_form.addRow(muted_label("Used the next time you connect."))

        self.error_label = QLabel()
        self.error_label.setTextFormat(Qt.TextFormat.PlainText)
        self.error_label.setWordWrap(True)
        self.error_label.setStyleSheet(css(ERROR_COLOR))
        self.error_label.hide()
        self.status_label = muted_label("Reading the settings…")

        self.buttons = QDialogButtonBox()
        self.save_button: QPushButton = self.buttons.addButton(QDialogButtonBox.StandardButton.Save)
        self.buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self.save)
        self.buttons.rejected.connect(self.reject)

        self.form = QWidget()
        column = QVBoxLayout(self.form)
        column.setContentsMargins(0, 0, 0, 0)
        column.addWidget(sync_box)
        column.addWidget(numbering_box)
        column.addWidget(environment_box)
        layout = QVBoxLayout(self)
        layout.addWidget(self.form)
        layout.addWidget(self.error_label)
        layout.addWidget(self.status_label)
        layout.addStretch(1)
        layout.addWidget(self.buttons)
        self.form.setEnabled(False)
        self.save_button.setEnabled(False)

        self.environment_combo.currentIndexChanged.connect(self._environment_changed)
        for edit in (self.prefix_edit,):
            edit.textChanged.connect(self._show_example)
        for spin in (self.next_number_spin, self.padding_spin):
            spin.valueChanged.connect(self._show_example)

        self._run(LoadSettingsJob())

    # -- values -------------------------------------------------------------------------------

    def _fill(self, settings: Settings) -> None:
        self._loaded = settings
        self.auto_sync_spin.setValue(settings.auto_sync_minutes)
        self.create_customers_check.setChecked(settings.auto_create_customers)
        self.create_projects_check.setChecked(settings.auto_create_projects)
        numbering = settings.invoice_numbering
        self.prefix_edit.setText(numbering.prefix)
        self.next_number_spin.setValue(numbering.next_number)
        self.padding_spin.setValue(numbering.padding)
        if settings.environment == "production":
            self.environment_combo.setCurrentIndex(ENV_PRODUCTION)
        elif settings.environment == "sandbox":
            self.environment_combo.setCurrentIndex(ENV_SANDBOX)
        else:
            self.environment_combo.setCurrentIndex(ENV_CUSTOM)
            self.url_edit.setText(settings.environment)
        self._environment_changed(self.environment_combo.currentIndex())
        self._show_example()

    def _environment(self) -> str:
        index = self.environment_combo.currentIndex()
        if index == ENV_PRODUCTION:
            return "production"
        if index == ENV_SANDBOX:
            return "sandbox"
        return self.url_edit.text().strip()

    def values(self) -> Settings:
        """The settings as the form has them (the others as they were read)."""
        base = self._loaded or Settings()
        return dataclasses.replace(
            base,
            auto_sync_minutes=self.auto_sync_spin.value(),
            auto_create_customers=self.create_customers_check.isChecked(),
            auto_create_projects=self.create_projects_check.isChecked(),
            invoice_numbering=InvoiceNumbering(
                prefix=self.prefix_edit.text(),
                next_number=self.next_number_spin.value(),
                padding=self.padding_spin.value(),
            ),
            environment=self._environment(),
        )

    def problem(self) -> str | None:
        """What `settings` would refuse in these values, in its words; None when all is well."""
        try:
            self.values().check()
        except SettingsError as exc:
            return str(exc)
        return None

    @Slot(int)
    def _environment_changed(self, index: int) -> None:
        self.url_edit.setEnabled(index == ENV_CUSTOM)

    @Slot()
    def _show_example(self) -> None:
        numbering = self.values().invoice_numbering
        try:
            numbering.check()
        except SettingsError as exc:
            self.example_label.setText(str(exc))
            return
        policy = InvoiceNumberPolicy(numbering.prefix, numbering.next_number, numbering.padding)
        self.example_label.setText(policy.format(numbering.next_number))

    # -- saving ---------------------------------------------------------------------------------

    @Slot()
    def save(self) -> SaveSettingsJob | None:
        problem = self.problem()
        if problem is not None:
            self._show_error(problem)
            return None
        self.error_label.hide()
        job = SaveSettingsJob(self.values())
        self._run(job)
        self.status_label.setText("Saving…")
        self.status_label.show()
        self.form.setEnabled(False)
        self.save_button.setEnabled(False)
        return job

    def _show_error(self, text: str) -> None:
        self.error_label.setText(text)
        self.error_label.show()
        QTimer.singleShot(0, self, self._fit_height)

    @Slot()
    def _fit_height(self) -> None:
        fit_height(self)

    def _run(self, job: Job) -> None:
        self._job = job
        self._waiting = spawn(self._finished(job, self._runner.run(job)))

    async def _finished(self, job: Job, running: Awaitable[JobOutcome]) -> None:
        outcome = await running
        self._job = self._waiting = None
        if outcome.cancelled:
            return
        if isinstance(job, LoadSettingsJob):
            if outcome.error is not None:
                self.status_label.setText("")
                self._show_error(f"The settings could not be read: {outcome.error}")
                return
            self._fill(outcome.result)
            self.status_label.hide()
            self.form.setEnabled(True)
            self.save_button.setEnabled(True)
            QTimer.singleShot(0, self, self._fit_height)
            return
        self.form.setEnabled(True)
        self.save_button.setEnabled(True)
        self.status_label.hide()
        if outcome.error is not None:
            self._show_error(outcome.error)
            return
        self.saved.emit(outcome.result)
        self.accept()

    def done(self, result: int) -> None:
        if not self._closed:
            self._closed = True
            if self._job is not None:
                self._job.cancel()
                self._job = None
            # A closed dialog hears nothing more of its job.
            if self._waiting is not None:
                self._waiting.cancel()
                self._waiting = None
        super().done(result)
