"""Grading against each student's own variant (issue 17), through the real ``backprop-kit
grade`` on a small class: the folder's student sets the references, a notebook made for another
id is flagged, and answers that match another student's numbers show in results.json and in the
class report. Every expected value comes from ``solutions`` through the rubric."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest
from click.testing import CliRunner

from autograder.cli.commands import main
from autograder.rubric.course import questions
from autograder.rubric.variants import student_key, variant_for
from autograder.run import sandbox

UNSAFE = [] if sandbox.detect() != "none" else ["--allow-unsandboxed"]
SEED = "variant-grading-test"
ANSWERED = ("backprop-dR-dw2k-layer1", "backprop-gradient", "backprop-step",
            "backprop-training")


def answers_of(student: str) -> dict[str, object]:
    """The right answers for ``student``'s variant, by variable name, from the rubric."""
    qs = {q.id: q for q in questions("backprop", variant_for("backprop", student, SEED))}
    out: dict[str, object] = {}
    for qid in ANSWERED:
        q = qs[qid]
        out[q.name] = str(q.expected) if q.kind == "expression" else (
            q.expected.tolist() if hasattr(q.expected, "tolist") else q.expected)
    return out


def notebook(answers: dict[str, object], typed: str | None = None) -> nbformat.NotebookNode:
    lines = [f"STUDENT_ID = {typed!r}"] if typed else []
    lines += [f"{name} = {value!r}" for name, value in answers.items()]
    return nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("\n".join(lines))])


@pytest.fixture(scope="module")
def graded(tmp_path_factory) -> tuple[Path, dict]:
    """alice and dave right for themselves; bob hands in alice's notebook (her id and
    numbers); carol types her own id but dave's numbers."""
    root = tmp_path_factory.mktemp("class")
    made = {"alice": notebook(answers_of("alice"), "alice"),
            "bob": notebook(answers_of("alice"), "alice"),
            "carol": notebook(answers_of("dave"), "carol"),
            "dave": notebook(answers_of("dave"))}
    for student, nb in made.items():
        (root / "submitted" / student / "backprop").mkdir(parents=True)
        nbformat.write(nb, root / "submitted" / student / "backprop" / "backprop.ipynb")
    out = root / "out"
    result = CliRunner().invoke(main, ["grade", str(root / "submitted"), "-a", "backprop", "-o",
                                       str(out), "--seed", SEED, *UNSAFE],
                                catch_exceptions=False)
    assert result.exit_code == 0, result.output
    (out / "terminal.txt").write_text(result.output, encoding="utf-8")
    data = json.loads((out / "results.json").read_text(encoding="utf-8"))
    return out, {s["student"]: s for s in data["submissions"]}


def points(sub: dict) -> dict[str, float]:
    return {q["id"]: q["points"] for q in sub["questions"] if q["id"] in ANSWERED}


def test_each_student_is_graded_against_their_own_variant(graded) -> None:
    _, subs = graded
    full = {q.id: q.points for q in questions("backprop") if q.id in ANSWERED}
    for student, sub in subs.items():
        assert sub["variant"] == student_key(student, SEED)
    assert points(subs["alice"]) == full and points(subs["dave"]) == full
    assert points(subs["bob"]) != full and points(subs["carol"]) != full
    assert not subs["alice"]["copying"] and not subs["dave"]["copying"]


def test_a_notebook_made_for_another_id_is_flagged(graded) -> None:
    out, subs = graded
    assert "'alice'" in subs["bob"]["variant_mismatch"]
    assert subs["alice"]["variant_mismatch"] is None
    assert subs["carol"]["variant_mismatch"] is None  # her own id, someone else's numbers
    assert subs["dave"]["variant_mismatch"] is None  # no id typed: nothing to compare
    terminal = (out / "terminal.txt").read_text(encoding="utf-8")  # not only in the report
    (line,) = [line for line in terminal.splitlines() if "STUDENT_ID" in line]
    assert line.strip().startswith("bob:") and "'alice'" in line


def test_one_notebook_graded_by_its_path_is_its_folders_student(graded, tmp_path) -> None:
    """submitted/alice/backprop/backprop.ipynb is Alice's, graded against her numbers (the
    file's name is no student)."""
    out, subs = graded
    notebook_path = out.parent / "submitted" / "alice" / "backprop" / "backprop.ipynb"
    result = CliRunner().invoke(main, ["grade", str(notebook_path), "-a", "backprop", "-o",
                                       str(tmp_path), "--seed", SEED, *UNSAFE],
                                catch_exceptions=False)
    assert result.exit_code == 0, result.output
    (sub,) = json.loads((tmp_path / "results.json").read_text(encoding="utf-8"))["submissions"]
    assert sub["student"] == "alice" and sub["variant"] == student_key("alice", SEED)
    assert points(sub) == points(subs["alice"])


