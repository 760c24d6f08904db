"""The real nbgrader commands, end to end, on a temporary copy of the course.

Instructor: generate_assignment, release_assignment; students (each with their own home
directory): fetch_assignment, write their answers, submit; instructor: collect, autograde,
generate_feedback, export. Every submission is derived from the source notebooks
(``autograder.course.examples``), never typed in. Scores are read from the gradebook and the CSV.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import pytest

from autograder.course import examples
from autograder.course.release import check_cell_source
from autograder.judge.checks import DEFAULT_CREDIT
from autograder.judge.diagnosis import FEEDBACK
from autograder.rubric.course import ASSIGNMENTS, RUBRIC_FILE, manual_questions, question, questions
from autograder.student.notebook import SELFCHECK_FILE

pytestmark = pytest.mark.nbgrader

ROOT = Path(__file__).resolve().parents[1]
COURSE_ID = "ml2-optimisation"
BIN = Path(sys.executable).parent
TIMEOUT = 600
WORKERS = 2

Notebook = dict[str, Any]


# --- the students -------------------------------------------------------------------------


@dataclass(frozen=True)
class Slip:
    """A submission with one symbolic answer of the reference turned into a usual slip."""

    question_id: str
    mistake: str  # a key of DEFAULT_CREDIT and of the rubric's credit
    make: Callable[[Any], Any]  # reference expression -> slipped expression


SLIPS: dict[str, Slip] = {
    "sign-slip": Slip("backprop-dR-dw12", "sign", examples.sign_slip),
    "wrong-variable": Slip("backprop-dR-dw12", "wrong_variable",
                           lambda e: examples.swap_variable(e, "a2_1", "a1_1")),
    "missing-factor": Slip("backprop-dR-dw12-layer1", "missing_factor",
                           lambda e: examples.drop_factor(e, "x2")),
}
UNFINISHED_KEEP = 2
# What the instructor gives by hand in formgrader (a fraction of the points); other written
# answers of honest work stay pending. An answer left as released is nbgrader's own 0.
HAND_GRADED = {("honest", "opt1d-newton-derivation"): 0.5}
TA_COMMENT = "Good start: say why f'' must not vanish near the root."
TAMPERED_SOURCE = "backprop-dR-dw12"  # its test cell's source becomes `1000`
TAMPERED_DELETED = "backprop-dR-db1"  # its test cell is deleted

# Who hands in which assignments.
ROSTER: dict[str, tuple[str, ...]] = {
    "honest": ASSIGNMENTS,
    "untouched": ASSIGNMENTS,
    **{name: ("backprop",) for name in SLIPS},
    "unfinished": ("backprop",),
    "tamper-cells": ("backprop",),
}


def source_notebook(assignment: str) -> Notebook:
    return examples.load(ROOT / "assignments", assignment)


def grade_id(cell: Notebook) -> str | None:
    return cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")


def source_of(cell: Notebook) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else src


def cell_of(nb: Notebook, cell_grade_id: str) -> Notebook:
    (cell,) = [c for c in nb["cells"] if grade_id(c) == cell_grade_id]
    return cell


def honest(assignment: str) -> Notebook:
    return examples.as_student_copy(source_notebook(assignment))


def tamper_cells(nb: Notebook) -> Notebook:
    out = json.loads(json.dumps(nb))
    for cell in out["cells"]:
        if grade_id(cell) == TAMPERED_SOURCE:
            cell["source"] = "1000"
    out["cells"] = [c for c in out["cells"] if grade_id(c) != TAMPERED_DELETED]
    return out


def submission(student: str, assignment: str, fetched: Notebook) -> Notebook:
    """What ``student`` hands in, derived from the source notebook or the fetched one."""
    if student == "untouched":
        return fetched
    nb = honest(assignment)
    if student == "honest":
        return nb
    if student in SLIPS:
        slip = SLIPS[student]
        q = question(slip.question_id)
        return examples.with_answer(nb, q.id, examples.answer_code(q.name,
                                                                   slip.make(q.expected)))
    if student == "unfinished":
        return examples.unfinished(nb, UNFINISHED_KEEP)
    if student == "tamper-cells":
        return tamper_cells(nb)
    raise KeyError(student)


def expected_points(student: str, assignment: str) -> dict[str, float]:
    """The score each autograded cell must get, from the rubric (never typed in)."""
    qs = questions(assignment)
    if student == "untouched":
        return {q.id: 0.0 for q in qs}
    if student == "unfinished":  # the first answer cells of the notebook are answered
        answer_cells = [grade_id(c) for c in source_notebook(assignment)["cells"]
                        if (grade_id(c) or "").endswith("-answer")]
        kept = answer_cells[:UNFINISHED_KEEP]
        return {q.id: (q.points if q.answer_cell in kept else 0.0) for q in qs}
    points = {q.id: float(q.points) for q in qs}
    if student in SLIPS:
        slip = SLIPS[student]
        q = question(slip.question_id)
        credit = {**DEFAULT_CREDIT, **q.credit}[slip.mistake]
        points[q.id] = q.points * credit
    return points


# --- the course ---------------------------------------------------------------------------


@dataclass
class Course:
    root: Path
    exchange: Path
    base_env: dict[str, str]
    logs: list[str] = field(default_factory=list)
    validations: dict[str, subprocess.CompletedProcess[str]] = field(default_factory=dict)
    steps: list[str] = field(default_factory=list)  # the instructor's commands, in order
    graded: dict[str, Path] = field(default_factory=dict)  # backprop-kit grade's --out

    def step(self, name: str) -> None:
        if name not in self.steps:
            self.steps.append(name)

    def env(self, home: Path) -> dict[str, str]:
        home.mkdir(parents=True, exist_ok=True)
        return {**self.base_env, "HOME": str(home),
                "JUPYTER_CONFIG_DIR": str(home / ".jupyter"),
                "JUPYTER_DATA_DIR": str(home / ".local" / "share" / "jupyter"),
                "MPLCONFIGDIR": str(home / ".matplotlib")}

    def nbgrader(self, *args: str, cwd: Path | None = None, home: Path | None = None,
                 check: bool = True) -> subprocess.CompletedProcess[str]:
        if home is None:
            self.step(f"nbgrader {args[0]}")
        home = home or self.root.parent / "instructor-home"
        start = time.monotonic()
        result = subprocess.run(
            [sys.executable, "-m", "nbgrader", *args], cwd=cwd or self.root,
            env=self.env(home), capture_output=True, text=True, timeout=TIMEOUT,
        )
        self.logs.append(f"$ nbgrader {' '.join(args)} -> {result.returncode} "
                         f"({time.monotonic() - start:.1f} s)\n"
                         f"{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
        if check and result.returncode != 0:
            raise AssertionError(f"nbgrader {' '.join(args)} failed:\n{self.logs[-1]}")
        return result

    def kit(self, *args: str) -> subprocess.CompletedProcess[str]:
        """``backprop-kit`` as the instructor runs it, in the course directory."""
        from autograder.run import sandbox

        self.step(f"backprop-kit {args[0]}")
        unsafe = ["--allow-unsandboxed"] if args[0] == "grade" and \
            sandbox.detect() == "none" else []
        start = time.monotonic()
        result = subprocess.run([str(BIN / "backprop-kit"), *args, *unsafe], cwd=self.root,
                                env=self.env(self.root.parent / "instructor-home"),
                                capture_output=True, text=True, timeout=TIMEOUT)
        self.logs.append(f"$ backprop-kit {' '.join(args)} -> {result.returncode} "
                         f"({time.monotonic() - start:.1f} s)\n"
                         f"{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
        if result.returncode != 0:
            raise AssertionError(f"backprop-kit {' '.join(args)} failed:\n{self.logs[-1]}")
        return result

    def student_home(self, student: str) -> Path:
        return self.root.parent / "students" / student

    def as_student(self, student: str, *args: str) -> subprocess.CompletedProcess[str]:
        home = self.student_home(student)
        return self.nbgrader(*args, "--course", COURSE_ID, f"--Exchange.root={self.exchange}",
                             cwd=home, home=home)

    def hand_in(self, student: str) -> None:
        """fetch_assignment, write the answers, submit: one student's whole part."""
        for assignment in ROSTER[student]:
            self.as_student(student, "fetch_assignment", assignment)
            path = self.fetched(student, assignment)
            write_notebook(path, submission(student, assignment, read_notebook(path)))
            self.as_student(student, "submit", assignment, "--student", student)

    def validate(self, name: str, folder: Path, assignment: str) -> None:
        """``nbgrader validate`` on a copy of ``folder`` (a notebook and its selfcheck.json)."""
        copy = self.root.parent / "validate" / name
        shutil.copytree(folder, copy)
        self.validations[name] = self.nbgrader(  # a student's command: not a step
            "validate", str(copy / f"{assignment}.ipynb"), cwd=copy, check=False,
            home=self.root.parent / "validate-home")

    def fetched(self, student: str, assignment: str) -> Path:
        return self.student_home(student) / assignment / f"{assignment}.ipynb"

    def released(self, assignment: str) -> Path:
        return self.root / "release" / assignment / f"{assignment}.ipynb"

    def autograded(self, student: str, assignment: str) -> Path:
        return self.root / "autograded" / student / assignment / f"{assignment}.ipynb"

    def feedback(self, student: str, assignment: str) -> Path:
        return self.root / "feedback" / student / assignment / f"{assignment}.html"

    def fetch_feedback(self, student: str, assignment: str) -> list[Path]:
        """nbgrader fetch_feedback as the student; the pages it delivered."""
        self.as_student(student, "fetch_feedback", assignment)
        return sorted((self.student_home(student) / assignment / "feedback").glob(
            f"*/{assignment}.html"))

    def grade_by_hand(self) -> None:
        """What formgrader does when the instructor enters a score: set ``manual_score``."""
        from nbgrader.api import Gradebook

        with Gradebook(f"sqlite:///{self.root / 'gradebook.db'}") as gb:
            for (student, qid), fraction in HAND_GRADED.items():
                (assignment,) = [a for a in ASSIGNMENTS
                                 if qid in {q.id for q in manual_questions(a)}]
                grade = gb.find_grade(qid, assignment, assignment, student)
                grade.manual_score = fraction * manual_question(qid).points
                comment = gb.find_comment(qid, assignment, assignment, student)
                comment.manual_comment = TA_COMMENT
            gb.db.commit()

    def scores(self, student: str, assignment: str) -> dict[str, float]:
        """grade_id -> score of every grade cell of one submission, from the gradebook."""
        from nbgrader.api import Gradebook

        with Gradebook(f"sqlite:///{self.root / 'gradebook.db'}") as gb:
            sub = gb.find_submission(assignment, student)
            return {g.name: g.score for nb in sub.notebooks for g in nb.grades}


