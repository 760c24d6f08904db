"""One-dimensional optimisation of the lecture's quartic: gradient descent and Newton–Raphson.

Everything a question asks for is derived here with sympy or computed numerically, so the
reference answers cannot drift from the function the lecture defines.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

import numpy as np
import sympy

from solutions import iteration
from solutions.symbols import make_symbol

x = make_symbol("x")
# The lecture's quartic by its coefficients of x⁴, x³, x², x, 1; a student's variant has its own
# (every function below takes ``coefficients``, defaulting to the lecture's).
COEFFICIENTS = (3, 5, -20, 8, 10)
Coefficients = Sequence[float]


def exact(value: float) -> sympy.Rational:
    """A number as sympy's exact rational (0.3 is 3/10, not the nearest binary float)."""
    return sympy.Integer(value) if isinstance(value, int) else sympy.Rational(str(value))


@cache
def _exprs(coefficients: tuple[float, ...]) -> tuple[sympy.Expr, sympy.Expr, sympy.Expr]:
    if len(coefficients) != 5:
        raise ValueError(f"a quartic has 5 coefficients, got {len(coefficients)}")
    f_expr = sum(exact(c) * x**p for c, p in zip(coefficients, range(4, -1, -1), strict=True))
    fprime = sympy.diff(f_expr, x)
    return f_expr, fprime, sympy.diff(fprime, x)


def f_expr(coefficients: Coefficients = COEFFICIENTS) -> sympy.Expr:
    """f(x) = c4 x⁴ + c3 x³ + c2 x² + c1 x + c0."""
    return _exprs(tuple(coefficients))[0]


def fprime_expr(coefficients: Coefficients = COEFFICIENTS) -> sympy.Expr:
    """f'(x), derived."""
    return _exprs(tuple(coefficients))[1]


def fsecond_expr(coefficients: Coefficients = COEFFICIENTS) -> sympy.Expr:
    """f''(x), derived."""
    return _exprs(tuple(coefficients))[2]


F_EXPR, FPRIME_EXPR, FSECOND_EXPR = _exprs(COEFFICIENTS)

d1 = make_symbol("d1")  # stands for f'(x) in the general Newton–Raphson update
d2 = make_symbol("d2")  # stands for f''(x)
NEWTON_SYMBOLS = (x, d1, d2)

@cache
def _numeric(coefficients: tuple[float, ...]) -> tuple[Callable[[float], float], ...]:
    return tuple(sympy.lambdify(x, e, "math") for e in _exprs(coefficients))


def f(x: float, coefficients: Coefficients = COEFFICIENTS) -> float:
    """The quartic, numerically (lambdified from its expression so it cannot disagree)."""
    return float(_numeric(tuple(coefficients))[0](float(x)))


def fprime(x: float, coefficients: Coefficients = COEFFICIENTS) -> float:
    """f'(x), lambdified from the symbolic derivative."""
    return float(_numeric(tuple(coefficients))[1](float(x)))


def fsecond(x: float, coefficients: Coefficients = COEFFICIENTS) -> float:
    """f''(x), lambdified from the symbolic second derivative."""
    return float(_numeric(tuple(coefficients))[2](float(x)))


# The loops students write (the rubric's code slips run the reference with them,
# autograder.rubric.code): ``stop`` and ``guard``, see solutions.iteration; each method's walks
# are kept, so its variants share one.
_WALKS = {"descent": iteration.Walks(), "newton": iteration.Walks()}


def _path(walks: iteration.Walks, key: tuple[Any, ...], evaluate: iteration.Evaluate,
          x0: float, tol: float, max_iter: int, stop: str, guard: bool) -> np.ndarray:
    walk = walks.get((*key, guard), lambda: iteration.Walk(
        evaluate, iteration.NUMBERS, guard, [float(x0)]))
    return np.array(iteration.cut(walk, tol, max_iter, stop), dtype=float)


# Step rules students write instead of the lecture's (the rubric's code slips): uphill adds
# the step, "eta_twice" multiplies by eta twice, "no_eta" leaves eta out.
DESCENT_STEPS = ("descent", "uphill", "eta_twice", "no_eta")


def gradient_descent(
    df: Callable[[float], float],
    x0: float,
    eta: float,
    tol: float = 1e-10,
    max_iter: int = 10_000,
    *,
    step: str = "descent",
    stop: str = "step",
    guard: bool = True,
) -> np.ndarray:
    """The lecture's x_{i+1} = x_i − η f'(x_i), from x0 until a step is shorter than ``tol``
    or after ``max_iter`` steps; the whole path, so divergence is visible: an iterate that
    overflows or runs away ends it (diverging is something students should see happen, not an
    exception). ``step`` (see ``DESCENT_STEPS``), ``stop`` and ``guard`` (see
    solutions.iteration) give the variants students write."""
    scale = {"descent": eta, "uphill": -eta, "eta_twice": eta * eta, "no_eta": 1.0}[step]

    def evaluate(x: float) -> tuple[Any, Any]:
        try:
            slope = float(df(x))
        except OverflowError as error:
            return error, error
        return abs(slope), scale * slope

    return _path(_WALKS["descent"], (df, float(x0), scale), evaluate, x0, tol, max_iter,
                 stop, guard)


