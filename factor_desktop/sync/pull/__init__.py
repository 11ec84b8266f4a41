"""The pull half of a sync pass: payments, invoice balances, project expenses and receipts.

`pull_changes` reads what changed in QuickBooks for Payment, Invoice, Purchase, Bill and
Attachable (change data capture since each entity's cursor, or in full: see
`factor_desktop.sync.reference`) and applies it, one record per commit, in this order:
Purchase and Bill (expenses), Payment, Invoice (QuickBooks's balance has the last word),
Attachable (receipts of the expenses just brought in). Each entity's cursor moves only once all
of its records are committed; a cancelled or failed pass reads the same changes again next time,
and applying a change twice changes nothing the second time.

Invoices
    Only Factor's own (`Invoice.qbo_id`). The SyncToken is kept for later pushes. QuickBooks's
    Balance is authoritative: the balance is first recomputed from the payments applied here
    (`refresh_invoice_balance`), and where QuickBooks says otherwise (a credit applied there, a
    payment older than the link) its Balance is taken and the status follows by the domain rule.
    Factor never deletes or voids an invoice because of QuickBooks: a deleted or voided twin, or
    a total changed there after the invoice was finalized, is a warning in the sync log to review.

Payments
    A payment is kept with the part of it applied to Factor's invoices (its lines linked to an
    Invoice whose Id a Factor invoice holds). The applications mirror QuickBooks's lines exactly
    (QuickBooks already checked them), and every invoice touched is recomputed. A payment that
    touches no Factor invoice is not kept (counted as `payments_not_ours`); a deleted one, or one
    no longer applied to any Factor invoice, is removed with its applications; a voided one is
    kept, marked void, and no longer counts toward any balance.

Expenses
    Each expense line (account- or item-based) booked to a customer linked to a Factor project
    becomes an Expense through `save_qbo_expense`, which applies the expense type's markup and
    billable rule; the type is the one mapped to the line's account (`expense_type`) or item
    (`expense_type_item`). BillableStatus "NotBillable" or "HasBeenBilled" (billed to the client
    in QuickBooks already) makes the expense not billable; otherwise the type decides. A
    credit-card credit is a negative cost. Lines booked to a customer not linked to a project
    are skipped (`expense_lines_unlinked`, an info entry once per customer);
    lines with no customer are not project costs (`expense_lines_without_customer`). A line whose
    account or item is not mapped is blocked: a warning (one per transaction and account or
    item; the `blocked` count is per line) names it and asks for it to be mapped on the Mappings
    tab. A line's project is its ProjectRef (line or transaction) when that names a linked
    project, else its CustomerRef. Deleted transactions and removed lines (or lines moved to a
    customer not linked) mark their expenses `deleted_in_qbo`; nothing is deleted, and an expense
    already billed gets a warning. A change QuickBooks makes to an expense already billed is
    refused by `save_qbo_expense` (logged, the transaction waits until the expense is unbilled).

Waiting records (applied automatically once possible)
    A Purchase or Bill with a blocked line, a line on an unlinked customer or a line that could
    not be saved, a Payment that could not be applied, and a receipt whose transaction has not
    been brought in yet are kept in `qbo_cache` under their own entity ("Purchase", "Bill",
    "Payment", "Attachable") with kind "waiting" and the latest QuickBooks JSON (download links
    removed). Every pull tries them again first (before the Attachables: after the new
    transactions), unless QuickBooks sent a newer version in this pass. So mapping an account or
    linking a project is enough: the next sync applies the waiting expenses without anything
    changing in QuickBooks. Once applied, the record leaves the cache and its blocked or failed
    log entries are marked resolved. A warning already in the log unresolved is not repeated on
    every pass, but it is still counted, so a pass with something blocked is "partial".

Receipts
    One Attachment row per QuickBooks Attachable (its Id is unique), tied to the transaction it
    is attached to (`qbo_txn_type`, `qbo_txn_id`: every expense of that transaction shares it)
    and to the transaction's first expense (`expense_id`). The file is stored once in
    `ctx.attachments_dir` under its SHA-256 (hex) with the original extension, written to a
    temporary file and renamed into place; `attachment_path` finds it. A receipt already stored
    (same Attachable, file present) is not downloaded again; a file with the same content is not
    written twice. A failed download is logged and tried again at the next pass
    (`downloaded_at` stays empty), as is a receipt whose file has gone from the folder; a retry
    asks QuickBooks for a fresh link. Download links are never logged or stored. A receipt deleted
    in QuickBooks loses its Attachment row; the file stays (another receipt may share it).

Preview
    The engine runs a preview on a scratch copy of the database, so the records are applied
    there as usual and every change is also noted with `ctx.would`; no file is downloaded.
"""

from __future__ import annotations

import hashlib
import mimetypes
import os
import re
import tempfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from factor_desktop.domain.errors import RuleViolation
from factor_desktop.domain.invoices import next_status_for_balance
from factor_desktop.domain.money import format_money, to_cents
from factor_desktop.domain.status import InvoiceStatus
from factor_desktop.qbo.client import JsonDict
from factor_desktop.qbo.errors import (
    ObjectNotFoundError,
    QboAuthError,
    QboError,
    QboValidationError,
)
from factor_desktop.services.errors import Change, ServiceError
from factor_desktop.services.expenses import ExpenseInput, billing_invoice, save_qbo_expense
from factor_desktop.services.mappings import cached
from factor_desktop.services.payments import refresh_invoice_balance
from factor_desktop.store.models import (
    Attachment,
    Client,
    Expense,
    ExpenseType,
    Invoice,
    Payment,
    PaymentApplication,
    Project,
    QboRecord,
    SyncLogEntry,
)
from factor_desktop.store.models import Mapping as TypeMapping
from factor_desktop.sync.context import SyncContext
from factor_desktop.sync.reference import (
    Changes,
    advance_cursor,
    is_deleted,
    last_updated,
    read_changes,
    ref_name,
    ref_value,
)

__all__ = ["PULL_ENTITIES", "WAITING", "attachment_path", "pull_changes"]