def manual_question(qid: str) -> Any:
    (q,) = [q for a in ASSIGNMENTS for q in manual_questions(a) if q.id == qid]
    return q


def hand_points(student: str, assignment: str) -> dict[str, float | None]:
    """The hand-graded points of each written answer; None while pending."""
    if student not in ("honest", "untouched") or assignment not in ROSTER[student]:
        return {}
    return {q.id: (0.0 if student == "untouched"
                   else HAND_GRADED[(student, q.id)] * q.points
                   if (student, q.id) in HAND_GRADED else None)
            for q in manual_questions(assignment)}


def write_notebook(path: Path, nb: Notebook) -> None:
    path.write_text(json.dumps(nb, indent=1, ensure_ascii=False), encoding="utf-8")


def read_notebook(path: Path) -> Notebook:
    return json.loads(path.read_text(encoding="utf-8"))


def in_parallel(*jobs: Callable[[], object]) -> None:
    """Run independent jobs (each starts nbgrader processes) two at a time."""
    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        for future in [pool.submit(job) for job in jobs]:
            future.result()


@pytest.fixture(scope="module")
def course(tmp_path_factory: pytest.TempPathFactory) -> Course:
    base = tmp_path_factory.mktemp("nbgrader-flow")
    root, exchange = base / "course", base / "exchange"
    shutil.copytree(ROOT / "assignments", root / "assignments")
    exchange.mkdir()
    exchange.chmod(0o777)
    config = (ROOT / "nbgrader_config.py").read_text(encoding="utf-8")
    config += (f"\nc.CourseDirectory.root = {str(root)!r}\n"
               f"c.Exchange.root = {str(exchange)!r}\n")
    (root / "nbgrader_config.py").write_text(config, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("JUPYTER", "NBGRADER"))}
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    c = Course(root, exchange, env)
    (root / "roster.txt").write_text("\n".join(ROSTER) + "\n", encoding="utf-8")
    c.kit("selfchecks", "--roster", "roster.txt", "--source", str(root / "assignments"))

    # The instructor. Commands that write the gradebook (generate_assignment, autograde) run
    # one at a time; the others overlap with them.
    generated = {a: threading.Event() for a in ASSIGNMENTS}

    def generate() -> None:
        for assignment in ASSIGNMENTS:
            try:
                c.nbgrader("generate_assignment", assignment, "--force")
            finally:
                generated[assignment].set()

    def release() -> None:
        for assignment in ASSIGNMENTS:
            generated[assignment].wait(TIMEOUT)
            c.nbgrader("release_assignment", assignment)

    in_parallel(generate, release)
    # The students, each in their own home; meanwhile, validate runs on its own copies.
    in_parallel(
        *[partial(c.hand_in, student) for student in ROSTER],
        *[partial(c.validate, f"source-{a}", ROOT / "assignments" / a, a) for a in ASSIGNMENTS],
        partial(c.validate, "released-backprop", root / "release" / "backprop", "backprop"),
    )
    in_parallel(*[partial(c.nbgrader, "collect", a) for a in ASSIGNMENTS])
    for assignment in ASSIGNMENTS:
        c.nbgrader("autograde", assignment, "--force")
    c.grade_by_hand()
    for assignment in ASSIGNMENTS:  # the grade of record, its feedback into feedback/
        c.graded[assignment] = root / "grades" / assignment
        c.kit("grade", "submitted", "-a", assignment, "-o", f"grades/{assignment}", "-j", "2",
              "--gradebook", "gradebook.db", "--feedback-dir", "feedback")
    in_parallel(*[partial(c.nbgrader, "release_feedback", a) for a in ASSIGNMENTS])
    c.nbgrader("export", "--to", str(base / "grades.csv"))
    c.kit("student-kit", "--out", str(base / "dist"))
    (base / "nbgrader.log").write_text("\n".join(c.logs), encoding="utf-8")
    return c


