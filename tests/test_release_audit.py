"""What a determined student gets out of the release (issue 24.1, 23.4).

The attacks are written as a student would write them, with nothing but the released
``selfcheck.json`` and the student kit (``autograder.judge.sealing`` is in it): try both values
of every misprint flag against what the release holds for them (40 hashes broke them before
the audit), bracket ``final_loss`` from a two-digit guess, pick one of the two minima of
steepest-descent-2d; then hand in the released notebook with whatever that gave, through the
real ``backprop-kit grade``, cold. And the audit itself: what ``backprop-kit selfchecks``
prints, that it refuses a weak seal, and what guessing flags earns in expectation.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from autograder.course import audit, examples, release
from autograder.judge import sealing
from autograder.rubric.course import question, questions
from autograder.rubric.question import fingerprint, judge, self_check
from autograder.run import sandbox

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT / "assignments"


def released(assignment: str) -> dict:
    """What a student holds: the selfcheck.json beside the notebook."""
    return json.loads((SOURCE / assignment / "selfcheck.json").read_text())["questions"]


# --- the attacks, with the release and the student kit only ---------------------------------


def _try(entry: dict, index: int, value: float) -> bool:
    """Is ``value`` what the release seals for entry ``index`` of this question? Whichever
    form the release uses: per entry (before the audit) or the answer whole (one entry)."""
    if "sealed" in entry:
        data = entry["sealed"]
        return sealing.matches(value, frozenset(data["entries"][index]),
                               sealing.salt_for(entry["id"], index, data.get("prefix", "")),
                               data["rel_tol"], data["abs_tol"])
    data = entry.get("sealed_answer")
    if data is None or int(data["size"]) != 1:
        return False  # nothing to try one entry against
    return sealing.matches_vector([value], frozenset(data["hashes"]), sealing.vector_salt(
        entry["id"], "reference", data.get("prefix", "")), data["rel_tol"], data["abs_tol"])


def flags_from_release(entry: dict) -> tuple[list[int] | None, int]:
    """Both values of every flag against the release: the flags, if that pins each one down,
    and the hashes it took."""
    size = len(entry["labels"])
    if "sealed_answer" in entry and size <= 16:  # a whole seal: 2^size guesses
        data, tried = entry["sealed_answer"], 0
        salt = sealing.vector_salt(entry["id"], "reference", data.get("prefix", ""))
        for bits in range(2 ** size):
            flags = [(bits >> i) & 1 for i in range(size)]
            tried += 1
            if sealing.matches_vector(flags, frozenset(data["hashes"]), salt, data["rel_tol"],
                                      data["abs_tol"]):
                return flags, tried
        return None, tried
    flags, tried = [], 0
    for i in range(size):
        hits = [v for v in (0, 1) if _try(entry, i, float(v))]
        tried += 2
        if len(hits) != 1:
            return None, tried
        flags.append(hits[0])
    return flags, tried


def number_from_release(entry: dict, low: float, high: float, index: int = 0,
                        budget: int = 40_000) -> float | None:
    """Every grid cell between ``low`` and ``high`` (a student's bracket) against the
    release: the value, if one matches within the budget of hashes."""
    data = entry.get("sealed") or entry.get("sealed_answer")
    if data is None:
        return None
    step = sealing.WIDTH * math.log1p(data["rel_tol"])
    first, last = (math.floor(math.log(abs(b)) / step) for b in (low, high))
    sign = math.copysign(1.0, low)
    for k in range(min(first, last), min(max(first, last), min(first, last) + budget) + 1):
        value = sign * math.exp((k + 0.5) * step)
        if _try(entry, index, value):
            return value
    return None


def two_digits(value: float) -> tuple[float, float]:
    """What a student who knows a positive value to two significant digits brackets it by
    (0.0057486: 0.00565 to 0.00575)."""
    unit = 10.0 ** (math.floor(math.log10(value)) - 1)
    return (round(value / unit) - 0.5) * unit, (round(value / unit) + 0.5) * unit


def minimum_from_release(entry: dict, choices: list[list[float]]) -> list[float] | None:
    """Each of the two points the notebook names against the release."""
    for point in choices:
        if all(_try(entry, i, v) for i, v in enumerate(point)):
            return point
    return None


def test_the_misprint_flags_cannot_be_read_off_the_release() -> None:
    """Issue 24.1: 40 hashes gave the flags. The release now holds nothing for them, and the
    self-check says the same of the right flags as of any others with as many set."""
    entry = released("backprop")["backprop-errata"]
    recovered, tried = flags_from_release(entry)
    assert recovered is None, f"the flags were read off the release in {tried} hashes"
    truth = list(question("backprop-errata").expected)
    shuffled = truth[1:] + truth[:1]
    assert sorted(shuffled) == sorted(truth) and shuffled != truth
    assert self_check(entry, truth).feedback == self_check(entry, shuffled).feedback
    assert not self_check(entry, truth).correct


def test_final_loss_cannot_be_bracketed_from_a_two_digit_guess() -> None:
    """Issue 24.1: a guess to two digits (0.0057) and 5,658-11,600 hashes gave final_loss. The
    release holds no seal of a number now; the self-check answers every candidate alike."""
    entry = released("backprop")["backprop-training"]
    value = float(question("backprop-training").expected)
    low, high = two_digits(value)
    assert number_from_release(entry, low, high) is None
    said = {self_check(entry, v).feedback for v in (value, low, high, (low + high) / 2)}
    assert len(said) == 1


def test_which_minimum_cannot_be_read_off_the_release() -> None:
    entry = released("steepest-descent-2d")["sd2d-minimum"]
    choices = [list(c) for c in question("sd2d-minimum").choices]
    assert minimum_from_release(entry, choices) is None
    assert len({self_check(entry, c).feedback for c in choices}) == 1


def _grade(tmp_path: Path, assignment: str, notebook: dict) -> dict:
    folder = tmp_path / "submitted" / "determined" / assignment
    folder.mkdir(parents=True)
    (folder / f"{assignment}.ipynb").write_text(json.dumps(notebook))
    out = tmp_path / "out"
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
           "BACKPROP_KIT_WARM": "0"}
    subprocess.run([sys.executable, "-m", "autograder.cli", "grade", str(tmp_path / "submitted"),
                    "-a", assignment, "-o", str(out)], check=True, env=env, capture_output=True,
                   timeout=600)
    (student,) = json.loads((out / "results.json").read_text())["submissions"]
    return student


def _key(args: tuple) -> str:
    """A visible test as a table of its results looks it up: its arguments other than the
    test function (the start, the step size, the tolerance, the budget)."""
    return repr([np.asarray(a, dtype=float).tolist() for a in args if not callable(a)])


def visible_results_table(qid: str) -> str:
    """A function that only looks up its results on the visible tests (every entry of them:
    the release seals each one alone, so a student recovers them in seconds; here taken whole
    from the reference, more than any search gives) and returns just its start, or zeros,
    for anything else. No working code at all."""
    q = question(qid)
    table = {_key(p): np.asarray(q.expected(*p), dtype=float).tolist()
             for p in q.probes[:q.visible]}
    fallback = "np.zeros(np.size(start))" if q.project == "identity" else \
        "np.array([np.asarray(start, dtype=float)])"
    return (f"_RESULTS = {table!r}\n\n"
            f"def {q.name}(*args, **kwargs):\n"
            "    key = repr([np.asarray(a, dtype=float).tolist() for a in args if not "
            "callable(a)])\n"
            "    if key in _RESULTS:\n"
            "        return np.array(_RESULTS[key])\n"
            "    start = [a for a in args if not callable(a)][0]\n"
            f"    return {fallback}\n")


@pytest.mark.skipif(sandbox.detect() == "none", reason="grading needs a sandbox here")
@pytest.mark.parametrize("assignment", ["backprop", "optimisation-1d", "steepest-descent-2d"])
def test_a_blank_notebook_plus_what_the_release_gives_scores_nothing(tmp_path: Path,
                                                                     assignment: str) -> None:
    """The released notebook, blank, with every answer the attacks above recover (and, where
    they recover nothing, the student's best guess: no misprint, the right one of the two
    minima by luck), and every function a table of its results on the visible tests (what
    their seals give), graded by the real `backprop-kit grade` in a fresh process: 0 points.
    Before the audit the flags and final_loss gave 5 of 30 on backprop; before a function's
    credit needed a hidden test answered, the tables were judged 3.1 points on optimisation-1d,
    0.7 on backprop and 2 on steepest-descent-2d, whose minimum then counted too (2 more)."""
    data = released(assignment)
    nb = examples.blank(examples.load(SOURCE, assignment))
    for q in questions(assignment):
        if q.kind == "function":
            nb = examples.with_answer(nb, q.id, visible_results_table(q.id))
    if assignment == "backprop":
        flags, _ = flags_from_release(data["backprop-errata"])
        nb = examples.with_answer(nb, "backprop-errata", f"misprints = {flags or [0] * 20}\n")
        value = float(question("backprop-training").expected)
        found = number_from_release(data["backprop-training"], *two_digits(value))
        if found is not None:
            nb = examples.with_answer(nb, "backprop-training", f"final_loss = {found!r}\n")
    elif assignment == "steepest-descent-2d":
        choices = [list(c) for c in question("sd2d-minimum").choices]
        point = minimum_from_release(data["sd2d-minimum"], choices)
        lucky = [float(v) for v in question("sd2d-minimum").expected]  # a guess, one in two
        nb = examples.with_answer(nb, "sd2d-minimum", f"minimum = {point or lucky}\n")
    result = _grade(tmp_path, assignment, nb)
    earned = {q["id"]: q["points"] for q in result["questions"] if q["points"]}
    assert result["status"] == "graded" and not earned, earned


# --- the audit ------------------------------------------------------------------------------


def test_selfchecks_prints_the_audit_and_seals_only_what_passes(tmp_path: Path) -> None:
    from autograder.cli.commands import main

    out = CliRunner().invoke(main, ["selfchecks", "--source", str(tmp_path)])
    assert out.exit_code == 0, out.output
    lines = out.output.splitlines()
    for a in ("backprop", "optimisation-1d", "steepest-descent-2d"):
        for q in questions(a):
            assert any(f" {q.id} " in line for line in lines), q.id
    sealed = [line for line in lines if " sealed " in line and "guesses" in line]
    withheld = [line for line in lines if " withheld " in line and "guesses" in line]
    assert sealed and withheld
    for line in sealed:  # each at the bound or beyond, and said so in figures
        years = float(line.split("guesses, 10^")[1].split(" ")[0])
        assert years >= audit.BOUND_LOG10_YEARS, line
    for qid in ("backprop-errata", "backprop-training", "opt1d-minima", "sd2d-minimum"):
        assert any(f" {qid} " in line for line in withheld), qid
    written = json.loads((tmp_path / "backprop" / "selfcheck.json").read_text())["questions"]
    assert set(written) == {q.id for q in questions("backprop")}
    for qid, entry in written.items():
        assert ("sealed_answer" in entry) == any(f" {qid} " in line for line in sealed), qid


def test_flags_are_what_a_student_tries_in_a_moment() -> None:
    q = question("backprop-errata")
    ok, (finding,) = audit.judge_question("backprop", q)
    assert not ok and finding.tries_log10 == pytest.approx(len(q.expected) * math.log10(2))
    assert finding.years_log10 < -3  # under an hour of one core


def test_a_follower_is_pinned_down_by_the_earlier_answer_too() -> None:
    """θ₀ − η∇R with ∇R known to two digits leaves fewer guesses than two digits of the step."""
    step, gradient = question("backprop-step"), question("backprop-gradient")
    values = list(step.expected)
    assert audit.vector_tries(step, values, gradient) < audit.vector_tries(step, values) - 5


def test_a_release_with_a_weak_seal_is_refused() -> None:
    """The last word is the release read back: a seal of one number (put in by hand, or by a
    change that skips the audit) is refused, and so is any datum the audit does not know."""
    data = release.selfcheck_data("backprop")
    release_ok = json.loads(json.dumps(data))
    sealed = fingerprint(question("backprop-training"), seal=True)
    assert "sealed_answer" in sealed
    data["questions"]["backprop-training"] = sealed
    with pytest.raises(audit.ReleaseRefused, match="backprop-training"):
        audit.verify("backprop", data, {"backprop-gradient": {""}, "backprop-step": {""}})
    release_ok["questions"]["backprop-errata"]["sealed_outputs"] = []
    with pytest.raises(audit.ReleaseRefused, match="not audited"):
        audit.verify("backprop", release_ok, {"backprop-gradient": {""}, "backprop-step": {""}})


def test_a_function_table_holds_visible_tests_only_and_never_all() -> None:
    """A function's sealed table (its visible tests' results, searchable in seconds) is
    released only beside hidden tests the grade keeps: a table holding a hidden test, or one
    for a function with no hidden test (its grade would rest on the table), is refused."""
    data = release.selfcheck_data("optimisation-1d")
    entry = data["questions"]["opt1d-gradient-descent"]
    assert entry["code"]["probes"] and not entry["code"]["complete"]
    audit.verify("optimisation-1d", data, {})
    hidden = json.loads(json.dumps(data))
    hidden["questions"]["opt1d-gradient-descent"]["code"]["probes"][0]["visible"] = False
    with pytest.raises(audit.ReleaseRefused, match="hidden test"):
        audit.verify("optimisation-1d", hidden, {})
    whole = json.loads(json.dumps(data))
    whole["questions"]["opt1d-gradient-descent"]["code"]["complete"] = True
    with pytest.raises(audit.ReleaseRefused, match="every test of this function is visible"):
        audit.verify("optimisation-1d", whole, {})


def test_a_question_below_the_bound_is_withheld_not_sealed(monkeypatch) -> None:
    """Raise the bound past the gradient's cost: it is then withheld, and its self-check
    leaves the value to the grade."""
    monkeypatch.setattr(audit, "BOUND_LOG10_YEARS", 40.0)
    data = release.selfcheck_data("backprop")["questions"]["backprop-gradient"]
    assert "sealed_answer" not in data
    q = question("backprop-gradient")
    assert self_check(data, q.expected).details.get("form_only")


# --- guessing flags and small sets ----------------------------------------------------------


def test_guessing_flags_earns_at_most_one_share_in_n_in_expectation() -> None:
    """For every number k of flags set at random, the exact expectation of the grade (it
    depends only on how many of the k are misprints): at most 1/n of the points, and nothing
    for no flag, every flag or a random half."""
    q = question("backprop-errata")
    truth = [int(v) for v in q.expected]
    n, m = len(truth), sum(truth)
    misprints = [i for i, v in enumerate(truth) if v]
    right = [i for i, v in enumerate(truth) if not v]

    def expected_score(k: int) -> float:
        total = 0.0
        for hits in range(max(0, k - (n - m)), min(k, m) + 1):
            chance = math.comb(m, hits) * math.comb(n - m, k - hits) / math.comb(n, k)
            answer = [0] * n
            for i in (*misprints[:hits], *right[:k - hits]):
                answer[i] = 1
            total += chance * judge(q, answer).score
        return total

    expectations = [expected_score(k) for k in range(n + 1)]
    assert expectations[0] == expectations[n] == 0
    assert expectations[n // 2] < 0.01
    assert max(expectations) <= 1 / n + 1e-6, expectations  # scores are kept to 6 places


def test_a_minimum_without_working_code_earns_nothing() -> None:
    """steepest-descent-2d's minimum is one of two points the notebook names: it counts only
    with the student's own steepest_descent earning half its points (RestsOn)."""
    q = question("sd2d-minimum")
    code = q.rests_on.of
    right = list(q.expected)

    def uphill(grad, x0, eta, tol=1e-10, max_iter=10_000):
        return code.expected(grad, x0, -eta, tol, max_iter)

    assert judge(q, right).score == 0  # no code at all
    assert judge(q, right, earlier={code.id: uphill}).score == 0
    assert judge(q, right, earlier={code.id: code.expected}).score == 1
    other = next(list(c) for c in q.choices if list(c) != right)
    assert judge(q, other, earlier={code.id: code.expected}).score == 0
    # guessing: the expectation over the two points, without the code, is 0
    assert sum(judge(q, list(c)).score for c in q.choices) == 0
    seen = self_check(released("steepest-descent-2d")[q.id], right)
    assert "your own code" in seen.feedback and seen.details.get("form_only")


def test_the_rules_are_rubric_data_released_beside_the_notebook() -> None:
    errata = released("backprop")["backprop-errata"]
    assert errata["scoring"] == {"flags": {"false_alarm": 1.0, "floor": 0.0}}
    minimum = released("steepest-descent-2d")["sd2d-minimum"]
    assert minimum["rests_on"]["question"] == "sd2d-steepest-descent"
    for a in ("backprop", "steepest-descent-2d"):
        text = (SOURCE / a / "selfcheck.json").read_text()
        assert "sealed_outputs" not in text and '"sealed"' not in text
