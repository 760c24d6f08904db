"""The README's "Adding a question", walked as a newcomer walks it: in a copy of the checkout,
the rubric line and the command are taken from the README itself, then the notebook is checked
like the course's own and the question graded by the real ``backprop-kit grade``."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat

from autograder.course.authoring import TASK_STUB

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
TOTAL = re.compile(r"\*\*Total: (\d+(?:\.\d+)?) points\*\*")
HEADING = re.compile(r"^### Question (\d+) \((\d+(?:\.\d+)?) points?", re.M)


def readme_example() -> tuple[str, str, str]:
    """The README's worked example: the assignment, the rubric line, the command."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## Adding a question", 1)[1].split("\n## ", 1)[0]
    (python,) = re.findall(r"```python\n(.*?)\n *```", section, re.S)
    (shell,) = re.findall(r"<!-- add-question-command -->\n *```\n(.*?)\n *```", section, re.S)
    assignment = re.search(r"assignments/([\w-]+)/rubric\.py", section).group(1)
    return assignment, python.strip(), shell.strip()


def copy_course(to: Path) -> Path:
    to.mkdir()
    shutil.copy(ROOT / "nbgrader_config.py", to)
    for name in ("assignments", "solutions"):
        shutil.copytree(ROOT / name, to / name, ignore=shutil.ignore_patterns("__pycache__"))
    return to


def add_to_questions(rubric: Path, entry: str) -> None:
    """Put ``entry`` last in the tuple ``questions(variant)`` returns, as the README says."""
    text = rubric.read_text(encoding="utf-8")
    start = text.index("\ndef questions(")
    returned = text.index("\n    return (\n", start)
    end = text.index("\n    )\n", returned)
    lines = "".join(f"        {line}\n" for line in entry.strip().splitlines())
    rubric.write_text(text[:end + 1] + lines + text[end + 1:], encoding="utf-8")


def meta(cell: dict) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {})


def run(command: list[str], cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    env.pop("PYTHONPATH", None)
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=600)


def test_a_question_added_as_the_readme_says_is_in_the_notebook_and_graded(tmp_path: Path
                                                                             ) -> None:
    assignment, entry, command = readme_example()
    course = copy_course(tmp_path / "course")
    notebook = course / "assignments" / assignment / f"{assignment}.ipynb"
    before = nbformat.read(notebook, as_version=4)
    total_before = float(TOTAL.search(before.cells[0].source).group(1))

    add_to_questions(course / "assignments" / assignment / "rubric.py", entry)
    done = run(["bash", "-c", command], course)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "still to write by hand" in done.stdout and "selfcheck.json" in done.stdout

    question_id, name, _, points = re.search(
        r'Question\("([\w-]+)", "(\w+)", "(\w+)", (\d+(?:\.\d+)?)', entry).groups()
    points = float(points)
    nb = nbformat.read(notebook, as_version=4)
    nbformat.validate(nb)
    by_id = {c.get("id"): c for c in nb.cells}
    task, answer, test = (by_id[f"{question_id}-task"], by_id[f"{question_id}-answer"],
                          by_id[question_id])
    assert meta(answer) == {"grade": False, "grade_id": f"{question_id}-answer",
                            "locked": False, "schema_version": 3, "solution": True}
    assert meta(test)["grade"] and meta(test)["locked"] and meta(test)["points"] == points
    assert f'grade("{question_id}")' in test.source and f'check("{question_id}")' in test.source
    assert f"`{name}`" in task.source and TASK_STUB in task.source
    # the header: one more row, the new total; headings numbered in order, each with its points
    assert float(TOTAL.search(nb.cells[0].source).group(1)) == total_before + points
    rows = [r for r in nb.cells[0].source.splitlines() if r.startswith("| ")][2:]
    graded = [float(meta(c)["points"]) for c in nb.cells if meta(c).get("grade")]
    assert sum(float(p) for r in rows for p in r.rstrip(" |").rsplit("|", 1)[1].split("+")) \
        == sum(graded)
    headings = [(int(n), float(p)) for c in nb.cells if c.cell_type == "markdown"
                for n, p in HEADING.findall(c.source)]
    assert [n for n, _ in headings] == list(range(1, len(headings) + 1))
    assert headings[-1] == (len(headings), points) and rows[-1].startswith(f"| {len(headings)} |")
    released = json.loads((notebook.parent / "selfcheck.json").read_text())
    assert question_id in released["questions"]

    # graded: the solution notebook earns the new points, a wrong answer to it nothing there
    submitted = tmp_path / "submitted"
    for student in ("right", "wrong"):
        (submitted / student / assignment).mkdir(parents=True)
    shutil.copy(notebook, submitted / "right" / assignment / notebook.name)
    wrong = nbformat.read(notebook, as_version=4)
    wrong.cells[nb.cells.index(answer)].source = f'{name} = "x"'
    nbformat.write(wrong, submitted / "wrong" / assignment / notebook.name)
    out = tmp_path / "grades"
    graded_run = run(["backprop-kit", "grade", str(submitted), "-a", assignment, "-o", str(out),
                      "-j", "2"], course)
    assert graded_run.returncode == 0, graded_run.stdout + graded_run.stderr
    results = {s["student"]: {q["id"]: q for q in s["questions"]}
               for s in json.loads((out / "results.json").read_text())["submissions"]}
    assert results["right"][question_id]["points"] == points
    assert results["right"][question_id]["max_points"] == points
    assert all(q["points"] == q["max_points"] for q in results["right"].values()
               if not q.get("pending"))
    assert results["wrong"][question_id]["points"] == 0
    assert {k: q["points"] for k, q in results["wrong"].items() if k != question_id} == \
        {k: q["points"] for k, q in results["right"].items() if k != question_id}


