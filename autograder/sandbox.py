"""Confine a forked grading child with Landlock and resource limits, with no extra dependency.

The runner forks one child per submission; before the first line of student code the child
calls :func:`confine` on itself. Landlock works for an unprivileged process, so the same code
serves CI (root) and course staff (not root). What the child keeps:

* read and execute on the system (``/usr``, ``/lib*``, ``/bin``, ``/sbin``, ``/etc``,
  ``/proc``, ``/sys/devices/system/cpu``) and on the Python installation: the prefixes, the
  stdlib and each ``site-packages``/``dist-packages`` folder on ``sys.path``, never an
  editable install's source tree, the working directory or a parent of the workdir;
* everything beneath its workdir (and ``workdir/.tmp``, which becomes TMPDIR), except
  creating device nodes;
* ``/dev/null``, ``/dev/zero`` (read, write) and ``/dev/urandom``, ``/dev/random`` (read);
* no TCP bind or connect at all, loopback included (Landlock ABI 4+), and no signals to or
  abstract UNIX sockets of processes outside the sandbox (ABI 6+).

The Landlock system calls are made through ctypes: the ``landlock`` package on PyPI covers
filesystem rules only, and the grader needs the TCP rules too.
"""

from __future__ import annotations

import ctypes
import functools
import os
import platform
import resource
import site
import stat
import sys
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from autograder.errors import BackpropKitError

__all__ = ["Limits", "SandboxUnavailable", "confine", "detect", "exposed", "release_process_cap"]

# --- Landlock ABI (include/uapi/linux/landlock.h) -------------------------------------------
_SYSCALLS = {"create_ruleset": 444, "add_rule": 445, "restrict_self": 446}
# Machines whose Linux uses the generic numbers above (alpha, mips and ia64 do not).
_GENERIC_MACHINES = frozenset({"x86_64", "amd64", "i386", "i686", "aarch64", "arm64", "armv7l",
                               "armv8l", "riscv64", "ppc64le", "ppc64", "s390x", "loongarch64"})
_CREATE_RULESET_VERSION = 1 << 0
_RULE_PATH_BENEATH = 1
PR_SET_NO_NEW_PRIVS = 38
_PR_CAPBSET_DROP = 24
_PR_CAP_AMBIENT = 47
_PR_CAP_AMBIENT_CLEAR_ALL = 4
_LINUX_CAPABILITY_VERSION_3 = 0x20080522

EXECUTE = 1 << 0
WRITE_FILE = 1 << 1
READ_FILE = 1 << 2
READ_DIR = 1 << 3
REMOVE_DIR = 1 << 4
REMOVE_FILE = 1 << 5
MAKE_CHAR = 1 << 6
MAKE_DIR = 1 << 7
MAKE_REG = 1 << 8
MAKE_SOCK = 1 << 9
MAKE_FIFO = 1 << 10
MAKE_BLOCK = 1 << 11
MAKE_SYM = 1 << 12
REFER = 1 << 13  # ABI 2
TRUNCATE = 1 << 14  # ABI 3
IOCTL_DEV = 1 << 15  # ABI 5
NET_BIND_TCP = 1 << 0  # ABI 4
NET_CONNECT_TCP = 1 << 1  # ABI 4
SCOPE_ABSTRACT_UNIX_SOCKET = 1 << 0  # ABI 6
SCOPE_SIGNAL = 1 << 1  # ABI 6

_READ = READ_FILE | READ_DIR | EXECUTE
# Rights that may be granted on a file (not a directory); anything else there is EINVAL.
_FILE_RIGHTS = EXECUTE | WRITE_FILE | READ_FILE | TRUNCATE | IOCTL_DEV

SYSTEM_READABLE = ("/usr", "/lib", "/lib64", "/lib32", "/bin", "/sbin", "/etc", "/proc",
                   "/sys/devices/system/cpu")
DEVICES = {"/dev/null": READ_FILE | WRITE_FILE | TRUNCATE,
           "/dev/zero": READ_FILE | WRITE_FILE | TRUNCATE,
           "/dev/urandom": READ_FILE, "/dev/random": READ_FILE}


