"""One judgement (issue 12): the self-check, with only the released data, reaches the grade's
verdict, mistake, feedback and credit on every honest answer — the right answers of the
notebooks, equivalent forms, every slip the rubric declares and every slip diagnosis makes
from the reference's structure — while the grade decides at secret points."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import sympy

from autograder.course import examples
from autograder.rubric.course import ASSIGNMENTS, questions
from autograder.rubric.question import expression_reference, judge, self_check

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT / "assignments"

# Equivalent forms a student may write, by question (the notebooks' own answers are added).
EQUIVALENT = {
    "backprop-sigmoid-derivative": ["sigma(v)*(1 - sigma(v))", "1/(4*cosh(v/2)^2)",
                                    "exp(v)/(1 + exp(v))^2"],
    "backprop-dR-dw12": ["2*a2_1*(a1_2 - y)", "-2*(y - w11_2*a1_1 - w12_2*a2_1 - b1_2)*a2_1"],
    "backprop-dR-db1": ["2*a1_2 - 2*y"],
    "backprop-dR-dw12-layer1": ["-2*(y - a1_2)*w11_2*a1_1*(1 - a1_1)*x2",
                                "2*(a1_2 - y)*w11_2*sigma(z1_1)*(1 - sigma(z1_1))*x2"],
    "opt1d-second-derivative": ["2*(18*x^2 + 15*x - 20)"],
    "opt1d-newton-update": ["(x*d2 - d1)/d2"],
}
# Slips diagnosis finds on the student's own answer (a symbol in place of another, an extra
# factor), by question.
STUDENT_SIDE = {
    "backprop-dR-dw12": ["-2*(y - a1_2)*a1_1", "-2*(y - a1_2)*a2_1*w12_2",
                         "-2*(y - a1_2)*w12_2"],
    "backprop-dR-dw12-layer1": ["-2*(y - a1_2)*w11_2*a1_1*(1 - a1_1)*x1",
                                "-2*(y - a1_2)*w11_2*cos(z1_1)*x2"],
    # issue 23: one wrong term of a sum, matched on the student's own terms
    "sd2d-df-dx1": ["4*x1^3*x2^2 + 2*(x1 - 1)*(x2 - 1)^3", "4*x1^3*x2^2 + 17"],
    "opt1d-second-derivative": ["36*x^2 + 30*x - 41"],
    "opt1d-newton-update": ["x - 7", "x"],
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


# --- numbers, vectors and functions: the grade's verdict, or plainly "the grade decides" ------
#
# A number, a flag or a small set is never released sealed (a student searches it offline), and
# a vector only whole (autograder.course.audit): the self-check reaches the grade's verdict on a
# whole vector — right, a declared slip, the sign or ×2, follow-through — and otherwise says
# that the grade decides, without claiming the answer right or its points.


def _rounded(values, digits: int = 4):
    return [float(f"{v:.{digits - 1}e}") for v in values]


def numeric_corpus(question) -> list[tuple[str, object, dict | None]]:
    """(what, answer, earlier answers) a student may hand in, computed from ``solutions``."""
    if question.kind == "function":
        def off(*args):
            return np.asarray(question.expected(*args), dtype=float) * 1.001
        return [("right", question.expected, None), ("off by 0.1%", off, None)]
    scalar = question.kind == "number"
    values = [float(question.expected)] if scalar else \
        [float(v) for v in np.asarray(question.expected, dtype=float).ravel()]

    def shaped(vals):
        return vals[0] if scalar else vals

    cases = [("right", shaped(values), None),
             ("right, as numpy", np.asarray(shaped(values)), None),
             ("right to 1e-10", shaped([v * (1 + 1e-10) for v in values]), None),
             ("rounded", shaped(_rounded(values)), None),
             ("unreadable", "not a number", None)]
    cases += [(f"ratio {r:g}", shaped([r * v for v in values]), None) for r in (-1, 2, 0.5, 7.3)]
    for slip in question.slips:
        if not slip.released:
            continue  # judged by the grade alone (test_grade_only_slips_are_not_released)
        cases.append((f"slip {slip.id}", slip.answer, None))
        slip_values = np.asarray(slip.answer, dtype=float).ravel().tolist()
        if not scalar and len(slip_values) == len(values):
            mixed = list(values)
            mixed[0] = slip_values[0]
            cases.append((f"entry 0 of slip {slip.id}", mixed, None))
    if not scalar:
        one_off = list(values)
        one_off[-1] = one_off[-1] * 1.37 + 0.11
        cases.append(("one entry off", one_off, None))
        half = list(values)
        half[1] = _rounded([half[1]])[0]
        cases.append(("one entry rounded", half, None))
    if question.follows and question.from_earlier is not None:
        earlier_q = next(q for q in questions(question_assignment[question.id])
                         if q.id == question.follows)
        for slip in earlier_q.slips:
            own = question.from_earlier(slip.answer).tolist()
            cases.append((f"follows {slip.id}", own, {question.follows: slip.answer}))
    if question.rests_on is not None:  # judged with the student's code, the reference's here
        code = question.rests_on.of
        cases = [(what, answer, {**(earlier or {}), code.id: code.expected})
                 for what, answer, earlier in cases]
    return cases


question_assignment = {q.id: a for a in ASSIGNMENTS for q in questions(a)}
NUMERIC = [(a, q, what, answer, earlier) for a in ASSIGNMENTS for q in questions(a)
           if q.kind in ("number", "array", "function")
           for what, answer, earlier in numeric_corpus(q)]
GRADE_DECIDES = ("checked by the grade only", "The grade decides", "the grade decides",
                 "The grade gives each entry its share", "grade can", "also runs it on hidden")


@pytest.mark.parametrize(("assignment", "question", "what", "answer", "earlier"), NUMERIC,
                         ids=[f"{q.id}:{w}" for _, q, w, _, _ in NUMERIC])
def test_self_check_of_numbers_agrees_with_the_grade(assignment, question, what, answer,
                                                     earlier) -> None:
    graded = judge(question, answer, earlier=earlier)
    visible = self_check(_released(assignment)[question.id], answer, earlier=earlier)
    decided = not (visible.details.get("form_only") or visible.details.get("unconfirmed"))
    if decided or visible.invalid:
        assert (visible.correct, visible.mistake, visible.score, visible.invalid) == (
            graded.correct, graded.mistake, graded.score, graded.invalid), what
        assert visible.feedback == graded.feedback, what
        return
    assert not visible.correct, what
    if question.kind == "function" and visible.details.get("unconfirmed"):
        # a visible test the released table cannot explain: wrong in the grade too, whose
        # hidden tests decide the points
        assert not graded.correct, what
        return
    if not visible.details.get("form_only") and visible.details.get("property"):
        # a visible test or a property of the student's own work failed: wrong in the grade
        # too, whose points it leaves to the grade
        assert not graded.correct, what
        return
    # where agreement would be an answer key: never "right", never points of its own, and
    # the sentence that says so
    assert any(s in visible.feedback for s in GRADE_DECIDES), (what, visible.feedback)
    if graded.correct:  # a right answer is never shown as wrong, unless rounded as allowed
        assert visible.details.get("form_only") or "cannot tell" in visible.feedback, (
            what, visible)
    if "rounded" in what and graded.mistake == "rounded" and visible.mistake == "rounded":
        assert "cannot tell" in visible.feedback, what


def test_a_whole_vector_sealed_is_judged_as_the_grade_judges_it() -> None:
    """Right, every declared slip, the sign and ×2, follow-through: the released seal reaches
    the grade's verdict on each; nothing else is decided by the self-check."""
    decided = 0
    for assignment, q, what, answer, earlier in NUMERIC:
        if "sealed_answer" not in _released(assignment)[q.id]:
            continue
        if what.startswith(("right", "slip", "ratio -1", "ratio 2", "ratio 0.5", "follows")):
            visible = self_check(_released(assignment)[q.id], answer, earlier=earlier)
            graded = judge(q, answer, earlier=earlier)
            assert (visible.score, visible.mistake, visible.feedback) == (
                graded.score, graded.mistake, graded.feedback), (q.id, what)
            decided += 1
    assert decided >= 15, decided


