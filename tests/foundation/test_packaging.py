"""Packaging, as far as it runs on Linux without a build: the lean rules, the icons, the AppDir
and .deb layouts, the signing hooks' skip path, the installer scripts and the CI workflow."""

from __future__ import annotations

import importlib.util
import os
import shutil
import struct
import subprocess
import sys
import zipfile
from collections.abc import Sequence
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
PACKAGING = ROOT / "packaging"
sys.path.insert(0, str(PACKAGING))
sys.path.insert(0, str(PACKAGING / "linux"))

import icu_data  # noqa: E402
import lean  # noqa: E402
import make_icons  # noqa: E402
import metadata  # noqa: E402
import sign  # noqa: E402
from appdir import make_appdir, make_deb  # noqa: E402

sys.path.insert(0, str(ROOT))
import build_installer  # noqa: E402

PNG = b"\x89PNG\r\n\x1a\n"


def png_size(data: bytes) -> tuple[int, int]:
    assert data.startswith(PNG)
    width, height = struct.unpack(">II", data[16:24])
    return width, height


# --- what the bundle keeps ----------------------------------------------------------------


@pytest.mark.parametrize(
    "dest",
    [
        "PySide6/Qt/lib/libQt6Core.so.6",
        "PySide6/Qt/lib/libQt6Widgets.so.6",
        "PySide6/Qt/lib/libQt6XcbQpa.so.6",
        "PySide6/Qt/lib/libQt6DBus.so.6",
        "PySide6/Qt/lib/libicudata.so.73",
        "PySide6/Qt/plugins/platforms/libqxcb.so",
        "PySide6/Qt/plugins/platforms/libqoffscreen.so",
        "PySide6/plugins/platforms/qwindows.dll",
        "PySide6/Qt/plugins/platforms/libqcocoa.dylib",
        "PySide6/Qt/plugins/imageformats/libqjpeg.so",
        "PySide6/Qt/plugins/imageformats/libqgif.so",
        "PySide6/Qt/plugins/platforminputcontexts/libcomposeplatforminputcontextplugin.so",
        "PySide6/Qt6Widgets.dll",
        "PySide6/QtWidgets.abi3.so",
        "pypdfium2_raw/libpdfium.so",
        "resources/icons/factor-desktop-256.png",
    ],
)
def test_kept(dest: str) -> None:
    assert lean.keep(dest)


@pytest.mark.parametrize(
    "dest",
    [
        "PySide6/Qt/lib/libQt6Quick.so.6",
        "PySide6/Qt/lib/libQt6Qml.so.6",
        "PySide6/Qt/lib/libQt6QmlModels.so.6",
        "PySide6/Qt/lib/libQt6Pdf.so.6",
        "PySide6/Qt/lib/libQt6WaylandClient.so.6",
        "PySide6/Qt/lib/libQt6Network.so.6",
        "PySide6/Qt/lib/libQt6Svg.so.6",
        "PySide6/Qt/lib/QtQuick.framework/Versions/A/QtQuick",
        "PySide6/Qt6Qml.dll",
        "PySide6/Qt/plugins/platforms/libqwayland.so",
        "PySide6/Qt/plugins/platforms/libqeglfs.so",
        "PySide6/Qt/plugins/platforms/libqvnc.so",
        "PySide6/Qt/plugins/imageformats/libqsvg.so",
        "PySide6/Qt/plugins/imageformats/libqpdf.so",
        "PySide6/Qt/plugins/imageformats/libqtiff.so",
        "PySide6/Qt/plugins/imageformats/libqwebp.so",
        "PySide6/Qt/plugins/platforminputcontexts/libqtvirtualkeyboardplugin.so",
        "PySide6/Qt/plugins/platformthemes/libqgtk3.so",
        "PySide6/Qt/plugins/egldeviceintegrations/libqeglfs-kms-integration.so",
        "PySide6/Qt/plugins/wayland-shell-integration/libxdg-shell.so",
        "PySide6/Qt/translations/qtbase_de.qm",
        "PySide6/translations/qtbase_fr.qm",
        "PySide6/Qt/qml/QtQuick/Controls/qmldir",
    ],
)
def test_left_out(dest: str) -> None:
    assert not lean.keep(dest)


