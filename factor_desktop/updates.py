"""Update check: is a newer Factor Desktop published in the firm's update feed?

Opt-in (the `check_for_updates` setting, off by default) and at most once a day: the feed URL
(`update_feed_url`) is read with one HTTPS GET, the newest version in it is compared with this
one, and a newer one is *offered* with its download link and notes. Nothing is downloaded or
installed here: the administrator opens the link, and the installer does the rest. The time of
the last check is kept in `<data folder>/update-check.json`, so a day is counted across starts.

The feed is a small JSON document (docs/packaging.md has it in full):

    {
      "schema": 1,
      "latest": {
        "version": "0.2.0",
        "published": "2026-12-01",
        "notes": "What changed, in a sentence or two.",
        "notes_url": "https://example.com/factor-desktop/0.2.0",
        "downloads": {
          "windows-x86_64": {"url": "https://.../FactorDesktop-0.2.0-setup.exe", "sha256": "..."},
          "macos-arm64": {"url": "https://.../FactorDesktop-0.2.0-macos-arm64.dmg"},
          "linux-x86_64": {"url": "https://.../FactorDesktop-0.2.0-x86_64.AppImage"}
        }
      }
    }

This module makes network requests and reads files: callers in the window run it on the
worker thread. It does not import Qt.
"""

from __future__ import annotations

import json
import os
import platform
import re
import sys
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

import requests

from factor_desktop import __version__

FEED_SCHEMA = 1
CHECK_INTERVAL = timedelta(days=1)
TIMEOUT_S = 10.0
MAX_FEED_BYTES = 256 * 1024
STATE_FILE = "update-check.json"
_VERSION = re.compile(r"^\s*v?(\d+(?:\.\d+)*)(?:[-.]?(a|alpha|b|beta|rc|c)\.?(\d*))?\s*$", re.I)
_PRE_RANK = {"a": 0, "alpha": 0, "b": 1, "beta": 1, "c": 2, "rc": 2}


class UpdateError(Exception):
    """The feed could not be read or understood; the message says why, in one line."""


@dataclass(frozen=True)
class Release:
    version: str
    download_url: str | None  # for this computer's platform; None when the feed has none
    sha256: str | None = None
    notes: str = ""
    notes_url: str | None = None
    published: str | None = None


@dataclass(frozen=True)
class UpdateCheck:
    # "newer": `release` is newer than this version; "current": it is not;
    # "not_due": checked less than a day ago (nothing read); "off": not opted in or no feed URL.
    status: Literal["newer", "current", "not_due", "off"]
    release: Release | None = None
    checked_at: datetime | None = None

    def message(self) -> str:
        if self.status == "newer" and self.release is not None:
            where = self.release.download_url or self.release.notes_url
            text = f"Factor Desktop {self.release.version} is available (this is {__version__})."
            return f"{text} Download: {where}" if where else text
        if self.status == "current":
            return f"Factor Desktop {__version__} is the newest version."
        if self.status == "not_due":
            return "Updates were checked less than a day ago."
        return "The update check is off."


def version_key(text: str) -> tuple[tuple[int, ...], tuple[int, int]]:
    """A sortable key for "1.2.3", "v1.2", "1.3.0rc1": numbers, then pre-releases before the
    release itself. Raises ValueError for anything else."""
    found = _VERSION.match(text)
    if found is None:
        raise ValueError(f"not a version: {text!r}")
    numbers = tuple(int(n) for n in found.group(1).split("."))
    while len(numbers) > 1 and numbers[-1] == 0:
        numbers = numbers[:-1]  # 1.2.0 == 1.2
    stage, count = found.group(2), found.group(3)
    pre = (_PRE_RANK[stage.lower()], int(count or 0)) if stage else (9, 0)
    return numbers, pre


def is_newer(candidate: str, current: str = __version__) -> bool:
    return version_key(candidate) > version_key(current)


def platform_key(system: str = sys.platform, machine: str | None = None) -> str:
    """This computer's key in the feed's downloads: windows-x86_64, macos-arm64, linux-x86_64."""
    name = {"win32": "windows", "darwin": "macos"}.get(system, system.rstrip("0123456789"))
    arch = (machine or platform.machine()).lower()
    arch = {"amd64": "x86_64", "x64": "x86_64", "aarch64": "arm64"}.get(arch, arch)
    return f"{name}-{arch}"


def _loopback(url: str) -> bool:
    return (urlsplit(url).hostname or "") in ("127.0.0.1", "localhost", "::1")