# --- the release --------------------------------------------------------------------------


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_released_notebook_has_checks_but_no_solutions(course: Course, assignment: str
                                                       ) -> None:
    source = source_notebook(assignment)
    solution_lines = [
        line.strip() for q in questions(assignment)
        for line in source_of(cell_of(source, q.answer_cell)).splitlines()
        if line.startswith((f"{q.name} =", f"def {q.name}("))
    ]
    assert len(solution_lines) >= len(questions(assignment))
    for path in (course.released(assignment), course.fetched("untouched", assignment)):
        text = path.read_text(encoding="utf-8")
        assert "check(" in text
        for marker in ("### BEGIN SOLUTION", "### END SOLUTION", "BEGIN HIDDEN TESTS",
                       "grade("):
            assert marker not in text, f"{path} contains {marker!r}"
        leaked = [line for line in solution_lines if line in text]
        assert not leaked, f"{path} contains solution lines {leaked}"
        assert (path.parent / SELFCHECK_FILE).exists(), f"no {SELFCHECK_FILE} beside {path}"
        assert not (path.parent / RUBRIC_FILE).exists(), f"the rubric was released: {path}"


# --- the scores ---------------------------------------------------------------------------


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
@pytest.mark.parametrize("student", ["honest", "untouched"])
def test_honest_gets_full_marks_and_untouched_none(course: Course, student: str,
                                                   assignment: str) -> None:
    assert course.autograded(student, assignment).exists()
    scores = course.scores(student, assignment)
    for qid, points in expected_points(student, assignment).items():
        assert scores[qid] == pytest.approx(points), f"{student}/{qid}: {scores[qid]}"
    if student == "untouched":  # written answers left as released score 0 too
        assert all(score == 0 for score in scores.values()), scores


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_honest_notebook_runs_without_errors_or_stderr(course: Course, assignment: str
                                                       ) -> None:
    for cell in read_notebook(course.autograded("honest", assignment))["cells"]:
        for output in cell.get("outputs", []):
            assert output["output_type"] != "error", (cell.get("id"), output.get("evalue"))
            assert output.get("name") != "stderr", (cell.get("id"), output.get("text"))