def test_adding_a_question_not_in_the_rubric_says_where_it_goes(tmp_path: Path) -> None:
    course = copy_course(tmp_path / "course")
    notebook = course / "assignments" / "optimisation-1d" / "optimisation-1d.ipynb"
    before = notebook.read_bytes()
    done = run(["backprop-kit", "add-question", "optimisation-1d", "opt1d-nowhere"], course)
    assert done.returncode != 0
    assert "rubric.py has no question 'opt1d-nowhere'" in done.stderr + done.stdout
    assert "questions(variant)" in done.stderr + done.stdout
    assert notebook.read_bytes() == before


def test_a_hand_graded_question_updates_the_split_the_header_states(tmp_path: Path) -> None:
    from autograder.course.authoring import add_question, number_list
    from autograder.rubric.question import Question

    assert number_list([1, 2, 3, 5, 6]) == "1–3, 5 and 6" and number_list([4]) == "4"
    notebook = tmp_path / "sd2d.ipynb"
    shutil.copy(ROOT / "assignments" / "steepest-descent-2d" / "steepest-descent-2d.ipynb",
                notebook)
    header = nbformat.read(notebook, as_version=4).cells[0].source
    split = r"(\d+) points graded automatically .* (\d+) points graded by\s+hand"
    auto, hand = (float(n) for n in re.search(split, header, re.S).groups())
    added = add_question(notebook, Question("sd2d-why", "", "manual", 2, "Why it zigzags"))
    nb = nbformat.read(notebook, as_version=4)
    header = nb.cells[0].source
    n = added.number
    assert f"{hand + 2:g} points graded by hand (questions " in header
    assert re.search(rf"graded by hand \(questions [^)]*\b{n}\)", header)
    assert f"{auto:g} points graded automatically" in header
    (cell,) = [c for c in nb.cells if meta(c).get("grade_id") == "sd2d-why"]
    assert cell.cell_type == "markdown" and meta(cell)["points"] == 2 and meta(cell)["solution"]
    assert any("marking scheme" in item for item in added.to_do)
