"""The lecturer's table of realistic mistakes (issue 23), run through the real commands.

Every row of ``tests/mistakes/table.yaml`` is a student's answer with the credit band a lecturer
gives it, written before the kit graded it. The rows are packed into as few notebooks as
possible, built from the instructor's source notebook (every other answer is the reference
solution), graded per assignment in ONE real ``backprop-kit grade`` run (``-j 2``) and
self-checked with the real ``backprop-kit check`` once per notebook. Per row:

- the grade's credit for the row's question lies in the band;
- the self-check agrees with the grade (the same verdict: right with the same points, or the
  same feedback), except where it says honestly that it cannot tell;
- neither names an internal probe function the student never saw.

Rows the kit gets wrong today carry ``known_bad`` and run as ``xfail(strict=True)``: fixing the
kit turns them into XPASS failures until the fixer removes the mark. A summary by assignment
and by kind is written to ``test-artifacts/mistakes-summary.md`` (and ``.json``).
"""

from __future__ import annotations

import ast
import builtins
import json
import re
import subprocess
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

from autograder.course import examples
from autograder.rubric.course import questions
from autograder.run import sandbox
from autograder.student.released import SELFCHECK_FILE

ROOT = Path(__file__).resolve().parents[1]
TABLE = Path(__file__).parent / "mistakes" / "table.yaml"
ARTIFACTS = ROOT / "test-artifacts"
KIT = Path(sys.executable).parent / "backprop-kit"  # the console script, as users run it
UNSAFE = [] if sandbox.detect() != "none" else ["--allow-unsandboxed"]
EPS = 1e-9  # credit is a float of points; a band edge is met exactly
# What a self-check says when it honestly cannot reach the grade's verdict.
CANNOT_TELL = re.compile(r"cannot tell|grade decides|decides the points|judged at grading|"
                         r"does not say whether", re.I)
DATA = yaml.safe_load(TABLE.read_text(encoding="utf-8"))
ROWS: list[dict[str, Any]] = DATA["rows"]
SNIPPETS: dict[str, str] = DATA.get("snippets", {})
TIMES: dict[str, dict[str, float]] = {}  # per assignment: notebooks, seconds of grade and check


# --- the table -------------------------------------------------------------------------------

def rubric(assignment: str) -> dict[str, Any]:
    return {q.id: q for q in questions(assignment)}


def specs(row: Mapping[str, Any]) -> list[tuple[str, Mapping[str, Any]]]:
    """The answers a row writes: its own question's, then its follow-through ones."""
    return [(row["question"], row), *((a["question"], a) for a in row.get("also", ()))]


def cell_code(spec: Mapping[str, Any], q: Any) -> str:
    """The answer cell as the student wrote it."""
    parts = [SNIPPETS[name].rstrip() + "\n\n" for name in spec.get("with", ())]
    if "code" in spec:
        parts.append(spec["code"])
    elif q.kind == "expression":
        parts.append(f"{q.name} = {spec['answer']!r}\n")
    else:
        parts.append(f"{q.name} = {spec['answer']}\n")
    return "".join(parts)


def reads(row: Mapping[str, Any]) -> set[str]:
    default = DATA["assignments"][row["assignment"]].get("reads", {}).get(row["question"], [])
    return set(row.get("reads", default))


def changes(row: Mapping[str, Any], by_id: Mapping[str, Any]) -> set[str]:
    out: set[str] = set()
    for qid, spec in specs(row):
        out |= set(spec.get("changes", [by_id[qid].name]))
    return out


def pack(rows: Sequence[Mapping[str, Any]], by_id: Mapping[str, Any]
         ) -> list[list[Mapping[str, Any]]]:
    """Rows into as few notebooks as possible: a notebook answers each question at most once,
    and no row changes a name another row's question reads (first fit, the most crowded
    questions first)."""
    crowd = Counter(r["question"] for r in rows)
    notebooks: list[list[Mapping[str, Any]]] = []
    for row in sorted(rows, key=lambda r: -crowd[r["question"]]):
        cells, rd, ch = {q for q, _ in specs(row)}, reads(row), changes(row, by_id)
        for nb in notebooks:
            if all(not cells & {q for q, _ in specs(o)} and not rd & changes(o, by_id)
                   and not reads(o) & ch for o in nb):
                nb.append(row)
                break
        else:
            notebooks.append([row])
    return notebooks


def build(assignment: str, rows: Sequence[Mapping[str, Any]], by_id: Mapping[str, Any]
          ) -> dict[str, Any]:
    nb = examples.as_student_copy(examples.load(ROOT / "assignments", assignment))
    for row in rows:
        for qid, spec in specs(row):
            nb = examples.with_answer(nb, qid, cell_code(spec, by_id[qid]))
    return nb


