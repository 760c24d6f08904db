"""Steepest descent in two (or any number of) dimensions, for the lecture's demonstration 2."""

from __future__ import annotations

import functools
from collections.abc import Callable

import numpy as np
import sympy
from numpy.typing import ArrayLike

from solutions.symbols import make_symbol

x1, x2 = make_symbol("x1"), make_symbol("x2")
F2_EXPR = x1**4 * x2**2 + (x1 - 1) ** 2 * (x2 - 1) ** 4
GRAD_F2_EXPR = (sympy.diff(F2_EXPR, x1), sympy.diff(F2_EXPR, x2))

_f2 = sympy.lambdify((x1, x2), F2_EXPR, "math")
_grad_f2 = [sympy.lambdify((x1, x2), g, "math") for g in GRAD_F2_EXPR]


def _zeros_of_f2() -> tuple[tuple[float, float], ...]:
    """Where f2 = 0: f2 is a sum of two non-negative terms, so both must vanish."""
    terms = sympy.Add.make_args(F2_EXPR)
    solutions = sympy.solve(list(terms), [x1, x2], dict=True)
    return tuple(sorted((float(s[x1]), float(s[x2])) for s in solutions))


@functools.cache
def minima() -> tuple[tuple[float, float], ...]:
    """The global minima (f2 ≥ 0 and f2 = 0 exactly here): (0, 1) and (1, 0); solved on first
    use, not at import (sympy.solve takes a noticeable part of a second)."""
    return _zeros_of_f2()


def __getattr__(name: str) -> object:
    """``MINIMA`` is :func:`minima`, computed when first asked for."""
    if name == "MINIMA":
        return minima()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def f2(p: ArrayLike) -> float:
    """f(x1, x2) = x1⁴x2² + (x1 − 1)²(x2 − 1)⁴ at the point p."""
    a, b = (float(c) for c in np.asarray(p, dtype=float).ravel())
    return float(_f2(a, b))


def grad_f2(p: ArrayLike) -> np.ndarray:
    """∇f at the point p, lambdified from the symbolic partial derivatives."""
    a, b = (float(c) for c in np.asarray(p, dtype=float).ravel())
    return np.array([g(a, b) for g in _grad_f2], dtype=float)


def steepest_descent(
    grad: Callable[[np.ndarray], ArrayLike],
    x0: ArrayLike,
    eta: float,
    tol: float = 1e-10,
    max_iter: int = 10_000,
) -> np.ndarray:
    """x_{i+1} = x_i − η ∇f(x_i) in any dimension; the path as rows, so it can be plotted.

    Stops when a step is shorter than ``tol`` (Euclidean norm), after ``max_iter`` steps, or
    when the next iterate is not finite (that iterate is left out): divergence is shown, not
    raised.
    """
    point = np.atleast_1d(np.array(x0, dtype=float))
    path = [point]
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        for _ in range(max_iter):
            try:
                direction = np.asarray(grad(path[-1].copy()), dtype=float).reshape(point.shape)
            except OverflowError:
                break
            nxt = path[-1] - eta * direction
            if not np.all(np.isfinite(nxt)):
                break
            path.append(nxt)
            if np.linalg.norm(nxt - path[-2]) < tol:
                break
    return np.array(path, dtype=float)
