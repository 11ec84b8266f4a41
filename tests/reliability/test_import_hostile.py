"""Large and hostile import files: progress for big ones, clear refusals, nothing half-imported.

The time of a 100,000-row import is measured by bench/bench_import.py, not asserted here.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bench.bench_import import firm
from factor_desktop.app import open_context
from factor_desktop.cli import main
from factor_desktop.store.models import Client, Project, ProjectBudget


def _count(data: Path, model: type[object]) -> int:
    ctx = open_context(data)
    with ctx.store.session() as session:
        found = session.scalar(select(func.count()).select_from(model))
    ctx.close()
    return int(found or 0)


@pytest.fixture
def large_from_1000(monkeypatch: pytest.MonkeyPatch) -> None:
    """Progress from 1,000 rows and a flush every 500, so a small file shows both."""
    from factor_desktop.cli import imports as command
    from factor_desktop.importer import load

    monkeypatch.setattr(command, "LARGE_IMPORT_ROWS", 1000)
    monkeypatch.setattr(load, "FLUSH_EVERY", 500)


def test_a_large_import_reports_progress_and_lands_whole(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], large_from_1000: None
) -> None:
    source = tmp_path / "firm.json"
    # 1,203 rows: past the 1,000 that show progress, and two flushes of 500.
    source.write_text(json.dumps(firm(1200)))
    data = tmp_path / "data"
    assert main(["--data-dir", str(data), "import", str(source)]) == 0
    captured = capsys.readouterr()
    progress = [line for line in captured.err.splitlines() if line.startswith("Importing")]
    assert progress and progress[-1].endswith("1,203 of 1,203 rows (100%)")
    assert "Traceback" not in captured.err
    assert _count(data, Client) == 300
    assert _count(data, Project) == 600
    assert _count(data, ProjectBudget) == 300
    # The same file again changes nothing.
    assert main(["--data-dir", str(data), "import", "--json", str(source)]) == 0
    report = json.loads(capsys.readouterr().out)
    assert all(c["created"] == 0 and c["updated"] == 0 for c in report["counts"].values())


def test_one_bad_row_among_thousands_imports_nothing_and_names_its_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], large_from_1000: None
) -> None:
    data = firm(2000)
    data["projects"][900]["client"] = "Nobody Ltd"
    text = json.dumps(data, indent=1)
    source = tmp_path / "firm.json"
    source.write_text(text)
    line = text.splitlines().index('   "client": "Nobody Ltd",') + 1
    folder = tmp_path / "data"
    assert main(["--data-dir", str(folder), "import", str(source)]) == 1
    err = capsys.readouterr().err
    assert f"firm.json:{line}: projects[900].client: " in err
    assert "There is no client 'Nobody Ltd'" in err
    assert _count(folder, Client) == 0 and _count(folder, Project) == 0


def test_names_that_differ_only_in_capitalization_are_refused_against_the_store(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "data"
    first = {
        "format": "factor-desktop-import",
        "version": 1,
        "clients": [{"name": "Émile Tanaka"}, {"name": "Riverside"}],
        "projects": [{"number": "P-1", "name": "Kitchen", "client": "Émile Tanaka"}],
    }
    (tmp_path / "first.json").write_text(json.dumps(first))
    assert main(["--data-dir", str(folder), "import", str(tmp_path / "first.json")]) == 0
    second = {
        "format": "factor-desktop-import",
        "version": 1,
        "clients": [{"name": "émile tanaka"}],
        "projects": [
            {"number": "P-2", "name": "KITCHEN", "client": "Émile Tanaka"},
            {"number": "P-3", "name": "Kitchen", "client": "Riverside"},
        ],
    }
    (tmp_path / "second.json").write_text(json.dumps(second))
    capsys.readouterr()
    assert main(["--data-dir", str(folder), "import", str(tmp_path / "second.json")]) == 1
    err = capsys.readouterr().err
    assert "'émile tanaka' is the same as the existing 'Émile Tanaka' apart from" in err
    assert "already has a project named 'KITCHEN'" in err
    assert "P-3" not in err  # another client may have a project of that name
    assert _count(folder, Project) == 1


def test_json_nested_a_thousand_deep_is_refused_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "deep.json"
    source.write_text('{"clients": ' + "[" * 1000 + "]" * 1000 + "}")
    assert main(["--data-dir", str(tmp_path / "data"), "import", str(source)]) == 1
    err = capsys.readouterr().err
    assert "nested too deeply" in err
    assert "Traceback" not in err and "RecursionError" not in err
    source.write_text('{"clients": [{"name": "A", "custom": ' + "[" * 50 + "]" * 50 + "}]}")
    assert main(["--data-dir", str(tmp_path / "data"), "import", str(source)]) == 1
    err = capsys.readouterr().err
    assert "nests objects or lists 53 levels deep" in err


def test_a_json_number_is_not_a_client_name(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "numbers.json"
    source.write_text(
        json.dumps(
            {
                "format": "factor-desktop-import",
                "version": 1,
                "clients": [{"name": 1017}],
                "projects": [{"number": 1017, "name": "Kitchen", "client": "Riverside"}],
            }
        )
    )
    assert main(["--data-dir", str(tmp_path / "data"), "import", str(source)]) == 1
    err = capsys.readouterr().err
    assert "clients[0].name: Expected a name in quotes, not the number 1017." in err
    # A project number may be written as a number.
    assert "projects[0].number" not in err


def test_records_linked_to_quickbooks_in_the_file_are_linked_when_inserted_in_batches(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "linked.json"
    source.write_text(
        json.dumps(
            {
                "format": "factor-desktop-import",
                "version": 1,
                "clients": [{"name": "Tanaka", "qbo_id": "58"}],
                "projects": [{"number": "P-1", "name": "K", "client": "Tanaka", "qbo_id": "59"}],
            }
        )
    )
    data = tmp_path / "data"
    assert main(["--data-dir", str(data), "import", str(source)]) == 0
    ctx = open_context(data)
    with ctx.store.session() as session:
        assert [(c.name, c.qbo_id) for c in session.query(Client)] == [("Tanaka", "58")]
        assert [(p.number, p.qbo_id) for p in session.query(Project)] == [("P-1", "59")]
    ctx.close()
