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
import zipfile
from pathlib import Path

import pytest

from autograder.course import examples
from autograder.rubric.course import questions
from autograder.run import sandbox

ROOT = Path(__file__).resolve().parents[1]
HOSTILE = Path(__file__).parent / "hostile"
SANDBOXED = sandbox.detect() != "none"
QUESTIONS = {q.id: q for q in questions("backprop")}
FULL = sum(q.points for q in QUESTIONS.values())
SHM_KEY = 0x5B00000 + os.getpid() % 0xFFFF
W12 = "backprop-dR-dw12"
SIGMA = "backprop-sigmoid-derivative"
B1 = "backprop-dR-db1"
# Blank notebooks that hand in whatever their first cell found (its dict LEAKED).
READERS = {"memory_scan", "shm_read"}
STOLEN = {SIGMA: "sigma_prime", W12: "dR_dw12_2", B1: "dR_db1_2"}
ESCAPE_NAME = "esc\x1b[2J\x1b]0;title\x07name"
COMMAND_NAME = "::error::pwned"


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
        "GRADER_PID": os.getpid(), "SHM_KEY": SHM_KEY,
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
        elif name in READERS:
            nb = examples.with_first_cell(examples.blank(honest), code)
            for qid, var in STOLEN.items():
                nb = examples.with_answer(nb, qid, f"{var} = LEAKED.get({var!r}, '0')\n")
        elif name == "read_course_files":
            # whatever it manages to read replaces the answer to sigma' (and so costs it)
            spy = (_answer_source(honest, SIGMA)
                   + "\nif any(stolen):\n    sigma_prime = 'stolen: ' + repr(stolen)[:50]\n")
            nb = examples.with_first_cell(examples.with_answer(honest, SIGMA, spy), code)
        else:
            nb = examples.with_first_cell(honest, code)
        notebooks[name] = nb
    notebooks["not-a-notebook"] = '{"cells": [ broken'
    # input that crashed the batch (issue 10, point 5)
    notebooks["bad_cells"] = '{"nbformat": 4, "cells": [1]}'
    bad_id = json.loads(json.dumps(honest))
    bad_id["cells"][-1].setdefault("metadata", {})["nbgrader"] = {"grade_id": ["x"]}
    notebooks["bad_grade_id"] = bad_id
    deep = "[" * 100_000 + "]" * 100_000
    notebooks["deep_json"] = '{"nbformat": 4, "cells": [], "x": ' + deep + "}"
    notebooks["big_int"] = '{"nbformat": 4, "cells": [], "x": ' + "9" * 5000 + "}"
    notebooks["slow_judge"] = examples.with_answer(
        honest, SIGMA, 'sigma_prime = "sin(exp(exp(exp(exp(exp(v))))))"\n')
    # names (point 7): the folder is the student, and it reaches the terminal
    notebooks[ESCAPE_NAME] = honest
    notebooks[COMMAND_NAME] = honest
    for name, nb in notebooks.items():
        folder = subs / name / "backprop"
        folder.mkdir(parents=True)
        (folder / "backprop.ipynb").write_text(
            nb if isinstance(nb, str) else json.dumps(nb), encoding="utf-8")
    # links and special files instead of a notebook (point 2)
    source = ROOT / "assignments" / "backprop" / "backprop.ipynb"
    specials = {"link_to_source": lambda p: p.symlink_to(os.path.relpath(source, p.parent)),
                "link_to_classmate": lambda p: p.symlink_to(
                    "../../honest/backprop/backprop.ipynb"),
                "link_to_dev_zero": lambda p: p.symlink_to("/dev/zero"),
                "fifo": lambda p: os.mkfifo(p)}
    for name, make in specials.items():
        folder = subs / name / "backprop"
        folder.mkdir(parents=True)
        make(folder / "backprop.ipynb")
    notebooks.update(dict.fromkeys(specials, ""))
    # a learning platform's zip, a folder per student, unpacked for the run only
    archive = base / "moodle.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("Zed Zip_999_assignsubmission_file_/backprop.ipynb", json.dumps(honest))
    # a module planted where the runner used to start (its working directory was /tmp)
    planted_marker = base / "planted-module-ran"
    (scratch / "matplotlib.py").write_text(f"open({str(planted_marker)!r}, 'w').write('ran')\n")
    env = {**os.environ, "HOME": str(home), "TMPDIR": str(scratch),
           "MPLCONFIGDIR": str(base / "mpl")}  # the class report's matplotlib cache
    cmd = [sys.executable, "-m", "autograder.cli", "grade", str(subs), str(archive),
           "-a", "backprop", "-o", str(out), "-j", "2", "--timeout", "8", "--memory", "512",
           "--judge-timeout", "3"]
    if not SANDBOXED:
        cmd.append("--allow-unsandboxed")
    proc = subprocess.run(cmd, cwd=base, env=env, capture_output=True, text=True, timeout=300)
    listener.close()
    (scratch / "matplotlib.py").unlink()
    results = {}
    if (out / "results.json").exists():
        data = json.loads((out / "results.json").read_text())
        results = {s["student"]: s for s in data["submissions"]}
    yield {"proc": proc, "results": results, "targets": targets, "out": out,
           "scratch": scratch, "home": home, "listener": listener,
           "names": [*notebooks, "Zed Zip_999"], "planted": planted_marker}
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
                   "canvas.csv", "moodle.csv", ".partial", "class-report.html",
                   "class-report.md"}


