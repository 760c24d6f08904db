"""A function answer called on its probes, in the student's process: the test functions handed
to it, the projections of what it returns, and its outputs as data.

Nothing here imports sympy: a notebook that does not import sympy itself is graded in a process
that never does (about 0.46 s of imports and 35 MB a runner). A test function is compiled from
its expression text with sympy where sympy is at hand (the grader, the self-check); the grader
also prints it as Python source (:attr:`ProbeFunction.python_source`) and ships that with the
job, so the sandboxed child compiles that source with ``math`` alone, to the same code.
"""

from __future__ import annotations

import builtins
import hashlib
import inspect
import json
import math
import numbers
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from typing import Any

import numpy as np

from autograder.errors import ParseError
from autograder.judge.components import RAN_AWAY, RUNAWAY_BOUND

_GENERATED = "def _lambdifygenerated("  # how lambdify names the function it prints


@dataclass(frozen=True)
class ProbeFunction:
    """A function handed to a student's code as a probe input, given as expression text.

    Being plain data, it crosses into the sandboxed student process as JSON. ``components``
    of length one give a scalar function of ``variables``; longer ones a vector function of
    one array argument. ``source`` (the grader's job only, never released): the components as
    Python source, printed by :attr:`python_source`; compiled instead of the text when given.
    """

    components: tuple[str, ...]
    variables: tuple[str, ...]
    name: str = "f"
    shown: str = ""  # how the notebook shows it ("q(x) = (x − 3)²"), for feedback
    source: str = field(default="", compare=False, repr=False)

    @cached_property
    def _lambdified(self) -> list[Callable[..., float]]:
        """Each component compiled from its expression text by sympy (imported here: only a
        process that compiles a function without its source pays for sympy)."""
        import sympy

        from autograder.judge.parsing import make_symbol, parse_expression

        symbols = [make_symbol(v) for v in self.variables]
        return [
            # no docstring: printing the expression for it was a third of the cost
            sympy.lambdify(symbols, parse_expression(c, self.variables), modules="math",
                           docstring_limit=0)
            for c in self.components
        ]

    @cached_property
    def _compiled(self) -> list[Callable[..., float]]:
        if self.source:
            return _from_source(self.source, len(self.components))
        return self._lambdified

    @cached_property
    def python_source(self) -> str:
        """The components as Python source: the code lambdify prints and compiles, one
        function ``_<i>`` a component, checked here to compile to the same code calling the
        same functions of ``math`` in a namespace of ``math`` alone, so that it gives the
        same outputs bit for bit; "" where it would not (the child then compiles the text)."""
        texts = []
        for index, compiled in enumerate(self._lambdified):
            try:
                text = inspect.getsource(compiled)
            except (OSError, TypeError):
                return ""
            if not text.startswith(_GENERATED):
                return ""
            texts.append(f"def _{index}(" + text[len(_GENERATED):])
        source = "".join(texts)
        try:
            made = _from_source(source, len(self.components))
        except Exception:  # noqa: BLE001 -- not shippable: the child compiles the text
            return ""
        if all(_same_code(a, b) for a, b in zip(self._lambdified, made, strict=True)):
            return source
        return ""

    @cached_property
    def _scalar(self) -> Callable[..., float] | None:
        """The compiled function of one variable, called directly (the optimisers' probes
        call it thousands of times)."""
        return self._compiled[0] if len(self.components) == len(self.variables) == 1 else None

    def __call__(self, *args: Any) -> Any:
        if self._scalar is not None and len(args) == 1:
            return float(self._scalar(*args))
        if len(self.components) == 1 and len(args) == 1 and len(self.variables) > 1:
            # a scalar function of a vector, such as a loss R(theta)
            return float(self._compiled[0](*np.asarray(args[0], dtype=float).ravel()))
        if len(self.components) == 1:
            return float(self._compiled[0](*args))
        point = np.asarray(args[0], dtype=float).ravel().tolist()
        return np.array([f(*point) for f in self._compiled])

    def compile(self) -> ProbeFunction:
        """Compile it now (the runner does, once, before it forks the children that call
        it: a compile costs about 10 ms from the text, far less from the source, a call
        microseconds)."""
        self._compiled  # noqa: B018 -- a cached property: computed here, kept
        return self

    @property
    def __name__(self) -> str:  # shown in feedback about a probe
        return self.name

    def to_json(self) -> dict[str, Any]:
        return {"probe_function": list(self.components), "variables": list(self.variables),
                "name": self.name, **({"shown": self.shown} if self.shown else {})}

    def describe(self) -> str:
        """The function as the notebook shows it: its ``shown`` text, else its formula."""
        if self.shown:
            return self.shown
        formula = ", ".join(self.components)
        return f"{self.name}({', '.join(self.variables)}) = {formula}"


