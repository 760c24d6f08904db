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

import itertools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import mpmath
import sympy

from autograder.judge.closeness import EXPRESSION_EXACT, EXPRESSION_FLOAT, SAME_FLOAT
from autograder.judge.equivalence import PRECISION, Frame, same_values

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
    "term_factor": 0.5,
    "power_not_lowered": 0.5,
    "term_not_differentiated": 0.5,
    "sigma_prime_unsquared": 0.5,
    "sigma_one_plus": 0.5,
    "order": 1.0,  # a set's entries in another order (a question that asks an order sets less)
    "entry_order": 0.5,  # a labelled vector's right entries in another order
    "two_slips": 0.25,
    "wrong_quantity": 0.0,  # the whole answer is one symbol, the wrong one
    "wrong_name": 0.5,  # right, but in a symbol the question does not define
    "rounded_fine": 0.75,  # rounded, keeping 4 significant digits or more
}
# One term of a polynomial off by these (the power rule's factor brought down wrongly or twice)
TERM_RATIOS = (3, 4, sympy.Rational(1, 3), sympy.Rational(1, 4), sympy.Rational(3, 2),
               sympy.Rational(2, 3))
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
    "term_factor": "One term of your sum is off by a constant factor; the other terms are right.",
    "power_not_lowered": "In one term the power was not lowered; the other terms are right.",
    "term_not_differentiated": "One term of your sum was not differentiated; the other terms "
                               "are right.",
    "sigma_prime_unsquared": "Your σ′ lacks a square: the rest of your answer is right.",
    "sigma_one_plus": "Your σ′ has a wrong sign inside: σ(1 + σ) is not the sigmoid's "
                      "derivative.",
    "two_slips": "Two slips in one answer; the rest of it is right.",
    "wrong_quantity": "Your answer is {used}, a different quantity from the one asked.",
    "wrong_name": "Your answer uses {used}, which this question does not define.",
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
    "term_factor": " {part} is {ratio}: check the number the power rule brings down.",
    "power_not_lowered": " {part} still has the old power: d(xⁿ)/dx = n xⁿ⁻¹.",
    "term_not_differentiated": " {part} is still the term itself.",
    "sigma_prime_unsquared": " Check {part}: apply the power rule to the outer function "
                             "once more.",
    "sigma_one_plus": " Check {part}: write 1 − σ(u) with e⁻ᵘ and compare.",
    "two_slips": " {first}; {second}.",
    "wrong_quantity": " Check which quantity this derivative is taken of, and with respect to "
                      "which.",
    "wrong_name": " Read as {meant} it is right: write it in the question's own symbols.",
}


def message(mistake: str, **where: str) -> str:
    """The feedback for a mistake: its fixed first sentence, then where."""
    return (FEEDBACK[mistake] + DETAIL[mistake]).format(**where)


@dataclass(frozen=True)
class Part:
    """A named factor of a product reference (a link of the chain) or a term of a sum.

    ``name`` is in the question's own words ("the link ∂z₁⁽¹⁾/∂w₁₁⁽¹⁾"); ``mixups`` maps what
    students put in its place (expression text) to a short description ("σ(z₁⁽¹⁾), the
    activation itself"); ``credit``, when given, is what an answer with this part missing or
    wrong (the rest right) earns — e.g. nothing for Newton's update without its step.
    """

    name: str
    expr: str
    mixups: Mapping[str, str] | None = None
    credit: float | None = None  # when this part is missing or wrong (default: by mistake)


@dataclass(frozen=True)
class Slip:
    """A wrong answer students are known to give, declared by a question: matched by
    equivalence (an expression text for symbolic questions, values for numbers and arrays)."""

    id: str
    answer: object
    feedback: str
    credit: float = 0.0
    # False: judged by the grade only, never sealed into the release (a number a student
    # could bracket, such as the loss one training step short)
    released: bool = True


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


ONE_TERM = "one term"  # a term of a sum the question does not name


@dataclass(frozen=True)
class Named:
    """A part of the reference as diagnosis uses it: its name in the question's words, its
    expression (instructor side), what students put in its place, and its own credit."""

    name: str
    expr: sympy.Expr
    mixups: tuple[tuple[sympy.Expr, str], ...] = ()
    credit: float | None = None


