"""Every variant is solvable (issue 17): the reference solution notebook — the source notebook
with its solutions, handed in as a student would — run for a student earns full marks, through
the real ``backprop-kit grade --seed`` and through the real ``nbgrader autograde``.

Each CI run grades the first ``BACKPROP_KIT_VARIANT_IDS`` (default 8) of the 200 sample ids and
two ids with quotes and accents per assignment; ``BACKPROP_KIT_VARIANT_IDS=200`` grades all 200
(about 4 minutes an assignment at -j 2 on 2 busy cores; see the README). The notebook learns
whose it is from the submission's folder, never from a typed id.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from autograder.cli.commands import main
from autograder.course import examples
from autograder.rubric.course import ASSIGNMENTS, questions
from autograder.rubric.variants import student_key, variant_for
from autograder.run import sandbox

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT / "assignments"
UNSAFE = [] if sandbox.detect() != "none" else ["--allow-unsandboxed"]
SEED = "solvable-test-seed"
SAMPLE_IDS = [f"s{i:04d}" for i in range(200)]
ODD_IDS = ["o'brien", "Zoë Müller"]
COUNT = int(os.environ.get("BACKPROP_KIT_VARIANT_IDS", "8"))
# Through nbgrader (about 2.5 s a notebook): a few ids per CI run, or the first N sample ids of
# every assignment with BACKPROP_KIT_NBGRADER_IDS=N (200 for the whole sample).
NBGRADER_COUNT = int(os.environ.get("BACKPROP_KIT_NBGRADER_IDS", "0"))
NBGRADER_IDS = ({a: SAMPLE_IDS[:NBGRADER_COUNT] for a in
                 ("backprop", "optimisation-1d", "steepest-descent-2d")} if NBGRADER_COUNT else
                {"backprop": ["alice", "bob", "carol"], "optimisation-1d": ["dave", "erin"],
                 "steepest-descent-2d": ["frank"]})


def solution_copy(assignment: str) -> dict:
    """The source notebook as a student hands it in with every answer right."""
    return examples.as_student_copy(examples.load(SOURCE, assignment))


@pytest.fixture(scope="module", params=ASSIGNMENTS)
def graded(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
           ) -> tuple[str, list[str], dict[str, dict]]:
    assignment = request.param
    ids = [*SAMPLE_IDS[:COUNT], *ODD_IDS]
    root = tmp_path_factory.mktemp(f"solvable-{assignment}")
    nb = json.dumps(solution_copy(assignment))
    for student in ids:
        (root / "class" / student).mkdir(parents=True)
        (root / "class" / student / f"{assignment}.ipynb").write_text(nb, encoding="utf-8")
    started = time.monotonic()
    result = CliRunner().invoke(main, ["grade", str(root / "class"), "-a", assignment, "-o",
                                       str(root / "out"), "--seed", SEED, "-j", "2", *UNSAFE],
                                catch_exceptions=False)
    seconds = time.monotonic() - started
    assert result.exit_code == 0, result.output
    print(f"\n{assignment}: {len(ids)} variants graded in {seconds:.1f} s at -j 2")
    data = json.loads((root / "out" / "results.json").read_text(encoding="utf-8"))
    return assignment, ids, {s["student"]: s for s in data["submissions"]}


def test_every_variant_earns_full_marks_through_grade(graded) -> None:
    assignment, ids, subs = graded
    assert sorted(subs) == sorted(ids)
    for student in ids:
        sub = subs[student]
        assert sub["variant"] == student_key(student, SEED), student
        assert sub["variant_mismatch"] is None and not sub["errors"], (student, sub["errors"])
        lost = {q["id"]: q["feedback"] for q in sub["questions"]
                if q["points"] != q["max_points"]}
        assert not lost, (student, lost)
        assert sub["points"] == sum(q.points for q in questions(
            assignment, variant_for(assignment, student, SEED)))


def test_the_variants_graded_differ(graded) -> None:
    """Each of them asks other numbers (so full marks were earned with each student's own)."""
    assignment, ids, _ = graded
    numbers = {json.dumps(variant_for(assignment, s, SEED).numbers, sort_keys=True)
               for s in ids}
    assert len(numbers) == len(ids)


# --- nbgrader autograde --------------------------------------------------------------------


def shown(assignment: str, numbers: dict) -> str:
    """What the notebook's your-numbers cell shows of a variant's numbers."""
    if assignment == "backprop":
        return "| " + " | ".join(f"{v:g}" for v in numbers["theta0"]) + " |"
    if assignment == "steepest-descent-2d":
        alpha, beta, c1, c2 = numbers["f2"]
        return f"$\\\\alpha = {alpha}$, $\\\\beta = {beta}$, $c_1 = {c1}$, $c_2 = {c2}$"
    x_div, eta_div = numbers["diverge"]
    return f"from $x_0 = {x_div}$ with $\\\\eta = {eta_div}$"


@pytest.mark.nbgrader
def test_every_variant_earns_full_marks_through_nbgrader_autograde(
        tmp_path: Path) -> None:
    """A course with a seed: generate_assignment, the solution handed in under a few ids,
    autograde; the hidden tests judge each against the variant its folder names."""
    course = tmp_path / "course"
    shutil.copytree(SOURCE, course / "assignments", ignore=shutil.ignore_patterns("__pycache__"))
    config = (ROOT / "nbgrader_config.py").read_text(encoding="utf-8")
    config += (f"\nc.CourseDirectory.root = {str(course)!r}\n"
               f"c.BackpropKit.variant_seed = {SEED!r}\n")
    (course / "nbgrader_config.py").write_text(config, encoding="utf-8")
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("JUPYTER", "NBGRADER", "BACKPROP_KIT"))}
    env.update(PATH=f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}",
               HOME=str(tmp_path / "home"), MPLCONFIGDIR=str(tmp_path / "home" / ".mpl"))

    most = max(len(ids) for ids in NBGRADER_IDS.values())

    def nbgrader(*args: str) -> None:  # autograde takes a few seconds a notebook
        done = subprocess.run([sys.executable, "-m", "nbgrader", *args], cwd=course, env=env,
                              capture_output=True, text=True, timeout=300 + 20 * most)
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]

    for assignment, students in NBGRADER_IDS.items():
        nbgrader("generate_assignment", assignment, "--force")
        nb = json.dumps(solution_copy(assignment))
        for student in students:
            folder = course / "submitted" / student / assignment
            folder.mkdir(parents=True)
            (folder / f"{assignment}.ipynb").write_text(nb, encoding="utf-8")
            shutil.copy(course / "release" / assignment / "selfcheck.json", folder)
        nbgrader("autograde", assignment, "--force", "--create")

    for assignment, students in NBGRADER_IDS.items():  # the notebooks ran with their numbers
        for student in students:
            numbers = variant_for(assignment, student, SEED).numbers
            assert numbers != variant_for(assignment, None, None).numbers
            ran = json.loads((course / "autograded" / student / assignment /
                              f"{assignment}.ipynb").read_text(encoding="utf-8"))
            (cell,) = [c for c in ran["cells"] if c.get("id") == "your-numbers"]
            assert shown(assignment, numbers) in json.dumps(cell["outputs"]), student

    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        for assignment, students in NBGRADER_IDS.items():
            for student in students:
                sub = gb.find_submission(assignment, student)
                scores = {g.name: g.score for n in sub.notebooks for g in n.grades}
                mine = questions(assignment, variant_for(assignment, student, SEED))
                assert {q.id: scores[q.id] for q in mine} == {q.id: q.points for q in mine}, (
                    assignment, student)
