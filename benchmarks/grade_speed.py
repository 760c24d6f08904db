"""Grading speed: ``backprop-kit grade`` against ``nbgrader autograde`` on the same machine.

    python benchmarks/grade_speed.py [--n 1000] [--n-j1 200] [--nbgrader-n 20]

Makes N submissions of the ``backprop`` assignment in an nbgrader ``submitted/`` tree (mostly
honest work, some slips and unfinished notebooks, a few hostile ones: an infinite loop, a
tampering notebook, a file that is not a notebook), then prints, for each grader:

* seconds per submission (median over the batch) and submissions per second at -j 1 / -j 2;
* peak memory (resident set, sampled from /proc in untimed runs on 60 students) of each
  kind of process;
* the ratio of the two;
* whole commands, start to exit (issue 15): ``grade`` and ``check`` of one notebook, cold, served
  by a warm grader (``backprop-kit warm``) whose worker is ready, and back to back; 20
  submissions at -j 1, cold and warm, beside ``nbgrader autograde`` of the same 20 in the same
  run;
* where one submission's time goes: the runner's round trip (the child from fork to its last
  answer), judging, the first submission's judging, the sandbox's part;

and the checker's own figures (``check_expression`` median and p99 over the test table), and
what the sandbox costs per submission (the same notebooks graded with and without it).
Targets (issue #5): >= 20x nbgrader per submission; 1000 submissions in < 2 min with -j 2 on
two cores; < 300 MB per worker; check_expression median < 20 ms, p99 < 500 ms.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from autograder.course import examples  # noqa: E402

BIN = Path(sys.executable).parent
TIMEOUT = 10  # seconds a notebook may run, for both graders
MEMORY_N = 60  # students graded again, untimed, to sample the memory of a worker


# --- the submissions -----------------------------------------------------------------------

def mix(n: int) -> list[str]:
    """Which example each of n students hands in: ~82% right, ~12% slips, ~5% unfinished or
    blank, and a few hostile ones (at most one infinite loop per 500)."""
    kinds = []
    for i in range(n):
        if i % 500 == 250:
            kinds.append("infinite-loop")
        elif i % 100 == 13:
            kinds.append("tampering")
        elif i % 100 == 17:
            kinds.append("not-a-notebook")
        elif i % 8 == 3:
            kinds.append(("sign-slip", "wrong-variable", "missing-factor")[(i // 8) % 3])
        elif i % 20 == 6:
            kinds.append(("unfinished", "blank")[(i // 20) % 2])
        else:
            kinds.append("right")
    return kinds


def make_submissions(source: Path, root: Path, n: int) -> list[str]:
    """``root/submitted/student-NNNN/backprop/backprop.ipynb``; returns the kinds in order."""
    bank = examples.backprop_examples(source)
    texts = {k: v if isinstance(v, str) else json.dumps(v) for k, v in bank.items()}
    kinds = mix(n)
    for i, kind in enumerate(kinds):
        folder = root / "submitted" / f"student-{i:04d}" / "backprop"
        folder.mkdir(parents=True)
        (folder / "backprop.ipynb").write_text(texts[kind], encoding="utf-8")
    return kinds


# --- measuring -----------------------------------------------------------------------------

def _status(pid: int) -> dict[str, str]:
    out = {}
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            key, _, value = line.partition(":")
            out[key] = value.strip()
    except OSError:
        pass
    return out


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def _pss(pid: int) -> int:
    """Proportional set size: resident memory with pages shared after fork split among the
    processes that share them (RSS would count a forked child's shared pages twice)."""
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


class MemorySampler(threading.Thread):
    """Peak resident memory (VmHWM) of every process below ``root``, with its role, and the
    peak proportional set size (sampled) of each role."""

    def __init__(self, root: int, classify) -> None:
        super().__init__(daemon=True)
        self.root, self.classify = root, classify
        self.peaks: dict[int, tuple[str, int]] = {}
        self.pss: dict[str, int] = {}
        self.stopped = threading.Event()

    def _tree(self) -> dict[int, int]:
        parents = {}
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                ppid = _status(int(entry.name)).get("PPid")
                if ppid:
                    parents[int(entry.name)] = int(ppid)
        tree, frontier = {self.root: 0}, [self.root]
        while frontier:
            parent = frontier.pop()
            for pid, ppid in parents.items():
                if ppid == parent and pid not in tree:
                    tree[pid] = parent
                    frontier.append(pid)
        return tree

    def run(self) -> None:
        while not self.stopped.is_set():
            tree = self._tree()
            for pid, ppid in tree.items():
                hwm = _status(pid).get("VmHWM", "0 kB").split()[0]
                role = self.peaks.get(pid, (None,))[0] or self.classify(pid, ppid, self.root)
                self.peaks[pid] = (role, max(int(hwm) * 1024, self.peaks.get(pid, ("", 0))[1]))
                self.pss[role] = max(self.pss.get(role, 0), _pss(pid))
            self.stopped.wait(0.05)

    def by_role(self) -> dict[str, int]:
        roles: dict[str, int] = {}
        for role, peak in self.peaks.values():
            roles[role] = max(roles.get(role, 0), peak)
        return roles


def _classify_bpk(pid: int, ppid: int, root: int) -> str:
    if pid == root:
        return "main"
    if "autograder.run.runner" in _cmdline(pid):
        if "autograder.run.runner" not in _cmdline(ppid):
            return "runner"
        grandparent = int(_status(ppid).get("PPid", "0") or 0)
        # runner -> supervisor (one per submission) -> the student's process (and, with a PID
        # namespace, its init in between, which is a fork of the same pages)
        return "student" if "autograder.run.runner" in _cmdline(grandparent) else "supervisor"
    return "worker"


def _classify_nbgrader(pid: int, ppid: int, root: int) -> str:
    return "nbgrader" if pid == root else "kernel"


def run_measured(cmd: Sequence[str], cwd: Path, classify, env: dict[str, str] | None = None,
                 on_line=None, memory: bool = True) -> tuple[float, dict[str, int], int]:
    """Run a command; its wall time, the peak memory of each role (``memory``: sampled every
    50 ms from /proc, which costs CPU beside a short command: its timing is taken without)
    and its exit code."""
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)
    sampler = MemorySampler(proc.pid, classify)
    if memory:
        sampler.start()
    assert proc.stderr is not None
    tail = []
    for line in proc.stderr:
        tail = (tail + [line])[-20:]
        if on_line:
            on_line(line, time.perf_counter())
    code = proc.wait()
    elapsed = time.perf_counter() - started
    sampler.stopped.set()
    if memory:
        sampler.join()
    failed = [line.strip() for line in tail if "There was an error processing" in line]
    if code != 0:
        print(f"  ({Path(cmd[0]).name} exited with {code}"
              + (f": {'; '.join(failed)}" if failed else ":\n" + "".join(tail)) + ")")
    return elapsed, {"rss": sampler.by_role(), "pss": sampler.pss}, code


