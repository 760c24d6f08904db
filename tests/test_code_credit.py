"""Code read as a lecturer reads it (issue 23, point 1): a function answer is judged by its
components — where the path starts, the step rule, the stopping rule, the divergence guard; a
finite difference's formula and its nudges — each worth the share its rubric declares, with
the usual slips named, the credit the rubric gives them, and the visible test case where each
shows, as the notebook writes it. The self-check, from the released seals of the visible tests
only, reaches the same verdict, credit and feedback.

The answers below are written as students write them (loops, not the reference's options); the
expected credit is the rubric's own data (its shares and its slips' credit), never typed here.
"""

from __future__ import annotations

import inspect
import itertools
import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from autograder.course import examples
from autograder.rubric.course import question, questions
from autograder.rubric.question import judge, self_check

ROOT = Path(__file__).resolve().parents[1]
INTERNAL_NAMES = re.compile(r"\b(dq|d2q|dg|d2g|df|grad_bowl3?|tilted|wavy|probe\d*)\b")


def released(question_id: str) -> dict:
    assignment = {"opt1d": "optimisation-1d", "sd2d": "steepest-descent-2d"}.get(
        question_id.split("-")[0], question_id.split("-")[0])
    data = json.loads((ROOT / "assignments" / assignment / "selfcheck.json").read_text())
    return data["questions"][question_id]


def credit(question_id: str, *slips: str) -> float:
    """What the rubric gives for these slips: full marks less what each slip costs (1 − the
    credit it keeps alone), never below nothing."""
    by_id = {s.id: s for s in question(question_id).slips}
    assert all(s in by_id for s in slips), slips
    return max(0.0, 1.0 - sum(1.0 - by_id[s].credit for s in slips))


# --- gradient descent, as students write it -------------------------------------------------


def gd_right(df, x0, eta, tol=1e-10, max_iter=10_000):
    path = [float(x0)]
    for _ in range(max_iter):
        x_new = path[-1] - eta * df(path[-1])
        if not np.isfinite(x_new):
            break
        path.append(x_new)
        if abs(x_new) > 1e12:
            break
        if abs(x_new - path[-2]) < tol:
            break
    return np.array(path)


def gd_without_x0(df, x0, eta, tol=1e-10, max_iter=10_000):
    x, path = float(x0), []
    for _ in range(max_iter):
        x_new = x - eta * df(x)
        if not np.isfinite(x_new):
            break
        path.append(x_new)
        if abs(x_new) > 1e12 or abs(x_new - x) < tol:
            break
        x = x_new
    return np.array(path)


def gd_gradient_stop(df, x0, eta, tol=1e-10, max_iter=10_000):
    x, path, i = float(x0), [float(x0)], 0
    while abs(df(x)) >= tol and i < max_iter:
        x = x - eta * df(x)
        path.append(x)
        i += 1
        if not np.isfinite(x) or abs(x) > 1e12:
            break
    return np.array(path)


def gd_step_tested_first(df, x0, eta, tol=1e-10, max_iter=10_000):
    path = [float(x0)]
    for _ in range(max_iter):
        step = eta * df(path[-1])
        if abs(step) < tol:
            break
        x_new = path[-1] - step
        if not np.isfinite(x_new):
            break
        path.append(x_new)
        if abs(x_new) > 1e12:
            break
    return np.array(path)


def gd_one_more(df, x0, eta, tol=1e-10, max_iter=10_000):
    path = [float(x0)]
    for _ in range(max_iter + 1):
        x_new = path[-1] - eta * df(path[-1])
        if not np.isfinite(x_new):
            break
        path.append(x_new)
        if abs(x_new) > 1e12 or abs(x_new - path[-2]) < tol:
            break
    return np.array(path)


def gd_no_tol(df, x0, eta, tol=1e-10, max_iter=10_000):
    path = [float(x0)]
    for _ in range(max_iter):
        x_new = path[-1] - eta * df(path[-1])
        if not np.isfinite(x_new) or abs(x_new) > 1e12:
            break
        path.append(x_new)
    return np.array(path)


def gd_uphill(df, x0, eta, tol=1e-10, max_iter=10_000):
    path = [float(x0)]
    for _ in range(max_iter):
        x_new = path[-1] + eta * df(path[-1])
        if not np.isfinite(x_new):
            break
        path.append(x_new)
        if abs(x_new) > 1e12 or abs(x_new - path[-2]) < tol:
            break
    return np.array(path)


