"""One rubric per question: what is asked, in what form, for how many points, and how to
judge it. The reference answers themselves live in ``solutions`` (instructor side only).
"""

from __future__ import annotations

import hashlib
import inspect
import itertools
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import lru_cache, partial
from typing import Any

import numpy as np

from autograder.errors import BackpropKitError, ParseError
from autograder.judge import (
    checks,
    components,
    flags,
    functions,
    properties,
    sealed,
    sealing,
    transport,
)
from autograder.judge.closeness import ANSWER, FOLLOWS_SLIP, Tolerance
from autograder.judge.diagnosis import Part, Slip
from autograder.judge.parsing import names_used
from autograder.judge.probing import (  # noqa: F401 -- the probe helpers, by their old path too
    PROJECTIONS,
    ProbeFunction,
    decode_probe_arg,
    encode_probe_arg,
    identity,
    last,
    path,
    probes_digest,
)
from autograder.results import CheckResult
from autograder.rubric.code import CodeSlip, check_components

KINDS = ("expression", "number", "array", "function", "manual")  # manual: graded by hand


def _shown_value(value: Any) -> str:
    if isinstance(value, (list, tuple)):
        return "(" + ", ".join(_shown_value(v) for v in value) + ")"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def describe_probe(args: Sequence[Any], names: Sequence[str], visible: bool) -> str:
    """A probe as the student sees it: the test function as the notebook shows it, then each
    argument by the name of the function's parameter ("x0 = 0, eta = 0.1")."""
    functions = list(dict.fromkeys(a.describe() for a in args if isinstance(a, ProbeFunction)))
    values = [f"{name} = {_shown_value(a)}" for name, a in zip(names, args, strict=False)
              if not isinstance(a, ProbeFunction)]
    said = ", ".join(values)
    what = " and ".join(functions)
    text = f"{what}; {said}" if functions and said else what or said
    return f"the visible test ({text})" if visible else f"a hidden test ({text})"


@dataclass(frozen=True)
class Affine:
    """Follow-through as data: the answer expected from a student's own earlier answer is
    ``offset + scale × earlier`` (a descent step θ₀ − η∇R from their own ∇R). Being data, it
    is released, so the self-check follows through as the grade does; θ₀ and η are no answer.
    """

    offset: tuple[float, ...]
    scale: float

    def __call__(self, earlier: Any) -> np.ndarray:
        return np.asarray(self.offset, dtype=float) + self.scale * np.asarray(
            earlier, dtype=float).ravel()

    def to_json(self) -> dict[str, Any]:
        return {"affine": {"offset": list(self.offset), "scale": self.scale}}

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | None) -> Affine | None:
        if not data or "affine" not in data:
            return None
        return cls(tuple(float(v) for v in data["affine"]["offset"]),
                   float(data["affine"]["scale"]))


@dataclass(frozen=True)
class Flags:
    """How a list of 0/1 flags is scored (autograder.judge.flags): misprints found minus
    ``false_alarm`` × false alarms, as a share of all the misprints, never below ``floor``, so
    that guessing earns nothing. Rubric data, released: the self-check states the rule."""

    false_alarm: float = 1.0
    floor: float = 0.0

    def to_json(self) -> dict[str, Any]:
        return {"flags": {"false_alarm": self.false_alarm, "floor": self.floor}}

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | None) -> Flags | None:
        if not data or "flags" not in data:
            return None
        return cls(float(data["flags"]["false_alarm"]), float(data["flags"]["floor"]))


@dataclass(frozen=True)
class RestsOn:
    """An answer read off the student's own code (which minimum *their* path approaches) counts
    only when that code works: the student's answer to ``question`` (the question this one
    ``follows``) must earn at least ``share`` of its points in the grade. Picking one of a few
    options without working code then earns nothing. ``of`` is that question (instructor side:
    it judges the code); the release carries only ``question`` and ``share``, and the
    self-check says the rule."""

    question: str
    share: float = 0.5
    of: Question | None = field(default=None, compare=False, repr=False)

    def public(self) -> dict[str, Any]:
        return {"question": self.question, "share": self.share,
                **({"name": self.of.name} if self.of is not None else {})}

    def to_json(self) -> dict[str, Any]:
        """Stable data for the rubric's version: the rule and what the code is judged by."""
        work = None
        if self.of is not None:  # run here, not cached: ``of`` carries no variant key
            outputs = checks.run_probes(self.of.expected, self.of.probes,
                                        PROJECTIONS[self.of.project])
            text = json.dumps([self.of.public(), outputs], sort_keys=True, default=str)
            work = hashlib.sha256(text.encode()).hexdigest()[:16]
        return {**self.public(), "work": work}

