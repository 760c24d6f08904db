"""``backprop-kit check``: a student's own run of the visible checks, in the sandbox.

The student kit's whole command line; the instructor's (:mod:`autograder.cli.commands`) has
the same ``check``. Thin: parse, call :func:`autograder.student.selfcheck.run_selfcheck`, print.
"""

from __future__ import annotations

import gc
from pathlib import Path

import click

from autograder import __version__
from autograder.console import echo, fail
from autograder.errors import BackpropKitError, UsageError


@click.command()
@click.argument("notebook", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--timeout", default=60.0, show_default=True, type=click.FloatRange(1, 3600),
              help="Wall-clock seconds the notebook may run.")
@click.option("--allow-unsandboxed", is_flag=True,
              help="Run even where no sandbox is available (your own notebook, your machine).")
def check(notebook: Path, timeout: float, allow_unsandboxed: bool) -> None:
    """Run NOTEBOOK and print its visible self-checks (what a student may see)."""
    from autograder.run.client import Runner, notebook_plots, notebook_sympy

    # pre-loads while the checkers import; matplotlib and sympy only where the notebook uses
    # them (its own file: on the student's machine this only decides what is pre-loaded)
    early = Runner(notebook_plots(notebook), preload_sympy=notebook_sympy(notebook)).start()
    try:
        from autograder.run import sandbox
        from autograder.student.selfcheck import run_selfcheck

        require, _ = sandbox.policy(allow_unsandboxed)
        if not require:
            echo(sandbox.UNSANDBOXED_WARNING, err=True)
        click.echo(run_selfcheck(notebook, timeout=timeout, require_sandbox=require,
                                 runner=early))
    except BackpropKitError as error:
        fail(error)
    finally:
        early.close()
        gc.freeze()  # the interpreter's exit then skips collecting what the check built


class StudentCommands(click.Group):
    """The student kit's commands: ``check``; any other is the instructor's, and says so."""

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        found = super().get_command(ctx, cmd_name)
        if found is None and not cmd_name.startswith("-"):
            fail(UsageError(
                f"'{cmd_name}' is an instructor command: it needs the course's reference "
                "solutions, which the student kit does not include. Students check their work "
                "with: backprop-kit check NOTEBOOK.ipynb"))
        return found


@click.group(cls=StudentCommands)
@click.version_option(__version__, prog_name="backprop-kit")
def main() -> None:
    """backprop-kit (student kit): check your notebook's answers before you hand it in."""


main.add_command(check)
