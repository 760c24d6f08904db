"""The autograded questions of backprop (instructor side only; never released).

The rubric (points, form, partial credit) is public; ``expected`` is computed from ``solutions``.
Points follow the work: what the lecture prints, one index from it or a one-liner is worth at
most 1 (a link of the lecture's own chain ½); the partials the lecture does not derive (hidden
node 2's) weigh most, 3 and 2; code 2–3. ``questions(variant)`` builds them for a student's
variant (their θ₀, observations and the weight of hidden node 2 they differentiate,
autograder.rubric.variants); ``QUESTIONS`` are the lecture's. Every variant asks the same kind
of thing: question 4's chain is w₁₂⁽¹⁾ (one index from the lecture's w₁₁⁽¹⁾) for everyone,
question 5 a weight of hidden node 2, which the lecture never derives.
"""

from collections.abc import Mapping
from typing import Any

import numpy as np

from autograder.judge.diagnosis import Part, Slip
from autograder.rubric.code import CodeSlip
from autograder.rubric.question import Affine, Flags, ProbeFunction, Question, Through
from autograder.rubric.variants import Variant, variant_for
from solutions import errata as er
from solutions import network as nw
from solutions import sigmoid as sg

LECTURE = variant_for("backprop", None, None).numbers
ETA = LECTURE["eta"]  # the step of question 9
TRAIN_ETA = LECTURE["train_eta"]  # the training run of question 11
TRAIN_STEPS = LECTURE["train_steps"]

SIGMA_OUTER, SIGMA_INNER = sg.sigmoid_links()

# Losses of other shapes for the finite-difference function; the first two are the visible
# ones: (p1 - 1)^2 + 3 p2^2, whose gradient at (0, 1) is (-2, 6), and, with h = 1e-3 (where
# one-sided differences and nudges left in place show), (p1 - 1)^2 + 3 p2^2 + p1 p2, whose
# gradient at (2, 1) is (3, 8).
_bowl = ProbeFunction(("(p1 - 1)**2 + 3*p2**2",), ("p1", "p2"), "bowl", "L(p) = (p1 − 1)² + 3p2²")
_tilted = ProbeFunction(("(p1 - 1)**2 + 3*p2**2 + p1*p2",), ("p1", "p2"), "tilted",
                        "L(p) = (p1 − 1)² + 3p2² + p1p2")
_wavy = ProbeFunction(("p1**3*p2 + exp(p2)*p1",), ("p1", "p2"), "wavy",
                      "L(p) = p1³p2 + p1 exp(p2)")
_three = ProbeFunction(("sin(p1) + p2*p3**2 + p1*p3",), ("p1", "p2", "p3"), "three",
                       "L(p) = sin(p1) + p2p3² + p1p3")
BOWL_GRADIENT = (-2.0, 6.0)
TILTED_GRADIENT = (3.0, 8.0)

# Finite differences marked as a lecturer marks them: the difference formula, and the nudges
# (each parameter changed, then put back). The slips run solutions' central_differences with
# the options of the code students write instead; each keeps the credit given.
FD_COMPONENTS = ("formula", "nudges")
FD_SLIPS = (
    CodeSlip("divided_by_h", "formula", {"formula": "over_h"},
             "You divide the central difference by h; it spans 2h, so divide by 2h (your "
             "gradient is twice the right one).", 0.4),
    CodeSlip("forward_difference", "formula", {"formula": "forward"},
             "You use forward differences (L(θ + h e_k) − L(θ))/h; the task asks for central "
             "differences, which nudge both ways and are more accurate.", 0.4),
    CodeSlip("backward_difference", "formula", {"formula": "backward"},
             "You use backward differences (L(θ) − L(θ − h e_k))/h; the task asks for central "
             "differences, which nudge both ways and are more accurate.", 0.4),
    CodeSlip("one_sided_over_2h", "formula", {"formula": "forward_over_2h"},
             "You nudge one way only but divide by 2h: central differences take "
             "L(θ + h e_k) − L(θ − h e_k).", 0.2),
    CodeSlip("all_at_once", "formula", {"formula": "all_at_once"},
             "You nudge every parameter at once: that is one directional derivative, repeated. "
             "Nudge one parameter at a time (θ ± h e_k) for each entry.", 0.1),
    CodeSlip("nudge_not_undone", "nudges", {"restore": False},
             "Your nudges are not undone: after entry k, θ keeps its change, so the later "
             "entries are taken at a shifted point. Nudge a copy of θ (or put the entry back).",
             0.5),
)


