"""Numbers a self-check can recognise but not read: salted, slow hashes of where a value lies.

"Within tolerance" is decided on a grid, the same way for the grade and the self-check, so the
two agree exactly: the log-scale line is cut into cells of relative width 1.5 × ``rel_tol``,
on three grids offset by a third of a cell; two values are close when they share a cell on
some grid. Values within ``rel_tol`` of each other always do, values more than 1.5 × ``rel_tol``
apart never do, and in between it is as the grid falls (deterministic). The grade compares the
cells of the student's value with the reference's; the self-check gets each reference value
(and each value a declared slip makes) as the hashes of its cells and looks the student's up.
Hashes are PBKDF2 with a per-entry salt, so reading a value back means trying hundreds of
thousands of cells per decade at a millisecond each — no quicker than asking the
self-check itself, which answers anyone who tries values.

What a hash cannot do is say whether a value is the reference rounded: a hash of the rounded
reference would let the digits be found one at a time. The self-check tells a rounded value by
its form and says that it cannot confirm it (see ``checks.SealedTarget``).
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import Any

from autograder.judge.closeness import shown_digits

ITERATIONS = 2_000  # about 1 ms a hash: a whole notebook's self-checks cost ~0.1 s
DIGEST_BYTES = 8  # 64 bits: a chance collision is out of reach, and the release stays small
GRIDS = (0.0, 1 / 3, 2 / 3)  # offsets, in cells
WIDTH = len(GRIDS) / (len(GRIDS) - 1)  # a cell, in tolerances: values within 1 always meet


def salt_for(question_id: str, entry: int, prefix: str = "") -> str:
    """One salt per question entry (and per variant when ``prefix`` names one)."""
    return f"backprop-kit/{prefix}/{question_id}/{entry}"


def cells(value: float, rel_tol: float, abs_tol: float) -> tuple[str, ...]:
    """The cell ``value`` lies in on each grid, as text; values within ``abs_tol`` of zero
    share one cell."""
    if not math.isfinite(value):
        return ()
    if abs(value) <= abs_tol:
        return tuple(f"{k}:0" for k in range(len(GRIDS)))
    sign = "+" if value > 0 else "-"
    position = math.log(abs(value)) / (WIDTH * math.log1p(rel_tol))
    return tuple(f"{k}:{sign}{math.floor(position + grid)}" for k, grid in enumerate(GRIDS))


def close(a: float, b: float, rel_tol: float, abs_tol: float) -> bool:
    """The grade's "within tolerance": ``a`` and ``b`` share a cell on some grid."""
    return any(x == y for x, y in zip(cells(a, rel_tol, abs_tol), cells(b, rel_tol, abs_tol),
                                      strict=False))


@lru_cache(maxsize=4096)
def _hash(cell: str, salt: str) -> str:
    return hashlib.pbkdf2_hmac("sha256", cell.encode(), salt.encode(), ITERATIONS,
                               dklen=DIGEST_BYTES).hex()


def seal(value: float, salt: str, rel_tol: float, abs_tol: float) -> list[str]:
    """The hashes a reference value is released as."""
    return [_hash(cell, salt) for cell in cells(float(value), rel_tol, abs_tol)]


def matches(value: float, hashes: Sequence[str] | frozenset[str], salt: str, rel_tol: float,
            abs_tol: float) -> bool:
    """The self-check's "within tolerance": ``close`` against a sealed value."""
    return any(_hash(cell, salt) in hashes for cell in cells(float(value), rel_tol, abs_tol))


def seal_entries(question_id: str, values: Sequence[float], slips: Sequence[Any],
                 rel_tol: float, abs_tol: float, prefix: str = "",
                 scalar: bool = False) -> dict[str, Any]:
    """The released form of a number's or vector's reference and of its declared slips.

    ``slips`` are ``diagnosis.Slip``s whose answers have as many entries as ``values`` (a slip
    of another shape can never match and is left out)."""
    def sealed(vals: Sequence[float]) -> list[list[str]]:
        return [seal(v, salt_for(question_id, i, prefix), rel_tol, abs_tol)
                for i, v in enumerate(vals)]

    data: dict[str, Any] = {"prefix": prefix, "rel_tol": rel_tol, "abs_tol": abs_tol,
                            "iterations": ITERATIONS, "scalar": scalar,
                            "entries": sealed(values), "roundable": [roundable(v) for v in values],
                            "slips": []}
    for slip in slips:
        answer = _flat(slip.answer)
        if len(answer) == len(values):
            data["slips"].append({"id": slip.id, "feedback": slip.feedback,
                                  "credit": float(slip.credit), "entries": sealed(answer)})
    return data


def roundable(value: float) -> bool:
    """Has the value more than 3 significant digits, so that a student could hand it in
    rounded? (Released per entry: the self-check then never calls 0.5 or 1 "rounded".)"""
    return shown_digits(value) > 3


def _flat(value: Any) -> list[float]:
    if hasattr(value, "tolist"):
        value = value.tolist()
    if isinstance(value, (list, tuple)):
        return [x for item in value for x in _flat(item)]
    return [float(value)]


def check_release(data: Mapping[str, Any]) -> None:
    """Refuse sealed data made with other hashing settings (a stale release)."""
    if data.get("iterations") != ITERATIONS:
        raise ValueError("the released self-check data was sealed with other settings; "
                         "download the assignment again")
