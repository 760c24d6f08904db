"""check_expression, check_number, check_array, check_function: verdicts, partial credit,
feedback that never gives the answer away, and bad input."""

from __future__ import annotations

import math
import time

import numpy as np
import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st

from autograder import check_array, check_expression, check_function, check_number
from autograder.judge.checks import DEFAULT_CREDIT, ExpressionReference, judge_expression
from autograder.judge.parsing import make_symbol
from solutions import optimisation_1d as o1
from solutions import sigmoid as sg
from tests.expression_cases import CASES

# A guard against hanging (a limit that does not hold), not a speed target: speed is
# measured by benchmarks/check_speed.py, and loaded CI machines are slow.
HANG = 10.0


def test_the_table_is_large_enough() -> None:
    assert len(CASES) >= 60


@pytest.mark.parametrize(("answer", "expected", "variables", "definitions", "verdict"), CASES,
                         ids=[f"{i}-{c[4]}" for i, c in enumerate(CASES)])
def test_case_table(answer, expected, variables, definitions, verdict) -> None:
    result = check_expression(answer, expected, variables=list(variables),
                              definitions=definitions)
    if verdict == "correct":
        assert result.correct and result.score == 1.0, result.feedback
        assert result.mistake is None and not result.invalid
    elif verdict == "invalid":
        assert result.invalid and not result.correct and result.score == 0.0
    elif verdict == "wrong":
        assert not result.correct and result.mistake is None and result.score == 0.0
        assert not result.invalid
    else:
        assert not result.correct and result.mistake == verdict, result.feedback
        assert result.score == DEFAULT_CREDIT[verdict]
    assert result.feedback
    assert str(expected) not in result.feedback
    assert sympy.sstr(expected) not in result.feedback


def test_sympy_answers_with_plain_symbols_are_accepted() -> None:
    v = sympy.Symbol("v")  # what a student makes: not declared real
    answer = sympy.exp(-v) / (1 + sympy.exp(-v)) ** 2
    assert check_expression(answer, sg.sigmoid_prime_lecture_form(), ["v"]).correct
    sigma = 1 / (1 + sympy.exp(-v))
    assert check_expression(sigma * (1 - sigma), sg.sigmoid_prime_lecture_form(), ["v"]).correct


def test_unknown_names_are_named() -> None:
    result = check_expression("exp(-t) + foo", sg.sigmoid_prime_lecture_form(), ["v"])
    assert result.invalid
    assert "t" in result.feedback and "foo" in result.feedback


def test_partial_credit_follows_the_rubric() -> None:
    result = check_expression("-(36x^2 + 30x - 40)", o1.FSECOND_EXPR, ["x"],
                              credit={"sign": 0.8})
    assert result.mistake == "sign" and result.score == 0.8


def test_wrong_variable_names_the_student_symbol() -> None:
    from autograder.rubric.course import rubric
    from solutions import network as nw

    OUTPUT_DEFINITIONS, OUTPUT_LAYER = (rubric("backprop").OUTPUT_DEFINITIONS,
                                        rubric("backprop").OUTPUT_LAYER)

    result = check_expression("-2*(y - a1_2)*a1_1", nw.dR_dw12_2(), list(OUTPUT_LAYER),
                              OUTPUT_DEFINITIONS)
    assert result.mistake == "wrong_variable"
    assert "a1_1" in result.feedback and "a2_1" not in result.feedback


def test_huge_power_returns_quickly() -> None:
    start = time.perf_counter()
    result = check_expression("9**9**9**9", o1.FSECOND_EXPR, ["x"])
    assert result.invalid
    assert time.perf_counter() - start < HANG


def test_fingerprint_judges_like_the_reference_without_the_expression() -> None:
    """The released fingerprint reaches the same verdicts as the full reference."""
    ref = ExpressionReference.build(sg.sigmoid_prime_lecture_form(), ["v"])
    released = ExpressionReference.from_fingerprint(ref.fingerprint())
    assert released.expression is None
    for answer in ["sigma(v)*(1-sigma(v))", "-sigma(v)*(1-sigma(v))", "3*sigma(v)*sigma(-v)",
                   "sigma(v)", "v*sigma(v)*sigma(-v)", "exp(", "q"]:
        full, visible = judge_expression(answer, ref), judge_expression(answer, released)
        assert (full.correct, full.mistake, full.invalid) == (
            visible.correct, visible.mistake, visible.invalid), answer


