"""One error hierarchy for authoring and usage mistakes; a wrong answer is never an error.

Each error carries the exit code the command line returns for it (1 failure, 2 usage), in the
manner of click.
"""

from __future__ import annotations


class BackpropKitError(Exception):
    """Something the instructor or the tool got wrong (not a student's wrong answer)."""

    exit_code = 1


class UsageError(BackpropKitError):
    """The command was called with arguments that cannot work."""

    exit_code = 2


class ParseError(ValueError):
    """A student's answer could not be read; says what and where.

    ``position`` is the 0-based character offset at fault, or None when the whole text is at
    fault (empty, too long).
    """

    def __init__(self, message: str, position: int | None = None, text: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.position = position
        self.text = text

    def __str__(self) -> str:
        if self.position is None:
            return self.message
        return f"{self.message} (at character {self.position + 1})"
