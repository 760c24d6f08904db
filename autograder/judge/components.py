"""Code read as a lecturer reads it: a function answer judged by its components.

A function question names its components (an optimiser's path, its step rule, its stopping
rule, its divergence guard; a finite difference's formula and its nudges) and the ways
students write each one instead (variants: a mistake id, a sentence, and the credit the answer
keeps with that slip alone). As a lecturer marks, slips in several components are each
deducted (1 − credit each), down to nothing. The instructor's side runs the reference with every
combination of variants on the probes (``autograder.rubric.question``) and keeps, per probe and
per entry of the projected output, the groups of combinations that give the same value: a
:class:`Table`. A student's outputs are matched against it entry by entry — the grade against
the values, the self-check against their seals (``autograder.judge.sealing``), released for the
visible probes only — so both find the same combinations consistent with the answer, and
:func:`judge` turns that into one verdict: the credit of the combination that explains the most
probes, its slips named with the visible test case where each shows. Nothing of the student's
code is read, only what it returned on the probes (in the sandboxed child).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from autograder.judge import sealing
from autograder.results import CheckResult

# How feedback names the pieces of a projected output (autograder.rubric.question.PROJECTIONS).
PIECES = {"start": "first iterate (the start)", "first": "first step",
          "length": "number of iterates", "end": "last iterate (where it ends)",
          "finite": "iterates before it ran away (finite or not)", "value": "result"}
# A path whose last iterate is larger than RUNAWAY_BOUND (or not finite) has run away; its
# projection (autograder.rubric.question.path) then has the length RAN_AWAY.
RUNAWAY_BOUND = 1e6
RAN_AWAY = -1.0
ONLY_VISIBLE = ("It answers none of the hidden tests the grade also runs, so it earns nothing "
                "here: the visible tests' results are known, and answering them alone shows no "
                "working code.")
_RAISED = re.compile(r"raised ([A-Za-z_][A-Za-z0-9_.]*)")


@dataclass(frozen=True)
class Variant:
    """One way of writing one component: ``id`` "" is the right way (all its credit)."""

    component: str
    id: str = ""
    feedback: str = ""
    credit: float = 1.0  # what the answer keeps with this slip alone

    def to_json(self) -> dict[str, Any]:
        return {"component": self.component, "id": self.id, "feedback": self.feedback,
                "credit": self.credit}


@dataclass(frozen=True)
class Group:
    """Combinations whose output has the same value at one entry of one probe: the value on
    the instructor's side, its seal (hashes of its grid cells) in a release."""

    combos: frozenset[int]
    value: float | None = None
    hashes: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Probe:
    """One probe: how the student sees it, each combination's output shape, and the groups."""

    case: str  # the test case as the notebook shows it ("a hidden test: ..." if hidden)
    visible: bool
    shapes: tuple[str, ...]  # per combination: its output's keys, or "error:<exception>"
    groups: Mapping[str, tuple[Group, ...]]  # per key
    salt: str

    @cached_property
    def by_shape(self) -> dict[str, tuple[frozenset[int], dict[str, tuple[str, ...]]]]:
        """Per shape: the combinations that have it, and its keys by piece."""
        found: dict[str, set[int]] = {}
        for combo, kind in enumerate(self.shapes):
            found.setdefault(kind, set()).add(combo)
        out = {}
        for kind, combos in found.items():
            pieces: dict[str, list[str]] = {}
            for key in kind.split(","):
                pieces.setdefault(_piece(key), []).append(key)
            out[kind] = (frozenset(combos), {k: tuple(v) for k, v in pieces.items()})
        return out


