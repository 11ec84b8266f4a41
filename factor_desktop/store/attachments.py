"""Where a receipt's downloaded file lives in the content-addressed attachment cache."""

from __future__ import annotations

import mimetypes
import re
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    # Only named: where a file lives is worked out without SQLAlchemy.
    from factor_desktop.store.models import Attachment

__all__ = ["attachment_path"]

_EXTENSION = re.compile(r"\.[A-Za-z0-9]{1,10}")


def attachment_path(attachments_dir: Path, attachment: Attachment) -> Path | None:
    """Where a downloaded receipt's file is kept, or None when it has not been downloaded."""
    if attachment.sha256 is None or attachment.downloaded_at is None:
        return None
    return attachments_dir / f"{attachment.sha256}{_extension(attachment)}"


def _extension(attachment: Attachment) -> str:
    suffix = Path(attachment.file_name).suffix
    if _EXTENSION.fullmatch(suffix):
        return suffix.lower()
    guessed = mimetypes.guess_extension(attachment.content_type or "") or ""
    return guessed if _EXTENSION.fullmatch(guessed) else ""
