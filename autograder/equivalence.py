"""Is the student's expression the reference one? Numeric screening, symbolic confirmation.

Random real points (negative ones too) evaluated in high precision decide quickly and catch
answers that differ by tiny terms or only on part of the domain; a time-bounded symbolic
simplification then confirms. Evaluation walks the sympy tree itself (no lambdify, no exec).
"""

from __future__ import annotations

import random
import signal
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import TypeVar

import mpmath
import sympy

from autograder import functions

PRECISION = 40  # decimal digits used for every evaluation
N_POINTS = 8
REL_TOL_EXACT = mpmath.mpf("1e-25")  # both sides exact: anything bigger is a real difference
REL_TOL_FLOAT = mpmath.mpf("1e-10")  # a side carries floating-point coefficients
SYMBOLIC_SECONDS = 0.25

Point = tuple[mpmath.mpf, ...]
T = TypeVar("T")


class Undefined(ArithmeticError):
    """The expression has no real value at this point (division by zero, log of a negative)."""


def evaluate(expr: sympy.Basic, env: Mapping[sympy.Symbol, mpmath.mpf]) -> mpmath.mpc:
    """Value of ``expr`` with symbols bound by ``env``, at the current mpmath precision."""
    if expr.is_Symbol:
        return env[expr]
    if expr.is_Integer:
        return mpmath.mpf(int(expr))
    if expr.is_Rational:
        return mpmath.mpf(int(expr.p)) / int(expr.q)
    if expr.is_Float:
        return mpmath.mpf(expr._mpf_)
    if expr is sympy.E:
        return mpmath.e
    if expr is sympy.pi:
        return mpmath.pi
    if expr.is_Add:
        return mpmath.fsum(evaluate(a, env) for a in expr.args)
    if expr.is_Mul:
        result = mpmath.mpf(1)
        for a in expr.args:
            result *= evaluate(a, env)
        return result
    if expr.is_Pow:
        base, exponent = (evaluate(a, env) for a in expr.args)
        if base == 0 and mpmath.re(exponent) <= 0:
            raise Undefined("division by zero")
        return mpmath.power(base, exponent)
    function = functions.BY_NODE.get(type(expr))  # the one table of functions
    if function is not None and function.evaluate is not None:
        args = [evaluate(a, env) for a in expr.args]
        try:
            return function.evaluate(*args)
        except (ZeroDivisionError, ValueError) as error:  # log(0), cot(0), max of non-reals
            raise Undefined(f"{function.names[0]}: {error}") from None
    raise Undefined(f"cannot evaluate {type(expr).__name__}")


def values_at(
    expr: sympy.Basic, symbols: Sequence[sympy.Symbol], points: Iterable[Point]
) -> list[mpmath.mpc | None]:
    """Values at each point (None where undefined or not real)."""
    out: list[mpmath.mpc | None] = []
    with mpmath.workdps(PRECISION):
        for point in points:
            try:
                value = evaluate(expr, dict(zip(symbols, point, strict=False)))
            except (Undefined, ZeroDivisionError, ValueError, OverflowError, KeyError):
                out.append(None)
                continue
            if isinstance(value, mpmath.mpc):
                if abs(value.imag) > abs(value.real) * REL_TOL_FLOAT + REL_TOL_FLOAT:
                    out.append(None)
                    continue
                value = value.real
            out.append(value if mpmath.isfinite(value) else None)
    return out


@lru_cache(maxsize=64)
def sample_points(n_variables: int, n_points: int = N_POINTS, seed: int = 20231208) -> tuple:
    """Fixed pseudo-random real points in [-2.5, 2.5]^n, both signs, as high-precision numbers.

    Fixed per dimension, so that a reference's values can be computed once and released.
    """
    rng = random.Random(seed * 1000 + n_variables)
    with mpmath.workdps(PRECISION):
        return tuple(
            tuple(mpmath.mpf(rng.uniform(-2.5, 2.5)) + mpmath.mpf(rng.random()) / 10**12
                  for _ in range(n_variables))
            for _ in range(n_points)
        )


def substitute(
    expr: sympy.Expr, definitions: Mapping[sympy.Symbol, sympy.Expr] | None
) -> sympy.Expr:
    """Replace defined symbols by their definitions until none is left (definitions may nest)."""
    if not definitions:
        return expr
    for _ in range(len(definitions) + 1):
        if not expr.free_symbols & definitions.keys():
            return expr
        expr = expr.xreplace(dict(definitions))
    raise ValueError("definitions refer to each other in a cycle")


def has_floats(expr: sympy.Basic) -> bool:
    return any(a.is_Float for a in sympy.preorder_traversal(expr))


def close(a: mpmath.mpf, b: mpmath.mpf, rel_tol: mpmath.mpf) -> bool:
    with mpmath.workdps(PRECISION):
        return abs(a - b) <= rel_tol * (1 + abs(b))


def same_values(
    answer: Sequence[mpmath.mpf | None],
    reference: Sequence[mpmath.mpf | None],
    rel_tol: mpmath.mpf = REL_TOL_EXACT,
) -> bool:
    """Equal wherever the reference is defined (and defined there); needs >= 3 such points."""
    compared = 0
    for a, b in zip(answer, reference, strict=False):
        if b is None:
            continue
        if a is None or not close(a, b, rel_tol):
            return False
        compared += 1
    return compared >= 3


@dataclass(frozen=True)
class Verdict:
    equivalent: bool
    confirmed: bool  # a symbolic simplification proved it too
    values: tuple  # the answer's values at the sample points (for diagnosis)


def _run_bounded(func: Callable[[], T], seconds: float) -> T | None:
    """Run ``func`` with a wall-clock bound where signals allow it (the main thread)."""
    if threading.current_thread() is not threading.main_thread():
        return None

    def _timeout(signum, frame):  # noqa: ARG001
        raise TimeoutError

    previous = signal.signal(signal.SIGALRM, _timeout)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        return func()
    except (TimeoutError, RecursionError, ValueError, TypeError, AttributeError):
        return None
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def symbolically_zero(diff: sympy.Expr, seconds: float = SYMBOLIC_SECONDS) -> bool:
    """True only when sympy proves ``diff`` is 0 within the time bound."""

    def attempt() -> bool:
        rewritten = diff.rewrite(sympy.exp)
        if sympy.expand(rewritten) == 0:
            return True
        if sympy.cancel(sympy.together(sympy.expand(rewritten))) == 0:
            return True
        return sympy.simplify(rewritten) == 0

    return bool(_run_bounded(attempt, seconds))


def compare(
    answer: sympy.Expr,
    expected: sympy.Expr,
    symbols: Sequence[sympy.Symbol],
    reference_values: Sequence[mpmath.mpf | None] | None = None,
    symbolic: bool = True,
) -> Verdict:
    """Decide equivalence of two definition-free expressions over real ``symbols``."""
    points = sample_points(len(symbols))
    answer_values = values_at(answer, symbols, points)
    if reference_values is None:
        reference_values = values_at(expected, symbols, points)
    tol = REL_TOL_FLOAT if has_floats(answer) or has_floats(expected) else REL_TOL_EXACT
    numeric = same_values(answer_values, reference_values, tol)
    confirmed = False
    if symbolic and (numeric or same_values(answer_values, reference_values, REL_TOL_FLOAT)):
        confirmed = symbolically_zero(answer - expected)
        numeric = numeric or confirmed
    return Verdict(numeric, confirmed, tuple(answer_values))
