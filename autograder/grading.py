"""Grade submissions: run each in the runner's confined child, judge its answers here.

Each step is a small function with one job: read the notebook, plan the cells, run them
(runner), rebuild and judge the answers, and batch many submissions with resume and shards.
"""

from __future__ import annotations

import json
import multiprocessing.util
import os
import shutil
import subprocess
import sys
import tempfile
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
from autograder.results import CheckResult, QuestionResult, SubmissionResult
from autograder.rubric import Question, encode_probe_arg
from autograder.submissions import Submission

MAX_NOTEBOOK_BYTES = 20 << 20
MAX_COPY_BYTES = 100 << 20

Judge = Callable[[Question, Any, Any, Mapping[str, Any]], CheckResult]


@dataclass(frozen=True)
class Settings:
    timeout: float = 60.0
    memory_mb: int = 1024
    require_sandbox: bool = True
    scratch: Path | None = None  # where working folders are made (default: the system tmp)
    confine: bool = True  # False only to measure what the sandbox costs (benchmarks)
    extra: Mapping[str, Any] = field(default_factory=dict)


class InvalidNotebook(Exception):
    pass


def read_notebook(path: Path) -> dict[str, Any]:
    """The notebook as JSON; says what is wrong with a file that is not one."""
    try:
        if path.stat().st_size > MAX_NOTEBOOK_BYTES:
            raise InvalidNotebook(f"{path.name} is larger than {MAX_NOTEBOOK_BYTES >> 20} MB")
        nb = json.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as error:
        raise InvalidNotebook(f"{path.name} is not UTF-8 text (byte {error.start})") from None
    except json.JSONDecodeError as error:
        raise InvalidNotebook(
            f"{path.name} is not valid notebook JSON: {error.msg} at line {error.lineno}, "
            f"column {error.colno}") from None
    except OSError as error:
        raise InvalidNotebook(f"{path.name} cannot be read: {error.strerror}") from None
    if not isinstance(nb, dict) or not isinstance(nb.get("cells"), list):
        raise InvalidNotebook(f"{path.name} is JSON but not a notebook (no list of cells)")
    if nb.get("nbformat") != 4:
        raise InvalidNotebook(f"{path.name} is not an nbformat 4 notebook")
    return nb


def plan_job(nb: Mapping[str, Any], questions: Sequence[Question]) -> Job:
    answers = {q.answer_cell: q.name for q in questions}
    probes = {
        q.name: Probe(tuple(tuple(encode_probe_arg(a) for a in p) for p in q.probes), q.project)
        for q in questions if q.kind == "function"
    }
    return Job(cells_from_notebook(nb, answers), probes)


def make_workdir(sub: Submission, scratch: Path | None) -> Path:
    """A fresh folder holding a copy of this submission only."""
    workdir = Path(tempfile.mkdtemp(prefix="bpk-run-", dir=scratch))
    if sub.folder is not None:
        total = 0
        for item in sub.folder.iterdir():
            if item.is_file() and not item.is_symlink():
                total += item.stat().st_size
                if total > MAX_COPY_BYTES:
                    break
                shutil.copy2(item, workdir / item.name)
    shutil.copy2(sub.notebook, workdir / sub.notebook.name)
    os.chmod(workdir, 0o700)
    return workdir


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


