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
import errno
import functools
import os
import platform
import resource
import site
import stat
import sys
import tempfile
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from autograder.errors import BackpropKitError, UsageError

__all__ = ["Limits", "SandboxUnavailable", "confine", "detect", "exposed", "policy",
           "release_process_cap"]

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

SYSTEM_READABLE = ("/usr", "/lib", "/lib64", "/lib32", "/bin", "/sbin", "/sys/devices/system/cpu")
# What Python, numpy, sympy and matplotlib read under /etc (the loader's cache, time zone, names
# of users and MIME types, fonts); never the whole of /etc (/etc/shadow, keys, tokens).
ETC_READABLE = ("/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/ld.so.conf.d", "/etc/localtime",
                "/etc/timezone", "/etc/nsswitch.conf", "/etc/passwd", "/etc/group",
                "/etc/mime.types", "/etc/fonts", "/etc/matplotlibrc", "/etc/alternatives",
                "/etc/os-release", "/etc/host.conf", "/etc/hosts")
# Under /proc only the child's own /proc/<pid> (through /proc/self) and a few system-wide
# figures; never another process's command line, environment or memory, nor the list of pids.
PROC_READABLE = ("/proc/self", "/proc/cpuinfo", "/proc/meminfo", "/proc/stat",
                 "/proc/loadavg", "/proc/uptime", "/proc/version", "/proc/filesystems",
                 "/proc/sys/kernel/osrelease", "/proc/sys/vm/overcommit_memory")
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
    disk_bytes: int = 256 << 20
    disk_files: int = 10_000

    def __post_init__(self) -> None:
        for name in ("memory_bytes", "cpu_seconds", "file_size_bytes", "open_files",
                     "disk_bytes", "disk_files"):
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
        code = ctypes.get_errno()
        raise OSError(code, f"landlock_{name}: {os.strerror(code)}")
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


def policy(allow_unsandboxed: bool) -> tuple[bool, str]:
    """(require_sandbox, the sandbox found): refuse to run student code unconfined unless told
    to. With ``allow_unsandboxed`` and no sandbox, the caller warns the user."""
    found = detect()
    if found == "none" and not allow_unsandboxed:
        raise UsageError(
            "no sandbox is available on this machine (Landlock needs Linux 5.13+); student "
            "code could read the course's files. Re-run with --allow-unsandboxed to run it "
            "anyway; results.json will record \"sandbox\": \"none\".")
    return found != "none", found


UNSANDBOXED_WARNING = "warning: running notebooks WITHOUT a sandbox (--allow-unsandboxed)"


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
    return _python_readable_of(tuple(sys.path))


@functools.cache
def _python_readable_of(path_entries: tuple[str, ...]) -> list[str]:
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
    for entry in path_entries:
        if entry and (_has_packages_component(entry)
                      or os.path.basename(entry.rstrip("/")) == "lib-dynload"):
            paths.add(entry)
    return sorted({os.path.realpath(p) for p in paths if p})


def _is_ancestor_or_same(path: str, of: str) -> bool:
    return of == path or of.startswith(path.rstrip("/") + "/")


@functools.cache
def _fixed_readable(path_entries: tuple[str, ...]) -> tuple[str, ...]:
    """The read-only paths that are the same for every child, resolved (once, in the runner:
    see :func:`ready_for_children`). /proc's are not among them: /proc/self resolves to the
    process that asks."""
    return tuple(os.path.realpath(p) for p in (*SYSTEM_READABLE, *ETC_READABLE,
                                               *_python_readable_of(path_entries)))


def _readable(workdir: str, extra: Iterable[str]) -> list[str]:
    """Read-only paths, never "/" nor a folder holding the workdir (its siblings may be other
    students' workdirs, or the course itself when a virtualenv lives there)."""
    wanted = [*_fixed_readable(tuple(sys.path)),
              *(os.path.realpath(p) for p in (*PROC_READABLE, *extra))]
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


def _nproc_limit(limits: Limits) -> int | None:
    """What RLIMIT_NPROC must be: counted before Landlock hides /proc (root: ignored)."""
    if limits.processes is not None and os.path.isdir("/proc"):
        return _tasks_of_user(os.getuid()) + limits.processes
    return None


