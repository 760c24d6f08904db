"""A warm grader (issue 15): a background process of this user and this code that has imported
what ``grade`` and ``check`` need and keeps the next command's work done in advance, so that
one notebook is graded or checked in well under a second instead of two and a half.

Cold, one notebook cannot be graded that fast here: the runner alone needs about two seconds to
import what the notebook imports (sympy, matplotlib, numpy, IPython). So:

* The server (``backprop-kit warm``, or started after an interactive command, see
  :func:`auto_start`) imports the grader's modules, then listens on a UNIX socket in a 0700
  folder of the user's.
* It keeps one *ready worker*: a fork that has started its own runner (a fresh interpreter, as a
  cold command starts it: it never holds anything of the instructor's), loaded the rubrics and
  self-check files the last commands used, and built their references at secret points it drew
  itself. Each worker serves one command and exits, so no two commands share secret points or
  anything else; the next worker is prepared when no command is running.
* ``grade`` and ``check`` look for a server of the same user and the same code (a key over the
  interpreter, ``sys.path``, the settings read from the environment and every source file of
  ``autograder`` and ``solutions``): an edited checker means another key. Rubrics and released
  files are course data: a worker prepared with one that has changed since is not used.
* Preparing cannot stall it: only course files become hints (a rubric of a course's
  assignment, or the ``selfcheck.json`` of a folder with a notebook, plausible and under
  :data:`HINT_BYTES`); each hint is read within that many bytes and prepared within
  :data:`HINT_SECONDS`, and one that failed or ran long is dropped; a worker not ready within
  :data:`PREPARE_DEADLINE` is ended and the hints with it. A command that finds the worker
  still preparing stops its preparation and waits only for its runner (started when it was
  forked, so no later than a fresh one's), then a fresh worker if even that is late.
* Only the same user may connect (``SO_PEERCRED``), only from the server's network namespace (a
  sandboxed notebook has its own) and only with the token in a 0600 file (which the sandbox
  cannot read); a sandboxed notebook cannot even connect (its seccomp filter refuses UNIX
  sockets).
* The server ends after ``idle`` seconds without a command, or on ``backprop-kit warm --stop``.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import stat
import struct
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from autograder.cli.warm.protocol import (
    COMMANDS,
    IDLE_SECONDS,
    code_key,
    paths,
    receive,
    send,
)

MAX_HINTS = 4  # rubrics and self-check folders a ready worker prepares
HINT_BYTES = 8 << 20  # a larger selfcheck.json (60 x the lecture's) or rubric is no hint
HINT_SECONDS = 5.0  # preparing one hint: what runs longer is cut short, and dropped
PREPARE_DEADLINE = 60.0  # a worker not ready by then is ended, and the hints dropped
RUNNER_SECONDS = 3.0  # how long a worker's runner takes to start, until one has said
FRESH_WAIT = 20.0  # a fresh worker prepares nothing: it is ready as soon as it is forked


# --- the server ------------------------------------------------------------------------------

def _prepare_imports() -> None:
    """Import what ``grade`` and ``check`` import, and nothing that draws a secret."""
    import matplotlib

    matplotlib.use("Agg")
    from autograder.cli import commands  # noqa: F401
    from autograder.grade import batch, copying, grading, submissions  # noqa: F401
    from autograder.judge import checks, diagnosis, equivalence, sealing  # noqa: F401
    from autograder.report import classreport, pages, reports  # noqa: F401
    from autograder.rubric import course, question, variants  # noqa: F401
    from autograder.run import client  # noqa: F401
    from autograder.student import selfcheck  # noqa: F401

    batch.prepare_reports(plots=True)
    classreport.warm_up_charts()
    try:
        from solutions import (  # noqa: F401
            errata,
            network,
            optimisation_1d,
            sigmoid,
            steepest_descent,
            symbols,
        )
    except ImportError:  # the student kit: check only
        pass


def _stamp(path: Path) -> list[Any]:
    try:
        info = os.stat(path)
    except OSError:
        return [str(path), None]
    return [str(path), info.st_size, info.st_mtime_ns, info.st_ino]


def _fresh(stamps: Sequence[Sequence[Any]]) -> bool:
    return all(_stamp(Path(stamp[0])) == list(stamp) for stamp in stamps)


def _log(path: Path, text: str) -> None:
    """A line in the server's log (a worker writes there too: ``<key>.log`` beside
    ``<key>.hints``)."""
    try:
        with open(path, "a", encoding="utf-8") as handle:
            handle.write(f"{time.strftime('%Y-%m-%d %H:%M:%S')} [{os.getpid()}] {text}\n")
    except OSError:
        pass


def _read_hints(path: Path) -> list[dict[str, str]]:
    try:
        with open(path, "rb") as handle:
            hints = json.loads(handle.read(1 << 16))
    except (OSError, ValueError):
        return []
    if not isinstance(hints, list):
        return []
    return [h for h in hints if isinstance(h, dict) and len(h) == 1
            and next(iter(h)) in ("rubric", "selfcheck")
            and isinstance(next(iter(h.values())), str)][:MAX_HINTS]


def _write_hints(path: Path, hints: Sequence[dict[str, str]]) -> None:
    staging = path.with_suffix(f".{os.getpid()}.tmp")
    try:
        fd = os.open(staging, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(list(hints)[:MAX_HINTS], handle)
        os.replace(staging, path)
    except OSError:
        pass


def _drop_hints(path: Path, dropped: Sequence[dict[str, str]]) -> None:
    _write_hints(path, [h for h in _read_hints(path) if h not in dropped])


def _regular_size(path: Path) -> int | None:
    """The size of ``path`` if it is a regular file (not a link, FIFO or device), else None."""
    try:
        info = os.lstat(path)
    except OSError:
        return None
    return info.st_size if stat.S_ISREG(info.st_mode) else None


def _read_course_file(path: Path, limit: int = HINT_BYTES) -> tuple[list[Any], bytes] | None:
    """A regular file's stamp and bytes, read within ``limit`` bytes (a FIFO, a link or a
    larger file: None, nothing read)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError:
        return None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or info.st_size > limit:
            return None
        data = b""
        while len(data) <= limit and (chunk := os.read(fd, min(1 << 20, limit + 1 - len(data)))):
            data += chunk
        if len(data) > limit:
            return None
        return [str(path), info.st_size, info.st_mtime_ns, info.st_ino], data
    except OSError:
        return None
    finally:
        os.close(fd)


