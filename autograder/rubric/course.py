"""The course on disk and its assignments' rubrics (instructor side only).

Each assignment's rubric (questions, points, credit) sits beside its notebook as
``assignments/<assignment>/rubric.py``, so adding a question touches one folder. A rubric is
loaded by file path: it is course data, not part of the installed package, and nbgrader keeps it
out of the release (``CourseDirectory.ignore`` in ``nbgrader_config.py``).
"""

from __future__ import annotations

import dataclasses
import hashlib
import importlib.abc
import importlib.util
import os
import sys
from functools import cache, lru_cache
from pathlib import Path
from types import ModuleType
from typing import Any

from autograder.errors import BackpropKitError, UsageError
from autograder.rubric.question import Question
from autograder.rubric.variants import Variant

CONFIG_FILE = "nbgrader_config.py"
SOURCE_DIR = "assignments"
RUBRIC_FILE = "rubric.py"


def _is_course(folder: Path) -> bool:
    return (folder / CONFIG_FILE).is_file() and (folder / SOURCE_DIR).is_dir()


def _solutions_root() -> Path | None:
    try:
        import solutions
    except ImportError:
        return None
    return Path(solutions.__file__).resolve().parent.parent


def find_course(start: Path | None = None, package_root: Path | None = None) -> Path:
    """The course directory: the first folder at or above ``start`` (default: cwd) with
    nbgrader_config.py and assignments/, so that a copy of the course finds itself; else where
    ``solutions`` is installed from (``pip install -e`` in the course root).

    The hidden ``grade(...)`` runs in the student's kernel with cwd
    ``autograded/<student>/<assignment>/``, inside the course.
    """
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if _is_course(folder):
            return folder
    root = package_root if package_root is not None else _solutions_root()
    if root is not None and _is_course(root):
        return root
    raise BackpropKitError(
        f"no course directory found: neither the installed solutions package ({root}) nor any "
        f"folder above {here} holds {CONFIG_FILE} and {SOURCE_DIR}/; install backprop-kit "
        "editable (pip install -e .) from the course root or run from inside the course")


def source_dir() -> Path:
    return find_course() / SOURCE_DIR


class _RubricSource(importlib.abc.SourceLoader):
    """Loads a rubric from the very bytes its origin was computed from (no bytecode cache:
    a cached .pyc is matched by whole-second mtime and size, so a quick edit of the same
    length could run the old rubric under the new one's name)."""

    def __init__(self, path: Path, source: bytes) -> None:
        self.path, self.source = path, source

    def get_filename(self, fullname: str) -> str:
        return str(self.path)

    def get_data(self, path: str) -> bytes:
        return self.source


def origin(path: Path, source: bytes) -> str:
    """A rubric file's identity and content: its path, device and inode, and the sha256 of
    ``source``, the bytes that ran (what :attr:`Question.origin` holds)."""
    try:
        info = os.stat(path)
        where = f"{info.st_dev}:{info.st_ino}"
    except OSError:
        where = "?"
    return f"{path}\0{where}\0{hashlib.sha256(source).hexdigest()}"


def use_course_solutions(course: Path) -> None:
    """A rubric imports ``solutions``: make it the course's own (a copy of the course has its
    own), never silently another checkout's."""
    own = course / "solutions" / "__init__.py"
    if not own.is_file():
        return  # a course without solutions/ of its own: the installed package
    loaded = sys.modules.get("solutions")
    if loaded is None:
        if str(course) not in sys.path:
            sys.path.insert(0, str(course))
        return
    if Path(loaded.__file__ or "").resolve() != own.resolve():
        raise BackpropKitError(
            f"the course at {course} has its own solutions/, but this process already uses "
            f"another ({Path(loaded.__file__ or '').parent}); run the command again (a warm "
            "grader of another course: backprop-kit warm --stop)")


@cache
def _load(path: Path) -> ModuleType:
    course = path.parent.parent.parent  # <course>/assignments/<assignment>/rubric.py
    if _is_course(course):
        use_course_solutions(course)
    name = f"backprop_kit_rubric_{path.parent.name.replace('-', '_')}"
    try:
        source = path.read_bytes()
    except OSError as error:
        raise BackpropKitError(f"{path}: the rubric cannot be read ({error.strerror})") from None
    loader = _RubricSource(path, source)
    spec = importlib.util.spec_from_file_location(name, path, loader=loader)
    if spec is None:  # pragma: no cover -- a .py path always has one
        raise BackpropKitError(f"{path}: cannot be loaded as a rubric")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # so that what it defines pickles by reference
    try:
        loader.exec_module(module)
    except Exception as error:
        del sys.modules[name]
        raise BackpropKitError(f"{path}: the rubric failed to load "
                               f"({type(error).__name__}: {error})") from error
    if not isinstance(getattr(module, "QUESTIONS", None), tuple) or not all(
            isinstance(q, Question) for q in module.QUESTIONS):
        raise BackpropKitError(f"{path}: QUESTIONS must be a tuple of "
                               "autograder.rubric.question.Question")
    module.RUBRIC_ORIGIN = origin(path, source)
    module.QUESTIONS = tuple(dataclasses.replace(q, origin=module.RUBRIC_ORIGIN)
                             for q in module.QUESTIONS)
    return module


