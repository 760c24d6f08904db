"""autograder.judge.functions: one table drives the parser's functions, their evaluation and their
transport, so a function is supported everywhere or nowhere."""

from __future__ import annotations

import json

import mpmath
import pytest
import sympy

from autograder.errors import ParseError
from autograder.judge import equivalence, functions, parsing, transport
from autograder.judge.checks import check_expression
from autograder.judge.parsing import make_symbol, parse_expression

x, y = make_symbol("x"), make_symbol("y")
NODES = [f for f in functions.FUNCTIONS if f.node is not None]


def test_the_table_is_the_only_list() -> None:
    assert parsing.ALLOWED_FUNCTIONS == frozenset(functions.BY_NAME)
    for module, name in [(parsing, "SYMPY_FUNCTIONS"), (parsing, "_FUNCTIONS"),
                         (transport, "_FUNCTIONS"), (equivalence, "_FUNCTIONS")]:
        assert not hasattr(module, name), f"{module.__name__}.{name} lists functions again"
    names = [name for f in functions.FUNCTIONS for name in f.names]
    assert len(names) == len(set(names))


@pytest.mark.parametrize("function", functions.FUNCTIONS, ids=lambda f: f.names[0])
def test_every_name_of_every_entry_reads(function: functions.Function) -> None:
    args = "x, 3" if function.arity[0] == 2 else "x"
    results = {parse_expression(f"{name}({args})", ("x",)) for name in function.names}
    assert len(results) == 1


# Points and the value sympy itself gives there (its own evalf, not the table's evaluator).
POINTS = ["0.3", "-0.7", "1.9", "-2.6", "5"]


@pytest.mark.parametrize("function", NODES, ids=lambda f: f.names[0])
def test_evaluate_agrees_with_sympy_on_every_table_function(function) -> None:
    args = (x,) if function.arity[0] == 1 else (x, y)
    expr = function.node(*args, evaluate=False)
    for a in POINTS:
        exact = expr.xreplace({x: sympy.Rational(a), y: sympy.Rational("0.4")})
        reference = sympy.N(exact, 50)
        with mpmath.workdps(equivalence.PRECISION):
            [value] = equivalence.values_at(expr, [x, y], [(mpmath.mpf(a), mpmath.mpf("0.4"))])
            if reference.is_real is False or not reference.is_finite:
                assert value is None, (function.names[0], a)
                continue
            assert value is not None, (function.names[0], a)
            error = abs(value - mpmath.mpf(str(reference)))
            assert error < mpmath.mpf("1e-35") * (1 + abs(value)), (function.names[0], a)


@pytest.mark.parametrize(("text", "undefined_at"), [
    ("asin(x)", ["1.9", "-2.6", "5"]), ("acos(x)", ["1.9", "-2.6", "5"]),
    ("acosh(x)", ["0.3", "-0.7", "-2.6"]), ("atanh(x)", ["1.9", "-2.6", "5"]),
    ("log(x)", ["-0.7", "-2.6"]), ("log(x, 2)", ["-0.7", "-2.6"]),
    ("max(asin(x), 0)", ["1.9", "-2.6", "5"]), ("sign(sqrt(x))", ["-0.7", "-2.6"]),
])
def test_values_that_are_not_real_count_as_undefined(text: str, undefined_at: list[str]) -> None:
    with mpmath.workdps(equivalence.PRECISION):
        points = [(mpmath.mpf(a),) for a in POINTS]
    values = equivalence.values_at(parse_expression(text, ("x",)), [x], points)
    assert [a for a, v in zip(POINTS, values, strict=True) if v is None] == undefined_at


def test_evaluate_at_a_pole_is_undefined() -> None:
    for text in ("cot(x)", "csch(x)", "coth(x)", "log(x)", "log(x, 2)"):
        assert equivalence.values_at(parse_expression(text, ("x",)), [x],
                                     [(mpmath.mpf(0),)]) == [None]


def test_the_new_notation_evaluates_to_the_same_numbers_as_plain_forms() -> None:
    pairs = [("|x|", "sqrt(x^2)"), ("max(x, 0)", "(x + |x|)/2"), ("min(x, y)", "(x+y-|x-y|)/2"),
             ("σ'(x)", "exp(-x)/(1+exp(-x))^2"), ("log(x, 2)", "ln(x)/ln(2)"),
             ("sech(x)", "2/(e^x + e^-x)"), ("sign(x)", "x/|x|"), ("arctan(x)", "atan(x)")]
    with mpmath.workdps(equivalence.PRECISION):
        points = [(mpmath.mpf(a), mpmath.mpf(b)) for a, b in [
            ("0.3", "1.7"), ("2.9", "-0.4"), ("1.1", "0.6"), ("-1.3", "2.2"), ("4.7", "-3.1")]]
    for left, right in pairs:
        a, b = (equivalence.values_at(parse_expression(t, ("x", "y")), [x, y], points)
                for t in (left, right))
        assert equivalence.same_values(a, b), (left, right)


# ---- transport -----------------------------------------------------------------------------

def _travel(value):
    return transport.decode(json.loads(json.dumps(transport.encode(value))))