def _course_rubric(path: Path) -> bool:
    """Only a course's ``assignments/<name>/rubric.py`` is ever loaded from a hint."""
    size = _regular_size(path)
    return (path.name == "rubric.py" and path.parent.parent.name == "assignments"
            and (path.parent.parent.parent / "nbgrader_config.py").is_file()
            and size is not None and size <= HINT_BYTES)


def _released(path: Path) -> tuple[list[Any], dict[str, Any]] | None:
    """A plausible released ``selfcheck.json``: its stamp and questions, read within
    :data:`HINT_BYTES` (else None)."""
    read = _read_course_file(path)
    if read is None:
        return None
    try:
        data = json.loads(read[1])
    except (ValueError, RecursionError):
        return None
    if not (isinstance(data, dict) and isinstance(data.get("assignment"), str)
            and isinstance(data.get("questions"), dict)
            and all(isinstance(q, dict) for q in data["questions"].values())):
        return None
    return read[0], data["questions"]


def _released_folder(folder: Path) -> tuple[list[Any], dict[str, Any]] | None:
    """An assignment as released, a folder with a notebook and a plausible selfcheck.json (a
    course's ``assignments/<name>/`` is one too): that file's stamp and questions, else None."""
    from autograder.student.released import SELFCHECK_FILE

    try:
        with os.scandir(folder) as entries:
            notebook = any(e.name.endswith(".ipynb") and e.is_file(follow_symlinks=False)
                           for _, e in zip(range(1000), entries, strict=False))
    except OSError:
        return None
    return _released(folder / SELFCHECK_FILE) if notebook else None


def _course_hint(hint: dict[str, str]) -> bool:
    """Whether a hint names course files (what a worker may prepare)."""
    if "rubric" in hint:
        return _course_rubric(Path(hint["rubric"]))
    return _released_folder(Path(hint["selfcheck"])) is not None


class _CommandCame(BaseException):  # noqa: N818 -- reads as what happened
    """Raised in a preparing worker when the server hands it a command: stop preparing."""


