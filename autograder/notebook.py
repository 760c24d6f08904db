"""What released notebooks import: ``from autograder.notebook import check, grade``.

A public path, kept for every notebook already handed out; the code is
:mod:`autograder.student.notebook`.
"""

from autograder.student.notebook import CheckFailed, check, defined, grade

__all__ = ["CheckFailed", "check", "defined", "grade"]