# --- issue 10: the attacks that went around the sandbox --------------------------------------
def test_no_child_finds_a_classmates_answers_in_memory_or_shared_ipc(batch) -> None:
    for name in READERS:
        sub = batch["results"][name]
        assert sub["status"] == "graded", sub["errors"]
        for qid in STOLEN:
            assert points(sub, qid) == 0, f"{name} handed in a classmate's answer to {qid}"
    assert points(batch["results"]["shm_publish"]) == pytest.approx(FULL)
    assert f"{SHM_KEY:d}" not in Path("/proc/sysvipc/shm").read_text().split()


@pytest.mark.parametrize(("name", "says"), [
    ("link_to_source", "symbolic link"), ("link_to_classmate", "symbolic link"),
    ("link_to_dev_zero", "symbolic link"), ("fifo", "FIFO"),
    ("bad_cells", "cell 1 is a int"), ("bad_grade_id", "grade_id is a list"),
    ("deep_json", "nested too deeply"), ("big_int", "not valid notebook JSON"),
])
def test_links_special_files_and_crashing_input_are_reported_for_that_submission(
        batch, name, says) -> None:
    sub = batch["results"][name]
    assert sub["status"] == "invalid" and points(sub) == 0
    assert says in sub["errors"][0], sub["errors"]


def test_forged_pipe_lines_change_nothing(batch) -> None:
    for name in ("forge_lines", "deep_answer"):
        sub = batch["results"][name]
        assert sub["status"] == "graded" and points(sub) == pytest.approx(FULL), sub["errors"]
        assert sub["sandbox"] == batch["results"]["honest"]["sandbox"]
    assert "FORGED" not in (batch["out"] / "results.json").read_text()
    assert any("nested more than" in e for e in batch["results"]["deep_answer"]["errors"])


def test_an_answer_too_slow_to_judge_costs_the_batch_nothing(batch) -> None:
    """Judged in time (0 points) or, past --judge-timeout, listed for review; either way the
    batch goes on (test_grading checks the bound itself with a judge that never ends)."""
    sub = batch["results"]["slow_judge"]
    slow = next(q for q in sub["questions"] if q["id"] == SIGMA)
    assert slow["points"] == 0
    assert slow["review"] is None or "could not be judged in time" in slow["review"]
    assert points(sub) == pytest.approx(FULL - QUESTIONS[SIGMA].points)


def test_what_a_submission_writes_is_capped(batch) -> None:
    sub = batch["results"]["disk_flood"]
    assert points(sub) == pytest.approx(FULL)
    flood = next(e for e in sub["errors"] if "flood wrote" in e)
    written = int(flood.split("flood wrote ")[1].split()[0])
    assert written <= 260, flood  # the cap is 256 MB, not the 2.4 GB it tried


def test_names_come_from_folders_and_reach_the_terminal_harmless(batch) -> None:
    assert points(batch["results"]["Zed Zip_999"]) == pytest.approx(FULL)
    for name in (ESCAPE_NAME, COMMAND_NAME):
        assert points(batch["results"][name]) == pytest.approx(FULL)
    printed = batch["proc"].stdout + batch["proc"].stderr
    assert "\x1b" not in printed and "\x07" not in printed
    assert not any(line.lstrip().startswith("::") for line in printed.splitlines())


def test_the_runner_starts_isolated(batch) -> None:
    assert not batch["planted"].exists(), "a module planted in TMPDIR ran in the runner"