_preparing = False  # a worker is preparing hints (where _CommandCame may be raised)
_command_waiting = False  # the server has told it a command is waiting
_server_pid = 0  # the server's own pid: it is never told (and its forks must not inherit it)


def _on_command(*_: Any) -> None:
    global _command_waiting
    if os.getpid() == _server_pid:
        return
    _command_waiting = True
    if _preparing:
        raise _CommandCame()


def _prepare_hint(hint: dict[str, str], stamps: list[list[Any]]) -> bool:
    """Load one hint's course file and build what it needs; False if it is not one. The
    stamp goes into ``stamps`` before anything is read: a change meanwhile shows."""
    from autograder.rubric import course, question
    from autograder.student import selfcheck

    if "rubric" in hint:
        path = Path(hint["rubric"])
        if not _course_rubric(path):
            return False
        stamps.append(_stamp(path))
        question.prepare_references(course.rubric_at(path).QUESTIONS)
        return True
    released = _released_folder(Path(hint["selfcheck"]))
    if released is None:
        return False
    stamps.append(released[0])
    selfcheck.prepare_references(released[1])
    return True


def _prepare_hints(hints_path: Path, stamps: list[list[Any]], dropped: list[dict[str, str]],
                   seconds: float = HINT_SECONDS) -> None:
    """Prepare each hint within ``seconds``; one that is no course file (any more), failed or
    ran out of time goes into ``dropped``. A command arriving (:class:`_CommandCame`) stops
    it where it is; what was read is in ``stamps`` either way."""
    from autograder.judge.timebox import timebox

    for hint in _read_hints(hints_path):
        began = time.monotonic()
        try:
            with timebox(seconds):
                prepared = _prepare_hint(hint, stamps)
        except Exception:  # noqa: BLE001 -- OutOfTime, or the command loads it and says why
            prepared = False
        took = time.monotonic() - began
        if not prepared or took >= seconds:  # (judging swallows OutOfTime: the clock tells)
            dropped.append(hint)
            why = "ran out of time" if took >= seconds else "failed or is no course file"
            _log(hints_path.with_suffix(".log"),
                 f"hint dropped ({why}, {took:.1f} s): {next(iter(hint.values()))[:200]}")


def _prepare_command(hints_path: Path) -> tuple[list[list[Any]], float | None]:
    """In a ready worker: start its runner, load the hinted rubrics and self-check files and
    build their references (secret points drawn here, in this process only), until a command
    comes. Returns the stamps of the course files it read (if one changes, this worker is not
    used) and how long its runner took to start."""
    import threading

    from autograder.run import client as runner_client

    global _preparing
    began = time.monotonic()
    runner = runner_client.Runner(True, warm_first=True).start()
    runner_client.offer_spare(runner)  # from now on closed with the worker if it is stopped
    started: list[float] = []

    def wait_for_runner() -> None:
        try:
            runner.ready()
            started.append(time.monotonic() - began)
        except Exception:  # noqa: BLE001,S110 -- said below: no start time
            pass

    waiter = threading.Thread(target=wait_for_runner, name="bpk-runner-ready", daemon=True)
    waiter.start()
    stamps: list[list[Any]] = []
    dropped: list[dict[str, str]] = []
    try:
        _preparing = True
        if _command_waiting:  # told before it began
            raise _CommandCame()
        _prepare_hints(hints_path, stamps, dropped)
        _preparing = False
    except _CommandCame:
        _preparing = False
        _log(hints_path.with_suffix(".log"), f"a command came: preparing stopped after "
             f"{time.monotonic() - began:.1f} s, {len(stamps)} course file(s) read")
    finally:
        _preparing = False
    if dropped:
        _drop_hints(hints_path, dropped)
    waiter.join()
    if not started:
        raise RuntimeError("the worker's runner did not start")
    return stamps, started[0]


