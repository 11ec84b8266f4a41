#!/usr/bin/env python3
"""Build Factor Desktop for this machine's OS, test the frozen program, package and measure it.

    .venv/bin/python build_installer.py [--skip-smoke-test] [--no-gui-test] [--max-sizes]

The build runs in the current environment, which must hold PySide6 only (PyInstaller aborts
when two Qt bindings are importable); `python3 run.py` environments qualify. Steps:

1. PyInstaller on packaging/factor-desktop.spec (the one spec for every OS): a lean folder,
   dist/FactorDesktop/ (what is left out: packaging/lean.py), symbols stripped on Linux/macOS.
2. The smoke test runs the frozen program: `--version`, then `self-test` (the whole loop
   against the bundled sandbox, every tab drawn offscreen), then `self-test --gui` (a real
   window; on Linux under xvfb-run when there is no display and xvfb-run is installed).
3. Signing hooks (packaging/sign.py), skipped when no certificate is configured.
4. Packages: everywhere a .zip of the folder; Linux: the AppDir, the AppImage (with
   appimagetool) and a .deb (with dpkg-deb); Windows: the Inno Setup installer (with iscc);
   macOS: the .app and a .dmg (with hdiutil), notarised when configured.
5. The sizes: unpacked, and each package. `--max-sizes` fails the build above the targets
   (Linux: 120 MB unpacked, 60 MB compressed).

Everything lands in dist/; docs/packaging.md explains each step.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent
DIST = ROOT / "dist"
BUILD = ROOT / "build"
SPEC = ROOT / "packaging" / "factor-desktop.spec"
sys.path.insert(0, str(ROOT / "packaging"))

from metadata import APP_NAME, EXE_NAME, version, windows_version_info  # noqa: E402

WINDOWS = sys.platform == "win32"
MACOS = sys.platform == "darwin"
MB = 1024 * 1024
# Targets for Linux (other platforms' figures are measured and printed, not held to these).
MAX_UNPACKED = 120 * MB
MAX_COMPRESSED = 60 * MB
SELF_TEST_TIMEOUT = 300


def os_tag() -> str:
    system = {"darwin": "macos", "win32": "windows"}.get(sys.platform, sys.platform)
    return f"{system.rstrip('0123456789')}-{platform.machine().lower()}"


def bundle_dir() -> Path:
    return DIST / EXE_NAME


def cli_program() -> Path:
    """The frozen program to run commands with (on Windows the console one)."""
    name = "factor-desktop.exe" if WINDOWS else EXE_NAME
    return bundle_dir() / name


def folder_size(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file() and not f.is_symlink())


def run_pyinstaller() -> None:
    import PyInstaller.__main__ as pyinstaller

    BUILD.mkdir(exist_ok=True)
    (BUILD / "version_info.txt").write_text(windows_version_info(), encoding="utf-8")
    os.environ["FACTOR_BUILD_DIR"] = str(BUILD)
    pyinstaller.run(
        [
            str(SPEC),
            "--noconfirm",
            "--clean",
            "--distpath",
            str(DIST),
            "--workpath",
            str(BUILD / "pyinstaller"),
        ]
    )


def has_display() -> bool:
    if not sys.platform.startswith("linux"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def _check(command: Sequence[str], env: dict[str, str], what: str) -> str:
    print(f"$ {' '.join(command)}", flush=True)
    done = subprocess.run(
        list(command),
        capture_output=True,
        text=True,
        env=env,
        timeout=SELF_TEST_TIMEOUT,
        check=False,
    )
    print(done.stdout, end="")
    if done.returncode != 0:
        print(done.stderr, end="", file=sys.stderr)
        raise SystemExit(f"Smoke test failed: {what} (exit {done.returncode})")
    return done.stdout


def smoke_test(program: Path, gui: bool) -> None:
    """The frozen program's own self-test; nothing here reads or writes the user's data."""
    env = dict(os.environ)
    env.pop("QT_QPA_PLATFORM", None)
    out = _check([str(program), "--version"], env, "--version")
    if version() not in out:
        raise SystemExit(f"Smoke test failed: --version printed {out!r}")
    _check([str(program), "self-test"], env, "self-test")
    if not gui:
        return
    if has_display():
        _check([str(program), "self-test", "--gui"], env, "self-test --gui")
    elif shutil.which("xvfb-run"):
        command = ["xvfb-run", "-a", "-s", "-screen 0 1600x1000x24", str(program)]
        _check([*command, "self-test", "--gui"], env, "self-test --gui under xvfb-run")
    else:
        print("No display and no xvfb-run: self-test --gui not run")


def make_zip(source: Path, target: Path) -> Path:
    """A zip of `source` (its folder name at the top), symlinks kept as links."""
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as archive:
        for path in sorted(source.rglob("*")):
            name = str(path.relative_to(source.parent))
            if path.is_symlink():
                info = zipfile.ZipInfo(name)
                info.create_system = 3
                info.external_attr = 0o120777 << 16
                archive.writestr(info, os.readlink(path))
            elif path.is_file():
                archive.write(path, name)
    return target


def package_linux(bundle: Path) -> list[Path]:
    sys.path.insert(0, str(ROOT / "packaging" / "linux"))
    from appdir import make_appdir, make_appimage, make_deb

    made: list[Path] = []
    appdir = make_appdir(bundle, DIST / "FactorDesktop.AppDir")
    print(f"AppDir: {appdir}")
    appimage = make_appimage(appdir, DIST, platform.machine())
    if appimage is not None:
        made.append(appimage)
    deb = make_deb(bundle, BUILD, DIST, platform.machine())
    if deb is not None:
        made.append(deb)
    return made


def package_windows(bundle: Path) -> list[Path]:
    from sign import sign_windows

    programs = [bundle / f"{EXE_NAME}.exe", bundle / "factor-desktop.exe"]
    print(sign_windows(programs).line())
    iscc = os.environ.get("ISCC") or shutil.which("iscc") or shutil.which("ISCC")
    if iscc is None:
        default = Path(os.environ.get("PROGRAMFILES(X86)", r"C:\Program Files (x86)"))
        candidate = default / "Inno Setup 6" / "ISCC.exe"
        iscc = str(candidate) if candidate.is_file() else None
    if iscc is None:
        print("Inno Setup (iscc) is not installed: no installer, the .zip only")
        return []
    script = ROOT / "packaging" / "windows" / "factor-desktop.iss"
    subprocess.run(
        [
            iscc,
            f"/DAppVersion={version()}",
            f"/DSourceDir={bundle}",
            f"/DOutputDir={DIST}",
            str(script),
        ],
        check=True,
    )
    installer = DIST / f"FactorDesktop-{version()}-setup.exe"
    print(sign_windows([installer]).line())
    return [installer]


def package_macos() -> list[Path]:
    from sign import notarize_macos, sign_macos

    app = DIST / f"{APP_NAME}.app"
    print(sign_macos(app).line())
    dmg = DIST / f"FactorDesktop-{version()}-{os_tag()}.dmg"
    script = ROOT / "packaging" / "macos" / "make_dmg.sh"
    subprocess.run(["sh", str(script), str(app), str(dmg)], check=True)
    print(notarize_macos(dmg).line())
    return [dmg]


def report_sizes(bundle: Path, packages: list[Path], enforce: bool) -> bool:
    unpacked = folder_size(bundle)
    print(f"\nSizes ({os_tag()}):")
    print(f"  unpacked  {unpacked / MB:7.1f} MB  {bundle}")
    for package in packages:
        print(f"  package   {package.stat().st_size / MB:7.1f} MB  {package.name}")
    compressed = min((p.stat().st_size for p in packages), default=0)
    if sys.platform.startswith("linux"):
        ok = unpacked <= MAX_UNPACKED and compressed <= MAX_COMPRESSED
        print(
            f"  targets   unpacked <= {MAX_UNPACKED // MB} MB, compressed <= "
            f"{MAX_COMPRESSED // MB} MB: {'met' if ok else 'NOT met'}"
        )
        return ok or not enforce
    return True


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip-build", action="store_true", help="package dist/ as it is")
    parser.add_argument("--skip-smoke-test", action="store_true")
    parser.add_argument("--no-gui-test", action="store_true", help="leave out self-test --gui")
    parser.add_argument("--max-sizes", action="store_true", help="fail above the size targets")
    args = parser.parse_args(argv)
    try:
        import PyInstaller  # noqa: F401
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
    if not args.skip_build:
        run_pyinstaller()
    bundle = bundle_dir()
    if not args.skip_smoke_test:
        smoke_test(cli_program(), gui=not args.no_gui_test)
    packages: list[Path] = []
    if MACOS:
        packages += package_macos()
    elif WINDOWS:
        packages += package_windows(bundle)
    else:
        packages += package_linux(bundle)
    archive = make_zip(bundle, DIST / f"FactorDesktop-{version()}-{os_tag()}.zip")
    packages.insert(0, archive)
    print(f"Built {', '.join(str(p) for p in packages)}")
    return 0 if report_sizes(bundle, packages, args.max_sizes) else 1


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
