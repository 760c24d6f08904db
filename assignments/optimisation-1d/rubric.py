"""The autograded questions of optimisation-1d (instructor side only; never released).

The rubric (points, form, partial credit) is public; ``expected`` is computed from ``solutions``.
The optimisers are judged on their whole path (``project="path"``: start, first step, length
and end, or that it ran away) on the quartic's f' and on other functions: a quadratic with a
known minimum, a tolerance that stops early, a step budget, a step size that diverges.
``questions(variant)`` builds them for a student's quartic, starts and step sizes
(autograder.rubric.variants); ``QUESTIONS`` are the lecture's. Points follow the work: a
one-liner (f″, the update x − d1/d2) is worth 1; the first optimiser 3, Newton–Raphson, the
same loop with another step, 2; the derivation (graded by hand) 3.
"""

from typing import Any

from autograder.judge.diagnosis import Part, Slip
from autograder.rubric import code
from autograder.rubric.question import ProbeFunction, Question
from autograder.rubric.variants import Variant, variant_for
from solutions import optimisation_1d as o1

# The lecture prints f'; f'' is a question, so the Newton–Raphson probes use another function,
# g(x) = x^4 - 3x^2 + x. The visible test function is q(x) = (x - 3)^2, minimum at x = 3.
# ``shown``: how the notebook writes them, for feedback.
_dg = ProbeFunction(("4*x**3 - 6*x + 1",), ("x",), "dg", "g(x) = x⁴ − 3x² + x")
_d2g = ProbeFunction(("12*x**2 - 6",), ("x",), "d2g", "g(x) = x⁴ − 3x² + x")
_dq = ProbeFunction(("2*(x - 3)",), ("x",), "dq", "q(x) = (x − 3)²")
_d2q = ProbeFunction(("2",), ("x",), "d2q", "q(x) = (x − 3)²")
Q_MINIMUM = 3.0


def questions(variant: Variant) -> tuple[Question, ...]:
    """The questions for one variant's numbers (the lecture's: ``QUESTIONS``)."""
    n = variant.numbers
    coefficients = n["f"]
    fprime, fsecond = o1.fprime_expr(coefficients), o1.fsecond_expr(coefficients)
    df = ProbeFunction((str(fprime),), (str(o1.x),), "df", "your f")
    eta, (left, right), (x_away, eta_away) = n["eta"], n["starts"], n["diverge"]
    return (
        Question("opt1d-second-derivative", "f_second", "expression", 1,
                 "f''(x) of the quartic", ("x",), expected=fsecond,
                 parts=second_derivative_parts(coefficients),
                 slips=(Slip("first_derivative", str(fprime),
                             "That is f′(x), which the lecture gives: differentiate it once "
                             "more.", 0.0),)),
        Question("opt1d-gradient-descent", "gradient_descent", "function", 3,
                 "Gradient descent",
                 probes=((_dq, 0.0, 0.1),  # visible: reaches 3
                         (df, x_away, eta_away),  # visible: diverges (the guard must stop it)
                         (_dq, 0.0, 0.1, 1e-3),  # visible: a loose tolerance stops it early
                         (_dq, 10.0, 0.01, 1e-10, 50),  # visible: the step budget stops it
                         (_dg, 0.5, 0.05),  # visible: uphill, it would converge (to a maximum)
                         (df, left, eta), (df, right, eta)),
                 visible=5, project="path", rel_tol=1e-6, abs_tol=1e-8,
                 expected=o1.gradient_descent, components=code.OPTIMISER,
                 slips=code.optimiser_slips(code.DESCENT_STEP_SLIPS,
                                            path=(code.X0_MISSING, code.END_ONLY))),
        # "4 significant digits", says the text; the two minima are a set, and the
        # order the text asks (the global one first) is worth a quarter of the points
        Question("opt1d-minima", "minima", "array", 2, "Both local minima",
                 labels=("global minimum", "local minimum"), rel_tol=1e-4,
                 expected=o1.minima_global_first(coefficients),
                 precision=("significant", 4), as_set=True, credit={"order": 0.75}),
        Question("opt1d-newton-update", "newton_update", "expression", 1,
                 "The Newton–Raphson update", ("x", "d1", "d2"),
                 expected=o1.newton_update_general(),
                 # the step is the method: without it (or with another in its place) the
                 # update is worth nothing; its sign or factor slips are named below
                 parts=(Part("the current point x", "x"),
                        Part("the Newton step −f′(x)/f″(x)", "-d1/d2", credit=0.0)),
                 slips=(Slip("newton_inverted", "x - d2/d1",
                             "f′ and f″ are the wrong way round: the step divides f′(x) by "
                             "f″(x).", 0.25),
                        Slip("gradient_step", "x - d1",
                             "That is a gradient descent step with step size 1; "
                             "Newton–Raphson divides f′(x) by f″(x).", 0.0))),
        Question("opt1d-newton-raphson", "newton_raphson", "function", 2,
                 "Newton–Raphson",
                 probes=((_dq, _d2q, 0.0),  # visible: one step to 3
                         (_dg, _d2g, 2.0, 1e-3),  # visible: a loose tolerance stops it early
                         (_dg, _d2g, -2.0, 1e-12, 2),  # visible: the step budget stops it
                         (_dg, _d2g, -2.0), (_dg, _d2g, 2.0), (_dg, _d2g, 0.3)),
                 visible=3, project="path", rel_tol=1e-6, abs_tol=1e-8,
                 expected=o1.newton_raphson, components=code.OPTIMISER,
                 slips=code.optimiser_slips(code.NEWTON_STEP_SLIPS,
                                            path=(code.X0_MISSING, code.END_ONLY),
                                            guard=(code.UNGUARDED,))),
    )


