"""Copying in advance the runner's pages a notebook writes (autograder.run.prefault): what a
finished notebook's process is found to have written, that a child copies those pages without
changing them, the caps on what is learned, and that the runner's waiting child really holds
them before its request comes."""

from __future__ import annotations

import ctypes
import os
import struct
import sys
import time

import pytest

from autograder.run import prefault
from autograder.run.capture import Cell, Job
from autograder.run.client import Runner
from autograder.run.protocol import Request
from autograder.run.runner import JOB_FILE

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="Linux page maps")
PAGE = prefault.PAGE


def _address(buffer: bytearray) -> int:
    return ctypes.addressof((ctypes.c_char * len(buffer)).from_buffer(buffer))


def _pages(start: int, size: int) -> set[int]:
    first = -(-start // PAGE) * PAGE  # the first whole page
    return set(range(first, (start + size) // PAGE * PAGE, PAGE))


def _covered(ranges: prefault.Ranges) -> set[int]:
    return {page for start, end in ranges for page in range(start, end, PAGE)}


def _in_a_fork(work, then) -> None:
    """Fork; the child does ``work()`` and waits; ``then(pid)`` runs here meanwhile."""
    ready_r, ready_w = os.pipe()
    done_r, done_w = os.pipe()
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            work()
            os.write(ready_w, b"+")
            os.read(done_r, 1)
            code = 0
        finally:
            os._exit(code)
    try:
        assert os.read(ready_r, 1) == b"+"
        then(pid)
    finally:
        os.write(done_w, b"+")
        os.waitpid(pid, 0)
        for fd in (ready_r, ready_w, done_r, done_w):
            os.close(fd)


def test_the_pages_a_fork_wrote_are_found_and_those_it_only_read_are_not() -> None:
    written, read = bytearray(b"a" * (64 * PAGE)), bytearray(b"b" * (64 * PAGE))
    found: list[prefault.Ranges] = []

    def work() -> None:
        for i in range(0, len(written), PAGE):
            written[i] = ord("c")
        assert read.count(b"b") == len(read)

    _in_a_fork(work, lambda pid: found.append(prefault.written_pages(pid, prefault.own_memory())))
    covered = _covered(found[0])
    assert _pages(_address(written), len(written)) <= covered
    assert not _pages(_address(read), len(read)) & covered


def _kernel() -> tuple[int, ...]:
    return tuple(int(part) for part in os.uname().release.split("-")[0].split(".")[:2])


@pytest.mark.skipif(_kernel() < (5, 14), reason="MADV_POPULATE_WRITE needs Linux 5.14+")
def test_a_child_copies_the_pages_in_advance_without_changing_them() -> None:
    buffer = bytearray(bytes(range(256)) * (64 * PAGE // 256))
    pages = _pages(_address(buffer), len(buffer))
    ranges = prefault.runs(sorted(pages))
    seen: list[set[int]] = []

    def work() -> None:
        assert prefault.populate(ranges) == len(ranges)
        assert buffer == bytearray(bytes(range(256)) * (64 * PAGE // 256))

    def then(pid: int) -> None:
        seen.append(_covered(prefault.written_pages(pid, prefault.own_memory())))

    _in_a_fork(work, then)
    assert pages <= seen[0]


def test_what_a_notebook_that_writes_everywhere_teaches_is_capped() -> None:
    big = bytearray(b"x" * ((prefault.MAX_PAGES + 4096) * PAGE))
    found: list[prefault.Ranges] = []

    def work() -> None:
        for i in range(0, len(big), PAGE):
            big[i] = 0

    _in_a_fork(work, lambda pid: found.append(prefault.written_pages(pid, prefault.own_memory())))
    assert len(_covered(found[0])) <= prefault.MAX_PAGES * (1 + prefault.GAP)
    assert len(found[0]) <= prefault.MAX_RANGES
    apart = (prefault.GAP + 2) * PAGE  # too far apart to be joined
    sparse = prefault.runs(range(0, apart * (prefault.MAX_RANGES + 10), apart))
    assert len(sparse) == prefault.MAX_RANGES


def test_the_runner_keeps_only_page_ranges_from_what_a_supervisor_sends() -> None:
    ranges = [(4 * PAGE, 6 * PAGE), (10 * PAGE, 11 * PAGE)]
    packed = prefault.pack(ranges)
    assert prefault.unpack_count(packed[:4]) == 2
    assert prefault.unpack(packed[4:]) == ranges
    junk = struct.pack("<4Q", 5 * PAGE + 1, 6 * PAGE, 9 * PAGE, 8 * PAGE)
    assert prefault.unpack(junk) == []  # not page-aligned, reversed
    assert prefault.unpack_count(struct.pack("<I", 1 << 30)) == prefault.MAX_RANGES
    assert prefault.unpack_count(b"+") == 0  # cut short


def _waiting_child(runner: Runner) -> int | None:
    """The child of the runner's standby that waits for the next request (not the init)."""
    from tests.test_runner import _kids

    assert runner._proc is not None
    for supervisor in _kids(runner._proc.pid):
        for pid in _kids(supervisor):
            try:
                with open(f"/proc/{pid}/comm") as comm:
                    if comm.read().strip() != "sleep":
                        return pid
            except OSError:
                continue
    return None


def _copied_by_waiting_child(runner: Runner) -> int:
    """How many of its pages the waiting child holds copies of, once it has settled."""
    last, count = -1, 0
    until = time.monotonic() + 10
    while time.monotonic() < until:
        pid = _waiting_child(runner)
        if pid is not None:
            count = len(_covered(prefault.written_pages(pid, prefault.own_memory(
                f"/proc/{pid}/maps"))))
            if count == last:
                return count
            last = count
        time.sleep(0.2)
    return count


@pytest.mark.skipif(_kernel() < (5, 14), reason="MADV_POPULATE_WRITE needs Linux 5.14+")
def test_a_waiting_child_already_holds_copies_of_the_pages_notebooks_write(tmp_path) -> None:
    cells = (Cell("import sympy\nx = sympy.Symbol('x')\n"
                  "d = str(sympy.simplify(sympy.diff(sympy.exp(-x) / (1 + sympy.exp(-x)), x)))\n"
                  "import numpy\nv = float(numpy.linalg.norm(numpy.arange(9.0)))\n",
                  "work", ("d", "v")),)
    runner = Runner(preload_plots=False)
    try:
        def grade(index: int) -> None:
            workdir = tmp_path / f"n{index}"
            workdir.mkdir(mode=0o700)
            (workdir / JOB_FILE).write_text(__import__("json").dumps(Job(cells).to_json()))
            reply = runner.run(Request(str(workdir), 20, {}, False))
            assert reply.status == "graded", reply
            assert reply.answers["d"]["data"]  # the notebook did its work

        grade(0)  # the runner warms up after its first notebook; nothing learned yet
        before = _copied_by_waiting_child(runner)
        for index in range(1, 4):
            grade(index)
        after = _copied_by_waiting_child(runner)
    finally:
        runner.close()
    # a child forked before the runner learned copies only what it wrote itself so far
    # (its own start); one forked after holds the pages the notebooks wrote as well
    assert after > before + 1000, (before, after)