def test_the_numeric_corpus_reaches_every_kind_of_verdict() -> None:
    """The corpus is not all right answers: slips, ratios, rounding and follow-through occur."""
    seen = {"right": 0, "slip": 0, "ratio": 0, "rounded": 0, "follow": 0, "wrong": 0}
    for _, q, _what, answer, earlier in NUMERIC:
        verdict = judge(q, answer, earlier=earlier)
        if verdict.correct:
            seen["right"] += 1
        elif verdict.details.get("follow_through"):
            seen["follow"] += 1
        elif verdict.mistake in ("sign", "constant_factor"):
            seen["ratio"] += 1
        elif verdict.mistake == "rounded":
            seen["rounded"] += 1
        elif verdict.mistake:
            seen["slip"] += 1
        else:
            seen["wrong"] += 1
    assert all(count >= 2 for count in seen.values()), seen


def test_a_rounded_vector_is_left_to_the_grade() -> None:
    """The seal cannot confirm rounding (a seal of the rounded reference would give its digits
    away one by one), so the self-check says so without points; the grade confirms it."""
    q = next(q for q in questions("backprop") if q.id == "backprop-gradient")
    data = _released("backprop")[q.id]
    rounded = _rounded(q.expected)
    assert judge(q, rounded).mistake == "rounded"
    visible = self_check(data, rounded)
    assert visible.mistake == "rounded" and visible.details.get("unconfirmed")
    assert "cannot tell" in visible.feedback


