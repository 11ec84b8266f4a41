"""The examples in docs/import-format.md import as the document says."""

from __future__ import annotations

import re
from pathlib import Path

from sqlalchemy import select

from factor_desktop.importer import import_path
from factor_desktop.store.db import Store
from factor_desktop.store.models import Invoice

DOC = Path(__file__).resolve().parents[2] / "docs" / "import-format.md"


def _block(language: str, after: str = "") -> str:
    text = DOC.read_text(encoding="utf-8")
    start = text.index(after) if after else 0
    match = re.compile(rf"```{language}\n(.*?)```", re.DOTALL).search(text, start)
    assert match is not None, f"no {language} example after {after!r}"
    return match.group(1)


def test_the_documented_examples_import_and_agree(store: Store, tmp_path: Path) -> None:
    example = tmp_path / "firm.json"
    example.write_text(_block("json"), encoding="utf-8")
    counts = import_path(store, example).to_json()["counts"]
    assert counts["invoices"] == {"created": 2, "updated": 0, "unchanged": 0}

    folder = tmp_path / "csv"
    folder.mkdir()
    for name in ("invoices.csv", "invoice_lines.csv"):
        (folder / name).write_text(_block("csv", f"`{name}`:"), encoding="utf-8")
    again = import_path(store, folder)
    assert again.to_json()["counts"] == {"invoices": {"created": 0, "updated": 0, "unchanged": 2}}
    with store.session() as session:
        draft = session.scalars(select(Invoice).where(Invoice.status == "draft")).one()
        assert draft.memo == "Design Development progress"
