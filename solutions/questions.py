"""The autograded questions of each assignment, with their reference answers.

Instructor side only. The rubric (points, form, partial credit) is public; ``expected`` is
computed here from the solution modules and never leaves the instructor's side.
"""

from __future__ import annotations

from functools import cache

import numpy as np

from autograder.errors import UsageError
from autograder.rubric import ProbeFunction, Question
from solutions import errata as er
from solutions import network as nw
from solutions import optimisation_1d as o1
from solutions import sigmoid as sg
from solutions import steepest_descent as sd

# The network's symbols an answer may use, and how the intermediates are defined.
OUTPUT_LAYER = ("y", "a1_2", "a1_1", "a2_1", "w11_2", "w12_2", "b1_2")
OUTPUT_DEFINITIONS = {"a1_2": "w11_2*a1_1 + w12_2*a2_1 + b1_2"}
HIDDEN_LAYER = (*OUTPUT_LAYER, "z1_1", "w11_1", "w12_1", "b1_1", "x1", "x2")
HIDDEN_DEFINITIONS = {
    **OUTPUT_DEFINITIONS,
    "a1_1": "sigmoid(z1_1)",
    "z1_1": "w11_1*x1 + w12_1*x2 + b1_1",
}
ETA = 0.1
SD_START = (1.5, 0.2)  # converges to (1, 0); from (0.2, 1.5) it creeps (f is flat at (0, 1))
SD_STEP = 0.05


def _scalar(expr, name: str) -> ProbeFunction:
    return ProbeFunction((str(expr),), (str(o1.x),), name)


def reached_minimum() -> np.ndarray:
    """Which of the 2-D function's minima steepest descent reaches from SD_START."""
    path = sd.steepest_descent(sd.grad_f2, np.array(SD_START), SD_STEP)
    return np.array(min(sd.MINIMA, key=lambda m: float(np.linalg.norm(path[-1] - m))))


def errata_values() -> list[float]:
    return [e.correct for e in er.errata()[:4]]