@dataclass(frozen=True)
class Table:
    """Every combination of variants and what it returns on each probe."""

    components: tuple[str, ...]  # in the order feedback names them
    variants: tuple[Variant, ...]
    combos: tuple[tuple[int, ...], ...]  # per combination: a variant index per component
    probes: tuple[Probe, ...]
    rel_tol: float
    abs_tol: float
    complete: bool = True  # False: a release, the hidden probes left out

    def credit(self, combo: int) -> float:
        """Full marks less each slip's deduction, never below nothing."""
        return max(0.0, 1.0 - sum(1.0 - slip.credit for slip in self.slips(combo)))

    def slips(self, combo: int) -> list[Variant]:
        """The combination's slips (a variant that keeps full credit is another right way)."""
        return [self.variants[v] for v in self.combos[combo]
                if self.variants[v].id and self.variants[v].credit < 1.0]

    # -- release -----------------------------------------------------------------------------

    def release(self, visible_only: bool = True) -> dict[str, Any]:
        """The sealed form of the table (of its visible probes): no value, only the hashes of
        each group's grid cells, and which combinations each group holds."""
        probes = [p for p in self.probes if p.visible or not visible_only]
        out = []
        for probe in probes:
            shape_names = sorted(set(probe.shapes))
            out.append({
                "case": probe.case, "visible": probe.visible, "salt": probe.salt,
                "shape_names": shape_names,
                "shapes": [shape_names.index(s) for s in probe.shapes],
                "groups": {key: [{"combos": _mask(g.combos), "hashes": sorted(
                    g.hashes or sealing.seal(g.value, f"{probe.salt}/{key}", self.rel_tol,
                                             self.abs_tol))} for g in groups]
                           for key, groups in probe.groups.items()},
            })
        return {"components": list(self.components),
                "variants": [v.to_json() for v in self.variants],
                "combos": [list(c) for c in self.combos], "probes": out,
                "rel_tol": self.rel_tol, "abs_tol": self.abs_tol,
                "iterations": sealing.ITERATIONS,
                "complete": self.complete and len(probes) == len(self.probes)}

    @classmethod
    def from_release(cls, data: Mapping[str, Any]) -> Table:
        sealing.check_release(data)
        probes = tuple(
            Probe(p["case"], bool(p["visible"]), tuple(p["shape_names"][i] for i in p["shapes"]),
                  {key: tuple(Group(_unmask(g["combos"]), None, frozenset(g["hashes"]))
                              for g in groups) for key, groups in p["groups"].items()},
                  p["salt"])
            for p in data["probes"])
        return cls(tuple(str(n) for n in data["components"]),
                   tuple(Variant(v["component"], v["id"], v["feedback"], float(v["credit"]))
                         for v in data["variants"]),
                   tuple(tuple(c) for c in data["combos"]), probes,
                   float(data["rel_tol"]), float(data["abs_tol"]), bool(data["complete"]))


def _mask(combos: frozenset[int]) -> str:
    return format(sum(1 << c for c in combos), "x")


def _unmask(text: str) -> frozenset[int]:
    bits = int(text, 16)
    return frozenset(i for i in range(bits.bit_length()) if bits >> i & 1)


# --- outputs as keyed entries ----------------------------------------------------------------


def flatten(value: Any) -> dict[str, float]:
    """A projected output as numbered entries: ``{"start/0": 0.0, "length": 31.0, ...}`` for a
    path's pieces, ``{"value/0": ..}`` for a vector, ``{"value": ..}`` for a number."""
    pieces = value if isinstance(value, Mapping) else {"value": value}
    flat: dict[str, float] = {}
    for name, piece in pieces.items():
        if isinstance(piece, (list, tuple)):
            flat.update({f"{name}/{i}": float(v) for i, v in enumerate(piece)})
        elif piece is not None:
            flat[str(name)] = float(piece)
    return flat


def shape(output: Mapping[str, Any]) -> str | None:
    """What an output is, to be compared before its values: its keys, or the exception it
    raised. None for an output nothing can match (a result the projection could not read)."""
    if "error" in output:
        found = _RAISED.match(str(output["error"]))
        return f"error:{found.group(1)}" if found else None
    return ",".join(flatten(output.get("value")))


def _piece(key: str) -> str:
    return key.split("/", 1)[0]


def build_probe(case: str, visible: bool, outputs: Sequence[Mapping[str, Any]], salt: str,
                rel_tol: float, abs_tol: float) -> Probe:
    """A probe's groups from every combination's output (instructor side): values that fall in
    the same grid cells (sealing.cells) form one group, so a seal stands for the group."""
    shapes = tuple(shape(out) or "unreadable" for out in outputs)
    found: dict[str, dict[tuple[str, ...], tuple[float, set[int]]]] = {}
    for combo, out in enumerate(outputs):
        if "error" in out:
            continue
        for key, value in flatten(out.get("value")).items():
            cells = sealing.cells(value, rel_tol, abs_tol)
            value_combos = found.setdefault(key, {}).setdefault(cells, (value, set()))
            value_combos[1].add(combo)
    groups = {key: tuple(Group(frozenset(members), value) for value, members in by_cell.values())
              for key, by_cell in found.items()}
    return Probe(case, visible, shapes, groups, salt)


# --- matching --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Fit:
    """The combinations consistent with a student's output on one probe, in all and by piece."""

    combos: frozenset[int]
    pieces: Mapping[str, frozenset[int]]


