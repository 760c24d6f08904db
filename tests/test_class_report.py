"""The class report and regrading: item statistics on classes built by hand, answer groups by
equivalence on answers derived from solutions/, a regrade after a rubric change, schema 1
files, the CLI commands, and the page as Chromium shows it."""

from __future__ import annotations

import json
import shutil
import statistics
from dataclasses import replace
from pathlib import Path

import pytest
import sympy
from click.testing import CliRunner

from autograder.cli.commands import main
from autograder.grade.regrade import NotRegradable, regrade
from autograder.judge import transport
from autograder.judge.checks import DEFAULT_CREDIT
from autograder.report import classstats
from autograder.report.answergroups import group_answers
from autograder.report.classreport import HTML_NAME, MARKDOWN_NAME, write_class_report
from autograder.results import GradingRun, QuestionResult, SubmissionResult, score_changes
from autograder.rubric.course import question, questions, rubric
from autograder.run.grader import Grader, Settings

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "test-artifacts"
W12 = "backprop-dR-dw12"
SIGMA = "backprop-sigmoid-derivative"
GRADIENT = "backprop-gradient"


# --- item statistics on a class whose answers are known by construction -------------------


def scored(student: str, points: dict[str, tuple[float, float]], status: str = "graded"
           ) -> SubmissionResult:
    qs = tuple(QuestionResult(qid, qid.upper(), top, got, got == top, "")
               for qid, (got, top) in points.items())
    return SubmissionResult(student, "hand", f"{student}.ipynb", qs, status)


def hand_class(columns: dict[str, tuple[float, list[float]]], extra=()) -> GradingRun:
    n = len(next(iter(columns.values()))[1])
    subs = [scored(f"s{i}", {q: (pts[i], top) for q, (top, pts) in columns.items()})
            for i in range(n)]
    return GradingRun("hand", "0", tuple([*subs, *extra]))


def test_item_statistics_of_a_class_built_by_hand() -> None:
    # qa and qb rank the students the same way, qc everyone gets, qd nobody gets
    late = scored("late", {"qa": (0, 2), "qb": (0, 1), "qc": (0, 1), "qd": (0, 1)}, "timeout")
    run = hand_class({"qa": (2, [2, 2, 2, 0, 0, 0]), "qb": (1, [1, 1, 1, 0, 0, 0]),
                      "qc": (1, [1, 1, 1, 1, 1, 1]), "qd": (1, [0, 0, 0, 0, 0, 0])}, [late])
    items = {i.id: i for i in classstats.item_statistics(run)}
    assert [items[q].facility for q in ("qa", "qb", "qc", "qd")] == [0.5, 0.5, 1.0, 0.0]
    assert items["qa"].discrimination == pytest.approx(1.0)
    assert items["qb"].discrimination == pytest.approx(1.0)
    assert items["qc"].discrimination is None and items["qd"].discrimination is None
    assert items["qa"].note == ""
    assert "Too easy" in items["qc"].note and "Uninformative" in items["qc"].note
    assert "Too hard" in items["qd"].note
    total = classstats.total_distribution(run)  # the timed-out student is left out
    assert total.values == (4, 4, 4, 1, 1, 1)
    assert (total.mean, total.median, total.full_marks_share) == (2.5, 2.5, 0.0)
    assert [s.student for s in classstats.not_graded(run)] == ["late"]


def test_discrimination_is_the_item_rest_correlation() -> None:
    qa, qb = [1, 1, 1, 0, 0, 0], [0, 0, 0, 1, 1, 1]
    items = classstats.item_statistics(hand_class({"qa": (1, qa), "qb": (1, qb)}))
    assert items[0].discrimination == pytest.approx(-1.0)
    assert "Negative discrimination" in items[0].note
    a, b, c = [2, 1, 0, 2, 1, 1, 0], [1, 1, 0, 1, 0, 1, 0], [0, 3, 1, 2, 3, 0, 1]
    items = classstats.item_statistics(hand_class({"a": (2, a), "b": (1, b), "c": (3, c)}))
    rest = [y + z for y, z in zip(b, c, strict=True)]
    assert items[0].discrimination == pytest.approx(statistics.correlation(a, rest))
    assert items[0].facility == pytest.approx(sum(a) / len(a) / 2)


