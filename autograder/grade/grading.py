"""Grading of record (instructor side): many submissions at once, in worker processes with a
runner each, and the check that graded notebooks cannot read ``solutions``. One submission at a
time is :mod:`autograder.run.grader`.
"""

from __future__ import annotations

import multiprocessing.util
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from multiprocessing import get_context
from pathlib import Path
from typing import Any

from autograder.errors import BackpropKitError
from autograder.results import SubmissionResult
from autograder.rubric.question import Question, prepare_references
from autograder.run.client import Runner
from autograder.run.grader import Grader, Settings, failed_result
from autograder.run.notebooks import Submission


def ensure_answers_hidden() -> None:
    """Refuse to grade when the sandbox would let student code read ``solutions``: it does
    when the package is installed into site-packages instead of editable (``pip install -e``)."""
    from autograder.run import sandbox

    try:
        import solutions
    except ImportError:
        return
    leaked = sandbox.exposed([Path(solutions.__file__).parent])
    if leaked:
        raise BackpropKitError(
            f"{leaked[0]} lies inside the Python installation, where graded notebooks can read "
            "it; install backprop-kit editable (pip install -e .) from the course directory")


_worker: Grader | None = None


def _init_worker(assignment: str, questions: list[Question], settings: Settings,
                 runners: list[Runner], taken: Any) -> None:
    """A pool worker's grader, with the next of the runners the command started early (they
    pre-loaded while the command imported); the others' pipes are closed here."""
    global _worker
    with taken.get_lock():
        index = taken.value
        taken.value += 1
    mine = runners[index] if index < len(runners) else None
    for other in runners:
        if other is not mine:
            other.detach()
    _worker = Grader(assignment, questions, settings, runner=mine)
    # a pool worker ends without atexit; multiprocessing's own finalizers do run
    multiprocessing.util.Finalize(_worker, _worker.close, exitpriority=10)


def _grade_in_worker(sub: Submission) -> dict[str, Any]:
    assert _worker is not None
    return _worker.grade(sub).to_dict()


def grade_many(
    subs: Sequence[Submission], assignment: str, questions: Sequence[Question],
    settings: Settings, jobs: int = 1, runner: Runner | Sequence[Runner] | None = None,
) -> Iterator[tuple[Submission, SubmissionResult]]:
    """Grade in ``jobs`` worker processes, yielding each submission with its result as it
    finishes (not in order). ``runner``, started early by the caller (one, or one a job),
    serves the jobs (each is closed at the end either way)."""
    runners = ([] if runner is None else [runner] if isinstance(runner, Runner)
               else list(runner))
    for spare in runners[max(jobs, 1):] if subs else runners:
        spare.close()
    runners = runners[:max(jobs, 1)] if subs else []
    if not subs:
        return
    if jobs <= 1:
        grader = Grader(assignment, questions, settings,
                        runner=runners[0] if runners else None)
        grader.warm_runner = len(subs) > 1
        try:
            yield from grader.grade_each(subs)
        finally:
            grader.close()
        return
    # the references (secret points drawn here, for this run) built once, while the runners
    # pre-load, and inherited by the workers: each built them again on its first notebook
    prepare_references(questions)
    context = get_context("fork")
    try:
        with ProcessPoolExecutor(max_workers=jobs, mp_context=context,
                                 initializer=_init_worker,
                                 initargs=(assignment, list(questions), settings, runners,
                                           context.Value("i", 0))) as pool:
            futures = {pool.submit(_grade_in_worker, sub): sub for sub in subs}
            for future in as_completed(futures):
                sub = futures[future]
                try:
                    yield sub, SubmissionResult.from_dict(future.result())
                except Exception as error:  # noqa: BLE001 -- one broken worker never stops
                    yield sub, failed_result(sub, assignment, questions, "error",
                                             f"grader error: {error}")
    finally:
        for early in runners:
            early.close()
