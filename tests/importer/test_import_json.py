"""Importing the JSON format: all or nothing, every problem located, repeatable, exact."""

from __future__ import annotations

import json
import tracemalloc
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from bench.bench_import import firm
from factor_desktop.importer import ImportRejected, Problem, import_path, jsonstream, read_path
from factor_desktop.importer.schema import KINDS
from factor_desktop.settings import load_settings
from factor_desktop.store.db import Store
from factor_desktop.store.models import (
    Client,
    ExpenseType,
    Invoice,
    OutboxItem,
    Project,
    ProjectBudget,
    TaxTerm,
)
from tests.importer.data import LONG_NAME, line_of, small_firm, write_json

D = Decimal


def _snapshot(store: Store) -> list[Any]:
    """Every imported row's values, to show a second import changed nothing."""
    with store.session() as session:
        rows: list[Any] = []
        for model in (Client, Project, ExpenseType, TaxTerm, ProjectBudget, Invoice):
            for record in session.scalars(select(model)):
                values = {
                    c.key: getattr(record, c.key)
                    for c in model.__table__.columns
                    if c.key not in ("created_at", "updated_at", "finalized_at")
                }
                rows.append((model.__name__, sorted(values.items())))
        return rows


def _rejected(store: Store, path: Path) -> list[Problem]:
    with pytest.raises(ImportRejected) as info:
        import_path(store, path)
    return info.value.problems


def test_json_import_creates_everything_with_names_and_money_intact(
    store: Store, tmp_path: Path
) -> None:
    summary = import_path(store, write_json(tmp_path / "firm.json", small_firm()))

    counts = summary.to_json()["counts"]
    assert counts["clients"] == {"created": 4, "updated": 0, "unchanged": 0}
    assert counts["projects"]["created"] == 3
    assert counts["budgets"]["created"] == 2
    assert counts["invoices"]["created"] == 2
    with store.session() as session:
        names = set(session.scalars(select(Client.name)))
        assert names == {
            "O'Brien & Sons Builders",
            "Café Lumière Hospitality",
            "City of Port Alder: Parks Department",
            LONG_NAME,
        }
        brulee = session.scalars(select(Project).where(Project.number == "2024-004")).one()
        assert (brulee.name, brulee.client.name) == ("Crème Brûlée Bar", "Café Lumière Hospitality")
        budgets = {
            (b.service_type.name if b.service_type else b.expense_category): (
                b.amount,
                b.percent_complete,
            )
            for b in session.scalars(select(ProjectBudget))
        }
        # "40,000.00" and the JSON number 12000.10 are read exactly, never through a float.
        assert budgets == {
            "Schematic Design": (D("40000.00"), D("50")),
            "Structural": (D("12000.10"), D("0")),
        }
        tax = session.scalars(select(TaxTerm)).one()
        assert tax.rate_percent == D("8.25") and str(tax.rate_percent) == "8.25"
        mileage = session.scalars(select(ExpenseType).where(ExpenseType.name == "Mileage")).one()
        assert mileage.markup_percent is None

        final = session.scalars(select(Invoice).where(Invoice.number == "INV-0001")).one()
        assert final.status == "final"
        assert [line.amount for line in final.lines] == [D("10000.00"), D("80.40")]
        assert final.tax == D("6.63")  # 8.25% of the taxable 80.40
        assert final.total == final.balance == D("10087.03")
        assert final.due_date == date(2024, 6, 15)  # the client's 15 days
        assert [(c.name, c.value) for c in final.custom_fields] == [
            ("PO Number", "OB-117"),
            ("Project Phase", "Schematic Design"),
        ]
        outbox = session.scalars(select(OutboxItem)).one()
        assert (outbox.local_id, outbox.operation) == (final.id, "create")

        draft = session.scalars(select(Invoice).where(Invoice.number.is_(None))).one()
        assert draft.status == "draft" and draft.memo == "Thank you — merci!"
        # 1.005 is half a cent: the rule rounds it up; a float (1.00499...) would round down.
        assert [line.amount for line in draft.lines] == [D("1.01")]
        assert load_settings(session).invoice_numbering.next_number == 3


