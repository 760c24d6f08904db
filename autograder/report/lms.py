"""Grades in the import formats of the gradebooks courses keep them in: Canvas and Moodle.

- **Canvas** (Grades → Import, "How do I import grades in the Gradebook?"): the columns
  ``Student``, ``ID``, ``SIS User ID``, ``SIS Login ID``, ``Section`` in that order, then one
  column per assignment; a second row starting ``Points Possible`` gives each assignment's
  maximum (a new assignment column is created with it). The student is matched by the login:
  nbgrader's student id (the JupyterHub user) goes into ``SIS Login ID``.
- **Moodle** (Grades → Import → CSV file, "Grade import"): a header row, a column Moodle maps
  from to a user field (``Username`` → ``username``), a column per grade item and a feedback
  column mapped to that item's feedback (Moodle overwrites both, so both are given).

A submission the grader itself failed on (status ``error``) gets an empty cell, never a 0
that would overwrite a grade. Text that a spreadsheet would run as a formula is quoted, as in
``grades.csv``.
"""

from __future__ import annotations

import csv
import io
from collections import Counter

from autograder.report.text import cell, labelled, num, percent
from autograder.results import GradingRun, SubmissionResult

CANVAS_COLUMNS = ("Student", "ID", "SIS User ID", "SIS Login ID", "Section")
CANVAS_POINTS_ROW = "Points Possible"
MOODLE_ID_COLUMN = "Username"  # map from it to Moodle's user field "username"


def _score(sub: SubmissionResult) -> object:
    return "" if sub.status == "error" else sub.points


def _maximum(run: GradingRun) -> float:
    return max((s.max_points for s in run.submissions), default=0.0)


def _write(rows: list[list[object]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    for row in rows:
        writer.writerow([cell(c) for c in row])
    return buffer.getvalue()


def canvas_csv(run: GradingRun) -> str:
    """The run's totals as a Canvas gradebook import: one assignment column."""
    rows: list[list[object]] = [[*CANVAS_COLUMNS, run.assignment],
                                [CANVAS_POINTS_ROW, "", "", "", "", _maximum(run)]]
    once = _once(run)
    rows += [[sub.student, "", "", sub.student, "", _score(sub)] for _, sub in labelled(run)
             if sub.student in once]
    return _write(rows)


def moodle_csv(run: GradingRun) -> str:
    """The run's totals as a Moodle grade import: username, grade, feedback."""
    item = f"{run.assignment} (Real)"
    rows: list[list[object]] = [[MOODLE_ID_COLUMN, item, f"{run.assignment} feedback"]]
    once = _once(run)
    for _, sub in labelled(run):
        if sub.student not in once:
            continue
        note = "" if sub.status == "error" else (
            f"{num(sub.points)}/{num(sub.max_points)} points ({percent(sub)}); "
            "the feedback page has every question")
        rows.append([sub.student, _score(sub), note])
    return _write(rows)


def _once(run: GradingRun) -> set[str]:
    """The students with one result: only they get a row, as two results of one student
    (each an error, see submissions) cannot say which grade is theirs. Counted once for the
    run (asking per student was quadratic: 0.6 s for 1,000)."""
    counts = Counter(s.student for s in run.submissions)
    return {student for student, n in counts.items() if n == 1}
