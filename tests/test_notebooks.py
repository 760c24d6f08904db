"""The nbgrader source notebooks, read as files (fast; no nbgrader command runs here).

Each question of an assignment's ``rubric.py`` must have its answer cell and its test cell, with the
right ids, points and template; the header must state the right total; nothing a student
receives (the released notebook, ``selfcheck.json``) may contain a reference answer.
"""

from __future__ import annotations

import ast
import io
import json
import re
import tokenize
from collections import Counter
from pathlib import Path
from typing import Any

import nbformat
import numpy as np
import pytest
import sympy

from autograder.course import release as authoring
from autograder.rubric.course import ASSIGNMENTS, questions
from autograder.rubric.question import Question
from autograder.rubric.variants import variant_for
from autograder.student.notebook import SELFCHECK_FILE

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT / "assignments"

READABLE_ID = re.compile(r"[A-Za-z][A-Za-z0-9]*(?:-[A-Za-z0-9]+)*")
RANDOM_PART = re.compile(r"(?=[0-9a-f]*[0-9])(?=[0-9a-f]*[a-f])[0-9a-f]{6,}")
TOTAL = re.compile(r"\*\*Total: (\d+(?:\.\d+)?) points\*\*")
SOLUTION_BLOCK = re.compile(r"### BEGIN SOLUTION.*?### END SOLUTION", re.S)
HIDDEN_BLOCK = re.compile(r"### BEGIN HIDDEN TESTS.*?### END HIDDEN TESTS\n?", re.S)
CODE_STUB = "# YOUR ANSWER HERE"
TEXT_STUB = "YOUR ANSWER HERE"

params = pytest.mark.parametrize("assignment", ASSIGNMENTS)


def notebook_path(assignment: str) -> Path:
    return SOURCE / assignment / f"{assignment}.ipynb"


def load(assignment: str) -> nbformat.NotebookNode:
    return nbformat.read(notebook_path(assignment), as_version=nbformat.NO_CONVERT)


def meta(cell: Any) -> dict[str, Any]:
    return dict(cell.get("metadata", {}).get("nbgrader", {}))


def grade_cells(nb: Any) -> list[Any]:
    return [c for c in nb.cells if meta(c).get("grade")]


def cells_with_grade_id(nb: Any, grade_id: str) -> list[Any]:
    return [c for c in nb.cells if meta(c).get("grade_id") == grade_id]


def released(nb: Any) -> dict[str, Any]:
    """What nbgrader's generate_assignment makes of the source notebook (content only)."""
    out = json.loads(json.dumps(nb))
    for cell in out["cells"]:
        m = cell.get("metadata", {}).get("nbgrader", {})
        if cell["cell_type"] == "markdown" and m.get("solution"):
            cell["source"] = TEXT_STUB
        else:
            cell["source"] = HIDDEN_BLOCK.sub("", SOLUTION_BLOCK.sub(CODE_STUB, cell["source"]))
    return out


def released_text(assignment: str) -> str:
    return json.dumps(released(load(assignment)), indent=1, ensure_ascii=False)


def numbers_of(expected: Any) -> list[float]:
    return [float(v) for v in np.asarray(expected, dtype=float).ravel()]


def digit_forms(value: float) -> set[str]:
    """``value`` written with 4 to 8 significant digits (trailing zeros kept)."""
    return {f"{abs(value):#.{n}g}" for n in range(4, 9)}


def leaks(question: Question, text: str) -> list[str]:
    """The forms of the question's reference answer that occur in ``text``."""
    if question.kind == "expression":
        forms = {sympy.sstr(question.expected), str(question.expected)}
        forms -= set(question.variables)  # a link that is one symbol: naming it is no leak
    elif question.kind in ("number", "array"):
        forms = {f for v in numbers_of(question.expected) if abs(v) > 1e-12
                 for f in digit_forms(v)}
    else:  # a function: the reference is code on the instructor's side, no value to leak
        forms = set()
    return sorted(f for f in forms if f in text)


# --- the files ---------------------------------------------------------------------------