#: The entities a pull reads, in the order they are applied.
PULL_ENTITIES: tuple[str, ...] = ("Purchase", "Bill", "Payment", "Invoice", "Attachable")
#: `QboRecord.kind` of a QuickBooks record kept to be applied at a later pass.
WAITING = "waiting"

_EXPENSE_TXNS = ("Purchase", "Bill")
_ACCOUNT_LINE = "AccountBasedExpenseLineDetail"
_ITEM_LINE = "ItemBasedExpenseLineDetail"
_DIRECTION = "pull"
_VERBS = {
    "created": "create",
    "updated": "update",
    "deleted": "delete",
    "voided": "void",
    "downloaded": "download",
    "blocked": "block",
    "failed": "fail",
    "skipped": "skip",
    "linked": "link",
}
_EXTENSION = re.compile(r"\.[A-Za-z0-9]{1,10}")
# Keys of an Attachable that carry short-lived signed links: never stored, never logged.
_LINK_KEYS = ("TempDownloadUri", "ThumbnailTempDownloadUri")


class _BadData(ValueError):
    """QuickBooks sent a record this pass cannot read."""


# Errors that stop one record, not the pass: refusals by the services and the domain rules, and
# records QuickBooks sent in a shape that cannot be read.
_RECORD_ERRORS: tuple[type[Exception], ...] = (
    ServiceError,
    RuleViolation,
    ValueError,
    InvalidOperation,
)


def attachment_path(attachments_dir: Path, attachment: Attachment) -> Path | None:
    """Where a downloaded receipt's file is kept, or None when it has not been downloaded."""
    if attachment.sha256 is None or attachment.downloaded_at is None:
        return None
    return attachments_dir / f"{attachment.sha256}{_extension(attachment)}"


def pull_changes(ctx: SyncContext) -> None:
    """Apply what changed in QuickBooks to Factor's payments, invoices, expenses and receipts.

    Counts (besides the per-action counts of the sync log): `payments_not_ours`,
    `invoices_not_ours`, `expense_lines_unlinked`, `expense_lines_without_customer`,
    `attachables_not_ours`, `attachables_waiting`, `waiting_retried`.
    """
    _Puller(ctx).run()


# --------------------------------------------------------------------------------------------
# Reading QuickBooks values
# --------------------------------------------------------------------------------------------


def _money(value: Any, what: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, (int, float, str, Decimal)):
        raise _BadData(f"QuickBooks sent no readable {what}.")
    try:
        return to_cents(Decimal(str(value)))
    except (InvalidOperation, ValueError, TypeError):
        raise _BadData(f"QuickBooks sent {what} {value!r}, which is not an amount.") from None


def _date(value: Any, what: str) -> date:
    if not isinstance(value, str):
        raise _BadData(f"QuickBooks sent no {what}.")
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        raise _BadData(f"QuickBooks sent {what} {value!r}, which is not a date.") from None


def _text(value: Any, limit: int) -> str | None:
    if not isinstance(value, str):
        return None
    text = " ".join(value.split()) if limit <= 300 else value.strip()
    return text[:limit] if text else None


def _id(row: Mapping[str, Any]) -> str:
    raw = row.get("Id")
    if raw in (None, ""):
        raise _BadData("QuickBooks sent a record without an Id.")
    return str(raw)


def _voided(row: Mapping[str, Any]) -> bool:
    """QuickBooks voids by zeroing the amounts and putting "Voided" in the private note."""
    note = row.get("PrivateNote")
    total = row.get("TotalAmt", 0)
    zero = isinstance(total, (int, float)) and not isinstance(total, bool) and total == 0
    return zero and isinstance(note, str) and note.startswith("Voided")


def _extension(attachment: Attachment) -> str:
    suffix = Path(attachment.file_name).suffix
    if _EXTENSION.fullmatch(suffix):
        return suffix.lower()
    guessed = mimetypes.guess_extension(attachment.content_type or "") or ""
    return guessed if _EXTENSION.fullmatch(guessed) else ""


def _without_links(row: Mapping[str, Any]) -> JsonDict:
    return {key: value for key, value in row.items() if key not in _LINK_KEYS}


