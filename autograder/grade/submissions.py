"""Find the submissions to grade: an nbgrader ``submitted/`` tree, folders of notebooks,
single notebooks, or a zip as a learning platform exports it.

A student's identity comes from what the platform controls: nbgrader's ``submitted/<id>``, the
folder a platform's zip has per student (Moodle: ``Alice Honest_12345_assignsubmission_file_``),
or a plain folder per student; never from a file name the student chose inside their folder.
Two submissions that map to one student are an error for both, never a rename.
"""

from __future__ import annotations

import re
import shutil
import tempfile
import zipfile
from pathlib import Path, PurePosixPath

from autograder.errors import UsageError
from autograder.run.notebooks import Submission

MAX_ZIP_MEMBER = 50 << 20
MAX_ZIP_TOTAL = 2 << 30


MOODLE_SUFFIX = re.compile(r"_assignsubmission_[a-z]+_?$")


def _pick_notebook(folder: Path, assignment: str) -> Path | None:
    notebooks = sorted(p for p in folder.glob("*.ipynb") if not p.name.startswith("."))
    preferred = [p for p in notebooks if p.stem == assignment]
    return (preferred or notebooks or [None])[0]


def _student_from_filename(path: Path, assignment: str) -> str:
    stem = re.sub(rf"[_-]?{re.escape(assignment)}$", "", path.stem) or path.stem
    return stem


NBGRADER_STEPS = ("submitted", "autograded")  # nbgrader's <step>/<student>/<assignment>/


def student_of_layout(notebook: Path, assignment: str) -> str | None:
    """The student nbgrader's layout names in a notebook's path
    (``…/submitted/<student>/<assignment>/<file>.ipynb``), or None when it is not there."""
    parts = notebook.absolute().parts
    if len(parts) >= 4 and parts[-2] == assignment and parts[-4] in NBGRADER_STEPS:
        return parts[-3]
    return None


def _single_notebook(path: Path, assignment: str, student: str | None) -> Submission:
    """One notebook given by its path: its student from nbgrader's layout, else ``student``
    (``--student``); never guessed from the file's name."""
    found = student_of_layout(path, assignment)
    if found is not None and student is not None and student != found:
        raise UsageError(f"{path}: nbgrader's layout names the student {found!r}, but "
                         f"--student says {student!r}")
    if found is None and student is None:
        raise UsageError(
            f"{path}: whose notebook this is cannot be told from its path (nbgrader's "
            f"submitted/<student>/{assignment}/ layout); name the student with --student ID")
    return Submission(found or student or "", path, path.parent if found else None)


def _from_submitted_tree(root: Path, assignment: str) -> list[Submission]:
    subs = []
    for student_dir in sorted(p for p in root.iterdir() if p.is_dir()):
        folder = student_dir / assignment
        if folder.is_dir():
            nb = _pick_notebook(folder, assignment)
            if nb is not None:
                subs.append(Submission(student_dir.name, nb, folder))
    return subs


def _unzip(archive: Path, into: Path) -> Path:
    """Extract safely: no absolute paths, no '..', no links, bounded sizes."""
    total = 0
    with zipfile.ZipFile(archive) as zf:
        for info in zf.infolist():
            name = PurePosixPath(info.filename)
            if info.is_dir() or name.is_absolute() or ".." in name.parts:
                continue
            if info.file_size > MAX_ZIP_MEMBER or (total := total + info.file_size) > MAX_ZIP_TOTAL:
                raise UsageError(f"{archive}: {info.filename} is too large to extract")
            target = into.joinpath(*name.parts)
            target.parent.mkdir(parents=True, exist_ok=True)
            with zf.open(info) as src, open(target, "wb") as dst:
                shutil.copyfileobj(src, dst)
    return into


def student_of_folder(name: str) -> str:
    """The student a platform's folder stands for (Moodle's suffix removed)."""
    return MOODLE_SUFFIX.sub("", name) or name


