"""Which rubric judged an answer: a short hash of the question (points, credit, slips,
tolerances, reference) and of the judging code, kept with each result.

``regrade`` judges again only the answers whose question's version changed, so a credit change
on one question costs one question's answers. Anything whose text is not stable (an object
shown with its memory address) changes the version on every run: that costs time, never a
stale verdict. A change to the code that decides verdicts (:data:`VERDICT_CODE`) changes every
version; a change anywhere else (reports, the command line, the runner) changes none.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

import sympy

from autograder.rubric.question import ProbeFunction, Question, RestsOn, expected_outputs

PACKAGE = Path(__file__).resolve().parents[1]  # autograder/
# The code that decides a verdict, below the package: the judging core, whole, and the question
# model that judges a question with it.
VERDICT_CODE = ("judge", "rubric/question.py")


def verdict_sources(package: Path = PACKAGE) -> list[Path]:
    """Every source file of :data:`VERDICT_CODE`, subfolders included."""
    found: set[Path] = set()
    for part in VERDICT_CODE:
        path = package / part
        found.update(path.rglob("*.py") if path.is_dir() else [path])
    return sorted(found)


@cache
def engine_version(package: Path = PACKAGE) -> str:
    """A hash of the verdict code's contents: a new checker means every answer is judged again.
    Only contents count, so moving a file or editing anything outside it re-judges nothing."""
    contents = sorted(hashlib.sha256(p.read_bytes()).hexdigest() for p in verdict_sources(package))
    return hashlib.sha256("\n".join(contents).encode()).hexdigest()[:16]


def _stable(value: Any) -> Any:
    if isinstance(value, sympy.Basic):
        return "sympy:" + sympy.srepr(value)
    if isinstance(value, (ProbeFunction, RestsOn)):  # RestsOn: the code's question by content
        return value.to_json()
    if isinstance(value, Mapping):
        return {str(k): _stable(v) for k, v in sorted(value.items(), key=lambda kv: str(kv[0]))}
    if isinstance(value, (list, tuple)):
        return [_stable(v) for v in value]
    if hasattr(value, "tolist") and not isinstance(value, (str, bytes)):
        return ["array", value.tolist()]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return [type(value).__name__, {f.name: _stable(getattr(value, f.name))
                                       for f in dataclasses.fields(value)}]
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return repr(value)


def _fields(question: Question) -> dict[str, Any]:
    fields = {f.name: _stable(getattr(question, f.name)) for f in dataclasses.fields(question)
              if f.name not in ("expected", "origin")}  # where it was loaded from: not content
    if question.kind == "function" and callable(question.expected):
        fields["expected"] = expected_outputs(question)  # all the judge uses of a function
    else:
        fields["expected"] = _stable(question.expected)
    return fields


def _hash(fields: Mapping[str, Any]) -> str:
    text = json.dumps(fields, sort_keys=True, default=repr)
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:16]


def rubric_version(question: Question) -> str:
    """The version of ``question`` as the grader judges it (instructor side)."""
    return _hash({**_fields(question), "engine": engine_version()})


def question_version(question: Question) -> str:
    """The version of ``question``'s rubric alone (its points, credit, slips, reference), not
    of the checker's code: what a release of its self-checks was made from. Instructor side
    only: with the public fields known it would test guesses of the reference."""
    return _hash(_fields(question))
