"""Is the student's expression the reference one? Numbers at points no one can know, and a
symbolic proof that decides whenever sympy finds one.

The grade of record evaluates both sides at points drawn afresh from the operating system's
randomness, inside each variable's domain, in high precision; values released to students
(for the self-check) are taken at other, fixed, public points, so an answer fitted to them
earns nothing. When the numbers agree, sympy tries, within a time bound, to prove the
difference zero (accept) or a non-zero constant (reject); only when it runs out of time does
the numeric verdict stand, marked unconfirmed. Evaluation walks the sympy tree itself (no
lambdify, no exec) and gives up on values too large to mean anything, so no answer can make
judging run for ever.
"""

from __future__ import annotations

import random
import re
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import TypeVar

import mpmath
import sympy

from autograder.judge import functions
from autograder.judge.closeness import EXPRESSION_EXACT, EXPRESSION_FLOAT, EXPRESSION_RELEASED
from autograder.judge.timebox import OutOfTime, timebox

PRECISION = 120  # decimal digits for every evaluation: σ(z)(1 − σ(z)) at |z| ~ 200 cancels ~90
N_SECRET = 16  # points the grade decides on, drawn afresh in every grading process
N_PUBLIC = 12  # fixed points whose values are released for the self-check
MIN_DEFINED = 8  # a reference must be defined at this many points at least
# Released values carry RELEASED_DIGITS digits and are compared at EXPRESSION_RELEASED
# (autograder.judge.closeness): enough for every honest form, and too few for a function
# fitted through them to pass at the secret points (the fit's error grows away from the public
# points far beyond EXPRESSION_EXACT, so the numbers refuse it without waiting for a proof).
RELEASED_DIGITS = 20
SYMBOLIC_SECONDS = 0.6
MAX_MAGNITUDE = mpmath.mpf(10) ** 300  # larger intermediate values mean "undefined here"
MAX_TRIG_ARGUMENT = mpmath.mpf(10) ** 12
PUBLIC_SEED = 20231208

Point = tuple[mpmath.mpf, ...]
T = TypeVar("T")


class Undefined(ArithmeticError):
    """The expression has no real value at this point (division by zero, log of a negative)."""


# --- domains ---------------------------------------------------------------------------------

_INTERVAL = re.compile(r"^\s*([(\[])\s*(-?[0-9.]+|-inf)\s*,\s*(-?[0-9.]+|inf)\s*([)\]])\s*$")


@dataclass(frozen=True)
class Domain:
    """Where a variable lives: the open interval (lo, hi); None is unbounded on that side."""

    lo: float | None = None
    hi: float | None = None

    @classmethod
    def parse(cls, text: str) -> Domain:
        """'real', 'positive', 'negative', or an interval such as '(0, 1)' or '(0, inf)'."""
        words = {"real": cls(), "positive": cls(0.0, None), "negative": cls(None, 0.0),
                 "unit": cls(0.0, 1.0)}
        key = text.strip().lower()
        if key in words:
            return words[key]
        match = _INTERVAL.match(key)
        if not match:
            raise ValueError(f"unknown domain {text!r} (real, positive, negative, unit or "
                             "an interval such as (0, 1))")
        lo = None if match.group(2) == "-inf" else float(match.group(2))
        hi = None if match.group(3) == "inf" else float(match.group(3))
        if lo is not None and hi is not None and not lo < hi:
            raise ValueError(f"empty domain {text!r}")
        return cls(lo, hi)

    @property
    def positive(self) -> bool:
        return self.lo is not None and self.lo >= 0

    @property
    def negative(self) -> bool:
        return self.hi is not None and self.hi <= 0

    def sample(self, rng: random.Random, negative: bool, band: int = -1) -> float:
        """A value inside the domain: on an unbounded side a magnitude from 0.05 to 10 (far
        enough out that polynomial look-alikes separate), log-uniform within one of the bands
        0.05–0.5, 0.5–2, 2–5, 5–10 when ``band`` is given; below 0 when ``negative`` and the
        domain allows it."""
        if self.lo is not None and self.hi is not None:
            width = self.hi - self.lo
            return self.lo + width * (0.01 + 0.98 * rng.random())
        low, high = BANDS[band % len(BANDS)] if band >= 0 else (0.05, 10.0)
        magnitude = low * (high / low) ** rng.random()
        if self.lo is not None:
            return self.lo + magnitude
        if self.hi is not None:
            return self.hi - magnitude
        return -magnitude if negative else magnitude


