"""Find the submissions to grade: an nbgrader ``submitted/`` tree, folders of notebooks,
single notebooks, or a zip as a learning platform exports it."""

from __future__ import annotations

import re
import shutil
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from autograder.errors import UsageError

MAX_ZIP_MEMBER = 50 << 20
MAX_ZIP_TOTAL = 2 << 30


@dataclass(frozen=True)
class Submission:
    """One student's notebook; ``folder`` (if any) holds files it may read beside it."""

    student: str
    notebook: Path
    folder: Path | None = None

    @property
    def key(self) -> str:
        return f"{self.student}/{self.notebook.name}"


def _pick_notebook(folder: Path, assignment: str) -> Path | None:
    notebooks = sorted(p for p in folder.glob("*.ipynb") if not p.name.startswith("."))
    preferred = [p for p in notebooks if p.stem == assignment]
    return (preferred or notebooks or [None])[0]


def _student_from_filename(path: Path, assignment: str) -> str:
    stem = re.sub(rf"[_-]?{re.escape(assignment)}$", "", path.stem) or path.stem
    return stem


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


def discover(paths: list[Path], assignment: str, scratch: Path | None = None
             ) -> list[Submission]:
    """Every submission under ``paths``, sorted by student; names must be unique."""
    found: list[Submission] = []
    for path in paths:
        if not path.exists():
            raise UsageError(f"{path}: no such file or folder")
        if path.is_file() and path.suffix == ".zip":
            target = Path(tempfile.mkdtemp(prefix="bpk-zip-", dir=scratch))
            found += discover([_unzip(path, target)], assignment, scratch)
        elif path.is_file() and path.suffix == ".ipynb":
            found.append(Submission(_student_from_filename(path, assignment), path))
        elif path.is_file():
            raise UsageError(f"{path}: not a notebook (.ipynb), a folder or a zip")
        elif (path / "submitted").is_dir():
            found += _from_submitted_tree(path / "submitted", assignment)
        elif path.name == "submitted" or any((p / assignment).is_dir() for p in path.iterdir()
                                             if p.is_dir()):
            found += _from_submitted_tree(path, assignment)
        else:
            notebooks = sorted(p for p in path.rglob("*.ipynb")
                               if ".ipynb_checkpoints" not in p.parts)
            found += [Submission(_student_from_filename(p, assignment), p) for p in notebooks]
    seen: dict[str, int] = {}
    unique = []
    for sub in sorted(found, key=lambda s: (s.student, str(s.notebook))):
        count = seen.get(sub.student, 0)
        seen[sub.student] = count + 1
        unique.append(sub if count == 0 else Submission(f"{sub.student}-{count + 1}",
                                                        sub.notebook, sub.folder))
    return unique


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
