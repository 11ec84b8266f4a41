"""Receipts: the files QuickBooks keeps attached to the expenses brought in.

One Attachment row per QuickBooks Attachable (its Id is unique), tied to the transaction it is
attached to (`qbo_txn_type`, `qbo_txn_id`: every expense of that transaction shares it) and to
the transaction's first expense (`expense_id`). The file is stored once in
`ctx.attachments_dir` under its SHA-256 (hex) with the original extension, written to a
temporary file and renamed into place; `attachment_path` finds it. A receipt already stored
(same Attachable, file present) is not downloaded again; a file with the same content is not
written twice. A failed download is logged and tried again at the next pass (`downloaded_at`
stays empty), as is a receipt whose file has gone from the folder; a retry asks QuickBooks for a
fresh link. Download links are never logged or stored. A receipt deleted in QuickBooks loses its
Attachment row; the file stays (another receipt may share it). In a preview no file is
downloaded.
"""

from __future__ import annotations

import hashlib

from sqlalchemy import select

from factor_desktop.qbo.client import JsonDict
from factor_desktop.qbo.errors import QboAuthError, QboError
from factor_desktop.store.attachments import attachment_path
from factor_desktop.store.models import Attachment
from factor_desktop.sync.pull.common import EXPENSE_TXNS, read_id, read_text
from factor_desktop.sync.pull.core import PullPass
from factor_desktop.sync.pull.waiting import forget, remember
from factor_desktop.sync.reference import is_deleted, ref_value


def apply_attachable(p: PullPass, row: JsonDict) -> None:
    qbo_id = read_id(row)
    p.attachments_seen.add(qbo_id)
    attachment = p.session.scalar(select(Attachment).where(Attachment.qbo_id == qbo_id))
    target: tuple[str, str] | None = None
    if not is_deleted(row):
        for ref in row.get("AttachableRef") or []:
            entity_ref = ref.get("EntityRef") if isinstance(ref, dict) else None
            kind = entity_ref.get("type") if isinstance(entity_ref, dict) else None
            txn_id = ref_value(entity_ref)
            if kind in EXPENSE_TXNS and txn_id is not None:
                target = (str(kind), txn_id)
                break
    has_file = bool(row.get("FileName")) and bool(row.get("FileAccessUri") or row.get("Size"))
    if target is None or not has_file:
        if attachment is not None:
            _remove_attachment(
                p,
                attachment,
                "It was deleted in QuickBooks."
                if is_deleted(row)
                else "It is no longer attached to an expense in QuickBooks.",
            )
        else:
            p.ctx.counts["attachables_not_ours"] += 1
        forget(p, "Attachable", qbo_id)
        return
    txn_type, txn_id = target
    expenses = p.expenses_of(txn_type, txn_id)
    if not expenses:
        # Not brought in (yet): kept until its transaction is, or forgotten when it goes.
        p.ctx.counts["attachables_waiting"] += 1
        remember(p, "Attachable", row, str(row.get("FileName")))
        return
    live = [expense for expense in expenses if not expense.deleted_in_qbo]
    expense = (live or expenses)[0]
    created = attachment is None
    if attachment is None:
        attachment = Attachment(qbo_id=qbo_id, file_name=str(row["FileName"])[:1000])
        p.session.add(attachment)
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
    attachment.content_type = read_text(row.get("ContentType"), 100) or attachment.content_type
    size = row.get("Size")
    if attachment.downloaded_at is None and isinstance(size, int) and not isinstance(size, bool):
        # Known before the file is here, so the window can say what is waiting.
        attachment.size = size
    attachment.qbo_sync_token = str(token) if token is not None else None
    p.session.flush()
    forget(p, "Attachable", qbo_id)
    after = (
        attachment.expense_id,
        attachment.qbo_txn_type,
        attachment.qbo_txn_id,
        attachment.file_name,
        attachment.content_type,
        attachment.qbo_sync_token,
    )
    if created or before != after:
        p.note(
            entity_kind="attachment",
            label=f"{attachment.file_name} ({txn_type} {txn_id})",
            action="created" if created else "updated",
            local_id=attachment.id,
            qbo_id=qbo_id,
            detail={"expense_id": expense.id, "txn_type": txn_type, "txn_id": txn_id},
        )
    _download(p, attachment, row)


def _remove_attachment(p: PullPass, attachment: Attachment, why: str) -> None:
    label = f"{attachment.file_name} ({attachment.qbo_txn_type} {attachment.qbo_txn_id})"
    qbo_id = attachment.qbo_id
    local_id = attachment.id
    p.session.delete(attachment)
    p.session.flush()
    p.note(
        entity_kind="attachment",
        label=label,
        action="deleted",
        reason=f"{why} Its file stays in the receipt cache.",
        local_id=local_id,
        qbo_id=qbo_id,
    )


def _stored(p: PullPass, attachment: Attachment) -> bool:
    path = attachment_path(p.ctx.attachments_dir, attachment)
    return path is not None and path.is_file()


def _download(p: PullPass, attachment: Attachment, row: JsonDict | None) -> None:
    """Fetch a receipt's file into the content-addressed cache, unless it is there."""
    if _stored(p, attachment) or attachment.qbo_id is None:
        return
    label = f"{attachment.file_name} ({attachment.qbo_txn_type} {attachment.qbo_txn_id})"
    try:
        if row is not None:
            content = p.ctx.client.download_attachable(row)
        else:
            content = p.ctx.client.download_attachment(attachment.qbo_id)
    except QboAuthError:
        raise
    except QboError as error:
        _download_failed(p, attachment, label, str(error))
        return
    size = row.get("Size") if row is not None else attachment.size
    expected = int(size) if isinstance(size, (int, float)) and not isinstance(size, bool) else None
    if expected is not None and expected != len(content):
        _download_failed(
            p,
            attachment,
            label,
            f"QuickBooks sent {len(content)} bytes of a {expected}-byte file.",
        )
        return
    digest = hashlib.sha256(content).hexdigest()
    attachment.sha256 = digest
    attachment.size = len(content)
    attachment.downloaded_at = p.ctx.now
    path = attachment_path(p.ctx.attachments_dir, attachment)
    assert path is not None
    if not path.is_file():
        p.ctx.writer.save_file(path, content)
    p.session.flush()
    p.resolve("attachment", attachment.qbo_id, ("failed",))
    p.note(
        entity_kind="attachment",
        label=label,
        action="downloaded",
        local_id=attachment.id,
        qbo_id=attachment.qbo_id,
        detail={"sha256": digest, "size": len(content)},
    )


def _download_failed(p: PullPass, attachment: Attachment, label: str, why: str) -> None:
    attachment.downloaded_at = None
    p.session.flush()
    p.note(
        entity_kind="attachment",
        label=label,
        action="failed",
        level="warning",
        reason=f"The receipt could not be downloaded: {why} The next sync tries again.",
        local_id=attachment.id,
        qbo_id=attachment.qbo_id,
        once=True,
    )


def retry_downloads(p: PullPass) -> None:
    """Receipts not (or no longer) in the cache folder: download them again."""
    pending = p.session.scalars(
        select(Attachment).where(Attachment.qbo_id.is_not(None)).order_by(Attachment.id)
    ).all()
    for attachment in pending:
        if attachment.qbo_id in p.attachments_seen or _stored(p, attachment):
            continue
        p.ctx.check_cancel()
        _download(p, attachment, None)
        p.commit()
