"""Answer groups: a class's distinct answers to one question, grouped by what they mean.

Two answers fall in one group when they are mathematically the same, not when their text is:
``-2*(y-a1_2)*a2_1`` and ``2*a2_1*(a1_2-y)`` are one group. Expressions are read with the
project's own parser (never ``sympify``) and fingerprinted by their values at fixed random
points rounded to ``DIGITS`` significant digits, each defined symbol bound to its
definition's value there (an ``equivalence.Frame``, as the judge evaluates); numbers and
arrays are grouped by their rounded values, functions by their rounded outputs on the probes.
The instructor then sees the wrong answers many students share, each once, with the verdict
and feedback the grader gave it.
"""

from __future__ import annotations

import json
import math
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import mpmath
import sympy

from autograder.errors import ParseError
from autograder.judge import transport
from autograder.judge.equivalence import PRECISION, Frame, sample_points, substitute
from autograder.judge.parsing import make_symbol, to_expression
from autograder.judge.timebox import OutOfTime, timebox
from autograder.results import QuestionResult
from autograder.rubric.question import Question
from autograder.rubric.reading import reader

POINTS = 6  # fixed points an expression is evaluated at for its group key
DIGITS = 8  # significant digits of an expression's values in its group key
NUMBER_DIGITS = 6  # significant digits of a number or array entry in its group key
TINY = mpmath.mpf("1e-20")  # values this small are 0 (rounding error of a vanishing term)
MAX_SHOWN = 200  # characters of a representative answer shown
KEY_SECONDS = 5.0  # bound on fingerprinting one distinct answer


@dataclass(frozen=True)
class AnswerGroup:
    """Answers that mean the same, with the verdict the grader gave them."""

    key: str
    representative: str  # the most frequent form, as the student typed or built it
    count: int
    students: tuple[str, ...]
    forms: int  # how many different texts the group holds
    points: float
    max_points: float
    verdict: str  # "right", "partial", "wrong" or "unreadable"
    feedback: str
    mistake: str | None
    confirmed: bool | None  # for right answers: proved by sympy (True) or numbers only (False)
    review: str | None = None  # why the instructor should look (the most frequent reason)
    review_count: int = 0  # answers in the group flagged for review
    # With per-student variants: what this group's students were asked (the question's title
    # for their variant) when the class was not all asked the same; and, for a right group,
    # that its answers differ because each is right for its student's own numbers.
    asked: str | None = None
    own_numbers: bool = False


class _Space:
    """Where one question's expressions are evaluated: names, definitions, symbols, points."""

    def __init__(self, names: Sequence[str], definitions: Mapping[str, str]) -> None:
        self.names = tuple(dict.fromkeys([*names, *definitions]))
        self.definitions = {make_symbol(k): to_expression(v, self.names)
                            for k, v in definitions.items()}
        base: set[sympy.Symbol] = set()
        for name in self.names:
            base |= substitute(make_symbol(name), self.definitions).free_symbols
        self.symbols = tuple(sorted(base, key=str))
        self.points = sample_points(len(self.symbols), n_points=POINTS)
        # each defined symbol's value at each point, worked out once: an answer is evaluated
        # with its defined symbols kept, as the judge does, not with their definitions written
        # out in it (a layer-1 derivative grows tenfold, and repeats each σ it uses)
        self.frame = Frame.at(self.symbols, self.points, self.definitions)
        self._keys: dict[sympy.Basic, str] = {}
        self._typed: dict[str, str] = {}
        self._reader = reader(self.names)  # other spacing, the same tokens: parsed once

    def key(self, value: Any) -> str:
        typed = value if isinstance(value, str) else None  # the same text: parsed once
        if typed is not None and typed in self._typed:
            return self._typed[typed]
        expr = self._reader.expression(value)
        # the same expression typed with other spacing: one evaluation (sympy's own structural
        # equality and cached hash; its srepr text cost as much as parsing)
        if expr not in self._keys:
            self._keys[expr] = self._key(expr)
        if typed is not None:
            self._typed[typed] = self._keys[expr]
        return self._keys[expr]

    def _key(self, expr: sympy.Expr) -> str:
        values = self.frame.values(expr)
        if sum(v is not None for v in values) < 3:  # undefined almost everywhere: by its form
            return "form:" + sympy.srepr(substitute(expr, self.definitions))
        with mpmath.workdps(PRECISION):
            return "expr:" + ",".join(
                "u" if v is None else "0" if abs(v) < TINY else mpmath.nstr(v, DIGITS)
                for v in values)


def _number(value: float) -> str:
    if not math.isfinite(value):
        return repr(value)
    rounded = float(f"{value:.{NUMBER_DIGITS}g}")
    return "0" if rounded == 0 else repr(rounded)


def _as_text(value: Any) -> str:
    if isinstance(value, str):
        return value if value.strip() else "(empty)"
    if isinstance(value, sympy.Basic):
        return sympy.sstr(value)
    if isinstance(value, list):
        return "[" + ", ".join(f"{v:.6g}" for v in value) + "]"
    if isinstance(value, float):
        return f"{value:.10g}"
    return str(value)


def _outputs_text(outputs: Any) -> str:
    if not isinstance(outputs, list):
        return "(no outputs)"
    parts = []
    for out in outputs:
        if isinstance(out, Mapping) and "error" in out:
            parts.append(f"error: {out['error']}")
        elif isinstance(out, Mapping):
            parts.append(_as_text(out.get("value")))
        else:
            parts.append(str(out))
    return "; ".join(parts)


