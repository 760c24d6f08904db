"""The lecture's misprinted numbers, each beside the value the network actually gives.

Only the printed values are typed in (they are quotations of the lecture); every correct value
is computed from :mod:`solutions.network`, so the kit teaches the right numbers.
"""

from __future__ import annotations

from dataclasses import dataclass

from solutions import network as nw


@dataclass(frozen=True)
class Erratum:
    """One misprint: what it is, the number as printed, and the number as computed."""

    what: str
    printed: float
    correct: float


def errata() -> tuple[Erratum, ...]:
    """The lecture's numeric misprints, in the order the errata exercise asks about them."""
    theta, (obs1, obs2) = nw.THETA0, nw.DATA
    nudge1, nudge2 = nw.nudges(theta, obs1), nw.nudges(theta, obs2)
    return (
        Erratum("first residual e1 = y − a1_2 (observation 1)", 0.311, nw.residual(theta, obs1)),
        Erratum("nudge for w11_2 at observation 1 (= a1_1), in the −∇R contribution vector",
                0.455, nudge1["w11_2"]),
        Erratum("nudge for b2_1 at observation 1", 0.045, nudge1["b2_1"]),
        Erratum("a2_1 at observation 2", 0.689, nw.forward(theta, *obs2[:2]).a2_1),
        Erratum("nudge for w11_2 at observation 2 (= a1_1 there; observation 1's misprint reused)",
                0.455, nudge2["w11_2"]),
        Erratum("nudge for w12_2 at observation 2 (= a2_1 there; observation 1's value reused)",
                0.622, nudge2["w12_2"]),
    )
