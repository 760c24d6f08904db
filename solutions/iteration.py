"""The loop around an iterative method (gradient descent, Newton–Raphson, steepest descent)
and the loops students write instead: one walk of the iterates, cut by a stopping rule.

A method gives, at each iterate x_i, its slope's size (for a gradient-based stop) and its step;
the walk records them, iterate after iterate, and ends only where every loop must (the update
is undefined, it overflows, an iterate runs away, or the iterates repeat). A stopping rule then
cuts the walk where its loop would have stopped: the same checks, in the same order, on the
same numbers, so the path is exactly the one that loop returns. Walks are kept per method for
the same (pure) function, start, step size and guard, so the variants of a loop — the task's
stop, the gradient's, one step more, ... — share one walk.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

# ``stop``: "step" (the task's: stop after a step shorter than tol), "gradient" (stop where
# the slope is below tol), "before_step" (test the step before taking it, so the short step is
# not in the path), "one_more"/"one_fewer" (max_iter ± 1 steps), "no_tol" (tol ignored),
# "no_cap" (max_iter ignored, followed for ``no_cap_steps``). ``guard`` False: an overflow
# raises and iterates that are not finite go on.
STOPS = ("step", "gradient", "before_step", "one_more", "one_fewer", "no_tol", "no_cap")

# x -> (the slope's size, or None where it cannot be told, or the OverflowError computing it
# raised; the step, or None where the update is undefined, or the OverflowError)
Evaluate = Callable[[Any], tuple[Any, Any]]


def no_cap_steps(max_iter: int) -> int:
    """How far a loop that ignores max_iter is followed: far enough for any path that
    converges, bounded for one that never does."""
    return max(2 * max_iter, 5_000)


def steps_of(max_iter: int, stop: str) -> int:
    if stop not in STOPS:
        raise ValueError(f"unknown stopping rule {stop!r}")
    if stop == "no_cap":
        return no_cap_steps(max_iter)
    return max_iter + {"one_more": 1, "one_fewer": -1}.get(stop, 0)


@dataclass(frozen=True)
class Space:
    """How iterates are measured and compared: numbers, or numpy vectors."""

    norm: Callable[[Any], float]
    finite: Callable[[Any], bool]
    huge: Callable[[Any], bool]  # not finite: the path has run away (overflowed)
    same: Callable[[Any, Any], bool]  # NaN is the same as NaN


NUMBERS = Space(abs, math.isfinite, lambda x: not math.isfinite(x),
                lambda a, b: a == b or (a != a and b != b))  # noqa: PLR0124
VECTORS = Space(lambda v: math.sqrt(v.dot(v)),  # np.linalg.norm, without its overhead
                lambda v: bool(np.all(np.isfinite(v))),
                lambda v: not bool(np.all(np.isfinite(v))),
                lambda a, b: bool(np.array_equal(a, b, equal_nan=True)))


@dataclass
class Walk:
    """The iterates from x0 with what each loop reads: ``slopes[i]`` (at x_i) and
    ``moves[i]`` (|x_{i+1} − x_i|). ``end`` is None while it can go on, else "undefined" (no
    step at the last iterate), "overflow" (the step there raised ``error``), "runaway" (the
    next iterate, ``runaway``, is not finite; with the guard, or past one that is not finite)
    or "cycle" (the last iterate repeats the one ``period`` steps before it)."""

    evaluate: Evaluate
    space: Space
    guard: bool
    states: list[Any]
    slopes: list[Any] = field(default_factory=list)
    moves: list[float] = field(default_factory=list)
    end: str | None = None
    error: BaseException | None = None
    runaway: Any = None
    period: int = 0

    def extend(self, count: int) -> None:
        """Walk on until ``count`` steps are known or the walk ends."""
        space = self.space
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            while self.end is None and len(self.moves) < count:
                x = self.states[-1]
                slope, step = self.evaluate(x)
                self.slopes.append(slope)
                if isinstance(step, BaseException):
                    self.end, self.error = "overflow", step
                    return
                if step is None:
                    self.end = "undefined"
                    return
                nxt = x - step
                if space.huge(nxt) and (self.guard or not space.finite(x)):
                    self.end, self.runaway = "runaway", nxt
                    return
                moved = space.norm(nxt - x)
                self.moves.append(moved)
                self.states.append(nxt)
                # a repeat moves as far as the step it repeats (NaN: no size at all)
                if (moved == 0 or moved != moved) and space.same(nxt, x):  # noqa: PLR0124
                    self.end, self.period = "cycle", 1
                elif len(self.moves) > 1 and (moved == self.moves[-2] or moved != moved) \
                        and space.same(nxt, self.states[-3]):  # noqa: PLR0124
                    self.end, self.period = "cycle", 2


def cut(walk: Walk, tol: float, max_iter: int, stop: str = "step") -> list[Any]:
    """The path the loop with stopping rule ``stop`` returns: its checks, in its order, on
    the walk's numbers (see ``STOPS``)."""
    steps = steps_of(max_iter, stop)
    before, after = stop == "before_step", stop not in ("gradient", "no_tol")
    path = [walk.states[0]]
    for i in range(steps):
        if i >= len(walk.moves) and walk.end is None:
            walk.extend(min(steps, i + 64))  # in batches: a step or two past the cut is cheap
        if stop == "gradient" and i < len(walk.slopes):
            slope = walk.slopes[i]
            if isinstance(slope, BaseException):
                if not walk.guard:
                    raise slope
                break
            if slope is not None and slope < tol:
                break
        if i < len(walk.moves):
            moved = walk.moves[i]
            if before and moved < tol:
                break
            path.append(walk.states[i + 1])
            if after and moved < tol:
                break
            continue
        if walk.end == "overflow":  # the walk ends at iterate i
            if not walk.guard:
                raise walk.error  # type: ignore[misc]
        elif walk.end == "runaway" and not walk.guard:
            path.append(walk.runaway)  # past an iterate that is not finite: one more
        elif walk.end == "cycle":  # every check passed once on it: the rest repeats it
            tail = walk.states[-walk.period - 1:]
            path.extend(tail[1 + k % walk.period] for k in range(steps - i))
        break
    return path


class Walks:
    """A method's walks, kept for the same key (its pure function, start, step size, guard)."""

    def __init__(self, size: int = 16) -> None:
        self.size = size
        self.kept: OrderedDict[Hashable, Walk] = OrderedDict()

    def get(self, key: Hashable, make: Callable[[], Walk]) -> Walk:
        try:
            found = self.kept.pop(key, None)
        except TypeError:  # a function that cannot be a key: walk afresh
            return make()
        if found is None:
            found = make()
        self.kept[key] = found
        while len(self.kept) > self.size:
            self.kept.popitem(last=False)
        return found
