"""Running store work in a child process that kills itself (SIGKILL) at its Nth SQL statement.

The child is forked from the test process, so each trial costs milliseconds rather than a new
interpreter. It counts every statement SQLAlchemy sends (DDL, DML, the BEGINs) and every COMMIT,
on every engine, and kills itself just before the chosen one: no cleanup, no exit handlers,
exactly what a power cut or `kill -9` leaves behind.
"""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import Engine, event

KILLED = -1
FINISHED = 0

needs_fork = pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork (POSIX)")


def run_killed_at(work: Callable[[], None], kill_at: int) -> int:
    """Run `work` in a child killed before its `kill_at`-th statement (1-based).

    Returns KILLED when the kill happened, FINISHED when `work` ended first; a child that
    failed otherwise is reported as a test failure.
    """
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:  # the child: never returns into pytest
        code = 3
        try:
            count = 0

            def before_statement(*_args: Any, **_kwargs: Any) -> None:
                nonlocal count
                count += 1
                if count == kill_at:
                    os.kill(os.getpid(), signal.SIGKILL)

            event.listen(Engine, "before_cursor_execute", before_statement)
            event.listen(Engine, "commit", before_statement)
            work()
            code = 0
        except BaseException as exc:
            os.write(2, f"child failed: {type(exc).__name__}: {exc}\n".encode())
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    if os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL:
        return KILLED
    assert os.WIFEXITED(status), status
    assert os.WEXITSTATUS(status) == 0, f"the child failed (exit {os.WEXITSTATUS(status)})"
    return FINISHED
