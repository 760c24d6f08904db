"""A batch of hostile submissions through the real ``backprop-kit grade`` command.

Each file of ``tests/hostile/`` is put into an otherwise honest ``backprop`` notebook (as its
first cell, or in place of an answer). The batch must finish, every hostile notebook must get
0 on what it attacks and a result that says what happened, the honest notebook full marks,
and nothing may be left behind: no process, no file outside the output folder, nothing read
from the course, nothing received on the test's socket.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from autograder import examples, sandbox
from autograder.course import questions

ROOT = Path(__file__).resolve().parents[1]
HOSTILE = Path(__file__).parent / "hostile"
SANDBOXED = sandbox.detect() != "none"
QUESTIONS = {q.id: q for q in questions("backprop")}
FULL = sum(q.points for q in QUESTIONS.values())
W12 = "backprop-dR-dw12"
SIGMA = "backprop-sigmoid-derivative"


def _answer_source(nb: dict, qid: str) -> str:
    for cell in nb["cells"]:
        if cell.get("metadata", {}).get("nbgrader", {}).get("grade_id") == f"{qid}-answer":
            src = cell["source"]
            return "".join(src) if isinstance(src, list) else src
    raise KeyError(qid)


class Listener:
    """A TCP port on 127.0.0.1 that records whatever reaches it."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen()
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.received: list[bytes] = []
        self.udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.udp.bind(("127.0.0.1", 0))
        self.udp.setblocking(False)
        self.udp_port = self.udp.getsockname()[1]
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            with conn:
                conn.settimeout(1)
                try:
                    self.received.append(conn.recv(1024) or b"<connected>")
                except OSError:
                    self.received.append(b"<connected>")

    def close(self) -> None:
        self.stop.set()
        self.thread.join()
        self.sock.close()
        try:
            self.received.append(self.udp.recv(1024))
        except BlockingIOError:
            pass
        self.udp.close()


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    """Write the submissions, grade them all in one run, return what the test needs."""
    base = tmp_path_factory.mktemp("hostile")
    home, course_copy, out, scratch = (base / d for d in ("home", "course", "out", "tmp"))
    for d in (home, out, scratch):
        d.mkdir()
    listener = Listener()
    honest = examples.as_student_copy(examples.load(ROOT / "assignments", "backprop"))
    subs = base / "submitted"
    other = subs / "honest" / "backprop" / "backprop.ipynb"
    targets = [str(home / "planted.txt"), str(out / "planted.txt"),
               str(ROOT / "planted-by-a-submission.txt")]
    course_paths = [str(ROOT / "assignments" / "backprop" / "backprop.ipynb"),
                    str(ROOT / "solutions" / "questions.py"), str(other)]
    inject = {
        "PORT": listener.port, "UDP_PORT": listener.udp_port, "TARGETS": targets,
        "COURSE_PATHS": course_paths, "COURSE_DIR": str(ROOT), "LEAK_FILE": "leak.txt",
    }
    prelude = "".join(f"{k} = {v!r}\n" for k, v in inject.items())
    notebooks: dict[str, dict | str] = {"honest": honest}
    for path in sorted(HOSTILE.glob("*.py")):
        code = prelude + path.read_text()
        name = path.stem
        if name == "always_equal":
            nb = examples.with_answer(honest, W12, code + "dR_dw12_2 = ANSWER\n")
        elif name == "patch_checkers":
            wrong = examples.with_answer(honest, W12, 'dR_dw12_2 = "0"\n')
            nb = examples.with_first_cell(wrong, code)
        elif name == "read_course_files":
            # whatever it manages to read replaces the answer to sigma' (and so costs it)
            spy = (_answer_source(honest, SIGMA)
                   + "\nif any(stolen):\n    sigma_prime = 'stolen: ' + repr(stolen)[:50]\n")
            nb = examples.with_first_cell(examples.with_answer(honest, SIGMA, spy), code)
        else:
            nb = examples.with_first_cell(honest, code)
        notebooks[name] = nb
    notebooks["not-a-notebook"] = '{"cells": [ broken'
    for name, nb in notebooks.items():
        folder = subs / name / "backprop"
        folder.mkdir(parents=True)
        (folder / "backprop.ipynb").write_text(
            nb if isinstance(nb, str) else json.dumps(nb), encoding="utf-8")
    env = {**os.environ, "HOME": str(home), "TMPDIR": str(scratch),
           "MPLCONFIGDIR": str(base / "mpl")}  # the class report's matplotlib cache
    cmd = [sys.executable, "-m", "autograder.cli", "grade", str(subs), "-a", "backprop",
           "-o", str(out), "-j", "2", "--timeout", "8", "--memory", "512"]
    if not SANDBOXED:
        cmd.append("--allow-unsandboxed")
    proc = subprocess.run(cmd, cwd=base, env=env, capture_output=True, text=True, timeout=300)
    listener.close()
    results = {}
    if (out / "results.json").exists():
        data = json.loads((out / "results.json").read_text())
        results = {s["student"]: s for s in data["submissions"]}
    yield {"proc": proc, "results": results, "targets": targets, "out": out,
           "scratch": scratch, "home": home, "listener": listener, "names": list(notebooks)}
    for target in targets:
        Path(target).unlink(missing_ok=True)