def source_of(cell: Mapping[str, Any]) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else src


# --- the real commands -----------------------------------------------------------------------

def parse_check(text: str, ids: Sequence[str]) -> dict[str, str]:
    """``backprop-kit check``'s verdict per question id (``  title [id]: verdict [p of m
    points]``; a verdict may run over several lines; the total and notes end them)."""
    verdicts: dict[str, str] = {}
    current = None
    for line in text.splitlines()[1:]:
        found = [i for i in ids if f"[{i}]: " in line]
        if found:
            current = max(found, key=len)
            verdicts[current] = line.split(f"[{current}]: ", 1)[1].strip()
        elif line.startswith(("Total:", "  note: ", "  ask your instructor")):
            current = None
        elif current is not None:
            verdicts[current] += " " + line.strip()
    return verdicts


@dataclass
class Outcome:
    """What the grade and the self-check said about one row's question."""

    row: Mapping[str, Any]
    points: float
    max_points: float
    grade: Mapping[str, Any]
    check: str | None
    problems: list[str] = field(default_factory=list)

    @property
    def credit(self) -> float:
        return self.points / self.max_points

    @property
    def direction(self) -> str:
        lo, hi = self.row["band"]
        if self.credit < lo - EPS:
            return "harsher"
        if self.credit > hi + EPS:
            return "more lenient"
        return "in band"


def internal_names(assignment: str, by_id: Mapping[str, Any]) -> set[str]:
    """Names of the probe functions the rubric hands to student code that the notebook the
    student sees never shows."""
    blank = examples.blank(examples.load(ROOT / "assignments", assignment))
    seen = "\n".join(source_of(c) for c in blank["cells"])
    names = {arg.name for q in by_id.values() for probe in q.probes for arg in probe
             if hasattr(arg, "components")}
    return {n for n in names if not re.search(rf"(?<![\w]){re.escape(n)}(?![\w])", seen)}


def names_internal(text: str, hidden: set[str]) -> list[str]:
    return [n for n in hidden if re.search(rf"(?<![\w.]){re.escape(n)}(?=\s*[(,)])", text)]


def agreement(grade: Mapping[str, Any], verdict: str | None) -> str | None:
    """Why the self-check's verdict differs from the grade's (points, feedback), or None."""
    if verdict is None:
        return "the self-check printed no verdict for this question"
    if CANNOT_TELL.search(verdict):
        return None
    shown = re.fullmatch(r"(.*) \[([\d.e+-]+) of ([\d.e+-]+) points\]", verdict, re.S)
    if not shown:
        return f"the self-check's verdict shows no points: {verdict!r}"
    feedback, earned = shown[1], float(shown[2])
    if abs(earned - grade["points"]) > 1e-4 * max(1.0, grade["max_points"]):
        return (f"the self-check gives {earned:g} points ({feedback!r}), the grade "
                f"{grade['points']:g} ({grade['feedback']!r})")
    if grade["correct"]:
        return None  # right with the same points; a note on how it was proved may differ
    said = {" ".join(str(grade.get(k)).split()) for k in ("feedback", "error") if grade.get(k)}
    if " ".join(feedback.split()) not in said:
        return f"the self-check says {feedback!r}, the grade {grade['feedback']!r}"
    return None


