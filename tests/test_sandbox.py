"""autograder.run.sandbox with real processes: each test forks a child, confines it (or not, to show
the same action succeeds unconfined), runs one action and reports through a pipe as JSON.

sympy and numpy are imported here, before any fork, as the runner imports them before forking.
"""

from __future__ import annotations

import ctypes
import errno
import json
import os
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy
import pytest
import sympy

import autograder
from autograder.run import sandbox
from autograder.run.sandbox import Limits, SandboxUnavailable, confine, detect

ROOT = Path(autograder.__file__).resolve().parents[1]
ABI = sandbox._landlock_abi()
needs_landlock = pytest.mark.skipif(detect() == "none",
                                    reason="this kernel has no Landlock (Linux 5.13+ needed)")
needs_tcp_rules = pytest.mark.skipif(detect() != "landlock",
                                     reason="this kernel's Landlock has no TCP rules (ABI < 4)")
PR_GET_NO_NEW_PRIVS = 39


def attempt(action: Callable[[], Any]) -> Any:
    """The action's value, or the name of the exception it raised."""
    try:
        return action()
    except Exception as error:  # noqa: BLE001 -- the type is the result
        return type(error).__name__


def read(path: Path | str) -> str:
    with open(path) as handle:
        return handle.read()


def write(path: Path | str, text: str = "x") -> str:
    with open(path, "w") as handle:
        handle.write(text)
    return "written"


def no_new_privs() -> int:
    return ctypes.CDLL(None).prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0)


def in_child(action: Callable[[], Any], workdir: Path | None, *, limits: Limits | None = None,
             extra_readable: tuple[Path, ...] = (), before: Callable[[], None] | None = None,
             timeout: float = 60, network_namespace: bool = False) -> dict[str, Any]:
    """Fork; in the child run ``before``, confine to ``workdir`` unless it is None, then
    ``action``; return {"applied": ..., "value": ...} or {"error": ...} from the child.
    The network namespace is off unless asked for, so that Landlock's own rules are tested."""
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never returns into pytest
        outcome: dict[str, Any] = {}
        try:
            os.close(read_fd)
            if before is not None:
                before()
            if workdir is not None:
                outcome["applied"] = confine(workdir, limits=limits or Limits(),
                                             extra_readable=extra_readable,
                                             network_namespace=network_namespace)
            outcome["value"] = action()
        except BaseException as error:  # noqa: BLE001 -- reported to the parent
            outcome["error"] = f"{type(error).__name__}: {error}"
        finally:
            try:
                os.write(write_fd, json.dumps(outcome, default=str).encode())
            finally:
                os._exit(0)
    os.close(write_fd)
    chunks = []
    try:
        while True:
            ready, _, _ = select.select([read_fd], [], [], timeout)
            if not ready:
                os.kill(pid, signal.SIGKILL)
                pytest.fail(f"the child did not finish within {timeout} s")
            chunk = os.read(read_fd, 1 << 16)
            if not chunk:
                break
            chunks.append(chunk)
    finally:
        os.close(read_fd)
        os.waitpid(pid, 0)
        sandbox.release_process_cap(pid)  # as the runner's supervisor does (root's cgroup)
    outcome = json.loads(b"".join(chunks) or b"{}")
    assert "error" not in outcome, outcome["error"]
    return outcome


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    folder = tmp_path / "work"
    folder.mkdir()
    return folder


@pytest.fixture
def course(tmp_path: Path) -> Path:
    """A course-like folder beside the workdir, with a solution in it."""
    secret = tmp_path / "course" / "solutions" / "secret.py"
    secret.parent.mkdir(parents=True)
    secret.write_text("ANSWER = 42\n")
    return tmp_path / "course"


# --- detection --------------------------------------------------------------------------------
def test_detect_names_the_kernels_abi() -> None:
    expected = "landlock" if ABI >= 4 else "landlock-fs" if ABI >= 1 else "none"
    assert detect() == expected
    assert detect() is detect()  # cached string, cheap to call per submission


@pytest.mark.parametrize(("abi", "name"), [(0, "none"), (1, "landlock-fs"), (3, "landlock-fs"),
                                           (4, "landlock"), (7, "landlock")])
def test_detect_maps_abi_versions(monkeypatch: pytest.MonkeyPatch, abi: int, name: str) -> None:
    monkeypatch.setattr(sandbox, "_landlock_abi", lambda: abi)
    assert detect() == name


def test_required_sandbox_missing_raises_before_changing_anything(
        monkeypatch: pytest.MonkeyPatch, workdir: Path) -> None:
    monkeypatch.setattr(sandbox, "_landlock_abi", lambda: 0)

    def action() -> dict[str, Any]:
        raised = attempt(lambda: confine(workdir, limits=Limits(memory_bytes=1 << 29)))
        return {"raised": raised, "nnp": no_new_privs(),
                "as": list(__import__("resource").getrlimit(__import__("resource").RLIMIT_AS))}

    unconfined = in_child(action, None)["value"]
    assert unconfined["raised"] == "SandboxUnavailable"
    assert unconfined["nnp"] == 0  # no_new_privs not set: it raised before doing anything
    assert unconfined["as"][0] != 1 << 29
    assert not (workdir / ".tmp").exists()
    with pytest.raises(SandboxUnavailable):  # and so it is safe to call here, in pytest itself
        confine(workdir, require=True)


