"""backprop-kit's answer checkers and grader.

The public checkers are pure functions returning a :class:`CheckResult`.
"""

from autograder.checks import check_array, check_expression, check_function, check_number
from autograder.results import CheckResult

__all__ = ["CheckResult", "check_array", "check_expression", "check_function", "check_number"]
__version__ = "0.1.0"
