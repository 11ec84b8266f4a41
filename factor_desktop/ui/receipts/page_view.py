"""The page part of the receipts viewer: one rendered page on screen, fitted or zoomed.

Scaling happens here, on the GUI thread, from an image drawn at most `MAX_SIDE` pixels a side,
so that it stays cheap; `ZOOM_*` bound how far it goes.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, QSize, Qt, QTimer, Slot
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import QLabel, QScrollArea, QToolButton, QWidget

from factor_desktop.ui.receipts.pages import ReceiptPage

ZOOM_STEP = 1.25
ZOOM_MIN = 0.1
ZOOM_MAX = 8.0
# Zooming in stops where the page on screen would have more than twice the rendered pixels a
# side (nothing sharper to see, and a bounded pixmap), or this many device pixels for small
# images.
ZOOM_DEVICE_SIDE = 2400
# "Fit" never blows a small receipt up by more than this.
FIT_MAX = 2.0


class ReceiptPageView(QWidget):
    """One rendered page (`page`) in a scroll area, fitted (the whole page when `large`, else its
    width) or zoomed by steps; its zoom buttons and label, for the viewer to lay out."""

    def __init__(self, *, large: bool, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.large = large
        self.zoom: float | None = None  # None: fit the page in the view
        self.page: ReceiptPage | None = None
        self._fit_scale = 1.0

        self.zoom_out_button = self._tool("−", "Zoom out (Ctrl+-)")
        self.zoom_label = QLabel()
        self.zoom_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.zoom_label.setMinimumWidth(self.fontMetrics().horizontalAdvance("Fit 100 %") + 8)
        self.zoom_in_button = self._tool("+", "Zoom in (Ctrl++)")
        self.fit_button = self._tool(
            "Fit", "Fit the page in the view (Ctrl+0)" if large else "Fit the page's width"
        )

        self.image_label = QLabel()
        self.image_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.canvas = QScrollArea()
        self.canvas.setWidget(self.image_label)
        self.canvas.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.canvas.setWidgetResizable(False)
        self.canvas.setBackgroundRole(self.backgroundRole())
        self.canvas.viewport().installEventFilter(self)

        self._rescale_timer = QTimer(self)
        self._rescale_timer.setSingleShot(True)
        self._rescale_timer.setInterval(40)
        self._rescale_timer.timeout.connect(self._show_page_image)

        self.zoom_in_button.clicked.connect(self.zoom_in)
        self.zoom_out_button.clicked.connect(self.zoom_out)
        self.fit_button.clicked.connect(self.fit)

    def _tool(self, text: str, tip: str) -> QToolButton:
        button = QToolButton()
        button.setText(text)
        button.setToolTip(tip)
        button.setAutoRaise(False)
        return button

    # -- zoom ------------------------------------------------------------------------------

    def max_zoom(self) -> float:
        page = self.page
        if page is None:
            return ZOOM_MAX
        side = max(page.image.width(), page.image.height())
        device = max(2 * side, ZOOM_DEVICE_SIDE)
        natural = side * page.natural_scale * self.devicePixelRatioF()
        return max(min(ZOOM_MAX, device / max(natural, 1)), ZOOM_MIN)

    def effective_zoom(self) -> float:
        return self._fit_scale if self.zoom is None else min(self.zoom, self.max_zoom())

    @Slot()
    def zoom_in(self) -> None:
        self.zoom = min(self.effective_zoom() * ZOOM_STEP, self.max_zoom())
        self._show_page_image()

    @Slot()
    def zoom_out(self) -> None:
        self.zoom = max(self.effective_zoom() / ZOOM_STEP, ZOOM_MIN)
        self._show_page_image()

    @Slot()
    def fit(self) -> None:
        self.zoom = None
        self._show_page_image()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if (
            watched is self.canvas.viewport()
            and event.type() == QEvent.Type.Resize
            and self.zoom is None
            and self.page is not None
        ):
            self._rescale_timer.start()
        return super().eventFilter(watched, event)

    def _zoom_enabled(self, enabled: bool) -> None:
        for widget in (self.zoom_in_button, self.zoom_out_button, self.fit_button):
            widget.setEnabled(enabled)
        if not enabled:
            self.zoom_label.setText("")

    def displayed_size(self) -> QSize:
        """The page's size on screen now, in device-independent pixels."""
        page = self.page
        if page is None:
            return QSize()
        natural_w = page.image.width() * page.natural_scale
        natural_h = page.image.height() * page.natural_scale
        viewport = self.canvas.viewport().size()
        margin = 16
        fit = max(viewport.width() - margin, 1) / max(natural_w, 1)
        if self.large:
            # The dialog fits the whole page; the pane fits the width and scrolls, since a
            # receipt's top says most.
            fit = min(fit, max(viewport.height() - margin, 1) / max(natural_h, 1))
        self._fit_scale = max(min(fit, FIT_MAX), ZOOM_MIN)
        zoom = self.effective_zoom()
        return QSize(max(1, round(natural_w * zoom)), max(1, round(natural_h * zoom)))

    @Slot()
    def _show_page_image(self) -> None:
        page = self.page
        if page is None:
            return
        size = self.displayed_size()
        ratio = self.devicePixelRatioF()
        scaled = page.image.scaled(
            QSize(round(size.width() * ratio), round(size.height() * ratio)),
            Qt.AspectRatioMode.KeepAspectRatio,
            Qt.TransformationMode.SmoothTransformation,
        )
        pixmap = QPixmap.fromImage(scaled)
        pixmap.setDevicePixelRatio(ratio)
        self.image_label.setPixmap(pixmap)
        self.image_label.resize(size)
        percent = round(self.effective_zoom() * 100)
        self.zoom_label.setText(f"Fit {percent} %" if self.zoom is None else f"{percent} %")
        what = "the page in the view (Ctrl+0)" if self.large else "the page's width"
        self.fit_button.setToolTip(f"Fit {what}. Now {percent} %.")
        self.zoom_in_button.setEnabled(self.effective_zoom() < self.max_zoom())
        self.zoom_out_button.setEnabled(self.effective_zoom() > ZOOM_MIN)