def test_without_landlock_and_not_required_only_limits_apply(
        monkeypatch: pytest.MonkeyPatch, workdir: Path, course: Path) -> None:
    monkeypatch.setattr(sandbox, "_landlock_abi", lambda: 0)
    secret = course / "solutions" / "secret.py"

    def action() -> dict[str, Any]:
        import resource

        applied = confine(workdir, limits=Limits(memory_bytes=1 << 29), require=False)
        return {"applied": applied, "nnp": no_new_privs(), "secret": attempt(lambda: read(secret)),
                "as": resource.getrlimit(resource.RLIMIT_AS)[0]}

    got = in_child(action, None)["value"]
    assert got == {"applied": "none", "nnp": 1, "secret": "ANSWER = 42\n", "as": 1 << 29}


# --- what still works inside ------------------------------------------------------------------
@needs_landlock
def test_preimported_sympy_and_numpy_work_and_workdir_is_writable(workdir: Path) -> None:
    assert "sympy" in sys.modules and "numpy" in sys.modules  # imported before the fork

    def action() -> dict[str, Any]:
        x = sympy.Symbol("x")
        (workdir / "answer.txt").write_text("3*x**2")
        handle, temp = tempfile.mkstemp()
        os.close(handle)
        with open(os.devnull, "w") as null:
            null.write("discarded")
        return {"diff": str(sympy.diff(x**3, x)),
                "integral": str(sympy.integrate(sympy.sin(x), (x, 0, sympy.pi))),
                "solve": numpy.linalg.solve(numpy.eye(2) * 2, numpy.ones(2)).tolist(),
                "file": (workdir / "answer.txt").read_text(),
                "mkdir": attempt(lambda: (workdir / "sub").mkdir() or "made"),
                "temp": temp, "tmpdir": os.environ["TMPDIR"],
                "random": len(read_bytes("/dev/urandom", 8))}

    outcome = in_child(action, workdir)
    assert outcome["applied"].split("+")[0] == detect()
    got = outcome["value"]
    assert got["diff"] == "3*x**2" and got["integral"] == "2"
    assert got["solve"] == [0.5, 0.5]
    assert got["file"] == "3*x**2" and got["mkdir"] == "made"
    assert got["tmpdir"] == str(workdir / ".tmp")
    assert Path(got["temp"]).parent == workdir / ".tmp"
    assert got["random"] == 8


def read_bytes(path: str, size: int) -> bytes:
    with open(path, "rb") as handle:
        return handle.read(size)


def _not_yet_imported(candidates: list[str]) -> str:
    for name in candidates:
        if name not in sys.modules:
            return name
    pytest.skip(f"all of {candidates} are already imported in this process")


@needs_landlock
def test_modules_not_yet_imported_can_still_be_imported(workdir: Path) -> None:
    fresh_stdlib = ["fractions", "decimal", "json", "colorsys", "difflib"]
    extension = _not_yet_imported(["xxlimited", "_testbuffer", "audioop", "mmap", "_lzma"])
    lazy_package = _not_yet_imported(["sympy.combinatorics.graycode", "sympy.codegen.cutils",
                                      "numpy.polynomial.hermite_e", "sympy.stats.rv_interface"])

    def forget() -> None:  # so that the imports below read the files again
        for name in fresh_stdlib:
            sys.modules.pop(name, None)

    def action() -> dict[str, str]:
        import importlib

        return {name: attempt(lambda n=name: importlib.import_module(n).__file__)
                for name in [*fresh_stdlib, extension, lazy_package]}

    # A roomy address-space limit: forked from a pytest that has run the whole suite, the
    # child starts large, and under the default 1 GiB an extension's mmap would fail.
    got = in_child(action, workdir, before=forget, limits=Limits(memory_bytes=16 << 30))["value"]
    for name, where in got.items():
        assert where.endswith(".py") or ".so" in where, f"{name}: {where}"
    assert "lib-dynload" in got[extension]
    assert "-packages" in got[lazy_package]


@needs_landlock
def test_a_program_started_inside_inherits_the_sandbox(workdir: Path, course: Path) -> None:
    secret = course / "solutions" / "secret.py"
    script = f"print(6 * 7); open({str(secret)!r})"

    def action() -> dict[str, Any]:
        done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                              timeout=30)
        return {"out": done.stdout, "err": done.stderr.strip().splitlines()[-1:]}

    assert in_child(action, None)["value"]["err"] == []  # readable by a program unconfined
    got = in_child(action, workdir)["value"]
    assert got["out"] == "42\n"  # python itself starts inside the sandbox
    assert got["err"] and got["err"][0].startswith("PermissionError")


