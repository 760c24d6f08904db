"""No released notebook gives a graded answer away (issue 25).

Every formula and expression a student meets is read with the kit's own parser and compared,
with the kit's own equivalence checker, against every graded expression of every sampled
variant and each one index swap from it (w₁₁⁽²⁾ for w₁₂⁽²⁾, hidden node 2 for node 1, x₂ for
x₁): the Markdown's LaTeX (tests/latex_formulas.py) and inline code, the code cells' strings
and expressions, and, with the notebook run as a student runs it, what it prints and what it
leaves in the kernel (strings and sympy expressions). Factors spread over one cell — a
paragraph that names every link of a chain — are multiplied two and three at a time. Numbers
printed when the notebook runs are looked for among the numeric answers (as in
test_notebooks). And no code cell of the release differentiates, solves or minimises anything.
"""

from __future__ import annotations

import ast
import itertools
import json
import os
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import mpmath
import nbformat
import numpy as np
import pytest
import sympy
from nbclient import NotebookClient

from autograder.errors import ParseError
from autograder.judge import checks
from autograder.judge.equivalence import PRECISION, sample_points, substitute, values_at
from autograder.judge.parsing import make_symbol, parse_expression
from autograder.rubric.course import ASSIGNMENTS, questions
from autograder.rubric.question import Question
from autograder.rubric.variants import Variant, variant_for
from autograder.student.notebook import SELFCHECK_FILE
from tests.latex_formulas import markdown_formulas
from tests.test_notebooks import load, released

SEED = "test-seed-2026"
SAMPLED = tuple(f"student{i:03d}" for i in range(0, 200, 16))  # 13 of test_variants' 200 ids
RUN_ID = "student005"  # the notebooks are run for this student (and without a seed)
POINTS = 8
DIGITS = 9
MAX_FACTORS = 3  # factors of one cell multiplied together, at most
# What the opt-1d text defines as the Newton update's symbols.
ALIASES = {"optimisation-1d": {"f''(x_i)": "d_2", "f'(x_i)": "d_1", "x_i": "x"}}
PRIMED_SIGMA = re.compile(r"(sigmoid|sigma|σ)\s*'")
COMPUTES = {"diff", "Derivative", "derivative", "lambdify", "solve", "nsolve", "solveset",
            "roots", "real_roots", "nroots", "fsolve", "minimize", "minimize_scalar", "brentq",
            "jacobian", "hessian", "integrate", "series"}

params = pytest.mark.parametrize("assignment", ASSIGNMENTS)


def variants(assignment: str) -> list[Variant]:
    return [variant_for(assignment, None, None),
            *(variant_for(assignment, sid, SEED) for sid in (*SAMPLED, RUN_ID))]


# --- where the formulas are compared ----------------------------------------------------------


@dataclass
class Space:
    """One assignment's symbols, definitions and fixed points."""

    names: tuple[str, ...]
    definitions: dict[str, str]

    def __post_init__(self) -> None:
        self.defined = {make_symbol(k): parse_expression(v, self.names)
                        for k, v in self.definitions.items()}
        base: set[sympy.Symbol] = set()
        for name in self.names:
            base |= substitute(make_symbol(name), self.defined).free_symbols
        self.symbols = tuple(sorted(base, key=str))
        self.points = sample_points(len(self.symbols), n_points=POINTS)

    def values(self, expr: sympy.Expr) -> tuple[Any, ...] | None:
        """The values at the fixed points, or None for a constant or a mostly undefined one."""
        full = substitute(expr, self.defined)
        if not full.free_symbols:
            return None
        found = values_at(full, self.symbols, self.points)
        return tuple(found) if sum(v is not None for v in found) >= 3 else None


def key(values: Sequence[Any]) -> tuple[str, ...]:
    with mpmath.workdps(PRECISION):
        return tuple("u" if v is None else mpmath.nstr(v, DIGITS) for v in values)


