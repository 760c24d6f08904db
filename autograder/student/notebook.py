"""What the notebooks' test cells call: ``check`` (visible) and ``grade`` (hidden).

A test cell reads ``grade("id")`` (hidden, instructor side) then ``check("id")``. Both find the
answer by the question's variable name in the kernel, so a blank answer is "not answered yet",
never a ``NameError``; a name whose assigning cell last raised is not judged either (the value
in the kernel is left over from before).

- In the student's notebook ``check`` shows the answer as it was read, then the verdict. When the
  self-check finds it wrong, unreadable or missing, the verdict goes to stderr (JupyterLab shows
  it red) and the notebook goes on, so Run All shows every verdict. Under nbgrader's execution
  (``nbgrader validate``, which sets ``NBGRADER_EXECUTION`` in the kernel's environment) it
  raises :class:`CheckFailed` instead (the plain message, no traceback), so the cell fails and
  ``validate`` lists it.
- Under ``nbgrader autograde`` (and ``validate`` of the source notebook) the hidden ``grade``
  ran first in the same cell: ``check`` then only returns grade's points, which nbgrader reads
  as the cell's partial score (any error or stderr output would give 0).
"""

from __future__ import annotations

import ast
import os
import re
import sys
import warnings
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from autograder.rubric.shown import render  # one wording of a verdict: notebook and check
from autograder.student.kernel import namespace as _namespace
from autograder.student.kernel import shell as _shell
from autograder.student.released import (  # noqa: F401 -- re-exported for the test cells
    SELFCHECK_FILE,
    CheckFailed,
    entry_for,
    load_released,
    load_selfchecks,
    selfcheck_candidates,
    unavailable_feedback,
)

NOT_ANSWERED = "not answered yet — run the cell above"
_MISSING = object()


@contextmanager
def _quiet():
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        yield


# --- which cells ran, and did they raise -------------------------------------------------

_ASSIGN_LINE = re.compile(r"^\s*(?:def\s+([A-Za-z_]\w*)|([A-Za-z_]\w*)\s*(?::[^=]*)?=(?!=))",
                          re.M)


def assigned_names(source: str) -> set[str]:
    """The names a cell binds at top level, read with ``ast`` (never run); for a cell that
    does not parse, the ``name =`` and ``def name`` lines."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return {a or b for a, b in _ASSIGN_LINE.findall(source)}
    names: set[str] = set()
    todo: list[ast.AST] = list(tree.body)
    while todo:
        node = todo.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
            continue  # names inside are local
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            names.update((a.asname or a.name).split(".")[0] for a in node.names)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
        if not isinstance(node, ast.Lambda):
            todo.extend(ast.iter_child_nodes(node))
    return names


@dataclass
class _Tracker:
    """Fed by IPython's cell events: the names whose last assigning cell raised."""

    failed: set[str] = field(default_factory=set)
    cell: int = 0
    shell: Any = None

    def pre_run_cell(self, info: Any = None) -> None:
        self.cell += 1

    def post_run_cell(self, result: Any) -> None:
        raw = getattr(getattr(result, "info", None), "raw_cell", None) or ""
        try:
            source = self.shell.transform_cell(raw) if self.shell is not None else raw
        except Exception:  # noqa: BLE001 -- a cell IPython cannot transform: read it raw
            source = raw
        names = assigned_names(source)
        if result.error_before_exec is not None or result.error_in_exec is not None:
            self.failed |= names
        else:
            self.failed -= names


_tracker = _Tracker()


def _start_tracking() -> None:
    shell = _shell()
    if shell is None or _tracker.shell is shell:
        return
    _tracker.shell = shell
    shell.events.register("pre_run_cell", _tracker.pre_run_cell)
    shell.events.register("post_run_cell", _tracker.post_run_cell)


_start_tracking()


def read_answer(name: str) -> Any:
    """The value of ``name`` in the kernel, or ``_MISSING`` when it is not answered: undefined,
    or left over from before its cell last raised."""
    namespace = _namespace()
    if name in _tracker.failed or name not in namespace:
        return _MISSING
    return namespace[name]


def defined(*names: str) -> bool:
    """Whether every answer a given cell uses is there (``if defined("gradient_descent"):``
    wraps the cell): when one is not, says so on stderr (red in JupyterLab) and the notebook
    goes on, so Run All reaches every check even with answers left blank."""
    missing = [name for name in names if read_answer(name) is _MISSING]
    if missing:
        print(f"This cell waits for {', '.join(missing)}: answer that question above and run "
              "its cell, then run this one.", file=sys.stderr, flush=True)
    return not missing


# --- showing the answer as it was read ---------------------------------------------------


def _read_as(data: dict[str, Any], answer: Any) -> tuple[str, str | None]:
    """(plain text, LaTeX or None) of the answer as the checker reads it."""
    from autograder.rubric.shown import expression_names, shown_expression, shown_value

    if data.get("kind") == "expression":
        shown = shown_expression(answer, expression_names(data))
    else:
        shown = shown_value(data.get("kind"), answer)
    return shown.text, shown.latex


