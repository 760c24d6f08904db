"""Diagnosis beyond the catalogue (issue 23): on every expression question of the three
rubrics, one term (factor) of the reference replaced by something else earns no less than
the same term (factor) left out, in the grade and in the self-check alike."""

from __future__ import annotations

import pytest
import sympy

from autograder.judge.diagnosis import one_part_wrong
from autograder.rubric.course import ASSIGNMENTS, questions
from autograder.rubric.question import expression_reference, fingerprint, judge, self_check

# Things a student may put in a part's place (x stands for the question's first variable):
# none is a named slip, and none merges with a term or factor of any reference.
JUNK = {"sum": ("sin(x)", "3*cosh(x)"), "product": ("sin(x)", "cosh(x)^2")}


def _parts() -> list:
    cases = []
    for assignment in ASSIGNMENTS:
        for q in questions(assignment):
            if q.kind != "expression":
                continue
            ref = expression_reference(q)
            if ref.kind not in ("sum", "product"):
                continue
            cases += [(q, k) for k in range(len(ref.named))]
    return cases


PARTS = _parts()


def _junk(question, text: str) -> sympy.Expr:
    """``text`` in the question's own first variable (x stands for it)."""
    ref = expression_reference(question)
    symbol = sorted(ref.raw.free_symbols, key=str)[0]
    return sympy.sympify(text, locals={"x": symbol})  # our own constant text, never a student's


def test_there_are_parts_to_try() -> None:
    kinds = {expression_reference(q).kind for q, _ in PARTS}
    assert kinds == {"sum", "product"} and len(PARTS) >= 15


@pytest.mark.parametrize(("question", "k"), PARTS,
                         ids=[f"{q.id}:{k}" for q, k in PARTS])
def test_a_wrong_part_is_worth_no_less_than_a_missing_one(question, k) -> None:
    """The other parts as the reference writes them, part k left out or replaced."""
    ref = expression_reference(question)
    if ref.kind == "sum":
        others = [n.expr for j, n in enumerate(ref.named) if j != k]
        missing = sympy.Add(*others)
        wrong = [sympy.Add(*others, _junk(question, j)) for j in JUNK["sum"]]
    else:
        missing = ref.raw / ref.named[k].expr
        wrong = [missing * _junk(question, j) for j in JUNK["product"]]
    released = fingerprint(question)
    left_out = judge(question, missing)
    for answer in wrong:
        graded = judge(question, answer)
        assert not graded.correct
        assert graded.score >= left_out.score, (answer, graded.feedback, left_out.feedback)
        assert graded.mistake is not None, (answer, graded.feedback)
        visible = self_check(released, answer)
        assert (visible.score, visible.mistake, visible.feedback) == (
            graded.score, graded.mistake, graded.feedback), answer


def test_a_part_matched_by_several_of_the_students_terms() -> None:
    """2(x₁ − 1)(x₂ − 1)⁴ written expanded in x₁ still counts as that term."""
    (q,) = [q for q in questions("steepest-descent-2d") if q.id == "sd2d-df-dx1"]
    result = judge(q, "4*x1^3*x2^2 + 2*x1*(x2-1)^4 - 2*(x2-1)^4 + 0*x1 + x2^3")
    assert result.mistake is None or result.score == 0.0  # every part there: not one wrong
    result = judge(q, "5*x1^3*x2^2 + 2*x1*(x2-1)^4 - 2*(x2-1)^4")
    assert result.mistake == "wrong_term" and result.score == 0.5, result.feedback
    assert "x₁⁴x₂²" in result.feedback  # the term at fault, in the question's words


def test_nothing_to_match_without_parts() -> None:
    assert one_part_wrong(sympy.Symbol("x"), None, "atom", ()) is None


# --- named slips a lecturer grades (issue 23's table) ----------------------------------------

def _judged(question_id: str, answer: str):
    from autograder.rubric.course import question

    q = question(question_id)
    graded = judge(q, answer)
    visible = self_check(fingerprint(q), answer)
    assert (visible.score, visible.mistake, visible.feedback) == (
        graded.score, graded.mistake, graded.feedback), answer
    return graded


