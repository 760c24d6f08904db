"""Functions tested as functions, and visible checks that teach without telling.

The hidden judgement runs a student's optimiser on other functions and compares its whole path;
the visible self-check judges properties (a known minimum reached, divergence survived, a
gradient against the student's own finite differences) and never shows a reference value.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from autograder.course import release as authoring
from autograder.judge import properties
from autograder.rubric.course import question, rubric
from autograder.rubric.question import judge, self_check


def released(question_id: str) -> dict:
    assignment = question_id.split("-")[0]
    name = {"opt1d": "optimisation-1d", "sd2d": "steepest-descent-2d"}.get(assignment, assignment)
    return json.loads(authoring.selfcheck_text(name))["questions"][question_id]


def public(question_id: str) -> dict:
    """The released question without its seals: the self-check then judges properties (a
    release that carries seals reaches the grade's verdict instead, tests/test_agreement.py)."""
    data = released(question_id)
    data.pop("sealed_answer", None)
    data.pop("code", None)  # a function's sealed components (tests/test_code_credit.py)
    return data


def reference_gd(df, x0, eta, tol=1e-10, max_iter=10_000):
    return question("opt1d-gradient-descent").expected(df, x0, eta, tol, max_iter)


def last_only(df, x0, eta, tol=1e-10, max_iter=10_000):
    return float(reference_gd(df, x0, eta, tol, max_iter)[-1])


def fixed_steps(df, x0, eta, tol=1e-10, max_iter=10_000):
    path = [float(x0)]
    for _ in range(100):
        path.append(path[-1] - eta * df(path[-1]))
        if abs(path[-1]) > 1e12:
            break
    return np.array(path)


def no_guard(df, x0, eta, tol=1e-10, max_iter=10_000):
    path = [float(x0)]
    for _ in range(max_iter):
        path.append(path[-1] - eta * df(path[-1]))
        if abs(path[-1] - path[-2]) < tol:
            break
    return np.array(path)


def test_the_reference_earns_full_marks_and_passes_its_visible_checks() -> None:
    for qid in ("opt1d-gradient-descent", "opt1d-newton-raphson", "sd2d-steepest-descent",
                "backprop-finite-difference"):
        q = question(qid)
        assert judge(q, q.expected).score == 1.0, qid
        seen = self_check(public(qid), q.expected)
        assert seen.details.get("form_only") and seen.details.get("property"), (qid, seen)
        assert "does not say" not in seen.feedback
        assert self_check(released(qid), q.expected).correct, qid


def test_returning_a_number_is_reported_as_such_not_as_an_exception() -> None:
    """Only where the path ends, a single number: a named slip (tests/test_code_credit.py),
    never an exception; the properties' self-check says it is not a path."""
    result = judge(question("opt1d-gradient-descent"), last_only)
    assert 0 < result.score < 1 and result.mistake == "end_only"
    assert "returns only where it ends (a single number)" in result.feedback
    assert "IndexError" not in result.feedback and "raised" not in result.feedback
    seen = self_check(public("opt1d-gradient-descent"), last_only)
    assert not seen.correct


def test_ignoring_the_divergence_guard_loses_points() -> None:
    result = judge(question("opt1d-gradient-descent"), no_guard)
    assert 0 < result.score < 1, result.feedback


def test_code_that_answers_no_hidden_test_earns_nothing() -> None:
    """A hundred steps whatever tol and max_iter say: it answers one visible test (the path that
    runs away) and no hidden one, as a table of the visible results would (their results are
    public): nothing, and the feedback says why (1/7 of the points before)."""
    result = judge(question("opt1d-gradient-descent"), fixed_steps)
    assert result.score == 0 and result.details.get("only_visible"), result.feedback
    assert "none of the hidden tests" in result.feedback


def test_the_divergence_guard_is_exercised_visibly() -> None:
    seen = self_check(public("opt1d-gradient-descent"), no_guard)
    assert not seen.correct and "OverflowError" in seen.feedback


def test_a_finite_difference_that_is_not_one_fails() -> None:
    def forward_only(loss, theta, h=1e-6):  # one-sided differences: error of order h
        theta = np.asarray(theta, dtype=float)
        return np.array([(loss(theta + s) - loss(theta)) / h for s in np.eye(len(theta)) * h])

    def constant(loss, theta, h=1e-6):  # today's `grad_fd = grad_R`, as a function
        return np.asarray(question("backprop-gradient").expected)

    q = question("backprop-finite-difference")
    assert judge(q, forward_only).score < 1
    assert judge(q, constant).score == 0
    assert not self_check(public(q.id), constant).correct


def test_gradient_against_own_finite_differences() -> None:
    q = question("backprop-gradient")
    fd = np.asarray(q.expected) * (1 + 1e-7)
    ok = self_check(public(q.id), q.expected, names={"grad_fd": fd})
    assert ok.details.get("property") and ok.details.get("form_only")
    bad = self_check(public(q.id), -np.asarray(q.expected), names={"grad_fd": fd})
    assert not bad.correct and bad.score == 0 and "relative error" in bad.feedback
    for text in (ok.feedback, bad.feedback):  # the value is never shown
        assert f"{q.expected[0]:.4f}" not in text
    assert self_check(public(q.id), q.expected).details.get("form_only")  # names unknown


def test_the_step_must_lower_the_loss() -> None:
    from solutions import network as nw

    q = question("backprop-step")
    names = {"loss": nw.loss, "theta0": nw.THETA0}
    assert self_check(public(q.id), q.expected, names=names).details.get("property")
    uphill = nw.THETA0 + 0.1 * nw.total_gradient()
    assert "downhill" in self_check(public(q.id), uphill, names=names).feedback


def test_a_property_that_fails_on_the_students_helpers_says_so() -> None:
    def broken(theta):
        raise ValueError("oops")

    q = question("backprop-step")
    seen = self_check(public(q.id), q.expected, names={"loss": broken, "theta0": [0.0] * 9})
    assert not seen.correct and "could not use your loss" in seen.feedback


def test_minima_and_zero_properties() -> None:
    from solutions import optimisation_1d as o1
    from solutions import steepest_descent as sd

    q = question("opt1d-minima")
    names = {"f": o1.f, "df": o1.fprime}
    assert self_check(public(q.id), q.expected, names=names).details.get("property")
    swapped = list(reversed(q.expected))
    assert "global minimum goes first" in self_check(public(q.id), swapped, names=names).feedback
    start = rubric("steepest-descent-2d").SD_START
    assert not self_check(public("sd2d-minimum"), list(start),
                          names={"f": lambda a, b: sd.f2([a, b])}).correct


def test_errata_flags_are_misprints_found_minus_false_alarms() -> None:
    """The rule of the rubric (Flags): one share a misprint found, one share off a false
    alarm, of as many shares as there are misprints, never below 0 (issue 23.4)."""
    q = question("backprop-errata")
    truth = list(q.expected)
    m = sum(truth)
    alarm = list(truth)
    alarm[truth.index(0)] = 1
    missed = list(truth)
    missed[truth.index(1)] = 0
    assert judge(q, alarm).score == pytest.approx((m - 1) / m)
    assert judge(q, missed).score == pytest.approx((m - 1) / m)
    assert judge(q, [0] * len(truth)).score == 0
    assert judge(q, [1] * len(truth)).score == 0
    assert judge(q, [bool(v) for v in truth]).score == 1
    assert judge(q, truth[:-1]).score == pytest.approx((m - truth[-1]) / m)  # last one left out
    assert judge(q, q.expected).score == 1


def test_properties_are_pure_and_never_show_a_reference() -> None:
    r = properties.matches_finite_differences([1.0, 2.0], [1.0, 2.0000001])
    assert r.details["form_only"]
    assert not properties.diverges([{"value": [0.0, 0.1, 3.0, 3.0]}], 0, "a test").correct
