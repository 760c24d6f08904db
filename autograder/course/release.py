"""Instructor-side authoring: the files released beside each notebook.

``selfcheck.json`` carries each question's public rubric and, for expression questions, the
reference's values at fixed points: enough for the visible check to recognise a right answer
or a slip, not enough to read the answer off.

With a course seed (per-student variants, ``autograder.rubric.variants``) a question's released data
may differ between variants. It is then released for every variant, keyed by the fields of the
variant it depends on (``autograder.student.released.variant_key``): found by comparing the
questions of many variants, so a rubric declares nothing. A field with few values (which weight to
differentiate) keys a handful of entries for the whole class; data that differs with fields of
many values (the coefficients of a test function) is released per student, for the roster.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from autograder.course import audit
from autograder.course.audit import Finding
from autograder.rubric.question import Question, fingerprint
from autograder.student.released import PER_STUDENT, SELFCHECK_FILE, variant_key

SAMPLE_IDS = tuple(f"sample-{i:03d}" for i in range(48))  # ids that find the variants' keys
MIN_PER_VALUE = 3  # a field is a key only if each of its values comes up this often


def _identity(question: Question, self_check: Any) -> str:
    """What an expression question's released entry is computed from: equal identities,
    equal entries, so a fingerprint is built once for all variants that ask the same (which
    variant a question was built for is not part of it, its content is)."""
    plain = dataclasses.replace(question, from_earlier=None, variant=None)
    return f"{plain!r}\0{json.dumps(self_check, sort_keys=True)}"


def _entry(question: Question, self_check: Any, prefix: str | None = None,
           seal: bool = False) -> dict[str, Any]:
    """``prefix`` salts sealed values (autograder.judge.sealing; default: the variant's key);
    ``seal`` only where the audit passed it."""
    return {**fingerprint(question, prefix, seal),
            **({"self_check": self_check} if self_check else {})}


def key_fields(variants: Sequence[Any], identities: Sequence[str]) -> list[str] | None:
    """The fewest fields of the variants that tell the entries apart: [] when all entries are
    equal, a field whose every value comes up often enough, else None (data per student)."""
    if len(set(identities)) == 1:
        return []
    fields = sorted(variants[0].numbers)
    def values(field: str) -> list[str]:
        return [variant_key([field], v) for v in variants]
    tried = sorted(fields, key=lambda f: len(set(values(f))))
    for field in tried:
        keys = values(field)
        counts = {k: keys.count(k) for k in keys}
        if min(counts.values()) < MIN_PER_VALUE:
            continue
        seen: dict[str, str] = {}
        if all(seen.setdefault(k, i) == i for k, i in zip(keys, identities, strict=True)):
            return [field]
    return None


def selfcheck_data(assignment: str, seed: str | None = None,
                   roster: Iterable[str] = (), findings: list[Finding] | None = None
                   ) -> dict[str, Any]:
    """The released data of ``assignment``: for the lecture's numbers only without a seed;
    with one, for every variant (keyed by structure, or per student of ``roster``). Every
    datum is audited first (autograder.course.audit): a value is sealed only where recovering
    it is hopeless; the audit's ``findings`` are appended to the list given, and a release
    the audit does not pass raises :class:`audit.ReleaseRefused`."""
    from autograder.rubric.course import questions as questions_of  # instructor side only
    from autograder.rubric.course import self_checks
    from autograder.rubric.variants import variant_for

    roster = [r for r in dict.fromkeys(s.strip() for s in roster) if r]
    lecture = variant_for(assignment, None, None)
    variants = [lecture] if seed is None else [
        variant_for(assignment, sid, seed) for sid in (*SAMPLE_IDS, *roster)]
    rows = [(questions_of(assignment, v), self_checks(assignment, v)) for v in variants]
    entries: dict[str, dict[str, Any]] = {}  # identity -> entry, each built once
    questions: dict[str, Any] = {}
    audited: list[Finding] = []
    passed: dict[str, set[str]] = {}  # question id -> the salts of the seals the audit passed
    for index, first in enumerate(rows[0][0]):
        column = [(qs[index], checks.get(first.id)) for qs, checks in rows]
        shared = None  # the salt of sealed values every variant shares
        if seed is None:
            fields: list[str] | None = []
        elif first.kind != "expression":
            # sealed values are salted with the variant's key, so per student; unless the
            # question is the same for everyone (then one entry, salted alike for all)
            same = key_fields(variants, [_identity(q, c) for q, c in column]) == []
            fields, shared = ([], "") if same else (None, None)
        else:
            fields = key_fields(variants, [_identity(q, c) for q, c in column])
        chosen = list(zip(variants, column, strict=True))
        if fields is None:  # per student: only the roster's (the samples are not students)
            fields, chosen = [PER_STUDENT], chosen[len(SAMPLE_IDS):]
        elif not fields:  # the same for every variant: one entry
            chosen = chosen[:1]
        released = {}
        for variant, (q, check) in chosen:
            if q.kind != "expression":
                earlier = next((e for e in questions_of(assignment, variant)
                                if e.id == q.follows), None) if q.follows else None
                ok, found = audit.judge_question(assignment, q, earlier)
                audited.extend(found)
                if ok:
                    passed.setdefault(q.id, set()).add(q.variant or "" if shared is None
                                                       else shared)
                released[variant_key(fields, variant)] = _entry(q, check, shared, ok)
                continue
            if variant is chosen[0][0]:
                audited.extend(audit.judge_question(assignment, q)[1])
            identity = _identity(q, check)
            if identity not in entries:
                entries[identity] = _entry(q, check)
            released[variant_key(fields, variant)] = entries[identity]
        if not fields:
            questions[first.id] = next(iter(released.values()))
        else:
            questions[first.id] = {"id": first.id, "name": first.name, "kind": first.kind,
                                   "points": first.points, "title": first.title,
                                   "variant_fields": fields,
                                   "variants": dict(sorted(released.items()))}
    data = {
        "assignment": assignment,
        "note": "Released with the notebook for its visible self-checks. Contains no answers.",
        **({"variant_seed": seed} if seed is not None else {}),
        "questions": questions,
    }
    audit.verify(assignment, data, passed)
    if findings is not None:
        findings.extend(audited)
    return data


def selfcheck_text(assignment: str, seed: str | None = None, roster: Iterable[str] = (),
                   findings: list[Finding] | None = None) -> str:
    return json.dumps(selfcheck_data(assignment, seed, roster, findings), indent=1,
                      ensure_ascii=False) + "\n"


def write_selfchecks(source_dir: Path, assignments: list[str] | None = None,
                     seed: str | None = None, roster: Iterable[str] = (),
                     findings: list[Finding] | None = None) -> list[Path]:
    """(Re)write ``<source>/<assignment>/selfcheck.json`` for each assignment, each audited
    (``findings`` collects what the audit found); nothing is written if any is refused."""
    from autograder.rubric import course

    roster = list(roster)
    names = assignments or list(course.assignments())
    texts = {name: selfcheck_text(name, seed, roster, findings) for name in names}
    written = []
    for name, text in texts.items():
        path = source_dir / name / SELFCHECK_FILE
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written


# --- the notebooks' test cells -----------------------------------------------------------

SETUP_IMPORT = ("from autograder.notebook import check  # the self-checks; imported first so "
                "they know which cells ran")
ABOUT_CHECKS_ID = "about-checks"
ABOUT_CHECKS = """\
### What the checks and `nbgrader validate` tell you — and what they do not

- **A check cell** shows your answer as it was read (a formula as mathematics), then its
  verdict. If your answer is missing, cannot be read or is found wrong, the check cell shows
  a short message in red and the notebook goes on (*Run All* shows every verdict): fix the
  answer cell, run it, then run the check again. If the answer cell itself stopped with an
  error, the check says *not answered yet — run the cell above*: it never judges a value left
  over from an earlier run. *Run All* stops at the first such cell; *Run Selected Cell and
  All Below* goes on from there.
- **`nbgrader validate`** (or *Validate* in the Assignments tab) runs your whole notebook from a
  fresh kernel and lists every check cell that fails. *Success! Your notebook passes all the
  tests.* means that every self-check passed — no more.
- **What the self-checks cover:** that each answer exists and reads; for a formula, whether it
  is right or which usual slip it shows, judged at a few fixed points; for numbers, vectors and
  functions, their form and properties a right answer must have, checked against your own
  work (your finite differences, your loss curve, your function on the visible tests); for a
  long vector, whether it is right or a usual slip as a whole.
- **What they do not cover:** the value of a number, which entries of a vector are off, which
  flags are right — a check of those would give the answer away, so the check says so and the
  grade decides — your functions on hidden tests, and the written answers (graded by hand).
  **Hidden tests decide your grade**: they judge every answer against the reference solution
  when your work is graded.
"""


def check_cell_source(question: Any) -> str:
    """The one template of a test cell: the hidden ``grade`` first (it records the points
    nbgrader reads as the cell's score), then the visible ``check``, which in the released
    notebook fails the cell when it finds the answer wrong."""
    return ("from autograder.notebook import check, grade\n"
            "### BEGIN HIDDEN TESTS\n"
            f'grade("{question.id}")\n'
            "### END HIDDEN TESTS\n"
            f'check("{question.id}")')


def cell_source(cell: Mapping[str, Any]) -> str:
    """A notebook cell's source as one text (nbformat allows a list of lines)."""
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else src


def rewrite_notebook(nb: dict[str, Any], assignment: str) -> list[str]:
    """Bring one notebook's test cells, setup import and note on checks up to date (in place);
    return what changed."""
    from autograder.rubric.course import questions

    changed: list[str] = []
    by_id = {q.id: q for q in questions(assignment)}
    cells = nb["cells"]
    for cell in cells:
        grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        if cell.get("cell_type") == "code" and grade_id in by_id:
            new = check_cell_source(by_id[grade_id])
            if cell_source(cell) != new:
                cell["source"] = new
                changed.append(grade_id)
    code = [c for c in cells if c.get("cell_type") == "code"]
    if code and SETUP_IMPORT not in cell_source(code[0]):
        code[0]["source"] = f"{SETUP_IMPORT}\n{cell_source(code[0])}"
        changed.append(f"{code[0].get('id', 'first code cell')} (setup import)")
    about = [c for c in cells if c.get("id") == ABOUT_CHECKS_ID]
    if not about:
        import nbformat

        note = nbformat.v4.new_markdown_cell(ABOUT_CHECKS)
        note["id"] = ABOUT_CHECKS_ID
        cells.insert(1, note)
        changed.append(ABOUT_CHECKS_ID)
    elif cell_source(about[0]) != ABOUT_CHECKS:
        about[0]["source"] = ABOUT_CHECKS
        changed.append(ABOUT_CHECKS_ID)
    return changed


def rewrite_test_cells(source_dir: Path, assignments: list[str] | None = None
                       ) -> dict[Path, list[str]]:
    """Rewrite every notebook's test cells from :func:`check_cell_source`."""
    import nbformat

    from autograder.rubric import course

    done: dict[Path, list[str]] = {}
    for name in assignments or list(course.assignments()):
        path = source_dir / name / f"{name}.ipynb"
        nb = nbformat.read(path, as_version=nbformat.NO_CONVERT)
        changed = rewrite_notebook(nb, name)
        if changed:
            nbformat.write(nb, path)
        done[path] = changed
    return done
