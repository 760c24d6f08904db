"""A graded notebook's cells keep IPython's semantics, on the direct path for plain Python
(compiled once) and on IPython's own path for the rest: magics, pasted prompts, one-line
automagics, ``from __future__`` across cells, ``display``, errors, post-execute hooks (an
inline backend's). One real runner, one sandboxed child for all of it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from autograder.course import examples
from autograder.rubric.course import questions
from autograder.run import sandbox
from autograder.run.capture import Cell, Job
from autograder.run.client import Runner
from autograder.run.protocol import Reply, Request
from autograder.run.runner import JOB_FILE

ROOT = Path(__file__).resolve().parents[1]
KIT = Path(sys.executable).parent / "backprop-kit"  # the console script, as users run it

CELLS = [
    # a __future__ import in one cell holds for the next (IPython's compiler keeps it)
    Cell("from __future__ import annotations\nimport math\n", "future"),
    Cell("def g(y: NotDefinedAnywhere):\n    return y\nlater = g.__annotations__['y']\n",
         "q-future", ("later",)),
    # IPython's builtins and display work on the direct path
    Cell("from IPython.display import Markdown, display\ndisplay(Markdown('**hi**'))\n"
         "shell_name = type(get_ipython()).__name__\n", "q-display", ("shell_name",)),
    # an error stops its cell only, after the statements before it ran
    Cell("before = 'ran'\nraise ValueError('boom')\nafter = 'never'\n", "q-error",
         ("before",)),
    Cell("after_error = 'next cell ran'\nx = 1\n", "q-next", ("after_error",)),
    # a pasted IPython prompt is Python too (an annotated assignment), but IPython strips it
    Cell("In [1]: pasted = 'stripped'\nz = 2\n", "q-prompt", ("pasted",)),
    # a magic; then a post-execute hook (as an inline backend's, closing the figures) runs
    # after a cell on the direct path
    Cell("%config InteractiveShell.xmode = 'Minimal'\nimport matplotlib.pyplot as plt\n",
         "magic"),
    Cell("hook = lambda: plt.close('all')\nget_ipython().events.register('post_execute', hook)\n",
         "register"),
    Cell("fig, ax = plt.subplots()\nax.plot([1, 2])\nopen_during = len(plt.get_fignums())\n",
         "q-plot", ("open_during",)),
    Cell("open_after = len(plt.get_fignums())\nw = 3\n", "q-closed", ("open_after",)),
    # a one-line cell of plain Python is run directly too (IPython prefilters it to itself)
    Cell("one_line = 'ok'", "q-one", ("one_line",)),
    # ... and a one-line automagic (valid Python: a bare name) stays one: `automagic` alone
    # turns automagic off; a shell that ran it as Python would raise NameError
    Cell("automagic", "toggle"),
    Cell("automagic_after = str(get_ipython().automagic)\nv = 1\n", "q-automagic",
         ("automagic_after",)),
    Cell("%automagic on\n", "restore"),
    # `%matplotlib inline`, as students write it: the rest of its cell runs, and each figure is
    # shown at the end of its cell, as in Jupyter (the displays are recorded, the hook above gone)
    Cell("get_ipython().events.unregister('post_execute', hook)\nshown = []\n"
         "publish = get_ipython().display_pub.publish\n"
         "get_ipython().display_pub.publish = lambda data, **kw: (shown.append(sorted(data)),"
         " publish(data, **kw))\n", "record"),
    Cell("%matplotlib inline\nfig2, ax2 = plt.subplots()\nax2.plot([3, 1, 2])\n"
         "inline_cell = 'ran to its end'\n", "q-inline", ("inline_cell",)),
    Cell("figure_lines = len(fig2.axes[0].lines)\n"
         "shown_png = sum('image/png' in data for data in shown)\n", "q-shown",
         ("figure_lines", "shown_png")),
]


@pytest.fixture(scope="module")
def reply() -> Reply:
    runner = Runner()
    workdir = Path(tempfile.mkdtemp(prefix="bpk-test-"))
    (workdir / JOB_FILE).write_text(json.dumps(Job(tuple(CELLS)).to_json()))
    try:
        return runner.run(Request(str(workdir), 30, {"memory_bytes": 1 << 30},
                                  sandbox.detect() != "none"))
    finally:
        runner.close()


def text(reply: Reply, name: str) -> object:
    data = reply.answers[name]["data"]
    return data.get("text", data.get("value"))


def test_future_imports_hold_across_cells(reply) -> None:
    assert text(reply, "later") == "NotDefinedAnywhere"


def test_ipython_builtins_and_display(reply) -> None:
    assert text(reply, "shell_name") == "InteractiveShell"
    assert not any("q-display" in e for e in reply.errors)


def test_an_error_ends_its_cell_only(reply) -> None:
    assert text(reply, "before") == "ran"
    assert text(reply, "after_error") == "next cell ran"
    assert [e for e in reply.errors if e.startswith("q-error")] == [
        "q-error: ValueError: boom"]


def test_a_pasted_prompt_is_stripped_as_ipython_does(reply) -> None:
    assert text(reply, "pasted") == "stripped"


def test_magics_run_and_post_execute_hooks_run_after_each_cell(reply) -> None:
    assert not any(e.startswith(("magic", "register")) for e in reply.errors)
    assert text(reply, "open_during") == 1
    assert text(reply, "open_after") == 0


def test_matplotlib_inline_runs_its_cell_and_shows_the_figure(reply) -> None:
    """A plain IPython shell has no GUI event loop to start: ``%matplotlib inline`` raised
    NotImplementedError there and stopped its cell (answers defined after it were lost)."""
    assert not any(e.startswith(("record", "q-inline", "q-shown")) for e in reply.errors), (
        reply.errors)
    assert text(reply, "inline_cell") == "ran to its end"
    assert text(reply, "figure_lines") == 1  # the student's figure, drawn
    assert text(reply, "shown_png") == 1  # and shown as a picture after its cell, once


def test_one_line_cells_and_the_run_ends(reply) -> None:
    assert text(reply, "one_line") == "ok"
    assert not any(e.startswith(("toggle", "restore")) for e in reply.errors), reply.errors
    assert text(reply, "automagic_after") == "False"
    assert reply.status == "graded", reply.errors


def test_a_notebook_with_matplotlib_inline_is_graded_to_its_end(tmp_path: Path) -> None:
    """``%matplotlib inline`` where students put it, atop their first cell and atop the plot
    that the hand-graded question discusses: the real ``backprop-kit grade`` runs both cells to
    their end (the first one defines ``check``, ``f`` and the student's numbers), so every
    answer is graded as it would be without the magic, and no cell stopped."""
    assignment = "steepest-descent-2d"
    nb = examples.as_student_copy(examples.load(ROOT / "assignments", assignment))
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    plot = next(c for c in code if "ax.contour(" in "".join(c["source"]))
    for cell in (code[0], plot):
        cell["source"] = "%matplotlib inline\n" + "".join(cell["source"])
    folder = tmp_path / "submitted" / "student-1" / assignment
    folder.mkdir(parents=True)
    (folder / f"{assignment}.ipynb").write_text(json.dumps(nb), encoding="utf-8")
    env = {**os.environ, "BACKPROP_KIT_WARM": "0",
           "PATH": f"{KIT.parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    unsafe = [] if sandbox.detect() != "none" else ["--allow-unsandboxed"]
    done = subprocess.run([str(KIT), "grade", "submitted", "-a", assignment, "-o", "out",
                           "-j", "1", *unsafe], cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    (graded,) = json.loads((tmp_path / "out" / "results.json").read_text())["submissions"]
    assert graded["status"] == "graded" and graded["errors"] == [], graded["errors"]
    points = {q["id"]: q["points"] for q in graded["questions"]}
    full = {q.id: q.points for q in questions(assignment)}
    assert points == pytest.approx(full)
