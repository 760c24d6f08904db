"""Per-student variants: the numbers of an assignment drawn from a course seed and a student id.

Student side: it ships in the student kit, so it holds no answer, only how the numbers are
drawn (a student could redo every step of it by hand). The variant is a pure function of
``student_key(student_id, seed)``; with no seed every student gets the lecture's own numbers.

Drawing uses only ``random.Random.random()`` (the one method whose sequence Python promises to
keep for a seed) and plain float arithmetic, no numpy and no libm beyond ``math.sqrt`` and
``math.exp``, so a student's kernel and the grader draw the same numbers on any machine.
Each assignment's numbers are redrawn until they keep its questions meaningful (minima exist,
a step size converges and another diverges, sigmoid activations stay away from saturation);
tests/test_variants.py checks those promises with ``solutions`` over many keys.
"""

from __future__ import annotations

import ast
import hashlib
import math
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

CONFIG_FILE = "nbgrader_config.py"
SEED_SECTION, SEED_OPTION = "BackpropKit", "variant_seed"
MAX_DRAWS = 10_000  # redraws before giving up (a few dozen suffice; see the tests)


class VariantError(ValueError):
    """A seed or an assignment that no variant can be drawn for."""


# --- the seed and the key --------------------------------------------------------------------


def course_seed(course_dir: Path) -> str | None:
    """The course's variant seed, ``c.BackpropKit.variant_seed = "..."`` in nbgrader_config.py;
    None when the file or the setting is absent (then everyone gets the lecture's numbers).

    The file is parsed, never executed: only a plain string assigned to that option counts."""
    path = Path(course_dir) / CONFIG_FILE
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    try:
        tree = ast.parse(text, filename=str(path))
    except SyntaxError as error:
        raise VariantError(f"{path}, line {error.lineno}: not valid Python ({error.msg})"
                           ) from None
    seed: str | None = None
    for node in ast.walk(tree):
        if not isinstance(node, ast.Assign):
            continue
        for target in node.targets:
            if (isinstance(target, ast.Attribute) and target.attr == SEED_OPTION
                    and isinstance(target.value, ast.Attribute)
                    and target.value.attr == SEED_SECTION):
                value = node.value
                if not (isinstance(value, ast.Constant) and isinstance(value.value, str)):
                    raise VariantError(f"{path}, line {node.lineno}: {SEED_SECTION}."
                                       f"{SEED_OPTION} must be a plain string")
                seed = value.value
    return seed or None


def normalise_id(student_id: str) -> str:
    """The id as it enters the key: surrounding blanks dropped (case is kept: nbgrader's ids
    are case-sensitive)."""
    return student_id.strip()


def student_key(student_id: str, seed: str) -> str:
    """sha256 of the seed and the id, in hex: the variant is a pure function of it."""
    if not normalise_id(student_id):
        raise VariantError("the student id is empty")
    data = f"backprop-kit variant\0{seed}\0{normalise_id(student_id)}".encode()
    return hashlib.sha256(data).hexdigest()


TYPED_NAME = "STUDENT_ID"  # the variable a student types their id into, in the first cell


def typed_student_id(nb: Mapping[str, Any]) -> str | None:
    """The id typed in a notebook (``STUDENT_ID = "..."`` at the top level of a code cell; the
    last such assignment), read with ``ast``, never run; None when there is none, it is empty
    or not a plain string."""
    typed = None
    for cell in nb.get("cells", []):
        if not isinstance(cell, Mapping) or cell.get("cell_type") != "code":
            continue
        source = cell.get("source", "")
        source = "".join(source) if isinstance(source, list) else str(source)
        try:
            tree = ast.parse(source)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            continue  # IPython magics, or not Python: no plain assignment to read
        for node in tree.body:
            if (isinstance(node, ast.Assign) and len(node.targets) == 1
                    and isinstance(node.targets[0], ast.Name)
                    and node.targets[0].id == TYPED_NAME
                    and isinstance(node.value, ast.Constant)
                    and isinstance(node.value.value, str)):
                typed = normalise_id(node.value.value) or None
    return typed