@dataclass(frozen=True)
class Through:
    """Follow-through by slip, as data (instructor side only, never released): where the
    student's answer to the earlier question ``after`` is what a known slip gives, this
    answer is expected to be what that slip makes of it — both computed by ``solutions`` (a
    ∇R that is the mean, trained on, gives another final loss), so one slip is charged once.
    ``cases`` are (slip id, the earlier answer under the slip, this answer under it)."""

    after: str
    cases: tuple[tuple[str, Any, Any], ...]
    # slips are far apart: a loose match of the earlier answer will do (rounded to 3 decimals)
    rel_tol: float = FOLLOWS_SLIP.rel
    abs_tol: float = FOLLOWS_SLIP.abs

    def __call__(self, earlier: Any) -> Any:
        values = np.asarray(earlier, dtype=float).ravel()
        for _, before, later in self.cases:
            slipped = np.asarray(before, dtype=float).ravel()
            if Tolerance(self.rel_tol, self.abs_tol).close_arrays(values, slipped):
                return later
        return None


def without_start(out: Any) -> Any:
    """A returned path without its first iterate (code that leaves x0 out)."""
    return np.asarray(out)[1:]


def end_only(out: Any) -> Any:
    """Only where a path ends (code that returns the last iterate, not the path)."""
    p = np.asarray(out, dtype=float)
    return float(p[-1]) if p.ndim == 1 else p[-1]


def aliased(out: Any) -> Any:
    """Every row the last iterate (code that appends one array and changes it in place)."""
    p = np.asarray(out, dtype=float)
    return np.repeat(p[-1:], len(p), axis=0)


# What a code slip may do to the reference's result (autograder.rubric.code.CodeSlip).
TRANSFORMS: dict[str, Callable[[Any], Any]] = {"without_start": without_start,
                                               "end_only": end_only, "aliased": aliased}


