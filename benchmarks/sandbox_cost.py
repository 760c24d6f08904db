"""What confining a grading child costs, next to the fork it rides on and to bubblewrap.

Run: python benchmarks/sandbox_cost.py [--runs 50]

Prints medians (and 90th percentiles) of:
* fork + exit of a process that has sympy and numpy loaded (the runner's baseline per
  submission);
* confine() measured inside the forked child (Landlock ruleset, rlimits, capabilities);
* fork + confine + exit, as the parent sees it;
* bubblewrap, if installed: ``bwrap --ro-bind / / --unshare-net --dev /dev true`` against
  plain ``true``, and a Python start-up with and without it (what a bwrap-per-submission
  design would add).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import struct
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy  # noqa: E402,F401 -- loaded before forking, as the runner does
import sympy  # noqa: E402,F401

from autograder.run import sandbox  # noqa: E402


def _ms(samples: list[float]) -> str:
    ordered = sorted(samples)
    p90 = ordered[min(len(ordered) - 1, int(0.9 * len(ordered)))]
    return f"median {statistics.median(ordered) * 1e3:7.2f} ms   p90 {p90 * 1e3:7.2f} ms"


def fork_once(child: Callable[[], float]) -> tuple[float, float]:
    """(parent's fork-to-reaped time, the number the child reported) for one forked child."""
    read_fd, write_fd = os.pipe()
    started = time.perf_counter()
    pid = os.fork()
    if pid == 0:
        value = -1.0
        try:
            os.close(read_fd)
            value = child()
        finally:
            os.write(write_fd, struct.pack("d", value))
            os._exit(0)
    os.close(write_fd)
    data = os.read(read_fd, 8)
    os.close(read_fd)
    os.waitpid(pid, 0)
    total = time.perf_counter() - started
    sandbox.release_process_cap(pid)  # the cgroup a root child joined
    return total, struct.unpack("d", data)[0] if len(data) == 8 else float("nan")


def bench_fork(runs: int) -> list[float]:
    return [fork_once(lambda: 0.0)[0] for _ in range(runs)]


def bench_confine(runs: int, ahead: bool = False) -> tuple[list[float], list[float]]:
    """confine() in a forked child; ``ahead``: the child first does what the runner's waiting
    children do before their request (``sandbox.prepare``: the process cap and, as root, the
    network namespace)."""
    inside, total = [], []
    for _ in range(runs):
        workdir = Path(tempfile.mkdtemp(prefix="bpk-bench-"))

        def child(workdir: Path = workdir) -> float:
            if ahead:
                sandbox.prepare(os.getpid())
            started = time.perf_counter()
            sandbox.confine(workdir)
            return time.perf_counter() - started

        try:
            whole, cost = fork_once(child)
        finally:
            shutil.rmtree(workdir, ignore_errors=True)
        total.append(whole)
        inside.append(cost)
    return inside, total


def bench_command(argv: list[str], runs: int) -> list[float]:
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        samples.append(time.perf_counter() - started)
    return samples


def bench_bwrap(runs: int) -> None:
    bwrap = shutil.which("bwrap")
    if bwrap is None:
        print("bwrap: not installed")
        return
    wrap = [bwrap, "--ro-bind", "/", "/", "--unshare-net", "--dev", "/dev"]
    try:
        subprocess.run([*wrap, "true"], check=True, capture_output=True, text=True)
    except subprocess.CalledProcessError as error:
        print(f"bwrap: installed but cannot run here: {error.stderr.strip()}")
        return
    true = shutil.which("true") or "/bin/true"
    plain, wrapped = bench_command([true], runs), bench_command([*wrap, true], runs)
    print(f"true                         {_ms(plain)}")
    print(f"bwrap ... true               {_ms(wrapped)}")
    python = [sys.executable, "-c", "pass"]
    plain_py, wrapped_py = bench_command(python, runs), bench_command([*wrap, *python], runs)
    print(f"python -c pass               {_ms(plain_py)}")
    print(f"bwrap ... python -c pass     {_ms(wrapped_py)}")
    extra = statistics.median(wrapped) - statistics.median(plain)
    print(f"bwrap overhead per start     {extra * 1e3:7.2f} ms (median difference, 'true')")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=50)
    runs = parser.parse_args().runs
    print(f"uid {os.getuid()}, Linux {os.uname().release}, detect() = {sandbox.detect()!r}, "
          f"Landlock ABI {sandbox._landlock_abi()}, {runs} runs each")
    print(f"fork + exit                  {_ms(bench_fork(runs))}")
    if sandbox.detect() == "none":
        print("confine: no Landlock on this kernel")
    else:
        inside, total = bench_confine(runs)
        print(f"confine() inside the child   {_ms(inside)}")
        print(f"fork + confine + exit        {_ms(total)}")
        ahead, _ = bench_confine(runs, ahead=True)
        print(f"confine(), cap joined ahead  {_ms(ahead)}  (what a notebook waits for)")
    bench_bwrap(min(runs, 20))


if __name__ == "__main__":
    main()