def test_filter_counts_what_it_leaves_out() -> None:
    toc = [
        ("PySide6/Qt/lib/libQt6Core.so.6", "/x/libQt6Core.so.6", "BINARY"),
        ("PySide6/Qt/lib/libQt6Quick.so.6", "/x/libQt6Quick.so.6", "BINARY"),
        ("PySide6/Qt/translations/qt_de.qm", "/x/qt_de.qm", "DATA"),
    ]
    kept, dropped = lean.filter_toc(toc)
    assert kept == toc[:1] and dropped == 2
    assert "PySide6.QtQml" in lean.EXCLUDED_MODULES
    assert not {"PySide6.QtCore", "PySide6.QtGui", "PySide6.QtWidgets"} & set(lean.EXCLUDED_MODULES)


# --- icons ----------------------------------------------------------------------------------


def test_the_icons_at_every_size_match_their_svg() -> None:
    icons = ROOT / "resources" / "icons"
    for size in make_icons.PNG_SIZES:
        assert png_size((icons / f"factor-desktop-{size}.png").read_bytes()) == (size, size)
    window_icon = (ROOT / "resources" / "factor-desktop.png").read_bytes()
    assert window_icon == (icons / "factor-desktop-256.png").read_bytes()
    # Regenerating from the SVG gives the committed files.
    done = subprocess.run(
        [sys.executable, str(PACKAGING / "make_icons.py"), "--check"],
        capture_output=True,
        text=True,
        env={**os.environ, "QT_QPA_PLATFORM": "offscreen"},
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_ico_and_icns_hold_each_size_as_png() -> None:
    icons = ROOT / "resources" / "icons"
    ico = (icons / "factor-desktop.ico").read_bytes()
    reserved, kind, count = struct.unpack("<HHH", ico[:6])
    assert (reserved, kind, count) == (0, 1, len(make_icons.ICO_SIZES))
    sizes = []
    for index in range(count):
        width, _h, _c, _r, _p, _b, length, offset = struct.unpack(
            "<BBBBHHII", ico[6 + 16 * index : 22 + 16 * index]
        )
        image = ico[offset : offset + length]
        assert png_size(image)[0] == (width or 256)
        sizes.append(width or 256)
    assert sizes == list(make_icons.ICO_SIZES)

    icns = (icons / "factor-desktop.icns").read_bytes()
    assert icns[:4] == b"icns" and struct.unpack(">I", icns[4:8])[0] == len(icns)
    found, at = {}, 8
    while at < len(icns):
        kind_bytes, length = icns[at : at + 4], struct.unpack(">I", icns[at + 4 : at + 8])[0]
        found[kind_bytes] = png_size(icns[at + 8 : at + length])[0]
        at += length
    assert found == {kind: size for kind, size in make_icons.ICNS_TYPES}


# --- Linux: AppDir and .deb -----------------------------------------------------------------


@pytest.fixture
def bundle(tmp_path: Path) -> Path:
    """A stand-in for dist/FactorDesktop: a program that prints its arguments."""
    folder = tmp_path / "FactorDesktop"
    (folder / "_internal").mkdir(parents=True)
    program = folder / metadata.EXE_NAME
    program.write_text('#!/bin/sh\necho "frozen: $*"\n')
    program.chmod(0o755)
    (folder / "_internal" / "libexample.so").write_bytes(b"\0" * 64)
    return folder


def desktop_entry(path: Path) -> dict[str, str]:
    lines = path.read_text().splitlines()
    assert lines[0] == "[Desktop Entry]"
    return dict(line.split("=", 1) for line in lines[1:] if "=" in line)


def test_the_appdir_is_laid_out_for_appimagetool(bundle: Path, tmp_path: Path) -> None:
    appdir = make_appdir(bundle, tmp_path / "out" / "FactorDesktop.AppDir")
    entry = desktop_entry(appdir / "factor-desktop.desktop")
    assert entry["Type"] == "Application" and entry["Name"] == "Factor Desktop"
    assert entry["Exec"] == metadata.EXE_NAME and entry["Icon"] == "factor-desktop"
    assert entry["Categories"].endswith(";")
    # The icon named by the entry is at the top, as .DirIcon, and in the hicolor theme.
    assert png_size((appdir / "factor-desktop.png").read_bytes()) == (256, 256)
    assert (appdir / ".DirIcon").resolve() == (appdir / "factor-desktop.png").resolve()
    for size in make_icons.PNG_SIZES:
        icon = appdir / f"usr/share/icons/hicolor/{size}x{size}/apps/factor-desktop.png"
        assert png_size(icon.read_bytes()) == (size, size)
    assert (appdir / "usr/share/applications/factor-desktop.desktop").is_file()
    metainfo = appdir / f"usr/share/metainfo/{metadata.APP_ID}.appdata.xml"
    assert f"<id>{metadata.APP_ID}</id>" in metainfo.read_text()
    assert (appdir / "usr/lib/factor-desktop/_internal/libexample.so").is_file()
    assert (appdir / "usr/bin" / metadata.EXE_NAME).resolve() == (
        appdir / "usr/lib/factor-desktop" / metadata.EXE_NAME
    ).resolve()
    # AppRun starts the program with the arguments it was given, from wherever it is called.
    apprun = appdir / "AppRun"
    assert os.access(apprun, os.X_OK)
    done = subprocess.run(
        [str(apprun), "self-test", "--gui"], capture_output=True, text=True, cwd="/", check=True
    )
    assert done.stdout.strip() == "frozen: self-test --gui"
    # Made again, it replaces the old one.
    assert make_appdir(bundle, appdir) == appdir


@pytest.mark.skipif(shutil.which("dpkg-deb") is None, reason="dpkg-deb is not installed")
def test_the_deb_installs_under_opt_with_its_menu_entry(bundle: Path, tmp_path: Path) -> None:
    deb = make_deb(bundle, tmp_path / "work", tmp_path, "x86_64")
    assert deb is not None and deb.name == f"factor-desktop_{metadata.version()}_amd64.deb"
    info = subprocess.run(["dpkg-deb", "--field", str(deb)], capture_output=True, text=True)
    assert "Package: factor-desktop" in info.stdout and "libxcb-cursor0" in info.stdout
    listing = subprocess.run(["dpkg-deb", "-c", str(deb)], capture_output=True, text=True).stdout
    assert "./opt/factor-desktop/FactorDesktop" in listing
    assert "./usr/share/applications/factor-desktop.desktop" in listing
    assert "./usr/share/icons/hicolor/48x48/apps/factor-desktop.png" in listing


# --- signing hooks ----------------------------------------------------------------------------


class Recorder:
    def __init__(self) -> None:
        self.commands: list[list[str]] = []

    def __call__(self, command: Sequence[str]) -> None:
        self.commands.append(list(command))


def test_signing_is_skipped_cleanly_without_a_certificate(tmp_path: Path) -> None:
    never = Recorder()
    results = [
        sign.sign_windows([tmp_path / "FactorDesktop.exe"], env={}, run=never),
        sign.sign_macos(tmp_path / "Factor Desktop.app", env={}, run=never),
        sign.notarize_macos(tmp_path / "x.dmg", env={}, run=never),
    ]
    assert never.commands == []
    assert all(r.skipped and r.line().endswith(")") and "skipped" in r.line() for r in results)
    # The command line says so and succeeds, so an unsigned build carries on.
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("WINDOWS_", "MACOS_"))}
    done = subprocess.run(
        [sys.executable, str(PACKAGING / "sign.py"), "windows", str(tmp_path / "a.exe")],
        capture_output=True,
        text=True,
        env=clean,
        check=False,
    )
    assert done.returncode == 0 and "skipped (no certificate" in done.stdout


