"""The autograded questions of optimisation-1d (instructor side only; never released).

The rubric (points, form, partial credit) is public; ``expected`` is computed from ``solutions``.
"""

from autograder.diagnosis import Part, Slip
from autograder.rubric import ProbeFunction, Question
from solutions import optimisation_1d as o1

# The lecture prints f'; f'' is a question, so the Newton–Raphson probes use another function,
# g(x) = x^4 - 3x^2 + x.
_df = ProbeFunction((str(o1.FPRIME_EXPR),), (str(o1.x),), "df")
_dg = ProbeFunction(("4*x**3 - 6*x + 1",), ("x",), "dg")
_d2g = ProbeFunction(("12*x**2 - 6",), ("x",), "d2g")

QUESTIONS = (
    Question("opt1d-second-derivative", "f_second", "expression", 1,
             "f''(x) of the quartic", ("x",), expected=o1.FSECOND_EXPR,
             parts=(Part("the derivative of 12x³", "36*x^2"),
                    Part("the derivative of 15x²", "30*x"),
                    Part("the derivative of −40x", "-40")),
             slips=(Slip("first_derivative", str(o1.FPRIME_EXPR),
                         "That is f′(x), which the lecture gives: differentiate it once "
                         "more.", 0.0),)),
    Question("opt1d-gradient-descent", "gradient_descent", "function", 3,
             "Gradient descent", probes=((_df, -1.0, 0.01), (_df, 2.0, 0.01),
                                         (_df, 0.0, 0.005)),
             project="last", rel_tol=1e-5, abs_tol=1e-6, expected=o1.gradient_descent),
    Question("opt1d-minima", "minima", "array", 2, "Both local minima",
             labels=("global minimum", "local minimum"), rel_tol=1e-4,
             expected=[p.x for p in o1.local_minima()]),
    Question("opt1d-newton-update", "newton_update", "expression", 2,
             "The Newton–Raphson update", ("x", "d1", "d2"),
             expected=o1.newton_update_general(),
             parts=(Part("the current point x", "x"),
                    Part("the Newton step −f′(x)/f″(x)", "-d1/d2")),
             slips=(Slip("newton_inverted", "x - d2/d1",
                         "f′ and f″ are the wrong way round: the step divides f′(x) by "
                         "f″(x).", 0.25),
                    Slip("gradient_step", "x - d1",
                         "That is a gradient descent step with step size 1; Newton–Raphson "
                         "divides f′(x) by f″(x).", 0.0))),
    Question("opt1d-newton-raphson", "newton_raphson", "function", 3,
             "Newton–Raphson", probes=((_dg, _d2g, -2.0), (_dg, _d2g, 2.0), (_dg, _d2g, 0.3)),
             project="last", rel_tol=1e-6, abs_tol=1e-8, expected=o1.newton_raphson),
)