@pytest.mark.parametrize("student", [*SLIPS, "unfinished"])
def test_slips_get_their_partial_credit(course: Course, student: str) -> None:
    scores = course.scores(student, "backprop")
    for qid, points in expected_points(student, "backprop").items():
        assert scores[qid] == pytest.approx(points), f"{student}/{qid}: {scores[qid]}"
    if student in SLIPS:
        q = question(SLIPS[student].question_id)
        assert 0 < scores[q.id] < q.points, f"{student} should get partial credit on {q.id}"


def test_feedback_names_the_sign_slip(course: Course) -> None:
    html = course.feedback("sign-slip", "backprop").read_text(encoding="utf-8")
    assert FEEDBACK["sign"] in html
    right = course.feedback("honest", "backprop").read_text(encoding="utf-8")
    assert FEEDBACK["sign"] not in right


def test_students_fetch_their_own_feedback_with_the_tas_comment(course: Course) -> None:
    """release_feedback sent backprop-kit's pages; fetch_feedback gives each student theirs
    (the TA's formgrader comment on a hand-graded answer included), readable offline."""
    (page,) = course.fetch_feedback("honest", "optimisation-1d")
    text = page.read_text(encoding="utf-8")
    assert "Feedback for <strong class=\"student\">honest</strong>" in text
    assert "Good start: say why f&#39;&#39; must not vanish near the root." in text
    assert "collect and autograde" not in text and "<script" not in text
    (slipped,) = course.fetch_feedback("sign-slip", "backprop")
    assert FEEDBACK["sign"] in slipped.read_text(encoding="utf-8")
    assert "honest" not in slipped.read_text(encoding="utf-8")


