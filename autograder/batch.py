"""A grading run over many submissions: shards, resume after an interruption, progress, and
the reports at the end. The command line is a thin layer over ``run_batch``."""

from __future__ import annotations

import json
import re
import shutil
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from autograder import __version__, reports
from autograder.grading import Settings, grade_many
from autograder.results import GradingRun, SubmissionResult
from autograder.rubric import Question
from autograder.runner_client import Runner
from autograder.submissions import Submission

PARTIAL_DIR = ".partial"


@dataclass(frozen=True)
class BatchOptions:
    out: Path
    jobs: int = 1
    resume: bool = False
    shard: str | None = None
    sandbox: str = "landlock"


def _partial_path(out: Path, sub: Submission) -> Path:
    return out / PARTIAL_DIR / (reports.safe_name(sub.key) + ".json")


def load_finished(out: Path, subs: list[Submission]) -> dict[str, SubmissionResult]:
    """Results an interrupted run already wrote, by submission key."""
    done = {}
    for sub in subs:
        path = _partial_path(out, sub)
        if path.exists():
            try:
                done[sub.key] = SubmissionResult.from_dict(json.loads(path.read_text()))
            except (ValueError, KeyError, TypeError):
                continue  # a damaged partial result is simply graded again
    return done


_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2066-\u2069]")


def terminal_safe(text: str) -> str:
    """Text fit for a terminal or a CI log: control characters (escape sequences, carriage
    returns, bidirectional overrides) become "?", and no line starts with "::" (which GitHub
    Actions would read as a workflow command)."""
    lines = []
    for line in str(text).split("\n"):
        line = _CONTROL.sub("?", line)
        if line.lstrip().startswith("::"):
            line = line.replace("::", ": :", 1)
        lines.append(line)
    return "\n".join(lines)


class Progress:
    """One line on stderr: count, rate and time left; redrawn in place on a terminal."""

    def __init__(self, total: int, stream=sys.stderr) -> None:
        self.total, self.done, self.stream = total, 0, stream
        self.started = time.monotonic()
        self.tty = stream.isatty()
        self._last_percent = -10

    def step(self, label: str) -> None:
        self.done += 1
        elapsed = time.monotonic() - self.started
        rate = self.done / elapsed if elapsed > 0 else 0.0
        eta = (self.total - self.done) / rate if rate else 0.0
        percent = 100 * self.done // max(self.total, 1)
        line = (f"graded {self.done}/{self.total} ({percent}%) {rate:.1f}/s, "
                f"about {eta:.0f} s left - {terminal_safe(label).replace(chr(10), ' ')}")
        if self.tty:
            self.stream.write("\r" + line[:110].ljust(110))
            if self.done == self.total:
                self.stream.write("\n")
        elif percent >= self._last_percent + 10 or self.done == self.total:
            self._last_percent = percent
            self.stream.write(line + "\n")
        self.stream.flush()


def run_batch(
    subs: list[Submission], assignment: str, questions: list[Question], settings: Settings,
    options: BatchOptions, on_result: Callable[[SubmissionResult], None] | None = None,
    runner: Runner | None = None,
    finish: Callable[[GradingRun], GradingRun] | None = None,
) -> GradingRun:
    """Grade ``subs`` into ``options.out``; each result is saved as it finishes."""
    out = options.out
    if not options.resume:
        shutil.rmtree(out / PARTIAL_DIR, ignore_errors=True)
    finished = load_finished(out, subs) if options.resume else {}
    todo = [s for s in subs if s.key not in finished]
    from autograder.classreport import MIN_PLOTTED, write_class_report

    # the reports' templates are compiled, and the class report's matplotlib imported, while
    # the notebooks run (with -j 1 this process only waits for the runner meanwhile; with
    # more jobs it forks, so no thread)
    warming = _warm_reports(len(subs) >= MIN_PLOTTED) if options.jobs == 1 else None
    started = time.monotonic()
    progress = Progress(len(todo)) if todo else None
    for sub, result in grade_many(todo, assignment, questions, settings, options.jobs,
                                   runner):
        reports.write_atomic(_partial_path(out, sub), json.dumps(result.to_dict()))
        finished[sub.key] = result
        if progress:
            progress.step(result.student)
        if on_result:
            on_result(result)
    ordered = tuple(sorted(finished.values(), key=lambda r: (r.student, r.source)))
    run = GradingRun(assignment, __version__, ordered, time.monotonic() - started,
                     options.shard, run_sandbox(ordered, options.sandbox))
    if finish is not None:  # e.g. join the hand-graded points before the reports are written
        run = finish(run)
    reports.write_reports(run, out)
    if warming is not None:
        warming.join()
    write_class_report([run], out, lambda name: questions if name == assignment else None)
    shutil.rmtree(out / PARTIAL_DIR, ignore_errors=True)  # the reports now hold every result
    return run


def _warm_reports(plots: bool) -> threading.Thread:
    """In a thread: compile the pages' templates and, when the class report will plot,
    import matplotlib (together about half a second of a one-notebook run)."""

    def load() -> None:
        try:
            from autograder import classreport, pages

            pages.environment().get_template("feedback.html.j2")
            classreport.template()
            if plots:
                import matplotlib.backends.backend_svg  # noqa: F401
                import matplotlib.figure  # noqa: F401
        except Exception:  # noqa: BLE001,S110 -- the reports do it again and say why
            pass

    thread = threading.Thread(target=load, name="bpk-reports", daemon=True)
    thread.start()
    return thread


def run_sandbox(results: tuple[SubmissionResult, ...], default: str) -> str:
    """The run's sandbox, as the submissions that ran report it ("mixed" if they differ)."""
    used = {r.sandbox for r in results if r.status not in ("invalid", "error")}
    if len(used) == 1:
        return used.pop()
    return "mixed" if used else default