def network_loss(data: Any) -> ProbeFunction:
    """The notebook's own loss R(θ), summed over its observations, as a probe (a hidden test):
    code that differentiates the notebook's loss whatever it is given, or nine parameters
    only, is right on this test alone."""
    terms = []
    for x1, x2, y in np.asarray(data, dtype=float).tolist():
        hidden = [f"sigmoid(({x1!r})*p{i} + ({x2!r})*p{i + 1} + p{i + 2})" for i in (1, 4)]
        terms.append(f"(({y!r}) - (p7*{hidden[0]} + p8*{hidden[1]} + p9))**2")
    return ProbeFunction((" + ".join(terms),), tuple(f"p{i}" for i in range(1, 10)), "R",
                         "R(θ), the notebook's loss")

_SUB = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")
_SUP = str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")


def pretty(symbol: str) -> str:
    """A network symbol as the lecture prints it: w12_2 is w₁₂⁽²⁾, x1 is x₁."""
    if "_" in symbol:
        head, layer = symbol.split("_")
        return f"{head[0]}{head[1:].translate(_SUB)}⁽{layer.translate(_SUP)}⁾"
    return f"{symbol[0]}{symbol[1:].translate(_SUB)}"


# How the answers are judged: the chain's links by name (so feedback can say which one is
# missing or mixed up, never its value), the slips students make, hints for the sign and
# factor messages.
OUTPUT_LAYER = ("y", "a1_2", "a1_1", "a2_1", "w11_2", "w12_2", "b1_2")
OUTPUT_DEFINITIONS = {"a1_2": "w11_2*a1_1 + w12_2*a2_1 + b1_2"}
DR_DA = Part("∂R/∂a₁⁽²⁾ = the derivative of the square", "-2*(y - a1_2)")
ACTIVATIONS = {"a1_1": "(0, 1)", "a2_1": "(0, 1)"}  # sigmoid outputs
LOSS_HINTS = {"sign": "the inner derivative −1 of (y − a₁⁽²⁾)",
              "constant_factor": "the 2 brought down from the square"}
HIDDEN_GROUPS = {"hidden node 1's links": (0, 1, 2), "hidden node 2's links": (3, 4, 5),
                 "the output node's links": (6, 7, 8)}


def hidden_node(j: int) -> tuple[tuple[str, ...], dict[str, str]]:
    """The symbols an answer about hidden node j may use, and their definitions."""
    variables = (*OUTPUT_LAYER, f"z{j}_1", f"w{j}1_1", f"w{j}2_1", f"b{j}_1", "x1", "x2")
    return variables, {**OUTPUT_DEFINITIONS, f"a{j}_1": f"sigmoid(z{j}_1)",
                       f"z{j}_1": f"w{j}1_1*x1 + w{j}2_1*x2 + b{j}_1"}


