"""Grade submissions: run each in the runner's confined child, judge its answers here.

Each step is a small function with one job: read the notebook, plan the cells, run them
(runner), rebuild and judge the answers, and batch many submissions with resume and shards.
"""

from __future__ import annotations

import dataclasses
import errno
import json
import multiprocessing.util
import os
import shutil
import stat
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from multiprocessing import get_context
from pathlib import Path
from typing import Any

from autograder import transport
from autograder.capture import Job, Probe, cells_from_notebook
from autograder.errors import BackpropKitError, ParseError
from autograder.memorybox import memorybox
from autograder.results import CheckResult, QuestionResult, SubmissionResult
from autograder.rubric import Question, encode_probe_arg
from autograder.runner_client import Runner
from autograder.submissions import Submission
from autograder.timebox import OutOfTime, timebox
from autograder.versions import rubric_version

MAX_NOTEBOOK_BYTES = 20 << 20
MAX_COPY_BYTES = 100 << 20
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
    variant_seed: str | None = None  # the course seed: each notebook runs with its numbers
    extra: Mapping[str, Any] = field(default_factory=dict)


class InvalidNotebook(Exception):
    pass


def read_regular(path: Path, limit: int) -> bytes:
    """The bytes of ``path`` if it is a regular file of at most ``limit`` bytes.

    Opened without following a link and without blocking (a FIFO or a device never hangs or
    floods the grader), checked with fstat before anything is read. OSError says what it is."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as error:
        if error.errno == errno.ELOOP:
            raise OSError(errno.ELOOP, "it is a symbolic link, which is not graded") from None
        raise
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            kind = ("a FIFO" if stat.S_ISFIFO(info.st_mode) else "a device"
                    if stat.S_ISCHR(info.st_mode) or stat.S_ISBLK(info.st_mode) else
                    "a folder" if stat.S_ISDIR(info.st_mode) else "not a regular file")
            raise OSError(errno.EINVAL, f"it is {kind}, not a regular file")
        if info.st_size > limit:
            raise OSError(errno.EFBIG, f"it is larger than {limit >> 20} MB")
        chunks, size = [], 0
        while chunk := os.read(fd, 1 << 20):
            size += len(chunk)
            if size > limit:
                raise OSError(errno.EFBIG, f"it is larger than {limit >> 20} MB")
            chunks.append(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)


def _linked_folder(sub: Submission) -> Path | None:
    """A symbolic link among the folders the platform made for this submission, if any."""
    folders = [sub.notebook.parent]
    if sub.folder is not None:
        folders += [sub.folder, sub.folder.parent]
    for folder in folders:
        if folder.is_symlink():
            return folder
    return None


def parse_notebook(name: str, raw: bytes) -> dict[str, Any]:
    """The notebook as JSON, its cells checked; says what is wrong with one that is not."""
    try:
        nb = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as error:
        raise InvalidNotebook(f"{name} is not UTF-8 text (byte {error.start})") from None
    except json.JSONDecodeError as error:
        raise InvalidNotebook(
            f"{name} is not valid notebook JSON: {error.msg} at line {error.lineno}, "
            f"column {error.colno}") from None
    except RecursionError:
        raise InvalidNotebook(f"{name} is JSON nested too deeply to be a notebook") from None
    except ValueError as error:  # e.g. an integer of more than 4300 digits
        raise InvalidNotebook(f"{name} is not valid notebook JSON: {error}") from None
    if not isinstance(nb, dict) or not isinstance(nb.get("cells"), list):
        raise InvalidNotebook(f"{name} is JSON but not a notebook (no list of cells)")
    if nb.get("nbformat") != 4:
        raise InvalidNotebook(f"{name} is not an nbformat 4 notebook")
    for index, cell in enumerate(nb["cells"], start=1):
        _check_cell(name, index, cell)
    return nb


def _check_cell(name: str, index: int, cell: Any) -> None:
    where = f"{name}, cell {index}"
    if not isinstance(cell, dict):
        raise InvalidNotebook(f"{where} is a {type(cell).__name__}, not a cell")
    source = cell.get("source", "")
    if not (isinstance(source, str)
            or isinstance(source, list) and all(isinstance(s, str) for s in source)):
        raise InvalidNotebook(f"{where}: its source is neither text nor a list of lines")
    meta = cell.get("metadata", {})
    if not isinstance(meta, dict):
        raise InvalidNotebook(f"{where}: its metadata is not a JSON object")
    nbgrader = meta.get("nbgrader", {})
    if nbgrader is None:
        return
    if not isinstance(nbgrader, dict):
        raise InvalidNotebook(f"{where}: its nbgrader metadata is not a JSON object")
    grade_id = nbgrader.get("grade_id")
    if grade_id is not None and not isinstance(grade_id, str):
        raise InvalidNotebook(f"{where}: its grade_id is a {type(grade_id).__name__}, "
                              "not text")


def read_notebook(path: Path) -> dict[str, Any]:
    """The notebook as JSON (a regular file only); says what is wrong with one that is not."""
    try:
        raw = read_regular(path, MAX_NOTEBOOK_BYTES)
    except OSError as error:
        raise InvalidNotebook(f"{path.name} cannot be read: {error.strerror}") from None
    return parse_notebook(path.name, raw)


def plan_job(nb: Mapping[str, Any], questions: Sequence[Question],
             env: Mapping[str, str] | None = None) -> Job:
    answers = {q.answer_cell: q.name for q in questions}
    probes = {
        q.name: Probe(tuple(tuple(encode_probe_arg(a) for a in p) for p in q.probes), q.project)
        for q in questions if q.kind == "function"
    }
    return Job(cells_from_notebook(nb, answers), probes, dict(env or {}))


def variant_env(assignment: str, student: str, seed: str | None) -> dict[str, str]:
    """What the notebook learns of whose it is: the submission folder's student and the
    course seed (see autograder.myvariant), never what the notebook itself claims."""
    from autograder.myvariant import ASSIGNMENT_ENV, SEED_ENV, STUDENT_ENV

    return {ASSIGNMENT_ENV: assignment, STUDENT_ENV: student, SEED_ENV: seed or ""}


def make_workdir(sub: Submission, notebook: bytes, job: Job, scratch: Path | None
                 ) -> tuple[Path, list[str]]:
    """A fresh folder holding a copy of this submission only (regular files, never through a
    link) and the job for the child; also what was left out and why."""
    from autograder.runner import JOB_FILE

    workdir = Path(tempfile.mkdtemp(prefix="bpk-run-", dir=scratch))
    notes: list[str] = []
    if sub.folder is not None:
        total = 0
        for item in sorted(sub.folder.iterdir()):
            if item.name == sub.notebook.name or item.name == JOB_FILE:
                continue
            try:
                if item.is_dir() and not item.is_symlink():
                    continue
                data = read_regular(item, MAX_COPY_BYTES - total)
            except OSError as error:
                notes.append(f"{item.name} was not copied: {error.strerror}")
                continue
            total += len(data)
            (workdir / item.name).write_bytes(data)
    (workdir / sub.notebook.name).write_bytes(notebook)
    (workdir / JOB_FILE).write_text(json.dumps(job.to_json()), encoding="utf-8")
    os.chmod(workdir, 0o700)
    return workdir, notes


def ensure_answers_hidden() -> None:
    """Refuse to grade when the sandbox would let student code read ``solutions``: it does
    when the package is installed into site-packages instead of editable (``pip install -e``)."""
    from autograder import sandbox

    try:
        import solutions
    except ImportError:
        return
    leaked = sandbox.exposed([Path(solutions.__file__).parent])
    if leaked:
        raise BackpropKitError(
            f"{leaked[0]} lies inside the Python installation, where graded notebooks can read "
            "it; install backprop-kit editable (pip install -e .) from the course directory")


def hidden_judge(question: Question, answer: Any, outputs: Any,
                 earlier: Mapping[str, Any] | None = None) -> CheckResult:
    from autograder.rubric import judge

    return judge(question, answer, outputs=outputs, earlier=earlier)


def prepare_references(questions: Sequence[Question]) -> None:
    """Build the questions' references (secret points, probe outputs): the costly part of the
    first judgements, done in a thread while the first notebook runs, or by a warm grader's
    worker before the command comes (:mod:`autograder.warm`)."""
    from autograder.rubric import expected_outputs, expression_reference

    for question in questions:
        try:
            if question.expected is None:
                continue
            if question.kind == "expression":
                expression_reference(question).secret  # noqa: B018 -- draws the points
            elif question.kind == "function":
                expected_outputs(question)
        except Exception:  # noqa: BLE001,S112 -- judging builds it again and says why
            continue


class Grader:
    """Grades submissions of one assignment; caches verdicts on identical answers."""

    def __init__(self, assignment: str, questions: Sequence[Question], settings: Settings,
                 judge: Judge = hidden_judge, runner: Runner | None = None,
                 prepare: Callable[[], None] | None = None,
                 job_env: Callable[[Submission], dict[str, str]] | None = None) -> None:
        self.assignment = assignment
        # whose numbers the notebook runs with: by default the submission folder's student
        self.job_env = job_env or (lambda sub: variant_env(assignment, sub.student,
                                                           settings.variant_seed))
        self.questions = list(questions)
        self.settings = settings
        self.judge = judge
        self.runner = runner or Runner(settings.preload_plots)
        self._verdicts: dict[tuple[str, str | None, str], CheckResult] = {}
        self._unjudged: dict[tuple[str, str | None, str], QuestionResult] = {}
        # (question id, variant) -> rubric_version, kept with results
        self._versions: dict[tuple[str, str | None], str] = {}
        self.warm_runner = False  # set for a batch: the runner warms up during the first
        # what judging needs built, built while the first notebook runs: the references by
        # default; a judge of its own brings its own preparation or none
        self._preparation: Callable[[Sequence[Question]], None] | None = (
            (lambda _questions: prepare()) if prepare is not None
            else prepare_references if judge is hidden_judge else None)

    def _run(self, request: dict[str, Any], questions: Sequence[Question]) -> dict[str, Any]:
        """The runner's reply; the first time, the references are built meanwhile (the reply
        is awaited outside the interpreter's lock, so the two overlap)."""
        if self._preparation is None:
            return self.runner.run(request)
        preparing = threading.Thread(target=self._preparation, args=(questions,),
                                     name="bpk-prepare", daemon=True)
        self._preparation = None
        preparing.start()
        try:
            return self.runner.run(request)
        finally:
            # judging starts with the references built (bounded: a rubric whose reference
            # never finishes is then judged, and listed for review, within the timebox)
            preparing.join(self.settings.judge_seconds * max(len(self.questions), 1))

    def judge_answer(self, question: Question, message: Mapping[str, Any] | None,
                     earlier: Mapping[str, Any] | None = None) -> QuestionResult:
        """Rebuild one answer from the child's data and judge it, here in the grader, within
        ``judge_seconds``; an answer that cannot be judged is listed for review.

        ``earlier`` maps earlier questions' ids to the data of the student's answers, for
        questions judged with follow-through."""
        ungraded = QuestionResult.ungraded
        if message is None:
            return ungraded(question.id, question.title, question.points,
                            f"Not graded: the notebook stopped before `{question.name}` "
                            "was defined.")
        if message.get("missing"):
            return ungraded(question.id, question.title, question.points,
                            f"Not answered: `{question.name}` is not defined after its cell ran.")
        data = message.get("data")
        before = (earlier or {}).get(question.follows) if question.follows else None
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
                    self._verdicts[key] = self._judge_data(question, data, before)
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
        return QuestionResult.from_check(question.id, question.title, question.points,
                                         self._verdicts[key], answer=data,
                                         rubric_version=self._versions[version])

    def _judge_data(self, question: Question, data: Any, before: Any = None) -> CheckResult:
        from autograder.checks import unreadable

        earlier: dict[str, Any] = {}
        if before is not None and question.follows:
            try:
                earlier[question.follows] = transport.decode(before)
            except ParseError:
                pass
        try:
            if question.kind == "function":
                if not isinstance(data, dict) or data.get("type") != "outputs":
                    return unreadable(transport.decode(data) and "expected a function")
                return self.judge(question, None, data["outputs"], earlier)
            return self.judge(question, transport.decode(data), None, earlier)
        except ParseError as error:
            return unreadable(error)

    def grade(self, sub: Submission) -> SubmissionResult:
        """Grade one submission; whatever goes wrong becomes its result, never an exception."""
        started = time.monotonic()
        try:
            return self._grade(sub, started)
        except InvalidNotebook as error:
            return failed_result(sub, self.assignment, self.questions, "invalid", str(error),
                                 time.monotonic() - started)
        except Exception as error:  # noqa: BLE001 -- one submission never stops the batch
            return failed_result(sub, self.assignment, self.questions, "error",
                                 f"grader error on {sub.notebook.name}: "
                                 f"{type(error).__name__}: {error}",
                                 time.monotonic() - started)

    def _grade(self, sub: Submission, started: float) -> SubmissionResult:
        if sub.problem is not None:
            raise InvalidNotebook(sub.problem)
        linked = _linked_folder(sub)
        if linked is not None:
            raise InvalidNotebook(f"{linked.name} is a symbolic link, which is not graded")
        try:
            raw = read_regular(sub.notebook, MAX_NOTEBOOK_BYTES)
        except OSError as error:
            raise InvalidNotebook(f"{sub.notebook.name} cannot be read: {error.strerror}"
                                  ) from None
        nb = parse_notebook(sub.notebook.name, raw)
        variant, questions = self.questions_for(sub.student)
        workdir, notes = make_workdir(sub, raw, plan_job(nb, questions, self.job_env(sub)),
                                      self.settings.scratch)
        try:
            reply = self._run({
                "workdir": str(workdir), "timeout": self.settings.timeout,
                "limits": {"memory_bytes": self.settings.memory_mb << 20,
                           "cpu_seconds": int(self.settings.timeout) + 5},
                "require_sandbox": self.settings.require_sandbox,
                "confine": self.settings.confine,
                **({"warm": True} if self.warm_runner else {}),
            }, questions)
            self.warm_runner = False
        finally:
            shutil.rmtree(workdir, ignore_errors=True)
        answers = reply.get("answers", {})
        if not isinstance(answers, dict):
            answers = {}
        by_id = {q.id: (answers.get(q.name) if isinstance(answers.get(q.name), dict) else {}
                        ).get("data") for q in questions}
        results = tuple(self.judge_answer(q, answers.get(q.name), by_id) for q in questions)
        errors = tuple(notes) + tuple(str(e) for e in reply.get("errors", ()))
        status = reply.get("status", "error")
        if status == "timeout":
            errors += (f"The notebook ran longer than {self.settings.timeout:g} s and was "
                       "stopped; answers defined before that were graded.",)
        return SubmissionResult(sub.student, self.assignment, str(sub.notebook), results,
                                status, errors, str(reply.get("sandbox", "none")),
                                round(time.monotonic() - started, 4), variant,
                                self.id_mismatch(nb, sub.student))

    def questions_for(self, student: str) -> tuple[str | None, Sequence[Question]]:
        """The variant key and the questions a student's notebook is judged by: the folder's
        student's variant under a course seed, else the lecture's."""
        seed = self.settings.variant_seed
        if seed is None:
            return None, self.questions
        from autograder.course import questions
        from autograder.variants import variant_for

        variant = variant_for(self.assignment, student, seed)
        return variant.key, questions(self.assignment, variant)

    def id_mismatch(self, nb: Mapping[str, Any], student: str) -> str | None:
        """Why the id the notebook was made for is not its folder's student's, if it is not."""
        if self.settings.variant_seed is None:
            return None
        from autograder.variants import normalise_id, typed_student_id

        typed = typed_student_id(nb)
        if typed is None or normalise_id(typed) == normalise_id(student):
            return None
        return (f"The notebook says STUDENT_ID = {typed!r}, but it was submitted as "
                f"{student!r}: graded against the variant of {student!r}.")

    def close(self) -> None:
        self.runner.close()


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


# --- batches -------------------------------------------------------------------------------

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