def _apply_rlimits(limits: Limits, nproc: int | None) -> None:
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
    except (OSError, ValueError):
        pass  # unknown: drop them all
    libc = _libc()
    _prctl(_PR_CAP_AMBIENT, _PR_CAP_AMBIENT_CLEAR_ALL)
    for cap in range(_last_capability() + 1):
        _prctl(_PR_CAPBSET_DROP, cap)  # EPERM without CAP_SETPCAP: capset suffices
    header = _CapHeader(version=_LINUX_CAPABILITY_VERSION_3, pid=0)
    data = (_CapData * 2)()
    if libc.capset(ctypes.byref(header), data) != 0:
        code = ctypes.get_errno()
        raise OSError(code, f"capset: {os.strerror(code)}")


@functools.cache
def _last_capability() -> int:
    try:
        with open("/proc/sys/kernel/cap_last_cap") as handle:
            return int(handle.read())
    except (OSError, ValueError):
        return 63


# --- a process cap for root: a pids cgroup (v1 or v2) --------------------------------------------
_CGROUP_ROOTS = ("/sys/fs/cgroup/pids", "/sys/fs/cgroup")


def _cgroup_name(pid: int) -> str:
    return f"backprop-kit-{pid}"


def _make_cgroup(path: str) -> bool:
    """Create the cgroup ``path``, first removing a stale one of the same name (an earlier
    supervisor of the same pid whose removal came too early), and only where it is a real
    cgroup: on a plain folder (``/sys/fs/cgroup`` is a tmpfs on some machines) writing
    ``pids.max`` would succeed and cap nothing."""
    try:
        os.rmdir(path)  # a stale one is empty; a busy or plain one stays, and mkdir refuses
    except OSError:
        pass
    try:
        os.mkdir(path)
    except OSError:
        return False
    if os.path.exists(os.path.join(path, "cgroup.procs")):
        return True
    try:
        os.rmdir(path)
    except OSError:
        pass
    return False


def _join_pids_cgroup(limit: int | None, cap_id: int) -> bool:
    """Put this process in a new cgroup whose pids.max is ``limit`` (root only, best effort),
    remembered in ``_JOINED``."""
    name = _cgroup_name(cap_id)
    for root in _CGROUP_ROOTS:
        path = os.path.join(root, name)
        if not _make_cgroup(path):
            continue
        try:
            _set_pids_max(path, limit)
            with open(os.path.join(path, "cgroup.procs"), "r+") as handle:
                handle.write(str(os.getpid()))
            _JOINED[cap_id] = path
            return True
        except OSError:
            try:
                os.rmdir(path)
            except OSError:
                pass
    return False


def _set_pids_max(path: str, limit: int | None) -> None:
    with open(os.path.join(path, "pids.max"), "r+") as handle:  # "r+": the kernel's own file
        handle.write("max" if limit is None else str(limit))


_JOINED: dict[int, str] = {}  # cap id -> the cgroup this process joined before confine()


def prepare_process_cap(cap_id: int) -> bool:
    """Join the pids cgroup of ``cap_id`` now, capped as by default (root only, best effort).

    Moving a process into a cgroup waits on the kernel (about 15 ms here: most of what
    confining a child costs), so a child waiting for its request does it then, off the
    notebook's time; :func:`confine` then only sets the request's cap."""
    if sys.platform != "linux" or os.geteuid() != 0:
        return False
    default = Limits().processes
    return _join_pids_cgroup(None if default is None else default + 1, cap_id)


def ready_for_children() -> None:
    """In the runner, before it forks: work out what confining a child needs that is the same
    for every child (the installation's resolved paths, the seccomp program, the number of
    capabilities to drop), which each child's :func:`confine` otherwise did again (about
    0.8 ms of a notebook's time before its first cell)."""
    _fixed_readable(tuple(sys.path))
    _seccomp_filters(platform.machine())
    _last_capability()


def prepare(cap_id: int) -> None:
    """What a child waiting for its request can do for :func:`confine` before any request
    or student code, off the notebook's time: join its process cap, leave the network (as
    root: one unshare, about 4 ms here; unprivileged it needs a user namespace, which
    changes what the rest of confining can do, so that stays in :func:`confine`) and find
    which paths are the Python installation's and whether ``nobody`` may read them."""
    prepare_process_cap(cap_id)
    if sys.platform == "linux" and os.geteuid() == 0 and _libc().unshare(_CLONE_NEWNET) == 0:
        _NETWORK_LEFT.append(True)
    can_drop_to_nobody()