def auto_parts(reference: sympy.Expr) -> tuple[str, list[Named]]:
    """('product' | 'sum' | 'atom', parts) read off the reference itself: factors with
    variables (σ′ grouped as one), or the terms of a sum."""
    if reference.is_Add:
        return "sum", [Named(ONE_TERM, t) for t in reference.args]
    if reference.is_Mul:
        args = [a for a in reference.args if a.free_symbols]
        parts: list[Named] = []
        grouped: set[sympy.Expr] = set()
        for members, inner in _sigma_prime_groups(args):
            sigma = 1 / (1 + sympy.exp(-inner))
            parts.append(Named("the sigmoid's derivative σ′", sympy.Mul(*members),
                               ((sigma, "σ itself, not its derivative"),)))
            grouped.update(members)
        parts += [Named("one factor of the chain", a) for a in args if a not in grouped]
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
        if gap == gap and abs(gap) > SAME_FLOAT.rel * max(size, 1.0):  # not nan, and apart
            return False
    return sympy.simplify(a / b - 1) == 0


def structure(reference: sympy.Expr, to_expr: Callable[[str], sympy.Expr],
              parts: Sequence[Part] = ()) -> tuple[str, list[Named]]:
    """How the reference is built, for diagnosis: 'product' or 'sum' of named parts (the
    question's own, or read off the reference), or 'atom'. A product of fewer than two parts
    is one unit: nothing in it can be missing or mixed up."""
    if parts:
        named = [Named(p.name, to_expr(p.expr),
                       tuple((to_expr(k), v) for k, v in (p.mixups or {}).items()),
                       None if p.credit is None else float(p.credit)) for p in parts]
        product = sympy.Mul(*(n.expr for n in named))
        kind = "product" if _same(product, reference) else "sum"
    else:
        kind, named = auto_parts(reference)
    if kind == "product" and len(named) < 2:
        return "atom", []
    return kind, named


def part_credit(kind: str, part: Named, credit: Mapping[str, float] | None) -> float:
    """What an answer with ``part`` missing earns; a wrong part earns no less (a wrong term
    is never worth less than a missing one)."""
    if part.credit is not None:
        return part.credit
    return credit_for("missing_term" if kind == "sum" else "missing_factor", credit)


def _label(name: str) -> str:
    return name[0].upper() + name[1:]


_TERM_RATIO_WORDS = {3: "three times", 4: "four times", sympy.Rational(1, 3): "a third of",
                     sympy.Rational(1, 4): "a quarter of", sympy.Rational(3, 2): "3/2 times",
                     sympy.Rational(2, 3): "2/3 of"}


def _linear_base(base: sympy.Expr) -> bool:
    """A symbol, or a polynomial of degree 1 in one symbol (x₁ − 1): what the power rule
    lowers the power of."""
    symbols = base.free_symbols
    if len(symbols) != 1:
        return False
    (symbol,) = symbols
    return base.is_polynomial(symbol) and sympy.degree(base, symbol) == 1


def _power_slips(term: sympy.Expr) -> list[tuple[str, sympy.Expr]]:
    """What a slip of the power rule makes of one term of a derivative: the power not
    lowered (c·n·xⁿ for c·n·xⁿ⁻¹), or the term not differentiated at all (c·xⁿ)."""
    found = []
    for factor in sympy.Mul.make_args(term):
        base, exponent = factor.as_base_exp()
        if not _linear_base(base) or not exponent.is_Integer or exponent < 1:
            continue
        (symbol,) = base.free_symbols
        monic = base / sympy.Poly(base, symbol).LC()  # 2x₁ − 2 raises the power as x₁ − 1
        found.append(("power_not_lowered", term * monic))
        found.append(("term_not_differentiated", term * monic / (exponent + 1)))
    return found


