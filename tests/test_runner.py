"""The runner and its sandbox, with real forked processes: answers are captured right after
their own cell, student code cannot read the course, write outside its folder or connect out,
and nothing it starts outlives it."""

from __future__ import annotations

import json
import os
import socket
import tempfile
import time
from pathlib import Path

import pytest

from autograder.run import sandbox
from autograder.run.capture import Cell, Job
from autograder.run.client import Runner
from autograder.run.protocol import Reply, Request
from autograder.run.runner import JOB_FILE

ROOT = Path(__file__).resolve().parents[1]
SANDBOXED = sandbox.detect() != "none"
needs_sandbox = pytest.mark.skipif(not SANDBOXED, reason="no Landlock on this kernel")


@pytest.fixture(scope="module")
def runner():
    r = Runner()
    yield r
    r.close()


def run(runner: Runner, cells: list[Cell], timeout: float = 10, require: bool = True,
        workdir: Path | None = None) -> Reply:
    workdir = workdir or Path(tempfile.mkdtemp(prefix="bpk-test-"))
    (workdir / JOB_FILE).write_text(json.dumps(Job(tuple(cells)).to_json()))
    return runner.run(Request(str(workdir), timeout, {"memory_bytes": 1 << 30},
                              require and SANDBOXED))


def answer(reply: Reply, name: str):
    return reply.answers[name]["data"]


def test_answer_is_taken_right_after_its_cell(runner) -> None:
    reply = run(runner, [Cell("x = 'a + 1'", "q1", ("x",)), Cell("x = 'changed later'", "c2")])
    assert reply.status == "graded"
    assert answer(reply, "x") == {"type": "text", "text": "a + 1"}


def test_an_error_in_one_cell_does_not_stop_the_rest(runner) -> None:
    reply = run(runner, [Cell("1/0", "bad"), Cell("y = 2.5", "q", ("y",))])
    assert answer(reply, "y") == {"type": "number", "value": 2.5}
    assert any("ZeroDivisionError" in e for e in reply.errors)


def test_missing_answer_and_sys_exit(runner) -> None:
    reply = run(runner, [Cell("import sys; sys.exit(3)", "exit"), Cell("pass", "q", ("z",))])
    assert reply.answers["z"]["missing"] is True
    assert reply.status == "graded"


def test_timeout_keeps_earlier_answers(runner) -> None:
    reply = run(runner, [Cell("a = 1.0", "q", ("a",)), Cell("while True: pass", "loop")],
                timeout=2)
    assert reply.status == "timeout"
    assert answer(reply, "a") == {"type": "number", "value": 1.0}


def test_hard_exit_is_a_crash(runner) -> None:
    reply = run(runner, [Cell("b = 'x'", "q", ("b",)), Cell("import os; os._exit(0)", "exit")])
    assert reply.status == "crashed"
    assert answer(reply, "b")["text"] == "x"


def _kids(pid: int) -> list[int]:
    kids = []
    for task in Path(f"/proc/{pid}/task").glob("*/children"):
        try:
            kids += [int(p) for p in task.read_text().split()]
        except OSError:
            continue
    return kids


def _descendants(pid: int) -> list[int]:
    found, todo = [], [pid]
    while todo:
        kids = _kids(todo.pop())
        found += kids
        todo += kids
    return found


def test_forked_processes_are_killed(runner) -> None:
    code = ("import os, time\n"
            "for _ in range(5):\n"
            "    if os.fork() == 0:\n"
            "        os.setsid(); time.sleep(300); os._exit(0)\n")
    reply = run(runner, [Cell(code, "fork")])
    assert "killed 5 process(es) the notebook left running" in reply.errors
    for _ in range(100):  # the supervisor writes the reply, then exits
        if _standby_only(runner._proc.pid):
            break
        time.sleep(0.05)
    # only the runner and its standby for the next request are left: a supervisor and
    # below it the namespace's init and a child waiting for a request, neither with children
    assert _standby_only(runner._proc.pid), _descendants(runner._proc.pid)


def _standby_only(pid: int) -> bool:
    supervisors = _kids(pid)
    if len(supervisors) != 1:
        return not supervisors
    below = _kids(supervisors[0])
    return len(below) <= 2 and not any(_kids(p) for p in below)


