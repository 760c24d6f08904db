"""A graded notebook's cells keep IPython's semantics, on the direct path for plain Python
(compiled once) and on IPython's own path for the rest: magics, pasted prompts, one-line
automagics, ``from __future__`` across cells, ``display``, errors, post-execute hooks (an
inline backend's). One real runner, one sandboxed child for all of it."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import pytest

from autograder.run import sandbox
from autograder.run.capture import Cell, Job
from autograder.run.client import Runner
from autograder.run.protocol import Reply, Request
from autograder.run.runner import JOB_FILE

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
    # a one-line cell goes through IPython (which may read it as an automagic)
    Cell("one_line = 'ok'", "q-one", ("one_line",)),
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


def test_one_line_cells_and_the_run_ends(reply) -> None:
    assert text(reply, "one_line") == "ok"
    assert reply.status == "graded", reply.errors
