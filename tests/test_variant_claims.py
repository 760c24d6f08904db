"""What the notebooks say is true for every variant (issue 25), over the 200 sample ids and the
lecture's numbers, computed with ``solutions``:

- optimisation-1d: the worked step goes downhill; in the step-size experiment the three
  smallest steps converge to the minimum on the start's side, the smaller in more steps, and the
  largest runs away, as does the visible check's run; Newton–Raphson takes fewer steps than
  gradient descent wherever it ends at a minimum;
- steepest-descent-2d: the graded path approaches one minimum and the second path the other,
  each clearly; the path to (c₁, 0) converges within the step budget and the one towards
  (0, c₂) does not ("far more slowly"); across the class both minima are answers;
- backprop: a question that says "not in the lecture" never asks for what the lecture prints
  (nor for a printed formula with one symbol changed), and a question whose answer the lecture
  prints, or prints but for one symbol, is worth at most 1 point. The lecture's formulas are
  read from the lecture itself (tests/latex_formulas.py), not typed here.
"""

from __future__ import annotations

from collections import Counter
from functools import cache
from pathlib import Path

import numpy as np
import sympy

from autograder.errors import ParseError
from autograder.judge import checks
from autograder.judge.parsing import parse_expression
from autograder.rubric.course import questions
from autograder.rubric.variants import Variant, variant_for
from solutions import optimisation_1d as o1
from solutions import steepest_descent as sd
from tests.latex_formulas import formulas as latex_formulas
from tests.latex_formulas import math_segments
from tests.test_release_gives_nothing_away import key, space, swaps
from tests.test_variant_solvable import SAMPLE_IDS, SEED

LECTURE_TEXT = Path(__file__).resolve().parents[1] / "lecture" / "lecture10-optimisation.md"


def every_variant(assignment: str) -> list[Variant]:
    return [variant_for(assignment, None, None),
            *(variant_for(assignment, sid, SEED) for sid in SAMPLE_IDS)]


# --- optimisation-1d ------------------------------------------------------------------------


def _runs(assignment_numbers: dict) -> tuple:
    c = assignment_numbers["f"]
    return (lambda t: o1.fprime(t, c)), (lambda t: o1.fsecond(t, c)), c


def _ends(path: np.ndarray) -> str:
    if abs(path[-1]) > 1e6:
        return "away"
    return "converged" if abs(path[-1] - path[-2]) < 1e-10 else "no convergence"


def test_1d_worked_step_goes_downhill_and_the_experiment_does_what_the_text_says() -> None:
    for variant in every_variant("optimisation-1d"):
        n, who = variant.numbers, variant.student_id
        df, _, c = _runs(n)
        x0, eta = n["x0"], n["eta"]
        assert o1.f(x0 - eta * df(x0), c) < o1.f(x0, c), who  # "f went down"
        left = min(p.x for p in o1.local_minima(c))
        etas = n["etas"]
        assert len(etas) == 6 and etas[:3] == sorted(etas[:3]) and etas[2] == eta, who
        steps = []
        for step in etas[:3]:  # "the three smallest ... converge to the minimum on the side
            path = o1.gradient_descent(df, x0, step)  # of your start, the smaller in more steps"
            assert _ends(path) == "converged" and abs(path[-1] - left) < 1e-6, (who, step)
            steps.append(len(path))
        assert steps[0] > steps[1] > steps[2], (who, steps)
        assert max(etas) == etas[-1] == n["diverge"][1], who
        assert _ends(o1.gradient_descent(df, x0, etas[-1])) == "away", who  # "runs away"
        assert _ends(o1.gradient_descent(df, *n["diverge"])) == "away", who  # visible check


