"""The order of a pull, and its commits.

`pull_changes` reads what changed in QuickBooks for Payment, Invoice, Purchase, Bill and
Attachable (see `factor_desktop.sync.reference.read_changes`) and applies it in this order: the
records kept waiting, then Purchase and Bill (expenses), Payment, Invoice (QuickBooks's balance
has the last word), Attachable (receipts of the expenses just brought in), then payments of
invoices this pass linked, then receipts still to download. A record that cannot be applied is
logged and kept waiting; it does not stop the pass. Each entity's cursor moves only once all of
its records are committed.

Records are committed a page at a time (`PAGE`: as many as a page of QuickBooks query results).
A page is applied in one savepoint; should a record fail, the page is rolled back and applied
again a record at a time, each in a savepoint of its own, so the failing record alone is left
out, logged and kept waiting. A crash or a cancel loses at most the page being applied, which
the next pass reads again (the cursor has not moved): an expense already stored is recognised by
its QuickBooks transaction and line, so nothing is doubled.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from itertools import islice

from sqlalchemy import select

from factor_desktop.qbo.client import JsonDict
from factor_desktop.qbo.errors import ObjectNotFoundError, QboValidationError
from factor_desktop.store.models import Attachment, Expense, Invoice, Payment
from factor_desktop.sync.context import SyncContext
from factor_desktop.sync.pull.common import (
    EXPENSE_TXNS,
    PULL_ENTITIES,
    RECORD_ERRORS,
    BadData,
)
from factor_desktop.sync.pull.core import PullPass
from factor_desktop.sync.pull.expenses import apply_expense_txn
from factor_desktop.sync.pull.invoices import apply_invoice
from factor_desktop.sync.pull.payments import apply_payment
from factor_desktop.sync.pull.receipts import apply_attachable, retry_downloads
from factor_desktop.sync.pull.waiting import prune, remember, to_retry
from factor_desktop.sync.reference import Changes, advance_cursor, read_changes

#: Records applied per commit.
PAGE = 1000


def pull_changes(ctx: SyncContext) -> None:
    """Apply what changed in QuickBooks to Factor's payments, invoices, expenses and receipts.

    Counts (besides the per-action counts of the sync log): `payments_not_ours`,
    `invoices_not_ours`, `expense_lines_unlinked`, `expense_lines_without_customer`,
    `attachables_not_ours`, `attachables_waiting`, `waiting_retried`.
    """
    p = PullPass(ctx)
    feed = read_changes(ctx, PULL_ENTITIES)
    for entity in ("Purchase", "Bill", "Payment"):
        _retry_waiting(p, entity, feed[entity])
    for entity in PULL_ENTITIES:
        if entity == "Attachable":
            _retry_waiting(p, entity, feed[entity])
        _apply_all(p, feed[entity])
    _payments_of_linked_invoices(p)
    retry_downloads(p)


def _handler(p: PullPass, entity: str) -> Callable[[JsonDict], None]:
    if entity in EXPENSE_TXNS:
        return lambda row: apply_expense_txn(p, entity, row)
    handlers: dict[str, Callable[[PullPass, JsonDict], None]] = {
        "Payment": apply_payment,
        "Invoice": apply_invoice,
        "Attachable": apply_attachable,
    }
    apply = handlers[entity]
    return lambda row: apply(p, row)


def _read_then(p: PullPass, entity: str) -> Callable[[JsonDict], None]:
    """A handler that reads the record afresh from QuickBooks, then applies it."""
    apply = _handler(p, entity)

    def handler(stub: JsonDict) -> None:
        try:
            row = p.ctx.client.read(entity, str(stub["Id"]))
        except ObjectNotFoundError:
            return  # deleted since; the deletion reaches Factor through the change feed
        except QboValidationError as error:
            raise BadData(str(error)) from None
        apply(row)

    return handler


def _pages(rows: Iterable[JsonDict]) -> Iterator[list[JsonDict]]:
    it = iter(rows)
    while page := list(islice(it, PAGE)):
        yield page


def _apply_page(
    p: PullPass, entity: str, page: list[JsonDict], handler: Callable[[JsonDict], None]
) -> None:
    """Apply a page of records of `entity`, then commit them together.

    The page is first applied in one savepoint. Should a record fail, the page is rolled back and
    applied again a record at a time, each in a savepoint of its own, so the failing record is
    the only one left out (and kept waiting). Receipts go a record at a time from the start: a
    download is not repeated.
    """
    if entity == "Attachable" or len(page) == 1 or not _apply_together(p, entity, page, handler):
        _load_expenses(p, entity, page)
        for row in page:
            _one(p, entity, row, handler)
    p.commit()


def _load_expenses(p: PullPass, entity: str, page: list[JsonDict]) -> None:
    if entity in EXPENSE_TXNS:
        p.load_expenses(entity, (str(row["Id"]) for row in page if row.get("Id") not in (None, "")))


def _apply_together(
    p: PullPass, entity: str, page: list[JsonDict], handler: Callable[[JsonDict], None]
) -> bool:
    """Apply a page in one savepoint; False, with nothing applied, when a record fails."""
    _load_expenses(p, entity, page)
    counts = p.ctx.counts.copy()
    p.savepoint()
    try:
        with p.session.begin_nested():
            for row in page:
                p.ctx.check_cancel()
                handler(row)
    except RECORD_ERRORS:
        p.ctx.counts.clear()
        p.ctx.counts.update(counts)
        p.rolled_back()
        return False
    return True


def _retry_waiting(p: PullPass, entity: str, changes: Changes) -> None:
    """Apply again the records of `entity` kept waiting, unless QuickBooks sent them anew."""
    handler = _handler(p, entity)
    for page in _pages(to_retry(p, entity, changes)):
        p.ctx.counts["waiting_retried"] += len(page)
        _apply_page(p, entity, page, handler)


def _payments_of_linked_invoices(p: PullPass) -> None:
    """Payments QuickBooks applied to an invoice before this pass linked it to Factor's are
    older than the change cursors: read them, and the invoice, explicitly."""
    for linked in p.ctx.linked_invoices:
        payment_ids = {
            str(link.get("TxnId"))
            for link in linked.get("LinkedTxn") or []
            if isinstance(link, dict) and link.get("TxnType") == "Payment"
        }
        for payment_id in sorted(payment_ids):
            _one(p, "Payment", {"Id": payment_id}, _read_then(p, "Payment"))
        if payment_ids and linked.get("Id") is not None:
            _one(p, "Invoice", {"Id": linked["Id"]}, _read_then(p, "Invoice"))
    p.commit()


def _apply_all(p: PullPass, changes: Changes) -> None:
    handler = _handler(p, changes.entity)
    present: set[str] = set()
    for page in _pages(changes.rows):
        present.update(str(row["Id"]) for row in page if row.get("Id") not in (None, ""))
        _apply_page(p, changes.entity, page, handler)
    if changes.full:
        p.ctx.check_cancel()
        _missing_from_full_read(p, changes.entity, present)
    advance_cursor(p.ctx, changes.entity)
    p.commit()


def _one(p: PullPass, entity: str, row: JsonDict, handler: Callable[[JsonDict], None]) -> None:
    """Apply one record in a savepoint of its own; a record that fails is logged and kept."""
    p.ctx.check_cancel()
    counts = p.ctx.counts.copy()
    p.savepoint()
    try:
        with p.session.begin_nested():
            handler(row)
    except RECORD_ERRORS as error:
        # What the record had logged is rolled back with it; so is what it had counted.
        p.ctx.counts.clear()
        p.ctx.counts.update(counts)
        p.rolled_back()
        _record_failed(p, entity, row, error)


def _record_failed(p: PullPass, entity: str, row: JsonDict, error: Exception) -> None:
    reason = getattr(error, "message", None) or str(error)
    qbo_id = str(row.get("Id", "")) or None
    p.note(
        entity_kind=entity.lower(),
        label=f"{entity} {row.get('DocNumber') or qbo_id or '(no Id)'}",
        action="failed",
        level="error",
        reason=f"{reason} The next sync tries again.",
        qbo_id=qbo_id,
        once=True,
    )
    if qbo_id is not None and entity in ("Purchase", "Bill", "Payment", "Attachable"):
        remember(p, entity, row, f"{entity} {row.get('DocNumber') or qbo_id}")


def _missing_from_full_read(p: PullPass, entity: str, present: set[str]) -> None:
    """A full read is complete: Factor's twins of records it did not return are gone.

    Except what this pass created: a read taken before those writes (a preview's are never in
    QuickBooks at all) cannot speak for them.
    """
    present = present | p.ctx.writer.created.get(entity, set())
    prune(p, entity, present)
    gone: set[str] = set()
    if entity in EXPENSE_TXNS:
        gone = set(
            p.session.scalars(
                select(Expense.qbo_id).where(
                    Expense.qbo_txn_type == entity,
                    Expense.qbo_id.is_not(None),
                    Expense.deleted_in_qbo.is_(False),
                )
            )
        )
    elif entity == "Payment":
        gone = set(p.session.scalars(select(Payment.qbo_id).where(Payment.qbo_id.is_not(None))))
    elif entity == "Invoice":
        gone = set(p.session.scalars(select(Invoice.qbo_id).where(Invoice.qbo_id.is_not(None))))
    elif entity == "Attachable":
        gone = set(
            p.session.scalars(select(Attachment.qbo_id).where(Attachment.qbo_id.is_not(None)))
        )
    handler = _handler(p, entity)
    stubs: list[JsonDict] = [
        {"Id": qbo_id, "status": "Deleted", "domain": "QBO"}
        for qbo_id in sorted(str(i) for i in gone if i is not None and str(i) not in present)
    ]
    p.commit()
    for page in _pages(stubs):
        _apply_page(p, entity, page, handler)
