"""The grading steps one at a time: answers as data (transport), reading a notebook, planning
its cells, finding submissions, sharding, and judging what comes back from a child."""

from __future__ import annotations

import json
import os
import zipfile
from pathlib import Path

import numpy as np
import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st

from autograder.errors import ParseError, UsageError
from autograder.grade.submissions import discover, shard
from autograder.judge import transport
from autograder.judge.parsing import make_symbol
from autograder.results import CheckResult
from autograder.rubric.course import question, questions
from autograder.run.capture import cells_from_notebook
from autograder.run.grader import Grader, Settings
from autograder.run.notebooks import InvalidNotebook, Submission, plan_job, read_notebook

ROOT = Path(__file__).resolve().parents[1]
NB = {"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": []}


def code_cell(source: str, grade_id: str | None = None, grade: bool = False,
              solution: bool = False) -> dict:
    meta = {"nbgrader": {"grade_id": grade_id, "grade": grade, "solution": solution}} \
        if grade_id else {}
    return {"cell_type": "code", "metadata": meta, "source": source, "outputs": [],
            "execution_count": None}


# --- transport -----------------------------------------------------------------------------

def test_a_sympy_answer_travels_as_a_tree_and_comes_back_real() -> None:
    y, a = sympy.symbols("y a")  # a student's symbols: not real
    answer = -2 * (y - a) * sympy.exp(-a) / (1 + sympy.exp(-a)) ** 2 + sympy.pi / 3
    data = json.loads(json.dumps(transport.encode(answer)))
    back = transport.decode(data)
    real = {y: make_symbol("y"), a: make_symbol("a")}
    assert sympy.simplify(back - answer.xreplace(real)) == 0
    assert all(s.is_real for s in back.free_symbols)


@pytest.mark.parametrize(("value", "expected"), [
    ("x^2", "x^2"), (2.5, 2.5), (np.float64(-1.5), -1.5), (3, 3.0),
    ([1, [2.0, 3]], [1.0, 2.0, 3.0]), (np.array([[1.0, 2.0], [3.0, 4.0]]), [1.0, 2.0, 3.0, 4.0]),
])
def test_plain_values_travel_as_they_are(value, expected) -> None:
    assert transport.decode(json.loads(json.dumps(transport.encode(value)))) == expected


class AlwaysEqual:
    def __eq__(self, other: object) -> bool:
        return True

    def __float__(self) -> float:
        raise RuntimeError("no")


@pytest.mark.parametrize("value", [
    AlwaysEqual(), None, True, {"a": 1}, sympy.Eq(sympy.Symbol("x"), 1),
    sympy.Integral(sympy.Symbol("x"), sympy.Symbol("x")), [1, "two"], print,
])
def test_what_is_not_an_answer_arrives_as_unsupported(value) -> None:
    data = transport.encode(value)
    assert data["type"] == "unsupported"
    with pytest.raises(ParseError):
        transport.decode(data)


@pytest.mark.parametrize("data", [
    None, [], "x", {"type": "expr", "tree": {"op": "__import__", "args": []}},
    {"type": "expr", "tree": {"int": "12abc"}}, {"type": "expr", "tree": {"int": "9" * 500}},
    {"type": "expr", "tree": {"op": "Pow", "args": [{"int": "9"}, {"int": "999999"}]}},
    {"type": "expr", "tree": {"rat": ["1"]}}, {"type": "number", "value": "lots"},
    {"type": "array", "value": [1, None]}, {"type": "expr", "tree": {"const": "oo"}},
    {"type": "expr", "tree": {"sym": "x", "int": "1", "op": "Add"}},
])
def test_forged_data_is_refused_with_a_parse_error(data) -> None:
    with pytest.raises(ParseError):
        transport.decode(data)


def test_deeply_nested_data_is_refused() -> None:
    tree: dict = {"sym": "x"}
    for _ in range(200):
        tree = {"op": "Add", "args": [tree, {"int": "1"}]}
    with pytest.raises(ParseError, match="nested"):
        transport.decode({"type": "expr", "tree": tree})


@settings(max_examples=200, deadline=None)
@given(st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
                    lambda inner: st.lists(inner) | st.dictionaries(st.text(), inner),
                    max_leaves=30))
def test_arbitrary_json_never_breaks_decode(data) -> None:
    try:
        transport.decode(data)
    except ParseError:
        pass


# --- reading and planning a notebook --------------------------------------------------------

@pytest.mark.parametrize(("content", "message"), [
    ('{"cells": [ oops', "not valid notebook JSON: Expecting value at line 1, column 13"),
    (b"\xff\xfe{}", "not UTF-8 text (byte 0)"),
    ('{"nbformat": 4}', "JSON but not a notebook"),
    ('{"nbformat": 3, "cells": []}', "not an nbformat 4 notebook"),
])
def test_a_broken_notebook_is_named_with_what_is_wrong(tmp_path, content, message) -> None:
    path = tmp_path / "alice.ipynb"
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    with pytest.raises(InvalidNotebook) as error:
        read_notebook(path)
    assert "alice.ipynb" in str(error.value) and message in str(error.value)


