"""The autograded questions of backprop (instructor side only; never released).

The rubric (points, form, partial credit) is public; ``expected`` is computed from ``solutions``.
"""

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


def errata_values() -> list[float]:
    return [e.correct for e in er.errata()[:4]]


QUESTIONS = (
    Question("backprop-sigmoid-derivative", "sigma_prime", "expression", 2, "σ'(v)",
             ("v",), expected=sg.sigmoid_prime_lecture_form()),
    Question("backprop-dR-dw12", "dR_dw12_2", "expression", 2, "∂R/∂w₁₂⁽²⁾",
             OUTPUT_LAYER, OUTPUT_DEFINITIONS, expected=nw.dR_dw12_2()),
    Question("backprop-dR-db1", "dR_db1_2", "expression", 2, "∂R/∂b₁⁽²⁾",
             OUTPUT_LAYER, OUTPUT_DEFINITIONS, expected=nw.dR_db1_2()),
    Question("backprop-dR-dw11-layer1", "dR_dw11_1", "expression", 3, "∂R/∂w₁₁⁽¹⁾",
             HIDDEN_LAYER, HIDDEN_DEFINITIONS, expected=nw.dR_dw11_1()),
    Question("backprop-gradient", "grad_R", "array", 3, "∇R on both observations",
             labels=nw.PARAM_NAMES, expected=nw.total_gradient()),
    Question("backprop-finite-difference", "grad_fd", "array", 2,
             "Finite-difference check of ∇R", labels=nw.PARAM_NAMES, rel_tol=1e-4,
             abs_tol=1e-6, expected=nw.total_gradient()),
    Question("backprop-step", "theta_new", "array", 2,
             f"One steepest descent step (η = {ETA})", labels=nw.PARAM_NAMES,
             expected=nw.steepest_descent_step(nw.THETA0, nw.DATA, ETA)),
    Question("backprop-errata", "errata_correct", "array", 2, "The lecture's errata",
             labels=("first residual", "w11_2 nudge (obs. 1)", "b2_1 nudge (obs. 1)",
                     "a2_1 (obs. 2)"), rel_tol=1e-6, expected=errata_values()),
)