def gd_eta_twice(df, x0, eta, tol=1e-10, max_iter=10_000):
    path = [float(x0)]
    for _ in range(max_iter):
        step = eta * df(path[-1])
        x_new = path[-1] - eta * step
        if not np.isfinite(x_new):
            break
        path.append(x_new)
        if abs(x_new) > 1e12 or abs(x_new - path[-2]) < tol:
            break
    return np.array(path)


def gd_no_guard(df, x0, eta, tol=1e-10, max_iter=10_000):
    path = [float(x0)]
    for _ in range(max_iter):
        path.append(path[-1] - eta * df(path[-1]))
        if abs(path[-1] - path[-2]) < tol:
            break
    return np.array(path)


def gd_without_x0_gradient_stop(df, x0, eta, tol=1e-10, max_iter=10_000):
    return gd_gradient_stop(df, x0, eta, tol, max_iter)[1:]


def gd_end_only(df, x0, eta, tol=1e-10, max_iter=10_000):
    x = x0
    for _ in range(max_iter):
        x_new = x - eta * df(x)
        if not np.isfinite(x_new) or abs(x_new) > 1e12:
            return x_new
        if abs(x_new - x) < tol:
            return x_new
        x = x_new
    return x


GRADIENT_DESCENT = [
    (gd_right, ()),
    (gd_without_x0, ("x0_missing",)),
    (gd_gradient_stop, ("gradient_stop",)),
    (gd_step_tested_first, ("stop_before_step",)),
    (gd_one_more, ("one_step_more",)),
    (gd_no_tol, ("tol_ignored",)),
    (gd_uphill, ("uphill",)),
    (gd_eta_twice, ("eta_twice",)),
    (gd_no_guard, ("no_divergence_guard",)),
    (gd_without_x0_gradient_stop, ("x0_missing", "gradient_stop")),
    (gd_end_only, ("end_only",)),
]


# --- Newton–Raphson -----------------------------------------------------------------------


def nr_right(df, d2f, x0, tol=1e-12, max_iter=100):
    path = [float(x0)]
    for _ in range(max_iter):
        x = path[-1]
        path.append(x - df(x) / d2f(x))
        if abs(path[-1] - x) < tol:
            break
    return np.array(path)


def nr_plus(df, d2f, x0, tol=1e-12, max_iter=100):
    path = [float(x0)]
    for _ in range(max_iter):
        x = path[-1]
        path.append(x + df(x) / d2f(x))
        if abs(path[-1] - x) < tol:
            break
    return np.array(path)


def nr_inverted(df, d2f, x0, tol=1e-12, max_iter=100):
    path = [float(x0)]
    for _ in range(max_iter):
        x = path[-1]
        if df(x) == 0:
            break
        path.append(x - d2f(x) / df(x))
        if abs(path[-1] - x) < tol:
            break
    return np.array(path)


def nr_gradient_stop(df, d2f, x0, tol=1e-12, max_iter=100):
    x, path = float(x0), [float(x0)]
    for _ in range(max_iter):
        if abs(df(x)) < tol:
            break
        x = x - df(x) / d2f(x)
        path.append(x)
    return np.array(path)


def nr_gradient_step(df, d2f, x0, tol=1e-12, max_iter=100):
    path = [float(x0)]
    for _ in range(max_iter):
        x = path[-1]
        path.append(x - df(x))
        if abs(path[-1] - x) < tol:
            break
    return np.array(path)


NEWTON = [
    (nr_right, ()),
    (nr_gradient_step, ("newton_gradient_step",)),
    (nr_plus, ("newton_plus",)),
    (nr_inverted, ("newton_inverted",)),
    (nr_gradient_stop, ("gradient_stop",)),
]


# --- steepest descent ---------------------------------------------------------------------


def sd_right(grad, x0, eta, tol=1e-10, max_iter=10_000):
    path = [np.asarray(x0, dtype=float)]
    for _ in range(max_iter):
        x_new = path[-1] - eta * np.asarray(grad(path[-1]), dtype=float)
        if not np.all(np.isfinite(x_new)):
            break
        path.append(x_new)
        if np.linalg.norm(x_new - path[-2]) < tol:
            break
    return np.array(path)


def sd_without_x0(grad, x0, eta, tol=1e-10, max_iter=10_000):
    return sd_right(grad, x0, eta, tol, max_iter)[1:]


def sd_uphill(grad, x0, eta, tol=1e-10, max_iter=10_000):
    return sd_right(grad, x0, -eta, tol, max_iter)


