"""Visible checks that teach without telling: properties a right answer must have.

A self-check may not show a numeric answer, but it can judge something true about it: a
gradient agrees with the student's own finite differences, a step lowers the loss, an
optimiser reaches the known minimum of a visible test function. Each check is a pure function
returning a CheckResult; ``run`` picks one from the data an assignment's rubric releases beside
the notebook (``"self_check"`` in selfcheck.json):

    {"property": "<name below>", "uses": [<names of the notebook it needs>], ...parameters}

A property that holds does not make the answer right (hidden tests decide), so its result is
marked ``form_only``; a property that fails makes the answer wrong, visibly.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from autograder.judge.closeness import FINITE_DIFFERENCES, SAME_FLOAT, STATED_VALUE, Tolerance
from autograder.judge.components import RAN_AWAY
from autograder.results import CheckResult


def holds(what: str) -> CheckResult:
    return CheckResult(correct=False, score=0.0, feedback=what,
                       details={"form_only": True, "property": True})


def fails(what: str) -> CheckResult:
    return CheckResult.wrong(what, property=True)


def matches_finite_differences(answer: Any, finite: Any,
                               rel_tol: float = FINITE_DIFFERENCES.rel) -> CheckResult:
    """A gradient against the student's own finite differences, by relative error
    ‖g − g_fd‖ / max(‖g‖, ‖g_fd‖), as a gradient check does."""
    g, fd = np.asarray(answer, dtype=float).ravel(), np.asarray(finite, dtype=float).ravel()
    if g.shape != fd.shape:
        return fails(f"Your gradient has {g.size} entries, your finite differences {fd.size}.")
    scale = max(float(np.linalg.norm(g)), float(np.linalg.norm(fd)), 1e-12)
    error = float(np.linalg.norm(g - fd)) / scale
    if error > rel_tol:
        return fails(f"Your gradient and your finite differences differ by a relative error of "
                     f"{error:.1e} (a gradient check expects below {rel_tol:g}); one of them is "
                     "wrong.")
    return holds(f"Your gradient agrees with your finite differences (relative error "
                 f"{error:.1e}).")


def lowers_loss(answer: Any, loss: Callable[[Any], float], start: Any) -> CheckResult:
    """The parameters after a descent step (or a training run) have a lower loss."""
    before, after = float(loss(np.asarray(start, dtype=float))), float(loss(
        np.asarray(answer, dtype=float)))
    if not np.isfinite(after) or after >= before:
        return fails(f"Your loss goes from {before:.6g} to {after:.6g}: the step does not go "
                     "downhill.")
    return holds(f"The loss goes down, from {before:.6g} to {after:.6g}.")


def loss_went_down(answer: Any, loss: Callable[[Any], float], start: Any) -> CheckResult:
    """A final loss below the loss at the start, and not negative (a sum of squares)."""
    final, before = float(answer), float(loss(np.asarray(start, dtype=float)))
    if not np.isfinite(final) or final < 0 or final >= before:
        return fails(f"A final loss of {final:.6g} is not below the starting loss {before:.6g} "
                     "(or is negative, which a sum of squares cannot be).")
    return holds(f"The loss went down from {before:.6g}.")


def last_of(answer: Any, sequence: Any, length: int | None = None, what: str = "your list",
            length_note: str = "") -> CheckResult:
    """A final value that is the last entry of the student's own list of them (a loss curve),
    and a list as long as the steps asked for make it: consistency, not the value."""
    try:
        values = [float(v) for v in np.asarray(sequence, dtype=float).ravel()]
    except (TypeError, ValueError):
        return fails(f"Your {what} is not a list of numbers.")
    if not values or not SAME_FLOAT.close(float(answer), values[-1]):
        return fails(f"Your answer is not the last entry of your {what}.")
    if length is not None and len(values) != length:
        note = f" ({length_note})" if length_note else ""
        return fails(f"Your {what} has {len(values)} entries; the steps asked for make "
                     f"{length}{note}.")
    return holds(f"It is the last of your {what}, which has the {len(values)} entries asked "
                 "for.")


def stationary_minima(answer: Any, f: Callable[[float], float], df: Callable[[float], float],
                      tol: float = 1e-4) -> CheckResult:
    """Minima: f' vanishes at each, and the global one (smaller f) comes first."""
    xs = [float(v) for v in np.asarray(answer, dtype=float).ravel()]
    slopes = [abs(float(df(x))) for x in xs]
    if max(slopes) > tol:
        return fails(f"f' is not zero at every point you give (|f'| up to {max(slopes):.1e}).")
    if len(xs) > 1 and float(f(xs[0])) > float(f(xs[1])):
        return fails("f is smaller at your second point: the global minimum goes first.")
    return holds("f' vanishes at your points and they are in the asked order.")


