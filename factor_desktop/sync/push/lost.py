"""A customer create whose answer never came back (a crash, or an outage that outlasted the
retries): the record keeps the name it was sent with (`qbo_pending_name`), and the next pass looks
for that customer before creating anything."""

from __future__ import annotations

import uuid

from sqlalchemy.orm import Session

from factor_desktop.qbo.client import JsonDict
from factor_desktop.qbo.mappers import live_name, name_key, qbo_display_name
from factor_desktop.store.models import Client, Project
from factor_desktop.sync.context import SyncContext
from factor_desktop.sync.push.common import NAMESPACE, PUSH, Record, commit, label, record_kind, the
from factor_desktop.sync.push.names import Twin, remember

__all__ = ["LostCreates"]


class LostCreates:
    """Settling a lost create; mixed into the customer push, which provides what is declared."""

    ctx: SyncContext
    session: Session
    linked: dict[str, str]

    def _live_holders(self, display_name: str) -> list[Twin] | None:
        raise NotImplementedError

    def _link(self, record: Record, twin: Twin, reason: str) -> None:
        raise NotImplementedError

    # -- a create whose answer was lost ----------------------------------------------------

    def _settle_pending(self, record: Record, parent_id: str | None) -> bool:
        """A create went out for this record and its answer never came back (a crash, or an
        outage that outlasted the retries). Look for the customer QuickBooks made under the
        name it was sent with: when it is there, link it and bring it up to date (a rename,
        a move to another client, a deactivation since); otherwise the record is created as
        usual. True when it was linked."""
        pending = record.qbo_pending_name
        assert pending is not None
        holders = self._live_holders(pending) or []
        found = next(
            (
                twin
                for twin in holders
                if twin.entity == "Customer"
                and twin.qbo_id not in self.linked
                and (twin.parent_id is None) == isinstance(record, Client)
            ),
            None,
        )
        if found is None:
            record.qbo_pending_name = None
            commit(self.ctx)
            return False
        self._link(
            record,
            found,
            f"QuickBooks had created {found.described()} for {the(record)}, but its answer "
            "never reached Factor Desktop; linked to it instead of creating another.",
        )
        self._bring_up_to_date(record, found, parent_id)
        return True

    def _bring_up_to_date(self, record: Record, twin: Twin, parent_id: str | None) -> None:
        changes: JsonDict = {}
        name = qbo_display_name(record.name)
        if name_key(live_name(twin.data)) != name_key(name) or live_name(twin.data) != name:
            changes["DisplayName"] = name
        if isinstance(record, Project) and parent_id is not None and twin.parent_id != parent_id:
            changes["ParentRef"] = {"value": parent_id}
            changes["Job"] = True
        retired = record.archived if isinstance(record, Client) else record.status != "active"
        if retired and twin.active:
            changes["Active"] = False
        if not changes or twin.sync_token is None:
            return
        payload: JsonDict = {"Id": twin.qbo_id, "SyncToken": twin.sync_token, **changes}
        request_id = str(uuid.uuid5(NAMESPACE, f"bring-up-to-date|{twin.qbo_id}|{changes}"))
        updated = self.ctx.writer.update("Customer", payload, request_id=request_id)
        remember(self.session, updated)
        token = updated.get("SyncToken")
        record.qbo_sync_token = str(token) if token is not None else record.qbo_sync_token
        self.ctx.log(
            direction=PUSH,
            entity_kind=record_kind(record),
            label=label(record),
            action="updated",
            local_id=record.id,
            qbo_id=twin.qbo_id,
            detail={"changed": sorted(changes)},
        )
        commit(self.ctx)
