"""Feedback delivered where nbgrader delivers it: ``feedback/<student>/<assignment>/``.

``nbgrader release_feedback`` sends each ``<notebook>.html`` of that folder to the exchange,
named by a hash of the submission's secret, so that ``fetch_feedback`` (the Assignments tab's
*Fetch Feedback*) gives each student their own page and no one else's. It needs the
``timestamp.txt`` and ``submission_secret.txt`` that ``nbgrader submit`` wrote and ``collect``
kept beside the submitted notebook; this module copies them from there and writes our page
(readable offline: no script, no CDN) in place of ``generate_feedback``'s.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from autograder.grade.submissions import student_of_layout
from autograder.report import reports
from autograder.results import GradingRun

NBGRADER_FILES = ("timestamp.txt", "submission_secret.txt")


@dataclass(frozen=True)
class Delivered:
    """What was written for nbgrader's feedback exchange, and what could not be."""

    pages: tuple[Path, ...]
    skipped: tuple[str, ...]  # one sentence each: whose, and why


def deliver_feedback(run: GradingRun, feedback_dir: Path, course: str | None = None,
                     date: str | None = None) -> Delivered:
    """Write each student's feedback page into ``feedback_dir/<student>/<assignment>/`` with
    the files ``release_feedback`` needs; a submission that did not come through nbgrader's
    exchange (no ``submitted/<student>/<assignment>/`` folder) is listed as skipped."""
    course = course if course is not None else reports.course_name()
    date = date or reports.today()
    pages: list[Path] = []
    skipped: list[str] = []
    for sub in run.submissions:
        source = Path(sub.source)
        if student_of_layout(source, run.assignment) != sub.student:
            skipped.append(f"{sub.student}: not from nbgrader's submitted/<student>/"
                           f"{run.assignment}/ layout, so nbgrader cannot deliver its feedback")
            continue
        missing = [name for name in NBGRADER_FILES if not (source.parent / name).is_file()]
        if missing:
            skipped.append(f"{sub.student}: {', '.join(missing)} missing beside "
                           f"{source.name} (was it collected with nbgrader collect?)")
            continue
        folder = Path(feedback_dir) / sub.student / run.assignment
        folder.mkdir(parents=True, exist_ok=True)
        for name in NBGRADER_FILES:
            shutil.copyfile(source.parent / name, folder / name)
        page = folder / f"{source.stem}.html"
        reports.write_atomic(page, reports.feedback_html(sub, course, date))
        pages.append(page)
    return Delivered(tuple(pages), tuple(skipped))