def mb(n: int) -> str:
    return f"{n / 2**20:6.0f} MB"


# --- the two graders -----------------------------------------------------------------------

def bpk_grade(course: Path, out: Path, jobs: int, students: int | None = None,
              env: dict[str, str] | None = None, memory: bool = True) -> dict:
    submitted = course / "submitted"
    if students is not None:
        subset = course / f"subset-{students}"
        if not subset.exists():
            for d in sorted(submitted.iterdir())[:students]:
                shutil.copytree(d, subset / d.name)
        submitted = subset
    cmd = [str(BIN / "backprop-kit"), "grade", str(submitted), "-a", "backprop", "-o", str(out),
           "-j", str(jobs), "--timeout", str(TIMEOUT)]
    elapsed, roles, code = run_measured(cmd, course, _classify_bpk, env, memory=memory)
    results = json.loads((out / "results.json").read_text())
    subs = results["submissions"]
    return {"elapsed": elapsed, "roles": roles, "n": len(subs), "code": code, "jobs": jobs,
            "median": statistics.median(s["seconds"] for s in subs),
            "sandbox": sorted({s["sandbox"] for s in subs if s["status"] != "invalid"}),
            "statuses": dict(sorted(Counter(s["status"] for s in subs).items())),
            "points": {s["student"]: sum(q["points"] for q in s["questions"]) for s in subs}}