@cache
def space(assignment: str) -> Space:
    names: dict[str, None] = {}
    definitions: dict[str, str] = {}
    for variant in variants(assignment):
        for q in questions(assignment, variant):
            names.update(dict.fromkeys(q.variables))
            names.update(dict.fromkeys(q.definitions))
            definitions.update(q.definitions)
    return Space(tuple(names), definitions)


# --- the graded answers, and one index swap from each -----------------------------------------

_ROLE = (  # an index that names one thing throughout: a hidden node j, an input k
    ("hidden node", re.compile(r"^(?:(?P<a>[azb])(?P<i>[12])_1|w1(?P<i2>[12])_2|"
                               r"w(?P<i3>[12])[12]_1)$")),
    ("input", re.compile(r"^(?:x(?P<i>[12])|w[12](?P<i3>[12])_1)$")),
)


def _toggle(name: str, start: int) -> str:
    return name[:start] + {"1": "2", "2": "1"}[name[start]] + name[start + 1:]


def swaps(expr: sympy.Expr, names: Sequence[str]) -> Iterator[tuple[str, sympy.Expr]]:
    """``expr`` with one index changed: one symbol for another that differs in one digit, or
    one index of the lecture's notation (a hidden node, an input) changed throughout."""
    known = set(names)
    present = sorted(expr.free_symbols, key=str)
    for s in present:
        for pos, ch in enumerate(s.name.split("_")[0]):  # an index, not the layer
            if ch in "12" and _toggle(s.name, pos) in known:
                other = _toggle(s.name, pos)
                yield f"{s.name} for {other}", expr.xreplace({s: make_symbol(other)})
    for role, pattern in _ROLE:
        mapping = {}
        for s in present:
            found = pattern.match(s.name)
            if found:
                group = next(g for g in ("i", "i2", "i3") if found.groupdict().get(g))
                other = _toggle(s.name, found.start(group))
                if other in known:
                    mapping[s] = make_symbol(other)
        if mapping:
            yield f"the other {role}", expr.xreplace(mapping)


@dataclass(frozen=True)
class Answer:
    question: Question
    who: str
    how: str  # "" or the index swap
    expr: sympy.Expr


def _refused(q: Question) -> tuple[str, ...]:
    return tuple(getattr(q, "refused_functions", ()) or ())


@cache
def answers(assignment: str) -> dict[tuple[str, ...], list[Answer]]:
    """The graded expressions of every sampled variant and their index swaps, by their values."""
    sp = space(assignment)
    table: dict[tuple[str, ...], list[Answer]] = {}
    for variant in variants(assignment):
        who = variant.student_id or "the lecture's numbers"
        for q in questions(assignment, variant):
            if q.kind != "expression" or isinstance(q.expected, sympy.Symbol):
                continue  # naming a symbol is no answer given away
            for how, expr in (("", q.expected), *swaps(q.expected, sp.names)):
                found = sp.values(expr)
                if found is not None:
                    table.setdefault(key(found), []).append(Answer(q, who, how, expr))
    return table


# --- the formulas of a notebook ---------------------------------------------------------------


