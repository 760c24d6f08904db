"""Adding a question to an assignment: its cells are written from its rubric entry.

The rubric (``assignments/<a>/rubric.py``) says what a question is; the notebook must then hold a
task, an answer cell and a test cell with nbgrader's metadata, a row in the header's table and
the new total. Written by hand that is seven places in two files; written here, it is one
command, and the notebook tests check the result like any other question.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from autograder.course.release import cell_source, check_cell_source
from autograder.errors import UsageError
from autograder.rubric.question import Question

TASK_STUB = "*Write the task here: what is asked, and in which form.*"
MARKING_STUB = ("*Write the marking scheme here: what earns each point, in halves. It is "
                "stripped from the release.*")
HEADING = re.compile(r"^### Question (\d+) \(", re.M)
TOTAL = re.compile(r"\*\*Total: (\d+(?:\.\d+)?) points\*\*")
AUTO_SPLIT = re.compile(r"(\d+(?:\.\d+)?)\s+points?\s+graded\s+automatically\s+"
                        r"\(questions?\s[^)]*\)")
HAND_SPLIT = re.compile(r"(\d+(?:\.\d+)?)\s+points?\s+graded\s+by\s+hand\s+"
                        r"\(questions?\s[^)]*\)")
ALL_AUTO = "all graded automatically"


@dataclass
class Added:
    """What :func:`add_question` wrote, and what is left for the author to write."""

    notebook: Path
    number: int
    cells: list[str]
    total: float
    to_do: list[str] = field(default_factory=list)


def points_text(points: float) -> str:
    return f"{points:g} point" + ("" if points == 1 else "s")


def _grade_meta(cell: dict[str, Any]) -> dict[str, Any]:
    meta = cell.get("metadata", {}).get("nbgrader", {})
    return meta if meta.get("grade") else {}


def _form(question: Question) -> str:
    """How the answer is handed in, as the task says it."""
    if question.kind == "expression":
        names = ", ".join(f"`{v}`" for v in question.variables) or "the task's symbols"
        return f"an expression in {names} (a string or a sympy expression)"
    if question.kind == "number":
        return "a number"
    if question.kind == "array":
        size = len(question.labels) if question.labels else None
        return f"a list or numpy array of {size} numbers" if size else "a list or numpy array"
    return "a function defined with `def`"


def _precision_text(question: Question) -> str:
    if not question.precision:
        return ""
    kind, n = question.precision
    return f", graded to {n} " + ("significant digits" if kind == "significant" else "decimals")


def _solution(question: Question) -> tuple[str, bool]:
    """The answer cell's solution region, and whether the author must still write it."""
    import sympy

    if question.kind == "expression" and question.expected is not None:
        text = sympy.sstr(question.expected)
        return (f"# the lecture's answer, from solutions/ (a variant course: write it from "
                f"`numbers`)\n{question.name} = \"{text}\""), False
    return (f"# the reference solution, as a student would write it\n"
            f"{question.name} = None"), True


def _cells(question: Question, number: int, solution: str) -> list[dict[str, Any]]:
    """The task, answer and test cells of an autograded question (a hand-graded one: the task
    and the markdown grade cell)."""
    import nbformat

    manual = question.kind == "manual"
    heading = (f"### Question {number} ({points_text(question.points)}"
               f"{', graded by hand' if manual else ''}) — {question.title}")
    if manual:
        task = nbformat.v4.new_markdown_cell(f"{heading}\n\n{TASK_STUB}")
        task["id"] = f"{question.id}-task"
        answer = nbformat.v4.new_markdown_cell(f"**Marking scheme (instructor; stripped on "
                                               f"release):** {MARKING_STUB}")
        answer["id"] = question.id
        answer["metadata"]["nbgrader"] = {
            "grade": True, "grade_id": question.id, "locked": False,
            "points": question.points, "schema_version": 3, "solution": True}
        return [task, answer]
    task = nbformat.v4.new_markdown_cell(
        f"{heading}\n\n{TASK_STUB} Store your answer in `{question.name}`: "
        f"{_form(question)}{_precision_text(question)}.")
    task["id"] = f"{question.id}-task"
    answer = nbformat.v4.new_code_cell(f"### BEGIN SOLUTION\n{solution}\n### END SOLUTION")
    answer["id"] = question.answer_cell
    answer["metadata"]["nbgrader"] = {
        "grade": False, "grade_id": question.answer_cell, "locked": False,
        "schema_version": 3, "solution": True}
    test = nbformat.v4.new_code_cell(check_cell_source(question))
    test["id"] = question.id
    test["metadata"]["nbgrader"] = {
        "grade": True, "grade_id": question.id, "locked": True,
        "points": question.points, "schema_version": 3, "solution": False}
    return [task, answer, test]