@needs_sandbox
def test_course_files_are_unreadable(runner, tmp_path) -> None:
    secret = tmp_path / "course" / "solutions" / "secret.py"
    secret.parent.mkdir(parents=True)
    secret.write_text("ANSWER = 42")
    targets = [str(secret), str(ROOT / "solutions" / "network.py"),
               str(ROOT / "assignments" / "backprop" / "backprop.ipynb"),
               str(ROOT / "pyproject.toml")]
    code = ("got = []\n"
            f"for p in {targets!r}:\n"
            "    try:\n        got.append(open(p).read())\n"
            "    except OSError as e:\n        got.append(type(e).__name__)\n"
            f"try:\n    got.append(str(__import__('os').listdir({str(ROOT)!r})))\n"
            "except OSError as e:\n    got.append(type(e).__name__)\n"
            "try:\n    import solutions\n    got.append('imported')\n"
            "except ImportError as e:\n    got.append('ImportError')\n"
            "leak = ' '.join(got)\n")
    reply = run(runner, [Cell(code, "read", ("leak",))])
    assert open(secret).read() == "ANSWER = 42"  # readable here, outside the sandbox
    leak = answer(reply, "leak")["text"]
    assert leak.split() == ["PermissionError"] * 5 + ["ImportError"]
    assert reply.sandbox.startswith("landlock")


@needs_sandbox
def test_writes_outside_the_workdir_fail(runner, tmp_path) -> None:
    home_like = tmp_path / "home"
    home_like.mkdir()
    targets = [str(home_like / "x.txt"), str(ROOT / "written.txt"), "/tmp/bpk-escape.txt"]
    code = ("res = []\n"
            f"for p in {targets!r}:\n"
            "    try:\n        open(p, 'w').write('x'); res.append('ok')\n"
            "    except OSError as e:\n        res.append(type(e).__name__)\n"
            "open('inside.txt', 'w').write('fine'); res.append(open('inside.txt').read())\n"
            "out = ' '.join(res)\n")
    reply = run(runner, [Cell(code, "write", ("out",))])
    assert answer(reply, "out")["text"].split() == ["PermissionError"] * 3 + ["fine"]
    assert not any(Path(p).exists() for p in targets)


@needs_sandbox
def test_no_tcp_connections(runner) -> None:
    if sandbox.detect() != "landlock":
        pytest.skip("this kernel's Landlock has no TCP rules")
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    server.settimeout(0.5)
    port = server.getsockname()[1]
    code = ("import socket\n"
            "try:\n"
            f"    socket.create_connection(('127.0.0.1', {port}), timeout=2).sendall(b'hi')\n"
            "    net = 'connected'\n"
            "except OSError as e:\n    net = type(e).__name__\n")
    reply = run(runner, [Cell(code, "net", ("net",))])
    assert answer(reply, "net")["text"] == "PermissionError"
    with pytest.raises(socket.timeout):
        server.accept()
    server.close()


@needs_sandbox
@pytest.mark.skipif(os.geteuid() != 0, reason="the network is left ahead as root only")
def test_a_waiting_child_has_left_the_network_and_a_notebook_sends_no_udp(runner) -> None:
    """The child waiting for the next request is already in an empty network namespace of
    its own (made before any request, off the notebook's time); the notebook it runs can
    send no datagram, which Landlock alone would let through."""
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.bind(("127.0.0.1", 0))
    udp.settimeout(0.5)
    code = ("import socket\ns = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
            "try:\n"
            f"    s.sendto(b'leak', ('127.0.0.1', {udp.getsockname()[1]}))\n"
            "    sent = 'sent'\n"
            "except OSError as e:\n    sent = type(e).__name__\n")
    reply = run(runner, [Cell(code, "udp", ("sent",))])
    assert "netns" in reply.sandbox
    assert answer(reply, "sent")["text"] != "sent"
    with pytest.raises(socket.timeout):
        udp.recv(16)
    udp.close()
    mine = os.readlink("/proc/self/ns/net")
    waiting = []  # the standby's processes: supervisor, the namespace's init, the child
    for _ in range(100):  # the next standby is forked as the reply goes out
        waiting = [ns for p in _descendants(runner._proc.pid)
                   if (ns := _network_of(p)) is not None]
        if len(waiting) >= 3 and waiting[-1] != mine:
            break
        time.sleep(0.05)
    assert len(waiting) >= 3 and waiting[-1] != mine, waiting
    assert waiting[0] == mine  # the supervisor keeps the grader's network


def _network_of(pid: int) -> str | None:
    """The process's network namespace, or None if it ended meanwhile (the last notebook's
    processes are being torn down as the next standby starts)."""
    try:
        return os.readlink(f"/proc/{pid}/ns/net")
    except OSError:
        return None


