"""The window's meaning colours (error, warning, muted) for a light or a dark palette.

Qt's palette has no role for "error" or "warning", so each has a light-theme and a dark-theme
shade, both chosen to read at 4.5:1 or better (WCAG AA for normal text) against the window and
base backgrounds of the usual palettes; `follow_palette` picks the shades that suit the
application's palette. The colour objects are updated in place, so every model and label that
holds them paints with the right shade after a palette change.
"""

from __future__ import annotations

from PySide6.QtGui import QColor, QGuiApplication, QPalette

# (light palette, dark palette)
_SHADES: dict[str, tuple[str, str]] = {
    "error": ("#a8001e", "#ff9e9e"),
    "warning": ("#8a4500", "#f0b050"),
    "muted": ("#5f5f5f", "#b8b8b8"),
}

ERROR_COLOR = QColor(_SHADES["error"][0])
WARNING_COLOR = QColor(_SHADES["warning"][0])
MUTED_COLOR = QColor(_SHADES["muted"][0])

_COLORS = {"error": ERROR_COLOR, "warning": WARNING_COLOR, "muted": MUTED_COLOR}

# Banners: (background, border, text) per kind, light then dark.
_BANNER_SHADES: dict[str, tuple[tuple[str, str, str], tuple[str, str, str]]] = {
    "info": (("#e8f1fb", "#a9c8ec", "#0b3a6a"), ("#1d3147", "#3f6a99", "#d6e7fa")),
    "warning": (("#fff4e0", "#f0c36d", "#5c3b00"), ("#3d2e12", "#9a7a2e", "#fbe3b0")),
    "error": (("#fdecea", "#f1a9a0", "#7a1010"), ("#46201f", "#a0524b", "#ffd9d5")),
}


def relative_luminance(color: QColor) -> float:
    """WCAG 2 relative luminance of an sRGB colour."""

    def channel(value: float) -> float:
        return value / 12.92 if value <= 0.04045 else ((value + 0.055) / 1.055) ** 2.4

    return (
        0.2126 * channel(color.redF())
        + 0.7152 * channel(color.greenF())
        + 0.0722 * channel(color.blueF())
    )


def contrast_ratio(first: QColor, second: QColor) -> float:
    """WCAG 2 contrast ratio, from 1 (none) to 21 (black on white)."""
    a, b = relative_luminance(first), relative_luminance(second)
    light, dark = max(a, b), min(a, b)
    return (light + 0.05) / (dark + 0.05)


def is_dark(palette: QPalette) -> bool:
    window = palette.color(QPalette.ColorRole.Window)
    return relative_luminance(window) < relative_luminance(
        palette.color(QPalette.ColorRole.WindowText)
    )


def shade(kind: str, palette: QPalette) -> QColor:
    """The shade of `kind` ("error", "warning", "muted") that reads on this palette."""
    light, dark = _SHADES[kind]
    return QColor(dark if is_dark(palette) else light)


def banner_colors(kind: str, palette: QPalette | None = None) -> tuple[str, str, str]:
    """A banner's background, border and text colour for this palette."""
    palette = palette if palette is not None else QGuiApplication.palette()
    light, dark = _BANNER_SHADES[kind]
    return dark if is_dark(palette) else light


def follow_palette(palette: QPalette | None = None) -> bool:
    """Set the shared colours to the shades for `palette` (the application's by default).

    Returns True when a colour changed.
    """
    palette = palette if palette is not None else QGuiApplication.palette()
    changed = False
    for kind, color in _COLORS.items():
        wanted = shade(kind, palette)
        if color != wanted:
            color.setRgb(wanted.rgb())
            changed = True
    return changed


def css(color: QColor | None) -> str:
    """A style sheet that paints a label's text in `color` (none: the palette's own)."""
    return f"color: {color.name()};" if color is not None else ""
