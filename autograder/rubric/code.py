"""Partial credit for code, as data: a function question's components and its code slips.

A function answer is marked as a lecturer marks code (``autograder.judge.components``): by its
components and by the ways students write each one instead. A :class:`CodeSlip` names such a
way, the credit the answer keeps with that slip alone, and how the reference shows it: the
reference (a ``solutions`` function) run with ``options``, keyword arguments it accepts, its
result then changed by ``transform``. The grade runs the combinations on the probes, so a loop
that leaves x0 out *and* stops on the gradient is recognised as both, and each is deducted.
Below are the defaults for optimisers (what every optimiser's loop shares: what it returns, its
stopping rule, its divergence guard, and the step rules of gradient descent and of
Newton–Raphson); a rubric takes them, or declares its own, beside its notebook. The credits
follow a lecturer's bands (tests/mistakes): a wrong method (uphill, Newton's ratio inverted)
keeps little beyond its scaffolding; a wrong detail of the loop (x0 left out, the stop on the
gradient, one step more) most of the marks.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from autograder.errors import BackpropKitError


@dataclass(frozen=True)
class CodeSlip:
    """A way of writing ``component`` that students hand in: the reference run with
    ``options``, its result then changed by ``transform`` (a name in
    ``autograder.rubric.question.TRANSFORMS``), returns what such code returns. ``credit`` is
    what the answer keeps with this slip alone; ``feedback`` names the component, never the
    answer's value."""

    id: str
    component: str
    options: Mapping[str, Any] = field(default_factory=dict)
    feedback: str = ""
    credit: float = 0.0
    transform: str = ""


def check_components(question_id: str, components: tuple[str, ...], slips: tuple[Any, ...],
                     transforms: Any = ()) -> None:
    """Refuse a rubric whose slips name no component, no known transform, or odd credit."""
    if not components:
        return
    if len(set(components)) != len(components):
        raise BackpropKitError(f"question {question_id}: a component is named twice in "
                               f"{components}")
    for slip in slips:
        if not isinstance(slip, CodeSlip):
            raise BackpropKitError(f"question {question_id}: a function question's slips are "
                                   f"CodeSlips, got {type(slip).__name__}")
        if slip.component not in components:
            raise BackpropKitError(f"question {question_id}: slip {slip.id!r} names the "
                                   f"component {slip.component!r}, which is not one of "
                                   f"{list(components)}")
        if slip.transform and slip.transform not in transforms:
            raise BackpropKitError(f"question {question_id}: slip {slip.id!r} names the "
                                   f"transform {slip.transform!r}, not one of "
                                   f"{sorted(transforms)}")
        if not 0.0 <= slip.credit <= 1.0:
            raise BackpropKitError(f"question {question_id}: slip {slip.id!r} has credit "
                                   f"{slip.credit}, outside [0, 1]")


# --- defaults for optimisers (the options of solutions' optimisers) --------------------------

OPTIMISER = ("path", "step", "stop", "guard")  # what it returns, its update, its loop, overflow

X0_MISSING = CodeSlip(
    "x0_missing", "path", {},
    "Your path leaves out the start x0: the path begins with x0, then each iterate.", 0.75,
    transform="without_start")
END_ONLY = CodeSlip(
    "end_only", "path", {},
    "Your function returns only where it ends (a single number); the task asks for the whole "
    "path of iterates, x0 first.", 0.3, transform="end_only")
ALIASED_PATH = CodeSlip(
    "aliased_path", "path", {},
    "Every row of your path is the last iterate: the path holds one array that the loop "
    "changes in place (x -= ...). Append a new array each step (x = x - ...).", 0.4,
    transform="aliased")

STOP_SLIPS = (
    CodeSlip("gradient_stop", "stop", {"stop": "gradient"},
             "Your loop stops when the gradient is smaller than tol; the task stops when a "
             "step is shorter than tol (|x_{i+1} − x_i| < tol).", 0.75),
    CodeSlip("stop_before_step", "stop", {"stop": "before_step"},
             "Your loop tests the step before taking it, so the last, short step is missing: "
             "take the step, then stop if it was shorter than tol.", 0.75),
    CodeSlip("one_step_more", "stop", {"stop": "one_more"},
             "Your loop takes one step more than max_iter allows (off by one).", 0.85),
    CodeSlip("one_step_fewer", "stop", {"stop": "one_fewer"},
             "Your loop takes one step fewer than max_iter allows (off by one).", 0.85),
    CodeSlip("tol_ignored", "stop", {"stop": "no_tol"},
             "Your loop ignores tol: it should stop as soon as a step is shorter than tol.",
             0.6),
    CodeSlip("max_iter_ignored", "stop", {"stop": "no_cap"},
             "Your loop ignores max_iter: it should stop after at most max_iter steps.", 0.7),
)
GUARD_SLIPS = (
    CodeSlip("no_divergence_guard", "guard", {"guard": False},
             "Your function does not stop when the iterates run away (they overflow or stop "
             "being finite): stop when an iterate is no longer finite or becomes huge, and "
             "return the path so far.", 0.7),
)

DESCENT_STEP_SLIPS = (
    CodeSlip("uphill", "step", {"step": "uphill"},
             "Your steps go uphill: a descent step moves against the gradient.", 0.2),
    CodeSlip("eta_twice", "step", {"step": "eta_twice"},
             "Your step applies η twice: the step is η times the gradient, once.", 0.3),
    CodeSlip("eta_missing", "step", {"step": "no_eta"},
             "Your step leaves out η: the step is η times the gradient.", 0.3),
)

# Newton–Raphson's task asks for no divergence guard: code without one is another right way
# (full credit, no feedback), which its wrong steps then show by overflowing.
UNGUARDED = CodeSlip("unguarded", "guard", {"guard": False}, "", 1.0)

NEWTON_STEP_SLIPS = (
    CodeSlip("newton_plus", "step", {"step": "plus"},
             "Your Newton–Raphson step has the wrong sign: check the sign in your update.", 0.2),
    CodeSlip("newton_inverted", "step", {"step": "inverted"},
             "Your Newton–Raphson step divides the wrong way round: check which derivative "
             "is on top.", 0.2),
    CodeSlip("newton_gradient_step", "step", {"step": "gradient"},
             "Your step leaves out f″: that is a gradient step of size 1, not Newton–Raphson's.",
             0.1),
)


def optimiser_slips(step_slips: tuple[CodeSlip, ...], path: tuple[CodeSlip, ...] = (
        X0_MISSING,), stop: tuple[CodeSlip, ...] = STOP_SLIPS,
                    guard: tuple[CodeSlip, ...] = GUARD_SLIPS) -> tuple[CodeSlip, ...]:
    """An optimiser's slips: what its path leaves out (``path``), ``step_slips``, its
    stopping rule and its divergence guard."""
    return (*path, *step_slips, *stop, *guard)
