"""SQLite persistence for the sandbox company.

Entities are kept as JSON documents keyed by (realm, entity, Id), next to the per-object
bookkeeping the API never shows (the ``internal`` document). One connection is shared by all
server threads; a re-entrant lock serialises every access, and ``transaction()`` makes a
business operation atomic.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

JsonDict = dict[str, Any]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS entities (
    realm TEXT NOT NULL,
    entity TEXT NOT NULL,
    id TEXT NOT NULL,
    num INTEGER NOT NULL,
    doc TEXT NOT NULL,
    internal TEXT NOT NULL DEFAULT '{}',
    deleted INTEGER NOT NULL DEFAULT 0,
    updated REAL NOT NULL,
    PRIMARY KEY (realm, entity, id)
);
CREATE INDEX IF NOT EXISTS entities_updated ON entities (realm, entity, updated);
CREATE TABLE IF NOT EXISTS sequences (
    realm TEXT NOT NULL,
    name TEXT NOT NULL,
    value INTEGER NOT NULL,
    PRIMARY KEY (realm, name)
);
CREATE TABLE IF NOT EXISTS replies (
    realm TEXT NOT NULL,
    request_id TEXT NOT NULL,
    status INTEGER NOT NULL,
    content_type TEXT NOT NULL,
    body BLOB NOT NULL,
    created REAL NOT NULL,
    PRIMARY KEY (realm, request_id)
);
CREATE TABLE IF NOT EXISTS blobs (
    realm TEXT NOT NULL,
    id TEXT NOT NULL,
    data BLOB NOT NULL,
    PRIMARY KEY (realm, id)
);
CREATE TABLE IF NOT EXISTS oauth (
    kind TEXT NOT NULL,
    key TEXT NOT NULL,
    doc TEXT NOT NULL,
    PRIMARY KEY (kind, key)
);
"""


@dataclass
class Record:
    """One stored object: its API document plus sandbox-only bookkeeping."""

    entity: str
    id: str
    doc: JsonDict
    internal: JsonDict = field(default_factory=dict)
    deleted: bool = False
    updated: float = 0.0


def _num(entity_id: str) -> int:
    return int(entity_id) if entity_id.isdigit() else 0


