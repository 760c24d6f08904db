"""The autograded questions of backprop (instructor side only; never released).

The rubric (points, form, partial credit) is public; ``expected`` is computed from ``solutions``.
Points follow effort: a single link or one factor is worth 1, a product of links 2, a partial
the lecture does not print 3.
"""


from autograder.diagnosis import Part, Slip
from autograder.rubric import Affine, ProbeFunction, Question
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
SECOND_HIDDEN = (*OUTPUT_LAYER, "z2_1", "w21_1", "w22_1", "b2_1", "x1", "x2")
SECOND_DEFINITIONS = {
    **OUTPUT_DEFINITIONS,
    "a2_1": "sigmoid(z2_1)",
    "z2_1": "w21_1*x1 + w22_1*x2 + b2_1",
}
ETA = 0.1  # the step of question 9
TRAIN_ETA = 0.01  # the training run of question 11
TRAIN_STEPS = 300

SIGMA_OUTER, SIGMA_INNER = sg.sigmoid_links()
LINK_DR_DA, LINK_DA_DA, LINK_DA_DZ, LINK_DZ_DW = nw.chain_links_w11_1()

# Losses of other shapes for the finite-difference function; the first is the visible one,
# (p1 - 1)^2 + 3 p2^2, whose gradient at (0, 1) is (-2, 6).
_bowl = ProbeFunction(("(p1 - 1)**2 + 3*p2**2",), ("p1", "p2"), "bowl")
_wavy = ProbeFunction(("p1**3*p2 + exp(p2)*p1",), ("p1", "p2"), "wavy")
_three = ProbeFunction(("sin(p1) + p2*p3**2 + p1*p3",), ("p1", "p2", "p3"), "three")
BOWL_GRADIENT = (-2.0, 6.0)


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


# Follow-through: the step θ₀ − η∇R computed from a student's own ∇R.
STEP_FROM = Affine(tuple(nw.THETA0.tolist()), -ETA)


# The second hidden node's chain, for the partials the lecture does not print.
W22_PARTS = (
    DR_DA,
    Part("the link ∂a₁⁽²⁾/∂a₂⁽¹⁾", "w12_2",
         {"w11_2": "w₁₁⁽²⁾, the weight of the other hidden node"}),
    Part("the link σ′(z₂⁽¹⁾)", "exp(-z2_1)*(1 + exp(-z2_1))^(-2)",
         {"a2_1": "σ(z₂⁽¹⁾) itself, the activation, not its derivative"}),
    Part("the link ∂z₂⁽¹⁾/∂w₂₂⁽¹⁾", "x2", {"x1": "x₁, the input of the other weight"}),
)


