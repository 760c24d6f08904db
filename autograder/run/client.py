"""The grader's side of the runner: start ``python -I -m autograder.run.runner``, send requests.

Kept free of heavy imports so that a command can start the runner first and import sympy and
the course's ``solutions`` while the runner pre-loads (the two overlap on two cores).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

from autograder.errors import BackpropKitError
from autograder.run.protocol import Reply, Request


class Runner:
    """A client for one runner process, started early by :meth:`start` or on first use, and
    restarted if it dies."""

    def __init__(self, preload_plots: bool = True, warm_first: bool = False,
                 preload_sympy: bool = True) -> None:
        self.preload_plots = preload_plots  # False: matplotlib only if a notebook imports it
        self.preload_sympy = preload_sympy  # False: sympy only if a notebook imports it
        self.warm_first = warm_first  # warm the caches before saying "ready" (a spare)
        self._proc: subprocess.Popen[str] | None = None
        self._home: str | None = None
        self._ready = False
        self._failure: Reply | None = None  # why the request sent last got no reply

    def start(self) -> Runner:
        """Start the runner without waiting for it to be ready (it pre-loads meanwhile), or
        take the spare a warm grader's worker offers (see :mod:`autograder.cli.warm.server`)."""
        global _spare
        if (self._proc is None or self._proc.poll() is not None) and _spare is not None:
            spare, _spare = _spare, None
            if spare._proc is not None and spare._proc.poll() is None:
                self.close()
                self._proc, self._home, self._ready = spare._proc, spare._home, spare._ready
                spare._proc = spare._home = None
        if self._proc is None or self._proc.poll() is not None:
            # Isolated (-I: neither PYTHONPATH nor the working directory on sys.path) and in a
            # private folder, which also holds IPython's profile and matplotlib's caches.
            # matplotlib's font list comes from the user's matplotlib cache (building it
            # anew costs about a second a run); everything else stays in the private home.
            self._home = self._home or tempfile.mkdtemp(prefix="bpk-runner-")
            env = {k: v for k, v in os.environ.items() if k in ("PATH", "LANG", "LC_ALL")}
            env.update(HOME=self._home, IPYTHONDIR=self._home, XDG_CACHE_HOME=self._home,
                       MPLCONFIGDIR=matplotlib_cache() or self._home, MPLBACKEND="Agg",
                       TMPDIR=self._home)
            self._proc = subprocess.Popen(
                [sys.executable, "-I", "-m", "autograder.run.runner",
                 *([] if self.preload_plots else ["--no-plots"]),
                 *([] if self.preload_sympy else ["--no-sympy"]),
                 *(["--warm-first"] if self.warm_first else [])], stdin=subprocess.PIPE,
                stdout=subprocess.PIPE, text=True, cwd=self._home, env=env,
                start_new_session=True,
            )
            self._ready = False
        return self

    def _wait_ready(self) -> subprocess.Popen[str]:
        proc = self.start()._proc
        assert proc is not None and proc.stdout is not None
        if not self._ready:
            if '"ready"' not in proc.stdout.readline():
                proc.kill()
                proc.wait()
                raise BackpropKitError("the grading runner did not start")
            self._ready = True
        return proc

    def ready(self) -> Runner:
        """Wait until the runner has pre-loaded (a spare is handed over ready)."""
        self._wait_ready()
        return self

    def run(self, request: Request) -> Reply:
        """Send one request (a workdir, limits, a timeout) and return the reply."""
        self.send(request)
        return self.receive()

    def send(self, request: Request) -> None:
        """Send one request; :meth:`receive` returns its reply (or why there is none)."""
        proc = self._wait_ready()
        assert proc.stdin is not None
        try:
            proc.stdin.write(request.line())
            proc.stdin.flush()
        except (OSError, ValueError) as error:
            self.close()
            self._failure = Reply.failed(f"runner failed: {error}")

    def receive(self) -> Reply:
        """The reply to the request sent last."""
        failure, self._failure = self._failure, None
        if failure is not None:
            return failure
        proc = self._proc
        if proc is None or proc.stdout is None:
            return Reply.failed("runner failed: it was stopped before it replied")
        try:
            return Reply.read(proc.stdout.readline())
        except (OSError, ValueError) as error:
            self.close()
            return Reply.failed(f"runner failed: {error}")

    def detach(self) -> None:
        """In a forked process that will not use this runner: close its copies of the
        runner's pipes, leaving the runner to the process that started it."""
        if self._proc is not None:
            for stream in (self._proc.stdin, self._proc.stdout):
                if stream is not None:
                    stream.close()
        self._proc = self._home = None
        self._ready = False

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    def close(self) -> None:
        """Stop the runner and what it runs (Ctrl-C, the end of a command): its supervisors
        and the namespace inits they forked share its process group."""
        if self._proc is not None:
            group: list[int] = []
            if self._proc.returncode is None:  # not reaped: the group is still the runner's
                group = _group(self._proc.pid)
                try:
                    os.killpg(self._proc.pid, signal.SIGKILL)
                except OSError:
                    self._proc.kill()
            self._proc.wait()
            self._proc = None
            if group:  # root: the process caps of supervisors killed mid-notebook
                from autograder.run.sandbox import release_process_cap

                for pid in group:
                    release_process_cap(pid)
        self._ready = False
        if self._home is not None:
            shutil.rmtree(self._home, ignore_errors=True)
            self._home = None