_NETWORK_LEFT: list[bool] = []  # this process left the network in prepare()


def _cap_processes(limit: int | None, cap_id: int) -> bool:
    """Cap this process and its descendants at ``limit`` tasks (None: uncapped, the cgroup
    joined ahead lifted): in the cgroup joined ahead (:func:`prepare_process_cap`), else in a
    new one. Whether a cap holds."""
    if cap_id in _JOINED:
        try:
            _set_pids_max(_JOINED[cap_id], limit)
        except OSError:
            return False
        return limit is not None
    return limit is not None and _join_pids_cgroup(limit, cap_id)


def release_process_cap(pid: int, wait: float = 1.0) -> None:
    """Remove the cgroup made with ``process_cap_id=pid`` once its processes have all exited;
    called by the parent, which is not confined. Killed processes leave the cgroup a moment
    after they are reaped, so a busy cgroup is retried for up to ``wait`` seconds."""
    until = time.monotonic() + wait
    for root in _CGROUP_ROOTS:
        path = os.path.join(root, _cgroup_name(pid))
        while True:
            try:
                os.rmdir(path)
            except FileNotFoundError:
                break
            except OSError as error:  # EBUSY: processes still leaving; else not ours to wait
                if error.errno == errno.EBUSY and time.monotonic() < until:
                    time.sleep(0.005)
                    continue
            break


_CLONE_NEWNET = 0x40000000
_CLONE_NEWUSER = 0x10000000


def _isolate_network() -> bool:
    """Move into a new, empty network namespace: no interface but a loopback that is down, so
    no UDP either (Landlock's network rules cover TCP only). As root that is one unshare;
    otherwise it needs an unprivileged user namespace, which some systems forbid (then only
    Landlock's TCP rules apply). Needs a single-threaded process, as a fresh fork is. Done
    already when :func:`prepare` left the network."""
    if _NETWORK_LEFT:
        return True
    libc = _libc()
    for flags in (_CLONE_NEWNET, _CLONE_NEWUSER | _CLONE_NEWNET):
        if libc.unshare(flags) == 0:
            return True
    return False


# --- a cap on what a submission writes: a size-limited tmpfs (root) -----------------------------
_CLONE_NEWNS = 0x00020000
_MS_REC = 0x4000
_MS_PRIVATE = 1 << 18
_MS_NOSUID = 2
_MS_NODEV = 4


def _mount(source: str, target: str, fstype: str | None, flags: int, data: str | None) -> bool:
    def enc(value: str | None) -> bytes | None:
        return value.encode() if value is not None else None

    return _libc().mount(enc(source), enc(target), enc(fstype), ctypes.c_ulong(flags),
                         enc(data)) == 0


def _capped_workdir(workdir: str, limits: Limits, owner: int | None) -> bool:
    """Replace the workdir, in a private mount namespace, by a tmpfs of at most
    ``disk_bytes`` and ``disk_files`` holding a copy of its files (needs CAP_SYS_ADMIN, so
    root). False if that is not possible: the supervisor then watches the workdir instead."""
    libc = _libc()
    if libc.unshare(ctypes.c_int(_CLONE_NEWNS)) != 0:
        return False
    if not _mount("none", "/", None, _MS_REC | _MS_PRIVATE, None):
        return False
    old = os.open(workdir, os.O_RDONLY | os.O_DIRECTORY)
    inside = os.path.realpath(os.getcwd()) == workdir
    try:
        options = f"size={limits.disk_bytes},nr_inodes={limits.disk_files},mode=0700"
        if not _mount("bpk-workdir", workdir, "tmpfs", _MS_NOSUID | _MS_NODEV, options):
            return False
        for entry in os.scandir(old):
            if entry.name == ".output" or not entry.is_file(follow_symlinks=False):
                continue
            src = os.open(entry.name, os.O_RDONLY | os.O_NOFOLLOW, dir_fd=old)
            try:
                with open(os.path.join(workdir, entry.name), "wb") as dst:
                    while chunk := os.read(src, 1 << 20):
                        dst.write(chunk)
            finally:
                os.close(src)
        if inside:  # the old working directory is the folder beneath the mount
            os.chdir(workdir)
        if owner is not None:
            for top, dirs, files in os.walk(workdir):
                for name in [*dirs, *files, "."]:
                    os.chown(os.path.join(top, name), owner, owner, follow_symlinks=False)
        return True
    finally:
        os.close(old)