def test_environment_is_scrubbed(runner) -> None:
    os.environ["BPK_SECRET_TOKEN"] = "s3cret"
    try:
        reply = run(runner, [Cell("import os; env = ' '.join(sorted(os.environ))", "env",
                                  ("env",))])
    finally:
        del os.environ["BPK_SECRET_TOKEN"]
    names = answer(reply, "env")["text"].split()
    assert "BPK_SECRET_TOKEN" not in names and "HOME" in names


def test_forks_are_capped_and_reaped(runner) -> None:
    """At most Limits.processes more processes (RLIMIT_NPROC, or a pids cgroup for root)."""
    from autograder.run.sandbox import Limits

    code = ("import os, time\nmade = 0\nfor _ in range(60):\n    try:\n"
            "        pid = os.fork()\n    except OSError:\n        break\n"
            "    if pid == 0:\n        time.sleep(60)\n        os._exit(0)\n    made += 1\n"
            "forks = made\n")
    reply = run(runner, [Cell(code, "bomb", ("forks",))])
    made = answer(reply, "forks")["value"]
    if SANDBOXED:
        assert made <= Limits().processes
    assert f"killed {int(made)} process(es)" in " ".join(reply.errors)


@pytest.mark.skipif(not SANDBOXED, reason="no Landlock on this kernel")
def test_a_requests_own_process_cap_holds(runner, tmp_path) -> None:
    """A waiting child joins its cap ahead of the request (as by default): the request's own
    cap replaces that one before any of the notebook runs."""
    code = ("import os, time\nmade = 0\nfor _ in range(30):\n    try:\n"
            "        pid = os.fork()\n    except OSError:\n        break\n"
            "    if pid == 0:\n        time.sleep(60)\n        os._exit(0)\n    made += 1\n"
            "forks = made\n")
    (tmp_path / JOB_FILE).write_text(json.dumps(Job((Cell(code, "bomb", ("forks",)),)).to_json()))
    reply = runner.run(Request(str(tmp_path), 20, {"memory_bytes": 1 << 30, "processes": 4},
                               True))
    assert 1 <= answer(reply, "forks")["value"] <= 4, reply.errors


# --- issue 10: what one child can learn of another, or say about itself --------------------------
_SCAN = """
import gc, re
def scan(prefix_parts):
    prefix = ''.join(prefix_parts)
    found = set()
    for obj in gc.get_objects():
        if isinstance(obj, (str, dict, list, tuple)):
            text = obj if isinstance(obj, str) else repr(obj)[:100000]
            found.update(re.findall(re.escape(prefix) + '([0-9a-f]{16})', text))
    pattern = re.compile(re.escape(prefix.encode()) + b'([0-9a-f]{16})')
    with open('/proc/self/maps') as maps, open('/proc/self/mem', 'rb', 0) as mem:
        for line in maps:
            span, perms = line.split()[:2]
            if not perms.startswith('r'):
                continue
            start, end = (int(x, 16) for x in span.split('-'))
            try:
                mem.seek(start)
                chunk = mem.read(end - start)
            except (OSError, OverflowError, ValueError):
                continue
            found.update(m.decode() for m in pattern.findall(chunk))
    return ' '.join(sorted(found))
"""


def test_a_child_finds_nothing_of_an_earlier_submission_in_its_memory(runner) -> None:
    """The first child's answer (and its reply) never reach the template the next one is
    forked from: scanning every object and all of /proc/self/mem finds only its own."""
    secret = os.urandom(8).hex()
    first = run(runner, [Cell(_SCAN + f"answer = 'LEAK' + 'MARK-{secret}'\n"
                              "found = scan(['LEAK', 'MARK-'])\n", "q", ("answer", "found"))])
    assert answer(first, "answer")["text"] == f"LEAKMARK-{secret}"
    assert secret in answer(first, "found")["text"].split()  # the scan does find answers
    second = run(runner, [Cell(_SCAN + "found = scan(['LEAK', 'MARK-'])\n", "q", ("found",))])
    assert second.status == "graded"
    assert secret not in answer(second, "found")["text"]


_SHM = """
import ctypes
libc = ctypes.CDLL(None, use_errno=True)
libc.shmat.restype = ctypes.c_void_p
key = 0x5B9C0DE
"""