def _sigma_prime_slips(reference: sympy.Expr, named: Sequence[Named]
                       ) -> list[tuple[str, str, sympy.Expr]]:
    """σ′ written without the square, or as σ(1 + σ), wherever the reference has σ′(u)
    (grouped as e⁻ᵘ(1 + e⁻ᵘ)⁻²): (mistake, where, the answer it makes)."""
    found = []
    for members, inner in _sigma_prime_groups(list(sympy.Mul.make_args(reference))):
        group = sympy.Mul(*members)
        where = next((n.name for n in named if n.expr == group), "σ′")
        sigma = 1 / (1 + sympy.exp(-inner))
        rest = reference / group
        found.append(("sigma_prime_unsquared", where,
                      rest * sympy.exp(-inner) / (1 + sympy.exp(-inner))))
        found.append(("sigma_one_plus", where, rest * sigma * (1 + sigma)))
    return found


def candidates(
    reference: sympy.Expr,
    to_expr: Callable[[str], sympy.Expr],
    parts: Sequence[Part] = (),
    slips: Sequence[Slip] = (),
    credit: Mapping[str, float] | None = None,
    hints: Mapping[str, str] | None = None,
    ratios: Sequence[object] = (),
    shape: tuple[str, list[Named]] | None = None,
) -> list[Candidate]:
    """Every wrong answer to look for, most specific first (declared slips first);
    ``shape`` is :func:`structure`'s answer when the caller has it already."""
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
    kind, named = shape or structure(reference, to_expr, parts)
    for mistake, where, expr in _sigma_prime_slips(reference, named):
        found.append(Candidate(mistake, message(mistake, part=where),
                               credit_for(mistake, credit), expr))
    for part in named:
        missing = part_credit(kind, part, credit)
        if kind == "product":
            found.append(Candidate("missing_factor",
                                   message("missing_factor", part=part.name),
                                   missing, reference / part.expr))
            for other, why in part.mixups:
                found.append(Candidate("replaced_factor",
                                       message("replaced_factor", part=part.name, mixup=why),
                                       max(credit_for("replaced_factor", credit), missing),
                                       reference / part.expr * other))
            continue
        label, wrong = _label(part.name), max(credit_for("wrong_term", credit), missing)
        for how, expr in (("has the wrong sign", reference - 2 * part.expr),
                          ("is off by a factor of 2", reference + part.expr),
                          ("is off by a factor of 2", reference - part.expr / 2)):
            found.append(Candidate("wrong_term", message("wrong_term", part=label, how=how),
                                   credit_for("wrong_term", credit), expr))
        found.append(Candidate("missing_term", message("missing_term", part=part.name),
                               missing, reference - part.expr))
        for other, why in part.mixups:
            found.append(Candidate("wrong_term",
                                   message("wrong_term", part=label, how=f"is {why} instead"),
                                   wrong, reference - part.expr + other))
    found += _polynomial_slips(reference, kind, named, credit)
    return found


