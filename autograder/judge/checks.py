"""The checkers: pure functions from an answer to a CheckResult.

They never print and never raise for a wrong or unreadable answer; only a broken reference
(an authoring mistake) raises.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from typing import Any

import mpmath
import sympy

from autograder.errors import BackpropKitError, ParseError
from autograder.judge import components, sealing
from autograder.judge.closeness import (
    ANSWER,
    decimals_for,
    is_rounding_of,
    shown_decimals,
    shown_digits,
)
from autograder.judge.diagnosis import (
    DEFAULT_CREDIT,
    Candidate,
    Named,
    Part,
    PartValues,
    Slip,
    candidate_values,
    candidates,
    credit_for,
    diagnose,
    hint_for,
    message,
    part_values,
    structure,
)
from autograder.judge.equivalence import N_PUBLIC as N_PUBLIC
from autograder.judge.equivalence import N_SECRET as N_SECRET
from autograder.judge.equivalence import (
    PRECISION,
    RELEASED_DIGITS,
    Domain,
    Frame,
    Point,
    Sample,
    compare,
    domains_for,
    public_rng,
    sample_reference,
    secret_rng,
    substitute,
)
from autograder.judge.parsing import make_symbol, parse_expression, to_expression
from autograder.judge.probing import as_array as as_array
from autograder.judge.probing import as_number as as_number
from autograder.judge.probing import is_sequence as _is_sequence
from autograder.judge.probing import run_probes as run_probes
from autograder.results import CheckResult

__all__ = ["DEFAULT_CREDIT", "ExpressionReference", "Part", "Slip", "check_array",
           "check_expression", "check_function", "check_number", "judge_expression"]

NOT_RECOGNISED = (
    "Not correct, and not one of the usual slips. Re-derive it step by step and check each "
    "factor of the chain."
)
NO_VARIABLES = ("Not correct: your answer is a number, but the right answer depends on the "
                "variables.")
NOT_REAL = ("Not correct: your answer is not a real number (or is undefined) for some allowed "
            "values of {names}, where the right answer is defined. Check logarithms, square "
            "roots and divisions.")
UNCONFIRMED = "Correct (by evaluation at random points; the symbolic proof ran out of time)."


def unreadable(error: ParseError | str) -> CheckResult:
    message = str(error)
    return CheckResult.unreadable(f"Your answer could not be read: {message}", error=message)


# --- expressions -------------------------------------------------------------------------


@dataclass(frozen=True)
class Judged:
    """Points with the reference's values there and the candidates' values."""

    sample: Sample
    tried: tuple  # (Candidate, values) pairs, in the order they are tried
    parts: tuple[PartValues, ...] = ()  # the reference's parts there (one_part_wrong)


def _points_text(points: Sequence[Point]) -> list[list[str]]:
    with mpmath.workdps(PRECISION):
        return [[mpmath.nstr(c, 30) for c in p] for p in points]


def _values_text(values: Sequence[mpmath.mpf | None]) -> list[str | None]:
    with mpmath.workdps(PRECISION):
        return [None if v is None else mpmath.nstr(v, RELEASED_DIGITS) for v in values]


def _read_values(data: Sequence[str | None]) -> tuple:
    with mpmath.workdps(PRECISION):
        return tuple(None if v is None else mpmath.mpf(v) for v in data)


@dataclass(frozen=True)
class ExpressionReference:
    """What an expression answer is judged against.

    On the instructor's side it holds the reference expression and its candidate slips; the
    grade evaluates them at points drawn from the OS's randomness (once per process), and a
    symbolic proof decides when sympy finds one. Its ``fingerprint()`` — the values of the
    reference and of each candidate at fixed public points — is what a student receives: the
    self-check judges against it and reaches the same verdict on every honest answer, while an
    answer fitted to it earns nothing in the grade.
    """

    names: tuple[str, ...]  # names an answer may use
    symbols: tuple[sympy.Symbol, ...]  # base symbols after definitions, in sample order
    definitions: Mapping[sympy.Symbol, sympy.Expr]
    domains: tuple[Domain, ...]
    expression: sympy.Expr | None = None  # after definitions; None in a fingerprint
    raw: sympy.Expr | None = None  # as given, defined symbols kept (evaluated in a Frame)
    found: tuple[Candidate, ...] = ()  # with expressions: instructor side only
    credit: Mapping[str, float] = field(default_factory=dict)
    released: Judged | None = None  # a fingerprint's public points and values
    kind: str = "atom"  # how the reference is built: 'sum', 'product' or 'atom'
    named: tuple[Named, ...] = ()  # its parts, with expressions: instructor side only

    @classmethod
    def build(
        cls,
        expected: Any,
        variables: Sequence[str] | None = None,
        definitions: Mapping[str, Any] | None = None,
        *,
        domains: Mapping[str, str] | None = None,
        parts: Sequence[Part] = (),
        slips: Sequence[Slip] = (),
        credit: Mapping[str, float] | None = None,
        hints: Mapping[str, str] | None = None,
        ratios: Sequence[object] = (),
    ) -> ExpressionReference:
        defs_names = list(definitions or {})
        if variables is None:
            raw = expected if isinstance(expected, sympy.Basic) else None
            variables = sorted(str(s) for s in raw.free_symbols) if raw is not None else []
        names = tuple(dict.fromkeys([*variables, *defs_names]))

        def to_expr(value: Any) -> sympy.Expr:
            return to_expression(value, names)

        try:
            defs = {make_symbol(k): to_expr(v) for k, v in (definitions or {}).items()}
            expr = to_expr(expected)
            kind, named = structure(expr, to_expr, parts)
            found = candidates(expr, to_expr, parts, slips, credit, hints, ratios,
                               shape=(kind, named))
        except ParseError as error:
            raise BackpropKitError(f"the reference answer is not valid: {error}") from error
        base: set[sympy.Symbol] = set()
        for name in names:
            base |= substitute(make_symbol(name), defs).free_symbols
        base |= substitute(expr, defs).free_symbols
        symbols = tuple(sorted(base, key=str))
        try:
            doms = domains_for(symbols, domains)
        except ValueError as error:
            raise BackpropKitError(f"the question's domains are not valid: {error}") from error
        return cls(names, symbols, defs, doms, substitute(expr, defs), expr, tuple(found),
                   dict(credit or {}), kind=kind, named=tuple(named))

    # -- the points ------------------------------------------------------------------------

    def _judged(self, count: int, rng: Any) -> Judged:
        assert self.raw is not None
        try:
            sample = sample_reference(self.raw, self.symbols, self.domains, count, rng,
                                      self.definitions)
        except ValueError as error:
            raise BackpropKitError(f"the reference answer: {error}") from error
        return Judged(sample, (), part_values(self.kind, self.named, sample.frame,
                                              self.credit))

    def _with_candidates(self, judged: Judged) -> Judged:
        tried = candidate_values(self.found, judged.sample.frame, judged.sample.values)
        return Judged(judged.sample, tuple(tried), judged.parts)

    @cached_property
    def public(self) -> Judged:
        """The fixed public points (self-check): reference values only, candidates lazily."""
        if self.released is not None:
            return self.released
        return self._judged(N_PUBLIC, public_rng(self.names))

    @cached_property
    def public_full(self) -> Judged:
        if self.released is not None:
            return self.released
        return self._with_candidates(self.public)

    @cached_property
    def secret(self) -> Judged:
        """Points drawn from the OS's randomness the first time this process grades."""
        return self._judged(N_SECRET, secret_rng())

    # -- release ---------------------------------------------------------------------------

    def fingerprint(self) -> dict[str, Any]:
        """A JSON-able form without any expression: safe to release beside a notebook."""
        judged = self.public_full
        return {
            "variables": list(self.names),
            "definitions": {str(k): str(v) for k, v in self.definitions.items()},
            "symbols": [str(s) for s in self.symbols],
            "points": _points_text(judged.sample.points),
            "values": _values_text(judged.sample.values),
            "candidates": [
                {"mistake": c.mistake, "feedback": c.feedback, "credit": c.credit,
                 "values": _values_text(v)} for c, v in judged.tried
            ],
            "credit": dict(self.credit),
            "shape": {"kind": self.kind, "parts": [
                {"name": p.name, "credit": p.credit, "values": _values_text(p.values)}
                for p in judged.parts]},
        }

    @classmethod
    def from_fingerprint(cls, data: Mapping[str, Any]) -> ExpressionReference:
        names = tuple(data["variables"])
        defs = {
            make_symbol(k): parse_expression(v, names) for k, v in data["definitions"].items()
        }
        symbols = tuple(make_symbol(s) for s in data["symbols"])
        with mpmath.workdps(PRECISION):
            points = tuple(tuple(mpmath.mpf(c) for c in p) for p in data["points"])
        sample = Sample(Frame.at(symbols, points, defs), _read_values(data["values"]))
        tried = tuple((Candidate(c["mistake"], c["feedback"], float(c["credit"])),
                       _read_values(c["values"])) for c in data.get("candidates", []))
        shape = data.get("shape") or {}
        parts = tuple(PartValues(p["name"], _read_values(p["values"]), float(p["credit"]))
                      for p in shape.get("parts", ()))
        return cls(names, symbols, defs, tuple(Domain() for _ in symbols), None, None, (),
                   dict(data.get("credit", {})), Judged(sample, tried, parts),
                   kind=shape.get("kind", "atom"))


