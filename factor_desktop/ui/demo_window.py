"""The demo in the window: the demo's start runs on the worker while the window shows progress.

The steps themselves (sandbox, demo firm, OAuth connection, mappings) are `demo.DemoSession`'s,
which knows nothing of Qt.
"""

from __future__ import annotations

from collections.abc import Awaitable
from pathlib import Path

from PySide6.QtCore import QObject, Slot

from factor_desktop.demo import DemoError, DemoSession, DemoStarted
from factor_desktop.secrets import keyring_problem
from factor_desktop.ui.application import run_window
from factor_desktop.ui.jobs import (
    Job,
    JobEnv,
    JobOutcome,
    JobProgress,
    Report,
    install_session_keyring,
    spawn,
)
from factor_desktop.ui.main_window import MainWindow


class DemoStartJob(Job):
    kind = "demo_start"
    title = "Starting the demo…"
    expected_errors = (DemoError, OSError)

    def __init__(self, demo: DemoSession) -> None:
        super().__init__()
        self.demo = demo

    def run(self, env: JobEnv, report: Report) -> DemoStarted:
        report("Starting the local QuickBooks sandbox…")
        self.demo.start_sandbox()
        self.check_cancelled()
        report("Loading the demo firm…")
        imported = self.demo.load_firm()
        self.check_cancelled()
        report("Connecting to the sandbox company through the QuickBooks sign-in…")
        result = self.demo.connect(env.connection)
        if imported:
            self.check_cancelled()
            report("Mapping the demo firm's types to the sandbox company's lists…")
            self.demo.prepare_mappings(env.connection)
        return DemoStarted(result.company_name, result.realm_id, imported, tuple(result.warnings))


class DemoController(QObject):
    """Shows the demo's start in the window. Lives in the GUI thread; slots only."""

    def __init__(self, window: MainWindow, demo: DemoSession) -> None:
        super().__init__(window)
        self.window = window
        self.demo = demo
        self.job: DemoStartJob | None = None
        window.runner.jobProgress.connect(self._on_progress)

    def start(self) -> DemoStartJob:
        self.job = DemoStartJob(self.demo)
        banner = self.window.connection_tab.activity_banner
        banner.show_message("Starting the demo…", "Waiting for the worker…", "info")
        spawn(self._started(self.window.runner.run(self.job)))
        return self.job

    @Slot(object)
    def _on_progress(self, event: JobProgress) -> None:
        if self.job is None or event.job_id != self.job.id:
            return
        self.window.connection_tab.activity_banner.show_message(
            "Starting the demo…", str(event.payload), "info"
        )

    async def _started(self, running: Awaitable[JobOutcome]) -> None:
        outcome = await running
        self.job = None
        banner = self.window.connection_tab.activity_banner
        if outcome.cancelled:
            banner.clear()
        elif outcome.error is not None:
            banner.show_message("The demo could not start", outcome.error, "error")
        else:
            started: DemoStarted = outcome.result
            banner.clear()
            self.window.statusBar().showMessage(
                f"Demo ready: the demo firm is connected to {started.company_name}.", 15_000
            )


def use_demo_keyring() -> bool:
    """Use the system keyring if there is one, else memory for this demo process only.

    A keyring that writes plain files does not count as one.

    Returns True when the demo keeps its secrets in memory.
    """
    if keyring_problem() is None:
        return False
    install_session_keyring()
    return True


def open_demo_window(
    data_dir: Path | None, fresh: bool = False
) -> tuple[MainWindow, DemoController]:
    """Build the demo's window and start the demo on its worker. The caller shows it."""
    demo = DemoSession(data_dir, fresh)
    in_memory = use_demo_keyring()
    note = (
        "Demo: tokens kept in memory for this session (no system keyring)"
        if in_memory
        else "Demo: local QuickBooks sandbox"
    )
    window = MainWindow(
        demo.ctx.store, demo.ctx.tokens, title="Factor Desktop — Demo", status_note=note
    )
    window.add_shutdown_hook(demo.close)
    controller = DemoController(window, demo)
    controller.start()
    return window, controller


def run_demo(data_dir: Path | None, fresh: bool = False) -> int:
    """Open the demo's window and run until it is closed."""

    def build() -> MainWindow:
        window, _controller = open_demo_window(data_dir, fresh)
        return window

    return run_window(build)