# --- what is refused --------------------------------------------------------------------------
def _reads(targets: dict[str, Path]) -> Callable[[], dict[str, Any]]:
    def action() -> dict[str, Any]:
        got = {}
        for label, path in targets.items():
            if path.is_dir():
                got[label] = attempt(lambda p=path: sorted(os.listdir(p)))
            else:
                got[label] = attempt(lambda p=path: read(p)[:20])
        return got
    return action


@needs_landlock
def test_course_and_home_files_are_unreadable(workdir: Path, course: Path,
                                              tmp_path: Path) -> None:
    home = tmp_path / "home"
    (home / ".ssh").mkdir(parents=True)
    (home / ".ssh" / "id_ed25519").write_text("PRIVATE KEY\n")
    targets = {"secret": course / "solutions" / "secret.py", "solutions": course / "solutions",
               "course": course, "key": home / ".ssh" / "id_ed25519", "home": home,
               "pyproject": ROOT / "pyproject.toml", "repo": ROOT}
    repo_solutions = ROOT / "solutions"
    if repo_solutions.is_dir():
        targets["repo_solutions"] = repo_solutions
        first = next((p for p in sorted(repo_solutions.iterdir()) if p.is_file()), None)
        if first is not None:
            targets["repo_solution_file"] = first

    unconfined = in_child(_reads(targets), None)["value"]
    assert unconfined["secret"] == "ANSWER = 42\n" and unconfined["key"] == "PRIVATE KEY\n"
    assert all(not isinstance(v, str) or v not in ("PermissionError", "FileNotFoundError")
               for v in unconfined.values()), unconfined

    confined = in_child(_reads(targets), workdir)["value"]
    assert confined == dict.fromkeys(targets, "PermissionError")
    assert read(targets["secret"]) == "ANSWER = 42\n"  # the parent is unaffected
    assert no_new_privs() == 0


@needs_landlock
@pytest.mark.parametrize("ready_before_fork", [False, True])
def test_the_graders_environment_and_folders_stay_hidden_under_proc(
        workdir: Path, ready_before_fork: bool) -> None:
    """/proc is readable, but not another process's environ, memory map or cwd; also when
    the parent worked out what every child's confinement shares before forking, as the
    runner does (/proc/self is then still the child's own)."""
    if ready_before_fork:
        sandbox.ready_for_children()

    def action() -> dict[str, Any]:
        grader = f"/proc/{os.getppid()}"
        return {"environ": attempt(lambda: len(read_bytes(f"{grader}/environ", 1 << 16))),
                "maps": attempt(lambda: len(read_bytes(f"{grader}/maps", 100))),
                "cwd": attempt(lambda: len(os.listdir(f"{grader}/cwd"))),
                "own": attempt(lambda: len(read_bytes("/proc/self/status", 100)))}

    unconfined = in_child(action, None)["value"]
    assert all(isinstance(v, int) for v in unconfined.values()), unconfined
    assert in_child(action, workdir)["value"] == {"environ": "PermissionError",
                                                  "maps": "PermissionError",
                                                  "cwd": "PermissionError", "own": 100}


@needs_landlock
def test_editable_install_and_venv_in_the_course_do_not_open_the_course(
        workdir: Path, course: Path) -> None:
    """A venv inside the course (course/.venv) lends its site-packages, not the course; an
    editable install's source folder on sys.path stays hidden."""
    site = course / ".venv" / "lib" / "python3.11" / "site-packages"
    site.mkdir(parents=True)
    (site / "bpk_fake_dependency.py").write_text("VALUE = 'from site-packages'\n")
    secret = course / "solutions" / "secret.py"

    def before() -> None:
        sys.path[:0] = [str(ROOT), str(course), str(site), ""]

    def action() -> dict[str, Any]:
        import importlib

        return {"dependency": attempt(
                    lambda: importlib.import_module("bpk_fake_dependency").VALUE),
                "secret": attempt(lambda: read(secret)),
                "course": attempt(lambda: os.listdir(course)),
                "venv": attempt(lambda: sorted(os.listdir(course / ".venv"))),
                "pyproject": attempt(lambda: read(ROOT / "pyproject.toml"))}

    got = in_child(action, workdir, before=before)["value"]
    assert got["dependency"] == "from site-packages"
    assert got == {"dependency": "from site-packages", "secret": "PermissionError",
                   "course": "PermissionError", "venv": "PermissionError",
                   "pyproject": "PermissionError"}


@needs_landlock
def test_extra_readable_opens_exactly_that_folder(workdir: Path, course: Path) -> None:
    data = course / "data"
    data.mkdir()
    (data / "table.csv").write_text("a,b\n")
    action = _reads({"data": data / "table.csv", "secret": course / "solutions" / "secret.py"})
    got = in_child(action, workdir, extra_readable=(data,))["value"]
    assert got == {"data": "a,b\n", "secret": "PermissionError"}