def judge_expression(
    answer: Any, reference: ExpressionReference, credit: Mapping[str, float] | None = None
) -> CheckResult:
    """Judge ``answer`` (text or sympy): at secret points with a proof against a full
    reference, at the public points against a released fingerprint."""
    try:
        raw = to_expression(answer, reference.names)
    except ParseError as error:
        return _renamed(answer, reference, credit) or unreadable(error)
    secret = reference.expression is not None
    judged = reference.secret if secret else reference.public_full
    verdict = compare(raw, reference.raw, judged.sample, reference.domains,
                      reference.definitions)
    if verdict.equivalent:
        feedback = "Correct." if verdict.confirmed or not secret else UNCONFIRMED
        return CheckResult(correct=True, score=1.0, feedback=feedback,
                           details={"confirmed": verdict.confirmed if secret else None})
    if not raw.free_symbols and reference.symbols:
        return CheckResult.wrong(NO_VARIABLES)
    found = diagnose(raw, verdict.values, judged.sample.values, judged.sample.frame,
                     found=reference.found if secret else (),
                     released=() if secret else judged.tried,
                     definitions=reference.definitions,
                     credit={**reference.credit, **(credit or {})},
                     shape=(reference.kind, judged.parts))
    if found is None:
        if verdict.undefined:
            return CheckResult.wrong(NOT_REAL.format(
                names=", ".join(str(s) for s in reference.symbols)))
        return CheckResult.wrong(NOT_RECOGNISED)
    details = {"used": found.used} if found.used else {}
    score = credit_for(found.mistake, credit) if credit and found.mistake in credit else \
        found.credit
    return CheckResult.wrong(found.feedback, score=score, mistake=found.mistake, **details)


