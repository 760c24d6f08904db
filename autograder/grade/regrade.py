"""Judge a class's kept answers again with the current rubric, without running any notebook.

``results.json`` (schema 2) keeps each answer exactly as the sandboxed child sent it; this
module hands that data to the same ``Grader.judge_answer`` that graded it the first time, so a
new declared slip, changed credit or a corrected reference reaches every student in seconds.
Nothing a student wrote is executed: the data is rebuilt by ``transport.decode`` as at grading.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import sympy

from autograder import __version__
from autograder.errors import ParseError, UsageError
from autograder.judge import transport
from autograder.report import reports, text
from autograder.results import (
    GradingRun,
    QuestionResult,
    ScoreChange,
    SubmissionResult,
    score_changes,
)
from autograder.rubric.question import Question, judge_reference
from autograder.rubric.reading import Reader, reader
from autograder.rubric.versions import rubric_version
from autograder.run.grader import Grader, Judge, Settings

NOT_KEPT = ("{path} was written by an older backprop-kit (results schema {schema}), which kept "
            "no answers: it cannot be regraded. Grade the submissions again with this version "
            "(backprop-kit grade); its results.json can then be regraded.")


class NotRegradable(UsageError):
    """The results file holds no answers to judge again."""


def _unchanged(question: Question, old: QuestionResult | None) -> QuestionResult:
    """A question with no kept answer: it stays as it was (ungraded), on the new rubric."""
    if old is None:
        return QuestionResult.ungraded(
            question.id, question.title, question.points,
            "Not graded: this question was added to the rubric after the notebook ran.")
    return replace(old, title=question.title, max_points=question.points,
                   points=min(old.points, question.points))


def _names(question: Question) -> tuple[str, ...]:
    return tuple(dict.fromkeys([*question.variables, *question.definitions]))


class WorkKeys:
    """Answers the judge cannot tell apart share one judgement: the same data, or (for an
    expression) the same expression once read, e.g. typed with other spacing. The judge itself
    reads every answer with this same parser before it looks at it. Each distinct datum is
    keyed once, each token sequence parsed once and each expression written out once (a
    class's answers keyed one by one: 4 s of a 1,000-student ``regrade --all``)."""

    def __init__(self) -> None:
        self._keys: dict[tuple[str, str | None, str], str] = {}
        self._readers: dict[tuple[str, str | None], Reader] = {}
        self._forms: dict[int, tuple[sympy.Basic, str]] = {}  # kept: ids stay unique

    def key(self, question: Question, data: Any) -> str:
        raw = json.dumps(data, sort_keys=True)
        known = (question.id, question.variant, raw)
        if known not in self._keys:
            self._keys[known] = self._key(question, data, raw)
        return self._keys[known]

    def _key(self, question: Question, data: Any, raw: str) -> str:
        if question.kind == "expression":
            read = self._readers.get((question.id, question.variant))
            if read is None:  # the process's own: the class report reads with it after this
                read = self._readers[(question.id, question.variant)] = reader(_names(question))
            try:
                expr = read.expression(transport.decode(data))
            except ParseError:
                return "data:" + raw
            if id(expr) not in self._forms:  # the very object: == would join 2.5 and 2.50
                self._forms[id(expr)] = (expr, "form:" + sympy.srepr(expr))
            return self._forms[id(expr)][1]
        return "data:" + raw


def work_key(question: Question, data: Any) -> str:
    """The key of one answer's judgement (see :class:`WorkKeys`, which keeps them)."""
    return WorkKeys().key(question, data)


_worker: dict[str, Any] = {}


QuestionsFor = Callable[[str | None], Sequence[Question]]  # a variant key -> its questions


def _start_worker(assignment: str, questions: list[Question], judge: Judge) -> None:
    _worker["grader"] = Grader(assignment, questions, Settings(), judge=judge)
    _worker["questions"] = {(q.id, q.variant): q for q in questions}


def _judge_item(item: tuple[str, str | None, Any, Any]) -> QuestionResult:
    qid, variant, data, before = item  # before: the earlier answers' data, by question id
    question = _worker["questions"][(qid, variant)]
    return _worker["grader"].judge_answer(question, {"data": data}, before)


def _judge_all(assignment: str, questions: list[Question], judge: Judge,
               items: list[tuple[str, str | None, Any, Any]], jobs: int
               ) -> list[QuestionResult]:
    if jobs <= 1 or len(items) < 2 * jobs:
        _start_worker(assignment, questions, judge)
        return [_judge_item(item) for item in items]
    if judge is judge_reference:  # build the references once, before the workers fork
        from autograder.rubric.question import expression_reference

        for q in questions:
            if q.kind == "expression" and q.expected is not None:
                expression_reference(q)
    with ProcessPoolExecutor(max_workers=jobs, mp_context=get_context("fork"),
                             initializer=_start_worker,
                             initargs=(assignment, questions, judge)) as pool:
        return list(pool.map(_judge_item, items, chunksize=4))


def _stale(old: QuestionResult, version: str | None, everything: bool) -> bool:
    return everything or old.rubric_version is None or old.rubric_version != version


def regrade(run: GradingRun, questions: Sequence[Question], judge: Judge = judge_reference,
            source: str = "results.json", jobs: int = 1, everything: bool = False,
            questions_for: QuestionsFor | None = None) -> GradingRun:
    """``run`` judged again: same students, statuses and errors, new points and feedback.

    Only answers judged by another version of their question (``versions.rubric_version``:
    its rubric, reference or the checker's code) are judged again, unless ``everything``.
    Each distinct answer is judged once (in ``jobs`` processes), and its verdict given to
    every student who handed it in. A submission graded against its own variant (its
    ``variant`` key) is judged by ``questions_for(key)``, the questions of that variant."""
    if not run.regradable:
        raise NotRegradable(NOT_KEPT.format(path=source, schema=run.schema))
    started = time.monotonic()
    questions = list(questions)
    versions: dict[tuple[str, str | None], str] = {}
    everything = everything or judge is not judge_reference
    work: dict[tuple[str, str | None, str], tuple[str, str | None, Any, Any]] = {}
    used: dict[tuple[str, str | None], Question] = {}
    keys = WorkKeys()
    planned = []
    for sub in run.submissions:
        old = {q.id: q for q in sub.questions}
        earlier = {q.id: q.answer for q in sub.questions if q.answer is not None}
        own = (questions if sub.variant is None or questions_for is None
               else list(questions_for(sub.variant)))
        plan: list[QuestionResult | tuple[str, str | None, str]] = []
        for q in own:
            prev = old.get(q.id)
            if prev is None or prev.answer is None:
                plan.append(_unchanged(q, prev))
                continue
            if judge is judge_reference and (q.id, q.variant) not in versions:
                versions[(q.id, q.variant)] = rubric_version(q)
            if not _stale(prev, versions.get((q.id, q.variant)), everything):
                plan.append(prev)  # judged by this very rubric and checker already
            else:
                before = {d: earlier.get(d) for d in q.dependencies}
                key = (q.id, q.variant, keys.key(q, prev.answer)
                       + (" after " + json.dumps(before, sort_keys=True) if before else ""))
                work.setdefault(key, (q.id, q.variant, prev.answer, before))
                used.setdefault((q.id, q.variant), q)
                plan.append(key)
        planned.append((sub, plan))
    verdicts = dict(zip(work, _judge_all(run.assignment, list(used.values()) or questions,
                                         judge, list(work.values()), jobs), strict=True))
    subs = []
    for sub, plan in planned:
        new = [step if isinstance(step, QuestionResult) else _with_answer(verdicts[step], sub)
               for step in plan]
        subs.append(replace(sub, questions=tuple(new)))
    return GradingRun(run.assignment, __version__, tuple(subs), time.monotonic() - started,
                      run.shard, run.sandbox)


def variant_questions(assignment: str) -> QuestionsFor:
    """The course's questions for each variant key results.json keeps (instructor side)."""
    from autograder.rubric.course import variant_questions as of_variant

    return lambda key: of_variant(assignment, key)


def _with_answer(verdict: QuestionResult, sub: SubmissionResult) -> QuestionResult:
    """The shared verdict with this student's own answer data, except where the answer could
    not be judged (the grader keeps no data of those, so that nothing stalls on it again)."""
    old = next(q for q in sub.questions if q.id == verdict.id)
    if verdict.error is not None:
        return replace(verdict, answer=None, code=old.code)
    return replace(verdict, answer=old.answer, code=old.code)


def kept_answers(run: GradingRun) -> int:
    return sum(q.answer is not None for s in run.submissions for q in s.questions)


# --- what changed, for people --------------------------------------------------------------


def _num(value: float) -> str:
    return text.num(value)


def _label(change: ScoreChange, subs: Sequence[SubmissionResult]) -> str:
    same = [s for s in subs if s.student == change.student]
    return change.student if len(same) < 2 else f"{change.student}/{Path(change.source).name}"


def changes_table(before: GradingRun, after: GradingRun) -> str:
    """The students whose scores changed, by how much and on which questions (terminal)."""
    changes = score_changes(before, after)
    if not changes:
        return f"regraded {len(after.submissions)} submissions: no score changed"
    width = max(7, *(len(text.plain(_label(c, after.submissions), 30)) for c in changes))
    header = f"{'student':<{width}} {'before':>8} {'after':>8} {'change':>8}  questions"
    lines = [header, "-" * len(header)]
    for c in changes:
        moved = ", ".join(f"{qid} {_num(b)}→{_num(a)}" for qid, b, a in c.questions)
        lines.append(f"{text.plain(_label(c, after.submissions), 30):<{width}} "
                     f"{_num(c.before):>8} {_num(c.after):>8} {c.delta:>+8.6g}  {moved}")
    lines.append(f"{len(changes)} of {len(after.submissions)} submissions changed; "
                 f"class mean {_num(round(before.mean_points, 3))} → "
                 f"{_num(round(after.mean_points, 3))}")
    return "\n".join(lines)


def changes_csv(before: GradingRun, after: GradingRun) -> str:
    import csv
    import io

    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["student", "source", "before", "after", "change", "questions"])
    for c in score_changes(before, after):
        moved = "; ".join(f"{qid} {_num(b)}->{_num(a)}" for qid, b, a in c.questions)
        writer.writerow([text.cell(v) for v in
                         (c.student, c.source, c.before, c.after, c.delta, moved)])
    return buffer.getvalue()


