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
* Only the same user may connect (``SO_PEERCRED``), only from the server's network namespace (a
  sandboxed notebook has its own) and only with the token in a 0600 file (which the sandbox
  cannot read).
* The server ends after ``idle`` seconds without a command, or on ``backprop-kit warm --stop``.
"""

from __future__ import annotations

import json
import os
import signal
import socket
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
READY_WAIT = 60.0  # seconds a command waits for a worker still preparing


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
    _draw_a_chart()
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


def _draw_a_chart() -> None:
    """Load matplotlib's fonts and fill its caches as the class report's charts do (its
    first chart in a process costs about 0.15 s more than the next)."""
    from matplotlib.figure import Figure

    from autograder.report.classreport import _svg_uri

    fig = Figure(figsize=(3.4, 2.2))
    ax = fig.subplots()
    ax.barh([0, 1], [40.0, 60.0], color="#3b6ea5", label="full marks", height=0.7)
    ax.bar([0.0, 1.0], [1, 2], width=0.1)
    ax.set_yticks([0, 1], ["question (1)", "question (2)"], fontsize=7)
    ax.set_xlabel("points")
    ax.set_ylabel("students")
    ax.set_title("warm-up", fontsize=9)
    ax.tick_params(axis="x", labelsize=7)
    ax.legend(loc="lower left", bbox_to_anchor=(0, 1), ncols=3, fontsize=7, frameon=False)
    _svg_uri(fig)


def _stamp(path: Path) -> list[Any]:
    try:
        info = os.stat(path)
    except OSError:
        return [str(path), None]
    return [str(path), info.st_size, info.st_mtime_ns, info.st_ino]


def _fresh(stamps: Sequence[Sequence[Any]]) -> bool:
    return all(_stamp(Path(stamp[0])) == list(stamp) for stamp in stamps)


def _read_hints(path: Path) -> list[dict[str, str]]:
    try:
        hints = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    return [h for h in hints if isinstance(h, dict)][:MAX_HINTS] if isinstance(hints, list) \
        else []


def _course_rubric(path: Path) -> bool:
    """Only a course's ``assignments/<name>/rubric.py`` is ever loaded from a hint."""
    return (path.name == "rubric.py" and path.parent.parent.name == "assignments"
            and (path.parent.parent.parent / "nbgrader_config.py").is_file())


def _prepare_command(hints_path: Path) -> list[list[Any]]:
    """In a ready worker: start its runner, load the hinted rubrics and self-check files and
    build their references (secret points drawn here, in this process only). Returns the
    stamps of the course files it read: if one changes, this worker is not used."""
    from autograder.rubric import course, question
    from autograder.run import client as runner_client
    from autograder.student import selfcheck
    from autograder.student.released import SELFCHECK_FILE

    runner = runner_client.Runner(True, warm_first=True).start()
    runner_client.offer_spare(runner)  # from now on closed with the worker if it is stopped
    stamps: list[list[Any]] = []
    for hint in _read_hints(hints_path):
        try:
            if "rubric" in hint and _course_rubric(Path(hint["rubric"])):
                path = Path(hint["rubric"])
                stamps.append(_stamp(path))  # before reading: a change meanwhile shows
                question.prepare_references(course.rubric_at(path).QUESTIONS)
            elif "selfcheck" in hint:
                path = Path(hint["selfcheck"]) / SELFCHECK_FILE
                stamps.append(_stamp(path))
                selfcheck.prepare_references(selfcheck.load(path.parent)[1])
        except Exception:  # noqa: BLE001,S112 -- the command loads it again and says why
            continue
    runner.ready()
    return stamps


def _record_hints(hints_path: Path, argv: Sequence[str]) -> None:
    """After a command: the rubrics it loaded and the folder it checked, newest first, for
    the next worker to prepare."""
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
    hints = []
    for hint in found + _read_hints(hints_path):
        if hint not in hints:
            hints.append(hint)
    staging = hints_path.with_suffix(f".{os.getpid()}.tmp")
    try:
        fd = os.open(staging, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(hints[:MAX_HINTS], handle)
        os.replace(staging, hints_path)
    except OSError:
        pass


class _Worker:
    """The server's end of one worker: its pid, its channel, what it said when ready."""

    def __init__(self, pid: int, channel: socket.socket) -> None:
        self.pid, self.channel = pid, channel
        self.stamps: list[list[Any]] | None = None  # None: not ready yet

    def wait_ready(self, seconds: float) -> bool:
        if self.stamps is None:
            self.channel.settimeout(seconds)
            try:
                message, _ = receive(self.channel, 0)
                self.stamps = [list(s) for s in message["stamps"]]
            except (OSError, ValueError, KeyError, TypeError):
                return False
        return True

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
        self.listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.netns = os.readlink("/proc/self/ns/net")

    def log(self, text: str) -> None:
        with open(self.paths["log"], "a", encoding="utf-8") as handle:
            handle.write(f"{time.strftime('%Y-%m-%d %H:%M:%S')} [{os.getpid()}] {text}\n")

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
        return _Worker(pid, ours)

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
        if not worker.wait_ready(READY_WAIT) or not _fresh(worker.stamps or []):
            self.log(f"the ready worker {worker.pid} is of no use (a course file changed, or "
                     "it failed): a fresh one serves")
            worker.end()
            worker = self.spawn(prepare=False)
            worker.wait_ready(READY_WAIT)
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

    def serve(self) -> None:
        import select

        last = time.monotonic()
        while True:
            preparing = [self.spare.channel] if self.spare and self.spare.stamps is None else []
            ready, _, _ = select.select([self.listener, *preparing], [], [], 0.5)
            if preparing and preparing[0] in ready and self.spare is not None:
                if self.spare.wait_ready(1.0):
                    self.log(f"worker {self.spare.pid} ready, {len(self.spare.stamps or [])} "
                             "course file(s) prepared")
                else:
                    self.log(f"worker {self.spare.pid} failed to prepare; the next in 30 s")
                    self.spare.end()
                    self.spare = None
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
        stamps = _prepare_command(hints) if prepare else []
        send(channel, {"stamps": stamps})
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

    key = code_key()
    server = _Server(key, idle)
    server.log("starting")
    _prepare_imports()
    gc.collect()
    gc.freeze()  # forks then leave the shared pages unwritten
    server.open()
    server.log("ready")
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        server.serve()
    finally:
        server.close()


