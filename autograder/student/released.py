"""The data released beside a notebook (``selfcheck.json``): where it is found and how it is
read, and the one error a self-check shows a student (:class:`CheckFailed`).

Both the self-checks (:mod:`autograder.student.notebook`) and whose-notebook-is-this
(:mod:`autograder.student.myvariant`) read it, so it sits below both.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from autograder.student.kernel import namespace

SELFCHECK_FILE = "selfcheck.json"


class CheckFailed(AssertionError):
    """A self-check that found the answer wrong, unreadable or missing.

    It fails the cell (so ``nbgrader validate`` lists it) and shows only its message: IPython
    renders an exception by ``_render_traceback_`` when it has one.
    """

    def _render_traceback_(self) -> list[str]:
        return str(self).splitlines()




def selfcheck_candidates() -> list[Path]:
    """Where ``selfcheck.json`` may be: beside the notebook the kernel belongs to (Jupyter
    servers set ``JPY_SESSION_NAME`` to its path, VS Code sets ``__vsc_ipynb_file__``), then
    the kernel's working directory."""
    places: list[Path] = []
    session = os.environ.get("JPY_SESSION_NAME", "")
    if session:
        places.append(Path(session).expanduser().parent)
    vscode = namespace().get("__vsc_ipynb_file__")
    if isinstance(vscode, str):
        places.append(Path(vscode).parent)
    places.append(Path.cwd())
    return [p.absolute() / SELFCHECK_FILE for p in dict.fromkeys(places)]


def load_released(folder: Path | str | None = None) -> dict[str, Any]:
    """The released self-check data (``selfcheck.json``): from ``folder``, or found beside the
    notebook. Raises :class:`CheckFailed` saying where it looked."""
    candidates = ([Path(folder) / SELFCHECK_FILE] if folder is not None
                  else selfcheck_candidates())
    for path in candidates:
        if path.is_file():
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
                data["questions"], data["assignment"]  # noqa: B018 -- both must be there
                return data
            except (OSError, ValueError, KeyError, TypeError) as error:
                raise CheckFailed(f"Self-check unavailable: {path} is damaged ({error}). "
                                  "Download it again with the assignment.") from None
    looked = ", ".join(str(p.parent) for p in candidates)
    raise CheckFailed(
        f"Self-check unavailable: {SELFCHECK_FILE} was not found beside this notebook "
        f"(looked in {looked}). It comes with the assignment: put it in the same folder as "
        "the notebook and run this cell again.")


def load_selfchecks(folder: Path | str | None = None) -> dict[str, Any]:
    """The released fingerprints, by question id (see :func:`load_released`)."""
    return load_released(folder)["questions"]