@pytest.mark.skipif(os.geteuid() != 0, reason="IPC namespaces as root (else a user namespace)")
def test_children_share_no_sysv_ipc_and_have_their_own_pids(runner) -> None:
    publish = _SHM + ("shm = libc.shmget(key, 4096, 0o1666)\n"
                      "ctypes.memmove(libc.shmat(shm, None, 0), b'answer-42', 9)\n"
                      "made = shm >= 0\nmy_pid = __import__('os').getpid()\n")
    first = run(runner, [Cell(publish, "pub", ("made", "my_pid"))])
    assert answer(first, "made")["type"] == "unsupported"  # a bool: made is not graded data
    assert "ipcns" in first.sandbox and "pidns" in first.sandbox
    assert answer(first, "my_pid")["value"] == 2  # PID 1 is the namespace's init
    read = _SHM + "found = libc.shmget(key, 0, 0)\nerr = ctypes.get_errno()\n"
    second = run(runner, [Cell(read, "read", ("found", "err"))])
    assert answer(second, "found")["value"] == -1 and answer(second, "err")["value"] == 2
    assert str(0x5B9C0DE) not in Path("/proc/sysvipc/shm").read_text()  # gone with the child


@pytest.mark.skipif(os.geteuid() != 0, reason="PID namespaces as root (else a user namespace)")
def test_the_namespaces_init_reaps_the_orphans_it_adopts(runner) -> None:
    """A process the notebook orphaned that then ends is reaped by the namespace's init, so
    that it does not stay a zombie counted against the notebook's process cap."""
    code = ("import os, time\nr, w = os.pipe()\nchild = os.fork()\n"
            "if child == 0:\n"
            "    grandchild = os.fork()\n"
            "    if grandchild == 0:\n        time.sleep(0.3)\n        os._exit(0)\n"
            "    os.write(w, str(grandchild).encode())\n    os._exit(0)\n"
            "os.waitpid(child, 0)\norphan = int(os.read(r, 32))\n"
            "for _ in range(100):\n"
            "    try:\n        os.kill(orphan, 0)\n    except ProcessLookupError:\n"
            "        break\n    time.sleep(0.05)\n"
            "else:\n    orphan = 'never reaped'\n"
            "left = 'reaped' if orphan != 'never reaped' else orphan\n")
    reply = run(runner, [Cell(code, "orphan", ("left",))])
    assert "pidns" in reply.sandbox
    assert answer(reply, "left")["text"] == "reaped", reply


def test_a_notebook_that_sends_itself_sigint_ends_as_by_default(runner) -> None:
    """The runner ignores SIGINT (a Ctrl-C is the grader's to handle); a notebook's process
    gets the default back, as a process of its own would have."""
    code = "import os, signal\nos.kill(os.getpid(), signal.SIGINT)\nafter = 'still here'\n"
    reply = run(runner, [Cell(code, "sigint", ("after",))])
    assert reply.status == "crashed"
    assert any("signal SIGINT" in e for e in reply.errors), reply.errors


def test_lines_student_code_writes_cannot_set_the_sandbox_or_fail_the_run(runner) -> None:
    forge = ("import os\n"
             "for fd in range(3, 256):\n"
             "    try:\n"
             "        os.write(fd, b'\\n{\"sandbox_error\": \"FORGED\"}\\n'\n"
             "                     b'{\"sandbox\": \"FORGED\"}\\n')\n"
             "    except OSError:\n"
             "        pass\n"
             "x = 1.5\n")
    reply = run(runner, [Cell(forge, "forge", ("x",))])
    assert reply.status == "graded" and answer(reply, "x")["value"] == 1.5
    assert "FORGED" not in reply.line()
    assert reply.sandbox != "none" or not SANDBOXED


def test_a_message_nested_too_deeply_is_dropped(runner) -> None:
    deep = ("import os, json\nnested = '[' * 985 + ']' * 985\n"
            "for fd in range(3, 256):\n"
            "    try:\n"
            "        os.write(fd, ('{\"answer\": \"y\", \"data\": ' + nested + '}\\n').encode())\n"
            "    except OSError:\n"
            "        pass\n")
    reply = run(runner, [Cell(deep, "deep"), Cell("y = 2.0", "q", ("y",))])
    assert reply.status == "graded" and answer(reply, "y")["value"] == 2.0
    assert any("nested more than" in e for e in reply.errors)


def test_the_runner_takes_no_notebook_content(runner) -> None:
    proc = runner.ready()._proc  # a request line as a grader could never send it
    proc.stdin.write(json.dumps({"workdir": "/nonexistent", "timeout": 5,
                                 "job": {"cells": []}}) + "\n")
    proc.stdin.flush()
    reply = Reply.read(proc.stdout.readline())
    assert reply.status == "error" and "request holds only" in reply.errors[0]


