"""Qt's ICU data library, cut to the parts QtCore reads (Linux).

PySide6's Linux wheel carries ICU, and ICU's data library (libicudata.so.NN, 31 MB) holds
every table ICU has. QtCore calls ICU for four things only: collation (QCollator, used by the
file dialog's sorting), legacy text encodings by name (QStringConverter), upper and lower case
by locale, and time zone names (QTimeZone::displayName). Everything else in the data is read
by ICU services Qt never calls: word and line breaking (Qt breaks text itself), the names of
languages, regions, currencies and units (Qt has its own CLDR tables), spelled-out numbers and
transliteration. Those trees are left out, and time zone names are kept in English only (the
app is in English; another language's names fall back to "GMT+01:00" style names).

The data is one "common data" package (ICU's .dat format: a header, a table of contents of
named items sorted by name, the items 16-byte aligned) exported as the symbol `icudtNN_dat`.
`shrink` reads it from the wheel's library, writes the package without the unused items and
assembles a new library exporting the same symbol, with the C compiler (`cc`). The result
replaces the wheel's file in the bundle only; without a compiler the bundle keeps the original.
Plain Python, so the rules and the package format are tested on any machine.
"""

from __future__ import annotations

import re
import shutil
import struct
import subprocess
from collections.abc import Callable
from pathlib import Path

ICU_DATA_LIBRARY = re.compile(r"^libicudata\.so\.(\d+)$")
# Trees of the data that no ICU call of QtCore reads.
DROPPED_TREES = frozenset({"brkitr", "curr", "lang", "rbnf", "region", "translit", "unit"})
# In the time zone names tree: the shared files, root (the "GMT+01:00" fallbacks) and English.
_KEPT_ZONE = re.compile(r"^(?:pool|res_index|tzdbNames|root|en(?:_\w+)?)\.res$")
_ALIGN = 16


def keep_item(name: str) -> bool:
    """Whether the data item `name` (its path in the package, e.g. `zone/de.res`) stays."""
    tree, _, rest = name.rpartition("/")
    if tree in DROPPED_TREES:
        return False
    if tree == "zone":
        return bool(_KEPT_ZONE.match(rest))
    return True


def read_package(data: bytes) -> tuple[bytes, list[tuple[str, bytes]]]:
    """The header and the (name, item) pairs of an ICU common data package (little-endian)."""
    header_size, magic = struct.unpack_from("<H2s", data, 0)
    if magic != b"\xda\x27" or data[12:16] != b"CmnD" or data[8] != 0:
        raise ValueError("not a little-endian ICU common data package")
    (count,) = struct.unpack_from("<I", data, header_size)
    entries = [struct.unpack_from("<II", data, header_size + 4 + 8 * i) for i in range(count)]
    items = []
    for i, (name_offset, data_offset) in enumerate(entries):
        start = header_size + name_offset
        name = data[start : data.index(b"\0", start)].decode("ascii")
        end = entries[i + 1][1] if i + 1 < count else len(data) - header_size
        items.append((name, data[header_size + data_offset : header_size + end]))
    return data[:header_size], items


def write_package(header: bytes, items: list[tuple[str, bytes]]) -> bytes:
    """The package holding `items` (full names, as `read_package` gives them), by name."""
    items = sorted(items)
    names = b"".join(name.encode("ascii") + b"\0" for name, _ in items)
    table_size = 4 + 8 * len(items)
    offset = -(-(table_size + len(names)) // _ALIGN) * _ALIGN
    table = [struct.pack("<I", len(items))]
    body = []
    name_offset = table_size
    for name, item in items:
        table.append(struct.pack("<II", name_offset, offset))
        name_offset += len(name) + 1
        padded = item + b"\0" * (-len(item) % _ALIGN)
        body.append(padded)
        offset += len(padded)
    toc = b"".join(table) + names
    toc += b"\0" * (-len(toc) % _ALIGN)
    return header + toc + b"".join(body)


def filter_package(data: bytes, keep: Callable[[str], bool] = keep_item) -> tuple[bytes, int]:
    """The package without the items `keep` refuses (judged without the `icudtNNl/` prefix),
    and how many were left out."""
    header, items = read_package(data)
    kept = [(name, item) for name, item in items if keep(name.partition("/")[2])]
    return write_package(header, kept), len(items) - len(kept)


def exported_data(library: bytes, symbol: str) -> bytes:
    """The bytes of `symbol` in an ELF64 little-endian shared library."""
    if library[:6] != b"\x7fELF\x02\x01":
        raise ValueError("not a 64-bit little-endian ELF file")
    (section_table,) = struct.unpack_from("<Q", library, 0x28)
    entry_size, count = struct.unpack_from("<HH", library, 0x3A)
    # Each section: name, type, flags, address, offset, size, link, info, align, entry size.
    sections = [
        struct.unpack_from("<IIQQQQIIQQ", library, section_table + i * entry_size)
        for i in range(count)
    ]
    for section in (s for s in sections if s[1] == 11):  # SHT_DYNSYM
        strings = sections[section[6]][4]
        for offset in range(section[4], section[4] + section[5], 24):
            name_at, _info, _other, index, value, size = struct.unpack_from(
                "<IBBHQQ", library, offset
            )
            start = strings + name_at
            if library[start : library.index(b"\0", start)] == symbol.encode():
                holder = sections[index]
                begin = holder[4] + value - holder[3]
                return library[begin : begin + size]
    raise ValueError(f"{symbol} is not exported")


_ASSEMBLY = """\
    .section .rodata
    .balign 16
    .globl {symbol}
    .type {symbol}, @object
{symbol}:
    .incbin "{data}"
    .size {symbol}, . - {symbol}
    .section .note.GNU-stack,"",@progbits
"""


def shrink(library: Path, workdir: Path) -> tuple[Path | None, str]:
    """A smaller copy of the ICU data library `library`, made in `workdir`, and a line saying
    what was done; None (and why) when it cannot be made here."""
    match = ICU_DATA_LIBRARY.match(library.name)
    if match is None:
        return None, f"{library.name} is not an ICU data library"
    compiler = shutil.which("cc") or shutil.which("gcc")
    if compiler is None:
        return None, "no C compiler (cc): ICU's data is bundled whole"
    symbol = f"icudt{match.group(1)}_dat"
    original = exported_data(library.read_bytes(), symbol)
    smaller, dropped = filter_package(original)
    workdir.mkdir(parents=True, exist_ok=True)
    data = workdir / f"icudt{match.group(1)}l.dat"
    data.write_bytes(smaller)
    source = workdir / "icudata.S"
    source.write_text(_ASSEMBLY.format(symbol=symbol, data=data.resolve()), encoding="ascii")
    target = workdir / library.name
    link = [compiler, "-shared", "-nostdlib", f"-Wl,-soname,{library.name}"]
    subprocess.run([*link, "-o", str(target), str(source)], check=True)
    mb = 1024 * 1024
    return target, (
        f"{dropped} unused data items left out, {len(original) / mb:.1f} MB -> "
        f"{len(smaller) / mb:.1f} MB"
    )


def shrink_in_toc(
    entries: list[tuple[str, str, str]], workdir: Path
) -> tuple[list[tuple[str, str, str]], str]:
    """PyInstaller's binaries with the ICU data library replaced by its smaller copy."""
    result = []
    note = "no ICU data library in the bundle"
    for dest, source, kind in entries:
        if ICU_DATA_LIBRARY.match(dest.replace("\\", "/").rsplit("/", 1)[-1]):
            smaller, note = shrink(Path(source), workdir)
            if smaller is not None:
                source = str(smaller)
        result.append((dest, source, kind))
    return result, note