def test_answers_matching_another_students_numbers_are_listed(graded) -> None:
    out, subs = graded
    bob = {(c["question"], c["student"], c["matches"]) for c in subs["bob"]["copying"]}
    assert ("backprop-gradient", "alice", "variant") in bob
    assert ("backprop-training", "alice", "variant") in bob
    carol = {(c["question"], c["student"]) for c in subs["carol"]["copying"]}
    assert ("backprop-gradient", "dave") in carol and ("backprop-step", "dave") in carol
    report = (out / "class-report.md").read_text(encoding="utf-8")
    section = report.split("### Variants")[1]
    assert "bob: The notebook says STUDENT\\_ID = 'alice'" in section
    assert "dave's numbers" in section
    html = (out / "class-report.html").read_text(encoding="utf-8")
    assert "Variants: ids and copying" in html and "alice&#39;s numbers" in html


def test_regrade_judges_each_student_against_their_own_variant(graded, tmp_path) -> None:
    out, subs = graded
    result = CliRunner().invoke(main, ["regrade", str(out / "results.json"), "-o",
                                       str(tmp_path), "--all", "-j", "1"],
                                catch_exceptions=False)
    assert result.exit_code == 0, result.output
    again = {s["student"]: s for s in json.loads(
        (tmp_path / "results.json").read_text(encoding="utf-8"))["submissions"]}
    for student, sub in subs.items():
        assert points(again[student]) == points(sub), student
        assert again[student]["variant"] == sub["variant"]


def test_copying_across_shards_shows_after_merge(graded, tmp_path) -> None:
    """Shards graded apart do not see each other; ``merge`` looks again over the class."""
    out, _ = graded
    data = json.loads((out / "results.json").read_text(encoding="utf-8"))
    for name, students in (("s1", {"alice", "carol"}), ("s2", {"bob", "dave"})):
        shard = dict(data, submissions=[dict(s, copying=[]) for s in data["submissions"]
                                        if s["student"] in students])
        (tmp_path / name).mkdir()
        (tmp_path / name / "results.json").write_text(json.dumps(shard), encoding="utf-8")
    result = CliRunner().invoke(main, ["merge", str(tmp_path / "s1"), str(tmp_path / "s2"),
                                       "-o", str(tmp_path / "all")], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    merged = {s["student"]: s for s in json.loads(
        (tmp_path / "all" / "results.json").read_text(encoding="utf-8"))["submissions"]}
    assert {c["student"] for c in merged["bob"]["copying"]} == {"alice"}
    assert {c["student"] for c in merged["carol"]["copying"]} == {"dave"}


def test_common_values_point_at_no_one() -> None:
    """Zeros, the lecture's own numbers, and a value five other variants share are not listed;
    another variant's own gradient is."""
    from autograder.grade.copying import find_copying
    from autograder.judge import transport
    from autograder.results import GradingRun, QuestionResult, SubmissionResult
    from autograder.rubric.course import variant_questions

    qid = "backprop-gradient"
    keys = {f"s{i}": student_key(f"s{i}", SEED) for i in range(10)}
    expected = {s: next(q.expected for q in variant_questions("backprop", k) if q.id == qid)
                for s, k in keys.items()}
    lecture = next(q.expected for q in questions("backprop") if q.id == qid)
    handed = {"s0": expected["s1"], "s2": 0 * lecture, "s3": lecture,
              **{f"s{i}": 1.7 * lecture for i in range(5, 10)}}  # five share one answer

    def sub(student: str) -> SubmissionResult:
        value = handed.get(student, expected[student])
        right = student not in handed
        result = QuestionResult(qid, "∇R", 3, 3.0 if right else 0.0, right, "",
                                answer=transport.encode(value.tolist()))
        return SubmissionResult(student, "backprop", f"{student}.ipynb", (result,),
                                variant=keys[student])

    run = GradingRun("backprop", "test", tuple(sub(s) for s in keys))
    found = {s.student: [c["student"] for c in s.copying] for s in find_copying(
        run, lambda key: variant_questions("backprop", key)).submissions}
    assert found == {"s0": ["s1"], **{s: [] for s in keys if s != "s0"}}
