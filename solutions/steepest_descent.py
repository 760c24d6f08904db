"""Steepest descent in two (or any number of) dimensions, for the lecture's demonstration 2."""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import sympy
from numpy.typing import ArrayLike

from solutions import iteration
from solutions.symbols import make_symbol

x1, x2 = make_symbol("x1"), make_symbol("x2")
# f(x1, x2) = α x1⁴x2² + β (x1 − c1)²(x2 − c2)⁴ as (α, β, c1, c2); the lecture's is (1, 1, 1, 1),
# a student's variant has its own (every function below takes ``params``, defaulting to it).
PARAMS = (1, 1, 1, 1)
Params = Sequence[float]


def _exact(value: float) -> sympy.Rational:
    return sympy.Integer(value) if isinstance(value, int) else sympy.Rational(str(value))


@functools.cache
def _exprs(params: tuple[float, ...]) -> tuple[sympy.Expr, tuple[sympy.Expr, sympy.Expr]]:
    if len(params) != 4:
        raise ValueError(f"f2 has 4 parameters (alpha, beta, c1, c2), got {len(params)}")
    alpha, beta, c1, c2 = (_exact(p) for p in params)
    expr = alpha * x1**4 * x2**2 + beta * (x1 - c1) ** 2 * (x2 - c2) ** 4
    return expr, (sympy.diff(expr, x1), sympy.diff(expr, x2))


def f2_expr(params: Params = PARAMS) -> sympy.Expr:
    """α x1⁴x2² + β (x1 − c1)²(x2 − c2)⁴."""
    return _exprs(tuple(params))[0]


def grad_f2_expr(params: Params = PARAMS) -> tuple[sympy.Expr, sympy.Expr]:
    """(∂f/∂x1, ∂f/∂x2), derived."""
    return _exprs(tuple(params))[1]


F2_EXPR, GRAD_F2_EXPR = _exprs(PARAMS)


@functools.cache
def _numeric(params: tuple[float, ...]) -> tuple[Callable[..., float], list[Callable[..., float]]]:
    expr, grad = _exprs(params)
    return (sympy.lambdify((x1, x2), expr, "math"),
            [sympy.lambdify((x1, x2), g, "math") for g in grad])


def _zeros_of_f2(params: tuple[float, ...] = PARAMS) -> tuple[tuple[float, float], ...]:
    """Where f2 = 0: f2 is a sum of two non-negative terms, so both must vanish."""
    terms = sympy.Add.make_args(f2_expr(params))
    solutions = sympy.solve(list(terms), [x1, x2], dict=True)
    return tuple(sorted((float(s[x1]), float(s[x2])) for s in solutions))


def minima(params: Params = PARAMS) -> tuple[tuple[float, float], ...]:
    """The global minima (f2 ≥ 0 and f2 = 0 exactly here): (0, c2) and (c1, 0), for the
    lecture (0, 1) and (1, 0); solved on first use, not at import (sympy.solve takes a
    noticeable part of a second)."""
    return _minima(tuple(params))


@functools.cache
def _minima(params: tuple[float, ...]) -> tuple[tuple[float, float], ...]:
    return _zeros_of_f2(params)


def __getattr__(name: str) -> object:
    """``MINIMA`` is :func:`minima`, computed when first asked for."""
    if name == "MINIMA":
        return minima()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def f2(p: ArrayLike, params: Params = PARAMS) -> float:
    """f(x1, x2) at the point p."""
    a, b = (float(c) for c in np.asarray(p, dtype=float).ravel())
    return float(_numeric(tuple(params))[0](a, b))


def grad_f2(p: ArrayLike, params: Params = PARAMS) -> np.ndarray:
    """∇f at the point p, lambdified from the symbolic partial derivatives."""
    a, b = (float(c) for c in np.asarray(p, dtype=float).ravel())
    return np.array([g(a, b) for g in _numeric(tuple(params))[1]], dtype=float)


def reached_minimum(start: ArrayLike, eta: float, params: Params = PARAMS) -> np.ndarray:
    """Which of f2's minima steepest descent from ``start`` with step ``eta`` reaches: the one
    nearest to where its path ends."""
    path = steepest_descent(lambda p: grad_f2(p, params), np.asarray(start, dtype=float), eta)
    return np.array(min(minima(params), key=lambda m: float(np.linalg.norm(path[-1] - m))))


# The steps students write instead (the rubric's code slips): the same as gradient descent's
# (solutions.optimisation_1d.DESCENT_STEPS); ``stop`` and ``guard``: solutions.iteration.
STEPS = ("descent", "uphill", "eta_twice", "no_eta")
_WALKS = iteration.Walks()


def steepest_descent(
    grad: Callable[[np.ndarray], ArrayLike],
    x0: ArrayLike,
    eta: float,
    tol: float = 1e-10,
    max_iter: int = 10_000,
    *,
    step: str = "descent",
    stop: str = "step",
    guard: bool = True,
) -> np.ndarray:
    """x_{i+1} = x_i − η ∇f(x_i) in any dimension; the path as rows, so it can be plotted.

    Stops when a step is shorter than ``tol`` (Euclidean norm), after ``max_iter`` steps, or
    when the next iterate is not finite (that iterate is left out): divergence is shown, not
    raised. ``step``, ``stop`` and ``guard`` give the variants students write (see
    solutions.iteration).
    """
    if step not in STEPS:
        raise ValueError(f"unknown step {step!r}")
    scale = {"descent": eta, "uphill": -eta, "eta_twice": eta * eta, "no_eta": 1.0}[step]
    point = np.atleast_1d(np.array(x0, dtype=float))

    def evaluate(x: np.ndarray) -> tuple[Any, Any]:
        try:
            direction = np.asarray(grad(x.copy()), dtype=float).reshape(point.shape)
        except OverflowError:
            return None, None  # no step: the path ends here, guard or not
        return iteration.VECTORS.norm(direction), scale * direction

    walk = _WALKS.get((grad, tuple(point.tolist()), scale, guard), lambda: iteration.Walk(
        evaluate, iteration.VECTORS, guard, [point]))
    return np.array(iteration.cut(walk, tol, max_iter, stop), dtype=float)