class SandboxUnavailable(BackpropKitError):
    """No sandbox could be applied where one was required; student code must not run."""


@dataclass(frozen=True)
class Limits:
    """Resource limits for one child; each becomes soft = hard, never above the current hard
    limit (except CPU: its hard limit is one second later, see :func:`_apply_rlimits`).

    ``processes`` is how many more tasks the child's user may start (RLIMIT_NPROC counts every
    process and thread of the real user, so the limit is set to what that user runs now plus
    this). Linux does not enforce RLIMIT_NPROC for root: there the child joins a pids cgroup
    of its own capped at ``processes`` + 1 (:func:`release_process_cap` removes it), where
    the system has one; the grader also kills the child's whole process tree after each
    submission. ``None`` leaves both alone.
    """

    memory_bytes: int = 1 << 30
    cpu_seconds: int = 60
    file_size_bytes: int = 64 << 20
    open_files: int = 256
    processes: int | None = 16

    def __post_init__(self) -> None:
        for name in ("memory_bytes", "cpu_seconds", "file_size_bytes", "open_files"):
            value = getattr(self, name)
            if not isinstance(value, int) or value <= 0:
                raise ValueError(f"Limits.{name} must be a positive int, not {value!r}")
        if self.processes is not None and (not isinstance(self.processes, int)
                                           or self.processes < 0):
            raise ValueError(f"Limits.processes must be an int >= 0 or None, "
                             f"not {self.processes!r}")


# --- system calls -----------------------------------------------------------------------------
class _RulesetAttr(ctypes.Structure):
    _fields_ = [("handled_access_fs", ctypes.c_uint64), ("handled_access_net", ctypes.c_uint64),
                ("scoped", ctypes.c_uint64)]


class _PathBeneathAttr(ctypes.Structure):
    _pack_ = 1  # the kernel's struct is __attribute__((packed)): 12 bytes
    _fields_ = [("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]


class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _CapData(ctypes.Structure):
    _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32),
                ("inheritable", ctypes.c_uint32)]


@functools.cache
def _libc() -> ctypes.CDLL:
    libc = ctypes.CDLL(None, use_errno=True)
    libc.syscall.restype = ctypes.c_long
    return libc


def _prctl(option: int, arg: int) -> int:
    """prctl with every argument widened to unsigned long, as the kernel reads them."""
    ulong = ctypes.c_ulong
    return _libc().prctl(ctypes.c_int(option), ulong(arg), ulong(0), ulong(0), ulong(0))


def _syscall(name: str, *args: object) -> int:
    """Call a Landlock system call; raise OSError with the kernel's errno on failure."""
    result = _libc().syscall(ctypes.c_long(_SYSCALLS[name]), *args)
    if result < 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"landlock_{name}: {os.strerror(errno)}")
    return result


@functools.cache
def _landlock_abi() -> int:
    """The kernel's Landlock ABI version, or 0 when Landlock is missing, disabled or blocked."""
    if sys.platform != "linux" or platform.machine().lower() not in _GENERIC_MACHINES:
        return 0
    try:
        return _syscall("create_ruleset", None, ctypes.c_size_t(0),
                        ctypes.c_uint32(_CREATE_RULESET_VERSION))
    except OSError:  # ENOSYS (old kernel, seccomp), EOPNOTSUPP (disabled at boot)
        return 0


def _name(abi: int) -> str:
    return "landlock" if abi >= 4 else "landlock-fs" if abi >= 1 else "none"


_landlock_abi()  # asked once at import, in the pre-loaded parent, so that forks inherit it


def detect() -> str:
    """Which sandbox this kernel offers: "landlock" (with TCP rules), "landlock-fs" or "none"."""
    return _name(_landlock_abi())


def _handled_fs(abi: int) -> int:
    rights = (EXECUTE | WRITE_FILE | READ_FILE | READ_DIR | REMOVE_DIR | REMOVE_FILE | MAKE_CHAR
              | MAKE_DIR | MAKE_REG | MAKE_SOCK | MAKE_FIFO | MAKE_BLOCK | MAKE_SYM)
    if abi >= 2:
        rights |= REFER
    if abi >= 3:
        rights |= TRUNCATE
    if abi >= 5:
        rights |= IOCTL_DEV
    return rights


