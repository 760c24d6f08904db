"""Inside the student's process: run the notebook's cells in an IPython shell and send each
answer out as data right after its own cell ran (a name reused later is not what is graded).
"""

from __future__ import annotations

import json
import os
import signal
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from autograder.judge import transport
from autograder.judge.probing import PROJECTIONS, decode_probe_arg, probes_digest, run_probes

# What the grader tells a notebook of whose it is, in its environment (Job.env); read by
# autograder.student.myvariant, never taken from the notebook itself.
STUDENT_ENV = "BACKPROP_KIT_STUDENT"  # the submission folder's student
SEED_ENV = "BACKPROP_KIT_SEED"  # the course seed ("" for none)
ASSIGNMENT_ENV = "BACKPROP_KIT_ASSIGNMENT"  # and the assignment


@dataclass(frozen=True)
class Cell:
    """A code cell to run; ``capture`` names the answers to take right after it."""

    source: str
    label: str
    capture: tuple[str, ...] = ()


@dataclass(frozen=True)
class Probe:
    """How to turn a function answer into data: call it on ``args`` (plain data) in here."""

    args: tuple[tuple[Any, ...], ...]
    project: str = "identity"


@dataclass(frozen=True)
class Job:
    cells: tuple[Cell, ...]
    probes: Mapping[str, Probe] = field(default_factory=dict)  # by answer name
    # set in the notebook's environment before its cells run: whose notebook it is and the
    # course seed (autograder.student.myvariant), so that it computes with that student's numbers
    env: Mapping[str, str] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "cells": [[c.source, c.label, list(c.capture)] for c in self.cells],
            "probes": {k: {"args": [list(a) for a in p.args], "project": p.project}
                       for k, p in self.probes.items()},
            "env": dict(self.env),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Job:
        return cls(
            tuple(Cell(s, lab, tuple(cap)) for s, lab, cap in data["cells"]),
            {k: Probe(tuple(tuple(a) for a in p["args"]), p["project"])
             for k, p in data["probes"].items()},
            {str(k): str(v) for k, v in data.get("env", {}).items()},
        )


def make_shell() -> Any:
    """An IPython shell with no history file, warmed up; created once before forking.

    A cell that raises is reported by its exception alone (the child's printed output is
    never read): IPython's coloured, highlighted traceback costs about 50 ms a failing cell,
    which made an unfinished notebook three times slower to grade than a finished one."""
    from IPython.core.interactiveshell import InteractiveShell
    from traitlets.config import Config

    config = Config()
    config.HistoryManager.enabled = False
    config.InteractiveShell.xmode = "Minimal"
    config.InteractiveShell.colors = "NoColor"
    shell = InteractiveShell.instance(config=config)
    shell.enable_gui = _no_event_loop  # `%matplotlib inline` asks for one (see below)
    shell.run_cell("pass", store_history=False, silent=True)
    return shell


def _no_event_loop(gui: str | None = None) -> None:
    """The shell's ``enable_gui``: a grading shell starts no GUI event loop. ``%matplotlib
    inline`` (and ``%matplotlib`` alone) switch the backend, register the inline backend's
    showing of figures after each cell, then ask the shell for the event loop of ``gui``;
    the plain shell raised NotImplementedError, which stopped the student's cell there."""


def _plain_code(shell: Any, source: str) -> Any:
    """The cell compiled as IPython would run it, when IPython would run it unchanged: plain
    Python that IPython's clean-up transforms (leading blank lines and indent, pasted prompts)
    leave as it is, with no extension's transformers, and, for a one-line cell, that IPython's
    prefilter leaves as it is too (an automagic such as ``whos``, an autocall). Its other
    transforms (magics, ``!`` escapes, ``help?``) only apply to what is not Python. Else None:
    IPython's own path."""
    if shell.input_transformers_post or shell.ast_transformers:
        return None
    lines = (source if source.endswith("\n") else source + "\n").splitlines(keepends=True)
    if not lines:
        return None
    cleaned = list(lines)
    for transform in shell.input_transformers_cleanup:
        cleaned = transform(cleaned)
    if cleaned != lines:
        return None
    if len(lines) == 1:  # IPython prefilters a one-line cell (only those)
        line = lines[0].rstrip("\n")
        with shell.builtin_trap:
            if not line.strip() or shell.prefilter_manager.prefilter_lines(line) != line:
                return None
    name = shell.compile.cache(source, shell.execution_count, raw_code=source)
    try:  # with the shell's compiler: a cell's `from __future__` holds for later cells
        return shell.compile(source, name, "exec")
    except (SyntaxError, ValueError, OverflowError, MemoryError, RecursionError):
        return None  # top-level await, magics, or a real error: IPython's path says which


