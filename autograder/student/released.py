"""The data released beside a notebook (``selfcheck.json``): where it is found and how it is
read, and the one error a self-check shows a student (:class:`CheckFailed`).

Both the self-checks (:mod:`autograder.student.notebook`) and whose-notebook-is-this
(:mod:`autograder.student.myvariant`) read it, so it sits below both.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
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
            return _read(path)
    looked = ", ".join(str(p.parent) for p in candidates)
    raise CheckFailed(
        f"Self-check unavailable: {SELFCHECK_FILE} was not found beside this notebook "
        f"(looked in {looked}). It comes with the assignment: put it in the same folder as "
        "the notebook and run this cell again.")


_read_before: dict[Path, tuple[tuple[int, int, int], dict[str, Any]]] = {}


def _read(path: Path) -> dict[str, Any]:
    """The file's data, parsed once while it is unchanged (a check cell and the first cell
    both ask for it; a new download is read afresh)."""
    try:
        info = path.stat()
        stamp = (info.st_ino, info.st_size, info.st_mtime_ns)
        if path in _read_before and _read_before[path][0] == stamp:
            return _read_before[path][1]
        data = json.loads(path.read_text(encoding="utf-8"))
        data["questions"], data["assignment"]  # noqa: B018 -- both must be there
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise CheckFailed(f"Self-check unavailable: {path} is damaged ({error}). "
                          "Download it again with the assignment.") from None
    _read_before[path] = (stamp, data)
    return data


def load_selfchecks(folder: Path | str | None = None) -> dict[str, Any]:
    """The released fingerprints, by question id (see :func:`load_released`)."""
    return load_released(folder)["questions"]


# --- the released data of every variant --------------------------------------------------

PER_STUDENT = "key"  # a question whose released data is per student: keyed by the variant key


def variant_key(fields: Sequence[str], variant: Any) -> str:
    """Which entry of a question's released data serves ``variant``: the values of the fields
    of the variant its reference depends on, as canonical JSON (they are not answers), or for
    data per student (``fields == ["key"]``) the start of the student's key."""
    if list(fields) == [PER_STUDENT]:
        return (variant.key or "lecture")[:16]
    return json.dumps({f: variant.numbers[f] for f in fields}, sort_keys=True,
                      separators=(",", ":"))


def released_entry(entry: Mapping[str, Any], variant: Any) -> Mapping[str, Any] | None:
    """A question's released data for ``variant``; None when the file has none for it."""
    if "variants" not in entry:
        return entry
    return entry["variants"].get(variant_key(entry["variant_fields"], variant))


def unavailable_feedback(title: str) -> str:
    """What a student without released data for their numbers is told (an id missing from the
    roster the instructor made the file with): who can mend it, and that the grade is not
    affected."""
    return (f"Self-check unavailable for your numbers of {title}: {SELFCHECK_FILE} was made "
            "before your id was on the course's roster. Ask your instructor for an updated "
            f"{SELFCHECK_FILE}; hidden tests still grade your answer.")


def entry_for(qid: str, entry: Mapping[str, Any], variant: Any) -> dict[str, Any]:
    """A question's released data for ``variant``, or a stand-in marked ``unavailable``."""
    found = released_entry(entry, variant)
    if found is not None:
        return dict(found)
    shown = next(iter(entry.get("variants", {}).values()), {})
    return {"id": qid, "name": entry["name"], "kind": entry["kind"], "points": entry["points"],
            "title": entry.get("title") or shown.get("title") or qid, "variables": [],
            "definitions": {}, "credit": {}, "probes": [], "project": "identity", "labels": [],
            "unavailable": True}
