"""The lecture's printed numbers, each beside the value the network actually gives, and which
of them are misprints.

Only the printed values are typed in (they are quotations of the lecture); every true value is
computed from :mod:`solutions.network`, so the kit teaches the right numbers.

The rule, with no judgement call: the lecture prints to a few decimals, sometimes rounding
(0.449 for 0.44888, 0.150 for 0.14963) and sometimes truncating (0.809 for 0.80950, 0.689 for
0.68997). A printed number is right if it is the true value rounded or truncated to the printed
decimals; otherwise it is a misprint.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from solutions import network as nw


@dataclass(frozen=True)
class Erratum:
    """One misprint: what it is, the number as printed, and the number as computed."""

    what: str
    printed: float
    correct: float


@dataclass(frozen=True)
class Printed:
    """One entry of the lecture's printed numbers: what it is, as printed, and its true value."""

    what: str
    text: str  # as the lecture prints it
    true: float

    @property
    def misprint(self) -> bool:
        return not is_faithful(self.text, self.true)


def decimals(text: str) -> int:
    return len(text.split(".")[1]) if "." in text else 0


def is_faithful(text: str, true: float) -> bool:
    """``text`` is ``true`` rounded or truncated (towards zero) to the decimals it shows."""
    scale = 10 ** decimals(text)
    printed = round(float(text) * scale)
    return printed in (round(true * scale), math.trunc(true * scale + math.copysign(1e-9, true)))


def printed_table() -> tuple[Printed, ...]:
    """Every number the lecture's "nudge" sections print for the two observations, in order."""
    theta, (obs1, obs2) = nw.THETA0, nw.DATA
    fw1, fw2 = nw.forward(theta, *obs1[:2]), nw.forward(theta, *obs2[:2])
    nudge1, nudge2 = nw.nudges(theta, obs1), nw.nudges(theta, obs2)
    texts1 = ("0.449", "-0.299", "0.150", "0.141", "-0.094", "0.045", "0.455", "0.622", "1")
    return (
        Printed("a1_1, observation 1", "0.475", fw1.a1_1),
        Printed("a2_1, observation 1", "0.622", fw1.a2_1),
        Printed("output a1_2, observation 1", "0.809", fw1.a1_2),
        *(Printed(f"nudge for {name}, observation 1", text, nudge1[name])
          for name, text in zip(nw.PARAM_NAMES, texts1, strict=True)),
        Printed("residual e1, observation 1", "0.311", nw.residual(theta, obs1)),
        Printed("a1_1, observation 2", "0.574", fw2.a1_1),
        Printed("a2_1, observation 2", "0.689", fw2.a2_1),
        Printed("output a1_2, observation 2", "0.88", fw2.a1_2),
        Printed("residual e2, observation 2", "-0.18", nw.residual(theta, obs2)),
        Printed("nudge for w11_2, observation 2", "0.455", nudge2["w11_2"]),
        Printed("nudge for w12_2, observation 2", "0.622", nudge2["w12_2"]),
    )


def ranking_is_wrong() -> bool:
    """The lecture ranks the output node's parameters b1_2 > w11_2 > w12_2 by their nudges at
    observation 1; the true nudges (1, a1_1, a2_1) must order that way for it to hold."""
    n = nw.nudges(nw.THETA0, nw.DATA[0])
    return not n["b1_2"] > n["w11_2"] > n["w12_2"]


def misprint_flags() -> list[int]:
    """1 for each misprinted entry of printed_table(), then 1 if the ranking is wrong."""
    return [int(p.misprint) for p in printed_table()] + [int(ranking_is_wrong())]


def errata() -> tuple[Erratum, ...]:
    """The lecture's numeric misprints, in the order of printed_table()."""
    return tuple(Erratum(p.what, float(p.text), p.true) for p in printed_table() if p.misprint)