def sd_two_dimensions_only(grad, x0, eta, tol=1e-10, max_iter=10_000):
    x1, x2 = float(x0[0]), float(x0[1])  # "any length" overlooked
    path = [[x1, x2]]
    for _ in range(max_iter):
        g = grad(np.array([x1, x2]))
        n1, n2 = x1 - eta * g[0], x2 - eta * g[1]
        if not (np.isfinite(n1) and np.isfinite(n2)):
            break
        path.append([n1, n2])
        if np.hypot(n1 - x1, n2 - x2) < tol:
            break
        x1, x2 = n1, n2
    return np.array(path)


def sd_aliased(grad, x0, eta, tol=1e-10, max_iter=10_000):
    x = np.array(x0, dtype=float)
    path = [x]
    for _ in range(max_iter):
        step = eta * np.asarray(grad(x))
        x -= step  # in place: every row of the path is this same array
        if not np.all(np.isfinite(x)):
            break
        path.append(x)
        if np.linalg.norm(step) < tol:
            break
    return np.array(path)


def sd_max_norm(grad, x0, eta, tol=1e-10, max_iter=10_000):
    path = [np.asarray(x0, dtype=float)]
    for _ in range(max_iter):
        x_new = path[-1] - eta * np.asarray(grad(path[-1]), dtype=float)
        if not np.all(np.isfinite(x_new)):
            break
        path.append(x_new)
        if np.max(np.abs(x_new - path[-2])) < tol:
            break
    return np.array(path)


def sd_no_guard(grad, x0, eta, tol=1e-10, max_iter=10_000):
    path = [np.asarray(x0, dtype=float)]
    for _ in range(max_iter):
        x_new = path[-1] - eta * np.asarray(grad(path[-1]), dtype=float)
        path.append(x_new)
        if np.linalg.norm(x_new - path[-2]) < tol:
            break
    return np.array(path)


STEEPEST = [
    (sd_right, ()),
    (sd_max_norm, ()),  # no test tells it from the Euclidean length: a right way here
    (sd_no_guard, ("no_divergence_guard",)),
    (sd_without_x0, ("x0_missing",)),
    (sd_uphill, ("uphill",)),
]


# --- finite differences -------------------------------------------------------------------


def fd_right(loss, theta, h=1e-6):
    theta = np.asarray(theta, dtype=float)
    return np.array([(loss(theta + s) - loss(theta - s)) / (2 * h)
                     for s in np.eye(len(theta)) * h])


def fd_over_h(loss, theta, h=1e-6):
    theta = np.asarray(theta, dtype=float)
    return np.array([(loss(theta + s) - loss(theta - s)) / h for s in np.eye(len(theta)) * h])


def fd_forward(loss, theta, h=1e-6):
    theta = np.asarray(theta, dtype=float)
    return np.array([(loss(theta + s) - loss(theta)) / h for s in np.eye(len(theta)) * h])


def fd_nudges_left(loss, theta, h=1e-6):
    theta = np.array(theta, dtype=float)
    grad = np.zeros_like(theta)
    for k in range(len(theta)):
        theta[k] += h
        up = loss(theta)
        theta[k] -= 2 * h
        down = loss(theta)
        grad[k] = (up - down) / (2 * h)  # theta[k] is never put back
    return grad


def fd_all_at_once(loss, theta, h=1e-6):
    theta = np.array(theta, dtype=float)
    d = (loss(theta + h) - loss(theta - h)) / (2 * h)
    return np.full(len(theta), d)


def fd_backward(loss, theta, h=1e-6):
    theta = np.asarray(theta, dtype=float)
    return np.array([(loss(theta) - loss(theta - s)) / h for s in np.eye(len(theta)) * h])


FINITE = [
    (fd_right, ()),
    (fd_all_at_once, ("all_at_once",)),
    (fd_backward, ("backward_difference",)),
    (fd_over_h, ("divided_by_h",)),
    (fd_forward, ("forward_difference",)),
    (fd_nudges_left, ("nudge_not_undone",)),
]

CASES = [("opt1d-gradient-descent", f, s) for f, s in GRADIENT_DESCENT] + \
        [("opt1d-newton-raphson", f, s) for f, s in NEWTON] + \
        [("sd2d-steepest-descent", f, s) for f, s in STEEPEST] + \
        [("backprop-finite-difference", f, s) for f, s in FINITE]


