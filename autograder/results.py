"""Result values: what a check concludes, and (later) totals for a submission and a class.

All score arithmetic lives here, so that the notebooks, the CLI and the reports agree.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

MISTAKE_NAME = re.compile(r"[a-z][a-z0-9_]{0,63}")  # diagnosed slips and declared slip ids


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
        if self.mistake is not None and not MISTAKE_NAME.fullmatch(self.mistake):
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

SCHEMA_VERSION = 2  # 2: each judged answer is kept as data (``QuestionResult.answer``)
READABLE_SCHEMAS = (1, 2)
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
    confirmed: bool | None = None  # True: sympy proved it; False: only the numbers agreed
    review: str | None = None  # why the instructor should look at this answer
    answer: Any = None  # the answer as the sandboxed child sent it (transport data): regrading
    rubric_version: str | None = None  # which rubric and checker judged it (versions.py)
    pending: bool = False  # graded by hand, not yet: shown as pending, counts 0 until then
    # the answer as it was read, for people (autograder.rubric.shown): a formula's plain text
    # and MathML; the code of the cell that answered a number, vector or function question
    shown: str | None = None
    mathml: str | None = None
    code: str | None = None

    @classmethod
    def from_check(cls, id: str, title: str, max_points: float, check: CheckResult,
                   answer: Any = None, rubric_version: str | None = None,
                   **shown: str | None) -> QuestionResult:
        confirmed = check.details.get("confirmed")
        confirmed = None if confirmed is None else bool(confirmed)
        review = check.details.get("review")
        if review is None and check.correct and confirmed is False:
            review = ("Accepted because its values agree with the reference at random points; "
                      "sympy did not prove it equal.")
        return cls(id, title, max_points, round(check.score * max_points, 6), check.correct,
                   check.feedback, check.mistake, check.invalid, None, confirmed,
                   None if review is None else str(review), answer, rubric_version,
                   **shown)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> QuestionResult:
        """Read a question of any readable schema (version 1 has no answer, confirmed, review)."""
        known = cls.__dataclass_fields__
        return cls(**{k: v for k, v in data.items() if k in known})

    @classmethod
    def ungraded(cls, id: str, title: str, max_points: float, error: str) -> QuestionResult:
        return cls(id, title, max_points, 0.0, False, error, error=error)

    @classmethod
    def awaiting_hand_grading(cls, id: str, title: str, max_points: float, note: str
                              ) -> QuestionResult:
        return cls(id, title, max_points, 0.0, False, note, pending=True)

    @property
    def full_marks(self) -> bool:
        """Every point, and nothing that stopped it being graded."""
        return self.error is None and not self.pending and self.points >= self.max_points

    def to_dict(self) -> dict[str, Any]:
        """The fields by name, in order; ``answer`` (JSON data) is shared, not copied (asdict's
        deep copy was most of the time results.json took: 4 s for 1,000 submissions)."""
        return {name: getattr(self, name) for name in _QUESTION_FIELDS}


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
    # Per-student variants (autograder.rubric.variants): the key whose references judged it (None:
    # the lecture's), why the notebook's own id does not match its folder, and answers that
    # match another student's variant or answer instead of their own (for the instructor).
    variant: str | None = None
    variant_mismatch: str | None = None
    copying: tuple[dict[str, Any], ...] = ()
    # what the notebook's code does that honest work never needs (autograder.run.suspicion),
    # for the instructor: e.g. "cell 1 replaces sympy.simplify"; no effect on the score
    suspicious: tuple[str, ...] = ()

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
        data = {name: getattr(self, name) for name in _SUBMISSION_FIELDS}
        data["questions"] = [q.to_dict() for q in self.questions]
        data["errors"] = list(self.errors)
        data["copying"] = [dict(c) for c in self.copying]
        data["suspicious"] = list(self.suspicious)
        data["points"] = self.points
        data["max_points"] = self.max_points
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SubmissionResult:
        fields = {k: v for k, v in data.items() if k not in ("points", "max_points")}
        fields["questions"] = tuple(QuestionResult.from_dict(q) for q in data["questions"])
        fields["errors"] = tuple(data.get("errors", ()))
        fields["copying"] = tuple(data.get("copying", ()))
        fields["suspicious"] = tuple(data.get("suspicious", ()))
        return cls(**fields)


_QUESTION_FIELDS = tuple(f.name for f in fields(QuestionResult))
_SUBMISSION_FIELDS = tuple(f.name for f in fields(SubmissionResult))


@dataclass(frozen=True)
class GradingRun:
    """A graded batch: what ``results.json`` holds."""

    assignment: str
    version: str
    submissions: tuple[SubmissionResult, ...]
    seconds: float = 0.0
    shard: str | None = None
    sandbox: str = "none"
    schema: int = SCHEMA_VERSION  # the schema it was read from: 1 keeps no answers

    @property
    def regradable(self) -> bool:
        """Whether the answers were kept, so that they can be judged again."""
        return self.schema >= 2

    @property
    def graded(self) -> tuple[SubmissionResult, ...]:
        """The submissions that ran to the end (status ``graded``): what the class's mean
        and statistics are of; the others are counted and listed apart."""
        return tuple(s for s in self.submissions if s.status == "graded")

    @property
    def mean_points(self) -> float:
        """The class mean: of the submissions that ran to the end (:attr:`graded`), the one
        definition the terminal, the class report and regrade all print."""
        subs = self.graded
        return round(sum(s.points for s in subs) / len(subs), 6) if subs else 0.0

    @property
    def mean_max_points(self) -> float:
        subs = self.graded
        return round(sum(s.max_points for s in subs) / len(subs), 6) if subs else 0.0

    @property
    def not_graded(self) -> int:
        """Submissions that could not be run to the end (timeout, crash, invalid, ...)."""
        return sum(1 for s in self.submissions if s.status != "graded")

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema_version": self.schema,  # a schema 1 run written again still has no answers
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
        schema = data.get("schema_version")
        if schema not in READABLE_SCHEMAS:
            raise ValueError(f"unsupported results schema {schema!r} (this version reads "
                             f"{', '.join(map(str, READABLE_SCHEMAS))})")
        return cls(
            assignment=data["assignment"], version=data["version"],
            submissions=tuple(SubmissionResult.from_dict(s) for s in data["submissions"]),
            seconds=data.get("seconds", 0.0), shard=data.get("shard"),
            sandbox=data.get("sandbox", "none"), schema=schema,
        )

    @classmethod
    def read(cls, path: Path) -> GradingRun:
        """A results.json (or the folder holding one); errors name the file at fault."""
        from autograder.errors import UsageError

        path = Path(path)
        if path.is_dir():
            path = path / "results.json"
        try:
            return cls.from_dict(json.loads(path.read_text(encoding="utf-8")))
        except OSError as error:
            raise UsageError(f"{path}: cannot be read ({error.strerror})") from None
        except (ValueError, KeyError, TypeError) as error:
            raise UsageError(f"{path}: not a results.json of backprop-kit ({error})") from None

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
                   sandboxes.pop() if len(sandboxes) == 1 else "mixed",
                   min(r.schema for r in runs))


# --- what a regrade changed ----------------------------------------------------------------


@dataclass(frozen=True)
class ScoreChange:
    """One submission whose points differ between two gradings of the same answers."""

    student: str
    source: str
    before: float
    after: float
    questions: tuple[tuple[str, float, float], ...]  # (question id, before, after) that moved

    @property
    def delta(self) -> float:
        return round(self.after - self.before, 6)


def score_changes(before: GradingRun, after: GradingRun) -> list[ScoreChange]:
    """Submissions whose total or any question's points changed, largest change first."""
    old = {(s.student, s.source): s for s in before.submissions}
    changes = []
    for sub in after.submissions:
        prev = old.get((sub.student, sub.source))
        if prev is None:
            continue
        was = {q.id: q.points for q in prev.questions}
        moved = tuple((q.id, was.get(q.id, 0.0), q.points) for q in sub.questions
                      if abs(q.points - was.get(q.id, 0.0)) > 1e-9)
        moved += tuple((qid, p, 0.0) for qid, p in was.items()
                       if qid not in {q.id for q in sub.questions} and p)
        if moved or abs(sub.points - prev.points) > 1e-9:
            changes.append(ScoreChange(sub.student, sub.source, prev.points, sub.points, moved))
    return sorted(changes, key=lambda c: (-abs(c.delta), c.student, c.source))