@needs_landlock
def test_writing_outside_the_workdir_fails(workdir: Path, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    in_tmp = Path("/tmp") / f"bpk-sandbox-escape-{os.getpid()}.txt"
    targets = [elsewhere / "x.txt", in_tmp]

    def action() -> dict[str, Any]:
        got = {str(p): attempt(lambda p=p: write(p)) for p in targets}
        got["mkdir"] = attempt(lambda: (elsewhere / "d").mkdir() or "made")
        got["rename_out"] = attempt(lambda: write(workdir / "a")
                                    and os.rename(workdir / "a", elsewhere / "a") or "moved")
        got["inside"] = write(workdir / "inside.txt")
        return got

    try:
        unconfined = in_child(action, None)["value"]
        assert set(unconfined.values()) <= {"written", "made", "moved"}, unconfined
        for path in [*targets, elsewhere / "a"]:
            path.unlink()
        (elsewhere / "d").rmdir()

        confined = in_child(action, workdir)["value"]
        # as root the workdir is a tmpfs of its own: renaming out is then EXDEV (an OSError)
        assert confined.pop("rename_out") in ("PermissionError", "OSError")
        assert confined == {str(targets[0]): "PermissionError", str(in_tmp): "PermissionError",
                            "mkdir": "PermissionError",
                            "inside": "written"}
        assert not any(p.exists() for p in [*targets, elsewhere / "d", elsewhere / "a"])
    finally:
        in_tmp.unlink(missing_ok=True)


@needs_tcp_rules
def test_tcp_connect_to_loopback_is_refused(workdir: Path) -> None:
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(4)
    server.settimeout(0.5)
    port = server.getsockname()[1]

    def action() -> str:
        with socket.create_connection(("127.0.0.1", port), timeout=5) as conn:
            conn.sendall(b"leak")
        return "connected"

    try:
        assert in_child(action, None)["value"] == "connected"  # the probe itself works
        conn, _ = server.accept()
        assert conn.recv(4) == b"leak"
        conn.close()

        assert in_child(lambda: attempt(action), workdir)["value"] == "PermissionError"
        with pytest.raises(socket.timeout):
            server.accept()  # nothing arrived
    finally:
        server.close()


@needs_tcp_rules
def test_tcp_bind_is_refused(workdir: Path) -> None:
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()

    def action() -> dict[str, str]:
        def bind(address: tuple[str, int]) -> str:
            with socket.socket() as sock:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                sock.bind(address)
                sock.listen(1)
                return "bound"
        return {"port": attempt(lambda: bind(("127.0.0.1", port))),
                "any": attempt(lambda: bind(("0.0.0.0", port)))}

    assert in_child(action, None)["value"] == {"port": "bound", "any": "bound"}
    assert in_child(action, workdir)["value"] == {"port": "PermissionError",
                                                  "any": "PermissionError"}


@pytest.mark.skipif(ABI < 6, reason="Landlock signal scoping needs ABI 6 (Linux 6.12)")
def test_the_child_cannot_signal_the_grader(workdir: Path) -> None:
    def action() -> str:
        os.kill(os.getppid(), 0)
        return "signalled"

    assert in_child(action, None)["value"] == "signalled"
    assert in_child(lambda: attempt(action), workdir)["value"] == "PermissionError"


@needs_landlock
@pytest.mark.skipif(os.geteuid() != 0, reason="capabilities only matter when run as root")
def test_root_gives_up_its_capabilities(workdir: Path) -> None:
    def action() -> dict[str, Any]:
        with open("/proc/self/status") as handle:
            caps = dict(line.split(":", 1) for line in handle if line.startswith("Cap"))
        node = workdir / "null-device"
        made = attempt(lambda: os.mknod(node, 0o600 | 0o020000, os.makedev(1, 3)) or "made")
        node.unlink(missing_ok=True)
        return {"eff": int(caps["CapEff"], 16), "bnd": int(caps["CapBnd"], 16), "mknod": made}

    unconfined = in_child(action, None)["value"]
    assert unconfined["eff"] != 0 and unconfined["mknod"] == "made"
    assert in_child(action, workdir)["value"] == {"eff": 0, "bnd": 0, "mknod": "PermissionError"}


@needs_landlock
@pytest.mark.skipif(os.geteuid() != 0, reason="only root may make device nodes at all")
def test_no_device_nodes_in_the_workdir_even_with_capabilities(
        monkeypatch: pytest.MonkeyPatch, workdir: Path) -> None:
    """Landlock alone refuses mknod in the workdir: a block device there would be the disk."""
    monkeypatch.setattr(sandbox, "_drop_capabilities", lambda: None)

    def action() -> str:
        return attempt(lambda: os.mknod(workdir / "null", 0o600 | 0o020000, os.makedev(1, 3))
                       or "made")

    assert in_child(action, workdir)["value"] == "PermissionError"


@needs_landlock
def test_a_folder_holding_the_workdir_is_never_made_readable(workdir: Path, course: Path,
                                                            tmp_path: Path) -> None:
    """Its other folders may be other students' workdirs, or the course."""
    action = _reads({"secret": course / "solutions" / "secret.py", "parent": tmp_path})
    got = in_child(action, workdir, extra_readable=(tmp_path, workdir / ".."))["value"]
    assert got == {"secret": "PermissionError", "parent": "PermissionError"}


# --- limits -----------------------------------------------------------------------------------
@needs_landlock
def test_rlimits_are_applied_and_memory_is_capped(workdir: Path) -> None:
    import resource

    limits = Limits(memory_bytes=512 << 20, cpu_seconds=7, file_size_bytes=1 << 20,
                    open_files=64, processes=5)

    def action() -> dict[str, Any]:
        names = ("AS", "CPU", "FSIZE", "NOFILE", "CORE", "NPROC")
        got: dict[str, Any] = {n: list(resource.getrlimit(getattr(resource, f"RLIMIT_{n}")))
                               for n in names}
        got["big"] = attempt(lambda: len(bytearray(2 << 30)))
        got["small"] = attempt(lambda: len(bytearray(16 << 20)))
        return got

    unconfined = in_child(action, None)["value"]
    assert unconfined["big"] == 2 << 30  # the allocation itself is possible here
    got = in_child(action, workdir, limits=limits)["value"]
    assert got["AS"] == [512 << 20] * 2
    assert got["CPU"] == [7, 8] and got["FSIZE"] == [1 << 20] * 2
    assert got["NOFILE"] == [64, 64] and got["CORE"] == [0, 0]
    soft, hard = got["NPROC"]
    assert soft == hard and 5 < soft < 5 + 100_000  # what the user runs now, plus 5
    assert got["big"] == "MemoryError" and got["small"] == 16 << 20
    assert resource.getrlimit(resource.RLIMIT_AS) == tuple(unconfined["AS"])  # parent unchanged


@needs_landlock
@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to become an unprivileged user")
def test_an_unprivileged_user_is_confined_and_its_forks_are_capped() -> None:
    """What course staff get without root: the same fences, and RLIMIT_NPROC holds."""
    nobody = 65534
    workdir = Path(tempfile.mkdtemp(prefix="bpk-nobody-"))
    os.chown(workdir, nobody, nobody)
    escape = Path("/tmp") / f"bpk-nobody-escape-{os.getpid()}.txt"

    def become_nobody() -> None:
        os.setgroups([])
        os.setgid(nobody)
        os.setuid(nobody)

    def action() -> dict[str, Any]:
        forked = []
        for _ in range(10):
            try:
                pid = os.fork()
            except BlockingIOError:
                break
            if pid == 0:
                signal.pause()
                os._exit(0)
            forked.append(pid)
        for pid in forked:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
        return {"uid": os.getuid(), "forks": len(forked), "inside": write(workdir / "f"),
                "escape": attempt(lambda: write(escape))}

    try:
        unconfined = in_child(action, None, before=become_nobody)["value"]
        assert unconfined == {"uid": nobody, "forks": 10, "inside": "written",
                              "escape": "written"}
        escape.unlink()
        (workdir / "f").unlink()
        outcome = in_child(action, workdir, before=become_nobody,
                           limits=Limits(processes=3))
        assert outcome["applied"].split("+")[0] == detect()
        got = outcome["value"]
        assert 1 <= got.pop("forks") <= 3
        assert got == {"uid": nobody, "inside": "written", "escape": "PermissionError"}
    finally:
        escape.unlink(missing_ok=True)
        shutil.rmtree(workdir, ignore_errors=True)


@needs_landlock
def test_cpu_limit_ends_the_child_with_sigxcpu(workdir: Path) -> None:
    """SIGXCPU, not SIGKILL: the runner reports a child killed by it as a timeout."""
    pid = os.fork()
    if pid == 0:
        try:
            confine(workdir, limits=Limits(cpu_seconds=1))
            while True:
                pass
        finally:
            os._exit(0)
    _, status = os.waitpid(pid, 0)
    sandbox.release_process_cap(pid)
    assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGXCPU


def test_limits_are_validated() -> None:
    assert Limits().memory_bytes == 1 << 30 and Limits().processes == 16
    with pytest.raises(ValueError, match="memory_bytes"):
        Limits(memory_bytes=0)
    with pytest.raises(ValueError, match="processes"):
        Limits(processes=-1)


# --- older ABIs, emulated by asking this kernel for less ----------------------------------------
@pytest.mark.parametrize("abi", [1, 2, 3, 4, 5, 6])
def test_older_abis_confine_files_and_tcp_only_from_4(
        monkeypatch: pytest.MonkeyPatch, workdir: Path, course: Path, abi: int) -> None:
    if ABI < abi:
        pytest.skip(f"this kernel's Landlock ABI is {ABI}, below {abi}")
    monkeypatch.setattr(sandbox, "_landlock_abi", lambda: abi)
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(4)
    port = server.getsockname()[1]
    secret = course / "solutions" / "secret.py"

    def action() -> dict[str, Any]:
        return {"secret": attempt(lambda: read(secret)),
                "write": write(workdir / "f.txt"),
                "sympy": str(sympy.expand((sympy.Symbol("a") + 1) ** 2)),
                "tcp": attempt(lambda: socket.create_connection(("127.0.0.1", port), 5).close()
                               or "connected")}

    try:
        outcome = in_child(action, workdir)
    finally:
        server.close()
    assert outcome["applied"].split("+")[0] == ("landlock" if abi >= 4 else "landlock-fs")
    assert outcome["value"] == {"secret": "PermissionError", "write": "written",
                                "sympy": "a**2 + 2*a + 1",
                                "tcp": "PermissionError" if abi >= 4 else "connected"}


# --- the network namespace --------------------------------------------------------------------
def _can_unshare_network() -> bool:
    def probe() -> bool:
        return ctypes.CDLL(None).unshare(0x40000000) == 0 or ctypes.CDLL(None).unshare(
            0x10000000 | 0x40000000) == 0

    return bool(in_child(probe, None)["value"])


@pytest.mark.skipif(not _can_unshare_network(), reason="no network namespaces for this user")
def test_the_network_namespace_stops_udp_and_tcp(tmp_path: Path) -> None:
    """Landlock has no UDP rules: the empty network namespace stops datagrams too."""
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.bind(("127.0.0.1", 0))
    udp.settimeout(0.5)
    tcp = socket.socket()
    tcp.bind(("127.0.0.1", 0))
    tcp.listen()
    workdir = tmp_path / "work"
    workdir.mkdir()

    def action() -> dict[str, str]:
        def send_udp() -> str:
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
                s.sendto(b"leak", udp.getsockname())
            return "sent"

        return {"udp": attempt(send_udp),
                "tcp": attempt(lambda: socket.create_connection(tcp.getsockname(), 2).close()
                               or "connected")}

    try:
        outcome = in_child(action, workdir, network_namespace=True)
        with pytest.raises(TimeoutError):
            udp.recv(16)
    finally:
        udp.close()
        tcp.close()
    assert "+netns" in outcome["applied"]
    assert outcome["value"]["udp"] != "sent" and outcome["value"]["tcp"] != "connected"


# --- the system call filter, /etc and /proc, the write cap (issue 10) --------------------------
_LIBC = ctypes.CDLL(None, use_errno=True)
_LIBC.syscall.restype = ctypes.c_long
_X86_64 = sandbox.platform.machine().lower() in ("x86_64", "amd64")
needs_seccomp = pytest.mark.skipif(
    sandbox.seccomp_program(sandbox.platform.machine()) is None,
    reason="no seccomp filter for this machine")


def _errno_of(number: int, *args: int) -> int:
    """0 if the raw system call succeeded, else its errno."""
    result = _LIBC.syscall(ctypes.c_long(number), *[ctypes.c_long(a) for a in args])
    return 0 if result >= 0 else ctypes.get_errno()


def _calls() -> dict[str, Any]:
    col = 0 if _X86_64 else 1
    denied = sandbox._DENIED_SYSCALLS
    params = (ctypes.c_uint32 * 30)()
    got = {
        "userns": _errno_of(sandbox._UNSHARE[col], sandbox._CLONE_NEWUSER),
        "io_uring": _errno_of(denied["io_uring_setup"][col], 1, ctypes.addressof(params)),
        "keyctl": _errno_of(denied["keyctl"][col], 0, 0),
        "ptrace": _errno_of(denied["ptrace"][col], 16, os.getppid()),  # PTRACE_ATTACH
        "clone3": _errno_of(sandbox._CLONE3, 0, 0),
    }
    pid = os.fork()  # the C library's fork, and threads, still work
    if pid == 0:
        os._exit(7)
    got["fork"] = os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])
    got["thread"] = subprocess.run([sys.executable, "-c", "import threading as t; "
                                    "x = t.Thread(target=print, args=('ok',)); x.start(); "
                                    "x.join()"], capture_output=True, text=True).stdout.strip()
    return got


