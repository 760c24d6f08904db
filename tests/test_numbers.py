"""Numbers and vectors judged as a lecturer would (issue 23.2): the precision the text states
is the precision graded, values rounded alike are rounded (never "recheck" for a right
entry), a set is a set, a loop one step off is recognised, and an answer computed from an
earlier slipped answer follows through — in the grade, and through the grader's plumbing."""

from __future__ import annotations

import numpy as np
import pytest

from autograder import check_array
from autograder.judge import transport
from autograder.rubric.course import question
from autograder.rubric.question import judge
from autograder.run.grader import Grader, Settings
from solutions import network as nw
from solutions import sigmoid as sg

LECTURE = question("backprop-training")  # the lecture's numbers: 300 steps, η = 0.01
STEPS, ETA = 300, 0.01


def _final_loss(steps: int = STEPS, direction=None) -> float:
    return float(nw.train(nw.THETA0, nw.DATA, ETA, steps, direction)[1][-1])


def _mean(theta, data):
    return nw.total_gradient(theta, data) / len(data)


def test_the_rubric_trains_as_the_lecture_numbers_say() -> None:
    assert LECTURE.expected == pytest.approx(_final_loss())


# --- precision ------------------------------------------------------------------------------

def test_the_precision_the_text_states_is_the_precision_graded() -> None:
    """opt1d: "about 4 significant digits": −2.620 and 1.148 are right, not "rounded"."""
    q = question("opt1d-minima")
    low, high = q.expected
    assert judge(q, [-2.620, 1.148]).correct
    assert judge(q, [float(f"{low:.3e}"), float(f"{high:.5e}")]).correct
    coarse = judge(q, [float(f"{low:.2e}"), float(f"{high:.2e}")])  # 3 digits: rounded
    assert coarse.mistake == "rounded" and 0 < coarse.score < 1


def test_the_printed_precision_is_right() -> None:
    """The notebook prints the final loss as .3e and ∇R to 6 decimals."""
    assert judge(LECTURE, float(f"{LECTURE.expected:.3e}")).correct
    grad = question("backprop-gradient")
    assert judge(grad, np.round(nw.total_gradient(), 6)).correct


def test_a_loss_rounded_more_than_printed_is_rounded_not_wrong() -> None:
    result = judge(LECTURE, round(LECTURE.expected, 4))  # 0.0057
    assert result.mistake == "rounded" and result.score == 0.5, result.feedback
    assert judge(LECTURE, round(LECTURE.expected, 3)).score == 0.0  # 0.006: one digit


def test_a_vector_rounded_alike_blames_no_entry() -> None:
    """∇R to 3 decimals: its small entries (2 digits, or 0.000) are rounded like the rest."""
    grad = question("backprop-gradient")
    result = judge(grad, np.round(nw.total_gradient(), 3))
    assert result.mistake == "rounded" and result.score == 0.5, result.feedback
    assert "Recheck" not in result.feedback and "3 decimals" in result.feedback
    vector = [0.123456, -0.0004, 1.5]
    rounded = check_array([0.123, -0.0, 1.5], vector, labels=["a", "b", "c"])
    assert rounded.mistake == "rounded" and "Recheck" not in rounded.feedback
    wrong = check_array([0.123, -0.2, 1.5], vector, labels=["a", "b", "c"])
    assert "Recheck b" in wrong.feedback  # a wrong entry among rounded ones is still named


def test_a_slip_rounded_is_the_slip_rounded() -> None:
    grad = question("backprop-gradient")
    result = judge(grad, np.round(nw.total_gradient() / 2, 3))
    assert result.mistake == "mean_not_sum" and result.score == 0.25, result.feedback


# --- sets -----------------------------------------------------------------------------------

def test_a_set_in_another_order() -> None:
    q = question("opt1d-minima")  # asks for the global minimum first: the order is worth ¼
    low, high = q.expected
    reversed_ = judge(q, [high, low])
    assert reversed_.mistake == "order" and reversed_.score == 0.75, reversed_.feedback
    half = judge(q, [high, 7.0])  # one minimum found, in the other slot
    assert half.score == pytest.approx(0.375)
    assert check_array([2.0, 1.0], [1.0, 2.0], as_set=True).correct  # a set has no order
    assert check_array([2.0, 1.0], [1.0, 2.0]).score == 0.0  # two labelled entries: no order
    assert check_array([4.0, 3.0, 2.0, 1.0], [1.0, 2.0, 3.0, 4.0]).mistake == "entry_order"