def run_assignment(assignment: str, folder: Path) -> dict[str, Outcome]:
    by_id = rubric(assignment)
    rows = [r for r in ROWS if r["assignment"] == assignment]
    notebooks = pack(rows, by_id)
    subs = folder / "class"
    subs.mkdir(parents=True)
    placed: dict[str, str] = {}
    for k, nb_rows in enumerate(notebooks, start=1):
        name = f"nb{k:02d}"
        (subs / f"{name}.ipynb").write_text(json.dumps(build(assignment, nb_rows, by_id)),
                                            encoding="utf-8")
        placed.update({r["id"]: name for r in nb_rows})
    out = folder / "graded"
    started = time.monotonic()
    proc = subprocess.run([str(KIT), "grade", str(subs), "-a", assignment, "-o", str(out),
                           "-j", "2", *UNSAFE], capture_output=True, text=True, cwd=ROOT,
                          timeout=600)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    graded = {s["student"]: {q["id"]: q for q in s["questions"]}
              for s in json.loads((out / "results.json").read_text())["submissions"]}

    def check(name: str) -> str:
        where = folder / "check" / name
        where.mkdir(parents=True)
        (where / f"{assignment}.ipynb").write_bytes((subs / f"{name}.ipynb").read_bytes())
        (where / SELFCHECK_FILE).write_bytes(
            (ROOT / "assignments" / assignment / SELFCHECK_FILE).read_bytes())
        done = subprocess.run([str(KIT), "check", str(where / f"{assignment}.ipynb"), *UNSAFE],
                              capture_output=True, text=True, cwd=where, timeout=600)
        return done.stdout if done.returncode == 0 else done.stdout + done.stderr

    graded_at = time.monotonic()
    names = sorted(set(placed.values()))
    with ThreadPoolExecutor(max_workers=2) as pool:
        checked = dict(zip(names, pool.map(check, names), strict=True))
    TIMES[assignment] = {"notebooks": len(notebooks), "grade_s": round(graded_at - started, 1),
                         "check_s": round(time.monotonic() - graded_at, 1)}
    hidden = internal_names(assignment, by_id)
    outcomes = {}
    for row in rows:
        name, qid = placed[row["id"]], row["question"]
        if qid not in graded.get(name, {}):
            raise AssertionError(f"{row['id']}: {name} has no grade for {qid}")
        grade = graded[name][qid]
        verdict = parse_check(checked[name], list(by_id)).get(qid)
        outcome = Outcome(row, grade["points"], grade["max_points"], grade, verdict)
        if outcome.direction != "in band":
            outcome.problems.append(
                f"credit {outcome.credit:.3f} is {outcome.direction} than the band "
                f"{row['band']} ({grade['points']}/{grade['max_points']}: {grade['feedback']!r})")
        disagreement = agreement(grade, verdict)
        if disagreement:
            outcome.problems.append(f"self-check disagrees: {disagreement}")
        leaked = names_internal(f"{grade['feedback']}\n{verdict or ''}", hidden)
        if leaked:
            outcome.problems.append(f"feedback names {leaked}, which the student never saw")
        outcomes[row["id"]] = outcome
    return outcomes


def summary(outcomes: Mapping[str, Outcome]) -> tuple[str, dict[str, Any]]:
    """In-band figures by assignment and by kind, as markdown and as data."""
    def tally(group: Iterator[Outcome]) -> dict[str, int]:
        c: Counter[str] = Counter()
        for o in group:
            c["rows"] += 1
            c[o.direction] += 1
            c["self-check disagrees"] += any(p.startswith("self-check") for p in o.problems)
            c["internal names"] += any("never saw" in p for p in o.problems)
        return {k: c[k] for k in ("rows", "in band", "harsher", "more lenient",
                                  "self-check disagrees", "internal names")}

    by: dict[str, dict[str, list[Outcome]]] = {"assignment": defaultdict(list),
                                               "kind": defaultdict(list)}
    for o in outcomes.values():
        by["assignment"][o.row["assignment"]].append(o)
        by["kind"][o.row["kind"]].append(o)
    data = {"total": tally(iter(outcomes.values())),
            **{k: {g: tally(iter(v)) for g, v in sorted(groups.items())}
               for k, groups in by.items()},
            "rows": {i: {"credit": round(o.credit, 4), "band": o.row["band"],
                         "direction": o.direction, "problems": o.problems,
                         "grade_feedback": o.grade.get("feedback"), "check": o.check,
                         "known_bad": o.row.get("known_bad")} for i, o in outcomes.items()}}
    heads = ("rows", "in band", "harsher", "more lenient", "self-check disagrees",
             "internal names")
    lines = ["# Mistakes table: the kit against the lecturer's bands", ""]
    for key in ("assignment", "kind"):
        lines += [f"| {key} | " + " | ".join(heads) + " |", "|---" * (len(heads) + 1) + "|"]
        for group, t in [*data[key].items(), ("total", data["total"])]:
            lines.append(f"| {group} | " + " | ".join(str(t[h]) for h in heads) + " |")
        lines.append("")
    lines += ["| assignment | notebooks | grade (s) | checks (s) |", "|---|---|---|---|"]
    lines += [f"| {a} | {t['notebooks']} | {t['grade_s']} | {t['check_s']} |"
              for a, t in TIMES.items()]
    data["times"] = TIMES
    lines += ["", "## Rows outside the band or in disagreement"]
    for i, o in outcomes.items():
        if o.problems:
            lines.append(f"- `{i}` ({o.row['question']}, {o.row['kind']}): "
                         + "; ".join(o.problems))
    return "\n".join(lines) + "\n", data


