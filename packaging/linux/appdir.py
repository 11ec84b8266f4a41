#!/usr/bin/env python3
"""Linux packages from the PyInstaller folder: an AppDir (made into an AppImage) and a .deb.

    python3 packaging/linux/appdir.py dist/FactorDesktop [--out dist] [--appimage] [--deb]

The AppDir, as appimagetool expects it:

    AppDir/AppRun                               starts usr/lib/factor-desktop/FactorDesktop
    AppDir/factor-desktop.desktop               the menu entry (resources/factor-desktop.desktop)
    AppDir/factor-desktop.png, .DirIcon         the 256 px icon
    AppDir/usr/bin/FactorDesktop                a link to the program
    AppDir/usr/lib/factor-desktop/              the PyInstaller folder
    AppDir/usr/share/applications/factor-desktop.desktop
    AppDir/usr/share/icons/hicolor/<N>x<N>/apps/factor-desktop.png
    AppDir/usr/share/metainfo/com.factor.FactorDesktop.appdata.xml

`--appimage` runs `appimagetool` (from PATH, or $APPIMAGETOOL) on it; without the tool the
AppDir is left for a machine that has it. `--deb` builds a .deb with `dpkg-deb` (the same
tree under /opt/factor-desktop, the menu entry and icons under /usr/share), when present.
Qt's X11 libraries: PyInstaller bundles the xcb libraries the xcb platform plugin links to;
the base X11/GL libraries every desktop has (libX11, libGL, libfontconfig) are declared as the
.deb's dependencies and listed in docs/packaging.md for the AppImage.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from metadata import APP_ID, APP_NAME, EXE_NAME, ROOT, version

ICON_SIZES = (16, 24, 32, 48, 64, 128, 256, 512)
DESKTOP = ROOT / "resources" / "factor-desktop.desktop"
ICONS = ROOT / "resources" / "icons"
# What the .deb asks of the system: the libraries Qt's xcb plugin needs that are not bundled.
DEB_DEPENDS = (
    "libc6 (>= 2.31), libx11-6, libx11-xcb1, libxkbcommon0, libxkbcommon-x11-0, libgl1, "
    "libegl1, libfontconfig1, libfreetype6, libdbus-1-3, libglib2.0-0, libxcb-cursor0"
)
APPRUN = """#!/bin/sh
# Factor Desktop's AppImage entry: the bundled program, with the arguments it was given.
HERE="$(dirname "$(readlink -f "$0")")"
exec "$HERE/usr/lib/factor-desktop/FactorDesktop" "$@"
"""
APPDATA = f"""<?xml version="1.0" encoding="UTF-8"?>
<component type="desktop-application">
  <id>{APP_ID}</id>
  <metadata_license>CC0-1.0</metadata_license>
  <project_license>LicenseRef-proprietary</project_license>
  <name>{APP_NAME}</name>
  <summary>Keep a firm's Factor records and its QuickBooks Online company in step</summary>
  <description>
    <p>Sends finalized Factor invoices to QuickBooks Online and brings payments, expenses and
    receipts back.</p>
  </description>
  <launchable type="desktop-id">factor-desktop.desktop</launchable>
  <releases><release version="{{version}}"/></releases>