def test_test_functions_requests_share_reach_later_children_compiled(runner) -> None:
    """The test functions two requests name are compiled in the runner, so the children forked
    after it inherit them compiled; one a single request names (a variant's own) and one never
    named are still compiled by the child that uses them."""
    sent = {"probe_function": ["(p1 - 7)**2 + p2"], "variables": ["p1", "p2"],
            "name": "sent_twice"}
    once = {**sent, "name": "sent_once"}
    unsent = {**sent, "name": "never_sent"}
    probe = ("from autograder.rubric.question import decode_probe_arg\n"
             f"sent = int('_compiled' in vars(decode_probe_arg({sent!r})))\n"
             f"once = int('_compiled' in vars(decode_probe_arg({once!r})))\n"
             f"unsent = int('_compiled' in vars(decode_probe_arg({unsent!r})))\n"
             f"value = decode_probe_arg({sent!r})([7.0, 2.0])")
    cells = [Cell(probe, "probe", ("sent", "once", "unsent", "value"))]

    def ask(functions: tuple = ()) -> Reply:
        workdir = Path(tempfile.mkdtemp(prefix="bpk-test-"))
        (workdir / JOB_FILE).write_text(json.dumps(Job(tuple(cells)).to_json()))
        return runner.run(Request(str(workdir), 10, {"memory_bytes": 1 << 30}, SANDBOXED,
                                  functions=functions))

    first = ask((sent, once))
    second = ask((sent,))  # its child was forked before the runner had the request
    assert answer(first, "sent") == answer(second, "sent") == {"type": "number", "value": 0}
    later = ask()
    assert answer(later, "sent") == {"type": "number", "value": 1}
    assert answer(later, "once") == answer(later, "unsent") == {"type": "number", "value": 0}
    assert answer(later, "value") == {"type": "number", "value": 2.0}


def test_a_request_names_its_test_functions_as_data() -> None:
    line = Request("/w", 5, functions=({"probe_function": ["x"], "variables": ["x"]},)).line()
    assert Request.read(line).functions == ({"probe_function": ["x"], "variables": ["x"]},)
    with pytest.raises(ValueError, match="functions"):
        Request.read(json.dumps({"workdir": "/w", "timeout": 5, "functions": ["x**2"]}))


def test_the_runner_starts_isolated_in_a_private_folder(runner) -> None:
    run(runner, [Cell("pass", "start")])
    pid = runner._proc.pid
    cmd = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    assert b"-I" in cmd
    cwd = os.readlink(f"/proc/{pid}/cwd")
    assert cwd != tempfile.gettempdir() and os.stat(cwd).st_mode & 0o077 == 0


def test_a_runner_without_matplotlib_still_runs_a_notebook_that_plots() -> None:
    """The runner skips pre-loading matplotlib for assignments that do not plot (issue 15);
    a notebook that imports it anyway pays the import, inside the sandbox, and works."""
    lean = Runner(preload_plots=False)
    try:
        code = ("import sys\nbefore = 'matplotlib' in sys.modules\n"
                "import matplotlib.pyplot as plt\nplt.plot([1, 2]); plt.savefig('p.png')\n"
                "plotted = 'yes' if not before else 'preloaded'\n")
        reply = run(lean, [Cell(code, "plot", ("plotted",))])
        assert answer(reply, "plotted") == {"type": "text", "text": "yes"}, reply.errors
    finally:
        lean.close()


