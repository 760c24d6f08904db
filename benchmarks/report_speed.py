"""How fast are the class report and a regrade of a big class? Builds a class of N backprop
submissions (default 1,000) whose answers are derived from solutions/, then times the real
commands, as separate processes:

    python benchmarks/report_speed.py [--students N] [--keep DIR [--reuse]]

(``--reuse`` times a class an earlier run kept in DIR: building it judges every answer in
this process first, a minute of CPU for 1,000 — spared to a shared machine when the same
class is timed again, e.g. old and new code in turns.)

- ``backprop-kit report results.json --out DIR``
- ``backprop-kit regrade`` after one question's rubric changed (its answers judged again,
  every report written again, the class report too)
- ``backprop-kit regrade --all`` (every answer judged again, as after a new checker)

Targets (issue 27), 1,000 submissions on the project's 2-core machine, whole commands:
``report`` <= 5 s, ``regrade --all`` <= 15 s, and the one-question ``regrade`` as fast as it
can be (issue 16 asked 30 s of each). The load average is printed beside each figure: on a
shared machine compare figures of the same load only (old and new code in turns).

The class is deliberately varied, as real classes are: right answers in several forms and with
each student's own spacing (so each is judged on its own), the usual slips, a wrong answer
of one's own for one student in six, unreadable text, blanks, sympy objects as well as text,
numbers and vectors near and far from the reference, functions that pass some probes, and a
few notebooks that timed out or were not notebooks.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import sympy

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from autograder import __version__  # noqa: E402
from autograder.judge import transport  # noqa: E402
from autograder.judge.checks import run_probes  # noqa: E402
from autograder.report import reports  # noqa: E402
from autograder.results import GradingRun, SubmissionResult  # noqa: E402
from autograder.rubric.course import questions  # noqa: E402
from autograder.rubric.question import PROJECTIONS, Question  # noqa: E402
from autograder.run.grader import Grader, Settings, failed_result  # noqa: E402
from autograder.run.notebooks import Submission  # noqa: E402

CHANGED = "backprop-dR-dw12"


def spaced(text: str, rng: random.Random) -> str:
    """The same expression as a student might type it: spaces here and there."""
    return "".join(ch + (" " if ch in "+-/(" and rng.random() < 0.4 else "") for ch in text)


def expression_answer(q: Question, rng: random.Random) -> dict | None:
    e = q.expected
    roll = rng.random()
    if roll < 0.05:
        return None
    if roll < 0.55:
        value = rng.choice([e, sympy.expand(e), sympy.factor(e)])
    elif roll < 0.75:
        value = rng.choice([-e, e / 2, 2 * e])
    elif roll < 0.92:
        value = e * rng.randint(3, 40) + rng.choice(sorted(e.free_symbols, key=str))
    elif roll < 0.97:
        return {"type": "text", "text": f"d/dw ({rng.randint(0, 999)}"}
    else:
        return {"type": "text", "text": rng.choice(["", "?", "I don't know"])}
    if rng.random() < 0.3:
        return transport.encode(value)
    return {"type": "text", "text": spaced(sympy.sstr(value), rng)}


def numeric_answer(q: Question, rng: random.Random) -> dict | None:
    expected = q.expected
    values = [float(v) for v in (expected if q.kind == "array" else [expected])]
    roll = rng.random()
    if roll < 0.05:
        return None
    if roll < 0.6:
        got = values
    elif roll < 0.8:
        got = [round(v, 3) for v in values]
    else:
        got = [v + rng.uniform(-1, 1) for v in values]
    if q.kind == "number":
        return {"type": "number", "value": got[0]}
    return {"type": "array", "value": got}


def function_answer(q: Question, expected: list, rng: random.Random) -> dict | None:
    if rng.random() < 0.05:
        return None
    outputs = json.loads(json.dumps(expected))
    for out in outputs:
        if rng.random() < 0.3:
            value = out["value"]
            out["value"] = ([v + rng.uniform(-1, 1) for v in value] if isinstance(value, list)
                            else value + rng.uniform(-1, 1))
    return {"type": "outputs", "outputs": outputs}


def build_class(n: int, seed: int = 16) -> tuple[GradingRun, float]:
    """N judged submissions of the backprop assignment, and the seconds judging took."""
    rng = random.Random(seed)
    qs = list(questions("backprop"))
    expected_outputs = {q.id: run_probes(q.expected, q.probes, PROJECTIONS[q.project])
                        for q in qs if q.kind == "function"}
    grader = Grader("backprop", qs, Settings())
    started = time.perf_counter()
    subs = []
    for i in range(n):
        student = f"student{i:04d}"
        if rng.random() < 0.01:
            sub = Submission(student, Path(f"submitted/{student}/backprop.ipynb"))
            subs.append(failed_result(sub, "backprop", qs, "invalid", "not a notebook"))
            continue
        results = []
        for q in qs:
            if q.kind == "expression":
                data = expression_answer(q, rng)
            elif q.kind == "function":
                data = function_answer(q, expected_outputs[q.id], rng)
            else:
                data = numeric_answer(q, rng)
            message = None if data is None else {"data": data}
            results.append(grader.judge_answer(q, message))
        status = "timeout" if rng.random() < 0.02 else "graded"
        subs.append(SubmissionResult(student, "backprop", f"submitted/{student}/backprop.ipynb",
                                     tuple(results), status))
    return GradingRun("backprop", __version__, tuple(subs)), time.perf_counter() - started


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed(args: list[str]) -> tuple[float, str]:
    """Seconds the command took, and the last line it printed (with the load average and the
    CPU seconds of the command's process tree: on a shared machine the steadier figure)."""
    started, cpu = time.perf_counter(), _children_cpu()
    done = subprocess.run(args, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        sys.exit(f"{' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    return seconds, (f"load {os.getloadavg()[0]:.1f}, CPU {_children_cpu() - cpu:.1f} s; "
                     + done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--students", type=int, default=1000)
    parser.add_argument("--keep", type=Path, default=None, help="keep the files here")
    parser.add_argument("--jobs", type=int, default=2, help="report's and regrade's --jobs")
    parser.add_argument("--reuse", action="store_true",
                        help="time the class kept in --keep DIR by an earlier run (of the same "
                             "--students) instead of building it again")
    args = parser.parse_args()
    base = args.keep or Path(tempfile.mkdtemp(prefix="bpk-report-bench-"))
    base.mkdir(parents=True, exist_ok=True)
    results = base / "results.json"
    changed = base / "changed" / "results.json"  # as if one question's credit had changed
    if args.reuse:
        if args.keep is None or not changed.exists():
            sys.exit("--reuse needs --keep DIR holding a class an earlier run kept")
        run, judging = GradingRun.read(results), float("nan")
        if len(run.submissions) != args.students:
            sys.exit(f"{results} holds {len(run.submissions)} submissions, not {args.students}")
    else:
        run, judging = build_class(args.students)
        reports.write_atomic(results, reports.results_json(run))
        reports.write_atomic(changed, reports.results_json(replace(run, submissions=tuple(
            replace(s, questions=tuple(replace(q, rubric_version="older") if q.id == CHANGED
                                       else q for q in s.questions))
            for s in run.submissions))))
    for folder in ("report", "regrade1", "regrade"):  # each command writes a fresh folder
        shutil.rmtree(base / folder, ignore_errors=True)
    cli = str(Path(sys.executable).parent / "backprop-kit")
    load = os.getloadavg()[0]
    report_s, report_said = timed([cli, "report", str(results), "--out", str(base / "report"),
                                   "--jobs", str(args.jobs)])
    one_s, one_said = timed([cli, "regrade", str(changed), "--out", str(base / "regrade1"),
                             "--jobs", str(args.jobs)])
    regrade_s, said = timed([cli, "regrade", str(results), "--out", str(base / "regrade"),
                             "--jobs", str(args.jobs), "--all"])
    page = base / "report" / "class-report.html"
    print(f"class of {len(run.submissions)} submissions, {results.stat().st_size / 1e6:.1f} MB "
          f"results.json (first judging in-process: {judging:.1f} s)")
    print(f"backprop-kit report : {report_s:6.1f} s  (-j {args.jobs}; page "
          f"{page.stat().st_size / 1e6:.2f} MB; {report_said.split(';')[0]})")
    print(f"backprop-kit regrade (one question's rubric changed): {one_s:6.1f} s  "
          f"(-j {args.jobs}; it said: {one_said})")
    print(f"backprop-kit regrade --all (every answer judged again): {regrade_s:6.1f} s  "
          f"(-j {args.jobs}; it said: {said})")
    print(f"load average before/after: {load:.1f}/{os.getloadavg()[0]:.1f} on "
          f"{os.cpu_count()} cores")
    for name, seconds, target in (("report", report_s, 5), ("regrade --all", regrade_s, 15)):
        print(f"target <= {target} s: {name} {'met' if seconds <= target else 'MISSED'}")
    if args.keep is None:
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
