"""Smaller hardening: profile names, the client secret, read-outs and the loopback listener."""

from __future__ import annotations

import csv
import io
import json
import threading
from pathlib import Path

import pytest
import requests

from factor_desktop.app import open_context
from factor_desktop.cli import main
from factor_desktop.qbo.oauth import LoopbackReceiver
from factor_desktop.sandbox import SandboxConfig, SandboxServer
from factor_desktop.store.models import SyncLogEntry


@pytest.mark.parametrize("profile", ["../x", "a/b", "..", "/etc/passwd", ".hidden", "x\0y"])
def test_a_profile_name_that_leaves_the_data_folder_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], profile: str
) -> None:
    data = tmp_path / "data"
    assert main(["--data-dir", str(data), "--profile", profile, "status"]) == 1
    err = capsys.readouterr().err
    assert "is not a usable firm profile name" in err
    assert list(tmp_path.glob("**/*.sqlite3")) == []


def test_the_client_secret_can_come_from_standard_input(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    with SandboxServer(SandboxConfig(seed="empty", auto_approve=True)) as sandbox:

        def browser(url: str) -> bool:  # the administrator's browser approves at once
            threading.Thread(target=requests.get, args=(url,), kwargs={"timeout": 10}).start()
            return True

        monkeypatch.setattr("webbrowser.open", browser)
        monkeypatch.setattr("sys.stdin", io.StringIO(sandbox.client_secret + "\n"))
        data = tmp_path / "data"
        args = ["--data-dir", str(data), "connect", "--environment", sandbox.discovery_url]
        args += ["--client-id", sandbox.client_id, "--client-secret-stdin", "--timeout", "20"]
        assert main(args) == 0
        out, err = capsys.readouterr()
        assert out.splitlines()[-1].startswith("Connected to ")
        assert "Warning" not in err
        ctx = open_context(data)
        app = ctx.tokens.load_app()
        assert app is not None and app.client_secret == sandbox.client_secret
        ctx.close()


def test_a_secret_on_the_command_line_is_warned_about(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["--data-dir", str(tmp_path / "data"), "connect", "--environment"]
    args += ["http://127.0.0.1:9/discovery", "--client-id", "x", "--client-secret", "shown-in-ps"]
    main(args)
    err = capsys.readouterr().err
    assert "can be seen by other users of this computer" in err


def test_csv_read_outs_neutralise_formulas_and_the_terminal_gets_no_escapes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "data"
    source = tmp_path / "firm.json"
    source.write_text(
        json.dumps(
            {
                "format": "factor-desktop-import",
                "version": 1,
                "clients": [{"name": "@Tanaka"}],
                "projects": [
                    {"number": "P-1", "name": '=HYPERLINK("http://x","y")', "client": "@Tanaka"},
                    {"number": "-2", "name": "+1 kitchen", "client": "@Tanaka"},
                ],
            }
        )
    )
    assert main(["--data-dir", str(data), "import", str(source)]) == 0
    out_csv = tmp_path / "projects.csv"
    assert main(["--data-dir", str(data), "report", "projects", "--csv", str(out_csv)]) == 0
    rows = csv.reader(io.StringIO(out_csv.read_text("utf-8-sig")))
    cells = [cell for row in rows for cell in row]
    assert '\'=HYPERLINK("http://x","y")' in cells
    assert "'+1 kitchen" in cells and "'@Tanaka" in cells and "'-2" in cells
    assert not any(cell.startswith(("=", "+", "@")) for cell in cells)

    ctx = open_context(data)
    with ctx.store.session() as session:
        session.add(
            SyncLogEntry(
                direction="pull",
                entity_kind="customer",
                label="Evil \x1b]0;owned\x07Co \x1b[2J\x1b[31mred\x1b[0m \x9b1m",
                action="created",
                level="info",
            )
        )
    ctx.close()
    capsys.readouterr()
    assert main(["--data-dir", str(data), "report", "log"]) == 0
    out = capsys.readouterr().out
    assert "\x1b" not in out and "\x9b" not in out and "\x07" not in out
    assert "Evil Co red" in out


def test_a_callback_with_a_wrong_state_does_not_cancel_the_connection() -> None:
    with LoopbackReceiver("the-right-state") as receiver:
        base = f"http://127.0.0.1:{receiver.port}/callback"
        stray = requests.get(f"{base}?code=x&state=guessed&realmId=1", timeout=5)
        assert stray.status_code == 400
        denied = requests.get(f"{base}?error=access_denied&state=guessed", timeout=5)
        assert denied.status_code == 400
        good = requests.get(f"{base}?code=c0de&state=the-right-state&realmId=42", timeout=5)
        assert good.status_code == 200
        assert receiver.wait(5).endswith("?code=c0de&state=the-right-state&realmId=42")
