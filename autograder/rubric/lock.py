"""Which rubric the released self-checks were made from, so that a stale release is caught.

``backprop-kit selfchecks`` records, per assignment, each question's rubric version
(:func:`autograder.rubric.versions.question_version`) and a hash of the ``selfcheck.json`` it
wrote, in ``selfchecks.lock.json`` at the course root: instructor side, never released (the
versions would test guesses of a reference). ``grade`` and ``regrade`` compare the current
rubric with it, and nbgrader's ``release/<assignment>/selfcheck.json`` with the file recorded,
and warn: the students' self-checks and ``nbgrader validate`` would still give the old credit.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

LOCK_FILE = "selfchecks.lock.json"
SELFCHECK_FILE = "selfcheck.json"


def file_hash(path: Path) -> str | None:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()[:16]
    except OSError:
        return None


def current_versions(assignment: str) -> dict[str, tuple[str, str]]:
    """question id -> (version, title) of the course's rubric now (the lecture's numbers)."""
    from autograder.rubric.course import questions
    from autograder.rubric.versions import question_version

    return {q.id: (question_version(q), q.title) for q in questions(assignment)}


def read_lock(course_dir: Path) -> dict[str, dict]:
    try:
        data = json.loads((course_dir / LOCK_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def changed_questions(recorded: dict, now: dict[str, tuple[str, str]]) -> list[str]:
    """Titles (and ids) of the questions whose rubric differs from the record."""
    before = recorded.get("questions", {}) if isinstance(recorded, dict) else {}
    changed = [f"{title} ({qid})" for qid, (version, title) in now.items()
               if before.get(qid) != version]
    changed += [f"{qid} (removed)" for qid in before if qid not in now]
    return changed


def record(course_dir: Path, source_dir: Path, assignments: list[str]) -> dict[str, list[str]]:
    """Record the rubric each assignment's ``selfcheck.json`` was just written from; return,
    per assignment, the questions that changed since the previous record (none the first
    time)."""
    lock = read_lock(course_dir)
    changes = {}
    for assignment in assignments:
        now = current_versions(assignment)
        changes[assignment] = changed_questions(lock[assignment], now) \
            if assignment in lock else []
        lock[assignment] = {
            "questions": {qid: version for qid, (version, _) in now.items()},
            SELFCHECK_FILE: file_hash(source_dir / assignment / SELFCHECK_FILE)}
    text = json.dumps(dict(sorted(lock.items())), indent=1, sort_keys=True) + "\n"
    (course_dir / LOCK_FILE).write_text(text, encoding="utf-8")
    return changes


def stale_release(course_dir: Path, assignment: str) -> list[str]:
    """Why the released self-checks of ``assignment`` are stale, one sentence each; empty
    when they are current, or when ``selfchecks`` never recorded a release."""
    recorded = read_lock(course_dir).get(assignment)
    if not isinstance(recorded, dict):
        return []
    notes = []
    changed = changed_questions(recorded, current_versions(assignment))
    if changed:
        notes.append(
            f"the rubric of {assignment} changed since its self-checks were released "
            f"({', '.join(changed)}): students' self-checks and nbgrader validate still give "
            f"the old verdicts. Run 'backprop-kit selfchecks', then 'nbgrader "
            f"generate_assignment {assignment} --force' and release it again")
    released = course_dir / "release" / assignment / SELFCHECK_FILE
    if not changed and released.exists() and file_hash(released) != recorded.get(SELFCHECK_FILE):
        notes.append(
            f"release/{assignment}/{SELFCHECK_FILE} is not the one 'backprop-kit selfchecks' "
            f"wrote last: run 'nbgrader generate_assignment {assignment} --force' and release "
            "it again")
    return notes
