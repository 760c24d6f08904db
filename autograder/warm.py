"""A warm grader (issue 15): a background process, started on request with ``backprop-kit
warm``, that has imported what grading needs and keeps a pre-loaded runner ready, so that
``grade`` and ``check`` do not pay a second of imports each time.

Cold, one notebook cannot be graded in under a second here: the runner alone needs about 1.7 s
to import what the notebook imports (sympy, matplotlib, numpy, IPython). So:

* The server imports the grader's modules and starts a runner (which pre-loads and warms its
  caches), then waits on a UNIX socket in a 0700 folder of the user's.
* ``grade`` and ``check`` look for a server of the same user and the same code (a key over the
  interpreter, ``sys.path`` and every source file of ``autograder`` and ``solutions``): a
  changed file means another key, so an edited checker is never served by an old process.
  None found: the command runs as always, in its own process.
* Each command is served by a fresh fork of the server (nothing of one command is left in the
  next), given the client's standard streams, folder and environment; it takes the server's
  spare runner (one that has never run a notebook), and the server starts another when the
  command ends. The fork draws its own secret points: the server never builds a reference.
* Only the same user may connect (``SO_PEERCRED``) and only with the token in a 0600 file: a
  student's notebook runs as that user when grading is not done as root, and Landlock does not
  stop it from connecting to a UNIX socket, but it cannot read the token.
* The server ends after ``idle`` seconds without a command, or on ``backprop-kit warm --stop``.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import signal
import socket
import struct
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

COMMANDS = ("grade", "check")  # what a warm server serves; everything else runs in-process
IDLE_SECONDS = 15 * 60
MAX_HEADER = 1 << 20
_SIZE = struct.Struct("i")


def folder() -> Path:
    """The user's folder for servers: ``$XDG_RUNTIME_DIR/backprop-kit``, else a 0700 folder in
    the temp folder; refused if someone else owns it or others may enter it."""
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    base = runtime if runtime and os.path.isdir(runtime) else tempfile.gettempdir()
    path = Path(base) / f"backprop-kit-warm-{os.getuid()}"
    try:
        path.mkdir(mode=0o700, exist_ok=True)
        info = os.lstat(path)
    except OSError as error:
        raise OSError(f"{path}: {error.strerror}") from None
    if info.st_uid != os.getuid() or info.st_mode & 0o077 or not os.path.isdir(path):
        raise OSError(f"{path} is not a private folder of this user's (mode 0700)")
    return path


def _package_dirs() -> list[Path]:
    import importlib.util

    found = []
    for name in ("autograder", "solutions"):
        spec = importlib.util.find_spec(name)
        if spec is not None and spec.submodule_search_locations:
            found += [Path(p) for p in spec.submodule_search_locations]
    return found


def code_key(roots: Sequence[Path] | None = None) -> str:
    """What a server must share with a command to serve it: the interpreter, ``sys.path``, the
    settings read from the environment at import, and each source file (path, size, mtime)."""
    digest = hashlib.sha256()
    digest.update(json.dumps([sys.executable, sys.version, sys.path, os.getuid()]).encode())
    for root in sorted(roots if roots is not None else _package_dirs()):
        for path in sorted(root.rglob("*")):
            if path.suffix in (".py", ".j2", ".json") and "__pycache__" not in path.parts:
                info = path.stat()
                digest.update(f"{path}\0{info.st_size}\0{info.st_mtime_ns}\n".encode())
    return digest.hexdigest()[:24]


def _paths(key: str) -> tuple[Path, Path, Path]:
    base = folder()
    return base / f"{key}.sock", base / f"{key}.token", base / f"{key}.log"


# --- the client side: ``grade``/``check`` hand themselves to a server if there is one ----------

def _recv_exact(conn: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = conn.recv(size - len(data))
        if not chunk:
            raise ConnectionError("the connection closed")
        data += chunk
    return data


def run_warm(argv: Sequence[str]) -> int | None:
    """Serve ``argv`` by a warm server of this code, if one is running: its exit code, or None
    (then the caller runs the command itself). Never starts a server."""
    if not argv or argv[0] not in COMMANDS or os.environ.get("BACKPROP_KIT_WARM") == "0":
        return None
    try:
        sock_path, token_path, _ = _paths(code_key())
        if not sock_path.exists():
            return None
        token = token_path.read_text()
        conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        conn.connect(str(sock_path))
    except OSError:
        return None
    header = json.dumps({"token": token, "argv": list(argv), "cwd": os.getcwd(),
                         "env": dict(os.environ)}).encode()
    try:
        socket.send_fds(conn, [_SIZE.pack(len(header))], [0, 1, 2])
        conn.sendall(header)
        previous = signal.signal(signal.SIGINT, signal.default_int_handler)
        reply = b""
        try:
            while chunk := conn.recv(256):
                reply += chunk
        except KeyboardInterrupt:  # closing the connection stops the command
            conn.close()
            return 130
        finally:
            signal.signal(signal.SIGINT, previous)
    except OSError:
        return None  # refused before it started: run it here
    finally:
        conn.close()
    try:
        return int(json.loads(reply)["exit"])
    except (ValueError, KeyError, TypeError):
        sys.stderr.write("backprop-kit: the warm grader ended without finishing the command "
                         "(see backprop-kit warm --status); run it again\n")
        return 1


# --- the server ----------------------------------------------------------------------------

def _prepare() -> None:
    """Import what ``grade`` and ``check`` import, and nothing that draws a secret."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot  # noqa: F401

    from autograder import (  # noqa: F401
        batch,
        checks,
        classreport,
        cli,
        copying,
        course,
        diagnosis,
        equivalence,
        grading,
        pages,
        reports,
        rubric,
        sealing,
        selfcheck,
        submissions,
        variants,
    )

    pages.environment()
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


