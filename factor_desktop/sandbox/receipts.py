"""Receipt files for the demo company, generated at seed time: a PNG and a PDF.

The PNG is drawn pixel by pixel with a small 5x7 bitmap font and written with zlib and struct;
the PDF (one page or more) is written by hand, with a correct cross-reference table.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Sequence

# 5x7 glyphs, one string of five "#"/"." cells per row.
_FONT: dict[str, tuple[str, ...]] = {
    "A": (".###.", "#...#", "#...#", "#####", "#...#", "#...#", "#...#"),
    "B": ("####.", "#...#", "#...#", "####.", "#...#", "#...#", "####."),
    "C": (".###.", "#...#", "#....", "#....", "#....", "#...#", ".###."),
    "D": ("####.", "#...#", "#...#", "#...#", "#...#", "#...#", "####."),
    "E": ("#####", "#....", "#....", "####.", "#....", "#....", "#####"),
    "F": ("#####", "#....", "#....", "####.", "#....", "#....", "#...."),
    "G": (".###.", "#...#", "#....", "#.###", "#...#", "#...#", ".####"),
    "H": ("#...#", "#...#", "#...#", "#####", "#...#", "#...#", "#...#"),
    "I": (".###.", "..#..", "..#..", "..#..", "..#..", "..#..", ".###."),
    "J": ("..###", "...#.", "...#.", "...#.", "...#.", "#..#.", ".##.."),
    "K": ("#...#", "#..#.", "#.#..", "##...", "#.#..", "#..#.", "#...#"),
    "L": ("#....", "#....", "#....", "#....", "#....", "#....", "#####"),
    "M": ("#...#", "##.##", "#.#.#", "#.#.#", "#...#", "#...#", "#...#"),
    "N": ("#...#", "#...#", "##..#", "#.#.#", "#..##", "#...#", "#...#"),
    "O": (".###.", "#...#", "#...#", "#...#", "#...#", "#...#", ".###."),
    "P": ("####.", "#...#", "#...#", "####.", "#....", "#....", "#...."),
    "Q": (".###.", "#...#", "#...#", "#...#", "#.#.#", "#..#.", ".##.#"),
    "R": ("####.", "#...#", "#...#", "####.", "#.#..", "#..#.", "#...#"),
    "S": (".####", "#....", "#....", ".###.", "....#", "....#", "####."),
    "T": ("#####", "..#..", "..#..", "..#..", "..#..", "..#..", "..#.."),
    "U": ("#...#", "#...#", "#...#", "#...#", "#...#", "#...#", ".###."),
    "V": ("#...#", "#...#", "#...#", "#...#", "#...#", ".#.#.", "..#.."),
    "W": ("#...#", "#...#", "#...#", "#.#.#", "#.#.#", "#.#.#", ".#.#."),
    "X": ("#...#", "#...#", ".#.#.", "..#..", ".#.#.", "#...#", "#...#"),
    "Y": ("#...#", "#...#", ".#.#.", "..#..", "..#..", "..#..", "..#.."),
    "Z": ("#####", "....#", "...#.", "..#..", ".#...", "#....", "#####"),
    "0": (".###.", "#...#", "#..##", "#.#.#", "##..#", "#...#", ".###."),
    "1": ("..#..", ".##..", "..#..", "..#..", "..#..", "..#..", ".###."),
    "2": (".###.", "#...#", "....#", "...#.", "..#..", ".#...", "#####"),
    "3": ("#####", "...#.", "..#..", "...#.", "....#", "#...#", ".###."),
    "4": ("...#.", "..##.", ".#.#.", "#..#.", "#####", "...#.", "...#."),
    "5": ("#####", "#....", "####.", "....#", "....#", "#...#", ".###."),
    "6": ("..##.", ".#...", "#....", "####.", "#...#", "#...#", ".###."),
    "7": ("#####", "....#", "...#.", "..#..", ".#...", ".#...", ".#..."),
    "8": (".###.", "#...#", "#...#", ".###.", "#...#", "#...#", ".###."),
    "9": (".###.", "#...#", "#...#", ".####", "....#", "...#.", ".##.."),
    " ": (".....",) * 7,
    ".": (".....", ".....", ".....", ".....", ".....", ".##..", ".##.."),
    ",": (".....", ".....", ".....", ".....", ".##..", "..#..", ".#..."),
    ":": (".....", ".##..", ".##..", ".....", ".##..", ".##..", "....."),
    "-": (".....", ".....", ".....", "#####", ".....", ".....", "....."),
    "/": ("....#", "....#", "...#.", "..#..", ".#...", "#....", "#...."),
    "$": ("..#..", ".####", "#.#..", ".###.", "..#.#", "####.", "..#.."),
    "#": (".#.#.", ".#.#.", "#####", ".#.#.", "#####", ".#.#.", ".#.#."),
    "&": (".##..", "#..#.", "#.#..", ".#...", "#.#.#", "#..#.", ".##.#"),
    "'": ("..#..", "..#..", ".#...", ".....", ".....", ".....", "....."),
}

PAPER = (250, 248, 240)
INK = (40, 40, 48)
ACCENT = (44, 160, 28)


class _Canvas:
    def __init__(self, width: int, height: int) -> None:
        self.width = width
        self.height = height
        self.pixels = [bytearray(bytes(PAPER) * width) for _ in range(height)]

    def fill(self, x: int, y: int, w: int, h: int, color: tuple[int, int, int]) -> None:
        for row in range(max(0, y), min(self.height, y + h)):
            line = self.pixels[row]
            for col in range(max(0, x), min(self.width, x + w)):
                line[col * 3 : col * 3 + 3] = bytes(color)

    def text(
        self, x: int, y: int, value: str, scale: int = 2, color: tuple[int, int, int] = INK
    ) -> None:
        for index, char in enumerate(value.upper()):
            glyph = _FONT.get(char, _FONT[" "])
            for row, cells in enumerate(glyph):
                for col, cell in enumerate(cells):
                    if cell == "#":
                        self.fill(
                            x + (index * 6 + col) * scale, y + row * scale, scale, scale, color
                        )

    def png(self) -> bytes:
        raw = b"".join(b"\x00" + bytes(line) for line in self.pixels)
        header = struct.pack(">IIBBBBB", self.width, self.height, 8, 2, 0, 0, 0)
        return (
            b"\x89PNG\r\n\x1a\n"
            + _chunk(b"IHDR", header)
            + _chunk(b"IDAT", zlib.compress(raw, 9))
            + _chunk(b"IEND", b"")
        )


def _chunk(kind: bytes, data: bytes) -> bytes:
    crc = zlib.crc32(kind + data) & 0xFFFFFFFF
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)


def receipt_png(merchant: str, date_text: str, items: Sequence[tuple[str, float]]) -> bytes:
    """A till receipt: merchant header, dated item lines, a dashed rule and the total."""
    width = 300
    height = 150 + 22 * len(items) + 90
    canvas = _Canvas(width, height)
    canvas.fill(0, 0, width, 6, ACCENT)
    canvas.text(16, 22, merchant[:22], scale=2)
    canvas.text(16, 48, date_text, scale=1)
    canvas.text(16, 62, "RECEIPT", scale=1)
    y = 90
    for label, amount in items:
        canvas.text(16, y, label[:24], scale=1)
        price = f"${amount:,.2f}"
        canvas.text(width - 16 - len(price) * 6, y, price, scale=1)
        y += 22
    for x in range(16, width - 16, 8):
        canvas.fill(x, y, 5, 2, INK)
    y += 14
    total = f"${sum(a for _, a in items):,.2f}"
    canvas.text(16, y, "TOTAL", scale=2)
    canvas.text(width - 16 - len(total) * 12, y, total, scale=2)
    canvas.text(16, y + 34, "THANK YOU", scale=1)
    canvas.fill(0, height - 6, width, 6, ACCENT)
    return canvas.png()


def _pdf_text(value: str) -> str:
    encoded = value.encode("cp1252", "replace").decode("latin-1")
    return encoded.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def _pdf_page_stream(title: str, lines: Sequence[str], total_line: str | None) -> bytes:
    """One page's drawing: a green band, the title in bold, the lines, the total in bold."""
    drawing = [
        "q 0.17 0.63 0.11 rg 0 772 612 20 re f Q",
        "q 0.8 0.8 0.8 RG 1 w 72 729 m 540 729 l S Q",
        "BT",
        "/F2 18 Tf",
        "72 740 Td",
        f"({_pdf_text(title)}) Tj",
        "/F1 11 Tf",
        "0 -22 Td",
    ]
    for line in lines:
        drawing += ["0 -18 Td", f"({_pdf_text(line)}) Tj"]
    if total_line:
        drawing += ["/F2 12 Tf", "0 -30 Td", f"({_pdf_text(total_line)}) Tj"]
    drawing.append("ET")
    return "\n".join(drawing).encode("latin-1")


