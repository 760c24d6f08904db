"""Hand-graded questions: known to the rubric as the notebooks declare them, and shown as
pending (never as 0) in every report until they are graded by hand."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from autograder.report import reports
from autograder.results import QuestionResult, SubmissionResult
from autograder.rubric.course import ASSIGNMENTS, manual_questions

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_manual_questions_are_the_notebooks_hand_graded_cells(assignment: str) -> None:
    nb = json.loads((ROOT / "assignments" / assignment / f"{assignment}.ipynb").read_text())
    cells = {c["metadata"]["nbgrader"]["grade_id"]: c["metadata"]["nbgrader"]["points"]
             for c in nb["cells"] if c["cell_type"] == "markdown"
             and c["metadata"].get("nbgrader", {}).get("grade")}
    assert {q.id: q.points for q in manual_questions(assignment)} == cells
    assert all(q.kind == "manual" for q in manual_questions(assignment))


def test_pending_is_shown_as_pending() -> None:
    auto = QuestionResult("q1", "Auto", 2.0, 1.5, False, "Your answer has the wrong sign.",
                          mistake="sign")
    hand = QuestionResult.awaiting_hand_grading("q2", "Written", 3.0, "Graded by hand; "
                                                "not graded yet.")
    sub = SubmissionResult("alice", "a", "alice.ipynb", (auto, hand))
    assert (sub.points, sub.max_points) == (1.5, 5.0)
    assert "alice,1.5,pending,1.5,5,graded" in reports.csv_gradebook(
        reports.GradingRun("a", "0", (sub,)))
    page = reports.feedback_html(sub)
    assert "pending/3" in page and "3 pending, graded by hand" in page
    assert "mistake:" not in page and "mistake:" not in reports.feedback_markdown(sub)
    tests = reports.gradescope_results(sub)["tests"]
    assert tests[0]["score"] == 1.5 and "score" not in tests[1]
