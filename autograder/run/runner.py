"""The runner: a pre-loaded template process that starts one confined child per submission.

It is started as its own isolated interpreter (``python -I -m autograder.run.runner``, in a private
working directory) before anything of the instructor's is imported. It only ever receives
small requests (a workdir, limits, a timeout). Each goes to a disposable supervisor forked in
advance (a *standby*: its namespaces made, its child forked and waiting, while the previous
notebook runs), which hands the request to the child, reads the child's pipe, writes the reply
to the grader and exits. So the template never holds a notebook, an answer or a result, and a
child's memory holds nothing of another submission. The child reads its job (the cells) from
a file the grader left in its workdir, gets a scrubbed environment, its own namespaces,
resource limits and the sandbox, says which sandbox it got before any student code runs, then
runs the cells. While it waits for its request it copies the runner's pages that notebooks
were seen to write (:mod:`autograder.run.prefault`), which the notebook would otherwise copy
one write at a time during its own run.
"""

from __future__ import annotations

import ctypes
import dataclasses
import gc
import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import json
import os
import select
import signal
import stat
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, NamedTuple

from autograder.run import prefault
from autograder.run.protocol import Reply, Request

# The modules a released notebook's setup cell imports (public paths, kept for every notebook
# handed out): pre-loaded by name, as numpy is (and sympy, for an assignment that uses it).
NOTEBOOK_IMPORTS = ("autograder.notebook", "autograder.myvariant", "autograder.variants")
CHECKERS = "autograder.rubric.question"  # what a check() imports on its first call (sympy too)
ON_DEMAND = ("autograder.judge", "autograder.rubric")  # held compiled where it is not imported
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
    found: list[int] = []
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return found
    for task in tasks:
        try:
            with open(f"/proc/{pid}/task/{task}/children", "rb") as children:
                found += [int(p) for p in children.read().split()]
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
        _reap_each(kids)
    return killed


def _reap_each(kids: Sequence[int]) -> None:
    """Reap each of ``kids`` (sent SIGKILL) in whatever order they end: a PID namespace's
    init, once killed, waits until the rest of its namespace is reaped, so waiting for it
    first, while a fellow child of ours is unreaped, would never return."""
    left = set(kids)
    while left:
        try:
            pid, _ = os.waitpid(-1, 0)
        except ChildProcessError:
            return
        left.discard(pid)


def scrubbed_env(workdir: Path) -> dict[str, str]:
    tmp = str(workdir / ".tmp")
    return {
        "PATH": "/usr/bin:/bin", "HOME": str(workdir), "TMPDIR": tmp, "TEMP": tmp, "TMP": tmp,
        "LANG": "C.UTF-8", "MPLBACKEND": "Agg", "MPLCONFIGDIR": tmp, "PYTHONHASHSEED": "0",
        "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1",
    }


def _hide_instructor_paths() -> None:
    """Drop import paths outside the Python installation (an editable install's source tree),
    once the runner has imported what it serves: done in each child, reading every module's
    name cost it about 450 copied pages (1.3 ms a notebook)."""
    keep = [p for p in sys.path if p and ("site-packages" in p or "dist-packages" in p
                                          or p.startswith(sys.base_prefix))]
    sys.path[:] = keep
    for name in list(sys.modules):
        if name == "solutions" or name.startswith("solutions."):
            del sys.modules[name]


JOB_FILE = ".bpk-job.json"  # the grader writes the job here; the child reads and removes it
MAX_JOB_BYTES = 64 << 20
MAX_DEPTH = 100  # a message nested deeper is dropped (it could crash json.dumps downstream)
_TOO_DEEP = "\0too deep"  # stands for a line nested past what the JSON parser's stack holds
_CLONE_NEWIPC = 0x08000000
_CLONE_NEWPID = 0x20000000
_CLONE_NEWUSER = 0x10000000
# a PID namespace's init: a program that waits and does nothing else (see _spawn_init)
INIT_PROGRAM = next((p for p in ("/usr/bin/sleep", "/bin/sleep") if os.access(p, os.X_OK)), None)
INIT_ARGS = ("sleep", "2147483647")  # seconds: 68 years, a number any sleep takes