@dataclass(frozen=True)
class Question:
    """One autograded question; ``id`` is the grade_id of its test cell, ``name`` the variable
    (or function) in the notebook that holds the answer, captured right after the cell whose
    grade_id is ``id + "-answer"``."""

    id: str
    name: str
    kind: str
    points: float
    title: str
    variables: tuple[str, ...] = ()
    definitions: Mapping[str, str] = field(default_factory=dict)
    credit: Mapping[str, float] = field(default_factory=dict)
    rel_tol: float = ANSWER.rel
    abs_tol: float = ANSWER.abs
    probes: tuple[tuple[Any, ...], ...] = ()
    project: str = "identity"
    labels: tuple[str, ...] = ()
    expected: Any = None  # the reference: instructor side only, never in a fingerprint
    # How it is judged (see autograder.judge.diagnosis): where the variables live, the reference's
    # named parts, the wrong answers students are known to give, hints for the sign and
    # factor feedback, constant ratios a slip makes besides ±2 and ±½, named groups of
    # entries (arrays), and follow-through: ``follows`` is the id of an earlier question
    # whose answer this one is computed from, ``from_earlier`` (instructor side) computes
    # the expected value from the student's earlier answer, so one slip is charged once.
    domains: Mapping[str, str] = field(default_factory=dict)
    parts: tuple[Part, ...] = ()
    slips: tuple[Slip, ...] = ()
    hints: Mapping[str, str] = field(default_factory=dict)
    ratios: tuple[float, ...] = ()
    groups: Mapping[str, tuple[int, ...]] = field(default_factory=dict)
    follows: str | None = None
    from_earlier: Callable[[Any], Any] | None = None
    # More follow-through: through the slips of other earlier answers (instructor side).
    through: tuple[Through, ...] = ()
    # Numbers: the precision the question's text states or the notebook prints, e.g.
    # ("significant", 4) or ("decimals", 6): the reference given so (or finer) is right.
    # ``as_set``: the entries form a set (the two minima), judged in the order that suits
    # them; another order than the one asked earns the ``order`` credit.
    precision: tuple[str, int] | None = None
    as_set: bool = False
    # The variant (autograder.rubric.variants key) whose numbers ``expected`` is for; None: the
    # lecture's. Same id, other variant: another reference, so caches key on both.
    variant: str | None = None
    # Answers a student could guess (autograder.course.audit): ``scoring`` for a list of 0/1
    # flags (found minus false alarms), ``choices`` the few answers this one is picked from (a
    # small set: what a student would try), ``rests_on`` the code this answer must come from.
    scoring: Flags | None = None
    choices: tuple[Any, ...] = ()
    rests_on: RestsOn | None = None
    # Function answers, marked by their components (autograder.rubric.code): their names (the
    # slips, CodeSlips, say how each goes wrong and what it keeps); the first
    # ``visible`` probes are the tests the notebook states, the only ones the self-check runs;
    # ``cases`` say each probe as the student sees it (derived from the probes by default).
    components: tuple[str, ...] = ()
    visible: int = 0
    cases: tuple[str, ...] = ()
    # Functions of the table (autograder.judge.functions) an answer may not use because the
    # question asks to derive them: σ′ where σ′ is the point ("sigma'").
    refused_functions: tuple[str, ...] = ()
    # The rubric file it was loaded from, by identity and content (path, device and inode,
    # sha256 of the bytes that ran; set by autograder.rubric.course): the reference caches
    # key on it, so two rubrics with the same question ids never share a reference. Not
    # part of what the question asks (nor of its version): moving a course re-judges nothing.
    origin: str | None = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise BackpropKitError(f"question {self.id}: unknown kind {self.kind!r}")
        unknown = [f for f in self.refused_functions if f not in functions.BY_NAME]
        if unknown:
            raise BackpropKitError(f"question {self.id}: unknown refused function(s) {unknown}")
        if self.project not in PROJECTIONS:
            raise BackpropKitError(f"question {self.id}: unknown projection {self.project!r}")
        if self.kind == "function":
            check_components(self.id, self.components, self.slips, TRANSFORMS)
            if not self.cases and self.probes:
                object.__setattr__(self, "cases", tuple(
                    describe_probe(p, _parameters(self.expected), k < self.visible)
                    for k, p in enumerate(self.probes)))

    @property
    def answer_cell(self) -> str:
        return f"{self.id}-answer"

    @property
    def dependencies(self) -> tuple[str, ...]:
        """The earlier questions this answer is judged with (follow-through)."""
        ids = ([self.follows] if self.follows else []) + [t.after for t in self.through]
        return tuple(dict.fromkeys(ids))

    def public(self) -> dict[str, Any]:
        """What a student may see of the question (no expected value)."""
        return {
            "id": self.id, "name": self.name, "kind": self.kind, "points": self.points,
            "title": self.title, "variables": list(self.variables),
            "definitions": dict(self.definitions), "credit": dict(self.credit),
            "probes": [[encode_probe_arg(a) for a in p] for p in self.probes],
            "project": self.project, "labels": list(self.labels),
            "domains": dict(self.domains), "hints": dict(self.hints),
            "groups": {k: list(v) for k, v in self.groups.items()}, "follows": self.follows,
            "from_earlier": self.from_earlier.to_json()
            if isinstance(self.from_earlier, Affine) else None,
            "precision": list(self.precision) if self.precision else None,
            "as_set": self.as_set, "refused_functions": list(self.refused_functions),
            **({"scoring": self.scoring.to_json()} if self.scoring else {}),
            **({"rests_on": self.rests_on.public()} if self.rests_on else {}),
            **({"probes": [[encode_probe_arg(a) for a in p] for p in self.probes[:self.visible]],
                "visible": self.visible, "cases": list(self.cases[:self.visible])}
               if self.kind == "function" else {}),
        }

    @classmethod
    def from_public(cls, data: Mapping[str, Any]) -> Question:
        return cls(
            id=data["id"], name=data["name"], kind=data["kind"], points=data["points"],
            title=data["title"], variables=tuple(data["variables"]),
            definitions=dict(data["definitions"]), credit=dict(data["credit"]),
            probes=tuple(tuple(decode_probe_arg(a) for a in p) for p in data["probes"]),
            project=data["project"], labels=tuple(data["labels"]),
            domains=dict(data.get("domains", {})), hints=dict(data.get("hints", {})),
            groups={k: tuple(v) for k, v in data.get("groups", {}).items()},
            follows=data.get("follows"), from_earlier=Affine.from_json(data.get("from_earlier")),
            precision=tuple(data["precision"]) if data.get("precision") else None,
            as_set=bool(data.get("as_set")),
            visible=int(data.get("visible", 0)), cases=tuple(data.get("cases", ())),
            refused_functions=tuple(data.get("refused_functions", ())),
            scoring=Flags.from_json(data.get("scoring")),
            rests_on=RestsOn(str(data["rests_on"]["question"]), float(data["rests_on"]["share"]))
            if data.get("rests_on") else None,
        )

    def without_expected(self) -> Question:
        """The question as a student may hold it: no reference; follow-through only as
        data (an Affine)."""
        return replace(self, expected=None, from_earlier=self.from_earlier
                       if isinstance(self.from_earlier, Affine) else None, through=())


# --- judging -----------------------------------------------------------------------------

_references: dict[tuple[Any, ...], checks.ExpressionReference] = {}
_expected_outputs: dict[tuple[Any, ...], list[dict[str, Any]]] = {}
_held: dict[int, Question] = {}  # questions keyed by identity, kept so no id is reused


