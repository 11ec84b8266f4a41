"""What entity rules see while an operation runs: the store, the clock and the company."""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .clock import SandboxClock, format_datetime
from .keys import party_entity
from .store import JsonDict, Record, Store


@dataclass
class Ctx:
    store: Store
    clock: SandboxClock
    realm: str
    user_name: str
    download_uri: Callable[[str, str], str]
    """``download_uri(attachable_id, file_name)`` -> a fresh temporary download URL."""
    touched: dict[str, set[str]] = field(default_factory=dict)
    """Customers and vendors whose balances this operation may have changed (by entity):
    the party of every invoice, payment or bill saved, before and after, and every customer
    saved with its parents before and after (a moved sub-tree changes both branches)."""

    def get(self, entity: str, entity_id: str) -> Record | None:
        return self.store.get(self.realm, entity, entity_id)

    def all(self, entity: str, *, include_deleted: bool = False) -> list[Record]:
        return self.store.all(self.realm, entity, include_deleted=include_deleted)

    def save(self, record: Record) -> None:
        record.updated = self.clock.timestamp()
        self._note(record)
        self.store.put(self.realm, record)

    def _note(self, record: Record) -> None:
        party = party_entity(record.entity)
        if party is not None:
            before = self.store.indexed(self.realm, record.entity, record.id, "party")
            after = None
            if not record.deleted:
                ref_key = "CustomerRef" if party == "Customer" else "VendorRef"
                ref = record.doc.get(ref_key)
                after = ref.get("value") if isinstance(ref, dict) else ref
            found = self.touched.setdefault(party, set())
            found.update(str(value) for value in (before, after) if value not in (None, ""))
        elif record.entity == "Customer":
            before = self.store.indexed(self.realm, "Customer", record.id, "parent")
            ref = record.doc.get("ParentRef")
            after = ref.get("value") if isinstance(ref, dict) else ref
            found = self.touched.setdefault("Customer", set())
            found.add(record.id)
            found.update(str(value) for value in (before, after) if value not in (None, ""))

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
