"""One judgement (issue 12): the self-check, with only the released data, reaches the grade's
verdict, mistake, feedback and credit on every honest answer — the right answers of the
notebooks, equivalent forms, every slip the rubric declares and every slip diagnosis makes
from the reference's structure — while the grade decides at secret points."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import sympy

from autograder import examples
from autograder.course import ASSIGNMENTS, questions
from autograder.rubric import expression_reference, judge, self_check

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT / "assignments"

# Equivalent forms a student may write, by question (the notebooks' own answers are added).
EQUIVALENT = {
    "backprop-sigmoid-derivative": ["sigma(v)*(1 - sigma(v))", "1/(4*cosh(v/2)^2)",
                                    "exp(v)/(1 + exp(v))^2"],
    "backprop-dR-dw12": ["2*a2_1*(a1_2 - y)", "-2*(y - w11_2*a1_1 - w12_2*a2_1 - b1_2)*a2_1"],
    "backprop-dR-db1": ["2*a1_2 - 2*y"],
    "backprop-dR-dw11-layer1": ["-2*(y - a1_2)*w11_2*a1_1*(1 - a1_1)*x1",
                                "2*(a1_2 - y)*w11_2*sigma(z1_1)*(1 - sigma(z1_1))*x1"],
    "opt1d-second-derivative": ["2*(18*x^2 + 15*x - 20)"],
    "opt1d-newton-update": ["(x*d2 - d1)/d2"],
}
# Slips diagnosis finds on the student's own answer (a symbol in place of another, an extra
# factor), by question.
STUDENT_SIDE = {
    "backprop-dR-dw12": ["-2*(y - a1_2)*a1_1", "-2*(y - a1_2)*a2_1*w12_2"],
    "backprop-dR-dw11-layer1": ["-2*(y - a1_2)*w11_2*a1_1*(1 - a1_1)*x2"],
}


def _released(assignment: str) -> dict:
    return json.loads((SOURCE / assignment / "selfcheck.json").read_text())["questions"]


def _notebook_answer(assignment: str, question_id: str) -> str | None:
    """The string the source notebook's solution assigns, if the answer is a string."""
    nb = examples.load(SOURCE, assignment)
    for cell in nb["cells"]:
        if cell.get("metadata", {}).get("nbgrader", {}).get("grade_id") == f"{question_id}-answer":
            source = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
            for line in source.splitlines():
                if "=" in line and not line.lstrip().startswith("#"):
                    value = line.split("=", 1)[1].strip()
                    if value[:1] in "\"'":
                        return value.strip("\"'")
    return None


def corpus(assignment: str, question) -> list[str]:
    answers = list(EQUIVALENT.get(question.id, []))
    own = _notebook_answer(assignment, question.id)
    # a solution computed from the student's numbers (an f-string) is not read here: the
    # reference in its own form stands for it
    answers.append(own or sympy.sstr(question.expected))
    answers += [str(s.answer) for s in question.slips]
    answers += [sympy.sstr(c.expr) for c in expression_reference(question).found]
    answers += STUDENT_SIDE.get(question.id, [])
    return answers


CASES = [(a, q, answer) for a in ASSIGNMENTS for q in questions(a) if q.kind == "expression"
         for answer in corpus(a, q)]


@pytest.mark.parametrize(("assignment", "question", "answer"), CASES,
                         ids=[f"{q.id}:{i}" for i, (_, q, _) in enumerate(CASES)])
def test_self_check_agrees_with_the_grade(assignment, question, answer) -> None:
    graded = judge(question, answer)
    visible = self_check(_released(assignment)[question.id], answer)
    assert (visible.correct, visible.mistake, visible.score, visible.invalid) == (
        graded.correct, graded.mistake, graded.score, graded.invalid), answer
    if not graded.correct:
        assert visible.feedback == graded.feedback


def test_every_question_has_a_right_answer_and_slips_in_the_corpus() -> None:
    for assignment in ASSIGNMENTS:
        for q in questions(assignment):
            if q.kind != "expression":
                continue
            verdicts = [judge(q, a) for a in corpus(assignment, q)]
            assert any(v.correct for v in verdicts), q.id
            assert sum(v.mistake is not None for v in verdicts) >= 3, q.id
