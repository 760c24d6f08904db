"""Whose notebook it is and which numbers it uses (autograder.student.myvariant), without a kernel:
the platform's id before the typed one, the course seed released beside the notebook, and the
key that picks a question's released data for a variant."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from autograder.rubric.variants import variant_for
from autograder.student import myvariant as mv
from autograder.student import released as rel
from autograder.student.notebook import SELFCHECK_FILE, CheckFailed

SEED = "test-seed-myvariant"
PLATFORM = ("BACKPROP_KIT_ASSIGNMENT", "BACKPROP_KIT_STUDENT", "BACKPROP_KIT_SEED",
            "NBGRADER_EXECUTION", "JUPYTERHUB_USER")


@pytest.fixture(autouse=True)
def no_platform(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in PLATFORM:
        monkeypatch.delenv(name, raising=False)


def released(folder: Path, seed: str | None, assignment: str = "backprop") -> Path:
    data = {"assignment": assignment, "questions": {}}
    if seed is not None:
        data["variant_seed"] = seed
    (folder / SELFCHECK_FILE).write_text(json.dumps(data))
    return folder


def test_the_platform_names_the_student_before_the_typed_id(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    assert mv.find_student("  s123 ") == mv.Whose("s123", "typed")
    assert mv.find_student("") == mv.Whose(None, "none")
    assert mv.find_student(None) == mv.Whose(None, "none")
    monkeypatch.setenv("JUPYTERHUB_USER", "hubuser")
    assert mv.find_student("s123") == mv.Whose("hubuser", "jupyterhub")
    folder = tmp_path / "autograded" / "nbstudent" / "backprop"
    folder.mkdir(parents=True)
    monkeypatch.chdir(folder)
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")
    assert mv.find_student("s123") == mv.Whose("nbstudent", "nbgrader")
    monkeypatch.setenv("BACKPROP_KIT_STUDENT", "folder-id")
    assert mv.find_student("s123") == mv.Whose("folder-id", "grader")


def test_no_seed_gives_the_lectures_numbers_without_an_id(tmp_path: Path) -> None:
    variant = mv.my_variant("", folder=released(tmp_path, None))
    assert variant.is_lecture
    assert variant.numbers == variant_for("backprop", None, None).numbers


def test_a_seed_needs_an_id_and_gives_that_students_numbers(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    folder = released(tmp_path, SEED)
    with pytest.raises(CheckFailed, match='STUDENT_ID = "your id"'):
        mv.my_variant("", folder=folder)
    typed = mv.my_variant("alice", folder=folder)
    assert typed == variant_for("backprop", "alice", SEED) and not typed.is_lecture
    assert mv.current() is typed  # what the check cells use
    monkeypatch.setenv("JUPYTERHUB_USER", "bob")
    assert mv.my_variant("alice", folder=folder) == variant_for("backprop", "bob", SEED)


def test_the_grader_says_whose_notebook_it_runs_without_the_released_file(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)  # no selfcheck.json here: the grader's word is enough
    monkeypatch.setenv("BACKPROP_KIT_ASSIGNMENT", "optimisation-1d")
    monkeypatch.setenv("BACKPROP_KIT_STUDENT", "carol")
    monkeypatch.setenv("BACKPROP_KIT_SEED", SEED)
    assert mv.my_variant("mallory") == variant_for("optimisation-1d", "carol", SEED)
    assert "you typed STUDENT_ID = 'mallory'" in capsys.readouterr().out
    monkeypatch.setenv("BACKPROP_KIT_SEED", "")
    assert mv.my_variant("mallory").is_lecture


def test_variant_key_picks_the_entry_by_the_fields_it_depends_on() -> None:
    one, two = (variant_for("backprop", s, SEED) for s in ("alice", "bob"))
    entry = {"variant_fields": ["other_weight"], "variants": {
        rel.variant_key(["other_weight"], one): {"name": "first"}}}
    assert rel.released_entry(entry, one) == {"name": "first"}
    same = one.numbers["other_weight"] == two.numbers["other_weight"]
    assert (rel.released_entry(entry, two) is not None) == same
    assert rel.released_entry({"name": "plain"}, two) == {"name": "plain"}
    per_student = rel.variant_key([rel.PER_STUDENT], one)
    assert per_student == one.key[:16] != rel.variant_key([rel.PER_STUDENT], two)