# --- slips and follow-through ---------------------------------------------------------------

def test_a_loop_one_step_off_is_recognised() -> None:
    short = judge(LECTURE, _final_loss(STEPS - 1))
    assert short.mistake == "one_step_short" and short.score == 0.75, short.feedback
    assert "299" in short.feedback
    assert judge(LECTURE, _final_loss(STEPS + 1)).mistake == "one_step_long"


def test_two_readings_are_both_given() -> None:
    """With two observations the mean over them and the ½ convention give the same ∇R."""
    result = judge(question("backprop-gradient"), nw.total_gradient() / 2)
    assert result.mistake == "mean_not_sum"
    assert "mean" in result.feedback and "½" in result.feedback


@pytest.mark.parametrize(("gradient", "direction"), [
    (nw.total_gradient() / 2, _mean),
    (nw.total_gradient(activation_slope=sg.sigmoid),
     lambda t, d: nw.total_gradient(t, d, activation_slope=sg.sigmoid)),
    (nw.gradient(nw.THETA0, nw.DATA[1]), lambda t, d: nw.gradient(t, d[1])),
])
def test_a_gradient_slip_is_charged_once(gradient, direction) -> None:
    """The training loss follows through from the student's own (slipped) ∇R."""
    own = _final_loss(direction=direction)
    assert judge(LECTURE, own).score == 0.0  # against the reference it is wrong ...
    followed = judge(LECTURE, own, earlier={"backprop-gradient": gradient})
    assert followed.score == 1.0 and "follow-through" in followed.feedback  # ... not twice
    assert judge(LECTURE, own, earlier={"backprop-gradient": nw.total_gradient()}).score == 0.0
    rounded = judge(LECTURE, float(f"{own:.2e}"), earlier={"backprop-gradient": gradient})
    assert rounded.mistake == "rounded" and rounded.details["follow_through"]


def test_the_grader_passes_every_earlier_answer_a_question_follows() -> None:
    """As ``backprop-kit grade`` judges: answers as transport data, the earlier ones by id."""
    grader = Grader("backprop", [LECTURE], Settings())
    own = _final_loss(direction=_mean)
    earlier = {"backprop-gradient": transport.encode(nw.total_gradient() / 2)}
    result = grader.judge_answer(LECTURE, {"data": transport.encode(own)}, earlier)
    assert result.points == LECTURE.points, result.feedback
    alone = grader.judge_answer(LECTURE, {"data": transport.encode(own)}, {})
    assert alone.points == 0


def test_rounding_keeping_four_digits_costs_less() -> None:
    """θ₁ rounded to 4 decimals keeps 4 significant digits: a quarter off, not half."""
    step = question("backprop-step")
    theta1 = nw.THETA0 - 0.1 * nw.total_gradient()
    assert judge(step, np.round(theta1, 4)).score == 0.75
    assert judge(step, np.round(theta1, 2)).score == 0.5


def test_a_labelled_vector_in_another_order() -> None:
    grad = question("backprop-gradient")
    g = nw.total_gradient()
    result = judge(grad, np.concatenate([g[6:], g[:6]]))  # the output layer first
    assert result.mistake == "entry_order" and result.score == 0.5, result.feedback
    assert judge(grad, np.concatenate([g[6:], g[:5], [7.0]])).score == 0.0


def test_a_step_handed_in_as_only_the_change_or_with_the_other_step_size() -> None:
    step = question("backprop-step")
    g = nw.total_gradient()
    assert judge(step, -0.1 * g).mistake == "only_the_step"
    assert judge(step, nw.THETA0 - 0.01 * g).mistake == "wrong_step_size"
    assert all(0 < judge(step, a).score < 0.5 for a in (-0.1 * g, nw.THETA0 - 0.01 * g))


def test_eta_twice_and_the_training_step_size_are_both_read() -> None:
    """With the lecture's numbers η² = 0.01 is the training run's η: both readings are given."""
    step = question("backprop-step")
    result = judge(step, nw.THETA0 - 0.1 * 0.1 * nw.total_gradient())
    assert "training run" in result.feedback and "twice" in result.feedback, result.feedback
