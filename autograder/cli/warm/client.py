"""The warm grader's client side: ``grade`` and ``check`` hand themselves to a server of this
user and code if one runs; starting, listing and stopping servers. The server is started as
its own interpreter (:func:`start`), never imported here.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from autograder.cli.warm.protocol import COMMANDS, IDLE_SECONDS, code_key, folder, send
from autograder.cli.warm.protocol import paths as server_files

# --- the client side: ``grade``/``check`` hand themselves to a server if there is one ----------

def run_warm(argv: Sequence[str]) -> int | None:
    """Serve ``argv`` by a warm server of this code, if one is running: its exit code, or None
    (then the caller runs the command itself)."""
    if not argv or argv[0] not in COMMANDS or os.environ.get("BACKPROP_KIT_WARM") == "0":
        return None
    try:
        files = server_files(code_key())
        if not files["sock"].exists():
            return None
        token = files["token"].read_text()
        conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        conn.connect(str(files["sock"]))
    except OSError:
        return None
    try:
        send(conn, {"token": token, "argv": list(argv), "cwd": os.getcwd(),
                     "env": dict(os.environ)}, [0, 1, 2])
        previous = signal.signal(signal.SIGINT, signal.default_int_handler)
        reply = b""
        try:
            while chunk := conn.recv(256):
                reply += chunk
        except KeyboardInterrupt:  # closing the connection stops the command
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
        if reply == b"":  # refused (the server's log says why): nothing ran, run it here
            return None
        sys.stderr.write("backprop-kit: the warm grader ended without finishing the command "
                         "(see backprop-kit warm --status); run it again\n")
        return 1


def auto_start(argv: Sequence[str]) -> None:
    """After a cold ``grade`` or ``check`` typed at a terminal (not in CI, not with
    ``BACKPROP_KIT_WARM=0``): start a warm grader for the next ones, and say so once."""
    if (not argv or argv[0] not in COMMANDS or os.environ.get("BACKPROP_KIT_WARM") == "0"
            or os.environ.get("CI") or not (sys.stdin.isatty() and sys.stderr.isatty())):
        return
    try:
        start(wait=0)
    except OSError:
        return
    sys.stderr.write("backprop-kit: a warm grader now runs in the background, so the next "
                     "'grade' and 'check' start at once; it ends after "
                     f"{IDLE_SECONDS // 60} idle minutes "
                     "(backprop-kit warm --stop ends it now; BACKPROP_KIT_WARM=0 never starts "
                     "one)\n")


# --- starting and stopping -------------------------------------------------------------------

def start(idle: float = IDLE_SECONDS, wait: float = 60.0) -> tuple[int, Path]:
    """Start a server of this code in the background (unless one answers) and, ``wait`` > 0,
    wait until it listens; returns its pid and log. Its output goes to the log, its session
    is its own."""
    import subprocess

    files = server_files(code_key())
    if files["sock"].exists() and _alive(files["pid"]):
        return int(files["pid"].read_text()), files["log"]
    stop()  # servers of earlier code (an edited checker) are of no use any more
    code = ("import sys, json; sys.path[:] = json.loads(sys.argv[1]); "
            "from autograder.cli.warm.server import serve; serve(float(sys.argv[2]))")
    with open(files["log"], "a", encoding="utf-8") as log:
        proc = subprocess.Popen(
            [sys.executable, "-I", "-c", code, json.dumps(sys.path), str(idle)],
            stdin=subprocess.DEVNULL, stdout=log, stderr=log, cwd=folder(),
            start_new_session=True)
    files["pid"].write_text(str(proc.pid))
    until = time.monotonic() + wait
    while wait > 0 and not files["sock"].exists():
        if proc.poll() is not None or time.monotonic() > until:
            raise OSError(f"the warm grader did not start (see {files['log']})")
        time.sleep(0.05)
    return proc.pid, files["log"]


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
        for suffix in ("sock", "token", "pid"):
            (folder() / f"{key}.{suffix}").unlink(missing_ok=True)
    return stopped