def changes_markdown(before: GradingRun, after: GradingRun) -> str:
    changes = score_changes(before, after)
    md = text.md
    lines = [f"# Regrade of {md(after.assignment)}", "",
             f"{len(changes)} of {len(after.submissions)} submissions changed; class mean "
             f"{_num(round(before.mean_points, 3))} → {_num(round(after.mean_points, 3))} "
             f"of {_num(round(after.mean_max_points, 3))} points.", ""]
    if changes:
        lines += ["| Student | Before | After | Change | Questions |",
                  "| --- | --- | --- | --- | --- |"]
        for c in changes:
            moved = ", ".join(f"{md(qid, cell=True)} {_num(b)}→{_num(a)}"
                              for qid, b, a in c.questions)
            lines.append(f"| {md(_label(c, after.submissions), cell=True)} | {_num(c.before)} | "
                         f"{_num(c.after)} | {c.delta:+.6g} | {moved} |")
    return "\n".join(lines) + "\n"


def write_regrade(before: GradingRun, after: GradingRun, out: Path) -> dict[str, Path]:
    """Every usual report of the regraded run, plus the changes as CSV and Markdown."""
    written = reports.write_reports(after, out)
    for name, content in (("regrade.csv", changes_csv(before, after)),
                          ("regrade.md", changes_markdown(before, after))):
        reports.write_atomic(Path(out) / name, content)
        written[name] = Path(out) / name
    return written


