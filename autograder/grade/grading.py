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
from autograder.rubric.question import Question
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


def _init_worker(assignment: str, questions: list[Question], settings: Settings) -> None:
    global _worker
    _worker = Grader(assignment, questions, settings)
    # a pool worker ends without atexit; multiprocessing's own finalizers do run
    multiprocessing.util.Finalize(_worker, _worker.close, exitpriority=10)


def _grade_in_worker(sub: Submission) -> dict[str, Any]:
    assert _worker is not None
    return _worker.grade(sub).to_dict()


def grade_many(
    subs: Sequence[Submission], assignment: str, questions: Sequence[Question],
    settings: Settings, jobs: int = 1, runner: Runner | None = None,
) -> Iterator[tuple[Submission, SubmissionResult]]:
    """Grade in ``jobs`` worker processes, yielding each submission with its result as it
    finishes (not in order). ``runner``, started early by the caller, serves ``jobs`` = 1
    (and is closed at the end either way)."""
    if not subs or jobs > 1:
        if runner is not None:
            runner.close()
    if not subs:
        return
    if jobs <= 1:
        grader = Grader(assignment, questions, settings, runner=runner)
        grader.warm_runner = len(subs) > 1
        try:
            for sub in subs:
                yield sub, grader.grade(sub)
        finally:
            grader.close()
        return
    with ProcessPoolExecutor(max_workers=jobs, mp_context=get_context("fork"),
                             initializer=_init_worker,
                             initargs=(assignment, list(questions), settings)) as pool:
        futures = {pool.submit(_grade_in_worker, sub): sub for sub in subs}
        for future in as_completed(futures):
            sub = futures[future]
            try:
                yield sub, SubmissionResult.from_dict(future.result())
            except Exception as error:  # noqa: BLE001 -- one broken worker never stops the batch
                yield sub, failed_result(sub, assignment, questions, "error",
                                         f"grader error: {error}")