def _record_hints(hints_path: Path, argv: Sequence[str]) -> None:
    """After a command: the rubrics it loaded and the folder it checked, newest first, for
    the next worker to prepare; only course files (:func:`_course_hint`)."""
    found: list[dict[str, str]] = []
    for name, module in list(sys.modules.items()):
        if name.startswith("backprop_kit_rubric_") and getattr(module, "__file__", None):
            found.append({"rubric": str(Path(module.__file__).resolve())})
    if argv and argv[0] == "check":
        try:
            from autograder.student.command import check

            context = check.make_context("check", list(argv[1:]), resilient_parsing=True)
            notebook = context.params.get("notebook")
            if notebook is not None:
                found.append({"selfcheck": str(Path(notebook).resolve().parent)})
        except Exception:  # noqa: BLE001,S110 -- only a hint
            pass
    course_files = []
    for hint in found:
        if _course_hint(hint):
            course_files.append(hint)
        else:
            _log(hints_path.with_suffix(".log"),
                 f"no hint (not a course file): {next(iter(hint.values()))[:200]}")
    hints: list[dict[str, str]] = []
    for hint in course_files + _read_hints(hints_path):
        if hint not in hints:
            hints.append(hint)
    _write_hints(hints_path, hints)


class _Worker:
    """The server's end of one worker: its pid, its channel, what it said when ready."""

    def __init__(self, pid: int, channel: socket.socket, preparing: bool) -> None:
        self.pid, self.channel, self.preparing = pid, channel, preparing
        self.forked = time.monotonic()
        self.stamps: list[list[Any]] | None = None  # None: not ready yet
        self.runner_seconds: float | None = None  # how long its runner took to start

    def wait_ready(self, seconds: float) -> bool:
        if self.stamps is None:
            self.channel.settimeout(max(seconds, 0.01))
            try:
                message, _ = receive(self.channel, 0)
                self.stamps = [list(s) for s in message["stamps"]]
                took = message.get("runner_seconds")
                if isinstance(took, (int, float)) and 0 < took < PREPARE_DEADLINE:
                    self.runner_seconds = float(took)
            except (OSError, ValueError, KeyError, TypeError):
                return False
        return True

    def stop_preparing(self) -> None:
        """A command takes this worker now: it stops preparing and says when its runner is
        ready."""
        if self.preparing and self.stamps is None:
            try:
                os.kill(self.pid, signal.SIGUSR1)
            except OSError:
                pass

    def end(self) -> None:
        """Stop a worker that has no command (it closes its runner)."""
        try:
            os.kill(self.pid, signal.SIGTERM)
        except OSError:
            pass
        self.channel.close()