def code_formulas(source: str) -> Iterator[str]:
    """A code cell's string constants (and the Markdown in them) and its expressions."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            yield node.value.strip().strip("\"'")
            yield from markdown_formulas(node.value)
        elif isinstance(node, (ast.BinOp, ast.UnaryOp, ast.Call)):
            yield ast.unparse(node)


def output_formulas(output: Mapping[str, Any]) -> Iterator[str]:
    if output.get("output_type") == "stream":
        texts = [output.get("text", "")]
        data: Mapping[str, Any] = {}
    else:
        data = output.get("data", {})
        texts = [data.get("text/plain", "")]
    for text in texts:
        for line in "".join(text).splitlines():
            yield line.strip()
            yield from (piece.strip() for piece in re.split(r"[=,;:]", line))
    for kind in ("text/markdown", "text/latex"):
        if kind in data:
            yield from markdown_formulas("".join(data[kind]))


def units(nb: Mapping[str, Any], aliases: Mapping[str, str]) -> Iterator[tuple[str, list[str]]]:
    """(where, formulas) for each cell, and for each output of a cell that ran."""
    for cell in nb["cells"]:
        source = "".join(cell["source"])
        if cell["cell_type"] == "markdown":
            yield cell["id"], list(markdown_formulas(source, aliases))
        elif cell["cell_type"] == "code":
            yield cell["id"], list(code_formulas(source))
            for n, output in enumerate(cell.get("outputs", [])):
                yield f"{cell['id']} (output {n + 1})", list(output_formulas(output))


@dataclass
class Formula:
    text: str
    expr: sympy.Expr
    values: tuple[Any, ...]


def read(assignment: str, texts: Iterable[str]) -> list[Formula]:
    sp = space(assignment)
    seen: dict[tuple[str, ...], Formula] = {}
    for text in texts:
        if not text or len(text) > 600:
            continue
        try:
            expr = parse_expression(text, sp.names)
        except ParseError:
            continue
        found = sp.values(expr)
        if found is not None:
            seen.setdefault(key(found), Formula(text, expr, found))
    return list(seen.values())


def _product(values: Sequence[tuple[Any, ...]]) -> tuple[Any, ...]:
    with mpmath.workdps(30):
        out = []
        for vs in zip(*values, strict=True):
            out.append(None if any(v is None for v in vs) else mpmath.fprod(vs))
        return tuple(out)


def given_away(assignment: str, where: str, texts: Iterable[str],
               only: set[str] | None = None) -> list[str]:
    """What in one unit is a graded answer (or one index swap from one), confirmed by the
    kit's equivalence checker; ``only``: the variants (student ids) this unit shows."""
    sp, table = space(assignment), answers(assignment)
    formulas = read(assignment, texts)
    found: dict[str, list[str]] = {}
    confirmed: dict[tuple[str, str], bool] = {}
    combos = itertools.chain.from_iterable(
        itertools.combinations(formulas, n) for n in range(1, MAX_FACTORS + 1))
    for combo in combos:
        values = combo[0].values if len(combo) == 1 else _product([f.values for f in combo])
        for answer in table.get(key(values), ()):
            q = answer.question
            if only is not None and answer.who not in only:
                continue
            text = " × ".join(f"({f.text})" for f in combo)
            if "sigma'" in _refused(q) and PRIMED_SIGMA.search(text):
                continue  # σ′ written as such is no answer to a question that refuses it
            pair = (text, sympy.srepr(answer.expr))
            if pair not in confirmed:
                expr = sympy.Mul(*(f.expr for f in combo))
                confirmed[pair] = checks.check_expression(
                    expr, answer.expr, list(sp.names), sp.definitions).correct
            if confirmed[pair]:
                swap = f" with {answer.how}" if answer.how else ""
                found.setdefault(f"{where}: {text} is {q.id} ({q.name}){swap}", []).append(
                    answer.who)
    return [f"{what}, for {who[0]}" + (f" and {len(who) - 1} more variants" if len(who) > 1
                                       else "") for what, who in found.items()]


# --- the release, as it stands and as it runs ----------------------------------------------------


def released_nb(assignment: str) -> dict[str, Any]:
    return released(load(assignment))


@params
def test_no_text_or_code_of_the_release_holds_a_graded_answer(assignment: str) -> None:
    aliases = ALIASES.get(assignment, {})
    found = [hit for where, texts in units(released_nb(assignment), aliases)
             for hit in given_away(assignment, where, texts)]
    assert not found, "\n".join(found)


@params
def test_no_code_of_the_release_differentiates_or_solves(assignment: str) -> None:
    calls = []
    for cell in released_nb(assignment)["cells"]:
        if cell["cell_type"] != "code":
            continue
        for node in ast.walk(ast.parse("".join(cell["source"]))):
            if isinstance(node, ast.Call):
                func = node.func
                name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
                if name in COMPUTES:
                    calls.append(f"{cell['id']}: {ast.unparse(node)}")
    assert not calls, "\n".join(calls)