def _polynomial_slips(reference: sympy.Expr, kind: str, named: Sequence[Named],
                      credit: Mapping[str, float] | None) -> list[Candidate]:
    """A derivative of a polynomial: one term off by a small factor (3, 4, ⅓, ¼, …), with its
    power not lowered, or not differentiated — each worth at least the term missing."""
    symbols = sorted(reference.free_symbols, key=str)
    if kind != "sum" or not symbols or not reference.is_polynomial(*symbols):
        return []
    found = []
    for term in named:
        label = _label(term.name)
        floor = part_credit(kind, term, credit)
        for ratio in TERM_RATIOS:
            found.append(Candidate(
                "term_factor",
                message("term_factor", part=label,
                        ratio=f"{_TERM_RATIO_WORDS[ratio]} what it should be"),
                max(credit_for("term_factor", credit), floor),
                reference + (ratio - 1) * term.expr))
        for mistake, replaced in _power_slips(term.expr):
            found.append(Candidate(mistake, message(mistake, part=label),
                                   max(credit_for(mistake, credit), floor),
                                   reference - term.expr + replaced))
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
        if _is_reference(values, reference_values):
            continue
        if any(same_values(values, v, EXPRESSION_FLOAT) for _, v in kept):
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
    shape: tuple[str, Sequence[PartValues]] | None = None,
) -> Diagnosis | None:
    """Name the slip that turns the reference into ``answer``, or None if none fits.

    Candidates come as expressions (``found``, the grade: tried lazily, in order) or as
    released values (``released``, the self-check); both give the same first match.
    ``answer`` is the student's expression, defined symbols kept (so a swapped intermediate
    such as a1_1 for a2_1 can be seen); every value list is at the frame's points. ``shape``
    is the reference's structure with its parts' values there (:func:`one_part_wrong`).
    """
    for cand, values in released:
        if same_values(answer_values, values, EXPRESSION_FLOAT):
            return Diagnosis(cand.mistake, cand.feedback, cand.credit)
    known = _found_values(found, frame)
    for k, cand in enumerate(found):
        # frame.matches(cand.expr, answer_values), with the candidate's values worked out
        # once per frame (a class's wrong answers are tried against the same candidates)
        if same_values(answer_values, known(k), EXPRESSION_FLOAT) and not _is_reference(
                known(k), reference_values):
            return Diagnosis(cand.mistake, cand.feedback, cand.credit)
    wrong = _swapped_variable(answer, reference_values, frame, definitions)
    if wrong is not None:
        (used,) = [s for s in answer.free_symbols if str(s) == wrong]
        if answer.free_symbols == {used} and (answer / used).is_number:
            # the whole answer is that one symbol: nothing of it is right
            return Diagnosis("wrong_quantity", message("wrong_quantity", used=wrong),
                             credit_for("wrong_quantity", credit), wrong)
        return Diagnosis("wrong_variable", message("wrong_variable", used=wrong),
                         credit_for("wrong_variable", credit), wrong)
    if shape is not None:
        found_part = one_part_wrong(answer, frame, *shape, credit=credit,
                                    answer_values=answer_values)
        if found_part is not None:
            return found_part
    names = list(frame.symbols) + list(definitions or {})
    # a symbol's values are the frame's own (what frame.values returns), looked up
    extra = [tuple(env.get(s) for env in frame.envs) for s in names]
    extra += [answer_values if f is answer else frame.values(f)
              for f in sympy.Mul.make_args(answer) if f.free_symbols]
    if _ratio_is_one_of(answer_values, reference_values, extra):
        return Diagnosis("extra_factor", message("extra_factor"),
                         credit_for("extra_factor", credit))
    return None


def _is_reference(values: Values, reference_values: Values) -> bool:
    """Is a candidate the reference itself at these points? Both are our own exact
    expressions at full precision, so exactly: at points where σ saturates everything is
    tiny, and a slip (σ′ unsquared) then differs from the reference by less than the float
    tolerance's absolute part while an answer still matches it."""
    return same_values(values, reference_values, EXPRESSION_EXACT)


_FOUND_VALUES: dict[int, tuple[Sequence[Candidate], Frame, dict[int, tuple]]] = {}


def _found_values(found: Sequence[Candidate], frame: Frame) -> Callable[[int], tuple]:
    """The values of ``found[k]`` at the frame's points (``frame.values``), each worked out
    the first time it is asked for and kept while these candidates and this frame live (the
    cache holds them, so their ids stay theirs)."""
    entry = _FOUND_VALUES.get(id(found))
    if entry is None or entry[0] is not found or entry[1] is not frame:
        if len(_FOUND_VALUES) >= 256:
            _FOUND_VALUES.clear()
        entry = _FOUND_VALUES[id(found)] = (found, frame, {})
    kept = entry[2]

    def values(k: int) -> tuple:
        if k not in kept:
            expr = found[k].expr
            assert expr is not None
            kept[k] = frame.values(expr)
        return kept[k]
    return values


@dataclass(frozen=True)
class PartValues:
    """A part of the reference at a frame's points, with what an answer with it missing or
    wrong earns: all :func:`one_part_wrong` needs (released as such to the self-check)."""

    name: str
    values: tuple
    credit: float


def part_values(kind: str, named: Sequence[Named], frame: Frame,
                credit: Mapping[str, float] | None = None) -> tuple[PartValues, ...]:
    return tuple(PartValues(n.name, frame.values(n.expr), part_credit(kind, n, credit))
                 for n in named)


MAX_ITEMS = 12  # terms or factors of an answer looked at one by one
MAX_GROUP = 3  # how many of them may together make one part (2(x₁ − 1) is 2 and x₁ − 1)


