"""The ``backprop-kit`` console script: ``grade`` and ``check`` go to a warm grader when one of
this code is running (``backprop-kit warm``), everything else, and those too when none is, to
the click command line in this process. Kept light: it must not import click first."""

from __future__ import annotations

import sys


def run() -> None:
    from autograder.warm import run_warm

    code = run_warm(sys.argv[1:])
    if code is not None:
        sys.exit(code)
    from autograder.cli import main

    main(prog_name="backprop-kit")