# --- answer groups --------------------------------------------------------------------------


def judged(grader: Grader, qid: str, data_by_student: dict[str, object]) -> list:
    q = question(qid)
    return [(who, grader.judge_answer(q, {"data": data})) for who, data in
            data_by_student.items()]


@pytest.fixture(scope="module")
def grader() -> Grader:
    return Grader("backprop", list(questions("backprop")), Settings())


def test_answers_are_grouped_by_meaning_not_text(grader) -> None:
    e = question(W12).expected
    a1_2 = sympy.Symbol("a1_2", real=True)
    definition = rubric("backprop").OUTPUT_DEFINITIONS["a1_2"]
    right = {
        "typed": {"type": "text", "text": sympy.sstr(e)},
        "expanded": {"type": "text", "text": sympy.sstr(sympy.expand(e))},
        "built": transport.encode(sympy.factor(e)),
        "inlined": {"type": "text", "text": sympy.sstr(e).replace("a1_2", f"({definition})")},
    }
    assert a1_2 in e.free_symbols  # so that "inlined" really differs in text
    slips = {"sign1": {"type": "text", "text": sympy.sstr(-e)},
             "sign2": {"type": "text", "text": sympy.sstr(sympy.expand(-e))},
             "typo": {"type": "text", "text": "a1_2 +* y"}}
    groups = group_answers(judged(grader, W12, {**right, **slips}), question(W12))
    assert [(g.count, g.verdict) for g in groups] == [(4, "right"), (2, "partial"),
                                                     (1, "unreadable")]
    assert set(groups[0].students) == set(right) and groups[0].forms == 4
    assert groups[0].representative in {d.get("text") for d in right.values()} | {
        sympy.sstr(sympy.factor(e))}
    assert groups[1].mistake == "sign" and set(groups[1].students) == {"sign1", "sign2"}
    assert groups[1].points == question(W12).points * DEFAULT_CREDIT["sign"]


def test_a_class_with_variants_is_read_per_variant(grader, tmp_path) -> None:
    """Question 5 asks for ∂R/∂w₂₁⁽¹⁾ or ∂R/∂w₂₂⁽¹⁾: the heading is neutral and lists both; the
    right answers of each variant form one group labelled with it; an answer right for the
    other variant is wrong here and is not grouped with the right ones; the gradient's right
    answers, different numbers for everyone, are one group "each right for its own numbers"."""
    from autograder.report.classreport import build, render_html, render_markdown
    from autograder.rubric.variants import student_key, variant_for

    seed, qid = "report-variants", "backprop-dR-dw2k-layer1"
    by_k: dict[int, list[str]] = {1: [], 2: []}
    for i in range(40):
        sid = f"v{i:02d}"
        by_k[variant_for("backprop", sid, seed).numbers["other_weight"][1]].append(sid)
    students = by_k[1][:2] + by_k[2][:2]  # two asked for w21, two for w22
    mine = {sid: {q.id: q for q in questions("backprop", variant_for("backprop", sid, seed))}
            for sid in students}
    other = {sid: mine[by_k[3 - k][0]][qid].expected for k in by_k for sid in by_k[k][:1]}

    def submission(sid: str, wrong: bool = False) -> SubmissionResult:
        q5, grad = mine[sid][qid], mine[sid][GRADIENT]
        text = sympy.sstr(other[sid] if wrong else q5.expected)
        results = (grader.judge_answer(q5, {"data": {"type": "text", "text": text}}),
                   grader.judge_answer(grad, {"data": transport.encode(grad.expected.tolist())}))
        return SubmissionResult(sid if not wrong else f"{sid}-swapped", "backprop",
                                f"{sid}.ipynb", results, variant=student_key(sid, seed))

    swapped = by_k[1][0]  # hands in the w22 answer while asked for w21
    run = GradingRun("backprop", "test", tuple(
        [submission(s) for s in students] + [submission(swapped, wrong=True)]))
    (section,) = build([run], lambda a: questions(a))
    q5 = next(qs for qs in section.questions if qs.item.id == qid)
    titles = {mine[s][qid].title for s in students}
    assert len(titles) == 2 and q5.item.title not in titles and "…" in q5.item.title
    assert dict(q5.asked) == {mine[by_k[1][0]][qid].title: 3, mine[by_k[2][0]][qid].title: 2}
    right = [g for g in q5.groups if g.verdict == "right"]
    assert {g.asked: set(g.students) for g in right} == {
        mine[by_k[k][0]][qid].title: set(by_k[k][:2]) for k in (1, 2)}
    (wrong,) = [g for g in q5.groups if g.verdict != "right"]
    assert wrong.students == (f"{swapped}-swapped",)
    assert wrong.asked == mine[swapped][qid].title
    gradient = next(qs for qs in section.questions if qs.item.id == GRADIENT)
    (one,) = gradient.groups
    assert one.verdict == "right" and one.count == 5 and one.own_numbers and not gradient.asked
    html, md = render_html([section]), render_markdown([section])
    for text in (html, md):
        assert "Asked per variant" in text and all(t in text for t in titles)
        assert "each right for the student" in text
    (tmp_path / "class-report.html").write_text(html, encoding="utf-8")


