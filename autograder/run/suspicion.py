"""What a notebook's code does that honest work never needs: patching the libraries the checks
use, importing the grader, exiting the kernel, reading files outside its folder, printing a
fake result. Read with ``ast`` from the notebook's source (never run), for the instructor's
eye: the sandbox already makes each of these harmless, and nothing here changes a score.
"""

from __future__ import annotations

import ast
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


def _cell_notes(tree: ast.AST, modules: dict[str, str]) -> list[str]:
    notes = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""])
            for name in names:
                if (name.startswith("autograder.") and name not in PUBLIC) or \
                        name.split(".")[0] == "solutions":
                    notes.append(f"imports {name} (the grader's own code)")
        targets: list[ast.AST] = []
        if isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        for target in targets:
            name = _dotted(target) if isinstance(target, ast.Attribute) else None
            if name and modules.get(name.split(".")[0], "").split(".")[0] in PATCHED_MODULES:
                real = modules[name.split(".")[0]] + name[len(name.split(".")[0]):]
                notes.append(f"replaces {real}")
        if isinstance(node, ast.Call):
            called = _dotted(node.func)
            if called in EXITS or (called and called.startswith(("sys.exit", "os._exit"))):
                notes.append(f"calls {called}() (stops the notebook)")
            if called in ("setattr",) and node.args:
                base = _dotted(node.args[0])
                if base and modules.get(base.split(".")[0], "").split(".")[0] in PATCHED_MODULES:
                    notes.append(f"replaces an attribute of {base} with setattr")
            if called in ("open", "io.open", "pathlib.Path", "Path") and node.args:
                arg = node.args[0]
                if isinstance(arg, ast.Constant) and isinstance(arg.value, str) and (
                        ".." in arg.value or arg.value.startswith("/")):
                    notes.append(f"opens {arg.value[:80]!r}, outside its own folder")
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and \
                '"score"' in node.value and ('"status"' in node.value or "passed" in node.value):
            notes.append("prints text shaped like a grader's result")
        if isinstance(node, ast.For) and isinstance(node.iter, (ast.List, ast.Tuple)):
            paths = [e.value for e in node.iter.elts
                     if isinstance(e, ast.Constant) and isinstance(e.value, str)
                     and (".." in e.value or e.value.startswith("/"))]
            notes += [f"opens {p[:80]!r}, outside its own folder" for p in paths]
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
        try:
            tree = ast.parse(source)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            continue  # IPython magics or broken code: nothing to read
        modules.update(_imports(tree))
        for note in dict.fromkeys(_cell_notes(tree, modules)):
            notes.append(f"cell {index} {note}")
            if len(notes) >= MAX_NOTES:
                return (*notes, "…")
    return tuple(notes)