def test_a_rounded_step_from_a_right_gradient_is_said_as_the_grade_says_it() -> None:
    """θ₀ − η∇R rounded to 4 decimals, from the right ∇R: the grade judges it against the
    reference (rounded, no follow-through); so does the self-check, though it reaches it
    through the student's own ∇R (which it finds sealed as the reference). From a wrong ∇R
    both say it is judged against the student's own answer."""
    step = next(q for q in questions("backprop") if q.id == "backprop-step")
    gradient = next(q for q in questions("backprop") if q.id == "backprop-gradient")
    data = _released("backprop")[step.id]
    for grad in (np.asarray(gradient.expected, dtype=float),
                 np.asarray(gradient.expected, dtype=float) / 2):
        answer = np.round(step.from_earlier(grad), 4).tolist()
        earlier = {gradient.id: grad.tolist()}
        graded, visible = judge(step, answer, earlier=earlier), self_check(data, answer,
                                                                            earlier=earlier)
        assert graded.mistake == "rounded" or graded.details.get("follow_through")
        assert (visible.score, visible.feedback) == (graded.score, graded.feedback)


def test_a_number_is_never_checked_by_value() -> None:
    """final_loss: right, rounded or wrong, the self-check says the same thing (its form, and
    that the grade checks the value), so it can be asked nothing about the value."""
    q = next(q for q in questions("backprop") if q.id == "backprop-training")
    data = _released("backprop")[q.id]
    assert "sealed_answer" not in data
    said = {self_check(data, v).feedback for v in (q.expected, float(f"{q.expected:.3e}"),
                                                   1.234, q.expected * 1.001)}
    assert len(said) == 1 and "checked by the grade only" in said.pop()


def test_grade_only_slips_are_not_released() -> None:
    """A slip declared ``released=False`` (the loss one training step short: a number a
    student could bracket) is judged by the grade and appears nowhere in the release."""
    seen = 0
    for assignment in ASSIGNMENTS:
        for q in questions(assignment):
            hidden = [slip for slip in q.slips if not getattr(slip, "released", True)]
            if not hidden:
                continue
            data = _released(assignment)[q.id]
            sealed = data.get("sealed_answer", {}).get("slips", [])
            assert not {slip.id for slip in hidden} & {s["id"] for s in sealed}, q.id
            for slip in hidden:  # the grade knows it (as it, or a slip that coincides)
                assert judge(q, slip.answer).mistake is not None, (q.id, slip.id)
                seen += 1
    assert seen