def nbgrader_autograde(course: Path, n: int) -> dict:
    """``nbgrader autograde`` on the first n students, in a copy of the course that holds only
    them (nbgrader grades every student it finds)."""
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    only = course.parent / "nbgrader-course"
    if not only.exists():
        only.mkdir()
        shutil.copytree(course / "assignments", only / "assignments")
        shutil.copy2(course / "nbgrader_config.py", only)
        for student in sorted(p.name for p in (course / "submitted").iterdir())[:n]:
            shutil.copytree(course / "submitted" / student, only / "submitted" / student)
    subprocess.run([str(BIN / "nbgrader"), "generate_assignment", "backprop", "--force"],
                   cwd=only, env=env, check=True, capture_output=True)
    stamps: list[float] = []

    def on_line(line: str, when: float) -> None:
        if "Sanitizing" in line:  # logged once as each submission starts
            stamps.append(when)

    cmd = [str(BIN / "nbgrader"), "autograde", "backprop", "--force",
           f"--ExecutePreprocessor.timeout={TIMEOUT}"]
    elapsed, roles, code = run_measured(cmd, only, _classify_nbgrader, env, on_line)
    gaps = [b - a for a, b in zip(stamps, stamps[1:], strict=False)]
    per = statistics.median(gaps) if gaps else elapsed / max(n, 1)
    return {"elapsed": elapsed, "roles": roles, "n": n, "median": per, "code": code,
            "course": only}


def nbgrader_points(course: Path) -> dict[str, float]:
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        return {s.student.id: s.score for s in gb.assignment_submissions("backprop")}


def sandbox_cost(course: Path, n: int) -> tuple[float, float]:
    """Median seconds per honest submission graded with and without the sandbox (-j 1), the
    two graders taking turns on the same notebooks so that the machine's drift cancels."""
    from autograder.grade.submissions import discover
    from autograder.rubric.course import questions
    from autograder.run.grader import Grader, Settings

    subs = discover([course / "submitted"], "backprop")
    kinds = mix(len(subs))
    honest = [s for s, kind in zip(subs, kinds, strict=True) if kind == "right"][:n]
    graders = [Grader("backprop", questions("backprop"),
                      Settings(timeout=TIMEOUT, require_sandbox=confine, confine=confine))
               for confine in (True, False)]
    seconds: list[list[float]] = [[], []]
    try:
        for grader in graders:
            grader.grade(honest[0])  # start each runner before timing
        for sub in honest:
            for i, grader in enumerate(graders):
                seconds[i].append(grader.grade(sub).seconds)
    finally:
        for grader in graders:
            grader.close()
    return statistics.median(seconds[0]), statistics.median(seconds[1])


def per_submission_split(submitted: Path, n: int) -> dict[str, float]:
    """Where a submission's time goes at -j 1 (medians over n submissions of the mix, after
    the first): the round trip to the runner (fork, sandbox, the notebook's cells, the reply),
    the child's own time from fork to its last answer, and judging here (the rest). The first
    submission's judging (references built, secret points drawn) is given apart."""
    from autograder.grade.submissions import discover
    from autograder.rubric.course import questions
    from autograder.run.grader import Grader, Settings
    from autograder.run.protocol import Reply, Request

    subs = discover([submitted], "backprop")[:n + 1]
    grader = Grader("backprop", questions("backprop"), Settings(timeout=TIMEOUT))
    trips: list[tuple[float, float]] = []
    runner = grader.runner
    send, receive = runner.send, runner.receive
    sent: list[float] = []

    def timed_send(request: Request) -> None:
        sent.append(time.perf_counter())
        send(request)

    def timed_receive() -> Reply:
        reply = receive()
        trips.append((time.perf_counter() - sent.pop(0), reply.seconds))
        return reply

    runner.send, runner.receive = timed_send, timed_receive  # type: ignore[method-assign]
    totals = []
    try:
        grader.runner.start()._wait_ready()  # the runner's start-up is not a submission's
        for sub in subs:
            count = len(trips)
            started = time.perf_counter()
            result = grader.grade(sub)
            if result.status == "error":  # a broken measurement, not a submission's time
                raise SystemExit(f"{sub.student}: {result.errors}")
            totals.append((time.perf_counter() - started,
                           trips[count] if len(trips) > count else (0.0, 0.0)))
    finally:
        grader.close()
    first, rest = totals[0], totals[1:]
    return {
        "total": statistics.median(t for t, _ in rest),
        "trip": statistics.median(trip for _, (trip, _c) in rest),
        "child": statistics.median(child for _, (_t, child) in rest),
        "judge": statistics.median(t - trip for t, (trip, _c) in rest),
        "first_judge": first[0] - first[1][0],
    }


