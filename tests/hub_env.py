"""What tests/test_jupyterhub.py needs besides Python packages of this project, installed once
per machine into a world-readable cache (the hub's users are real Unix users, who cannot read
root's Python): configurable-http-proxy from npm, and the students' environment, a venv of
Debian's /usr/bin/python3 with the student kit's dependencies, JupyterLab, nbgrader and
jupyterhub-singleuser (the kit itself is installed into it by each test run, from the code).

Standard library only, so that ``.ci/run`` can run it before the project is installed:
``/usr/bin/python3 tests/hub_env.py`` prints what it did or why it cannot.
"""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CACHE = Path(os.environ.get("BACKPROP_KIT_HUB_CACHE", "/var/cache/backprop-kit-hubtest"))
SYSTEM_PYTHON = Path("/usr/bin/python3")
CHP_VERSION = "configurable-http-proxy@4"
PLATFORM = ["jupyterlab>=4.0,<5", "nbgrader>=0.9.6,<0.10", "jupyterhub>=5,<7"]


def kit_requires() -> list[str]:
    """The student kit's dependencies, read from autograder/course/studentkit.py (not run)."""
    tree = ast.parse((ROOT / "autograder" / "course" / "studentkit.py").read_text("utf-8"))
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", "") == "REQUIRES"
                                                for t in node.targets):
            return list(ast.literal_eval(node.value))
    raise RuntimeError("studentkit.py has no REQUIRES")


def chp_path() -> Path:
    return CACHE / "chp" / "node_modules" / ".bin" / "configurable-http-proxy"


def venv_path() -> Path:
    return CACHE / "students-venv"


def missing() -> str | None:
    """Why the environment cannot be made here (None: it can)."""
    if os.geteuid() != 0:
        return "needs root (it creates Unix users and runs JupyterHub's spawner)"
    for tool in ("useradd", "userdel", "runuser", "node", "npm"):
        if shutil.which(tool) is None:
            return f"no {tool} on PATH"
    if not SYSTEM_PYTHON.exists():
        return f"no {SYSTEM_PYTHON} (the students' Python, readable by every user)"
    return None


def _readable(path: Path) -> None:
    subprocess.run(["chmod", "-R", "a+rX", str(path)], check=True)


def ensure() -> tuple[Path, Path]:
    """Install what is missing; return (configurable-http-proxy, the students' venv)."""
    CACHE.mkdir(parents=True, exist_ok=True)
    CACHE.chmod(0o755)
    chp = chp_path()
    if not chp.exists():
        subprocess.run(["npm", "install", "--prefix", str(CACHE / "chp"), CHP_VERSION,
                        "--no-audit", "--no-fund", "--loglevel=error"], check=True)
        _readable(CACHE / "chp")
    venv = venv_path()
    wanted = "\n".join([*kit_requires(), *PLATFORM]) + "\n"
    marker = venv / "backprop-kit-requirements.txt"
    if not marker.exists() or marker.read_text() != wanted:
        shutil.rmtree(venv, ignore_errors=True)
        subprocess.run([str(SYSTEM_PYTHON), "-m", "venv", str(venv)], check=True)
        subprocess.run([str(venv / "bin" / "pip"), "install", "-q", *kit_requires(),
                        *PLATFORM], check=True)
        marker.write_text(wanted)
        _readable(venv)
    return chp, venv


if __name__ == "__main__":
    why = missing()
    if why:
        print(f"hub test environment: not made ({why}); tests/test_jupyterhub.py will skip")
        sys.exit(0)
    try:
        chp, venv = ensure()
    except (OSError, subprocess.CalledProcessError) as error:
        print(f"hub test environment: could not be made ({error}); the test will try again")
        sys.exit(0)
    print(f"hub test environment: {chp} and {venv}")
