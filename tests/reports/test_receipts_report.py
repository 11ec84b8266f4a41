"""Receipts from the command line: `report expenses --json` and `receipts list/export`."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
import requests

from factor_desktop import services as sv
from factor_desktop.app import open_context
from factor_desktop.cli import main
from factor_desktop.receipts import numbered, safe_file_name
from factor_desktop.sandbox import SandboxConfig, SandboxServer
from factor_desktop.sandbox.receipts import receipt_pdf, receipt_png
from factor_desktop.store.models import Attachment, Expense, SyncLogEntry
from factor_desktop.sync.connection import ConnectionService

PDF = receipt_pdf("Keller Structural - Invoice KSE-1", ["Site visit"], "Amount due: $400.00")
PNG = receipt_png("Copy Corner", "2024-09-03", [("Plots", 86.96)])


@dataclass(frozen=True)
class Firm:
    data: Path
    expense_id: int
    bare_expense_id: int
    attachments: Path


def _cache(attachments: Path, content: bytes, suffix: str) -> str:
    digest = hashlib.sha256(content).hexdigest()
    attachments.mkdir(parents=True, exist_ok=True)
    (attachments / f"{digest}{suffix}").write_bytes(content)
    return digest


@pytest.fixture
def firm(tmp_path: Path) -> Iterator[Firm]:
    """Two expenses of one Bill: the first with a PDF and an image receipt downloaded, and a
    second line of the same Bill; a third expense with none."""
    data = tmp_path / "data"
    ctx = open_context(data)
    attachments = ctx.data.attachments
    try:
        with ctx.store.session() as s:
            client = sv.create_client(s, sv.ClientFields(name="Tanaka Residence"))
            project = sv.create_project(
                s, sv.ProjectFields(client_id=client.id, number="2024-020", name="Kitchen")
            )
            printing = sv.create_expense_type(
                s, sv.ExpenseTypeFields(name="Printing", category="Reimbursables")
            )
            ids = []
            for description in ("Plots", "Boards", "Mileage"):
                expense = sv.record_expense(
                    s,
                    sv.ExpenseInput(
                        project_id=project.id,
                        expense_type_id=printing.id,
                        incurred_on=date(2024, 9, 3),
                        cost=Decimal("86.96"),
                        vendor="Copy Corner",
                        description=description,
                    ),
                )
                ids.append(expense.id)
            for line, expense_id in enumerate(ids[:2], start=1):
                # Two lines of one QuickBooks Bill.
                line_expense = s.get(Expense, expense_id)
                assert line_expense is not None
                line_expense.source, line_expense.qbo_txn_type = "qbo", "Bill"
                line_expense.qbo_id, line_expense.qbo_line_id = "77", str(line)
            s.flush()
            now = datetime(2024, 9, 4, tzinfo=UTC)
            s.add_all(
                [
                    Attachment(
                        expense_id=ids[0],
                        qbo_id="901",
                        qbo_txn_type="Bill",
                        qbo_txn_id="77",
                        file_name="KSE-1.pdf",
                        content_type="application/pdf",
                        size=len(PDF),
                        sha256=_cache(attachments, PDF, ".pdf"),
                        downloaded_at=now,
                    ),
                    Attachment(
                        expense_id=ids[0],
                        qbo_id="902",
                        qbo_txn_type="Bill",
                        qbo_txn_id="77",
                        file_name="KSE-1.pdf",  # the same name twice: a clash on export
                        content_type="application/pdf",
                        size=len(PDF),
                        sha256=_cache(attachments, PDF, ".pdf"),
                        downloaded_at=now,
                    ),
                    Attachment(
                        expense_id=ids[0],
                        qbo_id="903",
                        qbo_txn_type="Bill",
                        qbo_txn_id="77",
                        file_name="../photo.png",
                        content_type="image/png",
                        size=len(PNG),
                        sha256=_cache(attachments, PNG, ".png"),
                        downloaded_at=now,
                    ),
                ]
            )
    finally:
        ctx.close()
    yield Firm(data, ids[0], ids[2], attachments)


def run(firm: Firm, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["--data-dir", str(firm.data), *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_report_expenses_json_gives_each_expense_its_id_and_receipts(
    firm: Firm, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _err = run(firm, capsys, "report", "expenses", "--json")
    assert code == 0
    rows = {row["id"]: row for row in json.loads(out)}
    assert set(rows) == {firm.expense_id, firm.expense_id + 1, firm.bare_expense_id}
    receipts = rows[firm.expense_id]["receipts"]
    assert [r["file_name"] for r in receipts] == ["KSE-1.pdf", "KSE-1.pdf", "../photo.png"]
    for receipt in receipts:
        assert set(receipt) == {"file_name", "content_type", "size", "path"}
        path = Path(receipt["path"])
        assert path.parent == firm.attachments and path.is_file()
        assert path.stat().st_size == receipt["size"]
    assert receipts[0]["content_type"] == "application/pdf" and receipts[0]["size"] == len(PDF)
    assert rows[firm.bare_expense_id]["receipts"] == []
    # Text and CSV name the files.
    code, out, _err = run(firm, capsys, "report", "expenses")
    assert code == 0 and "KSE-1.pdf; KSE-1.pdf; ../photo.png" in out


def test_a_receipt_not_downloaded_has_no_path(
    firm: Firm, capsys: pytest.CaptureFixture[str]
) -> None:
    ctx = open_context(firm.data)
    with ctx.store.session() as s:
        pdf = s.get(Attachment, 1)
        assert pdf is not None
        pdf.downloaded_at = None
        pdf.sha256 = None
    ctx.close()
    _code, out, _err = run(firm, capsys, "report", "expenses", "--json")
    (row,) = [r for r in json.loads(out) if r["id"] == firm.expense_id]
    assert row["receipts"][0] == {
        "file_name": "KSE-1.pdf",
        "content_type": "application/pdf",
        "size": len(PDF),
        "path": None,
    }
    assert row["receipts"][1]["path"] is not None


def test_export_writes_the_original_names_with_numbered_clashes(
    firm: Firm, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    target = tmp_path / "out"
    target.mkdir()
    (target / "photo.png").write_bytes(b"already here")
    code, out, err = run(firm, capsys, "receipts", "export", str(firm.expense_id), str(target))
    assert code == 0, err
    assert out.splitlines() == [
        str(target / "KSE-1.pdf"),
        str(target / "KSE-1 (2).pdf"),
        str(target / "photo (2).png"),  # no folder climbing; the file there is kept
    ]
    assert (target / "KSE-1.pdf").read_bytes() == PDF
    assert (target / "KSE-1 (2).pdf").read_bytes() == PDF
    assert (target / "photo (2).png").read_bytes() == PNG
    assert (target / "photo.png").read_bytes() == b"already here"
    assert not (tmp_path / "photo.png").exists()
    # Again: nothing is overwritten, each gets the next number.
    code, out, _err = run(
        firm, capsys, "receipts", "export", str(firm.expense_id), str(target), "--json"
    )
    written = [row["written"] for row in json.loads(out)]
    assert written == [
        str(target / "KSE-1 (3).pdf"),
        str(target / "KSE-1 (4).pdf"),
        str(target / "photo (3).png"),
    ]
    # A line of the same QuickBooks Bill shares its receipts.
    code, out, _err = run(firm, capsys, "receipts", "list", str(firm.expense_id + 1), "--json")
    assert [r["file_name"] for r in json.loads(out)] == ["KSE-1.pdf", "KSE-1.pdf", "../photo.png"]


def test_export_refuses_an_unknown_expense_and_one_without_receipts(
    firm: Firm, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, _out, err = run(firm, capsys, "receipts", "export", "999", str(tmp_path / "x"))
    assert code == 1 and "There is no expense 999" in err and "report expenses" in err
    code, _out, err = run(
        firm, capsys, "receipts", "export", str(firm.bare_expense_id), str(tmp_path / "x")
    )
    assert code == 1 and "has no receipts" in err
    assert not (tmp_path / "x").exists()


def test_export_of_an_undownloaded_receipt_needs_quickbooks(
    firm: Firm, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    ctx = open_context(firm.data)
    with ctx.store.session() as s:
        pdf = s.get(Attachment, 1)
        assert pdf is not None
        pdf.downloaded_at = None
        s.add(
            SyncLogEntry(
                direction="pull",
                entity_kind="attachment",
                local_id=pdf.id,
                qbo_id=pdf.qbo_id,
                label="KSE-1.pdf (Bill 77)",
                action="failed",
                level="warning",
                reason="The receipt could not be downloaded: HTTP 503. The next sync tries again.",
            )
        )
    ctx.close()
    code, out, _err = run(firm, capsys, "receipts", "list", str(firm.expense_id))
    assert code == 0 and "not here: The receipt could not be downloaded: HTTP 503" in out
    target = tmp_path / "out"
    code, _out, err = run(firm, capsys, "receipts", "export", str(firm.expense_id), str(target))
    assert code == 1
    assert "Not downloaded yet: KSE-1.pdf" in err and "Not connected to QuickBooks" in err
    assert not target.exists() or not any(target.iterdir())  # nothing half-written


def test_safe_names_and_numbering() -> None:
    assert safe_file_name("KSE-1.pdf") == "KSE-1.pdf"
    assert safe_file_name("..\\..\\boot.ini") == "boot.ini"
    assert safe_file_name("a:b*c?.png") == "a_b_c_.png"
    assert safe_file_name("..") == "receipt"
    assert safe_file_name("CON.pdf", "receipt-4") == "receipt-4.pdf"
    assert safe_file_name("   ") == "receipt"
    assert numbered("scan.jpeg", 1) == "scan.jpeg"
    assert numbered("scan.jpeg", 2) == "scan (2).jpeg"
    assert numbered("README", 3) == "README (3)"


@pytest.fixture
def qbo() -> Iterator[SandboxServer]:
    with SandboxServer(SandboxConfig(seed="demo", auto_approve=True, random_seed=5)) as server:
        yield server


def test_export_downloads_first_when_connected(
    firm: Firm, qbo: SandboxServer, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """The demo company's first receipt, not in the cache yet: the export fetches it."""
    ctx = open_context(firm.data)
    service = ConnectionService(ctx.store, ctx.tokens)
    try:
        pending = service.begin(qbo.discovery_url, qbo.client_id, qbo.client_secret)
        requests.get(pending.authorize_url, timeout=10)
        service.connect_with_loopback(pending, timeout=10)
        client = service.client()
        try:
            attachable = client.query("select * from Attachable")[0]
            expected = client.download_attachment(str(attachable["Id"]))
        finally:
            client.close()
        with ctx.store.session() as s:
            pdf = s.get(Attachment, 1)
            assert pdf is not None
            pdf.qbo_id = str(attachable["Id"])
            pdf.file_name = str(attachable["FileName"])
            pdf.size = int(attachable["Size"])
            pdf.sha256 = None
            pdf.downloaded_at = None
    finally:
        service.http.close()
        ctx.close()
    target = tmp_path / "out"
    code, out, err = run(firm, capsys, "receipts", "export", str(firm.expense_id), str(target))
    assert code == 0, err
    assert "Downloading" in err
    first = Path(out.splitlines()[0])
    assert first.name == attachable["FileName"] and first.read_bytes() == expected
    # It is in the cache now, under its hash, and the report points at it.
    code, out, _err = run(firm, capsys, "report", "expenses", "--json")
    (row,) = [r for r in json.loads(out) if r["id"] == firm.expense_id]
    cached = Path(row["receipts"][0]["path"])
    assert cached.read_bytes() == expected
    assert cached.stem == hashlib.sha256(expected).hexdigest()


def test_an_invoice_line_carries_the_receipts_of_the_expense_it_bills(
    firm: Firm, capsys: pytest.CaptureFixture[str]
) -> None:
    ctx = open_context(firm.data)
    try:
        with ctx.store.session() as s:
            expense = s.get(Expense, firm.expense_id)
            assert expense is not None
            draft = sv.create_draft_invoice(s, expense.project_id, issue_date=date(2024, 9, 30))
            draft_id = draft.id
    finally:
        ctx.close()
    _code, out, _err = run(firm, capsys, "report", "expenses", "--json")
    expenses = {row["id"]: row["receipts"] for row in json.loads(out)}
    _code, out, _err = run(firm, capsys, "report", "invoices", "--json")
    (invoice,) = [row for row in json.loads(out) if row["id"] == draft_id]
    billed = {line["expense_id"]: line["receipts"] for line in invoice["lines"]}
    assert set(billed) == set(expenses)
    assert billed == expenses
    assert [r["file_name"] for r in billed[firm.expense_id]] == [
        "KSE-1.pdf",
        "KSE-1.pdf",
        "../photo.png",
    ]
    assert billed[firm.bare_expense_id] == []