@pytest.mark.parametrize("function", NODES, ids=lambda f: f.names[0])
def test_every_table_function_travels(function) -> None:
    plain_x, plain_y = sympy.symbols("x y")  # a student's symbols: not real
    args = (plain_x,) if function.arity[0] == 1 else (plain_x, plain_y + 1)
    answer = function.node(*args) + 1
    back = _travel(answer)
    assert back == answer.xreplace({plain_x: x, plain_y: y})


def test_a_students_sigma_function_travels_as_the_logistic_function() -> None:
    sigma = sympy.Function("sigma")
    v = sympy.Symbol("v")
    back = _travel(sigma(v) * (1 - sigma(v)))
    logistic = sympy.Pow(sympy.Add(1, sympy.exp(-make_symbol("v"))), -1)
    assert back == sympy.Mul(logistic, sympy.Add(1, sympy.Mul(-1, logistic)))


def test_max_and_min_stay_cheap_when_rebuilt() -> None:
    # sympy's own Max compares every pair of arguments at each rebuild: seconds for this one
    text = "max(" * 30 + "x, y" + "".join(f"), 2x + {i}" for i in range(29)) + ")"
    answer = parse_expression(text, ("x", "y"))
    rebuilt = answer.xreplace({x: y, y: x})
    assert isinstance(rebuilt, functions.Max) and len(rebuilt.args) == 31
    assert parse_expression("max(1, 2, x, 3)", ("x",)).args == (3, x)
    assert parse_expression("min(1, 2, x, 3)", ("x",)).args == (1, x)


def test_parsed_answers_with_every_notation_travel() -> None:
    text = "|x| + max(x, y, 1) + log(x, 2) + σ'(x) + asinh(y) + sign(x) + sech(y)"
    answer = parse_expression(text, ("x", "y"))
    assert _travel(answer) == answer


def _tree(op: str, *args: dict) -> dict:
    return {"type": "expr", "tree": {"op": op, "args": list(args)}}


@pytest.mark.parametrize(("data", "named"), [
    (_tree("Function", {"sym": "x"}), "'Function'"),
    (_tree("Integral", {"sym": "x"}), "'Integral'"),
    (_tree("eval", {"sym": "x"}), "'eval'"),
    (_tree("sqrt", {"sym": "x"}), "'sqrt'"),  # travels as Pow, never by name
    (_tree("exp", {"sym": "x"}, {"sym": "y"}), "takes 1 argument"),
    (_tree("asin"), "takes 1 argument"),
    (_tree("Max", {"sym": "x"}), "at least 2"),
    (_tree("Max", *[{"sym": f"x{i}"} for i in range(functions.MAX_ARGUMENTS + 1)]), "at most"),
    (_tree("log", {"sym": "x"}, {"int": "0"}), "base"),
    (_tree("log", {"sym": "x"}, {"int": "1"}), "base"),
    (_tree("sigmoid", {"sym": "x"}, {"sym": "y"}), "takes 1 argument"),
    (_tree("__class__", {"sym": "x"}), "not allowed"),
    ({"type": "expr", "tree": {"op": ["Max"], "args": []}}, "not allowed"),
])
def test_the_decoder_rebuilds_only_table_entries(data: dict, named: str) -> None:
    with pytest.raises(ParseError) as caught:
        transport.decode(data)
    assert named in str(caught.value)


def test_to_expression_reads_sympy_answers_with_table_functions() -> None:
    plain_x = sympy.Symbol("x")
    answer = sympy.asin(plain_x) + sympy.Max(plain_x, 0) + sympy.sign(plain_x) + sympy.coth(
        plain_x)
    expected = sympy.asin(x) + sympy.Max(x, 0) + sympy.sign(x) + sympy.coth(x)
    assert sympy.srepr(parsing.to_expression(answer, ("x",))) == sympy.srepr(expected)
    with pytest.raises(ParseError, match="'besselj' is not allowed"):
        parsing.to_expression(sympy.besselj(1, plain_x), ("x",))


# ---- end to end: the new notation is judged like any other answer ---------------------------

@pytest.mark.parametrize(("answer", "expected", "variables", "correct"), [
    ("sigma'(v)", "sigma(v)*(1 - sigma(v))", ("v",), True),
    ("σ′(v)", "exp(-v)/(1 + exp(-v))^2", ("v",), True),
    ("σ(v)", "exp(-v)/(1 + exp(-v))^2", ("v",), False),
    ("max(x, 0) + min(x, 0)", "x", ("x",), True),
    ("|x|", "sqrt(x^2)", ("x",), True),
    ("2|x|", "sqrt(x^2)", ("x",), False),
    ("η x - θ", "eta*x - theta", ("eta", "x", "theta"), True),
    ("sech(x)^2", "1 - tanh(x)^2", ("x",), True),
    ("arctan(x)", "asin(x/sqrt(1 + x^2))", ("x",), True),
    ("log(x^2, 2)", "2*log(|x|)/log(2)", ("x",), True),
    ("sign(x)|x|", "x", ("x",), True),
])
def test_answers_in_the_new_notation_are_judged(answer: str, expected: str,
                                                variables: tuple[str, ...], correct: bool) -> None:
    assert check_expression(answer, expected, variables).correct is correct
