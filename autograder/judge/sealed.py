"""The self-check of a vector against its released seal (``sealing.seal_answer``).

The seal stands for the whole vector, so the self-check can say what the grade says whenever
the grade's verdict is about the whole vector: right, one of the declared slips, the sign or a
factor of 2 or ½ of every entry. Which entries are off it cannot say — naming them would give
the values away one entry at a time — so for any other answer it says that plainly and leaves
the points to the grade (``undecided``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from autograder.errors import ParseError
from autograder.judge import checks, sealing
from autograder.judge.diagnosis import credit_for
from autograder.results import CheckResult

UNDECIDED = ("Not the right values, nor a slip this check knows. The grade gives each entry "
             "its share; this check does not say which entries are off (for numbers that "
             "would give the answer away).")
UNDECIDED_NUMBER = ("Not the right value, nor a slip this check knows. The grade decides its "
                    "points.")


def undecided(feedback: str, **details: Any) -> CheckResult:
    """A verdict that the answer is not wholly right, whose points the grade decides."""
    return CheckResult.wrong(feedback, unconfirmed=True, grade_decides=True, **details)


def _values(answer: Any, scalar: bool) -> list[float]:
    return [checks.as_number(answer)] if scalar else checks.as_array(answer)


def judge(answer: Any, data: Mapping[str, Any], question_id: str,
          credit: Mapping[str, float] | None = None, hints: Mapping[str, str] | None = None,
          ratios: Sequence[float] = ()) -> CheckResult | None:
    """The grade's verdict where the seal can reach it; None where it cannot (the caller goes
    on to properties, then :data:`UNDECIDED`). Raises ParseError for an unreadable answer."""
    sealing.check_release(data)
    rel_tol, abs_tol, prefix = data["rel_tol"], data["abs_tol"], data.get("prefix", "")
    scalar = bool(data.get("scalar"))
    values = _values(answer, scalar)
    if len(values) != int(data["size"]):
        raise ParseError(f"expected {data['size']} numbers, got {len(values)}")

    def sealed_as(vals: Sequence[float], hashes: Sequence[str], what: str) -> bool:
        return sealing.matches_vector(vals, frozenset(hashes),
                                      sealing.vector_salt(question_id, what, prefix),
                                      rel_tol, abs_tol)

    if sealed_as(values, data["hashes"], "reference"):
        return CheckResult.right()
    for k, slip in enumerate(data.get("slips", ())):
        if sealed_as(values, slip["hashes"], f"slip/{k}"):
            return CheckResult.wrong(slip["feedback"], score=float(slip["credit"]),
                                     mistake=slip["id"])
    for ratio in (*checks.NUMBER_RATIOS, *ratios):
        if sealed_as([v / ratio for v in values], data["hashes"], "reference"):
            mistake = "sign" if ratio == -1.0 else "constant_factor"
            return CheckResult.wrong(checks._ratio_feedback(ratio, hints),  # noqa: SLF001
                                     score=credit_for(mistake, credit), mistake=mistake)
    if any(checks._looks_rounded(v) for v in values):  # noqa: SLF001 -- one rule for both
        return CheckResult.wrong(checks.ROUNDED_UNCONFIRMED, score=credit_for("rounded", credit),
                                 mistake="rounded", unconfirmed=True)
    return None


def fallback(scalar: bool) -> CheckResult:
    """What the self-check says of a sealed answer it could not place."""
    return undecided(UNDECIDED_NUMBER if scalar else UNDECIDED)
