"""The update check against a feed served over HTTP on this machine."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from pytestqt.qtbot import QtBot

from factor_desktop.app import open_context
from factor_desktop.settings import SettingsError, update_setting
from factor_desktop.updates import (
    UpdateError,
    check_for_update,
    is_newer,
    parse_feed,
    platform_key,
)

NOW = datetime(2026, 12, 5, 9, 0, tzinfo=UTC)
KEY = "linux-x86_64"


def feed(version: str = "9.1.0") -> dict[str, Any]:
    return {
        "schema": 1,
        "latest": {
            "version": version,
            "published": "2026-12-01",
            "notes": "Faster syncs.",
            "notes_url": "https://example.com/factor-desktop/notes",
            "downloads": {
                KEY: {
                    "url": f"https://example.com/FactorDesktop-{version}-x86_64.AppImage",
                    "sha256": "ab" * 32,
                },
                "windows-x86_64": {"url": f"https://example.com/FactorDesktop-{version}-setup.exe"},
            },
        },
    }


class FeedServer:
    """A feed on 127.0.0.1: what it serves can change, and it counts the requests."""

    def __init__(self) -> None:
        self.body: bytes = json.dumps(feed()).encode()
        self.status = 200
        self.requests = 0
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                server.requests += 1
                self.send_response(server.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(server.body)))
                self.end_headers()
                self.wfile.write(server.body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/feed.json"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server() -> Iterator[FeedServer]:
    running = FeedServer()
    try:
        yield running
    finally:
        running.close()


def test_a_newer_version_is_offered_with_this_platforms_download(
    server: FeedServer, tmp_path: Path
) -> None:
    state = tmp_path / "update-check.json"
    result = check_for_update(server.url, state, current="0.1.0", now=NOW, key=KEY)
    assert result.status == "newer" and result.release is not None
    assert result.release.version == "9.1.0"
    assert result.release.download_url == "https://example.com/FactorDesktop-9.1.0-x86_64.AppImage"
    assert result.release.sha256 == "ab" * 32
    assert "9.1.0 is available" in result.message()
    assert result.message().endswith(result.release.download_url)
    assert server.requests == 1


def test_at_most_once_a_day(server: FeedServer, tmp_path: Path) -> None:
    state = tmp_path / "update-check.json"
    check_for_update(server.url, state, current="0.1.0", now=NOW, key=KEY)
    later = check_for_update(server.url, state, current="0.1.0", now=NOW + timedelta(hours=23))
    assert later.status == "not_due" and server.requests == 1
    forced = check_for_update(server.url, state, current="0.1.0", now=NOW, force=True, key=KEY)
    assert forced.status == "newer" and server.requests == 2
    next_day = check_for_update(
        server.url, state, current="0.1.0", now=NOW + timedelta(days=1, minutes=1), key=KEY
    )
    assert next_day.status == "newer" and server.requests == 3


def test_the_same_or_an_older_version_is_current(server: FeedServer, tmp_path: Path) -> None:
    server.body = json.dumps(feed("0.1.0")).encode()
    result = check_for_update(server.url, tmp_path / "s.json", current="0.1.0", now=NOW, key=KEY)
    assert result.status == "current"
    server.body = json.dumps(feed("0.2.0rc1")).encode()
    result = check_for_update(
        server.url, tmp_path / "s.json", current="0.2.0", now=NOW, force=True, key=KEY
    )
    assert result.status == "current"


def test_off_unless_opted_in_with_a_feed(server: FeedServer, tmp_path: Path) -> None:
    assert check_for_update(server.url, tmp_path / "s.json", enabled=False).status == "off"
    assert check_for_update("", tmp_path / "s.json").status == "off"
    assert server.requests == 0


def test_a_broken_feed_is_one_plain_error_and_is_tried_again(
    server: FeedServer, tmp_path: Path
) -> None:
    state = tmp_path / "update-check.json"
    server.status = 500
    with pytest.raises(UpdateError, match="HTTP 500"):
        check_for_update(server.url, state, now=NOW, key=KEY)
    server.status = 200
    server.body = b"<html>not json</html>"
    with pytest.raises(UpdateError, match="not JSON"):
        check_for_update(server.url, state, now=NOW, key=KEY)
    assert not state.exists()  # a failed check is not counted: the next start tries again
    server.body = json.dumps(feed()).encode()
    assert check_for_update(server.url, state, current="0.1.0", now=NOW, key=KEY).status == "newer"


def test_the_feed_must_be_https_and_its_downloads_too() -> None:
    with pytest.raises(UpdateError, match="https"):
        check_for_update("http://updates.example.com/feed.json", Path("unused"), now=NOW)
    plain = feed()
    plain["latest"]["downloads"][KEY]["url"] = "http://example.com/FactorDesktop.AppImage"
    with pytest.raises(UpdateError, match="download address"):
        parse_feed(plain, KEY)
    with pytest.raises(UpdateError, match="newer format"):
        parse_feed({"schema": 2, "latest": {"version": "1.0"}}, KEY)
    with pytest.raises(UpdateError, match="not a version"):
        parse_feed({"latest": {"version": "soon"}}, KEY)
    # A platform the feed has no download for is offered its notes instead.
    release = parse_feed(feed(), "macos-arm64")
    assert release.download_url is None and release.notes_url is not None


def test_versions_and_platforms() -> None:
    assert is_newer("0.10.0", "0.9.9")
    assert is_newer("1.0", "1.0rc2") and is_newer("1.0rc2", "1.0b1")
    assert not is_newer("1.0.0", "1.0") and not is_newer("v1.0", "1.0.0")
    assert platform_key("win32", "AMD64") == "windows-x86_64"
    assert platform_key("darwin", "arm64") == "macos-arm64"
    assert platform_key("linux", "aarch64") == "linux-arm64"


def test_the_settings_hold_the_opt_in_and_the_feed(tmp_path: Path) -> None:
    ctx = open_context(tmp_path)
    try:
        assert ctx.settings().check_for_updates is False  # off until the administrator opts in
        with ctx.store.session() as session:
            update_setting(session, "check_for_updates", "yes")
            update_setting(session, "update_feed_url", "https://updates.example.com/feed.json")
        settings = ctx.settings()
        assert settings.check_for_updates is True
        assert settings.update_feed_url == "https://updates.example.com/feed.json"
        with ctx.store.session() as session, pytest.raises(SettingsError, match="https"):
            update_setting(session, "update_feed_url", "http://updates.example.com/feed.json")
    finally:
        ctx.close()


@pytest.fixture
def window_loop(qapp: Any) -> Iterator[None]:
    """The window's coroutines run while the test pumps Qt's events (see ui/qt.py)."""
    from factor_desktop.ui.qt import pumped_event_loop

    with pumped_event_loop(qapp):
        yield


@pytest.mark.gui
def test_the_window_offers_a_newer_version_read_on_the_worker(
    qtbot: QtBot, server: FeedServer, tmp_path: Path, window_loop: None
) -> None:
    from PySide6.QtCore import QSettings  # noqa: TID251  (the window test needs its own file)

    from factor_desktop.ui.main_window import MainWindow

    ctx = open_context(tmp_path / "data")
    with ctx.store.session() as session:
        update_setting(session, "check_for_updates", "yes")
        update_setting(session, "update_feed_url", server.url)
    opened: list[str] = []

    def browser(url: str) -> bool:
        opened.append(url)
        return True

    window = MainWindow(
        ctx.store,
        ctx.tokens,
        open_url=browser,
        ui_settings=QSettings(str(tmp_path / "ui.ini"), QSettings.Format.IniFormat),
        remember_layout=False,
    )
    qtbot.addWidget(window)
    try:
        window.updates.check_for_updates()  # what the app does at start when opted in
        qtbot.waitUntil(lambda: window.updates.update_box is not None, timeout=20_000)
        box = window.updates.update_box
        assert box is not None and box.text() == "Factor Desktop 9.1.0 is available."
        assert "Faster syncs." in box.informativeText()
        download = next(b for b in box.buttons() if b.text() == "Download…")
        download.click()
        assert opened == [feed()["latest"]["downloads"][platform_key()]["url"]] or opened == [
            feed()["latest"]["notes_url"]
        ]
        assert server.requests == 1
        assert (tmp_path / "data" / "update-check.json").is_file()
    finally:
        window.close()
        ctx.close()
