"""Keeping Python's cyclic garbage collector off the window's back.

The window and its worker share one interpreter, and a full collection holds Python's lock while
it scans every object the process keeps: at start-up that is already some 160,000 (the modules
of Qt, SQLAlchemy and the app, their functions and classes), none of which will ever be garbage.
Each full collection during a long push then cost 70-140 ms of CPU in which the GUI thread could
not run. Freezing what is alive once the window is open, and again once the sync's modules are
loaded, moves those objects out of the collector's sight (`gc.freeze`, meant for exactly this),
so a full collection scans only what the pass itself keeps. Whatever is frozen stays for the
life of the process; it is the app's own code and the first records shown, which it keeps anyway.

A long push still keeps enough alive (its session's records, pages and answers) for a full
collection to take 50-100 ms, and one came every 20 seconds or so. During a pass the collector
therefore collects only the young generations, where nearly all of a pass's garbage dies; the
full collection it put off runs once, after the pass, when the window has shown its result and
has nothing else to do (`pause_full_collections`, `resume_full_collections`).
"""

from __future__ import annotations

import gc
import threading

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


# A threshold for the oldest generation that a pass never reaches.
_NEVER = 1 << 30
_lock = threading.Lock()
_passes = 0
_saved_threshold: int | None = None


def pause_full_collections() -> None:
    """A sync pass starts (on the worker): from now on only the young generations are collected."""
    global _passes, _saved_threshold
    with _lock:
        _passes += 1
        first, second, third = gc.get_threshold()
        if _saved_threshold is None:
            _saved_threshold = third
            gc.set_threshold(first, second, _NEVER)


def pass_finished() -> None:
    """A sync pass is over; the full collection waits for `resume_full_collections`."""
    global _passes
    with _lock:
        _passes = max(_passes - 1, 0)


def resume_full_collections() -> bool:
    """Run the full collection the passes put off, and collect as usual again, unless a pass is
    running (it then waits for that pass). Returns whether it ran. For the GUI thread, when the
    window has nothing else to do: the collection holds Python's lock while it runs."""
    global _saved_threshold
    with _lock:
        if _passes or _saved_threshold is None:
            return False
        first, second, _third = gc.get_threshold()
        gc.set_threshold(first, second, _saved_threshold)
        _saved_threshold = None
    gc.collect()
    return True