def cache_key(question: Question) -> tuple[Any, ...]:
    """What a question's cached reference is found by: the rubric file it came from (by
    identity and content), its id and its variant; a question built elsewhere (no rubric
    file) by the object itself. Never by id and variant alone: two rubrics with the same
    question ids (a course and its copy of last year, in one warm grader) must not meet."""
    if question.origin is not None:
        return (question.origin, question.id, question.variant)
    _held.setdefault(id(question), question)
    return ("object", id(question), question.id, question.variant)


def expression_reference(question: Question) -> checks.ExpressionReference:
    """The question's reference, built once per process, rubric and variant (it is the costly
    part)."""
    key = cache_key(question)
    if key not in _references:
        _references[key] = checks.ExpressionReference.build(
            question.expected, question.variables, question.definitions,
            domains=question.domains, parts=question.parts, slips=question.slips,
            credit=question.credit, hints=question.hints, ratios=question.ratios,
        )
    return _references[key]


def expected_outputs(question: Question) -> list[dict[str, Any]]:
    key = cache_key(question)
    if key not in _expected_outputs:
        outputs = checks.run_probes(question.expected, question.probes,
                                    PROJECTIONS[question.project])
        if any("error" in o for o in outputs):
            raise BackpropKitError(f"question {question.id}: reference failed a probe: {outputs}")
        _expected_outputs[key] = outputs
    return _expected_outputs[key]


def _parameters(func: Any) -> tuple[str, ...]:
    """The names of a function's positional parameters: the reference's are the names the
    notebook asks for (``df, x0, eta, tol, max_iter``), so feedback says a probe in them."""
    try:
        return tuple(p.name for p in inspect.signature(func).parameters.values()
                     if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD))
    except (TypeError, ValueError):
        return ()


def _code_variants(question: Question) -> tuple[tuple[str, ...],
                                                 list[components.Variant],
                                                 list[CodeSlip | None],
                                                 list[tuple[int, ...]]]:
    """The question's components, every variant (the right way of each first), each variant's
    slip (None for the right way), and every combination (the all-right one first)."""
    names = tuple(question.components) or ("code",)
    variants: list[components.Variant] = []
    slips: list[CodeSlip | None] = []
    per_component = []
    for name in names:
        indices = [len(variants)]
        variants.append(components.Variant(name))
        slips.append(None)
        for slip in question.slips:
            if isinstance(slip, CodeSlip) and slip.component == name:
                indices.append(len(variants))
                variants.append(components.Variant(name, slip.id, slip.feedback, slip.credit))
                slips.append(slip)
        per_component.append(indices)
    return names, variants, slips, list(itertools.product(*per_component))


_combo_outputs: dict[tuple[str, ...], dict[str, Any]] = {}


def _combo_output(question: Question, k: int, slips: Sequence[CodeSlip]) -> dict[str, Any]:
    """The reference's output on probe ``k`` with ``slips`` (a combination of code slips): run
    with their options, then changed by their transforms, then projected. Each run serves every
    transform of it, and is kept per process for the same probe (variants share their test
    functions)."""
    probe = [encode_probe_arg(a) for a in question.probes[k]]
    head = (question.origin or "", question.id,
            getattr(question.expected, "__qualname__", repr(question.expected)),
            json.dumps([probe, question.project], sort_keys=True, default=str))
    options = {kw: v for slip in slips for kw, v in slip.options.items()}
    runs = json.dumps(sorted(options.items()), default=str)
    key = (*head, runs, ",".join(slip.transform for slip in slips if slip.transform))
    if key not in _combo_outputs:
        func = partial(question.expected, **options) if options else question.expected
        try:
            raw: tuple[bool, Any] = (True, func(*question.probes[k]))
        except Exception as error:  # noqa: BLE001 -- a slip that raises: that is its output
            raw = (False, error)
        used = sorted({s.transform for s in question.slips
                       if isinstance(s, CodeSlip) and s.transform})
        for count in range(len(used) + 1):
            for transforms in itertools.combinations(used, count):

                def replay(*_: Any, transforms: tuple[str, ...] = transforms) -> Any:
                    ok, value = raw
                    if not ok:
                        raise value
                    for name in transforms:
                        value = TRANSFORMS[name](value)
                    return value

                (_combo_outputs[(*head, runs, ",".join(transforms))],) = checks.run_probes(
                    replay, [question.probes[k]], PROJECTIONS[question.project])
    return _combo_outputs[key]


def _salt(question: Question, k: int) -> str:
    """A probe's seals are salted by its content: variants that share a test share its seals."""
    return "backprop-kit/code/{}/{}".format(question.id, probes_digest(
        [encode_probe_arg(a) for a in question.probes[k]], question.project))


_code_tables: dict[tuple[Any, ...], components.Table] = {}
TABLE_PARTS = ("full", "visible", "combinations")