def test_numbers_are_grouped_by_rounded_value(grader) -> None:
    g = [float(v) for v in question(GRADIENT).expected]
    data = {"exact": {"type": "array", "value": g},
            "rounded": {"type": "array", "value": [v * (1 + 1e-12) for v in g]},
            "off": {"type": "array", "value": [v + 0.5 for v in g]}}
    groups = group_answers(judged(grader, GRADIENT, data), question(GRADIENT))
    assert [set(x.students) for x in groups] == [{"exact", "rounded"}, {"off"}]
    assert groups[0].verdict == "right" and groups[1].verdict != "right"


def test_a_right_answer_sympy_could_not_confirm_is_listed_for_review(tmp_path) -> None:
    from autograder.results import CheckResult

    numbers_only = CheckResult(True, 1.0, "Correct.", details={"confirmed": False})
    proved = CheckResult(True, 1.0, "Correct.", details={"confirmed": True})
    assert QuestionResult.from_check("q", "Q", 2, numbers_only).review
    assert QuestionResult.from_check("q", "Q", 2, proved).review is None
    data = {"type": "text", "text": "x"}
    results = [("ann", QuestionResult.from_check("q", "Q", 2, numbers_only, answer=data)),
               ("ben", QuestionResult.from_check("q", "Q", 2, proved, answer=data))]
    (group,) = group_answers(results)
    assert group.review_count == 1 and group.count == 2
    stalled = replace(QuestionResult.ungraded("q", "Q", 2, "Not graded: too slow"),
                      review="The answer could not be judged in time.")
    subs = tuple(SubmissionResult(who, "a", f"{who}.ipynb", (r,)) for who, r in
                 [*results, ("cy", stalled)])
    write_class_report([GradingRun("a", "0", subs)], tmp_path)
    page = (tmp_path / HTML_NAME).read_text()
    assert "sympy did not prove it equal" in page and "could not be judged in time" in page


# --- regrading ------------------------------------------------------------------------------


def graded_class(grader: Grader) -> GradingRun:
    """Six students answering ∂R/∂w₁₂⁽²⁾: right, the sign slip, a factor of 2 lost, blank;
    and σ'(v), which all but the blank one get right."""
    e, right_sigma = question(W12).expected, question(SIGMA).expected
    answers = {"ann": e, "ben": -e, "cat": -e, "dan": e / 2, "eve": None,
               "fay": sympy.expand(e)}
    subs = []
    for who, answer in answers.items():
        given = {W12: answer, SIGMA: None if answer is None else right_sigma}
        results = tuple(grader.judge_answer(q, None if given.get(q.id) is None else
                                            {"data": transport.encode(given[q.id])})
                        for q in questions("backprop"))
        subs.append(SubmissionResult(who, "backprop", f"{who}.ipynb", results))
    return GradingRun("backprop", "0", tuple(subs))


