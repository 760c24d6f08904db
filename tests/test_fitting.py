"""A grade that cannot be fitted (issue 11): what a determined student can do with the release.

The student has the released ``selfcheck.json`` (the reference's values at the public points)
and the student kit. A polynomial through those values, found in a few lines without any
derivation, satisfies the self-check; it must earn nothing from the hidden tests (the
``grade`` of the notebooks) nor from ``backprop-kit grade``, which judge at points drawn from
the OS's randomness and let a symbolic proof decide. Every honest form still earns full marks.
"""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import sympy

from autograder.course import examples
from autograder.rubric.course import ASSIGNMENTS, questions
from autograder.rubric.question import judge, self_check
from autograder.run import sandbox
from autograder.student import notebook

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT / "assignments"


def _released(assignment: str) -> dict:
    return json.loads((SOURCE / assignment / "selfcheck.json").read_text())["questions"]


def fit(fingerprint: dict) -> sympy.Expr:
    """An attacker's answer, built from the release alone: for one variable the Lagrange
    polynomial through the released values; for several, a polynomial with as many
    monomials as released points, solved exactly. Handed in as a sympy expression (a string
    of it would be longer than an answer may be)."""
    symbols = [sympy.Symbol(s) for s in fingerprint["symbols"]]
    points = [[sympy.Rational(c) for c in p] for p in fingerprint["points"]]
    values = [sympy.Rational(v) for v in fingerprint["values"]]
    if len(symbols) == 1:
        (x,) = symbols
        nodes = [p[0] for p in points]
        return sympy.Add(*(sympy.Mul(v, *(sympy.expand((x - xj) / (xi - xj))
                                          for xj in nodes if xj != xi))
                           for xi, v in zip(nodes, values, strict=True)))
    chosen: list[sympy.Expr] = []
    columns: list[list[sympy.Expr]] = []
    for degree in range(len(points)):
        for combo in itertools.combinations_with_replacement(symbols, degree):
            monomial = sympy.Mul(*combo)
            column = [monomial.subs(dict(zip(symbols, p, strict=True))) for p in points]
            if sympy.Matrix([*columns, column]).rank() > len(chosen):
                chosen.append(monomial)
                columns.append(column)
            if len(chosen) == len(points):
                break
        if len(chosen) == len(points):
            break
    coefficients = sympy.Matrix(columns).T.LUsolve(sympy.Matrix(values))
    return sympy.Add(*(c * m for c, m in zip(coefficients, chosen, strict=True)))


# A reference that is one symbol (a chain link such as x1) is as easily guessed as fitted:
# there is nothing for the grade to protect, so only the others are attacked.
EXPRESSION_QUESTIONS = [(a, q) for a in ASSIGNMENTS for q in questions(a)
                        if q.kind == "expression" and not q.expected.is_Symbol]


@pytest.mark.parametrize(("assignment", "question"), EXPRESSION_QUESTIONS,
                         ids=[q.id for _, q in EXPRESSION_QUESTIONS])
def test_fitted_answers_pass_the_self_check_and_earn_nothing(assignment, question) -> None:
    data = _released(assignment)[question.id]
    attack = fit(data["fingerprint"])
    assert self_check(data, attack).correct, "the attack must fool the released data"
    graded = judge(question, attack)
    assert not graded.correct and graded.score == 0.0, graded
    assert notebook.grade(question.id, attack) == 0.0


def test_the_hidden_points_are_drawn_afresh_in_each_process() -> None:
    code = ("from autograder.rubric.course import question; from autograder.rubric.question import "
            "expression_reference as r; q = question('backprop-dR-dw12'); "
            "print(repr([str(c) for c in r(q).secret.sample.points[1]]))")
    runs = {subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                           cwd=ROOT, check=True).stdout for _ in range(2)}
    assert len(runs) == 2


@pytest.mark.skipif(sandbox.detect() == "none", reason="grading needs a sandbox here")
def test_backprop_kit_grade_gives_a_fitted_answer_nothing(tmp_path: Path) -> None:
    """One batch through the real command: a notebook whose σ′ is fitted to the release
    (built in the notebook with sympy's constructors) and the honest one."""
    source = examples.load(SOURCE, "backprop")
    honest = examples.as_student_copy(source)
    (sigma,) = [q for a, q in EXPRESSION_QUESTIONS if q.id == "backprop-sigmoid-derivative"]
    attack = fit(_released("backprop")[sigma.id]["fingerprint"])
    fitted = examples.with_answer(honest, sigma.id, "from sympy import *\n"
                                  f"{sigma.name} = {sympy.srepr(attack)}\n")
    for name, nb in (("honest", honest), ("fitted", fitted)):
        folder = tmp_path / "submitted" / name / "backprop"
        folder.mkdir(parents=True)
        (folder / "backprop.ipynb").write_text(json.dumps(nb))
    out = tmp_path / "out"
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
    subprocess.run([sys.executable, "-m", "autograder.cli", "grade", str(tmp_path / "submitted"),
                    "-a", "backprop", "-o", str(out)], check=True, env=env, capture_output=True)
    results = {s["student"]: {q["id"]: q for q in s["questions"]}
               for s in json.loads((out / "results.json").read_text())["submissions"]}
    assert results["fitted"][sigma.id]["points"] == 0, results["fitted"][sigma.id]
    assert results["fitted"][sigma.id]["error"] is None  # it was read and judged: wrong
    assert results["honest"][sigma.id]["points"] == sigma.points
