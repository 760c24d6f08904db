"""The check cells as a student meets them: a released notebook run in a real Jupyter kernel.

One kernel runs a short session on the released ``backprop`` notebook: a blank answer, a
right one, a slip, an unreadable one, and a right answer whose cell is then broken. What the
student sees (outputs of each check cell) is asserted; answers come from ``solutions``. The
same cells run once more as ``nbgrader validate`` runs them (``NBGRADER_EXECUTION`` set in the
kernel's environment): there a failing check fails its cell.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import nbformat
import pytest
import sympy
from nbclient import NotebookClient

from autograder.course import examples
from autograder.course.release import check_cell_source
from autograder.judge.diagnosis import FEEDBACK
from autograder.rubric.course import question
from autograder.student.notebook import NOT_ANSWERED, SELFCHECK_FILE, assigned_names

ROOT = Path(__file__).resolve().parents[1]
W12 = question("backprop-dR-dw12")


def code_cell(source: str) -> dict[str, Any]:
    return nbformat.v4.new_code_cell(source)


def released_check(q: Any) -> str:
    """The test cell as released: the hidden block removed, as nbgrader does."""
    source = check_cell_source(q)
    start, end = source.index("### BEGIN HIDDEN TESTS"), source.index("### END HIDDEN TESTS")
    return source[:start] + source[end + len("### END HIDDEN TESTS\n"):]


def text_of(outputs: list[Any]) -> str:
    parts = []
    for out in outputs:
        if out["output_type"] == "stream":
            parts.append(out["text"])
        elif out["output_type"] == "error":
            parts.append("ERROR " + out["ename"] + ": " + "\n".join(out["traceback"]))
        else:
            parts.append(json.dumps(out.get("data", {})))
    return "\n".join(parts)


def run_session(tmp_path_factory: pytest.TempPathFactory, **env: str) -> list[Any]:
    """The cells run one after the other in a fresh kernel (``env`` added to its
    environment), as Run All does: an error stops nothing here, so each cell's outputs show."""
    folder = tmp_path_factory.mktemp("student")
    shutil.copy(ROOT / "assignments" / "backprop" / SELFCHECK_FILE, folder / SELFCHECK_FILE)
    reference = sympy.sstr(W12.expected)
    check = released_check(W12)
    cells = [
        "from autograder.student.notebook import check",
        examples.STUB, check,  # 2: blank, as released
        examples.answer_code(W12.name, W12.expected), check,  # 4: right
        examples.answer_code(W12.name, examples.sign_slip(W12.expected)), check,  # 6: slip
        f'{W12.name} = "1/2x +"', check,  # 8: unreadable
        examples.answer_code(W12.name, W12.expected), check,  # 10: right again
        f'{W12.name} = "{reference}"\nraise ValueError("oops")', check,  # 12: cell raised
        f'{W12.name} = "{reference}" +', check,  # 14: syntax error
    ]
    nb = nbformat.v4.new_notebook(cells=[code_cell(c) for c in cells])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    # The kernel starts elsewhere; as under jupyter-server, JPY_SESSION_NAME names the notebook,
    # so selfcheck.json is found beside it.
    elsewhere = tmp_path_factory.mktemp("kernel-cwd")
    base = {k: v for k, v in os.environ.items() if not k.startswith("NBGRADER")}
    NotebookClient(nb, timeout=120, allow_errors=True,
                   resources={"metadata": {"path": str(elsewhere)}}).execute(
        env={**base, "JPY_SESSION_NAME": str(folder / "backprop.ipynb"), **env})
    return nb.cells


@pytest.fixture(scope="module")
def session(tmp_path_factory: pytest.TempPathFactory) -> list[Any]:
    """Cells as a student runs them in JupyterLab, with their outputs."""
    return run_session(tmp_path_factory)


@pytest.fixture(scope="module")
def validating(tmp_path_factory: pytest.TempPathFactory) -> list[Any]:
    """The same cells as ``nbgrader validate`` runs them."""
    return run_session(tmp_path_factory, NBGRADER_EXECUTION="validate")