def test_1d_newton_is_faster_wherever_it_ends_at_a_minimum() -> None:
    """"Where it converges to a minimum, Newton–Raphson needs at most as many iterations as
    gradient descent, usually far fewer" (half or less); and the lecture's starts where
    f'' < 0 end at its maximum."""
    lecture_maximum = None
    fewer = []
    for variant in every_variant("optimisation-1d"):
        n, who = variant.numbers, variant.student_id
        df, d2f, c = _runs(n)
        minima = [p.x for p in o1.local_minima(c)]
        for start in n["newton_starts"]:
            newton = o1.newton_raphson(df, d2f, start)
            if min(abs(newton[-1] - m) for m in minima) < 1e-6:
                gradient = o1.gradient_descent(df, start, n["eta"])
                assert len(newton) <= len(gradient), (who, start)
                fewer.append(2 * len(newton) <= len(gradient))
        if variant.is_lecture:  # "with the lecture's f: x0 = -1 and x0 = 0" end at the maximum
            (lecture_maximum,) = (p.x for p in o1.stationary_points(c)
                                  if p.kind == "local maximum")
            for start in (-1.0, 0.0):
                assert o1.fsecond(start, c) < 0
                assert abs(o1.newton_raphson(df, d2f, start)[-1] - lecture_maximum) < 1e-9
    assert lecture_maximum is not None and sum(fewer) >= 0.75 * len(fewer)


# --- steepest-descent-2d --------------------------------------------------------------------


def batch_descent(params: np.ndarray, starts: np.ndarray, etas: np.ndarray,
                  tol: float = 1e-10, max_iter: int = 10_000) -> tuple[np.ndarray, np.ndarray]:
    """solutions.steepest_descent for many functions at once: where each path ends and how
    many steps it took (it stops on a step shorter than ``tol``, or after ``max_iter``)."""
    alpha, beta, c1, c2 = params.T
    point = starts.astype(float).copy()
    steps = np.zeros(len(point), dtype=int)
    moving = np.ones(len(point), dtype=bool)
    for _ in range(max_iter):
        a, b = point[:, 0], point[:, 1]
        grad = np.stack([4 * alpha * a**3 * b**2 + 2 * beta * (a - c1) * (b - c2) ** 4,
                         2 * alpha * a**4 * b + 4 * beta * (a - c1) ** 2 * (b - c2) ** 3], 1)
        step = etas[:, None] * grad
        point = np.where(moving[:, None], point - step, point)
        steps += moving
        moving &= np.linalg.norm(step, axis=1) >= tol
        if not moving.any():
            break
    return point, steps


@cache
def runs_2d() -> tuple[list[Variant], dict[str, tuple[np.ndarray, np.ndarray]]]:
    variants = every_variant("steepest-descent-2d")
    params = np.array([v.numbers["f2"] for v in variants], dtype=float)
    etas = np.array([v.numbers["eta"] for v in variants], dtype=float)
    out = {which: batch_descent(params, np.array([v.numbers[which] for v in variants]), etas)
           for which in ("start", "second_start")}
    return variants, out


def test_batch_descent_is_the_reference_descent() -> None:
    n = variant_for("steepest-descent-2d", None, None).numbers
    params = tuple(n["f2"])
    reference = sd.steepest_descent(lambda p: sd.grad_f2(p, params), n["start"], n["eta"])
    end, steps = batch_descent(np.array([params], dtype=float), np.array([n["start"]]),
                               np.array([n["eta"]]))
    assert steps[0] == len(reference) - 1 and np.allclose(end[0], reference[-1], atol=1e-12)