_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,15}")


def _renamed(answer: Any, reference: ExpressionReference,
             credit: Mapping[str, float] | None) -> CheckResult | None:
    """An answer written in one symbol the question does not define (σ′ in v where the link
    is in z₁⁽¹⁾): right when read in one of the question's own symbols, it earns the
    ``wrong_name`` credit and is told so; anything else stays unreadable. Only our parser
    reads it, with that one name allowed besides the question's."""
    if not isinstance(answer, str) or len(answer) > 2000:
        return None
    known = set(reference.names)
    for name in list(dict.fromkeys(_IDENTIFIER.findall(answer)))[:8]:
        if name in known:
            continue
        try:
            expr = parse_expression(answer, [*reference.names, name])
        except ParseError:
            continue
        stranger = [s for s in expr.free_symbols if s.name == name]
        if len(stranger) != 1:
            return None
        for meant in reference.names:
            if make_symbol(meant) in expr.free_symbols:
                continue
            read = judge_expression(expr.xreplace({stranger[0]: make_symbol(meant)}), reference)
            if read.correct:
                return CheckResult.wrong(message("wrong_name", used=name, meant=meant),
                                         score=credit_for("wrong_name", credit),
                                         mistake="wrong_name")
        return None
    return None


def check_expression(
    answer: Any,
    expected: Any,
    variables: Sequence[str] | None = None,
    definitions: Mapping[str, Any] | None = None,
    credit: Mapping[str, float] | None = None,
    **rubric: Any,
) -> CheckResult:
    """Judge a symbolic answer (a string or a sympy expression) against ``expected``.

    ``variables`` are the names an answer may use (default: those of ``expected``);
    ``definitions`` map a name to its expression, substituted on both sides first.
    ``credit`` overrides the partial credit given for each diagnosed slip; ``rubric`` takes
    the question's ``domains``, ``parts``, ``slips``, ``hints`` and ``ratios``.
    """
    try:
        key = (expected, tuple(variables) if variables is not None else None,
               tuple(sorted((definitions or {}).items())), tuple(sorted((credit or {}).items())),
               tuple(sorted((k, _frozen(v)) for k, v in rubric.items())))
        hash(key)
    except TypeError:
        reference = ExpressionReference.build(expected, variables, definitions, credit=credit,
                                              **rubric)
    else:
        reference = _cached_reference(key)
    return judge_expression(answer, reference, credit)


