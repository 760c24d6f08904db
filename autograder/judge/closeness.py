"""What "close" means, said once: the named tolerances every check uses, and the one reading of
how many digits a number shows (which is what "rounded" means).

A tolerance is named for what it judges, so a reader of a check sees why it is that size, and
changing one changes every place that judges the same thing.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import mpmath
import numpy as np


@dataclass(frozen=True)
class Tolerance:
    """|a − b| ≤ max(rel·max(|a|, |b|), abs), entry by entry (math.isclose's rule)."""

    rel: float
    abs: float = 0.0

    def close(self, a: float, b: float) -> bool:
        return math.isclose(a, b, rel_tol=self.rel, abs_tol=self.abs)

    def close_arrays(self, a: Any, b: Any) -> bool:
        """Same shape, every entry close (symmetric in a and b, unlike np.allclose)."""
        a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
        if a.shape != b.shape:
            return False
        scale = np.maximum(np.abs(a), np.abs(b))
        return bool(np.all(np.abs(a - b) <= np.maximum(self.rel * scale, self.abs)))


# A number, vector or function output against its reference (a question's default rel_tol and
# abs_tol): a computed answer agrees to ~1e-12; 1e-6 leaves room for another correct order of
# operations or a tolerance-stopped loop, and none for a rounded or a wrong value.
ANSWER = Tolerance(rel=1e-6, abs=1e-9)
# An earlier answer recognised as a known slip's result, to follow it through (slips lie far
# apart: a match to 3 decimals will do, and a rounded earlier answer still counts).
FOLLOWS_SLIP = Tolerance(rel=1e-3, abs=1e-3)
# Two floats that are the same number written twice (a value and its own rounding, a decimal
# typed by hand and the float it becomes): representation error only.
SAME_FLOAT = Tolerance(rel=1e-12, abs=1e-15)
# Two students' numbers that agree this closely were not computed apart (copying): never looser
# than what the answer itself is judged to.
COPIED_REL_FLOOR = 1e-9
# A gradient against finite differences of the same loss: central differences with h ~ 1e-5
# are good to ~1e-8 relative; 1e-4 leaves room for a student's h, and none for a wrong entry.
FINITE_DIFFERENCES = Tolerance(rel=1e-4)
# A path's end against the value the notebook states (a visible check): the stated value has
# few digits, a loop stopped by tol=1e-10 is far closer.
STATED_VALUE = Tolerance(rel=1e-5, abs=1e-5)

# Expressions are compared as numbers at many points with mpmath (autograder.judge.equivalence):
# both sides exact (integers, rationals, symbols): anything bigger is a real difference;
EXPRESSION_EXACT = mpmath.mpf("1e-25")
# a side carries floating-point coefficients (0.5*x): double precision, with room;
EXPRESSION_FLOAT = mpmath.mpf("1e-10")
# against released values (20 digits): enough for every honest form, too few for a function
# fitted through them to pass at the secret points.
EXPRESSION_RELEASED = mpmath.mpf("1e-15")


def shown_digits(value: float, most: int = 16) -> int:
    """How many significant digits ``value`` shows: 2 for 0.25, 3 for 0.125, 16 (``most``) for
    a computed float. 0 for zero or a non-finite value."""
    if value == 0 or not math.isfinite(value):
        return 0
    magnitude = math.floor(math.log10(abs(value)))
    for digits in range(1, most):
        if math.isclose(value, round(value, digits - 1 - magnitude), rel_tol=SAME_FLOAT.rel,
                        abs_tol=0.0):
            return digits
    return most


def shown_decimals(values: Sequence[float], most: int = 9) -> int | None:
    """The fewest decimals (1 to ``most``) that show every value exactly: what a vector rounded
    to d decimals looks like; None for values computed at full precision."""
    for decimals in range(1, most + 1):
        if all(SAME_FLOAT.close(v, round(v, decimals)) for v in values):
            return decimals
    return None


def is_rounding_of(a: float, b: float, decimals: int) -> bool:
    """Is ``a`` the value ``b`` rounded, or cut off, to ``decimals`` decimals?"""
    scale = 10.0 ** decimals
    return any(SAME_FLOAT.close(a, cut) for cut in (round(b, decimals),
                                                     math.trunc(b * scale) / scale))


def decimals_for(value: float, significant: int) -> int:
    """The decimals that keep ``significant`` digits of ``value``."""
    return significant - 1 - math.floor(math.log10(abs(value)))
