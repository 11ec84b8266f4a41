"""Receipts as the administrator sees them: which file, of which expense, and its pages.

No Qt here. The window and the command line both use it:

- `receipts_by_expense` / `receipts_of` read each expense's receipts from the store with what is
  known of them (original file name, content type, size, the QuickBooks transaction) and where
  the cached file is, or why it cannot be shown yet.
- `download_receipt` fetches a receipt that the sync has not (or could not) put in the
  content-addressed cache, and records it as the sync does.
- `export_receipts` copies an expense's receipts to a folder under their own names; a name
  already taken there gets a numbered suffix ("receipt (2).pdf"), nothing is overwritten.
- `receipt_kind` tells a PDF from an image by its first bytes; `render_pdf_page` rasterises one
  page of a PDF with PDFium (pypdfium2) into packed RGBA bytes whose size is bounded
  (`MAX_SIDE`), so whoever shows it never handles an unbounded image.

PDFium is not thread-safe: the window calls the rendering from its one worker thread only.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol

from factor_desktop.store.attachments import attachment_path

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from factor_desktop.store.db import Store
    from factor_desktop.store.models import Attachment

# The queries import SQLAlchemy and the store's models where they run: the window shows receipts
# (ReceiptInfo, the viewer) from its first frame, before the store is opened.

log = logging.getLogger(__name__)

ReceiptKind = Literal["pdf", "image", "other"]

# Rendered pages are at most this many pixels on their longer side (about 40 MB of RGBA at
# worst), whatever the page size the PDF declares.
MAX_SIDE = 3000
# Pixels per PDF point when a page is rendered: 144 dpi, sharp at 100 % on a 96 dpi screen and
# good enough at 200 % display scaling.
PDF_SCALE = 2.0
# A receipt's natural size on screen: PDF points at 96 dpi.
POINTS_TO_SCREEN = 96 / 72

_IMAGE_TYPES = {"image/png", "image/jpeg", "image/jpg", "image/pjpeg", "image/gif"}
_IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".gif"}
# Characters no file system likes in a name, and control characters.
_UNSAFE = re.compile(r'[\x00-\x1f<>:"/\\|?*]')
# Names Windows keeps for devices, whatever the extension.
_RESERVED = re.compile(r"(con|prn|aux|nul|com\d|lpt\d)(\..*)?", re.IGNORECASE)


class ReceiptError(Exception):
    """A receipt that cannot be shown, fetched or exported; the message says why and what to do."""


@dataclass(frozen=True)
class ReceiptInfo:
    """One receipt of an expense, as plain data."""

    id: int
    expense_id: int | None
    file_name: str
    content_type: str | None
    size: int | None
    qbo_id: str | None
    qbo_txn_type: str | None
    qbo_txn_id: str | None
    # The cached file, when it is there.
    path: Path | None
    # Why there is no file to show yet (None when `path` is set).
    missing: str | None = None

    @property
    def available(self) -> bool:
        return self.path is not None

    @property
    def kind(self) -> ReceiptKind:
        """What the file should be, from its content type or name (the bytes have the last word
        when it is rendered: see `receipt_kind`)."""
        content_type = (self.content_type or "").split(";")[0].strip().lower()
        suffix = Path(self.file_name).suffix.lower()
        if content_type == "application/pdf" or suffix == ".pdf":
            return "pdf"
        if content_type in _IMAGE_TYPES or suffix in _IMAGE_SUFFIXES:
            return "image"
        return "other"

    def to_json(self) -> dict[str, Any]:
        """What `report expenses --json` lists for each receipt."""
        return {
            "file_name": self.file_name,
            "content_type": self.content_type,
            "size": self.size,
            "path": str(self.path) if self.path is not None else None,
        }


# --- reading -----------------------------------------------------------------------------------


def _failures(session: Session, attachment_ids: Iterable[int]) -> dict[int, str]:
    """The latest unresolved download failure of each receipt, from the sync log."""
    from sqlalchemy import select

    from factor_desktop.store.models import SyncLogEntry

    ids = list(attachment_ids)
    if not ids:
        return {}
    found: dict[int, str] = {}
    entries = session.scalars(
        select(SyncLogEntry)
        .where(
            SyncLogEntry.entity_kind == "attachment",
            SyncLogEntry.action == "failed",
            SyncLogEntry.resolved.is_(False),
            SyncLogEntry.local_id.in_(ids),
        )
        .order_by(SyncLogEntry.id)
    )
    for entry in entries:
        if entry.local_id is not None and entry.reason:
            found[entry.local_id] = entry.reason
    return found


def _info(attachment: Attachment, attachments_dir: Path, failure: str | None) -> ReceiptInfo:
    path = attachment_path(attachments_dir, attachment)
    missing: str | None = None
    if path is None:
        if failure:
            missing = failure
        elif attachment.qbo_id is None:
            missing = "There is no copy of this receipt on this computer."
        else:
            missing = (
                "This receipt has not been downloaded from QuickBooks yet. The next sync brings "
                "it, or download it now."
            )
    elif not path.is_file():
        missing = (
            f"The downloaded file is no longer in the receipt folder ({attachments_dir}). "
            "Download it again."
        )
        path = None
    return ReceiptInfo(
        id=attachment.id,
        expense_id=attachment.expense_id,
        file_name=attachment.file_name,
        content_type=attachment.content_type,
        size=attachment.size,
        qbo_id=attachment.qbo_id,
        qbo_txn_type=attachment.qbo_txn_type,
        qbo_txn_id=attachment.qbo_txn_id,
        path=path,
        missing=missing,
    )


def receipts_by_expense(
    session: Session, attachments_dir: Path, expense_ids: Sequence[int] | None = None
) -> dict[int, tuple[ReceiptInfo, ...]]:
    """Each expense's receipts: those tied to it, and those of the QuickBooks transaction it
    comes from (a Bill's receipt belongs to every project line of that Bill)."""
    from sqlalchemy import or_, select

    from factor_desktop.store.models import Attachment, Expense

    query = select(Expense.id, Expense.qbo_txn_type, Expense.qbo_id)
    if expense_ids is not None:
        query = query.where(Expense.id.in_(list(expense_ids)))
    expenses = session.execute(query).all()
    if not expenses:
        return {}
    wanted = {row.id for row in expenses}
    transactions = {
        (row.qbo_txn_type, row.qbo_id) for row in expenses if row.qbo_txn_type and row.qbo_id
    }
    conditions = [Attachment.expense_id.in_(list(wanted))]
    if transactions:
        conditions.append(Attachment.qbo_txn_id.in_([txn_id for _t, txn_id in transactions]))
    attachments = session.scalars(
        select(Attachment).where(or_(*conditions)).order_by(Attachment.id)
    ).all()
    failures = _failures(session, (a.id for a in attachments))
    infos = {a.id: _info(a, attachments_dir, failures.get(a.id)) for a in attachments}
    by_txn: dict[tuple[str | None, str | None], list[int]] = {}
    for attachment in attachments:
        by_txn.setdefault((attachment.qbo_txn_type, attachment.qbo_txn_id), []).append(
            attachment.id
        )
    found: dict[int, tuple[ReceiptInfo, ...]] = {}
    for row in expenses:
        ids = [a.id for a in attachments if a.expense_id == row.id]
        if row.qbo_txn_type and row.qbo_id:
            ids += by_txn.get((row.qbo_txn_type, row.qbo_id), [])
        ordered = sorted(set(ids))
        if ordered:
            found[row.id] = tuple(infos[i] for i in ordered)
    return found


def receipts_of(
    session: Session, attachments_dir: Path, expense_id: int
) -> tuple[ReceiptInfo, ...]:
    """One expense's receipts; a ReceiptError when there is no such expense."""
    from factor_desktop.store.models import Expense

    if session.get(Expense, expense_id) is None:
        raise ReceiptError(
            f"There is no expense {expense_id}. `factor-desktop report expenses --json` lists "
            "the expenses with their ids."
        )
    return receipts_by_expense(session, attachments_dir, [expense_id]).get(expense_id, ())


def receipt_info(session: Session, attachments_dir: Path, attachment_id: int) -> ReceiptInfo:
    from factor_desktop.store.models import Attachment

    attachment = session.get(Attachment, attachment_id)
    if attachment is None:
        raise ReceiptError(
            "That receipt is no longer in the firm's records (deleted in QuickBooks)."
        )
    failure = _failures(session, [attachment_id]).get(attachment_id)
    return _info(attachment, attachments_dir, failure)


# --- downloading -------------------------------------------------------------------------------


def _write_atomically(path: Path, content: bytes) -> None:
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


class ReceiptSource(Protocol):
    """What `download_receipt` needs of the QuickBooks client (`QboClient`)."""

    def download_attachment(self, attachable_id: str) -> bytes: ...


def download_receipt(
    store: Store, client: ReceiptSource, attachments_dir: Path, attachment_id: int
) -> ReceiptInfo:
    """Fetch one receipt from QuickBooks into the cache (unless it is there) and record it.

    No database session is held open during the download. QuickBooks errors pass through as
    they are (their message is written for the administrator).
    """
    from sqlalchemy import update

    from factor_desktop.store.models import Attachment, SyncLogEntry

    with store.session() as session:
        info = receipt_info(session, attachments_dir, attachment_id)
        if info.path is not None:
            return info
        if info.qbo_id is None:
            raise ReceiptError(
                f"{info.file_name} did not come from QuickBooks, so it cannot be fetched."
            )
        qbo_id, expected = info.qbo_id, info.size
    content = client.download_attachment(qbo_id)
    if expected is not None and expected != len(content):
        raise ReceiptError(
            f"QuickBooks sent {len(content)} bytes of the {expected}-byte file "
            f"{info.file_name}. Try again."
        )
    digest = hashlib.sha256(content).hexdigest()
    with store.session() as session:
        attachment = session.get(Attachment, attachment_id)
        if attachment is None:
            raise ReceiptError(
                "That receipt was removed from the firm's records while it was downloading."
            )
        attachment.sha256 = digest
        attachment.size = len(content)
        attachment.downloaded_at = datetime.now(UTC)
        path = attachment_path(attachments_dir, attachment)
        assert path is not None
        if not path.is_file():
            _write_atomically(path, content)
        session.execute(
            update(SyncLogEntry)
            .where(
                SyncLogEntry.entity_kind == "attachment",
                SyncLogEntry.qbo_id == qbo_id,
                SyncLogEntry.action == "failed",
                SyncLogEntry.resolved.is_(False),
            )
            .values(resolved=True)
        )
        session.flush()
        log.info("Receipt %s (Attachable %s) downloaded on request", attachment_id, qbo_id)
        return _info(attachment, attachments_dir, None)


# --- exporting ---------------------------------------------------------------------------------


def safe_file_name(name: str, fallback: str = "receipt") -> str:
    """`name` as a plain file name: no folders, no characters file systems refuse."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    base = _UNSAFE.sub("_", base).strip().rstrip(".")
    if not base or base in (".", "..") or _RESERVED.fullmatch(base):
        base = f"{fallback}{Path(base).suffix}" if base not in ("", ".", "..") else fallback
    return base[:200]


def numbered(name: str, number: int) -> str:
    """ "receipt.pdf" → "receipt (2).pdf"."""
    if number <= 1:
        return name
    path = Path(name)
    return f"{path.stem} ({number}){path.suffix}"


def _create_exclusively(folder: Path, name: str, content: bytes) -> Path:
    """Write `content` to `folder/name`, or to "name (2)", "name (3)"… when it is taken."""
    number = 1
    while True:
        target = folder / numbered(name, number)
        try:
            with open(target, "xb") as out:
                out.write(content)
        except FileExistsError:
            number += 1
            continue
        return target


def export_receipts(receipts: Sequence[ReceiptInfo], folder: Path) -> list[Path]:
    """Copy the receipts into `folder` under their own names; returns the files written.

    Every receipt must be downloaded (ReceiptError otherwise, before anything is written).
    """
    missing = [r for r in receipts if r.path is None]
    if missing:
        names = ", ".join(r.file_name for r in missing)
        raise ReceiptError(
            f"Not downloaded yet: {names}. Run `factor-desktop sync` (or connect, and the export "
            "downloads them first)."
        )
    folder.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for receipt in receipts:
        assert receipt.path is not None
        content = receipt.path.read_bytes()
        name = safe_file_name(receipt.file_name, f"receipt-{receipt.id}")
        written.append(_create_exclusively(folder, name, content))
    return written


def copy_receipt(receipt: ReceiptInfo, target: Path) -> Path:
    """Copy one downloaded receipt to `target` (replacing it: the admin chose that name)."""
    if receipt.path is None:
        raise ReceiptError(receipt.missing or f"{receipt.file_name} is not downloaded yet.")
    _write_atomically(target, receipt.path.read_bytes())
    return target


def viewer_copy(receipt: ReceiptInfo, root: Path | None = None) -> Path:
    """A copy under the receipt's own name for the system viewer (the cache names by hash)."""
    if receipt.path is None:
        raise ReceiptError(receipt.missing or f"{receipt.file_name} is not downloaded yet.")
    base = (root or Path(tempfile.gettempdir()) / "factor-desktop-receipts") / str(receipt.id)
    target = base / safe_file_name(receipt.file_name, f"receipt-{receipt.id}")
    if not (target.is_file() and target.stat().st_size == receipt.path.stat().st_size):
        _write_atomically(target, receipt.path.read_bytes())
    return target


# --- rendering ---------------------------------------------------------------------------------


def receipt_kind(data: bytes, fallback: ReceiptKind = "other") -> ReceiptKind:
    """What the bytes are: a PDF, an image Qt reads everywhere (PNG, JPEG, GIF), or other."""
    head = data[:1024]
    if b"%PDF-" in head:
        return "pdf"
    if head.startswith((b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"GIF87a", b"GIF89a")):
        return "image"
    return fallback if fallback != "pdf" else "other"


@dataclass(frozen=True)
class RasterPage:
    """One rendered page: `height` rows of `stride` bytes, RGBA, 8 bits per channel."""

    index: int
    page_count: int
    width: int
    height: int
    stride: int
    rgba: bytes
    # Screen pixels per rendered pixel at 100 % zoom.
    natural_scale: float


def _open_pdf(data: bytes) -> Any:
    import pypdfium2 as pdfium  # type: ignore[import-untyped]  # ships no type information

    try:
        return pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        reason = str(exc).rstrip(".")
        if "password" in reason.lower():
            raise ReceiptError(
                "This PDF is protected by a password, so it cannot be shown here."
            ) from None
        raise ReceiptError(f"This PDF could not be read ({reason}).") from None


def pdf_page_count(data: bytes) -> int:
    document = _open_pdf(data)
    try:
        return len(document)
    finally:
        document.close()


def render_pdf_page(data: bytes, index: int = 0, scale: float = PDF_SCALE) -> RasterPage:
    """Rasterise page `index` (from 0) of a PDF on white, at most `MAX_SIDE` pixels a side."""
    import pypdfium2 as pdfium
    import pypdfium2.raw as pdfium_c  # type: ignore[import-untyped]  # ditto

    document = _open_pdf(data)
    try:
        count = len(document)
        if count == 0:
            raise ReceiptError("This PDF has no pages.")
        if not 0 <= index < count:
            raise ReceiptError(f"This PDF has {count} page(s); there is no page {index + 1}.")
        page = document[index]
        try:
            width, height = page.get_size()
            if width <= 0 or height <= 0:
                raise ReceiptError(f"Page {index + 1} of this PDF has no area.")
            scale = min(scale, MAX_SIDE / max(width, height))
            bitmap = page.render(
                scale=scale,
                fill_color=(255, 255, 255, 255),
                force_bitmap_format=pdfium_c.FPDFBitmap_BGRA,
                rev_byteorder=True,
            )
            try:
                rgba = bytes(bitmap.buffer)
                rendered = RasterPage(
                    index=index,
                    page_count=count,
                    width=int(bitmap.width),
                    height=int(bitmap.height),
                    stride=int(bitmap.stride),
                    rgba=rgba,
                    natural_scale=POINTS_TO_SCREEN / scale,
                )
            finally:
                bitmap.close()
        except pdfium.PdfiumError as exc:
            raise ReceiptError(
                f"Page {index + 1} of this PDF could not be drawn ({exc})."
            ) from None
        finally:
            page.close()
    finally:
        document.close()
    return rendered


def describe_size(size: int | None) -> str:
    """ "24 KB", "1.3 MB"; empty when unknown."""
    if size is None:
        return ""
    if size < 1024:
        return f"{size} bytes"
    if size < 1024 * 1024:
        return f"{size / 1024:.0f} KB"
    return f"{size / (1024 * 1024):.1f} MB"


__all__ = [
    "MAX_SIDE",
    "PDF_SCALE",
    "RasterPage",
    "ReceiptError",
    "ReceiptInfo",
    "copy_receipt",
    "describe_size",
    "download_receipt",
    "export_receipts",
    "numbered",
    "pdf_page_count",
    "receipt_info",
    "receipt_kind",
    "receipts_by_expense",
    "receipts_of",
    "render_pdf_page",
    "safe_file_name",
    "viewer_copy",
]