def earlier_notebook(commit: str, work: Path, n: int) -> Path:
    """n + 1 copies of the backprop source notebook (its solutions filled in) of an earlier
    commit, e.g. the round's start, as a submitted/ tree: today's grader on yesterday's
    notebook is the like-for-like figure beside the one measured then."""
    text = subprocess.run(["git", "-C", str(ROOT), "show",
                           f"{commit}:assignments/backprop/backprop.ipynb"],
                          capture_output=True, text=True, check=True).stdout
    root = work / f"earlier-{commit}"
    for i in range(n + 1):
        folder = root / f"student-{i:04d}" / "backprop"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "backprop.ipynb").write_text(text, encoding="utf-8")
    return root


def load() -> str:
    """The machine's load average over the last minute, printed beside each figure."""
    return f"load {os.getloadavg()[0]:.1f}"


# --- whole commands (issue 15): what an instructor or a student waits for ----------------------

COLD = {**os.environ, "BACKPROP_KIT_WARM": "0"}  # a command that never uses a warm grader


def _timed(cmd: Sequence[str], cwd: Path, env: dict[str, str], repeat: int = 5,
           before=None) -> tuple[float, str]:
    """Median wall-clock seconds of the whole command, start to exit, and the load before;
    ``before`` runs (untimed) before each repetition."""
    times = []
    during = load()
    for _ in range(repeat):
        if before is not None:
            before()
        started = time.perf_counter()
        subprocess.run(cmd, cwd=cwd, env=env, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, check=False)
        times.append(time.perf_counter() - started)
    return statistics.median(times), during


class WarmGrader:
    """``backprop-kit warm`` in a runtime folder of the benchmark's own; ``ready()`` waits
    until its worker for the next command has prepared (what a person's pause between two
    commands gives it)."""

    def __init__(self, work: Path) -> None:
        runtime = work / "runtime"
        runtime.mkdir(mode=0o700, exist_ok=True)
        self.env = {k: v for k, v in os.environ.items() if k != "BACKPROP_KIT_WARM"}
        self.env["XDG_RUNTIME_DIR"] = str(runtime)
        self.folder = runtime / f"backprop-kit-warm-{os.getuid()}"
        self.work = work
        subprocess.run([str(BIN / "backprop-kit"), "warm", "--idle", "60"], env=self.env,
                       cwd=work, check=True, capture_output=True)

    def log(self) -> str:
        return "".join(p.read_text() for p in self.folder.glob("*.log"))

    def ready(self) -> None:
        """Wait until the worker for the next command said it is ready."""
        until = time.monotonic() + 60
        while True:
            lines = self.log().splitlines()
            readies = [i for i, line in enumerate(lines) if " ready, " in line]
            commands = [i for i, line in enumerate(lines) if "] command " in line
                        and "ended" not in line]
            if readies and (not commands or readies[-1] > commands[-1]):
                return
            if time.monotonic() > until:
                raise RuntimeError("the warm grader's worker never got ready:\n"
                                   + "\n".join(lines[-10:]))
            time.sleep(0.05)

    def stop(self) -> None:
        subprocess.run([str(BIN / "backprop-kit"), "warm", "--stop"], env=self.env,
                       cwd=self.work, check=False, capture_output=True)


def whole_commands(course: Path, work: Path, warm: WarmGrader) -> dict[str, tuple[float, str]]:
    """``backprop-kit grade`` on one notebook and ``backprop-kit check`` on one notebook: cold
    (no warm grader), served by a warm grader with its worker ready, and back to back (the
    next command at once, its worker still preparing)."""
    honest = sorted((course / "submitted").glob("*/backprop/backprop.ipynb"))[0]
    released = work / "released"
    released.mkdir(exist_ok=True)
    shutil.copy2(honest, released / "backprop.ipynb")
    shutil.copy2(course / "assignments" / "backprop" / "selfcheck.json", released)
    kit = str(BIN / "backprop-kit")
    commands = {
        "grade": [kit, "grade", str(released / "backprop.ipynb"), "-a", "backprop",
                  "--student", "honest", "-o", str(work / "out-one")],
        "check": [kit, "check", str(released / "backprop.ipynb")],
    }
    figures = {}
    for name, cmd in commands.items():
        figures[f"{name} cold"] = _timed(cmd, course, COLD)
        _timed(cmd, course, warm.env, repeat=1)  # what the worker prepares: this command's
        figures[f"{name} warm"] = _timed(cmd, course, warm.env, before=warm.ready)
        figures[f"{name} back to back"] = _timed(cmd, course, warm.env)
    return figures


