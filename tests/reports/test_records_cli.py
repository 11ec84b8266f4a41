"""`invoice` and `link` on the command line, over the services, against a demo-firm store."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from factor_desktop.cli import main


@pytest.fixture
def data(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    assert main(["--data-dir", str(tmp_path), "import", "demo"]) == 0
    capsys.readouterr()
    return tmp_path


def _run(data: Path, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["--data-dir", str(data), *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_draft_finalize_and_void_from_the_command_line(
    data: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = _run(data, capsys, "invoice", "draft", "2024-017", "--json")
    assert code == 0
    draft = json.loads(out)
    assert draft["status"] == "draft" and draft["number"] is None and draft["lines"] > 0
    code, out, _ = _run(data, capsys, "invoice", "finalize", str(draft["id"]), "--json")
    final = json.loads(out)
    assert final["status"] == "final"
    assert final["number"] == "INV-0041"  # the demo firm's next number
    assert final["total"] == draft["total"] and final["balance"] == final["total"]
    code, out, _ = _run(data, capsys, "report", "invoices", "--json")
    rows = {row["id"]: row for row in json.loads(out)}
    assert rows[draft["id"]]["number"] == "INV-0041"
    code, out, _ = _run(data, capsys, "invoice", "void", "INV-0041")
    assert code == 0 and "(void)" in out
    # the number stays used: the next draft gets INV-0042 when finalized
    code, out, _ = _run(data, capsys, "invoice", "draft", "2024-017", "--json")
    second = json.loads(out)
    _run(data, capsys, "invoice", "finalize", str(second["id"]))
    code, out, _ = _run(data, capsys, "report", "invoices", "--json")
    assert {row["number"] for row in json.loads(out)} >= {"INV-0041", "INV-0042"}


def test_refusals_are_one_line_and_change_nothing(
    data: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = _run(data, capsys, "report", "invoices", "--json")
    before = out
    code, _, err = _run(data, capsys, "invoice", "delete", "INV-0001")
    assert code == 1
    assert len(err.strip().splitlines()) == 1 and "INV-0001" in err
    code, _, err = _run(data, capsys, "invoice", "finalize", "99999")
    assert code == 1 and "No invoice" in err
    code, _, err = _run(data, capsys, "invoice", "draft", "no-such-project")
    assert code == 1 and "No project" in err
    assert _run(data, capsys, "report", "invoices", "--json")[1] == before


def test_link_and_unlink(data: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(data, capsys, "link", "client", "O'Brien & Sons Builders", "58")
    assert code == 0 and "Linked client" in out
    code, _, err = _run(data, capsys, "link", "project", "2024-017", "58")
    assert code == 1 and "already linked" in err
    code, out, _ = _run(data, capsys, "link", "project", "2024-017", "59")
    assert code == 0
    code, out, _ = _run(data, capsys, "link", "client", "O'Brien & Sons Builders", "--unlink")
    assert code == 0 and "Unlinked" in out
    code, _, err = _run(data, capsys, "link", "project", "2024-017", "58")
    assert code == 1 and "Unlink it first" in err  # already linked to 59
    _run(data, capsys, "link", "project", "2024-017", "--unlink")
    code, out, _ = _run(data, capsys, "link", "project", "2024-017", "58")
    assert code == 0  # 58 is free again since the client was unlinked


def test_link_create_marks_the_record_for_the_next_sync(
    data: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from factor_desktop.app import open_context
    from factor_desktop.services.links import create_requested

    code, out, _ = _run(data, capsys, "link", "project", "2024-017", "--create")
    assert code == 0 and "The next sync creates project 2024-017" in out
    # Its client is not in QuickBooks yet: it is marked too, as a sub-customer needs it.
    context = open_context(data, "default")
    try:
        with context.store.session() as s:
            assert sorted(kind for kind, _ in create_requested(s)) == ["client", "project"]
    finally:
        context.close()
    code, out, _ = _run(data, capsys, "link", "project", "2024-017", "--no-create")
    assert code == 0 and "will not be created" in out
    code, out, _ = _run(data, capsys, "link", "project", "2024-017", "--no-create")
    assert code == 0 and "was not marked" in out
    code, _, err = _run(data, capsys, "link", "project", "2024-017", "59", "--create")
    assert code == 1 and "not both" in err
