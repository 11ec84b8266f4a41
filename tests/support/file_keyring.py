"""A keyring backend for tests that run the command line in child processes.

Child processes cannot share the in-memory keyring of the test process, so tests select this
backend explicitly (PYTHON_KEYRING_BACKEND=tests.support.file_keyring.TestFileKeyring) with a
scratch file named in FACTOR_TEST_KEYRING_FILE. It is never found by keyring on its own.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import keyring.backend
import keyring.errors


class TestFileKeyring(keyring.backend.KeyringBackend):
    priority = -1

    @property
    def _file(self) -> Path:
        return Path(os.environ["FACTOR_TEST_KEYRING_FILE"])

    def _load(self) -> dict[str, str]:
        try:
            data: dict[str, str] = json.loads(self._file.read_text())
        except FileNotFoundError:
            return {}
        return data

    def get_password(self, service: str, username: str) -> str | None:
        return self._load().get(f"{service}\\n{username}")

    def set_password(self, service: str, username: str, password: str) -> None:
        data = self._load()
        data[f"{service}\\n{username}"] = password
        self._file.write_text(json.dumps(data))

    def delete_password(self, service: str, username: str) -> None:
        data = self._load()
        if data.pop(f"{service}\\n{username}", None) is None:
            raise keyring.errors.PasswordDeleteError("not found")
        self._file.write_text(json.dumps(data))
