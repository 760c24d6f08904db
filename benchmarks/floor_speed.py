"""Grading at the floor (issue 27): how close ``backprop-kit grade`` comes to a notebook's own
cost, for each assignment, in one run.

    python benchmarks/floor_speed.py [--n 100] [--assignments backprop ...] [--repeat 1]

For each assignment it prints:

* the floor: the reference notebook's code cells (those the grader runs: every code cell but
  the test cells), executed back to back in one warm Python process with the imports done, no
  kernel, no sandbox, no judging, output discarded (median of 15 runs after a warm-up; wall
  and CPU), and the same cells run once in a fresh fork of that warm process (CPU, median of
  15 forks): a process of its own per student, which isolation needs, costs that much before
  any sandbox, as its first writes copy the pages they touch;
* ``backprop-kit grade`` on N copies of the reference notebook (as a student hands it in),
  cold whole command (``BACKPROP_KIT_WARM=0``, start to exit), at ``-j 1`` and ``-j 2``, and at
  ``-j 1`` served by a warm grader whose worker is ready: seconds per notebook (whole command
  / N), the CPU time of the whole process tree per notebook (what a core spends), the ratio
  to the floor (target at ``-j 1``: <= 2), the speed-up of ``-j 2`` over ``-j 1`` (target
  >= 1.8 on two cores) and the memory of a worker (PSS: worker, runner, supervisor, student;
  sampled in a separate, untimed run on 30 copies, as sampling slows what it watches).

Every figure has the machine's load average beside it: on a shared machine compare figures
of the same load only. The scores are checked too: every copy must earn full marks.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from grade_speed import COLD, MemorySampler, WarmGrader, _classify_bpk, load, mb  # noqa: E402

from autograder.course import examples  # noqa: E402

BIN = Path(sys.executable).parent
ASSIGNMENTS = ("optimisation-1d", "steepest-descent-2d", "backprop")
MEMORY_N = 30  # copies graded again, not timed, to sample a worker's memory

# The floor, in a fresh interpreter of its own: what the grader's runner pre-loads (numpy,
# sympy, matplotlib with Agg, the notebooks' public modules) imported first, the cells run once
# to finish their own imports, then timed.
FLOOR = textwrap.dedent("""
    import contextlib, gc, io, json, os, statistics, sys, time, types
    cells = json.loads(sys.stdin.read())
    import numpy, sympy
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import autograder.notebook, autograder.myvariant, autograder.variants
    sink = io.StringIO()

    def once():
        # a fresh __main__ each time, as a kernel's: the kit's ``defined(...)`` (which wraps
        # the cells that plot) reads the answers there, so the floor runs every cell's work
        main = types.ModuleType("__main__")
        sys.modules["__main__"] = main
        namespace = vars(main)
        with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
            for label, source in cells:
                exec(compile(source, label, "exec"), namespace)
        sink.seek(0)
        sink.truncate()

    once()
    plt.close("all")
    gc.collect()
    walls, cpus = [], []
    for _ in range(int(sys.argv[1])):
        wall, cpu = time.perf_counter(), time.process_time()
        once()
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
        plt.close("all")

    def in_a_fresh_fork():
        read, write = os.pipe()
        pid = os.fork()
        if pid == 0:
            cpu = time.process_time()
            once()
            os.write(write, str(time.process_time() - cpu).encode())
            os._exit(0)
        os.close(write)
        spent = float(os.read(read, 100))
        os.close(read)
        os.waitpid(pid, 0)
        return spent

    gc.freeze()  # as the runner does before it forks
    forked = statistics.median(in_a_fresh_fork() for _ in range(int(sys.argv[1])))
    print(json.dumps([statistics.median(walls), statistics.median(cpus), forked]))