def code_table(question: Question, part: str = "full") -> components.Table:
    """What the reference and each combination of the question's code slips return on every
    probe (instructor side), once per process and variant. ``part`` "visible": the visible
    probes only (what a release seals); "combinations": every probe, without what they return
    (enough for :func:`components.search`)."""
    key = (*cache_key(question), part)
    if part not in TABLE_PARTS:
        raise ValueError(f"unknown part {part!r}")
    if key not in _code_tables:
        expected_outputs(question)  # says so when the reference itself fails a probe
        names, variants, slips, combos = _code_variants(question)
        as_slips = [[slips[i] for i in combo if slips[i] is not None] for combo in combos]
        probes = []
        for k in range(question.visible if part == "visible" else len(question.probes)):
            visible = k < question.visible
            if part == "combinations":
                probes.append(components.Probe(question.cases[k], visible, (), {}, ""))
                continue
            probes.append(components.build_probe(
                question.cases[k], visible, [_combo_output(question, k, c) for c in as_slips],
                _salt(question, k), question.rel_tol, question.abs_tol))
        _code_tables[key] = components.Table(
            names, tuple(variants), tuple(tuple(c) for c in combos), tuple(probes),
            question.rel_tol, question.abs_tol,
            complete=part != "visible" or question.visible == len(question.probes))
    return _code_tables[key]


def _judge_function(question: Question, outputs: Sequence[Any], expected: Any
                    ) -> CheckResult:
    """A function answer by its components: against a released table (the self-check), else
    the reference's — trying the kindest combinations of code slips first and running each
    only as far as needed; the whole table only for an answer no combination explains."""
    if isinstance(expected, components.Table):
        return components.judge(expected, outputs)
    table = code_table(question, "combinations")
    slips = _code_variants(question)[2]

    def output_of(combo: int, k: int) -> dict[str, Any]:
        return _combo_output(question, k, [slips[i] for i in table.combos[combo]
                                           if slips[i] is not None])

    found = components.search(table, outputs, output_of)
    return found if found is not None else components.judge(code_table(question), outputs)


def question_probes_digest(question: Question) -> str:
    """:func:`probes_digest` of a question's probes, as the sandboxed child computes it."""
    return probes_digest([[encode_probe_arg(a) for a in p] for p in question.probes],
                         question.project)


def probe_outputs(question: Question, func: Any) -> list[dict[str, Any]] | CheckResult:
    """Run a student's function on the probes (inside the student's process)."""
    if not callable(func):
        return checks.unreadable(f"expected a function, got {type(func).__name__}")
    return checks.run_probes(func, question.probes, PROJECTIONS[question.project])


def judge(question: Question, answer: Any, *, outputs: Sequence[Mapping[str, Any]] | None = None,
          earlier: Mapping[str, Any] | None = None) -> CheckResult:
    """Judge one answer against the question's reference (instructor side).

    For a function question pass either the function as ``answer`` or, when the function ran
    elsewhere (the sandbox), its probe ``outputs``. ``earlier`` holds the student's answers
    to earlier questions by id: an answer that is wrong against the reference but right
    against what follows from the student's own earlier answer earns its points here.
    """
    if question.expected is None:
        raise BackpropKitError(f"question {question.id} has no reference answer here")
    refused = refused_use(question, answer)
    if refused is not None:
        return refused
    result = _judge_against(question, answer, question.expected, outputs)
    result = _follow_through(question, answer, result, earlier, outputs)
    return _rests_on(question, result, earlier)


Judge = Callable[..., CheckResult]  # (question, answer, outputs, earlier): judge or a self-check


def judge_reference(question: Question, answer: Any, outputs: Any,
                    earlier: Mapping[str, Any] | None = None) -> CheckResult:
    """:func:`judge` in the form the grader calls a judge: the grade of record's judge."""
    return judge(question, answer, outputs=outputs, earlier=earlier)


def prepare_references(questions: Sequence[Question]) -> None:
    """Build the questions' references (secret points, probe outputs): the costly part of the
    first judgements, done in a thread while the first notebook runs, or by a warm grader's
    worker before the command comes (:mod:`autograder.cli.warm.server`)."""
    for question in questions:
        try:
            if question.expected is None:
                continue
            if question.kind == "expression":
                expression_reference(question).secret  # noqa: B018 -- draws the points
            elif question.kind == "function":
                expected_outputs(question)
        except Exception:  # noqa: BLE001,S112 -- judging builds it again and says why
            continue