# --- running as an unprivileged user when graded as root --------------------------------------
NOBODY = 65534


def _readable_by(uid: int, gid: int, path: str) -> bool:
    """Whether ``uid`` could reach and read ``path`` (owner, group and other bits)."""
    def allows(info: os.stat_result, bit: int) -> bool:
        if info.st_uid == uid:
            return bool(info.st_mode & (bit << 6))
        if info.st_gid == gid:
            return bool(info.st_mode & (bit << 3))
        return bool(info.st_mode & bit)

    current = "/"
    for part in Path(path).parts[1:]:
        try:
            if not allows(os.stat(current), 1):
                return False
        except OSError:
            return False
        current = os.path.join(current, part)
    try:
        return allows(os.stat(path), 4)
    except OSError:
        return False


@functools.cache
def can_drop_to_nobody() -> bool:
    """Whether the Python installation is readable by ``nobody`` (it is not when it lives in
    root's 0700 home, as pyenv puts it): only then may a child graded as root become nobody."""
    return all(_readable_by(NOBODY, NOBODY, p) for p in [sys.executable, *_python_readable()])


def _become_nobody() -> None:
    os.setgroups([])
    os.setgid(NOBODY)
    os.setuid(NOBODY)


# --- seccomp: the system calls grading never needs ------------------------------------------
_AUDIT_ARCH = {"x86_64": 0xC000003E, "amd64": 0xC000003E, "aarch64": 0xC00000B7,
               "arm64": 0xC00000B7}
_DENIED_SYSCALLS = {  # name: (x86_64, aarch64)
    "io_uring_setup": (425, 425), "io_uring_enter": (426, 426), "io_uring_register": (427, 427),
    "keyctl": (250, 219), "add_key": (248, 217), "request_key": (249, 218),
    "ptrace": (101, 117), "process_vm_readv": (310, 270), "process_vm_writev": (311, 271),
    "mount": (165, 40), "umount2": (166, 39), "pivot_root": (155, 41), "open_tree": (428, 428),
    "move_mount": (429, 429), "fsopen": (430, 430), "fsconfig": (431, 431),
    "fsmount": (432, 432), "fspick": (433, 433), "mount_setattr": (442, 442),
    "init_module": (175, 105), "finit_module": (313, 273), "delete_module": (176, 106),
    "kexec_load": (246, 104), "kexec_file_load": (320, 294), "bpf": (321, 280),
    "perf_event_open": (298, 241), "setns": (308, 268), "reboot": (169, 142),
    "swapon": (167, 224), "swapoff": (168, 225), "userfaultfd": (323, 282),
    "open_by_handle_at": (304, 265), "acct": (163, 89),
}
_CLONE = (56, 220)
_UNSHARE = (272, 97)
_CLONE3 = 435
_SOCKET = (41, 198)
_SOCKETPAIR = (53, 199)
_KILL = (62, 129)
_AF_UNIX = 1
_SOCK_TYPE_MASK = 0xF  # the type without SOCK_NONBLOCK and SOCK_CLOEXEC
_SOCK_DGRAM = 2
_X32_BIT = 0x40000000
_EPERM, _ENOSYS = 1, 38
_RET_ALLOW = 0x7FFF0000
_RET_ERRNO = 0x00050000
_PR_SET_SECCOMP = 22
_SECCOMP_MODE_FILTER = 2


class _SockFilter(ctypes.Structure):
    _fields_ = [("code", ctypes.c_uint16), ("jt", ctypes.c_uint8), ("jf", ctypes.c_uint8),
                ("k", ctypes.c_uint32)]


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.POINTER(_SockFilter))]


