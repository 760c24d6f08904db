"""What the notebooks' test cells call: ``check`` (visible) and ``grade`` (hidden).

nbgrader reads a test cell's numeric result as its partial score and gives 0 for anything on
stderr, so both print their feedback on stdout, silence warnings, and return points.
``check`` never raises: a broken self-check must not cost a student the cell.
"""

from __future__ import annotations

import json
import warnings
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from autograder import rubric
from autograder.results import CheckResult

SELFCHECK_FILE = "selfcheck.json"


@contextmanager
def _quiet():
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        yield


def load_selfchecks(folder: Path | str = ".") -> dict[str, Any]:
    """The released fingerprints beside the notebook, by question id."""
    return json.loads((Path(folder) / SELFCHECK_FILE).read_text(encoding="utf-8"))["questions"]


def render(result: CheckResult, points: float, prefix: str) -> str:
    earned = result.score * points
    if result.details.get("form_only"):
        return f"{prefix}: {result.feedback} (This check does not say whether it is right.)"
    return f"{prefix}: {result.feedback} [{earned:g} of {points:g} points]"


def check(question_id: str, answer: Any) -> float | None:
    """Visible self-check against the released fingerprint; returns points where it can judge."""
    try:
        data = load_selfchecks()[question_id]
        with _quiet():
            result = rubric.self_check(data, answer)
    except Exception as error:  # noqa: BLE001 -- a self-check must never fail the cell
        print(f"Self-check unavailable ({type(error).__name__}: {error}).")
        return None
    print(render(result, data["points"], "Self-check"))
    if result.details.get("form_only"):
        return None
    return round(result.score * data["points"], 6)


def grade(question_id: str, answer: Any) -> float:
    """Hidden test: judge against ``solutions`` (instructor side); returns the points earned."""
    from autograder.course import question  # instructor side only

    q = question(question_id)
    with _quiet():
        result = rubric.judge(q, answer)
    print(render(result, q.points, "Graded"))
    return round(result.score * q.points, 6)
