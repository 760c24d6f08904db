"""``backprop-kit check``: a student's own run of the visible checks, in the sandbox.

It needs no reference answers: only the ``selfcheck.json`` released beside the notebook.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from autograder.errors import UsageError
from autograder.grading import Grader, Settings
from autograder.notebook import SELFCHECK_FILE
from autograder.results import CheckResult
from autograder.rubric import Question, released_reference, self_check
from autograder.runner_client import Runner
from autograder.submissions import Submission


def load(folder: Path) -> tuple[str, dict[str, Any]]:
    path = folder / SELFCHECK_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return data["assignment"], data["questions"]
    except (OSError, ValueError, KeyError) as error:
        raise UsageError(f"{path}: the released self-check file is missing or damaged "
                         f"({error}); fetch the assignment again") from None


def run_selfcheck(notebook: Path, timeout: float = 60.0, require_sandbox: bool = True,
                  runner: Runner | None = None) -> str:
    """Run the notebook in the sandbox and render each visible check's verdict."""
    assignment, data = load(notebook.parent)
    questions = [Question.from_public(d) for d in data.values()]

    def judge(question: Question, answer: Any, outputs: Any, earlier: Any = None) -> CheckResult:
        return self_check(data[question.id], answer, outputs, earlier=earlier)

    def prepare() -> None:  # while the notebook runs: read the fingerprints
        for question in data.values():
            try:
                if question.get("kind") == "expression":
                    released_reference(question["fingerprint"])
            except Exception:  # noqa: BLE001,S112 -- the check reads it again and says why
                continue

    grader = Grader(assignment, questions, Settings(timeout=timeout,
                                                    require_sandbox=require_sandbox), judge,
                    runner=runner, prepare=prepare)
    try:
        result = grader.grade(Submission(notebook.stem, notebook,
                                         None))
    finally:
        grader.close()
    lines = [f"Self-check of {notebook.name} ({assignment}); hidden tests decide the grade."]
    for q, r in zip(questions, result.questions, strict=False):
        if r.error:
            verdict = r.error
        elif r.correct:
            verdict = f"right - {r.points:g}/{r.max_points:g}"
        else:
            verdict = r.feedback
        lines.append(f"  {q.title} [{q.id}]: {verdict}")
    lines += [f"  note: {e}" for e in result.errors]
    return "\n".join(lines)