def chain_parts(j: int, k: int | None) -> tuple[Part, ...]:
    """The links of ∂R/∂w_jk^(1) (k None: of ∂R/∂b_j^(1), whose last link is 1), by name."""
    other, z, a = 3 - j, f"z{j}_1", f"a{j}_1"
    parts = (
        DR_DA,
        Part(f"the link ∂a₁⁽²⁾/∂{pretty(a)}", f"w1{j}_2",
             {f"w1{other}_2": f"{pretty(f'w1{other}_2')}, the weight of the other hidden node"}),
        Part(f"the link σ′({pretty(z)})", f"exp(-{z})*(1 + exp(-{z}))^(-2)",
             {a: f"σ({pretty(z)}) itself, the activation, not its derivative"}),
    )
    if k is None:
        return parts
    w, x, wrong = f"w{j}{k}_1", f"x{k}", f"x{3 - k}"
    return (*parts, Part(f"the link ∂{pretty(z)}/∂{pretty(w)}", x,
                         {wrong: f"{pretty(wrong)}, the input of the other weight"}))


# Question 4's chain: w₁₂⁽¹⁾ for everyone (the lecture derives w₁₁⁽¹⁾); question 5 and 6:
# hidden node 2, which the lecture does not derive.
CHAIN_NODE, CHAIN_INPUT = 1, 2
HIDDEN_LAYER, HIDDEN_DEFINITIONS = hidden_node(CHAIN_NODE)
SECOND_HIDDEN, SECOND_DEFINITIONS = hidden_node(2)
CHAIN_PARTS, W22_PARTS = chain_parts(CHAIN_NODE, CHAIN_INPUT), chain_parts(2, 2)
LINK_DR_DA, LINK_DA_DA, LINK_DA_DZ, LINK_DZ_DW = nw.chain_links(CHAIN_NODE, CHAIN_INPUT)
SIGMA_PRIME = ("sigma'",)  # question 1c asks for σ′: σ′ itself is no answer there


def gradient_slips(theta: Any = nw.THETA0, data: Any = nw.DATA) -> tuple[Slip, ...]:
    """The wrong ∇R students hand in, computed by solutions, not typed."""
    per_obs = [nw.gradient(theta, obs) for obs in data]
    total = nw.total_gradient(theta, data)
    return (
        # with two observations the mean and the ½ convention give the same vector
        Slip("mean_not_sum", (total / len(data)).tolist(),
             "That is half of ∇R: the mean over the observations, or the gradient of "
             "½(y − a₁⁽²⁾)² — this R sums the observations' (y − a₁⁽²⁾)², with no ½.", 0.5),
        Slip("one_observation", per_obs[0].tolist(),
             "That is the gradient of observation 1 only; R sums both observations.", 0.5),
        Slip("one_observation", per_obs[1].tolist(),
             "That is the gradient of observation 2 only; R sums both observations.", 0.5),
        Slip("sigma_for_sigma_prime",
             nw.total_gradient(theta, data, activation_slope=sg.sigmoid).tolist(),
             "The hidden nodes' links use σ(z) where σ′(z) belongs.", 0.5),
    )


def slipped_directions(data: Any) -> dict[str, Any]:
    """What each slip of ∇R (gradient_slips, by id and order) computes in place of ∇R at any
    θ: a training run built on it (solutions.network.train's ``direction``)."""
    return {
        "mean_not_sum": lambda th, d: nw.total_gradient(th, d) / len(d),
        "one_observation": (lambda th, d: nw.gradient(th, d[0]),
                            lambda th, d: nw.gradient(th, d[1])),
        "sigma_for_sigma_prime": lambda th, d: nw.total_gradient(th, d,
                                                                 activation_slope=sg.sigmoid),
    }


def training_through(theta: Any, data: Any, eta: float, steps: int) -> Through:
    """Follow-through from ∇R to the training run: a student whose ∇R shows a slip and who
    trains with it gets the final loss that slip makes (computed, not typed)."""
    directions = slipped_directions(data)
    cases = []
    for slip in gradient_slips(theta, data):
        found = directions[slip.id]
        if isinstance(found, tuple):  # one direction per observation, in the slips' order
            k = sum(1 for c in cases if c[0] == slip.id)
            found = found[k]
        final = float(nw.train(theta, data, eta, steps, found)[1][-1])
        cases.append((slip.id, slip.answer, final))
    return Through("backprop-gradient", tuple(cases))


