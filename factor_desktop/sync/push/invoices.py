"""Creating Factor's finalized invoices in QuickBooks: one by one, a few side by side, or in
batches of 30, each answer settled as its own outcome (see `outbox.py` for the order of a pass).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from factor_desktop.domain.money import format_money
from factor_desktop.qbo.client import BatchItem, JsonDict
from factor_desktop.qbo.errors import (
    DuplicateDocNumberError,
    QboError,
    QboValidationError,
)
from factor_desktop.qbo.mappers import decimal_of
from factor_desktop.store.models import Invoice, OutboxItem
from factor_desktop.sync.push.common import NAMESPACE, after_refusal, error_detail
from factor_desktop.sync.push.outcomes import OutboxOutcomes, ref
from factor_desktop.sync.push.prepare import Prepared

__all__ = ["InvoiceCreates", "Send"]

#: Creates sent side by side when the batch allowance is used up.
SINGLES_AT_ONCE = 4


@dataclass
class Send:
    """A create decided on: the invoice, its outbox row, and what goes to QuickBooks."""

    invoice: Invoice
    item: OutboxItem
    prepared: Prepared


def _batch_request_id(rows: Iterable[OutboxItem]) -> str:
    """A batch's requestid: derived from its rows' own requestids, at most 36 characters."""
    return str(uuid.uuid5(NAMESPACE, "invoices|" + ",".join(row.request_id for row in rows)))


class InvoiceCreates(OutboxOutcomes):
    """Creates of invoices, and what their answers mean."""

    def _ours(
        self, invoice: Invoice, rows: Iterable[JsonDict], customer_ids: set[str]
    ) -> JsonDict | None:
        for row in rows:
            customer_id, _ = ref(row, "CustomerRef")
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
            and ref(row, "CustomerRef")[0] == prepared.customer_id
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
        customer_id, customer_name = ref(row, "CustomerRef")
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

    def plan_create(self, item: OutboxItem) -> Send | None:
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
            # Held for its totals: both go with the entry, so a preview shows them.
            self._block(invoice, item, reason, **prepared.totals_detail(invoice))
            return None
        assert prepared.payload is not None and prepared.customer_id is not None
        return Send(invoice, item, prepared)

    def send_one(self, send: Send) -> None:
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

    def send_singles(self, sends: Sequence[Send]) -> None:
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

    def send_batch(self, sends: Sequence[Send], batch_id: str | None = None) -> None:
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
        self, send: Send, created: JsonDict | None, error: QboValidationError | None
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
                f"{figures}. QuickBooks did not keep the tax Factor sent and computed its own. "
                "Check the invoice in QuickBooks; Factor keeps its own figures."
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
