"""Which common slip does a wrong answer show? Sign, constant factor, missing or extra factor,
a variable used in place of another.

Diagnosis works on values at the sample points, so it serves both the hidden checks (with the
reference expression) and the visible ones (with only the reference's released values).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

import mpmath
import sympy

from autograder.equivalence import (
    PRECISION,
    REL_TOL_FLOAT,
    close,
    same_values,
    sample_points,
    substitute,
    values_at,
)

Values = Sequence[mpmath.mpf | None]

FEEDBACK = {
    "sign": (
        "Your answer has the wrong sign: it is the negative of the right expression. "
        "Check every minus sign, e.g. the inner derivative of (y − a)."
    ),
    "constant_factor": (
        "Your answer is off by a constant factor. Check the numbers in front, e.g. the "
        "exponent you bring down when you differentiate a power."
    ),
    "missing_factor": (
        "Your answer is missing a factor. Check that every link of the chain rule "
        "contributes its derivative."
    ),
    "extra_factor": (
        "Your answer has a factor too many. Check that each factor belongs to this "
        "derivative's chain."
    ),
    "wrong_variable": (
        "Your answer uses {used} where a different quantity belongs. Check which variable "
        "each factor of your chain refers to."
    ),
}


@dataclass(frozen=True)
class Diagnosis:
    mistake: str
    feedback: str
    used: str | None = None  # for wrong_variable: the student's symbol at fault


def _ratios(answer: Values, reference: Values) -> list[mpmath.mpf] | None:
    """answer/reference where both are defined and non-zero (None if too few such points)."""
    with mpmath.workdps(PRECISION):
        ratios = [a / b for a, b in zip(answer, reference, strict=False)
                  if a is not None and b not in (None, 0)]
    return ratios if len(ratios) >= 3 else None


def _constant(values: Sequence[mpmath.mpf]) -> mpmath.mpf | None:
    first = values[0]
    return first if all(close(v, first, REL_TOL_FLOAT) for v in values[1:]) else None


def _matches_factor(
    ratios: Sequence[mpmath.mpf] | None,
    answer: Values,
    reference: Values,
    candidates: Iterable[Values],
    inverse: bool,
) -> bool:
    """Does answer/reference (or its inverse) equal ±candidate at every point?"""
    if ratios is None:
        return False
    for cand in candidates:
        with mpmath.workdps(PRECISION):
            expected = []
            for a, b, c in zip(answer, reference, cand, strict=False):
                if a is None or b in (None, 0) or c in (None, 0):
                    continue
                expected.append((a / b, 1 / c if inverse else c))
        if len(expected) < 3:
            continue
        for sign in (1, -1):
            if all(close(r, sign * c, REL_TOL_FLOAT) for r, c in expected):
                return True
    return False


def diagnose(
    answer: sympy.Expr,
    answer_values: Values,
    reference_values: Values,
    symbols: Sequence[sympy.Symbol],
    definitions: Mapping[sympy.Symbol, sympy.Expr] | None = None,
    reference_factors: Sequence[sympy.Expr] = (),
) -> Diagnosis | None:
    """Name the slip that turns the reference into ``answer``, or None if none fits.

    ``answer`` is the student's expression before definitions are substituted (so a swapped
    intermediate such as a1_1 for a2_1 can be seen); values are after substitution, at
    ``sample_points(len(symbols))``. ``reference_factors`` are the reference's own factors,
    when the reference expression is known.
    """
    points = sample_points(len(symbols))

    def values(expr: sympy.Expr) -> list:
        return values_at(substitute(expr, definitions), symbols, points)

    ratios = _ratios(answer_values, reference_values)
    if ratios is not None:
        constant = _constant(ratios)
        if constant is not None:
            if close(constant, mpmath.mpf(-1), REL_TOL_FLOAT):
                return Diagnosis("sign", FEEDBACK["sign"])
            # a ratio of 1 means a tiny extra term, not a factor: no slip to name
            if constant != 0 and not close(constant, mpmath.mpf(1), REL_TOL_FLOAT):
                return Diagnosis("constant_factor", FEEDBACK["constant_factor"])

    wrong = _swapped_variable(answer, reference_values, symbols, definitions, values)
    if wrong is not None:
        return Diagnosis("wrong_variable", FEEDBACK["wrong_variable"].format(used=wrong), wrong)

    names = list(symbols) + list(definitions or {})
    candidates = [values(s) for s in names]
    missing = candidates + [values(f) for f in reference_factors]
    if _matches_factor(ratios, answer_values, reference_values, missing, inverse=True):
        return Diagnosis("missing_factor", FEEDBACK["missing_factor"])
    extra = candidates + [values(f) for f in sympy.Mul.make_args(answer) if f.free_symbols]
    if _matches_factor(ratios, answer_values, reference_values, extra, inverse=False):
        return Diagnosis("extra_factor", FEEDBACK["extra_factor"])
    return None


def _swapped_variable(
    answer: sympy.Expr,
    reference_values: Values,
    symbols: Sequence[sympy.Symbol],
    definitions: Mapping[sympy.Symbol, sympy.Expr] | None,
    values: Callable[[sympy.Expr], list],
) -> str | None:
    """The symbol of the answer that, replaced by another allowed one, makes it right."""
    allowed = set(symbols) | set(definitions or {})
    used = sorted(answer.free_symbols & allowed, key=str)
    unused = sorted(allowed - answer.free_symbols, key=str)
    for u in used:
        for w in unused:
            if same_values(values(answer.xreplace({u: w})), reference_values, REL_TOL_FLOAT):
                return str(u)
    return None
