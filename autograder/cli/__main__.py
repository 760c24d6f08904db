"""``python -m autograder.cli``: the command line without the warm grader."""

from autograder.cli.commands import main

main(prog_name="backprop-kit")