@needs_landlock
@needs_seccomp
def test_seccomp_denies_user_namespaces_io_uring_keyrings_and_ptrace(workdir: Path) -> None:
    confined = in_child(_calls, workdir)
    assert "seccomp" in confined["applied"].split("+")
    assert confined["value"] == {"userns": errno.EPERM, "io_uring": errno.EPERM,
                                 "keyctl": errno.EPERM, "ptrace": errno.EPERM,
                                 "clone3": errno.ENOSYS, "fork": 7, "thread": "ok"}
    unconfined = in_child(_calls, None)["value"]
    assert unconfined["clone3"] != errno.ENOSYS  # the kernel has clone3: the filter said no
    assert unconfined["keyctl"] != errno.EPERM


@needs_landlock
@needs_seccomp
@pytest.mark.parametrize("network_namespace", [False, True], ids=["no-netns", "netns"])
def test_no_unix_socket_is_reachable_by_path(workdir: Path, tmp_path: Path,
                                              network_namespace: bool) -> None:
    """A listening UNIX socket in a folder the child may read, a datagram one, and an abstract
    one: unconfined, the child reaches all three; confined, none (Landlock does not cover
    connecting to a path, so only the system call filter stops it; with or without a network
    namespace). A stream socket pair, which asyncio and multiprocessing use, still works."""
    folder = tmp_path / "open"
    folder.mkdir()
    stream = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    stream.bind(str(folder / "stream.sock"))
    stream.listen(4)
    dgram = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    dgram.bind(str(folder / "dgram.sock"))
    abstract = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    abstract.bind(f"\0bpk-test-{os.getpid()}")
    abstract.listen(4)

    def action() -> dict[str, Any]:
        def connect(address: str) -> str:
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
                conn.connect(address)
            return "connected"

        def send_by_pair() -> str:  # a datagram pair's socket may send to any path
            one, _two = socket.socketpair(socket.AF_UNIX, socket.SOCK_DGRAM)
            one.sendto(b"x", str(folder / "dgram.sock"))
            return "sent"

        def stream_pair() -> str:
            one, two = socket.socketpair()
            one.sendall(b"ok")
            return two.recv(2).decode()

        return {"path": attempt(lambda: connect(str(folder / "stream.sock"))),
                "abstract": attempt(lambda: connect(f"\0bpk-test-{os.getppid()}")),
                "dgram": attempt(send_by_pair), "pair": attempt(stream_pair)}

    try:
        reached = {"path": "connected", "abstract": "connected", "dgram": "sent", "pair": "ok"}
        assert in_child(action, None)["value"] == reached  # the probes themselves work
        confined = in_child(action, workdir, extra_readable=(folder,),
                            network_namespace=network_namespace)
        assert "seccomp" in confined["applied"].split("+")
        assert confined["value"] == {"path": "PermissionError", "abstract": "PermissionError",
                                     "dgram": "PermissionError", "pair": "ok"}
    finally:
        for sock in (stream, dgram, abstract):
            sock.close()