def _read_job(workdir: Path) -> Any:
    """The job the grader left in the workdir: only a regular file, read once, then removed."""
    from autograder.run import capture

    fd = os.open(workdir / JOB_FILE, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or info.st_size > MAX_JOB_BYTES:
            raise OSError(f"{JOB_FILE} is not a regular file of at most {MAX_JOB_BYTES} bytes")
        data = b""
        while chunk := os.read(fd, 1 << 20):
            data += chunk
    finally:
        os.close(fd)
    os.unlink(workdir / JOB_FILE)
    return capture.Job.from_json(json.loads(data))


def _read_request(fd: int) -> Request | None:
    """The request a standby's child waits for (None: the runner ended first)."""
    data = b""
    while not data.endswith(b"\n"):
        chunk = os.read(fd, 65536)
        if not chunk:
            return None
        data += chunk
    os.close(fd)
    return Request.read(data)


def _child(request_fd: int, shell: Any, write_fd: int, namespaces: list[str],
           cap_id: int) -> None:
    """In the forked child: wait for the request, read the job, confine, say so, then run the
    student's cells.

    The sandbox line is the first thing on the pipe, written before any student code runs;
    the supervisor trusts only that first line. Never returns."""
    from autograder.run import capture, sandbox

    code = 0
    try:
        signal.signal(signal.SIGINT, signal.SIG_DFL)  # the runner ignores it, not a notebook
        # while it waits, what needs no request: the kernel is slow to move it into its
        # process cap and to make a network namespace
        sandbox.prepare(cap_id)
        prefault.populate(_learned)  # the runner's pages a notebook writes: copied now
        request = _read_request(request_fd)
        if request is None:
            os._exit(0)
        emit = capture.pipe_emitter(write_fd)
        workdir = Path(request.workdir)
        os.setsid()
        job = _read_job(workdir)
        (workdir / ".tmp").mkdir(exist_ok=True)
        out = os.open(workdir / ".output", os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW,
                      0o600)
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        os.dup2(out, 1)
        os.dup2(out, 2)
        os.closerange(3, write_fd)
        os.closerange(write_fd + 1, 1 << 16)
        os.chdir(workdir)
        os.environ.clear()
        os.environ.update(scrubbed_env(workdir))
        limits = sandbox.Limits(**request.limits)
        try:
            applied = (sandbox.confine(workdir, limits=limits, require=request.require_sandbox,
                                       namespaces=namespaces, process_cap_id=cap_id)
                       if request.confine else "none")
        except sandbox.SandboxUnavailable as error:
            emit({"sandbox_error": str(error)})
            os._exit(3)
        emit({"sandbox": applied})
        capture.run_job(job, shell, emit)
        # stay until the supervisor, which has read "done", has counted what the notebook
        # left running and kills us all: what we started would otherwise be orphaned first
        while True:
            signal.pause()
    except BaseException:  # noqa: BLE001 -- whatever happens, the child must not return
        code = 1
    finally:
        os._exit(code)


def _new_namespaces() -> list[str]:
    """Give the children of this (disposable) supervisor their own IPC and PID namespaces
    (the latter where there is a program to be its init): as root directly, otherwise inside
    a new user namespace where the system allows one."""
    libc = ctypes.CDLL(None, use_errno=True)
    pid = _CLONE_NEWPID if INIT_PROGRAM is not None else 0
    for flags in (_CLONE_NEWIPC | pid, _CLONE_NEWUSER | _CLONE_NEWIPC | pid):
        if libc.unshare(ctypes.c_int(flags)) == 0:
            return ["ipcns", "pidns"] if pid else ["ipcns"]
    if libc.unshare(ctypes.c_int(_CLONE_NEWIPC)) == 0:
        return ["ipcns"]
    return []


def _spawn_init() -> int:
    """Start PID 1 of the new PID namespace: ``sleep``, with SIGCHLD ignored (kept across
    exec) so that the kernel reaps the orphans it adopts. Being spawned, not forked, it holds
    no copy of the runner's memory: a Python init forked for each notebook copied and tore
    down the runner's page tables once more (about a tenth of a notebook's CPU). Its end
    kills every process left in the namespace; nothing else of it matters (signals from
    inside the namespace do not reach an init that has no handlers)."""
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)
    try:
        return os.posix_spawn(INIT_PROGRAM, INIT_ARGS, {}, file_actions=[
            (os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDWR, 0),
            (os.POSIX_SPAWN_DUP2, 0, 1), (os.POSIX_SPAWN_DUP2, 0, 2)])
    finally:
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)