def test_tampered_test_cells_are_restored(course: Course) -> None:
    honest_scores = course.scores("honest", "backprop")
    scores = course.scores("tamper-cells", "backprop")
    assert scores == honest_scores
    for qid in (TAMPERED_SOURCE, TAMPERED_DELETED):
        assert scores[qid] == question(qid).points
    graded = read_notebook(course.autograded("tamper-cells", "backprop"))
    sources = {grade_id(c): source_of(c) for c in graded["cells"]}
    original = source_of(cell_of(source_notebook("backprop"), TAMPERED_SOURCE))
    assert sources[TAMPERED_SOURCE] == original
    assert TAMPERED_DELETED in sources, "the deleted test cell was not put back"
    assert sources[TAMPERED_DELETED].endswith(check_cell_source(question(TAMPERED_DELETED)))


def test_export_csv(course: Course) -> None:
    with (course.root.parent / "grades.csv").open(newline="", encoding="utf-8") as fh:
        rows = {(r["student_id"], r["assignment"]): r for r in csv.DictReader(fh)}
    for student, assignments in ROSTER.items():
        for assignment in assignments:
            row = rows[(student, assignment)]
            # Manually graded cells count 0 until graded by hand.
            autograded = sum(expected_points(student, assignment).values())
            by_hand = sum(p or 0 for p in hand_points(student, assignment).values())
            assert float(row["raw_score"]) == pytest.approx(autograded + by_hand), (
                student, assignment)
            cells = [c for c in source_notebook(assignment)["cells"]
                     if c["metadata"].get("nbgrader", {}).get("grade")]
            total = sum(c["metadata"]["nbgrader"]["points"] for c in cells)
            assert float(row["max_score"]) == pytest.approx(total), (student, assignment)


