"""The command line, in process with click's CliRunner, on example submissions built from the
source notebooks (right answers, slips derived from the reference, a broken file)."""

from __future__ import annotations

import json
import shutil
import zipfile
from pathlib import Path

import pytest
import sympy
from click.testing import CliRunner

from autograder.cli.commands import main
from autograder.course import examples
from autograder.course.studentkit import build
from autograder.grade.batch import JOURNAL, PARTIAL_DIR
from autograder.grade.submissions import discover
from autograder.judge.checks import DEFAULT_CREDIT
from autograder.rubric.course import ASSIGNMENTS, question, questions
from autograder.run import sandbox
from autograder.student.notebook import SELFCHECK_FILE

ROOT = Path(__file__).resolve().parents[1]
UNSAFE = [] if sandbox.detect() != "none" else ["--allow-unsandboxed"]
BACKPROP = {q.id: q for q in questions("backprop")}
FULL = sum(q.points for q in BACKPROP.values())
W12 = "backprop-dR-dw12"


@pytest.fixture(scope="module")
def subs(tmp_path_factory) -> Path:
    """A folder of three notebooks: right, a sign slip, and a file that is no notebook."""
    folder = tmp_path_factory.mktemp("subs")
    bank = examples.backprop_examples(ROOT / "assignments")
    examples.write({k: bank[k] for k in ("right", "sign-slip", "not-a-notebook")}, folder)
    return folder


def invoke(*args: str):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def student_points(out: Path) -> dict[str, float]:
    data = json.loads((out / "results.json").read_text())
    return {s["student"]: sum(q["points"] for q in s["questions"]) for s in data["submissions"]}


@pytest.fixture(scope="module")
def graded(subs, tmp_path_factory) -> tuple[Path, object]:
    out = tmp_path_factory.mktemp("out")
    return out, invoke("grade", subs, "-a", "backprop", "-o", out, "-j", "2", *UNSAFE)


def test_grade_scores_each_submission_as_the_rubric_says(subs, graded) -> None:
    out, result = graded
    assert result.exit_code == 0, result.output
    got = student_points(out)
    slip = BACKPROP[W12].points * (1 - DEFAULT_CREDIT["sign"])
    assert got["right"] == pytest.approx(FULL)
    assert got["sign-slip"] == pytest.approx(FULL - slip)
    assert got["not-a-notebook"] == 0
    for name in ("results.json", "grades.csv", "junit.xml", "class-report.html",
                 "class-report.md"):
        assert (out / name).is_file()
    assert {p.suffix for p in (out / "feedback").iterdir()} == {".md", ".html"}
    assert "right" in result.output and "sign-slip" in result.output  # the summary table
    n = len(list(subs.iterdir()))  # stderr is no terminal here: the log's closing line
    assert f"graded {n}/{n} (100%)" in result.output, result.output


def test_a_broken_file_is_named_and_the_batch_goes_on(graded) -> None:
    out, _ = graded
    data = json.loads((out / "results.json").read_text())
    broken = next(s for s in data["submissions"] if s["student"] == "not-a-notebook")
    assert broken["status"] == "invalid"
    assert "not-a-notebook.ipynb" in broken["errors"][0]


def test_fail_under_fails_a_low_score(subs, tmp_path) -> None:
    result = invoke("grade", subs / "sign-slip.ipynb", "-a", "backprop", "-o", tmp_path,
                    "--fail-under", "99", "--student", "sam", *UNSAFE)
    assert result.exit_code == 1
    result = invoke("grade", subs / "right.ipynb", "-a", "backprop", "-o", tmp_path / "b",
                    "--fail-under", "99", "--student", "rita", *UNSAFE)
    assert result.exit_code == 0


def test_usage_errors_name_what_is_wrong(subs, tmp_path) -> None:
    result = invoke("grade", subs / "right.ipynb", "-a", "backprop", "-o", tmp_path, *UNSAFE)
    assert result.exit_code == 2 and "--student" in result.output  # whose is it? never guessed
    result = invoke("grade", tmp_path / "nowhere", "-a", "backprop", "-o", tmp_path, *UNSAFE)
    assert result.exit_code == 2 and "nowhere" in result.output
    result = invoke("grade", subs, "-a", "no-such-assignment", "-o", tmp_path, *UNSAFE)
    assert result.exit_code == 2 and "no-such-assignment" in result.output
    result = invoke("grade", subs, "-a", "backprop", "-o", tmp_path, "--shard", "3/2", *UNSAFE)
    assert result.exit_code == 2


