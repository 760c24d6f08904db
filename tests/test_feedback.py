"""The student's feedback page, through the real ``backprop-kit grade`` on an nbgrader
``submitted/`` tree: the answer as it was read beside each verdict (a formula as MathML, the
code of a function or array answer), the course, assignment, date, total and percentage, marks
that read without colour, nothing that needs the network, and each page where nbgrader's
``release_feedback`` takes it. A tampering notebook is listed as suspicious, saying what it
did. Expected answers come from ``solutions`` through the rubric."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from click.testing import CliRunner

from autograder.cli.commands import main
from autograder.course import examples
from autograder.judge.parsing import to_expression
from autograder.rubric.course import course_id, questions
from autograder.run import sandbox

ROOT = Path(__file__).resolve().parents[1]
UNSAFE = [] if sandbox.detect() != "none" else ["--allow-unsandboxed"]
QS = {q.id: q for q in questions("backprop")}
W12 = QS["backprop-dR-dw12"]
STUDENTS = ("right", "sign-slip", "unfinished", "tampering")


@pytest.fixture(scope="module")
def graded(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """Four students through nbgrader's layout (with the files ``submit`` writes), plus a
    loose notebook that nbgrader cannot deliver to."""
    root = tmp_path_factory.mktemp("course")
    bank = examples.backprop_examples(ROOT / "assignments")
    for student in STUDENTS:
        folder = root / "submitted" / student / "backprop"
        folder.mkdir(parents=True)
        (folder / "backprop.ipynb").write_text(json.dumps(bank[student]), encoding="utf-8")
        (folder / "timestamp.txt").write_text("2026-11-27 10:00:00.000000 UTC")
        (folder / "submission_secret.txt").write_text(f"secret-of-{student}")
    out, feedback = root / "out", root / "feedback"
    result = CliRunner().invoke(main, ["grade", str(root / "submitted"), "-a", "backprop",
                                       "-o", str(out), "-j", "2", "--feedback-dir",
                                       str(feedback), *UNSAFE], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    data = json.loads((out / "results.json").read_text(encoding="utf-8"))
    return {"root": root, "out": out, "feedback": feedback, "output": result.output,
            "bank": bank, "subs": {s["student"]: s for s in data["submissions"]}}


def page(graded: dict, student: str) -> str:
    return (graded["feedback"] / student / "backprop" / "backprop.html").read_text("utf-8")


class Rows(HTMLParser):
    """The feedback table's rows as lists of cell texts, and the MathML elements seen."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[list[str]] = []
        self.cell: list[str] | None = None
        self.tags: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list) -> None:
        self.tags.add(tag)
        if tag == "tr":
            self.rows.append([])
        elif tag in ("td", "th"):
            self.cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self.cell is not None:
            self.rows[-1].append(" ".join("".join(self.cell).split()))
            self.cell = None

    def handle_data(self, data: str) -> None:
        if self.cell is not None:
            self.cell.append(data)


def rows_of(html: str) -> tuple[dict[str, list[str]], set[str]]:
    parser = Rows()
    parser.feed(html)
    return {r[0]: r for r in parser.rows[1:]}, parser.tags


def test_each_page_goes_where_nbgrader_releases_feedback(graded: dict) -> None:
    for student in STUDENTS:
        folder = graded["feedback"] / student / "backprop"
        assert (folder / "timestamp.txt").read_text() == "2026-11-27 10:00:00.000000 UTC"
        assert (folder / "submission_secret.txt").read_text() == f"secret-of-{student}"
        assert f"Feedback for {student}" in re.sub(r"<[^>]+>", "", page(graded, student))
    assert f"feedback for {len(STUDENTS)} students in" in graded["output"]


def test_the_page_says_course_assignment_date_total_and_percentage(graded: dict) -> None:
    sub = graded["subs"]["sign-slip"]
    text = re.sub(r"<[^>]+>", "", page(graded, "sign-slip"))
    assert f"{course_id()}: backprop" in text
    assert re.search(r"graded \d{4}-\d\d-\d\d", text)
    percent = round(100 * sub["points"] / sub["max_points"], 1)
    assert f"Total: {sub['points']:g} / {sub['max_points']:g} points ({percent:g}%)" in text