def _descendants(pid: int) -> list[int]:
    found, todo = [], [pid]
    while todo:
        kids = _children(todo.pop())
        found += kids
        todo += kids
    return found


def _workdir_usage(workdir: str) -> tuple[int, int]:
    """Bytes and files beneath ``workdir`` (for the write cap where no tmpfs could be used)."""
    size = files = 0
    for top, dirs, names in os.walk(workdir):
        for name in names + dirs:
            try:
                size += os.lstat(os.path.join(top, name)).st_blocks * 512
            except OSError:
                continue
            files += 1
    return size, files


class Started(NamedTuple):
    """A supervisor's child, started before its request (:func:`_start_child`)."""

    pid: int  # the student's process (PID 2 of its namespace where there is one)
    init: int | None  # the PID namespace's init (PID 1), if there is a namespace
    pipe: int  # what the child says, read here
    request: int  # where its request is written


def _start_child(shell: Any) -> Started:
    """In a supervisor, before its request: new namespaces, their init, and the child,
    waiting for the request."""
    _set_subreaper()
    namespaces = _new_namespaces()
    read_fd, write_fd = os.pipe()
    request_r, request_w = os.pipe()
    me = os.getpid()
    init = _spawn_init() if "pidns" in namespaces else None
    pid = os.fork()
    if pid == 0:
        os.close(read_fd)
        os.close(request_w)
        _child(request_r, shell, write_fd, namespaces, me)
    os.close(write_fd)
    os.close(request_r)
    return Started(pid, init, read_fd, request_w)


def supervise(request: Request, started_child: Started,
              send: Callable[[Reply, prefault.Ranges], None] | None = None,
              learn: bool = False) -> Reply:
    """In a disposable fork of the runner (a standby): hand the request to the confined child
    it started in advance (:func:`_start_child`), read its pipe, enforce the timeout and the
    write cap, kill what it left behind.

    A notebook that finished is replied to through ``send`` as soon as its processes are
    sent SIGKILL (none runs a line of the student's code after that), before they are
    reaped and their process cap removed (about 5 ms, the next notebook's time at -j 1);
    any other ending is replied to once its exit status is known. With ``learn``, a
    finished child's copies of the runner's pages are sent along (:mod:`prefault`)."""
    from autograder.run import sandbox

    started = time.monotonic()
    pid, init, read_fd, request_w = started_child
    me = os.getpid()
    try:
        os.write(request_w, request.line().encode())
    except OSError:
        pass  # the child is gone: its pipe says how
    os.close(request_w)
    limits = sandbox.Limits(**request.limits)
    deadline = started + float(request.timeout)
    chunks: list[bytes] = []
    size = 0
    status = None
    notes: list[str] = []
    watched = None  # the write cap, watched from here when the child has no tmpfs of its own
    next_watch = started + 0.2
    while True:
        now = time.monotonic()
        remaining = deadline - now
        if remaining <= 0:
            status = "timeout"
            break
        if watched is None and chunks and b"\n" in chunks[0] and b"+tmpfs" not in chunks[0]:
            watched = request.workdir
        if watched is not None and now >= next_watch:
            next_watch = now + 0.2
            used, files = _workdir_usage(watched)
            if used > limits.disk_bytes or files > limits.disk_files:
                status = "crashed"
                notes.append(f"stopped: the notebook wrote more than {limits.disk_bytes >> 20} MB"
                             f" or {limits.disk_files} files")
                break
        ready, _, _ = select.select([read_fd], [], [], min(remaining, 0.2))
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
    raw = b"".join(chunks)
    ended = None
    if status is None and DONE not in raw:  # the pipe closed: let the process say how it ended
        until = time.monotonic() + 1.0
        while ended is None and time.monotonic() < until:
            reaped, wait_status = os.waitpid(pid, os.WNOHANG)
            ended = wait_status if reaped else None
            time.sleep(0 if reaped else 0.01)
    learned = (prefault.written_pages(pid, _template)
               if learn and status is None and DONE in raw else [])
    tree = _descendants(me)
    for victim in sorted(tree, key=lambda p: p != init):  # the namespace's init first: its
        try:  # end kills the rest for good
            os.kill(victim, signal.SIGKILL)
        except ProcessLookupError:
            pass
    leftovers = len([p for p in tree if p not in (pid, init)])
    early = None
    if send is not None and status is None and DONE in raw:  # finished: its exit says nothing
        early = _reply(raw, status, 0, leftovers, time.monotonic() - started
                       ).with_errors(*notes)
        send(early, learned)
    wait_status = ended if ended is not None else os.waitpid(pid, 0)[1]
    kill_descendants()
    sandbox.release_process_cap(me)
    if early is not None:
        return early
    return _reply(raw, status, wait_status, leftovers, time.monotonic() - started
                  ).with_errors(*notes)


