"""The lecture's 2-2-1 network: forward pass, the "nudge" table, backpropagation, and the
chain-rule partial derivatives derived symbolically in the lecture's compact notation.

Layout: inputs x1, x2; hidden nodes a_j^{(1)} = σ(z_j^{(1)}) with
z_j^{(1)} = w_j1^{(1)} x1 + w_j2^{(1)} x2 + b_j^{(1)}; identity output
a_1^{(2)} = w_11^{(2)} a_1^{(1)} + w_12^{(2)} a_2^{(1)} + b_1^{(2)}; loss R = (y − a_1^{(2)})².
Names use ``_1``/``_2`` for the layer superscript: ``w12_2`` is w_12^{(2)}.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

import numpy as np
import sympy
from numpy.typing import ArrayLike

from solutions import sigmoid as sg
from solutions.symbols import make_symbol

PARAM_NAMES = (
    "w11_1", "w12_1", "b1_1",  # hidden node 1: weights on x1, x2 and its bias
    "w21_1", "w22_1", "b2_1",  # hidden node 2
    "w11_2", "w12_2", "b1_2",  # output node: weights on a1_1, a2_1 and its bias
)

# The lecture prints hidden node 1's and the output node's parameters. Its diagram with hidden
# node 2's weights is missing from the text: w21_1 = 0.3, w22_1 = 0.5, b2_1 = 0.6 is a
# reconstruction, chosen because it reproduces every number the lecture prints for that node
# (a2_1 = 0.622 and 0.690, nudges 0.141 and −0.094).
THETA0 = np.array([0.2, 0.4, 0.1, 0.3, 0.5, 0.6, 0.6, 0.2, 0.4])

# The two observations, one per row: (x1, x2, y).
DATA = np.array([[3.0, -2.0, 1.2], [-1.0, 1.0, 0.7]])


@dataclass(frozen=True)
class Forward:
    """Every intermediate value of one forward pass (what the lecture prints)."""

    z1_1: float
    a1_1: float
    z2_1: float
    a2_1: float
    a1_2: float


def _params(theta: ArrayLike) -> dict[str, float]:
    values = np.asarray(theta, dtype=float).ravel()
    if values.shape != (len(PARAM_NAMES),):
        raise ValueError(f"theta needs {len(PARAM_NAMES)} values, got {values.shape}")
    return dict(zip(PARAM_NAMES, (float(t) for t in values), strict=True))


def forward(theta: ArrayLike, x1: float, x2: float) -> Forward:
    """Feed (x1, x2) through the network with parameters theta (in PARAM_NAMES order)."""
    p = _params(theta)
    z1 = p["w11_1"] * x1 + p["w12_1"] * x2 + p["b1_1"]
    z2 = p["w21_1"] * x1 + p["w22_1"] * x2 + p["b2_1"]
    a1, a2 = float(sg.sigmoid(z1)), float(sg.sigmoid(z2))
    out = p["w11_2"] * a1 + p["w12_2"] * a2 + p["b1_2"]
    return Forward(float(z1), a1, float(z2), a2, float(out))


def residual(theta: ArrayLike, obs: ArrayLike) -> float:
    """e = y − a_1^{(2)} for one observation (x1, x2, y)."""
    x1, x2, y = (float(c) for c in np.asarray(obs, dtype=float).ravel())
    return y - forward(theta, x1, x2).a1_2


def loss(theta: ArrayLike, data: ArrayLike = DATA) -> float:
    """R(θ) = Σ_i (y_i − a_1^{(2)})², summed over the observations."""
    return float(sum(residual(theta, obs) ** 2 for obs in np.asarray(data, dtype=float)))


def _backprop(theta: ArrayLike, x1: float, x2: float, output_delta: float,
              activation_slope: Callable[[float], float] = sg.sigmoid_prime,
              fw: Forward | None = None) -> np.ndarray:
    """∂(·)/∂θ for every parameter, given ∂(·)/∂a_1^{(2)} = output_delta, by one backward pass.

    With output_delta = 1 this is ∂a_1^{(2)}/∂θ (the lecture's nudges); with
    output_delta = ∂R/∂a_1^{(2)} = −2(y − a_1^{(2)}) it is ∇R. ``activation_slope`` is σ′;
    passing σ computes the classic slip (σ used for σ′) for the rubric. ``fw``: the forward
    pass at (x1, x2), when the caller has it already.
    """
    p = _params(theta)
    fw = fw or forward(theta, x1, x2)
    # Output layer: a1_2 = w11_2 a1_1 + w12_2 a2_1 + b1_2.
    out_grads = output_delta * np.array([fw.a1_1, fw.a2_1, 1.0])
    # One step back: through a_j = σ(z_j) into z_j = w_j1 x1 + w_j2 x2 + b_j.
    delta1 = output_delta * p["w11_2"] * float(activation_slope(fw.z1_1))
    delta2 = output_delta * p["w12_2"] * float(activation_slope(fw.z2_1))
    inputs = np.array([x1, x2, 1.0])
    return np.concatenate([delta1 * inputs, delta2 * inputs, out_grads])


def nudges(theta: ArrayLike, obs: ArrayLike) -> dict[str, float]:
    """The lecture's nudge table for one observation: ∂a_1^{(2)}/∂θ per parameter.

    "Nudging θ_k by η increases a_1^{(2)} by (this)·η" — before any residual factor.
    """
    x1, x2, _ = (float(c) for c in np.asarray(obs, dtype=float).ravel())
    values = _backprop(theta, x1, x2, 1.0)
    return dict(zip(PARAM_NAMES, (float(g) for g in values), strict=True))


def gradient(theta: ArrayLike, obs: ArrayLike,
             activation_slope: Callable[[float], float] = sg.sigmoid_prime) -> np.ndarray:
    """∇R for one observation by backpropagation, in PARAM_NAMES order."""
    x1, x2, y = (float(c) for c in np.asarray(obs, dtype=float).ravel())
    fw = forward(theta, x1, x2)
    return _backprop(theta, x1, x2, -2.0 * (y - fw.a1_2), activation_slope, fw)


def total_gradient(theta: ArrayLike = THETA0, data: ArrayLike = DATA,
                   activation_slope: Callable[[float], float] = sg.sigmoid_prime) -> np.ndarray:
    """∇R(θ) of the summed loss: the sum of the per-observation gradients."""
    return np.sum([gradient(theta, obs, activation_slope)
                   for obs in np.asarray(data, dtype=float)], axis=0)


def steepest_descent_step(theta: ArrayLike, data: ArrayLike, eta: float) -> np.ndarray:
    """One step downhill: θ − η ∇R(θ)."""
    return np.asarray(theta, dtype=float) - eta * total_gradient(theta, data)


# The differences students write instead (the rubric's code slips): ``formula`` "central"
# (the task's), "over_h" (central, divided by h), "forward", "backward", "forward_over_2h",
# "all_at_once" (every parameter nudged together: one directional derivative, repeated);
# ``restore`` False leaves each nudge in place (in-place nudges not undone), so later entries
# are taken at a shifted point.
FORMULAS = ("central", "over_h", "forward", "backward", "forward_over_2h", "all_at_once")


def central_differences(
    func: Callable[[np.ndarray], float], theta: ArrayLike, h: float = 1e-6, *,
    formula: str = "central", restore: bool = True,
) -> np.ndarray:
    """(func(θ + h e_k) − func(θ − h e_k)) / 2h for each k: the gradient of any scalar function,
    with an error of order h², for checking a gradient computed another way."""
    if formula not in FORMULAS:
        raise ValueError(f"unknown difference {formula!r}")
    point = np.asarray(theta, dtype=float).ravel().copy()
    if formula == "all_at_once":
        slope = (float(func(point + h)) - float(func(point - h))) / (2 * h)
        return np.full(point.size, slope)
    at = float(func(point.copy())) if formula not in ("central", "over_h") else 0.0
    grad = np.empty_like(point)
    for k in range(point.size):
        up, down = point.copy(), point.copy()
        up[k] += h
        down[k] -= h
        if formula in ("central", "over_h"):
            difference = float(func(up)) - float(func(down))
        elif formula == "backward":
            difference = at - float(func(down))
        else:
            difference = float(func(up)) - at
        grad[k] = difference / (h if formula in ("over_h", "forward", "backward") else 2 * h)
        if not restore:
            point[k] = (up if formula in ("forward", "forward_over_2h") else down)[k]
    return grad


def finite_difference_gradient(
    theta: ArrayLike = THETA0, data: ArrayLike = DATA, h: float = 1e-6
) -> np.ndarray:
    """Central differences of the loss: an independent check on backpropagation."""
    return central_differences(lambda t: loss(t, data), theta, h)


def train(theta: ArrayLike = THETA0, data: ArrayLike = DATA, eta: float = 0.1,
          steps: int = 300,
          direction: Callable[[np.ndarray, np.ndarray], np.ndarray] | None = None
          ) -> tuple[np.ndarray, np.ndarray]:
    """``steps`` steps of steepest descent on the summed loss: the final parameters and the
    loss curve, losses[k] = R(θ_k) (losses[0] at the start, losses[steps] at the end).
    ``direction(θ, data)`` replaces ∇R in the step (what a run with a slipped gradient
    does: the mean, one observation, σ for σ′, or −∇R uphill)."""
    gradient_of = direction or total_gradient
    current = np.asarray(theta, dtype=float)
    data = np.asarray(data, dtype=float)
    losses = [loss(current, data)]
    for _ in range(steps):
        current = current - eta * gradient_of(current, data)
        losses.append(loss(current, data))
    return current, np.array(losses)


# ---------------------------------------------------------------------------------------------
# Symbolic: the network in the lecture's compact symbols, and its definitions.

SYMBOLS: dict[str, sympy.Symbol] = {
    name: make_symbol(name)
    for name in ("y", "x1", "x2", "a1_1", "a2_1", "a1_2", "z1_1", "z2_1", *PARAM_NAMES)
}
_s = SYMBOLS


def _sigma(z: sympy.Expr) -> sympy.Expr:
    return sg.SIGMOID_EXPR.subs(sg.v, z)


DEFINITIONS: dict[sympy.Symbol, sympy.Expr] = {
    _s["a1_2"]: _s["w11_2"] * _s["a1_1"] + _s["w12_2"] * _s["a2_1"] + _s["b1_2"],
    _s["a1_1"]: _sigma(_s["z1_1"]),
    _s["a2_1"]: _sigma(_s["z2_1"]),
    _s["z1_1"]: _s["w11_1"] * _s["x1"] + _s["w12_1"] * _s["x2"] + _s["b1_1"],
    _s["z2_1"]: _s["w21_1"] * _s["x1"] + _s["w22_1"] * _s["x2"] + _s["b2_1"],
}

# The loss of one observation in compact symbols.
_R = (_s["y"] - _s["a1_2"]) ** 2


def expand_definitions(expr: sympy.Expr) -> sympy.Expr:
    """Substitute the intermediates' definitions until only inputs, y and parameters remain."""
    for _ in range(len(DEFINITIONS) + 1):
        if not expr.free_symbols & DEFINITIONS.keys():
            return expr
        expr = expr.subs(DEFINITIONS)
    raise RecursionError("the definitions are circular")  # pragma: no cover


@cache
def symbolic_loss() -> sympy.Expr:
    """R = (y − a_1^{(2)})² written out in x1, x2, y and the nine parameters."""
    return expand_definitions(_R)


@cache
def symbolic_gradient() -> dict[str, sympy.Expr]:
    """∂R/∂θ_k by differentiating the written-out loss: the reference for backprop."""
    loss_expr = symbolic_loss()
    return {name: sympy.diff(loss_expr, _s[name]) for name in PARAM_NAMES}


def _chain(expr: sympy.Expr, wrt: sympy.Symbol) -> sympy.Expr:
    """d(expr)/d(wrt) by the chain rule through the intermediates, keeping them compact.

    Each intermediate s in expr contributes ∂expr/∂s · ds/d(wrt), where ds/d(wrt) is found the
    same way from s's definition: exactly the lecture's chain of links. Through a_j = σ(z_j)
    the link is sympy's dσ/dz = e^{−z}(1 + e^{−z})^{−2}, the lecture's σ'(z_j).
    """
    total = sympy.Integer(0)
    for s in sorted(expr.free_symbols, key=str):
        if s == wrt:
            link = sympy.Integer(1)
        elif s in DEFINITIONS:
            link = _chain(DEFINITIONS[s], wrt)
        else:
            continue
        if link != 0:
            total += sympy.diff(expr, s) * link
    return total


def compact_partial(name: str) -> sympy.Expr:
    """∂R/∂θ for the parameter ``name``, derived by the chain rule in compact symbols."""
    return _chain(_R, _s[name])


def dR_dw12_2() -> sympy.Expr:
    """∂R/∂w_12^{(2)} = −2(y − a_1^{(2)}) a_2^{(1)} (homework), derived."""
    return compact_partial("w12_2")


def dR_db1_2() -> sympy.Expr:
    """∂R/∂b_1^{(2)} = −2(y − a_1^{(2)}) (homework), derived."""
    return compact_partial("b1_2")


def dR_dw11_2() -> sympy.Expr:
    """∂R/∂w_11^{(2)} = −2(y − a_1^{(2)}) a_1^{(1)}, as the lecture derives it."""
    return compact_partial("w11_2")


def dR_dw22_1() -> sympy.Expr:
    """∂R/∂w_22^{(1)} = −2(y − a_1^{(2)}) w_12^{(2)} σ'(z_2^{(1)}) x2 (not in the lecture)."""
    return compact_partial("w22_1")


def dR_db2_1() -> sympy.Expr:
    """∂R/∂b_2^{(1)} = −2(y − a_1^{(2)}) w_12^{(2)} σ'(z_2^{(1)}): not printed in the lecture."""
    return compact_partial("b2_1")


def chain_links(j: int, k: int) -> tuple[sympy.Expr, ...]:
    """The four links of ∂R/∂w_jk^{(1)}, each a derivative of one definition, in compact
    symbols: ∂R/∂a_1^{(2)}, ∂a_1^{(2)}/∂a_j^{(1)}, ∂a_j^{(1)}/∂z_j^{(1)}, ∂z_j^{(1)}/∂w_jk^{(1)}."""
    a, z = _s[f"a{j}_1"], _s[f"z{j}_1"]
    return (sympy.diff(_R, _s["a1_2"]),
            sympy.diff(DEFINITIONS[_s["a1_2"]], a),
            sympy.diff(DEFINITIONS[a], z),
            sympy.diff(DEFINITIONS[z], _s[f"w{j}{k}_1"]))


def chain_links_w11_1() -> tuple[sympy.Expr, ...]:
    """The four links of ∂R/∂w_11^{(1)} (the lecture's chain)."""
    return chain_links(1, 1)


def dR_dw11_1() -> sympy.Expr:
    """∂R/∂w_11^{(1)} = −2(y − a_1^{(2)}) w_11^{(2)} e^{−z}(1 + e^{−z})^{−2} x1, z = z_1^{(1)}."""
    return compact_partial("w11_1")
