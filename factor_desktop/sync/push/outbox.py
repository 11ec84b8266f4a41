"""The outbox of invoices (`push_outbox`): creates and voids of finalized invoices.

Outbox rows are handled in order of id: pending and blocked ones, and failed ones up to
`FAILED_RETRY_LIMIT` attempts. What an invoice needs before it can go (its customer, its
products/services, its tax code) is checked by `prepare.py`; anything missing blocks the invoice
with a reason naming the exact type and where to map it, and the invoice is tried again on every
pass until it goes.

Creates go out in batch requests of up to 30 invoices while QuickBooks' batch allowance has room,
and one by one in the rest of the request allowance, so a large push runs near QuickBooks' limits
without being throttled (the client's pacer says which kind can go now). Every write carries a
requestid: a single create the row's own, a batch one derived from its rows' requestids and kept
on the rows (`batch_request_id`, with each row's `bId`) until the answer is settled. Before a
write the rows' attempt is committed (status pending), so an invoice voided later knows it may be
in QuickBooks, and a batch whose answer was lost is sent again, the same rows under the same
requestid, so QuickBooks replays its answer. The invoice's QuickBooks Id, its SyncToken and the
row marked done are one commit. When QuickBooks refuses a write (a definite answer: nothing was
written), the row gets a new requestid derived from the old one, so a later attempt is really
carried out rather than answered with the old refusal.

* 6140 (the number is taken): the QuickBooks invoice with that number is read. If it is for the
  same customer with the same total, it is this invoice (keyed in QuickBooks by hand, or sent by
  an earlier install) and is linked. Otherwise the invoice is blocked with the facts; Factor
  Desktop never renumbers a finalized invoice.
* QuickBooks unreachable, throttling, server errors (after the client's own retries): the rows
  stay pending with the same requestid, a warning is logged, and pushing stops for this pass.
* Authentication errors end the pass. Other refusals mark the row failed with QuickBooks' code,
  field and intuit_tid in the log.
* Before a create, QuickBooks' total for what is sent is predicted (`sync/totals.py`): an
  invoice it would total otherwise than Factor is held with both totals and what to do, unless
  its tax term's rule accepts QuickBooks' figure; it goes on the pass after the cause is fixed.
* After a create, QuickBooks' TotalAmt is compared with Factor's total (Automated Sales Tax may
  recompute tax) and its DocNumber with Factor's (custom transaction numbers may be off).

A void reads the invoice for its SyncToken and voids it, unless QuickBooks shows it void already
or a payment Factor Desktop has not pulled yet is applied to it (voiding would silently unapply
it, so that is reported instead). An invoice voided in Factor before QuickBooks ever accepted it
is not sent at all.

A preview runs this same code on a scratch copy of the database with a writer that records the
writes instead of sending them (`sync/writer.py`), so it decides exactly as the sync will.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload, selectinload

from factor_desktop.qbo.client import MAX_BATCH_ITEMS
from factor_desktop.qbo.errors import QboAuthError, QboError, QboValidationError
from factor_desktop.store.models import Invoice, InvoiceLine, OutboxItem, Project
from factor_desktop.sync.context import SyncContext
from factor_desktop.sync.push.common import (
    FAILED_RETRY_LIMIT,
    OPEN_OUTBOX,
    PUSH,
    commit,
    open_outbox,
    refused_read,
    stop_warning,
)
from factor_desktop.sync.push.invoices import SINGLES_AT_ONCE, InvoiceCreates, Send
from factor_desktop.sync.push.voids import VoidPush

__all__ = ["push_outbox", "retry_outbox"]

#: Outbox rows whose invoices are loaded together.
_PAGE = 200


class _OutboxPush(InvoiceCreates, VoidPush):
    """Everything the outbox step does with its rows."""


def _in_doubt(session: Session) -> dict[str, list[OutboxItem]]:
    """Rows whose last batch went out without a settled answer, by that batch's requestid."""
    groups: dict[str, list[OutboxItem]] = {}
    rows = session.scalars(
        select(OutboxItem)
        .where(
            OutboxItem.batch_request_id.is_not(None),
            OutboxItem.status.in_(OPEN_OUTBOX),
            OutboxItem.entity_kind == "invoice",
        )
        .order_by(OutboxItem.id)
    )
    for row in rows:
        assert row.batch_request_id is not None
        groups.setdefault(row.batch_request_id, []).append(row)
    return groups


class Sender:
    """Sends the creates of a pass: in batches while the batch allowance has room, singles
    (a few side by side) in the rest of the request allowance."""

    def __init__(self, pusher: _OutboxPush) -> None:
        self.pusher = pusher
        self.writer = pusher.ctx.writer
        self.queue: deque[Send] = deque()

    def add(self, send: Send) -> None:
        self.queue.append(send)
        if len(self.queue) >= MAX_BATCH_ITEMS:
            self.send_some()

    def send_some(self) -> None:
        """Send one request's worth from the front of the queue."""
        if len(self.queue) > 1 and self.writer.wait_for("batch") <= self.writer.wait_for("request"):
            chunk = [self.queue.popleft() for _ in range(min(MAX_BATCH_ITEMS, len(self.queue)))]
            try:
                self.pusher.send_batch(chunk)
            except BaseException:
                self.queue.extendleft(reversed(chunk))
                raise
        else:
            group = [self.queue.popleft() for _ in range(min(SINGLES_AT_ONCE, len(self.queue)))]
            self.pusher.send_singles(group)

    def drain(self) -> None:
        while self.queue:
            self.pusher.ctx.check_cancel()
            self.send_some()

    def first(self) -> OutboxItem | None:
        return self.queue[0].item if self.queue else None


