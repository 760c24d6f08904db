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
    from autograder.course import questions  # instructor side only

    return {
        "assignment": assignment,
        "note": "Released with the notebook for its visible self-checks. Contains no answers.",
        "questions": {q.id: fingerprint(q) for q in questions(assignment)},
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


# --- the notebooks' test cells -----------------------------------------------------------

SETUP_IMPORT = ("from autograder.notebook import check  # the self-checks; imported first so "
                "they know which cells ran")
ABOUT_CHECKS_ID = "about-checks"
ABOUT_CHECKS = """\
### What the checks and `nbgrader validate` tell you — and what they do not

- **A check cell** shows your answer as it was read (a formula as mathematics), then its
  verdict. If your answer is missing, cannot be read or is found wrong, the check cell stops
  with a short message in red: fix the answer cell, run it, then run the check again. If the
  answer cell itself stopped with an error, the check says *not answered yet — run the cell
  above*: it never judges a value left over from an earlier run. *Run All* stops at the first
  such cell; *Run Selected Cell and All Below* goes on from there.
- **`nbgrader validate`** (or *Validate* in the Assignments tab) runs your whole notebook from a
  fresh kernel and lists every check cell that fails. *Success! Your notebook passes all the
  tests.* means that every self-check passed — no more.
- **What the self-checks cover:** that each answer exists and reads; for a formula, whether it
  is right or which usual slip it shows, judged at a few fixed points; for numbers, vectors and
  functions, properties a right answer must have (its form, and where the question says so a
  test that does not give the value away).
- **What they do not cover:** the value of most numbers, vectors and functions, your functions
  on other inputs, and the written answers (graded by hand). **Hidden tests decide your grade**:
  they judge every answer against the reference solution when your work is graded.
"""


def check_cell_source(question: Any) -> str:
    """The one template of a test cell: the hidden ``grade`` first (it records the points
    nbgrader reads as the cell's score), then the visible ``check``, which in the released
    notebook fails the cell when it finds the answer wrong."""
    return ("from autograder.notebook import check, grade\n"
            "### BEGIN HIDDEN TESTS\n"
            f'grade("{question.id}")\n'
            "### END HIDDEN TESTS\n"
            f'check("{question.id}")')


def _source(cell: dict[str, Any]) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else src


def rewrite_notebook(nb: dict[str, Any], assignment: str) -> list[str]:
    """Bring one notebook's test cells, setup import and note on checks up to date (in place);
    return what changed."""
    from autograder.course import questions

    changed: list[str] = []
    by_id = {q.id: q for q in questions(assignment)}
    cells = nb["cells"]
    for cell in cells:
        grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        if cell.get("cell_type") == "code" and grade_id in by_id:
            new = check_cell_source(by_id[grade_id])
            if _source(cell) != new:
                cell["source"] = new
                changed.append(grade_id)
    code = [c for c in cells if c.get("cell_type") == "code"]
    if code and SETUP_IMPORT not in _source(code[0]):
        code[0]["source"] = f"{SETUP_IMPORT}\n{_source(code[0])}"
        changed.append(f"{code[0].get('id', 'first code cell')} (setup import)")
    about = [c for c in cells if c.get("id") == ABOUT_CHECKS_ID]
    if not about:
        import nbformat

        note = nbformat.v4.new_markdown_cell(ABOUT_CHECKS)
        note["id"] = ABOUT_CHECKS_ID
        cells.insert(1, note)
        changed.append(ABOUT_CHECKS_ID)
    elif _source(about[0]) != ABOUT_CHECKS:
        about[0]["source"] = ABOUT_CHECKS
        changed.append(ABOUT_CHECKS_ID)
    return changed


def rewrite_test_cells(source_dir: Path, assignments: list[str] | None = None
                       ) -> dict[Path, list[str]]:
    """Rewrite every notebook's test cells from :func:`check_cell_source`."""
    import nbformat

    from autograder import course

    done: dict[Path, list[str]] = {}
    for name in assignments or list(course.assignments()):
        path = source_dir / name / f"{name}.ipynb"
        nb = nbformat.read(path, as_version=nbformat.NO_CONVERT)
        changed = rewrite_notebook(nb, name)
        if changed:
            nbformat.write(nb, path)
        done[path] = changed
    return done