class Store:
    """Thread-safe access to the sandbox database (a file, or memory when ``path`` is None)."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path
        target = str(path) if path is not None else ":memory:"
        self._conn = sqlite3.connect(target, check_same_thread=False, isolation_level=None)
        self._lock = threading.RLock()
        self._depth = 0
        with self._lock:
            self._conn.executescript(_SCHEMA)
            if path is not None:
                self._conn.execute("PRAGMA journal_mode=WAL")

    @property
    def lock(self) -> threading.RLock:
        return self._lock

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    @contextmanager
    def transaction(self) -> Iterator[Store]:
        """Hold the lock and run the block atomically (nested blocks become savepoints)."""
        with self._lock:
            outer = self._depth == 0
            savepoint = f"sp{self._depth}"
            self._conn.execute("BEGIN IMMEDIATE" if outer else f"SAVEPOINT {savepoint}")
            self._depth += 1
            try:
                yield self
            except BaseException:
                self._depth -= 1
                if outer:
                    self._conn.execute("ROLLBACK")
                else:
                    self._conn.execute(f"ROLLBACK TO {savepoint}")
                    self._conn.execute(f"RELEASE {savepoint}")
                raise
            else:
                self._depth -= 1
                self._conn.execute("COMMIT" if outer else f"RELEASE {savepoint}")

    # -- meta ---------------------------------------------------------------------------------

    def get_meta(self, key: str) -> str | None:
        with self._lock:
            row = self._conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def set_meta(self, key: str, value: str) -> None:
        with self._lock:
            self._conn.execute(
                "INSERT INTO meta (key, value) VALUES (?, ?) "
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (key, value),
            )

    # -- entities -----------------------------------------------------------------------------

    def get(self, realm: str, entity: str, entity_id: str) -> Record | None:
        with self._lock:
            row = self._conn.execute(
                "SELECT doc, internal, deleted, updated FROM entities "
                "WHERE realm = ? AND entity = ? AND id = ?",
                (realm, entity, entity_id),
            ).fetchone()
        if row is None:
            return None
        return Record(
            entity, entity_id, json.loads(row[0]), json.loads(row[1]), bool(row[2]), row[3]
        )

    def put(self, realm: str, record: Record) -> None:
        with self._lock:
            self._conn.execute(
                "INSERT INTO entities (realm, entity, id, num, doc, internal, deleted, updated) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (realm, entity, id) DO UPDATE SET doc = excluded.doc, "
                "internal = excluded.internal, deleted = excluded.deleted, "
                "updated = excluded.updated",
                (
                    realm,
                    record.entity,
                    record.id,
                    _num(record.id),
                    json.dumps(record.doc, ensure_ascii=False),
                    json.dumps(record.internal, ensure_ascii=False),
                    int(record.deleted),
                    record.updated,
                ),
            )

    def all(self, realm: str, entity: str, *, include_deleted: bool = False) -> list[Record]:
        sql = (
            "SELECT id, doc, internal, deleted, updated FROM entities "
            "WHERE realm = ? AND entity = ?"
        )
        if not include_deleted:
            sql += " AND deleted = 0"
        sql += " ORDER BY num, id"
        with self._lock:
            rows = self._conn.execute(sql, (realm, entity)).fetchall()
        return [
            Record(entity, r[0], json.loads(r[1]), json.loads(r[2]), bool(r[3]), r[4]) for r in rows
        ]

    def changed_since(self, realm: str, entity: str, since: float) -> list[Record]:
        with self._lock:
            rows = self._conn.execute(
                "SELECT id, doc, internal, deleted, updated FROM entities "
                "WHERE realm = ? AND entity = ? AND updated >= ? ORDER BY updated, num",
                (realm, entity, since),
            ).fetchall()
        return [
            Record(entity, r[0], json.loads(r[1]), json.loads(r[2]), bool(r[3]), r[4]) for r in rows
        ]

    def count(self, realm: str) -> dict[str, int]:
        with self._lock:
            rows = self._conn.execute(
                "SELECT entity, COUNT(*) FROM entities WHERE realm = ? AND deleted = 0 "
                "GROUP BY entity ORDER BY entity",
                (realm,),
            ).fetchall()
        return {str(r[0]): int(r[1]) for r in rows}

    def next_value(self, realm: str, name: str, start: int) -> int:
        """Next number of the named per-realm sequence (first value is ``start``)."""
        with self._lock:
            row = self._conn.execute(
                "SELECT value FROM sequences WHERE realm = ? AND name = ?", (realm, name)
            ).fetchone()
            value = start if row is None else int(row[0]) + 1
            self._conn.execute(
                "INSERT INTO sequences (realm, name, value) VALUES (?, ?, ?) "
                "ON CONFLICT (realm, name) DO UPDATE SET value = excluded.value",
                (realm, name, value),
            )
        return value

    # -- requestid replies --------------------------------------------------------------------

    def get_reply(self, realm: str, request_id: str) -> tuple[int, str, bytes] | None:
        with self._lock:
            row = self._conn.execute(
                "SELECT status, content_type, body FROM replies WHERE realm = ? AND request_id = ?",
                (realm, request_id),
            ).fetchone()
        return None if row is None else (int(row[0]), str(row[1]), bytes(row[2]))

    def put_reply(
        self, realm: str, request_id: str, status: int, content_type: str, body: bytes, now: float
    ) -> None:
        with self._lock:
            self._conn.execute(
                "INSERT OR IGNORE INTO replies (realm, request_id, status, content_type, body, "
                "created) VALUES (?, ?, ?, ?, ?, ?)",
                (realm, request_id, status, content_type, body, now),
            )

    # -- attachment content -------------------------------------------------------------------

    def put_blob(self, realm: str, blob_id: str, data: bytes) -> None:
        with self._lock:
            self._conn.execute(
                "INSERT INTO blobs (realm, id, data) VALUES (?, ?, ?) "
                "ON CONFLICT (realm, id) DO UPDATE SET data = excluded.data",
                (realm, blob_id, data),
            )

    def get_blob(self, realm: str, blob_id: str) -> bytes | None:
        with self._lock:
            row = self._conn.execute(
                "SELECT data FROM blobs WHERE realm = ? AND id = ?", (realm, blob_id)
            ).fetchone()
        return None if row is None else bytes(row[0])

    def delete_blob(self, realm: str, blob_id: str) -> None:
        with self._lock:
            self._conn.execute("DELETE FROM blobs WHERE realm = ? AND id = ?", (realm, blob_id))

    # -- OAuth grants -------------------------------------------------------------------------

    def oauth_get(self, kind: str, key: str) -> JsonDict | None:
        with self._lock:
            row = self._conn.execute(
                "SELECT doc FROM oauth WHERE kind = ? AND key = ?", (kind, key)
            ).fetchone()
        if row is None:
            return None
        value: JsonDict = json.loads(row[0])
        return value

    def oauth_put(self, kind: str, key: str, doc: JsonDict) -> None:
        with self._lock:
            self._conn.execute(
                "INSERT INTO oauth (kind, key, doc) VALUES (?, ?, ?) "
                "ON CONFLICT (kind, key) DO UPDATE SET doc = excluded.doc",
                (kind, key, json.dumps(doc)),
            )

    def oauth_all(self, kind: str) -> list[tuple[str, JsonDict]]:
        with self._lock:
            rows = self._conn.execute(
                "SELECT key, doc FROM oauth WHERE kind = ?", (kind,)
            ).fetchall()
        return [(str(r[0]), json.loads(r[1])) for r in rows]

    def oauth_delete(self, kind: str, key: str) -> None:
        with self._lock:
            self._conn.execute("DELETE FROM oauth WHERE kind = ? AND key = ?", (kind, key))