# --- the variant -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Variant:
    """One student's numbers for one assignment (``key`` None: the lecture's own numbers)."""

    assignment: str
    student_id: str | None
    key: str | None
    numbers: Mapping[str, Any]

    @property
    def is_lecture(self) -> bool:
        return self.key is None

    def __hash__(self) -> int:
        return hash((self.assignment, self.key))

    def to_json(self) -> dict[str, Any]:
        return {"assignment": self.assignment, "student_id": self.student_id, "key": self.key,
                "numbers": dict(self.numbers)}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Variant:
        return cls(data["assignment"], data.get("student_id"), data.get("key"),
                   dict(data["numbers"]))


# The lecture's numbers, as the notebooks use them today.
LECTURE: dict[str, dict[str, Any]] = {
    "optimisation-1d": {
        "f": [3, 5, -20, 8, 10],  # f(x) = 3x⁴ + 5x³ − 20x² + 8x + 10 (coefficients of x⁴..x⁰)
        "x0": -1.0, "eta": 0.01,  # the worked step and the gradient descent runs
        "starts": [-1.0, 2.0],  # one start on each side of the local maximum
        "diverge": [2.0, 0.05],  # a start and a step size that run away
        "etas": [0.001, 0.005, 0.01, 0.015, 0.025, 0.05],  # η/10, η/2, η, 1.5η, 2.5η, away
        "newton_starts": [-3.0, -1.0, 0.0, 2.0],
    },
    "steepest-descent-2d": {
        "f2": [1, 1, 1, 1],  # f = α x1⁴x2² + β (x1 − c1)²(x2 − c2)⁴ as [α, β, c1, c2]
        "start": [1.5, 0.2], "eta": 0.05,  # the graded run (here towards (c1, 0))
        "second_start": [0.2, 1.5],  # the plot's second run, towards the other minimum
    },
    "backprop": {
        "theta0": [0.2, 0.4, 0.1, 0.3, 0.5, 0.6, 0.6, 0.2, 0.4],
        "data": [[3.0, -2.0, 1.2], [-1.0, 1.0, 0.7]],  # (x1, x2, y) per observation
        "eta": 0.1, "train_eta": 0.01, "train_steps": 300,
        # ∂R/∂w_jk^(1) not in the lecture, [j, k, layer]: always hidden node 2 (the lecture
        # derives node 1's w11), so every student's is as far from the printed formula
        "other_weight": [2, 2, 1],
    },
}
ASSIGNMENTS = tuple(sorted(LECTURE))


def _uniform_index(rng: random.Random, n: int) -> int:
    return min(int(rng.random() * n), n - 1)


def _pick(rng: random.Random, options: tuple[Any, ...] | list[Any]) -> Any:
    return options[_uniform_index(rng, len(options))]


def _ints(lo: int, hi: int, skip: tuple[int, ...] = ()) -> tuple[int, ...]:
    return tuple(i for i in range(lo, hi + 1) if i not in skip)


def _tenths(lo: int, hi: int, skip: tuple[int, ...] = (0,)) -> tuple[float, ...]:
    """lo/10 .. hi/10 in steps of 0.1, as the floats Python prints with one decimal."""
    return tuple(round(i / 10, 1) for i in range(lo, hi + 1) if i not in skip)


# --- optimisation-1d ---------------------------------------------------------------------------


def _poly(coefficients: list[float], x: float) -> float:
    total = 0.0
    for c in coefficients:
        total = total * x + c
    return total


def _bisect(g: Callable[[float], float], lo: float, hi: float) -> float:
    glo = g(lo)
    for _ in range(200):
        mid = (lo + hi) / 2
        if mid in (lo, hi):
            break
        gm = g(mid)
        if (gm > 0) == (glo > 0):
            lo, glo = mid, gm
        else:
            hi = mid
    return (lo + hi) / 2


