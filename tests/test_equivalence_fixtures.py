"""Equivalence on the fixtures of STACK's answer tests (maths/moodle-qtype_stack,
``stack/answertest/tests/fixtures.class.php``, the AlgEquiv rows our answers can express):
what is equal is accepted, what is not is refused. Among them are the rows STACK itself lists
as "currently fail" for mathematical reasons — nested radicals, Cardano's example, Gauss's
cos(2π/17) — which sympy cannot simplify either: a right answer is never refused for that (a
difference is non-zero only where its value is, at high precision), while a tiny non-zero
difference is still refused.

Left out: equations, sets, factorials and complex numbers (not answers here), the 30th roots
of φ³⁰ (numbers under roots beyond the parser's limit) and ``0.333333333333333`` for 1/3 (a
typed decimal is the exact number it shows here; STACK compares floats approximately)."""

from __future__ import annotations

import pytest

from autograder import check_expression

GAUSS = ("(-1+sqrt(17)+sqrt(34-2*sqrt(17)))/16"
         "+(2*sqrt(17+3*sqrt(17)-sqrt(34-2*sqrt(17))-2*sqrt(34+2*sqrt(17))))/16")
ANGLE = "(1/2*(acos(61/1040*sqrt(130))-atan(11/3)))"

# (answer, reference, variables): equal on the reals, wherever the reference is defined
EQUAL = [
    ("sqrt(12)", "2*sqrt(3)", ()),
    ("sqrt(11+6*sqrt(2))", "3+sqrt(2)", ()),
    ("(19601-13860*sqrt(2))^(7/4)", "(5*sqrt(2)-7)^7", ()),
    ("sqrt(2*log(26)+4-2*log(2))", "sqrt(2*log(13)+4)", ()),
    ("(sqrt(108)+10)^(1/3)-(sqrt(108)-10)^(1/3)", "2", ()),
    ("(sqrt(2+sqrt(2))+sqrt(2-sqrt(2)))/(2*sqrt(2))", "sqrt(sqrt(2)+2)/2", ()),
    ("(77+20*sqrt(13))^(1/6)-(77-20*sqrt(13))^(1/6)", "1", ()),
    ("cos(2*pi/17)", GAUSS, ()),
    ("(41-sqrt(511))/2",
     f"(sqrt((4*(cos({ANGLE}))^2)+21)-(2*cos({ANGLE})))^2", ()),
    ("atan(1/2)", "pi/2-atan(2)", ()),
    ("e^1-e^(-1)", "2*sinh(1)", ()),
    ("4^(-1/2)", "1/2", ()),
    ("4^(1/2)", "sqrt(4)", ()),
    ("0.5", "1/2", ()),
    # the same constants as coefficients: the case and its kind
    ("sqrt(11+6*sqrt(2))*x", "(3+sqrt(2))*x", ("x",)),
    ("((sqrt(108)+10)^(1/3)-(sqrt(108)-10)^(1/3))*x^2 + x", "2*x^2 + x", ("x",)),
    ("cos(2*pi/17)*x + 1", f"({GAUSS})*x + 1", ("x",)),
    ("sqrt(2)*sqrt(3)+2*(sqrt(2/3))*x-(2/3)*(sqrt(2/3))*x^2+(4/9)*(sqrt(2/3))*x^3",
     "4*sqrt(6)*x^3/27-(2*sqrt(6)*x^2)/9+(2*sqrt(6)*x)/3+sqrt(6)", ("x",)),
    ("sqrt(2*x*sqrt(x^2+1)+2*x^2+1)-sqrt(x^2+1)-x", "0", ("x",)),
    ("x^(1/2)", "sqrt(x)", ("x",)),
    ("1/sqrt(x)", "sqrt(1/x)", ("x",)),
    ("abs(x)", "sqrt(x^2)", ("x",)),
    ("x-1", "(x^2-1)/(x+1)", ("x",)),
    ("a^b*a^c", "a^(b+c)", ("a", "b", "c")),
    ("(x-1)^2", "x^2-2*x+1", ("x",)),
    ("(x-1)*(x^2+x+1)", "x^3-1", ("x",)),
    ("(x-1)^(-2)", "1/(x^2-2*x+1)", ("x",)),
    ("1/n-1/(n+1)", "1/(n*(n+1))", ("n",)),
    ("cos(x)", "cos(-x)", ("x",)),
    ("cos(x)^2+sin(x)^2", "1", ("x",)),
    ("2*cos(x)^2-1", "cos(2*x)", ("x",)),
    ("2*cos(2*x)+x+1", "-sin(x)^2+3*cos(x)^2+x", ("x",)),
    ("(2*sec(2*t)^2-2)/2",
     "-(sin(4*t)^2-2*sin(4*t)+cos(4*t)^2-1)*(sin(4*t)^2+2*sin(4*t)+cos(4*t)^2-1)"
     "/(sin(4*t)^2+cos(4*t)^2+2*cos(4*t)+1)^2", ("t",)),
    ("log(a^2*b)", "2*log(a)+log(b)", ("a", "b")),
    ("(x-a)*(x+a)/sqrt(x^2-a^2)", "sqrt(x^2-a^2)", ("x", "a")),
    ("abs(x^2-4)/(abs(x-2)*abs(x+2))", "1", ("x",)),
    ("abs(x^2-4)", "abs(x-2)*abs(x+2)", ("x",)),
    ("asinh(x)", "ln(x+sqrt(x^2+1))", ("x",)),
]

# (answer, reference, variables): different somewhere the reference is defined
DIFFERENT = [
    ("x", "sqrt(x^2)", ("x",)),
    ("0.33", "1/3", ()),
    ("(19601-13861*sqrt(2))^(7/4)", "(5*sqrt(2)-7)^7", ()),
    ("1+k+k^2", "1+k+k^2+k^3", ("k",)),
    ("x^2+1", "x^3+1", ("x",)),
    ("x^2>4", "x", ("x",)),
    # tiny non-zero differences, which the numbers alone would not see
    ("x - d1/d2 + 10^-30", "x - d1/d2", ("x", "d1", "d2")),
    ("sqrt(11+6*sqrt(2))*x + 10^-40*x", "(3+sqrt(2))*x", ("x",)),
    ("(sqrt(108)+10)^(1/3)-(sqrt(108)-10)^(1/3) + 10^-50", "2", ()),
]


@pytest.mark.parametrize(("answer", "reference", "variables"), EQUAL,
                         ids=[a[:40] for a, _, _ in EQUAL])
def test_equal_forms_are_accepted(answer: str, reference: str, variables: tuple) -> None:
    result = check_expression(answer, reference, variables=list(variables))
    assert result.correct and result.score == 1.0, result.feedback


@pytest.mark.parametrize(("answer", "reference", "variables"), DIFFERENT,
                         ids=[a[:40] for a, _, _ in DIFFERENT])
def test_different_forms_are_refused(answer: str, reference: str, variables: tuple) -> None:
    result = check_expression(answer, reference, variables=list(variables))
    assert not result.correct and result.score < 1.0, result.feedback
