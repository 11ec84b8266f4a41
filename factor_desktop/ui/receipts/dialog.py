"""The larger receipts viewer: the receipts of one expense in a dialog of their own."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QVBoxLayout, QWidget

from factor_desktop.receipts import ReceiptInfo
from factor_desktop.ui.jobs import JobRunner
from factor_desktop.ui.receipts.pages import PageCache
from factor_desktop.ui.receipts.viewer import ReceiptViewer


class ReceiptDialog(QDialog):
    """The larger viewer: the receipts of one expense, opened by double-clicking it."""

    def __init__(
        self,
        runner: JobRunner | None,
        receipts: Sequence[ReceiptInfo],
        title: str,
        *,
        cache: PageCache | None = None,
        start: tuple[int, int] = (0, 0),
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.viewer = ReceiptViewer(large=True, cache=cache, parent=self)
        if runner is not None:
            self.viewer.attach(runner)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.viewer, 1)
        layout.addWidget(buttons)
        for keys, slot in (
            ((QKeySequence.StandardKey.MoveToNextPage, Qt.Key.Key_Right), self.viewer.next),
            ((QKeySequence.StandardKey.MoveToPreviousPage, Qt.Key.Key_Left), self.viewer.previous),
            ((QKeySequence.StandardKey.ZoomIn, "Ctrl+="), self.viewer.zoom_in),
            ((QKeySequence.StandardKey.ZoomOut,), self.viewer.zoom_out),
            (("Ctrl+0",), self.viewer.fit),
        ):
            for key in keys:
                QShortcut(QKeySequence(key), self, slot)
        self.resize(self._initial_size())
        self.viewer.show_receipts(receipts, start=start)

    def _initial_size(self) -> QSize:
        wanted = QSize(960, 860)
        parent = self.parentWidget()
        screen = parent.screen() if parent is not None else self.screen()
        if screen is None:
            return wanted
        room = screen.availableGeometry().size() * 0.9
        return wanted.boundedTo(room)