def _matches(group: Group, value: float, salt: str, rel_tol: float, abs_tol: float) -> bool:
    if group.value is not None:
        return sealing.close(value, group.value, rel_tol, abs_tol)
    return sealing.matches(value, group.hashes, salt, rel_tol, abs_tol)


def fit(probe: Probe, output: Mapping[str, Any], rel_tol: float, abs_tol: float) -> Fit:
    """Which combinations give this output (entry by entry, after the shape)."""
    everyone = range(len(probe.shapes))
    kind = shape(output) if isinstance(output, Mapping) else None
    if kind is None:
        return Fit(frozenset(), {})
    if kind.startswith("error:"):
        same = frozenset(c for c in everyone if probe.shapes[c] == kind)
        return Fit(same, {"error": same})
    flat = flatten(output.get("value"))
    by_piece: dict[str, list[str]] = {}
    for key in flat:
        by_piece.setdefault(_piece(key), []).append(key)
    pieces: dict[str, frozenset[int]] = {}
    for name, keys in by_piece.items():
        alike = set().union(*(combos for combos, keyed in probe.by_shape.values()
                              if keyed.get(name) == tuple(keys)))
        for key in keys:
            salt = f"{probe.salt}/{key}"
            alike &= {c for g in probe.groups.get(key, ())
                      if _matches(g, flat[key], salt, rel_tol, abs_tol) for c in g.combos}
        pieces[name] = frozenset(alike)
    whole = probe.by_shape[kind][0] if kind in probe.by_shape else frozenset()
    for members in pieces.values():
        whole &= members
    return Fit(whole, pieces)


def _differ(probe: Probe, a: int, b: int) -> bool:
    """Do combinations ``a`` and ``b`` return different things on this probe?"""
    if probe.shapes[a] != probe.shapes[b]:
        return True
    return any((a in g.combos) != (b in g.combos) for gs in probe.groups.values() for g in gs)


# --- the verdict -----------------------------------------------------------------------------


def _order(table: Table) -> list[int]:
    """The probes, visible ones first (feedback names a visible test where it can)."""
    return sorted(range(len(table.probes)), key=lambda k: not table.probes[k].visible)


def kindest_first(table: Table) -> list[int]:
    """The combinations in the order a tie between them is broken: the higher credit, then
    fewer slips, then as listed."""
    return sorted(range(len(table.combos)),
                  key=lambda c: (-round(table.credit(c), 9), len(table.slips(c)), c))


def judge(table: Table, outputs: Sequence[Any]) -> CheckResult:
    """One verdict from the student's probe outputs: the combination of variants that explains
    the most probes (visible ones first; then the higher credit: where two readings explain an
    answer, the kinder one), its credit times the share of probes it explains, each slip named
    with the test case where it shows, and the first test case it does not explain. Where the
    grade has hidden tests and no reading explains any of them, nothing (:func:`verdict`): the
    visible tests' results are public, so answering them alone shows no working code."""
    if len(outputs) != len(table.probes):
        return CheckResult.unreadable(
            f"Your answer could not be read: expected {len(table.probes)} results, got "
            f"{len(outputs)}", error="outputs")
    fits = [fit(p, out, table.rel_tol, table.abs_tol) for p, out in zip(
        table.probes, outputs, strict=True)]
    tiebreak = {c: i for i, c in enumerate(kindest_first(table))}

    def rank(combo: int) -> tuple[bool, int, int, int]:
        seen = [k for k in range(len(fits)) if combo in fits[k].combos]
        visible = sum(table.probes[k].visible for k in seen)
        # a reading that explains a hidden test first (one that explains only visible ones
        # earns nothing in the grade, verdict), then visible tests, then all
        return (visible < len(seen), visible, len(seen), -tiebreak[combo])

    best = max(range(len(table.combos)), key=rank)
    explained = [k for k in range(len(fits)) if best in fits[k].combos]
    return verdict(table, best, explained, lambda k, a, b: _differ(table.probes[k], a, b),
                   lambda k: _unexplained(table, k, outputs[k], fits[k], best))