def _write_atomically(path: Path, content: bytes) -> None:
    """Write `content` to a temporary file beside `path`, then rename it into place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".receipt-", suffix=".part")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(content)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


# --------------------------------------------------------------------------------------------
# The pull
# --------------------------------------------------------------------------------------------


@dataclass
class _Line:
    """An expense line of a Purchase or Bill, as far as Factor is concerned."""

    line_id: str
    detail_type: str
    detail: JsonDict
    raw: JsonDict


@dataclass
class _Puller:
    """One pull: applies QuickBooks's changes record by record (see the module's notes)."""

    ctx: SyncContext
    _projects: dict[str, Project | None] = field(default_factory=dict)
    _attachments_seen: set[str] = field(default_factory=set)

    @property
    def session(self) -> Session:
        return self.ctx.session

    # -- the order of a pull ----------------------------------------------------------------

    def run(self) -> None:
        feed = read_changes(self.ctx, PULL_ENTITIES)
        for entity in ("Purchase", "Bill", "Payment"):
            self._retry_waiting(entity, feed[entity])
        for entity in PULL_ENTITIES:
            if entity == "Attachable":
                self._retry_waiting(entity, feed[entity])
            self._apply_all(feed[entity])
        self._payments_of_linked_invoices()
        self._retry_downloads()

    def _read_then(self, entity: str) -> Callable[[JsonDict], None]:
        """A handler that reads the record afresh from QuickBooks, then applies it."""
        apply = self._handler(entity)

        def handler(stub: JsonDict) -> None:
            try:
                row = self.ctx.client.read(entity, str(stub["Id"]))
            except ObjectNotFoundError:
                return  # deleted since; the deletion reaches Factor through the change feed
            except QboValidationError as error:
                raise _BadData(str(error)) from None
            apply(row)

        return handler

    def _payments_of_linked_invoices(self) -> None:
        """Payments QuickBooks applied to an invoice before this pass linked it to Factor's are
        older than the change cursors: read them, and the invoice, explicitly."""
        for linked in self.ctx.linked_invoices:
            payment_ids = {
                str(link.get("TxnId"))
                for link in linked.get("LinkedTxn") or []
                if isinstance(link, dict) and link.get("TxnType") == "Payment"
            }
            for payment_id in sorted(payment_ids):
                self._one("Payment", {"Id": payment_id}, self._read_then("Payment"))
            if payment_ids and linked.get("Id") is not None:
                self._one("Invoice", {"Id": linked["Id"]}, self._read_then("Invoice"))
        self.session.commit()

    def _handler(self, entity: str) -> Callable[[JsonDict], None]:
        if entity in _EXPENSE_TXNS:
            return lambda row: self._apply_expense_txn(entity, row)
        handlers: dict[str, Callable[[JsonDict], None]] = {
            "Payment": self._apply_payment,
            "Invoice": self._apply_invoice,
            "Attachable": self._apply_attachable,
        }
        return handlers[entity]

    def _apply_all(self, changes: Changes) -> None:
        handler = self._handler(changes.entity)
        for row in changes.rows:
            self._one(changes.entity, row, handler)
        if changes.full:
            present = {str(row["Id"]) for row in changes.rows if row.get("Id") not in (None, "")}
            self._one_step(lambda: self._missing_from_full_read(changes.entity, present))
        advance_cursor(self.ctx, changes.entity)
        self.session.commit()

    def _retry_waiting(self, entity: str, changes: Changes) -> None:
        """Apply again the records of `entity` kept waiting, unless QuickBooks sent them anew."""
        fresh = {str(row.get("Id")) for row in changes.rows}
        waiting = [
            (record.qbo_id, dict(record.data))
            for record in self.session.scalars(
                select(QboRecord)
                .where(QboRecord.entity == entity, QboRecord.kind == WAITING)
                .order_by(QboRecord.id)
            )
        ]
        handler = self._handler(entity)
        for qbo_id, data in waiting:
            if qbo_id in fresh:
                continue
            self.ctx.counts["waiting_retried"] += 1
            self._one(entity, data, handler)

    def _one(self, entity: str, row: JsonDict, handler: Callable[[JsonDict], None]) -> None:
        """Apply one record in a commit of its own; a record that fails is logged and kept."""
        self.ctx.check_cancel()
        counts, planned = self.ctx.counts.copy(), len(self.ctx.planned)
        try:
            with self.session.begin_nested():
                handler(row)
        except _RECORD_ERRORS as error:
            # What the record had logged is rolled back with it; so is what it had counted.
            self.ctx.counts.clear()
            self.ctx.counts.update(counts)
            del self.ctx.planned[planned:]
            self._record_failed(entity, row, error)
        self.session.commit()

    def _one_step(self, step: Callable[[], None]) -> None:
        self.ctx.check_cancel()
        step()
        self.session.commit()

    def _record_failed(self, entity: str, row: JsonDict, error: Exception) -> None:
        reason = getattr(error, "message", None) or str(error)
        qbo_id = str(row.get("Id", "")) or None
        self._note(
            entity_kind=entity.lower(),
            label=f"{entity} {row.get('DocNumber') or qbo_id or '(no Id)'}",
            action="failed",
            level="error",
            reason=f"{reason} The next sync tries again.",
            qbo_id=qbo_id,
            once=True,
        )
        if qbo_id is not None and entity in ("Purchase", "Bill", "Payment", "Attachable"):
            self._remember(entity, row, f"{entity} {row.get('DocNumber') or qbo_id}")

    # -- the sync log -----------------------------------------------------------------------

    def _note(
        self,
        *,
        entity_kind: str,
        label: str,
        action: str,
        level: str = "info",
        reason: str | None = None,
        local_id: int | None = None,
        qbo_id: str | None = None,
        detail: dict[str, Any] | None = None,
        once: bool = False,
    ) -> None:
        """Log what happened to one record (and, in a preview, note it as planned).

        `once`: not logged again while the same entry stands unresolved in the log (it is still
        counted, so a pass that leaves something blocked or failed is not reported as clean).
        """
        label = label[:300]
        if self.ctx.preview:
            extra: dict[str, Any] = {"qbo_id": qbo_id, "level": level}
            if reason:
                extra["reason"] = reason
            self.ctx.would(
                direction=_DIRECTION,
                entity_kind=entity_kind,
                label=label,
                action=_VERBS.get(action, action),
                **extra,
            )
        if once and self._standing(entity_kind, qbo_id, action, reason):
            self.ctx.counts[action] += 1
            return
        self.ctx.log(
            direction=_DIRECTION,
            entity_kind=entity_kind,
            label=label,
            action=action,
            level=level,
            reason=reason,
            local_id=local_id,
            qbo_id=qbo_id,
            detail=detail,
        )

    def _standing(
        self, entity_kind: str, qbo_id: str | None, action: str, reason: str | None
    ) -> bool:
        return (
            self.session.scalar(
                select(SyncLogEntry.id)
                .where(
                    SyncLogEntry.entity_kind == entity_kind,
                    SyncLogEntry.qbo_id == qbo_id,
                    SyncLogEntry.action == action,
                    SyncLogEntry.reason == reason,
                    SyncLogEntry.resolved.is_(False),
                )
                .limit(1)
            )
            is not None
        )

    def _resolve(self, entity_kind: str, qbo_id: str, actions: Sequence[str]) -> None:
        """Mark standing log entries about a record as resolved (it has been applied since)."""
        self.session.execute(
            update(SyncLogEntry)
            .where(
                SyncLogEntry.entity_kind == entity_kind,
                SyncLogEntry.qbo_id == qbo_id,
                SyncLogEntry.action.in_(list(actions)),
                SyncLogEntry.resolved.is_(False),
            )
            .values(resolved=True)
        )

    # -- waiting records --------------------------------------------------------------------

    def _remember(self, entity: str, row: JsonDict, label: str) -> None:
        qbo_id = str(row["Id"])
        data = _without_links(row)
        record = cached(self.session, entity, qbo_id)
        token = row.get("SyncToken")
        if record is None:
            record = QboRecord(entity=entity, qbo_id=qbo_id, name=label[:500], kind=WAITING)
            self.session.add(record)
        record.name = label[:500]
        record.kind = WAITING
        record.active = True
        record.sync_token = str(token)[:16] if token is not None else None
        record.data = data
        record.last_updated = last_updated(row)
        self.session.flush()

    def _forget(self, entity: str, qbo_id: str) -> None:
        record = cached(self.session, entity, qbo_id)
        if record is not None and record.kind == WAITING:
            self.session.delete(record)
            self.session.flush()

    # -- lookups ----------------------------------------------------------------------------

    def _project(self, customer_id: str) -> Project | None:
        if customer_id not in self._projects:
            self._projects[customer_id] = self.session.scalar(
                select(Project).where(Project.qbo_id == customer_id)
            )
        return self._projects[customer_id]

    def _invoice(self, qbo_id: str) -> Invoice | None:
        return self.session.scalar(select(Invoice).where(Invoice.qbo_id == qbo_id))

    def _expenses_of(self, entity: str, txn_id: str) -> list[Expense]:
        return list(
            self.session.scalars(
                select(Expense)
                .where(Expense.qbo_txn_type == entity, Expense.qbo_id == txn_id)
                .order_by(Expense.id)
            )
        )

    def _name_of(self, entity: str, ref: Any) -> str | None:
        name = ref_name(ref)
        if name is not None:
            return name
        qbo_id = ref_value(ref)
        record = cached(self.session, entity, qbo_id) if qbo_id is not None else None
        return record.name if record is not None else None

    # -- full reads: what is gone ----------------------------------------------------------

    def _missing_from_full_read(self, entity: str, present: set[str]) -> None:
        """A full read is complete: Factor's twins of records it did not return are gone."""
        for record in self.session.scalars(
            select(QboRecord).where(QboRecord.entity == entity, QboRecord.kind == WAITING)
        ).all():
            if record.qbo_id not in present:
                self.session.delete(record)
        gone: set[str] = set()
        if entity in _EXPENSE_TXNS:
            gone = set(
                self.session.scalars(
                    select(Expense.qbo_id).where(
                        Expense.qbo_txn_type == entity,
                        Expense.qbo_id.is_not(None),
                        Expense.deleted_in_qbo.is_(False),
                    )
                )
            )
        elif entity == "Payment":
            gone = set(
                self.session.scalars(select(Payment.qbo_id).where(Payment.qbo_id.is_not(None)))
            )
        elif entity == "Invoice":
            gone = set(
                self.session.scalars(select(Invoice.qbo_id).where(Invoice.qbo_id.is_not(None)))
            )
        elif entity == "Attachable":
            gone = set(
                self.session.scalars(
                    select(Attachment.qbo_id).where(Attachment.qbo_id.is_not(None))
                )
            )
        handler = self._handler(entity)
        for qbo_id in sorted(str(i) for i in gone if i is not None and str(i) not in present):
            stub: JsonDict = {"Id": qbo_id, "status": "Deleted", "domain": "QBO"}
            self._one(entity, stub, handler)

    # -- expenses: Purchase and Bill --------------------------------------------------------

    def _txn_label(self, entity: str, row: JsonDict) -> str:
        payee_ref = row.get("EntityRef") if entity == "Purchase" else row.get("VendorRef")
        payee = self._name_of("Vendor", payee_ref)
        number = row.get("DocNumber") or row.get("Id")
        return f"{entity} {number}" + (f" · {payee}" if payee else "")

    def _apply_expense_txn(self, entity: str, row: JsonDict) -> None:
        txn_id = _id(row)
        if is_deleted(row):
            self._expense_txn_deleted(entity, txn_id)
            return
        label = self._txn_label(entity, row)
        payee_ref = row.get("EntityRef") if entity == "Purchase" else row.get("VendorRef")
        vendor = self._name_of("Vendor", payee_ref)
        incurred_on = _date(row.get("TxnDate"), f"a date for {label}")
        credit = entity == "Purchase" and row.get("Credit") is True
        note = _text(row.get("PrivateNote"), 4000)
        token = row.get("SyncToken")
        txn_project = ref_value(row.get("ProjectRef"))

        lines: list[_Line] = []
        for raw in row.get("Line") or []:
            if not isinstance(raw, dict):
                continue
            detail_type = raw.get("DetailType")
            if detail_type not in (_ACCOUNT_LINE, _ITEM_LINE):
                continue
            detail = raw.get(detail_type)
            if raw.get("Id") in (None, "") or not isinstance(detail, dict):
                raise _BadData(f"{label} has an expense line QuickBooks sent without its detail.")
            lines.append(_Line(str(raw["Id"]), str(detail_type), detail, raw))

        waiting = False
        kept_lines: set[str] = set()  # lines whose expense stays as it is or was just saved
        for line in lines:
            # The project a line is for: QuickBooks's ProjectRef (line or transaction) when it
            # names a linked project, else the line's customer (a sub-customer or project).
            customer_ref = line.detail.get("CustomerRef")
            candidates = [ref_value(line.raw.get("ProjectRef")), txn_project]
            candidates.append(ref_value(customer_ref))
            known = [c for c in candidates if c is not None]
            linked = [c for c in known if self._project(c) is not None]
            customer_id = (
                linked[0] if linked else ref_value(customer_ref) or next(iter(known), None)
            )
            if customer_id is None:
                self.ctx.counts["expense_lines_without_customer"] += 1
                continue
            project = self._project(customer_id)
            if project is None:
                self.ctx.counts["expense_lines_unlinked"] += 1
                self._unlinked_customer(customer_id, customer_ref)
                waiting = True
                continue
            expense_type_id = self._expense_type(entity, txn_id, label, line)
            if expense_type_id is None:
                kept_lines.add(line.line_id)
                waiting = True
                continue
            cost = _money(line.raw.get("Amount"), f"an amount for {label} line {line.line_id}")
            data = ExpenseInput(
                project_id=project.id,
                expense_type_id=expense_type_id,
                incurred_on=incurred_on,
                cost=-cost if credit else cost,
                vendor=_text(vendor, 200),
                description=_text(line.raw.get("Description"), 4000) or note or "",
                # Already billed to the client in QuickBooks: billing it again here would
                # charge the client twice.
                billable=False
                if line.detail.get("BillableStatus") in ("NotBillable", "HasBeenBilled")
                else None,
                source="qbo",
                qbo_txn_type=entity,
                qbo_id=txn_id,
                qbo_line_id=line.line_id,
                qbo_sync_token=str(token) if token is not None else None,
            )
            kept_lines.add(line.line_id)
            if not self._save_expense(entity, txn_id, label, line, project, data):
                waiting = True
                continue
            self._resolve("customer", customer_id, ("skipped",))

        present = {line.line_id for line in lines}
        for expense in self._expenses_of(entity, txn_id):
            if expense.qbo_line_id in kept_lines or expense.deleted_in_qbo:
                continue
            gone = expense.qbo_line_id not in present
            self._mark_deleted(
                expense,
                label,
                "Its line was deleted in QuickBooks."
                if gone
                else "Its line is no longer booked to a project linked to Factor.",
            )
        if waiting:
            self._remember(entity, row, label)
        else:
            self._forget(entity, txn_id)
            self._resolve(entity.lower(), txn_id, ("blocked", "failed"))

    def _expense_type(self, entity: str, txn_id: str, label: str, line: _Line) -> int | None:
        """The expense type mapped to the line's account or item; None (and a blocked entry)
        when there is none."""
        if line.detail_type == _ACCOUNT_LINE:
            kind, what, ref = "expense_type", "account", line.detail.get("AccountRef")
            cache_entity = "Account"
        else:
            kind, what, ref = "expense_type_item", "item", line.detail.get("ItemRef")
            cache_entity = "Item"
        qbo_id = ref_value(ref)
        if qbo_id is None:
            raise _BadData(f"{label} line {line.line_id} names no {what}.")
        candidates = list(
            self.session.scalars(
                select(TypeMapping.local_id).where(
                    TypeMapping.kind == kind, TypeMapping.qbo_id == qbo_id
                )
            )
        )
        if len(candidates) == 1:
            return candidates[0]
        name = self._name_of(cache_entity, ref) or f"{what} {qbo_id}"
        if len(candidates) > 1:
            types = sorted(
                t.name
                for t in self.session.scalars(
                    select(ExpenseType).where(ExpenseType.id.in_(candidates))
                )
            )
            reason = (
                f"The QuickBooks {what} '{name}' stands for several expense types "
                f"({', '.join(types)}), so this expense can't be placed. Book it to an "
                "expense account in QuickBooks, or map the item to one expense type."
            )
        else:
            reason = (
                f"The QuickBooks {what} '{name}' is not mapped to a Factor expense type, so "
                f"this expense can't be brought in. Map the {what} to an expense type on the "
                "Mappings tab; the next sync then brings the expense in."
            )
        self._note(
            entity_kind=entity.lower(),
            label=label,
            action="blocked",
            level="warning",
            reason=reason,
            qbo_id=txn_id,
            detail={f"{what}_id": qbo_id, f"{what}_name": name, "line_id": line.line_id},
            once=True,
        )
        return None

    def _unlinked_customer(self, customer_id: str, ref: Any) -> None:
        name = self._name_of("Customer", ref) or f"customer {customer_id}"
        self._note(
            entity_kind="customer",
            label=name,
            action="skipped",
            reason=(
                f"The QuickBooks customer '{name}' is not linked to a Factor project, so the "
                "expenses booked to it are not brought in. Link a project to it and the next "
                "sync brings them in."
            ),
            qbo_id=customer_id,
            once=True,
        )

    def _save_expense(
        self,
        entity: str,
        txn_id: str,
        label: str,
        line: _Line,
        project: Project,
        data: ExpenseInput,
    ) -> bool:
        """Save one expense line; False when it was refused (logged, to be tried again)."""
        line_label = f"{label} line {line.line_id} → {project.number}"
        try:
            with self.session.begin_nested():
                saved = save_qbo_expense(self.session, data)
        except ServiceError as error:
            self._note(
                entity_kind=entity.lower(),
                label=line_label,
                action="failed",
                level="warning",
                reason=error.message,
                qbo_id=txn_id,
                detail={"line_id": line.line_id},
                once=True,
            )
            return False
        expense = saved.record
        change = saved.change
        if expense.deleted_in_qbo:
            expense.deleted_in_qbo = False
            change = Change.UPDATED
        if change is not Change.UNCHANGED:
            self._note(
                entity_kind="expense",
                label=f"{line_label} · {format_money(expense.cost)}",
                action=change.value,
                local_id=expense.id,
                qbo_id=txn_id,
                detail={
                    "txn_type": entity,
                    "line_id": line.line_id,
                    "cost": str(expense.cost),
                    "markup_percent": (
                        None if expense.markup_percent is None else str(expense.markup_percent)
                    ),
                    "billable_amount": str(expense.billable_amount),
                    "billable": expense.billable,
                },
            )
        return True

    def _mark_deleted(self, expense: Expense, label: str, why: str) -> None:
        expense.deleted_in_qbo = True
        self.session.flush()
        invoice = billing_invoice(self.session, expense.id)
        line_label = f"{label} line {expense.qbo_line_id} → {expense.project.number}"
        line_label += f" · {format_money(expense.cost)}"
        if invoice is not None:
            self._note(
                entity_kind="expense",
                label=line_label,
                action="deleted",
                level="warning",
                reason=(
                    f"{why} The expense is already billed on invoice "
                    f"{invoice.number or '(draft)'}; it is kept and marked as removed in "
                    "QuickBooks. Review that invoice."
                ),
                local_id=expense.id,
                qbo_id=expense.qbo_id,
            )
        else:
            self._note(
                entity_kind="expense",
                label=line_label,
                action="deleted",
                reason=f"{why} The expense is kept and marked as removed in QuickBooks.",
                local_id=expense.id,
                qbo_id=expense.qbo_id,
            )

    def _expense_txn_deleted(self, entity: str, txn_id: str) -> None:
        for expense in self._expenses_of(entity, txn_id):
            if not expense.deleted_in_qbo:
                label = f"{entity} {txn_id}" + (f" · {expense.vendor}" if expense.vendor else "")
                self._mark_deleted(expense, label, f"The {entity} was deleted in QuickBooks.")
        self._forget(entity, txn_id)
        self._resolve(entity.lower(), txn_id, ("blocked", "failed"))

    # -- payments ---------------------------------------------------------------------------

    def _apply_payment(self, row: JsonDict) -> None:
        qbo_id = _id(row)
        payment = self.session.scalar(select(Payment).where(Payment.qbo_id == qbo_id))
        if is_deleted(row):
            if payment is not None:
                self._remove_payment(payment, "It was deleted in QuickBooks.")
            self._forget("Payment", qbo_id)
            return

        wanted: dict[int, Decimal] = {}
        invoices: dict[int, Invoice] = {}
        for line in row.get("Line") or []:
            if not isinstance(line, dict):
                continue
            for link in line.get("LinkedTxn") or []:
                if not isinstance(link, dict) or link.get("TxnType") != "Invoice":
                    continue
                invoice = self._invoice(str(link.get("TxnId")))
                if invoice is None:
                    continue
                amount = _money(line.get("Amount"), "a payment line amount")
                if amount > 0:
                    invoices[invoice.id] = invoice
                    wanted[invoice.id] = wanted.get(invoice.id, Decimal("0.00")) + amount
                break  # a payment line pays one transaction

        voided = _voided(row)
        label = self._payment_label(row)
        if payment is None and (voided or not wanted):
            self.ctx.counts["payments_not_ours"] += 1
            self._forget("Payment", qbo_id)
            return
        if payment is not None and not voided and not wanted:
            self._remove_payment(payment, "It is no longer applied to a Factor invoice.")
            self._forget("Payment", qbo_id)
            return

        created = payment is None
        if payment is None:
            payment = Payment(qbo_id=qbo_id, received_on=self.ctx.now.date(), amount=Decimal(0))
            self.session.add(payment)
        before = self._payment_state(payment)
        customer_id = ref_value(row.get("CustomerRef"))
        payment.client_id = self._client_id(customer_id, list(invoices.values()), payment)
        token = row.get("SyncToken")
        payment.qbo_sync_token = str(token) if token is not None else None
        payment.received_on = _date(row.get("TxnDate"), f"a date for {label}")
        payment.method = _text(ref_name(row.get("PaymentMethodRef")), 50)
        payment.reference = _text(row.get("PaymentRefNum"), 50)
        payment.voided = voided
        if not voided:
            payment.amount = _money(row.get("TotalAmt"), f"an amount for {label}")
            payment.unapplied = _money(
                row.get("UnappliedAmt", 0), f"an unapplied amount for {label}"
            )
        self.session.flush()

        touched: dict[int, Invoice] = {app.invoice_id: app.invoice for app in payment.applications}
        if not voided:
            for invoice_id, invoice in invoices.items():
                status = InvoiceStatus(invoice.status)
                if status in (InvoiceStatus.DRAFT, InvoiceStatus.VOID):
                    wanted.pop(invoice_id)
                    self._note(
                        entity_kind="payment",
                        label=label,
                        action="skipped",
                        level="warning",
                        reason=(
                            f"Part of this payment is applied in QuickBooks to invoice "
                            f"{invoice.number or '(draft)'}, which is {status.label.lower()} in "
                            "Factor; that part is not counted here. Review the invoice."
                        ),
                        qbo_id=qbo_id,
                        local_id=invoice.id,
                        once=True,
                    )
            for application in list(payment.applications):
                if application.invoice_id not in wanted:
                    payment.applications.remove(application)
                    self.session.delete(application)
                elif application.amount != wanted[application.invoice_id]:
                    application.amount = wanted[application.invoice_id]
            have = {application.invoice_id for application in payment.applications}
            for invoice_id, amount in wanted.items():
                if invoice_id not in have:
                    payment.applications.append(
                        PaymentApplication(invoice=invoices[invoice_id], amount=amount)
                    )
            touched.update(invoices)
        self.session.flush()
        changes = self._refresh_invoices(touched.values())
        after = self._payment_state(payment)
        self._forget("Payment", qbo_id)
        self._resolve("payment", qbo_id, ("failed",))
        if created or before != after:
            action = (
                "created" if created else ("voided" if voided and not before[-1] else "updated")
            )
            self._note(
                entity_kind="payment",
                label=label,
                action=action,
                local_id=payment.id,
                qbo_id=qbo_id,
                detail={
                    "amount": str(payment.amount),
                    "applied": {
                        app.invoice.number or str(app.invoice_id): str(app.amount)
                        for app in payment.applications
                    },
                    "voided": payment.voided,
                },
            )
        for invoice, old_status, old_balance in changes:
            self._invoice_changed(invoice, old_status, old_balance, f"after {label}")

    def _payment_label(self, row: JsonDict) -> str:
        customer = self._name_of("Customer", row.get("CustomerRef"))
        number = row.get("PaymentRefNum") or row.get("Id")
        total = row.get("TotalAmt")
        amount = ""
        if isinstance(total, (int, float)) and not isinstance(total, bool):
            amount = f" · {format_money(_money(total, 'a payment amount'))}"
        return f"Payment {number}" + (f" · {customer}" if customer else "") + amount

    @staticmethod
    def _payment_state(payment: Payment) -> tuple[Any, ...]:
        applications = tuple(sorted((app.invoice_id, app.amount) for app in payment.applications))
        return (
            payment.client_id,
            payment.received_on,
            payment.amount,
            payment.unapplied,
            payment.method,
            payment.reference,
            payment.qbo_sync_token,
            applications,
            payment.voided,
        )

    def _client_id(
        self, customer_id: str | None, invoices: list[Invoice], payment: Payment
    ) -> int | None:
        if customer_id is not None:
            client = self.session.scalar(select(Client.id).where(Client.qbo_id == customer_id))
            if client is not None:
                return client
            project = self._project(customer_id)
            if project is not None:
                return project.client_id
        if invoices:
            return invoices[0].project.client_id
        return payment.client_id

    def _remove_payment(self, payment: Payment, why: str) -> None:
        touched = {app.invoice_id: app.invoice for app in payment.applications}
        label = f"Payment {payment.reference or payment.qbo_id} · {format_money(payment.amount)}"
        detail = {
            "amount": str(payment.amount),
            "received_on": payment.received_on.isoformat(),
            "applied": {
                app.invoice.number or str(app.invoice_id): str(app.amount)
                for app in payment.applications
            },
        }
        qbo_id = payment.qbo_id
        self.session.delete(payment)
        self.session.flush()
        changes = self._refresh_invoices(touched.values())
        self._note(
            entity_kind="payment",
            label=label,
            action="deleted",
            reason=f"{why} Its amounts no longer count toward the invoices it paid.",
            qbo_id=qbo_id,
            detail=detail,
        )
        for invoice, old_status, old_balance in changes:
            self._invoice_changed(invoice, old_status, old_balance, f"after {label} was removed")

    def _refresh_invoices(self, invoices: Iterable[Invoice]) -> list[tuple[Invoice, str, Decimal]]:
        """Recompute balances; returns the invoices whose status or balance moved."""
        moved: list[tuple[Invoice, str, Decimal]] = []
        for invoice in invoices:
            old_status, old_balance = invoice.status, invoice.balance
            self.session.expire(invoice, ["applications"])
            refresh_invoice_balance(self.session, invoice)
            if (invoice.status, invoice.balance) != (old_status, old_balance):
                moved.append((invoice, old_status, old_balance))
        return moved

    def _invoice_changed(
        self, invoice: Invoice, old_status: str, old_balance: Decimal, why: str
    ) -> None:
        self._note(
            entity_kind="invoice",
            label=f"Invoice {invoice.number}",
            action="updated",
            reason=(
                f"{InvoiceStatus(old_status).label} → {InvoiceStatus(invoice.status).label}, "
                f"balance {format_money(old_balance)} → {format_money(invoice.balance)} {why}."
            ),
            local_id=invoice.id,
            qbo_id=invoice.qbo_id,
            detail={
                "status": [old_status, invoice.status],
                "balance": [str(old_balance), str(invoice.balance)],
            },
        )

    # -- invoices ---------------------------------------------------------------------------

    def _apply_invoice(self, row: JsonDict) -> None:
        qbo_id = _id(row)
        invoice = self._invoice(qbo_id)
        if invoice is None:
            self.ctx.counts["invoices_not_ours"] += 1
            return
        label = f"Invoice {invoice.number}"
        status = InvoiceStatus(invoice.status)
        if is_deleted(row):
            if status is not InvoiceStatus.VOID:
                self._note(
                    entity_kind="invoice",
                    label=label,
                    action="deleted",
                    level="warning",
                    reason=(
                        f"Invoice {invoice.number} was deleted in QuickBooks. Factor keeps it as "
                        f"{status.label.lower()}: void it here if it no longer stands, or enter "
                        "it in QuickBooks again."
                    ),
                    local_id=invoice.id,
                    qbo_id=qbo_id,
                    once=True,
                )
            return
        token = row.get("SyncToken")
        if token is not None:
            invoice.qbo_sync_token = str(token)
        if _voided(row):
            if status is not InvoiceStatus.VOID:
                self._note(
                    entity_kind="invoice",
                    label=label,
                    action="voided",
                    level="warning",
                    reason=(
                        f"Invoice {invoice.number} was voided in QuickBooks but is "
                        f"{status.label.lower()} in Factor. Void it here too if that is right."
                    ),
                    local_id=invoice.id,
                    qbo_id=qbo_id,
                    once=True,
                )
            return
        if not status.is_issued:
            return
        qbo_total = _money(row.get("TotalAmt"), f"a total for {label}")
        if qbo_total != invoice.total:
            self._note(
                entity_kind="invoice",
                label=label,
                action="skipped",
                level="warning",
                reason=(
                    f"Invoice {invoice.number} changed in QuickBooks after it was finalized: its "
                    f"total there is {format_money(qbo_total)}, in Factor "
                    f"{format_money(invoice.total)}. Factor keeps its own total; correct the "
                    "invoice in QuickBooks, or void it here and issue a new one."
                ),
                local_id=invoice.id,
                qbo_id=qbo_id,
                detail={"qbo_total": str(qbo_total), "factor_total": str(invoice.total)},
                once=True,
            )
        old_status, old_balance = invoice.status, invoice.balance
        refresh_invoice_balance(self.session, invoice)
        # A reply without a Balance says nothing about it (it must not read as fully paid).
        raw_balance = row.get("Balance")
        qbo_balance = (
            invoice.balance
            if raw_balance is None
            else _money(raw_balance, f"a balance for {label}")
        )
        if qbo_balance != invoice.balance:
            if Decimal("0.00") <= qbo_balance <= invoice.total:
                invoice.balance = qbo_balance
                invoice.status = next_status_for_balance(
                    invoice.total, qbo_balance, InvoiceStatus(invoice.status)
                ).value
                self.session.flush()
            else:
                self._note(
                    entity_kind="invoice",
                    label=label,
                    action="skipped",
                    level="warning",
                    reason=(
                        f"QuickBooks shows a balance of {format_money(qbo_balance)} on invoice "
                        f"{invoice.number}, which can't be right for its Factor total of "
                        f"{format_money(invoice.total)}. The balance here stays "
                        f"{format_money(invoice.balance)}; review the invoice in QuickBooks."
                    ),
                    local_id=invoice.id,
                    qbo_id=qbo_id,
                    once=True,
                )
        if (invoice.status, invoice.balance) != (old_status, old_balance):
            self._invoice_changed(invoice, old_status, old_balance, "as QuickBooks shows it")

    # -- receipts ---------------------------------------------------------------------------

    def _apply_attachable(self, row: JsonDict) -> None:
        qbo_id = _id(row)
        self._attachments_seen.add(qbo_id)
        attachment = self.session.scalar(select(Attachment).where(Attachment.qbo_id == qbo_id))
        target: tuple[str, str] | None = None
        if not is_deleted(row):
            for ref in row.get("AttachableRef") or []:
                entity_ref = ref.get("EntityRef") if isinstance(ref, dict) else None
                kind = entity_ref.get("type") if isinstance(entity_ref, dict) else None
                txn_id = ref_value(entity_ref)
                if kind in _EXPENSE_TXNS and txn_id is not None:
                    target = (str(kind), txn_id)
                    break
        has_file = bool(row.get("FileName")) and bool(row.get("FileAccessUri") or row.get("Size"))
        if target is None or not has_file:
            if attachment is not None:
                self._remove_attachment(
                    attachment,
                    "It was deleted in QuickBooks."
                    if is_deleted(row)
                    else "It is no longer attached to an expense in QuickBooks.",
                )
            else:
                self.ctx.counts["attachables_not_ours"] += 1
            self._forget("Attachable", qbo_id)
            return
        txn_type, txn_id = target
        expenses = self._expenses_of(txn_type, txn_id)
        if not expenses:
            # Not brought in (yet): kept until its transaction is, or forgotten when it goes.
            self.ctx.counts["attachables_waiting"] += 1
            self._remember("Attachable", row, str(row.get("FileName")))
            return
        live = [expense for expense in expenses if not expense.deleted_in_qbo]
        expense = (live or expenses)[0]
        created = attachment is None
        if attachment is None:
            attachment = Attachment(qbo_id=qbo_id, file_name=str(row["FileName"])[:1000])
            self.session.add(attachment)
        before = (
            attachment.expense_id,
            attachment.qbo_txn_type,
            attachment.qbo_txn_id,
            attachment.file_name,
            attachment.content_type,
            attachment.qbo_sync_token,
        )
        token = row.get("SyncToken")
        attachment.expense_id = expense.id
        attachment.qbo_txn_type = txn_type
        attachment.qbo_txn_id = txn_id
        attachment.file_name = str(row["FileName"])[:1000]
        attachment.content_type = _text(row.get("ContentType"), 100) or attachment.content_type
        size = row.get("Size")
        if (
            attachment.downloaded_at is None
            and isinstance(size, int)
            and not isinstance(size, bool)
        ):
            # Known before the file is here, so the window can say what is waiting.
            attachment.size = size
        attachment.qbo_sync_token = str(token) if token is not None else None
        self.session.flush()
        self._forget("Attachable", qbo_id)
        after = (
            attachment.expense_id,
            attachment.qbo_txn_type,
            attachment.qbo_txn_id,
            attachment.file_name,
            attachment.content_type,
            attachment.qbo_sync_token,
        )
        if created or before != after:
            self._note(
                entity_kind="attachment",
                label=f"{attachment.file_name} ({txn_type} {txn_id})",
                action="created" if created else "updated",
                local_id=attachment.id,
                qbo_id=qbo_id,
                detail={"expense_id": expense.id, "txn_type": txn_type, "txn_id": txn_id},
            )
        self._download(attachment, row)

    def _remove_attachment(self, attachment: Attachment, why: str) -> None:
        label = f"{attachment.file_name} ({attachment.qbo_txn_type} {attachment.qbo_txn_id})"
        qbo_id = attachment.qbo_id
        local_id = attachment.id
        self.session.delete(attachment)
        self.session.flush()
        self._note(
            entity_kind="attachment",
            label=label,
            action="deleted",
            reason=f"{why} Its file stays in the receipt cache.",
            local_id=local_id,
            qbo_id=qbo_id,
        )

    def _stored(self, attachment: Attachment) -> bool:
        path = attachment_path(self.ctx.attachments_dir, attachment)
        return path is not None and path.is_file()

    def _download(self, attachment: Attachment, row: JsonDict | None) -> None:
        """Fetch a receipt's file into the content-addressed cache, unless it is there."""
        if self._stored(attachment) or attachment.qbo_id is None:
            return
        label = f"{attachment.file_name} ({attachment.qbo_txn_type} {attachment.qbo_txn_id})"
        if self.ctx.preview:
            self.ctx.would(
                direction=_DIRECTION,
                entity_kind="attachment",
                label=label[:300],
                action="download",
                qbo_id=attachment.qbo_id,
            )
            return
        try:
            if row is not None:
                content = self.ctx.client.download_attachable(row)
            else:
                content = self.ctx.client.download_attachment(attachment.qbo_id)
        except QboAuthError:
            raise
        except QboError as error:
            self._download_failed(attachment, label, str(error))
            return
        size = row.get("Size") if row is not None else attachment.size
        expected = (
            int(size) if isinstance(size, (int, float)) and not isinstance(size, bool) else None
        )
        if expected is not None and expected != len(content):
            self._download_failed(
                attachment,
                label,
                f"QuickBooks sent {len(content)} bytes of a {expected}-byte file.",
            )
            return
        digest = hashlib.sha256(content).hexdigest()
        attachment.sha256 = digest
        attachment.size = len(content)
        attachment.downloaded_at = self.ctx.now
        path = attachment_path(self.ctx.attachments_dir, attachment)
        assert path is not None
        if not path.is_file():
            _write_atomically(path, content)
        self.session.flush()
        self._resolve("attachment", attachment.qbo_id, ("failed",))
        self._note(
            entity_kind="attachment",
            label=label,
            action="downloaded",
            local_id=attachment.id,
            qbo_id=attachment.qbo_id,
            detail={"sha256": digest, "size": len(content)},
        )

    def _download_failed(self, attachment: Attachment, label: str, why: str) -> None:
        attachment.downloaded_at = None
        self.session.flush()
        self._note(
            entity_kind="attachment",
            label=label,
            action="failed",
            level="warning",
            reason=f"The receipt could not be downloaded: {why} The next sync tries again.",
            local_id=attachment.id,
            qbo_id=attachment.qbo_id,
            once=True,
        )

    def _retry_downloads(self) -> None:
        """Receipts not (or no longer) in the cache folder: download them again."""
        pending = self.session.scalars(
            select(Attachment).where(Attachment.qbo_id.is_not(None)).order_by(Attachment.id)
        ).all()
        for attachment in pending:
            if attachment.qbo_id in self._attachments_seen or self._stored(attachment):
                continue
            self.ctx.check_cancel()
            self._download(attachment, None)
            self.session.commit()