def _frozen(value: Any) -> Any:
    if isinstance(value, Mapping):
        return tuple(sorted((k, _frozen(v)) for k, v in value.items()))
    if isinstance(value, (list, tuple)):
        return tuple(_frozen(v) for v in value)
    return value


@lru_cache(maxsize=256)
def _cached_reference(key: tuple) -> ExpressionReference:
    """A reference is costly to build (its points, its candidates): build each once per
    process, as grading does per question; its secret points are drawn once per process."""
    expected, variables, definitions, credit, rubric = key
    options = {k: (dict(v) if k in ("domains", "hints") else v) for k, v in rubric}
    return ExpressionReference.build(expected, variables, dict(definitions),
                                     credit=dict(credit), **options)


# --- numbers and arrays --------------------------------------------------------------------


NUMBER_RATIOS = (-1.0, 2.0, 0.5, -2.0, -0.5)


def _ratio_mistake(ratio: float) -> str:
    return "sign" if ratio == -1.0 else "constant_factor"


def _ratio_feedback(ratio: float, hints: Mapping[str, str] | None) -> str:
    if ratio == -1.0:
        return message("sign", hint=hint_for(hints, "sign")).replace("expression", "value")
    words = {2.0: "twice", 0.5: "half", -2.0: "minus twice", -0.5: "minus half"}.get(
        ratio, f"{ratio:g} times")
    return message("constant_factor", ratio=f"{words} the right value",
                   hint=hint_for(hints, "constant_factor"))


Precision = tuple[str, int]  # ("significant", k) or ("decimals", d): what the text states


def within_precision(a: float, b: float, precision: Precision | None) -> bool:
    """Is ``a`` the reference ``b`` given to the precision the question states (or finer),
    rounded or cut off? Then it is right: the precision the text states is the precision
    graded ("about 4 significant digits": −2.620 for −2.61961)."""
    if precision is None or b == 0 or a == b:
        return False
    how, count = precision
    places = count if how == "decimals" else decimals_for(b, count)
    return any(is_rounding_of(a, b, p) for p in range(places, places + 10))


def _rounded(a: float, b: float) -> bool:
    """Is ``a`` the reference ``b`` rounded (or cut) to 2–9 significant digits, as it shows
    them? One digit is not a rounding slip: 0.6 for 0.6047 is simply another number (and a
    guess among nine), and so is 0.4 for 0.404 (the form is what the self-check sees too)."""
    if a == b or b == 0 or not _looks_rounded(a):
        return False
    return any(is_rounding_of(a, b, decimals_for(b, sig)) for sig in range(2, 10))


ROUNDED = ("Close, but rounded: keep full precision (do not round intermediate or final "
           "results).")
ROUNDED_UNCONFIRMED = ("Rounded: keep full precision (do not round intermediate or final "
                       "results); this check cannot tell whether a rounded value is close, "
                       "the grade can.")


def rounding_credit(a: float, credit: Mapping[str, float] | None) -> float:
    """What a rounded value earns: more when it keeps 4 significant digits or more (a step
    rounded to 4 decimals) than when it keeps 2 or 3 — judged by the digits it shows, which
    the self-check sees as the grade does."""
    return credit_for("rounded_fine" if shown_digits(a) >= 4 else "rounded", credit)