# --- which paths ------------------------------------------------------------------------------
def _has_packages_component(path: str) -> bool:
    return any(part in ("site-packages", "dist-packages") for part in Path(path).parts)


def _python_readable() -> list[str]:
    """The Python installation: prefixes, stdlib, lib-dynload and the package folders.

    Only ``sys.path`` entries at or beneath a ``site-packages``/``dist-packages`` folder are
    taken, so neither ``''`` (the working directory) nor an editable install's source tree
    (added to ``sys.path`` by a ``.pth`` file) becomes readable. Found without ``sysconfig``,
    whose first use imports a module: this runs where the child may no longer find one.
    """
    paths = {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix,
             os.path.dirname(os.__file__)}  # the stdlib
    try:
        paths.update(site.getsitepackages())
    except AttributeError:  # an old virtualenv's own site module
        pass
    for entry in sys.path:
        if entry and (_has_packages_component(entry)
                      or os.path.basename(entry.rstrip("/")) == "lib-dynload"):
            paths.add(entry)
    return sorted({os.path.realpath(p) for p in paths if p})


def _is_ancestor_or_same(path: str, of: str) -> bool:
    return of == path or of.startswith(path.rstrip("/") + "/")


def _readable(workdir: str, extra: Iterable[str]) -> list[str]:
    """Read-only paths, never "/" nor a folder holding the workdir (its siblings may be other
    students' workdirs, or the course itself when a virtualenv lives there)."""
    wanted = [os.path.realpath(p) for p in (*SYSTEM_READABLE, *_python_readable(), *extra)]
    kept: list[str] = []
    for path in wanted:
        if path == "/" or _is_ancestor_or_same(path, workdir) or path in kept:
            continue
        kept.append(path)
    return kept


def exposed(paths: Iterable[Path | str]) -> list[str]:
    """Which of ``paths`` a confined child could still read: those inside the Python
    installation (a non-editable install of the course's own ``solutions``, say)."""
    readable = _readable("/nonexistent/workdir", ())
    found = []
    for path in paths:
        real = os.path.realpath(path)
        if any(_is_ancestor_or_same(r, real) for r in readable):
            found.append(real)
    return found


# --- applying it ------------------------------------------------------------------------------
def _open_path(path: str) -> int | None:
    try:
        return os.open(path, os.O_PATH | os.O_CLOEXEC)
    except OSError:  # missing (or unreachable) paths are skipped
        return None


def _add_path_rule(ruleset: int, path: str, rights: int) -> bool:
    """Allow ``rights`` beneath ``path``; file paths get only file rights. False if skipped."""
    fd = _open_path(path)
    if fd is None:
        return False
    try:
        if not stat.S_ISDIR(os.fstat(fd).st_mode):
            rights &= _FILE_RIGHTS
        attr = _PathBeneathAttr(allowed_access=rights, parent_fd=fd)
        _syscall("add_rule", ctypes.c_int(ruleset), ctypes.c_int(_RULE_PATH_BENEATH),
                 ctypes.byref(attr), ctypes.c_uint32(0))
        return True
    finally:
        os.close(fd)


def _apply_landlock(abi: int, writable: Sequence[str], readable: Sequence[str]) -> None:
    """Create the ruleset, add the rules and restrict the current process (irreversible)."""
    handled = _handled_fs(abi)
    attr = _RulesetAttr(handled_access_fs=handled)
    size = 8
    if abi >= 4:
        attr.handled_access_net = NET_BIND_TCP | NET_CONNECT_TCP  # and no net rule: all denied
        size = 16
    if abi >= 6:
        attr.scoped = SCOPE_ABSTRACT_UNIX_SOCKET | SCOPE_SIGNAL
        size = 24
    ruleset = _syscall("create_ruleset", ctypes.byref(attr), ctypes.c_size_t(size),
                       ctypes.c_uint32(0))
    try:
        # Creating device nodes is left out: as root, a block device made in the workdir would
        # open the raw disk beneath every other rule.
        for path in writable:
            _add_path_rule(ruleset, path, handled & ~(MAKE_CHAR | MAKE_BLOCK))
        for path in readable:
            _add_path_rule(ruleset, path, _READ & handled)
        for path, rights in DEVICES.items():
            _add_path_rule(ruleset, path, rights & handled)
        _syscall("restrict_self", ctypes.c_int(ruleset), ctypes.c_uint32(0))
    finally:
        os.close(ruleset)


