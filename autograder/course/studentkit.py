"""The student kit: a wheel of the checkers without the reference answers.

Students need ``autograder`` to run the visible checks in their notebooks, and must not get
``solutions``. This builds ``backprop_kit_student-<version>-py3-none-any.whl`` holding the
student side of ``autograder`` by package (plus the ``backprop-kit`` command, for
``backprop-kit check``), and requiring everything the released notebooks import, so that a
fresh environment with only the kit runs them.
"""

from __future__ import annotations

import base64
import hashlib
import zipfile
from pathlib import Path

from autograder import __version__

DIST = "backprop_kit_student"
REQUIRES = ["sympy>=1.13,<1.15", "mpmath>=1.3,<1.4", "numpy>=1.26,<3", "click>=8.1,<9",
            "ipython>=8", "matplotlib>=3.8,<4"]
# The student side, by package (the layers below the instructor's: tests/test_architecture.py
# keeps them from importing anything above), and the package's base modules.
STUDENT_PACKAGES = ("judge", "rubric", "run", "student")
BASE_MODULES = ("__init__.py", "console.py", "errors.py", "results.py",
                "notebook.py", "myvariant.py", "variants.py")  # the last three: public paths


def _record_line(name: str, data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{name},sha256={digest},{len(data)}"


def build(out: Path) -> Path:
    """Write the wheel into ``out`` and return its path."""
    package = Path(__file__).parents[1]  # the autograder package
    info = f"{DIST}-{__version__}.dist-info"
    files: dict[str, bytes] = {
        f"autograder/{p.relative_to(package).as_posix()}": p.read_bytes()
        for p in sorted(package.rglob("*.py"))
        if p.relative_to(package).parts[0] in (*STUDENT_PACKAGES, *BASE_MODULES)
    }
    metadata = [
        "Metadata-Version: 2.1", f"Name: {DIST.replace('_', '-')}", f"Version: {__version__}",
        "Summary: backprop-kit's answer checkers for students (no reference answers)",
        *[f"Requires-Dist: {r}" for r in REQUIRES], "",
    ]
    files[f"{info}/METADATA"] = "\n".join(metadata).encode()
    files[f"{info}/WHEEL"] = (b"Wheel-Version: 1.0\nGenerator: backprop-kit\n"
                              b"Root-Is-Purelib: true\nTag: py3-none-any\n")
    files[f"{info}/entry_points.txt"] = (b"[console_scripts]\n"
                                         b"backprop-kit = autograder.student.command:main\n")
    record = [_record_line(name, data) for name, data in files.items()]
    files[f"{info}/RECORD"] = ("\n".join([*record, f"{info}/RECORD,,"]) + "\n").encode()
    out.mkdir(parents=True, exist_ok=True)
    wheel = out / f"{DIST}-{__version__}-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    return wheel
