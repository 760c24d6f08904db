"""Class statistics of a graded run: the score distribution and classical item statistics.

Points are read from :mod:`autograder.results`, never recomputed. Item statistics use the
submissions that ran to the end (status ``graded``); the others are listed apart, since their
zeros say nothing about a question.

- **Facility**: the class's mean score on the question as a fraction of its points (Moodle's
  facility index): 1 means everyone got it all.
- **Discrimination**: the corrected item–rest correlation, Pearson's r between the score on the
  question and the total on the *other* questions of the assignment (the question itself left
  out, so that it does not correlate with itself). Near 0 or below: it does not separate the
  students who did well on the rest from those who did not.
"""

from __future__ import annotations

import math
import os
import statistics
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from autograder.results import GradingRun, SubmissionResult

EASY = 0.9  # facility at or above: too easy to tell students apart
HARD = 0.3  # facility at or below: too hard
WEAK = 0.2  # discrimination below: weak
MIN_STUDENTS = 5  # fewer graded submissions: no statistics worth a note


@dataclass(frozen=True)
class Distribution:
    """Totals of the graded submissions of one assignment, or of one question."""

    values: tuple[float, ...]
    max_points: float

    @property
    def count(self) -> int:
        return len(self.values)

    @property
    def mean(self) -> float | None:
        return statistics.fmean(self.values) if self.values else None

    @property
    def median(self) -> float | None:
        return statistics.median(self.values) if self.values else None

    @property
    def full_marks_share(self) -> float | None:
        if not self.values:
            return None
        return sum(v >= self.max_points - 1e-9 for v in self.values) / len(self.values)


@dataclass(frozen=True)
class ItemStatistics:
    id: str
    title: str
    max_points: float
    distribution: Distribution
    facility: float | None
    discrimination: float | None
    note: str
    mistakes: tuple[tuple[str, int], ...]  # (mistake, students), most frequent first


def graded(run: GradingRun) -> list[SubmissionResult]:
    return list(run.graded)


def not_graded(run: GradingRun) -> list[SubmissionResult]:
    return [s for s in run.submissions if s.status != "graded"]


def total_distribution(run: GradingRun) -> Distribution:
    subs = graded(run)
    top = max((s.max_points for s in run.submissions), default=0.0)
    return Distribution(tuple(s.points for s in subs), top)


def correlation(xs: Sequence[float], ys: Sequence[float]) -> float | None:
    """Pearson's r, or None when either side does not vary (or fewer than 3 pairs)."""
    if len(xs) < 3 or len(xs) != len(ys):
        return None
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    sxy = math.fsum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True))
    sxx = math.fsum((x - mx) ** 2 for x in xs)
    syy = math.fsum((y - my) ** 2 for y in ys)
    if sxx <= 1e-12 or syy <= 1e-12:
        return None
    return max(-1.0, min(1.0, sxy / math.sqrt(sxx * syy)))


def note(facility: float | None, discrimination: float | None, count: int) -> str:
    """A plain-words note on a question that looks too easy, too hard or uninformative."""
    if facility is None:
        return "No graded submission answered it."
    if count < MIN_STUDENTS:
        return ""  # said once for the assignment (too_few), not on every question
    parts = []
    if facility >= EASY:
        parts.append(f"Too easy? {facility:.0%} of the points were earned; it tells little "
                     "about who understood.")
    elif facility <= HARD:
        parts.append(f"Too hard? Only {facility:.0%} of the points were earned; check the "
                     "wording, the rubric and what was taught.")
    if discrimination is None:
        parts.append("Uninformative: everyone scored the same on it (or on the rest), so it "
                     "does not tell students apart.")
    elif discrimination < 0:
        parts.append("Negative discrimination: students who did well on the rest did worse "
                     "here. Check the reference answer and the rubric.")
    elif discrimination < WEAK:
        parts.append("Weak discrimination: it barely separates students who did well on the "
                     "rest from those who did not.")
    return " ".join(parts)


def neutral_title(titles: Iterable[str]) -> str:
    """One heading for a question its variants ask differently: what their titles share,
    with "…" where they differ ("∂R/∂w₂₁⁽¹⁾ …" and "∂R/∂w₂₂⁽¹⁾ …" give "∂R/∂w₂…⁽¹⁾ …")."""
    texts = sorted(set(titles))
    prefix = os.path.commonprefix(texts)
    rests = [t[len(prefix):] for t in texts]
    suffix = os.path.commonprefix([r[::-1] for r in rests])[::-1]
    if not (prefix + suffix).strip():
        return "asked per variant"
    return f"{prefix}…{suffix}"


def too_few(run: GradingRun) -> str:
    """The one note for an assignment with too few graded submissions for item statistics."""
    count = len(run.graded)
    if not count or count >= MIN_STUDENTS:
        return ""
    return (f"Only {count} graded submission{'s' if count != 1 else ''}: too few for item "
            f"statistics (facility and discrimination say little under {MIN_STUDENTS}).")


def item_statistics(run: GradingRun) -> list[ItemStatistics]:
    """Per question, in the order of the rubric: distribution, facility, discrimination,
    a note, and the diagnosed mistakes with how many students made each."""
    subs = graded(run)
    order: dict[str, tuple[str, float]] = {}
    titles: dict[str, set[str]] = {}
    for sub in run.submissions:
        for q in sub.questions:
            order.setdefault(q.id, (q.title, q.max_points))
            titles.setdefault(q.id, set()).add(q.title)
    totals = [s.points for s in subs]
    items = []
    for qid, (title, max_points) in order.items():
        if len(titles[qid]) > 1:  # variants asked it differently: a heading for all of them
            title = neutral_title(titles[qid])
        points = [next((q.points for q in s.questions if q.id == qid), 0.0) for s in subs]
        facility = (statistics.fmean(points) / max_points) if points and max_points else None
        rest = [t - p for t, p in zip(totals, points, strict=True)]
        discrimination = correlation(points, rest)
        mistakes = Counter(q.mistake for s in run.submissions for q in s.questions
                           if q.id == qid and q.mistake)
        items.append(ItemStatistics(
            qid, title, max_points, Distribution(tuple(points), max_points), facility,
            discrimination, note(facility, discrimination, len(points)),
            tuple(sorted(mistakes.items(), key=lambda kv: (-kv[1], kv[0]))),
        ))
    return items
