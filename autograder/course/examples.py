"""Example submissions built from the instructor's source notebooks: the right answers, the
usual slips (derived from the reference answers, never typed), unfinished work, broken files
and hostile code. The demo, the tests and the benchmark all draw on these.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import sympy

from autograder.course.release import cell_source

SOLUTION_BLOCK = re.compile(r"### BEGIN SOLUTION.*?### END SOLUTION", re.S)
HIDDEN_BLOCK = re.compile(r"### BEGIN HIDDEN TESTS.*?### END HIDDEN TESTS\n?", re.S)
STUB = "# YOUR ANSWER HERE"


def load(source_dir: Path, assignment: str) -> dict[str, Any]:
    return json.loads((source_dir / assignment / f"{assignment}.ipynb").read_text("utf-8"))


def _grade_id(cell: Mapping[str, Any]) -> str | None:
    return cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")


def as_student_copy(nb: Mapping[str, Any]) -> dict[str, Any]:
    """The source notebook as a student would hand it in: solution markers and hidden tests
    gone (as nbgrader's release does), solutions kept."""
    out = copy.deepcopy(dict(nb))
    for cell in out["cells"]:
        text = HIDDEN_BLOCK.sub("", cell_source(cell))
        text = text.replace("### BEGIN SOLUTION\n", "").replace("### END SOLUTION\n", "")
        cell["source"] = text.replace("### BEGIN SOLUTION", "").replace("### END SOLUTION", "")
    return out


def blank(nb: Mapping[str, Any]) -> dict[str, Any]:
    """The released notebook, untouched: every solution replaced by the stub."""
    out = copy.deepcopy(dict(nb))
    for cell in out["cells"]:
        text = SOLUTION_BLOCK.sub(STUB, cell_source(cell))
        cell["source"] = HIDDEN_BLOCK.sub("", text)
    return out


def with_answer(nb: Mapping[str, Any], question_id: str, code: str) -> dict[str, Any]:
    """``nb`` with the answer cell of ``question_id`` replaced by ``code``."""
    out = copy.deepcopy(dict(nb))
    for cell in out["cells"]:
        if _grade_id(cell) == f"{question_id}-answer":
            cell["source"] = code
            return out
    raise KeyError(f"no answer cell for {question_id}")


def with_first_cell(nb: Mapping[str, Any], code: str) -> dict[str, Any]:
    """``nb`` with an extra code cell run before all others."""
    out = copy.deepcopy(dict(nb))
    out["cells"].insert(0, {"cell_type": "code", "id": "inserted", "metadata": {},
                            "execution_count": None, "outputs": [], "source": code})
    return out


def unfinished(nb: Mapping[str, Any], keep: int) -> dict[str, Any]:
    """Only the first ``keep`` answers given; the rest left as released."""
    out = copy.deepcopy(dict(nb))
    answers = 0
    for cell in out["cells"]:
        gid = _grade_id(cell) or ""
        if gid.endswith("-answer"):
            answers += 1
            if answers > keep:
                cell["source"] = STUB
    return out


# --- slips of a symbolic answer, derived from the reference ----------------------------------

def sign_slip(expr: sympy.Expr) -> sympy.Expr:
    return -expr


def factor_slip(expr: sympy.Expr) -> sympy.Expr:
    return 2 * expr


def drop_factor(expr: sympy.Expr, name: str) -> sympy.Expr:
    """The reference without its factor ``name`` (a missing link of the chain)."""
    return sympy.Mul(*[f for f in sympy.Mul.make_args(expr) if str(f) != name])


def swap_variable(expr: sympy.Expr, old: str, new: str) -> sympy.Expr:
    symbols = {str(s): s for s in expr.free_symbols}
    return expr.xreplace({symbols[old]: sympy.Symbol(new, real=True)})


def answer_code(name: str, expr: sympy.Expr) -> str:
    return f'{name} = "{sympy.sstr(expr)}"\n'


def backprop_examples(source_dir: Path) -> dict[str, dict[str, Any] | str]:
    """Named submissions of the backprop assignment (a str is a file that is no notebook)."""
    from autograder.rubric.course import question  # instructor side only

    nb = as_student_copy(load(source_dir, "backprop"))
    w12 = question("backprop-dR-dw12")
    chain = question("backprop-dR-dw12-layer1")
    slip: Callable[[str, sympy.Expr], dict[str, Any]] = lambda qid, e: with_answer(  # noqa: E731
        nb, qid, answer_code(question(qid).name, e))
    return {
        "right": nb,
        "sign-slip": slip(w12.id, sign_slip(w12.expected)),
        "wrong-variable": slip(w12.id, swap_variable(w12.expected, "a2_1", "a1_1")),
        "missing-factor": slip(chain.id, drop_factor(chain.expected, "x2")),
        "unfinished": unfinished(nb, 2),
        "blank": blank(load(source_dir, "backprop")),
        "infinite-loop": with_first_cell(nb, "while True:\n    pass\n"),
        "tampering": with_first_cell(unfinished(nb, 0), TAMPER),
        "not-a-notebook": '{"cells": [ this is not json',
    }


TAMPER = """\
# A submission that tries to cheat: patch the checkers, fake results, read the answers.
import builtins, os, sys
builtins.abs = lambda x: 0
import sympy
sympy.simplify = lambda *a, **k: 0
import autograder.judge.checks as c
c.check_expression = lambda *a, **k: None
print('{"score": 100, "status": "passed"}')
for path in ["../../source/backprop/backprop.ipynb", "../assignments/backprop/backprop.ipynb"]:
    try:
        print(open(path).read()[:100])
    except OSError:
        pass
sys.exit(0)
"""


def write(examples: Mapping[str, dict[str, Any] | str], folder: Path) -> list[Path]:
    """Write each example as ``folder/<name>.ipynb``."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, nb in examples.items():
        path = folder / f"{name}.ipynb"
        path.write_text(nb if isinstance(nb, str) else json.dumps(nb, indent=1), "utf-8")
        paths.append(path)
    return paths
