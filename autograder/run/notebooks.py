"""One submission's notebook, read safely and made ready to run: only a regular file of bounded
size, never through a link, its JSON and cells checked with a message naming the cell at fault;
the cells planned for the child and a fresh working folder holding this submission only.
"""

from __future__ import annotations

import errno
import json
import os
import stat
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

from autograder.judge.probing import shipped_probe_arg
from autograder.rubric.question import Question
from autograder.run.capture import Job, Probe, cells_from_notebook
from autograder.run.runner import JOB_FILE

MAX_NOTEBOOK_BYTES = 20 << 20
MAX_COPY_BYTES = 100 << 20


class ReadNotebook(NamedTuple):
    """A notebook's bytes (copied into the working folder) and its checked JSON."""

    raw: bytes
    nb: dict[str, Any]


@dataclass(frozen=True)
class Submission:
    """One student's notebook; ``folder`` (if any) holds files it may read beside it;
    ``problem`` (if any) says why it cannot be graded (it is reported, not run); ``read``
    (if any) is the notebook already read, by a caller that needed it first (the self-check
    reads the student's typed id from it), so it is read once."""

    student: str
    notebook: Path
    folder: Path | None = None
    problem: str | None = None
    read: ReadNotebook | None = field(default=None, compare=False, hash=False, repr=False)

    @property
    def key(self) -> str:
        if self.problem is not None:
            return f"{self.student}/{self.notebook}"
        return f"{self.student}/{self.notebook.name}"


class InvalidNotebook(Exception):
    pass