def test_a_configured_certificate_without_its_tool_is_an_error(tmp_path: Path) -> None:
    env = {"WINDOWS_CERTIFICATE": str(tmp_path / "firm.pfx"), "PATH": str(tmp_path)}
    with pytest.raises(sign.SigningError, match="signtool is not installed"):
        sign.sign_windows([tmp_path / "FactorDesktop.exe"], env=env)


def test_configured_signing_runs_the_tools_in_order(tmp_path: Path) -> None:
    tools = tmp_path / "bin"
    tools.mkdir()
    for name in ("signtool", "codesign", "xcrun"):
        (tools / name).write_text("#!/bin/sh\n")
        (tools / name).chmod(0o755)
    runner = Recorder()
    env = {
        "PATH": str(tools),
        "WINDOWS_CERTIFICATE": "firm.pfx",
        "WINDOWS_CERTIFICATE_PASSWORD": "pfx-password",
    }
    result = sign.sign_windows([Path("FactorDesktop.exe")], env=env, run=runner)
    assert runner.commands[0][:2] == [str(tools / "signtool"), "sign"]
    assert runner.commands[0][-1] == "FactorDesktop.exe" and "/tr" in runner.commands[0]
    assert "pfx-password" not in result.line()

    app = tmp_path / "Factor Desktop.app"
    (app / "Contents/MacOS").mkdir(parents=True)
    (app / "Contents/Frameworks/PySide6/Qt/lib").mkdir(parents=True)
    main = app / "Contents/MacOS/FactorDesktop"
    main.write_text("")
    main.chmod(0o755)
    deep = app / "Contents/Frameworks/PySide6/Qt/lib/libdeep.dylib"
    deep.write_text("")
    runner = Recorder()
    env = {"PATH": str(tools), "MACOS_SIGN_IDENTITY": "Developer ID Application: Firm (T1)"}
    sign.sign_macos(app, env=env, run=runner)
    signed = [c[-1] for c in runner.commands]
    assert signed == [str(deep), str(main), str(app), str(app)]  # inside out, then verify
    assert all("runtime" in c for c in runner.commands[:3])  # the hardened runtime
    runner = Recorder()
    env |= {"MACOS_NOTARY_PROFILE": "factor-notary"}
    sign.notarize_macos(tmp_path / "x.dmg", env=env, run=runner)
    assert [c[1] for c in runner.commands] == ["notarytool", "stapler"]


