"""A wall-clock bound on a block of code, nestable, for judging one answer.

Judging runs sympy on data a student chose; some expressions make it work for minutes. A
``timebox(seconds)`` raises :class:`OutOfTime` inside the block when the time is up. It uses
SIGALRM with ``setitimer``, so it works in the main thread of the grader and of each pool
worker (elsewhere it only runs the block, unbounded). Boxes nest: an inner box never extends
an outer one, and when it ends the outer box gets its remaining time back.
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["OutOfTime", "remaining", "timebox"]


class OutOfTime(Exception):  # noqa: N818 -- reads as what happened
    """The block ran past its time box."""


_REPEAT = 0.05
_deadlines: list[float] = []  # absolute monotonic deadlines of the open boxes, outermost first


def _on_alarm(signum: int, frame: object) -> None:
    if _deadlines and time.monotonic() >= _deadlines[-1] - 1e-3:
        raise OutOfTime()
    _arm()  # woke early (an outer box's timer, clock granularity): wait again


def _arm() -> None:
    if _deadlines:
        # the interval repeats the alarm: code that swallows one OutOfTime gets another
        signal.setitimer(signal.ITIMER_REAL, max(_deadlines[-1] - time.monotonic(), 1e-4),
                         _REPEAT)
    else:
        signal.setitimer(signal.ITIMER_REAL, 0)


def remaining() -> float | None:
    """Seconds left in the innermost open box, or None outside any box."""
    return max(_deadlines[-1] - time.monotonic(), 0.0) if _deadlines else None


@contextmanager
def timebox(seconds: float) -> Iterator[None]:
    """Raise OutOfTime in the block after ``seconds`` (or the outer box's end, if sooner)."""
    if threading.current_thread() is not threading.main_thread():
        yield  # signals reach the main thread only
        return
    deadline = time.monotonic() + max(float(seconds), 0.0)
    if _deadlines:
        deadline = min(deadline, _deadlines[-1])
    previous = signal.signal(signal.SIGALRM, _on_alarm) if not _deadlines else None
    _deadlines.append(deadline)
    try:
        _arm()
        yield
    finally:
        _deadlines.pop()
        _arm()  # the outer box's remaining time, or off
        if previous is not None:
            signal.signal(signal.SIGALRM, previous)
