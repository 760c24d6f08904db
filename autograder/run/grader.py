"""Grade one notebook at a time: run it in the runner's confined child and judge each answer
here, in this process, with the judge given (the reference's by default; a self-check's for
``backprop-kit check``). Whatever goes wrong with a submission becomes its result.
"""

from __future__ import annotations

import dataclasses
import json
import shutil
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from autograder.judge.memorybox import memorybox
from autograder.judge.timebox import OutOfTime, timebox
from autograder.results import CheckResult, QuestionResult, SubmissionResult
from autograder.rubric.question import (
    Question,
    judge_data,
    judge_reference,
    prepare_references,
)
from autograder.rubric.versions import rubric_version
from autograder.run.capture import ASSIGNMENT_ENV, SEED_ENV, STUDENT_ENV
from autograder.run.client import Runner
from autograder.run.notebooks import (
    InvalidNotebook,
    Submission,
    linked_folder,
    make_workdir,
    plan_job,
    read_notebook_file,
    test_functions,
)
from autograder.run.protocol import Reply, Request
from autograder.run.suspicion import suspicious

JUDGE_MEMORY_BYTES = 2 << 30  # more address space one answer's judging may take

Judge = Callable[[Question, Any, Any, Mapping[str, Any]], CheckResult]


@dataclass(frozen=True)
class Settings:
    timeout: float = 60.0
    memory_mb: int = 1024
    require_sandbox: bool = True
    scratch: Path | None = None  # where working folders are made (default: the system tmp)
    confine: bool = True  # False only to measure what the sandbox costs (benchmarks)
    judge_seconds: float = 20.0  # wall-clock bound on judging one answer
    preload_plots: bool = True  # the runner pre-loads matplotlib (the assignment plots)
    preload_sympy: bool = True  # the runner pre-loads sympy (the assignment's notebook uses it)
    variant_seed: str | None = None  # the course seed: each notebook runs with its numbers
    extra: Mapping[str, Any] = field(default_factory=dict)


def variant_env(assignment: str, student: str, seed: str | None) -> dict[str, str]:
    """What the notebook learns of whose it is: the submission folder's student and the
    course seed (see autograder.student.myvariant), never what the notebook itself claims."""
    return {ASSIGNMENT_ENV: assignment, STUDENT_ENV: student, SEED_ENV: seed or ""}


@dataclass
class _Planned:
    """A submission read and planned, its working folder made: what the runner is sent and
    what its reply is judged with."""

    sub: Submission
    nb: Mapping[str, Any]
    variant: str | None
    questions: Sequence[Question]
    workdir: Path
    notes: tuple[str, ...]
    code: dict[str, str]
    request: Request
    started: float = 0.0