def test_an_assignment_without_sympy_is_graded_in_processes_that_never_import_it() -> None:
    """Issue 27: backprop's notebook does not import sympy, so its runner does not pre-load it
    and its child never imports it: the reference notebook's function answers are called on
    their test functions (shipped as source) and earn full marks, exactly as in a runner that
    pre-loads sympy. A student who imports sympy still can, in their own process, and answers
    with a sympy expression; the checkers a check() in an answer cell imports are there."""
    from autograder.course import examples
    from autograder.rubric.course import questions
    from autograder.rubric.question import judge_data
    from autograder.run.client import assignment_sympy
    from autograder.run.grader import variant_env
    from autograder.run.notebooks import plan_job, test_functions

    assignment = "backprop"
    assert not assignment_sympy(assignment)  # the instructor's notebook imports no sympy
    nb = examples.as_student_copy(examples.load(ROOT / "assignments", assignment))
    graded = [q for q in questions(assignment) if q.kind == "function"]
    assert graded
    job = plan_job(nb, graded, variant_env(assignment, "student-1", None))
    seen = Cell("import sys\nsympy_seen = int('sympy' in sys.modules)\n", "seen", ("sympy_seen",))
    own = Cell("import sympy\nx = sympy.Symbol('x')\nown = x**2 + sympy.exp(x)\n"
               "from autograder.rubric.question import self_check\nchecker = 'importable'\n",
               "own", ("own", "checker"))

    def grade(runner: Runner) -> Reply:
        workdir = Path(tempfile.mkdtemp(prefix="bpk-test-"))
        cells = (*job.cells, seen, own)
        (workdir / JOB_FILE).write_text(json.dumps(Job(cells, job.probes, job.env).to_json()))
        return runner.run(Request(str(workdir), 60, {"memory_bytes": 1 << 30}, SANDBOXED,
                                  functions=test_functions(job)))

    lean, full = Runner(preload_sympy=False), Runner()
    try:
        replies = {"lean": grade(lean), "full": grade(full)}
    finally:
        lean.close()
        full.close()
    for which, reply in replies.items():
        assert reply.status == "graded", (which, reply.errors)
        # the child is a fork of a fork of its runner: what it finds loaded, before any import
        # of its own, the runner and its supervisor hold too (sympy is pure Python: no map of
        # a process shows it)
        assert answer(reply, "sympy_seen") == {"type": "number", "value": float(
            which == "full")}, which
        assert answer(reply, "own")["type"] == "expr", which
        assert answer(reply, "checker") == {"type": "text", "text": "importable"}, which
        for question in graded:
            result = judge_data(question, answer(reply, question.name))
            assert result.score == 1.0, (which, question.id, result.feedback)
    assert all(answer(replies["lean"], q.name) == answer(replies["full"], q.name)
               for q in graded)


def test_whether_a_notebook_imports_sympy_is_read_from_its_code_cells(tmp_path) -> None:
    """What the runner pre-loads for `grade` (the assignment's notebook) and `check` (the
    student's own): sympy only for a code cell that imports it; a mention in a markdown
    cell (optimisation-1d's "if you import sympy yourself") is no import."""
    from autograder.run.client import assignment_sympy, notebook_sympy

    for assignment in ("optimisation-1d", "steepest-descent-2d", "backprop"):
        assert assignment_sympy(assignment) is False
    opt = json.loads((ROOT / "assignments" / "optimisation-1d" / "optimisation-1d.ipynb")
                     .read_text())
    assert any("import sympy" in "".join(c["source"]) for c in opt["cells"]
               if c["cell_type"] == "markdown")
    code = {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None,
            "source": ["x = 1\n", "from sympy import diff\n"]}
    (tmp_path / "mine.ipynb").write_text(json.dumps({**opt, "cells": [*opt["cells"], code]}))
    assert notebook_sympy(tmp_path / "mine.ipynb") is True
    (tmp_path / "broken.ipynb").write_text("{ not json")
    assert notebook_sympy(tmp_path / "broken.ipynb") is True  # unread: the safe side
    assert notebook_sympy(None) is True


def test_the_runners_reaping_handler_never_raises_even_run_inside_itself(monkeypatch) -> None:
    """The runner's SIGCHLD handler runs inside whatever the runner is doing, and a second
    SIGCHLD can run it again inside itself: the inner run reaps a supervisor the outer one
    is about to look at. An exception there would become an extra error reply, answering the
    grader's next request out of turn."""
    from autograder.run import runner as runner_module

    ended = runner_module._ended
    real_waitpid = os.waitpid
    calls = []

    def nested_waitpid(pid, options):
        calls.append(pid)
        if len(calls) == 1:  # a second SIGCHLD arrives: the handler runs again, inside
            runner_module._reap()
        return real_waitpid(pid, options)

    pids = []
    for _ in range(2):
        pid = os.fork()
        if pid == 0:
            os._exit(0)
        pids.append(pid)
    for pid in pids:  # both have exited: zombies until reaped
        while not Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] == "Z":
            time.sleep(0.01)
    ended.update(pids)
    monkeypatch.setattr(runner_module.os, "waitpid", nested_waitpid)
    try:
        runner_module._reap()  # must not raise
    finally:
        monkeypatch.undo()
        for pid in pids:
            ended.discard(pid)
    assert not (set(pids) & ended)
    for pid in pids:  # both reaped
        with pytest.raises(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)