def number_list(numbers: list[int]) -> str:
    """Question numbers as the header says them: 1–3, 5 and 6."""
    runs: list[list[int]] = []
    for n in sorted(numbers):
        if runs and n == runs[-1][-1] + 1:
            runs[-1].append(n)
        else:
            runs.append([n])
    words: list[str] = []
    for run in runs:
        words += [f"{run[0]}–{run[-1]}"] if len(run) >= 3 else [str(n) for n in run]
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} and {words[-1]}"


def _questions_by_kind(cells: list[dict[str, Any]]) -> tuple[dict[int, float], set[int]]:
    """Each question number's points, and the numbers graded by hand (markdown grade cells)."""
    points: dict[int, float] = {}
    by_hand: set[int] = set()
    number = 0
    for cell in cells:
        if cell.get("cell_type") == "markdown" and not _grade_meta(cell):
            found = HEADING.findall(cell_source(cell))
            if found:
                number = int(found[-1])
        meta = _grade_meta(cell)
        if meta:
            points[number] = points.get(number, 0.0) + float(meta.get("points", 0))
            if cell.get("cell_type") == "markdown":
                by_hand.add(number)
    return points, by_hand


def _split_text(count: float, numbers: list[int], how: str) -> str:
    plural = "s" if len(numbers) > 1 else ""
    return f"{points_text(count)} graded {how} (question{plural} {number_list(numbers)})"


def update_header(header: str, cells: list[dict[str, Any]]) -> tuple[str, float, list[str]]:
    """The header with its table's new row already in place: the total (also returned), and
    the split between automatic and hand-graded points where the header states it."""
    points, by_hand = _questions_by_kind(cells)
    total = sum(points.values())
    to_do: list[str] = []
    if len(TOTAL.findall(header)) != 1:
        return header, total, ["the header does not state '**Total: N points**' once: write it"]
    header = TOTAL.sub(f"**Total: {total:g} points**", header)
    auto = sorted(n for n in points if n not in by_hand)
    hand = sorted(by_hand)
    if AUTO_SPLIT.search(header) and auto:
        header = AUTO_SPLIT.sub(_split_text(sum(points[n] for n in auto), auto,
                                            "automatically"), header)
    if HAND_SPLIT.search(header) and hand:
        header = HAND_SPLIT.sub(_split_text(sum(points[n] for n in hand), hand, "by hand"),
                                header)
    elif hand and ALL_AUTO in header:
        to_do.append("the header says the points are all graded automatically: say which "
                     "are graded by hand")
    return header, total, to_do


def _add_row(header: str, row: str) -> str:
    lines = header.splitlines()
    rows = [i for i, line in enumerate(lines) if line.startswith("| ")]
    if not rows:
        raise UsageError("the notebook's first cell has no table of questions "
                         "('| Question | What you hand in | Points |')")
    lines.insert(rows[-1] + 1, row)
    return "\n".join(lines) + ("\n" if header.endswith("\n") else "")


def add_question(notebook: Path, question: Question, hand_in: str | None = None) -> Added:
    """Append ``question`` (from the assignment's rubric) to ``notebook`` after its last graded
    cell: task, answer and test cells with nbgrader metadata, a header row, the new total."""
    import nbformat

    nb = nbformat.read(notebook, as_version=nbformat.NO_CONVERT)
    cells = nb["cells"]
    taken = {c.get("id") for c in cells} | {_grade_meta(c).get("grade_id") for c in cells}
    if question.id in taken or question.answer_cell in taken:
        raise UsageError(f"{notebook}: the notebook already has a cell {question.id!r}: "
                         "its cells are written once (edit them in place)")
    graded = [i for i, c in enumerate(cells) if _grade_meta(c)]
    numbers = [int(n) for c in cells if c.get("cell_type") == "markdown"
               for n in HEADING.findall(cell_source(c))]
    number = max(numbers, default=0) + 1
    solution, solution_to_write = _solution(question)
    new = _cells(question, number, solution)
    at = (graded[-1] + 1) if graded else len(cells)
    cells[at:at] = new
    what = hand_in or (f"`{question.name}`, {question.title[:1].lower()}{question.title[1:]}"
                       if question.name else question.title)
    header = _add_row(cell_source(cells[0]), f"| {number} | {what} | {question.points:g} |")
    header, total, to_do = update_header(header, cells)
    cells[0]["source"] = header
    nbformat.validate(nb)
    nbformat.write(nb, notebook)
    to_do.insert(0, f"the task in cell {new[0]['id']!r}")
    if question.kind == "manual":
        to_do.append(f"the marking scheme in cell {question.id!r}")
    elif solution_to_write:
        to_do.append(f"the reference solution in cell {question.answer_cell!r} (between the "
                     "BEGIN/END SOLUTION lines)")
    if question.kind in ("number", "array", "function"):
        to_do.append(f"a visible check for {question.id!r} in the rubric's SELF_CHECKS "
                     "(a property, never the value)")
    return Added(notebook, number, [str(c["id"]) for c in new], total, to_do)
