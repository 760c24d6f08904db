"""What students receive when the course sets a seed (issue 17): ``selfcheck.json`` serves
every variant of a roster, holds no variant's answer, and its self-check reaches the grade's
verdict for each variant. Built in-process with ``backprop-kit selfchecks``' own function."""

from __future__ import annotations

import json
import os
from pathlib import Path

import nbformat
import pytest
import sympy
from nbclient import NotebookClient
from test_notebooks import leaks

from autograder.course import examples
from autograder.course.release import selfcheck_data
from autograder.rubric.course import ASSIGNMENTS, questions
from autograder.rubric.question import judge, self_check
from autograder.rubric.variants import variant_for
from autograder.student.notebook import SELFCHECK_FILE
from autograder.student.released import PER_STUDENT, released_entry

SEED = "release-test-seed"
ROSTER = [f"s{i:03d}" for i in range(6)]
AGREEMENT_SAMPLE = ROSTER[:2]


@pytest.fixture(scope="module")
def release() -> dict[str, dict]:
    return {a: selfcheck_data(a, SEED, ROSTER) for a in ASSIGNMENTS}


def test_the_release_names_the_seed_and_every_question(release: dict[str, dict]) -> None:
    for assignment, data in release.items():
        assert data["variant_seed"] == SEED
        assert list(data["questions"]) == [q.id for q in questions(assignment)]


def test_every_student_of_the_roster_finds_their_data(release: dict[str, dict]) -> None:
    for assignment, data in release.items():
        for student in ROSTER:
            variant = variant_for(assignment, student, SEED)
            mine = {q.id: q for q in questions(assignment, variant)}
            for qid, entry in data["questions"].items():
                found = released_entry(entry, variant)
                assert found is not None, (assignment, student, qid)
                assert found["title"] == mine[qid].title  # the student's own question


def test_structure_is_shared_and_only_what_must_be_is_per_student(
        release: dict[str, dict]) -> None:
    """Which weight to differentiate keys a few fingerprints for the whole class; data per
    student only where a field of many values (a test function's coefficients) decides it, and
    for sealed numbers (salted with the student's key)."""
    backprop = release["backprop"]["questions"]
    varying = {qid: e for qid, e in backprop.items()
               if "variants" in e and e["kind"] == "expression"}
    assert varying, "no backprop expression differs between variants"
    for qid, entry in varying.items():
        assert entry["variant_fields"] != [PER_STUDENT], qid
        assert len(entry["variants"]) <= 4, qid
    assert "variants" not in backprop["backprop-sigmoid-derivative"]
    assert backprop["backprop-gradient"]["variant_fields"] == [PER_STUDENT]
    assert "variants" not in backprop["backprop-errata"]  # the lecture's misprints, for all
    second = release["optimisation-1d"]["questions"]["opt1d-second-derivative"]
    assert second["variant_fields"] == [PER_STUDENT]
    assert len(second["variants"]) == len(ROSTER)


def _without_fingerprints(data: dict) -> str:
    plain = json.loads(json.dumps(data))
    for entry in plain["questions"].values():
        for one in entry.get("variants", {"": entry}).values():
            one.pop("fingerprint", None)
    return json.dumps(plain, ensure_ascii=False)


def test_no_variants_answer_in_the_release(release: dict[str, dict]) -> None:
    for assignment, data in release.items():
        text = json.dumps(data, ensure_ascii=False)
        numbers_text = _without_fingerprints(data)
        for student in ROSTER:
            for q in questions(assignment, variant_for(assignment, student, SEED)):
                where = text if q.kind == "expression" else numbers_text
                assert not leaks(q, where), (assignment, student, q.id, leaks(q, where))


@pytest.mark.parametrize("student", AGREEMENT_SAMPLE)
def test_self_check_agrees_with_the_grade_for_each_variant(release: dict[str, dict],
                                                           student: str) -> None:
    """The reference in its own form, a sign slip and a factor slip of it, judged by the grade
    (secret points, proof) and by the self-check (the released data of that variant)."""
    for assignment, data in release.items():
        variant = variant_for(assignment, student, SEED)
        for q in questions(assignment, variant):
            if q.kind != "expression":
                continue
            entry = released_entry(data["questions"][q.id], variant)
            for answer in (q.expected, examples.sign_slip(q.expected),
                           examples.factor_slip(q.expected)):
                text = sympy.sstr(answer)
                graded, visible = judge(q, text), self_check(entry, text)
                assert (visible.correct, visible.mistake, visible.score) == (
                    graded.correct, graded.mistake, graded.score), (q.id, text)
            assert judge(q, sympy.sstr(q.expected)).correct