def _tasks_of_user(uid: int) -> int:
    """Processes and threads running as ``uid`` now, which is what RLIMIT_NPROC counts.

    One stat per process: ``/proc/PID/task`` is owned by the process's effective uid (the
    real one, which the kernel counts, differs only for set-uid programs) and has
    2 + threads links.
    """
    count = 0
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                info = os.stat(f"/proc/{entry.name}/task")
            except OSError:  # ended meanwhile
                continue
            if info.st_uid == uid:
                count += max(info.st_nlink - 2, 1)
    return count


def _setrlimit(which: int, value: int, grace: int = 0) -> None:
    """soft = value, hard = value + grace, both capped at the current hard limit (raising it
    needs privilege)."""
    _, hard = resource.getrlimit(which)
    soft, new_hard = value, value + grace
    if hard != resource.RLIM_INFINITY:
        soft, new_hard = min(soft, hard), min(new_hard, hard)
    resource.setrlimit(which, (soft, new_hard))


def _apply_rlimits(limits: Limits) -> None:
    nproc = None
    if limits.processes is not None and os.path.isdir("/proc"):
        # Counted before any other limit lands; for root the kernel ignores it (see Limits).
        nproc = _tasks_of_user(os.getuid()) + limits.processes
    _setrlimit(resource.RLIMIT_AS, limits.memory_bytes)
    # At the soft limit the kernel sends SIGXCPU (the runner reports "timeout"); with soft ==
    # hard it would send SIGKILL instead, so the hard limit, for a child that ignores
    # SIGXCPU, comes a second later.
    _setrlimit(resource.RLIMIT_CPU, limits.cpu_seconds, grace=1)
    _setrlimit(resource.RLIMIT_FSIZE, limits.file_size_bytes)
    _setrlimit(resource.RLIMIT_NOFILE, limits.open_files)
    _setrlimit(resource.RLIMIT_CORE, 0)
    if nproc is not None:
        _setrlimit(resource.RLIMIT_NPROC, nproc)


def _drop_capabilities() -> None:
    """When run as root, give up every capability (bounding, ambient, effective, permitted).

    Landlock does not stop root's other powers (reboot, raw sockets, loading modules, mknod,
    changing the clock); with no capabilities and no_new_privs, nothing student code executes
    can get them back either. No-op for an unprivileged user.
    """
    try:
        with open("/proc/self/status") as handle:
            permitted = next((line.split()[1] for line in handle if line.startswith("CapPrm:")),
                             "0")
        if int(permitted, 16) == 0:
            return
        with open("/proc/sys/kernel/cap_last_cap") as handle:
            last = int(handle.read())
    except (OSError, ValueError):
        last = 63
    libc = _libc()
    _prctl(_PR_CAP_AMBIENT, _PR_CAP_AMBIENT_CLEAR_ALL)
    for cap in range(last + 1):
        _prctl(_PR_CAPBSET_DROP, cap)  # EPERM without CAP_SETPCAP: capset suffices
    header = _CapHeader(version=_LINUX_CAPABILITY_VERSION_3, pid=0)
    data = (_CapData * 2)()
    if libc.capset(ctypes.byref(header), data) != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"capset: {os.strerror(errno)}")


# --- a process cap for root: a pids cgroup (v1 or v2) --------------------------------------------
_CGROUP_ROOTS = ("/sys/fs/cgroup/pids", "/sys/fs/cgroup")


def _cgroup_name(pid: int) -> str:
    return f"backprop-kit-{pid}"