def _draw_1d(rng: random.Random) -> dict[str, Any] | None:
    """One try: integer coefficients like the lecture's; None if the questions would not work."""
    c4, c3 = _pick(rng, (2, 3, 4)), _pick(rng, _ints(-8, 8, (0,)))
    c2, c1, c0 = _pick(rng, _ints(-30, -10)), _pick(rng, _ints(-12, 12)), _pick(rng, _ints(0, 20))
    f = [c4, c3, c2, c1, c0]
    df = [4 * c4, 3 * c3, 2 * c2, c1]
    d2f = [12 * c4, 6 * c3, 2 * c2]
    disc = d2f[1] ** 2 - 4 * d2f[0] * d2f[2]
    if disc <= 0:
        return None
    xa = (-d2f[1] - math.sqrt(disc)) / (2 * d2f[0])  # where f' peaks
    xb = (-d2f[1] + math.sqrt(disc)) / (2 * d2f[0])  # where f' dips
    if not _poly(df, xa) > 0 > _poly(df, xb):
        return None  # f' needs three real roots: two minima and a maximum between them
    roots = [_bisect(lambda t: _poly(df, t), lo, hi)
             for lo, hi in ((-50.0, xa), (xa, xb), (xb, 50.0))]
    r1, r2, r3 = roots
    if not (-4 <= r1 and r3 <= 4 and r2 - r1 >= 1 and r3 - r2 >= 1):
        return None
    if abs(_poly(f, r1) - _poly(f, r3)) < 1:
        return None  # the global minimum must stand out
    # Gradient descent x − η f'(x) is monotone on [r1, r3] when η f'' ≤ 1 there (f'' is
    # largest at an end), so from either side of the maximum it reaches that side's minimum.
    curvature = max(_poly(d2f, r1), _poly(d2f, r3))
    fitting = [e for e in (0.002, 0.003, 0.004, 0.005, 0.006, 0.008, 0.01, 0.012, 0.015, 0.02)
               if e * curvature <= 0.9]
    if not fitting:
        return None
    eta = fitting[-1]
    starts = [math.floor((r1 + r2) + 0.5) / 2, math.floor((r2 + r3) + 0.5) / 2]  # halves
    if not (r1 + 0.2 < starts[0] < r2 - 0.2 and r2 + 0.2 < starts[1] < r3 - 0.2):
        return None
    x_div = float(math.ceil(r3) + 1)
    # The largest step of the experiment (from starts[0]) and of the visible check (from
    # x_div): it runs away from both, as the notebook says.
    eta_div = next((e for e in (0.02, 0.03, 0.05, 0.1, 0.2) if e >= 3 * eta
                    and _runs_away(df, x_div, e) and _runs_away(df, starts[0], e)), None)
    if eta_div is None:
        return None
    etas = sorted({round(eta / 10, 4), round(eta / 2, 4), eta, round(1.5 * eta, 4),
                   round(2.5 * eta, 4), eta_div})
    newton_starts = [float(math.floor(r1) - 1), starts[0], starts[1], x_div]
    if min(abs(_poly(d2f, x)) for x in newton_starts) < 1:
        return None  # Newton's step f'/f'' is undefined (or flung far) where f'' vanishes
    return {"f": f, "x0": starts[0], "eta": eta, "starts": starts,
            "diverge": [x_div, eta_div], "etas": etas, "newton_starts": newton_starts}


def _runs_away(df: list[float], x: float, eta: float) -> bool:
    """x − η f'(x) iterated from x passes |x| > 1e6 within 30 steps."""
    for _ in range(30):
        x = x - eta * _poly(df, x)
        if not abs(x) <= 1e6:
            return True
    return False


# --- steepest-descent-2d -------------------------------------------------------------------------


def _draw_2d(rng: random.Random) -> dict[str, Any] | None:
    alpha, beta = _pick(rng, _ints(1, 5)), _pick(rng, _ints(1, 5))
    c1, c2 = _pick(rng, _tenths(7, 15)), _pick(rng, _tenths(7, 15))
    if c1 == c2 and alpha == beta:
        return None  # the lecture's symmetric shape, only scaled
    # At the minimum (c1, 0) f curves by 2βc2⁴ along x1 and 2αc1⁴ along x2: both must be
    # of a size, or steepest descent creeps along the flatter one.
    bends = (alpha * c1**4, beta * c2**4)
    if min(bends) < 0.2 * max(bends):
        return None
    # One start a little beyond the minimum (c1, 0), one beyond (0, c2); η × curvature stays
    # small. Which of them is the graded run is a coin: "which minimum" has either answer.
    near_c1 = [round(c1 + _pick(rng, _tenths(2, 6)), 1), _pick(rng, _tenths(1, 4))]
    eta = float(f"{_pick(rng, (0.03, 0.04, 0.05)) / max(*bends, 1.0):.1g}")
    near_c2 = [_pick(rng, _tenths(1, 3)), round(c2 + _pick(rng, _tenths(3, 5)), 1)]
    start, second = (near_c1, near_c2) if rng.random() < 0.5 else (near_c2, near_c1)
    return {"f2": [alpha, beta, c1, c2], "start": start, "eta": eta, "second_start": second}


