"""Voiding in QuickBooks an invoice voided in Factor."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from factor_desktop.qbo.client import JsonDict
from factor_desktop.qbo.errors import ObjectNotFoundError, QboValidationError, StaleObjectError
from factor_desktop.qbo.mappers import decimal_of
from factor_desktop.store.models import Invoice, OutboxItem
from factor_desktop.sync.push.common import OPEN_OUTBOX, after_refusal
from factor_desktop.sync.push.outcomes import OutboxOutcomes

__all__ = ["VoidPush"]


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


class VoidPush(OutboxOutcomes):
    """Voids: read the invoice for its SyncToken, then void it, unless that would be wrong."""

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
