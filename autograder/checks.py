"""The checkers: pure functions from an answer to a CheckResult.

They never print and never raise for a wrong or unreadable answer; only a broken reference
(an authoring mistake) raises.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import mpmath
import sympy

from autograder.diagnosis import FEEDBACK, diagnose
from autograder.equivalence import (
    PRECISION,
    compare,
    sample_points,
    substitute,
    values_at,
)
from autograder.errors import BackpropKitError, ParseError
from autograder.parsing import make_symbol, parse_expression, to_expression
from autograder.results import CheckResult

DEFAULT_CREDIT: dict[str, float] = {
    "sign": 0.5,
    "constant_factor": 0.5,
    "wrong_variable": 0.5,
    "missing_factor": 0.25,
    "extra_factor": 0.25,
}
NOT_RECOGNISED = (
    "Not correct, and not one of the usual slips. Re-derive it step by step and check each "
    "factor of the chain."
)


def _credit(mistake: str, credit: Mapping[str, float] | None) -> float:
    return {**DEFAULT_CREDIT, **(credit or {})}.get(mistake, 0.0)


def unreadable(error: ParseError | str) -> CheckResult:
    message = str(error)
    return CheckResult.unreadable(f"Your answer could not be read: {message}", error=message)


# --- expressions -------------------------------------------------------------------------


@dataclass(frozen=True)
class ExpressionReference:
    """What an expression answer is judged against: the reference's values at fixed points,
    and (on the instructor's side only) the reference expression itself.

    A reference without ``expression`` is a fingerprint: it can be released to students.
    """

    names: tuple[str, ...]  # names an answer may use
    symbols: tuple[sympy.Symbol, ...]  # base symbols after definitions, in sample order
    definitions: Mapping[sympy.Symbol, sympy.Expr]
    values: tuple  # reference values at sample_points(len(symbols))
    expression: sympy.Expr | None = None
    factors: tuple = field(default=())

    @classmethod
    def build(
        cls,
        expected: Any,
        variables: Sequence[str] | None = None,
        definitions: Mapping[str, Any] | None = None,
    ) -> ExpressionReference:
        defs_names = list(definitions or {})
        if variables is None:
            raw = expected if isinstance(expected, sympy.Basic) else None
            variables = sorted(str(s) for s in raw.free_symbols) if raw is not None else []
        names = tuple(dict.fromkeys([*variables, *defs_names]))
        try:
            defs = {
                make_symbol(k): to_expression(v, names) for k, v in (definitions or {}).items()
            }
            expr = to_expression(expected, names)
        except ParseError as error:
            raise BackpropKitError(f"the reference answer is not valid: {error}") from error
        base: set[sympy.Symbol] = set()
        for name in names:
            base |= substitute(make_symbol(name), defs).free_symbols
        base |= substitute(expr, defs).free_symbols
        symbols = tuple(sorted(base, key=str))
        full = substitute(expr, defs)
        values = tuple(values_at(full, symbols, sample_points(len(symbols))))
        if sum(v is not None for v in values) < 3:
            raise BackpropKitError("the reference answer is undefined at most sample points")
        factors = tuple(f for f in sympy.Mul.make_args(expr) if f.free_symbols)
        return cls(names, symbols, defs, values, expr, factors)

    def fingerprint(self) -> dict[str, Any]:
        """A JSON-able form without the expression: safe to release beside a notebook."""
        with mpmath.workdps(PRECISION):
            return {
                "variables": list(self.names),
                "definitions": {str(k): str(v) for k, v in self.definitions.items()},
                "symbols": [str(s) for s in self.symbols],
                "values": [None if v is None else mpmath.nstr(v, 30) for v in self.values],
            }

    @classmethod
    def from_fingerprint(cls, data: Mapping[str, Any]) -> ExpressionReference:
        names = tuple(data["variables"])
        defs = {
            make_symbol(k): parse_expression(v, names) for k, v in data["definitions"].items()
        }
        with mpmath.workdps(PRECISION):
            values = tuple(None if v is None else mpmath.mpf(v) for v in data["values"])
        symbols = tuple(make_symbol(s) for s in data["symbols"])
        return cls(names, symbols, defs, values)


def judge_expression(
    answer: Any, reference: ExpressionReference, credit: Mapping[str, float] | None = None
) -> CheckResult:
    """Judge ``answer`` (text or sympy) against a reference or a fingerprint."""
    try:
        raw = to_expression(answer, reference.names)
    except ParseError as error:
        return unreadable(error)
    full = substitute(raw, reference.definitions)
    expected = (
        substitute(reference.expression, reference.definitions)
        if reference.expression is not None
        else None
    )
    verdict = compare(
        full,
        expected if expected is not None else sympy.Integer(0),
        reference.symbols,
        reference_values=reference.values,
        symbolic=expected is not None,
    )
    if verdict.equivalent:
        return CheckResult(
            correct=True, score=1.0, feedback="Correct.", details={"confirmed": verdict.confirmed}
        )
    found = diagnose(
        raw,
        verdict.values,
        reference.values,
        reference.symbols,
        reference.definitions,
        reference.factors,
    )
    if found is None:
        return CheckResult.wrong(NOT_RECOGNISED)
    details = {"used": found.used} if found.used else {}
    return CheckResult.wrong(
        found.feedback, score=_credit(found.mistake, credit), mistake=found.mistake, **details
    )


def check_expression(
    answer: Any,
    expected: Any,
    variables: Sequence[str] | None = None,
    definitions: Mapping[str, Any] | None = None,
    credit: Mapping[str, float] | None = None,
) -> CheckResult:
    """Judge a symbolic answer (a string or a sympy expression) against ``expected``.

    ``variables`` are the names an answer may use (default: those of ``expected``);
    ``definitions`` map a name to its expression, substituted on both sides first.
    ``credit`` overrides the partial credit given for each diagnosed slip.
    """
    return judge_expression(answer, ExpressionReference.build(expected, variables, definitions),
                            credit)


# --- numbers and arrays --------------------------------------------------------------------


def as_number(value: Any) -> float:
    """A finite float from a student's value, or ParseError saying what is wrong with it."""
    if isinstance(value, bool) or value is None:
        raise ParseError(f"expected a number, got {type(value).__name__}")
    if isinstance(value, str):
        text = value.strip().replace("−", "-")
        try:
            number = float(text)
        except ValueError:
            raise ParseError(f"expected a number, got the text {value[:40]!r}") from None
    elif isinstance(value, numbers.Real) or (
        isinstance(value, sympy.Basic) and value.is_number and value.is_real
    ):
        try:
            number = float(value)
        except (TypeError, ValueError, OverflowError):
            raise ParseError("expected a real number") from None
    elif hasattr(value, "shape") and getattr(value, "shape", None) == () and hasattr(
        value, "dtype"
    ):
        return as_number(value.item())
    else:
        raise ParseError(f"expected a number, got {type(value).__name__}")
    if not math.isfinite(number):
        raise ParseError(f"expected a finite number, got {number}")
    return number


_NICE_RATIOS = (2.0, 0.5, -2.0, -0.5, 10.0, 0.1)


def _diagnose_number(answer: float, expected: float, close: Callable[[float, float], bool]):
    if expected != 0 and close(answer, -expected):
        return "sign"
    if expected != 0 and any(close(answer, r * expected) for r in _NICE_RATIOS):
        return "constant_factor"
    return None


def _numeric_result(
    mistake: str | None, near: bool, credit: Mapping[str, float] | None
) -> CheckResult:
    if mistake is not None:
        return CheckResult.wrong(
            FEEDBACK[mistake], score=_credit(mistake, credit), mistake=mistake
        )
    if near:
        return CheckResult.wrong(
            "Close, but not within the tolerance: keep full precision and do not round "
            "intermediate results."
        )
    return CheckResult.wrong("Not correct. Recompute it step by step.")


def check_number(
    answer: Any,
    expected: float,
    rel_tol: float = 1e-6,
    abs_tol: float = 1e-12,
    credit: Mapping[str, float] | None = None,
) -> CheckResult:
    """Judge a numeric answer; NaN, infinities, text and wrong types are unreadable."""
    try:
        value = as_number(answer)
    except ParseError as error:
        return unreadable(error)
    reference = as_number(expected)

    def close(a: float, b: float) -> bool:
        return math.isclose(a, b, rel_tol=rel_tol, abs_tol=abs_tol)

    if close(value, reference):
        return CheckResult.right()
    near = math.isclose(value, reference, rel_tol=1e-2, abs_tol=abs_tol)
    return _numeric_result(_diagnose_number(value, reference, close), near, credit)


def as_array(value: Any) -> list[float]:
    """A flat list of finite floats from a list/tuple/array, or ParseError."""
    if hasattr(value, "tolist"):
        value = value.tolist()
    if isinstance(value, (str, bytes)) or not isinstance(value, (list, tuple)):
        raise ParseError(f"expected a list of numbers, got {type(value).__name__}")
    flat: list[float] = []
    for i, item in enumerate(value):
        if isinstance(item, (list, tuple)):
            flat.extend(as_array(item))
            continue
        try:
            flat.append(as_number(item))
        except ParseError as error:
            raise ParseError(f"entry {i}: {error.message}") from None
    return flat


def check_array(
    answer: Any,
    expected: Sequence[float],
    rel_tol: float = 1e-6,
    abs_tol: float = 1e-9,
    credit: Mapping[str, float] | None = None,
    labels: Sequence[str] | None = None,
) -> CheckResult:
    """Judge a vector of numbers; names the entries that are wrong (not their values)."""
    try:
        values = as_array(answer)
    except ParseError as error:
        return unreadable(error)
    reference = as_array(expected)
    if len(values) != len(reference):
        return unreadable(f"expected {len(reference)} numbers, got {len(values)}")

    def close(a: float, b: float) -> bool:
        return math.isclose(a, b, rel_tol=rel_tol, abs_tol=abs_tol)

    wrong = [i for i, (a, b) in enumerate(zip(values, reference, strict=False)) if not close(a, b)]
    if not wrong:
        return CheckResult.right()
    nonzero = [(a, b) for a, b in zip(values, reference, strict=False) if b != 0]
    mistake = None
    if nonzero and all(close(a, -b) for a, b in nonzero):
        mistake = "sign"
    elif nonzero and nonzero[0][0] != 0:
        ratio = nonzero[0][0] / nonzero[0][1]
        if all(close(a, ratio * b) for a, b in zip(values, reference, strict=False)):
            mistake = "constant_factor"
    if mistake is not None:
        return _numeric_result(mistake, False, credit)
    names = [labels[i] if labels else f"entry {i}" for i in wrong]
    # credit {"per_entry": c}: each right entry earns its share (a list of independent flags)
    share = (credit or {}).get("per_entry", 0.0) * (len(values) - len(wrong)) / len(values)
    return CheckResult.wrong(
        f"{len(values) - len(wrong)} of {len(values)} entries are right; "
        f"recheck {', '.join(names)}.",
        score=share, wrong=[int(i) for i in wrong],
    )


# --- functions ---------------------------------------------------------------------------


def run_probes(
    func: Callable[..., Any], probes: Sequence[Sequence[Any]], project: Callable[[Any], Any]
) -> list[dict[str, Any]]:
    """Call ``func`` on each probe; record the (projected) output or the error, as data."""
    outputs: list[dict[str, Any]] = []
    for args in probes:
        try:
            returned = func(*args)
        except Exception as error:  # noqa: BLE001 -- any exception of student code is data
            outputs.append({"error": f"raised {type(error).__name__}: {str(error)[:200]}"})
            continue
        try:  # reading what came back is the grader's work: its failures say what was returned
            out = project(returned)
            outputs.append({"value": as_array(out) if _is_sequence(out) else as_number(out)})
        except ParseError as error:
            outputs.append({"error": f"returned {error.message}"})
        except Exception:  # noqa: BLE001 -- a value the projection cannot read
            outputs.append({"error": f"returned a {type(returned).__name__}, which is not what "
                                     "the question asks for"})
    return outputs


def _is_sequence(value: Any) -> bool:
    return hasattr(value, "tolist") and getattr(value, "shape", ()) != () or isinstance(
        value, (list, tuple)
    )


def compare_outputs(
    outputs: Sequence[Mapping[str, Any]],
    expected: Sequence[Mapping[str, Any]],
    probes: Sequence[Sequence[Any]],
    rel_tol: float = 1e-6,
    abs_tol: float = 1e-9,
) -> CheckResult:
    """Score = the share of probes answered right; feedback names the first failing input."""
    if len(outputs) != len(expected):
        return unreadable(f"expected {len(expected)} results, got {len(outputs)}")
    passed = 0
    first_failure = None
    for args, out, ref in zip(probes, outputs, expected, strict=False):
        if "error" in out:
            verdict = f"{out['error']}"
        else:
            check = (check_array if isinstance(ref["value"], list) else check_number)(
                out["value"], ref["value"], rel_tol=rel_tol, abs_tol=abs_tol
            )
            if check.correct:
                passed += 1
                continue
            verdict = "gave a wrong result"
        if first_failure is None:
            first_failure = f"For the input {_describe(args)} your function {verdict}."
    if passed == len(expected):
        return CheckResult.right()
    return CheckResult.wrong(
        f"{passed} of {len(expected)} test inputs pass. {first_failure}",
        score=passed / len(expected),
    )


def _describe(args: Sequence[Any]) -> str:
    parts = [getattr(a, "__name__", None) or repr(a) for a in args]
    return "(" + ", ".join(p[:40] for p in parts) + ")"


def check_function(
    func: Any,
    reference: Callable[..., Any],
    probes: Sequence[Sequence[Any]],
    project: Callable[[Any], Any] = lambda out: out,
    rel_tol: float = 1e-6,
    abs_tol: float = 1e-9,
) -> CheckResult:
    """Judge a student's Python function by calling it and ``reference`` on each probe."""
    if not callable(func):
        return unreadable(f"expected a function, got {type(func).__name__}")
    expected = run_probes(reference, probes, project)
    if any("error" in e for e in expected):
        raise BackpropKitError(f"the reference function failed on a probe: {expected}")
    return compare_outputs(run_probes(func, probes, project), expected, probes, rel_tol, abs_tol)
