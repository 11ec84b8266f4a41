"""Jobs behind the window's menus: read QuickBooks' lists, import a file, save settings.

Each runs on the worker thread like every other `Job` (see `jobs.py`): it opens its own store
session there and hands back plain data.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from factor_desktop.settings import Settings, SettingsError, load_settings, save_settings
from factor_desktop.ui.job_types import SyncJob, SyncProgress
from factor_desktop.ui.jobs import Job, JobEnv, Report

if TYPE_CHECKING:
    # The importer and the sync are imported by the worker when a job first needs them.
    from factor_desktop.importer import ImportSummary, Problem
    from factor_desktop.sync.engine import SyncSummary


class RefreshListsJob(SyncJob):
    """Read QuickBooks' lists (customers, items, accounts, tax codes, terms) into the cache.

    Read-only towards QuickBooks: only the reference step of a pass runs, so nothing is created
    or changed there. The run is recorded as a "lists" run, which is not shown as a sync.
    """

    kind = "refresh_lists"
    title = "Reading QuickBooks lists…"

    def run(self, env: JobEnv, report: Report) -> SyncSummary:
        from factor_desktop.sync.engine import SyncEngine
        from factor_desktop.sync.reference import refresh_reference

        engine = SyncEngine(
            env.store,
            env.connection,
            env.attachments_dir,
            steps=[("Reading QuickBooks lists", refresh_reference)],
        )

        def progress(step: str, done: int, total: int) -> None:
            report(SyncProgress(step, done, total))

        return engine.run(kind="lists", cancel=self.cancel_event, progress=progress)


@dataclass(frozen=True)
class ImportResult:
    """What an import from the window did: its summary, or every problem that stopped it."""

    source: str
    summary: ImportSummary | None
    problems: tuple[Problem, ...] = ()
    # A failure that is not a problem of the file (the database could not be written, say).
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.summary is not None


@dataclass(frozen=True)
class ImportProgress:
    """How many of an import's records have been read into the store so far."""

    done: int
    total: int


class ImportJob(Job):
    """Import a JSON file, a CSV file or a folder of CSV files, all or nothing."""

    kind = "import"
    title = "Importing…"

    def __init__(self, path: Path) -> None:
        super().__init__()
        self.path = path

    def run(self, env: JobEnv, report: Report) -> ImportResult:
        from factor_desktop.importer import ImportRejected, import_into, read_path

        def progress(done: int, total: int) -> None:
            report(ImportProgress(done, total))

        try:
            summary = import_into(env.store, read_path(self.path), progress)
        except ImportRejected as rejected:
            return ImportResult(str(self.path), None, tuple(rejected.problems))
        return ImportResult(str(self.path), summary)


class LoadSettingsJob(Job):
    kind = "load_settings"
    title = "Reading the settings…"

    def run(self, env: JobEnv, report: Report) -> Settings:
        with env.store.session() as session:
            return load_settings(session)


class SaveSettingsJob(Job):
    """Save settings checked by the same rules as the `settings` command."""

    kind = "save_settings"
    title = "Saving the settings…"
    expected_errors = (SettingsError,)

    def __init__(self, settings: Settings) -> None:
        super().__init__()
        self.settings = settings

    def run(self, env: JobEnv, report: Report) -> Settings:
        with env.store.session() as session:
            save_settings(session, self.settings)
            return load_settings(session)