def test_answers_are_captured_after_their_own_cell_and_tests_are_not_run() -> None:
    nb = {**NB, "cells": [
        code_cell("x = 1"),
        code_cell("ans = 'a'", "q1-answer", solution=True),
        code_cell("check('q1', ans)", "q1", grade=True),
        code_cell("ans = 'changed'"),
    ]}
    cells = cells_from_notebook(nb, {"q1-answer": "ans", "q2-answer": "other"})
    assert [c.source for c in cells] == ["x = 1", "ans = 'a'", "ans = 'changed'", ""]
    assert cells[1].capture == ("ans",) and cells[3].capture == ("other",)


def test_plan_job_probes_function_questions() -> None:
    qs = questions("optimisation-1d")
    job = plan_job({**NB}, qs)
    functions = {q.name for q in qs if q.kind == "function"}
    assert set(job.probes) == functions
    assert json.loads(json.dumps(job.to_json()))  # plain data for the runner's pipe


# --- finding submissions ------------------------------------------------------------------------

def write_nb(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(NB))
    return path


def test_discover_reads_an_nbgrader_tree_folders_files_and_zips(tmp_path) -> None:
    write_nb(tmp_path / "course" / "submitted" / "bob" / "backprop" / "backprop.ipynb")
    write_nb(tmp_path / "course" / "submitted" / "carol" / "other" / "other.ipynb")
    write_nb(tmp_path / "loose" / "dave_backprop.ipynb")
    single = write_nb(tmp_path / "x" / "submitted" / "erin" / "backprop" / "backprop.ipynb")
    archive = tmp_path / "export.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("frank_backprop.ipynb", json.dumps(NB))
        zf.writestr("../../escape.ipynb", json.dumps(NB))
        zf.writestr("/abs.ipynb", json.dumps(NB))
    subs = discover([tmp_path / "course", tmp_path / "loose", single, archive], "backprop")
    assert [s.student for s in subs] == ["bob", "dave", "erin", "frank"]
    assert not (tmp_path.parent / "escape.ipynb").exists()


def test_a_single_notebook_is_named_by_nbgrader_layout_or_by_student(tmp_path) -> None:
    """Identity is never guessed from a file's name: nbgrader's submitted/<student>/<a>/ in
    the path names the student (the file is not the student), else --student must."""
    nb = write_nb(tmp_path / "submitted" / "alice" / "backprop" / "backprop.ipynb")
    (sub,) = discover([nb], "backprop")
    assert (sub.student, sub.folder) == ("alice", nb.parent)
    graded = write_nb(tmp_path / "autograded" / "bob" / "backprop" / "mine.ipynb")
    assert [s.student for s in discover([graded], "backprop")] == ["bob"]
    loose = write_nb(tmp_path / "downloads" / "backprop.ipynb")
    with pytest.raises(UsageError, match="--student"):
        discover([loose], "backprop")
    assert [s.student for s in discover([loose], "backprop", student="carol")] == ["carol"]
    with pytest.raises(UsageError, match="'alice'.*'mallory'"):
        discover([nb], "backprop", student="mallory")
    with pytest.raises(UsageError, match="one notebook"):
        discover([tmp_path / "submitted"], "backprop", student="carol")


def test_two_notebooks_of_one_student_are_an_error_for_both(tmp_path) -> None:
    write_nb(tmp_path / "a" / "sam.ipynb")
    write_nb(tmp_path / "b" / "sam.ipynb")
    write_nb(tmp_path / "c" / "aa-honest.ipynb")
    write_nb(tmp_path / "c" / "aa-honest-backprop.ipynb")
    subs = discover([tmp_path / "a", tmp_path / "b", tmp_path / "c"], "backprop")
    assert [s.student for s in subs] == ["aa-honest", "aa-honest", "sam", "sam"]
    assert all(s.problem and "2 submissions map to the student" in s.problem for s in subs)
    assert len({s.key for s in subs}) == 4


def test_a_students_folder_names_the_student_never_the_file(tmp_path) -> None:
    """A Moodle export has a folder per student: Mallory's file named after Alice is
    Mallory's; a plain folder per student works the same way."""
    archive = tmp_path / "moodle.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("Alice Honest_12345_assignsubmission_file_/backprop.ipynb", json.dumps(NB))
        zf.writestr("Mallory Evil_666_assignsubmission_file_/Alice Honest_backprop.ipynb",
                    json.dumps(NB))
    write_nb(tmp_path / "plain" / "zoe" / "whatever.ipynb")
    unpacked: list[Path] = []
    subs = discover([archive, tmp_path / "plain"], "backprop", unpacked=unpacked)
    assert [(s.student, s.problem) for s in subs] == [
        ("Alice Honest_12345", None), ("Mallory Evil_666", None), ("zoe", None)]
    assert subs[1].notebook.name == "Alice Honest_backprop.ipynb"
    assert len(unpacked) == 1 and subs[0].notebook.is_relative_to(unpacked[0])