def pdf_document(pages: Sequence[bytes]) -> bytes:
    """A PDF of US Letter pages drawn by the given content streams, in Helvetica (F1) and
    Helvetica-Bold (F2), with a correct cross-reference table."""
    fonts = [
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica-Bold /Encoding /WinAnsiEncoding >>",
    ]
    # Objects: 1 catalog, 2 page tree, 3-4 fonts, then a page and its content per page.
    kids = " ".join(f"{5 + 2 * n} 0 R" for n in range(len(pages)))
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        f"<< /Type /Pages /Kids [{kids}] /Count {len(pages)} >>".encode(),
        *fonts,
    ]
    for n, stream in enumerate(pages):
        content = 6 + 2 * n
        objects.append(
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents {content} 0 R "
            "/Resources << /Font << /F1 3 0 R /F2 4 0 R >> >> >>".encode()
        )
        objects.append(
            b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream"
        )
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets: list[int] = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n".encode()
    out += b"0000000000 65535 f \n"
    for offset in offsets:
        out += f"{offset:010d} 00000 n \n".encode()
    out += (
        f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n"
    ).encode()
    return bytes(out)


def receipt_pdf(
    title: str,
    lines: Sequence[str],
    total_line: str,
    more_pages: Sequence[tuple[str, Sequence[str]]] = (),
) -> bytes:
    """A PDF invoice/receipt: the first page with the lines and the total, then one page per
    (title, lines) in `more_pages` (terms, remittance details, a time sheet)."""
    streams = [_pdf_page_stream(title, lines, total_line)]
    streams += [
        _pdf_page_stream(page_title, page_lines, None) for page_title, page_lines in more_pages
    ]
    return pdf_document(streams)
