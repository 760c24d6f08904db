"""The symbols of the reference answers: real, named as a student writes them.

They must be the very symbols ``autograder.judge.parsing.make_symbol`` gives an answer (real, same
name), or no answer could equal its reference; ``solutions`` imports nothing from autograder,
so this is the one copy of that rule here (tests/test_solutions.py holds the two together).
"""

from __future__ import annotations

import sympy


def make_symbol(name: str) -> sympy.Symbol:
    """The real symbol ``name``."""
    return sympy.Symbol(name, real=True)
