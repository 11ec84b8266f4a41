#!/usr/bin/env python3
"""Set up Factor Desktop in a local virtual environment on first use, then run it.

    python3 run.py demo    set up and open the demo (a demo firm and a local QuickBooks sandbox)
    python3 run.py test    set up and run the whole test suite
    python3 run.py check   set up and run the linters and the type checker
    python3 run.py -- ...  any factor-desktop command, e.g. `python3 run.py -- status --json`

Only Python 3.11 or newer is needed. The environment lives in `.venv` beside this file and is
refreshed whenever `pyproject.toml` changes.
"""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
STAMP = VENV / ".factor-desktop-installed"


def venv_python() -> Path:
    if os.name == "nt":
        return VENV / "Scripts" / "python.exe"
    return VENV / "bin" / "python"


def ensure_environment(extras: str) -> Path:
    if sys.version_info < (3, 11):  # noqa: UP036  (this script may be started by an older Python)
        sys.exit("Factor Desktop needs Python 3.11 or newer.")
    python = venv_python()
    if not python.exists():
        print("Creating the virtual environment in .venv ...", flush=True)
        venv.EnvBuilder(with_pip=True, clear=True).create(VENV)
    wanted = hashlib.sha256((ROOT / "pyproject.toml").read_bytes() + extras.encode()).hexdigest()
    if not STAMP.exists() or STAMP.read_text().strip() != wanted:
        print(f"Installing Factor Desktop and its dependencies ({extras}) ...", flush=True)
        pip = [str(python), "-m", "pip", "--disable-pip-version-check", "--quiet"]
        subprocess.run([*pip, "install", "--upgrade", "pip"], check=True)
        subprocess.run([*pip, "install", "-e", f"{ROOT}[{extras}]"], check=True)
        STAMP.write_text(wanted)
    return python


def _stop_on_term(_signum: int, _frame: object) -> None:
    raise KeyboardInterrupt


def run_child(command: list[str], env: dict[str, str] | None = None) -> int:
    """Run a command in the project; stopping this script (Ctrl+C, SIGTERM) stops it too."""
    if hasattr(signal, "SIGTERM"):
        signal.signal(signal.SIGTERM, _stop_on_term)
    child = subprocess.Popen(command, cwd=ROOT, env=env)
    try:
        return child.wait()
    except KeyboardInterrupt:
        child.send_signal(signal.SIGINT)
        try:
            return child.wait(timeout=15)
        except subprocess.TimeoutExpired:
            child.kill()
            return child.wait()


def main(argv: list[str]) -> int:
    command = argv[0] if argv else "demo"
    rest = argv[1:]
    if command == "demo":
        python = ensure_environment("test")
        return run_child([str(python), "-m", "factor_desktop", "demo", *rest])
    if command == "test":
        python = ensure_environment("test")
        env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
        return run_child([str(python), "-m", "pytest", *rest], env=env)
    if command == "check":
        python = ensure_environment("test,dev")
        status = subprocess.call([str(python), "-m", "ruff", "check", "."], cwd=ROOT)
        status |= subprocess.call([str(python), "-m", "ruff", "format", "--check", "."], cwd=ROOT)
        status |= subprocess.call([str(python), "-m", "mypy", "factor_desktop"], cwd=ROOT)
        return status
    if command == "--":
        python = ensure_environment("test")
        return run_child([str(python), "-m", "factor_desktop", *rest])
    print(__doc__)
    return 2


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
