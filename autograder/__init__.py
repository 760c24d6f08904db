"""backprop-kit's answer checkers and grader.

The public checkers are pure functions returning a :class:`CheckResult`. They are imported on
first use (PEP 562), so that ``import autograder.<module>`` does not pull in sympy: the command
line starts its runner process before paying for that import.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from autograder.judge.checks import check_array, check_expression, check_function, check_number
    from autograder.results import CheckResult

__all__ = ["CheckResult", "check_array", "check_expression", "check_function", "check_number"]
__version__ = "0.1.0"


def __getattr__(name: str) -> Any:
    if name == "CheckResult":
        from autograder.results import CheckResult

        return CheckResult
    if name in __all__:
        from autograder.judge import checks

        return getattr(checks, name)
    raise AttributeError(f"module 'autograder' has no attribute {name!r}")