SLIP_CONSTANTS = ((-1, "the sign is wrong"), (2, "it is twice what it should be"),
                  (-2, "it is minus twice what it should be"),
                  (0.5, "it is half what it should be"),
                  (-0.5, "it is minus half what it should be"))


def one_part_wrong(answer: sympy.Expr, frame: Frame, kind: str,
                   parts: Sequence[PartValues],
                   credit: Mapping[str, float] | None = None,
                   answer_values: Values | None = None) -> Diagnosis | None:
    """The answer, as the student wrote it, has every part of the reference but one, and
    something else in that one's place: one wrong term of a sum, one wrong factor of a
    chain. It earns what that part missing earns — a wrong term is never worth less than a
    missing one. The student's terms (factors) are matched to the parts by value, a few of
    them together where a student splits a part (2·(x₁ − 1) is two factors); a chain's
    factors up to numbers, which are multiplied up at the end.

    Two slips in a chain of three links or more — one part wrong or missing and the sign or
    a factor of 2 off, or two parts wrong or missing with the rest right — earn the
    ``two_slips`` credit. ``answer_values``, when given, are the answer's values at the
    frame's points (not worked out again for an answer that is one term or factor)."""
    if kind not in ("sum", "product") or len(parts) < 2:
        return None
    items = list((sympy.Add if kind == "sum" else sympy.Mul).make_args(answer))
    numbers: list[sympy.Expr] = []
    if kind == "product":
        numbers = [item for item in items if item.is_number]
        items = [item for item in items if not item.is_number]
    if not items or len(items) > MAX_ITEMS:
        return None
    values = [answer_values if item is answer and answer_values is not None
              else frame.values(item) for item in items]
    combine = (lambda a, b: a + b) if kind == "sum" else (lambda a, b: a * b)

    def joint(group: tuple[int, ...]) -> tuple:
        out = values[group[0]]
        for k in group[1:]:
            out = tuple(None if a is None or b is None else combine(a, b)
                        for a, b in zip(out, values[k], strict=True))
        return out

    groups = [g for size in range(1, MAX_GROUP + 1)
              for g in itertools.combinations(range(len(items)), size)]
    with mpmath.workdps(PRECISION):
        joints = {g: joint(g) for g in groups}

    def ratio(group: tuple[int, ...], part: PartValues) -> mpmath.mpf | None:
        """1 where the group is the part (a sum's terms); for a chain's factors, the
        constant the group is of the part, if it is a constant multiple."""
        if kind == "sum":
            return mpmath.mpf(1) if same_values(joints[group], part.values,
                                                EXPRESSION_FLOAT) else None
        with mpmath.workdps(PRECISION):
            ratios = [a / b for a, b in zip(joints[group], part.values, strict=True)
                      if a is not None and b is not None and b != 0]
            if len(ratios) < 3 or any(abs(r - ratios[0]) > EXPRESSION_FLOAT * (1 + abs(ratios[0]))
                                      for r in ratios) or ratios[0] == 0:
                return None
            return ratios[0]

    def cover(todo: list[PartValues], free: frozenset[int], scale: mpmath.mpf
              ) -> tuple[frozenset[int], mpmath.mpf] | None:
        """The items left once every part of ``todo`` is matched by its own items, and the
        product of the constants they matched with."""
        if not todo:
            return free, scale
        for group in groups:
            if set(group) <= free:
                r = ratio(group, todo[0])
                if r is not None:
                    rest = cover(todo[1:], free - set(group), scale * r)
                    if rest is not None:
                        return rest
        return None

    everything = frozenset(range(len(items)))
    with mpmath.workdps(PRECISION):
        given = mpmath.mpf(1)
        for number in numbers:
            given *= mpmath.mpf(sympy.Float(number, PRECISION))
    if cover(list(parts), everything, mpmath.mpf(1)) is not None:
        return None  # every part is there: something else is wrong

    def constant(scale: mpmath.mpf) -> float | None:
        """The student's numbers over those the matched parts need: 1, or a slip's."""
        with mpmath.workdps(PRECISION):
            overall = given * scale  # the answer over the product of the parts it has
            for c in (1, *(c for c, _ in SLIP_CONSTANTS)):
                if abs(overall - c) <= EXPRESSION_FLOAT * abs(c):
                    return c
        return None

    for i, part in enumerate(parts):
        found = cover([p for j, p in enumerate(parts) if j != i], everything, mpmath.mpf(1))
        if found is None:
            continue
        left, scale = found
        c = 1 if kind == "sum" else constant(scale)
        if c is None or (c == 1 and not left):
            continue  # a part simply missing is a candidate's to name
        if c != 1:
            if len(parts) < 3:
                continue
            how = dict(SLIP_CONSTANTS)[c]
            what = f"{part.name} is {'the wrong quantity' if left else 'missing'}"
            return Diagnosis("two_slips", message("two_slips", first=_label(how), second=what),
                             credit_for("two_slips", credit))
        if kind == "sum":
            return Diagnosis("wrong_term", FEEDBACK["wrong_term"] if part.name == ONE_TERM
                             else message("wrong_term", part=_label(part.name),
                                          how="is not right"), part.credit)
        return Diagnosis("replaced_factor", message("replaced_factor", part=part.name,
                                                    mixup="something else"), part.credit)
    if kind == "product" and len(parts) >= 4:
        for i, j in itertools.combinations(range(len(parts)), 2):
            found = cover([p for k, p in enumerate(parts) if k not in (i, j)], everything,
                          mpmath.mpf(1))
            if found is not None and constant(found[1]) == 1:
                return Diagnosis("two_slips", message(
                    "two_slips", first=_label(f"{parts[i].name} is wrong or missing"),
                    second=f"{parts[j].name} is wrong or missing"),
                    credit_for("two_slips", credit))
    return None


