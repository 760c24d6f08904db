"""Per-student variants (issue 17): the seed, the key, the lecture's numbers without a seed, and
that every drawn variant keeps its questions meaningful, checked with ``solutions``."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import numpy as np
import pytest

from autograder.rubric import variants as vr
from autograder.rubric.variants import course_seed, student_key, variant_for
from solutions import network as nw
from solutions import optimisation_1d as o1

SEED = "test-seed-2026"
IDS = [f"student{i:03d}" for i in range(200)]


def test_no_seed_gives_the_lectures_numbers() -> None:
    one = variant_for("optimisation-1d", "alice", None)
    assert one.is_lecture and one.key is None
    coefficients = [float(c) for c in o1.F_EXPR.as_poly().all_coeffs()]
    assert one.numbers["f"] == coefficients
    net = variant_for("backprop", "alice", None).numbers
    assert net["theta0"] == nw.THETA0.tolist() and net["data"] == nw.DATA.tolist()
    assert variant_for("backprop", None, SEED).is_lecture  # no id: the instructor's notebook


def test_seed_from_nbgrader_config(tmp_path: Path) -> None:
    assert course_seed(tmp_path) is None
    config = tmp_path / "nbgrader_config.py"
    config.write_text('c = get_config()\nc.CourseDirectory.course_id = "x"\n')
    assert course_seed(tmp_path) is None
    config.write_text('c = get_config()\nc.BackpropKit.variant_seed = "ml2-2026"\n')
    assert course_seed(tmp_path) == "ml2-2026"
    config.write_text('c = get_config()\nc.BackpropKit.variant_seed = open("x").read()\n')
    with pytest.raises(vr.VariantError, match=r"nbgrader_config.py, line 2"):
        course_seed(tmp_path)


def test_the_course_sets_no_seed_yet_or_a_string() -> None:
    seed = course_seed(Path(__file__).parent.parent)
    assert seed is None or isinstance(seed, str)


def test_key_is_stable_and_variants_differ() -> None:
    key = student_key("alice", SEED)
    assert key == student_key(" alice ", SEED) != student_key("alice", SEED + "x")
    assert int(key, 16) and len(key) == 64
    for assignment in vr.ASSIGNMENTS:
        drawn = [variant_for(assignment, sid, SEED) for sid in IDS[:50]]
        assert all(not v.is_lecture for v in drawn)
        texts = {json.dumps(v.numbers, sort_keys=True) for v in drawn}
        assert len(texts) == 50, assignment  # no two of 50 ids share all numbers
        again = variant_for(assignment, IDS[0], SEED)
        assert again == drawn[0]
        assert vr.Variant.from_json(json.loads(json.dumps(again.to_json()))) == again


def test_unknown_assignment_and_empty_id_are_named() -> None:
    with pytest.raises(vr.VariantError, match="nonesuch"):
        variant_for("nonesuch", "alice", SEED)
    with pytest.raises(vr.VariantError, match="empty"):
        variant_for("backprop", "  ", SEED)


def test_student_side_module_imports_no_solutions() -> None:
    tree = ast.parse(Path(vr.__file__).read_text(encoding="utf-8"))
    imported = {alias.name.split(".")[0] for node in ast.walk(tree)
                if isinstance(node, ast.Import) for alias in node.names}
    imported |= {(node.module or "").split(".")[0] for node in ast.walk(tree)
                 if isinstance(node, ast.ImportFrom)}
    assert not imported & {"solutions", "numpy", "sympy"}


# --- every variant keeps its questions meaningful ------------------------------------------


def _quartic(coefficients: list[float]):
    c4, c3, c2, c1, _ = coefficients
    return lambda t: 4 * c4 * t**3 + 3 * c3 * t**2 + 2 * c2 * t + c1


def test_1d_variants_have_two_minima_reached_and_a_step_that_diverges() -> None:
    for sid in IDS:
        n = variant_for("optimisation-1d", sid, SEED).numbers
        df = _quartic(n["f"])
        stationary = np.sort(np.roots([4 * n["f"][0], 3 * n["f"][1], 2 * n["f"][2],
                                       n["f"][3]]).real)
        left, right = (o1.gradient_descent(df, s, n["eta"])[-1] for s in n["starts"])
        assert left == pytest.approx(stationary[0], abs=1e-7), (sid, n)
        assert right == pytest.approx(stationary[2], abs=1e-7), (sid, n)
        away = o1.gradient_descent(df, *n["diverge"])
        assert abs(away[-1]) > 1e6, (sid, n)  # it ran away (the rubric's path says -1)
        c4, c3, c2 = n["f"][:3]
        for x in n["newton_starts"]:  # Newton's step f'/f'' is defined at every start
            assert abs(12 * c4 * x**2 + 6 * c3 * x + 2 * c2) >= 1, (sid, x, n)


def test_2d_variants_start_beside_the_minimum_they_approach() -> None:
    """The graded start lies beside one minimum and the second start beside the other; where
    each path ends, and that the answers spread, is in tests/test_variant_claims.py."""
    for sid in IDS:
        n = variant_for("steepest-descent-2d", sid, SEED).numbers
        _, _, c1, c2 = n["f2"]
        minima = (np.array([c1, 0.0]), np.array([0.0, c2]))

        def nearest(p, minima=minima):
            return min(range(2), key=lambda i: float(np.linalg.norm(np.array(p) - minima[i])))

        assert nearest(n["start"]) != nearest(n["second_start"]), (sid, n)


def test_backprop_variants_step_downhill_and_train() -> None:
    for i, sid in enumerate(IDS[:100]):
        n = variant_for("backprop", sid, SEED).numbers
        theta, data = np.array(n["theta0"]), np.array(n["data"])
        for x1, x2, _ in data:
            fw = nw.forward(theta, x1, x2)
            assert 0.07 < fw.a1_1 < 0.93 and 0.07 < fw.a2_1 < 0.93, (sid, n)
        assert nw.loss(nw.steepest_descent_step(theta, data, n["eta"]), data) < nw.loss(
            theta, data), (sid, n)
        if i < 10:  # training is the slow part
            _, losses = nw.train(theta, data, n["train_eta"], n["train_steps"])
            assert losses[-1] < losses[0], (sid, n)
        j, k, layer = n["other_weight"]  # question 5: always hidden node 2, any input
        assert (j, layer) == (2, 1) and k in (1, 2)


# --- the rubrics build every variant's questions from solutions ------------------------------


def test_lecture_variant_is_the_rubrics_questions() -> None:
    from autograder.rubric import course

    for assignment in vr.ASSIGNMENTS:
        lecture = variant_for(assignment, None, None)
        assert course.questions(assignment, lecture) is course.questions(assignment)


@pytest.mark.parametrize("sid", IDS[:3])
def test_variant_questions_judge_their_own_references(sid: str) -> None:
    """A variant's right answers earn full marks against its questions; the lecture's
    answers, where they differ, do not; a wrong index is named in the variant's symbols."""
    from autograder.rubric import course
    from autograder.rubric.question import judge

    for assignment in vr.ASSIGNMENTS:
        variant = variant_for(assignment, sid, SEED)
        mine = course.questions(assignment, variant)
        assert course.questions(assignment, variant) is mine  # built once per variant
        for q, lecture_q in zip(mine, course.questions(assignment), strict=True):
            assert q.variant == variant.key and q.id == lecture_q.id
            if q.kind == "function":
                continue
            answer = str(q.expected) if q.kind == "expression" else q.expected
            # an answer read off the student's own code is judged with that code (RestsOn)
            code = {q.rests_on.question: q.rests_on.of.expected} if q.rests_on else None
            assert judge(q, answer, earlier=code).correct, (assignment, q.id)
            other = (str(lecture_q.expected) if q.kind == "expression"
                     else lecture_q.expected)
            if str(other) != str(answer):
                assert not judge(q, other, earlier=code).correct, (assignment, q.id)
    n = variant_for("backprop", sid, SEED).numbers
    j, k, _ = n["other_weight"]
    chain = {q.id: q for q in course.questions("backprop", variant_for("backprop", sid, SEED))}
    q = chain["backprop-dR-dw2k-layer1"]
    wrong = f"-2*(y - a1_2)*w1{j}_2*exp(-z{j}_1)*(1 + exp(-z{j}_1))^(-2)*x{3 - k}"
    verdict = judge(q, wrong)
    assert not verdict.correct and f"x{'₁₂'[2 - k]}" in verdict.feedback, verdict


@pytest.mark.parametrize("sid", IDS[3:6])
def test_slips_are_diagnosed_on_every_variant(sid: str) -> None:
    """The usual slips, made on a variant's own numbers, earn the same diagnosis and credit as
    on the lecture's."""
    from autograder.rubric import course
    from autograder.rubric.question import judge

    lecture = {q.id: q for q in course.questions("backprop")}
    mine = {q.id: q for q in course.questions("backprop", variant_for("backprop", sid, SEED))}
    for qs in (lecture, mine):
        mean = judge(qs["backprop-gradient"], (qs["backprop-gradient"].expected / 2).tolist())
        assert (mean.mistake, mean.score) == ("mean_not_sum", 0.5)
        sign = judge(qs["backprop-dR-dw12-layer1"], f"-({qs['backprop-dR-dw12-layer1'].expected})")
        assert sign.mistake == "sign" and not sign.correct
    sd = {q.id: q for q in course.questions("steepest-descent-2d",
                                            variant_for("steepest-descent-2d", sid, SEED))}
    other = judge(sd["sd2d-df-dx1"], str(sd["sd2d-df-dx2"].expected))
    assert other.mistake == "other_partial"