def _namespace() -> dict[str, Any]:
    """What a test function's source is run in: ``math``'s functions and constants."""
    return {k: v for k, v in vars(math).items() if not k.startswith("_")}


def _from_source(source: str, count: int) -> list[Callable[..., float]]:
    """The functions ``_0`` … ``_<count - 1>`` defined by ``source``."""
    namespace = _namespace()
    # the grader's own printing of the instructor's test function (python_source), carried
    # in the grader's job; never text of a student's
    exec(compile(source, "<test function>", "exec"), namespace)  # noqa: S102
    return [namespace[f"_{i}"] for i in range(count)]


def _same_code(made: Any, shipped: Any) -> bool:
    """Whether two functions run the same code on the same objects."""
    a, b = made.__code__, shipped.__code__
    if (a.co_code, a.co_consts, a.co_names, a.co_varnames) != (
            b.co_code, b.co_consts, b.co_names, b.co_varnames) or made.__defaults__:
        return False
    unset = object()
    return all(made.__globals__.get(n, getattr(builtins, n, unset))
               is shipped.__globals__.get(n, getattr(builtins, n, unset))
               for n in a.co_names)


def decode_probe_arg(value: Any, shipped: bool = False) -> Any:
    """A probe argument from data. A test function's Python source is compiled only from a
    grader's job (``shipped``: the runner and its child); from any other data (a released
    selfcheck.json, a file someone hands on) only its expression text is read, through the
    kit's parser, so data never brings code to run."""
    if isinstance(value, Mapping) and "probe_function" in value:
        return _probe_function(tuple(value["probe_function"]), tuple(value["variables"]),
                               value.get("name", "f"), value.get("shown", ""),
                               str(value.get("source", "")) if shipped else "")
    return value


@lru_cache(maxsize=256)
def _probe_function(components: tuple[str, ...], variables: tuple[str, ...], name: str,
                    shown: str = "", source: str = "") -> ProbeFunction:
    """One ProbeFunction (compiled once) for every probe that hands the same function: an
    assignment's probes repeat a few test functions (optimisation-1d: 18 uses of 5)."""
    return ProbeFunction(components, variables, name, shown, source)


def encode_probe_arg(value: Any) -> Any:
    return value.to_json() if isinstance(value, ProbeFunction) else value


def shipped_probe_arg(value: Any) -> Any:
    """A probe argument as the grader's job carries it: a test function with its Python
    source (:attr:`ProbeFunction.python_source`) where it has one. Never released: a
    self-check's data is :func:`encode_probe_arg`'s."""
    if isinstance(value, ProbeFunction) and value.python_source:
        return {**value.to_json(), "source": value.python_source}
    return encode_probe_arg(value)


def _named(value: Any) -> Any:
    """Probes as they are named: a test function by its data, not by how it travels."""
    if isinstance(value, Mapping) and "source" in value and "probe_function" in value:
        return {k: v for k, v in value.items() if k != "source"}
    if isinstance(value, (list, tuple)):
        return [_named(v) for v in value]
    return value


