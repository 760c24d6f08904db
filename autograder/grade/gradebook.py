"""Hand-graded points from nbgrader's gradebook, joined to a grading run.

Written answers are graded by hand in formgrader, which stores the scores in nbgrader's
gradebook (``gradebook.db``). The grade of record must include them, with the same maximum as
``nbgrader export``; a question not graded by hand yet is *pending*, never a silent 0.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from autograder.errors import UsageError
from autograder.results import GradingRun, QuestionResult, SubmissionResult
from autograder.rubric.question import Question

PENDING = "Graded by hand; not graded yet."
# for the instructor (the class report's review list), never on a student's page
NOT_IN_GRADEBOOK = ("not in nbgrader's gradebook: collect and autograde the submission, "
                    "then grade it in formgrader")


def _ta_comment(gb: object, question: Question, assignment: str, student: str) -> str | None:
    """The comment a TA wrote on this answer in formgrader, if any."""
    from nbgrader.api import MissingEntry

    try:
        comment = gb.find_comment(question.id, assignment, assignment, student)  # type: ignore[attr-defined]
    except MissingEntry:
        return None
    text = str(comment.manual_comment or "").strip()
    return text or None


def _hand_grade(gb: object, question: Question, assignment: str, student: str
                ) -> QuestionResult:
    from nbgrader.api import MissingEntry

    try:
        grade = gb.find_grade(question.id, assignment, assignment, student)  # type: ignore[attr-defined]
    except MissingEntry:
        return replace(QuestionResult.awaiting_hand_grading(
            question.id, question.title, question.points, PENDING), review=NOT_IN_GRADEBOOK)
    comment = _ta_comment(gb, question, assignment, student)
    if grade.manual_score is not None:
        score, note = grade.manual_score, "Graded by hand."
    elif grade.auto_score is not None:  # nbgrader's own 0 for an answer left as released
        score, note = grade.auto_score, "Not answered (graded by hand)."
    else:
        return QuestionResult.awaiting_hand_grading(question.id, question.title,
                                                    question.points, PENDING)
    if comment:
        note = f"{note} Comment: {comment}"
    points = round(float(score) + float(grade.extra_credit or 0.0), 6)
    return QuestionResult(question.id, question.title, question.points, points,
                          points >= question.points, note)


def with_hand_grades(run: GradingRun, gradebook: Path, manual: Sequence[Question]
                     ) -> GradingRun:
    """``run`` with each submission's hand-graded questions appended, read from
    ``gradebook`` (an nbgrader sqlite file); the notebook is the one named as the assignment."""
    if not manual:
        return run
    if not gradebook.is_file():
        raise UsageError(f"{gradebook}: no such gradebook (nbgrader's gradebook.db)")
    from nbgrader.api import Gradebook

    subs: list[SubmissionResult] = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # SQLAlchemy's deprecation chatter
        with Gradebook(f"sqlite:///{gradebook.resolve()}") as gb:
            for sub in run.submissions:
                known = {q.id for q in sub.questions}
                extra = tuple(_hand_grade(gb, q, run.assignment, sub.student)
                              for q in manual if q.id not in known)
                subs.append(replace(sub, questions=sub.questions + extra))
    return replace(run, submissions=tuple(subs))