def test_discover_names_a_missing_path(tmp_path) -> None:
    with pytest.raises(UsageError, match="nowhere"):
        discover([tmp_path / "nowhere"], "backprop")


def test_shards_partition_the_class() -> None:
    subs = [Submission(f"s{i}", Path(f"s{i}.ipynb")) for i in range(11)]
    parts = [shard(subs, f"{k}/3") for k in (1, 2, 3)]
    assert sorted(s.student for p in parts for s in p) == sorted(s.student for s in subs)
    assert all(len(p) in (3, 4) for p in parts)
    for bad in ("0/3", "4/3", "1-3", "a/b"):
        with pytest.raises(UsageError):
            shard(subs, bad)


# --- judging what comes back -----------------------------------------------------------------

class CountingJudge:
    """The judge a Grader is given, counting its calls (the verdict cache must spare some)."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, q, answer, outputs, earlier=None) -> CheckResult:
        self.calls += 1
        from autograder.rubric.question import judge

        return judge(q, answer, outputs=outputs)


def test_judge_answer_says_why_an_answer_is_not_graded() -> None:
    q = question("backprop-dR-dw12")
    grader = Grader("backprop", [q], Settings(), judge=CountingJudge())
    assert "stopped before" in grader.judge_answer(q, None).feedback
    assert "not defined" in grader.judge_answer(q, {"missing": True}).feedback
    forged = grader.judge_answer(q, {"data": {"type": "expr", "tree": {"op": "eval"}}})
    assert forged.invalid and forged.points == 0


def test_identical_answers_are_judged_once() -> None:
    q = question("backprop-dR-dw12")
    judge = CountingJudge()
    grader = Grader("backprop", [q], Settings(), judge=judge)
    message = {"data": {"type": "text", "text": "-2*(y - a1_2)*a2_1"}}
    results = [grader.judge_answer(q, message) for _ in range(3)]
    assert judge.calls == 1
    assert all(r.points == q.points for r in results)


def test_judging_one_answer_is_bounded_and_listed_for_review() -> None:
    q = question("backprop-dR-dw12")

    def endless(question, answer, outputs, earlier=None):
        while True:
            pass

    grader = Grader("backprop", [q], Settings(judge_seconds=0.2), judge=endless)
    message = {"data": {"type": "text", "text": "-2*(y - a1_2)*a2_1"}}
    result = grader.judge_answer(q, message)
    assert result.points == 0 and "could not be judged in time" in result.review
    assert grader.judge_answer(q, message) == result  # not judged again


def test_judging_one_answer_is_bounded_in_memory() -> None:
    """An answer whose judging allocates without end gets a MemoryError of its own, listed
    for review; the grader's limit is back to what it was afterwards."""
    import resource

    q = question("backprop-dR-dw12")

    def hungry(question, answer, outputs, earlier=None):
        return bytearray(8 << 30)  # 8 GiB: past the box, far below this machine's memory

    before = resource.getrlimit(resource.RLIMIT_AS)
    grader = Grader("backprop", [q], Settings(), judge=hungry)
    result = grader.judge_answer(q, {"data": {"type": "text", "text": "x"}})
    assert "could not be judged (MemoryError)" in result.review and result.points == 0
    assert resource.getrlimit(resource.RLIMIT_AS) == before
    assert len(bytearray(64 << 20)) == 64 << 20  # and the grader goes on allocating


def test_an_exception_while_judging_is_that_answers_result() -> None:
    q = question("backprop-dR-dw12")

    def broken(question, answer, outputs, earlier=None):
        raise RecursionError("deep")

    grader = Grader("backprop", [q], Settings(), judge=broken)
    result = grader.judge_answer(q, {"data": {"type": "text", "text": "x"}})
    assert "could not be judged (RecursionError)" in result.review and result.points == 0


@pytest.mark.parametrize(("content", "message"), [
    ('{"nbformat": 4, "cells": [1]}', "cell 1 is a int, not a cell"),
    ('{"nbformat": 4, "cells": [{"cell_type": "code", "source": "", "metadata": '
     '{"nbgrader": {"grade_id": ["x"]}}}]}', "cell 1: its grade_id is a list"),
    ('{"nbformat": 4, "cells": [], "x": ' + "[" * 50_000 + "]" * 50_000 + "}",
     "nested too deeply"),
    ('{"nbformat": 4, "cells": [], "x": ' + "9" * 5000 + "}", "not valid notebook JSON"),
])
def test_input_that_crashed_the_batch_is_an_invalid_notebook(tmp_path, content, message) -> None:
    path = tmp_path / "mallory.ipynb"
    path.write_text(content)
    with pytest.raises(InvalidNotebook, match="mallory.ipynb") as error:
        read_notebook(path)
    assert message in str(error.value)