def judge_data(question: Question, data: Any, before: Any = None, judge_with: Judge | None = None,
               *, earlier_data: Mapping[str, Any] | None = None) -> CheckResult:
    """Judge an answer that arrives as transport data (from the sandboxed child, or kept in
    results.json): rebuilt here with constructors only, then judged by ``judge_with`` (the
    reference by default), with the data of the earlier answers it follows from:
    ``earlier_data`` by question id, or ``before`` for the one ``question.follows`` names."""
    judge_with = judge_with or judge_reference
    given = dict(earlier_data or {})
    if before is not None and question.follows:
        given[question.follows] = before
    earlier: dict[str, Any] = {}
    for qid in question.dependencies:
        if given.get(qid) is None:
            continue
        if isinstance(given[qid], Mapping) and given[qid].get("type") == "outputs":
            earlier[qid] = given[qid]  # a function's outputs: judged as such (RestsOn)
            continue
        try:
            earlier[qid] = transport.decode(given[qid])
        except ParseError:
            pass
    try:
        if question.kind == "function":
            if not isinstance(data, dict) or data.get("type") != "outputs":
                return checks.unreadable(transport.decode(data) and "expected a function")
            if data.get("probes") != question_probes_digest(question):
                return checks.unreadable(
                    "these outputs answer other tests of this question (recorded by another "
                    "version of the kit); grade the notebook again")
            return judge_with(question, None, data["outputs"], earlier)
        return judge_with(question, transport.decode(data), None, earlier)
    except ParseError as error:
        return checks.unreadable(error)


def refused_use(question: Question, answer: Any) -> CheckResult | None:
    """An answer that writes what the question asks to derive (σ′ itself for σ′) earns
    nothing, said plainly; None when it uses no refused function."""
    if not question.refused_functions or not isinstance(answer, str):
        return None
    used = names_used(answer)
    for name in question.refused_functions:
        if used & set(functions.BY_NAME[name].names):
            shown = functions.BY_NAME[name].names[-1]
            return CheckResult.wrong(
                f"This question asks you to work out {shown} yourself: write it without "
                f"{shown}(…), in the symbols listed.", mistake="refused_function")
    return None


def _follow_through(question: Question, answer: Any, result: CheckResult,
                    earlier: Mapping[str, Any] | None,
                    outputs: Sequence[Mapping[str, Any]] | None) -> CheckResult:
    """A wrong answer that is right for the student's own earlier answers earns its points:
    through ``from_earlier`` (computed from the earlier answer) and through each ``through``
    rule (the earlier answer is a known slip, this one what that slip makes of it)."""
    if result.correct or result.invalid:
        return result
    rules = [(question.follows, question.from_earlier)] if question.follows and \
        question.from_earlier else []
    rules += [(t.after, t) for t in question.through]
    best = result
    for after, rule in rules:
        before = (earlier or {}).get(after)
        if before is None:
            continue
        try:
            own = rule(before)
        except Exception:  # noqa: BLE001,S112 -- an unusable earlier answer: no follow-through
            continue
        if own is None:
            continue
        again = _judge_against(question, answer, own, outputs)
        if again.correct:
            return CheckResult(
                correct=False, score=1.0,
                feedback="Right for your own earlier answer (follow-through): the slip there "
                         "is charged there, not again here.",
                details={"follow_through": after},
            )
        if again.score > best.score:  # e.g. rounded, judged against their own answer
            best = CheckResult.wrong(f"Judged against your own earlier answer "
                                     f"(follow-through): {again.feedback}", score=again.score,
                                     mistake=again.mistake,
                                     **{**again.details, "follow_through": after})
    return best


def _rests_on(question: Question, result: CheckResult, earlier: Mapping[str, Any] | None
              ) -> CheckResult:
    """An answer that must come from the student's own code earns its points only when that
    code earns at least its share (:class:`RestsOn`), judged here as the grade judges it."""
    rule = question.rests_on
    if rule is None or rule.of is None or result.score == 0 or result.invalid:
        return result
    work = (earlier or {}).get(rule.question)
    # the code's question as the rubric holds it (same origin and variant: same cache entry)
    code = replace(rule.of, variant=question.variant, origin=question.origin)
    earned = 0.0
    if isinstance(work, Mapping) and work.get("type") == "outputs":
        earned = judge_data(code, work).score
    elif work is not None:
        earned = judge(code, work).score
    if earned >= rule.share:
        return result
    lead = "Right" if result.correct else result.feedback.rstrip(".")
    return CheckResult.wrong(
        f"{lead}, but this answer is read off your own {code.name}, which "
        f"{'is missing' if work is None else f'earns {earned:.0%} of its points'}: it counts "
        f"once your {code.name} earns at least {rule.share:.0%} of its points, so that a "
        "guess earns nothing.", mistake="rests_on_code", rests_on=rule.question)


