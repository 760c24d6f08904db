"""The test functions handed to students' functions reach the sandboxed child as Python source
printed by the grader (issue 27: a runner without sympy), and give there what sympy's lambdify
gives, bit for bit, on every point the rubric's references call them at; the self-check's data
never carries that source."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

from autograder.judge.probing import (
    PROJECTIONS,
    ProbeFunction,
    encode_probe_arg,
    probes_digest,
    run_probes,
    shipped_probe_arg,
)
from autograder.rubric.course import questions

ASSIGNMENTS = ("backprop", "optimisation-1d", "steepest-descent-2d")
MOST_POINTS = 400  # points kept a function (the optimisers call theirs thousands of times)
VALUE = """
def value(function, point):
    try:
        out = function(*point)
    except Exception as error:
        return type(error).__name__
    return [float(v).hex() for v in out] if hasattr(out, "__len__") else float(out).hex()
"""

CHILD = VALUE + """
import json, sys
from autograder.judge.probing import decode_probe_arg
cases = json.load(sys.stdin)
values = [[value(decode_probe_arg(data, shipped=True), p) for p in points]
          for data, points in cases]
print(json.dumps({"values": values, "sympy": "sympy" in sys.modules}))
"""
_space: dict[str, Any] = {}
exec(VALUE, _space)  # noqa: S102 -- the test's own helper, run on both sides


def _functions() -> dict[ProbeFunction, list[Any]]:
    """Every test function of the three assignments' function questions, with the points the
    references call it at on the rubric's probes (recorded by running them)."""
    found: dict[ProbeFunction, list[Any]] = {}
    for assignment in ASSIGNMENTS:
        for question in questions(assignment):
            if question.kind != "function":
                continue
            for probe in question.probes:
                calls: list[Any] = []

                def recording(function: ProbeFunction, calls: list[Any] = calls) -> Any:
                    def call(*at: Any) -> Any:
                        calls.append((function, [a.tolist() if hasattr(a, "tolist") else a
                                                 for a in at]))
                        return function(*at)
                    return call

                args = [recording(a) if isinstance(a, ProbeFunction) else a for a in probe]
                run_probes(question.expected, [args], PROJECTIONS[question.project])
                for function, point in calls:
                    found.setdefault(function, []).append(point)
                for a in probe:
                    if isinstance(a, ProbeFunction):
                        found.setdefault(a, [])
    return found


def test_shipped_test_functions_give_lambdify_outputs_bit_for_bit_without_sympy() -> None:
    found = _functions()
    assert len(found) >= 10  # backprop's four and its loss, optimisation-1d's, the bowls
    cases, expected = [], []
    for function, points in found.items():
        points = points[:: max(1, len(points) // MOST_POINTS)] or [
            [[0.5] * len(function.variables)] if len(function.variables) > 1
            and len(function.components) > 1 else [0.5] * len(function.variables)]
        assert function.python_source, function  # every one of them is shipped as source
        data = shipped_probe_arg(function)
        assert data["source"] == function.python_source
        cases.append([data, points])
        expected.append([_space["value"](function, p) for p in points])
    child = subprocess.run([sys.executable, "-c", CHILD], input=json.dumps(cases),
                           capture_output=True, text=True, timeout=120, check=True)
    got = json.loads(child.stdout)
    assert got["sympy"] is False  # compiled from the source alone
    assert got["values"] == expected


def test_the_source_travels_in_the_job_only_and_names_the_same_probes() -> None:
    for assignment in ASSIGNMENTS:
        for question in questions(assignment):
            if question.kind != "function":
                continue
            shipped = [[shipped_probe_arg(a) for a in p] for p in question.probes]
            released = [[encode_probe_arg(a) for a in p] for p in question.probes]
            assert "source" in json.dumps(shipped)
            assert "source" not in json.dumps(released)
            assert "source" not in json.dumps(question.public())
            assert (probes_digest(shipped, question.project)
                    == probes_digest(released, question.project))


def test_code_in_data_other_than_a_graders_job_is_never_run(tmp_path) -> None:
    """A selfcheck.json (or any file handed on) whose test function carries "source" is read
    by its expression text only: the code is never run, the function is the text's."""
    from autograder.rubric.question import Question

    marker = tmp_path / "ran"
    question = next(q for q in questions("optimisation-1d") if q.kind == "function")
    data = question.public()
    planted = ("import pathlib\n"
               f"pathlib.Path({str(marker)!r}).write_text('ran')\n"
               "def _0(x):\n    return 12345.0\n")
    for probe in data["probes"]:
        for arg in probe:
            if isinstance(arg, dict) and "probe_function" in arg:
                arg["source"] = planted
    read = Question.from_public(data)
    functions = [a for p in read.probes for a in p if isinstance(a, ProbeFunction)]
    assert functions, "optimisation-1d's function question hands a test function"
    for function in functions:
        expected = ProbeFunction(function.components, function.variables)
        point = [1.5] * len(function.variables)
        assert function(*point) == expected(*point) != 12345.0
    assert not marker.exists()
