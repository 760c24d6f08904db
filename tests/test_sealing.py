"""Sealed values (autograder.judge.sealing): the grade's and the self-check's "within tolerance" are
one judgement, values within rel_tol always meet, values beyond 1.5 × rel_tol never do, and the
released hashes do not hold the value."""

from __future__ import annotations

import json
import math

from hypothesis import given, settings
from hypothesis import strategies as st

from autograder.judge import sealing

REL, ABS = 1e-6, 1e-12
magnitudes = st.floats(min_value=1e-6, max_value=1e6) | st.floats(min_value=-1e6,
                                                                   max_value=-1e-6)


@given(magnitudes, st.floats(min_value=-1.0, max_value=1.0))
def test_values_within_the_tolerance_always_meet(value: float, fraction: float) -> None:
    other = value * math.exp(0.999 * fraction * math.log1p(REL))
    assert sealing.close(other, value, REL, ABS)


@given(magnitudes, st.floats(min_value=1.51, max_value=1e4), st.sampled_from([-1, 1]))
def test_values_beyond_one_and_a_half_tolerances_never_meet(value: float, times: float,
                                                            side: int) -> None:
    other = value * math.exp(side * times * math.log1p(REL))
    assert not sealing.close(other, value, REL, ABS)
    assert not sealing.close(-value, value, REL, ABS)


@settings(max_examples=30, deadline=None)
@given(magnitudes, st.floats(min_value=-3.0, max_value=3.0))
def test_the_sealed_comparison_is_the_grade_s(value: float, tolerances: float) -> None:
    salt = sealing.salt_for("q", 0)
    other = value * math.exp(tolerances * math.log1p(REL))
    hashes = frozenset(sealing.seal(value, salt, REL, ABS))
    assert sealing.matches(other, hashes, salt, REL, ABS) == sealing.close(other, value, REL,
                                                                           ABS)


def test_near_zero_is_one_cell() -> None:
    assert sealing.close(0.0, 1e-13, REL, ABS) and not sealing.close(0.0, 1e-6, REL, ABS)


def test_a_seal_depends_on_the_entry_and_does_not_hold_the_value() -> None:
    value = 0.123456789
    a = sealing.seal(value, sealing.salt_for("q", 0), REL, ABS)
    b = sealing.seal(value, sealing.salt_for("q", 1), REL, ABS)
    c = sealing.seal(value, sealing.salt_for("q", 0, prefix="variant"), REL, ABS)
    assert len(a) == len(sealing.GRIDS) and not set(a) & set(b) and not set(a) & set(c)
    text = json.dumps(sealing.seal_entries("q", [value], (), REL, ABS))
    assert "0.1234" not in text