def seccomp_program(machine: str) -> list[tuple[int, int, int, int]] | None:
    """The BPF program (code, jt, jf, k) for ``machine``, or None where it is not known.

    A call from another architecture (32-bit or x32 on x86_64) fails with EPERM; the listed
    calls fail with EPERM; clone3 fails with ENOSYS, so that the C library falls back to clone,
    whose flags can be read; clone and unshare fail with EPERM when asked for a new user
    namespace (which would bring back every capability, inside it).

    No UNIX socket is reachable by path (Landlock does not cover connecting to one, and a
    warm grader's or a desktop's sockets are such): ``socket(AF_UNIX, ...)`` fails with EPERM,
    and so does a datagram ``socketpair`` (a datagram socket may ``sendto`` or ``connect`` to
    any path). A stream pair stays (asyncio and ``multiprocessing.Pipe`` use one): it is
    connected to its twin for good. ``kill(0, …)`` (the caller's process group) fails with
    EPERM: the grading child's parent is outside its PID namespace, where ``getppid()`` is 0,
    so code that signals its parent would signal itself instead; signalling a parent one may
    not reach fails so. Nothing the grading child imports needs more (numpy,
    sympy, matplotlib, IPython's shell); the C library's lookups (nscd, systemd's user
    database) fall back to the files when their socket is refused."""
    arch = _AUDIT_ARCH.get(machine.lower())
    if arch is None:
        return None
    col = 0 if arch == 0xC000003E else 1
    ld, jeq, jge, jset, ret = 0x20, 0x15, 0x35, 0x45, 0x06
    eperm = _RET_ERRNO | _EPERM
    prog = [(ld, 0, 0, 4), (jeq, 1, 0, arch), (ret, 0, 0, eperm), (ld, 0, 0, 0)]
    if col == 0:
        prog += [(jge, 0, 1, _X32_BIT), (ret, 0, 0, eperm)]
    for numbers in _DENIED_SYSCALLS.values():
        prog += [(jeq, 0, 1, numbers[col]), (ret, 0, 0, eperm)]
    alu_and = 0x54
    prog += [(jeq, 0, 4, _SOCKET[col]), (ld, 0, 0, 16),  # the domain
             (jeq, 0, 1, _AF_UNIX), (ret, 0, 0, eperm), (ret, 0, 0, _RET_ALLOW)]
    prog += [(jeq, 0, 5, _SOCKETPAIR[col]), (ld, 0, 0, 24), (alu_and, 0, 0, _SOCK_TYPE_MASK),
             (jeq, 0, 1, _SOCK_DGRAM), (ret, 0, 0, eperm), (ret, 0, 0, _RET_ALLOW)]
    prog += [(jeq, 0, 4, _KILL[col]), (ld, 0, 0, 16),  # the pid (its low 32 bits: a pid_t)
             (jeq, 0, 1, 0), (ret, 0, 0, eperm), (ret, 0, 0, _RET_ALLOW)]
    prog += [(jeq, 0, 1, _CLONE3), (ret, 0, 0, _RET_ERRNO | _ENOSYS),
             (jeq, 1, 0, _CLONE[col]), (jeq, 0, 3, _UNSHARE[col]),
             (ld, 0, 0, 16), (jset, 0, 1, _CLONE_NEWUSER), (ret, 0, 0, eperm),
             (ret, 0, 0, _RET_ALLOW)]
    return prog


@functools.cache
def _seccomp_filters(machine: str) -> Any:
    """The program as the kernel takes it (built once, in the runner: see
    :func:`ready_for_children`), or None where it is not known."""
    prog = seccomp_program(machine)
    if prog is None:
        return None
    return (_SockFilter * len(prog))(*[_SockFilter(*insn) for insn in prog])


def _apply_seccomp() -> bool:
    """Install the filter on this process (after no_new_privs); False where unknown."""
    filters = _seccomp_filters(platform.machine())
    if filters is None or sys.platform != "linux":
        return False
    fprog = _SockFprog(len(filters), filters)
    result = _libc().prctl(ctypes.c_int(_PR_SET_SECCOMP), ctypes.c_ulong(_SECCOMP_MODE_FILTER),
                           ctypes.byref(fprog), ctypes.c_ulong(0), ctypes.c_ulong(0))
    if result != 0:
        code = ctypes.get_errno()
        raise OSError(code, f"seccomp: {os.strerror(code)}")
    return True


