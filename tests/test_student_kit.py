"""The README's student section on a machine with only the student kit.

The kit is built with ``backprop-kit student-kit`` and installed with pip (``--no-deps``) into a
fresh venv without the course's package. Its dependencies are linked in from this environment,
exactly the distributions its ``Requires-Dist`` closure names (so a dependency the kit forgets
is missing there, as on a student's machine, and ``pip check`` is meaningful); nothing else of
this environment is visible, in particular not ``solutions``. Then the released notebook's
cells run in an IPython shell there, and the README's ``backprop-kit check`` command.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import venv
from importlib import metadata
from pathlib import Path

import pytest
import sympy
from packaging.requirements import Requirement

from autograder.course import examples
from autograder.course.studentkit import REQUIRES
from autograder.judge.diagnosis import FEEDBACK
from autograder.rubric.course import question, questions
from autograder.run import sandbox
from autograder.student.notebook import NOT_ANSWERED, SELFCHECK_FILE

ROOT = Path(__file__).resolve().parents[1]
W12 = question("backprop-dR-dw12")
SIGMA = question("backprop-sigmoid-derivative")
TIMEOUT = 300


def readme_block(marker: str) -> list[str]:
    """The command lines of the README's code block after ``<!-- marker -->``."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    match = re.search(rf"<!-- {marker} -->\n```[a-z]*\n(.*?)```", text, re.S)
    assert match, f"README.md has no code block after <!-- {marker} -->"
    return [line for line in match.group(1).splitlines() if line and not line.startswith("#")]


def closure(requirements: list[str]) -> set[str]:
    """The distributions installed here that ``requirements`` need, transitively."""
    todo, seen = [Requirement(r) for r in requirements], set()
    while todo:
        req = todo.pop()
        if req.marker is not None and not req.marker.evaluate({"extra": ""}):
            continue
        dist = metadata.distribution(req.name)
        name = dist.metadata["Name"].lower()
        if name in seen:
            continue
        seen.add(name)
        todo += [Requirement(r) for r in dist.requires or []]
    return seen


def link_distributions(names: set[str], site: Path) -> None:
    """Make exactly these installed distributions importable from ``site``."""
    for name in names:
        dist = metadata.distribution(name)
        tops = {Path(str(f)).parts[0] for f in dist.files or []}
        for top in tops:
            source = Path(str(dist.locate_file(top)))
            if top in ("..", "__pycache__") or top.endswith(".pth") or not source.exists():
                continue
            if not (site / top).exists():
                (site / top).symlink_to(source)


def released(assignment: str) -> dict:
    return examples.blank(examples.load(ROOT / "assignments", assignment))