""")


def reference(assignment: str) -> dict:
    """The reference notebook as a student hands it in (solutions in place, no hidden tests)."""
    return examples.as_student_copy(examples.load(ROOT / "assignments", assignment))


def floor(assignment: str, runs: int = 15) -> tuple[float, float, float]:
    """Median wall and CPU seconds of the notebook's own cells in a warm process, and the CPU
    seconds of the same cells run once in a fresh fork of that process: what a process of its
    own per notebook costs before any sandbox (its first writes copy the pages it touches)."""
    from autograder.rubric.course import questions
    from autograder.run.grader import variant_env
    from autograder.run.notebooks import plan_job

    job = plan_job(reference(assignment), questions(assignment),
                   variant_env(assignment, "student-000", None))
    cells = [(c.label, c.source) for c in job.cells if c.source]
    with tempfile.TemporaryDirectory(prefix="bpk-floor-") as folder:
        env = {"PATH": os.environ.get("PATH", ""), "MPLBACKEND": "Agg",
               "MPLCONFIGDIR": folder, "HOME": folder, "PYTHONPATH": str(ROOT), **job.env}
        done = subprocess.run([sys.executable, "-c", FLOOR, str(runs)], input=json.dumps(cells),
                              capture_output=True, text=True, cwd=folder, env=env, check=True)
    wall, cpu, forked = json.loads(done.stdout.strip().splitlines()[-1])
    return wall, cpu, forked


def copies(assignment: str, root: Path, n: int) -> Path:
    """``root/submitted/student-NNN/<assignment>/<assignment>.ipynb``, n copies."""
    text = json.dumps(reference(assignment))
    submitted = root / f"submitted-{assignment}"
    for i in range(n):
        folder = submitted / f"student-{i:03d}" / assignment
        folder.mkdir(parents=True)
        (folder / f"{assignment}.ipynb").write_text(text, encoding="utf-8")
    return submitted


class CpuGroup:
    """The CPU time of every process a command starts, however they end: a cpuacct cgroup
    (v1) where this user may make one (root), else what the command's waited-for process tree
    reports (a process killed with its PID namespace may be missed then)."""

    def __init__(self) -> None:
        self.path: Path | None = Path(f"/sys/fs/cgroup/cpuacct/bpk-floor-{os.getpid()}")
        try:
            self.path.mkdir()
        except OSError:
            self.path = None
        self.before = 0.0

    def join(self) -> None:
        """In the command's process, before it runs (preexec_fn)."""
        if self.path is not None:
            (self.path / "cgroup.procs").write_text(str(os.getpid()))

    def seconds(self) -> float:
        if self.path is not None:
            return int((self.path / "cpuacct.usage").read_text()) / 1e9
        used = resource.getrusage(resource.RUSAGE_CHILDREN)
        return used.ru_utime + used.ru_stime

    def close(self) -> None:
        if self.path is not None:
            try:
                self.path.rmdir()
            except OSError:  # a process of the command still in it
                pass