class Grader:
    """Grades submissions of one assignment; caches verdicts on identical answers."""

    def __init__(self, assignment: str, questions: Sequence[Question], settings: Settings,
                 judge: Judge = judge_reference, runner: Runner | None = None,
                 prepare: Callable[[], None] | None = None,
                 job_env: Callable[[Submission], dict[str, str]] | None = None) -> None:
        self.assignment = assignment
        # whose numbers the notebook runs with: by default the submission folder's student
        self.job_env = job_env or (lambda sub: variant_env(assignment, sub.student,
                                                           settings.variant_seed))
        self.questions = list(questions)
        self.settings = settings
        self.judge = judge
        self.runner = runner or Runner(settings.preload_plots,
                                       preload_sympy=settings.preload_sympy)
        self._verdicts: dict[tuple[str, str | None, str], CheckResult] = {}
        self._unjudged: dict[tuple[str, str | None, str], QuestionResult] = {}
        self._shown: dict[tuple[str, str | None, str], dict[str, str | None]] = {}
        # (question id, variant) -> rubric_version, kept with results
        self._versions: dict[tuple[str, str | None], str] = {}
        self.warm_runner = False  # set for a batch: the runner warms up during the first
        self._leftover: Path | None = None  # the last notebook's working folder
        # what judging needs built, built while the first notebook runs: the references by
        # default; a judge of its own brings its own preparation or none
        self._preparation: Callable[[Sequence[Question]], None] | None = (
            (lambda _questions: prepare()) if prepare is not None
            else prepare_references if judge is judge_reference else None)

    def _remove_leftover(self) -> None:
        """Remove the last notebook's working folder: done while the next one runs, since
        removing a folder the child's sandbox mounted on waits for the kernel (about 5 ms a
        folder here, at -j 1 a wait of the whole command)."""
        if self._leftover is not None:
            shutil.rmtree(self._leftover, ignore_errors=True)
            self._leftover = None

    def _start_preparation(self, questions: Sequence[Question]) -> threading.Thread | None:
        """Build what judging needs in a thread, the first time only."""
        if self._preparation is None:
            return None
        preparing = threading.Thread(target=self._preparation, args=(questions,),
                                     name="bpk-prepare", daemon=True)
        self._preparation = None
        preparing.start()
        return preparing

    def _end_preparation(self, preparing: threading.Thread | None) -> None:
        """Judging starts with the references built (bounded: a rubric whose reference never
        finishes is then judged, and listed for review, within the timebox)."""
        if preparing is not None:
            preparing.join(self.settings.judge_seconds * max(len(self.questions), 1))

    def judge_answer(self, question: Question, message: Mapping[str, Any] | None,
                     earlier: Mapping[str, Any] | None = None, code: str | None = None
                     ) -> QuestionResult:
        """Rebuild one answer from the child's data and judge it, here in the grader, within
        ``judge_seconds``; an answer that cannot be judged is listed for review.

        ``earlier`` maps earlier questions' ids to the data of the student's answers, for
        questions judged with follow-through."""
        def ungraded(*args: Any) -> QuestionResult:
            return dataclasses.replace(QuestionResult.ungraded(*args), code=code)

        if message is None:
            return ungraded(question.id, question.title, question.points,
                            f"Not graded: the notebook stopped before `{question.name}` "
                            "was defined.")
        if message.get("missing"):
            return ungraded(question.id, question.title, question.points,
                            f"Not answered: `{question.name}` is not defined after its cell ran.")
        data = message.get("data")
        before = {qid: (earlier or {}).get(qid) for qid in question.dependencies}
        try:
            key = (question.id, question.variant, json.dumps([data, before], sort_keys=True))
        except (ValueError, TypeError, RecursionError):
            return ungraded(question.id, question.title, question.points,
                            "Not graded: the answer's data is malformed.")
        if key in self._unjudged:
            return self._unjudged[key]
        if key not in self._verdicts:
            try:
                with timebox(self.settings.judge_seconds), memorybox(JUDGE_MEMORY_BYTES):
                    self._verdicts[key] = judge_data(question, data, None, self.judge,
                                                     earlier_data=before)
            except OutOfTime:
                self._unjudged[key] = _for_review(
                    question, "could not be judged in time "
                    f"({self.settings.judge_seconds:g} s); listed for review")
                return self._unjudged[key]
            except Exception as error:  # noqa: BLE001 -- one answer never stops the batch
                self._unjudged[key] = _for_review(
                    question, f"could not be judged ({type(error).__name__}); listed for review")
                return self._unjudged[key]
        version = (question.id, question.variant)
        if version not in self._versions:
            self._versions[version] = rubric_version(question)
        if key not in self._shown:
            self._shown[key] = _shown(question, data)
        return QuestionResult.from_check(question.id, question.title, question.points,
                                         self._verdicts[key], answer=data,
                                         rubric_version=self._versions[version],
                                         code=code, **self._shown[key])

    def grade(self, sub: Submission) -> SubmissionResult:
        """Grade one submission; whatever goes wrong becomes its result, never an exception."""
        for _, result in self.grade_each([sub]):
            return result
        raise AssertionError("grade_each yields one result for each submission")

    def grade_each(self, subs: Iterable[Submission]
                   ) -> Iterator[tuple[Submission, SubmissionResult]]:
        """Grade submissions one after another, as :meth:`grade` does each, but send each
        notebook to the runner as soon as the one before has replied: that one is judged,
        and the next read and planned, while a notebook runs (at -j 1 judging and planning
        were a few ms between two notebooks, every notebook). Yields each submission with
        its result, in the order they finish."""
        running: _Planned | None = None
        preparing: threading.Thread | None = None
        for sub in subs:
            started = time.monotonic()
            try:
                planned = self._plan(sub)
            except Exception as error:  # noqa: BLE001 -- one submission never stops the batch
                yield sub, self._failed(sub, error, started)
                continue
            finished = None
            if running is not None:
                finished = running, self.runner.receive()
                self._end_preparation(preparing)
                preparing = running = None
            try:
                preparing = self._send(planned) or preparing
                running = planned
            except Exception as error:  # noqa: BLE001 -- the runner would not start
                yield sub, self._failed(sub, error, started)
            if finished is not None:
                yield finished[0].sub, self._judged(*finished)
        if running is not None:
            reply = self.runner.receive()
            self._end_preparation(preparing)
            yield running.sub, self._judged(running, reply)

    def _send(self, planned: _Planned) -> threading.Thread | None:
        """Send a planned notebook to the runner; the one before's folder is removed while it
        runs. Returns the references' preparation, when this is the first."""
        planned.started = time.monotonic()
        preparing = self._start_preparation(planned.questions)
        try:
            self.runner.send(planned.request)
            self.warm_runner = False
        finally:  # its folder is removed with the next one's or at close, sent or not
            self._remove_leftover()
            self._leftover = planned.workdir
        return preparing

    def _judged(self, planned: _Planned, reply: Reply) -> SubmissionResult:
        try:
            return self._judge(planned, reply, planned.started)
        except Exception as error:  # noqa: BLE001 -- one submission never stops the batch
            return self._failed(planned.sub, error, planned.started)

    def _failed(self, sub: Submission, error: Exception, started: float) -> SubmissionResult:
        if isinstance(error, InvalidNotebook):
            return failed_result(sub, self.assignment, self.questions, "invalid", str(error),
                                 time.monotonic() - started)
        return failed_result(sub, self.assignment, self.questions, "error",
                             f"grader error on {sub.notebook.name}: "
                             f"{type(error).__name__}: {error}", time.monotonic() - started)

    def _plan(self, sub: Submission) -> _Planned:
        """Read the notebook, plan its job and make its working folder: all that comes
        before the runner."""
        if sub.problem is not None:
            raise InvalidNotebook(sub.problem)
        linked = linked_folder(sub)
        if linked is not None:
            raise InvalidNotebook(f"{linked.name} is a symbolic link, which is not graded")
        raw, nb = sub.read if sub.read is not None else read_notebook_file(sub.notebook)
        variant, questions = self.questions_for(sub.student)
        job = plan_job(nb, questions, self.job_env(sub))
        workdir, notes = make_workdir(sub, raw, job, self.settings.scratch)
        request = Request(
            str(workdir), self.settings.timeout,
            {"memory_bytes": self.settings.memory_mb << 20,
             "cpu_seconds": int(self.settings.timeout) + 5},
            self.settings.require_sandbox, self.settings.confine, self.warm_runner,
            test_functions(job))
        return _Planned(sub, nb, variant, questions, workdir, tuple(notes),
                        answer_code(job, questions), request)

    def _judge(self, planned: _Planned, reply: Reply, started: float) -> SubmissionResult:
        """Judge each answer of the reply and make the submission's result."""
        sub, questions = planned.sub, planned.questions
        answers = reply.answers
        by_id = {q.id: answers.get(q.name, {}).get("data") for q in questions}
        results = tuple(self.judge_answer(q, answers.get(q.name), by_id, planned.code.get(q.name))
                        for q in questions)
        errors = planned.notes + reply.errors
        status = reply.status
        if status == "timeout":
            errors += (f"The notebook ran longer than {self.settings.timeout:g} s and was "
                       "stopped; answers defined before that were graded.",)
        return SubmissionResult(sub.student, self.assignment, str(sub.notebook), results,
                                status, errors, reply.sandbox,
                                round(time.monotonic() - started, 4), planned.variant,
                                self.id_mismatch(planned.nb, sub.student),
                                suspicious=suspicious(planned.nb))

    def questions_for(self, student: str) -> tuple[str | None, Sequence[Question]]:
        """The variant key and the questions a student's notebook is judged by: the folder's
        student's variant under a course seed, else the lecture's."""
        seed = self.settings.variant_seed
        if seed is None:
            return None, self.questions
        from autograder.rubric.course import questions
        from autograder.rubric.variants import variant_for

        variant = variant_for(self.assignment, student, seed)
        return variant.key, questions(self.assignment, variant)

    def id_mismatch(self, nb: Mapping[str, Any], student: str) -> str | None:
        """Why the id the notebook was made for is not its folder's student's, if it is not:
        the grade is the folder's student's (with a seed, against their numbers)."""
        from autograder.rubric.variants import TYPED_NAME, normalise_id, typed_student_id

        # only the cells that can name it are parsed (a name that is not ASCII can still be
        # it once Python normalises it): about 3 ms less a backprop notebook
        typed = typed_student_id({"cells": [c for c in nb.get("cells", []) if isinstance(c, Mapping)
                                            and _may_name(c.get("source", ""), TYPED_NAME)]})
        if typed is None or normalise_id(typed) == normalise_id(student):
            return None
        graded = (f"graded against the variant of {student!r}"
                  if self.settings.variant_seed is not None else f"graded as {student!r}")
        return (f"The notebook says STUDENT_ID = {typed!r}, but it was submitted as "
                f"{student!r}: {graded}.")

    def close(self) -> None:
        self._remove_leftover()
        self.runner.close()


