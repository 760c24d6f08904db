"""Printing for a terminal or a CI log, for every command line (the instructor's and the
student kit's): nothing a student wrote can move the cursor, recolour the screen or issue a CI
workflow command; an error ends the command with its exit code (1 failure, 2 usage)."""

from __future__ import annotations

import re
import sys
from typing import NoReturn

import click

from autograder.errors import BackpropKitError

_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2066-\u2069]")


def terminal_safe(text: str) -> str:
    """Text fit for a terminal or a CI log: control characters (escape sequences, carriage
    returns, bidirectional overrides) become "?", and no line starts with "::" (which GitHub
    Actions would read as a workflow command)."""
    lines = []
    for line in str(text).split("\n"):
        line = _CONTROL.sub("?", line)
        if line.lstrip().startswith("::"):
            line = line.replace("::", ": :", 1)
        lines.append(line)
    return "\n".join(lines)


def echo(text: str, err: bool = False) -> None:
    """Print ``text`` made :func:`terminal_safe`."""
    click.echo(terminal_safe(text), err=err)


def fail(error: BackpropKitError) -> NoReturn:
    echo(f"backprop-kit: error: {error}", err=True)
    sys.exit(error.exit_code)