def _judge_against(question: Question, answer: Any, expected: Any,
                   outputs: Sequence[Mapping[str, Any]] | None) -> CheckResult:
    if question.kind == "expression":
        if expected is question.expected:
            return checks.judge_expression(answer, expression_reference(question),
                                           question.credit)
        return checks.check_expression(answer, expected, question.variables,
                                       question.definitions, question.credit,
                                       domains=question.domains)
    if question.kind == "number":
        return checks.check_number(answer, expected, question.rel_tol, question.abs_tol,
                                   question.credit, question.slips, question.hints,
                                   question.ratios, question.precision)
    if question.kind == "array" and isinstance(question.scoring, Flags):
        return flags.check_flags(answer, checks.as_array(expected), question.scoring.false_alarm,
                                 question.scoring.floor, question.labels or None)
    if question.kind == "array":
        return checks.check_array(answer, expected, question.rel_tol, question.abs_tol,
                                  question.credit, question.labels or None, question.slips,
                                  question.groups, question.hints, question.ratios,
                                  question.precision, question.as_set)
    if outputs is None:
        got = probe_outputs(question, answer)
        if isinstance(got, CheckResult):
            return got
        outputs = got
    return _judge_function(question, outputs, expected)


def sealable(question: Question) -> list[list[float]] | None:
    """The vectors a release could seal for a number or vector question (its reference, then
    each declared slip of the same shape), or None where nothing may be sealed at all: flags
    and small sets, which a student tries in a moment. Whether to seal is the audit's call
    (autograder.course.audit)."""
    if question.kind not in ("number", "array") or question.scoring or question.choices:
        return None
    values = [checks.as_number(question.expected)] if question.kind == "number" else \
        checks.as_array(question.expected)
    out = [values]
    for slip in question.slips:
        if not slip.released:  # a grade-only slip is never released
            continue
        answer = sealing._flat(slip.answer)  # noqa: SLF001 -- one flattening for both
        if len(answer) == len(values):
            out.append(answer)
    return out


def fingerprint(question: Question, prefix: str | None = None, seal: bool = False
                ) -> dict[str, Any]:
    """The released form of a question: public fields, plus what the self-check needs:
    reference values at fixed public points for expressions (the grade judges at secret
    ones); with ``seal``, a number's or vector's reference and slips sealed whole
    (autograder.judge.sealing), which only the audit (autograder.course.audit) asks for, and
    only where recovering them is hopeless. Everything else is judged by the self-check on
    its form and properties (the rubric's ``self_check`` data), never on its value.
    ``prefix`` salts the seals (by default the question's variant key)."""
    prefix = question.variant or "" if prefix is None else prefix
    data = question.public()
    if question.kind == "expression":
        data["fingerprint"] = expression_reference(question).fingerprint()
    elif seal and sealable(question) is not None:
        values = [checks.as_number(question.expected)] if question.kind == "number" else \
            checks.as_array(question.expected)
        data["sealed_answer"] = sealing.seal_answer(
            question.id, values, [slip for slip in question.slips if slip.released],
            question.rel_tol, question.abs_tol, prefix, scalar=question.kind == "number")
    elif question.kind == "function" and question.visible:
        # what the visible probes return for every combination of code slips, sealed: the
        # self-check runs the visible tests (their results are the notebook's to state) and
        # reaches the grade's components and slips; the hidden probes stay with the grade,
        # and code that answers none of them earns nothing (components.verdict), so these
        # seals are no oracle of a graded value (autograder.course.audit)
        data["code"] = code_table(question, "visible").release()
    return data


def released_reference(fingerprint: Mapping[str, Any]) -> checks.ExpressionReference:
    """The reference a released fingerprint stands for, rebuilt once per process: reading its
    definitions and points is most of a self-check's time."""
    return _released_reference(json.dumps(fingerprint, sort_keys=True))


@lru_cache(maxsize=256)
def _released_reference(fingerprint: str) -> checks.ExpressionReference:
    return checks.ExpressionReference.from_fingerprint(json.loads(fingerprint))


WITHHELD = ("Its value is checked by the grade only: checking it here would give the answer "
            "away.")
WITHHELD_FUNCTION = "The grade also runs it on hidden tests."


def _rests_on_note(data: Mapping[str, Any]) -> str:
    rule = data.get("rests_on")
    if not rule:
        return ""
    return (f" It counts only if your {rule.get('name') or rule['question']} earns at least "
            f"{float(rule['share']):.0%} of its points in the grade: this answer must come from "
            "your own code, so a guess earns nothing.")


def _grade_decides(result: CheckResult) -> CheckResult:
    """A failed property or visible test: wrong, but the grade decides the points (it may
    give partial credit the self-check cannot see)."""
    return replace(result, details={**result.details, "unconfirmed": True})