def _depth(value: Any) -> int:
    """How deeply a decoded JSON value nests (without recursion)."""
    deepest, todo = 0, [(value, 1)]
    while todo:
        item, depth = todo.pop()
        deepest = max(deepest, depth)
        if deepest > MAX_DEPTH:
            break
        if isinstance(item, dict):
            todo += [(v, depth + 1) for v in item.values()]
        elif isinstance(item, list):
            todo += [(v, depth + 1) for v in item]
    return deepest


def _messages(raw: bytes) -> Iterator[dict[str, Any]]:
    for line in raw.decode("utf-8", "replace").splitlines():
        try:
            message = json.loads(line)
        except RecursionError:  # nested past what the parser's stack holds: too deep
            message = {_TOO_DEEP: True}
        except ValueError:
            continue
        if isinstance(message, dict):
            yield message


def _reply(raw: bytes, status: str | None, wait_status: int, leftovers: int, seconds: float
           ) -> Reply:
    """What the child said. Its first line (written before student code ran) settles the
    sandbox or the sandbox error; any later such line is student code and is ignored."""
    answers: dict[str, Any] = {}
    errors: list[str] = []
    sandbox_used = "none"
    done = False
    deep = False
    for index, message in enumerate(_messages(raw)):
        if index == 0:
            if "sandbox" in message:
                sandbox_used = str(message["sandbox"])[:200]
            elif "sandbox_error" in message:
                errors.append(f"sandbox: {str(message['sandbox_error'])[:500]}")
                status = "error"
            continue
        if "sandbox" in message or "sandbox_error" in message:
            continue
        if message.get(_TOO_DEEP) is True or _depth(message) > MAX_DEPTH:
            deep = True
            continue
        if "answer" in message and isinstance(message["answer"], str):
            answers.setdefault(message["answer"], message)
        elif "cell_error" in message:
            errors.append(f"{message['cell_error']}: {message.get('error', '')}"[:400])
        elif message.get("done"):
            done = True
    if deep:
        errors.append(f"a message from the notebook was nested more than {MAX_DEPTH} deep "
                      "and was ignored")
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
    return Reply(status, answers, tuple(errors), sandbox_used, round(seconds, 4))


def _warm_up(plots: bool) -> None:
    """The first use of sympy's calculus, printing and lambdify, and matplotlib's first figure,
    import modules and fill caches (about 0.1 s in a child): pay it once here rather than in
    every child. Nothing of the instructor's is computed here, so a child's memory holds no
    answer. Done after the first request is served (see :func:`main`). sympy's only where it
    was pre-loaded."""
    import numpy

    numpy.linalg.norm(numpy.ones(3))
    if plots and "matplotlib.pyplot" in sys.modules:
        plt = sys.modules["matplotlib.pyplot"]
        figure, axes = plt.subplots()
        axes.plot([0.0, 1.0], [1.0, 0.0], label="warm-up")
        axes.set_xlabel("x")
        axes.legend()
        figure.canvas.draw()
        plt.close("all")

    sympy = sys.modules.get("sympy")
    if sympy is None:
        return
    x, y = sympy.symbols("x y")
    expr = sympy.diff((y - x) ** 2 * sympy.exp(-x) / (1 + sympy.exp(-x)), x)
    sympy.simplify(expr)
    sympy.sstr(expr)
    sympy.latex(expr)
    sympy.solve(x**2 - 1, x)
    sympy.lambdify(x, expr.subs(y, 1), "numpy")(numpy.linspace(0.0, 1.0, 3))


