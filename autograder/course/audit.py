"""What a student must search to recover each released datum, worked out before release.

Anything in ``selfcheck.json`` is assumed searched offline, with a GPU. A seal
(autograder.judge.sealing) answers "is it this?" for any guess, as fast as the student can
hash; so for every seal the audit counts the guesses a student must try, given what a student
can guess without doing the work:

- a number: its sign and order of magnitude and its first ``KNOWN_DIGITS`` significant digits
  (a rough run, a plot, the lecture's printed figures) — every grid cell of the values that
  round to those digits is a guess;
- an answer computed from an earlier one (``from_earlier``, a step θ₀ − η∇R): the earlier
  answer to as many digits, which pins this one down further; the smaller count is taken;
- flags (``scoring``): both values of every flag; a small set (``choices``): its members;
- a vector sealed whole: the product over its entries.

The cost is the guesses times one PBKDF2 hash, at ``CORE_ITERATIONS_PER_SECOND`` on one CPU
core. A seal is released only when that reaches ``BOUND_LOG10_YEARS`` for the reference and
for every slip sealed with it (a slip's vector gives the reference away as surely); otherwise
the question's value is withheld and its self-check judges form and properties only.
Expression fingerprints are values at public points, not seals: the grade judges elsewhere,
and ``tests/test_fitting.py`` shows that fitting them earns nothing. A function's results on
its visible tests (the tests the notebook states) are sealed per entry, for every combination
of its code slips (autograder.judge.components): they are no secret — the test, the algorithm
and so the results are public, and a student recovers each entry in seconds — so they are
released only for a function the grade also runs on hidden tests, never released, on which
its credit rests (a table of the visible results alone earns nothing:
``tests/test_release_audit.py``).

:func:`verify` then reads the finished release and refuses any seal the audit did not pass
and any datum it does not know: nothing reaches students unaudited.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from autograder.errors import BackpropKitError
from autograder.judge import sealing
from autograder.rubric.question import Affine, Question, sealable

KNOWN_DIGITS = 2
# 10^6 CPU-core years: a year of a GPU that hashes PBKDF2 10^6 times as fast as a core, a
# century of one that is 10^4 times as fast.
BOUND_LOG10_YEARS = 6.0
CORE_ITERATIONS_PER_SECOND = sealing.CORE_ITERATIONS_PER_SECOND


class ReleaseRefused(BackpropKitError):
    """A release holds a datum the audit does not pass: it is not written."""


@dataclass(frozen=True)
class Finding:
    """One released datum (or one withheld), and what recovering it costs."""

    assignment: str
    question: str
    what: str  # "the reference", "slip mean_not_sum", "fingerprint", ...
    released: str  # "sealed", "withheld", "public points", "not sealed"
    how: str  # what a student is assumed to know
    tries_log10: float | None = None
    years_log10: float | None = None

    @property
    def passes(self) -> bool:
        return self.years_log10 is None or self.years_log10 >= BOUND_LOG10_YEARS

    def line(self) -> str:
        if self.tries_log10 is None:
            cost = self.how
        else:
            cost = (f"{self.how}: 10^{self.tries_log10:.1f} guesses, "
                    f"10^{self.years_log10:.1f} CPU-core years")
        return f"  {self.question:<28} {self.what:<26} {self.released:<10} {cost}"


def _entry_tries(value: float, rel_tol: float, abs_tol: float,
                 width: float | None = None) -> int:
    """Guesses for one entry known to KNOWN_DIGITS digits, or (``width``) to within that
    width around it (from an earlier answer), whichever is fewer."""
    low, high = sealing.known_digits(value, KNOWN_DIGITS)
    tries = sealing.cells_between(low, high, rel_tol, abs_tol)
    if width is not None:
        tries = min(tries, sealing.cells_between(value - width / 2, value + width / 2,
                                                 rel_tol, abs_tol))
    return max(tries, 1)


def _widths(question: Question, earlier: Question | None) -> list[float] | None:
    """How far a follower's entries are pinned down by the earlier answer known to
    KNOWN_DIGITS digits (an Affine step: |scale| times the earlier entries' spread)."""
    if earlier is None or not isinstance(question.from_earlier, Affine):
        return None
    spreads = []
    for e in sealing._flat(earlier.expected):  # noqa: SLF001
        low, high = sealing.known_digits(e, KNOWN_DIGITS)
        spreads.append(abs(question.from_earlier.scale) * (high - low))
    return spreads


def vector_tries(question: Question, values: Sequence[float],
                 earlier: Question | None = None) -> float:
    """log10 of the guesses that recover a vector sealed whole."""
    widths = _widths(question, earlier)
    total = 0.0
    for i, v in enumerate(values):
        width = widths[i] if widths is not None and i < len(widths) else None
        total += math.log10(_entry_tries(v, question.rel_tol, question.abs_tol, width))
    return total


def judge_question(assignment: str, question: Question, earlier: Question | None = None
                   ) -> tuple[bool, list[Finding]]:
    """Whether ``question``'s value may be sealed, and the findings that say why."""
    def found(what: str, released: str, how: str, tries: float | None = None) -> Finding:
        years = None if tries is None else sealing.search_years(tries)
        return Finding(assignment, question.id, what, released, how, tries, years)

    if question.kind == "expression":
        return False, [found("fingerprint", "public", "values at public points; the grade "
                             "judges at secret ones (fitting earns nothing: test_fitting)")]
    if question.kind == "function":
        hidden = len(question.probes) - question.visible
        if not question.visible:
            return False, [found("outputs", "not sealed", "the probes and the algorithm are "
                                 "public: self-check by properties")]
        return False, [found("visible tests", "sealed", f"results on the {question.visible} "
                             "tests the notebook states, each entry sealed alone: no secret "
                             "(a right function computes them); the grade also runs "
                             f"{hidden} hidden tests, never released, and answering only the "
                             "visible ones earns nothing there")]
    if question.kind == "manual":
        return False, []
    if question.scoring is not None:
        n = len(sealing._flat(question.expected))  # noqa: SLF001
        return False, [found("flags", "withheld", f"{n} flags of 0 or 1",
                             n * math.log10(2))]
    if question.choices:
        return False, [found("choice", "withheld", f"one of {len(question.choices)} answers",
                             math.log10(len(question.choices)))]
    vectors = sealable(question) or []
    names = ["the reference"] + [f"slip {s.id}" for s in question.slips
                                 if getattr(s, "released", True)
                                 and len(sealing._flat(s.answer)) == len(vectors[0])]  # noqa: SLF001
    digits = (f"{len(vectors[0])} entr{'y' if len(vectors[0]) == 1 else 'ies'}, "
              f"{KNOWN_DIGITS} known digits" + (" (or the earlier answer's)"
                                                if _widths(question, earlier) else ""))
    tries = [vector_tries(question, v, earlier) for v in vectors]
    ok = all(sealing.search_years(t) >= BOUND_LOG10_YEARS for t in tries)
    return ok, [found(name, "sealed" if ok else "withheld", digits, t)
                for name, t in zip(names, tries, strict=True)]


def decide(assignment: str, questions: Sequence[Question]
           ) -> tuple[dict[str, bool], list[Finding]]:
    """Per question id: seal it or not; and every finding, in the questions' order."""
    by_id = {q.id: q for q in questions}
    seal: dict[str, bool] = {}
    findings: list[Finding] = []
    for q in questions:
        ok, rows = judge_question(assignment, q, by_id.get(q.follows or ""))
        seal[q.id] = ok
        findings += rows
    return seal, findings


# --- the finished release, read back -------------------------------------------------------

# What a released question may carry besides its public fields (Question.public()).
KNOWN_KEYS = {"fingerprint", "sealed_answer", "self_check", "code"}
# A function's public fields beyond a number's: how many tests are visible, and each visible
# test as the notebook shows it (its probes are public fields of every question).
FUNCTION_KEYS = {"visible", "cases"}


def _entries(entry: Mapping[str, Any]) -> Iterable[Mapping[str, Any]]:
    if "variants" in entry:
        yield from entry["variants"].values()
    else:
        yield entry


def verify(assignment: str, data: Mapping[str, Any], passed: Mapping[str, set[str]]) -> None:
    """Refuse a release with a seal the audit did not pass (``passed``: question id -> the
    variant prefixes sealed with its approval) or a datum the audit does not know."""
    public = set(Question("q", "q", "number", 1, "q").public())
    for qid, entry in data.get("questions", {}).items():
        for released in _entries(entry):
            own = FUNCTION_KEYS if released.get("kind") == "function" else set()
            unknown = set(released) - public - own - KNOWN_KEYS - {"scoring", "rests_on"}
            if unknown:
                raise ReleaseRefused(
                    f"{assignment}/{qid}: {', '.join(sorted(unknown))} in the release is not "
                    "audited (autograder.course.audit knows what a student can do with "
                    "fingerprints and whole-vector seals only); not written")
            code = released.get("code")
            if code is not None:
                _verify_code(assignment, qid, released, code)
            seal = released.get("sealed_answer")
            if seal is not None and seal.get("prefix", "") not in passed.get(qid, set()):
                raise ReleaseRefused(
                    f"{assignment}/{qid}: a seal the audit did not pass (below 10^"
                    f"{BOUND_LOG10_YEARS:g} CPU-core years at {KNOWN_DIGITS} known digits); "
                    "not written")


def _verify_code(assignment: str, qid: str, released: Mapping[str, Any],
                 code: Mapping[str, Any]) -> None:
    """A function's sealed table may hold its visible tests only, and only where the grade
    also runs hidden ones (its credit rests on them: autograder.judge.components.verdict)."""
    if released.get("kind") != "function":
        raise ReleaseRefused(f"{assignment}/{qid}: a table of code results for a "
                             f"{released.get('kind')} question; not written")
    if any(not probe.get("visible") for probe in code.get("probes", ())):
        raise ReleaseRefused(f"{assignment}/{qid}: a hidden test's results are in the release "
                             "(the grade's credit rests on them); not written")
    if code.get("complete", True):
        raise ReleaseRefused(f"{assignment}/{qid}: every test of this function is visible, so "
                             "its grade would rest on results the release seals; give it hidden "
                             "tests; not written")


def report(findings: Sequence[Finding]) -> list[str]:
    """The audit as lines for the terminal: one per datum (the lowest cost over variants)."""
    def cost(f: Finding) -> float:
        return math.inf if f.years_log10 is None else f.years_log10

    lowest: dict[tuple[str, str, str], Finding] = {}
    for f in findings:
        key = (f.assignment, f.question, f.what)
        if key not in lowest or cost(f) < cost(lowest[key]):
            lowest[key] = f
    lines: list[str] = []
    assignment = None
    for f in lowest.values():
        if f.assignment != assignment:
            assignment = f.assignment
            lines.append(f"{assignment}: what a student must search to recover each released "
                         f"datum (released sealed only at 10^{BOUND_LOG10_YEARS:g} CPU-core "
                         f"years or more; {CORE_ITERATIONS_PER_SECOND:.0e} PBKDF2 iterations "
                         "a second a core)")
        lines.append(f.line())
    return lines
