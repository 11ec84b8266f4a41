#!/usr/bin/env python3
"""Set up Factor Desktop in a local virtual environment on first use, then run it.

    python3 run.py demo    set up and open the demo (a demo firm and a local QuickBooks sandbox)
    python3 run.py test    set up and run the whole test suite
    python3 run.py check   set up and run the checks: ruff, ruff format, mypy (strict, package and
                           tests) and the import contracts
    python3 run.py floor   run the window's tests (tests/ui) on the lowest PySide6 pyproject allows
    python3 run.py -- ...  any factor-desktop command, e.g. `python3 run.py -- status --json`

Only Python 3.11 or newer is needed. The environment lives in `.venv` beside this file and is
refreshed whenever `pyproject.toml` changes.
"""

from __future__ import annotations

import hashlib
import os
import re
import signal
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
STAMP = VENV / ".factor-desktop-installed"
# The floor of PySide6: only PySide6 at the version pyproject.toml declares as its lowest, in
# front of everything else from .venv.
FLOOR_VENV = VENV / "floor"
FLOOR_STAMP = FLOOR_VENV / ".factor-desktop-floor"


def venv_python(env_dir: Path = VENV) -> Path:
    if os.name == "nt":
        return env_dir / "Scripts" / "python.exe"
    return env_dir / "bin" / "python"


def ensure_environment(extras: str) -> Path:
    """.venv with the project installed in editable mode, with at least `extras` (e.g. "test,dev").

    The stamp records pyproject.toml's digest and the extras installed with it, so a command
    that needs fewer extras than the last install does not reinstall.
    """
    if sys.version_info < (3, 11):  # noqa: UP036  (this script may be started by an older Python)
        sys.exit("Factor Desktop needs Python 3.11 or newer.")
    python = venv_python()
    if not python.exists():
        print("Creating the virtual environment in .venv ...", flush=True)
        venv.EnvBuilder(with_pip=True, clear=True).create(VENV)
    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    wanted = set(extras.split(","))
    installed: set[str] = set()
    if STAMP.exists():
        recorded = STAMP.read_text().split()
        if len(recorded) == 2 and recorded[0] == digest:
            installed = set(recorded[1].split(","))
    if not wanted <= installed:
        all_extras = ",".join(sorted(wanted | installed))
        print(f"Installing Factor Desktop and its dependencies ({all_extras}) ...", flush=True)
        pip = [str(python), "-m", "pip", "--disable-pip-version-check", "--quiet"]
        subprocess.run([*pip, "install", "--upgrade", "pip"], check=True)
        subprocess.run([*pip, "install", "-e", f"{ROOT}[{all_extras}]"], check=True)
        STAMP.write_text(f"{digest} {all_extras}\n")
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


CHECKS: list[tuple[str, list[str]]] = [
    ("ruff check", ["-m", "ruff", "check", "."]),
    ("ruff format", ["-m", "ruff", "format", "--check", "."]),
    ("mypy (strict)", ["-m", "mypy", "factor_desktop", "tests"]),
    ("import contracts", ["-c", "from importlinter.cli import lint_imports_command as c; c()"]),
]


def run_checks(python: Path) -> int:
    """Run every check, even after one fails, and say which failed."""
    failed = []
    for name, args in CHECKS:
        print(f"--- {name}", flush=True)
        if subprocess.call([str(python), *args], cwd=ROOT) != 0:
            failed.append(name)
    if failed:
        print(f"Checks failed: {', '.join(failed)}", flush=True)
        return 1
    print("All checks passed.", flush=True)
    return 0


def pyside_floor() -> str:
    """The lowest PySide6-Essentials that pyproject.toml allows."""
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    match = re.search(r'"PySide6-Essentials\s*>=\s*([0-9][0-9.]*)', text)
    if match is None:
        sys.exit("pyproject.toml declares no floor for PySide6-Essentials")
    return match.group(1)


def ensure_floor_environment(main_python: Path, floor: str) -> Path:
    """A venv holding PySide6-Essentials==floor only; .venv's packages come after it on sys.path."""
    python = venv_python(FLOOR_VENV)
    main_site = subprocess.check_output(
        [str(main_python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        text=True,
    ).strip()
    wanted = f"PySide6-Essentials=={floor} {main_site}"
    if python.exists() and FLOOR_STAMP.exists() and FLOOR_STAMP.read_text().strip() == wanted:
        return python
    print(f"Installing PySide6-Essentials {floor} into .venv/floor ...", flush=True)
    venv.EnvBuilder(with_pip=True, clear=True).create(FLOOR_VENV)
    pip = [str(python), "-m", "pip", "--disable-pip-version-check", "--quiet"]
    subprocess.run([*pip, "install", f"PySide6-Essentials=={floor}"], check=True)
    site_dir = subprocess.check_output(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        text=True,
    ).strip()
    # Processed after the floor's own packages, so its PySide6 and shiboken6 come first.
    (Path(site_dir) / "zz-factor-desktop-main.pth").write_text(
        f"import site; site.addsitedir({main_site!r})\n"
    )
    FLOOR_STAMP.write_text(wanted)
    return python


def run_floor(rest: list[str]) -> int:
    main_python = ensure_environment("test")
    floor = pyside_floor()
    python = ensure_floor_environment(main_python, floor)
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    probe = "import PySide6, sys; print(PySide6.__version__)"
    found = subprocess.check_output([str(python), "-c", probe], text=True, env=env).strip()
    if found != floor:
        print(f"The floor environment has PySide6 {found}, not {floor}.", flush=True)
        return 1
    print(f"Window tests on the PySide6 floor ({found}):", flush=True)
    return run_child([str(python), "-m", "pytest", "tests/ui", *rest], env=env)


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
        return run_checks(python)
    if command == "floor":
        return run_floor(rest)
    if command == "--":
        python = ensure_environment("test")
        return run_child([str(python), "-m", "factor_desktop", *rest])
    print(__doc__)
    return 2


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