# --- Windows and macOS scripts, the workflow ------------------------------------------------


def test_the_inno_setup_script_is_per_user_with_menu_uninstaller_and_association() -> None:
    text = (PACKAGING / "windows" / "factor-desktop.iss").read_text()
    assert "PrivilegesRequired=lowest" in text
    assert "DefaultDirName={localappdata}\\Programs\\" in text
    assert 'Name: "{group}\\{#AppName}"; Filename: "{app}\\{#AppExe}"' in text
    assert "{uninstallexe}" in text
    assert 'Subkey: "Software\\Classes\\.factor.json"' in text and "Tasks: association" in text
    assert f'#define AppExe "{metadata.EXE_NAME}.exe"' in text
    assert "SetupIconFile=..\\..\\resources\\icons\\factor-desktop.ico" in text


def test_the_info_plist_template_fills_in() -> None:
    plist = metadata.info_plist()
    assert plist["CFBundleShortVersionString"] == metadata.bundle_version()
    assert plist["CFBundleDocumentTypes"][0]["LSItemContentTypes"] == [f"{metadata.APP_ID}.import"]
    assert "@" not in str(plist)
    assert "disable-library-validation" in (PACKAGING / "macos" / "entitlements.plist").read_text()


def test_the_workflow_builds_self_tests_and_uploads_on_three_systems() -> None:
    workflow = yaml.safe_load((ROOT / ".github" / "workflows" / "package.yml").read_text())
    job = workflow["jobs"]["package"]
    systems = [entry["os"] for entry in job["strategy"]["matrix"]["include"]]
    assert [s.split("-")[0] for s in systems] == ["ubuntu", "windows", "macos"]
    runs = "\n".join(step.get("run", "") for step in job["steps"])
    assert "python build_installer.py" in runs  # which runs the frozen app's self-test
    uploads = [s for s in job["steps"] if str(s.get("uses", "")).startswith("actions/upload")]
    assert uploads and "dist/*.AppImage" in uploads[0]["with"]["path"]
    # Every local script the workflow calls is in the repository.
    for word in runs.split():
        if word.endswith(".py"):
            assert (ROOT / word).is_file(), word


# --- build_installer helpers ----------------------------------------------------------------


def test_the_zip_keeps_the_folder_and_its_links(bundle: Path, tmp_path: Path) -> None:
    (bundle / "link.so").symlink_to("_internal/libexample.so")
    archive = build_installer.make_zip(bundle, tmp_path / "out.zip")
    with zipfile.ZipFile(archive) as opened:
        names = opened.namelist()
        link = opened.getinfo("FactorDesktop/link.so")
        assert opened.read(link) == b"_internal/libexample.so"
        assert (link.external_attr >> 16) & 0o170000 == 0o120000
    assert "FactorDesktop/FactorDesktop" in names
    assert build_installer.folder_size(bundle) == (bundle / "FactorDesktop").stat().st_size + 64