class _Server:
    def __init__(self, key: str, idle: float) -> None:
        import secrets

        self.key = key
        self.idle = idle
        self.paths = paths(key)
        self.token = secrets.token_hex(32)
        self.spare: _Worker | None = None  # the ready worker (or one preparing)
        self.busy: set[int] = set()  # workers serving a command
        self.rest_until = 0.0  # after a worker failed to prepare, wait before the next
        self.runner_seconds = RUNNER_SECONDS  # the last worker's runner start, measured
        self.listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.netns = os.readlink("/proc/self/ns/net")

    def log(self, text: str) -> None:
        _log(self.paths["log"], text)

    def open(self) -> None:
        fd = os.open(self.paths["token"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW,
                     0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(self.token)
        staging = self.paths["sock"].with_suffix(f".{os.getpid()}.tmp")
        self.listener.bind(str(staging))
        os.chmod(staging, 0o600)
        os.replace(staging, self.paths["sock"])
        self.listener.listen(8)

    def close(self) -> None:
        for name in ("sock", "token", "pid"):
            self.paths[name].unlink(missing_ok=True)
        if self.spare is not None:
            self.spare.end()

    def spawn(self, prepare: bool) -> _Worker:
        """Fork a worker; it prepares the next command (or, not ``prepare``, serves one as it
        comes) and says when it is ready."""
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        for stream in (sys.stdout, sys.stderr):
            stream.flush()
        pid = os.fork()
        if pid == 0:
            ours.close()
            self.listener.close()
            if self.spare is not None:
                self.spare.channel.close()
            _worker_main(theirs, self.paths["hints"], prepare)
        theirs.close()
        return _Worker(pid, ours, prepare)

    def reap(self) -> None:
        try:
            while True:
                pid, status = os.waitpid(-1, os.WNOHANG)
                if not pid:
                    break
                if pid in self.busy:
                    self.busy.discard(pid)
                    self.log(f"command {pid} ended ({os.waitstatus_to_exitcode(status)})")
                elif self.spare is not None and pid == self.spare.pid:
                    self.log(f"the ready worker {pid} ended ({status}); the next in 30 s")
                    self.spare.channel.close()
                    self.spare = None
                    self.rest_until = time.monotonic() + 30
        except ChildProcessError:
            pass
        if self.spare is None and not self.busy and time.monotonic() >= self.rest_until:
            self.spare = self.spawn(prepare=True)  # prepare the next while nothing runs

    def _peer(self, conn: socket.socket) -> tuple[int, int]:
        pid, uid, _gid = struct.unpack("3i", conn.getsockopt(
            socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i")))
        return pid, uid

    def accept(self) -> None:
        import secrets

        conn, _ = self.listener.accept()
        fds: list[int] = []
        try:
            pid, uid = self._peer(conn)
            if uid != os.getuid():
                raise PermissionError(f"refused a connection of uid {uid}")
            try:
                netns = os.readlink(f"/proc/{pid}/ns/net")
            except OSError:
                netns = None
            if netns != self.netns:  # a sandboxed notebook has a network namespace of its own
                raise PermissionError(f"refused a connection from another network namespace "
                                      f"(pid {pid})")
            conn.settimeout(5)
            header, fds = receive(conn, 3)
            if len(fds) != 3:
                raise PermissionError(f"refused a connection with {len(fds)} streams")
            if not secrets.compare_digest(str(header.get("token")), self.token):
                raise PermissionError(f"refused a connection without the token (pid {pid})")
            argv = header.get("argv")
            if not (isinstance(argv, list) and argv and argv[0] in COMMANDS
                    and all(isinstance(a, str) for a in argv)
                    and isinstance(header.get("cwd"), str) and isinstance(header.get("env"),
                                                                          dict)):
                raise PermissionError("refused a command it does not serve")
            conn.settimeout(None)
        except (OSError, ValueError, struct.error) as error:
            self.log(str(error))
            for fd in fds:
                os.close(fd)
            conn.close()
            return
        worker = self.spare or self.spawn(prepare=False)
        self.spare = None
        wait = FRESH_WAIT
        if worker.preparing and worker.stamps is None:
            # Still preparing: it stops, and the command waits only for its runner, started
            # when the worker was forked (a fresh worker's would start only now); twice the
            # usual start and it is stuck: never longer than a cold start would take.
            worker.stop_preparing()
            wait = max(worker.forked + 2 * self.runner_seconds + 1 - time.monotonic(), 1.0)
        if not worker.wait_ready(wait) or not _fresh(worker.stamps or []):
            self.log(f"the ready worker {worker.pid} is of no use (a course file changed, or "
                     "it was not ready in time): a fresh one serves")
            worker.end()
            worker = self.spawn(prepare=False)
            worker.wait_ready(FRESH_WAIT)
        self._measured(worker)
        del header["token"]
        try:
            send(worker.channel, header, [conn.fileno(), *fds])
            self.log(f"command {worker.pid}: {' '.join(argv)[:200]}")
        except OSError as error:
            self.log(f"could not hand the command to {worker.pid}: {error}")
            worker.end()
        for fd in fds:
            os.close(fd)
        conn.close()
        worker.channel.close()
        self.busy.add(worker.pid)

    def _measured(self, worker: _Worker) -> None:
        if worker.runner_seconds is not None:
            self.runner_seconds = worker.runner_seconds

    def serve(self) -> None:
        import select

        last = time.monotonic()
        while True:
            preparing = [self.spare.channel] if self.spare and self.spare.stamps is None else []
            ready, _, _ = select.select([self.listener, *preparing], [], [], 0.5)
            if preparing and preparing[0] in ready and self.spare is not None:
                if self.spare.wait_ready(1.0):
                    self._measured(self.spare)
                    self.log(f"worker {self.spare.pid} ready, {len(self.spare.stamps or [])} "
                             "course file(s) prepared")
                else:
                    self.log(f"worker {self.spare.pid} failed to prepare; the next in 30 s")
                    self.spare.end()
                    self.spare = None
                    self.rest_until = time.monotonic() + 30
            elif (preparing and self.spare is not None
                  and time.monotonic() - self.spare.forked > PREPARE_DEADLINE):
                self.log(f"worker {self.spare.pid} not ready after {PREPARE_DEADLINE:g} s: "
                         "ended, its hints dropped; the next in 30 s")
                self.spare.end()
                self.spare = None
                _write_hints(self.paths["hints"], [])
                self.rest_until = time.monotonic() + 30
            self.reap()
            if self.listener in ready:
                self.accept()
                last = time.monotonic()
            elif self.busy:
                last = time.monotonic()
            elif time.monotonic() - last > self.idle or not self.paths["sock"].exists():
                self.log("idle: ending")
                return


def _worker_main(channel: socket.socket, hints: Path, prepare: bool) -> None:
    """A forked worker: prepare, say so, take one command, serve it, exit. Never returns."""
    from autograder.run.client import offer_spare

    def quit_(*_: Any) -> None:  # ended before a command came: its runner goes with it
        offer_spare(None)
        os._exit(0)

    code = 1
    try:
        signal.signal(signal.SIGTERM, quit_)
        stamps, took = _prepare_command(hints) if prepare else ([], None)
        send(channel, {"stamps": stamps, "runner_seconds": took})
        channel.settimeout(None)
        try:
            header, fds = receive(channel, 4)
        except (OSError, ValueError):  # the server ended
            quit_()
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        channel.close()
        conn = socket.socket(fileno=fds[0])
        code = _work(conn, header, fds[1:])
        _record_hints(hints, header["argv"])
    except BaseException:  # noqa: BLE001 -- the fork must never return into the server
        import traceback

        traceback.print_exc()
    finally:
        os._exit(code if 0 <= code < 256 else 1)


def _work(conn: socket.socket, header: dict[str, Any], fds: list[int]) -> int:
    """The command: the client's standard streams, folder and environment, then the CLI;
    the exit code goes back to the client."""
    import io
    import tempfile
    import threading

    code = 1
    try:
        for target, fd in enumerate(fds):
            os.dup2(fd, target)
            os.close(fd)
        sys.stdin = io.TextIOWrapper(open(0, "rb", closefd=False))  # noqa: SIM115
        sys.stdout = io.TextIOWrapper(open(1, "wb", closefd=False),  # noqa: SIM115
                                      line_buffering=os.isatty(1), write_through=True)
        sys.stderr = io.TextIOWrapper(open(2, "wb", closefd=False),  # noqa: SIM115
                                      write_through=True)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        os.chdir(header["cwd"])
        os.environ.clear()
        os.environ.update({str(k): str(v) for k, v in header["env"].items()})
        tempfile.tempdir = None  # the client's TMPDIR, not the server's

        def watch() -> None:  # the client went away (Ctrl-C, killed): stop the command
            try:
                conn.recv(1)
            except OSError:
                pass
            os.kill(os.getpid(), signal.SIGINT)

        threading.Thread(target=watch, daemon=True).start()
        from autograder.cli.commands import main
        from autograder.run import client as runner_client

        try:
            main.main(args=header["argv"], prog_name="backprop-kit", standalone_mode=True)
            code = 0
        except SystemExit as exit_:
            code = exit_.code if isinstance(exit_.code, int) else (0 if exit_.code is None else 1)
        except KeyboardInterrupt:
            code = 130
        finally:
            runner_client.offer_spare(None)  # a spare the command did not take is closed
        for stream in (sys.stdout, sys.stderr):
            stream.flush()
    finally:
        try:
            conn.sendall(json.dumps({"exit": code}).encode())
        except OSError:
            pass
    return code


def serve(idle: float = IDLE_SECONDS) -> None:
    """The server's main: import, listen, keep a worker ready, serve until idle."""
    import gc

    global _server_pid
    key = code_key()
    server = _Server(key, idle)
    server.log("starting")
    _prepare_imports()
    gc.collect()
    gc.freeze()  # forks then leave the shared pages unwritten
    server.open()
    server.log("ready")
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    # A worker is told to stop preparing by SIGUSR1: the handler is set here, before any fork,
    # so that a worker told at once (a command arriving as it is forked) has it already. The
    # server itself is never sent one. (A handler, not SIG_IGN, which the runner and the
    # notebooks it starts would inherit.)
    _server_pid = os.getpid()
    signal.signal(signal.SIGUSR1, _on_command)
    try:
        server.serve()
    finally:
        server.close()