class _Server:
    def __init__(self, key: str, idle: float) -> None:
        from autograder.runner_client import Runner

        self.key = key
        self.idle = idle
        self.sock_path, self.token_path, self.log_path = _paths(key)
        self.token = secrets.token_hex(32)
        self.spare: Runner | None = None
        self.workers: dict[int, bool] = {}  # pid: whether it took the spare
        self.listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)

    def log(self, text: str) -> None:
        with open(self.log_path, "a", encoding="utf-8") as handle:
            handle.write(f"{time.strftime('%Y-%m-%d %H:%M:%S')} [{os.getpid()}] {text}\n")

    def new_spare(self) -> None:
        from autograder.runner_client import Runner

        self.spare = Runner(True, warm_first=True).start()

    def open(self) -> None:
        fd = os.open(self.token_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW,
                     0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(self.token)
        staging = self.sock_path.with_suffix(f".{os.getpid()}.tmp")
        self.listener.bind(str(staging))
        os.chmod(staging, 0o600)
        os.replace(staging, self.sock_path)
        self.listener.listen(8)

    def close(self) -> None:
        for path in (self.sock_path, self.token_path):
            try:
                path.unlink()
            except OSError:
                pass
        if self.spare is not None:
            self.spare.close()

    def reap(self) -> None:
        for pid in list(self.workers):
            try:
                done, status = os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                done, status = pid, 0
            if done:
                took = self.workers.pop(pid)
                self.log(f"command {pid} ended ({status})")
                if took and self.spare is None:
                    self.new_spare()
        try:  # runners handed to commands are ours to reap
            while os.waitpid(-1, os.WNOHANG)[0]:
                pass
        except ChildProcessError:
            pass

    def accept(self) -> None:
        conn, _ = self.listener.accept()
        fds: list[int] = []
        try:
            uid = struct.unpack("3i", conn.getsockopt(
                socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i")))[1]
            conn.settimeout(5)
            size_bytes, fds, _, _ = socket.recv_fds(conn, _SIZE.size, 3)
            size = _SIZE.unpack(size_bytes)[0] if len(size_bytes) == _SIZE.size else -1
            if uid != os.getuid() or len(fds) != 3 or not 0 < size <= MAX_HEADER:
                raise PermissionError(f"refused a connection (uid {uid}, {len(fds)} streams)")
            header = json.loads(_recv_exact(conn, size))
            if not secrets.compare_digest(str(header.get("token")), self.token):
                raise PermissionError("refused a connection without the token")
            argv = header.get("argv")
            if not (isinstance(argv, list) and argv and argv[0] in COMMANDS
                    and all(isinstance(a, str) for a in argv)):
                raise PermissionError("refused a command it does not serve")
        except (OSError, ValueError, struct.error) as error:
            self.log(str(error))
            for fd in fds:
                os.close(fd)
            conn.close()
            return
        took = self.spare is not None
        for stream in (sys.stdout, sys.stderr):
            stream.flush()
        pid = os.fork()
        if pid == 0:
            self.listener.close()
            _work(conn, header, fds, self.spare)  # never returns
        for fd in fds:
            os.close(fd)
        conn.close()
        if self.spare is not None:
            self.spare.disown()
            self.spare = None
        self.workers[pid] = took
        self.log(f"command {pid}: {' '.join(header['argv'])[:200]}")

    def serve(self) -> None:
        import select

        last = time.monotonic()
        while True:
            ready, _, _ = select.select([self.listener], [], [], 0.5)
            self.reap()
            if ready:
                self.accept()
                last = time.monotonic()
            elif self.workers:
                last = time.monotonic()
            elif time.monotonic() - last > self.idle or not self.sock_path.exists():
                self.log("idle: ending")
                return


def _work(conn: socket.socket, header: dict[str, Any], fds: list[int], spare: Any) -> None:
    """The forked command: the client's streams, folder and environment, then the CLI."""
    import io
    import threading

    code = 1
    try:
        for target, fd in enumerate(fds):
            os.dup2(fd, target)
            os.close(fd)
        sys.stdin = io.TextIOWrapper(open(0, "rb", closefd=False))
        sys.stdout = io.TextIOWrapper(open(1, "wb", closefd=False),
                                      line_buffering=os.isatty(1), write_through=True)
        sys.stderr = io.TextIOWrapper(open(2, "wb", closefd=False), write_through=True)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
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
        from autograder import runner_client
        from autograder.cli import main

        runner_client.offer_spare(spare)
        try:
            main.main(args=header["argv"], prog_name="backprop-kit", standalone_mode=True)
            code = 0
        except SystemExit as exit_:
            code = exit_.code if isinstance(exit_.code, int) else (0 if exit_.code is None else 1)
        except KeyboardInterrupt:
            code = 130
        finally:
            runner_client.offer_spare(None)
        for stream in (sys.stdout, sys.stderr):
            stream.flush()
    except BaseException:  # noqa: BLE001 -- the fork must never return into the server
        import traceback

        traceback.print_exc()
    finally:
        try:
            conn.sendall(json.dumps({"exit": code}).encode())
        except OSError:
            pass
        os._exit(code if 0 <= code < 256 else 1)


def serve(idle: float = IDLE_SECONDS) -> None:
    """The server's main: prepare, listen, serve until idle; the socket goes with it."""
    key = code_key()
    server = _Server(key, idle)
    server.log("starting")
    _prepare()
    server.new_spare()
    server.open()
    server.log("ready")
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        server.serve()
    finally:
        server.close()


# --- starting and stopping -------------------------------------------------------------------

def start(idle: float = IDLE_SECONDS, wait: float = 60.0) -> tuple[int, Path]:
    """Start a server of this code in the background (unless one answers) and wait until it
    listens; returns its pid and log. Its stdio go to the log, its session is its own."""
    import subprocess

    sock_path, _, log_path = _paths(code_key())
    pid_path = sock_path.with_suffix(".pid")
    if sock_path.exists() and _alive(pid_path):
        return int(pid_path.read_text()), log_path
    stop()  # servers of earlier code (an edited checker) are of no use any more
    code = ("import sys, json; sys.path[:] = json.loads(sys.argv[1]); "
            "from autograder.warm import serve; serve(float(sys.argv[2]))")
    with open(log_path, "a", encoding="utf-8") as log:
        proc = subprocess.Popen(
            [sys.executable, "-I", "-c", code, json.dumps(sys.path), str(idle)],
            stdin=subprocess.DEVNULL, stdout=log, stderr=log, cwd=folder(),
            start_new_session=True)
    pid_path.write_text(str(proc.pid))
    until = time.monotonic() + wait
    while not sock_path.exists():
        if proc.poll() is not None or time.monotonic() > until:
            raise OSError(f"the warm grader did not start (see {log_path})")
        time.sleep(0.05)
    return proc.pid, log_path


def _alive(pid_path: Path) -> bool:
    try:
        os.kill(int(pid_path.read_text()), 0)
        return True
    except (OSError, ValueError):
        return False


def running() -> list[tuple[str, int]]:
    """The servers of this user (any code): (key, pid) of each that is alive."""
    found = []
    for pid_path in sorted(folder().glob("*.pid")):
        if _alive(pid_path):
            found.append((pid_path.stem, int(pid_path.read_text())))
        else:
            pid_path.unlink(missing_ok=True)
    return found


def stop() -> int:
    """Stop every server of this user; returns how many there were."""
    stopped = 0
    for key, pid in running():
        try:
            os.kill(pid, signal.SIGTERM)
            stopped += 1
        except OSError:
            pass
        for suffix in (".sock", ".token", ".pid"):
            (folder() / f"{key}{suffix}").unlink(missing_ok=True)
    return stopped