def _ratio_is_one_of(answer: Values, reference: Values, factors: Sequence[Values]) -> bool:
    """Does answer/reference equal ±one of ``factors`` at every point (three at least)?
    The ratio at each point is worked out once, not once for each factor."""
    with mpmath.workdps(PRECISION):
        ratios = [None if a is None or b is None or b == 0 else a / b
                  for a, b in zip(answer, reference, strict=False)]
    for cand in factors:
        pairs = [(r, c) for r, c in zip(ratios, cand, strict=False)
                 if r is not None and c is not None and c != 0]
        if len(pairs) < 3:
            continue
        for sign in (1, -1):
            if all(abs(r - sign * c) <= EXPRESSION_FLOAT * (1 + abs(c)) for r, c in pairs):
                return True
    return False


def _swapped_variable(
    answer: sympy.Expr,
    reference_values: Values,
    frame: Frame,
    definitions: Mapping[sympy.Symbol, sympy.Expr] | None,
) -> str | None:
    """The symbol of the answer that, replaced by another allowed one, makes it right.

    Each swap is first tried at one point by giving the answer's symbol the other one's value
    there (the answer compiled once; no new expression): a swap whose value there is not
    the reference's cannot be right, since the rewritten answer has that same value. Only a
    swap that passes, or whose value there is undefined, is rewritten and tried at every
    point. (A wrong answer tried some 20 swaps, each a new expression compiled: most of the
    time of judging a class's wrong answers again.)"""
    allowed = set(frame.symbols) | set(definitions or {})
    used = sorted(answer.free_symbols & allowed, key=str)
    unused = sorted(allowed - answer.free_symbols, key=str)
    first = next((i for i, k in enumerate(reference_values) if k is not None), None)
    if first is None or first >= len(frame.envs):
        return None  # nothing to agree with: frame.equals says no to every swap
    env, known = frame.envs[first], reference_values[first]
    for u in used:
        for w in unused:
            if w in env:
                at = Frame(frame.symbols, frame.points[first:first + 1], ({**env, u: env[w]},))
                (value,) = at.values(answer)
                if value is not None and not _close_enough(value, known):
                    continue  # frame.equals would stop at this very point
            if frame.equals(answer.xreplace({u: w}), reference_values):
                return str(u)
    return None


def _close_enough(value: mpmath.mpf, reference: mpmath.mpf) -> bool:
    """The test ``Frame.equals`` makes at one point (its default tolerance)."""
    with mpmath.workdps(PRECISION):
        return abs(value - reference) <= EXPRESSION_FLOAT * (1 + abs(reference))
