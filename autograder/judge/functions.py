"""The one table of functions an answer may use: names typed, sympy constructor, arity,
mpmath evaluator and transport name.

The parser (what students type), the equivalence check (numeric evaluation) and the transport
(answers leaving the student's process) all read this table, so a function is either supported
everywhere or nowhere.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import mpmath
import sympy
from sympy.core.function import AppliedUndef

from autograder.errors import ParseError

MAX_ARGUMENTS = 16  # per call of max/min


class ArgumentError(ParseError):
    """One argument of a call is at fault (0-based ``argument``), e.g. the base of log(x, 0)."""

    def __init__(self, message: str, argument: int) -> None:
        super().__init__(message)
        self.argument = argument


def _logistic(arg: sympy.Expr) -> sympy.Expr:
    """σ(z) = 1/(1 + e^(-z)), built from exp and a power so every check understands it."""
    return sympy.Pow(sympy.Add(1, sympy.exp(-arg)), -1)


def _logistic_prime(arg: sympy.Expr) -> sympy.Expr:
    """σ'(z) = σ(z)(1 − σ(z)), the notebooks' notation for the sigmoid's derivative."""
    return sympy.Mul(_logistic(arg), sympy.Add(1, sympy.Mul(-1, _logistic(arg))))


def _sqrt(arg: sympy.Expr) -> sympy.Expr:
    return sympy.Pow(arg, sympy.S.Half)


def _log(arg: sympy.Expr, base: sympy.Expr | None = None) -> sympy.Expr:
    """log(x) is the natural logarithm; log(x, b) the logarithm of x to base b."""
    if base is None:
        return sympy.log(arg)
    if base.is_number and (base.is_positive is not True or base == 1):
        raise ArgumentError("the base of a logarithm must be a positive number other than 1", 1)
    return sympy.Mul(sympy.log(arg), sympy.Pow(sympy.log(base), -1))


class Max(sympy.Max):
    """sympy's Max without its search for comparable pairs of arguments, which costs seconds
    for a few nested calls and runs again at every rebuild (xreplace, rewrite); numbers are
    still reduced to the largest. Named Max, so it prints and travels as sympy's does."""

    @classmethod
    def _find_localzeros(cls, values, **options):  # noqa: ANN001, ANN206 -- sympy's hook
        numbers = {v for v in values if v.is_Number}
        return (set(values) - numbers) | set(sympy.Max._find_localzeros(numbers, **options))


class Min(sympy.Min):
    """sympy's Min, cheap in the same way as :class:`Max`."""

    @classmethod
    def _find_localzeros(cls, values, **options):  # noqa: ANN001, ANN206 -- sympy's hook
        numbers = {v for v in values if v.is_Number}
        return (set(values) - numbers) | set(sympy.Min._find_localzeros(numbers, **options))


def _real(value: Any) -> mpmath.mpf:
    """A real value or ValueError: max, min and sign have no meaning for complex numbers."""
    if isinstance(value, mpmath.mpc):
        if value.imag != 0:
            raise ValueError("not a real number")
        return value.real
    return value


def _mp_log(arg: Any) -> Any:
    if arg == 0:
        raise ZeroDivisionError("log of zero")
    return mpmath.log(arg)


def _mp_max(*args: Any) -> Any:
    return max(_real(a) for a in args)


def _mp_min(*args: Any) -> Any:
    return min(_real(a) for a in args)


def _mp_sign(arg: Any) -> Any:
    return mpmath.sign(_real(arg))


@dataclass(frozen=True)
class Function:
    """One supported function.

    ``names``: what a student may type (the first is the one messages use).
    ``build``: the sympy constructor, called with the parsed arguments.
    ``arity``: (fewest, most) arguments; most is None for max/min (up to MAX_ARGUMENTS).
    ``node``: the sympy class ``build`` makes, None when it builds plain Add/Mul/Pow/exp
    (then evaluation and transport need nothing more).
    ``evaluate``: the mpmath function of a ``node`` (ZeroDivisionError/ValueError where undefined).
    ``transport``: the name the node travels under, None for the same reason as ``node``.
    """

    names: tuple[str, ...]
    build: Callable[..., sympy.Expr]
    arity: tuple[int, int | None] = (1, 1)
    node: type | None = None
    evaluate: Callable[..., Any] | None = None
    transport: str | None = None

    def usage(self) -> str:
        """How to call it, for messages: 'log(x)', 'log(x, b)', 'max(a, b, …)'."""
        low, high = self.arity
        if high is None:
            return f"{self.names[0]}(a, b, …)"
        return f"{self.names[0]}({', '.join('xbc'[:high])})" if low == high else \
            f"{self.names[0]}(x) or {self.names[0]}({', '.join('xbc'[:high])})"


