"""One-dimensional optimisation of the lecture's quartic: gradient descent and Newton–Raphson.

Everything a question asks for is derived here with sympy or computed numerically, so the
reference answers cannot drift from the function the lecture defines.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

import numpy as np
import sympy

from solutions.symbols import make_symbol

x = make_symbol("x")
F_EXPR = 3 * x**4 + 5 * x**3 - 20 * x**2 + 8 * x + 10
FPRIME_EXPR = sympy.diff(F_EXPR, x)
FSECOND_EXPR = sympy.diff(FPRIME_EXPR, x)

d1 = make_symbol("d1")  # stands for f'(x) in the general Newton–Raphson update
d2 = make_symbol("d2")  # stands for f''(x)
NEWTON_SYMBOLS = (x, d1, d2)

_f = sympy.lambdify(x, F_EXPR, "math")
_fprime = sympy.lambdify(x, FPRIME_EXPR, "math")
_fsecond = sympy.lambdify(x, FSECOND_EXPR, "math")


def f(x: float) -> float:
    """The quartic, numerically (lambdified from F_EXPR so it cannot disagree with it)."""
    return float(_f(float(x)))


def fprime(x: float) -> float:
    """f'(x), lambdified from the symbolic derivative."""
    return float(_fprime(float(x)))


def fsecond(x: float) -> float:
    """f''(x), lambdified from the symbolic second derivative."""
    return float(_fsecond(float(x)))


def _iterate(
    step: Callable[[float], float | None], x0: float, tol: float, max_iter: int
) -> np.ndarray:
    """Run x_{i+1} = x_i - step(x_i) and return every finite iterate.

    Stops when a step is shorter than ``tol``, after ``max_iter`` steps, when ``step`` returns
    None (the update is undefined), or when the next iterate overflows: diverging is something
    students should see happen, not an exception.
    """
    path = [float(x0)]
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        for _ in range(max_iter):
            try:
                delta = step(path[-1])
                if delta is None:
                    break
                nxt = path[-1] - float(delta)
            except OverflowError:
                break
            if not math.isfinite(nxt):
                break
            path.append(nxt)
            if abs(nxt - path[-2]) < tol:
                break
    return np.array(path, dtype=float)


def gradient_descent(
    df: Callable[[float], float],
    x0: float,
    eta: float,
    tol: float = 1e-10,
    max_iter: int = 10_000,
) -> np.ndarray:
    """The lecture's x_{i+1} = x_i − η f'(x_i); the whole path, so divergence is visible."""
    return _iterate(lambda xi: eta * float(df(xi)), x0, tol, max_iter)


def newton_update_general() -> sympy.Expr:
    """x − d1/d2, derived by minimising the second-order Taylor model m(h) around x."""
    h = make_symbol("h")
    f0 = make_symbol("f0")  # f(x): a constant of the model, gone after differentiating
    model = f0 + d1 * h + sympy.Rational(1, 2) * d2 * h**2
    (h_star,) = sympy.solve(sympy.diff(model, h), h)
    return x + h_star


def newton_update_quartic() -> sympy.Expr:
    """The Newton–Raphson update for the lecture's quartic: x − f'(x)/f''(x)."""
    return newton_update_general().subs({d1: FPRIME_EXPR, d2: FSECOND_EXPR})


def newton_raphson(
    df: Callable[[float], float],
    d2f: Callable[[float], float],
    x0: float,
    tol: float = 1e-12,
    max_iter: int = 100,
) -> np.ndarray:
    """Newton–Raphson for f' = 0: step size 1/f''(x_i), as the lecture puts it."""

    def step(xi: float) -> float | None:
        curvature = float(d2f(xi))
        return None if curvature == 0.0 else float(df(xi)) / curvature

    return _iterate(step, x0, tol, max_iter)


@dataclass(frozen=True)
class StationaryPoint:
    """A root of f' with its value and what kind of extremum it is."""

    x: float
    f: float
    kind: str  # "global minimum", "local minimum" or "local maximum"


@cache
def stationary_points() -> tuple[StationaryPoint, ...]:
    """The real roots of f', sorted by x and classified by the sign of f''."""
    roots = sorted(float(r.evalf(30)) for r in sympy.real_roots(sympy.Poly(FPRIME_EXPR, x)))
    kinds = []
    for r in roots:
        curvature = fsecond(r)
        if curvature == 0.0:
            raise ArithmeticError(f"f''({r}) = 0: the second-derivative test cannot classify it")
        kinds.append("local minimum" if curvature > 0 else "local maximum")
    minima = [i for i, k in enumerate(kinds) if k == "local minimum"]
    if minima:
        kinds[min(minima, key=lambda i: f(roots[i]))] = "global minimum"
    return tuple(StationaryPoint(r, f(r), k) for r, k in zip(roots, kinds, strict=True))


def global_minimum() -> StationaryPoint:
    """The minimum with the smallest f (f → ∞ at both ends, so one exists)."""
    (point,) = (p for p in stationary_points() if p.kind == "global minimum")
    return point


def local_minima() -> tuple[StationaryPoint, ...]:
    """Both minima, global and local, sorted by x: where gradient descent can end up."""
    return tuple(p for p in stationary_points() if p.kind.endswith("minimum"))