def test_only_regular_files_are_read(tmp_path) -> None:
    real = write_nb(tmp_path / "real.ipynb")
    (tmp_path / "link.ipynb").symlink_to(real)
    (tmp_path / "zero.ipynb").symlink_to("/dev/zero")
    os.mkfifo(tmp_path / "fifo.ipynb")
    for name, says in (("link.ipynb", "symbolic link"), ("zero.ipynb", "symbolic link"),
                       ("fifo.ipynb", "FIFO")):
        with pytest.raises(InvalidNotebook, match=says):
            read_notebook(tmp_path / name)
    assert read_notebook(real)["nbformat"] == 4


def test_a_batch_judges_each_notebook_while_the_next_one_runs(tmp_path) -> None:
    """At -j 1 the next notebook is sent to the runner as soon as the one before has replied,
    and that one is judged while the next runs; a notebook that cannot be read is reported
    where it stands and the batch goes on. Each result is its own submission's."""
    from autograder.course import examples
    from autograder.run.client import Runner
    from autograder.run.grader import judge_reference

    events: list[str] = []

    class Logged(Runner):  # the real runner, its requests and replies noted in order
        def send(self, request):
            events.append(f"send {Path(request.workdir).name}")
            return super().send(request)

        def receive(self):
            reply = super().receive()
            events.append("reply")
            return reply

    def judge(question, *args):
        if not events or events[-1] != "judged":
            events.append("judged")
        return judge_reference(question, *args)

    bank = examples.backprop_examples(ROOT / "assignments")  # each a different answer
    subs = []
    for name, text in (("ann", json.dumps(bank["right"])), ("bob", "{ not json"),
                       ("cy", json.dumps(bank["sign-slip"])),
                       ("di", json.dumps(bank["wrong-variable"]))):
        path = tmp_path / name / "backprop.ipynb"
        path.parent.mkdir()
        path.write_text(text)
        subs.append(Submission(name, path, None))
    qs = questions("backprop")
    grader = Grader("backprop", qs, Settings(timeout=30, require_sandbox=False,
                                              scratch=tmp_path), judge=judge, runner=Logged())
    try:
        results = dict((sub.student, result) for sub, result in grader.grade_each(subs))
    finally:
        grader.close()
    assert results["bob"].status == "invalid"
    for student in ("ann", "cy", "di"):
        assert results[student].status == "graded", results[student].errors
    lost = {s: [q.id for q in results[s].questions if q.points < q.max_points]
            for s in ("ann", "cy", "di")}
    assert lost == {"ann": [], "cy": ["backprop-dR-dw12"], "di": ["backprop-dR-dw12"]}
    assert results["cy"].questions != results["di"].questions  # each its own reply
    kinds = [e.split()[0] for e in events]
    # three notebooks sent; every judging but the last comes after the next one was sent
    assert kinds.count("send") == 3 and kinds.count("reply") == 3
    assert kinds == ["send", "reply", "send", "judged", "reply", "send", "judged", "reply",
                     "judged"], events


def test_a_runner_that_will_not_start_fails_each_notebook_and_leaves_no_folder(
        tmp_path, monkeypatch) -> None:
    """A runner that exits before it is ready (here: the interpreter it is started with is
    ``false``) is each notebook's error, said as such, and no working folder is left behind
    in the scratch folder, whether graded one by one or as a batch."""
    import sys

    from autograder.course import examples

    bank = examples.backprop_examples(ROOT / "assignments")
    subs = []
    for name in ("ann", "bob"):
        path = tmp_path / "in" / name / "backprop.ipynb"
        path.parent.mkdir(parents=True)
        path.write_text(json.dumps(bank["right"]))
        subs.append(Submission(name, path, None))
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(sys, "executable", "/bin/false")
    grader = Grader("backprop", questions("backprop"),
                    Settings(timeout=30, require_sandbox=False, scratch=scratch))
    try:
        one = grader.grade(subs[0])
        batch = dict((sub.student, result) for sub, result in grader.grade_each(subs))
    finally:
        grader.close()
    for result in (one, *batch.values()):
        assert result.status == "error"
        assert "the grading runner did not start" in result.errors[0], result.errors
        assert all(q.points == 0 for q in result.questions)
    assert sorted(batch) == ["ann", "bob"]
    assert list(scratch.iterdir()) == []
