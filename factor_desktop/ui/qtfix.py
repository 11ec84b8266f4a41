"""A guard against a reference-counting bug of PySide6 6.12.0 on Python 3.11.

With PySide6/shiboken6 6.12.0 on CPython 3.11, every call of a Qt method that returns nothing
(`label.setText(...)`, `widget.hide()`, ...) takes one reference away from `None`. CPython 3.11
counts references to `None` like any object's, so after some tens of thousands of such calls the
count reaches zero and the interpreter aborts with "Fatal Python error: none_dealloc", taking the
window down (PySide6 6.11 does not do this; from Python 3.12 `None` is immortal and the lost
references do not matter).

`protect_none()` checks for the bug with a few harmless calls and, only when it is present,
gives `None` a reserve of references so large it cannot run out, which is what Python 3.12 does
for `None` itself. Nothing happens on an unaffected PySide6 or Python.
"""

from __future__ import annotations

import ctypes
import logging
import sys

from PySide6 import __version__ as pyside_version
from PySide6.QtCore import QObject

log = logging.getLogger(__name__)

# 2**40 references: a trillion calls before the reserve could run out; far below the limit of
# the 64-bit count.
NONE_RESERVE = 2**40
_PROBE_CALLS = 64

_protected = False


def drops_none_references() -> bool:
    """True when calling a Qt method that returns nothing loses a reference to None."""
    probe = QObject()
    before = sys.getrefcount(None)
    for _ in range(_PROBE_CALLS):
        probe.setObjectName("probe")
    lost = before - sys.getrefcount(None)
    return lost >= _PROBE_CALLS // 2


def protect_none() -> bool:
    """Give None its reserve if this PySide6 loses references to it. True when it did."""
    global _protected
    if _protected:
        return True
    if sys.implementation.name != "cpython" or sys.version_info >= (3, 12):
        return False
    if not drops_none_references():
        return False
    # CPython 3.11 keeps an object's reference count in the first word of the object; make
    # sure that word is the count (getrefcount adds one for its own argument) before adding.
    count = ctypes.c_ssize_t.from_address(id(None))
    if count.value != sys.getrefcount(None) - 1:
        log.warning(
            "PySide6 %s loses references to None; None could not be protected", pyside_version
        )
        return False
    count.value += NONE_RESERVE
    _protected = True
    log.info(
        "PySide6 %s loses a reference to None on each call of a Qt method that returns "
        "nothing (Python %s); None was given a reserve so the app cannot abort. "
        "Python 3.12+ or another PySide6 release avoids the problem.",
        pyside_version,
        sys.version.split()[0],
    )
    return True
