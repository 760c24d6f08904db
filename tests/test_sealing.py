"""Sealed values (autograder.judge.sealing): the grade's and the self-check's "within tolerance" are
one judgement, values within rel_tol always meet, values beyond 1.5 × rel_tol never do, and the
released hashes do not hold the value."""

from __future__ import annotations

import json
import math

import pytest
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
    text = json.dumps(sealing.seal_answer("q", [value, 2 * value], (), REL, ABS))
    assert "0.1234" not in text and "0.2469" not in text


# --- a vector sealed whole ----------------------------------------------------------------

vectors = st.lists(magnitudes, min_size=1, max_size=9)


@settings(max_examples=40, deadline=None)
@given(vectors, st.lists(st.floats(min_value=-1e-9, max_value=1e-9), min_size=9, max_size=9))
def test_a_computed_vector_matches_its_whole_seal(values: list[float], noise: list[float]
                                                   ) -> None:
    """Float noise (another order of operations) never moves an honest answer off the seal."""
    salt = sealing.vector_salt("q", "reference")
    hashes = frozenset(sealing.seal_vector(values, salt, REL, ABS))
    assert len(hashes) == len(sealing.GRIDS)
    other = [v * (1 + e) for v, e in zip(values, noise, strict=False)]
    assert sealing.matches_vector(other, hashes, salt, REL, ABS)


@settings(max_examples=40, deadline=None)
@given(vectors, st.data())
def test_one_entry_beyond_the_tolerance_breaks_the_whole_seal(values: list[float],
                                                              data: st.DataObject) -> None:
    salt = sealing.vector_salt("q", "reference")
    hashes = frozenset(sealing.seal_vector(values, salt, REL, ABS))
    k = data.draw(st.integers(0, len(values) - 1))
    times = data.draw(st.floats(min_value=1.51, max_value=1e4))
    other = list(values)
    other[k] = values[k] * math.exp(times * math.log1p(REL))
    assert not sealing.matches_vector(other, hashes, salt, REL, ABS)
    assert not sealing.matches_vector(values[:-1] or [1.0, 2.0], hashes, salt, REL, ABS)


def test_the_whole_seal_depends_on_its_salt() -> None:
    values = [0.25, -1.5, 3.0]
    salt = sealing.vector_salt("q", "reference")
    hashes = frozenset(sealing.seal_vector(values, salt, REL, ABS))
    assert not sealing.matches_vector(values, hashes, sealing.vector_salt("q", "slip/0"), REL,
                                      ABS)
    assert not sealing.matches_vector(values, hashes, sealing.vector_salt("q", "reference",
                                                                          "variant"), REL, ABS)


# --- what recovering a seal costs -----------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(st.floats(min_value=1e-6, max_value=1e6), st.floats(min_value=1.0, max_value=1.05),
       st.sampled_from([1e-6, 1e-4]))
def test_cells_between_counts_the_cells_a_search_must_try(low: float, ratio: float,
                                                          rel: float) -> None:
    """Against a walk over the interval in steps far finer than a cell: every cell met is
    counted, and no more."""
    high = low * ratio
    step = sealing.WIDTH * math.log1p(rel)
    n = 2000
    seen = {sealing.cells(low * math.exp(i / n * math.log(ratio)), rel, ABS)[0]
            for i in range(n + 1)}
    counted = sealing.cells_between(low, high, rel, ABS)
    assert counted >= len(seen)
    assert counted <= math.log(ratio) / step + 2


def test_two_known_digits_leave_a_percent_or_so() -> None:
    low, high = sealing.known_digits(0.0057486)
    assert (low, high) == (pytest.approx(0.00565), pytest.approx(0.00575))
    low, high = sealing.known_digits(-0.40415)
    assert (low, high) == (pytest.approx(-0.405), pytest.approx(-0.395))
    # a 2-digit guess of final_loss at the backprop tolerance: about 11,600 cells
    assert 11_000 < sealing.cells_between(0.00565, 0.00575, 1e-6, 1e-9) < 12_000
    # each a hash of 2,000 iterations at 3e6 a second: seconds of one core, not years
    assert sealing.search_years(math.log10(11_600)) < math.log10(10 / sealing.SECONDS_A_YEAR)