def test_second_import_changes_nothing(store: Store, tmp_path: Path) -> None:
    path = write_json(tmp_path / "firm.json", small_firm())
    import_path(store, path)
    before = _snapshot(store)

    again = import_path(store, path)

    assert not again.changed
    counts = again.to_json()["counts"]
    assert counts["clients"] == {"created": 0, "updated": 0, "unchanged": 4}
    assert counts["invoices"] == {"created": 0, "updated": 0, "unchanged": 2}
    assert counts["budgets"] == {"created": 0, "updated": 0, "unchanged": 2}
    assert _snapshot(store) == before
    with store.session() as session:
        assert len(session.scalars(select(OutboxItem)).all()) == 1


def test_changed_records_are_updated_by_natural_key(store: Store, tmp_path: Path) -> None:
    data = small_firm()
    import_path(store, write_json(tmp_path / "firm.json", data))
    data["clients"][1]["city"] = "Bend"
    data["invoices"][1]["lines"][0]["amount"] = "250.00"
    summary = import_path(store, write_json(tmp_path / "firm.json", data))
    counts = summary.to_json()["counts"]
    assert counts["clients"] == {"created": 0, "updated": 1, "unchanged": 3}
    assert counts["invoices"] == {"created": 0, "updated": 1, "unchanged": 1}
    with store.session() as session:
        draft = session.scalars(select(Invoice).where(Invoice.number.is_(None))).one()
        assert draft.total == D("250.00")


def test_one_bad_row_imports_nothing_and_is_named(store: Store, tmp_path: Path) -> None:
    data = small_firm()
    data["projects"][2]["client"] = "City of Port Alder Parks"
    path = write_json(tmp_path / "firm.json", data)

    problems = _rejected(store, path)

    assert len(problems) == 1
    problem = problems[0]
    assert problem.file == str(path)
    assert problem.where == "projects[2].client"
    assert problem.line == line_of(path, '"client": "City of Port Alder Parks"')
    assert "There is no client 'City of Port Alder Parks'" in problem.reason
    assert str(problem).startswith(f"{path}:{problem.line}: projects[2].client: ")
    with store.session() as session:
        assert session.scalars(select(Client)).all() == []
        assert session.scalars(select(Invoice)).all() == []


def test_every_bad_row_is_reported(store: Store, tmp_path: Path) -> None:
    data = small_firm()
    data["clients"][0]["terms_days"] = "net thirty"
    data["expense_types"][0]["markup_percent"] = "-5"
    data["budgets"][0]["amount"] = "forty thousand"
    data["invoices"][0]["lines"][1]["rate"] = "0.68"
    data["invoices"][0]["lines"][1]["amount"] = "80.40"
    data["projects"].append(dict(data["projects"][0]))
    path = write_json(tmp_path / "firm.json", data)

    problems = _rejected(store, path)

    where = {p.where: p.reason for p in problems}
    assert "Expected a whole number" in where["clients[0].terms_days"]
    assert "negative" in where["expense_types[0].markup_percent"]
    assert "not an amount of money" in where["budgets[0].amount"]
    assert "doesn't match quantity" in where["invoices[0].lines[1].amount"]
    assert "appears more than once" in where["projects[3].number"]
    assert all(p.line is not None for p in problems)
    with store.session() as session:
        assert session.scalars(select(Client)).all() == []


def test_dependent_rows_point_back_at_the_broken_record(store: Store, tmp_path: Path) -> None:
    data = small_firm()
    data["clients"][0]["email"] = "not an address"
    problems = _rejected(store, write_json(tmp_path / "firm.json", data))
    reasons = {p.where: p.reason for p in problems}
    assert "not an email address" in reasons["clients[0].email"]
    assert "has problems of its own" in reasons["projects[0].client"]


def test_final_invoice_numbers_must_not_collide(store: Store, tmp_path: Path) -> None:
    data = small_firm()
    import_path(store, write_json(tmp_path / "firm.json", data))

    # The same number with other contents: finalized invoices are locked.
    data["invoices"][0]["lines"][0]["amount"] = "12000.00"
    problems = _rejected(store, write_json(tmp_path / "changed.json", data))
    assert [p.where for p in problems] == ["invoices[0].number"]
    assert "finalized and locked" in problems[0].reason

    # Two invoices with one number in a file.
    data = small_firm()
    second = json.loads(json.dumps(data["invoices"][0]))
    second["project"] = "2024-006"
    data["invoices"].append(second)
    problems = _rejected(store, write_json(tmp_path / "twice.json", data))
    assert "appears more than once" in problems[0].reason

    # A draft can't carry a number, and a final needs one.
    data = small_firm()
    data["invoices"][1]["number"] = "INV-0009"
    data["invoices"][0].pop("number")
    problems = _rejected(store, write_json(tmp_path / "drafts.json", data))
    reasons = {p.where: p.reason for p in problems}
    assert "A final invoice needs its number" in reasons["invoices[0].number"]
    assert "A draft has no number yet" in reasons["invoices[1].number"]