@params
def test_notebook_is_valid_nbformat_4_5(assignment: str) -> None:
    nb = load(assignment)
    nbformat.validate(nb)
    assert (nb.nbformat, nb.nbformat_minor) >= (4, 5)
    assert nb.metadata["kernelspec"]["name"] == "python3"
    assert nb.metadata["kernelspec"]["language"] == "python"


@params
def test_outputs_are_stripped(assignment: str) -> None:
    for cell in load(assignment).cells:
        if cell.cell_type == "code":
            assert cell.outputs == [], f"cell {cell.id} has outputs"
            assert cell.execution_count is None, f"cell {cell.id} has an execution count"


@params
def test_cell_ids_are_unique_readable_and_stable(assignment: str) -> None:
    ids = [cell.id for cell in load(assignment).cells]
    assert not [i for i, n in Counter(ids).items() if n > 1], "duplicate cell ids"
    for cell_id in ids:
        assert READABLE_ID.fullmatch(cell_id), f"cell id {cell_id!r} is not a readable slug"
        assert not any(RANDOM_PART.fullmatch(part.lower()) for part in cell_id.split("-")), (
            f"cell id {cell_id!r} looks generated; name the cell"
        )


@params
def test_nbgrader_cells_have_unique_grade_ids(assignment: str) -> None:
    nb = load(assignment)
    graded = [c for c in nb.cells if meta(c)]
    grade_ids = [meta(c).get("grade_id") for c in graded]
    assert all(grade_ids), "an nbgrader cell without a grade_id"
    assert len(grade_ids) == len(set(grade_ids)), "duplicate grade ids"
    for cell in graded:
        assert meta(cell)["schema_version"] == 3
        assert cell.id == meta(cell)["grade_id"], "an nbgrader cell's id is its grade_id"


# --- questions, answer cells and test cells -----------------------------------------------


def assigned_names(source: str) -> set[str]:
    names: set[str] = set()
    for node in ast.parse(source).body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                names.update(n.id for n in ast.walk(target) if isinstance(n, ast.Name))
    return names


def answer_value(source: str, name: str) -> ast.expr | None:
    for node in ast.parse(source).body:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == name for t in node.targets
        ):
            return node.value
    return None


def is_literal(node: ast.expr) -> bool:
    try:
        ast.literal_eval(node)
    except ValueError:
        return False
    return True


def the_code_cell(nb, grade_id: str):
    """The one code cell with this grade_id (fails the test if there are none or several)."""
    cells = cells_with_grade_id(nb, grade_id)
    assert len(cells) == 1, f"{grade_id}: {len(cells)} cells"
    assert cells[0].cell_type == "code", grade_id
    return cells[0]


@params
def test_every_question_has_one_answer_cell(assignment: str) -> None:
    nb = load(assignment)
    for q in questions(assignment):
        cell = the_code_cell(nb, q.answer_cell)
        assert meta(cell) == {"solution": True, "grade": False, "locked": False,
                              "grade_id": q.answer_cell, "schema_version": 3}
        source = cell.source
        assert source.startswith("### BEGIN SOLUTION\n"), q.answer_cell
        assert source.rstrip().endswith("### END SOLUTION"), q.answer_cell
        assert q.name in assigned_names(source), f"{q.answer_cell} does not define {q.name}"
        if q.kind in ("number", "array"):
            value = answer_value(source, q.name)
            assert value is None or not is_literal(value), (
                f"{q.answer_cell}: {q.name} is typed in, not computed"
            )


@params
def test_every_question_has_one_test_cell(assignment: str) -> None:
    nb = load(assignment)
    for q in questions(assignment):
        cell = the_code_cell(nb, q.id)
        assert meta(cell) == {"grade": True, "solution": False, "locked": True,
                              "points": q.points, "grade_id": q.id, "schema_version": 3}
        assert cell.source == authoring.check_cell_source(q), (
            f"{q.id}: test cell differs from the template: run `backprop-kit test-cells`")
        assert nb.cells.index(cell) > nb.cells.index(the_code_cell(nb, q.answer_cell))


@params
def test_autograded_cells_are_exactly_the_questions(assignment: str) -> None:
    nb = load(assignment)
    code_tests = {meta(c)["grade_id"] for c in grade_cells(nb) if c.cell_type == "code"}
    assert code_tests == {q.id for q in questions(assignment)}
    answers = {meta(c)["grade_id"] for c in nb.cells
               if c.cell_type == "code" and meta(c).get("solution")}
    assert answers == {q.answer_cell for q in questions(assignment)}


