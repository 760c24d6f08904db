"""The ``backprop-kit`` console script: ``grade`` and ``check`` go to a warm grader when one of
this code is running (:mod:`autograder.cli.warm.client`); everything else, and those too
when none is, to the click command line in this process. Kept light: it must not import click
first."""

from __future__ import annotations

import sys


def run() -> None:
    from autograder.cli.warm.client import auto_start, run_warm

    argv = sys.argv[1:]
    code = run_warm(argv)
    if code is not None:
        sys.exit(code)
    from autograder.cli.commands import main

    try:
        main(args=argv, prog_name="backprop-kit")
    finally:
        auto_start(argv)
        exit_soon()


def exit_soon() -> None:
    """Freeze what the command built before the interpreter exits: its exit then runs every
    atexit handler and finalizer as before but no longer collects the objects one by one
    (with sympy loaded about 75 ms of a cold command's 1 s, measured here)."""
    import gc

    gc.freeze()
