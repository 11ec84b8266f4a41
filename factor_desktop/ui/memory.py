"""Keeping Python's cyclic garbage collector off the window's back.

The window and its worker share one interpreter, and a full collection holds Python's lock while
it scans every object the process keeps: at start-up that is already some 160,000 (the modules
of Qt, SQLAlchemy and the app, their functions and classes), none of which will ever be garbage.
Each full collection during a long push then cost 70-140 ms of CPU in which the GUI thread could
not run. Freezing what is alive once the window is open, and again once the sync's modules are
loaded, moves those objects out of the collector's sight (`gc.freeze`, meant for exactly this),
so a full collection scans only what the pass itself keeps. Whatever is frozen stays for the
life of the process; it is the app's own code and the first records shown, which it keeps anyway.
"""

from __future__ import annotations

import gc

_frozen: set[str] = set()


def freeze_long_lived(moment: str) -> bool:
    """Freeze what is alive now, once per `moment` ("window open", "sync loaded") a process.

    Returns whether it froze (False when that moment came before).
    """
    if moment in _frozen:
        return False
    _frozen.add(moment)
    gc.freeze()
    return True