# --- report --------------------------------------------------------------------------------

def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1000, help="submissions graded with -j 2")
    parser.add_argument("--n-j1", type=int, default=200, help="submissions graded with -j 1")
    parser.add_argument("--nbgrader-n", type=int, default=20,
                        help="submissions graded by nbgrader autograde (it is slow)")
    parser.add_argument("--skip-nbgrader", action="store_true")
    parser.add_argument("--keep", type=Path, default=None, help="work here and keep the files")
    parser.add_argument("--whole-only", action="store_true",
                        help="only the whole-command figures (one notebook; 20 beside nbgrader)")
    parser.add_argument("--earlier", metavar="COMMIT", default=None,
                        help="also grade COMMIT's backprop notebook with today's code "
                             "(e.g. the round's start) for a like-for-like per-submission "
                             "figure")
    args = parser.parse_args()

    work = args.keep or Path(tempfile.mkdtemp(prefix="bpk-bench-"))
    course = work / "course"
    if not course.exists():
        course.mkdir(parents=True)
        shutil.copytree(ROOT / "assignments", course / "assignments")
        shutil.copy2(ROOT / "nbgrader_config.py", course)
        kinds = make_submissions(course / "assignments", course, args.n)
    else:
        kinds = mix(args.n)
    counts = {k: kinds.count(k) for k in dict.fromkeys(kinds)}
    print(f"{args.n} submissions of 'backprop' in {course / 'submitted'}: "
          + ", ".join(f"{v} {k}" for k, v in counts.items()))
    print(f"machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}\n")

    warm = WarmGrader(work)
    try:
        whole = whole_commands(course, work, warm)
        print("whole commands, start to exit (issue 15 targets <= 1.0 s; median of 5)")
        for name in ("grade", "check"):
            print(f"  backprop-kit {name}, one notebook: "
                  + "; ".join(f"{how} {whole[f'{name} {how}'][0]:.2f} s "
                              f"({whole[f'{name} {how}'][1]})"
                              for how in ("cold", "warm", "back to back")))
        warm.ready()  # its next worker prepared: nothing of it runs beside the cold command
        during = load()
        # timed without the memory sampler: beside a command of 2-3 s its /proc reads cost
        # CPU the command would have (3.32 s with it, 2.96 s without, in turns at load 1-2)
        small = bpk_grade(course, work / "out-small", 1, args.nbgrader_n, COLD, memory=False)
        print(f"  backprop-kit grade -j 1, {small['n']} submissions: cold {small['elapsed']:.2f} s"
              f" ({during})", end="")
        warm.ready()
        during = load()
        served = bpk_grade(course, work / "out-small-warm", 1, args.nbgrader_n, warm.env,
                           memory=False)
        print(f"; warm {served['elapsed']:.2f} s ({during})")
        if served["points"] != small["points"]:
            print("  !! the warm grader's points differ from the cold command's")
    finally:
        warm.stop()
    if not args.skip_nbgrader:
        during = load()
        nb = nbgrader_autograde(course, args.nbgrader_n)
        print(f"  nbgrader autograde, the same {nb['n']} submissions: {nb['elapsed']:.2f} s "
              f"({during}) = {nb['elapsed'] / served['elapsed']:.1f}x backprop-kit warm, "
              f"{nb['elapsed'] / small['elapsed']:.1f}x cold (target >= 20x)")
    during = load()
    split = per_submission_split(course / "submitted", min(args.n, 40))
    print(f"\none submission at -j 1, median of {min(args.n, 40)} after the first ({during}): "
          f"{split['total'] * 1000:.0f} ms = runner round trip {split['trip'] * 1000:.0f} ms "
          f"(the child, fork to last answer: {split['child'] * 1000:.0f} ms) + judging "
          f"{split['judge'] * 1000:.0f} ms; the first submission's judging (references, secret "
          f"points) {split['first_judge'] * 1000:.0f} ms")
    if args.earlier:
        during = load()
        old = per_submission_split(earlier_notebook(args.earlier, work, 30), 30)
        print(f"  like for like: {args.earlier}'s backprop notebook graded by today's code, "
              f"median of 30 ({during}): {old['total'] * 1000:.0f} ms (the child "
              f"{old['child'] * 1000:.0f} ms); that commit measured its own grading of it")
    if args.whole_only:
        with_box, without_box = sandbox_cost(course, 10)
        print(f"  the sandbox's part: median {with_box * 1000:.0f} ms with it, "
              f"{without_box * 1000:.0f} ms without ({load()})")
        return
    print()

    # timed without the memory sampler (beside grading on two cores its /proc reads take a
    # share of the same cores); the memory comes from untimed runs on MEMORY_N students
    j1 = bpk_grade(course, work / "out-j1", 1, args.n_j1, memory=False)
    j2 = bpk_grade(course, work / "out-j2", 2, memory=False)
    for run in (j1, j2):
        run["roles"] = bpk_grade(course, work / "out-memory", run["jobs"], MEMORY_N)["roles"]
    print("backprop-kit grade")
    print(f"  -j 1: {j1['n']:5d} submissions in {j1['elapsed']:6.1f} s = "
          f"{j1['n'] / j1['elapsed']:6.1f}/s; median {j1['median'] * 1000:6.1f} ms a submission")
    print(f"  -j 2: {j2['n']:5d} submissions in {j2['elapsed']:6.1f} s = "
          f"{j2['n'] / j2['elapsed']:6.1f}/s; median {j2['median'] * 1000:6.1f} ms a submission"
          f"   (targets: 1000 in < 120 s, issue 5; in <= 30 s, issue 27)")
    for label, run in (("-j 1", j1), ("-j 2", j2)):
        # the realistic mix: its infinite loops time out, its broken files are invalid, and
        # nothing else is anything but graded ("error" is the grader's own failure)
        print(f"  statuses {label}: " + ", ".join(f"{k} {v}" for k, v in run["statuses"].items()))
    print(f"  sandbox of the notebooks that ran: {', '.join(j2['sandbox'])}")
    for label, run in (("-j 1", j1), ("-j 2", j2)):
        for kind, roles in run["roles"].items():
            # with -j 1 the main process grades (a "worker" seen then is a fork of it that has
            # not yet become the runner); with -j N the pool's workers do
            grader = roles.get("worker", 0) if run["jobs"] > 1 else roles.get("main", 0)
            per_worker = (grader + roles.get("runner", 0) + roles.get("supervisor", 0)
                          + roles.get("student", 0))
            print(f"  peak {kind.upper()} {label}: " + ", ".join(
                f"{k} {mb(v).strip()}" for k, v in sorted(roles.items()))
                + f"; a worker (worker + runner + supervisor + student) "
                f"{mb(per_worker).strip()}")
    print(f"  (sampled in untimed runs on {MEMORY_N} students; target < 300 MB a worker; RSS "
          "counts the pages a forked student shares with its runner twice, PSS splits them)")

    with_box, without_box = sandbox_cost(course, 100)
    print(f"  sandbox cost: median {with_box * 1000:.1f} ms with, {without_box * 1000:.1f} ms "
          f"without = {(with_box - without_box) * 1000:+.1f} ms a submission")

    if not args.skip_nbgrader:
        print("\nnbgrader autograde")
        print(f"  {nb['n']:5d} submissions in {nb['elapsed']:6.1f} s = "
              f"{nb['n'] / nb['elapsed']:6.2f}/s; median {nb['median'] * 1000:6.0f} ms a "
              f"submission")
        print("  peak RSS: " + ", ".join(f"{k} {mb(v).strip()}"
                                         for k, v in sorted(nb["roles"]["rss"].items())))
        print(f"\nratio (median per submission, nbgrader / backprop-kit -j 1): "
              f"{nb['median'] / j1['median']:.0f}x   (target >= 20x)")
        print(f"ratio (throughput, backprop-kit -j 2 / nbgrader): "
              f"{(j2['n'] / j2['elapsed']) / (nb['n'] / nb['elapsed']):.0f}x")
        try:
            theirs = nbgrader_points(nb["course"])
            same = sum(1 for s, p in theirs.items()
                       if abs(p - j2["points"].get(s, -1)) < 1e-6)
            print(f"same total as nbgrader on {same} of {len(theirs)} students "
                  "(hostile ones may differ: nbgrader runs the tests in the student's kernel)")
        except Exception as error:  # noqa: BLE001 -- a figure, not a failure
            print(f"(could not read nbgrader's gradebook: {error})")

    print("\ncheck_expression")
    subprocess.run([sys.executable, str(ROOT / "benchmarks" / "check_speed.py")], check=False)
    if args.keep is None:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