def test_fingerprint_contains_no_expression_text() -> None:
    expected = sg.sigmoid_prime_lecture_form()
    text = str(ExpressionReference.build(expected, ["v"]).fingerprint())
    assert str(expected) not in text and "exp(" not in text


# --- property tests: equivalent rewrites pass, perturbations fail ---------------------------

x1, x2 = make_symbol("x1"), make_symbol("x2")
BASES = [x1**2 * x2 + 3 * x1, sympy.exp(x1) / (1 + x2**2), (x1 - x2) ** 3, sympy.sin(x1) * x2]


@settings(max_examples=40, deadline=None)
@given(base=st.sampled_from(BASES), k=st.integers(1, 5), shift=st.integers(-3, 3))
def test_equivalent_rewrites_are_accepted(base, k, shift) -> None:
    rewritten = sympy.expand(base * k + shift * x1) / k - sympy.Rational(shift, k) * x1
    assert check_expression(sympy.sstr(rewritten, order="none"), base, ["x1", "x2"]).correct


@settings(max_examples=40, deadline=None)
@given(base=st.sampled_from(BASES), power=st.integers(-12, -3), mantissa=st.integers(1, 9))
def test_small_perturbations_are_rejected(base, power, mantissa) -> None:
    perturbed = f"{sympy.sstr(base)} + {mantissa}*10^({power})*x2"
    assert not check_expression(perturbed, base, ["x1", "x2"]).correct


# --- numbers, arrays, functions -------------------------------------------------------------

def test_check_number() -> None:
    assert check_number(0.39051, 0.3905, rel_tol=1e-6).correct is False
    assert check_number(0.39050001, 0.3905, rel_tol=1e-6).correct is True
    assert check_number(np.float64(0.3905), 0.3905).correct
    assert check_number("0.3905", 0.3905).correct
    assert check_number(-0.3905, 0.3905).mistake == "sign"
    assert check_number(0.781, 0.3905).mistake == "constant_factor"
    near = check_number(0.391, 0.3905)
    assert not near.correct and "round" in near.feedback
    for bad in [float("nan"), math.inf, None, True, "abc", [1.0], object()]:
        result = check_number(bad, 0.3905)
        assert result.invalid and result.score == 0.0


def test_check_array() -> None:
    expected = [1.0, -2.0, 0.5]
    assert check_array(np.array(expected), expected).correct
    assert check_array([-1.0, 2.0, -0.5], expected).mistake == "sign"
    assert check_array([-0.5, 1.0, -0.25], expected).mistake == "constant_factor"
    partly = check_array([1.0, -2.0, 0.7], expected, labels=["a", "b", "c"])
    assert not partly.correct and "2 of 3" in partly.feedback and "c" in partly.feedback
    assert check_array([1.0, 2.0], expected).invalid
    assert check_array("1,2,3", expected).invalid
    assert check_array([1.0, float("nan"), 0.5], expected).invalid


def test_check_function() -> None:
    probes = [(-1.0, 0.01), (2.0, 0.01)]

    def reference(x0, step):
        return o1.gradient_descent(o1.fprime, x0, step)[-1]

    def student(x0, step):
        x = x0
        for _ in range(20_000):
            x_new = x - step * (12 * x**3 + 15 * x**2 - 40 * x + 8)
            if abs(x_new - x) < 1e-12:
                return x_new
            x = x_new
        return x

    assert check_function(student, reference, probes).correct
    half = check_function(lambda x0, step: student(x0, step) if x0 < 0 else 0.0, reference,
                          probes)
    assert half.score == 0.5 and "2.0" in half.feedback
    raising = check_function(lambda x0, step: 1 / 0, reference, probes)
    assert raising.score == 0.0 and "ZeroDivisionError" in raising.feedback
    assert check_function(42, reference, probes).invalid
    nan = check_function(lambda x0, step: float("nan"), reference, probes)
    assert nan.score == 0.0 and not nan.correct


# --- issue 12: vectors earn per-entry credit, slips are declared, one slip is charged once --


def _backprop_question(qid: str):
    from autograder.rubric.course import question

    return question(qid)


def test_gradient_slips_declared_in_the_rubric_earn_their_credit() -> None:
    from autograder.rubric.question import judge
    from solutions import network as nw

    q = _backprop_question("backprop-gradient")
    total = nw.total_gradient()
    cases = {
        "mean_not_sum": total / 2,
        "one_observation": nw.gradient(nw.THETA0, nw.DATA[0]),
        "sigma_for_sigma_prime": nw.total_gradient(activation_slope=sg.sigmoid),
    }
    declared = {s.id: s.credit for s in q.slips}
    for mistake, answer in cases.items():
        result = judge(q, answer)
        assert result.mistake == mistake and result.score == declared[mistake], result
    assert judge(q, -total).mistake == "sign"
    assert judge(q, 7.3 * total).score == 0.0  # a ratio no slip makes earns nothing