def verdict(table: Table, best: int, explained: Sequence[int],
            differ: Callable[[int, int, int], bool], unexplained: Callable[[int], str]
            ) -> CheckResult:
    """The verdict for ``best``, the combination chosen, explaining the probes ``explained``:
    ``differ(k, a, b)`` tells whether combinations a and b return different things on probe
    k; ``unexplained(k)`` says how the student's output on probe k differs from best's. (The
    visible probes are chosen so that they tell apart every combination the hidden ones do:
    tests/test_code_credit.py.)"""
    order = _order(table)
    slips = table.slips(best)
    n = len(table.probes)
    if len(explained) == n and not slips:
        return CheckResult.right()
    sentences = []
    missing = [k for k in order if k not in explained]
    if missing:  # the score says how many; the first (visible first) is named
        sentences.append(unexplained(missing[0]))
    for slip in slips:
        right = next(i for i, v in enumerate(table.variants)
                     if v.component == slip.component and not v.id)
        kinder = tuple(right if table.variants[v] is slip else v for v in table.combos[best])
        other = table.combos.index(kinder) if kinder in table.combos else 0
        where = next((table.probes[k].case for k in order if differ(k, best, other)), None)
        sentences.append(slip.feedback + (f" (It shows on {where}.)" if where else ""))
    score = table.credit(best) * len(explained) / n
    details: dict[str, Any] = {}
    hidden = [k for k in range(n) if not table.probes[k].visible]
    if table.complete and hidden and not any(k in explained for k in hidden):
        # the visible tests' results are public (the notebook states them, a release seals
        # them): answering them alone shows no working code, so it earns nothing
        sentences.append(ONLY_VISIBLE)
        score = 0.0
        details["only_visible"] = True
    if len(slips) > 1:
        details["slips"] = [s.id for s in slips]
    if not table.complete and len(explained) < n:
        details["unconfirmed"] = True  # the hidden tests may explain more: the grade decides
    return CheckResult.wrong(" ".join(sentences), score=round(min(max(score, 0.0), 1.0), 6),
                             mistake=slips[0].id if slips else None, **details)


def same_output(a: Mapping[str, Any], b: Mapping[str, Any], rel_tol: float, abs_tol: float
                ) -> bool:
    """Are two combinations' outputs in the same groups (the same shape, every entry in the
    same grid cells)? What :func:`build_probe` groups together."""
    if shape(a) != shape(b) or shape(a) is None:
        return False
    if "error" in a:
        return True
    flat_a, flat_b = flatten(a.get("value")), flatten(b.get("value"))
    return all(sealing.cells(v, rel_tol, abs_tol) == sealing.cells(flat_b[k], rel_tol, abs_tol)
               for k, v in flat_a.items())


def explains(student: Any, output: Mapping[str, Any], rel_tol: float, abs_tol: float) -> bool:
    """Does a combination's output explain the student's (as :func:`fit` decides)?"""
    if not isinstance(student, Mapping) or shape(student) is None:
        return False
    if shape(student) != shape(output):
        return False
    if "error" in output:
        return True
    mine = flatten(output.get("value"))
    return all(sealing.close(v, mine[k], rel_tol, abs_tol)
               for k, v in flatten(student.get("value")).items())


def search(table: Table, outputs: Sequence[Any],
           output_of: Callable[[int, int], Mapping[str, Any]]) -> CheckResult | None:
    """:func:`judge` without the whole table, for the usual case: some combination explains
    every probe. Combinations are tried kindest first, each on the probes until one it does not
    explain (``output_of(c, k)`` runs combination c on probe k only when asked); the first that
    explains them all is the one :func:`judge` would choose. None when none does: then the
    whole table decides. ``table`` needs no groups here."""
    if len(outputs) != len(table.probes):
        return None
    order = _order(table)
    for combo in kindest_first(table):
        if all(explains(outputs[k], output_of(combo, k), table.rel_tol, table.abs_tol)
               for k in order):
            return verdict(
                table, combo, list(range(len(outputs))),
                lambda k, a, b: not same_output(output_of(a, k), output_of(b, k),
                                                table.rel_tol, table.abs_tol),
                lambda k: "")
    return None


def _unexplained(table: Table, k: int, output: Any, found: Fit, best: int) -> str:
    case = table.probes[k].case
    if not isinstance(output, Mapping):
        return f"On {case} your function gave something that is not a result."
    if "error" in output:
        return f"On {case} your function {output['error']}."
    expected = table.probes[k].shapes[best]
    diverged = flatten(output.get("value")).get("length") == RAN_AWAY
    if expected.startswith("error:"):
        return f"On {case} your function returned a result where it should stop with an error."
    if diverged and "end" in expected:
        return f"On {case} your function's path runs away, and it should not."
    if not diverged and "length" in expected and "end" not in expected:
        return f"On {case} your function's path should run away, and it does not."
    wrong = [PIECES.get(name, name) for name, members in found.pieces.items()
             if best not in members]
    what = " and ".join(wrong) or "result"
    return f"On {case} your function gives a different {what}."
