"""A memory bound on a block of code, for judging one answer.

Judging runs sympy on data a student chose; an expression can make it allocate without end.
Inside ``memorybox(extra)`` the process may map at most ``extra`` bytes more than it has when
the block starts (RLIMIT_AS, soft limit only, restored after), so such an answer ends in a
MemoryError that the grader reports for that answer alone. Where the limit cannot be set
(no /proc, no resource module) the block simply runs unbounded.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

try:
    import resource
except ImportError:  # pragma: no cover -- not on POSIX
    resource = None  # type: ignore[assignment]

__all__ = ["memorybox"]


def _mapped_bytes() -> int | None:
    """The process's current virtual size (what RLIMIT_AS counts)."""
    try:
        with open("/proc/self/statm") as handle:
            return int(handle.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return None


@contextmanager
def memorybox(extra_bytes: int) -> Iterator[None]:
    """Raise MemoryError in the block once it maps ``extra_bytes`` more than at its start."""
    current = _mapped_bytes()
    if resource is None or current is None:
        yield
        return
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    limit = current + extra_bytes
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    if soft != resource.RLIM_INFINITY:
        limit = min(limit, soft)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))
