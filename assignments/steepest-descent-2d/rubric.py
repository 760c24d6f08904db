"""The autograded questions of steepest-descent-2d (instructor side only; never released).

The rubric (points, form, partial credit) is public; ``expected`` is computed from ``solutions``.
Steepest descent is judged on its whole path (``project="path"``) on other functions and in
other dimensions, with a tolerance that stops early, a step budget and a diverging step size.
``questions(variant)`` builds them for a student's function, start and step
(autograder.rubric.variants); ``QUESTIONS`` are the lecture's.
"""

from dataclasses import replace
from typing import Any

import numpy as np

from autograder.judge.diagnosis import Part, Slip
from autograder.rubric import code
from autograder.rubric.question import ProbeFunction, Question, RestsOn
from autograder.rubric.variants import Variant, variant_for
from solutions import steepest_descent as sd

LECTURE = variant_for("steepest-descent-2d", None, None).numbers
# converges to (1, 0); from (0.2, 1.5) it creeps (f is flat at (0, 1)). A variant's graded
# start lies beside either minimum (autograder.rubric.variants), so "which minimum" has both
# answers across a class.
SD_START = tuple(LECTURE["start"])
SD_STEP = LECTURE["eta"]


def reached_minimum(start: Any = SD_START, eta: float = SD_STEP,
                    params: Any = sd.PARAMS) -> np.ndarray:
    """Which of the 2-D function's minima steepest descent reaches from ``start``."""
    return sd.reached_minimum(start, eta, params)


# The visible test function: the bowl (p1 - 1)^2 + 3 (p2 + 0.5)^2, minimum at (1, -0.5).
_bowl = ProbeFunction(("2*(p1 - 1)", "6*(p2 + 0.5)"), ("p1", "p2"), "grad_bowl",
                      "the bowl (p1 − 1)² + 3(p2 + 0.5)²")
_bowl3 = ProbeFunction(("2*(p1 - 0.5)", "4*(p2 - 1)", "2*(p3 + 2)"), ("p1", "p2", "p3"),
                       "grad_bowl3",
                       "the 3-D bowl (p1 − 0.5)² + 2(p2 − 1)² + (p3 + 2)²")
BOWL_MINIMUM = (1.0, -0.5)


def _number(value: float) -> str:
    return f"{value:g}"


def term_parts(params: Any) -> tuple[tuple[Part, Part], tuple[Part, Part]]:
    """The parts of ∂f/∂x₁ and ∂f/∂x₂: the derivative of each of f's two terms."""
    alpha, beta, c1, c2 = (_number(p) for p in params)
    a = "" if alpha == "1" else f"{alpha}·"
    b = "" if beta == "1" else f"{beta}·"
    term_1 = f"the derivative of {a}x₁⁴x₂²"
    term_2 = f"the derivative of {b}(x₁ − {c1})²(x₂ − {c2})⁴"
    (d1_first, d2_first), (d1_second, d2_second) = (
        (sd.grad_f2_expr((*params[:1], 0, *params[2:]))),
        (sd.grad_f2_expr((0, *params[1:]))))
    return ((Part(term_1, str(d1_first)), Part(term_2, str(d1_second))),
            (Part(term_1, str(d2_first)), Part(term_2, str(d2_second))))


