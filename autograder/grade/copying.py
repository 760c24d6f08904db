"""Copying shows (issue 17): with per-student variants, an answer that is wrong for the
student's own numbers but right for another student's, or the same as another student's answer
on other numbers, is recorded for the instructor. No penalty: a note in results.json
(``SubmissionResult.copying``) and in the class report.

Numbers and arrays are compared with every other variant's reference of the class (cheap: no
sympy); answers of any judged kind are compared with the other students' answers. Functions
are not compared (they are judged on probes, not on the student's numbers).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from typing import Any

import numpy as np

from autograder.errors import ParseError
from autograder.judge import transport
from autograder.judge.closeness import COPIED_REL_FLOOR, Tolerance
from autograder.results import GradingRun, QuestionResult, SubmissionResult
from autograder.rubric.question import Question

NUMERIC = ("number", "array")
COMPARED = ("number", "array", "expression")
QuestionsFor = Callable[[str | None], Sequence[Question]]  # variant key -> its questions
# An answer shared with more students than this points at no one (a common value, such as a
# loss trained down to 0 or a minimum several variants share): not listed.
MAX_MATCHES = 3


def _numeric(data: Any) -> np.ndarray | None:
    try:
        value = transport.decode(data)
        array = np.asarray(value, dtype=float).ravel()
    except (ParseError, TypeError, ValueError, OverflowError):
        return None
    return array if array.size and np.all(np.isfinite(array)) else None


def _close(a: np.ndarray, b: np.ndarray, question: Question) -> bool:
    return Tolerance(max(question.rel_tol, COPIED_REL_FLOOR), question.abs_tol).close_arrays(a, b)


def _suspect(result: QuestionResult) -> bool:
    """Judged, with an answer kept, and not right for the student's own variant."""
    return result.error is None and result.answer is not None and not result.full_marks


def find_copying(run: GradingRun, questions_for: QuestionsFor) -> GradingRun:
    """``run`` with each submission's ``copying`` filled in (a run without variants: as is)."""
    keyed = [s for s in run.submissions if s.variant is not None]
    if len({s.variant for s in keyed}) < 2:
        return run
    rubrics: dict[str, dict[str, Question]] = {}
    for key in dict.fromkeys(s.variant for s in keyed):
        rubrics[key] = {q.id: q for q in questions_for(key)}
    references = {key: {qid: _reference(q) for qid, q in by_id.items()}
                  for key, by_id in rubrics.items()}
    same_question = {key: {qid: _identity(q) for qid, q in by_id.items()}
                     for key, by_id in rubrics.items()}
    answers = _answers(keyed)
    lecture = {q.id: _reference(q) for q in questions_for(None)}  # public: not a copy
    notes: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for sub in keyed:
        found: list[dict[str, Any]] = []
        for result in sub.questions:
            question = rubrics[sub.variant].get(result.id)
            if question is None or question.kind not in COMPARED or not _suspect(result):
                continue
            value = _numeric(result.answer) if question.kind in NUMERIC else None
            if value is not None and (not np.any(np.abs(value) > question.abs_tol) or (
                    lecture.get(result.id) is not None
                    and _close(value, lecture[result.id], question))):
                continue  # zeros, or the lecture's own numbers: nobody's in particular
            others = [o for o in keyed if o.variant != sub.variant and same_question[
                o.variant].get(result.id) != same_question[sub.variant][result.id]]
            matches = _matches(sub, result, question, others, references, answers)
            if len(matches) <= MAX_MATCHES:
                found += matches
        notes[(sub.student, sub.source)] = found
    subs = tuple(replace(s, copying=tuple(notes.get((s.student, s.source), ())))
                 for s in run.submissions)
    return replace(run, submissions=subs)


def _identity(question: Question) -> str:
    """What a question asks of a variant: equal for two variants, their answers may agree."""
    expected = question.expected
    if hasattr(expected, "tolist"):
        expected = expected.tolist()
    return f"{question.title}\0{expected!r}"


def _reference(question: Question) -> np.ndarray | None:
    if question.kind not in NUMERIC or question.expected is None:
        return None
    try:
        array = np.asarray(question.expected, dtype=float).ravel()
    except (TypeError, ValueError):
        return None
    return array


def _answers(subs: Sequence[SubmissionResult]) -> dict[str, list[tuple[SubmissionResult, str]]]:
    """Each question's kept answers as canonical JSON, with whose they are."""
    by_question: dict[str, list[tuple[SubmissionResult, str]]] = {}
    for sub in subs:
        for result in sub.questions:
            if result.answer is not None and result.error is None:
                by_question.setdefault(result.id, []).append(
                    (sub, json.dumps(result.answer, sort_keys=True)))
    return by_question


def _matches(sub: SubmissionResult, result: QuestionResult, question: Question,
             others: Sequence[SubmissionResult],
             references: Mapping[str, Mapping[str, np.ndarray | None]],
             answers: Mapping[str, list[tuple[SubmissionResult, str]]]) -> list[dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    value = _numeric(result.answer) if question.kind in NUMERIC else None
    own = references[sub.variant].get(result.id)
    if value is not None:
        for other in others:
            if other.student in found:
                continue
            theirs = references[other.variant].get(result.id)
            if theirs is not None and _close(value, theirs, question) and not (
                    own is not None and _close(own, theirs, question)):
                found[other.student] = {
                    "question": result.id, "student": other.student, "matches": "variant",
                    "note": f"matches {other.student}'s numbers' reference, not this "
                            "student's own"}
    text = json.dumps(result.answer, sort_keys=True)
    allowed = {o.student for o in others}
    for other, theirs in answers.get(result.id, ()):
        if other.student not in allowed or other.student in found:
            continue
        same = theirs == text
        if not same and value is not None:
            other_value = _numeric(json.loads(theirs))
            same = other_value is not None and _close(value, other_value, question)
        if same:
            found[other.student] = {
                "question": result.id, "student": other.student, "matches": "answer",
                "note": f"the same answer as {other.student}, whose numbers differ"}
    return list(found.values())
