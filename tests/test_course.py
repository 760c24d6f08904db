"""The course on disk: each assignment's rubric.py beside its notebook, found from anywhere
the instructor's tools or nbgrader's hidden tests run."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from autograder.errors import BackpropKitError, UsageError
from autograder.rubric import course

ROOT = Path(__file__).resolve().parents[1]


def test_the_course_is_the_checkout_and_its_assignments_have_rubrics() -> None:
    assert course.find_course() == ROOT
    assert set(course.ASSIGNMENTS) == {p.parent.name for p in ROOT.glob("assignments/*/*.ipynb")}
    for assignment in course.ASSIGNMENTS:
        ids = [q.id for q in course.questions(assignment)]
        assert ids and all(course.question(i).id == i for i in ids)


def test_walks_up_to_nbgrader_config_when_solutions_is_elsewhere(tmp_path: Path) -> None:
    root = tmp_path / "course"
    (root / "assignments").mkdir(parents=True)
    (root / "nbgrader_config.py").write_text("", encoding="utf-8")
    deep = root / "autograded" / "student" / "backprop"
    deep.mkdir(parents=True)
    assert course.find_course(deep, package_root=tmp_path / "site-packages") == root


def test_no_course_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(BackpropKitError, match="no course directory found.*nbgrader_config.py"):
        course.find_course(tmp_path, package_root=tmp_path)


def test_unknown_assignment_and_question_are_usage_errors() -> None:
    with pytest.raises(UsageError, match="no-such-assignment.*backprop"):
        course.questions("no-such-assignment")
    with pytest.raises(UsageError, match="no-such-question"):
        course.question("no-such-question")


def test_a_broken_rubric_names_its_file(tmp_path: Path) -> None:
    path = tmp_path / "broken" / course.RUBRIC_FILE
    path.parent.mkdir()
    path.write_text("QUESTIONS = [1]\n", encoding="utf-8")
    with pytest.raises(BackpropKitError,
                       match=f"{path}.*tuple of autograder.rubric.question.Question"):
        course._load(path)


def test_hidden_grade_finds_the_rubric_from_an_autograded_folder(tmp_path: Path) -> None:
    """What nbgrader autograde does: the student's kernel calls grade() with cwd far from the
    course, here a folder outside it (as nbgrader validate's copies are)."""
    code = ("from autograder.student.notebook import grade\n"
            "from autograder.rubric.course import question\n"
            "q = question('backprop-dR-db1')\n"
            "print(grade(q.id, str(q.expected)) == q.points)\n")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    result = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().endswith("True"), result.stdout


def test_a_copy_of_the_course_finds_itself_and_its_own_solutions(tmp_path: Path) -> None:
    """Run inside a copy of the checkout, the course is the copy and its rubrics import the
    copy's solutions, not the installed ones (a changed reference shows)."""
    import shutil
    import subprocess
    import sys

    copy = tmp_path / "course-copy"
    copy.mkdir()
    shutil.copy(ROOT / "nbgrader_config.py", copy)
    shutil.copytree(ROOT / "assignments", copy / "assignments",
                    ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(ROOT / "solutions", copy / "solutions",
                    ignore=shutil.ignore_patterns("__pycache__"))
    (copy / "solutions" / "__init__.py").write_text('"""The copy."""\nWHERE = "copy"\n')
    probe = (
        "from autograder.rubric import course\n"
        "print(course.find_course())\n"
        "course.questions('backprop')\n"
        "import solutions\n"
        "print(solutions.WHERE)\n")
    done = subprocess.run([sys.executable, "-c", probe], cwd=copy / "assignments",
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == [str(copy.resolve()), "copy"]
