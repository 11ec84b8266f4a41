"""What an outbox row's outcome does: logged, committed, and the row's status and requestid."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

from factor_desktop.qbo.errors import QboError
from factor_desktop.store.models import Invoice, OutboxItem, SyncLogEntry
from factor_desktop.sync.context import SyncContext
from factor_desktop.sync.push.common import (
    FAILED_RETRY_LIMIT,
    PUSH,
    after_refusal,
    commit,
)
from factor_desktop.sync.push.prepare import InvoicePreparer

__all__ = ["OutboxOutcomes", "ref"]


def ref(row: Mapping[str, Any], key: str) -> tuple[str | None, str | None]:
    ref = row.get(key)
    if not isinstance(ref, Mapping):
        return None, None
    value = ref.get("value")
    name = ref.get("name")
    return (
        str(value) if value not in (None, "") else None,
        str(name) if isinstance(name, str) and name else None,
    )


class OutboxOutcomes:
    """The outcomes every kind of outbox write shares."""

    def __init__(self, ctx: SyncContext) -> None:
        self.ctx = ctx
        self.session = ctx.session
        self.preparer = InvoicePreparer(ctx)
        self._deferred = False
        self._pool: ThreadPoolExecutor | None = None
        # The first create of a group that could not be sent, for the pass's warning.
        self.unsent: OutboxItem | None = None

    def _commit(self) -> None:
        if not self._deferred:
            commit(self.ctx)

    @contextmanager
    def _one_commit(self) -> Iterator[None]:
        """The outcomes of one request's answers, committed together."""
        self._deferred = True
        try:
            yield
        finally:
            self._deferred = False
        commit(self.ctx)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True)

    # -- logging --------------------------------------------------------------------------------

    def _log(
        self,
        invoice: Invoice | None,
        item: OutboxItem,
        action: str,
        *,
        level: str = "info",
        reason: str | None = None,
        detail: dict[str, Any] | None = None,
    ) -> SyncLogEntry:
        label = (
            invoice.number if invoice is not None and invoice.number else f"invoice {item.local_id}"
        )
        return self.ctx.log(
            direction=PUSH,
            entity_kind="invoice",
            label=label,
            action=action,
            level=level,
            reason=reason,
            local_id=item.local_id,
            qbo_id=invoice.qbo_id if invoice is not None else None,
            detail={"operation": item.operation, "request_id": item.request_id, **(detail or {})},
        )

    def _before_send(self, items: Sequence[OutboxItem]) -> None:
        """Record the attempt before the request goes out: from now on QuickBooks may have it."""
        for item in items:
            item.attempts += 1
            item.status = "pending"
        commit(self.ctx)

    def _done(self, item: OutboxItem) -> None:
        item.status = "done"
        item.done_at = self.ctx.now
        item.last_error = None
        item.batch_request_id = None
        item.batch_bid = None

    def _refused(self, invoice: Invoice, item: OutboxItem, error: QboError, what: str) -> None:
        """QuickBooks refused the write: nothing was written, so the next attempt is new."""
        refused_id = item.request_id
        item.status = "failed"
        item.last_error = str(error)
        item.request_id = after_refusal(refused_id)
        item.batch_request_id = None
        item.batch_bid = None
        retries = max(FAILED_RETRY_LIMIT - item.attempts, 0)
        again = (
            f"Factor Desktop tries again on the next {retries} sync{'s' if retries != 1 else ''}."
            if retries
            else "It is not tried again automatically; fix the cause, then send it again."
        )
        self.ctx.log_error(
            error,
            direction=PUSH,
            entity_kind="invoice",
            label=invoice.number or f"invoice {invoice.id}",
            local_id=invoice.id,
            qbo_id=invoice.qbo_id,
            reason=f"QuickBooks refused to {what} invoice {invoice.number}. {again} {error}",
            detail={"operation": item.operation, "request_id": refused_id},
        )
        self._commit()

    def _block(self, invoice: Invoice, item: OutboxItem, reason: str, **detail: Any) -> None:
        item.status = "blocked"
        item.last_error = reason
        self._log(invoice, item, "blocked", level="error", reason=reason, detail=detail or None)
        self._commit()

    def _cancel(self, invoice: Invoice | None, item: OutboxItem, reason: str) -> None:
        item.status = "cancelled"
        item.last_error = reason
        item.batch_request_id = None
        item.batch_bid = None
        self._log(invoice, item, "skipped", reason=reason)
        self._commit()

    # -- which QuickBooks invoice is this one ----------------------------------------------------