def _looks_rounded(a: float) -> bool:
    """Has ``a`` only 2–9 significant digits, as a value typed or rounded by hand has (a
    computed float has 15 or more)?"""
    return 2 <= shown_digits(a) <= 9


@dataclass(frozen=True)
class ExactTarget:
    """A reference value the grader holds."""

    value: float
    rel_tol: float
    abs_tol: float
    precision: Precision | None = None

    def close(self, a: float, ratio: float = 1.0) -> bool:
        """Is ``a`` within tolerance of ``ratio`` times the value? (on sealing's grid, so
        that the self-check's sealed comparison is the same judgement)"""
        return sealing.close(a / ratio, self.value, self.rel_tol, self.abs_tol)

    def right(self, a: float) -> bool:
        """Close, or the value to the precision the question states."""
        return self.close(a) or within_precision(a, self.value, self.precision)

    def rounded(self, a: float) -> bool:
        return _rounded(a, self.value)

    def cut_to(self, a: float, places: int) -> bool:
        return is_rounding_of(a, self.value, places)


@dataclass(frozen=True)
class SealedTarget:
    """A reference value released as hashes (autograder.judge.sealing): it can be recognised, not
    read, so whether a value is it rounded is told by the value's form alone."""

    hashes: frozenset[str]
    salt: str
    rel_tol: float
    abs_tol: float
    roundable: bool = True

    def close(self, a: float, ratio: float = 1.0) -> bool:
        return sealing.matches(a / ratio, self.hashes, self.salt, self.rel_tol, self.abs_tol)

    def right(self, a: float) -> bool:
        return self.close(a)  # the stated precision cannot be told from a seal

    def rounded(self, a: float) -> bool:
        return self.roundable and _looks_rounded(a)

    def cut_to(self, a: float, places: int) -> bool:
        """By form only (the seal cannot confirm): ``a`` looks rounded, or is the 0 a small
        entry rounds to."""
        return self.roundable and (a == 0 or _looks_rounded(a))


Target = ExactTarget | SealedTarget


@dataclass(frozen=True)
class NumericReference:
    """A number's or vector's reference entries and its declared slips' entries, held
    exactly (grading) or sealed (the self-check): one judgement serves both."""

    entries: tuple[Target, ...]
    slips: tuple[tuple[Slip, tuple[Target, ...]], ...] = ()
    confirmed: bool = True  # False when sealed: rounding is judged by form
    scalar: bool = False  # a number, not a vector of one

    @classmethod
    def exact(cls, expected: Any, slips: Sequence[Slip], rel_tol: float,
              abs_tol: float, precision: Precision | None = None) -> NumericReference:
        def targets(values: Sequence[float], stated: Precision | None = None
                    ) -> tuple[Target, ...]:
            return tuple(ExactTarget(v, rel_tol, abs_tol, stated) for v in values)

        scalar = not _is_sequence(expected)
        values = [as_number(expected)] if scalar else as_array(expected)
        return cls(targets(values, precision), tuple(
            (slip, targets(vals)) for slip in slips
            if len(vals := (as_array(slip.answer) if _is_sequence(slip.answer)
                            else [as_number(slip.answer)])) == len(values)), scalar=scalar)

    @classmethod
    def sealed(cls, data: Mapping[str, Any], question_id: str) -> NumericReference:
        """From ``sealing.seal_entries``'s released form."""
        sealing.check_release(data)
        rel_tol, abs_tol, prefix = data["rel_tol"], data["abs_tol"], data.get("prefix", "")

        roundable = data.get("roundable") or [True] * len(data["entries"])

        def targets(entries: Sequence[Sequence[str]]) -> tuple[Target, ...]:
            return tuple(SealedTarget(frozenset(h), sealing.salt_for(question_id, i, prefix),
                                      rel_tol, abs_tol, bool(roundable[i]))
                         for i, h in enumerate(entries))

        return cls(targets(data["entries"]), tuple(
            (Slip(s["id"], None, s["feedback"], s["credit"]), targets(s["entries"]))
            for s in data["slips"]), confirmed=False, scalar=bool(data.get("scalar")))

    @property
    def rounded_feedback(self) -> str:
        return ROUNDED if self.confirmed else ROUNDED_UNCONFIRMED

    @property
    def rounding_details(self) -> dict[str, Any]:
        """Marks a verdict resting on a rounding the seal could not confirm: its points are
        not shown (the grade decides them)."""
        return {} if self.confirmed else {"unconfirmed": True}

    def matching_slips(self, values: Sequence[float]) -> list[Slip]:
        """The declared slips whose every entry ``values`` has (several: several readings)."""
        return [slip for slip, targets in self.slips if _all_close(values, targets)]