def test_libraries_nothing_kept_links_to_are_left_out() -> None:
    links = {
        "/s/QtWidgets.abi3.so": ["libQt6Widgets.so.6", "libpyside6.abi3.so.6.11"],
        "/s/libQt6Widgets.so.6": ["libQt6Gui.so.6"],
        "/s/libQt6Gui.so.6": ["libQt6Core.so.6", "libX11.so.6"],
        "/s/libqxcb.so": ["libQt6XcbQpa.so.6"],
        "/s/libqgtk3.so": ["libgtk-3.so.0"],
    }
    toc = [
        ("PySide6/QtWidgets.abi3.so", "/s/QtWidgets.abi3.so", "EXTENSION"),
        ("PySide6/Qt/lib/libQt6Widgets.so.6", "/s/libQt6Widgets.so.6", "BINARY"),
        ("PySide6/Qt/lib/libQt6Gui.so.6", "/s/libQt6Gui.so.6", "BINARY"),
        ("PySide6/Qt/lib/libQt6Core.so.6", "/s/libQt6Core.so.6", "BINARY"),
        ("PySide6/Qt/lib/libQt6XcbQpa.so.6", "/s/libQt6XcbQpa.so.6", "BINARY"),
        ("PySide6/Qt/plugins/platforms/libqxcb.so", "/s/libqxcb.so", "BINARY"),
        ("libpyside6.abi3.so.6.11", "/s/libpyside6.abi3.so.6.11", "BINARY"),
        ("libgtk-3.so.0", "/s/libgtk-3.so.0", "BINARY"),  # the left-out GTK plugin's
        ("libX11.so.6", "/s/libX11.so.6", "BINARY"),  # the host's
        ("libpython3.11.so.1.0", "/s/libpython3.11.so.1.0", "BINARY"),  # the bootloader's
        ("_cffi_backend.cpython-311-x86_64-linux-gnu.so", "/s/_cffi.so", "EXTENSION"),
        ("pypdfium2_raw/libpdfium.so", "/s/libpdfium.so", "BINARY"),  # opened by ctypes
    ]
    kept, dropped = lean.prune_libraries(toc, lambda path: links.get(path, []))
    assert dropped == ["libX11.so.6", "libgtk-3.so.0"]
    assert [e[0] for e in kept] == [e[0] for e in toc if e[0] not in dropped]


def test_links_to_libraries_left_out_go_too() -> None:
    files = [("PySide6/Qt/lib/libQt6Core.so.6", "/s/libQt6Core.so.6", "BINARY")]
    links = [
        ("libQt6Core.so.6", "PySide6/Qt/lib/libQt6Core.so.6", "SYMLINK"),
        ("libQt6OpenGL.so.6", "PySide6/Qt/lib/libQt6OpenGL.so.6", "SYMLINK"),
        ("PySide6/Qt/lib/libQt6Core.so", "libQt6Core.so.6", "SYMLINK"),
        ("PySide6/Qt/lib/libQt6OpenGL.so", "libQt6OpenGL.so.6", "SYMLINK"),
        ("resources/README.md", "/src/README.md", "DATA"),
    ]
    kept = lean.drop_dangling_links(links, files + links)
    assert [e[0] for e in kept] == [
        "libQt6Core.so.6",
        "PySide6/Qt/lib/libQt6Core.so",
        "resources/README.md",
    ]


_PYSIDE = importlib.util.find_spec("PySide6")
QT_LIB = Path(_PYSIDE.origin or "").parent / "Qt" / "lib" if _PYSIDE else ROOT / "missing"
ICU_DATA = sorted(QT_LIB.glob("libicudata.so.*"))
linux_qt = pytest.mark.skipif(
    not sys.platform.startswith("linux") or not ICU_DATA, reason="PySide6's Linux libraries"
)


@linux_qt
def test_only_the_libraries_a_file_names_itself_are_its_dependencies() -> None:
    needed = lean.elf_needed(str(QT_LIB / "libQt6DBus.so.6"))
    assert "libdbus-1.so.3" in needed and "libQt6Core.so.6" in needed
    # What the host's libdbus-1 loads in turn is not the bundle's business (ldd would list it).
    assert not {"libsystemd.so.0", "libgcrypt.so.20", "libicudata.so.73"} & set(needed)
    assert lean.elf_needed(str(ROOT / "README.md")) == []


# --- Linux: Qt's ICU data, cut down ---------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "kept"),
    [
        ("root.res", True),
        ("en_US.res", True),
        ("de.res", True),
        ("cnvalias.icu", True),
        ("ibm-943_P15A-2003.cnv", True),
        ("coll/ucadata.icu", True),
        ("coll/de.res", True),
        ("zone/root.res", True),
        ("zone/en_GB.res", True),
        ("zone/pool.res", True),
        ("zone/de.res", False),
        ("brkitr/cjdict.dict", False),
        ("lang/fr.res", False),
        ("region/en.res", False),
        ("curr/ja.res", False),
        ("unit/en.res", False),
        ("rbnf/en.res", False),
        ("translit/root.res", False),
    ],
)
def test_icu_data_rules(name: str, kept: bool) -> None:
    assert icu_data.keep_item(name) is kept