def grade(assignment: str, submitted: Path, out: Path, jobs: int, env: dict[str, str],
          sample: bool = False) -> dict:
    """One whole ``backprop-kit grade`` command: wall and CPU seconds (its process tree),
    whether every copy earned full marks and, with ``sample``, peak PSS by role. A timed run
    is never sampled: reading every process's /proc files each 50 ms from this process takes
    a share of the same two cores and the runner's memory lock its forks need (100 backprop
    copies at -j 1: 14.9 s sampled against 7.0 s bare, same machine, same hour)."""
    shutil.rmtree(out, ignore_errors=True)
    cmd = [str(BIN / "backprop-kit"), "grade", str(submitted), "-a", assignment, "-o", str(out),
           "-j", str(jobs)]
    during = load()
    group = CpuGroup()
    before = group.seconds()
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True, preexec_fn=group.join)
    sampler = MemorySampler(proc.pid, _classify_bpk) if sample else None
    if sampler is not None:
        sampler.start()
    _, errors = proc.communicate()
    wall = time.perf_counter() - started
    if sampler is not None:
        sampler.stopped.set()
        sampler.join()
    time.sleep(0.2)  # the last processes of the command's tree are reaped
    cpu = group.seconds() - before
    group.close()
    if proc.returncode != 0:
        raise SystemExit(f"backprop-kit grade exited with {proc.returncode}:\n{errors[-2000:]}")
    results = json.loads((out / "results.json").read_text())
    subs = results["submissions"]
    full = all(q["points"] == q["max_points"] for s in subs for q in s["questions"]
               if not q.get("pending"))
    roles = sampler.pss if sampler is not None else {}
    worker = roles.get("worker" if jobs > 1 else "main", 0)
    per_worker = worker + sum(roles.get(r, 0) for r in ("runner", "supervisor", "student"))
    # where a notebook's time goes: its sandboxed process from request to reply (sandbox
    # set-up, the cells, the answers: the submission's "seconds"), against the grading loop
    # (results.json's "seconds": forks, judging, files) and the whole command (start-up,
    # reports)
    child = sorted(float(s["seconds"]) for s in subs)[len(subs) // 2]
    return {"wall": wall, "cpu": cpu, "n": len(subs), "full": full, "load": during,
            "worker_pss": per_worker, "child": child, "loop": float(results["seconds"])}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100, help="copies graded (at least 100)")
    parser.add_argument("--assignments", nargs="+", default=list(ASSIGNMENTS))
    parser.add_argument("--repeat", type=int, default=1,
                        help="whole commands per figure (the median is printed)")
    parser.add_argument("--no-warm", action="store_true", help="skip the warm grader's figure")
    parser.add_argument("--no-j2", action="store_true", help="skip the -j 2 figure")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="bpk-floor-"))
    print(f"machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}; "
          f"{args.n} copies of each reference notebook; cold = BACKPROP_KIT_WARM=0, whole "
          "command; per notebook = whole command / copies; cpu = the command's process tree")
    warm = None if args.no_warm else WarmGrader(work)
    try:
        for assignment in args.assignments:
            during = load()
            wall, cpu, forked = floor(assignment)
            print(f"\n{assignment}: floor {wall * 1000:.1f} ms a notebook (cpu {cpu * 1000:.1f} "
                  f"ms; {during}); in a fresh fork of that warm process {forked * 1000:.1f} ms "
                  f"cpu = {forked / cpu:.2f}x")
            submitted = copies(assignment, work, args.n)
            sampled = copies(assignment, work / "sampled", min(args.n, MEMORY_N))
            plans = [("-j 1 cold", 1, COLD)]
            if not args.no_j2:
                plans.append(("-j 2 cold", 2, COLD))
            if warm is not None:
                plans.append(("-j 1 warm", 1, warm.env))
            figures = {}
            for label, jobs, env in plans:
                runs = []
                for _ in range(args.repeat):
                    if env is not COLD and warm is not None:
                        warm.ready()
                    runs.append(grade(assignment, submitted, work / "out", jobs, env))
                run = sorted(runs, key=lambda r: r["wall"])[len(runs) // 2]
                if env is COLD:  # the memory, from a run of its own (sampling slows it)
                    run["worker_pss"] = grade(assignment, sampled, work / "out", jobs, env,
                                              sample=True)["worker_pss"]
                figures[label] = run
                per = run["wall"] / run["n"]
                spent = ("" if env is not COLD else  # a warm grader's work is not the command's
                         f" (cpu {run['cpu'] / run['n'] * 1000:.1f} ms a notebook = "
                         f"{run['cpu'] / run['n'] / cpu:.2f}x the floor's; worker "
                         f"{mb(run['worker_pss']).strip()} PSS)")
                print(f"  grade {label}: {run['wall']:6.2f} s = {per * 1000:6.1f} ms a notebook "
                      f"= {per / wall:4.2f}x the floor{spent}; "
                      f"{'full marks' if run['full'] else '!! NOT full marks'} ({run['load']})")
                print(f"      of which: the notebook's sandboxed process (median, request to "
                      f"reply) {run['child'] * 1000:.1f} ms; the grading loop "
                      f"{run['loop'] / run['n'] * 1000:.1f} ms a notebook; start-up and reports "
                      f"{run['wall'] - run['loop']:.2f} s")
            if "-j 2 cold" in figures:
                one, two = figures["-j 1 cold"]["wall"], figures["-j 2 cold"]["wall"]
                print(f"  -j 2 is {one / two:.2f}x as fast as -j 1 (target >= 1.8)")
    finally:
        if warm is not None:
            warm.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