def _all_close(values: Sequence[float], targets: Sequence[Target], ratio: float = 1.0) -> bool:
    return all(t.close(a, ratio) for a, t in zip(values, targets, strict=True))


def _slip_result(matched: Sequence[Slip], **details: Any) -> CheckResult:
    """A declared slip; where several explain the answer (the mean over two observations
    and the ½ convention give the same vector), the feedback gives every reading and the
    credit is the best of them."""
    best = max(matched, key=lambda slip: float(slip.credit))
    readings = list(dict.fromkeys(slip.feedback for slip in matched))
    feedback = readings[0] if len(readings) == 1 else \
        "Two readings fit: " + " Or: ".join(readings)
    return CheckResult.wrong(feedback, score=float(best.credit), mistake=best.id, **details)


def check_number(
    answer: Any,
    expected: float | NumericReference,
    rel_tol: float = ANSWER.rel,
    abs_tol: float = ANSWER.abs,
    credit: Mapping[str, float] | None = None,
    slips: Sequence[Slip] = (),
    hints: Mapping[str, str] | None = None,
    ratios: Sequence[float] = (),
    precision: Precision | None = None,
) -> CheckResult:
    """Judge a numeric answer; NaN, infinities, text and wrong types are unreadable.

    Right when within tolerance or given to the ``precision`` the question states; partial
    credit only for what a slip makes: a declared slip, the sign, a factor of 2 or ½ (or a
    ratio the question declares), a value rounded more than the question allows.
    ``expected`` is the value or a NumericReference (sealed, for the self-check)."""
    try:
        value = as_number(answer)
    except ParseError as error:
        return unreadable(error)
    reference = expected if isinstance(expected, NumericReference) else \
        NumericReference.exact(expected, slips, rel_tol, abs_tol, precision)
    (target,) = reference.entries
    if target.right(value):
        return CheckResult.right()
    matched = reference.matching_slips([value])
    if matched:
        return _slip_result(matched)
    for ratio in (*NUMBER_RATIOS, *ratios):
        if target.close(value, ratio):
            mistake = _ratio_mistake(ratio)
            return CheckResult.wrong(_ratio_feedback(ratio, hints),
                                     score=credit_for(mistake, credit), mistake=mistake)
    if target.rounded(value):
        return CheckResult.wrong(reference.rounded_feedback, score=rounding_credit(value, credit),
                                 mistake="rounded", **reference.rounding_details)
    return CheckResult.wrong("Not correct. Recompute it step by step.")


def _names(indices: Sequence[int], labels: Sequence[str] | None) -> str:
    return ", ".join(labels[i] if labels else f"entry {i}" for i in indices)


MAX_SET = 6  # entries of a set answer tried in every order
MIN_ORDERED = 4  # a labelled vector's entries in another order: from this many entries on


def _in_order(values: Sequence[float], targets: Sequence[Target]) -> list[float] | None:
    """``values`` rearranged so that as many entries as possible are right, if another order
    than the student's does better: a set's entries handed in in another order."""
    n = len(values)
    if n > MAX_SET:
        return None
    right = [[t.right(a) for t in targets] for a in values]
    best, best_count = None, sum(right[i][i] for i in range(n))
    for order in itertools.permutations(range(n)):  # order[i]: where entry i belongs
        count = sum(right[i][order[i]] for i in range(n))
        if count > best_count:
            best, best_count = order, count
    if best is None:
        return None
    placed = [0.0] * n
    for i, where in enumerate(best):
        placed[where] = values[i]
    return placed