def questions(variant: Variant) -> tuple[Question, ...]:
    """The questions for one variant's numbers (the lecture's: ``QUESTIONS``)."""
    n = variant.numbers
    params = tuple(n["f2"])
    df_dx1, df_dx2 = sd.grad_f2_expr(params)
    parts_1, parts_2 = term_parts(params)
    if variant.is_lecture:  # the lecture's forms, as written before variants
        parts_1 = (Part(parts_1[0].name, "4*x1^3*x2^2"),
                   Part(parts_1[1].name, "2*(x1 - 1)*(x2 - 1)^4"))
        parts_2 = (Part(parts_2[0].name, "2*x1^4*x2"),
                   Part(parts_2[1].name, "4*(x1 - 1)^2*(x2 - 1)^3"))
    c1, c2 = float(params[2]), float(params[3])
    return resting_on_code((
        Question("sd2d-df-dx1", "df_dx1", "expression", 2, "∂f/∂x₁", ("x1", "x2"),
                 expected=df_dx1, parts=parts_1,
                 slips=(Slip("other_partial", str(df_dx2),
                             "That is ∂f/∂x₂: differentiate with respect to x₁, holding x₂ "
                             "fixed.", 0.0),)),
        Question("sd2d-df-dx2", "df_dx2", "expression", 2, "∂f/∂x₂", ("x1", "x2"),
                 expected=df_dx2, parts=parts_2,
                 slips=(Slip("other_partial", str(df_dx1),
                             "That is ∂f/∂x₁: differentiate with respect to x₂, holding x₁ "
                             "fixed.", 0.0),)),
        Question("sd2d-steepest-descent", "steepest_descent", "function", 3,
                 "Steepest descent",
                 probes=((_bowl, [0.0, 0.0], 0.1),  # visible: reaches (1, -0.5)
                         (_bowl, [0.0, 0.0], 0.5),  # visible: diverges
                         (_bowl, [3.0, -2.0], 0.1, 1e-2),  # visible: a loose tolerance
                         (_bowl3, [1.0, 1.0, 1.0], 0.01, 1e-10, 25),  # visible: the budget
                         (_bowl, [3.0, -2.0], 0.15),
                         (_bowl3, [1.0, 1.0, 1.0], 0.1)),
                 visible=4, project="path", rel_tol=1e-6, abs_tol=1e-8,
                 expected=sd.steepest_descent, components=code.OPTIMISER,
                 slips=code.optimiser_slips(code.DESCENT_STEP_SLIPS,
                                            path=(code.X0_MISSING, code.ALIASED_PATH))),
        # one of two points the notebook names: it counts only with a steepest_descent that
        # works (the path is the student's own), so that picking one earns nothing
        Question("sd2d-minimum", "minimum", "array", 2, "The minimum the path approaches",
                 labels=("x1", "x2"), abs_tol=1e-6,
                 expected=reached_minimum(n["start"], n["eta"], params),
                 choices=((0.0, c2), (c1, 0.0)), follows="sd2d-steepest-descent"),
    ))


# Which answers rest on which code, and the share of its points the code must earn.
RESTS_ON = {"sd2d-minimum": ("sd2d-steepest-descent", 0.5)}


def resting_on_code(built: tuple[Question, ...]) -> tuple[Question, ...]:
    """The questions with their RESTS_ON rules, each holding the question of its code."""
    by_id = {q.id: q for q in built}
    return tuple(replace(q, rests_on=RestsOn(RESTS_ON[q.id][0], RESTS_ON[q.id][1],
                                             by_id[RESTS_ON[q.id][0]]))
                 if q.id in RESTS_ON else q for q in built)


def self_checks(variant: Variant) -> dict[str, list[dict[str, Any]]]:
    """Visible checks (autograder.judge.properties), released in selfcheck.json beside the notebook:
    none depends on the variant's answers."""
    return {
        "sd2d-steepest-descent": [
            {"property": "probe_value", "probe": 0, "value": list(BOWL_MINIMUM),
             "what": "the bowl (p1 - 1)^2 + 3 (p2 + 0.5)^2 from (0, 0) with eta = 0.1 ends at "
                     "its minimum (1, -0.5)"},
            {"property": "diverges", "probe": 1, "what": "the same bowl with eta = 0.5"},
        ],
        "sd2d-minimum": [{"property": "zero_of", "uses": ["f"]}],
    }


QUESTIONS = questions(variant_for("steepest-descent-2d", None, None))
SELF_CHECKS = self_checks(variant_for("steepest-descent-2d", None, None))

# Written answers, graded by hand in formgrader: their points join the grade of record
# (``backprop-kit grade --gradebook``). Each is a markdown grade cell of the notebook.
MANUAL = (
    Question("sd2d-contour-plot", "", "manual", 2,
             "The contour plot and what it shows (graded by hand)"),
)