def test_regrade_after_a_credit_change_moves_exactly_the_slip(grader) -> None:
    data = graded_class(grader).to_dict()
    ann = next(q for q in data["submissions"][0]["questions"] if q["id"] == SIGMA)
    ann["points"] = 0.0  # not what this rubric gives: shows whether it is judged again
    run = GradingRun.from_dict(json.loads(json.dumps(data)))
    assert run.regradable
    rubric = [replace(q, credit={**q.credit, "sign": 0.1}) if q.id == W12 else q
              for q in questions("backprop")]
    after = regrade(run, rubric)
    changes = {c.student: c for c in score_changes(run, after)}
    points = question(W12).points
    assert set(changes) == {"ben", "cat"}  # ann's σ'(v) was judged by this rubric: kept
    for c in changes.values():
        assert c.delta == pytest.approx(points * (0.1 - DEFAULT_CREDIT["sign"]))
        assert [qid for qid, _, _ in c.questions] == [W12]
    assert regrade(run, list(questions("backprop"))).submissions == run.submissions
    assert regrade(run, rubric, jobs=2).submissions == after.submissions  # in two processes
    everything = {c.student: c for c in score_changes(run, regrade(run, rubric,
                                                                   everything=True))}
    assert set(everything) == {"ann", "ben", "cat"}
    assert everything["ann"].questions == ((SIGMA, 0.0, question(SIGMA).points),)


def test_a_schema_1_file_is_read_but_cannot_be_regraded(grader, tmp_path) -> None:
    data = graded_class(grader).to_dict()
    data["schema_version"] = 1
    for sub in data["submissions"]:
        for q in sub["questions"]:
            for key in ("confirmed", "review", "answer", "rubric_version"):
                del q[key]
    run = GradingRun.from_dict(data)
    assert not run.regradable and run.schema == 1
    assert not GradingRun.from_dict(run.to_dict()).regradable  # written again: still no answers
    with pytest.raises(NotRegradable, match="cannot be regraded"):
        regrade(run, list(questions("backprop")))
    (tmp_path / "old").mkdir()
    (tmp_path / "old" / "results.json").write_text(json.dumps(data))
    result = invoke("regrade", tmp_path / "old", "-o", tmp_path / "new")
    assert result.exit_code == 2 and "cannot be regraded" in result.output
    result = invoke("report", tmp_path / "old", "-o", tmp_path / "rep")
    assert result.exit_code == 0, result.output
    assert "keeps no answers" in (tmp_path / "rep" / HTML_NAME).read_text()


# --- the command line -----------------------------------------------------------------------


def invoke(*args: object):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def test_cli_regrade_reports_who_changed(grader, tmp_path) -> None:
    run = graded_class(grader)
    data = run.to_dict()
    ben = next(s for s in data["submissions"] if s["student"] == "ben")
    q = next(q for q in ben["questions"] if q["id"] == W12)
    q["points"] = question(W12).points  # as an older, more generous rubric had it
    q["rubric_version"] = "an older rubric"
    (tmp_path / "results.json").write_text(json.dumps(data))
    result = invoke("regrade", tmp_path / "results.json", "-o", tmp_path / "out")
    assert result.exit_code == 0, result.output
    lost = question(W12).points * (1 - DEFAULT_CREDIT["sign"])
    assert "1 of 6 submissions changed" in result.output
    line = next(x for x in result.output.splitlines() if x.startswith("ben"))
    assert f"{-lost:+g}" in line and W12 in line
    rows = (tmp_path / "out" / "regrade.csv").read_text().splitlines()
    assert len(rows) == 2 and rows[1].startswith("ben,")
    again = GradingRun.read(tmp_path / "out")
    assert again.regradable and (tmp_path / "out" / HTML_NAME).is_file()


def test_cli_report_puts_several_assignments_on_one_page(grader, tmp_path) -> None:
    backprop = graded_class(grader)
    hand = hand_class({"qa": (1, [1, 0, 1, 0, 1])})
    for name, run in (("a", backprop), ("b", hand)):
        (tmp_path / name).mkdir()
        (tmp_path / name / "results.json").write_text(json.dumps(run.to_dict()))
    result = invoke("report", tmp_path / "a" / "results.json", tmp_path / "b",
                    "-o", tmp_path / "out")
    assert result.exit_code == 0, result.output
    page = (tmp_path / "out" / HTML_NAME).read_text()
    assert 'id="a-1"' in page and 'id="a-2"' in page and "hand" in page
    summary = (tmp_path / "out" / MARKDOWN_NAME).read_text()
    assert "## backprop" in summary and "## hand" in summary and "sign: 2" in summary
    result = invoke("report", tmp_path / "nowhere.json", "-o", tmp_path / "x")
    assert result.exit_code == 2 and "nowhere.json" in result.output