@pytest.mark.parametrize(("qid", "func", "slips"), CASES,
                         ids=[f"{q}:{f.__name__}" for q, f, _ in CASES])
def test_each_component_and_slip_earns_the_rubrics_credit(qid, func, slips) -> None:
    result = judge(question(qid), func)
    assert result.score == pytest.approx(credit(qid, *slips)), result.feedback
    assert result.correct == (not slips)
    if slips:
        assert result.mistake == slips[0], result.feedback
        assert result.details.get("slips", [result.mistake]) == list(slips)
        assert "It shows on the visible test (" in result.feedback, result.feedback
    assert not INTERNAL_NAMES.search(result.feedback), result.feedback


@pytest.mark.parametrize(("qid", "func", "slips"), CASES,
                         ids=[f"{q}:{f.__name__}" for q, f, _ in CASES])
def test_the_self_check_reaches_the_grades_verdict(qid, func, slips) -> None:
    graded = judge(question(qid), func)
    seen = self_check(released(qid), func)
    assert (seen.correct, seen.score, seen.mistake, seen.feedback) == (
        graded.correct, graded.score, graded.mistake, graded.feedback)
    assert not seen.details.get("unconfirmed") and not seen.details.get("form_only")


def test_the_feedback_names_the_component_and_the_test_as_the_notebook_writes_it() -> None:
    result = judge(question("opt1d-gradient-descent"), gd_without_x0)
    assert "leaves out the start x0" in result.feedback
    assert "q(x) = (x − 3)²; x0 = 0, eta = 0.1" in result.feedback
    result = judge(question("opt1d-gradient-descent"), gd_one_more)
    assert "max_iter" in result.feedback and "max_iter = 50" in result.feedback
    result = judge(question("backprop-finite-difference"), fd_over_h)
    assert "2h" in result.feedback and "L(p) = (p1 − 1)² + 3p2²" in result.feedback


def test_code_that_fails_only_the_hidden_tests_loses_their_share() -> None:
    """Hidden tests (other dimensions) still count: 2-D-only code passes the 2-D tests and
    fails the 3-D ones; the feedback names the first test it fails."""
    q = question("sd2d-steepest-descent")
    result = judge(q, sd_two_dimensions_only)
    three_d = [k for k, p in enumerate(q.probes) if len(p[1]) == 3]
    assert result.score == pytest.approx(1 - len(three_d) / len(q.probes))
    assert "3-D bowl" in result.feedback and "raised" in result.feedback


def test_an_answer_that_is_no_path_is_told_so() -> None:
    def a_string(df, x0, eta, tol=1e-10, max_iter=10_000):
        return "done"

    result = judge(question("opt1d-gradient-descent"), a_string)
    assert result.score == 0 and "returned a str" in result.feedback
    result = judge(question("opt1d-gradient-descent"), gd_end_only)
    assert "returns only where it ends" in result.feedback


# --- every combination of slips: the visible tests tell them apart as all tests do ----------

FUNCTIONS = [q.id for a in ("optimisation-1d", "steepest-descent-2d", "backprop")
             for q in questions(a) if q.kind == "function"]


def _variants(assignment: str, qid: str) -> list:
    """The lecture's numbers, and a student's for a question whose tests use them."""
    from autograder.rubric.variants import variant_for

    lecture = variant_for(assignment, None, None)
    others = [variant_for(assignment, "s000", "code-credit-seed")]
    probes = [next(q for q in questions(assignment, v) if q.id == qid).probes
              for v in (lecture, others[0])]
    return [lecture, *others] if probes[0] != probes[1] else [lecture]


