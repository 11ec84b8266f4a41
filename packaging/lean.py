"""What the bundle leaves out: the Qt modules, plugins and data files the app never loads.

The app uses QtCore, QtGui and QtWidgets only (PDF receipts are drawn by PDFium, not QtPdf), so
PyInstaller's Qt hooks would otherwise carry plugins that pull in Qt Quick, QML, Wayland
compositors, EGL device integrations, a virtual keyboard and image formats no receipt uses,
plus every Qt translation (the app is in English only). `keep(dest)` is applied to each file
PyInstaller collected, by its path inside the bundle; `EXCLUDED_MODULES` keeps Python modules
out of the analysis altogether. Plain Python, so the rules are tested on any machine.
"""

from __future__ import annotations

import posixpath
import re
import struct
from collections.abc import Callable, Iterable
from pathlib import Path

_UNUSED_QT = [
    "Qt3DAnimation",
    "Qt3DCore",
    "Qt3DExtras",
    "Qt3DInput",
    "Qt3DLogic",
    "Qt3DRender",
    "QtBluetooth",
    "QtCharts",
    "QtConcurrent",
    "QtDataVisualization",
    "QtDesigner",
    "QtGraphs",
    "QtGraphsWidgets",
    "QtHelp",
    "QtHttpServer",
    "QtLocation",
    "QtMultimedia",
    "QtMultimediaWidgets",
    "QtNetwork",
    "QtNetworkAuth",
    "QtNfc",
    "QtOpenGL",
    "QtOpenGLWidgets",
    "QtPdf",
    "QtPdfWidgets",
    "QtPositioning",
    "QtPrintSupport",
    "QtQml",
    "QtQuick",
    "QtQuick3D",
    "QtQuickControls2",
    "QtQuickTest",
    "QtQuickWidgets",
    "QtRemoteObjects",
    "QtScxml",
    "QtSensors",
    "QtSerialBus",
    "QtSerialPort",
    "QtSpatialAudio",
    "QtSql",
    "QtStateMachine",
    "QtSvg",
    "QtSvgWidgets",
    "QtTest",
    "QtTextToSpeech",
    "QtUiTools",
    "QtWebChannel",
    "QtWebEngineCore",
    "QtWebEngineQuick",
    "QtWebEngineWidgets",
    "QtWebSockets",
    "QtWebView",
    "QtXml",
    "QtAxContainer",
]

# Python modules the app never imports (and that would drag in large parts of Qt or Tk).
EXCLUDED_MODULES: tuple[str, ...] = (
    "PyQt5",
    "PyQt6",
    "tkinter",
    "pygments",  # only for mako's error pages, which the app never shows
    "readline",  # the interactive prompt only; it brings libreadline and libtinfo
    "_tkinter",
    "idlelib",
    "lib2to3",
    "ensurepip",
    "pydoc_data",
    "test",
    "IPython",
    "matplotlib",
    "numpy",
    "PIL",
    "pytest",
    "hypothesis",
    # Qt modules outside QtCore, QtGui and QtWidgets.
    *(f"PySide6.{name}" for name in _UNUSED_QT),
)

# Plugins kept, by folder: everything else under plugins/ is left out.
KEPT_PLUGINS: dict[str, tuple[str, ...]] = {
    # The window system of each platform, and offscreen for the self-test on a server.
    "platforms": ("qxcb", "qwindows", "qcocoa", "qoffscreen", "qdirect2d"),
    # Receipts are PNG (built into QtGui), JPEG or GIF; Windows reads .ico for its own icon.
    "imageformats": ("qjpeg", "qgif", "qico"),
    # Typing accented characters on Linux desktops (compose key, IBus).
    "platforminputcontexts": (
        "composeplatforminputcontextplugin",
        "ibusplatforminputcontextplugin",
    ),
    # File dialogs and colours of the desktop through its portal; the native macOS and Windows
    # styles.
    "platformthemes": ("qxdgdesktopportal",),
    "styles": ("qmodernwindowsstyle", "qwindowsvistastyle", "qmacstyle"),
}

_PLUGIN = re.compile(r"(?:^|/)plugins/([^/]+)/(?:lib)?([^/.]+)[^/]*$")
# Qt libraries that only the left-out plugins and modules load.
_DROPPED_LIBRARIES = re.compile(
    r"(?:^|/)(?:lib)?Qt6?("
    r"Qml\w*|Quick\w*|Labs\w*|Lottie\w*|Pdf\w*|Wayland\w*|Wl\w*|EglFS\w*|EglFs\w*|"
    r"VirtualKeyboard\w*|3D\w*|Multimedia\w*|WebEngine\w*|WebChannel\w*|WebSockets\w*|"
    r"Designer\w*|Help|UiTools|Test|Sql|Svg\w*|OpenGLWidgets|Charts\w*|Graphs\w*|"
    r"DataVisualization\w*|Positioning\w*|Location\w*|Network\w*"
    r")(?:\.|_|\d|\b)"
)
_DROPPED_DATA = re.compile(r"(?:^|/)(?:translations|qml|metatypes|resources/qtwebengine)(?:/|$)")