def test_hostile_names_and_answers_are_escaped(tmp_path) -> None:
    data = {"type": "text", "text": "<script>alert(1)</script>`\n# heading"}
    bad = QuestionResult("q", "<b>Q</b>", 1, 0, False, "<img src=x onerror=alert(2)>",
                         invalid=True, answer=data)
    sub = SubmissionResult("<script>alert(3)</script>", "hostile", "x.ipynb", (bad,),
                           "crashed", ("<iframe>",))
    write_class_report([GradingRun("hostile", "0", (sub,))], tmp_path)
    page = (tmp_path / HTML_NAME).read_text()
    for raw in ("<script>", "<img src=x", "<iframe>", "<b>Q"):
        assert raw not in page
    assert "&lt;script&gt;alert(1)" in page
    summary = (tmp_path / MARKDOWN_NAME).read_text()
    assert not any(line.startswith("# heading") for line in summary.splitlines())
    assert "<script>alert(3)" not in summary  # a student's name is escaped


# --- in a real browser ----------------------------------------------------------------------

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


def test_chromium_shows_the_plots_and_the_groups(grader, tmp_path) -> None:
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} not found: install Debian's chromium (apt-get install chromium)")
    sync_playwright = pytest.importorskip("playwright.sync_api").sync_playwright
    write_class_report([graded_class(grader)], tmp_path, lambda _: questions("backprop"))
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.goto((tmp_path / HTML_NAME).as_uri())
            plots = page.locator("img.plot")
            assert plots.count() == 2  # the totals' histogram, the points per question
            sizes = page.evaluate("Array.from(document.querySelectorAll('img.plot'))"
                                  ".map(i => [i.complete, i.naturalWidth, i.clientHeight])")
            assert all(done and width > 100 and height > 50 for done, width, height in sizes)
            rows = page.locator("table.groups tr.group")
            assert rows.count() >= 3  # right, sign slip, constant factor on dR/dw12
            assert rows.first.is_visible()
            first = rows.first.inner_text()
            assert "right" in first  # ann and fay: the largest group with the sign slip
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "class-report.png"), full_page=True)
        finally:
            browser.close()
    shutil.copy(tmp_path / HTML_NAME, ARTIFACTS / HTML_NAME)


# --- a large class, read fast ---------------------------------------------------------------


def test_answers_typed_with_other_spacing_are_read_once_and_alike() -> None:
    from autograder.errors import ParseError
    from autograder.grade.regrade import WorkKeys
    from autograder.judge.parsing import to_expression
    from autograder.rubric.reading import Reader

    q = question(W12)
    names = (*q.variables, *q.definitions)
    typed = sympy.sstr(q.expected)
    spaced = typed.replace("*", " * ").replace("(", "( ")
    assert spaced != typed
    reader = Reader(names)
    assert reader.expression(spaced) is reader.expression(typed)  # parsed once
    assert reader.expression(spaced) == to_expression(typed, names)

    def error(read, text: str) -> str | None:
        try:
            read(text)
        except ParseError as e:
            return str(e)
        return None

    said = [error(reader.expression, bad) for bad in ("a1_2 +* y", "a1_2   +  *   y")]
    assert said == [error(lambda t: to_expression(t, names), bad)
                    for bad in ("a1_2 +* y", "a1_2   +  *   y")]
    assert None not in said and said[0] != said[1]  # one token sequence, each text's own place
    keys = WorkKeys()
    text = {"type": "text", "text": typed}
    assert keys.key(q, text) == keys.key(q, {"type": "text", "text": spaced}) \
        == "form:" + sympy.srepr(to_expression(typed, names))
    assert keys.key(q, {"type": "text", "text": "a1_2 +* y"}).startswith("data:")


def test_a_large_class_is_grouped_in_processes_alike(grader, monkeypatch) -> None:
    from autograder.report import classreport

    run = graded_class(grader)
    monkeypatch.setattr(classreport, "PARALLEL_FROM", 1)
    rubric = list(questions("backprop"))
    alone, forked = (classreport.build([run], lambda _: rubric, jobs) for jobs in (1, 2))
    assert forked[0].questions == alone[0].questions
    assert any(qs.groups for qs in forked[0].questions)