def _join_pids_cgroup(limit: int) -> bool:
    """Put this process in a new cgroup whose pids.max is ``limit`` (root only, best effort)."""
    name = _cgroup_name(os.getpid())
    for root in _CGROUP_ROOTS:
        path = os.path.join(root, name)
        try:
            os.mkdir(path)
        except OSError:
            continue
        try:
            with open(os.path.join(path, "pids.max"), "w") as handle:
                handle.write(str(limit))
            with open(os.path.join(path, "cgroup.procs"), "w") as handle:
                handle.write(str(os.getpid()))
            return True
        except OSError:
            try:
                os.rmdir(path)
            except OSError:
                pass
    return False


def release_process_cap(pid: int) -> None:
    """Remove the cgroup of a child that has exited (with all its processes); called by the
    parent, which is not confined."""
    for root in _CGROUP_ROOTS:
        try:
            os.rmdir(os.path.join(root, _cgroup_name(pid)))
        except OSError:
            pass


_CLONE_NEWNET = 0x40000000
_CLONE_NEWUSER = 0x10000000


def _isolate_network() -> bool:
    """Move into a new, empty network namespace: no interface but a loopback that is down, so
    no UDP either (Landlock's network rules cover TCP only). As root that is one unshare;
    otherwise it needs an unprivileged user namespace, which some systems forbid (then only
    Landlock's TCP rules apply). Needs a single-threaded process, as a fresh fork is."""
    libc = _libc()
    for flags in (_CLONE_NEWNET, _CLONE_NEWUSER | _CLONE_NEWNET):
        if libc.unshare(flags) == 0:
            return True
    return False


def _private_tmp(workdir: Path) -> str:
    """Make ``workdir/.tmp`` the only temp folder: TMPDIR/TEMP/TMP and tempfile's cache."""
    tmp = workdir / ".tmp"
    tmp.mkdir(mode=0o700, exist_ok=True)
    for name in ("TMPDIR", "TEMP", "TMP"):
        os.environ[name] = str(tmp)
    tempfile.tempdir = str(tmp)  # the parent may have cached /tmp already
    return str(tmp)


def confine(workdir: Path, *, limits: Limits = Limits(), extra_readable: Sequence[Path] = (),
            require: bool = True, network_namespace: bool = True) -> str:
    """Confine the CURRENT process for good and return what was applied.

    Meant for a freshly forked child, before student code runs. Returns "landlock" (files and
    TCP), "landlock-fs" (files only, kernels with Landlock ABI 1-3) or "none" (nothing
    available and ``require`` is False: only no_new_privs, the rlimits and dropping root's
    capabilities were applied), with "+netns" added when the process also moved into an
    empty network namespace (no UDP, no loopback). With ``require`` True and no Landlock, raises
    :class:`SandboxUnavailable` before changing anything; if it raises later, the process
    is partly confined and should exit.
    """
    abi = _landlock_abi()
    if abi == 0 and require:
        raise SandboxUnavailable(
            "Landlock is not available (Linux 5.13+ with Landlock enabled is needed); "
            "refusing to run student code unconfined")
    workdir_real = os.path.realpath(workdir)
    tmp = os.path.realpath(_private_tmp(Path(workdir_real)))
    readable = _readable(workdir_real, (str(p) for p in extra_readable))
    linux = sys.platform == "linux"
    netns = linux and network_namespace and _isolate_network()
    if linux and os.geteuid() == 0 and limits.processes is not None:
        _join_pids_cgroup(limits.processes + 1)  # RLIMIT_NPROC does not bind root
    if linux and _prctl(PR_SET_NO_NEW_PRIVS, 1) != 0:
        raise SandboxUnavailable(f"prctl(PR_SET_NO_NEW_PRIVS): {os.strerror(ctypes.get_errno())}")
    if abi:
        try:
            _apply_landlock(abi, [workdir_real, tmp], readable)
        except OSError as error:
            if require:
                raise SandboxUnavailable(f"could not apply Landlock: {error}") from error
            abi = 0
    _apply_rlimits(limits)
    try:
        if linux:
            _drop_capabilities()
    except OSError as error:
        raise SandboxUnavailable(f"could not drop root's capabilities: {error}") from error
    return _name(abi) + ("+netns" if netns and abi else "")