def check_array(
    answer: Any,
    expected: Sequence[float] | NumericReference,
    rel_tol: float = ANSWER.rel,
    abs_tol: float = ANSWER.abs,
    credit: Mapping[str, float] | None = None,
    labels: Sequence[str] | None = None,
    slips: Sequence[Slip] = (),
    groups: Mapping[str, Sequence[int]] | None = None,
    hints: Mapping[str, str] | None = None,
    ratios: Sequence[float] = (),
    precision: Precision | None = None,
    as_set: bool = False,
) -> CheckResult:
    """Judge a vector of numbers, entry by entry; names the entries that are off and, where
    it can tell, why (a declared slip, a group of entries, rounding), never their values.

    A slip of the whole vector (a declared one, the sign, a factor of 2 or ½) is judged as
    one slip; otherwise each entry earns its share: 1 when right (within tolerance or to the
    stated ``precision``), a slip's credit when it matches that slip's entry, the rounding
    credit when rounded — entries rounded alike (to the same decimals) are all "rounded",
    never blamed. The entries of a set (``as_set``) are judged in the order that suits them
    best; another order than the one asked earns the ``order`` credit (1 by default: a set
    has none)."""
    try:
        values = as_array(answer)
    except ParseError as error:
        return unreadable(error)
    reference = expected if isinstance(expected, NumericReference) else \
        NumericReference.exact(expected, slips, rel_tol, abs_tol, precision)
    if len(values) != len(reference.entries):
        return unreadable(f"expected {len(reference.entries)} numbers, got {len(values)}")
    result = _check_entries(values, reference, credit, labels, groups, hints, ratios)
    if result.correct:
        return result
    if not as_set:
        reordered = _other_order(values, reference, credit, labels)
        return reordered if reordered is not None and reordered.score > result.score \
            else result
    placed = _in_order(values, reference.entries)
    if placed is None:
        return result
    reordered = _check_entries(placed, reference, credit, labels, groups, hints, ratios)
    factor = credit_for("order", credit)
    if reordered.score * factor <= result.score:
        return result
    if reordered.correct and factor >= 1.0:
        return CheckResult(correct=True, score=1.0, feedback="Correct (in any order).")
    order = (f"The right values, but not in the order asked"
             f"{' (' + ', '.join(labels) + ')' if labels else ''}.")
    feedback = order if reordered.correct else f"{order} {reordered.feedback}"
    return CheckResult.wrong(feedback, score=round(reordered.score * factor, 6),
                             mistake="order" if reordered.correct else reordered.mistake,
                             **reordered.details)


def _other_order(values: Sequence[float], reference: NumericReference,
                 credit: Mapping[str, float] | None, labels: Sequence[str] | None
                 ) -> CheckResult | None:
    """Every entry right, in another order than the labels' (∇R with the output layer first):
    the ``entry_order`` credit. Found by matching entries to places (augmenting paths). Not
    for fewer than four entries, where another order is as likely another answer (the other
    minimum (0, 1) of (1, 0))."""
    targets = reference.entries
    n = len(values)
    if n < MIN_ORDERED:
        return None
    fits: list[list[int]] = []
    for a in values:  # an entry that is nowhere right ends it (a wrong vector costs little)
        fits.append([j for j in range(n) if targets[j].right(a)])
        if not fits[-1]:
            return None
    place: dict[int, int] = {}  # place -> entry

    def seat(i: int, seen: set[int]) -> bool:
        for j in fits[i]:
            if j not in seen:
                seen.add(j)
                if j not in place or seat(place[j], seen):
                    place[j] = i
                    return True
        return False

    if not all(seat(i, set()) for i in range(n)):
        return None
    order = f" ({', '.join(labels)})" if labels else ""
    return CheckResult.wrong(f"Every entry is right, but not in the order asked{order}.",
                             score=credit_for("entry_order", credit), mistake="entry_order",
                             wrong=[i for i in range(n) if place.get(i) != i])


