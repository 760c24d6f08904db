"""Answers that are a list of 0/1 flags (which printed numbers are misprints), scored so that
guessing earns nothing: misprints found minus false alarms, as a share of all the misprints,
never below the floor.

With one point a flag, a list of all 0s or all 1s earns most of the points wherever most
entries are 0 or most are 1. Charging each false alarm as much as a misprint found earns is a
rule a lecturer signs: where fewer than half the entries are misprints, all 0s and all 1s earn
nothing, a random half almost nothing, and no guess made without knowing more than 1/n of the
points in expectation for n entries (set one flag at random: right with the chance
misprints/n, for one share; ``tests/test_release_audit.py`` works it out exactly). The floor
keeps a question from costing points of others, and is why that 1/n is not 0.
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from typing import Any

from autograder.errors import ParseError
from autograder.results import CheckResult


def read_flags(answer: Any, size: int) -> tuple[list[int], int]:
    """The flags as 0s and 1s (True/False, 0/1, 0.0/1.0), and how many were missing at the
    end (read as 0: not flagged). ParseError naming the entry at fault."""
    if hasattr(answer, "tolist"):
        answer = answer.tolist()
    if isinstance(answer, (str, bytes)) or not isinstance(answer, (list, tuple)):
        raise ParseError(f"expected a list of {size} flags (0 or 1), got "
                         f"{type(answer).__name__}")
    if len(answer) > size:
        raise ParseError(f"expected {size} flags, got {len(answer)}")
    flags = []
    for i, item in enumerate(answer):
        if isinstance(item, bool):
            flags.append(int(item))
        elif isinstance(item, numbers.Real) and float(item) in (0.0, 1.0):
            flags.append(int(item))
        else:
            shown = repr(item) if isinstance(item, numbers.Number) else type(item).__name__
            raise ParseError(f"entry {i}: expected 0 or 1 (or True/False), got {shown[:40]}")
    return flags + [0] * (size - len(flags)), size - len(flags)


def rule_text(false_alarm: float, floor: float) -> str:
    """The rule, as the notebook and the self-check state it."""
    cost = "as much as a misprint found earns" if false_alarm == 1 else (
        f"{false_alarm:g} times what a misprint found earns")
    bottom = "never below 0" if floor == 0 else f"never below {floor:g} of the points"
    return (f"each misprint found earns its share of the points, each false alarm costs "
            f"{cost}, {bottom}")


def check_flags(answer: Any, expected: Sequence[Any], false_alarm: float = 1.0,
                floor: float = 0.0, labels: Sequence[str] | None = None) -> CheckResult:
    """Score = max(floor, (found − false_alarm × false alarms) / misprints)."""
    truth = [int(round(float(v))) for v in expected]
    try:
        flags, missing = read_flags(answer, len(truth))
    except ParseError as error:
        return CheckResult.unreadable(str(error))
    found = [i for i, (a, e) in enumerate(zip(flags, truth, strict=True)) if a and e]
    alarms = [i for i, (a, e) in enumerate(zip(flags, truth, strict=True)) if a and not e]
    missed = [i for i, (a, e) in enumerate(zip(flags, truth, strict=True)) if e and not a]
    total = sum(truth)
    if not alarms and not missed:
        return CheckResult.right()
    raw = (len(found) - false_alarm * len(alarms)) / total if total else 0.0
    score = round(min(1.0, max(floor, raw)), 6)

    def named(indices: list[int]) -> str:
        return "; ".join(labels[i] if labels and i < len(labels) else f"entry {i}"
                         for i in indices)

    sentences = [f"You found {len(found)} of the {total} misprints, with {len(alarms)} false "
                 f"alarm{'' if len(alarms) == 1 else 's'} ({rule_text(false_alarm, floor)})."]
    if missed:
        sentences.append(f"Missed: {named(missed)}.")
    if alarms:
        sentences.append(f"Not misprints: {named(alarms)}.")
    if missing:
        sentences.append(f"The last {missing} flag{'' if missing == 1 else 's'} were missing "
                         "and read as 0.")
    return CheckResult.wrong(" ".join(sentences), score=score,
                             mistake="false_alarms" if alarms and not missed else None,
                             found=len(found), false_alarms=len(alarms))


def form_only(answer: Any, size: int, false_alarm: float = 1.0, floor: float = 0.0
              ) -> CheckResult:
    """The self-check of flags: the form, and the rule; never which flags are right (for 0/1
    answers that would be the answer)."""
    try:
        flags, missing = read_flags(answer, size)
    except ParseError as error:
        return CheckResult.unreadable(str(error))
    note = (f" The last {missing} flag{'' if missing == 1 else 's'} are missing and will be "
            "read as 0." if missing else "")
    return CheckResult(
        correct=False, score=0.0,
        feedback=(f"{size} flags, {sum(flags)} set: the form is right.{note} The grade "
                  f"decides: {rule_text(false_alarm, floor)}. This check does not say which "
                  "flags are right: for 0/1 answers that would be the answer."),
        details={"form_only": True, "grade_decides": True})