_pending: dict[str, Any] = {}  # what a forked writer writes (inherited, not pickled)


def _write_pending() -> dict[str, Path]:
    return write_regrade(_pending["before"], _pending["after"], _pending["out"])


def write_all(before: GradingRun, after: GradingRun, out: Path,
              questions: Sequence[Question], jobs: int = 2) -> dict[str, Path]:
    """``write_regrade``'s files and the class report. With ``jobs`` > 1 a forked process
    writes the students' files while this one draws the class report: both are Python
    through and through, so threads would take turns on one core (1,000 students: about
    5 s each)."""
    from concurrent.futures import ThreadPoolExecutor

    from autograder.report.classreport import write_class_report

    if jobs > 1:
        _pending.update(before=before, after=after, out=out)
        pool: Any = ProcessPoolExecutor(max_workers=1, mp_context=get_context("fork"))
    else:  # one process: a thread still overlaps the files' fsyncs with the drawing
        pool = ThreadPoolExecutor(max_workers=1)
    try:
        with pool:
            writing = pool.submit(_write_pending if jobs > 1 else write_regrade,
                                  *(() if jobs > 1 else (before, after, out)))
            written = write_class_report([after], out, lambda _: questions, jobs)
            return {**writing.result(), **written}
    finally:
        _pending.clear()