class Runner:
    """A client for one runner process (``python -m autograder.runner``), restarted if it dies."""

    def __init__(self) -> None:
        self._proc: subprocess.Popen[str] | None = None
        self._home: str | None = None

    def _start(self) -> subprocess.Popen[str]:
        # IPython's profile and matplotlib's caches go to a private folder, not the user's home
        self._home = self._home or tempfile.mkdtemp(prefix="bpk-runner-")
        env = {k: v for k, v in os.environ.items() if k in ("PATH", "LANG", "LC_ALL")}
        env.update(HOME=self._home, IPYTHONDIR=self._home, MPLCONFIGDIR=self._home,
                   XDG_CACHE_HOME=self._home, MPLBACKEND="Agg")
        proc = subprocess.Popen(
            [sys.executable, "-m", "autograder.runner"], stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, text=True, cwd=tempfile.gettempdir(), env=env,
            start_new_session=True,
        )
        assert proc.stdout is not None
        ready = proc.stdout.readline()
        if '"ready"' not in ready:
            proc.kill()
            raise BackpropKitError("the grading runner did not start")
        return proc

    def run(self, request: dict[str, Any]) -> dict[str, Any]:
        if self._proc is None or self._proc.poll() is not None:
            self._proc = self._start()
        assert self._proc.stdin is not None and self._proc.stdout is not None
        try:
            self._proc.stdin.write(json.dumps(request) + "\n")
            self._proc.stdin.flush()
            line = self._proc.stdout.readline()
            return json.loads(line)
        except (OSError, ValueError) as error:
            self.close()
            return {"status": "error", "answers": {}, "errors": [f"runner failed: {error}"],
                    "sandbox": "none", "seconds": 0.0}

    def close(self) -> None:
        if self._proc is not None:
            self._proc.kill()
            self._proc.wait()
            self._proc = None
        if self._home is not None:
            shutil.rmtree(self._home, ignore_errors=True)
            self._home = None


def hidden_judge(question: Question, answer: Any, outputs: Any,
                 earlier: Mapping[str, Any] | None = None) -> CheckResult:
    from autograder.rubric import judge

    return judge(question, answer, outputs=outputs, earlier=earlier)


class Grader:
    """Grades submissions of one assignment; caches verdicts on identical answers."""

    def __init__(self, assignment: str, questions: Sequence[Question], settings: Settings,
                 judge: Judge = hidden_judge, runner: Runner | None = None) -> None:
        self.assignment = assignment
        self.questions = list(questions)
        self.settings = settings
        self.judge = judge
        self.runner = runner or Runner()
        self._verdicts: dict[tuple[str, str], CheckResult] = {}

    def judge_answer(self, question: Question, message: Mapping[str, Any] | None,
                     earlier: Mapping[str, Any] | None = None) -> QuestionResult:
        """Rebuild one answer from the child's data and judge it, here in the grader.

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
        key = (question.id, json.dumps([data, before], sort_keys=True))
        if key not in self._verdicts:
            self._verdicts[key] = self._judge_data(question, data, before)
        return QuestionResult.from_check(question.id, question.title, question.points,
                                         self._verdicts[key], answer=data)

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
        started = time.monotonic()
        try:
            nb = read_notebook(sub.notebook)
        except InvalidNotebook as error:
            return failed_result(sub, self.assignment, self.questions, "invalid", str(error),
                                 time.monotonic() - started)
        workdir = make_workdir(sub, self.settings.scratch)
        try:
            reply = self.runner.run({
                "workdir": str(workdir), "job": plan_job(nb, self.questions).to_json(),
                "timeout": self.settings.timeout,
                "limits": {"memory_bytes": self.settings.memory_mb << 20,
                           "cpu_seconds": int(self.settings.timeout) + 5},
                "require_sandbox": self.settings.require_sandbox,
                "confine": self.settings.confine,
            })
        finally:
            shutil.rmtree(workdir, ignore_errors=True)
        answers = reply.get("answers", {})
        by_id = {q.id: (answers.get(q.name) or {}).get("data") for q in self.questions}
        results = tuple(self.judge_answer(q, answers.get(q.name), by_id)
                        for q in self.questions)
        errors = tuple(reply.get("errors", ()))
        if reply["status"] == "timeout":
            errors += (f"The notebook ran longer than {self.settings.timeout:g} s and was "
                       "stopped; answers defined before that were graded.",)
        return SubmissionResult(sub.student, self.assignment, str(sub.notebook), results,
                                reply["status"], errors, reply.get("sandbox", "none"),
                                round(time.monotonic() - started, 4))

    def close(self) -> None:
        self.runner.close()


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
    settings: Settings, jobs: int = 1,
) -> Iterator[tuple[Submission, SubmissionResult]]:
    """Grade in ``jobs`` worker processes, yielding each submission with its result as it
    finishes (not in order)."""
    if not subs:
        return
    if jobs <= 1:
        grader = Grader(assignment, questions, settings)
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