def test_2d_each_path_approaches_its_own_minimum_and_the_answers_spread() -> None:
    variants, runs = runs_2d()
    answers = Counter()
    for i, variant in enumerate(variants):
        alpha, beta, c1, c2 = variant.numbers["f2"]
        near_c1 = np.array([c1, 0.0])
        near_c2 = np.array([0.0, c2])
        ends = {which: runs[which][0][i] for which in runs}
        steps = {which: int(runs[which][1][i]) for which in runs}
        graded = min((near_c1, near_c2), key=lambda m: float(np.linalg.norm(ends["start"] - m)))
        other = near_c2 if graded is near_c1 else near_c1
        who = variant.student_id
        # "from your start the path goes to one minimum, from the second start towards the
        # other": each path ends clearly nearer its own
        assert np.linalg.norm(ends["start"] - graded) < 0.1, who
        assert np.linalg.norm(ends["second_start"] - other) < 0.1, who
        assert np.linalg.norm(ends["start"] - other) > 0.5, who
        # "one path converges far more slowly": the one to (c1, 0) meets the tolerance, the
        # one towards the flat (0, c2) is still going after the whole step budget
        fast, slow = ("start", "second_start") if graded is near_c1 else \
            ("second_start", "start")
        assert steps[fast] < 2_000 and steps[slow] == 10_000, (who, steps)
        answers["(c1, 0)" if graded is near_c1 else "(0, c2)"] += 1
        if variant.is_lecture:  # the model answer: "in fewer than two hundred steps"
            assert graded is near_c1 and steps["start"] < 200
    for answer in ("(c1, 0)", "(0, c2)"):  # both answers, each about half of the class
        assert answers[answer] >= 0.35 * len(variants), answers


# --- backprop: the lecture's own formulas ---------------------------------------------------


@cache
def lecture_formulas() -> list[sympy.Expr]:
    """Every formula the lecture prints, read with the kit's parser in the network's symbols."""
    names = space("backprop").names
    found = []
    for segment in math_segments(LECTURE_TEXT.read_text(encoding="utf-8")):
        for text in latex_formulas(segment):
            try:
                expr = parse_expression(text, names)
            except ParseError:
                continue
            if expr.free_symbols:
                found.append(expr)
    return found


@cache
def lecture_table() -> dict[tuple[str, ...], list[sympy.Expr]]:
    """The lecture's formulas by their values at fixed points (as the leak test keys them)."""
    sp = space("backprop")
    table: dict[tuple[str, ...], list[sympy.Expr]] = {}
    for expr in lecture_formulas():
        found = sp.values(expr)
        if found is not None:
            table.setdefault(key(found), []).append(expr)
    return table


def printed(expr: sympy.Expr, single: bool = True) -> str | None:
    """The lecture formula ``expr`` equals, itself or with one symbol changed (``single``),
    confirmed by the kit's equivalence checker; None when there is none."""
    sp = space("backprop")
    forms = [("", expr)]
    if single:
        forms += [(how, e) for how, e in swaps(expr, sp.names) if " for " in how]
    for how, form in forms:
        found = sp.values(form)
        for lecture in lecture_table().get(key(found), []) if found is not None else ():
            if checks.check_expression(lecture, form, list(sp.names), sp.definitions).correct:
                return f"{lecture}" + (f" (with {how})" if how else "")
    return None


def test_the_lecture_is_read() -> None:
    """The reader finds the lecture's printed partials (a test that could not fail otherwise)."""
    from solutions import network as nw

    assert printed(nw.dR_dw11_1(), single=False) and printed(nw.dR_dw11_2(), single=False)
    assert printed(nw.dR_dw12_2()) and not printed(nw.dR_dw12_2(), single=False)


def test_not_in_the_lecture_means_not_in_the_lecture_and_points_follow_the_work() -> None:
    """Every variant's formulas: they depend on the weight of question 5 alone (the other
    numbers enter the numeric answers only), so one variant of each is built."""
    seen: dict[tuple[str, str], str | None] = {}
    one_each = {str(v.numbers["other_weight"]): v for v in every_variant("backprop")}
    assert len(one_each) == 2  # w21 and w22 both asked
    for variant in [variant_for("backprop", None, None), *one_each.values()]:
        for q in questions("backprop", variant):
            if q.kind != "expression" or isinstance(q.expected, sympy.Symbol):
                continue
            key = (q.id, sympy.srepr(q.expected))
            if key not in seen:
                seen[key] = printed(q.expected)
                if "not in the lecture" in q.title:
                    assert seen[key] is None, (q.id, q.title, seen[key])
                elif seen[key] is not None:
                    assert q.points <= 1, (q.id, q.points, seen[key])
    titles = {qid for qid, _ in seen}
    assert {"backprop-dR-dw2k-layer1", "backprop-dR-db2-layer1"} <= titles
