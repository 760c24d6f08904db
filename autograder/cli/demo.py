"""``backprop-kit demo``: example submissions of the backprop assignment, graded end to end."""

from __future__ import annotations

import tempfile
from pathlib import Path

from autograder.course import examples
from autograder.errors import UsageError
from autograder.grade.batch import BatchOptions, run_batch
from autograder.grade.submissions import discover
from autograder.report import reports
from autograder.report.classreport import HTML_NAME
from autograder.run import sandbox
from autograder.run.grader import Settings


def run_demo(source: Path, out: Path | None = None, jobs: int = 2) -> str:
    """Write the examples, grade them (sandboxed where possible), return the summary."""
    from autograder.rubric.course import questions

    if not (source / "backprop" / "backprop.ipynb").exists():
        raise UsageError(f"{source}: no backprop/backprop.ipynb here; run the demo from the "
                         "repository root or pass --source")
    out = out or Path(tempfile.mkdtemp(prefix="backprop-kit-demo-"))
    subs_dir = out / "submissions"
    examples.write(examples.backprop_examples(source), subs_dir)
    found = sandbox.detect()
    run = run_batch(
        discover([subs_dir], "backprop"), "backprop", list(questions("backprop")),
        Settings(timeout=10, require_sandbox=found != "none"),
        BatchOptions(out / "report", jobs=jobs, sandbox=found),
    )
    used = sorted({s.sandbox for s in run.submissions if s.status != "invalid"})
    return (f"{reports.summary_table(run)}\n\nsandbox: {', '.join(used) or found}\n"
            f"example submissions: {subs_dir}\nreports: {out / 'report'} "
            f"(results.json, grades.csv, junit.xml, feedback/)\n"
            f"class report: {out / 'report' / HTML_NAME}")
