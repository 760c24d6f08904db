"""Numbers a self-check can recognise but not read: salted, slow hashes of where a value lies.

"Within tolerance" is decided on a grid, the same way for the grade and the self-check, so the
two agree exactly: the log-scale line is cut into cells of relative width 1.5 × ``rel_tol``,
on three grids offset by a third of a cell; two values are close when they share a cell on
some grid. Values within ``rel_tol`` of each other always do, values more than 1.5 × ``rel_tol``
apart never do, and in between it is as the grid falls (deterministic).

A seal is an oracle: whoever holds it can try values offline, as fast as they can hash. So a
value is released sealed only where trying is hopeless (``autograder.course.audit`` works out
the search for every released seal and refuses the weak ones): a whole vector is sealed as
one (:func:`seal_vector`: one hash per grid over every entry's cell), so what a student must
try multiplies over its entries instead of adding up. A seal of one number, a flag or a small
set is never released; those get a self-check of form and properties instead.

What a hash cannot do is say whether a value is the reference rounded: a hash of the rounded
reference would let the digits be found one at a time. The self-check tells a rounded value by
its form and says that it cannot confirm it.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import Any

ITERATIONS = 2_000  # about 1 ms a hash on one core: a vector's self-check costs ~30 ms
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


def vector_salt(question_id: str, what: str, prefix: str = "") -> str:
    """One salt per sealed vector (the reference, each slip) of a question and variant."""
    return f"backprop-kit/{prefix}/{question_id}/vector/{what}"


def _joint(values: Sequence[float], rel_tol: float, abs_tol: float) -> list[str]:
    """Every entry's cell on each grid, joined: one text per grid."""
    per_entry = [cells(float(v), rel_tol, abs_tol) for v in values]
    if not per_entry or any(not c for c in per_entry):
        return []
    return ["|".join(c[k] for c in per_entry) for k in range(len(GRIDS))]


def seal_vector(values: Sequence[float], salt: str, rel_tol: float, abs_tol: float
                ) -> list[str]:
    """A whole vector as one seal: one hash per grid of all its entries' cells together. A
    student who can narrow each entry down to c cells must try the product of the c's."""
    return [_hash(text, salt) for text in _joint(values, rel_tol, abs_tol)]


def matches_vector(values: Sequence[float], hashes: Sequence[str] | frozenset[str], salt: str,
                   rel_tol: float, abs_tol: float) -> bool:
    """Is every entry within tolerance on one same grid? For an honest answer (a computed
    float) that is the grade's "every entry within tolerance"; an answer whose entries lie
    between one and one and a half tolerances off may be told apart by the two."""
    return any(_hash(text, salt) in hashes for text in _joint(values, rel_tol, abs_tol))


def seal_answer(question_id: str, values: Sequence[float], slips: Sequence[Any],
                rel_tol: float, abs_tol: float, prefix: str = "", scalar: bool = False
                ) -> dict[str, Any]:
    """The released form of a vector's reference and of its declared slips, each sealed
    whole. ``slips`` are ``diagnosis.Slip``s; one of another shape can never match and is left
    out. Whether to release it at all is the audit's decision (``autograder.course.audit``)."""
    data: dict[str, Any] = {
        "prefix": prefix, "rel_tol": rel_tol, "abs_tol": abs_tol, "iterations": ITERATIONS,
        "scalar": scalar, "size": len(values),
        "hashes": seal_vector(values, vector_salt(question_id, "reference", prefix), rel_tol,
                              abs_tol),
        "slips": []}
    for k, slip in enumerate(slips):
        answer = _flat(slip.answer)
        if len(answer) == len(values):
            data["slips"].append({
                "id": slip.id, "feedback": slip.feedback, "credit": float(slip.credit),
                "hashes": seal_vector(answer, vector_salt(question_id, f"slip/{k}", prefix),
                                      rel_tol, abs_tol)})
    return data


# --- what recovering a seal costs ---------------------------------------------------------

# PBKDF2-SHA256 iterations a second on one fast CPU core (measured here: about 2.8 million
# with hashlib; a C version is no faster). A GPU does 10^4-10^6 times that.
CORE_ITERATIONS_PER_SECOND = 3e6
SECONDS_A_YEAR = 365.25 * 24 * 3600


def cells_between(low: float, high: float, rel_tol: float, abs_tol: float) -> int:
    """How many cells of one grid the values in [low, high] fall in: what a student who knows
    no more than that the value lies there must try."""
    low, high = sorted((float(low), float(high)))
    step = WIDTH * math.log1p(rel_tol)

    def side(a: float, b: float) -> int:  # magnitudes in [a, b], beyond the zero cell
        if b <= abs_tol:
            return 0
        a = max(a, abs_tol)
        return math.floor(math.log(b) / step) - math.floor(math.log(a) / step) + 1

    count = side(max(low, 0.0), high) if high > 0 else 0
    count += side(max(-high, 0.0), -low) if low < 0 else 0
    return count + (1 if low <= abs_tol and high >= -abs_tol else 0)


def known_digits(value: float, digits: int = 2) -> tuple[float, float]:
    """The values a student who knows ``value``'s sign and first ``digits`` significant digits
    (and nothing else) cannot tell from it."""
    if value == 0 or not math.isfinite(value):
        return value, value
    unit = 10.0 ** (math.floor(math.log10(abs(value))) - digits + 1)
    rounded = round(abs(value) / unit) * unit
    low, high = rounded - unit / 2, rounded + unit / 2
    return (low, high) if value > 0 else (-high, -low)


def search_years(log10_tries: float, iterations: int = ITERATIONS) -> float:
    """log10 of the CPU-core years that ``10 ** log10_tries`` hashes cost."""
    return (log10_tries + math.log10(iterations / CORE_ITERATIONS_PER_SECOND)
            - math.log10(SECONDS_A_YEAR))


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