def _form_only(feedback: str, **details: Any) -> CheckResult:
    return CheckResult(correct=False, score=0.0, feedback=feedback,
                       details={"form_only": True, **details})


def _plain_where_earlier_is_right(question: Question, data: Mapping[str, Any], answer: Any,
                                  own: CheckResult, earlier: Mapping[str, Any] | None,
                                  outputs: Sequence[Mapping[str, Any]] | None) -> CheckResult:
    """A partial verdict judged against the student's own earlier answer, said as the grade
    says it where that answer gives the sealed reference itself (a right ∇R, a rounded step):
    then it is no follow-through, and the grade judges against the reference."""
    if own.correct or "sealed_answer" not in data or not isinstance(question.from_earlier,
                                                                      Affine):
        return own
    before = (earlier or {}).get(question.follows or "")
    try:
        expected = question.from_earlier(before)
        same = sealed.judge(expected.tolist(), data["sealed_answer"], question.id)
    except (ParseError, TypeError, ValueError):
        return own
    if same is None or not same.correct:
        return own
    return _judge_against(question, answer, expected, outputs)


def _released_code(data: Mapping[str, Any]) -> components.Table | None:
    """The sealed table of a function's visible tests a release carries, if any."""
    if "code" not in data:
        return None
    return _released_table(json.dumps(data["code"], sort_keys=True))


@lru_cache(maxsize=64)
def _released_table(code: str) -> components.Table:
    return components.Table.from_release(json.loads(code))


def self_check(data: Mapping[str, Any], answer: Any,
               outputs: Sequence[Mapping[str, Any]] | None = None,
               names: Mapping[str, Any] | None = None,
               earlier: Mapping[str, Any] | None = None) -> CheckResult:
    """The visible check, with only the released data: the grade's judgement of an expression
    at the public points; for a number or vector the grade's verdict where a released seal of
    the whole answer reaches it (right, a declared slip, the sign or ×2, follow-through from
    ``earlier``, the student's answers by question id); otherwise its form, the properties
    the rubric released (``data["self_check"]``, autograder.judge.properties; ``names`` are
    the notebook's names they use) and a plain sentence that the grade checks the value."""
    question = Question.from_public(data)
    if question.kind == "expression":
        refused = refused_use(question, answer)
        if refused is not None:
            return refused
        return checks.judge_expression(answer, released_reference(data["fingerprint"]))
    note = _rests_on_note(data)
    try:
        if question.kind == "function":
            got = probe_outputs(question, answer) if outputs is None else outputs
            if isinstance(got, CheckResult):
                return got
            table = _released_code(data)
            if table is not None:  # the grade's components on the visible tests
                return components.judge(table, got)
            errors = [o["error"] for o in got if isinstance(o, Mapping) and "error" in o]
            if errors:
                return _grade_decides(CheckResult.wrong(
                    f"On a test input your function {errors[0]}."))
            verdict = properties.run(data.get("self_check", ()), answer, got, names)
            if verdict is not None and not verdict.details.get("form_only"):
                return _grade_decides(verdict)
            said = f"{verdict.feedback} " if verdict is not None else "The form is right. "
            return _form_only(said + WITHHELD_FUNCTION, property=verdict is not None)
        if isinstance(question.scoring, Flags):
            return flags.form_only(answer, len(question.labels), question.scoring.false_alarm,
                                   question.scoring.floor)
        if question.kind == "number":
            checks.as_number(answer)
        else:
            values = checks.as_array(answer)
            if question.labels and len(values) != len(question.labels):
                return checks.unreadable(
                    f"expected {len(question.labels)} numbers, got {len(values)}")
        verdict = None
        if "sealed_answer" in data:
            verdict = sealed.judge(answer, data["sealed_answer"], question.id, question.credit,
                                   question.hints, question.ratios)
            if verdict is not None and verdict.correct:
                return verdict
        own = _follow_through(question, answer, verdict or CheckResult.wrong(""), earlier,
                              outputs)
        if own.details.get("follow_through"):
            return _plain_where_earlier_is_right(question, data, answer, own, earlier, outputs)
        if verdict is not None:
            return verdict
        found = properties.run(data.get("self_check", ()), answer, outputs, names)
        if found is not None and not found.details.get("form_only"):
            return _grade_decides(found)
        said = f"{found.feedback} " if found is not None else "The form is right. "
        if "sealed_answer" in data:
            return sealed.undecided(f"{sealed.fallback(question.kind == 'number').feedback}"
                                    f"{' ' + found.feedback if found is not None else ''}")
        return _form_only(said + WITHHELD + note, property=found is not None)
    except ParseError as error:
        return checks.unreadable(error)
    except (KeyError, TypeError, ValueError) as error:
        return checks.unreadable(f"the released self-check data is damaged ({error})")
