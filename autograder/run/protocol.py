"""The runner's two messages, one JSON line each: a :class:`Request` (grader -> runner ->
supervisor -> the student's process) and a :class:`Reply` (supervisor -> grader). Built and read
only here, so that the two sides cannot drift; stdlib only, since the runner imports it first.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from autograder.results import STATUSES


@dataclass(frozen=True)
class Request:
    """Run the job the grader left in ``workdir``, within ``timeout`` seconds and ``limits``
    (:class:`autograder.run.sandbox.Limits` fields); ``warm``: the first of a batch, the runner
    warms its caches meanwhile. ``functions``: the test functions (as data) the job hands to
    the student's functions; the runner compiles them once, so that every later child
    inherits them compiled instead of compiling them again (about 60 ms a backprop child)."""

    workdir: str
    timeout: float
    limits: Mapping[str, int | None] = field(default_factory=dict)
    require_sandbox: bool = True
    confine: bool = True  # False only to measure what the sandbox costs (benchmarks)
    warm: bool = False
    functions: tuple[Mapping[str, Any], ...] = ()

    def line(self) -> str:
        return json.dumps(asdict(self) | {"limits": dict(self.limits),
                                          "functions": [dict(f) for f in self.functions]}) + "\n"

    @classmethod
    def read(cls, line: str | bytes) -> Request:
        """The request on ``line``; ValueError naming what is wrong with any other."""
        data = json.loads(line)
        if not isinstance(data, dict) or not set(data) <= set(cls.__dataclass_fields__):
            raise ValueError("a request holds only "
                             + ", ".join(sorted(cls.__dataclass_fields__)))
        limits = data.get("limits", {})
        if not isinstance(limits, dict) or not all(
                isinstance(v, int) and not isinstance(v, bool) or v is None
                for v in limits.values()):
            raise ValueError("a request's limits are whole numbers by name")
        if not isinstance(data.get("workdir"), str) or not isinstance(
                data.get("timeout"), (int, float)) or isinstance(data.get("timeout"), bool):
            raise ValueError("a request names a workdir (text) and a timeout (seconds)")
        for flag in ("require_sandbox", "confine", "warm"):
            if not isinstance(data.get(flag, True), bool):
                raise ValueError(f"a request's {flag} is true or false")
        functions = data.get("functions", [])
        if not isinstance(functions, list) or not all(isinstance(f, dict) for f in functions):
            raise ValueError("a request's functions are a list of test functions as data")
        return cls(**data | {"functions": tuple(functions)})


@dataclass(frozen=True)
class Reply:
    """What came of a request: the status, each answer the child sent (by answer name: its
    message as sent, judged by the grader), what went wrong, the sandbox the child reported
    before any student code ran, and how long it took."""

    status: str
    answers: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    errors: tuple[str, ...] = ()
    sandbox: str = "none"
    seconds: float = 0.0

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"unknown status {self.status!r}")

    @classmethod
    def failed(cls, error: str) -> Reply:
        return cls("error", errors=(error,))

    def with_errors(self, *more: str) -> Reply:
        return replace(self, errors=(*self.errors, *more))

    def line(self) -> str:
        return json.dumps({"status": self.status, "answers": dict(self.answers),
                           "errors": list(self.errors), "sandbox": self.sandbox,
                           "seconds": self.seconds}) + "\n"

    @classmethod
    def read(cls, line: str | bytes) -> Reply:
        """The reply on ``line``; ValueError naming what is wrong with any other."""
        try:
            data = json.loads(line)
            answers = data["answers"]
            if not isinstance(answers, dict) or not all(
                    isinstance(k, str) and isinstance(v, dict) for k, v in answers.items()):
                raise ValueError("its answers are not messages by name")
            return cls(str(data["status"]), answers,
                       tuple(str(e) for e in data["errors"]), str(data["sandbox"]),
                       float(data["seconds"]))
        except (KeyError, TypeError) as error:
            raise ValueError(f"a malformed reply ({type(error).__name__}: {error})") from None
