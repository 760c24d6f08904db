"""The runner: a pre-loaded process that forks one fresh, confined child per submission.

It is started as its own interpreter (``python -m autograder.runner``) before anything of the
instructor's is imported, so a child's memory holds no reference answer to dig out. Each child
gets a copy of one submission, a scrubbed environment, resource limits and the sandbox, runs
the cells and streams its answers back through a pipe; the runner enforces the wall-clock
timeout and kills whatever the child left behind.
"""

from __future__ import annotations

import ctypes
import gc
import json
import os
import select
import signal
import sys
import time
from pathlib import Path
from typing import Any

MAX_REPLY_BYTES = 4 << 20
DONE = b'{"done": true}\n'  # the last line capture.run_job emits
PR_SET_CHILD_SUBREAPER = 36


def _set_subreaper() -> None:
    """Orphans of a child (a student's fork that outlived it) come back to us to be killed."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    except (OSError, AttributeError):
        pass


def _children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*/children"):
        try:
            found += [int(p) for p in task.read_text().split()]
        except OSError:
            continue
    return found


def kill_descendants() -> int:
    """SIGKILL every process below us and reap it; returns how many there were."""
    killed = 0
    for _ in range(100):
        kids = _children(os.getpid())
        if not kids:
            break
        for kid in kids:
            try:
                os.kill(kid, signal.SIGKILL)
                killed += 1
            except ProcessLookupError:
                pass
        for kid in kids:
            try:
                os.waitpid(kid, 0)
            except ChildProcessError:
                pass
    return killed


def scrubbed_env(workdir: Path) -> dict[str, str]:
    tmp = str(workdir / ".tmp")
    return {
        "PATH": "/usr/bin:/bin", "HOME": str(workdir), "TMPDIR": tmp, "TEMP": tmp, "TMP": tmp,
        "LANG": "C.UTF-8", "MPLBACKEND": "Agg", "MPLCONFIGDIR": tmp, "PYTHONHASHSEED": "0",
        "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1",
    }


def _hide_instructor_paths() -> None:
    """Drop import paths outside the Python installation (an editable install's source tree)."""
    keep = [p for p in sys.path if p and ("site-packages" in p or "dist-packages" in p
                                          or p.startswith(sys.base_prefix))]
    sys.path[:] = keep
    for name in list(sys.modules):
        if name == "solutions" or name.startswith("solutions."):
            del sys.modules[name]


def _child(request: dict[str, Any], shell: Any, write_fd: int) -> None:
    """In the forked child: confine, then run the student's cells. Never returns."""
    from autograder import capture, sandbox

    code = 0
    try:
        emit = capture.pipe_emitter(write_fd)
        workdir = Path(request["workdir"])
        os.setsid()
        (workdir / ".tmp").mkdir(exist_ok=True)
        out = os.open(workdir / ".output", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        os.dup2(out, 1)
        os.dup2(out, 2)
        os.closerange(3, write_fd)
        os.closerange(write_fd + 1, 1 << 16)
        os.chdir(workdir)
        os.environ.clear()
        os.environ.update(scrubbed_env(workdir))
        _hide_instructor_paths()
        limits = sandbox.Limits(**request.get("limits", {}))
        try:
            applied = (sandbox.confine(workdir, limits=limits, require=request["require_sandbox"])
                       if request.get("confine", True) else "none")
        except sandbox.SandboxUnavailable as error:
            emit({"sandbox_error": str(error)})
            os._exit(3)
        emit({"sandbox": applied})
        capture.run_job(capture.Job.from_json(request["job"]), shell, emit)
    except BaseException:  # noqa: BLE001 -- whatever happens, the child must not return
        code = 1
    finally:
        os._exit(code)


def run_request(request: dict[str, Any], shell: Any) -> dict[str, Any]:
    """Fork a child for one submission and supervise it; the reply says what happened."""
    read_fd, write_fd = os.pipe()
    sys.stdout.flush()
    sys.stderr.flush()
    started = time.monotonic()
    pid = os.fork()
    if pid == 0:
        os.close(read_fd)
        _child(request, shell, write_fd)
    os.close(write_fd)
    deadline = started + float(request["timeout"])
    chunks: list[bytes] = []
    size = 0
    status = None
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            status = "timeout"
            break
        ready, _, _ = select.select([read_fd], [], [], remaining)
        if not ready:
            continue
        chunk = os.read(read_fd, 65536)
        if not chunk:
            break
        size += len(chunk)
        if size > MAX_REPLY_BYTES:
            status = "crashed"
            break
        chunks.append(chunk)
        if DONE in b"".join(chunks[-2:]):  # the line may straddle two reads
            break  # finished: whatever it left running may still hold the pipe open
    os.close(read_fd)
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    _, wait_status = os.waitpid(pid, 0)
    leftovers = kill_descendants()
    from autograder import sandbox  # loaded by preload(); cheap here

    sandbox.release_process_cap(pid)
    return _reply(b"".join(chunks), status, wait_status, leftovers, time.monotonic() - started)


def _reply(raw: bytes, status: str | None, wait_status: int, leftovers: int, seconds: float
           ) -> dict[str, Any]:
    answers: dict[str, Any] = {}
    errors: list[str] = []
    sandbox_used = "none"
    done = False
    for line in raw.decode("utf-8", "replace").splitlines():
        try:
            message = json.loads(line)
        except ValueError:
            continue
        if not isinstance(message, dict):
            continue
        if "answer" in message and isinstance(message["answer"], str):
            answers.setdefault(message["answer"], message)
        elif "cell_error" in message:
            errors.append(f"{message['cell_error']}: {message.get('error', '')}")
        elif "sandbox" in message:
            sandbox_used = str(message["sandbox"])
        elif "sandbox_error" in message:
            errors.append(f"sandbox: {message['sandbox_error']}")
            status = "error"
        elif message.get("done"):
            done = True
    if status is None:
        if os.WIFSIGNALED(wait_status) and os.WTERMSIG(wait_status) == signal.SIGXCPU:
            status = "timeout"
        elif not done:
            status = "crashed"
        elif any("MemoryError" in e for e in errors):
            status = "memory"
        else:
            status = "graded"
    if status == "crashed":
        how = (f"signal {signal.Signals(os.WTERMSIG(wait_status)).name}"
               if os.WIFSIGNALED(wait_status)
               else f"exit code {os.waitstatus_to_exitcode(wait_status)}")
        errors.append(f"the notebook's process ended before it finished ({how})")
    if leftovers:
        errors.append(f"killed {leftovers} process(es) the notebook left running")
    return {"status": status, "answers": answers, "errors": errors, "sandbox": sandbox_used,
            "seconds": round(seconds, 4)}


def _warm_up() -> None:
    """The first use of sympy's calculus, printing and lambdify imports modules and fills
    caches (about 40 ms): pay it once here rather than in every child. Nothing of the
    instructor's is computed here, so a child's memory holds no answer."""
    import numpy
    import sympy

    x, y = sympy.symbols("x y")
    expr = sympy.diff((y - x) ** 2 * sympy.exp(-x) / (1 + sympy.exp(-x)), x)
    sympy.simplify(expr)
    sympy.sstr(expr)
    sympy.latex(expr)
    sympy.solve(x**2 - 1, x)
    sympy.lambdify(x, expr.subs(y, 1), "numpy")(numpy.linspace(0.0, 1.0, 3))
    numpy.linalg.norm(numpy.ones(3))


def preload() -> Any:
    """Import what notebooks use, once, so that each fork starts warm."""
    import numpy  # noqa: F401
    import sympy  # noqa: F401

    # notebook: the setup cell imports it (the checks); the confined child cannot read it
    from autograder import capture, notebook, sandbox  # noqa: F401

    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot  # noqa: F401
    except ImportError:
        pass
    _warm_up()
    return capture.make_shell()


def main() -> None:
    """Serve requests, one JSON line in, one JSON line out, until stdin closes."""
    _set_subreaper()
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    replies = os.fdopen(os.dup(1), "w", buffering=1)
    sys.stdout = sys.stderr  # nothing else may write on the reply channel
    shell = preload()
    gc.collect()
    gc.freeze()  # a child's garbage collections then leave the shared pages unwritten (no COW)
    replies.write(json.dumps({"ready": True}) + "\n")
    for line in sys.stdin:
        try:
            request = json.loads(line)
            reply = run_request(request, shell)
        except Exception as error:  # noqa: BLE001 -- report, keep serving
            reply = {"status": "error", "answers": {}, "errors": [f"runner: {error}"],
                     "sandbox": "none", "seconds": 0.0}
        replies.write(json.dumps(reply) + "\n")


if __name__ == "__main__":
    main()
