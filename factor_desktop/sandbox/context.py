"""What entity rules see while an operation runs: the store, the clock and the company."""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .clock import SandboxClock, format_datetime
from .store import JsonDict, Record, Store


@dataclass
class Ctx:
    store: Store
    clock: SandboxClock
    realm: str
    user_name: str
    download_uri: Callable[[str, str], str]
    """``download_uri(attachable_id, file_name)`` -> a fresh temporary download URL."""

    def get(self, entity: str, entity_id: str) -> Record | None:
        return self.store.get(self.realm, entity, entity_id)

    def all(self, entity: str, *, include_deleted: bool = False) -> list[Record]:
        return self.store.all(self.realm, entity, include_deleted=include_deleted)

    def save(self, record: Record) -> None:
        record.updated = self.clock.timestamp()
        self.store.put(self.realm, record)

    def now_str(self) -> str:
        return format_datetime(self.clock.now())

    def bump(self, record: Record) -> None:
        """Record a system-side change to an object: new SyncToken and LastUpdatedTime."""
        doc = record.doc
        doc["SyncToken"] = str(int(str(doc.get("SyncToken", "0"))) + 1)
        meta = doc.setdefault("MetaData", {})
        meta["LastUpdatedTime"] = self.now_str()
        self.save(record)

    def next_id(self, family: str, start: int) -> str:
        return str(self.store.next_value(self.realm, f"id:{family}", start))

    def preferences(self) -> JsonDict:
        record = self.get("Preferences", "1")
        return copy.deepcopy(record.doc) if record is not None else {}

    def preference(self, *path: str) -> Any:
        node: Any = self.preferences()
        for key in path:
            if not isinstance(node, dict):
                return None
            node = node.get(key)
        return node