@params
def test_manually_graded_cells_hold_a_model_answer(assignment: str) -> None:
    for cell in grade_cells(load(assignment)):
        if cell.cell_type == "markdown":
            m = meta(cell)
            assert m["solution"] is True and m["locked"] is False and m["points"] > 0
            assert len(cell.source) > 200 and TEXT_STUB not in cell.source


@params
def test_manually_graded_cells_have_a_marking_scheme_that_is_not_released(assignment: str
                                                                          ) -> None:
    for cell in grade_cells(load(assignment)):
        if cell.cell_type == "markdown":
            assert "**Marking scheme (instructor" in cell.source, cell.id
    assert "Marking scheme (instructor" not in released_text(assignment)


@params
def test_header_states_the_total_points(assignment: str) -> None:
    nb = load(assignment)
    header = nb.cells[0]
    assert header.cell_type == "markdown" and header.source.startswith("# ")
    found = TOTAL.findall(header.source)
    assert len(found) == 1, "the header must state '**Total: N points**' once"
    total = sum(float(meta(c)["points"]) for c in grade_cells(nb))
    assert float(found[0]) == total
    autograded = sum(q.points for q in questions(assignment))
    assert total >= autograded


@params
def test_test_cells_hold_no_literal_but_their_id(assignment: str) -> None:
    nb = load(assignment)
    for cell in grade_cells(nb):
        if cell.cell_type != "code":
            continue
        tokens = list(tokenize.generate_tokens(io.StringIO(cell.source).readline))
        numbers = [t.string for t in tokens if t.type == tokenize.NUMBER]
        strings = {t.string for t in tokens if t.type == tokenize.STRING}
        assert not numbers, f"{cell.id}: numeric literal(s) {numbers}"
        assert strings == {f'"{meta(cell)["grade_id"]}"'}, f"{cell.id}: strings {strings}"


NUMBER_KEY = re.compile(r"""numbers\[["']([A-Za-z_0-9]+)["']\]""")


@params
def test_notebooks_compute_with_the_students_numbers(assignment: str) -> None:
    """The first code cell works out the student's variant; the code cells use every number
    of it (the references are computed from the same numbers), none the notebook lacks."""
    nb = load(assignment)
    code = [c.source for c in nb.cells if c.cell_type == "code"]
    first = ast.parse(code[0])
    assert "STUDENT_ID" in assigned_names(code[0]), "the first code cell defines STUDENT_ID"
    assert "numbers" in assigned_names(code[0])
    calls = {n.func.id for n in ast.walk(first) if isinstance(n, ast.Call)
             and isinstance(n.func, ast.Name)}
    assert "my_variant" in calls
    used = set(NUMBER_KEY.findall("\n".join(code)))
    assert used == set(variant_for(assignment, None, None).numbers), (
        f"{assignment}: numbers used {sorted(used)}")


# --- what students receive -------------------------------------------------------------


@params
def test_selfcheck_json_is_current(assignment: str) -> None:
    path = SOURCE / assignment / SELFCHECK_FILE
    assert path.exists(), f"{path} is missing: run `backprop-kit selfchecks`"
    assert path.read_text(encoding="utf-8") == authoring.selfcheck_text(assignment), (
        f"{path} is stale (a question or a reference changed): run `backprop-kit selfchecks`"
    )


@params
def test_released_notebook_keeps_checks_and_drops_solutions(assignment: str) -> None:
    text = released_text(assignment)
    assert "check(" in text
    for marker in ("### BEGIN SOLUTION", "BEGIN HIDDEN TESTS", "grade("):
        assert marker not in text
    source = load(assignment)
    for q in questions(assignment):
        (cell,) = cells_with_grade_id(source, q.answer_cell)
        lines = [ln.strip() for ln in cell.source.splitlines()
                 if ln.startswith((f"{q.name} =", f"def {q.name}("))]
        assert lines, q.answer_cell
        assert not [ln for ln in lines if ln in text], f"{q.answer_cell} leaks into the release"


