"""Judge a class's kept answers again with the current rubric, without running any notebook.

``results.json`` (schema 2) keeps each answer exactly as the sandboxed child sent it; this
module hands that data to the same ``Grader.judge_answer`` that graded it the first time, so a
new declared slip, changed credit or a corrected reference reaches every student in seconds.
Nothing a student wrote is executed: the data is rebuilt by ``transport.decode`` as at grading.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from autograder import __version__, reports
from autograder.errors import UsageError
from autograder.grading import Grader, Judge, Settings, hidden_judge
from autograder.results import (
    GradingRun,
    QuestionResult,
    ScoreChange,
    SubmissionResult,
    score_changes,
)
from autograder.rubric import Question

NOT_KEPT = ("{path} was written by an older backprop-kit (results schema {schema}), which kept "
            "no answers: it cannot be regraded. Grade the submissions again with this version "
            "(backprop-kit grade); its results.json can then be regraded.")


class NotRegradable(UsageError):
    """The results file holds no answers to judge again."""


def _regrade_question(grader: Grader, question: Question, old: QuestionResult | None
                      ) -> QuestionResult:
    if old is None:
        return QuestionResult.ungraded(
            question.id, question.title, question.points,
            "Not graded: this question was added to the rubric after the notebook ran.")
    if old.answer is None:  # never answered (or never reached): nothing to judge again
        return replace(old, title=question.title, max_points=question.points,
                       points=min(old.points, question.points))
    return grader.judge_answer(question, {"data": old.answer})


def regrade(run: GradingRun, questions: Sequence[Question], judge: Judge = hidden_judge,
            source: str = "results.json") -> GradingRun:
    """``run`` judged again: same students, statuses and errors, new points and feedback."""
    if not run.regradable:
        raise NotRegradable(NOT_KEPT.format(path=source, schema=run.schema))
    started = time.monotonic()
    grader = Grader(run.assignment, questions, Settings(), judge=judge)  # the runner never starts
    subs = []
    for sub in run.submissions:
        old = {q.id: q for q in sub.questions}
        new = tuple(_regrade_question(grader, q, old.get(q.id)) for q in questions)
        subs.append(replace(sub, questions=new))
    return GradingRun(run.assignment, __version__, tuple(subs), time.monotonic() - started,
                      run.shard, run.sandbox)


def kept_answers(run: GradingRun) -> int:
    return sum(q.answer is not None for s in run.submissions for q in s.questions)


# --- what changed, for people --------------------------------------------------------------


def _num(value: float) -> str:
    return reports._num(value)


def _label(change: ScoreChange, subs: Sequence[SubmissionResult]) -> str:
    same = [s for s in subs if s.student == change.student]
    return change.student if len(same) < 2 else f"{change.student}/{Path(change.source).name}"


def changes_table(before: GradingRun, after: GradingRun) -> str:
    """The students whose scores changed, by how much and on which questions (terminal)."""
    changes = score_changes(before, after)
    if not changes:
        return f"regraded {len(after.submissions)} submissions: no score changed"
    width = max(7, *(len(reports._plain(_label(c, after.submissions), 30)) for c in changes))
    header = f"{'student':<{width}} {'before':>8} {'after':>8} {'change':>8}  questions"
    lines = [header, "-" * len(header)]
    for c in changes:
        moved = ", ".join(f"{qid} {_num(b)}→{_num(a)}" for qid, b, a in c.questions)
        lines.append(f"{reports._plain(_label(c, after.submissions), 30):<{width}} "
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
        writer.writerow([reports._cell(v) for v in
                         (c.student, c.source, c.before, c.after, c.delta, moved)])
    return buffer.getvalue()


def changes_markdown(before: GradingRun, after: GradingRun) -> str:
    changes = score_changes(before, after)
    md = reports._md
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
    for name, text in (("regrade.csv", changes_csv(before, after)),
                       ("regrade.md", changes_markdown(before, after))):
        reports.write_atomic(Path(out) / name, text)
        written[name] = Path(out) / name
    return written