def probes_digest(probes: Any, project: str) -> str:
    """Which probes (as JSON) and projection a function's outputs answer: outputs kept in
    results.json are judged again only against the same probes."""
    text = json.dumps([_named(probes), project], sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


# --- what a function returned, projected ---------------------------------------------------


def _iterates(out: Any) -> np.ndarray:
    """A returned path as an (iterates, dimension) array, or ParseError saying what came back."""
    if isinstance(out, (bool, int, float, np.number)):
        raise ParseError("a single number, expected the list of iterates (the whole path, x0 "
                         "first)")
    if np.ndim(out) == 0:
        raise ParseError(f"a {type(out).__name__}, expected the list of iterates")
    try:
        path = np.asarray(out, dtype=float)
    except (TypeError, ValueError):
        raise ParseError(f"a {type(out).__name__} that is not a list of iterates") from None
    if path.ndim == 1:
        path = path[:, None]
    if path.ndim != 2 or len(path) == 0:
        raise ParseError(f"an array of shape {path.shape}, expected one iterate per row")
    return path


def last(out: Any) -> Any:
    """Project a returned path of iterates on its last iterate."""
    return _iterates(out)[-1]


def path(out: Any) -> dict[str, Any]:
    """Project a returned path on its components (autograder.judge.components): its start, its
    first step (the second iterate), and either how many iterates it has and where it ends, or
    length -1 if it ran away (where a divergence guard stops is the student's choice; whether
    the iterates before the last are all finite is not). A path that ignores ``tol`` or
    ``max_iter`` has the wrong length. A single number is where the answer ends, no path."""
    if not isinstance(out, bool) and np.ndim(out) == 0:
        try:
            end = float(out)
        except (TypeError, ValueError):
            end = None
        if end is not None:
            return {"end": [end]} if abs(end) <= RUNAWAY_BOUND else {"length": RAN_AWAY}
    p = _iterates(out)
    head = {"start": [float(v) for v in p[0]],
            "first": [float(v) for v in p[min(1, len(p) - 1)]]}
    if not np.all(np.isfinite(p[-1])) or np.max(np.abs(p[-1])) > RUNAWAY_BOUND:
        return {**head, "finite": float(np.all(np.isfinite(p[:-1]))), "length": RAN_AWAY}
    return {**head, "length": float(len(p)), "end": [float(v) for v in p[-1]]}


def identity(out: Any) -> Any:
    return out


PROJECTIONS: dict[str, Callable[[Any], Any]] = {"identity": identity, "last": last,
                                                "path": path}


# --- outputs as data ------------------------------------------------------------------------


def as_number(value: Any) -> float:
    """A finite float from a student's value, or ParseError saying what is wrong with it."""
    if isinstance(value, bool) or value is None:
        raise ParseError(f"expected a number, got {type(value).__name__}")
    if isinstance(value, str):
        text = value.strip().replace("−", "-")
        if len(text) > 100:
            raise ParseError("expected a number, got a long text")
        try:
            number = float(text)
        except ValueError:
            raise ParseError(f"expected a number, got the text {value[:40]!r}") from None
    elif isinstance(value, numbers.Real) or _sympy_real(value):
        try:
            number = float(value)
        except (TypeError, ValueError, OverflowError):
            raise ParseError("expected a real number") from None
    elif hasattr(value, "shape") and getattr(value, "shape", None) == () and hasattr(
        value, "dtype"
    ):
        return as_number(value.item())
    else:
        raise ParseError(f"expected a number, got {type(value).__name__}")
    if not math.isfinite(number):
        raise ParseError(f"expected a finite number, got {number}")
    return number


def _sympy_real(value: Any) -> bool:
    """Whether ``value`` is a real sympy number; a sympy object exists only where sympy was
    imported, so it is not imported here."""
    sympy = sys.modules.get("sympy")
    return (sympy is not None and isinstance(value, sympy.Basic) and bool(value.is_number)
            and bool(value.is_real))


def as_array(value: Any) -> list[float]:
    """A flat list of finite floats from a list/tuple/array, or ParseError."""
    if hasattr(value, "tolist"):
        value = value.tolist()
    if isinstance(value, (str, bytes)) or not isinstance(value, (list, tuple)):
        raise ParseError(f"expected a list of numbers, got {type(value).__name__}")
    flat: list[float] = []
    for i, item in enumerate(value):
        if isinstance(item, (list, tuple)):
            flat.extend(as_array(item))
            continue
        try:
            flat.append(as_number(item))
        except ParseError as error:
            raise ParseError(f"entry {i}: {error.message}") from None
    return flat


def run_probes(
    func: Callable[..., Any], probes: Sequence[Sequence[Any]], project: Callable[[Any], Any]
) -> list[dict[str, Any]]:
    """Call ``func`` on each probe; record the (projected) output or the error, as data.

    The student's exception and a result the projection cannot use are told apart: the
    first is the student's error, the second says what was returned instead."""
    outputs: list[dict[str, Any]] = []
    for args in probes:
        try:
            out = func(*args)
        except Exception as error:  # noqa: BLE001 -- any exception of student code is data
            outputs.append({"error": f"raised {type(error).__name__}: {str(error)[:200]}"})
            continue
        try:
            projected = project(out)
            outputs.append({"value": _as_output(projected)})
        except ParseError as error:
            outputs.append({"error": f"returned {error.message}"})
        except Exception:  # noqa: BLE001 -- the projection could not read what came back
            outputs.append({"error": f"returned {_what(out)}, which is not what the "
                                     "question asks for"})
    return outputs


def _as_output(projected: Any) -> Any:
    """A projected output as data: a number, a list of numbers, or named pieces of those (a
    path's start, first step, length and end)."""
    if isinstance(projected, Mapping):
        return {str(k): _as_output(v) for k, v in projected.items()}
    return as_array(projected) if is_sequence(projected) else as_number(projected)


def _what(value: Any) -> str:
    if isinstance(value, numbers.Number):
        return "a single number"
    return f"a {type(value).__name__}"


def is_sequence(value: Any) -> bool:
    return hasattr(value, "tolist") and getattr(value, "shape", ()) != () or isinstance(
        value, (list, tuple)
    )