def zero_of(answer: Any, f: Callable[..., float], tol: float = 1e-9) -> CheckResult:
    """A point where the non-negative f is zero: one of its global minima."""
    value = float(f(*np.asarray(answer, dtype=float).ravel()))
    if abs(value) > tol:
        return fails(f"f is {value:.3g} at your point, so it is not one of f's minima.")
    return holds("f is zero at your point: it is one of the two global minima.")


def _flat(value: Any) -> np.ndarray:
    """A probe's output as one flat array; a path's pieces in order (start, first step,
    length or -1 when it ran away, end), as the last entries are read below."""
    if isinstance(value, Mapping):
        return np.concatenate([np.asarray(v, dtype=float).ravel() for v in value.values()])
    return np.asarray(value, dtype=float).ravel()


def probe_value(outputs: Sequence[Mapping[str, Any]], probe: int, value: Sequence[float],
                what: str, tol: float = STATED_VALUE.rel) -> CheckResult:
    """The (projected) result on a visible probe equals a value the notebook states: e.g. the
    end of a path on a test function with a known minimum."""
    out = outputs[probe]
    if "error" in out:
        return fails(f"On the visible test ({what}) your function {out['error']}.")
    got = _flat(out["value"])
    want = np.asarray(value, dtype=float).ravel()
    if got.size < want.size or got[-1] == RAN_AWAY and want[-1] != RAN_AWAY:
        return fails(f"On the visible test ({what}) your function's path runs away.")
    if not Tolerance(tol, tol).close_arrays(got[-want.size:], want):
        return fails(f"On the visible test ({what}) your function does not give what it should.")
    return holds(f"Your function passes the visible test ({what}).")


def diverges(outputs: Sequence[Mapping[str, Any]], probe: int, what: str) -> CheckResult:
    """On a visible probe whose step size is too large, the path runs away and is returned."""
    out = outputs[probe]
    if "error" in out:
        return fails(f"On the visible test ({what}) your function {out['error']}; stop when the "
                     "iterates run away and return the path so far.")
    if _flat(out["value"])[-1] != RAN_AWAY:
        return fails(f"On the visible test ({what}) the path should run away, and yours does not.")
    return holds(f"Your function returns the path when it diverges ({what}).")


NEEDS_OUTPUTS = {"probe_value": probe_value, "diverges": diverges}
NEEDS_ANSWER = {"matches_finite_differences": matches_finite_differences,
                "lowers_loss": lowers_loss, "loss_went_down": loss_went_down,
                "last_of": last_of,
                "stationary_minima": stationary_minima, "zero_of": zero_of}


def run(specs: Sequence[Mapping[str, Any]], answer: Any,
        outputs: Sequence[Mapping[str, Any]] | None, names: Mapping[str, Any] | None
        ) -> CheckResult | None:
    """Judge the released properties in turn; the first that fails is the verdict. None when
    none could be judged here (e.g. the notebook's names are not available)."""
    verdicts = []
    for spec in specs:
        params = {k: v for k, v in spec.items() if k not in ("property", "uses")}
        if spec["property"] in NEEDS_OUTPUTS:
            if outputs is None:
                continue
            result = NEEDS_OUTPUTS[spec["property"]](outputs, **params)
        else:
            uses = list(spec.get("uses", ()))
            if any(n not in (names or {}) for n in uses):
                continue
            args = [names[n] for n in uses]  # type: ignore[index]
            try:
                result = NEEDS_ANSWER[spec["property"]](answer, *args, **params)
            except Exception as error:  # noqa: BLE001 -- the student's helpers may fail
                result = fails(f"The check could not use your {', '.join(uses)} "
                               f"({type(error).__name__}: {str(error)[:120]}).")
        if not result.details.get("form_only"):
            return result
        verdicts.append(result)
    if not verdicts:
        return None
    return holds(" ".join(v.feedback for v in verdicts))