def test_the_released_notebook_checks_against_its_students_data(release: dict[str, dict],
                                                                tmp_path: Path) -> None:
    """In a real kernel, as a student runs it: the id typed in the first cell picks the numbers
    the notebook computes with and the released data every check cell judges against."""
    student = ROSTER[0]
    (tmp_path / SELFCHECK_FILE).write_text(json.dumps(release["backprop"]), encoding="utf-8")
    nb = nbformat.from_dict(examples.as_student_copy(examples.load(
        Path(__file__).resolve().parents[1] / "assignments", "backprop")))
    (setup,) = [c for c in nb.cells if c.get("id") == "setup"]
    setup.source = setup.source.replace('STUDENT_ID = ""', f'STUDENT_ID = "{student}"')
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("BACKPROP_KIT", "NBGRADER", "JUPYTERHUB"))}
    NotebookClient(nb, timeout=120, allow_errors=True,
                   resources={"metadata": {"path": str(tmp_path)}}).execute(env=env)
    checks = [c for c in nb.cells if c.cell_type == "code" and "check(" in c.source]
    assert len(checks) == len(questions("backprop"))
    variant = variant_for("backprop", student, SEED)
    sealed = {qid for qid, e in release["backprop"]["questions"].items()
              if {"sealed_answer", "code"} & set(released_entry(e, variant) or {})}
    assert {"backprop-gradient", "backprop-step"} <= sealed
    for cell in checks:
        assert not [o for o in cell.outputs if o.output_type == "error"], cell.id
        assert not [o for o in cell.outputs if o.get("name") == "stderr"], cell.id  # no red
        text = "".join(o.get("text", "") for o in cell.outputs)
        qid = cell.metadata["nbgrader"]["grade_id"]
        kind = next(q.kind for q in questions("backprop") if q.id == qid)
        if kind == "expression" or qid in sealed:
            assert "Self-check: Correct." in text, (cell.id, text)
        else:  # a value the self-check does not check: it says so
            assert "(This check does not say whether it is right.)" in text, (cell.id, text)
    (shown,) = [c for c in nb.cells if c.get("id") == "your-numbers"]
    theta = variant_for("backprop", student, SEED).numbers["theta0"]
    assert " | ".join(f"{v:g}" for v in theta) in json.dumps(shown.outputs)


def test_a_student_missing_from_the_roster_is_told_to_ask_the_instructor(
        release: dict[str, dict], tmp_path: Path) -> None:
    """``backprop-kit check`` names the questions (by title) whose data the roster lacks, says
    to ask the instructor, and prints points and the total as the notebook does."""
    from click.testing import CliRunner

    from autograder.cli.commands import main
    from autograder.run import sandbox

    (tmp_path / SELFCHECK_FILE).write_text(json.dumps(release["backprop"]), encoding="utf-8")
    nb = examples.as_student_copy(examples.load(
        Path(__file__).resolve().parents[1] / "assignments", "backprop"))
    for cell in nb["cells"]:
        if cell.get("id") == "setup":
            source = "".join(cell["source"])
            cell["source"] = source.replace('STUDENT_ID = ""', 'STUDENT_ID = "not-enrolled"')
    (tmp_path / "backprop.ipynb").write_text(json.dumps(nb), encoding="utf-8")
    result = CliRunner().invoke(main, ["check", str(tmp_path / "backprop.ipynb"),
                                       *([] if sandbox.detect() != "none"
                                         else ["--allow-unsandboxed"])],
                                catch_exceptions=False)
    assert result.exit_code == 0, result.output
    missing = [q.title for q in questions("backprop", variant_for("backprop", "not-enrolled",
                                                                  SEED))
               if released_entry(release["backprop"]["questions"][q.id],
                                 variant_for("backprop", "not-enrolled", SEED)) is None]
    assert missing, "no question of backprop has data per student"
    (ask,) = [line for line in result.output.splitlines() if "ask your instructor" in line]
    assert all(title in ask for title in missing)
    assert "[2 of 2 points]" in result.output and "Total: " in result.output
