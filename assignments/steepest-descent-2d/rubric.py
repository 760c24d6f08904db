"""The autograded questions of steepest-descent-2d (instructor side only; never released).

The rubric (points, form, partial credit) is public; ``expected`` is computed from ``solutions``.
Steepest descent is judged on its whole path (``project="path"``) on other functions and in
other dimensions, with a tolerance that stops early, a step budget and a diverging step size.
"""

import numpy as np

from autograder.diagnosis import Part, Slip
from autograder.rubric import ProbeFunction, Question
from solutions import steepest_descent as sd

SD_START = (1.5, 0.2)  # converges to (1, 0); from (0.2, 1.5) it creeps (f is flat at (0, 1))
SD_STEP = 0.05
TERM_1 = "the derivative of x₁⁴x₂²"
TERM_2 = "the derivative of (x₁ − 1)²(x₂ − 1)⁴"


def reached_minimum() -> np.ndarray:
    """Which of the 2-D function's minima steepest descent reaches from SD_START."""
    path = sd.steepest_descent(sd.grad_f2, np.array(SD_START), SD_STEP)
    return np.array(min(sd.MINIMA, key=lambda m: float(np.linalg.norm(path[-1] - m))))


# The visible test function: the bowl (p1 - 1)^2 + 3 (p2 + 0.5)^2, minimum at (1, -0.5).
_bowl = ProbeFunction(("2*(p1 - 1)", "6*(p2 + 0.5)"), ("p1", "p2"), "grad_bowl")
_bowl3 = ProbeFunction(("2*p1", "4*(p2 - 1)", "2*(p3 + 2)"), ("p1", "p2", "p3"), "grad_bowl3")
BOWL_MINIMUM = (1.0, -0.5)

QUESTIONS = (
    Question("sd2d-df-dx1", "df_dx1", "expression", 2, "∂f/∂x₁", ("x1", "x2"),
             expected=sd.GRAD_F2_EXPR[0],
             parts=(Part(TERM_1, "4*x1^3*x2^2"), Part(TERM_2, "2*(x1 - 1)*(x2 - 1)^4")),
             slips=(Slip("other_partial", str(sd.GRAD_F2_EXPR[1]),
                         "That is ∂f/∂x₂: differentiate with respect to x₁, holding x₂ "
                         "fixed.", 0.0),)),
    Question("sd2d-df-dx2", "df_dx2", "expression", 2, "∂f/∂x₂", ("x1", "x2"),
             expected=sd.GRAD_F2_EXPR[1],
             parts=(Part(TERM_1, "2*x1^4*x2"), Part(TERM_2, "4*(x1 - 1)^2*(x2 - 1)^3")),
             slips=(Slip("other_partial", str(sd.GRAD_F2_EXPR[0]),
                         "That is ∂f/∂x₁: differentiate with respect to x₂, holding x₁ "
                         "fixed.", 0.0),)),
    Question("sd2d-steepest-descent", "steepest_descent", "function", 3,
             "Steepest descent",
             probes=((_bowl, [0.0, 0.0], 0.1),  # visible: reaches (1, -0.5)
                     (_bowl, [0.0, 0.0], 0.5),  # visible: diverges
                     (_bowl, [3.0, -2.0], 0.05),
                     (_bowl3, [1.0, 1.0, 1.0], 0.1),
                     (_bowl, [3.0, -2.0], 0.1, 1e-2),  # a loose tolerance stops it early
                     (_bowl3, [1.0, 1.0, 1.0], 0.01, 1e-10, 25)),  # the step budget stops it
             project="path", rel_tol=1e-6, abs_tol=1e-8, expected=sd.steepest_descent),
    Question("sd2d-minimum", "minimum", "array", 2, "The minimum reached",
             labels=("x1", "x2"), abs_tol=1e-6, expected=reached_minimum()),
)

# Visible checks (autograder.properties), released in selfcheck.json beside the notebook.
SELF_CHECKS = {
    "sd2d-steepest-descent": [
        {"property": "probe_value", "probe": 0, "value": list(BOWL_MINIMUM),
         "what": "the bowl (p1 - 1)^2 + 3 (p2 + 0.5)^2 from (0, 0) with eta = 0.1 ends at its "
                 "minimum (1, -0.5)"},
        {"property": "diverges", "probe": 1, "what": "the same bowl with eta = 0.5"},
    ],
    "sd2d-minimum": [{"property": "zero_of", "uses": ["f"]}],
}

# Written answers, graded by hand in formgrader: their points join the grade of record
# (``backprop-kit grade --gradebook``). Each is a markdown grade cell of the notebook.
MANUAL = (
    Question("sd2d-contour-plot", "", "manual", 2,
             "The contour plot and what it shows (graded by hand)"),
)
