"""The architecture, checked: layers import only downwards (import-linter's contracts in
pyproject.toml), no two modules import each other round a circle, and the verdict code that
``regrade`` trusts is exactly the judging core and the question model."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import grimp

from autograder.rubric import versions

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "autograder"


def test_import_contracts_hold() -> None:
    lint = Path(sys.executable).parent / "lint-imports"
    result = subprocess.run([str(lint)], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "0 broken" in result.stdout


def _cycle(graph: grimp.ImportGraph, modules: set[str]) -> list[str] | None:
    """A circle of imports among ``modules``, if any (depth-first search)."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(module: str) -> list[str] | None:
        state[module] = 1
        stack.append(module)
        for imported in sorted(graph.find_modules_directly_imported_by(module) & modules):
            if state.get(imported) == 1:
                return stack[stack.index(imported):] + [imported]
            if imported not in state and (found := visit(imported)):
                return found
        stack.pop()
        state[module] = 2
        return None

    for module in sorted(modules):
        if module not in state and (found := visit(module)):
            return found
    return None


def test_no_module_imports_round_a_circle() -> None:
    graph = grimp.build_graph("autograder", "solutions")
    packages = {m for m in graph.modules
                if (ROOT / m.replace(".", "/") / "__init__.py").is_file()}
    assert _cycle(graph, set(graph.modules) - packages) is None


def test_a_circle_is_found_where_there_is_one() -> None:
    """The search above can fail: two modules that import each other are a circle."""

    class Two:
        modules = {"a", "b"}

        def find_modules_directly_imported_by(self, module: str) -> set[str]:
            return {"b"} if module == "a" else {"a"}

    assert _cycle(Two(), {"a", "b"}) == ["a", "b", "a"]  # type: ignore[arg-type]


def _copy(tmp_path: Path) -> Path:
    copy = tmp_path / "autograder"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__"))
    return copy


def test_editing_a_checker_changes_the_engine_version(tmp_path: Path) -> None:
    copy = _copy(tmp_path)
    before = versions.engine_version(copy)
    assert before == versions.engine_version(PACKAGE)
    for checker in ("judge/checks.py", "judge/diagnosis.py", "rubric/question.py"):
        path = copy / checker
        original = path.read_bytes()
        path.write_bytes(original + b"\n# a changed checker\n")
        assert versions.engine_version.__wrapped__(copy) != before, checker
        path.write_bytes(original)
    (copy / "judge" / "extra").mkdir()
    (copy / "judge" / "extra" / "rule.py").write_text("RULE = 1\n")
    assert versions.engine_version.__wrapped__(copy) != before, "a subfolder of the judge"


def test_moving_or_editing_anything_else_keeps_the_engine_version(tmp_path: Path) -> None:
    copy = _copy(tmp_path)
    before = versions.engine_version(copy)
    for other in ("report/reports.py", "cli/commands.py", "run/runner.py", "grade/batch.py",
                  "rubric/versions.py", "rubric/course.py"):
        path = copy / other
        path.write_text(path.read_text() + "\n# an edited report string\n")
    (copy / "cli" / "demo.py").rename(copy / "course" / "demo.py")
    (copy / "report" / "templates" / "feedback.html.j2").write_text("{{ edited }}")
    assert versions.engine_version.__wrapped__(copy) == before


def test_close_is_said_once() -> None:
    """Every "is this close to that" and "how many digits does it show" goes through
    autograder.judge.closeness and its named tolerances (issue 28: there were four notions of
    close and three rounding detectors)."""
    pattern = re.compile(r"\b(isclose|allclose)\(|rel_tol=\d|abs_tol=\d|rtol=|atol=")
    found = [f"{path.relative_to(ROOT)}:{n}: {line.strip()}"
             for path in sorted((ROOT / "autograder").rglob("*.py"))
             if path.name != "closeness.py"
             for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
             if pattern.search(line)]
    assert not found, "\n".join(found)
