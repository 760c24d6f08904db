"""Instructor-side authoring: the files released beside each notebook.

``selfcheck.json`` carries each question's public rubric and, for expression questions, the
reference's values at fixed points: enough for the visible check to recognise a right answer
or a slip, not enough to read the answer off.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from autograder.notebook import SELFCHECK_FILE
from autograder.rubric import fingerprint


def selfcheck_data(assignment: str) -> dict[str, Any]:
    from autograder.course import rubric  # instructor side only

    module = rubric(assignment)
    properties = getattr(module, "SELF_CHECKS", {})  # visible checks: autograder.properties
    return {
        "assignment": assignment,
        "note": "Released with the notebook for its visible self-checks. Contains no answers.",
        "questions": {q.id: {**fingerprint(q), **({"self_check": properties[q.id]}
                                                  if q.id in properties else {})}
                      for q in module.QUESTIONS},
    }


def selfcheck_text(assignment: str) -> str:
    return json.dumps(selfcheck_data(assignment), indent=1, ensure_ascii=False) + "\n"


def write_selfchecks(source_dir: Path, assignments: list[str] | None = None) -> list[Path]:
    """(Re)write ``<source>/<assignment>/selfcheck.json`` for each assignment."""
    from autograder import course

    written = []
    for name in assignments or list(course.assignments()):
        path = source_dir / name / SELFCHECK_FILE
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(selfcheck_text(name), encoding="utf-8")
        written.append(path)
    return written