@needs_landlock
@needs_seccomp
def test_signalling_the_process_group_by_zero_is_refused(workdir: Path) -> None:
    """The grading child's parent is outside its PID namespace (``getppid()`` is 0 there):
    ``os.kill(os.getppid(), …)`` would signal the child's own process group; confined, a
    signal to pid 0 fails as signalling a parent out of reach does. Signal 0 only asks
    whether the target exists; signalling itself by its pid still works."""
    def action() -> dict[str, Any]:
        return {"group": attempt(lambda: os.kill(0, 0) or "sent"),
                "itself": attempt(lambda: os.kill(os.getpid(), 0) or "sent")}

    assert in_child(action, None)["value"] == {"group": "sent", "itself": "sent"}
    confined = in_child(action, workdir)
    assert "seccomp" in confined["applied"].split("+")
    assert confined["value"] == {"group": "PermissionError", "itself": "sent"}


def test_seccomp_programs_check_the_architecture() -> None:
    for machine in ("x86_64", "aarch64"):
        prog = sandbox.seccomp_program(machine)
        assert prog is not None and prog[0] == (0x20, 0, 0, 4)  # load the audit arch first
        assert prog[-1] == (0x06, 0, 0, sandbox._RET_ALLOW)
    assert sandbox.seccomp_program("x86_64")[1][3] == 0xC000003E
    assert sandbox.seccomp_program("aarch64")[1][3] == 0xC00000B7
    assert sandbox.seccomp_program("mips") is None