def test_shards_merge_into_the_whole_run(subs, graded, tmp_path) -> None:
    whole, _ = graded
    for k in (1, 2):
        result = invoke("grade", subs, "-a", "backprop", "-o", tmp_path / f"s{k}",
                        "--shard", f"{k}/2", *UNSAFE)
        assert result.exit_code == 0, result.output
    parts = [set(student_points(tmp_path / f"s{k}")) for k in (1, 2)]
    assert parts[0] and parts[1] and not parts[0] & parts[1]
    result = invoke("merge", tmp_path / "s1", tmp_path / "s2", "-o", tmp_path / "all")
    assert result.exit_code == 0, result.output
    assert student_points(tmp_path / "all") == student_points(whole)


def test_a_finished_run_leaves_no_partial_results(graded) -> None:
    whole, _ = graded
    assert not (whole / PARTIAL_DIR).exists()
    data = json.loads((whole / "results.json").read_text())
    ran = {s["sandbox"] for s in data["submissions"] if s["status"] == "graded"}
    assert ran == {data["sandbox"]}


def test_resume_keeps_what_an_interrupted_run_finished(subs, graded, tmp_path) -> None:
    whole, _ = graded
    out = tmp_path / "out"
    (data,) = [s for s in json.loads((whole / "results.json").read_text())["submissions"]
               if s["student"] == "right"]
    data["questions"][0]["feedback"] = "marker: kept from the first run"
    (right,) = [s for s in discover([subs], "backprop") if s.student == "right"]
    journal = out / PARTIAL_DIR / JOURNAL
    journal.parent.mkdir(parents=True)
    # what an interrupted run leaves: finished lines, the last one cut short by the crash
    line = json.dumps({"key": right.key, "result": data})
    journal.write_text(line + "\n" + line[: len(line) // 2])
    result = invoke("grade", subs, "-a", "backprop", "-o", out, "--resume", *UNSAFE)
    assert result.exit_code == 0, result.output
    assert "marker: kept from the first run" in (out / "results.json").read_text()


def test_a_zip_export_is_graded(subs, tmp_path) -> None:
    archive = tmp_path / "export.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.write(subs / "right.ipynb", "alice_backprop.ipynb")
        zf.writestr("../evil.ipynb", "{}")
    result = invoke("grade", archive, "-a", "backprop", "-o", tmp_path / "out", *UNSAFE)
    assert result.exit_code == 0, result.output
    assert student_points(tmp_path / "out") == {"alice": pytest.approx(FULL)}
    assert not (tmp_path / "evil.ipynb").exists()


def test_check_gives_feedback_without_the_answer(subs, tmp_path) -> None:
    shutil.copy(subs / "sign-slip.ipynb", tmp_path / "backprop.ipynb")
    shutil.copy(ROOT / "assignments" / "backprop" / SELFCHECK_FILE, tmp_path)
    result = invoke("check", tmp_path / "backprop.ipynb", *UNSAFE)
    assert result.exit_code == 0, result.output
    assert "sign" in result.output.lower()
    for q in BACKPROP.values():
        if q.kind == "expression" and not q.expected.is_Symbol:  # a lone symbol is no leak
            assert sympy.sstr(q.expected) not in result.output


def test_check_without_the_released_file_says_what_is_missing(subs, tmp_path) -> None:
    shutil.copy(subs / "right.ipynb", tmp_path / "backprop.ipynb")
    result = invoke("check", tmp_path / "backprop.ipynb", *UNSAFE)
    assert result.exit_code == 2 and SELFCHECK_FILE in result.output


def test_check_of_a_broken_notebook_says_what_is_wrong_without_a_traceback(tmp_path) -> None:
    (tmp_path / "backprop.ipynb").write_text("{broken", encoding="utf-8")
    shutil.copy(ROOT / "assignments" / "backprop" / SELFCHECK_FILE, tmp_path)
    result = invoke("check", tmp_path / "backprop.ipynb", *UNSAFE)
    assert result.exit_code == 2, result.output
    assert "backprop.ipynb is not valid notebook JSON" in result.output  # not a traceback
    shutil.copy(ROOT / "assignments" / "backprop" / "backprop.ipynb", tmp_path)
    released = json.loads((tmp_path / SELFCHECK_FILE).read_text(encoding="utf-8"))
    (tmp_path / SELFCHECK_FILE).write_text(json.dumps({**released, "assignment": "nonesuch"}),
                                           encoding="utf-8")
    result = invoke("check", tmp_path / "backprop.ipynb", *UNSAFE)
    assert result.exit_code == 2 and "'nonesuch'" in result.output, result.output


def test_the_student_kit_holds_no_answer(tmp_path) -> None:
    wheel = build(tmp_path)
    with zipfile.ZipFile(wheel) as zf:
        names = zf.namelist()
        text = "\n".join(zf.read(n).decode("utf-8", "replace") for n in names)
    assert any(n == "autograder/judge/checks.py" for n in names)
    assert not any(n.startswith("solutions/") for n in names)
    for assignment in ASSIGNMENTS:
        for q in questions(assignment):
            if q.kind == "expression" and not q.expected.is_Symbol:  # a lone symbol is no leak
                assert sympy.sstr(q.expected) not in text, q.id
    assert f"{question(W12).expected}" not in text


def test_demo_grades_the_examples(tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(ROOT)
    result = invoke("demo", "-o", tmp_path)
    assert result.exit_code == 0, result.output
    got = student_points(tmp_path / "report")
    assert got["right"] == pytest.approx(FULL)
    assert got["blank"] == 0 and got["infinite-loop"] == 0
    assert 0 < got["sign-slip"] < FULL
    page = tmp_path / "report" / "class-report.html"
    assert f"class report: {page}" in result.output and page.is_file()


def test_without_a_sandbox_grade_refuses_unless_allowed(subs, tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(sandbox, "detect", lambda: "none")
    result = invoke("grade", subs / "right.ipynb", "-a", "backprop", "-o", tmp_path / "a",
                    "--student", "rita")
    assert result.exit_code == 2
    assert "--allow-unsandboxed" in result.output and not (tmp_path / "a").exists()
    result = invoke("grade", subs / "right.ipynb", "-a", "backprop", "-o", tmp_path / "b",
                    "--allow-unsandboxed", "--student", "rita")
    assert result.exit_code == 0, result.output
    assert "WITHOUT a sandbox" in result.output
    data = json.loads((tmp_path / "b" / "results.json").read_text())
    # detect() is patched here only: the runner still confines, and the record says so
    assert data["sandbox"] == data["submissions"][0]["sandbox"]


def test_the_steps_after_grading_are_a_named_list(tmp_path) -> None:
    """grade and merge finish a run with the same steps, named: hand grades where a gradebook
    is given (it must exist), copying notes where students have their own numbers."""
    from autograder.errors import UsageError
    from autograder.grade.classrun import after_grading

    assert after_grading("backprop", None, varied=False) == []
    assert [name for name, _ in after_grading("backprop", None, varied=True)] == ["copying"]
    with pytest.raises(UsageError, match="no such gradebook"):
        after_grading("backprop", tmp_path / "gradebook.db", varied=False)


def test_check_reads_the_notebook_and_the_released_file_once(subs, tmp_path, monkeypatch
                                                              ) -> None:
    """The typed id, the variant and the run all come from one reading of each file."""
    import os

    from autograder.student import released

    notebook = tmp_path / "backprop.ipynb"
    shutil.copy(subs / "sign-slip.ipynb", notebook)
    shutil.copy(ROOT / "assignments" / "backprop" / SELFCHECK_FILE, tmp_path)
    reads: list[str] = []
    os_open, json_loads = os.open, released.json.loads

    def counting_open(path, *args, **kwargs):
        if Path(path) == notebook:
            reads.append(notebook.name)
        return os_open(path, *args, **kwargs)

    def counting_loads(text, *args, **kwargs):
        reads.append(SELFCHECK_FILE)
        return json_loads(text, *args, **kwargs)

    monkeypatch.setattr(os, "open", counting_open)
    monkeypatch.setattr(released, "json", type("J", (), {"loads": staticmethod(counting_loads)}))
    released._read_before.clear()
    result = invoke("check", notebook, *UNSAFE)
    assert result.exit_code == 0, result.output
    assert sorted(reads) == sorted(["backprop.ipynb", SELFCHECK_FILE]), reads
