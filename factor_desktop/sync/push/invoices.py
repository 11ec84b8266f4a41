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

import uuid
from collections import deque
from collections.abc import Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload, selectinload

from factor_desktop.domain.money import format_money
from factor_desktop.qbo.client import MAX_BATCH_ITEMS, BatchItem, JsonDict
from factor_desktop.qbo.errors import (
    DuplicateDocNumberError,
    ObjectNotFoundError,
    QboAuthError,
    QboError,
    QboValidationError,
    StaleObjectError,
)
from factor_desktop.qbo.mappers import decimal_of
from factor_desktop.store.models import Invoice, InvoiceLine, OutboxItem, Project, SyncLogEntry
from factor_desktop.sync.context import SyncContext
from factor_desktop.sync.push.common import (
    FAILED_RETRY_LIMIT,
    NAMESPACE,
    OPEN_OUTBOX,
    PUSH,
    after_refusal,
    commit,
    error_detail,
    open_outbox,
    refused_read,
    stop_warning,
)
from factor_desktop.sync.push.prepare import InvoicePreparer, Prepared

__all__ = ["push_outbox", "retry_outbox"]

#: Creates sent side by side when the batch allowance is used up.
SINGLES_AT_ONCE = 4
#: Outbox rows whose invoices are loaded together.
_PAGE = 200


def _is_voided(row: Mapping[str, Any]) -> bool:
    note = str(row.get("PrivateNote") or "")
    return decimal_of(row.get("TotalAmt")) == Decimal("0.00") and note.startswith("Voided")


def _payment_ids(row: Mapping[str, Any]) -> list[str]:
    links = row.get("LinkedTxn")
    if not isinstance(links, list):
        return []
    return [
        str(link.get("TxnId"))
        for link in links
        if isinstance(link, Mapping) and link.get("TxnType") == "Payment"
    ]


def _ref(row: Mapping[str, Any], key: str) -> tuple[str | None, str | None]:
    ref = row.get(key)
    if not isinstance(ref, Mapping):
        return None, None
    value = ref.get("value")
    name = ref.get("name")
    return (
        str(value) if value not in (None, "") else None,
        str(name) if isinstance(name, str) and name else None,
    )


@dataclass
class _Send:
    """A create decided on: the invoice, its outbox row, and what goes to QuickBooks."""

    invoice: Invoice
    item: OutboxItem
    prepared: Prepared


def _batch_request_id(rows: Iterable[OutboxItem]) -> str:
    """A batch's requestid: derived from its rows' own requestids, at most 36 characters."""
    return str(uuid.uuid5(NAMESPACE, "invoices|" + ",".join(row.request_id for row in rows)))