@needs_landlock
def test_etc_and_proc_are_narrowed(workdir: Path) -> None:
    """Never /etc/shadow nor another process's command line; what Python needs still works."""
    def action() -> dict[str, Any]:
        return {"shadow": attempt(lambda: len(read_bytes("/etc/shadow", 10))),
                "passwd": attempt(lambda: len(read_bytes("/etc/passwd", 10)) > 0),
                "cmdline": attempt(lambda: len(read_bytes(f"/proc/{os.getppid()}/cmdline", 10))),
                "pids": attempt(lambda: len(os.listdir("/proc"))),
                "own": attempt(lambda: len(read_bytes("/proc/self/status", 10))),
                "cpus": os.cpu_count() is not None,
                "import": attempt(lambda: __import__("email.mime.text") and "ok")}

    confined = in_child(action, workdir)["value"]
    assert confined == {"shadow": "PermissionError", "passwd": True,
                        "cmdline": "PermissionError", "pids": "PermissionError", "own": 10,
                        "cpus": True, "import": "ok"}
    unconfined = in_child(action, None)["value"]
    assert isinstance(unconfined["cmdline"], int) and isinstance(unconfined["pids"], int)


@needs_landlock
@pytest.mark.skipif(os.geteuid() != 0, reason="the tmpfs cap needs root (else: a watchdog)")
def test_what_a_child_writes_is_capped(workdir: Path) -> None:
    (workdir / "data.csv").write_text("1,2\n")
    cap = 8 << 20

    def action() -> dict[str, Any]:
        written = 0
        block = b"x" * (1 << 20)
        error = None
        for i in range(40):
            try:
                with open(workdir / f"f{i}", "wb") as handle:
                    handle.write(block)
                written += len(block)
            except OSError as exc:
                error = exc.errno
                break
        files = 0
        for i in range(100):
            try:
                (workdir / f"e{i}").touch()
                files += 1
            except OSError:
                break
        return {"written": written, "error": error, "files": files,
                "data": (workdir / "data.csv").read_text()}

    got = in_child(action, workdir, limits=Limits(disk_bytes=cap, disk_files=50))
    assert "tmpfs" in got["applied"].split("+")
    value = got["value"]
    assert value["error"] == errno.ENOSPC and value["written"] <= cap
    assert value["files"] < 50 and value["data"] == "1,2\n"
    assert not (workdir / "f0").exists()  # it lived in the child's own tmpfs only