def off_by_one_step(losses: Any, steps: int) -> tuple[Slip, ...]:
    """The final loss one step short or one step long (``losses``: a run of steps + 1 steps):
    a loop off by one (grade only — a number a student could bracket is never sealed into
    the release)."""
    return (
        Slip("one_step_short", float(losses[steps - 1]),
             f"That is the loss after {steps - 1} steps, one step short of {steps}: check "
             "where your loop starts and ends.", 0.75, released=False),
        Slip("one_step_long", float(losses[steps + 1]),
             f"That is the loss after {steps + 1} steps, one step more than {steps}: check "
             "where your loop starts and ends.", 0.75, released=False),
    )


def bias_input_slips(j: int) -> tuple[Slip, ...]:
    """∂R/∂b_j^(1) with an input multiplied in, as for a weight: the bias's link is 1."""
    chain = f"-2*(y - a1_2)*w1{j}_2*exp(-z{j}_1)*(1 + exp(-z{j}_1))^(-2)"
    return tuple(Slip("bias_input", f"{chain}*x{k}",
                      f"∂{pretty(f'z{j}_1')}/∂{pretty(f'b{j}_1')} is 1: a bias multiplies no "
                      "input.", 0.5) for k in (1, 2))


def step_slips(theta: Any, total: Any, eta: float, train_eta: float) -> tuple[Slip, ...]:
    """Wrong vectors a step is handed in as: only the change −η∇R, the training run's step
    size, η applied twice (grade only: they are vectors of the answer's own kind, never
    sealed)."""
    slips = [Slip("only_the_step", (-eta * total).tolist(),
                  "That is the change −η∇R only: the new parameters are θ₀ plus it.", 0.3,
                  released=False)]
    if train_eta != eta:
        slips.append(Slip("wrong_step_size", (theta - train_eta * total).tolist(),
                          "That step uses the training run's step size, not this question's "
                          "η.", 0.3, released=False))
    # with the lecture's numbers η² is the training run's η: both readings are given
    slips.append(Slip("eta_twice", (theta - eta * eta * total).tolist(),
                      "That step applies η twice (θ₀ − η·η∇R).", 0.3, released=False))
    return tuple(slips)


def step_from(theta: Any, eta: float) -> Affine:
    """Follow-through as data: the step θ₀ − η∇R computed from a student's own ∇R."""
    return Affine(tuple(float(v) for v in np.asarray(theta, dtype=float).ravel()), -eta)