def test_a_rounded_gradient_is_named_and_earns_part() -> None:
    from autograder.rubric.question import judge
    from solutions import network as nw

    q = _backprop_question("backprop-gradient")
    rounded = np.round(nw.total_gradient(), 3)
    result = judge(q, rounded)
    assert not result.correct and 0 < result.score < 1
    assert "rounded" in result.feedback


def test_one_wrong_entry_costs_its_share_and_is_named_by_label() -> None:
    from autograder.rubric.question import judge
    from solutions import network as nw

    q = _backprop_question("backprop-gradient")
    answer = nw.total_gradient().copy()
    answer[4] += 0.37
    result = judge(q, answer)
    assert result.score == pytest.approx(8 / 9)
    assert nw.PARAM_NAMES[4] in result.feedback and "hidden node 2" in result.feedback


def test_the_step_follows_through_from_the_students_own_gradient() -> None:
    from autograder.rubric.question import judge
    from solutions import network as nw

    step = _backprop_question("backprop-step")
    wrong_grad = nw.total_gradient(activation_slope=sg.sigmoid)
    own_step = nw.THETA0 - 0.1 * wrong_grad
    alone = judge(step, own_step)
    assert alone.score < 1  # against the reference it is wrong ...
    followed = judge(step, own_step, earlier={"backprop-gradient": wrong_grad})
    assert followed.score == 1.0 and "follow-through" in followed.feedback  # ... not twice
    assert judge(step, nw.THETA0, earlier={"backprop-gradient": wrong_grad}).score == 0.0


def test_numbers_earn_credit_only_for_ratios_a_slip_makes() -> None:
    assert check_number(7.3 * 0.3905, 0.3905).score == 0.0
    assert check_number(10 * 0.3905, 0.3905).score == 0.0
    assert check_number(0.3905 / 2, 0.3905).mistake == "constant_factor"
    assert check_number(0.39, 0.3905).mistake == "rounded"


def test_declared_expression_slips_are_matched_by_equivalence() -> None:
    from autograder.rubric.course import question
    from autograder.rubric.question import judge

    nr = question("opt1d-newton-update")
    inverted = judge(nr, "(x*d1 - d2)/d1")  # x − d2/d1, written otherwise
    assert inverted.mistake == "newton_inverted"
    assert inverted.score == next(s.credit for s in nr.slips if s.id == "newton_inverted")
    plus = judge(nr, "x + d1/d2")
    assert plus.mistake == "wrong_term" and "Newton step" in plus.feedback
    chain = question("backprop-dR-dw12-layer1")
    forgot = judge(chain, "-2*(y - a1_2)*w11_2*x2")
    assert forgot.mistake == "missing_factor" and "σ′(z₁⁽¹⁾)" in forgot.feedback
    sigma = judge(chain, "2*(a1_2 - y)*w11_2*sigma(z1_1)*x2")
    assert sigma.mistake == "replaced_factor" and "activation" in sigma.feedback
    b1 = question("backprop-dR-db1")
    assert "inner derivative" in judge(b1, "2*(y - a1_2)").feedback  # the sign hint fits


def test_an_answer_that_is_not_real_on_the_domain_says_so() -> None:
    result = check_expression("log(x)", "log(x^2)/2", ["x"])
    assert not result.correct and "not a real number" in result.feedback
    assert check_expression("log(x) + log(y)", "log(x*y)", ["x", "y"],
                            domains={"x": "positive", "y": "positive"}).correct
    assert check_expression("sqrt(x)*sqrt(y)", "sqrt(x*y)", ["x", "y"],
                            domains={"x": "positive", "y": "positive"}).correct
    assert check_expression("sqrt(x - 3)", "sqrt(x - 3)", ["x"]).correct
    assert check_expression("x^y", "exp(y*log(x))", ["x", "y"],
                            domains={"x": "positive"}).correct
    assert check_expression("log(a^2*b)", "2*log(a) + log(b)", ["a", "b"],
                            domains={"a": "positive", "b": "positive"}).correct
    assert check_expression("a*(1 - a)", "a - a^2", ["a"], domains={"a": "(0, 1)"}).correct