def _rounded(value: Any) -> Any:
    """JSON data with every number rounded, for keys of function outputs."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, (int, float)):
        return _number(float(value))
    if isinstance(value, Mapping):
        return {str(k): _rounded(v) for k, v in sorted(value.items(), key=lambda kv: str(kv[0]))}
    if isinstance(value, (list, tuple)):
        return [_rounded(v) for v in value]
    return str(value)


def answer_key(data: Any, kind: str | None, space: _Space | None) -> tuple[str, str]:
    """(group key, the answer as the student gave it) for one answer's transport data."""
    if isinstance(data, Mapping) and data.get("type") == "outputs":
        outputs = data.get("outputs")
        return "outputs:" + json.dumps(_rounded(outputs)), _outputs_text(outputs)
    try:
        value = transport.decode(data)
    except ParseError as error:
        return f"unreadable:{error}", f"(unreadable: {error})"
    text = _as_text(value)
    try:
        if kind in ("number", "array") or (kind is None and isinstance(value, (float, list))):
            if isinstance(value, list):
                return "array:" + ",".join(_number(v) for v in value), text
            if isinstance(value, sympy.Basic):
                value = float(value)
            if isinstance(value, str):
                raise ValueError
            return "number:" + _number(float(value)), text
        if space is not None:
            return space.key(value), text
    except (ParseError, ValueError, TypeError):
        pass
    return "text:" + "".join(text.split()), text


def _fallback_space(answers: Sequence[Any]) -> _Space | None:
    """Without the rubric: evaluate over the names the class's sympy answers use."""
    names: set[str] = set()
    for data in answers:
        try:
            value = transport.decode(data)
        except ParseError:
            continue
        if isinstance(value, sympy.Basic):
            names |= {s.name for s in value.free_symbols if isinstance(s, sympy.Symbol)}
    try:
        return _Space(sorted(names), {})
    except ParseError:
        return None


def _verdict(q: QuestionResult) -> str:
    if q.invalid:
        return "unreadable"
    if q.points >= q.max_points - 1e-9 and q.correct:
        return "right"
    return "partial" if q.points > 0 else "wrong"


def group_answers(results: Sequence[tuple[str, QuestionResult]],
                  question: Question | None = None, variants: Mapping[str, Any] | None = None
                  ) -> list[AnswerGroup]:
    """Group the judged answers of one question, largest group first.

    ``results`` pairs a student label with that student's result on the question; results
    without kept answer data (not answered, or a schema 1 file) are left out. ``variants``
    maps a label to the student's variant key: in a class of several variants, answers to
    differently asked questions (titles differ) are never grouped together, and each
    variant's right answers form one group, labelled with what was asked.
    """
    judged = [(who, q) for who, q in results if q.answer is not None]
    if not judged:
        return []
    asked = {who: q.title for who, q in judged}
    several_asked = len(set(asked.values())) > 1
    by_variant = variants is not None and len({variants.get(who) for who, _ in judged}) > 1
    kind = question.kind if question is not None else None
    space: _Space | None = None
    if question is not None and question.kind == "expression":
        space = _Space(question.variables, question.definitions)
    elif question is None:
        space = _fallback_space([q.answer for _, q in judged])
    keys: dict[str, tuple[str, str]] = {}
    members: dict[str, list[tuple[str, QuestionResult, str]]] = defaultdict(list)
    for who, q in judged:
        raw = json.dumps(q.answer, sort_keys=True)
        if raw not in keys:
            try:  # a pathological expression must not stall the report (isolation, issue 10)
                with timebox(KEY_SECONDS):
                    keys[raw] = answer_key(q.answer, kind, space)
            except OutOfTime:
                keys[raw] = ("slow:" + raw, raw)
        key, text = keys[raw]
        if q.code and kind != "expression":  # a function or array answer: its code, as typed
            text = q.code
        label = asked[who] if several_asked else ""
        if by_variant and _verdict(q) == "right":
            members[f"right\0{label}"].append((who, q, text, key))
        else:
            members[f"{label}\0{key}"].append((who, q, text, key))
    groups = []
    for key, items in members.items():
        forms = Counter(text for _, _, text, _ in items)
        verdicts = Counter((q.points, _verdict(q), q.feedback, q.mistake, q.confirmed)
                           for _, q, _, _ in items)
        (points, verdict, feedback, mistake, confirmed), _ = verdicts.most_common(1)[0]
        representative = forms.most_common(1)[0][0]
        if len(representative) > MAX_SHOWN:
            representative = representative[:MAX_SHOWN - 1] + "…"
        reviews = Counter(q.review for _, q, _, _ in items if q.review)
        groups.append(AnswerGroup(
            key, representative, len(items), tuple(who for who, _, _, _ in items), len(forms),
            points, items[0][1].max_points, verdict, feedback, mistake, confirmed,
            reviews.most_common(1)[0][0] if reviews else None, sum(reviews.values()),
            asked[items[0][0]] if several_asked else None,
            key.startswith("right\0") and len({k for _, _, _, k in items}) > 1))
    return sorted(groups, key=lambda g: (-g.count, g.verdict != "right", g.representative))