def preload(plots: bool = True, sympy: bool = True) -> Any:
    """Import what notebooks use, once, so that each fork starts warm. matplotlib (the largest
    import) only when the assignment plots, sympy only when its notebook imports it: a
    notebook that imports either anyway still can, in its own process."""
    import numpy  # noqa: F401

    if sympy:
        import sympy as _sympy  # noqa: F401

        # the checkers a notebook's check() imports, as every notebook had them before
        importlib.import_module(CHECKERS)
    # What the released notebooks import, by the public names they use (the checks, the
    # student's numbers); the confined child cannot read the package's files itself. The
    # runner uses none of them: it only fills the module cache every fork inherits.
    for name in NOTEBOOK_IMPORTS:
        importlib.import_module(name)
    from autograder.run import capture, sandbox  # noqa: F401

    if not sympy:
        _hold(ON_DEMAND)
    if plots:
        try:
            import matplotlib

            matplotlib.use("Agg")
            import matplotlib.pyplot  # noqa: F401
        except ImportError:
            pass
    return capture.make_shell()


class _Held(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Modules of the kit compiled here and served from memory to a child, which cannot read
    the package's files: what a notebook's process imports only on demand where sympy is not
    pre-loaded (the checkers behind a ``check()`` in an answer cell, the encoding of a sympy
    answer). Their code only: nothing of them runs until a child imports them."""

    def __init__(self, codes: Mapping[str, tuple[Any, str]]) -> None:
        self.codes = dict(codes)

    def find_spec(self, name: str, path: Any = None, target: Any = None) -> Any:
        if name not in self.codes:
            return None
        return importlib.util.spec_from_file_location(name, self.codes[name][1], loader=self)

    def create_module(self, spec: Any) -> None:
        return None

    def exec_module(self, module: Any) -> None:
        exec(self.codes[module.__name__][0], module.__dict__)  # noqa: S102 -- the kit's code


def _hold(packages: Sequence[str]) -> None:
    """Compile the modules of ``packages`` not imported yet, to be served by :class:`_Held`."""
    import autograder

    root = Path(autograder.__file__).resolve().parent
    codes = {}
    for package in packages:
        for path in sorted((root.parent / package.replace(".", "/")).rglob("*.py")):
            name = ".".join(path.relative_to(root.parent).with_suffix("").parts)
            if path.name == "__init__.py" or name in sys.modules:
                continue
            try:
                codes[name] = (importlib.machinery.SourceFileLoader(name, str(path)).get_code(
                    name), str(path))
            except (OSError, SyntaxError):
                continue
    sys.meta_path.insert(0, _Held(codes))


def _warm(plots: bool) -> None:
    """Warm the caches once (see :func:`_warm_up`), then freeze the GC: a child's collections
    then leave the shared pages unwritten."""
    global _warmed
    if _warmed:
        return
    _warmed = True
    try:
        _warm_up(plots)
    except Exception:  # noqa: BLE001,S110 -- only a speed-up
        pass
    gc.collect()
    gc.freeze()
    _template[:] = prefault.own_memory()


_warmed = False


def _compile(functions: Sequence[Mapping[str, Any]]) -> None:
    """Compile here the test functions a second request names too: every child forked
    afterwards finds them compiled in the cache it decodes its probes through
    (:func:`capture.answer_data`). A function one request names alone (a variant's own) is
    left to its child: compiling it here would cost the runner's time for no other child.
    They are test inputs the children receive anyway, never an answer."""
    from autograder.judge.probing import decode_probe_arg

    compiled = False
    for data in functions:
        if "source" not in data and "sympy" not in sys.modules:
            continue  # its text needs sympy, which this runner does not load: its child does
        key = json.dumps(data, sort_keys=True)
        if _named_before.get(key, 0) == 1:  # named the second time: compiled now, once
            try:
                decode_probe_arg(data, shipped=True).compile()
                compiled = True
            except Exception:  # noqa: BLE001,S110 -- only a speed-up: the child compiles it
                pass
        _named_before[key] = _named_before.get(key, 0) + 1
    if compiled:
        gc.freeze()


_named_before: dict[str, int] = {}  # how many requests named each test function (as JSON)


class _Standby:
    """A supervisor forked in advance: its namespaces made and its child forked, both
    waiting for a request, so that a batch's next notebook starts while this one runs (on
    the other core). Only the request handed to it ever reaches it."""

    def __init__(self, shell: Any, replies: int) -> None:
        learn = bool(_template) and len(_samples) < LEARN_SAMPLES
        inbox_r, self.inbox = os.pipe()
        self.replied, replied_w = os.pipe()
        sys.stdout.flush()
        sys.stderr.flush()
        self.pid = os.fork()
        if self.pid == 0:
            os.close(self.inbox)
            os.close(self.replied)
            _standby(inbox_r, replies, replied_w, shell, learn)
        os.close(inbox_r)
        os.close(replied_w)

    def hand(self, line: str) -> bool:
        """Give it its request (one small line: a single write); False if it is gone."""
        data = line.encode()
        try:
            return os.write(self.inbox, data) == len(data)
        except OSError:
            return False
        finally:
            os.close(self.inbox)

    def end(self) -> None:
        """End a standby that got no request: it reads the end of its inbox and exits, its
        child with it."""
        os.close(self.inbox)
        os.close(self.replied)
        os.waitpid(self.pid, 0)

    def outcome(self) -> int | None:
        """Wait until it has replied (None: the reply is out, the process is left to
        :func:`_reap`) or has ended without a reply (its wait status). A supervisor's own
        exit — its copy of the runner's memory torn down — then overlaps the next notebook
        instead of delaying it (about 5 ms a notebook quiet, 19 ms at load 5)."""
        try:
            said = os.read(self.replied, 1)
            if said == _REPLIED:
                _learn(_read_exact(self.replied, prefault.unpack_count(
                    _read_exact(self.replied, 4)) * 16))
        finally:
            os.close(self.replied)
        if said == _REPLIED:
            _ended.add(self.pid)
            return None
        return os.waitpid(self.pid, 0)[1]


def _read_exact(fd: int, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = os.read(fd, size - len(data))
        if not chunk:
            break
        data += chunk
    return data


LEARN_SAMPLES = 3  # finished notebooks the runner learns the pages they write from
_template: prefault.Ranges = []  # the runner's own heap once warm (see prefault)
_samples: list[set[int]] = []  # the pages each of those notebooks wrote
_learned: prefault.Ranges = []  # those that two of them wrote: each child copies them first


def _learn(packed: bytes) -> None:
    """Count the pages a finished notebook wrote. Each child forked afterwards copies in
    advance those that two notebooks wrote (the one notebook's, until there is a second):
    a page only one wrote is more likely the runner's own write than the next notebook's."""
    ranges = prefault.unpack(packed)
    if not ranges:
        return
    _samples.append({page for start, end in ranges for page in range(start, end, prefault.PAGE)})
    counts: dict[int, int] = {}
    for sample in _samples:
        for page in sample:
            counts[page] = counts.get(page, 0) + 1
    least = min(2, len(_samples))
    _learned[:] = prefault.runs(sorted(p for p, n in counts.items() if n >= least
                                       )[:prefault.MAX_PAGES])


_REPLIED = b"+"  # a supervisor's word to the runner that its reply is written
_ended: set[int] = set()  # supervisors that replied, to be reaped


def _reap(*_signal: Any) -> None:
    """Reap the supervisors that have replied and exited since (never blocks); the runner's
    SIGCHLD handler, so that none is left a zombie while the runner waits for a request.
    It never raises: a handler runs inside whatever the runner is doing (another SIGCHLD
    may even run it again inside itself), and an exception there would become an error
    reply to a request a supervisor answers as well."""
    for pid in tuple(_ended):
        try:
            done, _ = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            done = pid
        except OSError:
            continue
        if done:
            _ended.discard(pid)


def _standby(inbox: int, replies: int, replied: int, shell: Any, learn: bool) -> None:
    """A standby supervisor: start the child, wait for the request, supervise, reply and say
    so to the runner; a runner that ends first ends it. Never returns."""
    code = 0
    try:
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)  # the runner's handler is not ours
        kept = sorted((inbox, replies, replied))
        os.closerange(3, kept[0])  # keep only what it needs
        os.closerange(kept[0] + 1, kept[1])
        os.closerange(kept[1] + 1, kept[2])
        os.closerange(kept[2] + 1, 1 << 16)
        child = _start_child(shell)
        request = _read_request(inbox)
        if request is None:
            kill_descendants()
            from autograder.run import sandbox

            sandbox.release_process_cap(os.getpid())  # its child may have joined the cap
            os._exit(0)
        sent: list[Reply] = []

        def send(reply: Reply, learned: prefault.Ranges = ()) -> None:
            _write_line(replies, reply)
            _write_all(replied, _REPLIED + prefault.pack(learned))
            sent.append(reply)

        try:
            reply = supervise(request, child, send, learn)
        except Exception as error:  # noqa: BLE001 -- report, never return into the loop
            reply = _error_reply(f"supervisor: {type(error).__name__}: {error}")
        if not sent:
            send(reply)
    except BaseException:  # noqa: BLE001
        code = 1
    finally:
        os._exit(code)


def _serve(line: str, standby: _Standby, shell: Any, replies: int, plots: bool = True
           ) -> _Standby:
    """Hand one request to the standby supervisor (it writes the reply itself, so this
    process never holds anything of a submission), start the next standby, and wait until
    this one has replied. Only small requests are accepted. A request with ``"warm": true``
    (the first of a batch) has this process warm its caches while that child runs, on the
    other core."""
    request = Request.read(line)
    # one line, whatever the grader's line ended with; the test functions are compiled here
    message = dataclasses.replace(request, functions=()).line()
    active = standby
    if not active.hand(message):  # it is gone: its inbox is closed, the rest here
        os.close(active.replied)
        os.waitpid(active.pid, 0)
        active = _Standby(shell, replies)
        active.hand(message)
    _answering[0] = True  # from here its supervisor, or the lines below, reply: never main()
    if request.warm:
        _warm(plots)
    if request.functions:
        _compile(request.functions)
    following = _Standby(shell, replies)  # prepares while this one runs
    status = active.outcome()
    if status is not None:
        _write_line(replies, _error_reply(f"the supervisor ended with status {status}"
                                          " before it replied"))
    _answering[0] = False
    return following


_answering = [False]  # a handed request is being answered: an error now gets no second reply


def _error_reply(error: str) -> Reply:
    return Reply.failed(f"runner: {error}")


def _write_line(fd: int, message: Reply | dict[str, Any]) -> None:
    line = message.line() if isinstance(message, Reply) else json.dumps(message) + "\n"
    _write_all(fd, line.encode())


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def main() -> None:
    """Serve requests, one JSON line in, one JSON line out, until stdin closes."""
    _set_subreaper()
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGCHLD, _reap)
    replies = os.dup(1)
    os.dup2(2, 1)  # nothing else may write on the reply channel
    plots = "--no-plots" not in sys.argv[1:]
    shell = preload(plots, sympy="--no-sympy" not in sys.argv[1:])
    _hide_instructor_paths()
    from autograder.run import sandbox

    sandbox.ready_for_children()
    if "--warm-first" in sys.argv[1:]:  # a warm grader's spare: no command is waiting yet
        _warm(plots)
    try:
        _write_line(replies, {"ready": True})
    except BrokenPipeError:  # the grader went away while this pre-loaded
        return
    standby = _Standby(shell, replies)
    for line in sys.stdin:
        try:
            standby = _serve(line, standby, shell, replies, plots)
        except Exception as error:  # noqa: BLE001 -- report, keep serving
            if not _answering[0]:  # else its supervisor replies: one reply a request
                _write_line(replies, _error_reply(str(error)))
            _answering[0] = False
        # Not before the first request (a single notebook, ``grade`` of one or ``check``, is
        # not kept waiting for caches it never reuses), at the latest after it.
        if not _warmed:
            _warm(plots)
            standby.end()  # the next standby is forked from the warm runner
            standby = _Standby(shell, replies)
    standby.end()


if __name__ == "__main__":
    main()
