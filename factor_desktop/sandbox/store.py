"""SQLite persistence for the sandbox company.

Entities are kept as JSON documents keyed by (realm, entity, Id), next to the per-object
bookkeeping the API never shows (the ``internal`` document) and the indexed columns
:mod:`.keys` computes from each document, which keep duplicate checks, balances and query pages
from reading a whole entity. One connection is shared by all
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

from . import keys

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


# Partial indexes over live objects: (name, columns, extra condition).
_INDEXES: tuple[tuple[str, str, str], ...] = (
    ("ix_num", "realm, entity, num, active", ""),
    ("ix_k_default", "realm, entity, k_default, num, active", "k_default IS NOT NULL"),
    ("ix_k_updated", "realm, entity, k_updated, num, active", "k_updated IS NOT NULL"),
    ("ix_k_docnum", "realm, entity, k_docnum, num, active", "k_docnum IS NOT NULL"),
    ("ix_f_docnum", "realm, entity, f_docnum", "f_docnum IS NOT NULL"),
    ("ix_f_display", "realm, entity, f_display", "f_display IS NOT NULL"),
    ("ix_f_name", "realm, entity, f_name", "f_name IS NOT NULL"),
    ("ix_f_fqn", "realm, entity, f_fqn", "f_fqn IS NOT NULL"),
    ("ix_uniq", "realm, entity, uniq", "uniq IS NOT NULL"),
    ("ix_party", "realm, entity, party, amount", "party IS NOT NULL"),
    ("ix_parent", "realm, entity, parent", "parent IS NOT NULL"),
)
_LOOKUP_COLUMNS = frozenset({"f_docnum", "f_display", "f_name", "f_fqn", "uniq", "parent"})
_KEY_LIST = ", ".join(keys.COLUMNS)
_KEY_MARKS = ", ".join("?" for _ in keys.COLUMNS)
_KEY_UPDATES = ", ".join(f"{name} = excluded.{name}" for name in keys.COLUMNS)


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
            self._prepare_index()

    def _prepare_index(self) -> None:
        """Add the indexed columns (a company file from an older sandbox gets them filled)."""
        present = {row[1] for row in self._conn.execute("PRAGMA table_info(entities)")}
        for name in keys.COLUMNS:
            if name not in present:
                kind = keys.COLUMN_TYPES.get(name, "TEXT")
                self._conn.execute(f"ALTER TABLE entities ADD COLUMN {name} {kind}")
        for name, cols, extra in _INDEXES:
            condition = "deleted = 0" + (f" AND {extra}" if extra else "")
            self._conn.execute(
                f"CREATE INDEX IF NOT EXISTS {name} ON entities ({cols}) WHERE {condition}"
            )
        if self.get_meta("index_version") == keys.INDEX_VERSION:
            return
        with self.transaction():
            rows = self._conn.execute(
                "SELECT realm, entity, id, doc, deleted FROM entities"
            ).fetchall()
            for realm, entity, entity_id, doc, deleted in rows:
                values = keys.columns(entity, json.loads(doc), bool(deleted))
                assignments = ", ".join(f"{name} = ?" for name in keys.COLUMNS)
                self._conn.execute(
                    f"UPDATE entities SET {assignments} WHERE realm = ? AND entity = ? AND id = ?",
                    (*values, realm, entity, entity_id),
                )
            self.set_meta("index_version", keys.INDEX_VERSION)

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
        indexed = keys.columns(record.entity, record.doc, record.deleted)
        with self._lock:
            self._conn.execute(
                f"INSERT INTO entities (realm, entity, id, num, doc, internal, deleted, updated, "
                f"{_KEY_LIST}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, {_KEY_MARKS}) "
                "ON CONFLICT (realm, entity, id) DO UPDATE SET doc = excluded.doc, "
                "internal = excluded.internal, deleted = excluded.deleted, "
                f"updated = excluded.updated, {_KEY_UPDATES}",
                (
                    realm,
                    record.entity,
                    record.id,
                    _num(record.id),
                    json.dumps(record.doc, ensure_ascii=False),
                    json.dumps(record.internal, ensure_ascii=False),
                    int(record.deleted),
                    record.updated,
                    *indexed,
                ),
            )

    def get_many(self, realm: str, entity: str, ids: list[str]) -> list[Record]:
        """The live objects with these ids, in the order given (missing ones left out)."""
        found: dict[str, Record] = {}
        with self._lock:
            for start in range(0, len(ids), 500):
                chunk = ids[start : start + 500]
                marks = ", ".join("?" for _ in chunk)
                rows = self._conn.execute(
                    "SELECT id, doc, internal, deleted, updated FROM entities "
                    f"WHERE realm = ? AND entity = ? AND deleted = 0 AND id IN ({marks})",
                    (realm, entity, *chunk),
                ).fetchall()
                for r in rows:
                    found[r[0]] = Record(
                        entity, r[0], json.loads(r[1]), json.loads(r[2]), bool(r[3]), r[4]
                    )
        return [found[i] for i in ids if i in found]

    def find(self, realm: str, entities: tuple[str, ...], column: str, value: str) -> list[Record]:
        """Live objects of ``entities`` whose indexed ``column`` (see :mod:`.keys`) is ``value``."""
        if column not in _LOOKUP_COLUMNS:
            raise ValueError(f"no index looks up {column}")
        marks = ", ".join("?" for _ in entities)
        with self._lock:
            rows = self._conn.execute(
                f"SELECT entity, id, doc, internal, deleted, updated FROM entities "
                f"INDEXED BY ix_{column} "
                f"WHERE realm = ? AND entity IN ({marks}) AND deleted = 0 AND {column} = ? "
                "ORDER BY num, id",
                (realm, *entities, value),
            ).fetchall()
        return [
            Record(r[0], r[1], json.loads(r[2]), json.loads(r[3]), bool(r[4]), r[5]) for r in rows
        ]

    def indexed(self, realm: str, entity: str, entity_id: str, column: str) -> Any:
        """The indexed ``column`` of one stored object (None when it is not stored)."""
        if column not in keys.COLUMNS:
            raise ValueError(f"not an indexed column: {column}")
        with self._lock:
            row = self._conn.execute(
                f"SELECT {column} FROM entities WHERE realm = ? AND entity = ? AND id = ?",
                (realm, entity, entity_id),
            ).fetchone()
        return None if row is None else row[0]

    def amounts(self, realm: str, entities: tuple[str, ...], party: str) -> list[str]:
        """The ``amount`` column of every live object of ``entities`` counted toward ``party``."""
        marks = ", ".join("?" for _ in entities)
        with self._lock:
            rows = self._conn.execute(
                f"SELECT amount FROM entities INDEXED BY ix_party WHERE realm = ? "
                f"AND entity IN ({marks}) AND deleted = 0 AND party = ?",
                (realm, *entities, party),
            ).fetchall()
        return [str(r[0]) for r in rows if r[0] is not None]

    def select(self, sql: str, params: tuple[Any, ...]) -> list[tuple[Any, ...]]:
        """Run a read-only statement over the store (query paging builds these)."""
        with self._lock:
            return [tuple(row) for row in self._conn.execute(sql, params).fetchall()]

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
