"""Which slip does a wrong answer show? Partial credit that follows the slips students make.

Diagnosis is a list of candidate wrong answers, tried in order, each with its mistake, feedback
and credit (STACK's potential response trees, as a list): the slips a question declares, the
sign, a factor of 2 or ½, and slips made on the reference's own structure — a factor (a link
of the chain, σ′ counted as one unit however it is written) missing or replaced by a related
quantity, one term of a sum with the wrong sign, missing, doubled or halved. The candidates
are expressions on the instructor's side; what the self-check receives is only their values at
the public points, so both reach the same verdict on every honest slip. Two checks work on the
student's own answer instead: a symbol used in place of another, and a stray symbol factor.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import mpmath
import sympy

from autograder.judge.equivalence import PRECISION, REL_TOL_FLOAT, Frame, same_values

Values = Sequence[mpmath.mpf | None]

DEFAULT_CREDIT: dict[str, float] = {
    "sign": 0.5,
    "constant_factor": 0.5,
    "missing_factor": 0.5,
    "replaced_factor": 0.5,
    "wrong_term": 0.5,
    "missing_term": 0.5,
    "wrong_variable": 0.5,
    "extra_factor": 0.25,
    "rounded": 0.5,
}
SLIP_RATIOS = (2, sympy.Rational(1, 2), -2, -sympy.Rational(1, 2))

# The first sentence of each message is fixed (tests and reports look for it); what follows
# points at where, in the question's own words, without giving the answer.
FEEDBACK = {
    "sign": "Your answer has the wrong sign: it is the negative of the right expression.",
    "constant_factor": "Your answer is off by a constant factor.",
    "missing_factor": "Your answer is missing a factor.",
    "replaced_factor": "One factor of your answer is the wrong quantity.",
    "wrong_term": "One term of your sum is wrong; the other terms are right.",
    "missing_term": "Your answer is missing a term; the other terms are right.",
    "wrong_variable": "Your answer uses {used} where a different quantity belongs.",
    "extra_factor": "Your answer has a factor too many.",
}
DETAIL = {
    "sign": " Check every minus sign{hint}.",
    "constant_factor": " It is {ratio}: check the numbers in front{hint}.",
    "missing_factor": " Missing: {part}. Check that every link of the chain contributes its "
                      "derivative.",
    "replaced_factor": " In place of {part} it has {mixup}.",
    "wrong_term": " {part} {how}.",
    "missing_term": " Missing: {part}.",
    "wrong_variable": " Check which variable each factor of your chain refers to.",
    "extra_factor": " Check that each factor belongs to this derivative's chain.",
}


def message(mistake: str, **where: str) -> str:
    """The feedback for a mistake: its fixed first sentence, then where."""
    return (FEEDBACK[mistake] + DETAIL[mistake]).format(**where)


@dataclass(frozen=True)
class Part:
    """A named factor of a product reference (a link of the chain) or a term of a sum.

    ``name`` is in the question's own words ("the link ∂z₁⁽¹⁾/∂w₁₁⁽¹⁾"); ``mixups`` maps what
    students put in its place (expression text) to a short description ("σ(z₁⁽¹⁾), the
    activation itself").
    """

    name: str
    expr: str
    mixups: Mapping[str, str] | None = None


@dataclass(frozen=True)
class Slip:
    """A wrong answer students are known to give, declared by a question: matched by
    equivalence (an expression text for symbolic questions, values for numbers and arrays)."""

    id: str
    answer: object
    feedback: str
    credit: float = 0.0


@dataclass(frozen=True)
class Candidate:
    """One wrong answer diagnosis looks for; ``expr`` stays on the instructor's side."""

    mistake: str
    feedback: str
    credit: float
    expr: sympy.Expr | None = None


@dataclass(frozen=True)
class Diagnosis:
    mistake: str
    feedback: str
    credit: float
    used: str | None = None  # for wrong_variable: the student's symbol at fault


def credit_for(mistake: str, credit: Mapping[str, float] | None) -> float:
    """The credit for a mistake: the question's own, else the default."""
    return float({**DEFAULT_CREDIT, **(credit or {})}.get(mistake, 0.0))


def hint_for(hints: Mapping[str, str] | None, key: str) -> str:
    """A question's hint for a message, as the clause it ends with."""
    text = (hints or {}).get(key)
    return f", e.g. {text}" if text else ""


def _ratio_words(ratio: sympy.Expr) -> str:
    return {2: "twice", sympy.Rational(1, 2): "half", -2: "minus twice",
            -sympy.Rational(1, 2): "minus half"}.get(ratio, f"{ratio} times") + \
        " the right expression"


def _sigma_prime_groups(args: Sequence[sympy.Expr]) -> list[tuple[list[sympy.Expr], sympy.Expr]]:
    """Pairs exp(-u) · (1 + exp(-u))^(-2) among a product's factors: σ′(u) as one unit."""
    groups = []
    used: set[int] = set()
    for i, a in enumerate(args):
        if not (isinstance(a, sympy.exp)) or i in used:
            continue
        inner = -a.args[0]
        partner = (1 + sympy.exp(-inner)) ** -2
        for j, b in enumerate(args):
            if j != i and j not in used and b == partner:
                groups.append(([a, b], inner))
                used.update((i, j))
                break
    return groups


def auto_parts(reference: sympy.Expr) -> tuple[str, list[tuple[str, sympy.Expr, list]]]:
    """('product' | 'sum' | 'atom', [(name, part, mixups)]) read off the reference itself:
    factors with variables (σ′ grouped as one), or the terms of a sum."""
    if reference.is_Add:
        return "sum", [("one term", t, []) for t in reference.args]
    if reference.is_Mul:
        args = [a for a in reference.args if a.free_symbols]
        parts: list[tuple[str, sympy.Expr, list]] = []
        grouped: set[sympy.Expr] = set()
        for members, inner in _sigma_prime_groups(args):
            sigma = 1 / (1 + sympy.exp(-inner))
            parts.append(("the sigmoid's derivative σ′", sympy.Mul(*members),
                          [(sigma, "σ itself, not its derivative")]))
            grouped.update(members)
        parts += [("one factor of the chain", a, []) for a in args if a not in grouped]
        return "product", parts
    return "atom", []


def _same(a: sympy.Expr, b: sympy.Expr) -> bool:
    """a = b: told apart at two rational points first (simplify takes most of a second to
    fail on a large sum of parts), proved by simplify only when they agree there."""
    symbols = sorted(a.free_symbols | b.free_symbols, key=str)
    for shift in (3, 5):
        point = {s: sympy.Rational(2 * i + shift, 7 + i) for i, s in enumerate(symbols)}
        try:
            gap = complex(sympy.N((a - b).subs(point), 30))
            size = abs(complex(sympy.N(b.subs(point), 30)))
        except (TypeError, ValueError, ZeroDivisionError):
            continue
        if gap == gap and abs(gap) > 1e-12 * max(size, 1.0):  # not nan, and apart
            return False
    return sympy.simplify(a / b - 1) == 0


def candidates(
    reference: sympy.Expr,
    to_expr: Callable[[str], sympy.Expr],
    parts: Sequence[Part] = (),
    slips: Sequence[Slip] = (),
    credit: Mapping[str, float] | None = None,
    hints: Mapping[str, str] | None = None,
    ratios: Sequence[object] = (),
) -> list[Candidate]:
    """Every wrong answer to look for, most specific first (declared slips first)."""
    found: list[Candidate] = []
    for slip in slips:
        found.append(Candidate(slip.id, slip.feedback, float(slip.credit),
                               to_expr(str(slip.answer))))
    found.append(Candidate("sign", message("sign", hint=hint_for(hints, "sign")),
                           credit_for("sign", credit), -reference))
    for ratio in (*SLIP_RATIOS, *(sympy.nsimplify(r) for r in ratios)):
        found.append(Candidate(
            "constant_factor",
            message("constant_factor", ratio=_ratio_words(ratio),
                    hint=hint_for(hints, "constant_factor")),
            credit_for("constant_factor", credit), ratio * reference))
    if parts:
        declared = [(p.name, to_expr(p.expr), [(to_expr(k), v) for k, v in
                                               (p.mixups or {}).items()]) for p in parts]
        product = sympy.Mul(*(d[1] for d in declared))
        kind = "product" if _same(product, reference) else "sum"
        named = declared
    else:
        kind, named = auto_parts(reference)
    if kind == "product" and len(named) < 2:
        named = []  # the whole answer is one unit: nothing can be missing or mixed up
    for name, part, mixups in named:
        if kind == "product":
            found.append(Candidate("missing_factor",
                                   message("missing_factor", part=name),
                                   credit_for("missing_factor", credit), reference / part))
            for other, why in mixups:
                found.append(Candidate("replaced_factor",
                                       message("replaced_factor", part=name, mixup=why),
                                       credit_for("replaced_factor", credit),
                                       reference / part * other))
        elif kind == "sum":
            label = name[0].upper() + name[1:]
            for how, expr in (("has the wrong sign", reference - 2 * part),
                              ("is off by a factor of 2", reference + part),
                              ("is off by a factor of 2", reference - part / 2)):
                found.append(Candidate("wrong_term",
                                       message("wrong_term", part=label, how=how),
                                       credit_for("wrong_term", credit), expr))
            found.append(Candidate("missing_term", message("missing_term", part=name),
                                   credit_for("missing_term", credit), reference - part))
            for other, why in mixups:
                found.append(Candidate("wrong_term",
                                       message("wrong_term", part=label,
                                               how=f"is {why} instead"),
                                       credit_for("wrong_term", credit), reference - part + other))
    return found


def candidate_values(found: Sequence[Candidate], frame: Frame, reference_values: Values
                     ) -> list[tuple[Candidate, tuple]]:
    """Each candidate with its values at the frame's points (what a fingerprint releases);
    candidates that cannot be told from the reference or from an earlier candidate there
    are dropped (the first one wins)."""
    kept: list[tuple[Candidate, tuple]] = []
    for cand in found:
        assert cand.expr is not None
        values = frame.values(cand.expr)
        if sum(v is not None for v in values) < 3:
            continue
        if same_values(values, reference_values, REL_TOL_FLOAT):
            continue
        if any(same_values(values, v, REL_TOL_FLOAT) for _, v in kept):
            continue
        kept.append((cand, values))
    return kept


def diagnose(
    answer: sympy.Expr,
    answer_values: Values,
    reference_values: Values,
    frame: Frame,
    found: Sequence[Candidate] = (),
    released: Sequence[tuple[Candidate, Values]] = (),
    definitions: Mapping[sympy.Symbol, sympy.Expr] | None = None,
    credit: Mapping[str, float] | None = None,
) -> Diagnosis | None:
    """Name the slip that turns the reference into ``answer``, or None if none fits.

    Candidates come as expressions (``found``, the grade: tried lazily, in order) or as
    released values (``released``, the self-check); both give the same first match.
    ``answer`` is the student's expression, defined symbols kept (so a swapped intermediate
    such as a1_1 for a2_1 can be seen); every value list is at the frame's points.
    """
    for cand, values in released:
        if same_values(answer_values, values, REL_TOL_FLOAT):
            return Diagnosis(cand.mistake, cand.feedback, cand.credit)
    for cand in found:
        assert cand.expr is not None
        if frame.matches(cand.expr, answer_values) and not frame.matches(
                cand.expr, reference_values):
            return Diagnosis(cand.mistake, cand.feedback, cand.credit)
    wrong = _swapped_variable(answer, reference_values, frame, definitions)
    if wrong is not None:
        return Diagnosis("wrong_variable", message("wrong_variable", used=wrong),
                         credit_for("wrong_variable", credit), wrong)
    names = list(frame.symbols) + list(definitions or {})
    extra = [frame.values(s) for s in names]
    extra += [frame.values(f) for f in sympy.Mul.make_args(answer) if f.free_symbols]
    if _ratio_is_one_of(answer_values, reference_values, extra):
        return Diagnosis("extra_factor", message("extra_factor"),
                         credit_for("extra_factor", credit))
    return None


def _ratio_is_one_of(answer: Values, reference: Values, factors: Sequence[Values]) -> bool:
    """Does answer/reference equal ±one of ``factors`` at every point (three at least)?"""
    for cand in factors:
        with mpmath.workdps(PRECISION):
            pairs = [(a / b, c) for a, b, c in zip(answer, reference, cand, strict=False)
                     if a is not None and b not in (None, 0) and c not in (None, 0)]
        if len(pairs) < 3:
            continue
        for sign in (1, -1):
            if all(abs(r - sign * c) <= REL_TOL_FLOAT * (1 + abs(c)) for r, c in pairs):
                return True
    return False


def _swapped_variable(
    answer: sympy.Expr,
    reference_values: Values,
    frame: Frame,
    definitions: Mapping[sympy.Symbol, sympy.Expr] | None,
) -> str | None:
    """The symbol of the answer that, replaced by another allowed one, makes it right."""
    allowed = set(frame.symbols) | set(definitions or {})
    used = sorted(answer.free_symbols & allowed, key=str)
    unused = sorted(allowed - answer.free_symbols, key=str)
    for u in used:
        for w in unused:
            if frame.equals(answer.xreplace({u: w}), reference_values):
                return str(u)
    return None
