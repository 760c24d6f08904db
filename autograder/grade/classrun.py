"""A class graded or merged in one call: what ``backprop-kit grade`` and ``merge`` do between
parsing their options and printing. The steps after the notebooks are graded (the hand grades
from nbgrader's gradebook, the copying notes) are a named list, the same for both."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from autograder.errors import UsageError
from autograder.results import GradingRun
from autograder.run.client import Runner

AfterGrading = Callable[[GradingRun], GradingRun]
Warn = Callable[[str], None]


@dataclass(frozen=True)
class ClassRequest:
    """One class's grading, as ``backprop-kit grade`` is asked for it."""

    paths: Sequence[Path]
    assignment: str
    out: Path
    jobs: int = 1
    timeout: float = 60.0
    memory_mb: int = 1024
    shard: str | None = None
    resume: bool = False
    allow_unsandboxed: bool = False
    judge_seconds: float = 20.0
    gradebook: Path | None = None
    seed: str | None = None  # None: the course's; "": everyone on the lecture's numbers
    student: str | None = None  # the student of a single notebook outside nbgrader's layout


def after_grading(assignment: str, gradebook: Path | None, varied: bool
                  ) -> list[tuple[str, AfterGrading]]:
    """The steps after grading, in order, by name: ``hand grades`` (nbgrader's gradebook,
    when given) and ``copying`` (when students have their own numbers)."""
    steps: list[tuple[str, AfterGrading]] = []
    if gradebook is not None:
        from autograder.grade.gradebook import with_hand_grades
        from autograder.rubric.course import manual_questions

        if not gradebook.is_file():
            raise UsageError(f"{gradebook}: no such gradebook (nbgrader's gradebook.db)")
        manual = manual_questions(assignment)
        steps.append(("hand grades", lambda run: with_hand_grades(run, gradebook, manual)))
    if varied:
        from autograder.grade.copying import find_copying
        from autograder.rubric.course import variant_questions

        steps.append(("copying", lambda run: find_copying(
            run, lambda key: variant_questions(assignment, key))))
    return steps


def stale_notes(assignment: str) -> list[str]:
    """What changed since the released self-checks were made (empty: nothing), for ``grade``
    and ``regrade`` to warn about."""
    from autograder.rubric.course import find_course
    from autograder.rubric.lock import stale_release

    return [f"warning: {note}" for note in stale_release(find_course(), assignment)]


def finish(run: GradingRun, steps: Sequence[tuple[str, AfterGrading]]) -> GradingRun:
    for _name, step in steps:
        run = step(run)
    return run


def grade_class(request: ClassRequest, runners: Sequence[Runner] = (),
                warn: Warn = print) -> GradingRun:
    """Grade the class into ``request.out`` (results, reports, the class report) and return
    the run. ``runners``, started early by the caller, are used and closed."""
    from autograder.grade.batch import BatchOptions, run_batch
    from autograder.grade.grading import ensure_answers_hidden
    from autograder.grade.submissions import discover, shard
    from autograder.rubric.course import questions as assignment_questions
    from autograder.rubric.course import variant_seed
    from autograder.run import sandbox
    from autograder.run.client import assignment_plots, assignment_sympy
    from autograder.run.grader import Settings

    unpacked: list[Path] = []
    try:
        questions = list(assignment_questions(request.assignment))
        for note in stale_notes(request.assignment):
            warn(note)
        seed = (variant_seed() if request.seed is None else request.seed) or None
        steps = after_grading(request.assignment, request.gradebook, seed is not None)
        require, sandbox_name = sandbox.policy(request.allow_unsandboxed)
        if require:
            ensure_answers_hidden()
        else:
            warn(sandbox.UNSANDBOXED_WARNING)
        request.out.mkdir(parents=True, exist_ok=True)
        subs = shard(discover(list(request.paths), request.assignment, unpacked=unpacked,
                              student=request.student), request.shard)
        if not subs:
            raise UsageError(f"no notebooks for {request.assignment!r} found in the given "
                             "paths")
        settings = Settings(timeout=request.timeout, memory_mb=request.memory_mb,
                            require_sandbox=require, judge_seconds=request.judge_seconds,
                            preload_plots=assignment_plots(request.assignment),
                            preload_sympy=assignment_sympy(request.assignment),
                            variant_seed=seed)
        options = BatchOptions(request.out, request.jobs, request.resume, request.shard,
                               sandbox_name)
        return run_batch(subs, request.assignment, questions, settings, options,
                         runner=list(runners), finish=lambda run: finish(run, steps))
    finally:
        for runner in runners:
            runner.close()
        for folder in unpacked:  # unpacked zips never outlive the run
            shutil.rmtree(folder, ignore_errors=True)


def merge_class(folders: Sequence[Path], out: Path) -> GradingRun:
    """Join sharded runs (folders holding results.json) into one run, its reports and class
    report in ``out``: the after-grading steps that need the whole class run again (copying
    across shards shows only there; hand grades were joined in each shard)."""
    from autograder.report import reports
    from autograder.report.classreport import rubric_questions, write_class_report

    runs = []
    for folder in folders:
        path = Path(folder) / "results.json"
        try:
            runs.append(GradingRun.from_dict(json.loads(path.read_text(encoding="utf-8"))))
        except (OSError, ValueError, KeyError) as error:
            raise UsageError(f"{path}: not a results.json of backprop-kit ({error})") from None
    try:
        merged = GradingRun.merge(runs)
    except ValueError as error:
        raise UsageError(str(error)) from None
    varied = any(s.variant is not None for s in merged.submissions)
    merged = finish(merged, after_grading(merged.assignment, None, varied))
    reports.write_reports(merged, out)
    write_class_report([merged], out, rubric_questions)
    return merged