@params
def test_no_reference_answer_in_released_files(assignment: str) -> None:
    selfcheck = (SOURCE / assignment / SELFCHECK_FILE).read_text(encoding="utf-8")
    files = {"released notebook": released_text(assignment), SELFCHECK_FILE: selfcheck}
    # An expression's fingerprint (its values at fixed points) may share four digits with a
    # number of another question by chance: numeric answers are looked for outside them.
    data = json.loads(selfcheck)
    for entry in data["questions"].values():
        entry.pop("fingerprint", None)
    without_fingerprints = json.dumps(data, ensure_ascii=False)
    for q in questions(assignment):
        for name, text in files.items():
            if name == SELFCHECK_FILE and q.kind != "expression":
                text = without_fingerprints
            assert not leaks(q, text), f"{name} contains the answer to {q.id}: {leaks(q, text)}"


def test_leak_detection_works() -> None:
    q = questions("backprop")[0]
    assert leaks(q, f"x = '{sympy.sstr(q.expected)}'")
    arr = next(q for q in questions("backprop") if q.kind == "array")
    assert leaks(arr, f"{numbers_of(arr.expected)[0]:.5f}")
    assert not leaks(arr, "0.311 and 0.455")


# --- points and precision, as stated -------------------------------------------------------

HEADING = re.compile(r"^### Question (\d+) \((\d+(?:\.\d+)?) points?(?:, graded by hand)?\)",
                     re.M)
PART = re.compile(r"\*\*\(([a-z])\) \((\d+(?:\.\d+)?) points?\)\*\*")
PRECISION = re.compile(r"(\d+) (significant digits|decimals)")
PRECISION_WORDS = {"significant digits": "significant", "decimals": "decimals"}


def _header_points(nb: Any) -> list[float]:
    """The Points column of the header's table, each row's parts in order."""
    rows = [line for line in nb.cells[0].source.splitlines()
            if line.startswith("| ") and not line.startswith(("| Question", "| ---"))]
    return [float(p) for row in rows for p in row.rstrip(" |").rsplit("|", 1)[1].split("+")]


@params
def test_header_table_headings_and_nbgrader_agree_on_every_point(assignment: str) -> None:
    """The header's table lists each graded cell's points in order; each question's heading
    states the sum of its graded cells, each part "(a) (1 point)" its own cell's."""
    nb = load(assignment)
    graded = [float(meta(c)["points"]) for c in grade_cells(nb)]
    assert _header_points(nb) == graded
    stated: list[tuple[str, float, list[float]]] = []  # (question, stated, graded cells)
    pending_part: float | None = None
    for cell in nb.cells:
        if cell.cell_type == "markdown" and not meta(cell).get("grade"):
            for number, points in HEADING.findall(cell.source):
                stated.append((number, float(points), []))
            parts = PART.findall(cell.source)
            assert len(parts) <= 1, cell.id
            if parts:
                pending_part = float(parts[0][1])
        if meta(cell).get("grade"):
            assert stated, f"{cell.id} comes before any question heading"
            stated[-1][2].append(float(meta(cell)["points"]))
            if pending_part is not None:
                assert pending_part == float(meta(cell)["points"]), cell.id
                pending_part = None
    assert [n for n, _, _ in stated] == [str(i) for i in range(1, len(stated) + 1)]
    for number, points, cells in stated:
        assert cells and points == sum(cells), (assignment, number, points, cells)


@params
def test_the_text_states_the_precision_each_number_is_graded_to(assignment: str) -> None:
    """A number graded to a precision (the rubric's ``precision``: 4 significant digits, 6
    decimals) is asked for with exactly those words in its task, and no task states a
    precision its question does not grade."""
    nb = load(assignment)
    by_answer = {q.answer_cell: q for q in questions(assignment)}
    told: list[tuple[str, int]] = []
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            told += [(PRECISION_WORDS[kind], int(n)) for n, kind in PRECISION.findall(cell.source)]
        q = by_answer.get(meta(cell).get("grade_id", ""))
        if q is None:
            continue
        stated = [tuple(q.precision)] if q.precision else []
        assert told == stated, f"{q.id}: graded to {stated}, the text says {told}"
        told = []
