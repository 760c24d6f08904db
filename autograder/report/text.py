"""Small pieces every report shares (the results files, the feedback pages, the gradebooks'
import formats, the class report): points as people write them, a student's label, a
spreadsheet-safe cell. Apart from :mod:`reports` so that the formats beside it can use them
without importing it."""

from __future__ import annotations

from pathlib import PurePath

from autograder.results import GradingRun, SubmissionResult


def _labelled(run: GradingRun) -> list[tuple[str, SubmissionResult]]:
    """Each submission with a unique label: the student, or ``student/notebook`` when a
    student has several results (the shape of ``Submission.key``), numbered if still equal."""
    counts: dict[str, int] = {}
    for sub in run.submissions:
        counts[sub.student] = counts.get(sub.student, 0) + 1
    labels: list[str] = []
    seen: set[str] = set()
    for sub in run.submissions:
        label = sub.student
        if counts[sub.student] > 1:
            label = f"{sub.student}/{PurePath(sub.source).name}"
        base, n = label, 2
        while label in seen:
            label, n = f"{base} #{n}", n + 1
        seen.add(label)
        labels.append(label)
    return list(zip(labels, run.submissions, strict=True))


def _num(value: float) -> str:
    """Points as people write them: ``2`` not ``2.0``, ``1.5`` stays ``1.5``."""
    value = round(float(value), 6)
    return str(int(value)) if value.is_integer() else repr(value)


def _percent(sub: SubmissionResult) -> str:
    """The total as a percentage of the maximum, as a gradebook shows it (``92%``)."""
    if not sub.max_points:
        return ""
    value = round(100 * sub.points / sub.max_points, 1)
    return f"{_num(value)}%"


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: object) -> object:
    """Text that a spreadsheet would run as a formula gets a leading ``'``; numbers stay
    numbers (written as ``2``, ``1.5``) so the gradebook can sum them."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return _num(value)
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value