@pytest.mark.parametrize("qid", FUNCTIONS)
def test_every_combination_of_slips_gets_one_verdict_from_grade_and_self_check(qid) -> None:
    """Each combination of the rubric's code slips, run as the reference with their options:
    the grade (all probes, searched lazily), the whole table and the self-check (the release's
    visible probes) give one verdict — for the lecture's numbers and for students' variants."""
    from autograder.judge import components
    from autograder.rubric.question import (
        _code_variants,
        _combo_output,
        code_table,
        fingerprint,
    )

    assignment = {"opt1d": "optimisation-1d", "sd2d": "steepest-descent-2d"}.get(
        qid.split("-")[0], qid.split("-")[0])
    for variant in _variants(assignment, qid):
        q = next(x for x in questions(assignment, variant) if x.id == qid)
        table = code_table(q)
        release = components.Table.from_release(fingerprint(q)["code"])
        _, _, slips, combos = _code_variants(q)
        for combo in combos:
            chosen = [slips[i] for i in combo if slips[i] is not None]
            outputs = [_combo_output(q, k, chosen) for k in range(len(q.probes))]
            lazy = judge(q, None, outputs=outputs)
            whole = components.judge(table, outputs)
            seen = components.judge(release, outputs[:q.visible])
            what = (variant.student_id, [s.id for s in chosen])
            assert (lazy.score, lazy.mistake, lazy.feedback) == (
                whole.score, whole.mistake, whole.feedback), what
            own = all(c in components.fit(p, out, q.rel_tol, q.abs_tol).combos
                      for c, p, out in zip([combos.index(combo)] * len(outputs),
                                           table.probes, outputs, strict=True))
            if not own:  # its output is NaN somewhere, which matches nothing: the self-check
                assert seen.details.get("unconfirmed"), what  # leaves it to the grade
                continue
            assert (seen.score, seen.mistake, seen.feedback, seen.details) == (
                whole.score, whole.mistake, whole.feedback, whole.details), what
            # never less than its slips' credit; more where no test tells it from a kinder
            # reading (uphill on a bowl runs away whatever the stopping rule)
            assert whole.score >= credit(qid, *(s.id for s in chosen)) - 1e-9, what


def test_outputs_recorded_for_other_tests_are_not_judged_again() -> None:
    """results.json keeps a function's outputs with a digest of the probes they answer: a
    regrade after the tests changed says so instead of comparing other tests' results."""
    from autograder.rubric.question import judge_data, question_probes_digest

    q = question("opt1d-gradient-descent")
    outputs = [{"value": 0.0}] * len(q.probes)
    stale = judge_data(q, {"type": "outputs", "outputs": outputs, "probes": "0123"})
    assert stale.invalid and "grade the notebook again" in stale.feedback
    fresh = judge_data(q, {"type": "outputs", "outputs": outputs,
                           "probes": question_probes_digest(q)})
    assert not fresh.invalid


# --- end to end: the real `backprop-kit grade` and `backprop-kit check` ---------------------


def _cell(func, name: str) -> str:
    source = textwrap.dedent(inspect.getsource(func))
    return re.sub(r"^def \w+\(", f"def {name}(", source, count=1)