def check_url(url: str, what: str) -> str:
    """`url` if it is https (or http to this computer, for testing); UpdateError otherwise."""
    parts = urlsplit(url)
    if parts.scheme == "https" and parts.hostname:
        return url
    if parts.scheme == "http" and _loopback(url):
        return url
    raise UpdateError(f"The {what} must be an https:// address, not {url!r}.")


def parse_feed(data: Any, key: str | None = None) -> Release:
    """The feed's latest release, with the download for platform `key` (default: this one)."""
    if not isinstance(data, dict) or not isinstance(data.get("latest"), dict):
        raise UpdateError("The update feed has no 'latest' release.")
    schema = data.get("schema", FEED_SCHEMA)
    if not isinstance(schema, int) or schema > FEED_SCHEMA:
        raise UpdateError(
            f"The update feed is in a newer format ({schema}) than this version reads."
        )
    latest = data["latest"]
    version = latest.get("version")
    if not isinstance(version, str):
        raise UpdateError("The update feed's latest release has no version.")
    try:
        version_key(version)
    except ValueError:
        raise UpdateError(f"The update feed's version {version!r} is not a version.") from None
    downloads = latest.get("downloads") or {}
    if not isinstance(downloads, dict):
        raise UpdateError("The update feed's downloads are not a list of platforms.")
    mine = downloads.get(key or platform_key())
    url = sha256 = None
    if isinstance(mine, dict) and isinstance(mine.get("url"), str):
        url = check_url(mine["url"], "download address")
        sha256 = mine.get("sha256") if isinstance(mine.get("sha256"), str) else None
    notes_url = latest.get("notes_url")
    if isinstance(notes_url, str):
        notes_url = check_url(notes_url, "release notes address")
    else:
        notes_url = None
    notes = latest.get("notes")
    published = latest.get("published")
    return Release(
        version=version,
        download_url=url,
        sha256=sha256,
        notes=notes if isinstance(notes, str) else "",
        notes_url=notes_url,
        published=published if isinstance(published, str) else None,
    )


def fetch_feed(url: str, timeout: float = TIMEOUT_S) -> Any:
    """GET the feed (one request, no redirect to plain http) and decode its JSON."""
    check_url(url, "update feed address")
    try:
        with requests.get(
            url,
            timeout=timeout,
            stream=True,
            headers={"Accept": "application/json", "User-Agent": f"FactorDesktop/{__version__}"},
        ) as response:
            if response.url != url:
                check_url(response.url, "update feed address")
            if response.status_code != 200:
                raise UpdateError(f"The update feed answered HTTP {response.status_code}.")
            body = response.raw.read(MAX_FEED_BYTES + 1, decode_content=True)
    except requests.RequestException as exc:
        raise UpdateError(f"The update feed could not be reached ({type(exc).__name__}).") from None
    if len(body) > MAX_FEED_BYTES:
        raise UpdateError("The update feed is larger than an update feed can be.")
    try:
        return json.loads(body)
    except ValueError:
        raise UpdateError("The update feed is not JSON.") from None


def _last_check(state: Path) -> datetime | None:
    try:
        data = json.loads(state.read_text(encoding="utf-8"))
        return datetime.fromisoformat(data["checked_at"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _remember(state: Path, when: datetime, release: Release) -> None:
    state.parent.mkdir(parents=True, exist_ok=True)
    temporary = state.with_suffix(".tmp")
    temporary.write_text(
        json.dumps({"checked_at": when.isoformat(), "latest_version": release.version}),
        encoding="utf-8",
    )
    os.replace(temporary, state)


def check_for_update(
    feed_url: str,
    state: Path,
    *,
    enabled: bool = True,
    current: str = __version__,
    now: datetime | None = None,
    force: bool = False,
    key: str | None = None,
) -> UpdateCheck:
    """Read the feed unless it is off or was read less than a day ago (`force` reads anyway),
    and say whether it offers a newer version. Raises UpdateError when it could not be read;
    a failed check is not remembered, so the next start tries again."""
    if not enabled or not feed_url.strip():
        return UpdateCheck("off")
    moment = now or datetime.now(UTC)
    last = _last_check(state)
    if not force and last is not None and timedelta(0) <= moment - last < CHECK_INTERVAL:
        return UpdateCheck("not_due", checked_at=last)
    release = parse_feed(fetch_feed(feed_url.strip()), key)
    _remember(state, moment, release)
    status: Literal["newer", "current"] = (
        "newer" if is_newer(release.version, current) else "current"
    )
    return UpdateCheck(status, release, moment)


__all__ = [
    "CHECK_INTERVAL",
    "STATE_FILE",
    "Release",
    "UpdateCheck",
    "UpdateError",
    "check_for_update",
    "fetch_feed",
    "is_newer",
    "parse_feed",
    "platform_key",
    "version_key",
]