@cache
def _assignments() -> dict[str, tuple[Question, ...]]:
    df = _scalar(o1.FPRIME_EXPR, "df")  # the lecture prints f'; f'' is a question, so the
    # Newton–Raphson probes use another function, g(x) = x^4 - 3x^2 + x
    dg = ProbeFunction(("4*x**3 - 6*x + 1",), ("x",), "dg")
    d2g = ProbeFunction(("12*x**2 - 6",), ("x",), "d2g")
    bowl = ProbeFunction(("2*(p1 - 1)", "6*(p2 + 0.5)"), ("p1", "p2"), "grad_bowl")
    bowl3 = ProbeFunction(("2*p1", "4*(p2 - 1)", "2*(p3 + 2)"), ("p1", "p2", "p3"), "grad_bowl3")
    return {
        "optimisation-1d": (
            Question("opt1d-second-derivative", "f_second", "expression", 1,
                     "f''(x) of the quartic", ("x",), expected=o1.FSECOND_EXPR),
            Question("opt1d-gradient-descent", "gradient_descent", "function", 3,
                     "Gradient descent", probes=((df, -1.0, 0.01), (df, 2.0, 0.01),
                                                 (df, 0.0, 0.005)),
                     project="last", rel_tol=1e-5, abs_tol=1e-6, expected=o1.gradient_descent),
            Question("opt1d-minima", "minima", "array", 2, "Both local minima",
                     labels=("global minimum", "local minimum"), rel_tol=1e-4,
                     expected=[p.x for p in o1.local_minima()]),
            Question("opt1d-newton-update", "newton_update", "expression", 2,
                     "The Newton–Raphson update", ("x", "d1", "d2"),
                     expected=o1.newton_update_general()),
            Question("opt1d-newton-raphson", "newton_raphson", "function", 3,
                     "Newton–Raphson", probes=((dg, d2g, -2.0), (dg, d2g, 2.0), (dg, d2g, 0.3)),
                     project="last", rel_tol=1e-6, abs_tol=1e-8, expected=o1.newton_raphson),
        ),
        "steepest-descent-2d": (
            Question("sd2d-df-dx1", "df_dx1", "expression", 2, "∂f/∂x₁", ("x1", "x2"),
                     expected=sd.GRAD_F2_EXPR[0]),
            Question("sd2d-df-dx2", "df_dx2", "expression", 2, "∂f/∂x₂", ("x1", "x2"),
                     expected=sd.GRAD_F2_EXPR[1]),
            Question("sd2d-steepest-descent", "steepest_descent", "function", 3,
                     "Steepest descent", probes=((bowl, [0.0, 0.0], 0.1),
                                                 (bowl, [3.0, -2.0], 0.05),
                                                 (bowl3, [1.0, 1.0, 1.0], 0.1)),
                     project="last", rel_tol=1e-5, abs_tol=1e-6, expected=sd.steepest_descent),
            Question("sd2d-minimum", "minimum", "array", 2, "The minimum reached",
                     labels=("x1", "x2"), abs_tol=1e-6, expected=reached_minimum()),
        ),
        "backprop": (
            Question("backprop-sigmoid-derivative", "sigma_prime", "expression", 2, "σ'(v)",
                     ("v",), expected=sg.sigmoid_prime_lecture_form()),
            Question("backprop-dR-dw12", "dR_dw12_2", "expression", 2, "∂R/∂w₁₂⁽²⁾",
                     OUTPUT_LAYER, OUTPUT_DEFINITIONS, expected=nw.dR_dw12_2()),
            Question("backprop-dR-db1", "dR_db1_2", "expression", 2, "∂R/∂b₁⁽²⁾",
                     OUTPUT_LAYER, OUTPUT_DEFINITIONS, expected=nw.dR_db1_2()),
            Question("backprop-dR-dw11-layer1", "dR_dw11_1", "expression", 3, "∂R/∂w₁₁⁽¹⁾",
                     HIDDEN_LAYER, HIDDEN_DEFINITIONS, expected=nw.dR_dw11_1()),
            Question("backprop-gradient", "grad_R", "array", 3, "∇R on both observations",
                     labels=nw.PARAM_NAMES, expected=nw.total_gradient()),
            Question("backprop-finite-difference", "grad_fd", "array", 2,
                     "Finite-difference check of ∇R", labels=nw.PARAM_NAMES, rel_tol=1e-4,
                     abs_tol=1e-6, expected=nw.total_gradient()),
            Question("backprop-step", "theta_new", "array", 2,
                     f"One steepest descent step (η = {ETA})", labels=nw.PARAM_NAMES,
                     expected=nw.steepest_descent_step(nw.THETA0, nw.DATA, ETA)),
            Question("backprop-errata", "errata_correct", "array", 2, "The lecture's errata",
                     labels=("first residual", "w11_2 nudge (obs. 1)", "b2_1 nudge (obs. 1)",
                             "a2_1 (obs. 2)"), rel_tol=1e-6, expected=errata_values()),
        ),
    }


ASSIGNMENTS = ("optimisation-1d", "steepest-descent-2d", "backprop")


def questions(assignment: str) -> tuple[Question, ...]:
    try:
        return _assignments()[assignment]
    except KeyError:
        raise UsageError(
            f"unknown assignment {assignment!r}; choose one of {', '.join(ASSIGNMENTS)}"
        ) from None


def question(question_id: str) -> Question:
    for qs in _assignments().values():
        for q in qs:
            if q.id == question_id:
                return q
    raise UsageError(f"unknown question {question_id!r}")


# Written answers, graded by hand in formgrader: their points join the grade of record
# (``backprop-kit grade --gradebook``). Each is a markdown grade cell of the notebook.
MANUAL: dict[str, tuple[Question, ...]] = {
    "optimisation-1d": (
        Question("opt1d-newton-derivation", "", "manual", 3,
                 "Newton-Raphson derived (graded by hand)"),
    ),
    "steepest-descent-2d": (
        Question("sd2d-contour-plot", "", "manual", 2,
                 "The contour plot and what it shows (graded by hand)"),
    ),
}


def manual_questions(assignment: str) -> tuple[Question, ...]:
    """The hand-graded questions of ``assignment`` (none for some)."""
    questions(assignment)  # an unknown assignment is a usage error
    return MANUAL.get(assignment, ())