def show_answer(data: dict[str, Any], answer: Any) -> None:
    """Display the answer as read: maths in JupyterLab, plain text elsewhere."""
    text, latex = _read_as(data, answer)
    shell = _shell()
    if shell is None or latex is None:
        print(f"Your answer, as read: {text}")
        return
    from IPython.display import display

    print("Your answer, as read:")
    display({"text/plain": text, "text/latex": f"$\\displaystyle {latex}$"}, raw=True)


# --- the test cells' two calls -----------------------------------------------------------

NBGRADER_EXECUTION = "NBGRADER_EXECUTION"  # set by nbgrader validate/autograde in the kernel


def _failed(message: str) -> None:
    """A self-check that found the answer wrong, unreadable or missing: under nbgrader's
    execution the cell fails (``validate`` lists it); in the student's own kernel the verdict
    is shown on stderr and the notebook goes on to its next cell."""
    if os.environ.get(NBGRADER_EXECUTION):
        raise CheckFailed(message)
    print(message, file=sys.stderr, flush=True)


_graded: dict[str, tuple[int, float]] = {}  # question id -> (cell, points) of the last grade()


def check(question_id: str, *answer: Any) -> float | None:
    """The visible self-check of one question: judged against the released fingerprint.

    Returns None in the student's notebook (no ``Out:`` echo); a wrong, unreadable or missing
    answer is shown on stderr, or raises :class:`CheckFailed` under nbgrader (:func:`_failed`).
    When ``grade`` already ran for this question in this cell (the hidden tests, at grading
    time) it returns grade's points.
    An explicit ``answer`` (old test cells) is judged without ever raising.
    """
    if not answer and _graded.get(question_id, (None,))[0] == _tracker.cell:
        return _graded[question_id][1]
    try:
        data = _for_my_variant(question_id, _released_question(question_id))
    except CheckFailed as failed:
        if not answer:
            _failed(str(failed))
        return None
    value = answer[0] if answer else read_answer(data["name"])
    if value is _MISSING:
        _failed(f"{data['name']}: {NOT_ANSWERED}.")
        return None
    show_answer(data, value)
    earlier = {}
    if data.get("follows"):  # follow-through, as the grade does
        before = read_answer(load_selfchecks().get(data["follows"], {}).get("name", ""))
        if before is not _MISSING:
            earlier[data["follows"]] = before
    try:
        # the checkers (and sympy) on the first check: a notebook graded without its test
        # cells never imports them
        from autograder.rubric.question import self_check

        with _quiet():
            result = self_check(data, value, names=_namespace(), earlier=earlier)
    except Exception as error:  # noqa: BLE001 -- a broken self-check says so plainly
        message = f"Self-check unavailable ({type(error).__name__}: {error})."
        if answer:
            print(message)
        else:
            _failed(message)
        return None
    message = render(result, data["points"], "Self-check")
    if answer:
        print(message)
        return None if result.details.get("form_only") else round(
            result.score * data["points"], 6)
    if result.correct or result.details.get("form_only"):
        print(message)
    else:
        _failed(message)
    return None


def _released_question(question_id: str) -> dict[str, Any]:
    """One question's released data; :class:`CheckFailed` saying what is missing."""
    try:
        return load_selfchecks()[question_id]
    except KeyError:
        raise CheckFailed(f"Self-check unavailable: {SELFCHECK_FILE} has no question "
                          f"{question_id!r}; download the assignment again.") from None


def _for_my_variant(question_id: str, entry: dict[str, Any]) -> dict[str, Any]:
    """A question's released data for this notebook's variant (see autograder.student.myvariant)."""
    if "variants" not in entry:
        return entry
    from autograder.student.myvariant import TYPED_NAME, current

    found = entry_for(question_id, entry, current(_namespace().get(TYPED_NAME)))
    if found.get("unavailable"):
        raise CheckFailed(unavailable_feedback(found["title"]))
    return found


def graded_question(question_id: str) -> Any:
    """The question as the hidden tests judge it: for the variant of the student the platform
    names (instructor side)."""
    from autograder.rubric import course  # instructor side only
    from autograder.student.myvariant import TYPED_NAME, grading_variant

    for assignment in course.assignments():
        if any(q.id == question_id for q in course.questions(assignment)):
            variant = grading_variant(assignment, _namespace().get(TYPED_NAME))
            return next(q for q in course.questions(assignment, variant)
                        if q.id == question_id)
    return course.question(question_id)  # says the question is unknown


def grade(question_id: str, *answer: Any) -> float:
    """Hidden test: judge against ``solutions`` (instructor side); returns the points earned
    and records them for the ``check`` that follows in the same cell."""
    q = graded_question(question_id)
    value = answer[0] if answer else read_answer(q.name)
    if value is _MISSING:
        print(f"Graded: {q.name}: not answered (or its cell raised an error). "
              f"[0 of {q.points:g} points]")
        points = 0.0
    else:
        show_answer(q.public(), value)
        earlier = {}
        for after in q.dependencies:  # follow-through: judged with the student's own earlier
            before = read_answer(graded_question(after).name)  # answers too
            if before is not _MISSING:
                earlier[after] = before
        from autograder.rubric.question import judge

        with _quiet():
            result = judge(q, value, earlier=earlier)
        print(render(result, q.points, "Graded"))
        points = round(result.score * q.points, 6)
    _graded[question_id] = (_tracker.cell, points)
    return points
