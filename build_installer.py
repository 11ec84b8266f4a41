#!/usr/bin/env python3
"""Build Factor Desktop as a self-contained folder with PyInstaller, then smoke-test it.

    python3 run.py check            # lint first, if you like
    .venv/bin/python build_installer.py [--onefile] [--skip-smoke-test]

The build runs in the current environment, which must hold PySide6 only (PyInstaller aborts when
two Qt bindings are importable); `python3 run.py` environments qualify. The result is
`dist/FactorDesktop/` plus `dist/FactorDesktop-<version>-<platform>.zip`. The smoke test starts
the frozen program offscreen: `--version`, then `status --json` on a scratch data folder, which
creates and migrates a database (proving the migrations and keyring metadata were bundled),
then imports the bundled demo firm and reads its invoices back.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent
DIST = ROOT / "dist"
BUILD = ROOT / "build"
NAME = "FactorDesktop"


def version() -> str:
    namespace: dict[str, str] = {}
    exec((ROOT / "factor_desktop" / "__init__.py").read_text(), namespace)
    return namespace["__version__"]


def pyinstaller_args(onefile: bool) -> list[str]:
    sep = os.pathsep
    entry = BUILD / "factor_desktop_entry.py"
    entry.parent.mkdir(parents=True, exist_ok=True)
    entry.write_text("from factor_desktop.cli import main\nraise SystemExit(main())\n")
    args = [
        str(entry),
        "--name",
        NAME,
        "--noconfirm",
        "--clean",
        "--distpath",
        str(DIST),
        "--workpath",
        str(BUILD / "pyinstaller"),
        "--specpath",
        str(BUILD),
        "--icon",
        str(ROOT / "resources" / "factor-desktop.png"),
        "--add-data",
        f"{ROOT / 'resources'}{sep}resources",
        # Package data: the demo firm and other data files.
        "--collect-data",
        "factor_desktop",
        # Alembic runs the migration scripts from disk, so they travel as source files.
        "--add-data",
        f"{ROOT / 'factor_desktop' / 'store' / 'migrations'}{sep}factor_desktop/store/migrations",
        "--collect-submodules",
        "factor_desktop",
        # keyring finds its backends through entry points; their metadata must travel along.
        "--collect-submodules",
        "keyring.backends",
        "--copy-metadata",
        "keyring",
        "--copy-metadata",
        "factor-desktop",
        "--hidden-import",
        "alembic",
        "--exclude-module",
        "PyQt5",
        "--exclude-module",
        "PyQt6",
        "--exclude-module",
        "tkinter",
    ]
    if onefile:
        args.append("--onefile")
    return args


def smoke_test(executable: Path) -> None:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    out = subprocess.run(
        [str(executable), "--version"], capture_output=True, text=True, env=env, check=True
    )
    assert version() in out.stdout, out.stdout
    with tempfile.TemporaryDirectory() as scratch:
        out = subprocess.run(
            [str(executable), "--data-dir", scratch, "status", "--json"],
            capture_output=True,
            text=True,
            env=env,
            check=True,
        )
        report = json.loads(out.stdout)
        assert report["connected"] is False and report["schema"], report
        # The bundled demo firm loads and reads back (package data travelled along).
        subprocess.run(
            [str(executable), "--data-dir", scratch, "import", "demo"],
            capture_output=True,
            env=env,
            check=True,
        )
        out = subprocess.run(
            [str(executable), "--data-dir", scratch, "report", "invoices", "--json"],
            capture_output=True,
            text=True,
            env=env,
            check=True,
        )
        assert len(json.loads(out.stdout)) == 44, "the demo firm's invoices"
    print(f"Smoke test passed: {executable}")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--onefile", action="store_true", help="one executable instead of a folder")
    parser.add_argument("--skip-smoke-test", action="store_true")
    args = parser.parse_args(argv)
    try:
        import PyInstaller.__main__ as pyinstaller
    except ImportError:
        print("PyInstaller is missing: .venv/bin/pip install -e '.[dev]'", file=sys.stderr)
        return 2
    for other in ("PyQt5", "PyQt6"):
        try:
            __import__(other)
        except ImportError:
            continue
        print(f"{other} is installed here; build in an environment with PySide6 only.")
        return 2
    pyinstaller.run(pyinstaller_args(args.onefile))
    suffix = ".exe" if os.name == "nt" else ""
    executable = DIST / (f"{NAME}{suffix}" if args.onefile else f"{NAME}/{NAME}{suffix}")
    if not args.skip_smoke_test:
        smoke_test(executable)
    if not args.onefile:
        tag = f"{platform.system().lower()}-{platform.machine().lower()}"
        archive = shutil.make_archive(str(DIST / f"{NAME}-{version()}-{tag}"), "zip", DIST, NAME)
        print(f"Built {archive}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