def _check_entries(values: Sequence[float], reference: NumericReference,
                   credit: Mapping[str, float] | None, labels: Sequence[str] | None,
                   groups: Mapping[str, Sequence[int]] | None,
                   hints: Mapping[str, str] | None, ratios: Sequence[float]) -> CheckResult:
    """:func:`check_array`'s judgement of the entries in the order given."""
    targets = reference.entries
    wrong = [i for i, (a, t) in enumerate(zip(values, targets, strict=True)) if not t.right(a)]
    if not wrong:
        return CheckResult.right()
    matched = reference.matching_slips(values)
    if matched:
        return _slip_result(matched, wrong=wrong)
    for ratio in (*NUMBER_RATIOS, *ratios):
        if _all_close(values, targets, ratio):
            mistake = _ratio_mistake(ratio)
            return CheckResult.wrong(_ratio_feedback(ratio, hints),
                                     score=credit_for(mistake, credit), mistake=mistake,
                                     wrong=wrong)
    # a vector rounded alike (every entry to the same decimals, some keeping two digits or
    # more): its small entries, even those rounded to 0, are rounded too, not wrong
    places = shown_decimals(values)
    shown = places is not None and any(abs(values[i]) >= 10.0 ** (1 - places) for i in wrong)
    if shown and reference.confirmed:  # a slip, rounded: the seal could not tell it
        rounded_slips = [slip for slip, st in reference.slips
                         if all(t.close(a) or t.cut_to(a, places)
                                for a, t in zip(values, st, strict=True))]
        if rounded_slips:
            slipped = _slip_result(rounded_slips, wrong=wrong)
            return CheckResult.wrong(
                f"{slipped.feedback} Every entry is given to {places} decimals: {ROUNDED}",
                score=round(slipped.score * credit_for("rounded", credit), 6),
                mistake=slipped.mistake, **slipped.details)
    earned = float(len(values) - len(wrong))
    by_slip: dict[str, list[int]] = {}
    rounded: list[int] = []
    other: list[int] = []
    alike = shown and all(targets[i].cut_to(values[i], places) for i in wrong)
    for i in wrong:
        match = next((s for s, st in reference.slips if st[i].close(values[i])), None)
        if match is not None:
            by_slip.setdefault(match.id, []).append(i)
            earned += float(match.credit)
        elif alike or targets[i].rounded(values[i]):
            rounded.append(i)
            earned += rounding_credit(values[i], credit)
        else:
            other.append(i)
    sentences = [f"{len(values) - len(wrong)} of {len(values)} entries are right."]
    if alike and rounded and not other and not by_slip and len(wrong) == len(values):
        sentences = [f"Every entry is given to {places} decimals."]
    slip_by_id = {s.id: s for s, _ in reference.slips}
    for slip_id, indices in by_slip.items():
        sentences.append(f"{_names(indices, labels)}: {slip_by_id[slip_id].feedback}")
    if rounded:
        sentences.append(f"{_names(rounded, labels)}: {reference.rounded_feedback}")
    if other:
        group = next((name for name, members in (groups or {}).items()
                      if set(other) <= set(members)), None)
        where = f" (all in {group})" if group else ""
        sentences.append(f"Recheck {_names(other, labels)}{where}.")
    mistake = next(iter(by_slip)) if len(by_slip) == 1 and not other else (
        "rounded" if rounded and not other and not by_slip else None)
    return CheckResult.wrong(" ".join(sentences), score=round(earned / len(values), 6),
                             mistake=mistake, wrong=[int(i) for i in wrong],
                             **(reference.rounding_details if rounded else {}))


# --- functions ---------------------------------------------------------------------------


def _describe(args: Sequence[Any]) -> str:
    parts = [getattr(a, "__name__", None) or repr(a) for a in args]
    return "(" + ", ".join(p[:40] for p in parts) + ")"


def check_function(
    func: Any,
    reference: Callable[..., Any],
    probes: Sequence[Sequence[Any]],
    project: Callable[[Any], Any] = lambda out: out,
    rel_tol: float = ANSWER.rel,
    abs_tol: float = ANSWER.abs,
) -> CheckResult:
    """Judge a student's Python function by calling it and ``reference`` on each probe: the
    share of probes it answers as the reference does (a rubric's function question is judged
    by its components too, ``autograder.rubric.question``)."""
    if not callable(func):
        return unreadable(f"expected a function, got {type(func).__name__}")
    expected = run_probes(reference, probes, project)
    if any("error" in e for e in expected):
        raise BackpropKitError(f"the reference function failed on a probe: {expected}")
    table = components.Table(
        ("code",), (components.Variant("code"),), ((0,),),
        tuple(components.build_probe(f"the input {_describe(args)}", True, [out], "", rel_tol,
                                     abs_tol) for args, out in zip(probes, expected, strict=True)),
        rel_tol, abs_tol)
    return components.judge(table, run_probes(func, probes, project))