MAX_CODE = 4000  # characters of an answer cell's code kept for the feedback


def answer_code(job: Any, questions: Sequence[Question]) -> dict[str, str]:
    """The code of the cell that answered each number, vector or function question, by the
    answer's name (a formula is shown as it was read instead)."""
    wanted = {q.name for q in questions if q.kind != "expression"}
    code = {}
    for cell in job.cells:
        for name in cell.capture:
            written = [line for line in cell.source.splitlines()
                       if line.strip() and not line.lstrip().startswith("#")]
            if name in wanted and written:  # the released stub is a comment: no code
                text = cell.source.strip("\n")
                code[name] = text if len(text) <= MAX_CODE else text[:MAX_CODE - 1] + "…"
    return code


def _shown(question: Question, data: Any) -> dict[str, str | None]:
    """A formula answer as read (plain text and MathML), for the feedback page; nothing for
    other kinds (their code is shown)."""
    if question.kind != "expression":
        return {}
    from autograder.judge import transport
    from autograder.rubric.shown import shown_expression

    try:
        value = transport.decode(data)
    except Exception:  # noqa: BLE001 -- unreadable: its verdict says why
        return {}
    names = [*question.variables, *question.definitions]
    shown = shown_expression(value, names, mathml=True)
    return {"shown": shown.text, "mathml": shown.mathml}


def _for_review(question: Question, why: str) -> QuestionResult:
    result = QuestionResult.ungraded(question.id, question.title, question.points,
                                     f"Not graded: the answer {why}.")
    # the answer data is not kept: what could not be judged in time would stall the class
    # report's grouping and a regrade the same way
    return dataclasses.replace(result, review=f"The answer {why}.")


def failed_result(sub: Submission, assignment: str, questions: Sequence[Question], status: str,
                  error: str, seconds: float = 0.0) -> SubmissionResult:
    """A submission that could not be run: every question ungraded, saying why."""
    results = tuple(QuestionResult.ungraded(q.id, q.title, q.points, f"Not graded: {error}")
                    for q in questions)
    return SubmissionResult(sub.student, assignment, str(sub.notebook), results, status,
                            (error,), "none", round(seconds, 4))


def _may_name(source: Any, name: str) -> bool:
    """Whether a cell's source (text or lines) can hold the identifier ``name`` (ASCII)."""
    text = "".join(source) if isinstance(source, list) else str(source)
    return name in text or not text.isascii()