def test_next_invoice_number_is_only_raised(store: Store, tmp_path: Path) -> None:
    data = small_firm()
    data["settings"]["invoice_numbering"]["next_number"] = 40
    import_path(store, write_json(tmp_path / "a.json", data))
    data["settings"]["invoice_numbering"]["next_number"] = 3
    summary = import_path(store, write_json(tmp_path / "b.json", data))
    assert summary.to_json()["counts"]["settings"]["updated"] == 0
    with store.session() as session:
        assert load_settings(session).invoice_numbering.next_number == 40


def test_unknown_fields_bad_json_and_duplicate_keys_are_reported(
    store: Store, tmp_path: Path
) -> None:
    data = small_firm()
    data["expense_types"][0]["markup"] = "10"
    data["colour"] = "blue"
    problems = _rejected(store, write_json(tmp_path / "firm.json", data))
    reasons = {p.where: p.reason for p in problems}
    assert "Unknown field 'markup'" in reasons["expense_types[0].markup"]
    assert "Unknown section" in reasons["colour"]

    broken = tmp_path / "broken.json"
    broken.write_text('{\n  "clients": [\n    {"name": "A",}\n  ]\n}\n', encoding="utf-8")
    (problem,) = _rejected(store, broken)
    assert problem.line == 3 and "not valid JSON" in problem.reason

    twice = tmp_path / "twice.json"
    twice.write_text('{"clients": [\n  {"name": "A",\n   "name": "B"}\n]}\n', encoding="utf-8")
    (problem,) = _rejected(store, twice)
    assert (problem.line, problem.where) == (3, "clients[0].name")
    assert "more than once" in problem.reason


@pytest.mark.parametrize("chunk", [1, 7, 100])
def test_a_file_read_in_small_pieces_reads_the_same_and_names_the_same_lines(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, chunk: int
) -> None:
    """A large file is read a piece at a time: values, lines and columns cut at any point
    (inside a string, an accented letter, a number) come out whole and in the right place."""
    monkeypatch.setattr(jsonstream, "CHUNK", chunk)
    data = small_firm()
    data["projects"][2]["client"] = "Nobody Ltd"
    path = write_json(tmp_path / "bad.json", data)
    problems = _rejected(store, path)
    assert [(p.where, p.line) for p in problems] == [
        ("projects[2].client", line_of(path, '"client": "Nobody Ltd"'))
    ]

    broken = tmp_path / "broken.json"
    broken.write_text('{\n  "clients": [\n    {"name": "A",}\n  ]\n}\n', encoding="utf-8")
    (problem,) = _rejected(store, broken)
    assert (
        problem.line == 3 and "not valid JSON" in problem.reason and "(column 18)" in problem.reason
    )

    summary = import_path(store, write_json(tmp_path / "firm.json", small_firm()))
    counts = summary.to_json()["counts"]
    assert counts["clients"]["created"] == 4 and counts["invoices"]["created"] == 2
    with store.session() as session:
        assert "Café Lumière Hospitality" in set(session.scalars(select(Client.name)))
        budget = session.scalars(
            select(ProjectBudget).where(ProjectBudget.expense_category == "Structural")
        ).one()
        assert budget.amount == D("12000.10")


def test_reading_a_file_holds_one_record_at_a_time_however_long_it_is(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The memory that reading a file takes stays the same when the file is eight times longer
    (the piece of the file being read, and one record), and is well under the file's size."""
    monkeypatch.setattr(jsonstream, "CHUNK", 1 << 16)  # pieces smaller than either file

    def peak_reading(rows: int) -> tuple[int, int, int]:
        path = write_json(tmp_path / f"firm-{rows}.json", firm(rows, rows // 10))
        tracemalloc.start()
        try:
            bundle = read_path(path)
            count = sum(1 for kind in KINDS for _row in bundle.rows(kind.name))
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        assert bundle.problems == []
        return count, peak, path.stat().st_size

    small_rows, small_peak, _ = peak_reading(2_000)
    rows, peak, size = peak_reading(16_000)
    assert (small_rows, rows) == (2_000 + 3 + 200, 16_000 + 3 + 1_600)
    assert peak < small_peak * 1.25 and peak < size / 4