class _OutboxPush:
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

    def _ours(
        self, invoice: Invoice, rows: Iterable[JsonDict], customer_ids: set[str]
    ) -> JsonDict | None:
        for row in rows:
            customer_id, _ = _ref(row, "CustomerRef")
            row_id = str(row.get("Id"))
            taken = self.session.scalar(
                select(Invoice.id).where(Invoice.qbo_id == row_id, Invoice.id != invoice.id)
            )
            if (
                customer_id in customer_ids
                and decimal_of(row.get("TotalAmt")) == invoice.total
                and taken is None
            ):
                return row
        return None

    def _number_taken(self, invoice: Invoice, rows: Sequence[JsonDict], prepared: Prepared) -> str:
        """Why the invoice can't go with its number, in the administrator's terms."""
        number = invoice.number
        ours_name = self.preparer.customer_name(prepared.customer_id, prepared.customer_name)
        ours_total = format_money(invoice.total)
        same_customer = [
            row
            for row in rows
            if prepared.customer_id is not None
            and _ref(row, "CustomerRef")[0] == prepared.customer_id
        ]
        if not rows:
            return f"QuickBooks says the number {number} is already used by another transaction."
        row = same_customer[0] if same_customer else rows[0]
        total = decimal_of(row.get("TotalAmt"))
        shown_total = format_money(total) if total is not None else "an unknown total"
        if same_customer:
            return (
                f"QuickBooks already has invoice {number} for {ours_name}, but for "
                f"{shown_total} instead of Factor's {ours_total}. If it is this invoice, correct "
                "it in QuickBooks to match and sync: it is then linked. If it is another "
                "invoice, delete or renumber that one in QuickBooks. Factor Desktop never "
                "renumbers a finalized invoice."
            )
        customer_id, customer_name = _ref(row, "CustomerRef")
        theirs = self.preparer.customer_name(
            customer_id, repr(customer_name) if customer_name else None
        )
        return (
            f"QuickBooks already has invoice {number} for another customer ({theirs}, "
            f"{shown_total}), so Factor's invoice {number} for {ours_name} ({ours_total}) can't "
            f"be sent with the same number. Delete or renumber the QuickBooks invoice if it is "
            f"a mistake, and {number} is sent on the next sync; Factor Desktop never renumbers "
            "a finalized invoice."
        )

    def _link(self, invoice: Invoice, item: OutboxItem, row: JsonDict, reason: str) -> None:
        invoice.qbo_id = str(row.get("Id"))
        token = row.get("SyncToken")
        invoice.qbo_sync_token = str(token) if token is not None else None
        self._done(item)
        self._log(invoice, item, "linked", reason=reason)
        self._commit()
        self.ctx.linked_invoices.append(row)

    # -- create -----------------------------------------------------------------------------------

    def plan_create(self, item: OutboxItem) -> _Send | None:
        """Settle what needs no write; return the create to send, if one must go."""
        invoice = self.session.get(Invoice, item.local_id)
        if invoice is None or invoice.number is None:
            self._cancel(invoice, item, "The invoice is no longer a finalized invoice in Factor.")
            return None
        if invoice.qbo_id is not None:
            self._done(item)
            self._log(
                invoice,
                item,
                "skipped",
                reason=f"Already linked to QuickBooks invoice Id {invoice.qbo_id}.",
            )
            self._commit()
            return None
        if invoice.status == "void" and not self._void_create_goes(invoice, item):
            return None
        prepared = self.preparer.prepare(invoice)
        if prepared.problems:
            reason = f"Invoice {invoice.number} is waiting: " + " ".join(prepared.problems)
            reason += " It is sent on the next sync after that."
            self._block(invoice, item, reason)
            return None
        assert prepared.payload is not None and prepared.customer_id is not None
        return _Send(invoice, item, prepared)

    def send_one(self, send: _Send) -> None:
        """One create in a request of its own, under the row's own requestid."""
        item, prepared = send.item, send.prepared
        assert prepared.payload is not None
        self._before_send([item])
        try:
            created = self.ctx.writer.create(
                "Invoice", prepared.payload, request_id=item.request_id
            )
        except QboValidationError as error:
            self._answer(send, None, error)
            return
        except QboError:
            self.unsent = self.unsent or item
            raise
        self._answer(send, created, None)

    def send_singles(self, sends: Sequence[_Send]) -> None:
        """Creates in requests of their own, a few at a time, each under its row's requestid.

        They go out side by side (QuickBooks serves up to ten requests of a company at once;
        the pacer keeps them within the per-second limit). A create that could not be sent
        stays pending with its requestid, after the others' answers are kept, and stops the
        push for this pass.
        """
        if len(sends) == 1:
            self.send_one(sends[0])
            return
        self._before_send([send.item for send in sends])
        if self._pool is None:
            self._pool = ThreadPoolExecutor(SINGLES_AT_ONCE, thread_name_prefix="qbo-create")
        writer = self.ctx.writer
        futures = []
        for send in sends:
            assert send.prepared.payload is not None
            futures.append(
                self._pool.submit(
                    writer.create, "Invoice", send.prepared.payload, request_id=send.item.request_id
                )
            )
        failure: QboError | None = None
        with self._one_commit():
            for send, future in zip(sends, futures, strict=True):
                try:
                    created = future.result()
                except QboValidationError as error:
                    self._answer(send, None, error)
                except QboError as error:
                    failure = failure or error
                    self.unsent = self.unsent or send.item
                else:
                    self._answer(send, created, None)
        if failure is not None:
            raise failure

    def send_batch(self, sends: Sequence[_Send], batch_id: str | None = None) -> None:
        """Up to 30 creates in one batch request.

        The rows are stamped with the batch's requestid and their bIds in the commit before it
        goes; if the answer is lost (or the app stops), the next pass sends the same rows again
        under the same requestid and QuickBooks replays its answer instead of creating twice.
        A refusal of one item settles that item alone; a request that fails as a whole raises.
        """
        rows = [send.item for send in sends]
        batch_id = batch_id or _batch_request_id(rows)
        for send in sends:
            send.item.batch_request_id = batch_id
            send.item.batch_bid = send.item.batch_bid or str(send.item.id)
        self._before_send(rows)
        items = []
        for send in sends:
            assert send.prepared.payload is not None and send.item.batch_bid is not None
            items.append(BatchItem.create(send.item.batch_bid, "Invoice", send.prepared.payload))
        results = self.ctx.writer.batch(items, request_id=batch_id)
        failure = next(
            (r.error for r in results if r.error and not isinstance(r.error, QboValidationError)),
            None,
        )
        if failure is not None:
            self.unsent = self.unsent or rows[0]
            raise failure  # nothing settled: the rows keep their batch and go again next pass
        with self._one_commit():
            for send, result in zip(sends, results, strict=True):
                error = result.error if isinstance(result.error, QboValidationError) else None
                self._answer(send, result.data, error)

    def _answer(
        self, send: _Send, created: JsonDict | None, error: QboValidationError | None
    ) -> None:
        invoice, item, prepared = send.invoice, send.item, send.prepared
        item.batch_request_id = None
        item.batch_bid = None
        if isinstance(error, DuplicateDocNumberError):
            self._duplicate_number(invoice, item, prepared, error)
        elif error is not None:
            self._refused(invoice, item, error, "create")
        elif created is not None:
            self._created(invoice, item, created, prepared)

    def _created(
        self, invoice: Invoice, item: OutboxItem, created: JsonDict, prepared: Prepared
    ) -> None:
        qbo_id = str(created.get("Id"))
        other = self.session.scalar(
            select(Invoice).where(Invoice.qbo_id == qbo_id, Invoice.id != invoice.id)
        )
        if other is not None:
            self._block(
                invoice,
                item,
                f"QuickBooks answered with its invoice Id {qbo_id}, which is already linked to "
                f"Factor's invoice {other.number}. Check both invoices in QuickBooks.",
            )
            return
        invoice.qbo_id = qbo_id
        token = created.get("SyncToken")
        invoice.qbo_sync_token = str(token) if token is not None else None
        self._done(item)
        warnings = list(prepared.warnings)
        doc_number = created.get("DocNumber")
        if doc_number is not None and str(doc_number) != invoice.number:
            warnings.append(
                f"QuickBooks numbered it {doc_number} instead of {invoice.number}: custom "
                "transaction numbers are off in QuickBooks (Account and settings > Sales > "
                "Custom transaction numbers). Turn them on so both keep the same numbers."
            )
        total = decimal_of(created.get("TotalAmt"))
        mismatch = None
        if total is not None and total != invoice.total:
            why = self._why_totals_differ(invoice, prepared, created, total)
            if self.preparer.tax_rule(invoice) == "accept":
                warnings.append(f"{why} Accepted, as the tax term's rule says.")
            else:
                mismatch = why
        detail: dict[str, Any] = {
            "doc_number": invoice.number,
            "customer_id": prepared.customer_id,
            "total": str(invoice.total),
        }
        if total is not None:
            detail["qbo_total"] = str(total)
        if prepared.billed_to_client:
            detail["billed_to"] = "client"
        self._log(
            invoice,
            item,
            "created",
            level="warning" if warnings else "info",
            reason=" ".join(warnings) or None,
            detail=detail,
        )
        if mismatch is not None:
            self._log(invoice, item, "mismatched", level="warning", reason=mismatch, detail=detail)
        self._commit()

    def _why_totals_differ(
        self, invoice: Invoice, prepared: Prepared, created: JsonDict, total: Decimal
    ) -> str:
        """QuickBooks' total is not Factor's: say why, as far as the answer tells."""
        sent = prepared.payload.get("TxnTaxDetail") if prepared.payload else None
        sent_tax = decimal_of(sent.get("TotalTax")) if isinstance(sent, Mapping) else None
        answer = created.get("TxnTaxDetail")
        qbo_tax = decimal_of(answer.get("TotalTax")) if isinstance(answer, Mapping) else None
        figures = (
            f"QuickBooks' total for invoice {invoice.number} is {format_money(total)}; "
            f"Factor's is {format_money(invoice.total)}"
        )
        if qbo_tax is not None and qbo_tax != invoice.tax:
            figures += (
                f" (tax {format_money(qbo_tax)} in QuickBooks, "
                f"{format_money(invoice.tax)} in Factor)"
            )
        if sent_tax is not None:
            return (
                f"{figures}. QuickBooks did not keep the tax Factor sent and computed its own "
                "(Automated Sales Tax does this). Check the invoice in QuickBooks; Factor keeps "
                "its own figures."
            )
        return (
            f"{figures}. QuickBooks recalculated the tax with its tax code's rates, which differ "
            "from the tax term's. On the Mappings tab, map the term to a code with the same "
            "rate, or choose to send Factor's tax; later invoices then match."
        )

    def _duplicate_number(
        self,
        invoice: Invoice,
        item: OutboxItem,
        prepared: Prepared,
        error: DuplicateDocNumberError,
    ) -> None:
        assert invoice.number is not None and prepared.customer_id is not None
        rows = self.preparer.numbered(invoice.number)
        ours = self._ours(invoice, rows, {prepared.customer_id})
        if ours is not None:
            self._link(
                invoice,
                item,
                ours,
                f"QuickBooks already had invoice {invoice.number} for this customer with the "
                f"same total ({format_money(invoice.total)}); linked to it instead of creating "
                "a duplicate.",
            )
            return
        if not rows:
            self._refused(invoice, item, error, "create")
            return
        self._block(
            invoice, item, self._number_taken(invoice, rows, prepared), **error_detail(error)
        )
        # Refused: the next attempt (once the number is free) must really be carried out.
        item.request_id = after_refusal(item.request_id)
        self._commit()

    def _void_create_goes(self, invoice: Invoice, item: OutboxItem) -> bool:
        """For an invoice voided in Factor whose create is still open: whether the create must
        still be sent (its last attempt's outcome is unknown, so only sending it again with
        the same requestid tells). Otherwise settles the create and returns False."""
        never = "The invoice was voided before QuickBooks accepted it; it was not sent."
        if item.status == "pending" and item.attempts > 0:
            return True
        if item.status == "failed" or item.attempts == 0:
            self._cancel(invoice, item, never)
            return False
        # Blocked after an earlier attempt: look for it by its number.
        project = invoice.project
        ids = {i for i in (project.qbo_id, project.client.qbo_id) if i is not None}
        ours = self._ours(invoice, self.preparer.numbered(invoice.number or ""), ids)
        if ours is not None:
            self._link(
                invoice, item, ours, "Found in QuickBooks by its number, customer and total."
            )
        else:
            self._cancel(invoice, item, never)
        return False

    # -- void -------------------------------------------------------------------------------------

    def void(self, item: OutboxItem) -> None:
        invoice = self.session.get(Invoice, item.local_id)
        if invoice is None:
            self._cancel(None, item, "The invoice is no longer in Factor.")
            return
        if invoice.qbo_id is None:
            self._void_unsent(invoice, item)
            return
        qbo_id = invoice.qbo_id
        self._before_send([item])
        for attempt in range(2):
            try:
                current = self.ctx.client.read("Invoice", qbo_id)
            except ObjectNotFoundError:
                self._gone(invoice, item)
                return
            if _is_voided(current):
                self._voided(invoice, item, current, "QuickBooks shows it void already.")
                return
            payments = _payment_ids(current)
            if payments:
                self._block(
                    invoice,
                    item,
                    f"QuickBooks has {len(payments)} payment{'s' if len(payments) > 1 else ''} "
                    f"applied to invoice {invoice.number} that Factor Desktop has not received "
                    "yet, and voiding would take it off the invoice without a word. Remove the "
                    "payment from the invoice in QuickBooks (or move it to the right invoice); "
                    "the void goes through on the next sync.",
                    payments=payments,
                )
                return
            try:
                voided = self.ctx.writer.void(
                    "Invoice", qbo_id, str(current.get("SyncToken")), request_id=item.request_id
                )
            except ObjectNotFoundError:
                self._gone(invoice, item)
                return
            except StaleObjectError as error:
                # Changed in QuickBooks between the read and the void: nothing was voided.
                if attempt == 0:
                    item.request_id = after_refusal(item.request_id)
                    self._commit()
                    continue
                self._refused(invoice, item, error, "void")
                return
            except QboValidationError as error:
                self._refused(invoice, item, error, "void")
                return
            self._voided(invoice, item, voided, None)
            return

    def _void_unsent(self, invoice: Invoice, item: OutboxItem) -> None:
        """A void of an invoice QuickBooks has no Id for: settle its create first."""
        create = self.session.scalar(
            select(OutboxItem)
            .where(
                OutboxItem.entity_kind == "invoice",
                OutboxItem.local_id == invoice.id,
                OutboxItem.operation == "create",
                OutboxItem.status.in_(OPEN_OUTBOX),
            )
            .order_by(OutboxItem.id.desc())
            .limit(1)
        )
        if create is not None and (create.status == "failed" or create.attempts == 0):
            # QuickBooks refused it, or it never went out: there is nothing in QuickBooks.
            self._cancel(
                invoice,
                create,
                "The invoice was voided before QuickBooks accepted it; it was not sent.",
            )
        elif create is not None:
            # Whether the invoice reached QuickBooks is not settled yet; the void waits for it.
            item.last_error = "Waiting for the invoice's create to be settled first."
            self._commit()
            return
        self._done(item)
        self._log(
            invoice,
            item,
            "skipped",
            reason=f"Invoice {invoice.number} never reached QuickBooks; there is nothing to void.",
        )
        self._commit()

    def _voided(
        self, invoice: Invoice, item: OutboxItem, row: JsonDict, reason: str | None
    ) -> None:
        token = row.get("SyncToken")
        invoice.qbo_sync_token = str(token) if token is not None else invoice.qbo_sync_token
        self._done(item)
        self._log(invoice, item, "voided", reason=reason)
        self._commit()

    def _gone(self, invoice: Invoice, item: OutboxItem) -> None:
        self._done(item)
        self._log(
            invoice,
            item,
            "voided",
            level="warning",
            reason=(
                f"Invoice {invoice.number} was deleted in QuickBooks (Id {invoice.qbo_id}), so "
                "there was nothing left to void there. It stays void in Factor."
            ),
        )
        self._commit()


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


class _Sender:
    """Sends the creates of a pass: in batches while the batch allowance has room, singles
    (a few side by side) in the rest of the request allowance."""

    def __init__(self, pusher: _OutboxPush) -> None:
        self.pusher = pusher
        self.writer = pusher.ctx.writer
        self.queue: deque[_Send] = deque()

    def add(self, send: _Send) -> None:
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
    sender = _Sender(pusher)
    try:
        _push(ctx, pusher, sender)
    finally:
        pusher.close()


def _push(ctx: SyncContext, pusher: _OutboxPush, sender: _Sender) -> None:
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
