"""Partial credit for code, as data: a function question's components and its code slips.

A function answer is marked as a lecturer marks code (``autograder.judge.components``): by its
components, each worth a share of the question, and by the ways students write each one
instead. A :class:`CodeSlip` names such a way and says how the reference shows it: the
reference (a ``solutions`` function) run with ``options``, keyword arguments it accepts. The
grade runs every combination on the probes, so a loop that leaves x0 out *and* stops on the
gradient is recognised as both. Below are the defaults for optimisers (what every optimiser's
loop shares: its start, its stopping rule, its divergence guard, and the step rules of gradient
descent and of Newton–Raphson); a rubric takes them, or declares its own, beside its notebook.
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
    the share of the component's points it keeps; ``feedback`` names the component, never the
    answer's value."""

    id: str
    component: str
    options: Mapping[str, Any] = field(default_factory=dict)
    feedback: str = ""
    credit: float = 0.0
    transform: str = ""


def check_components(question_id: str, components: Mapping[str, float],
                     slips: tuple[Any, ...], transforms: Any = ()) -> None:
    """Refuse a rubric whose shares do not add up or whose slips name no component."""
    if not components:
        return
    if abs(sum(components.values()) - 1.0) > 1e-9 or min(components.values()) < 0:
        raise BackpropKitError(f"question {question_id}: the components' shares "
                               f"{dict(components)} must be non-negative and add up to 1")
    for slip in slips:
        if not isinstance(slip, CodeSlip):
            raise BackpropKitError(f"question {question_id}: a function question's slips are "
                                   f"CodeSlips, got {type(slip).__name__}")
        if slip.component not in components:
            raise BackpropKitError(f"question {question_id}: slip {slip.id!r} names the "
                                   f"component {slip.component!r}, which is not one of "
                                   f"{sorted(components)}")
        if slip.transform and slip.transform not in transforms:
            raise BackpropKitError(f"question {question_id}: slip {slip.id!r} names the "
                                   f"transform {slip.transform!r}, not one of "
                                   f"{sorted(transforms)}")
        if not 0.0 <= slip.credit <= 1.0:
            raise BackpropKitError(f"question {question_id}: slip {slip.id!r} has credit "
                                   f"{slip.credit}, outside [0, 1]")


# --- defaults for optimisers (the options of solutions' optimisers) --------------------------

# A lecturer's shares of an optimiser's marks: the step rule is the method; the loop around it
# (when to stop) is most of the rest; keeping x0 in the path and surviving divergence are small.
OPTIMISER = {"start": 0.1, "step": 0.5, "stop": 0.3, "guard": 0.1}
OPTIMISER_WITHOUT_GUARD = {"start": 0.1, "step": 0.55, "stop": 0.35}

START_SLIPS = (
    CodeSlip("x0_missing", "start", {},
             "Your path leaves out the start x0: the path begins with x0, then each iterate.",
             transform="without_start"),
)

STOP_SLIPS = (
    CodeSlip("gradient_stop", "stop", {"stop": "gradient"},
             "Your loop stops when the gradient is smaller than tol; the task stops when a "
             "step is shorter than tol (|x_{i+1} − x_i| < tol).", 0.5),
    CodeSlip("stop_before_step", "stop", {"stop": "before_step"},
             "Your loop tests the step before taking it, so the last, short step is missing: "
             "take the step, then stop if it was shorter than tol.", 0.5),
    CodeSlip("one_step_more", "stop", {"stop": "one_more"},
             "Your loop takes one step more than max_iter allows (off by one).", 0.5),
    CodeSlip("one_step_fewer", "stop", {"stop": "one_fewer"},
             "Your loop takes one step fewer than max_iter allows (off by one).", 0.5),
    CodeSlip("tol_ignored", "stop", {"stop": "no_tol"},
             "Your loop ignores tol: it should stop as soon as a step is shorter than tol.",
             0.0),
    CodeSlip("max_iter_ignored", "stop", {"stop": "no_cap"},
             "Your loop ignores max_iter: it should stop after at most max_iter steps.", 0.25),
)

GUARD_SLIPS = (
    CodeSlip("no_divergence_guard", "guard", {"guard": False},
             "Your function does not stop when the iterates run away (the arithmetic "
             "overflows): stop when an iterate is no longer finite or becomes huge, and "
             "return the path so far."),
)

DESCENT_STEP_SLIPS = (
    CodeSlip("uphill", "step", {"step": "uphill"},
             "Your steps go uphill: a descent step moves against the gradient."),
    CodeSlip("eta_twice", "step", {"step": "eta_twice"},
             "Your step applies η twice: the step is η times the gradient, once.", 0.5),
    CodeSlip("eta_missing", "step", {"step": "no_eta"},
             "Your step leaves out η: the step is η times the gradient.", 0.2),
)

NEWTON_STEP_SLIPS = (
    CodeSlip("newton_plus", "step", {"step": "plus"},
             "Your Newton–Raphson step has the wrong sign: check the sign in your update."),
    CodeSlip("newton_inverted", "step", {"step": "inverted"},
             "Your Newton–Raphson step divides the wrong way round: check which derivative "
             "is on top."),
)


def optimiser_slips(step_slips: tuple[CodeSlip, ...], guard: bool = True
                    ) -> tuple[CodeSlip, ...]:
    """An optimiser's default slips: its start, ``step_slips``, its stopping rule and (when
    its visible tests make it overflow) its divergence guard."""
    return (*START_SLIPS, *step_slips, *STOP_SLIPS, *(GUARD_SLIPS if guard else ()))