# --- backprop ------------------------------------------------------------------------------------


def _sigmoid(z: float) -> float:
    return 1 / (1 + math.exp(-z))


def _draw_backprop(rng: random.Random) -> dict[str, Any] | None:
    hidden = [_pick(rng, _tenths(-8, 8)) for _ in range(2)] + [_pick(rng, _tenths(-5, 5, ()))]
    hidden += [_pick(rng, _tenths(-8, 8)) for _ in range(2)] + [_pick(rng, _tenths(-5, 5, ()))]
    output = [_pick(rng, _tenths(-9, 9, (-1, 0, 1))) for _ in range(2)]
    output.append(_pick(rng, _tenths(-5, 5, ())))
    theta = hidden + output
    data = []
    for _ in range(2):
        x1, x2 = _pick(rng, _ints(-3, 3, (0,))), _pick(rng, _ints(-3, 3, (0,)))
        data.append([float(x1), float(x2), _pick(rng, _tenths(2, 18))])
    if data[0][:2] == data[1][:2]:
        return None
    for x1, x2, y in data:
        z1 = theta[0] * x1 + theta[1] * x2 + theta[2]
        z2 = theta[3] * x1 + theta[4] * x2 + theta[5]
        if abs(z1) > 2.5 or abs(z2) > 2.5:
            return None  # keep σ away from saturation, where σ′ all but vanishes
        a1, a2 = _sigmoid(z1), _sigmoid(z2)
        if abs(a1 - a2) < 0.05:
            return None  # the two hidden nodes must tell apart (a wrong index shows)
        if abs(y - (theta[6] * a1 + theta[7] * a2 + theta[8])) < 0.1:
            return None  # a residual near 0 makes every partial near 0
    return {"theta0": theta, "data": data, "eta": 0.1, "train_eta": 0.01, "train_steps": 300,
            "other_weight": [2, _pick(rng, (1, 2)), 1]}


DRAWS: dict[str, Callable[[random.Random], dict[str, Any] | None]] = {
    "optimisation-1d": _draw_1d, "steepest-descent-2d": _draw_2d, "backprop": _draw_backprop,
}


def variant_for(assignment: str, student_id: str | None, seed: str | None) -> Variant:
    """The numbers of ``assignment`` for this student: the lecture's when there is no seed (or
    no id: the instructor's own notebook), else drawn from the student's key."""
    if assignment not in LECTURE:
        raise VariantError(f"no variants for the assignment {assignment!r}; known: "
                           f"{', '.join(ASSIGNMENTS)}")
    if seed is None or student_id is None:
        return Variant(assignment, student_id, None, _copy(LECTURE[assignment]))
    return variant_from_key(assignment, student_key(student_id, seed), normalise_id(student_id))


def variant_from_key(assignment: str, key: str, student_id: str | None = None) -> Variant:
    """The variant a key stands for (results.json keeps the key: a regrade needs no seed)."""
    if assignment not in LECTURE:
        raise VariantError(f"no variants for the assignment {assignment!r}; known: "
                           f"{', '.join(ASSIGNMENTS)}")
    try:
        seed = int(key, 16)
    except (TypeError, ValueError):
        raise VariantError(f"{key!r} is not a variant key (64 hex digits)") from None
    if len(key) != 64 or seed < 0:
        raise VariantError(f"{key!r} is not a variant key (64 hex digits)")
    mixed = hashlib.sha256(f"{key}:{assignment}".encode()).hexdigest()
    rng = random.Random(int(mixed, 16))
    for _ in range(MAX_DRAWS):
        numbers = DRAWS[assignment](rng)
        if numbers is not None:
            return Variant(assignment, student_id, key, numbers)
    raise VariantError(f"no variant of {assignment} found for key {key[:12]}… "  # pragma: no cover
                       f"in {MAX_DRAWS} draws")


def _copy(numbers: Mapping[str, Any]) -> dict[str, Any]:
    return {k: [list(v) if isinstance(v, list) else v for v in value]
            if isinstance(value, list) else value for k, value in numbers.items()}