def _resend_in_doubt(ctx: SyncContext, pusher: _OutboxPush) -> None:
    """Send again, as they went, the batches whose answer a crash or an outage lost."""
    for batch_id, rows in _in_doubt(ctx.session).items():
        ctx.check_cancel()
        sends = []
        for row in rows:
            send = pusher.plan_create(row) if row.operation == "create" else None
            if send is not None:
                sends.append(send)
        if sends:
            pusher.send_batch(sends, batch_id)


def _operations(ctx: SyncContext) -> Iterator[OutboxItem]:
    """The open outbox, oldest first, with each page's invoices loaded in a few queries."""
    rows = open_outbox(ctx.session)
    for start in range(0, len(rows), _PAGE):
        page = rows[start : start + _PAGE]
        ids = [row.local_id for row in page if row.entity_kind == "invoice"]
        ctx.session.scalars(
            select(Invoice)
            .where(Invoice.id.in_(ids))
            .options(
                selectinload(Invoice.lines).joinedload(InvoiceLine.service_type),
                selectinload(Invoice.lines).joinedload(InvoiceLine.expense_type),
                selectinload(Invoice.custom_fields),
                joinedload(Invoice.tax_term),
                joinedload(Invoice.project).joinedload(Project.client),
            )
        ).all()
        yield from page


def push_outbox(ctx: SyncContext) -> None:
    """Send the outbox to QuickBooks: creates and voids of finalized invoices, oldest first.

    See the module's notes for what each outcome does to the outbox row. Stops (a warning in the
    log, the rows left pending) when QuickBooks cannot be reached or asks to slow down;
    authentication errors end the pass.
    """
    pusher = _OutboxPush(ctx)
    sender = Sender(pusher)
    try:
        _push(ctx, pusher, sender)
    finally:
        pusher.close()


def _push(ctx: SyncContext, pusher: _OutboxPush, sender: Sender) -> None:
    item: OutboxItem | None = None
    try:
        _resend_in_doubt(ctx, pusher)
        for item in _operations(ctx):
            ctx.check_cancel()
            try:
                if item.operation == "create":
                    send = pusher.plan_create(item)
                    if send is not None:
                        sender.add(send)
                elif item.operation == "void":
                    sender.drain()  # the creates before it go first
                    pusher.void(item)
                else:
                    _unknown_operation(ctx, item)
            except QboValidationError as error:
                _refused_look_up(ctx, item, error)
        item = None
        sender.drain()
    except QboAuthError:
        raise
    except QboError as error:
        stopped = pusher.unsent or sender.first() or item
        if stopped is not None:
            _stop(ctx, stopped, error)


def _refused_look_up(ctx: SyncContext, item: OutboxItem, error: QboValidationError) -> None:
    refused_read(ctx, "invoice", f"invoice {item.local_id}", item.local_id, error)
    if item.attempts >= FAILED_RETRY_LIMIT:
        # Refused pass after pass: it waits for the administrator's Retry now.
        item.status = "failed"
        item.last_error = str(error)
        commit(ctx)


def _stop(ctx: SyncContext, item: OutboxItem, error: QboError) -> None:
    item.last_error = str(error)
    invoice = ctx.session.get(Invoice, item.local_id)
    label = invoice.number if invoice is not None and invoice.number else f"invoice {item.local_id}"
    stop_warning(ctx, "invoice", label, item.local_id, error)


def _unknown_operation(ctx: SyncContext, item: OutboxItem) -> None:
    reason = (
        f"This version of Factor Desktop can't {item.operation!r} an invoice in QuickBooks; "
        "the entry stays in the outbox."
    )
    ctx.log(
        direction=PUSH,
        entity_kind="invoice",
        label=f"invoice {item.local_id}",
        action="skipped",
        level="warning",
        reason=reason,
        local_id=item.local_id,
    )
    commit(ctx)


def retry_outbox(session: Session) -> int:
    """Put failed and blocked outbox rows back in the queue; returns how many.

    They go back to pending, which the next pass sends whatever their earlier attempts (a
    failed row otherwise stops after a few). Their `requestid` stays: a write QuickBooks did
    receive is answered from its record, never doubled. A refused create of an invoice voided
    since stays failed with its attempts forgotten, so the pass settles it without sending it;
    a blocked one stays blocked, so the pass looks for it in QuickBooks by its number instead of
    sending it.
    """
    rows = session.scalars(
        select(OutboxItem).where(OutboxItem.status.in_(("failed", "blocked")))
    ).all()
    for row in rows:
        invoice = session.get(Invoice, row.local_id) if row.entity_kind == "invoice" else None
        voided = invoice is not None and invoice.status == "void"
        if row.status == "failed" and row.operation == "create" and voided:
            row.attempts = 0
        elif row.operation == "create" and voided:
            pass  # never sent again: `_void_create_goes` settles it
        else:
            row.status = "pending"
    session.flush()
    return len(rows)
