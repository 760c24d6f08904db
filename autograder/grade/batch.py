"""A grading run over many submissions: shards, resume after an interruption, progress, and
the reports at the end. The command line is a thin layer over ``run_batch``."""

from __future__ import annotations

import json
import os
import shutil
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

import click

from autograder import __version__
from autograder.console import terminal_safe
from autograder.grade.grading import grade_many
from autograder.report import reports
from autograder.results import GradingRun, SubmissionResult
from autograder.rubric.question import Question
from autograder.run.client import Runner
from autograder.run.grader import Settings
from autograder.run.notebooks import Submission

PARTIAL_DIR = ".partial"


@dataclass(frozen=True)
class BatchOptions:
    out: Path
    jobs: int = 1
    resume: bool = False
    shard: str | None = None
    sandbox: str = "landlock"


JOURNAL = "results.jsonl"  # in PARTIAL_DIR: each finished result, one line, as it comes
SYNC_SECONDS = 1.0  # at most this much finished work is lost when the machine itself goes down


def _partial_path(out: Path, sub: Submission) -> Path:
    """Where an earlier version kept one finished result a file (still read by --resume)."""
    return out / PARTIAL_DIR / (reports.safe_name(sub.key) + ".json")


class Journal:
    """The finished results of a run, appended one JSON line each as they come (what
    ``--resume`` keeps), on disk at most ``SYNC_SECONDS`` later: one file written atomically
    a result cost two fsyncs a notebook (about 10 ms of a 40 ms notebook, at -j 1). A line cut
    short by a crash is simply graded again."""

    def __init__(self, out: Path, resume: bool) -> None:
        folder = out / PARTIAL_DIR
        if not resume:
            shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True, exist_ok=True)
        self._handle = open(folder / JOURNAL, "ab")  # noqa: SIM115 -- closed by close()
        self._synced = time.monotonic()

    def add(self, sub: Submission, result: SubmissionResult) -> None:
        line = json.dumps({"key": sub.key, "result": result.to_dict()}, ensure_ascii=True)
        self._handle.write(line.encode("ascii") + b"\n")
        self._handle.flush()
        if time.monotonic() - self._synced >= SYNC_SECONDS:
            os.fdatasync(self._handle.fileno())
            self._synced = time.monotonic()

    def close(self) -> None:
        self._handle.flush()
        os.fdatasync(self._handle.fileno())
        self._handle.close()


def load_finished(out: Path, subs: list[Submission]) -> dict[str, SubmissionResult]:
    """Results an interrupted run already wrote, by submission key."""
    keys = {sub.key for sub in subs}
    done = {}
    journal = out / PARTIAL_DIR / JOURNAL
    lines = journal.read_bytes().splitlines() if journal.is_file() else []
    for line in lines:
        try:
            entry = json.loads(line)
            if entry["key"] in keys:
                done[entry["key"]] = SubmissionResult.from_dict(entry["result"])
        except (ValueError, KeyError, TypeError):
            continue  # a damaged partial result is simply graded again
    for sub in subs:
        path = _partial_path(out, sub)
        if sub.key not in done and path.exists():
            try:
                done[sub.key] = SubmissionResult.from_dict(json.loads(path.read_text()))
            except (ValueError, KeyError, TypeError):
                continue
    return done


class Progress:
    """A batch's progress on stderr, used as a context manager with one ``step`` per result.

    On a terminal it is click's bar (a library's bar, not one of our own), which the ``with``
    always closes, so an interrupted run leaves the cursor visible. click's bar prints only its
    label when the stream is no terminal, so there (a CI log, a pipe) it writes one plain line
    at most every 10% and at the end, with the count, rate, time left and the student.
    Student names pass through ``terminal_safe`` either way."""

    def __init__(self, total: int, stream: TextIO | None = None) -> None:
        self.total, self.done = total, 0
        self.stream = sys.stderr if stream is None else stream
        self._started = time.monotonic()
        self._logged = -10  # the percentage of the last log line
        self._bar = None
        if total and self.stream.isatty():
            self._bar = click.progressbar(  # a name cut to 40 characters never wraps the bar
                length=total, label="graded", file=self.stream, show_pos=True, show_percent=True,
                width=20, item_show_func=lambda student: student and _one_line(student)[:40])

    def __enter__(self) -> Progress:
        if self._bar is not None:
            self._bar.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.render_finish()

    def step(self, student: str) -> None:
        """One submission graded: redraw the bar, or write a log line every 10%."""
        self.done += 1
        if self._bar is not None:
            self._bar.update(1, student)
            return
        percent = 100 * self.done // self.total
        if percent < self._logged + 10 and self.done < self.total:
            return
        self._logged = percent
        elapsed = time.monotonic() - self._started
        rate = self.done / elapsed if elapsed > 0 else 0.0
        left = (self.total - self.done) / rate if rate else 0.0
        self.stream.write(f"graded {self.done}/{self.total} ({percent}%) {rate:.1f}/s, "
                          f"about {left:.0f} s left - {_one_line(student)}\n")
        self.stream.flush()


def _one_line(student: str) -> str:
    """A student's name (a folder's name, chosen by the student) as one harmless line."""
    return terminal_safe(student).replace("\n", " ")


def run_batch(
    subs: list[Submission], assignment: str, questions: list[Question], settings: Settings,
    options: BatchOptions, on_result: Callable[[SubmissionResult], None] | None = None,
    runner: Runner | list[Runner] | None = None,
    finish: Callable[[GradingRun], GradingRun] | None = None,
) -> GradingRun:
    """Grade ``subs`` into ``options.out``; each result is saved as it finishes."""
    out = options.out
    finished = load_finished(out, subs) if options.resume else {}
    todo = [s for s in subs if s.key not in finished]
    from autograder.report.classreport import MIN_PLOTTED, write_class_report

    # the reports' templates are compiled, and the class report's matplotlib imported, while
    # the notebooks run (with -j 1 this process only waits for the runner meanwhile; with
    # more jobs it forks, so no thread)
    warming = _warm_reports(len(subs) >= MIN_PLOTTED) if options.jobs == 1 else None
    started = time.monotonic()
    journal = Journal(out, options.resume)
    try:
        with Progress(len(todo)) as progress:
            for sub, result in grade_many(todo, assignment, questions, settings, options.jobs,
                                           runner):
                journal.add(sub, result)
                finished[sub.key] = result
                progress.step(result.student)
                if on_result:
                    on_result(result)
    finally:
        journal.close()
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


def prepare_reports(plots: bool) -> None:
    """Compile the pages' templates and, when the class report will plot, import matplotlib
    (together about half a second of a one-notebook run): done while the notebooks run, or by
    a warm grader before the command comes (:mod:`autograder.cli.warm.server`)."""
    from autograder.report import classreport, pages

    pages.environment().get_template("feedback.html.j2")
    classreport.template()
    if plots:
        import matplotlib.backends.backend_svg  # noqa: F401
        import matplotlib.figure  # noqa: F401


def _warm_reports(plots: bool) -> threading.Thread:
    """In a thread: :func:`prepare_reports` (with -j 1 this process only waits for the runner
    meanwhile)."""

    def load() -> None:
        try:
            prepare_reports(plots)
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
