"""The table of check_expression cases: (answer, expected, variables, definitions, verdict).

A verdict is "correct", "invalid", "wrong" (no recognised slip) or a mistake name. Shared by
the tests and by benchmarks/check_speed.py.
"""

from __future__ import annotations

from autograder.rubric.course import rubric
from solutions import network as nw
from solutions import optimisation_1d as o1
from solutions import sigmoid as sg
from solutions import steepest_descent as sd

SIG = sg.sigmoid_prime_lecture_form()
W12 = nw.dR_dw12_2()
B1 = nw.dR_db1_2()
W11 = nw.dR_dw11_1()
NEWTON = o1.newton_update_general()
FPP = o1.FSECOND_EXPR
DX1, DX2 = sd.GRAD_F2_EXPR
V = ("v",)
X = ("x",)
X12 = ("x1", "x2")
NR = ("x", "d1", "d2")
_BACKPROP = rubric("backprop")  # the network's symbols and definitions, as the rubric has them
OUT, OUTD = _BACKPROP.OUTPUT_LAYER, _BACKPROP.OUTPUT_DEFINITIONS
HID, HIDD = _BACKPROP.HIDDEN_LAYER, _BACKPROP.HIDDEN_DEFINITIONS

CASES: list[tuple[object, object, tuple[str, ...], dict | None, str]] = [
    # σ'(v): equivalent forms
    ("exp(-v)*(1+exp(-v))^(-2)", SIG, V, None, "correct"),
    ("exp(-v)/(1+exp(-v))**2", SIG, V, None, "correct"),
    ("sigma(v)*(1-sigma(v))", SIG, V, None, "correct"),
    ("σ(v)(1 − σ(v))", SIG, V, None, "correct"),
    ("sigmoid(v)*sigmoid(-v)", SIG, V, None, "correct"),
    ("1/(4*cosh(v/2)^2)", SIG, V, None, "correct"),
    ("e^v/(1+e^v)^2", SIG, V, None, "correct"),
    ("exp(v)/(exp(v)+1)^2", SIG, V, None, "correct"),
    ("1/(exp(v) + 2 + exp(-v))", SIG, V, None, "correct"),
    ("(1 - tanh(v/2)^2)/4", SIG, V, None, "correct"),
    ("1/(1+exp(-v)) - 1/(1+exp(-v))^2", SIG, V, None, "correct"),
    # σ'(v): slips and wrong answers
    ("-exp(-v)*(1+exp(-v))^(-2)", SIG, V, None, "sign"),
    ("2*exp(-v)/(1+exp(-v))^2", SIG, V, None, "constant_factor"),
    ("exp(-v)*(1+exp(-v))^(-1)", SIG, V, None, "sigma_prime_unsquared"),  # issue 23
    ("sigma(v)", SIG, V, None, "wrong"),
    ("exp(-v)*(1+exp(-v))^(-2) + 10^(-12)*v", SIG, V, None, "wrong"),
    ("v*exp(-v)*(1+exp(-v))^(-2)", SIG, V, None, "extra_factor"),
    ("sigma(v)*(1-sigma(v)) + 0*v", SIG, V, None, "correct"),
    # 1-D: f''(x), Newton–Raphson
    ("36x^2 + 30x - 40", FPP, X, None, "correct"),
    ("36*x**2+30*x-40", FPP, X, None, "correct"),
    ("2*(18x^2 + 15x - 20)", FPP, X, None, "correct"),
    ("-36x^2 - 30x + 40", FPP, X, None, "sign"),
    ("72x^2 + 60x - 80", FPP, X, None, "constant_factor"),
    ("36x^2 + 30x + 40", FPP, X, None, "wrong_term"),
    ("12x^3 + 15x^2 - 40x + 8", FPP, X, None, "wrong"),
    ("x - d1/d2", NEWTON, NR, None, "correct"),
    ("(x*d2 - d1)/d2", NEWTON, NR, None, "correct"),
    ("x - d1*d2^(-1)", NEWTON, NR, None, "correct"),
    ("x + d1/d2", NEWTON, NR, None, "wrong_term"),
    # issue 23: a wrong term is worth what a missing one is (here, without a rubric: half;
    # the rubric's own slips and credit for Newton's step decide in the notebook)
    ("x - d2/d1", NEWTON, NR, None, "wrong_term"),
    ("x - d1", NEWTON, NR, None, "wrong_term"),
    ("sqrt(x^2) - d1/d2", NEWTON, NR, None, "wrong_term"),
    # 2-D gradient
    ("4x1^3 x2^2 + 2(x1-1)(x2-1)^4", DX1, X12, None, "correct"),
    ("4*x1**3*x2**2 + 2*(x1 - 1)*(x2 - 1)**4", DX1, X12, None, "correct"),
    ("2*x1^4*x2 + 4*(x1-1)^2*(x2-1)^3", DX2, X12, None, "correct"),
    ("-(4x1^3 x2^2 + 2(x1-1)(x2-1)^4)", DX1, X12, None, "sign"),
    ("4x2^3 x1^2 + 2(x2-1)(x1-1)^4", DX1, X12, None, "wrong"),
    ("4x1^3 x2^2 + 2(x1-1)(x2-1)^3", DX1, X12, None, "wrong_term"),  # issue 23
    ("x1^4*x2 + 2*(x1-1)^2*(x2-1)^3", DX2, X12, None, "constant_factor"),
    # backprop: ∂R/∂w12(2), ∂R/∂b1(2)
    ("-2*(y - a1_2)*a2_1", W12, OUT, OUTD, "correct"),
    ("2*(a1_2 - y)*a2_1", W12, OUT, OUTD, "correct"),
    ("-2*a2_1*y + 2*a2_1*a1_2", W12, OUT, OUTD, "correct"),
    ("-2*(y - (w11_2*a1_1 + w12_2*a2_1 + b1_2))*a2_1", W12, OUT, OUTD, "correct"),
    ("2*(y - a1_2)*a2_1", W12, OUT, OUTD, "sign"),
    ("-(y - a1_2)*a2_1", W12, OUT, OUTD, "constant_factor"),
    ("-2*(y - a1_2)*a1_1", W12, OUT, OUTD, "wrong_variable"),
    ("-2*(y - a1_2)", W12, OUT, OUTD, "missing_factor"),
    ("-2*(y - a1_2)*a2_1*w12_2", W12, OUT, OUTD, "extra_factor"),
    ("-2*(y - a1_2)", B1, OUT, OUTD, "correct"),
    ("2*a1_2 - 2*y", B1, OUT, OUTD, "correct"),
    ("2*(y - a1_2)", B1, OUT, OUTD, "sign"),
    ("(y - a1_2)^2", B1, OUT, OUTD, "wrong"),
    # backprop: ∂R/∂w11(1)
    ("-2*(y - a1_2)*w11_2*exp(-z1_1)*(1+exp(-z1_1))^(-2)*x1", W11, HID, HIDD, "correct"),
    ("-2*(y - a1_2)*w11_2*a1_1*(1 - a1_1)*x1", W11, HID, HIDD, "correct"),
    ("-2(y - a1_2) w11_2 sigma(z1_1) (1 - sigma(z1_1)) x1", W11, HID, HIDD, "correct"),
    ("-2*(y - a1_2)*w11_2*a1_1*(1 - a1_1)", W11, HID, HIDD, "missing_factor"),
    ("-2*(y - a1_2)*w11_2*a1_1*(1 - a1_1)*x2", W11, HID, HIDD, "wrong_variable"),
    ("2*(y - a1_2)*w11_2*a1_1*(1 - a1_1)*x1", W11, HID, HIDD, "sign"),
    ("-2*(y - a1_2)*w11_2*x1", W11, HID, HIDD, "missing_factor"),
    # issue 12: the central backprop slips are seen however σ′ is written
    ("-2*(y - a1_2)*w11_2*a1_1*x1", W11, HID, HIDD, "replaced_factor"),
    ("-2*(y - a1_2)*w11_2*sigma(z1_1)*x1", W11, HID, HIDD, "replaced_factor"),
    ("2*(a1_2 - y)*w11_2*x1", W11, HID, HIDD, "missing_factor"),
    ("-2*(y - a1_2)*w11_2*exp(-z1_1)*(1+exp(-z1_1))^(-2)", W11, HID, HIDD, "missing_factor"),
    ("-2*(y - a1_2)*w12_2*a1_1*(1-a1_1)*x1", W11, HID, HIDD, "wrong_variable"),
    ("-(y - a1_2)*w11_2*a1_1*(1-a1_1)*x1", W11, HID, HIDD, "constant_factor"),
    ("-4*(y - a1_2)*w11_2*a1_1*(1-a1_1)*x1", W11, HID, HIDD, "constant_factor"),
    ("(y - a1_2)*w11_2*a1_1*(1-a1_1)*x1", W11, HID, HIDD, "constant_factor"),
    ("-2*(y - a1_2)*w11_2*a1_1*(1-a1_1)*x1*x2", W11, HID, HIDD, "extra_factor"),
    # issue 12: constant multiples earn credit only for the ratios a slip makes
    ("1000*exp(-v)*(1+exp(-v))^(-2)", SIG, V, None, "wrong"),
    ("-1e-9*sigma(v)*(1-sigma(v))", SIG, V, None, "wrong"),
    ("7.3*exp(-v)*(1+exp(-v))^(-2)", SIG, V, None, "wrong"),
    ("exp(-v)*(1+exp(-v))^(-2)/2", SIG, V, None, "constant_factor"),
    ("-2*exp(-v)*(1+exp(-v))^(-2)", SIG, V, None, "constant_factor"),
    ("7.3*(-2)*(y - a1_2)", B1, OUT, OUTD, "wrong"),
    ("3*(y - a1_2)", B1, OUT, OUTD, "wrong"),
    ("-(y - a1_2)", B1, OUT, OUTD, "constant_factor"),
    ("3", "5", (), None, "wrong"),
    ("7*x", "5*x", X, None, "wrong"),
    ("10*x", "5*x", X, None, "constant_factor"),
    ("-5", "5*x", X, None, "wrong"),
    ("0", FPP, X, None, "wrong"),
    # issue 12: one wrong term of a sum is seen
    ("x - d2/d1", NEWTON, NR, None, "wrong_term"),
    ("-d1/d2", NEWTON, NR, None, "missing_term"),
    ("x - 2*d1/d2", NEWTON, NR, None, "wrong_term"),
    ("x - d1/(2*d2)", NEWTON, NR, None, "wrong_term"),
    ("-4x1^3 x2^2 + 2(x1-1)(x2-1)^4", DX1, X12, None, "wrong_term"),
    ("4x1^3 x2^2 - 2(x1-1)(x2-1)^4", DX1, X12, None, "wrong_term"),
    ("4x1^3 x2^2 + 2(1-x1)(x2-1)^4", DX1, X12, None, "wrong_term"),
    ("4x1^3 x2^2 + (x1-1)(x2-1)^4", DX1, X12, None, "wrong_term"),
    ("4x1^3 x2^2", DX1, X12, None, "missing_term"),
    ("2*x1^4*x2 - 4*(x1-1)^2*(x2-1)^3", DX2, X12, None, "wrong_term"),
    ("36x^2 + 30x", FPP, X, None, "missing_term"),
    ("36x^2 + 15x - 40", FPP, X, None, "wrong_term"),
    ("-36x^2 + 30x - 40", FPP, X, None, "wrong_term"),
    ("36x^2 - 30x - 40", FPP, X, None, "wrong_term"),
    # issue 23: slips beyond the catalogue, named, worth at least a missing term
    ("12x^2 + 30x - 40", FPP, X, None, "term_factor"),
    ("36x^2 + 10x - 40", FPP, X, None, "term_factor"),
    ("12x1^3 x2^2 + 2(x1-1)(x2-1)^4", DX1, X12, None, "term_factor"),
    ("4x1^3 x2^2 + 8(x1-1)(x2-1)^4", DX1, X12, None, "term_factor"),
    ("36x^3 + 30x - 40", FPP, X, None, "power_not_lowered"),
    ("4x1^4 x2^2 + 2(x1-1)(x2-1)^4", DX1, X12, None, "power_not_lowered"),
    ("4x1^3 x2^2 + 2(x1-1)^2 (x2-1)^4", DX1, X12, None, "power_not_lowered"),
    ("12x^3 + 30x - 40", FPP, X, None, "term_not_differentiated"),
    ("x1^4 x2^2 + 2(x1-1)(x2-1)^4", DX1, X12, None, "term_not_differentiated"),
    ("sigma(v)*(1 + sigma(v))", SIG, V, None, "sigma_one_plus"),
    ("-2*(y - a1_2)*w11_2*exp(-z1_1)/(1 + exp(-z1_1))*x1", W11, HID, HIDD,
     "sigma_prime_unsquared"),
    ("-2*(y - a1_2)*w11_2*a1_1*(1 + a1_1)*x1", W11, HID, HIDD, "sigma_one_plus"),
    ("4x1^3 x2^2 + 17", DX1, X12, None, "wrong_term"),
    ("36x^2 + 30x - 41", FPP, X, None, "wrong_term"),
    ("2*x1^4*x2 + 4*(x1-1)^2*(x2-1)^2", DX2, X12, None, "wrong_term"),
    ("-2*(y - a1_2)*w11_2*cos(z1_1)*x1", W11, HID, HIDD, "replaced_factor"),
    ("2*(a1_2 - y)*w11_2*a1_1^2*x1", W11, HID, HIDD, "replaced_factor"),
    # issue 11: a tiny term is not the answer, whatever the numbers say
    ("x - d1/d2 + 10^-30", NEWTON, NR, None, "wrong"),
    ("36*x^2 + 30*x - 40 + 1e-30", FPP, X, None, "wrong"),
    ("36*x^2 + 30*x - 40 + 10^(-40)*x", FPP, X, None, "wrong"),
    # issue 11: real domains (real by default: both signs)
    ("log(x) + log(y)", "log(x*y)", ("x", "y"), None, "wrong"),
    ("sqrt(x)*sqrt(y)", "sqrt(x*y)", ("x", "y"), None, "wrong"),
    ("sqrt(x^2)", "abs(x)", X, None, "correct"),
    ("(x^2)^(1/2) - d1/d2", NEWTON, NR, None, "wrong_term"),  # not x: one wrong term
    # issue 12: the self-check and the grade agree on these (see test_selfcheck_agreement)
    ("(1 + exp(-v))^(-2)", SIG, V, None, "wrong"),
    ("a2_1", W12, OUT, OUTD, "missing_factor"),
    # hostile or unreadable
    ("__import__('os').system('true')", SIG, V, None, "invalid"),
    ("().__class__.__bases__[0].__subclasses__()", SIG, V, None, "invalid"),
    ("9**9**9**9", SIG, V, None, "invalid"),
    ("exp(-v", SIG, V, None, "invalid"),
    ("", SIG, V, None, "invalid"),
    ("x" * 100_000, SIG, V, None, "invalid"),
    ("exp(-w)*(1+exp(-w))^(-2)", SIG, V, None, "wrong_name"),  # right, in w (issue 23)
    ("exp(-w)*(1+exp(-w))^(-1)", SIG, V, None, "invalid"),  # in w, and wrong: unreadable
    ("lambda v: v", SIG, V, None, "invalid"),
    ("open('/etc/passwd')", SIG, V, None, "invalid"),
    ("y - a1_2; import os", W12, OUT, OUTD, "invalid"),
]