def _group(pgid: int) -> list[int]:
    """The processes of the process group ``pgid`` (the runner, its supervisors, their
    namespaces' inits)."""
    members = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if len(fields) > 2 and fields[2] == str(pgid):
            members.append(int(stat.parent.name))
    return members


_spare: Runner | None = None


def offer_spare(runner: Runner | None) -> None:
    """The next :meth:`Runner.start` in this process takes ``runner`` (a child of this
    process, already pre-loaded) instead of starting one; None closes a spare not taken."""
    global _spare
    if _spare is not None and _spare is not runner:
        _spare.close()
    _spare = runner


def matplotlib_cache() -> str | None:
    """The folder where this user's matplotlib keeps its font list (``$MPLCONFIGDIR``, else
    ``$XDG_CACHE_HOME/matplotlib`` or ``~/.cache/matplotlib``, as matplotlib itself finds
    it), or None where it is not a folder of ours. The runner reads and writes it before any
    student code runs; children get their own in their workdir. Without ``MPLCONFIGDIR`` it
    holds no matplotlibrc (that is looked for in ``~/.config``)."""
    try:
        folder = Path(os.environ.get("MPLCONFIGDIR") or Path(
            os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "matplotlib")
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        info = folder.stat()
    except (OSError, RuntimeError):  # RuntimeError: no home directory to expand
        return None
    if info.st_uid != os.getuid() or info.st_mode & 0o022 or not os.access(folder, os.W_OK):
        return None
    return str(folder)


def notebook_plots(path: Path) -> bool:
    """Whether a notebook mentions matplotlib (then the runner pre-loads it); True when it
    cannot be read, the safe side for speed."""
    try:
        with open(path, "rb") as handle:
            return b"matplotlib" in handle.read(20 << 20)
    except OSError:
        return True


def _assignment_notebook(assignment: str) -> Path | None:
    """The assignment's source notebook, found without importing the course
    (``assignments/<name>/<name>.ipynb`` here or beside the installed package)."""
    import autograder

    for root in (Path.cwd(), Path(autograder.__file__).resolve().parents[1]):
        source = root / "assignments" / assignment / f"{assignment}.ipynb"
        if source.is_file():
            return source
    return None


def assignment_plots(assignment: str) -> bool:
    """Whether the assignment's source notebook plots (True where it is not found)."""
    source = _assignment_notebook(assignment)
    return True if source is None else notebook_plots(source)


_IMPORTS_SYMPY = re.compile(r"^\s*(?:import|from)\s+sympy\b", re.MULTILINE)


def assignment_sympy(assignment: str) -> bool:
    """Whether the assignment's source notebook (the instructor's, never a student's file)
    imports sympy in a code cell: then the runner pre-loads it; else neither the runner nor
    its children import it (about 0.46 s sooner ready, 35 MB less a process), and a notebook
    that imports it anyway imports it in its own process. True where it cannot be read."""
    return notebook_sympy(_assignment_notebook(assignment))


def notebook_sympy(source: Path | None) -> bool:
    """Whether a notebook imports sympy in a code cell (True where it cannot be read, the
    safe side for speed). ``check`` asks it of the student's own notebook: there it only
    decides what the runner pre-loads on the student's machine."""
    try:
        cells = json.loads(source.read_bytes())["cells"] if source is not None else None
        return cells is None or any(
            cell.get("cell_type") == "code" and _IMPORTS_SYMPY.search(
                "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"])
            for cell in cells)
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return True