def points(sub: dict, qid: str | None = None) -> float:
    return sum(q["points"] for q in sub["questions"] if qid is None or q["id"] == qid)


def test_the_batch_finishes_and_grades_everyone(batch) -> None:
    assert batch["proc"].returncode == 0, batch["proc"].stderr[-2000:]
    assert sorted(batch["results"]) == sorted(batch["names"])


def test_the_honest_notebook_gets_full_marks_in_the_sandbox(batch) -> None:
    honest = batch["results"]["honest"]
    assert honest["status"] == "graded"
    assert points(honest) == pytest.approx(FULL)
    if SANDBOXED:
        assert honest["sandbox"].startswith("landlock")


@pytest.mark.parametrize("name, status", [
    ("infinite_loop", {"timeout"}), ("hard_exit", {"crashed"}), ("segfault", {"crashed"}),
])
def test_a_notebook_that_never_finishes_gets_0_and_says_why(batch, name, status) -> None:
    sub = batch["results"][name]
    assert sub["status"] in status
    assert sub["errors"], "the result must say what happened"
    assert points(sub) < FULL


def test_a_memory_bomb_fails_its_own_cell_only(batch) -> None:
    sub = batch["results"]["memory_bomb"]
    assert sub["status"] == "memory"
    assert any("MemoryError" in e for e in sub["errors"])
    assert points(sub) == pytest.approx(FULL)  # the honest cells after it still count


def test_flooding_output_is_capped(batch) -> None:
    sub = batch["results"]["flood_output"]
    assert sub["status"] in ("graded", "crashed", "timeout")
    assert any("File too large" in e for e in sub["errors"])


def test_patched_checkers_and_fake_output_do_not_raise_a_score(batch) -> None:
    sub = batch["results"]["patch_checkers"]
    assert points(sub, W12) == 0
    assert points(sub) <= FULL - QUESTIONS[W12].points


def test_an_object_equal_to_everything_gets_0(batch) -> None:
    assert points(batch["results"]["always_equal"], W12) == 0


def test_forks_and_kills_are_contained(batch) -> None:
    for name in ("fork_bomb", "kill_grader"):
        assert batch["results"][name]["status"] == "graded"
    assert any("left running" in e for e in batch["results"]["fork_bomb"]["errors"])
    assert points(batch["results"]["kill_grader"]) == pytest.approx(FULL)
    assert points(batch["results"]["fork_bomb"]) == pytest.approx(FULL)
    left = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                if os.readlink(proc / "cwd").startswith(str(batch["scratch"])):
                    left.append(proc.name)
            except OSError:
                continue
    assert left == [], f"processes left running: {left}"


def test_a_file_that_is_not_a_notebook_is_reported(batch) -> None:
    sub = batch["results"]["not-a-notebook"]
    assert sub["status"] == "invalid"
    assert "backprop.ipynb" in sub["errors"][0] and "line 1" in sub["errors"][0]


@pytest.mark.skipif(not SANDBOXED, reason="no Landlock on this kernel")
def test_nothing_is_read_written_or_received(batch) -> None:
    reader = batch["results"]["read_course_files"]
    assert points(reader, SIGMA) == QUESTIONS[SIGMA].points, "it read a course file"
    for target in batch["targets"]:
        assert not Path(target).exists(), f"a submission wrote {target}"
    assert batch["listener"].received == []


def test_nothing_is_left_behind(batch) -> None:
    assert list(batch["scratch"].iterdir()) == []
    assert list(batch["home"].iterdir()) == []
    top = {p.name for p in batch["out"].iterdir()}
    assert top <= {"results.json", "grades.csv", "junit.xml", "gradescope", "feedback",
                   ".partial", "class-report.html", "class-report.md"}
