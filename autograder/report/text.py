"""Text for people, shared by every report: points as people write them, a total as a
percentage, each submission's unique label, and values made inert for spreadsheets, Markdown
and terminals (nothing a student wrote becomes a formula, a link or an escape sequence)."""

from __future__ import annotations

import re
from pathlib import PurePath

from autograder.results import GradingRun, SubmissionResult

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


MD_SPECIAL = re.compile(r"([\\`*_\[\]<>|&#])")
NEWLINES = re.compile(r"\r\n|\r|\n")



def num(value: float) -> str:
    """Points as people write them: ``2`` not ``2.0``, ``1.5`` stays ``1.5``."""
    value = round(float(value), 6)
    return str(int(value)) if value.is_integer() else repr(value)


def percent(sub: SubmissionResult) -> str:
    """The total as a percentage of the maximum, as a gradebook shows it (``92%``)."""
    if not sub.max_points:
        return ""
    value = round(100 * sub.points / sub.max_points, 1)
    return f"{num(value)}%"


def labelled(run: GradingRun) -> list[tuple[str, SubmissionResult]]:
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


# --- numbers and words shared by the reports ---------------------------------------------


def cell(value: object) -> object:
    """Text that a spreadsheet would run as a formula gets a leading ``'``; numbers stay
    numbers (written as ``2``, ``1.5``) so the gradebook can sum them."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return num(value)
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def md(text: str, *, cell: bool = False) -> str:
    """Markdown-inert text: no links, HTML or table breaks from what a student wrote."""
    escaped = MD_SPECIAL.sub(r"\\\1", text)
    return NEWLINES.sub("<br>" if cell else " ", escaped)


def plain(text: str, width: int) -> str:
    """One terminal-safe line: no escape sequences or line breaks, cut to ``width``."""
    flat = "".join(ch if ch.isprintable() else "?" for ch in NEWLINES.sub(" ", text))
    return flat if len(flat) <= width else flat[:width - 1] + "…"