BANDS = ((5.0, 10.0), (0.05, 0.5), (2.0, 5.0), (0.5, 2.0))


def domains_for(symbols: Sequence[sympy.Symbol], domains: Mapping[str, str] | None
                ) -> tuple[Domain, ...]:
    given = {k: Domain.parse(v) for k, v in (domains or {}).items()}
    return tuple(given.get(s.name, Domain()) for s in symbols)


def _signs(index: int, n: int, rng: random.Random) -> list[bool]:
    """Which coordinates are negative at the ``index``-th point: every other point has all
    coordinates positive; the rest go through every sign pattern in turn (for up to three
    variables; beyond, the first is all negative and the rest random)."""
    if index % 2 == 0:
        return [False] * n
    j = index // 2
    if n <= 3:
        pattern = (j + 1) % (1 << n) or 1  # skip the all-positive pattern
        return [bool(pattern >> k & 1) for k in range(n)]
    if j == 0:
        return [True] * n
    return [rng.random() < 0.5 for _ in range(n)]


def draw_points(domains: Sequence[Domain], count: int, rng: random.Random,
                start: int = 0) -> list[Point]:
    """``count`` points, numbered from ``start`` (see :func:`_signs`); the magnitudes go
    through the bands in turn, so large values (where look-alikes part) are always among
    them. A tiny irrational-looking offset keeps them clear of integers."""
    points = []
    with mpmath.workdps(PRECISION):
        for i in range(start, start + count):
            signs = _signs(i, len(domains), rng)
            points.append(tuple(mpmath.mpf(d.sample(rng, neg, i // 2 + k))
                                + mpmath.mpf(rng.random()) / 10**12
                                for k, (d, neg) in enumerate(zip(domains, signs, strict=True))))
    return points


@lru_cache(maxsize=64)
def sample_points(n_variables: int, n_points: int = N_PUBLIC, seed: int = PUBLIC_SEED
                  ) -> tuple[Point, ...]:
    """Fixed real points, both signs, for fingerprints that need no domain (answer groups)."""
    return tuple(draw_points([Domain()] * n_variables, n_points,
                             random.Random(seed * 1000 + n_variables)))


def secret_rng() -> random.Random:
    """The operating system's randomness: points nobody can know in advance."""
    return random.SystemRandom()


def public_rng(names: Sequence[str]) -> random.Random:
    """Fixed per set of names: the released points (feedback only, never the grade)."""
    return random.Random(f"{PUBLIC_SEED}:{','.join(names)}")


# --- evaluation ------------------------------------------------------------------------------

_GROWING = {sympy.exp, sympy.cosh, sympy.sinh}
_PERIODIC = {sympy.sin, sympy.cos, sympy.tan, sympy.sec, sympy.csc, sympy.cot}


def _bounded(value: mpmath.mpc) -> mpmath.mpc:
    if abs(value) > MAX_MAGNITUDE:
        raise Undefined("too large")
    return value


def evaluate(expr: sympy.Basic, env: Mapping[sympy.Symbol, mpmath.mpf]) -> mpmath.mpc:
    """Value of ``expr`` with symbols bound by ``env``, at the current mpmath precision.

    Values beyond 10^300 (exp of exp of …) count as undefined: such a value says nothing
    about the answer and could take unbounded time and memory to compute.
    """
    return _compiled(expr)(env)


Evaluator = Callable[[Mapping[sympy.Symbol, mpmath.mpf]], mpmath.mpc]


@lru_cache(maxsize=8192)
def _compiled(expr: sympy.Basic) -> Evaluator:
    """The expression as nested closures, built once: evaluating at many points then costs
    only the arithmetic."""
    with mpmath.workdps(PRECISION):
        return _compile(expr)


def _compile(expr: sympy.Basic) -> Evaluator:
    if expr.is_Symbol:
        return lambda env: env[expr]
    if expr.is_Number or expr is sympy.E or expr is sympy.pi:
        if expr.is_Integer:
            constant = mpmath.mpf(int(expr))
        elif expr.is_Rational:
            constant = mpmath.mpf(int(expr.p)) / int(expr.q)
        elif expr.is_Float:
            constant = mpmath.mpf(expr._mpf_)
        elif expr is sympy.E:
            constant = mpmath.e
        elif expr is sympy.pi:
            constant = mpmath.pi
        else:
            return _undefined(f"cannot evaluate {expr}")
        return lambda env: constant
    parts = [_compile(a) for a in expr.args]
    if expr.is_Add:
        return lambda env: mpmath.fsum(p(env) for p in parts)
    if expr.is_Mul:
        def product(env):
            result = mpmath.mpf(1)
            for p in parts:
                result *= p(env)
            return result
        return product
    if expr.is_Pow:
        base_of, exponent_of = parts

        def power(env):
            base, exponent = base_of(env), exponent_of(env)
            if base == 0:
                if mpmath.re(exponent) <= 0:
                    raise Undefined("division by zero")
                return mpmath.mpf(0)
            if abs(exponent) * (abs(mpmath.mag(base)) + 1) > 2000:  # over ~2^2000
                raise Undefined("too large")
            return _bounded(mpmath.power(base, exponent))
        return power
    function = functions.BY_NODE.get(type(expr))  # the one table of functions
    if function is None or function.evaluate is None:
        return _undefined(f"cannot evaluate {type(expr).__name__}")
    evaluator, name = function.evaluate, function.names[0]
    growing = expr.func in _GROWING
    periodic = expr.func in _PERIODIC

    def apply(env):
        args = [p(env) for p in parts]
        if growing and abs(mpmath.re(args[0])) > 690:
            raise Undefined("too large")
        if periodic and abs(args[0]) > MAX_TRIG_ARGUMENT:
            raise Undefined("too large")
        try:
            return _bounded(evaluator(*args))
        except (ZeroDivisionError, ValueError) as error:  # log(0), cot(0), max of non-reals
            raise Undefined(f"{name}: {error}") from None
    return apply


def _undefined(reason: str) -> Evaluator:
    def fail(env):
        raise Undefined(reason)
    return fail


def _value(expr: sympy.Basic, env: Mapping[sympy.Symbol, mpmath.mpf]) -> mpmath.mpf | None:
    """The real value at one point, or None where undefined or not real."""
    try:
        value = evaluate(expr, env)
    except (Undefined, ZeroDivisionError, ValueError, OverflowError, KeyError):
        return None
    if isinstance(value, mpmath.mpc):
        if abs(value.imag) > abs(value.real) * EXPRESSION_FLOAT + EXPRESSION_FLOAT:
            return None
        value = value.real
    return value if mpmath.isfinite(value) else None


def values_at(
    expr: sympy.Basic, symbols: Sequence[sympy.Symbol], points: Iterable[Point]
) -> list[mpmath.mpf | None]:
    """Values at each point (None where undefined or not real)."""
    with mpmath.workdps(PRECISION):
        return [_value(expr, dict(zip(symbols, point, strict=False))) for point in points]


def _bind(definitions: Mapping[sympy.Symbol, sympy.Expr],
          env: dict[sympy.Symbol, mpmath.mpf]) -> dict[sympy.Symbol, mpmath.mpf]:
    """Add the value of every defined symbol (definitions may use each other) to ``env``;
    a definition undefined at this point stays out, so whatever uses it is undefined too."""
    pending = dict(definitions)
    while pending:
        progress = False
        for name, body in list(pending.items()):
            if body.free_symbols & pending.keys():
                continue
            value = _value(body, env)
            if value is not None:
                env[name] = value
            del pending[name]
            progress = True
        if not progress:
            raise ValueError("definitions refer to each other in a cycle")
    return env


@dataclass(frozen=True)
class Frame:
    """Points with the value of every symbol there, defined ones included, so an expression
    that keeps a1_2 (or a1_1, z1_1) is evaluated without substituting its definition."""

    symbols: tuple[sympy.Symbol, ...]
    points: tuple[Point, ...]
    envs: tuple[Mapping[sympy.Symbol, mpmath.mpf], ...]

    @classmethod
    def at(cls, symbols: Sequence[sympy.Symbol], points: Sequence[Point],
           definitions: Mapping[sympy.Symbol, sympy.Expr] | None = None) -> Frame:
        with mpmath.workdps(PRECISION):
            envs = tuple(_bind(definitions or {}, dict(zip(symbols, p, strict=True)))
                         for p in points)
        return cls(tuple(symbols), tuple(points), envs)

    def values(self, expr: sympy.Basic) -> tuple:
        with mpmath.workdps(PRECISION):
            return tuple(_value(expr, env) for env in self.envs)

    def matches(self, expr: sympy.Basic, answer: Sequence[mpmath.mpf | None],
                rel_tol: mpmath.mpf = EXPRESSION_FLOAT) -> bool:
        """Is ``answer`` (values) equal to ``expr`` wherever ``expr`` is defined (3 points at
        least)? The same test as ``same_values(answer, self.values(expr))``, stopping at the
        first point that differs, so trying many candidates stays cheap."""
        return self._agrees(expr, answer, rel_tol, expr_is_reference=True)

    def equals(self, expr: sympy.Basic, reference: Sequence[mpmath.mpf | None],
               rel_tol: mpmath.mpf = EXPRESSION_FLOAT) -> bool:
        """``same_values(self.values(expr), reference)``, stopping at the first difference."""
        return self._agrees(expr, reference, rel_tol, expr_is_reference=False)

    def _agrees(self, expr: sympy.Basic, known: Sequence[mpmath.mpf | None],
                rel_tol: mpmath.mpf, *, expr_is_reference: bool) -> bool:
        """``expr``'s values against ``known`` on 3 points at least, where the reference (one
        or the other) is defined; the other must be defined and close there."""
        compared = 0
        with mpmath.workdps(PRECISION):
            for env, k in zip(self.envs, known, strict=True):
                if k is None and not expr_is_reference:
                    continue
                v = _value(expr, env)
                if v is None and expr_is_reference:
                    continue
                reference, other = (v, k) if expr_is_reference else (k, v)
                if other is None or abs(other - reference) > rel_tol * (1 + abs(reference)):
                    return False
                compared += 1
        return compared >= 3


@dataclass(frozen=True)
class Sample:
    """Points inside the domains where the reference is defined, with its values there."""

    frame: Frame
    values: tuple[mpmath.mpf | None, ...]

    @property
    def points(self) -> tuple[Point, ...]:
        return self.frame.points


def sample_reference(expr: sympy.Expr, symbols: Sequence[sympy.Symbol],
                     domains: Sequence[Domain], count: int, rng: random.Random,
                     definitions: Mapping[sympy.Symbol, sympy.Expr] | None = None) -> Sample:
    """Draw until ``count`` points where ``expr`` is defined (at most 20 rounds); fewer than
    MIN_DEFINED is an authoring mistake (the domain excludes where it lives)."""
    points: list[Point] = []
    envs: list = []
    values: list = []
    for round_ in range(20):
        batch = Frame.at(symbols, draw_points(domains, count, rng, round_ * count), definitions)
        for point, env, value in zip(batch.points, batch.envs, batch.values(expr), strict=True):
            if value is not None and len(points) < count:
                points.append(point)
                envs.append(env)
                values.append(value)
        if len(points) >= count:
            break
    if len(points) < MIN_DEFINED:
        raise ValueError("the reference is undefined at most points of its domain; "
                         "declare the variables' domains")
    return Sample(Frame(tuple(symbols), tuple(points), tuple(envs)), tuple(values))


def substitute(
    expr: sympy.Expr, definitions: Mapping[sympy.Symbol, sympy.Expr] | None
) -> sympy.Expr:
    """Replace defined symbols by their definitions until none is left (definitions may nest)."""
    if not definitions:
        return expr
    for _ in range(len(definitions) + 1):
        if not expr.free_symbols & definitions.keys():
            return expr
        expr = expr.xreplace(dict(definitions))
    raise ValueError("definitions refer to each other in a cycle")


def has_floats(expr: sympy.Basic) -> bool:
    return any(a.is_Float for a in sympy.preorder_traversal(expr))


def close(a: mpmath.mpf, b: mpmath.mpf, rel_tol: mpmath.mpf) -> bool:
    with mpmath.workdps(PRECISION):
        return abs(a - b) <= rel_tol * (1 + abs(b))


def agreement(answer: Sequence[mpmath.mpf | None], reference: Sequence[mpmath.mpf | None],
              rel_tol: mpmath.mpf = EXPRESSION_EXACT) -> str:
    """'same' (equal at every point where the reference is defined), 'undefined' (the answer
    has no real value at some of them) or 'different'."""
    compared = 0
    undefined = False
    for a, b in zip(answer, reference, strict=False):
        if b is None:
            continue
        if a is None:
            undefined = True
            continue
        if not close(a, b, rel_tol):
            return "different"
        compared += 1
    if undefined:
        return "undefined"
    return "same" if compared >= 3 else "different"


def same_values(answer: Sequence[mpmath.mpf | None], reference: Sequence[mpmath.mpf | None],
                rel_tol: mpmath.mpf = EXPRESSION_EXACT) -> bool:
    return agreement(answer, reference, rel_tol) == "same"


# --- the symbolic step -----------------------------------------------------------------------


def run_bounded(func: Callable[[], T], seconds: float) -> T | None:
    """Run ``func`` within ``seconds`` (the project's nestable timebox: an outer deadline is
    never extended and keeps what it has left); None when it ran out of time or failed.
    Outside the main thread, where no alarm reaches, the symbolic step is not tried."""
    if threading.current_thread() is not threading.main_thread():
        return None
    try:
        with timebox(seconds):
            return func()
    except (OutOfTime, RecursionError, ValueError, TypeError, AttributeError,
            ZeroDivisionError, NotImplementedError, OverflowError, MemoryError):
        return None


@cache
def _assumed(name: str, positive: bool, negative: bool) -> sympy.Symbol:
    if positive:
        return sympy.Symbol(name, positive=True)
    if negative:
        return sympy.Symbol(name, negative=True)
    return sympy.Symbol(name, real=True)


def with_assumptions(expr: sympy.Expr, symbols: Sequence[sympy.Symbol],
                     domains: Sequence[Domain]) -> sympy.Expr:
    """Symbols that know their domain's sign, so that sympy may use it in a proof."""
    swap = {s: _assumed(s.name, d.positive, d.negative) for s, d in zip(symbols, domains,
                                                                      strict=True)
            if d.positive or d.negative}
    return expr.xreplace(swap) if swap else expr


def _rational(expr: sympy.Expr) -> sympy.Expr:
    """Floats as the decimals they were typed as (0.1 → 1/10), so a proof is exact."""
    if not has_floats(expr):
        return expr
    return expr.xreplace({f: sympy.nsimplify(f, rational=True)
                          for f in expr.atoms(sympy.Float)})


def _levels(definitions: Mapping[sympy.Symbol, sympy.Expr]) -> list[dict]:
    """Every subset of the definitions, smallest first: substituting a1_1 = σ(z1_1) while
    a1_2 and z1_1 stay symbols often lets a proof through that the full substitution buries.
    Sound either way: an identity that holds with some symbols free holds once they are
    tied to their definitions, and a constant difference is a constant either way."""
    names = list(definitions)
    subsets = [()]
    for name in names:
        subsets += [(*s, name) for s in subsets]
    subsets.sort(key=len)
    return [{n: definitions[n] for n in subset} for subset in subsets[: 1 << min(len(names), 4)]]


_CHEAP = (
    lambda e: e,
    lambda e: sympy.expand(e.rewrite(sympy.exp)),
    lambda e: sympy.cancel(sympy.together(e)),
)


CERTAIN_DIGITS = 60  # a constant whose value is non-zero at this precision is non-zero


def _apart_from_zero(value: sympy.Expr) -> bool:
    """Is the constant non-zero in value? sympy's evaluation adds precision until the digits
    it reports are right, and reports a value that cancels to nothing as a bare zero (of
    precision 1): a number of full precision that is not 0 is a certificate."""
    if value == 0:
        return False
    number = value.evalf(CERTAIN_DIGITS)
    return bool(number.is_Number and number != 0 and getattr(number, "_prec", 0) > 1)


def _constant(value: sympy.Expr) -> str:
    """'zero', 'nonzero' or 'unknown' for a constant: non-zero only where its value is
    (:func:`_apart_from_zero`), zero only where sympy proves it (for a constant, by its
    minimal polynomial). That sympy cannot simplify ``sqrt(11 + 6*sqrt(2)) - 3 - sqrt(2)``
    to 0 decides nothing by itself."""
    if value == 0:
        return "zero"
    if _apart_from_zero(value):
        return "nonzero"
    return "zero" if value.is_zero else "unknown"


def _rational_function(current: sympy.Expr) -> str:
    """'nonzero', 'zero' or 'unknown' for a rational function of independent symbols: it is
    identically zero exactly when every coefficient of its numerator is, and those are
    constants (all are looked at in value before any is given to a proof)."""
    numerator = sympy.numer(sympy.together(current))
    symbols = sorted(numerator.free_symbols, key=str)
    if not symbols:
        return _constant(numerator)
    try:
        coefficients = sympy.Poly(numerator, *symbols).coeffs()
    except sympy.PolynomialError:
        return "unknown"
    if any(_apart_from_zero(c) for c in coefficients):
        return "nonzero"
    return "zero" if all(_constant(c) == "zero" for c in coefficients) else "unknown"


def _attempt(diff: sympy.Expr, steps: Sequence[Callable[[sympy.Expr], sympy.Expr]],
             independent: bool) -> str:
    """One try; a non-zero rational function proves a difference only when its symbols are
    independent (every definition substituted), a non-zero constant always does — non-zero
    meaning non-zero in value at high precision (:func:`_constant`), never merely "sympy did
    not simplify it to 0"."""
    current = _rational(diff)
    for step in steps:
        current = step(current)
        if current == 0:
            return "zero"
        if current.is_number:
            verdict = _constant(current)
        elif independent and current.is_rational_function():
            verdict = _rational_function(current)
        else:
            continue
        if verdict != "unknown":
            return verdict
    return "unknown"


def prove(answer: sympy.Expr, expected: sympy.Expr,
          definitions: Mapping[sympy.Symbol, sympy.Expr] | None = None,
          assume: Callable[[sympy.Expr], sympy.Expr] = lambda e: e,
          seconds: float = SYMBOLIC_SECONDS) -> str:
    """'zero', 'nonzero' (the difference is a non-zero constant) or 'unknown' (out of time,
    or no verdict), trying each level of substitution in turn: an identity found with
    intermediate symbols kept holds once they are substituted, and a constant difference is
    a constant either way."""

    def attempt() -> str:
        defs = definitions or {}
        for level in _levels(defs):
            a = answer.xreplace(level) if level else answer
            b = expected.xreplace(level) if level else expected
            verdict = _attempt(assume(a - b), _CHEAP, len(level) == len(defs))
            if verdict != "unknown":
                return verdict
        full = assume(substitute(answer, defs) - substitute(expected, defs))
        return _attempt(full, (*_CHEAP, sympy.simplify), True)

    return run_bounded(attempt, seconds) or "unknown"


@dataclass(frozen=True)
class Verdict:
    equivalent: bool
    confirmed: bool | None  # True: proved; False: only the numbers say so; None: not equal
    values: tuple  # the answer's values at the points (for diagnosis)
    undefined: bool = False  # the answer has no real value at some points of the domain


def compare(
    answer: sympy.Expr,
    expected: sympy.Expr | None,
    sample: Sample,
    domains: Sequence[Domain] | None = None,
    definitions: Mapping[sympy.Symbol, sympy.Expr] | None = None,
) -> Verdict:
    """Decide equivalence at the sample's points; ``answer`` and ``expected`` may keep
    defined symbols. With ``expected`` given, a proof overrides the numbers (without it —
    the released fingerprint — only the numbers speak)."""
    frame = sample.frame
    answer_values = frame.values(answer)
    floats = has_floats(answer) or (expected is not None and has_floats(expected))
    tol = EXPRESSION_FLOAT if floats else EXPRESSION_EXACT
    if expected is None:  # a released fingerprint: its values carry RELEASED_DIGITS digits
        tol = max(tol, EXPRESSION_RELEASED)
    numeric = agreement(answer_values, sample.values, tol)
    if expected is None:
        return Verdict(numeric == "same", None if numeric != "same" else False, answer_values,
                       numeric == "undefined")
    near = numeric == "same" or agreement(answer_values, sample.values,
                                          EXPRESSION_FLOAT) == "same"
    if not near:
        return Verdict(False, None, answer_values, numeric == "undefined")
    doms = domains or tuple(Domain() for _ in frame.symbols)
    proof = prove(answer, expected, definitions,
                  lambda e: with_assumptions(e, frame.symbols, doms))
    if proof == "zero":
        return Verdict(True, True, answer_values)
    if proof == "nonzero" or numeric != "same":
        return Verdict(False, None, answer_values)
    return Verdict(True, False, answer_values)
