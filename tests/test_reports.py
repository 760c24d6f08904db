"""reports: every file a run writes is right, parseable, and safe with hostile student names
and feedback (formula injection, HTML, path traversal, XML-illegal characters)."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import unicodedata
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from autograder.report import reports, text
from autograder.results import STATUSES, GradingRun, QuestionResult, SubmissionResult

# --- a class built by hand -----------------------------------------------------------------

QUESTIONS = (("q1", "Gradient of the loss", 2.0), ("q2", "Chain rule", 2.0),
             ("q3", "Learning rate", 1.0))
INJECTION = "=cmd|' /C calc'!A0"
SCRIPT = "<script>alert(1)</script>"
TRAVERSAL = "../../etc/passwd"
NASTY_FEEDBACK = "Check the sign ]]> of the second term\x00 and <b>this</b> | pipe\nnext line"
TIMEOUT_ERROR = "The notebook ran longer than 10 s and was stopped."


def right(qid: str, title: str, max_points: float) -> QuestionResult:
    return QuestionResult(qid, title, max_points, max_points, True, "Correct.")


def ungraded(qid: str, title: str, max_points: float, why: str) -> QuestionResult:
    return QuestionResult.ungraded(qid, title, max_points, why)


def sub(student: str, questions: tuple[QuestionResult, ...], status: str = "graded",
        errors: tuple[str, ...] = (), source: str | None = None, seconds: float = 3.5
        ) -> SubmissionResult:
    return SubmissionResult(student, "backprop", source or f"submitted/{student}/backprop.ipynb",
                            questions, status, errors, "landlock", seconds)


def all_right(student: str) -> SubmissionResult:
    return sub(student, tuple(right(*q) for q in QUESTIONS))


(Q1, Q2, Q3) = QUESTIONS
ALICE = all_right("alice")
BOB = sub("bob", (
    right(*Q1),
    QuestionResult("q2", "Chain rule", 2.0, 1.5, False, NASTY_FEEDBACK, mistake="sign"),
    ungraded(*Q3, "Not answered: `lr` is not defined after its cell ran."),
))
CAROL = sub("carol", (right(*Q1), ungraded(*Q2, "Not graded: stopped"),
                      ungraded(*Q3, "Not graded: stopped")),
            status="timeout", errors=(TIMEOUT_ERROR,), seconds=10.0)
DAVE = sub("dave", tuple(ungraded(*q, "Not graded: not a notebook") for q in QUESTIONS),
           status="invalid", errors=("not a notebook: Expecting value: line 1 column 1",),
           seconds=0.01)
EVE = all_right(INJECTION)
MALLORY = sub(SCRIPT, (
    right(*Q1),
    QuestionResult("q2", "Chain rule", 2.0, 0.0, False, "You wrote <script>alert(2)</script>"),
    ungraded(*Q3, "<img src=x onerror=alert(3)>"),
), status="crashed", errors=("<script>alert(4)</script>",))
TRUDY = all_right(TRAVERSAL)
ZOE = sub("Zoë Ünicode", (right(*Q1), right(*Q2),
                          QuestionResult("q3", "Learning rate", 1.0, 0.5, False, "Half.",
                                         mistake="constant_factor")))

SUBS = (ALICE, BOB, CAROL, DAVE, EVE, MALLORY, TRUDY, ZOE)
RUN = GradingRun("backprop", "0.1.0", SUBS, seconds=42.5, shard="1/2", sandbox="landlock")


def not_full(q: QuestionResult) -> bool:
    return q.points < q.max_points or q.error is not None


# --- results.json --------------------------------------------------------------------------


def test_results_json_round_trips() -> None:
    text = reports.results_json(RUN)
    data = json.loads(text)
    assert GradingRun.from_dict(data) == RUN
    assert data["version"] == "0.1.0" and data["assignment"] == "backprop"
    assert "Zoë Ünicode" in text  # ensure_ascii=False: names stay readable


def test_results_json_survives_undecodable_names() -> None:
    run = GradingRun("backprop", "0.1.0", (all_right("bad\udcffname"),))
    text = reports.results_json(run)
    text.encode("utf-8")
    assert GradingRun.from_dict(json.loads(text)) == run


# --- Gradescope ----------------------------------------------------------------------------


@pytest.mark.parametrize("result", SUBS, ids=lambda s: s.student)
def test_gradescope_scores_match_the_results(result: SubmissionResult) -> None:
    data = json.loads(json.dumps(reports.gradescope_results(result)))
    assert data["score"] == result.points
    assert data["execution_time"] == pytest.approx(result.seconds)
    assert (data["output_format"], data["visibility"], data["stdout_visibility"]) == (
        "text", "visible", "hidden")
    assert len(data["tests"]) == len(result.questions)
    for number, (test, q) in enumerate(zip(data["tests"], result.questions, strict=True), 1):
        assert test["number"] == str(number)
        assert test["score"] == q.points and test["max_score"] == q.max_points
        assert q.id in test["name"] and q.title in test["name"]
        assert test["status"] == ("failed" if not_full(q) else "passed")
        assert q.feedback in test["output"]
        assert test["visibility"] == "visible"
    assert result.status in data["output"]


def test_gradescope_explains_a_timeout_and_a_mistake() -> None:
    timeout = reports.gradescope_results(CAROL)
    assert TIMEOUT_ERROR in timeout["output"] and "ran out of time" in timeout["output"]
    assert "sign" in reports.gradescope_results(BOB)["tests"][1]["output"]
    assert reports.gradescope_results(ALICE)["score"] == 5.0


# --- grades.csv ----------------------------------------------------------------------------


def parse_csv(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


def test_csv_rows_and_numbers() -> None:
    rows = parse_csv(reports.csv_gradebook(RUN))
    assert rows[0] == ["student", "q1", "q2", "q3", "total", "max", "status"]
    assert len(rows) == 1 + len(SUBS)
    by_student = {row[0]: row for row in rows[1:]}
    bob = by_student["bob"]
    assert [float(c) for c in bob[1:6]] == [2.0, 1.5, 0.0, 3.5, 5.0]
    assert by_student["dave"][-1] == "invalid"
    assert by_student["Zoë Ünicode"][3] == "0.5"


def test_csv_guards_against_formula_injection() -> None:
    run = GradingRun("backprop", "0.1.0", (EVE, all_right("+1+1"), all_right("@SUM(A1)"),
                                           all_right("-2"), all_right("\tx"), ALICE))
    rows = parse_csv(reports.csv_gradebook(run))
    names = [row[0] for row in rows[1:]]
    assert names == ["'" + INJECTION, "'+1+1", "'@SUM(A1)", "'-2", "'\tx", "alice"]
    for row in rows[1:]:
        for cell in row[1:-1]:
            float(cell)  # numbers stay numbers: no quote, no prefix
            assert not cell.startswith("'")


def test_csv_formula_guard_covers_every_text_cell() -> None:
    for row in parse_csv(reports.csv_gradebook(RUN)):
        for cell in row:
            if cell[:1] in ("=", "+", "-", "@", "\t", "\r"):
                float(cell)  # only a number may start like a formula


def test_csv_question_columns_are_the_union_in_order_of_first_appearance() -> None:
    first = sub("a", (right("q1", "One", 1.0), right("q3", "Three", 1.0)))
    second = sub("b", (right("q2", "Two", 1.0), right("q1", "One", 1.0)))
    rows = parse_csv(reports.csv_gradebook(GradingRun("x", "0", (first, second))))
    assert rows[0] == ["student", "q1", "q3", "q2", "total", "max", "status"]
    assert rows[1][1:4] == ["1", "1", ""] and rows[2][1:4] == ["1", "", "1"]


# --- junit.xml -----------------------------------------------------------------------------


def test_junit_parses_and_counts() -> None:
    root = ET.fromstring(reports.junit_xml(RUN).encode("utf-8"))
    failures = sum(not_full(q) for s in SUBS for q in s.questions)
    errors = sum(s.status != "graded" for s in SUBS)
    tests = sum(len(s.questions) for s in SUBS) + errors
    assert root.tag == "testsuites"
    assert (int(root.get("tests")), int(root.get("failures")), int(root.get("errors"))) == (
        tests, failures, errors)
    suites = root.findall("testsuite")
    assert [s.get("name") for s in suites] == [s.student for s in SUBS]
    assert len(root.findall(".//failure")) == failures
    assert len(root.findall(".//error")) == errors
    for suite, result in zip(suites, SUBS, strict=True):
        assert int(suite.get("failures")) == sum(not_full(q) for q in result.questions)
        for case in suite.findall("testcase"):
            assert case.get("classname") == result.student and case.get("time") is not None


def test_junit_failure_text_and_illegal_characters() -> None:
    root = ET.fromstring(reports.junit_xml(RUN).encode("utf-8"))
    bob = next(s for s in root.findall("testsuite") if s.get("name") == "bob")
    q2 = next(c for c in bob.findall("testcase") if c.get("name") == "q2")
    failure = q2.find("failure")
    assert failure is not None
    assert "1.5/2" in failure.text
    assert "]]>" in failure.get("message") and "\x00" not in failure.get("message")
    assert "]]>" in failure.text
    carol = next(s for s in root.findall("testsuite") if s.get("name") == "carol")
    error = carol.find("testcase/error")
    assert error is not None and "timeout" in error.get("message")
    assert TIMEOUT_ERROR in error.text


def test_junit_is_well_formed_with_every_control_character() -> None:
    noise = "".join(chr(i) for i in range(32)) + "]]>\ud800\ufffe"
    run = GradingRun(noise, "0", (sub(noise, (
        QuestionResult("q" + noise, noise, 1.0, 0.0, False, noise, error=noise),),
        status="error", errors=(noise,)),))
    root = ET.fromstring(reports.junit_xml(run).encode("utf-8"))
    assert root.get("errors") == "1" and root.get("failures") == "1"


# --- feedback pages ------------------------------------------------------------------------


class TextAndTags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list) -> None:
        self.tags.append(tag)

    def handle_data(self, data: str) -> None:
        self.text.append(data)


@pytest.mark.parametrize("result", SUBS, ids=lambda s: s.student)
def test_html_escapes_everything_a_student_controls(result: SubmissionResult) -> None:
    page = reports.feedback_html(result)
    assert page.startswith("<!DOCTYPE html>")
    assert "<script" not in page.lower() and "<img" not in page.lower()
    parser = TextAndTags()
    parser.feed(page)
    assert set(parser.tags) <= {"html", "head", "meta", "title", "style", "body", "h1", "p",
                                "strong", "ul", "li", "table", "tr", "th", "td", "br",
                                "code", "pre", "span", "small"}
    text = "".join(parser.text)
    assert "`" not in text, "literal backticks on the feedback page"
    assert result.student in text  # escaped, yet shown as written
    for q in result.questions:
        assert q.title in text


def test_html_shows_mallorys_script_as_text() -> None:
    page = reports.feedback_html(MALLORY)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "&lt;script&gt;alert(4)&lt;/script&gt;" in page


def test_status_line_only_when_not_graded() -> None:
    assert "ran out of time after 10 s" in reports.feedback_markdown(CAROL)
    assert "ran out of time after 10 s" in reports.feedback_html(CAROL)
    assert "could not be read" in reports.feedback_markdown(DAVE)
    for page in (reports.feedback_markdown(ALICE), reports.feedback_html(ALICE)):
        assert "Your notebook" not in page and "5 / 5" in page


def test_markdown_table_cells_stay_in_their_cells() -> None:
    page = reports.feedback_markdown(BOB)
    rows = [line for line in page.splitlines() if line.startswith("| ")]
    assert len(rows) == 2 + len(BOB.questions)
    for row in rows:
        unescaped = re.findall(r"(?<!\\)\|", row)
        assert len(unescaped) == 5, row  # four columns
    assert "1.5/2" in rows[3]
    assert "<b>" not in page  # raw HTML in feedback is escaped


def test_markdown_neutralises_links_and_html_in_names() -> None:
    page = reports.feedback_markdown(sub("[x](javascript:alert(1)) <script>", ALICE.questions))
    assert "<script>" not in page and "](" not in page.replace("\\](", "")


# --- the terminal summary ------------------------------------------------------------------


def test_summary_table_rows_sorted_and_totals() -> None:
    long_name = "x" * 200
    escape = "evil\x1b[2J\nname"
    run = GradingRun("backprop", "0.1.0", (*SUBS, all_right(long_name), all_right(escape)))
    text = reports.summary_table(run)
    lines = text.splitlines()
    assert len(lines) == 2 + len(run.submissions) + 1
    assert max(len(line) for line in lines) <= 100
    assert "\x1b" not in text
    rows = lines[2:-1]
    assert rows[0].startswith(TRAVERSAL)  # "." sorts before letters
    position = {name: next(i for i, r in enumerate(rows) if r.startswith(name + " "))
                for name in ("alice", "bob", "carol", "dave")}
    assert position["alice"] < position["bob"] < position["carol"] < position["dave"]
    assert any(r.startswith("x" * 23 + "…") for r in rows)
    bob = next(r for r in rows if r.startswith("bob "))
    assert "3.5/5" in bob and "2 1.5 0" in bob
    carol = next(r for r in rows if r.startswith("carol "))
    assert "timeout" in carol and "ran longer than 10 s" in carol
    not_graded = sum(s.status != "graded" for s in run.submissions)
    assert lines[-1].startswith(f"{len(run.submissions)} submissions")
    assert f"{not_graded} not graded" in lines[-1]


def test_summary_table_of_nothing() -> None:
    assert "0 submissions" in reports.summary_table(GradingRun("backprop", "0", ()))


# --- safe names ----------------------------------------------------------------------------

TRICKY_KEYS = [
    "alice", "Alice", "ALICE", "a/b", "a_b", "a b", "a\\b", "a:b", "a?b", "a*b", ".", "..",
    "", "_", "...", ".hidden", "_hidden", TRAVERSAL, "..%2f..%2fetc", "/etc/passwd",
    INJECTION, SCRIPT, "con", "CON", "con.txt", "nul", "com1", "lpt9.ipynb", "a.", "a",
    "x" * 80, "x" * 81, "x" * 200, "x" * 201, "ü", "u", "_", unicodedata.normalize("NFC", "é"),
    unicodedata.normalize("NFD", "é"), "名前", "\x00", "a\nb", "bad\udcffname", "alice/b.ipynb",
    "alice/c.ipynb", "bob smith", "bob_smith",
]
SAFE = re.compile(r"[A-Za-z0-9._-]{1,80}")


def assert_safe(name: str) -> None:
    assert SAFE.fullmatch(name), name
    assert not name.startswith(".") and name not in (".", "..")


def test_safe_name_is_injective_even_without_case() -> None:
    keys = list(dict.fromkeys(TRICKY_KEYS))
    keys += [reports.safe_name(k) for k in keys]  # someone picking another's file name
    keys = list(dict.fromkeys(keys))
    names = [reports.safe_name(k) for k in keys]
    for name in names:
        assert_safe(name)
    assert len(set(names)) == len(keys)
    assert len({n.casefold() for n in names}) == len(keys)


def test_safe_name_keeps_plain_names_and_is_safe_to_apply_again() -> None:
    for plain in ("alice", "bob-2", "s123.v2", "jane_doe"):
        assert reports.safe_name(plain) == plain
    for key in TRICKY_KEYS:
        once = reports.safe_name(key)
        assert_safe(reports.safe_name(once))
        assert (reports.safe_name(once) == once) == (once == key)  # fixed point iff plain


@given(st.text(max_size=120), st.text(max_size=120))
def test_safe_name_property(a: str, b: str) -> None:
    assume(a != b)
    assert_safe(reports.safe_name(a))
    assert reports.safe_name(a).casefold() != reports.safe_name(b).casefold()


# --- writing the files ---------------------------------------------------------------------


def all_files(root: Path) -> set[Path]:
    return {Path(d, f) for d, _, files in os.walk(root) for f in files}


def test_write_reports_writes_everything_and_only_inside_out(tmp_path: Path) -> None:
    (tmp_path / "sentinel.txt").write_text("keep")
    before = all_files(tmp_path)
    out = tmp_path / "deep" / "out"
    written = reports.write_reports(RUN, out)
    new = all_files(tmp_path) - before
    assert new == set(written.values())
    assert len(written) == 5 + 3 * len(SUBS)  # results, grades, junit, canvas, moodle
    root = out.resolve()
    for name, path in written.items():
        assert path.resolve().is_relative_to(root)
        assert path.resolve() == root.joinpath(*name.split("/"))
        assert not path.name.startswith(".") and not path.name.endswith(".tmp")
    assert not (tmp_path / "etc").exists() and not (out.parent / "etc").exists()
    assert {p.parent.name for p in new} == {"out", "gradescope", "feedback"}
    assert GradingRun.from_dict(json.loads((out / "results.json").read_text("utf-8"))) == RUN
    for result in SUBS:
        page = out / "feedback" / (reports.safe_name(result.student) + ".html")
        assert page.read_text("utf-8") == reports.feedback_html(result, reports.course_name(),
                                                                reports.today())
        grades = json.loads((out / "gradescope" / (reports.safe_name(result.student) + ".json")
                             ).read_text("utf-8"))
        assert grades["score"] == result.points


def test_write_reports_keeps_two_results_of_one_student_apart(tmp_path: Path) -> None:
    first = sub("alice", ALICE.questions, source="a/alice/backprop.ipynb")
    second = sub("alice", BOB.questions, source="a/alice/backprop_v2.ipynb")
    run = GradingRun("backprop", "0", (first, second, all_right("Alice")))
    written = reports.write_reports(run, tmp_path)
    feedback = sorted(n for n in written if n.startswith("feedback/") and n.endswith(".md"))
    assert len(feedback) == 3
    assert len({n.casefold() for n in feedback}) == 3
    rows = parse_csv(reports.csv_gradebook(run))
    assert len({row[0] for row in rows[1:]}) == 3


def test_write_reports_twice_overwrites_and_leaves_no_temp_files(tmp_path: Path) -> None:
    reports.write_reports(RUN, tmp_path)
    smaller = GradingRun("backprop", "0.1.0", (ALICE,))
    written = reports.write_reports(smaller, tmp_path)
    assert json.loads((tmp_path / "results.json").read_text("utf-8"))["submissions"][0][
        "student"] == "alice"
    assert set(written.values()) <= all_files(tmp_path)
    assert not [p for p in all_files(tmp_path) if p.name.startswith(".")]


def test_write_atomic_creates_folders_and_replaces(tmp_path: Path) -> None:
    target = tmp_path / "a" / "b" / "file.txt"
    reports.write_atomic(target, "first ✓")
    reports.write_atomic(target, "second")
    assert target.read_text("utf-8") == "second"
    assert all_files(tmp_path) == {target}


def test_write_atomic_failure_keeps_the_old_file(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "grades.csv"
    reports.write_atomic(target, "old")

    def broken_replace(src: object, dst: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(reports.os, "replace", broken_replace)
    with pytest.raises(OSError, match="disk full"):
        reports.write_atomic(target, "new")
    assert target.read_text() == "old"
    assert all_files(tmp_path) == {target}


def test_every_status_has_a_sentence() -> None:
    for status in STATUSES:
        result = sub("s", ALICE.questions, status=status)
        assert reports.feedback_markdown(result)
        assert ("Your" in reports.feedback_markdown(result)
                or "grader" in reports.feedback_markdown(result)) == (status != "graded")


# --- the gradebooks' import formats (Canvas, Moodle) ---------------------------------------

# Canvas's documented gradebook import: these columns, in this order, then one per
# assignment; a second row "Points Possible" with each assignment's maximum.
CANVAS_DOCUMENTED = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]


def test_canvas_import_has_the_documented_columns_and_points_possible() -> None:
    from autograder.report import lms

    rows = list(csv.reader(io.StringIO(lms.canvas_csv(RUN))))
    assert rows[0] == [*CANVAS_DOCUMENTED, "backprop"]
    assert rows[1][0] == "Points Possible" and float(rows[1][-1]) == max(
        s.max_points for s in SUBS)
    by_login = {r[3]: r for r in rows[2:]}
    for s in SUBS:
        login = ("'" + s.student) if s.student.startswith("=") else s.student
        assert float(by_login[login][-1]) == pytest.approx(s.points), s.student
        assert len(by_login[login]) == len(rows[0])
    assert not any(cell.startswith("=") for row in rows for cell in row)  # formulas quoted


def test_moodle_import_maps_a_username_a_grade_and_its_feedback() -> None:
    from autograder.report import lms

    rows = list(csv.reader(io.StringIO(lms.moodle_csv(RUN))))
    header, body = rows[0], rows[1:]
    assert header[0] == "Username" and len(header) == 3  # Map from Username to username
    assert header[1].startswith("backprop") and "feedback" in header[2]
    grades = {r[0]: r for r in body}
    assert float(grades["bob"][1]) == pytest.approx(BOB.points)
    assert f"{text.num(BOB.points)}/{text.num(BOB.max_points)}" in grades["bob"][2]
    assert all(re.fullmatch(r"\d+(\.\d+)?", r[1]) for r in body)  # a dot, never a comma


def test_a_grader_error_leaves_the_gradebook_cell_empty() -> None:
    from autograder.report import lms

    failed = sub("erin", tuple(ungraded(*q, "grader error") for q in QUESTIONS),
                 status="error", errors=("grader error",))
    run = GradingRun("backprop", "0", (ALICE, failed))
    canvas = {r[3]: r[-1] for r in csv.reader(io.StringIO(lms.canvas_csv(run)))}
    moodle = {r[0]: r[1] for r in csv.reader(io.StringIO(lms.moodle_csv(run)))}
    assert canvas["erin"] == "" and moodle["erin"] == ""
    assert float(canvas["alice"]) == ALICE.points
