"""``backprop-kit check``: a student's own run of the visible checks, in the sandbox.

It needs no reference answers: only the ``selfcheck.json`` released beside the notebook. It
goes the notebook's own way through the released data (:mod:`autograder.student.released`),
whose numbers (:mod:`autograder.student.myvariant`) and how a verdict reads
(:mod:`autograder.student.verdict`); only the notebook runs in the sandbox.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from autograder.errors import UsageError
from autograder.results import CheckResult
from autograder.rubric.question import Question, released_reference, self_check
from autograder.run.client import Runner
from autograder.run.grader import Grader, Settings, variant_env
from autograder.run.notebooks import InvalidNotebook, Submission, read_notebook
from autograder.student.released import (
    CheckFailed,
    entry_for,
    load_released,
    unavailable_feedback,
)
from autograder.student.verdict import render


def load(folder: Path) -> tuple[str, dict[str, Any], dict[str, Any]]:
    """(assignment, questions, all of it) from the ``selfcheck.json`` in ``folder``."""
    try:
        data = load_released(folder)
    except CheckFailed as error:
        raise UsageError(str(error)) from None
    return data["assignment"], data["questions"], data


def prepare_references(data: dict[str, Any]) -> None:
    """Read the released fingerprints (most of a self-check's time): while the notebook runs,
    or in a warm grader's worker before the command comes (:mod:`autograder.cli.warm.server`)."""
    for question in data.values():
        try:
            if question.get("kind") == "expression":
                released_reference(question["fingerprint"])
        except Exception:  # noqa: BLE001,S112 -- the check reads it again and says why
            continue


def run_selfcheck(notebook: Path, timeout: float = 60.0, require_sandbox: bool = True,
                  runner: Runner | None = None) -> str:
    """Run the notebook in the sandbox and render each visible check's verdict."""
    from autograder.rubric.variants import typed_student_id
    from autograder.student.myvariant import variant_of

    assignment, entries, released = load(notebook.parent)
    try:
        raw = read_notebook(notebook)
        variant, note = variant_of(assignment, released.get("variant_seed") or None,
                                   typed_student_id(raw))
    except (CheckFailed, InvalidNotebook) as error:
        raise UsageError(f"{notebook.name}: {error}") from None
    data = {qid: entry_for(qid, entry, variant) for qid, entry in entries.items()}
    questions = [Question.from_public(d) for d in data.values()]
    verdicts: dict[str, CheckResult] = {}

    def judge(question: Question, answer: Any, outputs: Any, earlier: Any = None) -> CheckResult:
        entry = data[question.id]
        if entry.get("unavailable"):
            result = CheckResult.wrong(unavailable_feedback(entry["title"]))
        else:
            result = self_check(entry, answer, outputs, earlier=earlier)
        verdicts[question.id] = result
        return result

    env = variant_env(variant.assignment, variant.student_id or "", released.get("variant_seed"))
    grader = Grader(assignment, questions, Settings(timeout=timeout,
                                                    require_sandbox=require_sandbox), judge,
                    runner=runner, prepare=lambda: prepare_references(data),
                    job_env=lambda sub: env)
    try:
        result = grader.grade(Submission(notebook.stem, notebook, None))
    finally:
        grader.close()
    lines = [f"Self-check of {notebook.name} ({assignment}); hidden tests decide the grade."]
    if note:
        lines.append(f"  {note}")
    for q, r in zip(questions, result.questions, strict=False):
        verdict = r.error if r.error or q.id not in verdicts else \
            render(verdicts[q.id], q.points)
        lines.append(f"  {q.title} [{q.id}]: {verdict}")
    lines += [f"  note: {e}" for e in result.errors]
    return "\n".join(lines)