</component>
"""


def _copy_tree(bundle: Path, target: Path) -> None:
    shutil.copytree(bundle, target, symlinks=True)


def _icons(share: Path) -> None:
    for size in ICON_SIZES:
        folder = share / "icons" / "hicolor" / f"{size}x{size}" / "apps"
        folder.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ICONS / f"factor-desktop-{size}.png", folder / "factor-desktop.png")
    scalable = share / "icons" / "hicolor" / "scalable" / "apps"
    scalable.mkdir(parents=True, exist_ok=True)
    shutil.copy2(ICONS / "factor-desktop.svg", scalable / "factor-desktop.svg")


def make_appdir(bundle: Path, appdir: Path) -> Path:
    """Lay out `appdir` (replaced if present) around the PyInstaller folder `bundle`."""
    if not (bundle / EXE_NAME).is_file():
        raise SystemExit(f"{bundle} holds no {EXE_NAME}: build it first (build_installer.py)")
    if appdir.exists():
        shutil.rmtree(appdir)
    usr = appdir / "usr"
    _copy_tree(bundle, usr / "lib" / "factor-desktop")
    (usr / "bin").mkdir(parents=True)
    (usr / "bin" / EXE_NAME).symlink_to(Path("..") / "lib" / "factor-desktop" / EXE_NAME)
    share = usr / "share"
    (share / "applications").mkdir(parents=True)
    shutil.copy2(DESKTOP, share / "applications" / "factor-desktop.desktop")
    _icons(share)
    (share / "metainfo").mkdir(parents=True)
    (share / "metainfo" / f"{APP_ID}.appdata.xml").write_text(
        APPDATA.replace("{version}", version()), encoding="utf-8"
    )
    shutil.copy2(DESKTOP, appdir / "factor-desktop.desktop")
    shutil.copy2(ICONS / "factor-desktop-256.png", appdir / "factor-desktop.png")
    (appdir / ".DirIcon").symlink_to("factor-desktop.png")
    apprun = appdir / "AppRun"
    apprun.write_text(APPRUN, encoding="utf-8")
    apprun.chmod(0o755)
    return appdir


def appimagetool() -> str | None:
    return os.environ.get("APPIMAGETOOL") or shutil.which("appimagetool")


def make_appimage(appdir: Path, out: Path, arch: str) -> Path | None:
    """Run appimagetool on `appdir`; None (with a note) when the tool is not installed."""
    tool = appimagetool()
    if tool is None:
        print("appimagetool is not installed: the AppDir is ready for it (see docs/packaging.md)")
        return None
    target = out / f"FactorDesktop-{version()}-{arch}.AppImage"
    env = dict(os.environ, ARCH=arch)
    # --appimage-extract-and-run: no FUSE needed (containers, CI).
    subprocess.run(
        [tool, "--appimage-extract-and-run", "--no-appstream", str(appdir), str(target)],
        check=True,
        env=env,
    )
    return target


def deb_arch(machine: str) -> str:
    return {"x86_64": "amd64", "aarch64": "arm64", "arm64": "arm64"}.get(machine, machine)


def make_deb(bundle: Path, work: Path, out: Path, machine: str) -> Path | None:
    """A .deb installing to /opt/factor-desktop; None when dpkg-deb is not installed."""
    tool = shutil.which("dpkg-deb")
    if tool is None:
        print("dpkg-deb is not installed: no .deb")
        return None
    root = work / "deb"
    if root.exists():
        shutil.rmtree(root)
    _copy_tree(bundle, root / "opt" / "factor-desktop")
    (root / "usr" / "bin").mkdir(parents=True)
    (root / "usr" / "bin" / "factor-desktop").symlink_to(f"/opt/factor-desktop/{EXE_NAME}")
    share = root / "usr" / "share"
    (share / "applications").mkdir(parents=True)
    desktop = DESKTOP.read_text(encoding="utf-8").replace(
        f"Exec={EXE_NAME}", f"Exec=/opt/factor-desktop/{EXE_NAME}"
    )
    (share / "applications" / "factor-desktop.desktop").write_text(desktop, encoding="utf-8")
    _icons(share)
    size_kb = sum(f.stat().st_size for f in root.rglob("*") if f.is_file()) // 1024
    (root / "DEBIAN").mkdir()
    (root / "DEBIAN" / "control").write_text(
        "Package: factor-desktop\n"
        f"Version: {version()}\n"
        f"Architecture: {deb_arch(machine)}\n"
        "Maintainer: Factor <support@factor.example>\n"
        f"Installed-Size: {size_kb}\n"
        f"Depends: {DEB_DEPENDS}\n"
        "Section: misc\n"
        "Priority: optional\n"
        "Description: Keeps a firm's Factor records and its QuickBooks Online company in step\n"
        " Sends finalized invoices to QuickBooks Online; brings payments, expenses and receipts\n"
        " back.\n",
        encoding="utf-8",
    )
    target = out / f"factor-desktop_{version()}_{deb_arch(machine)}.deb"
    for folder in [root, *(p for p in root.rglob("*") if p.is_dir() and not p.is_symlink())]:
        folder.chmod(0o755)  # dpkg-deb refuses group-writable folders (a umask of 002)
    done = subprocess.run(
        [tool, "--root-owner-group", "-Zxz", "--build", str(root), str(target)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        print(f"dpkg-deb failed, no .deb: {done.stderr.strip()}")
        return None
    return target


def main(argv: list[str]) -> int:
    import platform

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("bundle", type=Path, help="the PyInstaller folder (dist/FactorDesktop)")
    parser.add_argument("--out", type=Path, default=ROOT / "dist")
    parser.add_argument("--appimage", action="store_true", help="run appimagetool if present")
    parser.add_argument("--deb", action="store_true", help="build a .deb if dpkg-deb is present")
    args = parser.parse_args(argv)
    appdir = make_appdir(args.bundle, args.out / "FactorDesktop.AppDir")
    print(f"AppDir: {appdir}")
    if args.appimage:
        made = make_appimage(appdir, args.out, platform.machine())
        if made:
            print(f"AppImage: {made}")
    if args.deb:
        deb = make_deb(args.bundle, ROOT / "build", args.out, platform.machine())
        if deb:
            print(f".deb: {deb}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