def run_cell(shell: Any, source: str) -> BaseException | None:
    """Run one cell in ``shell`` as IPython's ``run_cell(silent=True)`` does, and return its
    error, if any.

    A cell of plain Python is compiled once and run directly, with IPython's traps (its
    builtins such as ``get_ipython``, ``display``'s hook) and its pre/post-execute events
    (an inline backend's figures): IPython's own path tokenizes it for its transforms,
    compiles it once to see whether it awaits and once more statement by statement, about
    half as much again as the cell's own code (backprop). Any other cell takes that path."""
    code = _plain_code(shell, source)
    if code is None:
        result = shell.run_cell(source, store_history=False, silent=True)
        return result.error_in_exec or result.error_before_exec
    error = None
    with shell.builtin_trap, shell.display_trap:
        shell.events.trigger("pre_execute")
        hook, sys.excepthook = sys.excepthook, shell.excepthook
        try:
            exec(code, shell.user_global_ns, shell.user_ns)  # noqa: S102 -- the notebook's cell
        except BaseException as exc:  # noqa: BLE001 -- SystemExit & co. from student code
            error = exc
            sys.last_type, sys.last_value, sys.last_traceback = (type(exc), exc,
                                                                 exc.__traceback__)
        finally:
            sys.excepthook = hook
        shell.events.trigger("post_execute")
    return error


def answer_data(value: Any, probe: Probe | None) -> dict[str, Any]:
    """The answer as data: functions are called on their probes here, in the student's process."""
    if probe is None:
        return transport.encode(value)
    if not callable(value):
        return {"type": "unsupported", "what": f"{type(value).__name__} (expected a function)"}
    args = [tuple(decode_probe_arg(a, shipped=True) for a in p) for p in probe.args]
    return {"type": "outputs", "outputs": run_probes(value, args, PROJECTIONS[probe.project]),
            "probes": probes_digest([list(p) for p in probe.args], probe.project)}


def run_job(job: Job, shell: Any, emit: Callable[[dict[str, Any]], None]) -> None:
    """Run every cell (an error in one does not stop the rest), emitting answers as we go."""
    os.environ.update(job.env)
    for cell in job.cells:
        try:
            error = run_cell(shell, cell.source)
        except BaseException as exc:  # noqa: BLE001 -- SystemExit & co. from student code
            error = exc
        if error is not None:
            emit({"cell_error": cell.label, "error": f"{type(error).__name__}: {error}"[:300]})
        for name in cell.capture:
            if name not in shell.user_ns:
                emit({"answer": name, "missing": True})
                continue
            try:
                data = answer_data(shell.user_ns[name], job.probes.get(name))
            except BaseException as exc:  # noqa: BLE001
                data = {"type": "unsupported", "what": f"{type(exc).__name__} while reading it"}
            emit({"answer": name, "data": data})
    emit({"done": True})


def pipe_emitter(fd: int) -> Callable[[dict[str, Any]], None]:
    """Write each message as one JSON line straight to the grader's pipe."""

    def emit(message: dict[str, Any]) -> None:
        line = (json.dumps(message) + "\n").encode()
        view = memoryview(line)
        while view:
            written = os.write(fd, view)
            view = view[written:]

    return emit


def ignore_sigpipe() -> None:
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)


def cells_from_notebook(nb: Mapping[str, Any], answers: Mapping[str, str]) -> tuple[Cell, ...]:
    """The code cells to run, each answer cell capturing its answer.

    ``answers`` maps an answer cell's grade_id to the answer's variable name. The notebook's
    own test cells are not run (grading happens outside). An answer whose cell is missing
    (metadata stripped by an export) is taken after the last cell.
    """
    cells: list[Cell] = []
    seen: set[str] = set()
    for index, cell in enumerate(nb.get("cells", [])):
        if cell.get("cell_type") != "code":
            continue
        meta = (cell.get("metadata") or {}).get("nbgrader") or {}
        if meta.get("grade") and not meta.get("solution"):
            continue
        grade_id = meta.get("grade_id")
        source = cell.get("source", "")
        if isinstance(source, list):
            source = "".join(source)
        capture = (answers[grade_id],) if grade_id in answers and grade_id not in seen else ()
        seen.update([grade_id] if capture else [])
        cells.append(Cell(str(source), grade_id or f"cell {index + 1}", capture))
    late = tuple(name for gid, name in answers.items() if gid not in seen)
    if late:
        cells.append(Cell("", "end of notebook", late))
    return tuple(cells)