def test_a_formula_is_shown_as_read_in_mathml(graded: dict) -> None:
    rows, tags = rows_of(page(graded, "sign-slip"))
    assert {"math", "msubsup"} <= tags  # w₁₂⁽²⁾ in the lecture's notation
    (q,) = [q for q in graded["subs"]["sign-slip"]["questions"] if q["id"] == W12.id]
    shown = to_expression(q["shown"], [*W12.variables, *W12.definitions])
    assert (shown - examples.sign_slip(W12.expected)).equals(0)  # as typed, read back
    assert "partial credit" in rows[W12.title][2]


def test_function_and_array_answers_show_the_students_code(graded: dict) -> None:
    nb = graded["bank"]["right"]
    rows, _ = rows_of(page(graded, "right"))
    for qid in ("backprop-finite-difference", "backprop-gradient"):
        q = QS[qid]
        (cell,) = [c for c in nb["cells"]
                   if c["metadata"].get("nbgrader", {}).get("grade_id") == q.answer_cell]
        source = "".join(cell["source"]).strip("\n")
        first = next(line for line in source.splitlines() if line.strip())
        assert " ".join(first.split()) in rows[q.title][1], qid
        assert "full marks" in rows[q.title][2]


def test_zero_partial_and_full_read_without_colour(graded: dict) -> None:
    rows, _ = rows_of(page(graded, "unfinished"))
    marks = {r[2].split()[0] for r in rows.values()}
    assert {"✓", "✗"} <= marks
    words = " ".join(r[2] for r in rows.values())
    assert "full marks" in words and "no points" in words


def test_the_page_needs_no_network_and_runs_no_script(graded: dict) -> None:
    for student in STUDENTS:
        html = page(graded, student)
        assert "<script" not in html.lower()
        assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", html, re.I), student
        assert "mathjax" not in html.lower() and "cdn" not in html.lower()


def test_a_tampering_notebook_is_listed_as_suspicious(graded: dict) -> None:
    what = graded["subs"]["tampering"]["suspicious"]
    assert any("replaces sympy.simplify" in w for w in what)
    assert any("sys.exit" in w for w in what)
    assert not graded["subs"]["right"]["suspicious"]
    assert "suspicious" in graded["output"] and "tampering: cell 1 replaces" in graded["output"]
    report = (graded["out"] / "class-report.md").read_text(encoding="utf-8")
    assert "### Suspicious" in report and "replaces builtins.abs" in report


def test_a_notebook_outside_nbgrader_layout_is_not_delivered(tmp_path: Path,
                                                             graded: dict) -> None:
    from autograder.grade.delivery import deliver_feedback
    from autograder.results import GradingRun

    run = GradingRun.read(graded["out"])
    moved = run.submissions[0].__class__(**{**run.submissions[0].__dict__,
                                            "source": str(tmp_path / "loose.ipynb")})
    done = deliver_feedback(GradingRun(run.assignment, run.version, (moved,)), tmp_path / "fb")
    assert not done.pages and "layout" in done.skipped[0]


def test_the_class_report_shows_function_and_array_answers_as_code(graded: dict) -> None:
    report = (graded["out"] / "class-report.md").read_text(encoding="utf-8")
    section = report.split("(backprop-gradient): answer groups")[1].split("###")[0]
    assert "def nudges(" in section  # the answer cell's code, not its values


def test_an_answer_left_as_released_shows_no_code(graded: dict) -> None:
    """The unfinished notebook's later answer cells hold the released stub, a comment: the
    page shows no answer there, not the stub."""
    rows, _ = rows_of(page(graded, "unfinished"))
    assert rows[QS["backprop-training"].title][1] == "–"
    assert not any("YOUR ANSWER HERE" in r[1] for r in rows.values())