def read_regular(path: Path, limit: int) -> bytes:
    """The bytes of ``path`` if it is a regular file of at most ``limit`` bytes.

    Opened without following a link and without blocking (a FIFO or a device never hangs or
    floods the grader), checked with fstat before anything is read. OSError says what it is."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as error:
        if error.errno == errno.ELOOP:
            raise OSError(errno.ELOOP, "it is a symbolic link, which is not graded") from None
        raise
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            kind = ("a FIFO" if stat.S_ISFIFO(info.st_mode) else "a device"
                    if stat.S_ISCHR(info.st_mode) or stat.S_ISBLK(info.st_mode) else
                    "a folder" if stat.S_ISDIR(info.st_mode) else "not a regular file")
            raise OSError(errno.EINVAL, f"it is {kind}, not a regular file")
        if info.st_size > limit:
            raise OSError(errno.EFBIG, f"it is larger than {limit >> 20} MB")
        chunks, size = [], 0
        while chunk := os.read(fd, 1 << 20):
            size += len(chunk)
            if size > limit:
                raise OSError(errno.EFBIG, f"it is larger than {limit >> 20} MB")
            chunks.append(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)


def linked_folder(sub: Submission) -> Path | None:
    """A symbolic link among the folders the platform made for this submission, if any."""
    folders = [sub.notebook.parent]
    if sub.folder is not None:
        folders += [sub.folder, sub.folder.parent]
    for folder in folders:
        if folder.is_symlink():
            return folder
    return None


def parse_notebook(name: str, raw: bytes) -> dict[str, Any]:
    """The notebook as JSON, its cells checked; says what is wrong with one that is not."""
    try:
        nb = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as error:
        raise InvalidNotebook(f"{name} is not UTF-8 text (byte {error.start})") from None
    except json.JSONDecodeError as error:
        raise InvalidNotebook(
            f"{name} is not valid notebook JSON: {error.msg} at line {error.lineno}, "
            f"column {error.colno}") from None
    except RecursionError:
        raise InvalidNotebook(f"{name} is JSON nested too deeply to be a notebook") from None
    except ValueError as error:  # e.g. an integer of more than 4300 digits
        raise InvalidNotebook(f"{name} is not valid notebook JSON: {error}") from None
    if not isinstance(nb, dict) or not isinstance(nb.get("cells"), list):
        raise InvalidNotebook(f"{name} is JSON but not a notebook (no list of cells)")
    if nb.get("nbformat") != 4:
        raise InvalidNotebook(f"{name} is not an nbformat 4 notebook")
    for index, cell in enumerate(nb["cells"], start=1):
        _check_cell(name, index, cell)
    return nb


def _check_cell(name: str, index: int, cell: Any) -> None:
    where = f"{name}, cell {index}"
    if not isinstance(cell, dict):
        raise InvalidNotebook(f"{where} is a {type(cell).__name__}, not a cell")
    source = cell.get("source", "")
    if not (isinstance(source, str)
            or isinstance(source, list) and all(isinstance(s, str) for s in source)):
        raise InvalidNotebook(f"{where}: its source is neither text nor a list of lines")
    meta = cell.get("metadata", {})
    if not isinstance(meta, dict):
        raise InvalidNotebook(f"{where}: its metadata is not a JSON object")
    nbgrader = meta.get("nbgrader", {})
    if nbgrader is None:
        return
    if not isinstance(nbgrader, dict):
        raise InvalidNotebook(f"{where}: its nbgrader metadata is not a JSON object")
    grade_id = nbgrader.get("grade_id")
    if grade_id is not None and not isinstance(grade_id, str):
        raise InvalidNotebook(f"{where}: its grade_id is a {type(grade_id).__name__}, "
                              "not text")


def read_notebook_file(path: Path) -> ReadNotebook:
    """The notebook's bytes and JSON (a regular file only); says what is wrong with one that
    is not."""
    try:
        raw = read_regular(path, MAX_NOTEBOOK_BYTES)
    except OSError as error:
        raise InvalidNotebook(f"{path.name} cannot be read: {error.strerror}") from None
    return ReadNotebook(raw, parse_notebook(path.name, raw))


def read_notebook(path: Path) -> dict[str, Any]:
    """The notebook as JSON (a regular file only); says what is wrong with one that is not."""
    return read_notebook_file(path).nb


def plan_job(nb: Mapping[str, Any], questions: Sequence[Question],
             env: Mapping[str, str] | None = None) -> Job:
    answers = {q.answer_cell: q.name for q in questions}
    # the test functions with their Python source, so that the child compiles them without
    # sympy (the grader's job only: a self-check's data never carries it)
    probes = {
        q.name: Probe(tuple(tuple(shipped_probe_arg(a) for a in p) for p in q.probes), q.project)
        for q in questions if q.kind == "function"
    }
    return Job(cells_from_notebook(nb, answers), probes, dict(env or {}))


def test_functions(job: Job) -> tuple[dict[str, Any], ...]:
    """The test functions the job hands to the student's functions, each once, as data: the
    runner compiles them before it forks the children that call them."""
    found: dict[str, dict[str, Any]] = {}
    for probe in job.probes.values():
        for args in probe.args:
            for arg in args:
                if isinstance(arg, Mapping) and "probe_function" in arg:
                    found.setdefault(json.dumps(arg, sort_keys=True), dict(arg))
    return tuple(found.values())


def make_workdir(sub: Submission, notebook: bytes, job: Job, scratch: Path | None
                 ) -> tuple[Path, list[str]]:
    """A fresh folder holding a copy of this submission only (regular files, never through a
    link) and the job for the child; also what was left out and why."""
    workdir = Path(tempfile.mkdtemp(prefix="bpk-run-", dir=scratch))
    notes: list[str] = []
    if sub.folder is not None:
        total = 0
        for item in sorted(sub.folder.iterdir()):
            if item.name == sub.notebook.name or item.name == JOB_FILE:
                continue
            try:
                if item.is_dir() and not item.is_symlink():
                    continue
                data = read_regular(item, MAX_COPY_BYTES - total)
            except OSError as error:
                notes.append(f"{item.name} was not copied: {error.strerror}")
                continue
            total += len(data)
            (workdir / item.name).write_bytes(data)
    (workdir / sub.notebook.name).write_bytes(notebook)
    (workdir / JOB_FILE).write_text(json.dumps(job.to_json()), encoding="utf-8")
    os.chmod(workdir, 0o700)
    return workdir, notes


