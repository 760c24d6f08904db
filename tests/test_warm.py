"""The warm grader (issue 15) through the real ``backprop-kit`` console script and server.

A served ``grade`` or ``check`` must give what the same command gives cold; a course file
changed since a worker prepared it must never be judged from that preparation; each command
draws its own secret points; and neither a sandboxed notebook nor a process without the token
can make the server do anything.
"""

from __future__ import annotations

import json
import os
import pty
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from autograder.cli.warm import client, protocol
from autograder.cli.warm import server as warm_server
from autograder.course import examples
from autograder.course.release import cell_source
from autograder.rubric.course import questions
from autograder.run import sandbox

ROOT = Path(__file__).resolve().parents[1]
KIT = Path(sys.executable).parent / "backprop-kit"  # the console script, as users run it
SANDBOX = sandbox.detect()
FULL = sum(q.points for q in questions("backprop"))
SIGMA = "backprop-sigmoid-derivative"
RUBRIC = ROOT / "assignments" / "backprop" / "rubric.py"

pytestmark = pytest.mark.skipif(not KIT.exists(), reason="the console script is not installed")


def _run(args: list[str], env: dict[str, str], cwd: Path, timeout: float = 120,
         **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([str(KIT), *args], env=env, cwd=cwd, capture_output=True, text=True,
                          timeout=timeout, **kwargs)


def _log(server: dict) -> str:
    logs = list(server["folder"].glob("*.log"))
    return "\n".join(p.read_text() for p in logs)


def _wait_for(server: dict, text: str, count: int = 1, seconds: float = 60) -> None:
    until = time.monotonic() + seconds
    while _log(server).count(text) < count:
        assert time.monotonic() < until, f"{text!r} not in the log:\n{_log(server)}"
        time.sleep(0.1)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """A warm grader of its own (a private runtime folder), and a class of four notebooks."""
    base = tmp_path_factory.mktemp("warm")
    runtime = base / "run"
    runtime.mkdir(mode=0o700)
    env = {k: v for k, v in os.environ.items() if k not in ("BACKPROP_KIT_WARM", "CI")}
    env["XDG_RUNTIME_DIR"] = str(runtime)
    bank = examples.backprop_examples(ROOT / "assignments")
    for name in ("right", "sign-slip", "tampering", "blank"):
        folder = base / "submitted" / name / "backprop"
        folder.mkdir(parents=True)
        (folder / "backprop.ipynb").write_text(json.dumps(bank[name]), encoding="utf-8")
    released = base / "released"
    released.mkdir()
    shutil.copy2(base / "submitted" / "right" / "backprop" / "backprop.ipynb", released)
    shutil.copy2(ROOT / "assignments" / "backprop" / "selfcheck.json", released)
    started = _run(["warm", "--idle", "10"], env, base)
    assert started.returncode == 0, started.stderr
    info = {"env": env, "base": base, "released": released,
            "folder": runtime / f"backprop-kit-warm-{os.getuid()}"}
    _wait_for(info, "ready, 0 course file(s) prepared")
    yield info
    _run(["warm", "--stop"], env, base)


def _results(out: Path) -> dict:
    data = json.loads((out / "results.json").read_text())
    drop = ("seconds",)

    def strip(value):
        if isinstance(value, dict):
            return {k: strip(v) for k, v in value.items() if k not in drop}
        if isinstance(value, list):
            return [strip(v) for v in value]
        return value
    return strip(data)


def test_a_served_grade_and_check_give_what_the_cold_commands_give(server) -> None:
    env, base = server["env"], server["base"]
    served = _run(["grade", "submitted", "-a", "backprop", "-o", "out-warm"], env, base)
    assert served.returncode == 0, served.stderr
    assert "out-warm" in _log(server), "the command was not served by the warm grader"
    cold = _run(["grade", "submitted", "-a", "backprop", "-o", "out-cold"],
                {**env, "BACKPROP_KIT_WARM": "0"}, base)
    assert cold.returncode == 0, cold.stderr
    assert _log(server).count("out-cold") == 0
    warm_run, cold_run = _results(base / "out-warm"), _results(base / "out-cold")
    assert warm_run == cold_run
    points = {s["student"]: sum(q["points"] for q in s["questions"])
              for s in warm_run["submissions"]}
    assert points["right"] == pytest.approx(FULL)
    assert points["sign-slip"] < FULL and points["tampering"] < FULL and points["blank"] == 0
    # the summary table, on the client's own stdout
    assert served.stdout.replace("out-warm", "OUT") == cold.stdout.replace("out-cold", "OUT")

    notebook = str(server["released"] / "backprop.ipynb")
    served_check = _run(["check", notebook], env, base)
    cold_check = _run(["check", notebook], {**env, "BACKPROP_KIT_WARM": "0"}, base)
    assert served_check.returncode == cold_check.returncode == 0, served_check.stderr
    assert served_check.stdout == cold_check.stdout
    # what the release lets the check confirm (a fingerprint, a seal, a function's table);
    # the rest the audit withholds, and the check says it cannot tell
    release = json.loads((ROOT / "assignments" / "backprop" / "selfcheck.json").read_text(
        encoding="utf-8"))["questions"]
    told = {q.id for q in questions("backprop")
            if {"fingerprint", "sealed_answer", "code"} & set(release[q.id])}
    sure = sum(q.points for q in questions("backprop") if q.id in told)
    assert 0 < sure < FULL
    full = [f"[{q.points:g} of {q.points:g} points]" if q.id in told
            else "(This check does not say whether it is right.)" for q in questions("backprop")]
    lines = [line for line in served_check.stdout.splitlines() if line.startswith("  ")]
    assert (f"Total: {sure:g} of {sure:g} points; {FULL - sure:g} more points this check "
            "cannot tell (the grade decides)") in served_check.stdout
    assert len(lines) == len(full)
    assert all(line.endswith(f) for line, f in zip(lines, full, strict=True)), lines
    assert _log(server).count(f"check {notebook}") == 1


def test_the_next_worker_prepares_what_the_last_command_used(server) -> None:
    """After a grade and a check, the worker waiting for the next command has loaded the
    rubric and the self-check file (2 course files) and is used for the next grade."""
    _wait_for(server, "ready, 2 course file(s) prepared")
    env, base = server["env"], server["base"]
    served = _run(["grade", "submitted/right", "-a", "backprop", "-o", "out-prepared"], env, base)
    assert served.returncode == 0, served.stderr
    assert "is of no use" not in _log(server)
    assert _results(base / "out-prepared")["submissions"][0]["status"] == "graded"
    points = sum(q["points"] for q in _results(base / "out-prepared")["submissions"][0]
                 ["questions"])
    assert points == pytest.approx(FULL)


def test_a_rubric_changed_since_the_worker_prepared_it_is_loaded_again(server) -> None:
    env, base = server["env"], server["base"]
    _wait_for(server, "ready, 2 course file(s) prepared", count=2)
    info = RUBRIC.stat()
    try:
        os.utime(RUBRIC, ns=(info.st_atime_ns, info.st_mtime_ns + 1_000_000))
        served = _run(["grade", "submitted/right", "-a", "backprop", "-o", "out-changed"], env,
                      base)
    finally:
        os.utime(RUBRIC, ns=(info.st_atime_ns, info.st_mtime_ns))
    assert served.returncode == 0, served.stderr
    assert "is of no use (a course file changed" in _log(server)
    assert "out-changed" in _log(server)


def _stalling_release(points: int, terms: int = 0, fingerprints: int = 99) -> dict:
    """The released backprop selfcheck.json with its first ``fingerprints`` expression
    fingerprints at ``points`` points (the release has 12) and, with ``terms``, a definition
    of that many sines to evaluate at each point: what a hostile folder holds to stall
    whoever prepares it."""
    data = json.loads((ROOT / "assignments" / "backprop" / "selfcheck.json").read_text())
    found = [e["fingerprint"] for e in data["questions"].values()
             if e["kind"] == "expression" and e.get("fingerprint")]
    for fingerprint in found[:fingerprints]:
        k = len(fingerprint["points"])
        for item in (fingerprint, *fingerprint.get("candidates", [])):
            item["values"] = [item["values"][i % k] for i in range(points)]
        fingerprint["points"] = [fingerprint["points"][i % k] for i in range(points)]
        if terms:
            x = fingerprint["variables"][0]
            fingerprint["definitions"] = {"slow": "+".join(f"sin({i}*{x})" for i in range(terms))}
    return data


def _timed(args: list[str], env: dict[str, str], cwd: Path) -> tuple[subprocess.CompletedProcess,
                                                                     float]:
    began = time.monotonic()
    proc = _run(args, env, cwd)
    return proc, time.monotonic() - began


def test_a_released_file_huge_or_slow_to_prepare_never_stalls_later_commands(server) -> None:
    """Issue 24 (2): ``check`` of a folder whose selfcheck.json is slow to prepare (under
    HINT_BYTES, but a definition evaluated at 1,000 points in each fingerprint: about 13 s alone
    on a quiet machine, well past the 5 s cut; three such fingerprints took 4 s on a quick
    machine, under it) or huge (over HINT_BYTES) made every later command wait for the next
    worker's preparation (up to 60 s each). Now the huge file
    is no hint, the slow one is cut short and dropped, and a command that finds the worker
    preparing stops it: a later grade takes no longer than a cold one, and says nothing.
    (Their notebooks are broken, so that the checks themselves end at once; the JupyterHub
    user names the student, so that the check reads the notebook only to run it.)"""
    env, base = server["env"], server["base"]
    grade = ["grade", "submitted/right", "-a", "backprop", "-o"]
    cold, cold_seconds = _timed([*grade, "out-stall-cold"], {**env, "BACKPROP_KIT_WARM": "0"},
                                base)
    assert cold.returncode == 0, cold.stderr
    folders = {"slow": _stalling_release(1000, terms=60, fingerprints=12),
               "huge": _stalling_release(5000)}
    for name, data in folders.items():
        folder = base / f"stall-{name}"
        folder.mkdir()
        (folder / "backprop.ipynb").write_text("{broken", encoding="utf-8")
        (folder / "selfcheck.json").write_text(json.dumps(data), encoding="utf-8")
    seconds = {}
    for name in folders:
        checked = _run(["check", str(base / f"stall-{name}" / "backprop.ipynb")],
                       {**env, "JUPYTERHUB_USER": "stall"}, base)
        assert "not valid notebook JSON" in checked.stdout + checked.stderr, checked.stderr
        # a person's pause (back to back, a command waits for the next worker's runner,
        # started as the last command ended: about a cold start, as ever)
        time.sleep(3)
        served, seconds[name] = _timed([*grade, f"out-stall-{name}"], env, base)
        assert served.returncode == 0, served.stderr
        assert f"out-stall-{name}" in _log(server), "not served by the warm grader"
        assert served.stdout.replace(f"out-stall-{name}", "OUT") == cold.stdout.replace(
            "out-stall-cold", "OUT")
        assert re.sub(r"[\d.]+/s", "", served.stderr) == re.sub(r"[\d.]+/s", "", cold.stderr)
    assert max(seconds.values()) <= 1.25 * cold_seconds + 1.5, (seconds, cold_seconds)
    size = {name: (base / f"stall-{name}" / "selfcheck.json").stat().st_size for name in folders}
    assert size["slow"] < warm_server.HINT_BYTES < size["huge"]
    serving = next(line for line in _log(server).splitlines() if "out-stall-slow" in line)
    pid = serving.split("command ")[1].split(":")[0]
    assert f"[{pid}] a command came: preparing stopped" in _log(server)
    assert f"no hint (not a course file): {base / 'stall-huge'}" in _log(server)
    _wait_for(server, "hint dropped (ran out of time, ", seconds=90)


def test_only_course_files_become_hints(tmp_path) -> None:
    """What a worker may prepare: a course's assignment rubric, or a folder with a notebook
    and a plausible selfcheck.json under HINT_BYTES; read without following a link or
    waiting on a FIFO."""
    released = ROOT / "assignments" / "backprop"
    assert warm_server._course_hint({"rubric": str(RUBRIC)})
    assert warm_server._course_hint({"selfcheck": str(released)})
    stray = tmp_path / "rubric.py"  # a rubric.py outside a course's assignments/
    stray.write_text(RUBRIC.read_text(encoding="utf-8"), encoding="utf-8")
    assert not warm_server._course_hint({"rubric": str(stray)})
    cases = {"no-notebook": None, "not-plausible": b'["questions"]', "fifo": "fifo",
             "link": "link", "plausible": b'{"assignment": "x", "questions": {}}'}
    for name, content in cases.items():
        folder = tmp_path / name
        folder.mkdir()
        if name != "no-notebook":
            (folder / "x.ipynb").write_text("{}", encoding="utf-8")
        target = folder / "selfcheck.json"
        if content == "fifo":
            os.mkfifo(target)
        elif content == "link":
            target.symlink_to(released / "selfcheck.json")
        else:
            target.write_bytes(content or (released / "selfcheck.json").read_bytes())
        assert warm_server._course_hint({"selfcheck": str(folder)}) == (name == "plausible"), \
            name


def test_each_served_command_draws_its_own_secret_points() -> None:
    """The server imports everything but draws nothing: each worker forked from it draws its
    own secret points when it prepares (so no two commands judge at the same points)."""
    script = f"""
import os
from pathlib import Path
from autograder.rubric import course
from autograder.grade import grading
from autograder.rubric import question as rubric
from autograder.cli.warm import server as warm
warm._prepare_imports()
assert not rubric._references, "the server drew secret points"
seen = []
for _ in range(2):
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # a worker preparing
        questions = course.rubric_at(Path({str(RUBRIC)!r})).QUESTIONS
        rubric.prepare_references(questions)
        points = [repr(rubric.expression_reference(q).secret.sample.points)
                  for q in questions if q.kind == "expression"]
        os.write(write, "|".join(points).encode()[:60000])
        os._exit(0)
    os.close(write)
    data = b""
    while chunk := os.read(read, 65536):
        data += chunk
    os.waitpid(pid, 0)
    seen.append(data)
print(len(seen[0]) > 100, seen[0] != seen[1], not rubric._references)
"""
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=120, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.split() == ["True", "True", "True"]


def test_two_rubrics_with_the_same_question_ids_never_share_a_reference(tmp_path) -> None:
    """Issue 24 (4): a worker prepares the rubrics the last commands used; here last year's copy
    of the course (the same question ids, one reference changed) first, then this year's.
    Each question is judged against its own rubric's reference: the cache was keyed by
    question id and variant, so the first rubric prepared judged both."""
    other = tmp_path / "last-year" / "assignments" / "backprop" / "rubric.py"
    other.parent.mkdir(parents=True)
    (tmp_path / "last-year" / "nbgrader_config.py").write_text("")
    other.write_text(RUBRIC.read_text(encoding="utf-8") + f"""
import dataclasses as _dc
QUESTIONS = tuple(_dc.replace(q, expected=-q.expected) if q.id == {SIGMA!r} else q
                  for q in QUESTIONS)
""", encoding="utf-8")
    script = f"""
from pathlib import Path
import sympy
from autograder.rubric import course, question as rq
last_year = course.rubric_at(Path({str(other)!r})).QUESTIONS
this_year = course.rubric_at(Path({str(RUBRIC)!r})).QUESTIONS
rq.prepare_references(last_year)  # as a warm worker prepares its hints, newest first
rq.prepare_references(this_year)
ours = next(q for q in this_year if q.id == {SIGMA!r})
theirs = next(q for q in last_year if q.id == {SIGMA!r})
right = sympy.sstr(ours.expected)  # from solutions, through this year's rubric
print(rq.judge(ours, right).correct, rq.judge(theirs, right).correct,
      rq.judge(theirs, sympy.sstr(theirs.expected)).correct)
"""
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=120, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.split() == ["True", "False", "True"]


def test_a_sandboxed_notebook_cannot_command_the_warm_grader(server) -> None:
    """A notebook that knows where the server lives tries to read its token and to have it
    grade into a folder of its choosing: the token stays unread, and it cannot even connect
    (the seccomp filter refuses UNIX sockets; before it, connect() succeeded and only the
    network namespace check and the token stopped it)."""
    env, base = server["env"], server["base"]
    sock = next(server["folder"].glob("*.sock"))
    token = sock.with_suffix(".token")
    pwned = base / "pwned"
    probe = f"""
import json, socket, struct
SOCK, TOKEN, PWNED = {str(sock)!r}, {str(token)!r}, {str(pwned)!r}
found = {{}}
try:
    secret = open(TOKEN).read()
    found["token"] = "read"
except OSError as error:
    secret = "0" * 64
    found["token"] = type(error).__name__
try:
    conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    conn.connect(SOCK)
    body = json.dumps({{"token": secret, "argv": ["grade", "/", "-a", "backprop", "-o", PWNED],
                       "cwd": "/", "env": {{}}}}).encode()
    socket.send_fds(conn, [struct.pack("i", len(body))], [0, 1, 2])
    conn.sendall(body)
    conn.settimeout(5)
    found["reply"] = conn.recv(100).decode() or "closed"
except OSError as error:
    found["connect"] = type(error).__name__
"""
    bank = examples.backprop_examples(ROOT / "assignments")
    spy = (cell_source(next(c for c in bank["right"]["cells"] if c.get("metadata", {})
                                 .get("nbgrader", {}).get("grade_id") == f"{SIGMA}-answer"))
           + "\nsigma_prime = 'probe ' + json.dumps(found)\n")
    nb = examples.with_first_cell(examples.with_answer(bank["right"], SIGMA, spy), probe)
    folder = base / "hostile" / "spy" / "backprop"
    folder.mkdir(parents=True)
    (folder / "backprop.ipynb").write_text(json.dumps(nb), encoding="utf-8")
    served = _run(["grade", "hostile", "-a", "backprop", "-o", "out-hostile"], env, base)
    assert served.returncode == 0, served.stderr
    assert "out-hostile" in _log(server), "not served by the warm grader"
    time.sleep(1)
    assert not pwned.exists()
    sub = _results(base / "out-hostile")["submissions"][0]
    answer = json.dumps([q.get("answer") for q in sub["questions"] if q["id"] == SIGMA])
    assert "probe" in answer, answer  # the probe ran and reported
    if "landlock" in sub["sandbox"]:
        assert '\\"token\\": \\"read\\"' not in answer, answer
    if "seccomp" in sub["sandbox"]:
        assert '\\"connect\\": \\"PermissionError\\"' in answer, answer
    elif "netns" in sub["sandbox"]:
        assert "refused a connection from another network namespace" in _log(server)
    assert not [line for line in _log(server).splitlines() if "pwned" in line
                and "command" in line]


def test_a_connection_without_the_token_or_for_another_command_is_refused(server) -> None:
    sock = next(server["folder"].glob("*.sock"))
    token = sock.with_suffix(".token").read_text()
    before = _log(server)
    for header in ({"token": "0" * 64, "argv": ["check", "x.ipynb"], "cwd": "/", "env": {}},
                   {"token": token, "argv": ["selfchecks"], "cwd": "/", "env": {}}):
        conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        conn.connect(str(sock))
        protocol.send(conn, header, [0, 1, 2])
        conn.settimeout(10)
        assert conn.recv(100) == b""  # closed, nothing ran
        conn.close()
    _wait_for(server, "refused a connection without the token", count=before.count(
        "refused a connection without the token") + 1, seconds=10)
    _wait_for(server, "refused a command it does not serve", count=before.count(
        "refused a command it does not serve") + 1, seconds=10)


def test_a_malformed_message_leaves_no_descriptor_open_in_the_server(server) -> None:
    """A refused message's passed streams are closed: a client sending garbage with its three
    descriptors must not make the server hold them (it did when the body was no JSON)."""
    sock = next(server["folder"].glob("*.sock"))
    pid = int(sock.with_suffix(".pid").read_text())
    opened = len(os.listdir(f"/proc/{pid}/fd"))
    for body in (b"{not json", b"[" * 40 + b"1"):
        conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        conn.connect(str(sock))
        socket.send_fds(conn, [protocol.SIZE.pack(len(body))], [0, 1, 2])
        conn.sendall(body)
        conn.settimeout(10)
        assert conn.recv(100) == b""  # closed, nothing ran
        conn.close()
    time.sleep(0.5)
    assert len(os.listdir(f"/proc/{pid}/fd")) == opened


def _descendants(pid: int) -> set[int]:
    found, todo = set(), [pid]
    while todo:
        for task in Path(f"/proc/{todo.pop()}/task").glob("*/children"):
            try:
                kids = [int(k) for k in task.read_text().split()]
            except OSError:
                continue
            found.update(kids)
            todo += kids
    return found


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False


@pytest.mark.parametrize("how", ["warm", "cold"])
def test_ctrl_c_stops_the_command_and_the_notebook_it_runs(server, how) -> None:
    """Ctrl-C on a command grading a notebook that loops: the command ends, and so do its
    runner, the supervisor and the looping notebook (not only at the notebook's timeout)."""
    env, base = server["env"], server["base"]
    bank = examples.backprop_examples(ROOT / "assignments")
    folder = base / f"looping-{how}" / "loop" / "backprop"
    folder.mkdir(parents=True)
    (folder / "backprop.ipynb").write_text(json.dumps(bank["infinite-loop"]), encoding="utf-8")
    out = f"out-loop-{how}"
    proc = subprocess.Popen([str(KIT), "grade", f"looping-{how}", "-a", "backprop", "-o", out,
                             "--timeout", "300"],
                            env={**env, "BACKPROP_KIT_WARM": "0"} if how == "cold" else env,
                            cwd=base, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        if how == "warm":
            _wait_for(server, out, seconds=30)
            line = next(x for x in _log(server).splitlines() if out in x)
            command = int(line.split("command ")[1].split(":")[0])
        else:
            command = proc.pid
        until = time.monotonic() + 60
        while len(_descendants(command)) < 3:  # runner, supervisor, the notebook's process
            assert time.monotonic() < until, "the notebook never started"
            time.sleep(0.1)
        time.sleep(1)  # looping by now
        tree = _descendants(command)
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=30) != 0
    finally:
        proc.kill()
    until = time.monotonic() + 20
    while [p for p in {command, *tree} if _alive(p)]:
        assert time.monotonic() < until, (
            f"still running after Ctrl-C: {[p for p in {command, *tree} if _alive(p)]}")
        time.sleep(0.1)
    if how == "warm":
        _wait_for(server, f"command {command} ended", seconds=20)
    # as root a supervisor's process cap is a pids cgroup named by its pid: none is left
    assert not [p for p in tree if Path(f"/sys/fs/cgroup/pids/backprop-kit-{p}").exists()]


def test_an_edited_source_file_or_setting_makes_another_key(tmp_path, monkeypatch) -> None:
    (tmp_path / "checks.py").write_text("A = 1\n")
    first = protocol.code_key([str(tmp_path)])
    assert protocol.code_key([str(tmp_path)]) == first
    (tmp_path / "checks.py").write_text("A = 22\n")
    assert protocol.code_key([str(tmp_path)]) != first
    second = protocol.code_key([str(tmp_path)])
    monkeypatch.setenv("BACKPROP_KIT_JUDGE_SECONDS", "5")
    assert protocol.code_key([str(tmp_path)]) != second


def test_an_interactive_cold_command_starts_a_warm_grader(tmp_path) -> None:
    """Typed at a terminal (not in CI): the first check runs cold, says that it started a
    warm grader, and leaves one running; BACKPROP_KIT_WARM=0 never starts one."""
    runtime = tmp_path / "run"
    runtime.mkdir(mode=0o700)
    env = {k: v for k, v in os.environ.items() if k not in ("BACKPROP_KIT_WARM", "CI")}
    env["XDG_RUNTIME_DIR"] = str(runtime)
    bank = examples.backprop_examples(ROOT / "assignments")
    (tmp_path / "backprop.ipynb").write_text(json.dumps(bank["right"]), encoding="utf-8")
    shutil.copy2(ROOT / "assignments" / "backprop" / "selfcheck.json", tmp_path)
    folder = runtime / f"backprop-kit-warm-{os.getuid()}"
    try:
        for setting, expect in (("0", 0), (None, 1)):
            run_env = {**env, **({"BACKPROP_KIT_WARM": setting} if setting else {})}
            main, other = pty.openpty()
            try:
                proc = subprocess.run([str(KIT), "check", "backprop.ipynb"], env=run_env,
                                      cwd=tmp_path, stdin=other, stdout=subprocess.PIPE,
                                      stderr=other, timeout=120)
                os.set_blocking(main, False)
                try:
                    said = os.read(main, 65536).decode(errors="replace")
                except BlockingIOError:
                    said = ""
            finally:
                os.close(main)
                os.close(other)
            assert proc.returncode == 0
            assert ("warm grader now runs" in said) == bool(expect), said
            alive = [p for p in folder.glob("*.pid") if client._alive(p)] if folder.exists() \
                else []
            assert len(alive) == expect
    finally:
        _run(["warm", "--stop"], env, tmp_path)
