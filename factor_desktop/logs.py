"""Logging: a rotating file in the user's log folder, with secrets redacted on the way out.

Redaction works two ways: known secret values (registered by the token store as it reads or
writes them) are replaced wherever they appear, and anything shaped like a bearer token, an
OAuth token field, a Basic authorization header or a JWT is masked even if nobody registered it.
"""

from __future__ import annotations

import logging
import logging.handlers
import os
import re
import threading
from pathlib import Path
from typing import Any

from factor_desktop.paths import PRIVATE_FILE_MODE, private_dir

REDACTED = "[redacted]"

_PATTERNS = [
    # Authorization headers
    re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]{16,}"),
    # JSON or form fields that carry secrets
    re.compile(
        r"(?i)(['\"]?(?:access_token|refresh_token|id_token|client_secret|code|token)['\"]?"
        r"\s*[:=]\s*['\"]?)([A-Za-z0-9._~+/=-]{8,})"
    ),
    # JWTs (Intuit access tokens are JWT-like)
    re.compile(r"\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*"),
    # Intuit refresh tokens start with AB followed by two digits and are long
    re.compile(r"\bAB\d{2}[A-Za-z0-9]{30,}\b"),
]

_known_secrets: set[str] = set()
_lock = threading.Lock()


def register_secret(value: str | None) -> None:
    """Remember a secret value so it is masked wherever a log message would show it."""
    if value and len(value) >= 6:
        with _lock:
            _known_secrets.add(value)


def redact(text: str) -> str:
    with _lock:
        secrets = sorted(_known_secrets, key=len, reverse=True)
    for secret in secrets:
        if secret in text:
            text = text.replace(secret, REDACTED)
    text = _PATTERNS[0].sub(lambda m: f"{m.group(1)} {REDACTED}", text)
    text = _PATTERNS[1].sub(lambda m: f"{m.group(1)}{REDACTED}", text)
    text = _PATTERNS[2].sub(REDACTED, text)
    return _PATTERNS[3].sub(REDACTED, text)


class RedactingFilter(logging.Filter):
    """Rewrites each record's message (arguments merged) and exception text with secrets masked."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg = cleaned
            record.args = None
        if record.exc_info and record.exc_info[1] is not None:
            formatted = logging.Formatter().formatException(record.exc_info)
            record.exc_text = redact(formatted)
            record.exc_info = None
        return True


class _RedactingFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


class PrivateRotatingFileHandler(logging.handlers.RotatingFileHandler):
    """A rotating log whose files only their owner can read, whatever the umask."""

    def _open(self) -> Any:
        flags = os.O_WRONLY | os.O_CREAT | os.O_APPEND | getattr(os, "O_NOFOLLOW", 0)
        fd = os.open(self.baseFilename, flags, PRIVATE_FILE_MODE)
        if os.name == "posix":
            os.fchmod(fd, PRIVATE_FILE_MODE)  # a log an earlier version left readable
        return open(fd, "a", encoding=self.encoding, errors=self.errors)


_installed: list[logging.Handler] = []

LOG_FORMAT = "%(asctime)s %(levelname)-7s %(threadName)s %(name)s: %(message)s"


def setup_logging(log_dir: Path, verbose: int = 0) -> Path:
    """Send logs to a rotating file (5 x 2 MB) and warnings to stderr. Returns the log file."""
    private_dir(log_dir)
    log_file = log_dir / "factor-desktop.log"
    root = logging.getLogger()
    while _installed:
        old = _installed.pop()
        root.removeHandler(old)
        old.close()
    file_handler = PrivateRotatingFileHandler(
        log_file, maxBytes=2_000_000, backupCount=5, encoding="utf-8", delay=True
    )
    file_handler.setFormatter(_RedactingFormatter(LOG_FORMAT))
    file_handler.addFilter(RedactingFilter())
    file_handler.setLevel(logging.DEBUG if verbose else logging.INFO)
    console = logging.StreamHandler()
    console.setFormatter(_RedactingFormatter("%(levelname)s %(name)s: %(message)s"))
    console.addFilter(RedactingFilter())
    console.setLevel(
        logging.DEBUG if verbose >= 2 else logging.INFO if verbose else logging.WARNING
    )
    for handler in (file_handler, console):
        _installed.append(handler)
        root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    # urllib3 logs full URLs at DEBUG; keep it quieter so the log stays readable.
    logging.getLogger("urllib3").setLevel(logging.INFO)
    return log_file
