"""The example workflows under examples/ci/, tried with the very commands they run.

Each workflow's ``run:`` steps that call ``backprop-kit`` are taken from the YAML, their
``${{ … }}`` expressions filled in as GitHub Actions would, and run with bash in a folder laid
out as that repository would be.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from autograder.course import examples
from autograder.rubric.course import questions
from autograder.run import sandbox
from autograder.student.notebook import SELFCHECK_FILE

ROOT = Path(__file__).resolve().parents[1]
WORKFLOWS = ROOT / "examples" / "ci"
BIN = Path(sys.executable).parent
FULL = sum(q.points for q in questions("backprop"))

pytestmark = pytest.mark.skipif(sandbox.detect() == "none",
                                reason="the workflows run on Ubuntu 24.04, which has Landlock")


def commands(workflow: str, job: str) -> list[str]:
    data = yaml.safe_load((WORKFLOWS / workflow).read_text(encoding="utf-8"))
    steps = data["jobs"][job]["steps"]
    return [s["run"] for s in steps if "run" in s and "backprop-kit" in s["run"]]


def fill(command: str, values: dict[str, str]) -> str:
    def value(match: re.Match[str]) -> str:
        return values[match.group(1).strip()]

    return re.sub(r"\$\{\{(.*?)\}\}", value, command)


def bash(command: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    return subprocess.run(["bash", "-c", command], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=600)


@pytest.fixture(scope="module")
def bank() -> dict:
    return examples.backprop_examples(ROOT / "assignments")


def test_instructor_workflow_grades_in_shards_and_merges(bank, tmp_path: Path) -> None:
    students = ("right", "sign-slip", "unfinished", "blank", "not-a-notebook")
    for name in students:
        folder = tmp_path / "submitted" / name / "backprop"
        folder.mkdir(parents=True)
        nb = bank[name]
        (folder / "backprop.ipynb").write_text(nb if isinstance(nb, str) else json.dumps(nb))
    data = yaml.safe_load((WORKFLOWS / "instructor-grade.yml").read_text(encoding="utf-8"))
    shards = data["jobs"]["grade"]["strategy"]["matrix"]["shard"]
    (grade,) = commands("instructor-grade.yml", "grade")
    for shard in shards:
        result = bash(fill(grade, {"inputs.assignment": "backprop",
                                   "matrix.shard": str(shard)}), tmp_path)
        assert result.returncode == 0, result.stderr[-2000:]
    (merge,) = commands("instructor-grade.yml", "merge")
    result = bash(merge, tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    merged = json.loads((tmp_path / "results" / "results.json").read_text())
    got = {s["student"]: sum(q["points"] for q in s["questions"])
           for s in merged["submissions"]}
    assert sorted(got) == sorted(students)
    assert got["right"] == pytest.approx(FULL) and got["blank"] == 0
    assert (tmp_path / "results" / "grades.csv").is_file()


def test_student_workflow_checks_and_grades(bank, tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    (repo / "backprop").mkdir(parents=True)
    (repo / "backprop" / "backprop.ipynb").write_text(json.dumps(bank["sign-slip"]))
    shutil.copy(ROOT / "assignments" / "backprop" / SELFCHECK_FILE, repo / "backprop")
    (check,) = commands("student-check.yml", "check")
    result = bash(check, repo)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "sign" in result.stdout

    (grade,) = commands("student-check.yml", "grade")
    for name, code in (("right", 0), ("unfinished", 1)):
        work = tmp_path / name
        (work / "work" / "backprop").mkdir(parents=True)
        (work / "work" / "backprop" / "backprop.ipynb").write_text(json.dumps(bank[name]))
        result = bash(fill(grade, {"github.actor": name}), work)
        assert result.returncode == code, (name, result.stderr[-2000:])
