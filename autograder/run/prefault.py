"""Copying in advance the runner's pages a notebook will write.

A notebook's process is a fork of the pre-loaded runner: the first write to each page it shares
with the runner (a reference count is enough) copies that page, about 3,000 pages and a third
of a backprop notebook's time. Which pages those are hardly changes from one notebook to the
next, so the runner learns them from a finished notebook's process (which of the runner's pages
it holds a copy of) and each child forked afterwards copies them while it waits for its request:
the same work, done before the notebook's time starts instead of during it.

Only page addresses cross from a finished notebook to the runner, never its contents, and only
within the runner's own memory, capped: a notebook that writes everywhere makes later children
copy at most ``MAX_PAGES`` pages in advance, nothing more. Copying needs Linux 5.14+
(MADV_POPULATE_WRITE): on an older kernel each child gives up at its first attempt, and its
notebook copies the pages as it writes them, as before.
"""

from __future__ import annotations

import ctypes
import os
import struct
from collections.abc import Sequence

PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096
MADV_POPULATE_WRITE = 23
MAX_PAGES = 8192  # what a child copies in advance at most (32 MB of 4 kB pages)
MAX_RANGES = 2048  # and in how many runs of pages (one system call each)
GAP = 2  # pages between two runs copied too, rather than a system call more
_PRESENT = 1 << 63
_EXCLUSIVE = 1 << 56  # the page is mapped by this process alone: its own copy

Ranges = list[tuple[int, int]]  # [start, end) addresses, page-aligned, ascending


def own_memory(maps: str = "/proc/self/maps") -> Ranges:
    """This process's private, writable, anonymous memory (the Python heap and its arenas):
    where a forked child's writes copy pages."""
    found: Ranges = []
    try:
        with open(maps, encoding="ascii", errors="replace") as lines:
            for line in lines:
                fields = line.split()
                name = fields[5] if len(fields) > 5 else ""
                if len(fields) < 5 or fields[1][1:2] != "w" or fields[1][3:4] != "p":
                    continue
                if name not in ("", "[heap]"):
                    continue
                start, end = (int(x, 16) for x in fields[0].split("-"))
                found.append((start, end))
    except OSError:
        return []
    return found


def written_pages(pid: int, within: Sequence[tuple[int, int]]) -> Ranges:
    """The pages of ``within`` that process ``pid`` (a fork of this one) holds copies of,
    as runs of pages, ``GAP`` apart at least, capped at ``MAX_PAGES`` in ``MAX_RANGES`` runs.
    Empty where the page map cannot be read."""
    pages: list[int] = []
    try:
        with open(f"/proc/{pid}/pagemap", "rb", buffering=0) as pagemap:
            for start, end in within:
                pagemap.seek(start // PAGE * 8)
                data = pagemap.read((end - start) // PAGE * 8)
                pages += _copied(start, data)
                if len(pages) > MAX_PAGES:
                    break
    except OSError:
        return []
    return runs(pages[:MAX_PAGES])


def _copied(start: int, data: bytes) -> list[int]:
    """Addresses of the entries of ``data`` (a stretch of a page map from ``start``) that are
    present and exclusively mapped."""
    import numpy  # the runner's pre-loaded numpy; imported here, not when the runner starts

    entries = numpy.frombuffer(data, dtype="<u8")
    mask = numpy.uint64(_PRESENT | _EXCLUSIVE)
    hits = numpy.flatnonzero((entries & mask) == mask)
    return (start + hits * PAGE).tolist()


def runs(pages: Sequence[int]) -> Ranges:
    """Sorted page addresses as runs, joining runs at most ``GAP`` pages apart; at most
    ``MAX_RANGES`` runs."""
    found: list[list[int]] = []
    for page in sorted(pages):
        if found and page - found[-1][1] <= GAP * PAGE:
            found[-1][1] = page + PAGE
        else:
            found.append([page, page + PAGE])
    return [(start, end) for start, end in found[:MAX_RANGES]]


def populate(ranges: Sequence[tuple[int, int]]) -> int:
    """Copy (as a write would) the pages of ``ranges`` in this process now; returns how many
    runs were copied. Best effort: a run no longer mapped is skipped; a kernel without
    MADV_POPULATE_WRITE stops it at the first."""
    if not ranges:
        return 0
    try:
        madvise = ctypes.CDLL(None, use_errno=True).madvise
    except (OSError, AttributeError):
        return 0
    madvise.argtypes = (ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int)
    done = 0
    for start, end in ranges:
        if madvise(start, end - start, MADV_POPULATE_WRITE) == 0:
            done += 1
        elif ctypes.get_errno() == 22:  # EINVAL: not a kernel that has it
            break
    return done


def pack(ranges: Sequence[tuple[int, int]]) -> bytes:
    """Ranges as bytes, for the pipe from a supervisor to the runner: a count, then pairs."""
    ranges = list(ranges)[:MAX_RANGES]
    return struct.pack(f"<I{2 * len(ranges)}Q", len(ranges),
                       *(x for pair in ranges for x in pair))


def unpack_count(header: bytes) -> int:
    """How many ranges follow (0 for a header cut short)."""
    if len(header) != 4:
        return 0
    (count,) = struct.unpack("<I", header)
    return min(count, MAX_RANGES)


def unpack(body: bytes) -> Ranges:
    """The ranges :func:`pack` wrote; anything that is not a run of whole pages is dropped."""
    values = struct.unpack(f"<{len(body) // 8}Q", body[: len(body) // 16 * 16])
    return [(values[i], values[i + 1]) for i in range(0, len(values), 2)
            if values[i] < values[i + 1] and values[i] % PAGE == 0]
