"""The runner and its sandbox, with real forked processes: answers are captured right after
their own cell, student code cannot read the course, write outside its folder or connect out,
and nothing it starts outlives it."""

from __future__ import annotations

import os
import socket
import tempfile
from pathlib import Path

import pytest

from autograder import sandbox
from autograder.capture import Cell, Job
from autograder.grading import Runner

ROOT = Path(__file__).resolve().parents[1]
SANDBOXED = sandbox.detect() != "none"
needs_sandbox = pytest.mark.skipif(not SANDBOXED, reason="no Landlock on this kernel")


@pytest.fixture(scope="module")
def runner():
    r = Runner()
    yield r
    r.close()


def run(runner: Runner, cells: list[Cell], timeout: float = 10, require: bool = True,
        workdir: Path | None = None) -> dict:
    workdir = workdir or Path(tempfile.mkdtemp(prefix="bpk-test-"))
    return runner.run({"workdir": str(workdir), "job": Job(tuple(cells)).to_json(),
                       "timeout": timeout, "limits": {"memory_bytes": 1 << 30},
                       "require_sandbox": require and SANDBOXED})


def answer(reply: dict, name: str):
    return reply["answers"][name]["data"]


def test_answer_is_taken_right_after_its_cell(runner) -> None:
    reply = run(runner, [Cell("x = 'a + 1'", "q1", ("x",)), Cell("x = 'changed later'", "c2")])
    assert reply["status"] == "graded"
    assert answer(reply, "x") == {"type": "text", "text": "a + 1"}


def test_an_error_in_one_cell_does_not_stop_the_rest(runner) -> None:
    reply = run(runner, [Cell("1/0", "bad"), Cell("y = 2.5", "q", ("y",))])
    assert answer(reply, "y") == {"type": "number", "value": 2.5}
    assert any("ZeroDivisionError" in e for e in reply["errors"])


def test_missing_answer_and_sys_exit(runner) -> None:
    reply = run(runner, [Cell("import sys; sys.exit(3)", "exit"), Cell("pass", "q", ("z",))])
    assert reply["answers"]["z"]["missing"] is True
    assert reply["status"] == "graded"


def test_timeout_keeps_earlier_answers(runner) -> None:
    reply = run(runner, [Cell("a = 1.0", "q", ("a",)), Cell("while True: pass", "loop")],
                timeout=2)
    assert reply["status"] == "timeout"
    assert answer(reply, "a") == {"type": "number", "value": 1.0}


def test_hard_exit_is_a_crash(runner) -> None:
    reply = run(runner, [Cell("b = 'x'", "q", ("b",)), Cell("import os; os._exit(0)", "exit")])
    assert reply["status"] == "crashed"
    assert answer(reply, "b")["text"] == "x"


def _runner_descendants() -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cmd = (entry / "cmdline").read_bytes()
            except OSError:
                continue
            if b"autograder.runner" in cmd:
                found.append(int(entry.name))
    return found


def test_forked_processes_are_killed(runner) -> None:
    code = ("import os, time\n"
            "for _ in range(5):\n"
            "    if os.fork() == 0:\n"
            "        os.setsid(); time.sleep(300); os._exit(0)\n")
    before = len(_runner_descendants())
    reply = run(runner, [Cell(code, "fork")])
    assert any("killed" in e for e in reply["errors"])
    assert len(_runner_descendants()) == before  # only the runner itself is left


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
    assert reply["sandbox"].startswith("landlock")


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
    from autograder.sandbox import Limits

    code = ("import os, time\nmade = 0\nfor _ in range(60):\n    try:\n"
            "        pid = os.fork()\n    except OSError:\n        break\n"
            "    if pid == 0:\n        time.sleep(60)\n        os._exit(0)\n    made += 1\n"
            "forks = made\n")
    reply = run(runner, [Cell(code, "bomb", ("forks",))])
    made = answer(reply, "forks")["value"]
    if SANDBOXED:
        assert made <= Limits().processes
    assert f"killed {int(made)} process(es)" in " ".join(reply["errors"])
