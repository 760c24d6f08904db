"""The suite's order: the longest modules first.

The README's test command runs the suite on two workers (pytest-xdist, ``--dist loadscope``:
a module's tests stay on one worker, so a module's fixture, such as the nbgrader flow or the
JupyterHub, is built once). Workers take modules in collection order, so the long ones start
at once, each on its own worker, and the short ones fill in around them; in the default
order the longest came last and one worker waited for the other at the end. Measured with
``--durations``; the order changes no test's outcome (each module sets up what it needs).
"""

from __future__ import annotations

import pytest

# Longest first (from --durations on one worker: the nbgrader flow builds its course in
# about 3 minutes quiet, the hub about 4, the mistakes table about 3).
LONG_FIRST = (
    "test_nbgrader_flow.py",
    "test_jupyterhub.py",
    "test_mistakes.py",
    "test_variant_solvable.py",
    "test_variant_claims.py",
    "test_release_gives_nothing_away.py",
    "test_variant_release.py",
    "test_browser.py",
    "test_hostile.py",
    "test_ci_examples.py",
    "test_warm.py",
    "test_cli.py",
    "test_fitting.py",
    "test_adding_a_question.py",
)


def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config,
                                  items: list[pytest.Item]) -> None:
    """Put the long modules' tests first; the order within a module is kept (a stable sort)."""
    rank = {name: index for index, name in enumerate(LONG_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(LONG_FIRST)))
