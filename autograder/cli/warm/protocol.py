"""The warm grader's wire and its files: the user's private folder, the key a server of this
code is found by, and length-prefixed JSON messages that carry file descriptors.

Shared by the client (:mod:`autograder.cli.warm.client`) and the server
(:mod:`autograder.cli.warm.server`), which never import each other.
"""

from __future__ import annotations

import json
import os
import socket
import struct
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

COMMANDS = ("grade", "check")  # what a warm server serves; everything else runs in-process
IDLE_SECONDS = 15 * 60
MAX_HEADER = 1 << 20
SIZE = struct.Struct("i")
KEY_ENV = ("PATH", "LANG", "LC_ALL", "HOME", "TMPDIR", "XDG_CACHE_HOME", "MPLCONFIGDIR")

def folder() -> Path:
    """The user's folder for servers: ``$XDG_RUNTIME_DIR/backprop-kit-warm-UID``, else one in
    the temp folder; refused if someone else owns it or others may enter it."""
    import tempfile

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


def _package_dirs() -> list[str]:
    """The installed packages' folders, and the ``solutions`` of the course the command runs
    in when it has its own (a copy of the course: its rubrics import that one)."""
    import importlib.util

    found = []
    for name in ("autograder", "solutions"):
        spec = importlib.util.find_spec(name)
        if spec is not None and spec.submodule_search_locations:
            found += [str(Path(p).resolve()) for p in spec.submodule_search_locations]
    here = Path.cwd()
    for folder in (here, *here.parents):  # as autograder.rubric.course.find_course looks
        if (folder / "nbgrader_config.py").is_file() and (folder / "assignments").is_dir():
            own = (folder / "solutions").resolve()
            if (own / "__init__.py").is_file() and str(own) not in found:
                found.append(str(own))
            break
    return found


def _source_stamps(top: str) -> list[str]:
    stamps = []
    with os.scandir(top) as entries:
        for entry in sorted(entries, key=lambda e: e.name):
            if entry.is_dir(follow_symlinks=False):
                if entry.name != "__pycache__":
                    stamps += _source_stamps(entry.path)
            elif entry.name.endswith((".py", ".j2", ".json")):
                info = entry.stat()
                stamps.append(f"{entry.path}\0{info.st_size}\0{info.st_mtime_ns}")
    return stamps


def code_key(roots: Sequence[str] | None = None) -> str:
    """What a server must share with a command to serve it: the interpreter, ``sys.path``, the
    settings read from the environment, and each source file (path, size, mtime)."""
    import hashlib

    settings = {k: v for k, v in os.environ.items()
                if k in KEY_ENV or k.startswith("BACKPROP_KIT_")}
    digest = hashlib.sha256(json.dumps(
        [sys.executable, sys.version, sys.path, os.getuid(), sorted(settings.items())]).encode())
    for root in sorted(roots if roots is not None else _package_dirs()):
        digest.update("\n".join(_source_stamps(root)).encode())
    return digest.hexdigest()[:24]


def paths(key: str) -> dict[str, Path]:
    base = folder()
    return {suffix: base / f"{key}.{suffix}" for suffix in ("sock", "token", "log", "pid",
                                                            "hints")}


def send(conn: socket.socket, message: dict[str, Any], fds: Sequence[int] = ()) -> None:
    """A length-prefixed JSON message, the file descriptors riding on its first bytes."""
    body = json.dumps(message).encode()
    socket.send_fds(conn, [SIZE.pack(len(body))], list(fds))
    conn.sendall(body)


def _recv_exact(conn: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = conn.recv(size - len(data))
        if not chunk:
            raise ConnectionError("the connection closed")
        data += chunk
    return data


def receive(conn: socket.socket, max_fds: int) -> tuple[Any, list[int]]:
    """The message :func:`send` sent and the descriptors that came with it."""
    size_bytes, fds, _, _ = socket.recv_fds(conn, SIZE.size, max_fds)
    try:
        if len(size_bytes) != SIZE.size:
            raise ConnectionError("the connection closed")
        size = SIZE.unpack(size_bytes)[0]
        if not 0 < size <= MAX_HEADER:
            raise ValueError(f"a message of {size} bytes")
        return json.loads(_recv_exact(conn, size)), fds
    except BaseException:  # a refused message never leaves its descriptors open
        for fd in fds:
            os.close(fd)
        raise
