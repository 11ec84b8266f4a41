"""The natural keys an import's rows have claimed, so a second row with one is refused.

An import may hold millions of rows; the keys and where each was claimed are kept in a scratch
database on disk (private, deleted when closed) rather than in memory.
"""

from __future__ import annotations

import sqlite3


class Claims:
    def __init__(self) -> None:
        # An empty name is a private database on disk that SQLite deletes when it is closed.
        self.db = sqlite3.connect("", check_same_thread=False)
        self.db.execute(
            "CREATE TABLE claim (kind TEXT, key TEXT, place TEXT, PRIMARY KEY (kind, key))"
        )

    def claim(self, kind: str, key: str, place: str) -> str | None:
        """Where `key` of `kind` was claimed before; None when it is new (claimed now)."""
        added = self.db.execute(
            "INSERT OR IGNORE INTO claim VALUES (?, ?, ?)", (kind, key, place)
        ).rowcount
        if added:
            return None
        found = self.db.execute(
            "SELECT place FROM claim WHERE kind = ? AND key = ?", (kind, key)
        ).fetchone()
        return str(found[0])

    def close(self) -> None:
        self.db.close()