_POWERS = {3: "x³", 2: "x²", 1: "x"}


def second_derivative_parts(coefficients: Any) -> tuple[Part, ...]:
    """f'' as the derivatives of f''s terms, each named by its term (12x³ -> 36x²)."""
    c4, c3, c2 = (o1.exact(c) for c in list(coefficients)[:3])
    terms = ((4 * c4, 3), (3 * c3, 2), (2 * c2, 1))
    parts = []
    for coefficient, power in terms:
        if coefficient == 0:
            continue
        term = f"{coefficient}{_POWERS[power]}".replace("-", "−")
        derivative = f"{coefficient * power}*x^{power - 1}" if power > 1 else f"{coefficient}"
        parts.append(Part(f"the derivative of {term}", derivative.replace("*x^1", "*x")))
    return tuple(parts)


def self_checks(variant: Variant) -> dict[str, list[dict[str, Any]]]:
    """Visible checks (autograder.judge.properties), released in selfcheck.json beside the notebook:
    they name the variant's numbers (which the student has), never an answer."""
    x_away, eta_away = variant.numbers["diverge"]
    whose = "the lecture's" if variant.is_lecture else "your"
    return {
        "opt1d-gradient-descent": [
            {"property": "probe_value", "probe": 0, "value": [Q_MINIMUM],
             "what": "q(x) = (x - 3)^2 from x0 = 0 with eta = 0.1 ends at its minimum 3"},
            {"property": "diverges", "probe": 1,
             "what": f"{whose} f' from x0 = {x_away:g} with eta = {eta_away:g}"},
        ],
        "opt1d-minima": [{"property": "stationary_minima", "uses": ["f", "df"]}],
        "opt1d-newton-raphson": [
            {"property": "probe_value", "probe": 0, "value": [3.0, Q_MINIMUM],
             "what": "q(x) = (x - 3)^2 from x0 = 0: one step to 3, then a zero step "
                     "(3 iterates)"},
        ],
    }


QUESTIONS = questions(variant_for("optimisation-1d", None, None))
SELF_CHECKS = self_checks(variant_for("optimisation-1d", None, None))

# Written answers, graded by hand in formgrader: their points join the grade of record
# (``backprop-kit grade --gradebook``). Each is a markdown grade cell of the notebook.
MANUAL = (
    Question("opt1d-newton-derivation", "", "manual", 3,
             "Newton-Raphson derived (graded by hand)"),
)