def _package(items: dict[str, bytes]) -> bytes:
    header = struct.pack(
        "<H2sHHBBBB4s4s4s",
        32,
        b"\xda\x27",
        20,
        0,
        0,
        0,
        2,
        0,
        b"CmnD",
        b"\x01\0\0\0",
        b"\x03\0\0\0",
    )
    header += b"\0" * (32 - len(header))
    return icu_data.write_package(header, [(f"icudt73l/{k}", v) for k, v in items.items()])


def test_the_icu_package_format_reads_back_what_it_wrote() -> None:
    items = {"zone/de.res": b"Z" * 5, "root.res": b"R" * 40, "lang/en.res": b"L", "a.cnv": b"A"}
    data = _package(items)
    header, read = icu_data.read_package(data)
    assert len(header) == 32
    assert [name for name, _ in read] == sorted(f"icudt73l/{k}" for k in items)
    for name, item in read:  # each item 16-byte aligned, followed only by padding
        assert data.index(item) % 16 == 0
        assert item.rstrip(b"\0") == items[name.partition("/")[2]]
    smaller, dropped = icu_data.filter_package(data)
    assert dropped == 2
    assert [name for name, _ in icu_data.read_package(smaller)[1]] == [
        "icudt73l/a.cnv",
        "icudt73l/root.res",
    ]
    with pytest.raises(ValueError, match="not a little-endian ICU"):
        icu_data.read_package(b"\0" * 64)


@linux_qt
@pytest.mark.skipif(shutil.which("cc") is None, reason="needs a C compiler")
def test_qt_reads_the_smaller_icu_data_as_it_read_the_whole(tmp_path: Path) -> None:
    """Qt with the cut-down library (first on the library path) collates, converts, changes
    case and names time zones in English as with the wheel's own."""
    library, note = icu_data.shrink(ICU_DATA[0], tmp_path / "icu")
    assert library is not None, note
    assert library.stat().st_size < ICU_DATA[0].stat().st_size / 2
    symbol = f"icudt{ICU_DATA[0].name.rsplit('.', 1)[-1]}_dat"
    whole = dict(icu_data.read_package(icu_data.exported_data(ICU_DATA[0].read_bytes(), symbol))[1])
    cut = dict(icu_data.read_package(icu_data.exported_data(library.read_bytes(), symbol))[1])
    assert cut and all(whole[name] == item for name, item in cut.items())
    assert set(cut) == {name for name in whole if icu_data.keep_item(name.partition("/")[2])}
    probe = """
from functools import cmp_to_key
from PySide6.QtCore import QCollator, QLocale, QStringDecoder, QTimeZone
with open("/proc/self/maps") as maps:
    print(sorted({line.split()[-1] for line in maps if "libicudata" in line}))
words = ["file10", "File2", "\u00e4pfel", "zebra", "\u00c4rger", "apple", "\u4e2d\u6587"]
for name in ("en_US", "sv_SE", "de_DE", "zh_CN"):
    collator = QCollator(QLocale(name))
    collator.setNumericMode(True)
    print(name, sorted(words, key=cmp_to_key(collator.compare)))
for codec in ("Shift_JIS", "windows-1252", "ISO-8859-2", "GB18030", "Big5", "KOI8-R"):
    print(codec, QStringDecoder(codec).isValid())
print(len(QStringDecoder.availableCodecs()))
print(QLocale("tr_TR").toUpper("istanbul"), QLocale("de_DE").toUpper("stra\u00dfe"))
zone = QTimeZone(b"Europe/Berlin")
for kind in QTimeZone.NameType.LongName, QTimeZone.NameType.ShortName:
    print(zone.displayName(QTimeZone.TimeType.StandardTime, kind, QLocale("en_US")))
"""
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}

    def run(extra: dict[str, str]) -> str:
        done = subprocess.run(
            [sys.executable, "-c", probe],
            env={**env, **extra},
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        )
        return done.stdout

    loaded_before, before = run({}).split("\n", 1)
    loaded_after, after = run({"LD_LIBRARY_PATH": str(library.parent)}).split("\n", 1)
    assert loaded_before == repr([str(ICU_DATA[0].resolve())])
    assert loaded_after == repr([str(library.resolve())])
    assert "sv_SE ['apple', 'File2', 'file10', 'zebra', '\u00e4pfel'" in before
    assert "Shift_JIS True" in before and "Central European Standard Time" in before
    assert after == before