def questions(variant: Variant) -> tuple[Question, ...]:
    """The questions for one variant's numbers (the lecture's: ``QUESTIONS``)."""
    n: Mapping[str, Any] = variant.numbers
    theta, data = np.array(n["theta0"], dtype=float), np.array(n["data"], dtype=float)
    eta, train_eta, train_steps = n["eta"], n["train_eta"], n["train_steps"]
    j, k = CHAIN_NODE, CHAIN_INPUT
    j2, k2, _ = n["other_weight"]
    w, w2, b2 = f"w{j}{k}_1", f"w{j2}{k2}_1", f"b{j2}_1"
    link_dR, link_da, link_dz, link_dw = nw.chain_links(j, k)
    hidden, hidden_defs = hidden_node(j)
    second, second_defs = hidden_node(j2)
    total = nw.total_gradient(theta, data)
    losses = nw.train(theta, data, train_eta, train_steps + 1)[1]  # one run: the reference, ±1 step
    return (
        Question("backprop-sigmoid-outer", "dsigma_du", "expression", 1, "dσ/du for σ = u⁻¹",
                 ("u",), expected=SIGMA_OUTER,
                 slips=(Slip("power_not_lowered", "-u^(-1)",
                             "The power rule lowers the exponent: d(uⁿ)/du = n uⁿ⁻¹.", 0.0),)),
        Question("backprop-sigmoid-inner", "du_dv", "expression", 1, "du/dv for u = 1 + e⁻ᵛ",
                 ("v",), expected=SIGMA_INNER),
        Question("backprop-sigmoid-derivative", "sigma_prime", "expression", 1, "σ'(v)",
                 ("v",), expected=sg.sigmoid_prime_lecture_form(),
                 slips=(Slip("inner_derivative_missing", "-(1 + exp(-v))^(-2)",
                             "You differentiated the outer power but not the inner function "
                             "1 + e^(−v): multiply by its derivative.", 0.5),
                        Slip("sigma_itself", "1/(1 + exp(-v))",
                             "That is σ(v) itself, not its derivative.", 0.0)),
                 hints={"sign": "the derivative of e^(−v) is −e^(−v)"},
                 refused_functions=SIGMA_PRIME),
        Question("backprop-dR-dw12", "dR_dw12_2", "expression", 1,
                 "∂R/∂w₁₂⁽²⁾ (one observation)",
                 OUTPUT_LAYER, OUTPUT_DEFINITIONS, expected=nw.compact_partial("w12_2"),
                 domains=ACTIVATIONS,
                 parts=(DR_DA, Part("the link ∂a₁⁽²⁾/∂w₁₂⁽²⁾", "a2_1",
                                    {"a1_1": "a₁⁽¹⁾, the input of the other weight"})),
                 hints=LOSS_HINTS),
        Question("backprop-dR-db1", "dR_db1_2", "expression", 1, "∂R/∂b₁⁽²⁾ (one observation)",
                 OUTPUT_LAYER, OUTPUT_DEFINITIONS, expected=nw.dR_db1_2(), domains=ACTIVATIONS,
                 slips=(Slip("the_loss_itself", "(y - a1_2)^2",
                             "That is R itself: differentiate it with respect to b₁⁽²⁾.", 0.0),),
                 hints=LOSS_HINTS),
        Question("backprop-link-dR-da", "dR_da1_2", "expression", 0.5, "Link 1: ∂R/∂a₁⁽²⁾",
                 ("y", "a1_2"), expected=link_dR,
                 slips=(Slip("the_loss_itself", "(y - a1_2)^2",
                             "That is R itself: differentiate it with respect to a₁⁽²⁾.", 0.0),),
                 hints=LOSS_HINTS),
        Question("backprop-link-da-da", f"da1_2_da{j}_1", "expression", 0.5,
                 f"Link 2: ∂a₁⁽²⁾/∂{pretty(f'a{j}_1')}", OUTPUT_LAYER, expected=link_da),
        Question("backprop-link-da-dz", f"da{j}_1_dz{j}_1", "expression", 0.5,
                 f"Link 3: ∂{pretty(f'a{j}_1')}/∂{pretty(f'z{j}_1')}", (f"z{j}_1",),
                 expected=link_dz,
                 slips=(Slip("sigma_itself", f"1/(1 + exp(-z{j}_1))",
                             f"That is σ({pretty(f'z{j}_1')}) itself, not its derivative.",
                             0.0),)),
        Question("backprop-link-dz-dw", f"dz{j}_1_dw{j}{k}_1", "expression", 0.5,
                 f"Link 4: ∂{pretty(f'z{j}_1')}/∂{pretty(w)}",
                 (f"w{j}1_1", f"w{j}2_1", f"b{j}_1", "x1", "x2"), expected=link_dw),
        Question("backprop-dR-dw12-layer1", f"dR_dw{j}{k}_1", "expression", 1,
                 f"∂R/∂{pretty(w)}, the product of the links (one observation)",
                 hidden, hidden_defs, expected=nw.compact_partial(w),
                 parts=chain_parts(j, k), hints=LOSS_HINTS),
        Question("backprop-dR-dw2k-layer1", "dR_dw2k_1", "expression", 3,
                 f"∂R/∂{pretty(w2)} (one observation; not in the lecture)",
                 second, second_defs, expected=nw.compact_partial(w2),
                 parts=chain_parts(j2, k2), hints=LOSS_HINTS),
        Question("backprop-dR-db2-layer1", f"dR_db{j2}_1", "expression", 2,
                 f"∂R/∂{pretty(b2)} (one observation; not in the lecture)",
                 second, second_defs, expected=nw.compact_partial(b2),
                 parts=chain_parts(j2, None), hints=LOSS_HINTS,
                 slips=bias_input_slips(j2)),
        Question("backprop-finite-difference", "finite_difference", "function", 2,
                 "Central differences of any loss",
                 probes=((_bowl, [0.0, 1.0]),  # visible: the gradient is (-2, 6)
                         (_tilted, [2.0, 1.0], 1e-3),  # visible: the gradient is (3, 8)
                         (_wavy, [1.0, 0.5]), (_three, [0.3, -1.0, 2.0], 1e-5),
                         (_wavy, [-2.0, 0.25], 1e-4),
                         (network_loss(data), [float(v) + 0.05 for v in theta])),
                 visible=2, rel_tol=1e-6, abs_tol=1e-7, expected=nw.central_differences,
                 components=FD_COMPONENTS, slips=FD_SLIPS),
        Question("backprop-gradient", "grad_R", "array", 3,
                 "∇R of the loss summed over both observations", labels=nw.PARAM_NAMES,
                 expected=total, slips=gradient_slips(theta, data),
                 groups=HIDDEN_GROUPS, hints=LOSS_HINTS,
                 precision=("decimals", 6)),  # the text asks for 6 decimals
        Question("backprop-step", "theta_new", "array", 1,
                 f"One steepest descent step (η = {eta})", labels=nw.PARAM_NAMES,
                 expected=nw.steepest_descent_step(theta, data, eta),
                 slips=(Slip("uphill", (theta + eta * total).tolist(),
                             "You stepped uphill: steepest descent subtracts η∇R.", 0.5),
                        *step_slips(theta, total, eta, train_eta)),
                 follows="backprop-gradient",
                 from_earlier=step_from(theta, eta)),
        # flags: misprints found minus false alarms, floor 0, so that guessing earns nothing
        Question("backprop-errata", "misprints", "array", 3, "The lecture's misprints, found",
                 labels=tuple(p.what for p in er.printed_table()) + ("the ranking",),
                 expected=er.misprint_flags(), scoring=Flags(false_alarm=1.0, floor=0.0)),
        Question("backprop-training", "final_loss", "number", 2,
                 f"The loss after {train_steps} steps (η = {train_eta})",
                 expected=float(losses[train_steps]),
                 slips=off_by_one_step(losses, train_steps),
                 through=(training_through(theta, data, train_eta, train_steps),),
                 precision=("significant", 4)),  # the text asks for 4 significant digits
    )


def self_checks(variant: Variant) -> dict[str, list[dict[str, Any]]]:
    """Visible checks (autograder.judge.properties), released in selfcheck.json beside the
    notebook: none depends on the variant's answers."""
    return {
        "backprop-finite-difference": [
            {"property": "probe_value", "probe": 0, "value": list(BOWL_GRADIENT),
             "what": "(p1 - 1)^2 + 3 p2^2 at (0, 1), whose gradient is (-2, 6)"},
        ],
        "backprop-gradient": [{"property": "matches_finite_differences", "uses": ["grad_fd"]}],
        "backprop-step": [{"property": "lowers_loss", "uses": ["loss", "theta0"]}],
        "backprop-training": [
            {"property": "last_of", "uses": ["losses"], "length": int(variant.numbers[
                "train_steps"]) + 1, "what": "losses",
             "length_note": "the loss at θ₀ and after each step"},
            {"property": "loss_went_down", "uses": ["loss", "theta0"]}],
    }


QUESTIONS = questions(variant_for("backprop", None, None))
SELF_CHECKS = self_checks(variant_for("backprop", None, None))