@pytest.mark.parametrize(("question_id", "answer"), [
    ("backprop-link-da-da", "a1_1"),  # the activation, not the weight
    ("backprop-link-dz-dw", "x1"),  # the other weight's input: one of two symbols
    ("backprop-link-dz-dw", "w12_1"),
])
def test_an_answer_that_is_one_wrong_symbol_earns_nothing(question_id, answer) -> None:
    result = _judged(question_id, answer)
    assert result.mistake == "wrong_quantity" and result.score == 0.0
    assert answer in result.feedback


@pytest.mark.parametrize(("question_id", "answer", "where"), [
    ("backprop-dR-dw12-layer1", "2*(y - a1_2)*w11_2*x2", "sign"),  # sign, σ′ forgotten
    ("backprop-dR-dw2k-layer1", "-2*(y - a1_2)*w11_2*x2", "σ′"),  # other weight, σ′ forgotten
    ("backprop-dR-dw12-layer1", "-4*(y - a1_2)*w11_2*a1_1*x2", "σ′"),  # ×2 and σ for σ′
])
def test_two_slips_in_a_chain_earn_a_little(question_id, answer, where) -> None:
    result = _judged(question_id, answer)
    assert result.mistake == "two_slips" and result.score == 0.25, result.feedback
    assert where in result.feedback


def test_a_chain_with_nothing_right_is_not_two_slips() -> None:
    result = _judged("backprop-dR-dw12-layer1", "7*(y - a1_2)*x1")
    assert result.mistake is None and result.score == 0.0


def test_a_right_answer_in_a_symbol_the_question_lacks() -> None:
    result = _judged("backprop-link-da-dz", "exp(-v)*(1 + exp(-v))^(-2)")
    assert result.mistake == "wrong_name" and result.score == 0.5
    assert "v" in result.feedback and "z1_1" in result.feedback
    assert _judged("backprop-link-da-dz", "exp(-v)*(1 + exp(-v))^(-1)").invalid
    assert _judged("backprop-link-da-dz", "exp(-v - w)").invalid


def test_a_bias_multiplied_by_an_input() -> None:
    result = _judged("backprop-dR-db2-layer1", "-2*(y - a1_2)*w12_2*a2_1*(1 - a2_1)*x2")
    assert result.mistake == "bias_input" and result.score == 0.5


def test_a_slip_is_named_where_the_sigmoid_saturates(monkeypatch) -> None:
    """Secret points where every z is 15–28 (drawn about once in 600 gradings, seen as a CI
    flake): σ′ and σ′ unsquared are then both tiny and closer than the float tolerance's
    absolute part, yet an answer equal to the slip still gets the slip's name and feedback,
    as in the self-check at the public points — not a vaguer diagnosis."""
    import random

    import mpmath

    from autograder.judge.checks import Judged
    from autograder.judge.closeness import EXPRESSION_EXACT, EXPRESSION_FLOAT
    from autograder.judge.diagnosis import part_values
    from autograder.judge.equivalence import N_SECRET, Frame, Sample, same_values
    from autograder.rubric.course import question

    q = question("backprop-dR-db2-layer1")
    ref = expression_reference(q)
    (slip,) = [c for c in ref.found if c.mistake == "sigma_prime_unsquared"]
    rng = random.Random(7)
    with mpmath.workdps(60):
        points = [tuple(mpmath.mpf(2.5 + rng.random()) for _ in ref.symbols)
                  for _ in range(N_SECRET)]
    frame = Frame.at(ref.symbols, points, ref.definitions)
    values = frame.values(ref.raw)
    assert same_values(frame.values(slip.expr), values, EXPRESSION_FLOAT)  # the hard case
    assert not same_values(frame.values(slip.expr), values, EXPRESSION_EXACT)
    monkeypatch.setitem(ref.__dict__, "secret", Judged(
        Sample(frame, values), (), part_values(ref.kind, ref.named, frame, ref.credit)))
    answer = sympy.sstr(slip.expr)
    graded = judge(q, answer)
    visible = self_check(fingerprint(q), answer)
    assert (graded.mistake, graded.feedback, graded.score) == (
        visible.mistake, visible.feedback, visible.score) == (
        "sigma_prime_unsquared", slip.feedback, slip.credit)