@pytest.fixture(scope="module")
def kit(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A venv holding the student kit and its dependencies only, and a student's folder."""
    base = tmp_path_factory.mktemp("student-kit")
    build = subprocess.run([sys.executable, "-m", "autograder.cli", "student-kit", "--out",
                            str(base / "dist")], capture_output=True, text=True, cwd=base,
                           timeout=TIMEOUT)
    assert build.returncode == 0, build.stderr
    (wheel,) = (base / "dist").glob("*.whl")
    env_dir = base / "venv"
    venv.EnvBuilder(with_pip=False, symlinks=True).create(env_dir)
    (site,) = env_dir.glob("lib/python*/site-packages")
    link_distributions(closure(REQUIRES) | {"pip"}, site)
    python = env_dir / "bin" / "python"
    install = subprocess.run([str(python), "-m", "pip", "install", "--no-deps", "--no-index",
                              "-q", str(wheel)], capture_output=True, text=True,
                             timeout=TIMEOUT)
    assert install.returncode == 0, install.stderr
    folder = base / "home" / "backprop"
    folder.mkdir(parents=True)
    shutil.copy(ROOT / "assignments" / "backprop" / SELFCHECK_FILE, folder)
    return {"base": base, "wheel": wheel, "python": python, "bin": env_dir / "bin",
            "folder": folder}


def run(kit: dict[str, Path], *args: str, cwd: Path | None = None
        ) -> subprocess.CompletedProcess[str]:
    env = {"PATH": f"{kit['bin']}{os.pathsep}/usr/bin:/bin", "HOME": str(kit["base"] / "home"),
           "MPLBACKEND": "Agg", "LANG": "C.UTF-8"}
    return subprocess.run(list(args), capture_output=True, text=True, timeout=TIMEOUT,
                          cwd=cwd or kit["folder"], env=env)


def test_the_kit_installs_complete_and_without_solutions(kit: dict[str, Path]) -> None:
    assert kit["wheel"].parent.name == "dist"  # not nbgrader's release/ folder
    check = run(kit, str(kit["python"]), "-m", "pip", "check")
    assert check.returncode == 0, check.stdout + check.stderr
    probe = run(kit, str(kit["python"]), "-c",
                "import importlib.util as u, matplotlib.pyplot, numpy, sympy, autograder.notebook;"
                "print(u.find_spec('solutions'), u.find_spec('nbgrader'))")
    assert probe.returncode == 0, probe.stderr
    assert probe.stdout.split() == ["None", "None"]


@pytest.mark.parametrize("command", ["grade", "merge", "report", "regrade", "selfchecks",
                                     "test-cells", "demo", "student-kit"])
def test_instructor_commands_say_they_are_instructor_only(kit: dict[str, Path],
                                                          command: str) -> None:
    result = run(kit, "backprop-kit", command)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "instructor command" in result.stderr and "backprop-kit check" in result.stderr


def test_released_notebook_cells_run_in_the_kit(kit: dict[str, Path]) -> None:
    """The released notebook, answered in part, run cell by cell in IPython as a kernel does:
    every import works and the checks speak."""
    nb = released("backprop")
    answers = {W12.answer_cell: examples.answer_code(W12.name, W12.expected),
               SIGMA.answer_cell: examples.answer_code(SIGMA.name,
                                                      examples.sign_slip(SIGMA.expected))}
    cells = []
    for cell in nb["cells"]:
        if cell["cell_type"] != "code":
            continue
        grade_id = cell["metadata"].get("nbgrader", {}).get("grade_id")
        source = "".join(cell["source"])
        cells.append((grade_id or cell["id"], answers.get(grade_id, source)))
    script = kit["base"] / "run_cells.py"
    script.write_text(
        "import json, sys\n"
        "from IPython.core.interactiveshell import InteractiveShell\n"
        "shell = InteractiveShell.instance()\n"
        "sys.stderr = sys.stdout  # a failing check's verdict goes to stderr\n"
        "for grade_id, source in json.load(open(sys.argv[1])):\n"
        "    print(f'=== {grade_id}', flush=True)\n"
        "    shell.run_cell(source)\n"
        "    sys.stdout.flush()\n", encoding="utf-8")
    (kit["base"] / "cells.json").write_text(json.dumps(cells), encoding="utf-8")
    result = run(kit, str(kit["python"]), str(script), str(kit["base"] / "cells.json"))
    assert result.returncode == 0, result.stderr
    out = {block.split("\n", 1)[0]: block for block in result.stdout.split("=== ")[1:]}
    assert "Error" not in out["setup"] and "Error" not in out.get("network-setup", "")
    assert "Correct." in out[W12.id]
    assert FEEDBACK["sign"] in out[SIGMA.id]
    other = next(q for q in questions("backprop") if q.id not in (W12.id, SIGMA.id))
    assert f"{other.name}: {NOT_ANSWERED}" in out[other.id]
    assert "Traceback" not in out[other.id]
    assert sympy.sstr(W12.expected) in out[W12.id]  # the answer as read, the student's own


def test_readme_student_commands_work_as_written(kit: dict[str, Path]) -> None:
    lines = readme_block("student-commands")
    (install,) = [line for line in lines if line.startswith("pip install")]
    assert kit["wheel"].name in install.split(), install
    (check,) = [line for line in lines if line.startswith("backprop-kit check")]
    nb = examples.as_student_copy(examples.load(ROOT / "assignments", "backprop"))
    nb = examples.with_answer(nb, W12.id, examples.answer_code(
        W12.name, examples.sign_slip(W12.expected)))
    (kit["folder"] / "backprop.ipynb").write_text(json.dumps(nb), encoding="utf-8")
    args = check.split()
    if sandbox.detect() == "none":
        args.append("--allow-unsandboxed")
    result = run(kit, *args)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "hidden tests decide" in result.stdout
    assert FEEDBACK["sign"] in result.stdout
    assert "NameError" not in result.stdout