def _simple(names: tuple[str, ...], node: type, evaluator: Callable[..., Any]) -> Function:
    return Function(names, node, (1, 1), node, evaluator, node.__name__)


FUNCTIONS: tuple[Function, ...] = (
    _simple(("exp",), sympy.exp, mpmath.exp),
    Function(("log", "ln"), _log, (1, 2), sympy.log, _mp_log, "log"),
    Function(("sqrt",), _sqrt),
    _simple(("abs", "Abs"), sympy.Abs, abs),
    _simple(("sin",), sympy.sin, mpmath.sin),
    _simple(("cos",), sympy.cos, mpmath.cos),
    _simple(("tan",), sympy.tan, mpmath.tan),
    _simple(("sec",), sympy.sec, mpmath.sec),
    _simple(("csc",), sympy.csc, mpmath.csc),
    _simple(("cot",), sympy.cot, mpmath.cot),
    _simple(("asin", "arcsin"), sympy.asin, mpmath.asin),
    _simple(("acos", "arccos"), sympy.acos, mpmath.acos),
    _simple(("atan", "arctan"), sympy.atan, mpmath.atan),
    _simple(("sinh",), sympy.sinh, mpmath.sinh),
    _simple(("cosh",), sympy.cosh, mpmath.cosh),
    _simple(("tanh",), sympy.tanh, mpmath.tanh),
    _simple(("sech",), sympy.sech, mpmath.sech),
    _simple(("csch",), sympy.csch, mpmath.csch),
    _simple(("coth",), sympy.coth, mpmath.coth),
    _simple(("asinh", "arcsinh"), sympy.asinh, mpmath.asinh),
    _simple(("acosh", "arccosh"), sympy.acosh, mpmath.acosh),
    _simple(("atanh", "arctanh"), sympy.atanh, mpmath.atanh),
    _simple(("sign",), sympy.sign, _mp_sign),
    Function(("max", "Max"), Max, (2, None), Max, _mp_max, "Max"),
    Function(("min", "Min"), Min, (2, None), Min, _mp_min, "Min"),
    # the logistic function travels as an undefined sympy function sigma(z) would
    Function(("sigmoid", "sigma", "σ"), _logistic, transport="sigmoid"),
    Function(("sigmoid'", "sigma'", "σ'"), _logistic_prime),
)

BY_NAME: dict[str, Function] = {name: f for f in FUNCTIONS for name in f.names}
BY_NODE: dict[type, Function] = {f.node: f for f in FUNCTIONS if f.node is not None}
BY_NODE.update({sympy.Max: BY_NODE[Max], sympy.Min: BY_NODE[Min]})  # as a sympy answer has them
BY_TRANSPORT: dict[str, Function] = {f.transport: f for f in FUNCTIONS if f.transport}
LOGISTIC = BY_NAME["sigmoid"]
SQRT = BY_NAME["sqrt"]
PRIMED = frozenset(n[:-1] for f in FUNCTIONS for n in f.names if n.endswith("'"))


def listing() -> str:
    """Every supported function with its aliases, for messages: 'exp, log/ln, …'."""
    parts = []
    for f in FUNCTIONS:
        names = "/".join(f.names)
        if f.arity != (1, 1):
            names += f" ({f.usage()})"
        if f.node is sympy.Abs:
            names += " or |x|"
        parts.append(names)
    return ", ".join(parts)


def apply(function: Function, args: Sequence[sympy.Expr]) -> sympy.Expr:
    """``function`` applied to ``args``, or a ParseError saying why not (count, domain)."""
    low, high = function.arity
    name = function.names[0]
    if len(args) < low or (high is not None and len(args) > high):
        wanted = f"{low} argument{'s' if low > 1 else ''}" if low == high else \
            f"{low} or {high} arguments" if high is not None else f"at least {low} arguments"
        raise ParseError(f"'{name}' takes {wanted}, e.g. {function.usage()}")
    if high is None and len(args) > MAX_ARGUMENTS:
        raise ParseError(f"'{name}' takes at most {MAX_ARGUMENTS} arguments")
    return function.build(*args)


def of_node(node: sympy.Basic) -> Function | None:
    """The table entry a sympy node stands for (an undefined function sigma(z) included)."""
    if isinstance(node, AppliedUndef):
        entry = BY_NAME.get(node.func.__name__)
        return entry if entry is LOGISTIC else None
    return BY_NODE.get(type(node))