def stderr_of(outputs: list[Any]) -> str:
    return "".join(o["text"] for o in outputs
                   if o["output_type"] == "stream" and o["name"] == "stderr")


FAILING = (2, 6, 8, 12, 14)  # the check cells of a blank, slipped, unreadable or broken answer


def test_a_failing_check_shows_red_and_the_notebook_goes_on(session: list[Any]) -> None:
    """Run All reaches every cell: no check cell fails (answer cells that raise do), each
    wrong answer's verdict is on stderr (JupyterLab shows it red)."""
    assert all(cell.execution_count for cell in session)
    checks = session[2::2]
    assert not [o for cell in checks for o in cell.outputs if o["output_type"] == "error"]
    for index in FAILING:
        assert stderr_of(session[index].outputs).strip(), index


def test_nbgrader_validate_still_fails_those_cells(validating: list[Any]) -> None:
    failed = [i for i, cell in enumerate(validating)
              if i and i % 2 == 0 and any(o["output_type"] == "error" for o in cell.outputs)]
    assert failed == list(FAILING)
    assert validating[2].outputs[-1]["traceback"] == [f"{W12.name}: {NOT_ANSWERED}."]
    assert FEEDBACK["sign"] in "\n".join(validating[6].outputs[-1]["traceback"])


def test_blank_answer_is_not_answered_without_traceback(session: list[Any]) -> None:
    outputs = session[2].outputs
    assert [(o["output_type"], o.get("name")) for o in outputs] == [("stream", "stderr")]
    assert stderr_of(outputs) == f"{W12.name}: {NOT_ANSWERED}.\n"


def test_right_answer_is_shown_as_maths_then_correct(session: list[Any]) -> None:
    outputs = session[4].outputs
    assert not [o for o in outputs if o["output_type"] in ("error", "execute_result")]
    shown = [o for o in outputs if o["output_type"] == "display_data"]
    assert shown and "text/latex" in shown[0]["data"]
    assert shown[0]["data"]["text/plain"] == sympy.sstr(W12.expected)
    assert "Correct." in text_of(outputs)


def test_slip_shows_red_and_names_the_slip(session: list[Any]) -> None:
    outputs = session[6].outputs
    assert FEEDBACK["sign"] in stderr_of(outputs)
    assert "Traceback" not in text_of(outputs)


def test_unreadable_answer_shows_red_and_says_why(session: list[Any]) -> None:
    outputs = session[8].outputs
    assert stderr_of(outputs).strip()
    assert "1/2x +" in text_of(outputs)
    assert "Traceback" not in text_of(outputs)


def test_value_left_from_before_a_failed_cell_is_not_judged(session: list[Any]) -> None:
    assert "Correct." in text_of(session[10].outputs)
    assert not stderr_of(session[10].outputs)
    for index in (12, 14):
        outputs = session[index].outputs
        assert [o["output_type"] for o in outputs] == ["stream"], index
        assert stderr_of(outputs) == f"{W12.name}: {NOT_ANSWERED}.\n"


def test_missing_selfcheck_file_says_where_it_looked(tmp_path: Path) -> None:
    nb = nbformat.v4.new_notebook(cells=[code_cell(released_check(W12))])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    base = {k: v for k, v in os.environ.items() if not k.startswith(("NBGRADER", "JPY"))}
    NotebookClient(nb, timeout=120, allow_errors=True,
                   resources={"metadata": {"path": str(tmp_path)}}).execute(env=base)
    (out,) = nb.cells[0].outputs
    assert (out["output_type"], out["name"]) == ("stream", "stderr")
    message = out["text"]
    assert SELFCHECK_FILE in message and str(tmp_path) in message
    assert "same folder as the notebook" in message


def test_assigned_names_reads_without_running() -> None:
    assert assigned_names("a = 1\nb, (c, d) = 2, (3, 4)\ndef f(x):\n    e = x\n") == {
        "a", "b", "c", "d", "f"}
    assert assigned_names('x = "1/2" +\ndef g(:') == {"x", "g"}
    assert assigned_names("for i in range(3):\n    total = i\nimport numpy as np") == {
        "i", "total", "np"}