@pytest.fixture(scope="session")
def outcomes(tmp_path_factory) -> Iterator[dict[str, Outcome]]:
    """All rows graded and self-checked: one grade run and one check per notebook, per
    assignment, computed on first use."""
    done: dict[str, Outcome] = {}
    ran: set[str] = set()

    class Lazy(dict):
        def __missing__(self, row_id: str) -> Outcome:
            assignment = next(r["assignment"] for r in ROWS if r["id"] == row_id)
            if assignment in ran:
                raise KeyError(row_id)
            ran.add(assignment)
            done.update(run_assignment(assignment, tmp_path_factory.mktemp(assignment)))
            self.update(done)
            return self[row_id]

    yield Lazy()
    if done:
        text, data = summary(done)
        ARTIFACTS.mkdir(exist_ok=True)
        (ARTIFACTS / "mistakes-summary.md").write_text(text, encoding="utf-8")
        (ARTIFACTS / "mistakes.json").write_text(json.dumps(data, indent=1), encoding="utf-8")


# --- the tests -------------------------------------------------------------------------------

def test_the_table_covers_every_graded_question_with_valid_rows() -> None:
    ids = [r["id"] for r in ROWS]
    assert len(ids) >= 110 and len(ids) == len(set(ids))
    for assignment in DATA["assignments"]:
        by_id = rubric(assignment)
        mine = [r for r in ROWS if r["assignment"] == assignment]
        assert {r["question"] for r in mine} == set(by_id), \
            f"{assignment}: rows for unknown questions, or a graded question without rows"
        source = "\n".join(source_of(c) for c in
                           examples.load(ROOT / "assignments", assignment)["cells"])
        for row in mine:
            lo, hi = row["band"]
            assert 0 <= lo <= hi <= 1, row["id"]
            assert row.get("reason") and row.get("kind"), row["id"]
            for qid, spec in specs(row):
                assert qid in by_id, f"{row['id']}: unknown question {qid}"
                assert ("answer" in spec) != ("code" in spec), row["id"]
                assert set(spec.get("with", ())) <= set(SNIPPETS), row["id"]
                compile(cell_code(spec, by_id[qid]), row["id"], "exec")
            for name in reads(row) | changes(row, by_id):
                assert re.search(rf"\b{re.escape(name)}\b", source), \
                    f"{row['id']}: {name} is not a name of the {assignment} notebook"


def test_packing_keeps_each_question_once_and_reads_apart() -> None:
    for assignment in DATA["assignments"]:
        by_id = rubric(assignment)
        rows = [r for r in ROWS if r["assignment"] == assignment]
        notebooks = pack(rows, by_id)
        assert sorted(r["id"] for nb in notebooks for r in nb) == sorted(r["id"] for r in rows)
        for nb in notebooks:
            cells = [q for r in nb for q, _ in specs(r)]
            assert len(cells) == len(set(cells))
            for a in nb:
                for b in nb:
                    assert a is b or not reads(a) & changes(b, by_id), (a["id"], b["id"])


def bound_names(code: str) -> set[str]:
    """The names a piece of code binds (assignments, loops, defs, imports, parameters)."""
    out: set[str] = set()
    for node in ast.walk(ast.parse(code)):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            out.add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            out.add(node.name)
        elif isinstance(node, ast.arg):
            out.add(node.arg)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            out |= {(a.asname or a.name).split(".")[0] for a in node.names}
    return out


def test_row_code_binds_the_answer_and_uses_only_the_notebook_names() -> None:
    """A renamed answer or notebook variable shows here, before anything is graded."""
    for assignment in DATA["assignments"]:
        by_id = rubric(assignment)
        nb = examples.as_student_copy(examples.load(ROOT / "assignments", assignment))
        known = set(dir(builtins)) | {n for c in nb["cells"] if c["cell_type"] == "code"
                                      for n in bound_names(source_of(c))}
        for row in (r for r in ROWS if r["assignment"] == assignment):
            for qid, spec in specs(row):
                code = cell_code(spec, by_id[qid])
                own = bound_names(code)
                assert by_id[qid].name in own, \
                    f"{row['id']}: the cell does not define {by_id[qid].name} ({qid})"
                used = {n.id for n in ast.walk(ast.parse(code))
                        if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
                assert used <= own | known, \
                    f"{row['id']}: {sorted(used - own - known)} are not names of the notebook"


def _param(row: Mapping[str, Any]) -> Any:
    marks = [pytest.mark.xfail(strict=True, reason=row["known_bad"])] if row.get("known_bad") \
        else []
    return pytest.param(row["id"], marks=marks, id=row["id"])


@pytest.mark.parametrize("row_id", [_param(r) for r in ROWS])
def test_the_kit_grades_the_row_as_the_lecturer_would(outcomes, row_id: str) -> None:
    outcome = outcomes[row_id]
    assert not outcome.problems, "\n".join(outcome.problems)
