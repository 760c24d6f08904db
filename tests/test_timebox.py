"""autograder.judge.timebox: a nestable wall-clock bound, as used around judging each answer."""

from __future__ import annotations

import signal
import time

import pytest

from autograder.judge.timebox import OutOfTime, remaining, timebox


def spin(seconds: float) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        pass


def test_a_block_that_runs_out_is_stopped() -> None:
    with pytest.raises(OutOfTime), timebox(0.05):
        spin(30)
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)  # nothing left armed


def test_a_block_within_its_time_is_left_alone() -> None:
    with timebox(5):
        value = sum(range(1000))
    assert value == 499500 and remaining() is None


def test_an_inner_box_never_extends_the_outer_one() -> None:
    with pytest.raises(OutOfTime), timebox(0.1):
        with timebox(60):
            assert remaining() <= 0.1
            spin(30)


def test_the_outer_box_gets_its_remaining_time_back() -> None:
    with timebox(30):
        with pytest.raises(OutOfTime), timebox(0.05):
            spin(30)
        left = remaining()
        assert left is not None and 1 < left <= 30
        assert signal.getitimer(signal.ITIMER_REAL)[0] > 1  # re-armed for the outer box


def test_code_that_swallows_the_first_alarm_is_stopped_again() -> None:
    def stubborn() -> None:
        try:
            spin(30)
        except OutOfTime:
            spin(30)

    with pytest.raises(OutOfTime), timebox(0.05):
        stubborn()
