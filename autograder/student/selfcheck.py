"""``backprop-kit check``: a student's own run of the visible checks, in the sandbox.

It needs no reference answers: only the ``selfcheck.json`` released beside the notebook.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from autograder.errors import UsageError
from autograder.results import CheckResult
from autograder.rubric.question import Question, released_reference, self_check
from autograder.run.client import Runner
from autograder.run.grader import Grader, Settings, variant_env
from autograder.run.notebooks import InvalidNotebook, Submission, read_notebook_file
from autograder.student.released import (
    CheckFailed,
    entry_for,
    load_released,
    unavailable_feedback,
)


def load(folder: Path) -> tuple[str, dict[str, Any], dict[str, Any]]:
    """(assignment, questions, all of it) from the ``selfcheck.json`` in ``folder``: read the
    notebook's own way (:mod:`autograder.student.released`)."""
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
    from autograder.rubric.variants import VariantError, typed_student_id
    from autograder.student.myvariant import variant_of

    assignment, entries, released = load(notebook.parent)
    try:
        read = read_notebook_file(notebook)  # once: the grader below runs these very bytes
        variant, note = variant_of(assignment, released.get("variant_seed") or None,
                                   typed_student_id(read.nb))
    except (CheckFailed, InvalidNotebook, VariantError) as error:  # said in one line
        raise UsageError(f"{notebook.name}: {error}") from None
    data = {qid: entry_for(qid, entry, variant) for qid, entry in entries.items()}
    questions = [Question.from_public(d) for d in data.values()]

    verdicts: dict[str, CheckResult] = {}

    def judge(question: Question, answer: Any, outputs: Any, earlier: Any = None) -> CheckResult:
        if data[question.id].get("unavailable"):
            result = CheckResult.wrong(unavailable_feedback(question.title), form_only=True,
                                       unavailable=True)
        else:
            result = self_check(data[question.id], answer, outputs, earlier=earlier)
        verdicts[question.id] = result
        return result

    env = variant_env(variant.assignment, variant.student_id or "", released.get("variant_seed"))
    grader = Grader(assignment, questions, Settings(timeout=timeout,
                                                    require_sandbox=require_sandbox), judge,
                    runner=runner, prepare=lambda: prepare_references(data),
                    job_env=lambda sub: env)
    try:
        result = grader.grade(Submission(notebook.stem, notebook, None, read=read))
    finally:
        grader.close()
    return selfcheck_report(notebook.name, assignment, questions, result.questions,
                            verdicts, (*([note] if note else []), *result.errors))


def selfcheck_report(name: str, assignment: str, questions: list[Question],
                     results: Any, verdicts: dict[str, CheckResult], errors: Any) -> str:
    """What ``backprop-kit check`` prints: each verdict as the notebook shows it, with its
    points, then the total the self-checks can confirm."""
    from autograder.rubric.shown import counts, render

    lines = [f"Self-check of {name} ({assignment}); hidden tests decide the grade."]
    earned = possible = undecided = 0.0
    unavailable = []
    for q, r in zip(questions, results, strict=False):
        verdict = verdicts.get(q.id)
        if r.error or verdict is None:
            text = f"{r.error or r.feedback} [0 of {q.points:g} points]"
            possible += q.points
        else:
            text = render(verdict, q.points, "").removeprefix(": ")
            if counts(verdict):
                earned += verdict.score * q.points
                possible += q.points
            else:
                undecided += q.points
            if verdict.details.get("unavailable"):
                unavailable.append(q.title)
        lines.append(f"  {q.title} [{q.id}]: {text}")
    total = f"Total: {earned:g} of {possible:g} points"
    if undecided:
        total += f"; {undecided:g} more points this check cannot tell (the grade decides)"
    lines.append(total)
    if unavailable:
        lines.append(f"  ask your instructor: your id is not on the roster the self-checks of "
                     f"{', '.join(unavailable)} were made for")
    lines += [f"  note: {e}" for e in errors]
    return "\n".join(lines)