DUMP = """\
import json as _json, sys as _sys
_held = {}
for _name, _value in list(globals().items()):
    if _name.startswith("_") or _name in ("In", "Out"):
        continue
    if isinstance(_value, str):
        _held[_name] = _value
    elif "sympy" in _sys.modules and isinstance(_value, _sys.modules["sympy"].Basic):
        _held[_name] = str(_value)
print(_json.dumps(_held))
"""


def run_release(assignment: str, student: str | None, folder: Path) -> dict[str, Any]:
    """The released notebook run as a student runs it (answers not given yet), with a last
    cell that prints the strings and sympy expressions left in the kernel."""
    nb = nbformat.from_dict(released_nb(assignment))
    released_data: dict[str, Any] = {"assignment": assignment, "questions": {}}
    if student is not None:
        released_data["variant_seed"] = SEED
        first = next(c for c in nb.cells if c.cell_type == "code")
        first.source = first.source.replace('STUDENT_ID = ""', f'STUDENT_ID = "{student}"')
    (folder / SELFCHECK_FILE).write_text(json.dumps(released_data), encoding="utf-8")
    nb.cells.append(nbformat.v4.new_code_cell(DUMP))
    NotebookClient(nb, timeout=120, allow_errors=True,
                   resources={"metadata": {"path": str(folder)}}).execute(
        env={**os.environ, "JPY_SESSION_NAME": str(folder / f"{assignment}.ipynb"),
             "MPLBACKEND": "agg"})
    return nb


@pytest.fixture(scope="module", params=ASSIGNMENTS)
def ran(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    assignment = request.param
    folder = tmp_path_factory.mktemp(assignment)
    return assignment, run_release(assignment, RUN_ID, folder)


def test_nothing_the_running_notebook_shows_or_holds_is_a_graded_answer(ran) -> None:
    assignment, nb = ran
    dump = nb.cells[-1]
    printed = "".join(o["text"] for o in dump.outputs
                      if o["output_type"] == "stream" and o["name"] == "stdout")
    held = json.loads(printed.strip().splitlines()[-1])  # a kernel may add warnings elsewhere
    assert held.get("STUDENT_ID") == RUN_ID  # it ran for that student
    nb.cells = nb.cells[:-1]
    aliases = ALIASES.get(assignment, {})
    mine = {RUN_ID}
    found = [hit for where, texts in units(nb, aliases)
             for hit in given_away(assignment, where, texts, mine)]
    found += given_away(assignment, "the kernel's variables", held.values(), mine)
    assert not found, "\n".join(found)


NUMBER = re.compile(r"(?<![\w.])-?(\d+\.\d+|\d+)(?:[eE]([-+]?\d+))?")
MIN_DIGITS = 5  # fewer significant digits match some value of a vector by chance


def printed_numbers(text: str) -> Iterator[tuple[str, float, float]]:
    """(as printed, value, half a unit of its last digit) for numbers of MIN_DIGITS or more
    significant digits."""
    for found in NUMBER.finditer(text):
        mantissa, exponent = found.group(1), int(found.group(2) or 0)
        digits = mantissa.replace(".", "").lstrip("0")
        if len(digits) < MIN_DIGITS:
            continue
        decimals = len(mantissa.split(".")[1]) if "." in mantissa else 0
        yield found.group(0), float(found.group(0)), 0.5 * 10.0 ** (exponent - decimals)


def test_no_number_the_running_notebook_prints_is_a_graded_number(ran) -> None:
    """Nothing printed is a graded number rounded to what it shows (five digits or more)."""
    assignment, nb = ran
    text = json.dumps([c.get("outputs", []) for c in nb.cells[:-1]], ensure_ascii=False)
    variant = variant_for(assignment, RUN_ID, SEED)
    graded = [(q.id, float(v)) for q in questions(assignment, variant)
              if q.kind in ("number", "array")
              for v in np.asarray(q.expected, dtype=float).ravel() if v != 0]
    found = [(shown, qid) for shown, value, half in printed_numbers(text)
             for qid, v in graded if abs(abs(value) - abs(v)) <= half]
    assert not found, found