def _from_folders(root: Path, assignment: str) -> list[Submission]:
    """Notebooks in ``root`` itself are named by their file (a flat export); a notebook in a
    sub-folder belongs to that folder's student, whatever the file is called."""
    found = [Submission(_student_from_filename(p, assignment), p)
             for p in sorted(root.glob("*.ipynb"))]
    for folder in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
        notebooks = sorted(p for p in folder.rglob("*.ipynb")
                           if ".ipynb_checkpoints" not in p.parts)
        student = student_of_folder(folder.name)
        preferred = [p for p in notebooks if p.name == f"{assignment}.ipynb"]
        if len(preferred) == 1 or len(notebooks) == 1:
            chosen = (preferred or notebooks)[0]
            found.append(Submission(student, chosen,
                                    folder if chosen.parent == folder else None))
        elif notebooks:
            names = ", ".join(p.name for p in notebooks[:5])
            found += [Submission(student, nb, None, f"the folder {folder.name} holds several "
                                 f"notebooks ({names}); which one to grade is unclear")
                      for nb in notebooks]
    return found


def discover(paths: list[Path], assignment: str, scratch: Path | None = None,
             unpacked: list[Path] | None = None, student: str | None = None
             ) -> list[Submission]:
    """Every submission under ``paths``, sorted by student. Folders made to unpack a zip are
    appended to ``unpacked`` (the caller removes them after the run). ``student`` names the
    student of a single notebook given by its path (only then)."""
    if student is not None and not (len(paths) == 1 and paths[0].suffix == ".ipynb"
                                    and not paths[0].is_dir()):
        raise UsageError("--student names the student of one notebook given by its path; "
                         "folders, zips and several paths name their students themselves")
    found: list[Submission] = []
    for path in paths:
        if not path.exists() and not path.is_symlink():
            raise UsageError(f"{path}: no such file or folder")
        if path.is_file() and path.suffix == ".zip":
            target = Path(tempfile.mkdtemp(prefix="bpk-zip-", dir=scratch))
            if unpacked is not None:
                unpacked.append(target)
            found += discover([_unzip(path, target)], assignment, scratch, unpacked)
        elif path.suffix == ".ipynb" and not path.is_dir():
            found.append(_single_notebook(path, assignment, student))
        elif path.is_file():
            raise UsageError(f"{path}: not a notebook (.ipynb), a folder or a zip")
        elif (path / "submitted").is_dir():
            found += _from_submitted_tree(path / "submitted", assignment)
        elif path.name == "submitted" or any((p / assignment).is_dir() for p in path.iterdir()
                                             if p.is_dir()):
            found += _from_submitted_tree(path, assignment)
        else:
            found += _from_folders(path, assignment)
    return _one_per_student(found)


def _one_per_student(found: list[Submission]) -> list[Submission]:
    """Two submissions that map to one student are an error for both (each says so)."""
    by_student: dict[str, list[Submission]] = {}
    for sub in found:
        by_student.setdefault(sub.student, []).append(sub)
    result = []
    for student, subs in sorted(by_student.items()):
        if len(subs) > 1 and any(s.problem is None for s in subs):
            where = ", ".join(str(s.notebook) for s in subs[:5])
            subs = [Submission(student, s.notebook, s.folder,
                               s.problem or f"{len(subs)} submissions map to the student "
                               f"{student!r} ({where}); none is graded until only one does")
                    for s in subs]
        result += sorted(subs, key=lambda s: str(s.notebook))
    return result


def shard(subs: list[Submission], spec: str | None) -> list[Submission]:
    """Keep shard K of N (``"K/N"``, 1-based): a stable split of the sorted list."""
    if not spec:
        return subs
    try:
        k, n = (int(x) for x in spec.split("/"))
    except ValueError:
        raise UsageError(f"--shard takes K/N, got {spec!r}") from None
    if not 1 <= k <= n:
        raise UsageError(f"--shard {spec}: K must lie between 1 and N")
    return [s for i, s in enumerate(subs) if i % n == k - 1]