def assignments() -> tuple[str, ...]:
    """The assignments of the course: the source folders that have a rubric.py."""
    return tuple(sorted(p.parent.name for p in source_dir().glob(f"*/{RUBRIC_FILE}")))


def rubric(assignment: str) -> ModuleType:
    """The rubric module of ``assignment`` (its QUESTIONS and the constants its notebook uses)."""
    path = source_dir() / assignment / RUBRIC_FILE
    if not path.is_file():
        raise UsageError(f"unknown assignment {assignment!r} (no {path}); choose one of "
                         f"{', '.join(assignments())}")
    return rubric_at(path)


def rubric_at(path: Path) -> ModuleType:
    """The rubric module in the file ``path`` (loaded once per process, as :func:`rubric`)."""
    return _load(path.resolve())


def questions(assignment: str, variant: Variant | None = None) -> tuple[Question, ...]:
    """The questions of ``assignment``; for a student's ``variant``
    (autograder.rubric.variants) built by the rubric's ``questions(variant)`` with that
    variant's references, once per variant.
    No variant, the lecture's, or a rubric without ``questions``: its ``QUESTIONS``."""
    module = rubric(assignment)
    if variant is None or variant.is_lecture or not callable(getattr(module, "questions", None)):
        return module.QUESTIONS
    if variant.assignment != assignment:
        raise UsageError(f"a variant of {variant.assignment} cannot serve {assignment}")
    return _variant_questions(module, variant)


@lru_cache(maxsize=1024)
def _variant_questions(module: ModuleType, variant: Variant) -> tuple[Question, ...]:
    try:
        built = tuple(module.questions(variant))
    except Exception as error:
        raise BackpropKitError(f"{module.__file__}: questions() failed for the variant "
                               f"{variant.key} ({type(error).__name__}: {error})") from error
    lecture = [q.id for q in module.QUESTIONS]
    if [q.id for q in built] != lecture or not all(isinstance(q, Question) for q in built):
        raise BackpropKitError(f"{module.__file__}: questions(variant) must give the questions "
                               f"of QUESTIONS, in order ({', '.join(lecture)})")
    return tuple(dataclasses.replace(q, variant=variant.key,
                                     origin=getattr(module, "RUBRIC_ORIGIN", None))
                 for q in built)


def variant_questions(assignment: str, key: str | None) -> tuple[Question, ...]:
    """The questions of the variant ``key`` (as results.json keeps it; None: the lecture's)."""
    from autograder.rubric.variants import variant_from_key

    return questions(assignment, None if key is None else variant_from_key(assignment, key))


def variant_seed() -> str | None:
    """The course's variant seed (``c.BackpropKit.variant_seed`` in nbgrader_config.py)."""
    from autograder.rubric.variants import VariantError, course_seed

    try:
        return course_seed(find_course())
    except VariantError as error:
        raise UsageError(str(error)) from None


def course_id() -> str | None:
    """The course's id (``c.CourseDirectory.course_id`` in nbgrader_config.py, parsed, never
    run), for the feedback pages; None when there is no course or no such setting."""
    import ast

    try:
        tree = ast.parse((find_course() / "nbgrader_config.py").read_text(encoding="utf-8"))
    except (OSError, SyntaxError, ValueError, BackpropKitError):
        return None
    found = None
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant) \
                and isinstance(node.value.value, str):
            for target in node.targets:
                if (isinstance(target, ast.Attribute) and target.attr == "course_id"
                        and isinstance(target.value, ast.Attribute)
                        and target.value.attr == "CourseDirectory"):
                    found = node.value.value
    return found or None


def self_checks(assignment: str, variant: Variant | None = None) -> dict[str, Any]:
    """The visible checks of ``assignment`` (its rubric's ``self_checks(variant)``, else
    ``SELF_CHECKS``)."""
    module = rubric(assignment)
    if variant is not None and callable(getattr(module, "self_checks", None)):
        return dict(module.self_checks(variant))
    return dict(getattr(module, "SELF_CHECKS", {}))


def manual_questions(assignment: str) -> tuple[Question, ...]:
    """The hand-graded questions (kind "manual") of ``assignment``: its rubric's ``MANUAL``."""
    return tuple(getattr(rubric(assignment), "MANUAL", ()))


def question(question_id: str) -> Question:
    for assignment in assignments():
        for q in questions(assignment):
            if q.id == question_id:
                return q
    raise UsageError(f"unknown question {question_id!r}")


def __getattr__(name: str) -> tuple[str, ...]:
    """``ASSIGNMENTS``, found on first use (a module constant would search at import)."""
    if name == "ASSIGNMENTS":
        return assignments()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