def newton_update_general() -> sympy.Expr:
    """x − d1/d2, derived by minimising the second-order Taylor model m(h) around x."""
    h = make_symbol("h")
    f0 = make_symbol("f0")  # f(x): a constant of the model, gone after differentiating
    model = f0 + d1 * h + sympy.Rational(1, 2) * d2 * h**2
    (h_star,) = sympy.solve(sympy.diff(model, h), h)
    return x + h_star


def newton_update_quartic(coefficients: Coefficients = COEFFICIENTS) -> sympy.Expr:
    """The Newton–Raphson update for the quartic: x − f'(x)/f''(x)."""
    return newton_update_general().subs({d1: fprime_expr(coefficients),
                                         d2: fsecond_expr(coefficients)})


# Newton–Raphson steps students write instead: "plus" adds f'/f'', "inverted" takes f''/f',
# "gradient" leaves f'' out (a gradient step of size 1).
NEWTON_STEPS = ("newton", "plus", "inverted", "gradient")


def newton_raphson(
    df: Callable[[float], float],
    d2f: Callable[[float], float],
    x0: float,
    tol: float = 1e-12,
    max_iter: int = 100,
    *,
    step: str = "newton",
    stop: str = "step",
    guard: bool = True,
) -> np.ndarray:
    """Newton–Raphson for f' = 0: step size 1/f''(x_i), as the lecture puts it; it stops where
    f''(x_i) = 0 (the update is undefined). ``step`` (see ``NEWTON_STEPS``), ``stop`` and
    ``guard`` (see solutions.iteration) give the variants students write."""
    if step not in NEWTON_STEPS:
        raise ValueError(f"unknown Newton step {step!r}")

    def evaluate(x: float) -> tuple[Any, Any]:
        try:
            slope = float(df(x))
        except OverflowError as error:
            return error, error
        try:
            if step == "gradient":
                return abs(slope), slope
            curvature = float(d2f(x))
        except OverflowError as error:
            return abs(slope), error
        if step == "inverted":
            return abs(slope), None if slope == 0.0 else curvature / slope
        if curvature == 0.0:
            return abs(slope), None
        return abs(slope), slope / curvature if step == "newton" else -slope / curvature

    return _path(_WALKS["newton"], (df, d2f, float(x0), step), evaluate, x0, tol, max_iter,
                 stop, guard)


@dataclass(frozen=True)
class StationaryPoint:
    """A root of f' with its value and what kind of extremum it is."""

    x: float
    f: float
    kind: str  # "global minimum", "local minimum" or "local maximum"


def stationary_points(coefficients: Coefficients = COEFFICIENTS
                      ) -> tuple[StationaryPoint, ...]:
    """The real roots of f', sorted by x and classified by the sign of f''."""
    return _stationary_points(tuple(coefficients))


@cache
def _stationary_points(coefficients: tuple[float, ...]) -> tuple[StationaryPoint, ...]:
    roots = sorted(float(r.evalf(30))
                   for r in sympy.real_roots(sympy.Poly(fprime_expr(coefficients), x)))
    kinds = []
    for r in roots:
        curvature = fsecond(r, coefficients)
        if curvature == 0.0:
            raise ArithmeticError(f"f''({r}) = 0: the second-derivative test cannot classify it")
        kinds.append("local minimum" if curvature > 0 else "local maximum")
    minima = [i for i, k in enumerate(kinds) if k == "local minimum"]
    if minima:
        kinds[min(minima, key=lambda i: f(roots[i], coefficients))] = "global minimum"
    return tuple(StationaryPoint(r, f(r, coefficients), k)
                 for r, k in zip(roots, kinds, strict=True))


def global_minimum(coefficients: Coefficients = COEFFICIENTS) -> StationaryPoint:
    """The minimum with the smallest f (f → ∞ at both ends, so one exists)."""
    (point,) = (p for p in stationary_points(coefficients) if p.kind == "global minimum")
    return point


def local_minima(coefficients: Coefficients = COEFFICIENTS) -> tuple[StationaryPoint, ...]:
    """Both minima, global and local, sorted by x: where gradient descent can end up."""
    return tuple(p for p in stationary_points(coefficients) if p.kind.endswith("minimum"))


def minima_global_first(coefficients: Coefficients = COEFFICIENTS) -> list[float]:
    """The minima's x, the global minimum first (as the minima question lists them)."""
    return [p.x for p in sorted(local_minima(coefficients),
                                key=lambda p: p.kind != "global minimum")]