# --- nbgrader validate (run in the fixture, beside the students) ------------------------


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_validate_passes_on_the_solution(course: Course, assignment: str) -> None:
    result = course.validations[f"source-{assignment}"]
    assert result.returncode == 0, result.stderr
    assert "Success! Your notebook passes all the tests." in result.stdout, result.stdout
    assert "VALIDATION FAILED" not in result.stdout


def test_validate_fails_on_the_release(course: Course) -> None:
    result = course.validations["released-backprop"]
    # nbgrader 0.9.6 reports failing cells on stdout and still exits 0.
    assert result.returncode == 0, result.stderr
    assert f"VALIDATION FAILED ON {len(questions('backprop'))} CELL(S)!" in result.stdout
    assert "Success!" not in result.stdout
    assert result.stdout.count("The following cell failed:") == len(questions("backprop"))


# --- backprop-kit grade on the same submissions ----------------------------------------------


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_backprop_kit_grade_agrees_with_nbgrader(course: Course, assignment: str) -> None:
    """The grade of record gives every collected submission the scores autograde gave, and
    with ``--gradebook`` the hand-graded points too: the totals and maxima of nbgrader export,
    a written answer not graded yet shown as pending."""
    tmp_path = course.graded[assignment]
    ours = json.loads((tmp_path / "results.json").read_text(encoding="utf-8"))
    graded = {s["student"]: s for s in ours["submissions"]}
    students = [s for s, assignments in ROSTER.items() if assignment in assignments]
    assert sorted(graded) == sorted(students)
    with (course.root.parent / "grades.csv").open(newline="", encoding="utf-8") as fh:
        exported = {r["student_id"]: r for r in csv.DictReader(fh)
                    if r["assignment"] == assignment}
    with (tmp_path / "grades.csv").open(newline="", encoding="utf-8") as fh:
        our_csv = {r["student"]: r for r in csv.DictReader(fh)}
    for student in students:
        theirs = course.scores(student, assignment)
        hand = hand_points(student, assignment)
        for q in graded[student]["questions"]:
            assert q["points"] == pytest.approx(theirs[q["id"]]), (student, q["id"])
            if q["id"] in hand:
                assert q["pending"] == (hand[q["id"]] is None), (student, q["id"])
                assert our_csv[student][q["id"]] == ("pending" if q["pending"]
                                                     else f"{q['points']:g}")
        assert {q["id"] for q in graded[student]["questions"]} == set(theirs)
        assert graded[student]["points"] == pytest.approx(float(exported[student]["raw_score"]))
        assert graded[student]["max_points"] == pytest.approx(
            float(exported[student]["max_score"]))


# --- the README's instructor commands are the ones walked here ---------------------------


def test_readme_instructor_commands_are_this_flow(course: Course) -> None:
    """Every command of the README's instructor block, in its order, is what this flow ran
    (the exchange root comes from the configuration, as the README says)."""
    import re

    text = (ROOT / "README.md").read_text(encoding="utf-8")
    block = re.search(r"<!-- instructor-commands -->\n```\n(.*?)```", text, re.S)
    assert block, "README.md has no instructor-commands block"
    lines = block.group(1).splitlines()
    for line in [line for line in lines if line.startswith("for a in ")]:
        assert sorted(line.split(";")[0].split()[3:]) == sorted(ASSIGNMENTS), line
    steps = [re.search(r"(nbgrader|backprop-kit) ([\w-]+)", line).group(0) for line in lines]
    assert steps == course.steps
    assert not [line for line in lines if "/srv/" in line]  # no root-only path