def _kit(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    from autograder.run import sandbox

    unsafe = [] if sandbox.detect() != "none" else ["--allow-unsandboxed"]
    env = {**os.environ, "BACKPROP_KIT_WARM": "0", "CI": "1"}
    return subprocess.run([sys.executable, "-m", "autograder.cli", *args, *unsafe], cwd=cwd,
                          env=env, capture_output=True, text=True, timeout=600)


@pytest.fixture(scope="module")
def graded_1d(tmp_path_factory) -> tuple[Path, dict]:
    """Two notebooks of optimisation-1d, each with two code slips, graded in one real run."""
    folder = tmp_path_factory.mktemp("code-credit")
    subs, out = folder / "subs", folder / "out"
    source = examples.as_student_copy(examples.load(ROOT / "assignments", "optimisation-1d"))
    answers = {"without-x0-and-plus": (gd_without_x0, nr_plus),
               "gradient-stop-and-inverted": (gd_gradient_stop, nr_inverted)}
    for student, (gd, nr) in answers.items():
        nb = examples.with_answer(source, "opt1d-gradient-descent",
                                  _cell(gd, "gradient_descent"))
        nb = examples.with_answer(nb, "opt1d-newton-raphson", _cell(nr, "newton_raphson"))
        (subs / student).mkdir(parents=True)
        (subs / student / "optimisation-1d.ipynb").write_text(json.dumps(nb), "utf-8")
    result = _kit("grade", str(subs), "-a", "optimisation-1d", "-o", str(out), "-j", "2",
                  cwd=ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    data = json.loads((out / "results.json").read_text())
    return subs, {s["student"]: {q["id"]: q for q in s["questions"]}
                  for s in data["submissions"]}


def test_the_real_grade_credits_each_component(graded_1d) -> None:
    _, results = graded_1d
    expected = {"without-x0-and-plus": (gd_without_x0, nr_plus),
                "gradient-stop-and-inverted": (gd_gradient_stop, nr_inverted)}
    for student, funcs in expected.items():
        for qid, func in zip(("opt1d-gradient-descent", "opt1d-newton-raphson"), funcs,
                             strict=True):
            got = results[student][qid]
            slips = dict(GRADIENT_DESCENT + NEWTON)[func]
            assert got["points"] == pytest.approx(credit(qid, *slips) * question(qid).points)
            assert got["mistake"] == slips[0]
            assert "It shows on the visible test (" in got["feedback"]
            assert not INTERNAL_NAMES.search(got["feedback"]), got["feedback"]


def test_the_real_check_says_what_the_grade_says(graded_1d, tmp_path) -> None:
    subs, results = graded_1d
    shutil.copy(subs / "without-x0-and-plus" / "optimisation-1d.ipynb", tmp_path)
    shutil.copy(ROOT / "assignments" / "optimisation-1d" / "selfcheck.json", tmp_path)
    result = _kit("check", str(tmp_path / "optimisation-1d.ipynb"), cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    for qid in ("opt1d-gradient-descent", "opt1d-newton-raphson"):
        graded = results["without-x0-and-plus"][qid]
        assert graded["feedback"] in result.stdout, (qid, result.stdout)
        assert f"{graded['points']:g}" in result.stdout


# --- the reference's loop variants are the loops students write -----------------------------


def _plain_loop(step, slope, x0, tol, max_iter, stop, guard, norm=abs):
    """A loop written out plainly, as the slips describe it (solutions.iteration.STOPS)."""
    from solutions.iteration import steps_of

    before, after = stop == "before_step", stop not in ("gradient", "no_tol")
    path = [x0]
    with np.errstate(all="ignore"):
        for _ in range(steps_of(max_iter, stop)):
            x = path[-1]
            try:
                if stop == "gradient" and norm(slope(x)) < tol:
                    break
                delta = step(x)
                if delta is None:
                    break
                nxt = x - delta
            except OverflowError:
                if not guard:
                    raise
                break
            if not np.all(np.isfinite(nxt)):
                if guard:
                    break
                if not np.all(np.isfinite(x)):
                    path.append(nxt)
                    break
            if before and norm(nxt - x) < tol:
                break
            path.append(nxt)
            if after and norm(nxt - x) < tol:
                break
    return np.array(path, dtype=float)


def _outcome(run, *args, **options):
    try:
        return run(*args, **options)
    except OverflowError:
        return "OverflowError"


def _scaled(func, scale: float, vector: bool = False):
    if vector:
        return lambda x: scale * np.asarray(func(x))
    return lambda x: scale * float(func(x))


@pytest.mark.parametrize("stop", ["step", "gradient", "before_step", "one_more", "one_fewer",
                                  "no_tol", "no_cap"])
def test_each_loop_variant_walks_as_a_plain_loop(stop) -> None:
    """solutions.iteration cuts one shared walk per stopping rule: the path is exactly a plain
    loop's, for every step rule, with and without the guard, on a quadratic, a quartic that
    overflows and in two dimensions."""
    from solutions import optimisation_1d as o1
    from solutions import steepest_descent as sd

    quartic, q = o1.fprime, (lambda x: 2 * (x - 3))
    for df, x0, eta, step, guard, (tol, cap) in itertools.product(
            (quartic, q), (-2.0, 0.5, 10.0), (0.01, 0.1), o1.DESCENT_STEPS, (True, False),
            ((1e-10, 400), (1e-3, 50))):
        scale = {"descent": eta, "uphill": -eta, "eta_twice": eta * eta, "no_eta": 1.0}[step]
        got = _outcome(o1.gradient_descent, df, x0, eta, tol, cap, step=step, stop=stop,
                       guard=guard)
        want = _outcome(_plain_loop, _scaled(df, scale), df, x0, tol, cap, stop, guard)
        assert got == want if isinstance(want, str) else np.array_equal(
            got, want, equal_nan=True), (stop, step, guard, x0, eta)
    bowl = question("sd2d-steepest-descent").probes[0][0]
    for x0, eta, step in itertools.product(([0.0, 0.0], [3.0, -2.0]), (0.1, 0.5), sd.STEPS):
        scale = {"descent": eta, "uphill": -eta, "eta_twice": eta * eta, "no_eta": 1.0}[step]
        got = sd.steepest_descent(bowl, x0, eta, 1e-10, 400, step=step, stop=stop)
        want = _plain_loop(_scaled(bowl, scale, vector=True), bowl, np.array(x0, dtype=float),
                           1e-10, 400, stop, True, norm=np.linalg.norm)
        assert np.array_equal(got, want, equal_nan=True), (stop, step, x0, eta)
