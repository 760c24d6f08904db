"""Whose notebook this is, and so which numbers it uses: the first code cell of a released
notebook calls :func:`my_variant`.

The student's id comes from what the platform controls first, and from the student last:

1. ``backprop-kit grade`` runs the notebook with the submission folder's student, the course
   seed and the assignment in ``BACKPROP_KIT_STUDENT``, ``BACKPROP_KIT_SEED`` and
   ``BACKPROP_KIT_ASSIGNMENT`` (``backprop-kit check``: the JupyterHub user, the released seed);
2. ``nbgrader autograde`` (``NBGRADER_EXECUTION=autograde``) runs it in
   ``autograded/<student>/<assignment>/``: the folder names the student, the course's
   ``nbgrader_config.py`` the seed;
3. JupyterHub's user (``JUPYTERHUB_USER``), which is nbgrader's student id there;
4. the id the student types in the first cell, ``STUDENT_ID = "..."``.

The course seed is released with the assignment (``selfcheck.json``): the numbers it gives are
not answers. Without a seed every student gets the lecture's numbers and needs no id.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from autograder.run.capture import ASSIGNMENT_ENV, SEED_ENV, STUDENT_ENV  # noqa: F401

TYPED_NAME = "STUDENT_ID"  # the student types their id here (variants.typed_student_id)


@dataclass(frozen=True)
class Whose:
    """A student id and where it came from (``grader``, ``nbgrader``, ``jupyterhub``,
    ``typed``), or no id (``none``)."""

    student_id: str | None
    source: str


def find_student(typed: Any = None) -> Whose:
    """The student this notebook runs for: the platform's id first, the typed one last."""
    graded = os.environ.get(STUDENT_ENV)
    if graded:
        return Whose(graded, "grader")
    if os.environ.get("NBGRADER_EXECUTION") == "autograde":
        return Whose(Path.cwd().parent.name, "nbgrader")
    hub = os.environ.get("JUPYTERHUB_USER")
    if hub:
        return Whose(hub, "jupyterhub")
    if isinstance(typed, str) and typed.strip():
        return Whose(typed.strip(), "typed")
    return Whose(None, "none")


def _course_seed() -> str | None:
    """The seed of the course nbgrader runs in (its ``autograded/<student>/<assignment>/`` is
    the kernel's folder), else of the installed course (instructor side)."""
    from autograder.rubric.course import CONFIG_FILE, variant_seed
    from autograder.rubric.variants import course_seed

    here = Path.cwd()
    for folder in (here, *here.parents):
        if (folder / CONFIG_FILE).is_file():
            return course_seed(folder)
    return variant_seed()


def _autograding() -> bool:
    return os.environ.get("NBGRADER_EXECUTION") == "autograde"


def _run_by_the_kit() -> bool:
    """``backprop-kit grade`` or ``check`` runs this notebook and says what it is."""
    return bool(os.environ.get(ASSIGNMENT_ENV))


def find_seed(released: dict[str, Any] | None) -> str | None:
    """The course seed: the grader's, the course's under autograde, else the released one."""
    if _run_by_the_kit():
        return os.environ.get(SEED_ENV) or None
    if _autograding():
        try:
            return _course_seed()
        except Exception:  # noqa: BLE001 -- no course here: fall back to the released seed
            pass
    return (released or {}).get("variant_seed") or None


def _released_or_none(folder: Path | str | None) -> dict[str, Any] | None:
    from autograder.student.released import CheckFailed, load_released

    try:
        return load_released(folder)
    except CheckFailed:
        return None


def find_assignment(released: dict[str, Any] | None) -> str | None:
    """The assignment: the grader's, the folder's under autograde, else the released one."""
    if _run_by_the_kit():
        return os.environ[ASSIGNMENT_ENV]
    if released is not None:
        return str(released["assignment"])
    if _autograding():
        return Path.cwd().name
    return None


def my_variant(typed: Any = None, folder: Path | str | None = None) -> Any:
    """This notebook's :class:`autograder.rubric.variants.Variant`.

    Raises :class:`autograder.student.released.CheckFailed` (a plain message in the notebook) when
    the course has a seed and no id is found (the student types it in the first cell), or
    when the released ``selfcheck.json`` is missing where it is needed.
    """
    from autograder.student.released import CheckFailed, load_released

    graded = _run_by_the_kit() or _autograding()
    released = _released_or_none(folder) if graded else load_released(folder)
    assignment = find_assignment(released)
    if assignment is None:  # pragma: no cover -- graded without an assignment: a grader bug
        raise CheckFailed("This notebook cannot tell which assignment it is.")
    variant, note = variant_of(assignment, find_seed(released), typed)
    if note:
        print(note)
    return remember(variant)


def variant_of(assignment: str, seed: str | None, typed: Any = None) -> tuple[Any, str | None]:
    """The variant of the student :func:`find_student` names, and a note when the id typed in
    the notebook is not that student's; the one way, in the notebook and in ``backprop-kit
    check``. Raises :class:`CheckFailed` when the course has a seed and no id is found."""
    from autograder.rubric.variants import variant_for
    from autograder.student.released import CheckFailed

    who = find_student(typed)
    if seed is None:
        return variant_for(assignment, who.student_id or "", None), None
    if who.student_id is None:
        raise CheckFailed(
            f"Your own numbers need your student id: type it in the first code cell, as "
            f'{TYPED_NAME} = "your id", and run the cell again.')
    note = None
    if who.source != "typed" and isinstance(typed, str) and typed.strip() \
            and typed.strip() != who.student_id:
        note = (f"Note: you typed {TYPED_NAME} = {typed.strip()!r}, but this notebook runs for "
                f"{who.student_id!r} ({who.source}); it uses {who.student_id!r}'s numbers.")
    return variant_for(assignment, who.student_id, seed), note


def grading_variant(assignment: str, typed: Any = None) -> Any:
    """The variant the hidden tests judge against (instructor side): the student the platform
    names (under ``nbgrader autograde`` the submission's folder) and the course's own seed,
    never a seed or id from the student's files unless no platform names one."""
    from autograder.rubric.variants import variant_for

    seed = os.environ.get(SEED_ENV) or None if _run_by_the_kit() else _course_seed()
    return variant_for(assignment, find_student(typed).student_id, seed)


_current: list[Any] = []  # the variant the first cell worked out, for the check cells


def remember(variant: Any) -> Any:
    _current[:] = [variant]
    return variant


def current(typed: Any = None) -> Any:
    """The variant the first cell worked out (worked out now if it has not run)."""
    return _current[0] if _current else my_variant(typed)
