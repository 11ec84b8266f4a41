"""The update check in the window: read on the worker thread, offered in a box with a link.

The check itself (the feed, the once-a-day rule, the opt-in) is `factor_desktop/updates.py`;
this is the job that runs it on the worker and the box that offers a newer version's download.
Nothing is downloaded by the app: "Download" opens the link in the browser.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtWidgets import QMessageBox, QWidget

from factor_desktop.paths import DataDir
from factor_desktop.settings import load_settings
from factor_desktop.ui.jobs import Job, JobEnv, Report
from factor_desktop.updates import STATE_FILE, UpdateCheck, UpdateError, check_for_update


class UpdateCheckJob(Job):
    kind = "update_check"
    title = "Checking for a newer version…"
    expected_errors = (UpdateError,)
    refreshes_snapshot = False

    def run(self, env: JobEnv, report: Report) -> UpdateCheck:
        with env.store.session() as session:
            settings = load_settings(session)
        state = DataDir.resolve(env.store.path.parent).root / STATE_FILE
        return check_for_update(settings.update_feed_url, state, enabled=settings.check_for_updates)


def offer_update(
    parent: QWidget, check: UpdateCheck, open_url: Callable[[str], object]
) -> QMessageBox | None:
    """A box offering the newer version's download (or its notes); None when there is none."""
    release = check.release
    if check.status != "newer" or release is None:
        return None
    link = release.download_url or release.notes_url
    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Icon.Information)
    box.setWindowTitle("A newer Factor Desktop is available")
    box.setText(f"Factor Desktop {release.version} is available.")
    details = [release.notes] if release.notes else []
    if release.published:
        details.append(f"Published {release.published}.")
    if release.sha256:
        details.append(f"SHA-256 of the download: {release.sha256}")
    box.setInformativeText("\n\n".join(details))
    if link:
        download = box.addButton("Download…", QMessageBox.ButtonRole.AcceptRole)
        download.clicked.connect(lambda: open_url(link))
    box.addButton("Later", QMessageBox.ButtonRole.RejectRole)
    return box