QUESTIONS = (
    Question("backprop-sigmoid-outer", "dsigma_du", "expression", 1, "dσ/du for σ = u⁻¹",
             ("u",), expected=SIGMA_OUTER,
             slips=(Slip("power_not_lowered", "-u^(-1)",
                         "The power rule lowers the exponent: d(uⁿ)/du = n uⁿ⁻¹.", 0.0),)),
    Question("backprop-sigmoid-inner", "du_dv", "expression", 1, "du/dv for u = 1 + e⁻ᵛ",
             ("v",), expected=SIGMA_INNER),
    Question("backprop-sigmoid-derivative", "sigma_prime", "expression", 2, "σ'(v)",
             ("v",), expected=sg.sigmoid_prime_lecture_form(),
             slips=(Slip("inner_derivative_missing", "-(1 + exp(-v))^(-2)",
                         "You differentiated the outer power but not the inner function "
                         "1 + e^(−v): multiply by its derivative.", 0.5),
                    Slip("sigma_itself", "1/(1 + exp(-v))",
                         "That is σ(v) itself, not its derivative.", 0.0)),
             hints={"sign": "the derivative of e^(−v) is −e^(−v)"}),
    Question("backprop-dR-dw12", "dR_dw12_2", "expression", 2, "∂R/∂w₁₂⁽²⁾ (one observation)",
             OUTPUT_LAYER, OUTPUT_DEFINITIONS, expected=nw.dR_dw12_2(), domains=ACTIVATIONS,
             parts=(DR_DA, Part("the link ∂a₁⁽²⁾/∂w₁₂⁽²⁾", "a2_1",
                                {"a1_1": "a₁⁽¹⁾, the input of the other weight"})),
             hints=LOSS_HINTS),
    Question("backprop-dR-db1", "dR_db1_2", "expression", 1, "∂R/∂b₁⁽²⁾ (one observation)",
             OUTPUT_LAYER, OUTPUT_DEFINITIONS, expected=nw.dR_db1_2(), domains=ACTIVATIONS,
             slips=(Slip("the_loss_itself", "(y - a1_2)^2",
                         "That is R itself: differentiate it with respect to b₁⁽²⁾.", 0.0),),
             hints=LOSS_HINTS),
    Question("backprop-link-dR-da", "dR_da1_2", "expression", 1, "Link 1: ∂R/∂a₁⁽²⁾",
             ("y", "a1_2"), expected=LINK_DR_DA,
             slips=(Slip("the_loss_itself", "(y - a1_2)^2",
                         "That is R itself: differentiate it with respect to a₁⁽²⁾.", 0.0),),
             hints=LOSS_HINTS),
    Question("backprop-link-da-da", "da1_2_da1_1", "expression", 1, "Link 2: ∂a₁⁽²⁾/∂a₁⁽¹⁾",
             OUTPUT_LAYER, expected=LINK_DA_DA),
    Question("backprop-link-da-dz", "da1_1_dz1_1", "expression", 1, "Link 3: ∂a₁⁽¹⁾/∂z₁⁽¹⁾",
             ("z1_1",), expected=LINK_DA_DZ,
             slips=(Slip("sigma_itself", "1/(1 + exp(-z1_1))",
                         "That is σ(z₁⁽¹⁾) itself, not its derivative.", 0.0),)),
    Question("backprop-link-dz-dw", "dz1_1_dw11_1", "expression", 1, "Link 4: ∂z₁⁽¹⁾/∂w₁₁⁽¹⁾",
             ("w11_1", "w12_1", "b1_1", "x1", "x2"), expected=LINK_DZ_DW),
    Question("backprop-dR-dw11-layer1", "dR_dw11_1", "expression", 2,
             "∂R/∂w₁₁⁽¹⁾, the product of the links (one observation)",
             HIDDEN_LAYER, HIDDEN_DEFINITIONS, expected=nw.dR_dw11_1(),
             parts=W11_PARTS, hints=LOSS_HINTS),
    Question("backprop-dR-dw22-layer1", "dR_dw22_1", "expression", 3,
             "∂R/∂w₂₂⁽¹⁾ (one observation; not in the lecture)",
             SECOND_HIDDEN, SECOND_DEFINITIONS, expected=nw.dR_dw22_1(),
             parts=W22_PARTS, hints=LOSS_HINTS),
    Question("backprop-dR-db2-layer1", "dR_db2_1", "expression", 2,
             "∂R/∂b₂⁽¹⁾ (one observation; not in the lecture)",
             SECOND_HIDDEN, SECOND_DEFINITIONS, expected=nw.dR_db2_1(),
             parts=W22_PARTS[:3], hints=LOSS_HINTS),
    Question("backprop-finite-difference", "finite_difference", "function", 2,
             "Central differences of any loss",
             probes=((_bowl, [0.0, 1.0]),  # visible: the gradient is (-2, 6)
                     (_wavy, [1.0, 0.5]), (_three, [0.3, -1.0, 2.0], 1e-5),
                     (_wavy, [-2.0, 0.25], 1e-4)),
             rel_tol=1e-6, abs_tol=1e-7, expected=nw.central_differences),
    Question("backprop-gradient", "grad_R", "array", 3,
             "∇R of the loss summed over both observations", labels=nw.PARAM_NAMES,
             expected=nw.total_gradient(), slips=gradient_slips(),
             groups=HIDDEN_GROUPS, hints=LOSS_HINTS),
    Question("backprop-step", "theta_new", "array", 2,
             f"One steepest descent step (η = {ETA})", labels=nw.PARAM_NAMES,
             expected=nw.steepest_descent_step(nw.THETA0, nw.DATA, ETA),
             slips=(Slip("uphill", (nw.THETA0 + ETA * nw.total_gradient()).tolist(),
                         "You stepped uphill: steepest descent subtracts η∇R.", 0.5),),
             follows="backprop-gradient", from_earlier=STEP_FROM),
    Question("backprop-errata", "misprints", "array", 3, "The lecture's misprints, found",
             labels=tuple(p.what for p in er.printed_table()) + ("the ranking",),
             expected=er.misprint_flags()),
    Question("backprop-training", "final_loss", "number", 2,
             f"The loss after {TRAIN_STEPS} steps (η = {TRAIN_ETA})",
             expected=float(nw.train(nw.THETA0, nw.DATA, TRAIN_ETA, TRAIN_STEPS)[1][-1])),
)

# Visible checks (autograder.properties), released in selfcheck.json beside the notebook.
SELF_CHECKS = {
    "backprop-finite-difference": [
        {"property": "probe_value", "probe": 0, "value": list(BOWL_GRADIENT),
         "what": "(p1 - 1)^2 + 3 p2^2 at (0, 1), whose gradient is (-2, 6)"},
    ],
    "backprop-gradient": [{"property": "matches_finite_differences", "uses": ["grad_fd"]}],
    "backprop-step": [{"property": "lowers_loss", "uses": ["loss", "theta0"]}],
    "backprop-training": [{"property": "loss_went_down", "uses": ["loss", "theta0"]}],
}
