"""The autograded questions of backprop (instructor side only; never released).

The rubric (points, form, partial credit) is public; ``expected`` is computed from ``solutions``.
"""

import numpy as np

from autograder.diagnosis import Part, Slip
from autograder.rubric import Question
from solutions import errata as er
from solutions import network as nw
from solutions import sigmoid as sg

# The network's symbols an answer may use, and how the intermediates are defined.
OUTPUT_LAYER = ("y", "a1_2", "a1_1", "a2_1", "w11_2", "w12_2", "b1_2")
OUTPUT_DEFINITIONS = {"a1_2": "w11_2*a1_1 + w12_2*a2_1 + b1_2"}
HIDDEN_LAYER = (*OUTPUT_LAYER, "z1_1", "w11_1", "w12_1", "b1_1", "x1", "x2")
HIDDEN_DEFINITIONS = {
    **OUTPUT_DEFINITIONS,
    "a1_1": "sigmoid(z1_1)",
    "z1_1": "w11_1*x1 + w12_1*x2 + b1_1",
}
ETA = 0.1

# How the answers are judged: the chain's links by name (so feedback can say which one is
# missing or mixed up, never its value), the slips students make, hints for the sign and
# factor messages.
DR_DA = Part("∂R/∂a₁⁽²⁾ = the derivative of the square", "-2*(y - a1_2)")
ACTIVATIONS = {"a1_1": "(0, 1)", "a2_1": "(0, 1)"}  # sigmoid outputs
LOSS_HINTS = {"sign": "the inner derivative −1 of (y − a₁⁽²⁾)",
              "constant_factor": "the 2 brought down from the square"}
W11_PARTS = (
    DR_DA,
    Part("the link ∂a₁⁽²⁾/∂a₁⁽¹⁾", "w11_2",
         {"w12_2": "w₁₂⁽²⁾, the weight of the other hidden node"}),
    Part("the link σ′(z₁⁽¹⁾)", "exp(-z1_1)*(1 + exp(-z1_1))^(-2)",
         {"a1_1": "σ(z₁⁽¹⁾) itself, the activation, not its derivative"}),
    Part("the link ∂z₁⁽¹⁾/∂w₁₁⁽¹⁾", "x1", {"x2": "x₂, the input of the other weight"}),
)
HIDDEN_GROUPS = {"hidden node 1's links": (0, 1, 2), "hidden node 2's links": (3, 4, 5),
                 "the output node's links": (6, 7, 8)}


def gradient_slips() -> tuple[Slip, ...]:
    """The wrong ∇R students hand in, computed by solutions, not typed."""
    per_obs = [nw.gradient(nw.THETA0, obs) for obs in nw.DATA]
    total = nw.total_gradient()
    return (
        Slip("mean_not_sum", (total / len(nw.DATA)).tolist(),
             "That is the mean over the observations; R sums them.", 0.5),
        Slip("one_observation", per_obs[0].tolist(),
             "That is the gradient of observation 1 only; R sums both observations.", 0.5),
        Slip("one_observation", per_obs[1].tolist(),
             "That is the gradient of observation 2 only; R sums both observations.", 0.5),
        Slip("sigma_for_sigma_prime",
             nw.total_gradient(activation_slope=sg.sigmoid).tolist(),
             "The hidden nodes' links use σ(z) where σ′(z) belongs.", 0.5),
    )


def step_from(grad: object) -> np.ndarray:
    """The step θ₀ − η∇R computed from a student's own ∇R (follow-through)."""
    return nw.THETA0 - ETA * np.asarray(grad, dtype=float).ravel()


def errata_values() -> list[float]:
    return [e.correct for e in er.errata()[:4]]


QUESTIONS = (
    Question("backprop-sigmoid-derivative", "sigma_prime", "expression", 2, "σ'(v)",
             ("v",), expected=sg.sigmoid_prime_lecture_form(),
             slips=(Slip("inner_derivative_missing", "-(1 + exp(-v))^(-2)",
                         "You differentiated the outer power but not the inner function "
                         "1 + e^(−v): multiply by its derivative.", 0.5),
                    Slip("sigma_itself", "1/(1 + exp(-v))",
                         "That is σ(v) itself, not its derivative.", 0.0)),
             hints={"sign": "the derivative of e^(−v) is −e^(−v)"}),
    Question("backprop-dR-dw12", "dR_dw12_2", "expression", 2, "∂R/∂w₁₂⁽²⁾",
             OUTPUT_LAYER, OUTPUT_DEFINITIONS, expected=nw.dR_dw12_2(), domains=ACTIVATIONS,
             parts=(DR_DA, Part("the link ∂a₁⁽²⁾/∂w₁₂⁽²⁾", "a2_1",
                                {"a1_1": "a₁⁽¹⁾, the input of the other weight"})),
             hints=LOSS_HINTS),
    Question("backprop-dR-db1", "dR_db1_2", "expression", 2, "∂R/∂b₁⁽²⁾",
             OUTPUT_LAYER, OUTPUT_DEFINITIONS, expected=nw.dR_db1_2(), domains=ACTIVATIONS,
             slips=(Slip("the_loss_itself", "(y - a1_2)^2",
                         "That is R itself: differentiate it with respect to b₁⁽²⁾.", 0.0),),
             hints=LOSS_HINTS),
    Question("backprop-dR-dw11-layer1", "dR_dw11_1", "expression", 3, "∂R/∂w₁₁⁽¹⁾",
             HIDDEN_LAYER, HIDDEN_DEFINITIONS, expected=nw.dR_dw11_1(),
             parts=W11_PARTS, hints=LOSS_HINTS),
    Question("backprop-gradient", "grad_R", "array", 3, "∇R on both observations",
             labels=nw.PARAM_NAMES, expected=nw.total_gradient(), slips=gradient_slips(),
             groups=HIDDEN_GROUPS, hints=LOSS_HINTS),
    Question("backprop-finite-difference", "grad_fd", "array", 2,
             "Finite-difference check of ∇R", labels=nw.PARAM_NAMES, rel_tol=1e-4,
             abs_tol=1e-6, expected=nw.total_gradient()),
    Question("backprop-step", "theta_new", "array", 2,
             f"One steepest descent step (η = {ETA})", labels=nw.PARAM_NAMES,
             expected=nw.steepest_descent_step(nw.THETA0, nw.DATA, ETA),
             slips=(Slip("uphill", (nw.THETA0 + ETA * nw.total_gradient()).tolist(),
                         "You stepped uphill: steepest descent subtracts η∇R.", 0.5),),
             follows="backprop-gradient", from_earlier=step_from),
    Question("backprop-errata", "errata_correct", "array", 2, "The lecture's errata",
             labels=("first residual", "w11_2 nudge (obs. 1)", "b2_1 nudge (obs. 1)",
                     "a2_1 (obs. 2)"), rel_tol=1e-6, expected=errata_values()),
)
