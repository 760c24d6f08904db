"""Stale releases are caught: ``selfchecks`` records the rubric each release was made from and
prints what changed since the last one; ``grade`` and ``regrade`` warn when the rubric (or
nbgrader's released copy) differs from the record. A changed rubric is simulated by a record
made from another version of one question."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from autograder.cli.commands import main
from autograder.results import GradingRun, SubmissionResult
from autograder.rubric import course, lock
from autograder.rubric.course import questions

ROOT = Path(__file__).resolve().parents[1]
CHANGED = questions("backprop")[3]


@pytest.fixture
def course_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the course, found as the course (its lock and release/ are its own)."""
    shutil.copytree(ROOT / "assignments", tmp_path / "assignments")
    shutil.copy(ROOT / "nbgrader_config.py", tmp_path)
    monkeypatch.setattr(course, "find_course", lambda *a, **k: tmp_path)
    return tmp_path


def edit_lock(course_dir: Path, **versions: str) -> None:
    path = course_dir / lock.LOCK_FILE
    data = json.loads(path.read_text(encoding="utf-8"))
    data["backprop"]["questions"].update(versions)
    path.write_text(json.dumps(data), encoding="utf-8")


def test_selfchecks_records_and_says_what_changed(course_dir: Path) -> None:
    source = course_dir / "assignments"
    assert lock.record(course_dir, source, ["backprop"]) == {"backprop": []}  # first record
    assert lock.stale_release(course_dir, "backprop") == []
    edit_lock(course_dir, **{CHANGED.id: "0" * 16})
    (note,) = lock.stale_release(course_dir, "backprop")
    assert f"{CHANGED.title} ({CHANGED.id})" in note and "backprop-kit selfchecks" in note
    result = CliRunner().invoke(main, ["selfchecks", "--source", str(source)],
                                catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert f"changed since the last selfchecks: {CHANGED.title} ({CHANGED.id})" in result.output
    assert lock.stale_release(course_dir, "backprop") == []  # recorded again


def test_a_released_copy_older_than_the_record_is_caught(course_dir: Path) -> None:
    lock.record(course_dir, course_dir / "assignments", ["backprop"])
    released = course_dir / "release" / "backprop"
    released.mkdir(parents=True)
    (released / lock.SELFCHECK_FILE).write_text('{"questions": {}}', encoding="utf-8")
    (note,) = lock.stale_release(course_dir, "backprop")
    assert "release/backprop/selfcheck.json" in note and "generate_assignment" in note
    shutil.copy(course_dir / "assignments" / "backprop" / lock.SELFCHECK_FILE, released)
    assert lock.stale_release(course_dir, "backprop") == []


def test_grade_and_regrade_warn_on_a_stale_release(course_dir: Path, tmp_path: Path) -> None:
    lock.record(course_dir, course_dir / "assignments", ["backprop"])
    edit_lock(course_dir, **{CHANGED.id: "0" * 16})
    run = GradingRun("backprop", "0", (SubmissionResult("alice", "backprop", "a.ipynb", ()),))
    (tmp_path / "results.json").write_text(json.dumps(run.to_dict()), encoding="utf-8")
    result = CliRunner().invoke(main, ["regrade", str(tmp_path / "results.json"), "-o",
                                       str(tmp_path / "again"), "-j", "1"],
                                catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "warning: the rubric of backprop changed" in result.output
    result = CliRunner().invoke(main, ["grade", str(tmp_path / "nothing-here"), "-a",
                                       "backprop", "-o", str(tmp_path / "out")])
    assert "warning: the rubric of backprop changed" in result.output
