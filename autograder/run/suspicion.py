"""What a notebook's code does that honest work never needs: patching the libraries the checks
use, importing the grader, exiting the kernel, reading files outside its folder, printing a
fake result. Read with ``ast`` from the notebook's source (never run), for the instructor's
eye: the sandbox already makes each of these harmless, and nothing here changes a score.
"""

from __future__ import annotations

import ast
import functools
from collections.abc import Mapping
from typing import Any

# Modules whose attributes a notebook never needs to replace.
PATCHED_MODULES = {"builtins", "sympy", "numpy", "np", "sp", "math", "sys", "os", "autograder",
                   "IPython", "json", "solutions"}
PUBLIC = {"autograder.notebook", "autograder.myvariant", "autograder.variants", "autograder"}
EXITS = {"sys.exit", "os._exit", "exit", "quit", "os.kill", "os.abort"}
MAX_NOTES = 10


def _dotted(node: ast.AST) -> str | None:
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        return ".".join([node.id, *reversed(parts)])
    return None


def _findings(tree: ast.AST) -> list[tuple[str, str]]:
    """What one cell does, in the order ``ast.walk`` meets it: ("note", sentence), or
    ("replaces", dotted name) and ("setattr", dotted base), which are notes only when the name
    is one of the checked modules under the names the notebook imported them as."""
    found: list[tuple[str, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""])
            for name in names:
                if (name.startswith("autograder.") and name not in PUBLIC) or \
                        name.split(".")[0] == "solutions":
                    found.append(("note", f"imports {name} (the grader's own code)"))
        targets: list[ast.AST] = []
        if isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        for target in targets:
            name = _dotted(target) if isinstance(target, ast.Attribute) else None
            if name:
                found.append(("replaces", name))
        if isinstance(node, ast.Call):
            called = _dotted(node.func)
            if called in EXITS or (called and called.startswith(("sys.exit", "os._exit"))):
                found.append(("note", f"calls {called}() (stops the notebook)"))
            if called in ("setattr",) and node.args:
                base = _dotted(node.args[0])
                if base:
                    found.append(("setattr", base))
            if called in ("open", "io.open", "pathlib.Path", "Path") and node.args:
                arg = node.args[0]
                if isinstance(arg, ast.Constant) and isinstance(arg.value, str) and (
                        ".." in arg.value or arg.value.startswith("/")):
                    found.append(("note", f"opens {arg.value[:80]!r}, outside its own folder"))
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and \
                '"score"' in node.value and ('"status"' in node.value or "passed" in node.value):
            found.append(("note", "prints text shaped like a grader's result"))
        if isinstance(node, ast.For) and isinstance(node.iter, (ast.List, ast.Tuple)):
            paths = [e.value for e in node.iter.elts
                     if isinstance(e, ast.Constant) and isinstance(e.value, str)
                     and (".." in e.value or e.value.startswith("/"))]
            found += [("note", f"opens {p[:80]!r}, outside its own folder") for p in paths]
    return found


def _notes(findings: list[tuple[str, str]] | tuple[tuple[str, str], ...],
           modules: Mapping[str, str]) -> list[str]:
    """The findings that are notes, given the names the notebook imported modules as."""
    notes = []
    for kind, text in findings:
        head = text.split(".")[0]
        checked = modules.get(head, "").split(".")[0] in PATCHED_MODULES
        if kind == "note":
            notes.append(text)
        elif kind == "replaces" and checked:
            notes.append(f"replaces {modules[head]}{text[len(head):]}")
        elif kind == "setattr" and checked:
            notes.append(f"replaces an attribute of {text} with setattr")
    return notes


def _imports(tree: ast.AST) -> dict[str, str]:
    """Local name -> module, for ``import x``, ``import x as y`` and ``import a.b as c``."""
    found = {name: name for name in PATCHED_MODULES}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                found[alias.asname or alias.name.split(".")[0]] = (
                    alias.name if alias.asname else alias.name.split(".")[0])
    return found


_Read = tuple[tuple[tuple[str, str], ...], tuple[tuple[str, str], ...]] | None
CACHED_SOURCE_CHARS = 20_000  # longer cells are read each time (never kept)


def _read(source: str) -> _Read:
    """A cell's imports and findings (None: not Python, e.g. IPython magics or broken code)."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    return tuple(_imports(tree).items()), tuple(_findings(tree))


_read_cached = functools.lru_cache(maxsize=4096)(_read)


def suspicious(nb: Mapping[str, Any]) -> tuple[str, ...]:
    """What the notebook's code cells do that honest work never needs, one sentence each
    (``cell 3 replaces sympy.simplify``); empty for honest work."""
    notes: list[str] = []
    modules: dict[str, str] = {}
    for index, cell in enumerate(nb.get("cells", []), start=1):
        if not isinstance(cell, Mapping) or cell.get("cell_type") != "code":
            continue
        source = cell.get("source", "")
        source = "".join(source) if isinstance(source, list) else str(source)
        # a class hands in the same given cells many times: each distinct cell is read once
        read = _read_cached(source) if len(source) <= CACHED_SOURCE_CHARS else _read(source)
        if read is None:
            continue  # IPython magics or broken code: nothing to read
        imports, findings = read
        modules.update(imports)
        for note in dict.fromkeys(_notes(findings, modules)):
            notes.append(f"cell {index} {note}")
            if len(notes) >= MAX_NOTES:
                return (*notes, "…")
    return tuple(notes)
