"""Names and versions every package shares, read from one place.

Used by the PyInstaller spec, build_installer.py and the per-OS steps (the Info.plist, the Inno
Setup defines, the .desktop file).
"""

from __future__ import annotations

import plistlib
import re
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
APP_NAME = "Factor Desktop"
APP_ID = "com.factor.FactorDesktop"  # reverse-DNS id: macOS bundle id, AppStream id
EXE_NAME = "FactorDesktop"
PUBLISHER = "Factor"
IMPORT_SUFFIX = ".factor.json"  # Factor export files, opened with the import dialog


def version() -> str:
    text = (ROOT / "factor_desktop" / "__init__.py").read_text(encoding="utf-8")
    found = re.search(r"""^__version__\s*=\s*["']([^"']+)["']""", text, re.M)
    if found is None:
        raise RuntimeError("factor_desktop/__init__.py has no __version__")
    return found.group(1)


def bundle_version() -> str:
    """The version as Windows and macOS want it: numbers only, at most four of them."""
    numbers = re.findall(r"\d+", version())[:4]
    return ".".join(numbers or ["0"])


def info_plist() -> dict[str, Any]:
    """Keys of the macOS Info.plist beyond what PyInstaller writes itself, from the template
    packaging/macos/Info.plist."""
    template = (ROOT / "packaging" / "macos" / "Info.plist").read_text(encoding="utf-8")
    text = template.replace("@VERSION@", bundle_version()).replace("@APP_ID@", APP_ID)
    return dict(plistlib.loads(text.encode("utf-8")))


def windows_version_info() -> str:
    """The version resource of the Windows programs (PyInstaller's `--version-file` format)."""
    numbers = [int(n) for n in bundle_version().split(".")]
    numbers += [0] * (4 - len(numbers))
    four = tuple(numbers)
    return f"""VSVersionInfo(
  ffi=FixedFileInfo(filevers={four}, prodvers={four}, mask=0x3f, flags=0x0, OS=0x40004,
                    fileType=0x1, subtype=0x0, date=(0, 0)),
  kids=[
    StringFileInfo([StringTable('040904B0', [
      StringStruct('CompanyName', '{PUBLISHER}'),
      StringStruct('FileDescription', '{APP_NAME}'),
      StringStruct('FileVersion', '{version()}'),
      StringStruct('InternalName', '{EXE_NAME}'),
      StringStruct('OriginalFilename', '{EXE_NAME}.exe'),
      StringStruct('ProductName', '{APP_NAME}'),
      StringStruct('ProductVersion', '{version()}')])]),
    VarFileInfo([VarStruct('Translation', [1033, 1200])])
  ]
)
"""
