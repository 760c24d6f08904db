"""Result values: what a check concludes, and (later) totals for a submission and a class.

All score arithmetic lives here, so that the notebooks, the CLI and the reports agree.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

MISTAKES = ("sign", "constant_factor", "missing_factor", "extra_factor", "wrong_variable")


@dataclass(frozen=True)
class CheckResult:
    """The verdict on one answer.

    ``score`` is a fraction in [0, 1]; ``feedback`` never contains the expected answer.
    """

    correct: bool
    score: float
    feedback: str
    mistake: str | None = None
    invalid: bool = False
    details: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not 0.0 <= self.score <= 1.0:
            raise ValueError(f"score must lie in [0, 1], got {self.score}")
        if self.mistake is not None and self.mistake not in MISTAKES:
            raise ValueError(f"unknown mistake {self.mistake!r}")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def right(cls, feedback: str = "Correct.") -> CheckResult:
        return cls(correct=True, score=1.0, feedback=feedback)

    @classmethod
    def wrong(
        cls, feedback: str, *, score: float = 0.0, mistake: str | None = None, **details: Any
    ) -> CheckResult:
        return cls(correct=False, score=score, feedback=feedback, mistake=mistake, details=details)

    @classmethod
    def unreadable(cls, feedback: str, **details: Any) -> CheckResult:
        return cls(correct=False, score=0.0, feedback=feedback, invalid=True, details=details)


# --- a graded submission and a graded class -------------------------------------------------

SCHEMA_VERSION = 1
STATUSES = ("graded", "timeout", "memory", "crashed", "invalid", "error")


@dataclass(frozen=True)
class QuestionResult:
    """One question of one submission, in points."""

    id: str
    title: str
    max_points: float
    points: float
    correct: bool
    feedback: str
    mistake: str | None = None
    invalid: bool = False
    error: str | None = None  # why it could not be graded (not answered, cell raised, ...)
    review: bool = False  # a person must look at it (e.g. it could not be judged in time)

    @classmethod
    def from_check(cls, id: str, title: str, max_points: float, check: CheckResult
                   ) -> QuestionResult:
        return cls(id, title, max_points, round(check.score * max_points, 6), check.correct,
                   check.feedback, check.mistake, check.invalid)

    @classmethod
    def ungraded(cls, id: str, title: str, max_points: float, error: str) -> QuestionResult:
        return cls(id, title, max_points, 0.0, False, error, error=error)

    @property
    def full_marks(self) -> bool:
        """Every point, and nothing that stopped it being graded."""
        return self.error is None and self.points >= self.max_points

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class SubmissionResult:
    """Everything about one student's submission; totals are derived, never stored apart."""

    student: str
    assignment: str
    source: str
    questions: tuple[QuestionResult, ...]
    status: str = "graded"
    errors: tuple[str, ...] = ()
    sandbox: str = "none"
    seconds: float = 0.0

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"unknown status {self.status!r}")

    @property
    def points(self) -> float:
        return round(sum(q.points for q in self.questions), 6)

    @property
    def max_points(self) -> float:
        return round(sum(q.max_points for q in self.questions), 6)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["points"] = self.points
        data["max_points"] = self.max_points
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SubmissionResult:
        fields = {k: v for k, v in data.items() if k not in ("points", "max_points")}
        fields["questions"] = tuple(QuestionResult(**q) for q in data["questions"])
        fields["errors"] = tuple(data.get("errors", ()))
        return cls(**fields)


@dataclass(frozen=True)
class GradingRun:
    """A graded batch: what ``results.json`` holds."""

    assignment: str
    version: str
    submissions: tuple[SubmissionResult, ...]
    seconds: float = 0.0
    shard: str | None = None
    sandbox: str = "none"

    @property
    def mean_points(self) -> float:
        subs = self.submissions
        return round(sum(s.points for s in subs) / len(subs), 6) if subs else 0.0

    @property
    def mean_max_points(self) -> float:
        subs = self.submissions
        return round(sum(s.max_points for s in subs) / len(subs), 6) if subs else 0.0

    @property
    def not_graded(self) -> int:
        """Submissions that could not be run to the end (timeout, crash, invalid, ...)."""
        return sum(1 for s in self.submissions if s.status != "graded")

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema_version": SCHEMA_VERSION,
            "tool": "backprop-kit",
            "version": self.version,
            "assignment": self.assignment,
            "shard": self.shard,
            "sandbox": self.sandbox,
            "seconds": round(self.seconds, 3),
            "submissions": [s.to_dict() for s in self.submissions],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> GradingRun:
        if data.get("schema_version") != SCHEMA_VERSION:
            raise ValueError(f"unsupported results schema {data.get('schema_version')!r}")
        return cls(
            assignment=data["assignment"], version=data["version"],
            submissions=tuple(SubmissionResult.from_dict(s) for s in data["submissions"]),
            seconds=data.get("seconds", 0.0), shard=data.get("shard"),
            sandbox=data.get("sandbox", "none"),
        )

    @classmethod
    def merge(cls, runs: list[GradingRun]) -> GradingRun:
        """Join shards of one assignment; a student graded twice keeps the later result."""
        if not runs:
            raise ValueError("nothing to merge")
        assignments = {r.assignment for r in runs}
        if len(assignments) != 1:
            raise ValueError(f"cannot merge different assignments: {sorted(assignments)}")
        by_key: dict[tuple[str, str], SubmissionResult] = {}
        for run in runs:
            for sub in run.submissions:
                by_key[(sub.student, sub.source)] = sub
        subs = tuple(sorted(by_key.values(), key=lambda s: (s.student, s.source)))
        sandboxes = {r.sandbox for r in runs}
        return cls(runs[0].assignment, runs[0].version, subs,
                   sum(r.seconds for r in runs), None,
                   sandboxes.pop() if len(sandboxes) == 1 else "mixed")