def _private_tmp(workdir: Path) -> str:
    """Make ``workdir/.tmp`` the only temp folder: TMPDIR/TEMP/TMP and tempfile's cache."""
    tmp = workdir / ".tmp"
    tmp.mkdir(mode=0o700, exist_ok=True)
    for name in ("TMPDIR", "TEMP", "TMP"):
        os.environ[name] = str(tmp)
    tempfile.tempdir = str(tmp)  # the parent may have cached /tmp already
    return str(tmp)


_PINNED: list[int] = []  # an open /proc/self keeps the inode its Landlock rule names


def confine(workdir: Path, *, limits: Limits = Limits(), extra_readable: Sequence[Path] = (),
            require: bool = True, network_namespace: bool = True,
            namespaces: Sequence[str] = (), process_cap_id: int | None = None,
            drop_user: bool = True, seccomp: bool = True, write_cap: bool = True) -> str:
    """Confine the CURRENT process for good and return what was applied.

    Meant for a freshly forked child, before student code runs. The result starts with
    "landlock" (files and TCP), "landlock-fs" (files only, kernels with Landlock ABI 1-3) or
    "none" (nothing available and ``require`` is False: only no_new_privs, the rlimits and
    dropping root's capabilities were applied), then "+netns" (an empty network namespace: no
    UDP, no loopback), the ``namespaces`` the caller already entered (e.g. "ipcns", "pidns"),
    "+seccomp" (the system call filter), "+tmpfs" (writes capped by a size-limited tmpfs) and,
    when run as root, "+nobody" (became the unprivileged user) or "+root" (stayed root, with
    no capabilities: the Python installation is not readable by nobody), then "+uncapped" when
    it stayed root and no pids cgroup could cap its processes (a fork bomb is then held only by
    the machine's own limits: the instructor should know). With ``require`` True and no
    Landlock, raises :class:`SandboxUnavailable` before changing anything; if it raises
    later, the process is partly confined and should exit.
    """
    abi = _landlock_abi()
    if abi == 0 and require:
        raise SandboxUnavailable(
            "Landlock is not available (Linux 5.13+ with Landlock enabled is needed); "
            "refusing to run student code unconfined")
    workdir_real = os.path.realpath(workdir)
    linux = sys.platform == "linux"
    root = linux and os.geteuid() == 0
    nobody = root and drop_user and can_drop_to_nobody()
    tmpfs = linux and write_cap and _capped_workdir(workdir_real, limits,
                                                    NOBODY if nobody else None)
    nobody = nobody and tmpfs  # nobody could not write in the grader's 0700 workdir
    tmp = os.path.realpath(_private_tmp(Path(workdir_real)))
    if nobody:
        os.chown(tmp, NOBODY, NOBODY)
    readable = _readable(workdir_real, (str(p) for p in extra_readable))
    pinned = _open_path("/proc/self")
    if pinned is not None:
        _PINNED.append(pinned)
    netns = linux and network_namespace and _isolate_network()
    cap_id = process_cap_id or os.getpid()
    capped = root and _cap_processes(  # RLIMIT_NPROC does not bind root
        None if limits.processes is None else limits.processes + 1, cap_id)
    uncapped = root and not nobody and limits.processes is not None and not capped
    if nobody:
        _become_nobody()
    nproc = _nproc_limit(limits)
    if linux and _prctl(PR_SET_NO_NEW_PRIVS, 1) != 0:
        raise SandboxUnavailable(f"prctl(PR_SET_NO_NEW_PRIVS): {os.strerror(ctypes.get_errno())}")
    if abi:
        try:
            _apply_landlock(abi, [workdir_real, tmp], readable)
        except OSError as error:
            if require:
                raise SandboxUnavailable(f"could not apply Landlock: {error}") from error
            abi = 0
    _apply_rlimits(limits, nproc)
    try:
        if linux:
            _drop_capabilities()
    except OSError as error:
        raise SandboxUnavailable(f"could not drop root's capabilities: {error}") from error
    try:
        filtered = linux and seccomp and _apply_seccomp()
    except OSError as error:
        raise SandboxUnavailable(f"could not apply the seccomp filter: {error}") from error
    parts = [_name(abi)]
    if abi:
        parts += ["netns"] if netns else []
        parts += list(namespaces)
        parts += ["seccomp"] if filtered else []
        parts += ["tmpfs"] if tmpfs else []
        parts += ["nobody" if nobody else "root"] if root else []
        parts += ["uncapped"] if uncapped else []
    return "+".join(parts)