def keep(dest: str) -> bool:
    """Whether the file collected for `dest` (its path inside the bundle) stays in."""
    path = dest.replace("\\", "/")
    if _DROPPED_DATA.search(path) and "PySide6" in path:
        return False
    plugin = _PLUGIN.search(path)
    if plugin is not None and "PySide6" in path:
        folder, name = plugin.groups()
        return name in KEPT_PLUGINS.get(folder, ())
    name = path.rsplit("/", 1)[-1]
    return not _DROPPED_LIBRARIES.match(name)


def filter_toc(entries: list[tuple[str, str, str]]) -> tuple[list[tuple[str, str, str]], int]:
    """`entries` without what `keep` refuses, and how many were left out."""
    kept = [entry for entry in entries if keep(entry[0])]
    return kept, len(entries) - len(kept)


# Libraries every Linux desktop has and that must match the host's own (its X server, fonts
# and D-Bus daemon): taken from the system, as AppImage's exclude list asks, and declared as the
# .deb's dependencies. With libdbus-1 go the libraries only it needs (systemd's and gcrypt).
HOST_LIBRARIES = frozenset(
    {
        "libX11.so.6",
        "libX11-xcb.so.1",
        "libxcb.so.1",
        "libfontconfig.so.1",
        "libfreetype.so.6",
        "libexpat.so.1",
        "libdbus-1.so.3",
        "libGL.so.1",
        "libEGL.so.1",
        "libOpenGL.so.0",
        "libGLX.so.0",
        "libGLdispatch.so.0",
    }
)
_EXTENSION = re.compile(r"\.(?:cpython-[^/]*|abi3)\.so$|\.pyd$")


def _prunable(dest: str) -> bool:
    """Shared libraries collected as dependencies (not loaded by name at run time): those at
    the bundle's top level and Qt's own, except the Python library the bootloader opens."""
    path = dest.replace("\\", "/")
    name = path.rsplit("/", 1)[-1]
    if name.startswith("libpython") or ".so" not in name or _EXTENSION.search(name):
        return False
    return "/" not in path or path.startswith("PySide6/Qt/lib/")


def prune_libraries(
    entries: list[tuple[str, str, str]], imports_of: Callable[[str], Iterable[str]]
) -> tuple[list[tuple[str, str, str]], list[str]]:
    """Leave out the shared libraries no kept file links to (Linux).

    PyInstaller collected the libraries of every plugin before `keep` left plugins out (the
    GTK theme plugin alone brings GTK, Cairo, Pango and ATK); this walks the link-time
    dependencies from what stays (extension modules, plugins, libraries loaded with ctypes) and
    keeps only the libraries reached. `imports_of(path)` names the libraries a file links to.
    Returns the kept entries and the names left out.
    """
    libraries = {e[0].replace("\\", "/").rsplit("/", 1)[-1]: e for e in entries if _prunable(e[0])}
    reached: set[str] = set()
    pending = [e for e in entries if not _prunable(e[0])]
    while pending:
        entry = pending.pop()
        for needed in imports_of(entry[1]):
            name = needed.rsplit("/", 1)[-1]
            if name in libraries and name not in reached and name not in HOST_LIBRARIES:
                reached.add(name)
                pending.append(libraries[name])
    dropped = sorted(set(libraries) - reached)
    kept = [
        e
        for e in entries
        if not _prunable(e[0]) or e[0].replace("\\", "/").rsplit("/", 1)[-1] in reached
    ]
    return kept, dropped


def drop_dangling_links(
    links: list[tuple[str, str, str]], files: list[tuple[str, str, str]]
) -> list[tuple[str, str, str]]:
    """`links` without the symbolic links to files no longer in `files`.

    PyInstaller lays links at the top to Qt's libraries (as data entries); a link to a library
    left out would point at nothing.
    """
    present = {dest.replace("\\", "/") for dest, _source, _kind in files}

    def target(dest: str, link: str) -> str:
        folder = posixpath.dirname(dest.replace("\\", "/"))
        return posixpath.normpath(posixpath.join(folder, link.replace("\\", "/")))

    return [e for e in links if e[2] != "SYMLINK" or target(e[0], e[1]) in present]


def elf_needed(path: str) -> list[str]:
    """The libraries an ELF file names as its own dependencies (DT_NEEDED), in order.

    Only the direct ones: `ldd` (what PyInstaller's `get_imports` runs on Linux) lists every
    library loaded, including what the host's libraries bring (libdbus-1 brings systemd's
    library and gcrypt, the X11 libraries bring libXau and libbsd), which would keep those in
    although the host provides them. Files that are not 64-bit little-endian ELF name none.
    """
    data = Path(path).read_bytes()
    if data[:6] != b"\x7fELF\x02\x01":
        return []
    (section_table,) = struct.unpack_from("<Q", data, 0x28)
    entry_size, count = struct.unpack_from("<HH", data, 0x3A)
    # Each section: name, type, flags, address, offset, size, link, info, align, entry size.
    sections = [
        struct.unpack_from("<IIQQQQIIQQ", data, section_table + i * entry_size)
        for i in range(count)
    ]
    names = []
    for section in (s for s in sections if s[1] == 6):  # SHT_DYNAMIC
        strings = sections[section[6]][4]
        for offset in range(section[4], section[4] + section[5], 16):
            tag, value = struct.unpack_from("<qQ", data, offset)
            if tag == 1:  # DT_NEEDED
                start = strings + value
                names.append(data[start : data.index(b"\0", start)].decode())
    return names
