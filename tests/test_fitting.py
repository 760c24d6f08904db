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

from autograder import examples, notebook, sandbox
from autograder.course import ASSIGNMENTS, questions
from autograder.rubric import judge, self_check

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT / "assignments"


def _released(assignment: str) -> dict:
    return json.loads((SOURCE / assignment / "selfcheck.json").read_text())["questions"]


def fit(fingerprint: dict) -> str:
    """An attacker's answer: a polynomial in the base symbols through every released value
    (exact rationals from the released decimals; as many monomials as points)."""
    symbols = [sympy.Symbol(s) for s in fingerprint["symbols"]]
    points = [[sympy.Rational(c) for c in p] for p in fingerprint["points"]]
    values = [sympy.Rational(v) for v in fingerprint["values"]]
    monomials = []
    for degree in range(0, 8):
        for combo in itertools.combinations_with_replacement(symbols, degree):
            monomials.append(sympy.Mul(*combo))
    chosen: list[sympy.Expr] = []
    rows: list[list[sympy.Expr]] = []
    for m in monomials:  # keep monomials that add a new column direction
        trial = sympy.Matrix([[*r, m.subs(dict(zip(symbols, p, strict=True)))]
                              for r, p in zip(rows or [[]] * len(points), points, strict=True)])
        if trial.rank() > len(chosen):
            chosen.append(m)
            rows = trial.tolist()
        if len(chosen) == len(points):
            break
    coefficients = sympy.Matrix(rows).LUsolve(sympy.Matrix(values))
    return sympy.sstr(sum(c * m for c, m in zip(coefficients, chosen, strict=True)))


EXPRESSION_QUESTIONS = [(a, q) for a in ASSIGNMENTS for q in questions(a) if q.kind == "expression"]


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
    code = ("from autograder.course import question; from autograder.rubric import "
            "expression_reference as r; q = question('backprop-dR-dw12'); "
            "print(repr([str(c) for c in r(q).secret.sample.points[1]]))")
    runs = {subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                           cwd=ROOT, check=True).stdout for _ in range(2)}
    assert len(runs) == 2


@pytest.mark.skipif(sandbox.detect() == "none", reason="grading needs a sandbox here")
def test_backprop_kit_grade_gives_fitted_answers_nothing(tmp_path: Path) -> None:
    """One batch through the real command: the fitted notebook and the honest one."""
    source = examples.load(SOURCE, "backprop")
    honest = examples.as_student_copy(source)
    fitted = honest
    released = _released("backprop")
    attacked = [q for a, q in EXPRESSION_QUESTIONS if a == "backprop"]
    for q in attacked:
        fitted = examples.with_answer(fitted, q.id,
                                      f"{q.name} = {fit(released[q.id]['fingerprint'])!r}\n")
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
    for q in attacked:
        assert results["fitted"][q.id]["points"] == 0, results["fitted"][q.id]
        assert results["honest"][q.id]["points"] == q.points
