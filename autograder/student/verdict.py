"""How a self-check's verdict reads, the same in the notebook's check cell and in
``backprop-kit check``."""

from __future__ import annotations

from autograder.results import CheckResult


def render(result: CheckResult, points: float, prefix: str = "") -> str:
    """The verdict with the points it earns, or why this check cannot say."""
    lead = f"{prefix}: " if prefix else ""
    if result.details.get("form_only"):
        return f"{lead}{result.feedback} (This check does not say whether it is right.)"
    if result.details.get("unconfirmed"):
        return f"{lead}{result.feedback} (The grade decides the points.)"
    return f"{lead}{result.feedback} [{result.score * points:g} of {points:g} points]"