def test_nobody_is_used_only_where_python_is_readable_by_it() -> None:
    assert sandbox._readable_by(sandbox.NOBODY, sandbox.NOBODY, "/usr/bin") is True
    private = Path(tempfile.mkdtemp(prefix="bpk-private-"))
    try:
        os.chmod(private, 0o700)
        (private / "f").write_text("x")
        expected = os.geteuid() == sandbox.NOBODY
        assert sandbox._readable_by(sandbox.NOBODY, sandbox.NOBODY, str(private / "f")) is expected
    finally:
        shutil.rmtree(private)
    prefix_open = all(sandbox._readable_by(sandbox.NOBODY, sandbox.NOBODY, p)
                      for p in [sys.executable, sys.base_prefix])
    if not prefix_open:
        assert sandbox.can_drop_to_nobody() is False


# --- the process cap for root: a stale cgroup of a reused pid, a cgroup folder that is not one -
def test_a_plain_folder_is_not_taken_for_a_cgroup(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """On a tmpfs at /sys/fs/cgroup, writing pids.max succeeds and caps nothing (CI flaked)."""
    stale = tmp_path / sandbox._cgroup_name(4242)
    stale.mkdir()
    (stale / "pids.max").write_text("17")  # what an earlier, mistaken join left behind
    monkeypatch.setattr(sandbox, "_CGROUP_ROOTS", (str(tmp_path),))
    assert sandbox._join_pids_cgroup(17, 4242) is False
    assert sandbox._join_pids_cgroup(17, 4243) is False
    assert not (tmp_path / sandbox._cgroup_name(4243)).exists()


PIDS_CGROUP = "/sys/fs/cgroup/pids"


@pytest.mark.skipif(os.geteuid() != 0 or not os.path.exists(f"{PIDS_CGROUP}/cgroup.procs"),
                    reason="needs root and a cgroup v1 pids hierarchy")
def test_a_stale_cgroup_of_a_reused_pid_still_caps_the_child() -> None:
    """An earlier supervisor with the same pid left its (empty) cgroup: the child must still
    get a fresh one with its cap, and the supervisor's release must remove it."""
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # whatever happens, the fork never returns into pytest
        try:
            os.close(read_fd)
            stale = os.path.join(PIDS_CGROUP, sandbox._cgroup_name(os.getpid()))
            os.mkdir(stale)
            joined = sandbox._join_pids_cgroup(5, os.getpid())
            with open("/proc/self/cgroup") as handle:
                mine = [line for line in handle.read().splitlines() if ":pids:" in line]
            with open(os.path.join(stale, "pids.max")) as handle:
                cap = handle.read().strip()
            os.write(write_fd, json.dumps([joined, mine, cap]).encode())
        finally:
            os._exit(0)
    os.close(write_fd)
    with os.fdopen(read_fd) as handle:
        joined, mine, cap = json.loads(handle.read())
    os.waitpid(pid, 0)
    sandbox.release_process_cap(pid)
    assert joined is True and cap == "5"
    assert mine == [f"{mine[0].split(':')[0]}:pids:/{sandbox._cgroup_name(pid)}"]
    assert not os.path.exists(os.path.join(PIDS_CGROUP, sandbox._cgroup_name(pid)))


@pytest.mark.skipif(os.geteuid() != 0 or sandbox.can_drop_to_nobody(),
                    reason="needs root that stays root (no user to drop to)")
def test_a_child_that_stays_root_without_a_process_cap_says_so(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """As root, RLIMIT_NPROC binds nothing: where no pids cgroup can be made the sandbox must
    not look the same as where one caps the child."""
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
    capped = in_child(lambda: None, tmp_path / "a", limits=Limits(processes=16))["applied"]
    if os.path.exists(f"{PIDS_CGROUP}/cgroup.procs"):  # this machine has the cgroup
        assert not capped.endswith("+uncapped"), capped
    monkeypatch.setattr(sandbox, "_CGROUP_ROOTS", (str(tmp_path / "no-cgroups-here"),))
    uncapped = in_child(lambda: None, tmp_path / "b", limits=Limits(processes=16))["applied"]
    assert uncapped == capped.removesuffix("+uncapped") + "+uncapped"
    assert uncapped.split("+")[-2:] == ["root", "uncapped"]
